//! Warnings an analyst must see next to the figures (docs/METHOD.md §5, §7): small
//! samples, the response rate, and whether early and late respondents differ (late
//! respondents stand in for the people who did not answer).

use super::discovery::{best_ranks, DiscoveryInput, SMALL_SAMPLE};
use super::error::StatsError;
use super::hypothesis::{
    benjamini_hochberg_some, two_proportion_test, ProportionTest, BH_V1, TWO_PROPORTION_Z_V1,
};
use super::interval::{wilson, Interval};

/// Completed responses over invitations, with a Wilson interval.
pub const RESPONSE_RATE_V1: &str = "response-rate-v1";
/// First half against second half of respondents by answer time, per area and overall.
pub const EARLY_LATE_V1: &str = "early-late-v1";

/// Whether a figure resting on `n` respondents must be flagged (`n < 30`).
pub fn is_small_sample(n: u64) -> bool {
    n < SMALL_SAMPLE
}

/// The response rate of a survey.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ResponseRate {
    pub method: &'static str,
    pub invited: u64,
    pub completed: u64,
    /// `completed / invited`; 0 when nobody was invited.
    pub rate: f64,
    /// Wilson 95% interval of the rate.
    pub ci: Interval,
    /// Fewer than 30 completed responses.
    pub small_sample: bool,
}

/// The response rate, `completed / invited`.
///
/// # Errors
/// `completed > invited`.
pub fn response_rate(completed: u64, invited: u64) -> Result<ResponseRate, StatsError> {
    if completed > invited {
        return Err(StatsError::MoreCompletedThanInvited { completed, invited });
    }
    Ok(ResponseRate {
        method: RESPONSE_RATE_V1,
        invited,
        completed,
        rate: if invited == 0 {
            0.0
        } else {
            completed as f64 / invited as f64
        },
        ci: wilson(completed, invited),
        small_sample: is_small_sample(completed),
    })
}

/// Early against late respondents.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EarlyLate {
    #[serde(flatten)]
    pub stamp: EarlyLateStamp,
    /// Share reporting at least one problem, late against early
    /// (`difference = late - early`).
    pub any_problem: ProportionTest,
    /// One entry per area, in area order: mention frequency, late against early.
    pub areas: Vec<AreaEarlyLate>,
}

/// The methods and sample sizes of [`EarlyLate`], which every view of it repeats
/// (flattened into it).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct EarlyLateStamp {
    pub method: &'static str,
    /// `two-proportion-z-v1`.
    pub test: &'static str,
    /// `bh-v1`, across the areas.
    pub adjustment: &'static str,
    /// The first `n / 2` respondents by answer time (rounded down).
    pub early_n: u64,
    /// The rest.
    pub late_n: u64,
}

/// Early against late respondents for one area.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AreaEarlyLate {
    pub area: usize,
    pub test: ProportionTest,
    pub p_adjusted: Option<f64>,
}

/// Compares the first half of respondents by answer time with the second half
/// (docs/METHOD.md §7). `answer_order` lists every respondent index once, earliest
/// answer first.
///
/// # Errors
/// As [`super::joint_v1`]; `answer_order` not a permutation of the respondents.
pub fn early_vs_late(
    input: &DiscoveryInput,
    answer_order: &[usize],
) -> Result<EarlyLate, StatsError> {
    if input.max_problems == 0 {
        return Err(StatsError::MaxProblemsZero);
    }
    let n = input.respondents.len();
    check_order(answer_order, n)?;
    let early_n = n / 2;
    let areas = input.area_count;
    // [early, late] mention counts per area, and respondents with any problem.
    let mut mentioned = vec![[0u64; 2]; areas];
    let mut any = [0u64; 2];
    let mut best = Vec::new();
    for (position, &i) in answer_order.iter().enumerate() {
        let half = usize::from(position >= early_n);
        best_ranks(input, i, input.respondents.get(i), &mut best)?;
        for m in &best {
            mentioned[m.area][half] += 1;
        }
        if !best.is_empty() {
            any[half] += 1;
        }
    }
    let (early_n, late_n) = (early_n as u64, (n - early_n) as u64);
    let mut per_area: Vec<AreaEarlyLate> = mentioned
        .iter()
        .enumerate()
        .map(|(area, [early, late])| AreaEarlyLate {
            area,
            test: two_proportion_test(*late, late_n, *early, early_n),
            p_adjusted: None,
        })
        .collect();
    let raw: Vec<Option<f64>> = per_area.iter().map(|a| a.test.p_value).collect();
    for (a, adjusted) in per_area.iter_mut().zip(benjamini_hochberg_some(&raw)) {
        a.p_adjusted = adjusted;
    }
    Ok(EarlyLate {
        stamp: EarlyLateStamp {
            method: EARLY_LATE_V1,
            test: TWO_PROPORTION_Z_V1,
            adjustment: BH_V1,
            early_n,
            late_n,
        },
        any_problem: two_proportion_test(any[1], late_n, any[0], early_n),
        areas: per_area,
    })
}

