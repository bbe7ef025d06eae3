//! Discovery scores per segment (customer group, region, ...) and whether mention
//! rates differ between segments (docs/METHOD.md §5): Pearson chi-square per area on
//! mentioned / not mentioned x segment, Yates-corrected when dof = 1, with cells of
//! expected count below 5 flagged and Benjamini-Hochberg adjusted p-values beside
//! the raw ones.

use super::discovery::{best_ranks, AreaScore, DiscoveryInput, DiscoveryTally, SMALL_SAMPLE};
use super::error::StatsError;
use super::hypothesis::{benjamini_hochberg_some, chi_square, ChiSquareTest, BH_V1, CHI_SQUARE_V1};

/// Scores per segment and a chi-square test per area across segments.
pub const SEGMENTS_V1: &str = "segments-v1";

/// Scores per segment and the tests across them.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SegmentComparison {
    #[serde(flatten)]
    pub stamp: SegmentStamp,
    /// One entry per segment label `0..segment_count`.
    pub segments: Vec<SegmentScores>,
    /// One entry per area, in area order.
    pub areas: Vec<AreaSegmentTest>,
}

/// The methods of a segment comparison, which every view of it repeats
/// (flattened into it).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct SegmentStamp {
    pub method: &'static str,
    /// `joint-v1`: the score computed in each segment.
    pub scoring: &'static str,
    /// `chi-square-v1`: the test per area.
    pub test: &'static str,
    /// `bh-v1`: the adjustment across areas.
    pub adjustment: &'static str,
}

/// `joint-v1` scores of the respondents of one segment.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SegmentScores {
    pub segment: usize,
    pub n: u64,
    /// `n < 30`.
    pub small_sample: bool,
    /// As [`super::joint_v1`] on this segment alone: best score first.
    pub scores: Vec<AreaScore>,
}

/// Whether one area's mention rate differs between segments.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AreaSegmentTest {
    pub area: usize,
    /// Respondents mentioning the area, per segment.
    pub mentioned: Vec<u64>,
    /// Respondents, per segment.
    pub n: Vec<u64>,
    /// `None` when there is nothing to test: fewer than two segments with
    /// respondents, or the area is mentioned by all or by none of them.
    pub test: Option<ChiSquareTest>,
    /// Benjamini-Hochberg adjusted p-value over the areas that have a test.
    pub p_adjusted: Option<f64>,
}

