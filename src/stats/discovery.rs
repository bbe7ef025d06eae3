//! Discovery scoring, `joint-v1` (docs/METHOD.md §3): how often each problem area is
//! mentioned, how much it matters to those who mention it, and the two together.
//!
//! Input is one list of coded mentions per completed response; output is one
//! [`AreaScore`] per area. Rank weights `w = (M - r + 1) / M` are kept as integer
//! points `M - r + 1` over the common denominator `M` until the last division, so
//! that equal scores compare equal (no false ties or false orders from rounding)
//! and the bootstrap reproduces the point estimate exactly.

use super::error::StatsError;
use super::interval::{student_t95, wilson, Interval};

/// One mention by one respondent: an area index and its rank (1 = most important).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mention {
    pub area: usize,
    pub rank: u32,
}

/// The coded answers of a discovery survey.
#[derive(Debug, Clone, Copy)]
pub struct DiscoveryInput<'a> {
    /// `M`, the most problems one respondent may list.
    pub max_problems: u32,
    /// Areas are `0..area_count`.
    pub area_count: usize,
    /// One entry per completed response; no mentions is a respondent who reported
    /// no problem (they still count in `n`).
    pub respondents: Respondents<'a>,
}

/// The mentions of each respondent, as one vec each or in one flat store.
#[derive(Debug, Clone, Copy)]
pub enum Respondents<'a> {
    Nested(&'a [Vec<Mention>]),
    Flat(&'a FlatMentions),
}

impl<'a> Respondents<'a> {
    pub fn len(self) -> usize {
        match self {
            crate::stats::Respondents::Nested(nested) => nested.len(),
            Respondents::Flat(flat) => flat.len(),
        }
    }

    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// The mentions of respondent `i`.
    pub fn get(self, i: usize) -> &'a [Mention] {
        match self {
            crate::stats::Respondents::Nested(nested) => &nested[i],
            Respondents::Flat(flat) => &flat[i],
        }
    }

    pub fn iter(self) -> impl Iterator<Item = &'a [Mention]> {
        (0..self.len()).map(move |i| self.get(i))
    }
}

/// The mentions of many respondents in one vec, without a vec per respondent:
/// filled respondent after respondent, indexed by respondent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlatMentions {
    entries: Vec<Mention>,
    /// Where the mentions of each respondent closed so far end in `entries`.
    ends: Vec<usize>,
}

impl FlatMentions {
    /// Copies one vec of mentions per respondent.
    pub fn from_nested(nested: &[Vec<Mention>]) -> Self {
        let mut flat = FlatMentions::default();
        for (i, mentions) in nested.iter().enumerate() {
            for m in mentions {
                flat.push(i, *m);
            }
        }
        flat.close(nested.len());
        flat
    }

    /// Adds a mention of `respondent`, who is not before the last one added to.
    pub fn push(&mut self, respondent: usize, mention: Mention) {
        self.close(respondent);
        self.entries.push(mention);
    }

    /// Closes respondents up to `count` (those given no mention have none).
    pub fn close(&mut self, count: usize) {
        let end = self.entries.len();
        self.ends.resize(self.ends.len().max(count), end);
    }

    /// Respondents closed.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Every mention of every respondent.
    pub fn entries(&self) -> &[Mention] {
        &self.entries
    }

    /// Gives each mention the area `number(area)`, leaving out those it gives
    /// none, in one pass over the entries.
    pub fn renumber(&mut self, number: impl Fn(usize) -> Option<usize>) {
        let (mut kept, mut start) = (0, 0);
        for end in &mut self.ends {
            for i in start..*end {
                if let Some(area) = number(self.entries[i].area) {
                    self.entries[kept] = Mention {
                        area,
                        rank: self.entries[i].rank,
                    };
                    kept += 1;
                }
            }
            start = *end;
            *end = kept;
        }
        self.entries.truncate(kept);
    }

    /// Adds the respondents of `other` after these (closed up to `other.len()`).
    pub fn append(&mut self, other: &FlatMentions) {
        let offset = self.entries.len();
        self.entries.extend_from_slice(&other.entries);
        self.ends.extend(other.ends.iter().map(|end| end + offset));
    }

    /// Forgets every respondent, keeping the room they took.
    pub fn clear(&mut self) {
        self.entries.clear();
        self.ends.clear();
    }

