//! Checklist scoring (docs/METHOD.md §4): per problem area, the share who meet it
//! often (`A`), the share it bothers (`B`), Crawford's `A * B` (`crawford-v1`), the
//! checklist form of `joint-v1`, and the optional preemptibility factor `1 - s`.
//!
//! `joint-v1` here is `(1/n) sum_i often_ia * (bother_ia - 1) / 4`, kept as integer
//! points `bother - 1` over the denominator 4 so that equal scores compare equal
//! and the bootstrap can resample it like the discovery score.

use std::ops::ControlFlow;

use super::bootstrap::{
    replicate_totals, run as run_bootstrap, summarise, BootstrapOptions, Progress, RankStability,
};
use super::discovery::SMALL_SAMPLE;
use super::error::StatsError;
use super::interval::{wilson, Interval};
use super::patterns::{pack, PatternBuilder, PatternTable};

/// Crawford & Di Benedetto's bothersomeness technique: `A * B`.
pub const CRAWFORD_V1: &str = "crawford-v1";

/// How often a respondent meets a problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum Experience {
    No,
    Sometimes,
    Often,
}

/// One respondent's answer about one checklist item (problem area).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChecklistAnswer {
    pub area: usize,
    pub experienced: Experience,
    /// How much it bothers, 1 (not at all) to 5 (very much); `None` if not asked
    /// or not answered.
    pub bother: Option<u8>,
    /// Whether another supplier already solves it; `None` if not asked or not answered.
    pub solved_elsewhere: Option<bool>,
}

/// The answers of a checklist survey.
#[derive(Debug, Clone, Copy)]
pub struct ChecklistInput<'a> {
    /// Areas are `0..area_count`.
    pub area_count: usize,
    /// One entry per completed response. An area a respondent did not answer
    /// counts as not experienced and not rated.
    pub respondents: &'a [Vec<ChecklistAnswer>],
}

/// Checklist figures of every area.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ChecklistScores {
    /// `crawford-v1` and `joint-v1`, the two scores carried by each area.
    pub methods: [&'static str; 2],
    /// Respondents in scope.
    pub n: u64,
    /// One entry per area, highest checklist `joint-v1` first (ties by area index).
    pub areas: Vec<ChecklistAreaScore>,
}

/// Checklist figures of one area.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ChecklistAreaScore {
    pub area: usize,
    pub n: u64,
    /// Respondents meeting the problem often.
    pub often: u64,
    /// `A = often / n`.
    pub often_share: f64,
    /// Wilson 95% interval of `A`.
    pub often_ci: Interval,
    /// Respondents who gave a bother rating for the area.
    pub rated: u64,
    /// Respondents rating it 4 or 5.
    pub bothered: u64,
    /// `B = bothered / rated` (0 when nobody rated it).
    pub bothered_share: f64,
    /// Wilson 95% interval of `B`.
    pub bothered_ci: Interval,
    /// `crawford-v1`: `A * B`.
    pub crawford: f64,
    /// Rank by `crawford-v1` (1 = highest; ties by area index).
    pub crawford_rank: u32,
    /// Checklist `joint-v1`: `(1/n) sum_i often_ia * (bother_ia - 1) / 4`.
    pub joint: f64,
    /// Rank by checklist `joint-v1` (1 = highest; ties by area index).
    pub joint_rank: u32,
    /// Respondents meeting the problem sometimes or often.
    pub affected: u64,
    /// Of the affected, those who answered whether another supplier solves it.
    pub asked_elsewhere: u64,
    /// Of those, the ones who said yes.
    pub solved_elsewhere: u64,
    /// `s = solved_elsewhere / asked_elsewhere`; `None` when nobody answered.
    pub solved_elsewhere_share: Option<f64>,
    /// `joint * (1 - s)`: the part a competitor does not already take care of.
    pub joint_preemptible: Option<f64>,
    /// `crawford * (1 - s)`.
    pub crawford_preemptible: Option<f64>,
    /// `n < 30`.
    pub small_sample: bool,
    /// `rated < 30`: `B` rests on few ratings.
    pub bother_small_sample: bool,
}

