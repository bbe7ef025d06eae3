//! Staff against customers (docs/METHOD.md §5): staff answer "as you think your
//! customers would"; how well their ranking of problem areas matches the
//! customers' is the overlap of the two top-k lists and Kendall's tau-b.

use std::ops::ControlFlow;

use super::bootstrap::{BootstrapOptions, Progress, RANK_BOOTSTRAP_V1};
use super::checklist::{checklist_bootstrap, checklist_scores, ChecklistDraws, ChecklistInput};
use super::error::StatsError;
use super::interval::Interval;

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

/// The staff gap of a checklist (docs/METHOD.md §5): both sides' checklist
/// `joint-v1` scores and ranks per item, the gap with its bootstrap interval, the
/// ranking agreement with a bootstrap interval of Kendall's tau-b, and the blind
/// spots.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StaffGap {
    #[serde(flatten)]
    pub stamp: GapStamp,
    pub agreement: RankingAgreement,
    /// 2.5-97.5% percentile interval of tau-b over the replicates in which it
    /// exists; `None` when it never does.
    pub kendall_tau_b_ci: Option<Interval>,
    /// One per area, in area order.
    pub areas: Vec<AreaGap>,
    /// Areas in the customers' top k that staff rank below k, largest gap first.
    pub blind_spots: Vec<usize>,
}

/// The methods and sample sizes of a staff gap, which every view of it repeats
/// (flattened into it).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct GapStamp {
    pub method: &'static str,
    pub scoring: &'static str,
    /// How the intervals were made: customers and staff resampled apart.
    pub interval_method: &'static str,
    pub replicates: u32,
    pub seed: u64,
    pub customers_n: u64,
    pub staff_n: u64,
    /// Either side has fewer than 30 respondents.
    pub small_sample: bool,
}

/// One area's place on both sides.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AreaGap {
    pub area: usize,
    #[serde(flatten)]
    pub figures: GapFigures,
}

/// Both sides' score and rank of one area and the gap between them, which every
/// view of it repeats (flattened into it).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct GapFigures {
    pub customer_score: f64,
    pub customer_rank: u32,
    pub staff_score: f64,
    pub staff_rank: u32,
    /// Customers' score minus staff's: positive when staff underrate the problem.
    pub gap: f64,
    pub gap_ci: Interval,
}

/// Compares staff's checklist answers with customers' (same areas).
///
/// Customers are resampled with `options.seed`, staff with the next seed, each as
/// [`super::checklist_rank_stability`] does; replicate `b` of both sides makes one
/// gap and one tau-b.
///
/// # Errors
/// Invalid answers (as [`checklist_scores`]), different area counts, or
/// `replicates == 0`.
pub fn staff_gap(
    customers: &ChecklistInput,
    staff: &ChecklistInput,
    options: &BootstrapOptions,
    on_progress: &(dyn Fn(Progress) -> ControlFlow<()> + Sync),
) -> Result<StaffGap, StatsError> {
    let (_, draws) = checklist_bootstrap(customers, options, on_progress)?;
    staff_gap_with_draws(customers, &draws, staff, options)
}

/// [`staff_gap`] with the customers' draws already made by
/// [`super::checklist_bootstrap`] with the same `options`.
///
/// # Errors
/// As [`staff_gap`].
pub fn staff_gap_with_draws(
    customers: &ChecklistInput,
    customer_draws: &ChecklistDraws,
    staff: &ChecklistInput,
    options: &BootstrapOptions,
) -> Result<StaffGap, StatsError> {
    if customers.area_count != staff.area_count {
        return Err(StatsError::LengthMismatch {
            what: "staff areas",
            per: "area of the customers' checklist",
            expected: customers.area_count,
            found: staff.area_count,
        });
    }
    let by_area = |input: &ChecklistInput| -> Result<Vec<f64>, StatsError> {
        let mut scores = vec![0.0; input.area_count];
        for s in checklist_scores(input)?.areas {
            scores[s.area] = s.joint;
        }
        Ok(scores)
    };
    let (customer_scores, staff_scores) = (by_area(customers)?, by_area(staff)?);
    let agreement = staff_vs_customers(&staff_scores, &customer_scores, options.top_k)?;
    let staff_options = BootstrapOptions {
        seed: options.seed.wrapping_add(1),
        ..*options
    };
    let (_, staff_draws) =
        checklist_bootstrap(staff, &staff_options, &|_| ControlFlow::Continue(()))?;
    let pairs = || customer_draws.scores.iter().zip(&staff_draws.scores);
    let mut taus: Vec<f64> = pairs().filter_map(|(c, s)| kendall_tau_b(s, c)).collect();
    taus.sort_by(f64::total_cmp);
    let customer_ranks = ranks_of(&customer_scores);
    let staff_ranks = ranks_of(&staff_scores);
    let areas: Vec<AreaGap> = (0..customers.area_count)
        .map(|a| {
            let mut gaps: Vec<f64> = pairs().map(|(c, s)| c[a] - s[a]).collect();
            gaps.sort_by(f64::total_cmp);
            AreaGap {
                area: a,
                figures: GapFigures {
                    customer_score: customer_scores[a],
                    customer_rank: customer_ranks[a],
                    staff_score: staff_scores[a],
                    staff_rank: staff_ranks[a],
                    gap: customer_scores[a] - staff_scores[a],
                    gap_ci: percentile_interval(&gaps).unwrap_or(Interval {
                        low: 0.0,
                        high: 0.0,
                    }),
                },
            }
        })
        .collect();
    let k = options.top_k.min(areas.len()) as u32;
    let mut blind_spots: Vec<usize> = areas
        .iter()
        .filter(|g| g.figures.customer_rank <= k && g.figures.staff_rank > k)
        .map(|g| g.area)
        .collect();
    blind_spots.sort_by(|&a, &b| {
        areas[b]
            .figures
            .gap
            .total_cmp(&areas[a].figures.gap)
            .then(a.cmp(&b))
    });
    let customers_n = customers.respondents.len() as u64;
    let staff_n = staff.respondents.len() as u64;
    Ok(StaffGap {
        stamp: GapStamp {
            method: STAFF_VS_CUSTOMERS_V1,
            scoring: super::JOINT_V1,
            interval_method: RANK_BOOTSTRAP_V1,
            replicates: options.replicates,
            seed: options.seed,
            customers_n,
            staff_n,
            small_sample: customers_n.min(staff_n) < super::SMALL_SAMPLE,
        },
        agreement,
        kendall_tau_b_ci: percentile_interval(&taus),
        areas,
        blind_spots,
    })
}