    /// Room for `respondents` more respondents and `mentions` more mentions.
    pub fn reserve(&mut self, respondents: usize, mentions: usize) {
        self.ends.reserve(respondents);
        self.entries.reserve(mentions);
    }
}

impl std::ops::Index<usize> for FlatMentions {
    type Output = [Mention];

    fn index(&self, i: usize) -> &[Mention] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.entries[start..self.ends[i]]
    }
}

/// The `joint-v1` figures of one problem area.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AreaScore {
    pub area: usize,
    /// Respondents in scope.
    pub n: u64,
    /// Respondents mentioning the area.
    pub k: u64,
    /// `k / n`.
    pub frequency: f64,
    /// Wilson 95%.
    pub frequency_ci: Interval,
    /// Mean rank weight among the `k`; `None` if `k == 0`.
    pub importance: Option<f64>,
    /// Student-t 95%, clamped to `[0, 1]`; `None` if `k < 2`.
    pub importance_ci: Option<Interval>,
    /// `joint-v1` `S_a = (1/n) sum_i w_ia`.
    pub score: f64,
    /// Share of the `n` whose rank-1 problem is in this area.
    pub first_choice_share: f64,
    /// `n < 30`.
    pub small_sample: bool,
    /// `k < 30`.
    pub importance_small_sample: bool,
}

/// Fewer respondents than this and a figure is flagged as resting on a small sample.
pub const SMALL_SAMPLE: u64 = 30;

/// `joint-v1` (docs/METHOD.md §3). Several mentions of the same area by one respondent
/// count once, with the best rank.
///
/// Returned sorted by score descending, ties broken by area index ascending. Every
/// area `0..area_count` appears.
///
/// With no respondents (`n = 0`) every area gets frequency 0, score 0, first-choice
/// share 0, the uninformative frequency interval `[0, 1]`, no importance, and both
/// small-sample flags set.
///
/// A respondent whose rank-1 mention was coded into two areas counts towards the
/// first-choice share of both.
///
/// # Errors
/// `max_problems == 0`, a rank outside `1..=max_problems`, or an area outside
/// `0..area_count`.
pub fn joint_v1(input: &DiscoveryInput) -> Result<Vec<AreaScore>, StatsError> {
    let tally = DiscoveryTally::from_input(input)?;
    Ok(tally.scores())
}

/// The sums `joint-v1` is made of, per area. Adding respondents is all it does, so
/// segments and waves tally subsets of respondents the same way.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DiscoveryTally {
    pub max_problems: u32,
    pub n: u64,
    /// Respondents mentioning each area.
    pub k: Vec<u64>,
    /// Sum of rank points `M - r + 1` of the best mention, per area.
    pub points: Vec<u64>,
    /// Sum of squared rank points, per area (for the importance variance).
    pub points_sq: Vec<u128>,
    /// Respondents whose rank-1 mention is in the area.
    pub first_choice: Vec<u64>,
}

impl DiscoveryTally {
    pub fn new(max_problems: u32, area_count: usize) -> Self {
        DiscoveryTally {
            max_problems,
            n: 0,
            k: vec![0; area_count],
            points: vec![0; area_count],
            points_sq: vec![0; area_count],
            first_choice: vec![0; area_count],
        }
    }

    /// Tallies every respondent of `input`.
    pub fn from_input(input: &DiscoveryInput) -> Result<Self, StatsError> {
        if input.max_problems == 0 {
            return Err(StatsError::MaxProblemsZero);
        }
        let mut tally = DiscoveryTally::new(input.max_problems, input.area_count);
        let mut best = Vec::new();
        for (i, mentions) in input.respondents.iter().enumerate() {
            best_ranks(input, i, mentions, &mut best)?;
            tally.add(&best);
        }
        Ok(tally)
    }

    /// Adds one respondent, given as validated best ranks (see [`best_ranks`]).
    pub fn add(&mut self, best: &[Mention]) {
        self.n += 1;
        for m in best {
            let points = rank_points(self.max_problems, m.rank);
            self.k[m.area] += 1;
            self.points[m.area] += points;
            self.points_sq[m.area] += u128::from(points) * u128::from(points);
            if m.rank == 1 {
                self.first_choice[m.area] += 1;
            }
        }
    }

    /// One [`AreaScore`] per area, best score first, ties by area index.
    pub fn scores(&self) -> Vec<AreaScore> {
        let mut order: Vec<usize> = (0..self.k.len()).collect();
        order.sort_by(|&a, &b| self.points[b].cmp(&self.points[a]).then(a.cmp(&b)));
        order.into_iter().map(|a| self.area_score(a)).collect()
    }