/// `crawford-v1`: the product of the share meeting a problem often and the share
/// it bothers.
pub fn crawford_v1(often_share: f64, bothered_share: f64) -> f64 {
    often_share * bothered_share
}

/// Checklist scores of every area (docs/METHOD.md §4).
///
/// With no respondents all shares and scores are 0 and the intervals `[0, 1]`.
///
/// # Errors
/// An area outside `0..area_count`, an area answered twice by one respondent, a
/// bother rating outside 1..=5, or an area met often without a bother rating.
pub fn checklist_scores(input: &ChecklistInput) -> Result<ChecklistScores, StatsError> {
    let areas = input.area_count;
    let mut tally = vec![AreaTally::default(); areas];
    let mut last_seen = vec![usize::MAX; areas];
    for (i, answers) in input.respondents.iter().enumerate() {
        for answer in answers {
            validate(i, answer, areas, &mut last_seen)?;
            tally[answer.area].add(answer);
        }
    }
    let n = input.respondents.len() as u64;
    let crawford: Vec<f64> = tally
        .iter()
        .map(|t| crawford_v1(share(t.often, n), share(t.bothered, t.rated)))
        .collect();
    let crawford_ranks = ranks_by(|a, b| crawford[b].total_cmp(&crawford[a]), areas);
    let joint_ranks = ranks_by(|a, b| tally[b].points.cmp(&tally[a].points), areas);

    let mut scores: Vec<ChecklistAreaScore> = tally
        .iter()
        .enumerate()
        .map(|(area, t)| {
            let joint = if n == 0 {
                0.0
            } else {
                t.points as f64 / (4.0 * n as f64)
            };
            let s = (t.asked_elsewhere > 0)
                .then(|| t.solved_elsewhere as f64 / t.asked_elsewhere as f64);
            ChecklistAreaScore {
                area,
                n,
                often: t.often,
                often_share: share(t.often, n),
                often_ci: wilson(t.often, n),
                rated: t.rated,
                bothered: t.bothered,
                bothered_share: share(t.bothered, t.rated),
                bothered_ci: wilson(t.bothered, t.rated),
                crawford: crawford[area],
                crawford_rank: crawford_ranks[area],
                joint,
                joint_rank: joint_ranks[area],
                affected: t.affected,
                asked_elsewhere: t.asked_elsewhere,
                solved_elsewhere: t.solved_elsewhere,
                solved_elsewhere_share: s,
                joint_preemptible: s.map(|s| joint * (1.0 - s)),
                crawford_preemptible: s.map(|s| crawford[area] * (1.0 - s)),
                small_sample: n < SMALL_SAMPLE,
                bother_small_sample: t.rated < SMALL_SAMPLE,
            }
        })
        .collect();
    scores.sort_by_key(|s| s.joint_rank);
    Ok(ChecklistScores {
        methods: [CRAWFORD_V1, super::JOINT_V1],
        n,
        areas: scores,
    })
}

/// Rank stability of checklist `joint-v1` scores (see [`super::rank_stability`]).
///
/// # Errors
/// As [`checklist_scores`], or `replicates == 0`.
pub fn checklist_rank_stability(
    input: &ChecklistInput,
    options: &BootstrapOptions,
) -> Result<RankStability, StatsError> {
    checklist_rank_stability_with_progress(input, options, &|_| ControlFlow::Continue(()))
}

/// As [`checklist_rank_stability`], reporting progress; the callback stops the run
/// by returning `ControlFlow::Break(())` ([`StatsError::Cancelled`]).
///
/// # Errors
/// As [`checklist_rank_stability`], and [`StatsError::Cancelled`].
pub fn checklist_rank_stability_with_progress(
    input: &ChecklistInput,
    options: &BootstrapOptions,
    on_progress: &(dyn Fn(Progress) -> ControlFlow<()> + Sync),
) -> Result<RankStability, StatsError> {
    let table = pattern_table(input)?;
    run_bootstrap(&table, super::JOINT_V1, options, on_progress)
}

