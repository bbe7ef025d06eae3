//! Planning a discovery study (docs/METHOD.md §5): the chance that a problem with
//! incidence `p` is heard at least once in `n` interviews, `1 - (1 - p)^n`, and the
//! smallest `n` that reaches a target chance.

use super::error::StatsError;

/// Discovery coverage `1 - (1 - p)^n`.
pub const COVERAGE_V1: &str = "coverage-v1";

/// A planning figure: interviews, incidence and the chance of hearing the problem.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Coverage {
    pub method: &'static str,
    /// `p`, the share of customers who have the problem.
    pub incidence: f64,
    /// `n`.
    pub interviews: u64,
    /// `1 - (1 - p)^n`.
    pub probability: f64,
}

/// The chance that a problem with incidence `p` appears at least once in `n`
/// interviews.
///
/// # Errors
/// `incidence` outside `[0, 1]`.
pub fn coverage(incidence: f64, interviews: u64) -> Result<Coverage, StatsError> {
    if !(0.0..=1.0).contains(&incidence) {
        return Err(StatsError::InvalidProbability {
            what: "incidence",
            value: incidence,
            range: "[0, 1]",
        });
    }
    Ok(Coverage {
        method: COVERAGE_V1,
        incidence,
        interviews,
        probability: probability(incidence, interviews),
    })
}

/// The smallest number of interviews whose coverage reaches `target`.
///
/// # Errors
/// `incidence` outside `(0, 1]` (a problem nobody has is never heard) or `target`
/// outside `[0, 1)` (certainty is never reached).
pub fn interviews_needed(incidence: f64, target: f64) -> Result<Coverage, StatsError> {
    if !(incidence > 0.0 && incidence <= 1.0) {
        return Err(StatsError::InvalidProbability {
            what: "incidence",
            value: incidence,
            range: "(0, 1]",
        });
    }
    if !(0.0..1.0).contains(&target) {
        return Err(StatsError::InvalidProbability {
            what: "target coverage",
            value: target,
            range: "[0, 1)",
        });
    }
    let estimate = ((-target).ln_1p() / (-incidence).ln_1p()).ceil();
    let mut n = if estimate.is_finite() && estimate > 0.0 {
        estimate as u64
    } else {
        0
    };
    // The logarithms may be off by one interview either way.
    while n > 0 && probability(incidence, n - 1) >= target {
        n -= 1;
    }
    while probability(incidence, n) < target {
        n += 1;
    }
    Ok(Coverage {
        method: COVERAGE_V1,
        incidence,
        interviews: n,
        probability: probability(incidence, n),
    })
}

fn probability(incidence: f64, interviews: u64) -> f64 {
    if incidence >= 1.0 {
        return if interviews == 0 { 0.0 } else { 1.0 };
    }
    -(interviews as f64 * (-incidence).ln_1p()).exp_m1()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::rounded;

    #[test]
    fn coverage_reproduces_the_method_vectors() {
        assert_eq!(
            rounded(coverage(0.10, 30).expect("valid").probability, 3),
            0.958
        );
        assert_eq!(
            rounded(coverage(0.02, 30).expect("valid").probability, 3),
            0.455
        );
    }

    #[test]
    fn interviews_needed_is_the_smallest_n_reaching_the_target() {
        let plan = interviews_needed(0.10, 0.95).expect("valid");
        // 0.9^28 = 0.0523 (coverage 0.948), 0.9^29 = 0.0471 (0.953)
        assert_eq!(plan.interviews, 29);
        assert!(plan.probability >= 0.95);
        assert!(coverage(0.10, 28).expect("valid").probability < 0.95);
        assert_eq!(interviews_needed(0.5, 0.0).expect("valid").interviews, 0);
        assert_eq!(interviews_needed(1.0, 0.99).expect("valid").interviews, 1);
    }

    #[test]
    fn impossible_plans_are_refused() {
        assert!(interviews_needed(0.0, 0.9).is_err());
        assert!(interviews_needed(0.1, 1.0).is_err());
        assert!(coverage(1.5, 3).is_err());
        assert!(coverage(f64::NAN, 3).is_err());
        assert_eq!(coverage(0.3, 0).expect("valid").probability, 0.0);
    }
}
