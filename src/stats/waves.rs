//! Follow-up between two waves of the same study (docs/METHOD.md §5): per area the
//! change in mention frequency with its 95% interval and the pooled two-proportion
//! z-test; McNemar's exact test for contacts who answered both waves; and
//! Benjamini-Hochberg adjusted p-values beside the raw ones.

use super::discovery::{best_ranks, DiscoveryInput, DiscoveryTally};
use super::error::StatsError;
use super::hypothesis::{
    benjamini_hochberg_some, mcnemar_exact, two_proportion_test, McNemarTest, ProportionTest,
    BH_V1, MCNEMAR_EXACT_V1, TWO_PROPORTION_Z_V1,
};

/// Change between two waves: frequency difference, z-test, McNemar, BH.
pub const WAVES_V1: &str = "waves-v1";

/// What changed between an earlier and a later wave.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct WaveComparison {
    #[serde(flatten)]
    pub stamp: WaveStamp,
    /// One entry per area, in area order.
    pub areas: Vec<AreaChange>,
}

/// The methods and sample sizes of a wave comparison, which every view of it
/// repeats (flattened into it).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct WaveStamp {
    pub method: &'static str,
    /// `two-proportion-z-v1`.
    pub test: &'static str,
    /// `mcnemar-exact-v1`, used when contacts who answered both waves are given.
    pub paired_test: &'static str,
    /// `bh-v1`.
    pub adjustment: &'static str,
    pub earlier_n: u64,
    pub later_n: u64,
    /// Contacts (or imported respondent ids) who answered both waves.
    pub pairs: u64,
}

/// How one area's mention frequency changed.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AreaChange {
    pub area: usize,
    pub earlier_frequency: f64,
    pub later_frequency: f64,
    #[serde(flatten)]
    pub tests: ChangeTests,
}

/// The tests of one area's change, which every view of it repeats (flattened into
/// it).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ChangeTests {
    /// Later against earlier: `difference = later - earlier`, its Newcombe 95%
    /// interval, the pooled z and its p-value.
    pub change: ProportionTest,
    /// BH-adjusted p-value of the z-tests over the areas that have one.
    pub p_adjusted: Option<f64>,
    /// McNemar's exact test on the contacts who answered both waves; `None` when
    /// no pairs were given.
    pub paired: Option<McNemarTest>,
    /// BH-adjusted p-value of the McNemar tests.
    pub paired_p_adjusted: Option<f64>,
}

/// Compares two waves (docs/METHOD.md §5). `same_contacts` lists `(earlier index,
/// later index)` of respondents who are the same contact; pass `&[]` when the
/// waves are independent samples.
///
/// # Errors
/// As [`super::joint_v1`] for either wave; different `area_count`s; a pair index
/// past the end of its wave.
pub fn wave_comparison(
    earlier: &DiscoveryInput,
    later: &DiscoveryInput,
    same_contacts: &[(usize, usize)],
) -> Result<WaveComparison, StatsError> {
    if later.area_count != earlier.area_count {
        return Err(StatsError::LengthMismatch {
            what: "areas of the later wave",
            per: "area of the earlier wave",
            expected: earlier.area_count,
            found: later.area_count,
        });
    }
    let areas = earlier.area_count;
    let before = DiscoveryTally::from_input(earlier)?;
    let after = DiscoveryTally::from_input(later)?;

    let paired = if same_contacts.is_empty() {
        None
    } else {
        Some(discordant_pairs(earlier, later, same_contacts)?)
    };

    let mut changes: Vec<AreaChange> = (0..areas)
        .map(|area| {
            let change = two_proportion_test(after.k[area], after.n, before.k[area], before.n);
            let freq = |t: &DiscoveryTally| {
                if t.n == 0 {
                    0.0
                } else {
                    t.k[area] as f64 / t.n as f64
                }
            };
            AreaChange {
                area,
                earlier_frequency: freq(&before),
                later_frequency: freq(&after),
                tests: ChangeTests {
                    change,
                    p_adjusted: None,
                    paired: paired.as_ref().map(|(yes_to_no, no_to_yes)| {
                        mcnemar_exact(yes_to_no[area], no_to_yes[area], same_contacts.len() as u64)
                    }),
                    paired_p_adjusted: None,
                },
            }
        })
        .collect();
    let raw: Vec<Option<f64>> = changes.iter().map(|c| c.tests.change.p_value).collect();
    let raw_paired: Vec<Option<f64>> = changes
        .iter()
        .map(|c| c.tests.paired.map(|p| p.p_value))
        .collect();
    let adjusted = benjamini_hochberg_some(&raw);
    let adjusted_paired = benjamini_hochberg_some(&raw_paired);
    for ((change, a), ap) in changes.iter_mut().zip(adjusted).zip(adjusted_paired) {
        change.tests.p_adjusted = a;
        change.tests.paired_p_adjusted = ap;
    }
    Ok(WaveComparison {
        stamp: WaveStamp {
            method: WAVES_V1,
            test: TWO_PROPORTION_Z_V1,
            paired_test: MCNEMAR_EXACT_V1,
            adjustment: BH_V1,
            earlier_n: before.n,
            later_n: after.n,
            pairs: same_contacts.len() as u64,
        },
        areas: changes,
    })
}

