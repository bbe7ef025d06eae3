//! Staff against customers (docs/METHOD.md §5): staff answer "as you think your
//! customers would"; how well their ranking of problem areas matches the
//! customers' is the overlap of the two top-k lists and Kendall's tau-b.

use super::error::StatsError;

/// Top-k overlap and Kendall's tau-b between two rankings of the same areas.
pub const STAFF_VS_CUSTOMERS_V1: &str = "staff-vs-customers-v1";

/// How well two rankings of the same areas agree.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RankingAgreement {
    pub method: &'static str,
    pub top_k: usize,
    /// Areas in both top-k lists, in the customers' order.
    pub in_both: Vec<usize>,
    /// In the staff's top k only, in the staff's order.
    pub staff_only: Vec<usize>,
    /// In the customers' top k only, in the customers' order.
    pub customers_only: Vec<usize>,
    /// `in_both.len() / k` (k capped at the number of areas); 0 when there are none.
    pub overlap_share: f64,
    /// Kendall's tau-b between the two score lists (ties handled); `None` with
    /// fewer than two areas or when one side gives every area the same score.
    pub kendall_tau_b: Option<f64>,
}

/// Compares the staff's and the customers' scores of the same areas
/// (`staff[a]`, `customers[a]`, higher = more important). Top-k lists break ties
/// by area index.
///
/// # Errors
/// The two lists differ in length, or a score is not a finite number.
pub fn staff_vs_customers(
    staff: &[f64],
    customers: &[f64],
    top_k: usize,
) -> Result<RankingAgreement, StatsError> {
    if staff.len() != customers.len() {
        return Err(StatsError::LengthMismatch {
            what: "staff scores",
            per: "area scored by customers",
            expected: customers.len(),
            found: staff.len(),
        });
    }
    for (what, scores) in [("staff scores", staff), ("customer scores", customers)] {
        if let Some((index, &value)) = scores.iter().enumerate().find(|(_, s)| !s.is_finite()) {
            return Err(StatsError::NotFinite { what, index, value });
        }
    }
    let k = top_k.min(staff.len());
    let staff_top = top(staff, k);
    let customer_top = top(customers, k);
    let in_both: Vec<usize> = customer_top
        .iter()
        .copied()
        .filter(|a| staff_top.contains(a))
        .collect();
    let staff_only = staff_top
        .iter()
        .copied()
        .filter(|a| !customer_top.contains(a))
        .collect();
    let customers_only = customer_top
        .iter()
        .copied()
        .filter(|a| !staff_top.contains(a))
        .collect();
    Ok(RankingAgreement {
        method: STAFF_VS_CUSTOMERS_V1,
        top_k,
        overlap_share: if k == 0 {
            0.0
        } else {
            in_both.len() as f64 / k as f64
        },
        in_both,
        staff_only,
        customers_only,
        kendall_tau_b: kendall_tau_b(staff, customers),
    })
}

/// The `k` best areas by score, best first, ties by area index.
fn top(scores: &[f64], k: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    order.truncate(k);
    order
}

/// Kendall's tau-b of two equally long lists (as `scipy.stats.kendalltau`).
/// O(m^2), which is nothing for the tens of areas of a study.
pub fn kendall_tau_b(x: &[f64], y: &[f64]) -> Option<f64> {
    let m = x.len().min(y.len());
    let (mut concordant, mut discordant) = (0i64, 0i64);
    let (mut tied_x, mut tied_y) = (0i64, 0i64);
    for i in 0..m {
        for j in i + 1..m {
            let dx = x[i].total_cmp(&x[j]) as i64;
            let dy = y[i].total_cmp(&y[j]) as i64;
            match (dx, dy) {
                (0, 0) => {
                    tied_x += 1;
                    tied_y += 1;
                }
                (0, _) => tied_x += 1,
                (_, 0) => tied_y += 1,
                _ if dx == dy => concordant += 1,
                _ => discordant += 1,
            }
        }
    }
    let pairs = (m * m.saturating_sub(1) / 2) as i64;
    let denominator = (((pairs - tied_x) as f64) * ((pairs - tied_y) as f64)).sqrt();
    (denominator > 0.0).then(|| (concordant - discordant) as f64 / denominator)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_who_see_what_customers_see_agree_fully() {
        let scores = [0.4, 0.3, 0.2, 0.1];
        let agreement = staff_vs_customers(&scores, &scores, 2).expect("same length");
        assert_eq!(agreement.in_both, vec![0, 1]);
        assert_eq!(agreement.overlap_share, 1.0);
        assert_eq!(agreement.kendall_tau_b, Some(1.0));
    }

    #[test]
    fn overlap_and_tau_of_a_partial_agreement() {
        let customers = [0.40, 0.32, 0.21, 0.20, 0.05];
        let staff = [0.10, 0.30, 0.35, 0.20, 0.01];
        let agreement = staff_vs_customers(&staff, &customers, 3).expect("same length");
        // customers' top 3: 0, 1, 2; staff's: 2, 1, 3
        assert_eq!(agreement.in_both, vec![1, 2]);
        assert_eq!(agreement.staff_only, vec![3]);
        assert_eq!(agreement.customers_only, vec![0]);
        assert!((agreement.overlap_share - 2.0 / 3.0).abs() < 1e-15);
        // scipy.stats.kendalltau(staff, customers).statistic = 0.2
        let tau = agreement.kendall_tau_b.expect("scores vary");
        assert!((tau - 0.2).abs() < 1e-12, "{tau}");
    }

    #[test]
    fn tau_b_handles_ties() {
        // scipy.stats.kendalltau([1, 2, 2, 3], [1, 3, 2, 3]).statistic = 0.8
        let tau = kendall_tau_b(&[1.0, 2.0, 2.0, 3.0], &[1.0, 3.0, 2.0, 3.0]).expect("varies");
        assert!((tau - 0.8).abs() < 1e-12, "{tau}");
        assert_eq!(kendall_tau_b(&[1.0, 1.0], &[1.0, 2.0]), None);
    }

    #[test]
    fn mismatched_or_broken_scores_are_refused() {
        assert!(matches!(
            staff_vs_customers(&[0.1], &[0.1, 0.2], 1),
            Err(StatsError::LengthMismatch { .. })
        ));
        assert!(matches!(
            staff_vs_customers(&[0.1, f64::NAN], &[0.1, 0.2], 1),
            Err(StatsError::NotFinite { index: 1, .. })
        ));
    }
}