    fn area_score(&self, area: usize) -> AreaScore {
        let n = self.n;
        let k = self.k[area];
        let m = f64::from(self.max_problems);
        let share = |count: u64| if n == 0 { 0.0 } else { count as f64 / n as f64 };
        let importance = (k > 0).then(|| self.points[area] as f64 / (m * k as f64));
        let importance_ci = importance.and_then(|mean| {
            // Variance from exact integer sums: k * sum(q^2) - (sum q)^2 >= 0.
            let sum = u128::from(self.points[area]);
            let spread = u128::from(k) * self.points_sq[area] - sum * sum;
            let kf = k as f64;
            let variance = spread as f64 / (kf * (kf - 1.0)) / (m * m);
            student_t95(mean, variance, k).map(|ci| Interval {
                low: ci.low.clamp(0.0, 1.0),
                high: ci.high.clamp(0.0, 1.0),
            })
        });
        AreaScore {
            area,
            n,
            k,
            frequency: share(k),
            frequency_ci: wilson(k, n),
            importance,
            importance_ci,
            score: if n == 0 {
                0.0
            } else {
                self.points[area] as f64 / (m * n as f64)
            },
            first_choice_share: share(self.first_choice[area]),
            small_sample: n < SMALL_SAMPLE,
            importance_small_sample: k < SMALL_SAMPLE,
        }
    }
}

/// Rank points `M - r + 1` of a valid rank: rank 1 earns `M`, rank `M` earns 1.
pub(crate) fn rank_points(max_problems: u32, rank: u32) -> u64 {
    u64::from(max_problems - rank + 1)
}