/// Scores per segment and a chi-square test per area (docs/METHOD.md §5).
/// `segment_of[i]` is the segment of respondent `i`, in `0..segment_count`.
///
/// # Errors
/// As [`super::joint_v1`]; `segment_of` not one per respondent; a segment outside
/// `0..segment_count`.
pub fn segment_comparison(
    input: &DiscoveryInput,
    segment_of: &[usize],
    segment_count: usize,
) -> Result<SegmentComparison, StatsError> {
    if input.max_problems == 0 {
        return Err(StatsError::MaxProblemsZero);
    }
    if segment_of.len() != input.respondents.len() {
        return Err(StatsError::LengthMismatch {
            what: "segment labels",
            per: "respondent",
            expected: input.respondents.len(),
            found: segment_of.len(),
        });
    }
    let mut tallies =
        vec![DiscoveryTally::new(input.max_problems, input.area_count); segment_count];
    let mut best = Vec::new();
    for (i, (mentions, &segment)) in input.respondents.iter().zip(segment_of).enumerate() {
        if segment >= segment_count {
            return Err(StatsError::SegmentOutOfRange {
                respondent: i,
                segment,
                segment_count,
            });
        }
        best_ranks(input, i, mentions, &mut best)?;
        tallies[segment].add(&best);
    }

    let mut areas: Vec<AreaSegmentTest> = (0..input.area_count)
        .map(|area| {
            let mentioned: Vec<u64> = tallies.iter().map(|t| t.k[area]).collect();
            let n: Vec<u64> = tallies.iter().map(|t| t.n).collect();
            let table: Vec<Vec<u64>> = mentioned
                .iter()
                .zip(&n)
                .map(|(&k, &n)| vec![k, n - k])
                .collect();
            AreaSegmentTest {
                area,
                test: chi_square(&table),
                mentioned,
                n,
                p_adjusted: None,
            }
        })
        .collect();
    let raw: Vec<Option<f64>> = areas
        .iter()
        .map(|a| a.test.as_ref().map(|t| t.p_value))
        .collect();
    for (area, adjusted) in areas.iter_mut().zip(benjamini_hochberg_some(&raw)) {
        area.p_adjusted = adjusted;
    }
    let segments = tallies
        .iter()
        .enumerate()
        .map(|(segment, tally)| SegmentScores {
            segment,
            n: tally.n,
            small_sample: tally.n < SMALL_SAMPLE,
            scores: tally.scores(),
        })
        .collect();
    Ok(SegmentComparison {
        stamp: SegmentStamp {
            method: SEGMENTS_V1,
            scoring: super::JOINT_V1,
            test: CHI_SQUARE_V1,
            adjustment: BH_V1,
        },
        segments,
        areas,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Mention;

    /// Segment 0: 10 of 30 mention area 0; segment 1: 20 of 40. Area 1: everyone.
    fn two_segments() -> (Vec<Vec<Mention>>, Vec<usize>) {
        let mut respondents = Vec::new();
        let mut segments = Vec::new();
        for (segment, n, k) in [(0, 30, 10), (1, 40, 20)] {
            for i in 0..n {
                let mut mentions = vec![Mention { area: 1, rank: 1 }];
                if i < k {
                    mentions.push(Mention { area: 0, rank: 2 });
                }
                respondents.push(mentions);
                segments.push(segment);
            }
        }
        (respondents, segments)
    }

    #[test]
    fn mention_rates_are_compared_across_segments() {
        let (respondents, segments) = two_segments();
        let input = DiscoveryInput {
            max_problems: 2,
            area_count: 3,
            respondents: crate::stats::Respondents::Nested(&respondents),
        };
        let comparison = segment_comparison(&input, &segments, 2).expect("valid");
        let area0 = &comparison.areas[0];
        assert_eq!(
            (area0.mentioned.clone(), area0.n.clone()),
            (vec![10, 20], vec![30, 40])
        );
        let test = area0.test.as_ref().expect("a 2x2 table");
        // scipy.stats.chi2_contingency([[10, 20], [20, 20]]): 1.32344, p 0.249976
        assert!(test.yates);
        assert!((test.statistic - 1.3234375).abs() < 1e-9);
        assert!((test.p_value - 0.24997605752048507).abs() < 1e-9);
        // Only area 0 has a test, so its adjusted p-value is its raw one.
        assert_eq!(area0.p_adjusted, Some(test.p_value));
        assert_eq!(comparison.areas[1].test, None);
        assert_eq!(comparison.areas[2].p_adjusted, None);
        assert_eq!(comparison.segments[0].n, 30);
        assert!(!comparison.segments[0].small_sample);
        assert_eq!(comparison.segments[1].scores[0].area, 1);
        assert!((comparison.segments[1].scores[1].frequency - 0.5).abs() < 1e-15);
    }

    #[test]
    fn small_expected_counts_are_flagged() {
        let respondents = vec![
            vec![Mention { area: 0, rank: 1 }],
            vec![],
            vec![],
            vec![Mention { area: 0, rank: 1 }],
        ];
        let input = DiscoveryInput {
            max_problems: 1,
            area_count: 1,
            respondents: crate::stats::Respondents::Nested(&respondents),
        };
        let comparison = segment_comparison(&input, &[0, 0, 1, 1], 2).expect("valid");
        let test = comparison.areas[0].test.as_ref().expect("2x2");
        assert!(test.low_expected);
        assert_eq!(test.cells_expected_below_5, 4);
        assert!(comparison.segments.iter().all(|s| s.small_sample));
    }

    #[test]
    fn labels_must_match_the_respondents() {
        let (respondents, mut segments) = two_segments();
        let input = DiscoveryInput {
            max_problems: 2,
            area_count: 3,
            respondents: crate::stats::Respondents::Nested(&respondents),
        };
        assert!(matches!(
            segment_comparison(&input, &segments[1..], 2),
            Err(StatsError::LengthMismatch { .. })
        ));
        segments[5] = 2;
        assert_eq!(
            segment_comparison(&input, &segments, 2),
            Err(StatsError::SegmentOutOfRange {
                respondent: 5,
                segment: 2,
                segment_count: 2
            })
        );
    }
}