fn check_order(order: &[usize], respondents: usize) -> Result<(), StatsError> {
    let fail = |problem: String| {
        Err(StatsError::NotAnOrder {
            respondents,
            problem,
        })
    };
    if order.len() != respondents {
        return fail(format!("it has {} entries", order.len()));
    }
    let mut seen = vec![false; respondents];
    for &i in order {
        if i >= respondents {
            return fail(format!("{i} is not a respondent index"));
        }
        if seen[i] {
            return fail(format!("{i} appears twice"));
        }
        seen[i] = true;
    }
    Ok(())
}

/// Whether a score is too uncertain to act on alone: its 95% interval is wider than
/// the score itself (docs/METHOD.md §5). Unlike `k < 30`, which holds for most areas
/// of a typical study, this marks the areas whose place rests on very few mentions.
pub fn is_imprecise(score: f64, ci: Interval) -> bool {
    ci.high - ci.low > score
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Mention;

    #[test]
    fn response_rate_has_a_wilson_interval() {
        let rate = response_rate(7, 50).expect("7 of 50");
        assert_eq!(rate.rate, 0.14);
        assert_eq!(rate.ci, wilson(7, 50));
        assert!(rate.small_sample);
        assert_eq!(response_rate(0, 0).expect("nothing sent").rate, 0.0);
        assert_eq!(
            response_rate(5, 4),
            Err(StatsError::MoreCompletedThanInvited {
                completed: 5,
                invited: 4
            })
        );
    }

    #[test]
    fn an_interval_wider_than_the_score_is_imprecise() {
        let ci = |low, high| Interval { low, high };
        assert!(is_imprecise(0.02, ci(0.0, 0.05)));
        assert!(!is_imprecise(0.2, ci(0.15, 0.26)));
        assert!(!is_imprecise(0.1, ci(0.05, 0.15)));
    }

    #[test]
    fn thirty_is_no_longer_small() {
        assert!(is_small_sample(29));
        assert!(!is_small_sample(30));
    }

    #[test]
    fn late_respondents_are_compared_with_early_ones() {
        // 400 respondents; the first 200 to answer: 30 mention area 0; the last 200: 18.
        let respondents: Vec<Vec<Mention>> = (0..400)
            .map(|i| {
                let late = i % 2 == 1; // answer order below puts odd indices last
                let rank_in_half = i / 2;
                let mentions = if late {
                    rank_in_half < 18
                } else {
                    rank_in_half < 30
                };
                if mentions {
                    vec![Mention { area: 0, rank: 1 }]
                } else {
                    vec![]
                }
            })
            .collect();
        let order: Vec<usize> = (0..400).step_by(2).chain((1..400).step_by(2)).collect();
        let input = DiscoveryInput {
            max_problems: 2,
            area_count: 2,
            respondents: crate::stats::Respondents::Nested(&respondents),
        };
        let result = early_vs_late(&input, &order).expect("valid");
        assert_eq!((result.stamp.early_n, result.stamp.late_n), (200, 200));
        let area0 = &result.areas[0].test;
        assert_eq!((area0.k1, area0.k2), (18, 30));
        let z = area0.z.expect("both halves have data");
        assert_eq!((z * 1000.0).round() / 1000.0, -1.846);
        assert_eq!(result.any_problem.k1, 18);
        assert_eq!(result.areas[1].test.z, None);
        assert_eq!(result.areas[0].p_adjusted, area0.p_value);
    }

    #[test]
    fn the_order_must_list_every_respondent_once() {
        let respondents = vec![vec![], vec![]];
        let input = DiscoveryInput {
            max_problems: 1,
            area_count: 1,
            respondents: crate::stats::Respondents::Nested(&respondents),
        };
        let err = early_vs_late(&input, &[1, 1]).expect_err("1 twice");
        assert_eq!(
            err.to_string(),
            "answer order must list each of the 2 respondents exactly once; 1 appears twice"
        );
        assert!(early_vs_late(&input, &[0]).is_err());
        assert!(early_vs_late(&input, &[0, 2]).is_err());
    }
}