/// Per area, pairs that mentioned it only in the earlier wave and only in the later.
fn discordant_pairs(
    earlier: &DiscoveryInput,
    later: &DiscoveryInput,
    same_contacts: &[(usize, usize)],
) -> Result<(Vec<u64>, Vec<u64>), StatsError> {
    let areas = earlier.area_count;
    let mut yes_to_no = vec![0u64; areas];
    let mut no_to_yes = vec![0u64; areas];
    let (mut before, mut after) = (Vec::new(), Vec::new());
    let mut mentioned_before = vec![false; areas];
    for (pair, &(e, l)) in same_contacts.iter().enumerate() {
        for (wave, index, input) in [("earlier", e, earlier), ("later", l, later)] {
            if index >= input.respondents.len() {
                return Err(StatsError::PairOutOfRange {
                    pair,
                    wave,
                    index,
                    len: input.respondents.len(),
                });
            }
        }
        best_ranks(earlier, e, earlier.respondents.get(e), &mut before)?;
        best_ranks(later, l, later.respondents.get(l), &mut after)?;
        for m in &before {
            mentioned_before[m.area] = true;
        }
        for m in &after {
            if mentioned_before[m.area] {
                mentioned_before[m.area] = false; // concordant: mentioned in both
            } else {
                no_to_yes[m.area] += 1;
            }
        }
        for m in &before {
            if mentioned_before[m.area] {
                yes_to_no[m.area] += 1;
                mentioned_before[m.area] = false;
            }
        }
    }
    Ok((yes_to_no, no_to_yes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Mention;

    /// `k` of `n` respondents mention area 0.
    fn wave(n: usize, k: usize) -> Vec<Vec<Mention>> {
        (0..n)
            .map(|i| {
                if i < k {
                    vec![Mention { area: 0, rank: 1 }]
                } else {
                    vec![Mention { area: 1, rank: 1 }]
                }
            })
            .collect()
    }

    fn input(respondents: &[Vec<Mention>]) -> DiscoveryInput<'_> {
        DiscoveryInput {
            max_problems: 3,
            area_count: 2,
            respondents: crate::stats::Respondents::Nested(respondents),
        }
    }

    #[test]
    fn a_drop_in_frequency_is_tested_with_the_pooled_z() {
        let (earlier, later) = (wave(200, 30), wave(200, 18));
        let comparison = wave_comparison(&input(&earlier), &input(&later), &[]).expect("valid");
        let area0 = &comparison.areas[0];
        assert!((area0.tests.change.difference + 0.06).abs() < 1e-12);
        // docs/METHOD.md §6: 30/200 vs 18/200 -> z = 1.846, p = 0.0648 (sign: later - earlier)
        let z = area0.tests.change.z.expect("both waves have data");
        assert_eq!((z * 1000.0).round() / 1000.0, -1.846);
        let p = area0.tests.change.p_value.expect("z exists");
        assert_eq!((p * 1e4).round() / 1e4, 0.0648);
        assert!(area0.tests.change.difference_ci.contains(-0.06));
        assert_eq!(area0.tests.paired, None);
        // Two areas tested: BH multiplies the smaller p by 2 / 1, capped by the larger.
        let p1 = comparison.areas[1]
            .tests
            .change
            .p_value
            .expect("area 1 varies too");
        assert_eq!(area0.tests.p_adjusted, Some(p.max(p1).min(2.0 * p.min(p1))));
    }

    #[test]
    fn mcnemar_counts_contacts_who_changed() {
        // 10 contacts: 0..4 mention area 0 before; 2..8 mention it after.
        let earlier: Vec<Vec<Mention>> = (0..10)
            .map(|i| {
                if i < 4 {
                    vec![Mention { area: 0, rank: 1 }]
                } else {
                    vec![]
                }
            })
            .collect();
        let later: Vec<Vec<Mention>> = (0..10)
            .map(|i| {
                if (2..8).contains(&i) {
                    vec![Mention { area: 0, rank: 2 }]
                } else {
                    vec![]
                }
            })
            .collect();
        let pairs: Vec<(usize, usize)> = (0..10).map(|i| (i, i)).collect();
        let comparison = wave_comparison(&input(&earlier), &input(&later), &pairs).expect("valid");
        let paired = comparison.areas[0].tests.paired.expect("pairs given");
        assert_eq!((paired.yes_to_no, paired.no_to_yes), (2, 4));
        // 2 * P(Bin(6, 1/2) <= 2) = 2 * 22 / 64
        assert!((paired.p_value - 44.0 / 64.0).abs() < 1e-12);
        assert!(paired.small_sample);
        assert_eq!(comparison.stamp.pairs, 10);
        let untouched = comparison.areas[1].tests.paired.expect("pairs given");
        assert_eq!(untouched.p_value, 1.0);
    }

    #[test]
    fn pairs_must_point_at_respondents() {
        let w = wave(5, 2);
        assert_eq!(
            wave_comparison(&input(&w), &input(&w), &[(0, 5)]),
            Err(StatsError::PairOutOfRange {
                pair: 0,
                wave: "later",
                index: 5,
                len: 5
            })
        );
        let other = DiscoveryInput {
            max_problems: 3,
            area_count: 3,
            respondents: crate::stats::Respondents::Nested(&w),
        };
        assert!(matches!(
            wave_comparison(&input(&w), &other, &[]),
            Err(StatsError::LengthMismatch { .. })
        ));
    }
}
