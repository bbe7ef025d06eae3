//! Confidence intervals shared by every method: Wilson score intervals for shares
//! and Student-t intervals for means (docs/METHOD.md §5).

use statrs::distribution::{ContinuousCDF, StudentsT};

/// The two-sided 95% normal quantile the method fixes (docs/METHOD.md §5).
pub const Z95: f64 = 1.959964;

/// A closed interval `[low, high]`, usually a 95% confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

impl Interval {
    /// The interval that says nothing about a share: `[0, 1]`.
    pub const UNIT: Interval = Interval {
        low: 0.0,
        high: 1.0,
    };

    /// Whether `x` lies in the interval, ends included.
    pub fn contains(&self, x: f64) -> bool {
        self.low <= x && x <= self.high
    }
}

/// Wilson 95% score interval, z = 1.959964 (docs/METHOD.md §5). `trials == 0` -> `[0, 1]`.
///
/// `successes` above `trials` is clamped to `trials` (a share cannot exceed 1).
pub fn wilson(successes: u64, trials: u64) -> Interval {
    wilson_z(successes, trials, Z95)
}

/// Wilson score interval with an arbitrary normal quantile `z`.
pub(crate) fn wilson_z(successes: u64, trials: u64, z: f64) -> Interval {
    if trials == 0 {
        return Interval::UNIT;
    }
    let successes = successes.min(trials);
    let n = trials as f64;
    let p = successes as f64 / n;
    let z2 = z * z;
    let centre = p + z2 / (2.0 * n);
    let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    let denominator = 1.0 + z2 / n;
    // At 0 or `trials` successes the bound is exactly 0 or 1; rounding would
    // otherwise leave the observed share just outside its own interval.
    Interval {
        low: if successes == 0 {
            0.0
        } else {
            ((centre - half) / denominator).clamp(0.0, 1.0)
        },
        high: if successes == trials {
            1.0
        } else {
            ((centre + half) / denominator).clamp(0.0, 1.0)
        },
    }
}

/// The 97.5% quantile of Student's t with `dof` degrees of freedom, for a 95%
/// two-sided interval. `None` when `dof == 0`.
pub(crate) fn t975(dof: u64) -> Option<f64> {
    if dof == 0 {
        return None;
    }
    StudentsT::new(0.0, 1.0, dof as f64)
        .ok()
        .map(|t| t.inverse_cdf(0.975))
}

/// Student-t 95% interval for a mean from `count` values with sample variance
/// `variance` (denominator `count - 1`). `None` when `count < 2`.
pub(crate) fn student_t95(mean: f64, variance: f64, count: u64) -> Option<Interval> {
    if count < 2 {
        return None;
    }
    let t = t975(count - 1)?;
    let half = t * (variance.max(0.0) / count as f64).sqrt();
    Some(Interval {
        low: mean - half,
        high: mean + half,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::rounded;

    #[test]
    fn wilson_reproduces_the_method_vectors() {
        let i = wilson(7, 50);
        assert_eq!((rounded(i.low, 4), rounded(i.high, 4)), (0.0695, 0.2619));
        let i = wilson(0, 30);
        assert_eq!((rounded(i.low, 4), rounded(i.high, 4)), (0.0000, 0.1135));
        let i = wilson(3, 30);
        assert_eq!((rounded(i.low, 4), rounded(i.high, 4)), (0.0346, 0.2562));
    }

    #[test]
    fn wilson_without_trials_says_nothing() {
        assert_eq!(wilson(0, 0), Interval::UNIT);
    }

    #[test]
    fn wilson_contains_an_observed_share_of_zero_or_one() {
        // Rounding once put the upper bound of 4/4 just below 1.
        for n in 1..200 {
            assert_eq!(wilson(n, n).high, 1.0);
            assert_eq!(wilson(0, n).low, 0.0);
        }
    }

    #[test]
    fn wilson_stays_within_zero_and_one() {
        let all = wilson(30, 30);
        assert_eq!(all.high, 1.0);
        assert!(all.low > 0.88 && all.low < 0.89);
        assert_eq!(wilson(0, 1).low, 0.0);
    }

    #[test]
    fn student_t_interval_matches_a_known_case() {
        // values 1, 2, 3: mean 2, sd 1, t(2, 0.975) = 4.302653
        let i = student_t95(2.0, 1.0, 3).expect("three values give an interval");
        assert!((i.high - (2.0 + 4.302653 / 3f64.sqrt())).abs() < 1e-5);
        assert!(student_t95(2.0, 0.0, 1).is_none());
    }
}