/// The resamples behind a checklist bootstrap: per replicate, each area's checklist
/// `joint-v1` score. Kept so that the staff gap resamples the customers exactly as
/// their rank stability did, without drawing them again.
#[derive(Debug, Clone, PartialEq)]
pub struct ChecklistDraws {
    pub(crate) scores: Vec<Vec<f64>>,
}

/// [`checklist_rank_stability_with_progress`] and the draws it was computed from.
///
/// # Errors
/// As [`checklist_rank_stability_with_progress`].
pub fn checklist_bootstrap(
    input: &ChecklistInput,
    options: &BootstrapOptions,
    on_progress: &(dyn Fn(Progress) -> ControlFlow<()> + Sync),
) -> Result<(RankStability, ChecklistDraws), StatsError> {
    let table = pattern_table(input)?;
    let drawn = replicate_totals(&table, options, on_progress)?;
    let stability = summarise(&table, super::JOINT_V1, options, &drawn);
    let scale = 4.0 * input.respondents.len().max(1) as f64;
    let scores = drawn
        .into_iter()
        .map(|totals| totals.into_iter().map(|p| p as f64 / scale).collect())
        .collect();
    Ok((stability, ChecklistDraws { scores }))
}

/// Respondents grouped by their checklist `joint-v1` points per area, ready for
/// the bootstrap.
fn pattern_table(input: &ChecklistInput) -> Result<PatternTable, StatsError> {
    let mut builder = PatternBuilder::default();
    let mut last_seen = vec![usize::MAX; input.area_count];
    let mut key = Vec::new();
    for (i, answers) in input.respondents.iter().enumerate() {
        key.clear();
        for answer in answers {
            validate(i, answer, input.area_count, &mut last_seen)?;
            let points = joint_points(answer);
            if points > 0 {
                key.push(pack(answer.area as u32, points));
            }
        }
        key.sort_unstable();
        builder.add(&key);
    }
    Ok(builder.finish(input.area_count, 4))
}

/// Each respondent's answers per group of areas (`group_of[area]` in
/// `0..group_count`): the answer to the group's area that weighs most (often before
/// sometimes before never, then the higher bother, then the first given), so that
/// a group's `A` counts who meets any of its problems often and its `joint-v1`
/// takes each respondent's worst problem of the group (docs/METHOD.md §4).
pub fn group_answers(
    respondents: &[Vec<ChecklistAnswer>],
    group_of: &[usize],
    group_count: usize,
) -> Vec<Vec<ChecklistAnswer>> {
    let weight = |a: &ChecklistAnswer| (a.experienced as u8, a.bother.unwrap_or(0));
    respondents
        .iter()
        .map(|answers| {
            let mut best: Vec<Option<ChecklistAnswer>> = vec![None; group_count];
            for answer in answers {
                let Some(&group) = group_of.get(answer.area) else {
                    continue;
                };
                let slot = &mut best[group];
                if slot.is_none_or(|b| weight(answer) > weight(&b)) {
                    *slot = Some(ChecklistAnswer {
                        area: group,
                        ..*answer
                    });
                }
            }
            best.into_iter().flatten().collect()
        })
        .collect()
}

#[derive(Debug, Clone, Copy, Default)]
struct AreaTally {
    often: u64,
    rated: u64,
    bothered: u64,
    points: u64,
    affected: u64,
    asked_elsewhere: u64,
    solved_elsewhere: u64,
}

impl AreaTally {
    fn add(&mut self, answer: &ChecklistAnswer) {
        if answer.experienced == Experience::Often {
            self.often += 1;
        }
        if let Some(bother) = answer.bother {
            self.rated += 1;
            if bother >= 4 {
                self.bothered += 1;
            }
        }
        self.points += u64::from(joint_points(answer));
        if answer.experienced != Experience::No {
            self.affected += 1;
            if let Some(solved) = answer.solved_elsewhere {
                self.asked_elsewhere += 1;
                if solved {
                    self.solved_elsewhere += 1;
                }
            }
        }
    }
}

/// `often * (bother - 1)`, the numerator of checklist `joint-v1` over 4.
fn joint_points(answer: &ChecklistAnswer) -> u32 {
    match (answer.experienced, answer.bother) {
        (Experience::Often, Some(bother)) => u32::from(bother.saturating_sub(1)),
        _ => 0,
    }
}

