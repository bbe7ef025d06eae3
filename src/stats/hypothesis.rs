//! The significance tests docs/METHOD.md §5 names, on plain counts: the pooled
//! two-proportion z-test, Pearson's chi-square on a contingency table (Yates when
//! dof = 1), McNemar's exact test, and Benjamini-Hochberg adjustment for many
//! tests at once. Waves, segments and flags call these; they know nothing of areas.

use super::error::StatsError;
use super::interval::{wilson, Interval};
use statrs::distribution::{Binomial, ChiSquared, ContinuousCDF, DiscreteCDF};
use statrs::function::erf::erfc;

/// Pooled two-proportion z-test, two-sided.
pub const TWO_PROPORTION_Z_V1: &str = "two-proportion-z-v1";
/// Pearson chi-square test of independence, Yates-corrected when dof = 1.
pub const CHI_SQUARE_V1: &str = "chi-square-v1";
/// McNemar's exact test: binomial on the discordant pairs, two-sided.
pub const MCNEMAR_EXACT_V1: &str = "mcnemar-exact-v1";
/// Benjamini-Hochberg false-discovery-rate adjustment.
pub const BH_V1: &str = "bh-v1";

/// Expected cell counts below this make a chi-square p-value unreliable.
pub const MIN_EXPECTED: f64 = 5.0;

/// Result of a two-proportion comparison `k1/n1` vs `k2/n2`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ProportionTest {
    pub method: &'static str,
    pub k1: u64,
    pub n1: u64,
    pub k2: u64,
    pub n2: u64,
    /// `k1/n1 - k2/n2`.
    pub difference: f64,
    /// Newcombe's hybrid score 95% interval of the difference (built from the two
    /// Wilson intervals; it stays inside [-1, 1] and behaves at small counts).
    pub difference_ci: Interval,
    /// Pooled z statistic; `None` when either group is empty or the pooled share
    /// is 0 or 1 (nothing varies, so there is nothing to test).
    pub z: Option<f64>,
    /// Two-sided p-value of `z`.
    pub p_value: Option<f64>,
    /// Either group has fewer than 30 respondents.
    pub small_sample: bool,
}

/// Pooled two-proportion z-test of `k1/n1` against `k2/n2` (docs/METHOD.md §5), with
/// the difference and its Newcombe 95% interval. Counts above their totals are
/// clamped to the totals.
pub fn two_proportion_test(k1: u64, n1: u64, k2: u64, n2: u64) -> ProportionTest {
    let (k1, k2) = (k1.min(n1), k2.min(n2));
    let share = |k: u64, n: u64| if n == 0 { 0.0 } else { k as f64 / n as f64 };
    let (p1, p2) = (share(k1, n1), share(k2, n2));
    let difference = p1 - p2;
    let (w1, w2) = (wilson(k1, n1), wilson(k2, n2));
    let difference_ci = Interval {
        low: difference - ((p1 - w1.low).powi(2) + (w2.high - p2).powi(2)).sqrt(),
        high: difference + ((w1.high - p1).powi(2) + (p2 - w2.low).powi(2)).sqrt(),
    };
    let z = pooled_z(k1, n1, k2, n2);
    ProportionTest {
        method: TWO_PROPORTION_Z_V1,
        k1,
        n1,
        k2,
        n2,
        difference,
        difference_ci,
        z,
        p_value: z.map(two_sided_normal_p),
        small_sample: n1 < 30 || n2 < 30,
    }
}

fn pooled_z(k1: u64, n1: u64, k2: u64, n2: u64) -> Option<f64> {
    if n1 == 0 || n2 == 0 {
        return None;
    }
    let (n1f, n2f) = (n1 as f64, n2 as f64);
    let pooled = (k1 + k2) as f64 / (n1f + n2f);
    let variance = pooled * (1.0 - pooled) * (1.0 / n1f + 1.0 / n2f);
    (variance > 0.0).then(|| (k1 as f64 / n1f - k2 as f64 / n2f) / variance.sqrt())
}

/// Two-sided p-value of a standard normal statistic.
pub(crate) fn two_sided_normal_p(z: f64) -> f64 {
    erfc(z.abs() / std::f64::consts::SQRT_2).min(1.0)
}

/// Result of a chi-square test of independence.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ChiSquareTest {
    pub method: &'static str,
    pub statistic: f64,
    /// (rows - 1) x (columns - 1), counting only rows and columns with data.
    pub dof: u64,
    pub p_value: f64,
    /// Whether Yates' continuity correction was applied (dof = 1).
    pub yates: bool,
    pub min_expected: f64,
    /// Cells whose expected count is below 5.
    pub cells_expected_below_5: usize,
    /// Any expected count is below 5: the p-value is unreliable.
    pub low_expected: bool,
}