/// Validates respondent `index`'s mentions and writes into `best` each area they
/// mention once, with its best rank, sorted by area.
pub(crate) fn best_ranks(
    input: &DiscoveryInput,
    index: usize,
    mentions: &[Mention],
    best: &mut Vec<Mention>,
) -> Result<(), StatsError> {
    if input.max_problems == 0 {
        return Err(StatsError::MaxProblemsZero);
    }
    best.clear();
    for m in mentions {
        if m.rank == 0 || m.rank > input.max_problems {
            return Err(StatsError::RankOutOfRange {
                respondent: index,
                rank: m.rank,
                max_problems: input.max_problems,
            });
        }
        if m.area >= input.area_count {
            return Err(StatsError::AreaOutOfRange {
                respondent: index,
                area: m.area,
                area_count: input.area_count,
            });
        }
        best.push(*m);
    }
    best.sort_unstable_by_key(|m| (m.area, m.rank));
    best.dedup_by_key(|m| m.area);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mention(area: usize, rank: u32) -> Mention {
        Mention { area, rank }
    }

    #[test]
    fn flat_mentions_renumber_and_append_as_nested_ones_would() {
        let first = vec![
            vec![mention(0, 1), mention(2, 2)],
            vec![],
            vec![mention(1, 1), mention(0, 2), mention(2, 3)],
        ];
        let second = vec![vec![mention(2, 1)], vec![mention(0, 1)]];
        let mut flat = FlatMentions::from_nested(&first);
        // Area 1 goes away; 0 and 2 swap.
        flat.renumber(|area| [Some(2), None, Some(0)][area]);
        flat.append(&FlatMentions::from_nested(&second));
        let expected = vec![
            vec![mention(2, 1), mention(0, 2)],
            vec![],
            vec![mention(2, 2), mention(0, 3)],
            vec![mention(2, 1)],
            vec![mention(0, 1)],
        ];
        assert_eq!(flat, FlatMentions::from_nested(&expected));
        assert_eq!(flat.len(), 5);
        assert_eq!(&flat[2], &expected[2][..]);
    }

    #[test]
    fn scores_weight_frequency_by_importance() {
        // M = 3: rank weights 1, 2/3, 1/3.
        let respondents = vec![
            vec![mention(0, 1), mention(1, 2)],
            vec![mention(1, 1)],
            vec![mention(0, 3)],
            vec![],
        ];
        let input = DiscoveryInput {
            max_problems: 3,
            area_count: 3,
            respondents: crate::stats::Respondents::Nested(&respondents),
        };
        let scores = joint_v1(&input).expect("valid input");
        let order: Vec<usize> = scores.iter().map(|s| s.area).collect();
        // area 1: (2/3 + 1) / 4 = 5/12; area 0: (1 + 1/3) / 4 = 4/12
        assert_eq!(order, vec![1, 0, 2]);
        let a1 = &scores[0];
        assert_eq!((a1.n, a1.k), (4, 2));
        assert!((a1.score - 5.0 / 12.0).abs() < 1e-15);
        assert!((a1.frequency - 0.5).abs() < 1e-15);
        assert!((a1.importance.expect("k > 0") - 5.0 / 6.0).abs() < 1e-15);
        assert!((a1.first_choice_share - 0.25).abs() < 1e-15);
        assert!(a1.small_sample && a1.importance_small_sample);
        let a2 = &scores[2];
        assert_eq!(
            (a2.k, a2.score, a2.importance, a2.importance_ci),
            (0, 0.0, None, None)
        );
    }

    #[test]
    fn an_area_mentioned_twice_counts_once_with_its_best_rank() {
        let respondents = vec![vec![mention(0, 2), mention(0, 1)]];
        let input = DiscoveryInput {
            max_problems: 2,
            area_count: 1,
            respondents: crate::stats::Respondents::Nested(&respondents),
        };
        let s = &joint_v1(&input).expect("valid input")[0];
        assert_eq!(s.k, 1);
        assert_eq!(s.score, 1.0);
        assert_eq!(s.first_choice_share, 1.0);
    }

    #[test]
    fn no_respondents_give_zero_scores_and_uninformative_intervals() {
        let input = DiscoveryInput {
            max_problems: 5,
            area_count: 2,
            respondents: crate::stats::Respondents::Nested(&[]),
        };
        let scores = joint_v1(&input).expect("no respondents is valid");
        assert_eq!(scores.len(), 2);
        for s in &scores {
            assert_eq!((s.n, s.k, s.score, s.frequency), (0, 0, 0.0, 0.0));
            assert_eq!(s.frequency_ci, Interval::UNIT);
            assert!(s.small_sample);
        }
        assert_eq!(scores[0].area, 0);
    }

    #[test]
    fn importance_interval_uses_student_t() {
        // ranks 1, 2, 3 of M = 3: weights 1, 2/3, 1/3, mean 2/3, sd 1/3
        let respondents = vec![
            vec![mention(0, 1)],
            vec![mention(0, 2)],
            vec![mention(0, 3)],
        ];
        let input = DiscoveryInput {
            max_problems: 3,
            area_count: 1,
            respondents: crate::stats::Respondents::Nested(&respondents),
        };
        let s = &joint_v1(&input).expect("valid input")[0];
        let ci = s.importance_ci.expect("k = 3");
        let half = 4.302653 * (1.0 / 3.0) / 3f64.sqrt();
        assert!((ci.low - (2.0 / 3.0 - half).max(0.0)).abs() < 1e-5);
        assert_eq!(ci.high, 1.0);
    }

    #[test]
    fn invalid_mentions_are_refused_with_the_respondent_named() {
        let bad_rank = vec![vec![], vec![mention(0, 4)]];
        let input = DiscoveryInput {
            max_problems: 3,
            area_count: 1,
            respondents: crate::stats::Respondents::Nested(&bad_rank),
        };
        assert_eq!(
            joint_v1(&input),
            Err(StatsError::RankOutOfRange {
                respondent: 1,
                rank: 4,
                max_problems: 3
            })
        );
        let zero_rank = vec![vec![mention(0, 0)]];
        let input = DiscoveryInput {
            max_problems: 3,
            area_count: 1,
            respondents: crate::stats::Respondents::Nested(&zero_rank),
        };
        assert!(matches!(
            joint_v1(&input),
            Err(StatsError::RankOutOfRange { .. })
        ));
        let bad_area = vec![vec![mention(2, 1)]];
        let input = DiscoveryInput {
            max_problems: 3,
            area_count: 2,
            respondents: crate::stats::Respondents::Nested(&bad_area),
        };
        let err = joint_v1(&input).expect_err("area 2 of 2");
        assert_eq!(
            err.to_string(),
            "respondent 0: area 2 does not exist (areas are 0..2)"
        );
        let input = DiscoveryInput {
            max_problems: 0,
            area_count: 2,
            respondents: crate::stats::Respondents::Nested(&[]),
        };
        assert_eq!(joint_v1(&input), Err(StatsError::MaxProblemsZero));
    }
}