fn validate(
    respondent: usize,
    answer: &ChecklistAnswer,
    area_count: usize,
    last_seen: &mut [usize],
) -> Result<(), StatsError> {
    let area = answer.area;
    if area >= area_count {
        return Err(StatsError::AreaOutOfRange {
            respondent,
            area,
            area_count,
        });
    }
    if last_seen[area] == respondent {
        return Err(StatsError::DuplicateAnswer { respondent, area });
    }
    last_seen[area] = respondent;
    match answer.bother {
        Some(bother) if !(1..=5).contains(&bother) => Err(StatsError::BotherOutOfRange {
            respondent,
            area,
            bother,
        }),
        None if answer.experienced == Experience::Often => {
            Err(StatsError::MissingBother { respondent, area })
        }
        _ => Ok(()),
    }
}

fn share(count: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        count as f64 / total as f64
    }
}

/// Ranks (1 = first) of `0..count` under `better_first`, ties by index.
fn ranks_by(better_first: impl Fn(usize, usize) -> std::cmp::Ordering, count: usize) -> Vec<u32> {
    let mut order: Vec<usize> = (0..count).collect();
    order.sort_by(|&a, &b| better_first(a, b).then(a.cmp(&b)));
    let mut ranks = vec![0; count];
    for (position, area) in order.into_iter().enumerate() {
        ranks[area] = position as u32 + 1;
    }
    ranks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::rounded;

    fn answer(area: usize, experienced: Experience, bother: Option<u8>) -> ChecklistAnswer {
        ChecklistAnswer {
            area,
            experienced,
            bother,
            solved_elsewhere: None,
        }
    }

    /// 100 pet owners whose answers give exactly Crawford & Di Benedetto's shares:
    /// `often[a]` of them meet problem `a` often and `bothered[a]` rate it 4 or 5.
    fn pet_owners() -> Vec<Vec<ChecklistAnswer>> {
        // fleas, shed hairs, unwanted babies, constant feeding, noise
        let often = [78, 70, 44, 98, 66];
        let bothered = [53, 46, 48, 21, 25];
        (0..100)
            .map(|i| {
                (0..5)
                    .map(|a| {
                        let experienced = if i < often[a] {
                            Experience::Often
                        } else {
                            Experience::No
                        };
                        // Spread the bothered ones so they are not all the often ones.
                        let bother = if (i + 37 * a) % 100 < bothered[a] {
                            5
                        } else {
                            2
                        };
                        answer(a, experienced, Some(bother))
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn crawford_reproduces_the_pet_owner_table() {
        let respondents = pet_owners();
        let input = ChecklistInput {
            area_count: 5,
            respondents: &respondents,
        };
        let scores = checklist_scores(&input).expect("valid answers");
        let mut by_area = scores.areas.clone();
        by_area.sort_by_key(|s| s.area);
        let table: Vec<(f64, f64, f64, u32)> = by_area
            .iter()
            .map(|s| {
                (
                    s.often_share,
                    s.bothered_share,
                    rounded(s.crawford, 4),
                    s.crawford_rank,
                )
            })
            .collect();
        assert_eq!(
            table,
            vec![
                (0.78, 0.53, 0.4134, 1),
                (0.70, 0.46, 0.3220, 2),
                (0.44, 0.48, 0.2112, 3),
                (0.98, 0.21, 0.2058, 4),
                (0.66, 0.25, 0.1650, 5),
            ]
        );
        // The most frequent problem ranks only 4th.
        let most_frequent = by_area
            .iter()
            .max_by(|a, b| a.often_share.total_cmp(&b.often_share))
            .expect("five areas");
        assert_eq!((most_frequent.area, most_frequent.crawford_rank), (3, 4));
        assert_eq!(scores.methods, [CRAWFORD_V1, crate::stats::JOINT_V1]);
    }

    #[test]
    fn crawford_v1_is_the_product_of_the_shares() {
        assert_eq!(rounded(crawford_v1(0.78, 0.53), 4), 0.4134);
        assert_eq!(rounded(crawford_v1(0.98, 0.21), 4), 0.2058);
    }

    #[test]
    fn joint_counts_only_what_happens_often_and_weighs_the_bother() {
        let respondents = vec![
            vec![
                answer(0, Experience::Often, Some(5)),
                answer(1, Experience::Sometimes, Some(5)),
            ],
            vec![answer(0, Experience::Often, Some(3))],
            vec![
                answer(0, Experience::Often, Some(1)),
                answer(1, Experience::Often, Some(4)),
            ],
            vec![],
        ];
        let input = ChecklistInput {
            area_count: 2,
            respondents: &respondents,
        };
        let scores = checklist_scores(&input).expect("valid");
        let a0 = scores.areas.iter().find(|s| s.area == 0).expect("area 0");
        let a1 = scores.areas.iter().find(|s| s.area == 1).expect("area 1");
        // area 0: (4 + 2 + 0) / 4 / 4 = 0.375; area 1: 3 / 4 / 4 = 0.1875
        assert_eq!((a0.joint, a1.joint), (0.375, 0.1875));
        assert_eq!((a0.joint_rank, a1.joint_rank), (1, 2));
        assert_eq!(scores.areas[0].area, 0);
        assert_eq!((a0.often, a0.rated, a0.bothered), (3, 3, 1));
        assert_eq!((a1.affected, a1.bothered), (2, 2));
        assert!(a0.small_sample);
    }

    #[test]
    fn preemptibility_discounts_what_a_competitor_already_solves() {
        let mut respondents = Vec::new();
        for solved in [Some(true), Some(false), Some(false), Some(false), None] {
            respondents.push(vec![ChecklistAnswer {
                area: 0,
                experienced: Experience::Often,
                bother: Some(5),
                solved_elsewhere: solved,
            }]);
        }
        let input = ChecklistInput {
            area_count: 1,
            respondents: &respondents,
        };
        let s = &checklist_scores(&input).expect("valid").areas[0];
        assert_eq!(s.solved_elsewhere_share, Some(0.25));
        assert_eq!(s.joint, 1.0);
        assert_eq!(s.joint_preemptible, Some(0.75));
        assert_eq!(s.crawford_preemptible, Some(0.75));
    }

    #[test]
    fn invalid_answers_are_refused() {
        let cases = [
            (
                vec![vec![answer(0, Experience::Often, Some(6))]],
                StatsError::BotherOutOfRange {
                    respondent: 0,
                    area: 0,
                    bother: 6,
                },
            ),
            (
                vec![vec![], vec![answer(0, Experience::Often, None)]],
                StatsError::MissingBother {
                    respondent: 1,
                    area: 0,
                },
            ),
            (
                vec![vec![
                    answer(0, Experience::No, None),
                    answer(0, Experience::No, None),
                ]],
                StatsError::DuplicateAnswer {
                    respondent: 0,
                    area: 0,
                },
            ),
            (
                vec![vec![answer(3, Experience::No, None)]],
                StatsError::AreaOutOfRange {
                    respondent: 0,
                    area: 3,
                    area_count: 1,
                },
            ),
        ];
        for (respondents, expected) in cases {
            let input = ChecklistInput {
                area_count: 1,
                respondents: &respondents,
            };
            assert_eq!(checklist_scores(&input), Err(expected.clone()));
            assert_eq!(
                checklist_rank_stability(&input, &BootstrapOptions::default()),
                Err(expected)
            );
        }
    }

    #[test]
    fn checklist_bootstrap_resamples_the_joint_score() {
        let respondents = pet_owners();
        let input = ChecklistInput {
            area_count: 5,
            respondents: &respondents,
        };
        let options = BootstrapOptions {
            replicates: 300,
            ..BootstrapOptions::default()
        };
        let stability = checklist_rank_stability(&input, &options).expect("valid");
        let scores = checklist_scores(&input).expect("valid");
        for (st, sc) in stability.areas.iter().zip(&scores.areas) {
            assert_eq!(st.area, sc.area);
            assert_eq!(st.rank, sc.joint_rank);
            assert!((st.score - sc.joint).abs() < 1e-15);
            assert!(st.score_ci.contains(st.score));
        }
    }
}