/// Pearson chi-square test of independence on a table of counts (`table[row][col]`),
/// with Yates' correction when dof = 1, as `scipy.stats.chi2_contingency` computes it.
///
/// Rows and columns whose total is 0 are left out (an empty segment says nothing).
/// `None` when fewer than two rows or two columns are left, or rows differ in length.
pub fn chi_square(table: &[Vec<u64>]) -> Option<ChiSquareTest> {
    let columns = table.first()?.len();
    if table.iter().any(|row| row.len() != columns) {
        return None;
    }
    let rows: Vec<&Vec<u64>> = table.iter().filter(|r| r.iter().sum::<u64>() > 0).collect();
    let kept_columns: Vec<usize> = (0..columns)
        .filter(|&c| rows.iter().map(|r| r[c]).sum::<u64>() > 0)
        .collect();
    if rows.len() < 2 || kept_columns.len() < 2 {
        return None;
    }
    let row_totals: Vec<f64> = rows
        .iter()
        .map(|r| kept_columns.iter().map(|&c| r[c]).sum::<u64>() as f64)
        .collect();
    let column_totals: Vec<f64> = kept_columns
        .iter()
        .map(|&c| rows.iter().map(|r| r[c]).sum::<u64>() as f64)
        .collect();
    let total: f64 = row_totals.iter().sum();
    let dof = ((rows.len() - 1) * (kept_columns.len() - 1)) as u64;
    let yates = dof == 1;
    let mut statistic = 0.0;
    let mut min_expected = f64::INFINITY;
    let mut cells_expected_below_5 = 0;
    for (r, row) in rows.iter().enumerate() {
        for (j, &c) in kept_columns.iter().enumerate() {
            let expected = row_totals[r] * column_totals[j] / total;
            min_expected = min_expected.min(expected);
            if expected < MIN_EXPECTED {
                cells_expected_below_5 += 1;
            }
            let mut deviation = (row[c] as f64 - expected).abs();
            if yates {
                deviation -= deviation.min(0.5);
            }
            statistic += deviation * deviation / expected;
        }
    }
    let p_value = ChiSquared::new(dof as f64)
        .map(|d| d.sf(statistic))
        .unwrap_or(f64::NAN);
    Some(ChiSquareTest {
        method: CHI_SQUARE_V1,
        statistic,
        dof,
        p_value,
        yates,
        min_expected,
        cells_expected_below_5,
        low_expected: cells_expected_below_5 > 0,
    })
}

/// Result of McNemar's exact test on paired yes/no answers.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct McNemarTest {
    pub method: &'static str,
    /// Pairs yes before, no after.
    pub yes_to_no: u64,
    /// Pairs no before, yes after.
    pub no_to_yes: u64,
    /// Two-sided exact p-value: `min(1, 2 * P(X <= min(b, c)))`, `X ~ Bin(b + c, 1/2)`.
    pub p_value: f64,
    /// Fewer than 30 pairs in all.
    pub small_sample: bool,
}

/// McNemar's exact test on the discordant pairs `b` (yes then no) and `c` (no then
/// yes), out of `pairs` pairs in all (docs/METHOD.md §5). No discordant pair -> p = 1.
pub fn mcnemar_exact(b: u64, c: u64, pairs: u64) -> McNemarTest {
    let discordant = b + c;
    let p_value = if discordant == 0 {
        1.0
    } else {
        Binomial::new(0.5, discordant)
            .map(|d| (2.0 * d.cdf(b.min(c))).min(1.0))
            .unwrap_or(f64::NAN)
    };
    McNemarTest {
        method: MCNEMAR_EXACT_V1,
        yes_to_no: b,
        no_to_yes: c,
        p_value,
        small_sample: pairs < 30,
    }
}

/// Benjamini-Hochberg adjusted p-values, in the order given (the step-up rule as
/// `statsmodels.stats.multitest.multipletests(method="fdr_bh")` computes it).
///
/// # Errors
/// A p-value that is not a number in `[0, 1]`.
pub fn benjamini_hochberg(p_values: &[f64]) -> Result<Vec<f64>, StatsError> {
    if let Some(&bad) = p_values.iter().find(|p| !(0.0..=1.0).contains(*p)) {
        return Err(StatsError::InvalidProbability {
            what: "a p-value",
            value: bad,
            range: "[0, 1]",
        });
    }
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p_values[a].total_cmp(&p_values[b]));
    let mut adjusted = vec![0.0; m];
    let mut running = 1.0f64;
    for (position, &i) in order.iter().enumerate().rev() {
        running = running.min(p_values[i] * m as f64 / (position + 1) as f64);
        adjusted[i] = running;
    }
    Ok(adjusted)
}