/// Ranks (1 = highest score) of `scores`, ties by index.
fn ranks_of(scores: &[f64]) -> Vec<u32> {
    let order = top(scores, scores.len());
    let mut ranks = vec![0; scores.len()];
    for (position, area) in order.into_iter().enumerate() {
        ranks[area] = position as u32 + 1;
    }
    ranks
}

/// 2.5-97.5% percentile interval of sorted values, interpolated as numpy does.
fn percentile_interval(sorted: &[f64]) -> Option<Interval> {
    let at = |q: f64| {
        let h = q * (sorted.len() - 1) as f64;
        let below = h.floor() as usize;
        let above = (below + 1).min(sorted.len() - 1);
        sorted[below] + (h - below as f64) * (sorted[above] - sorted[below])
    };
    (!sorted.is_empty()).then(|| Interval {
        low: at(0.025),
        high: at(0.975),
    })
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

    fn answers(often: &[usize], areas: usize) -> Vec<crate::stats::ChecklistAnswer> {
        use crate::stats::{ChecklistAnswer, Experience};
        (0..areas)
            .map(|area| ChecklistAnswer {
                area,
                experienced: if often.contains(&area) {
                    Experience::Often
                } else {
                    Experience::No
                },
                bother: often.contains(&area).then_some(5),
                solved_elsewhere: None,
            })
            .collect()
    }

    #[test]
    fn staff_who_underrate_a_top_problem_have_a_blind_spot() {
        // Customers: area 0 for everyone, area 1 for half, area 2 for a few.
        let customers: Vec<_> = (0..40)
            .map(|i| match i % 8 {
                0..=3 => answers(&[0, 1], 3),
                4 => answers(&[0, 2], 3),
                _ => answers(&[0], 3),
            })
            .collect();
        // Staff think area 2 matters most and never see area 0.
        let staff: Vec<_> = (0..10)
            .map(|i| answers(if i < 8 { &[2, 1] } else { &[1] }, 3))
            .collect();
        fn input(r: &[Vec<crate::stats::ChecklistAnswer>]) -> ChecklistInput<'_> {
            ChecklistInput {
                area_count: 3,
                respondents: r,
            }
        }
        let options = BootstrapOptions {
            replicates: 200,
            seed: 7,
            top_k: 1,
        };
        let gap = staff_gap(&input(&customers), &input(&staff), &options, &|_| {
            ControlFlow::Continue(())
        })
        .expect("valid");
        assert_eq!(gap.areas[0].figures.customer_rank, 1);
        assert_eq!(gap.areas[0].figures.staff_rank, 3);
        assert_eq!(gap.blind_spots, vec![0]);
        assert_eq!(gap.areas[0].figures.gap, 1.0);
        assert!(gap.areas[0].figures.gap_ci.contains(1.0));
        assert!(gap.stamp.small_sample, "10 staff");
        let tau = gap.agreement.kendall_tau_b.expect("scores vary");
        let ci = gap.kendall_tau_b_ci.expect("tau varies");
        assert!(ci.low <= tau && tau <= ci.high, "{tau} in {ci:?}");
        let again = staff_gap(&input(&customers), &input(&staff), &options, &|_| {
            ControlFlow::Continue(())
        })
        .expect("valid");
        assert_eq!(gap, again, "the same seed gives the same intervals");
    }
}