/// Benjamini-Hochberg over the p-values that exist; the family is those tests only.
pub(crate) fn benjamini_hochberg_some(p_values: &[Option<f64>]) -> Vec<Option<f64>> {
    let present: Vec<f64> = p_values
        .iter()
        .flatten()
        .map(|p| p.clamp(0.0, 1.0))
        .collect();
    let mut adjusted = benjamini_hochberg(&present).unwrap_or_default().into_iter();
    p_values
        .iter()
        .map(|p| p.and_then(|_| adjusted.next()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::rounded;

    #[test]
    fn pooled_z_reproduces_the_method_vector() {
        let t = two_proportion_test(30, 200, 18, 200);
        assert_eq!(rounded(t.z.expect("both groups have data"), 3), 1.846);
        assert_eq!(rounded(t.p_value.expect("z exists"), 4), 0.0648);
        assert!((t.difference - 0.06).abs() < 1e-12);
        assert!(t.difference_ci.contains(0.06) && t.difference_ci.contains(0.0));
        assert!(!t.small_sample);
    }

    #[test]
    fn newcombe_interval_matches_a_published_example() {
        // Newcombe (1998), example (a): 56/70 vs 48/80 -> 0.2, [0.0524, 0.3339]
        let t = two_proportion_test(56, 70, 48, 80);
        assert_eq!(rounded(t.difference_ci.low, 4), 0.0524);
        assert_eq!(rounded(t.difference_ci.high, 4), 0.3339);
    }

    #[test]
    fn nothing_to_test_without_variation() {
        assert_eq!(two_proportion_test(0, 50, 0, 40).z, None);
        assert_eq!(two_proportion_test(3, 0, 1, 10).p_value, None);
    }

    #[test]
    fn chi_square_uses_yates_on_two_by_two() {
        // scipy.stats.chi2_contingency([[10, 20], [20, 20]]) -> 1.32344, p 0.249976
        let t = chi_square(&[vec![10, 20], vec![20, 20]]).expect("a 2x2 table");
        assert!(t.yates);
        assert_eq!(t.dof, 1);
        assert_eq!(rounded(t.statistic, 5), 1.32344);
        assert_eq!(rounded(t.p_value, 6), 0.249976);
        assert!(!t.low_expected);
    }

    #[test]
    fn chi_square_without_yates_on_larger_tables() {
        // scipy: [[10, 20], [20, 20], [5, 1]] -> 5.560976, dof 2, p 0.062008
        let t = chi_square(&[vec![10, 20], vec![20, 20], vec![5, 1]]).expect("3x2");
        assert!(!t.yates);
        assert_eq!(t.dof, 2);
        assert_eq!(rounded(t.statistic, 6), 5.560976);
        assert_eq!(rounded(t.p_value, 6), 0.062008);
        assert!(t.low_expected);
    }

    #[test]
    fn chi_square_drops_empty_rows_and_refuses_constant_columns() {
        assert!(chi_square(&[vec![0, 10], vec![0, 20]]).is_none());
        let with_empty = chi_square(&[vec![10, 20], vec![0, 0], vec![20, 20]]).expect("2 rows");
        assert_eq!(with_empty.dof, 1);
    }

    #[test]
    fn mcnemar_exact_is_binomial_on_discordant_pairs() {
        // statsmodels mcnemar([[10, 2], [8, 10]], exact=True).pvalue = 0.109375
        let t = mcnemar_exact(2, 8, 30);
        assert!((t.p_value - 0.109375).abs() < 1e-12);
        assert_eq!(mcnemar_exact(0, 0, 10).p_value, 1.0);
        assert_eq!(mcnemar_exact(5, 5, 10).p_value, 1.0);
    }

    #[test]
    fn bh_matches_statsmodels() {
        // multipletests([0.01, 0.04, 0.03, 0.20], method="fdr_bh")[1]
        let adjusted = benjamini_hochberg(&[0.01, 0.04, 0.03, 0.20]).expect("valid");
        let expected = [0.04, 0.05333333333333334, 0.05333333333333334, 0.2];
        for (a, e) in adjusted.iter().zip(expected) {
            assert!((a - e).abs() < 1e-12, "{adjusted:?}");
        }
        assert!(benjamini_hochberg(&[0.5, f64::NAN]).is_err());
        assert_eq!(
            benjamini_hochberg_some(&[None, Some(0.01), Some(0.04)]),
            vec![None, Some(0.02), Some(0.04)]
        );
    }
}
