//! What to fix first: the ranked areas gathered into groups an analyst can read as
//! one sentence ("A and B, statistically tied, then C"). Two areas are tied when
//! their bootstrap rank ranges overlap (docs/METHOD.md §5). Pure: from ranked
//! [`AreaResult`]s to groups; the words are the dashboard's templates' business.

use serde::Serialize;

use super::AreaResult;

/// One step of the order in which to fix things: one area, or several tied ones.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PriorityGroup {
    /// Area labels in rank order.
    pub areas: Vec<String>,
    /// More than one area, and their rank ranges overlap.
    pub tied: bool,
    /// The lowest probability among the group's areas of being in the top k.
    pub p_top_k: f64,
}

/// The order in which to fix the areas, as far as the ranking can tell it: groups
/// in rank order, stopping once `max_areas` areas are named. Each group starts at
/// the best-ranked area not yet named and takes every later area whose rank range
/// overlaps the starting area's.
pub fn priorities(areas: &[AreaResult], max_areas: usize) -> Vec<PriorityGroup> {
    let mut named = vec![false; areas.len()];
    let mut groups = Vec::new();
    let mut count = 0;
    while count < max_areas {
        let Some(start) = named.iter().position(|done| !done) else {
            break;
        };
        let head = &areas[start];
        let members: Vec<usize> = (start..areas.len())
            .filter(|&i| !named[i] && overlaps(head, &areas[i]))
            .collect();
        for &i in &members {
            named[i] = true;
        }
        count += members.len();
        groups.push(PriorityGroup {
            areas: members.iter().map(|&i| areas[i].area.clone()).collect(),
            tied: members.len() > 1,
            p_top_k: members
                .iter()
                .map(|&i| areas[i].p_top_k)
                .fold(1.0, f64::min),
        });
    }
    groups
}

fn overlaps(a: &AreaResult, b: &AreaResult) -> bool {
    a.rank_low <= b.rank_high && b.rank_low <= a.rank_high
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Interval;

    fn area(position: usize, rank_low: u32, rank_high: u32) -> AreaResult {
        AreaResult {
            position,
            area: format!("A{position}"),
            grouping: "analyst".into(),
            method: "joint-v1",
            n: 100,
            mentions: 10,
            frequency: 0.1,
            frequency_ci: Interval {
                low: 0.05,
                high: 0.2,
            },
            frequency_method: "wilson-95",
            importance: Some(0.5),
            importance_ci: None,
            importance_method: "student-t-95",
            score: 0.05,
            score_ci: Interval {
                low: 0.03,
                high: 0.07,
            },
            rank_low,
            rank_high,
            p_top_k: 1.0 - position as f64 / 10.0,
            first_choice_share: 0.1,
            small_sample: false,
            importance_small_sample: true,
        }
    }

    fn labels(groups: &[PriorityGroup]) -> Vec<Vec<&str>> {
        groups
            .iter()
            .map(|g| g.areas.iter().map(String::as_str).collect())
            .collect()
    }

    #[test]
    fn areas_whose_rank_ranges_overlap_the_first_are_tied_with_it() {
        let areas = [
            area(1, 1, 2),
            area(2, 1, 3),
            area(3, 3, 4),
            area(4, 3, 5),
            area(5, 5, 6),
        ];
        let groups = priorities(&areas, 10);
        // A3's range 3-4 overlaps A2's (1-3) but not A1's (1-2): it starts the next group.
        assert_eq!(
            labels(&groups),
            [vec!["A1", "A2"], vec!["A3", "A4"], vec!["A5"]]
        );
        assert!(groups[0].tied && groups[1].tied && !groups[2].tied);
        assert!((groups[0].p_top_k - 0.8).abs() < 1e-12);
    }

    #[test]
    fn a_clear_ranking_names_one_area_at_a_time_up_to_the_limit() {
        let areas: Vec<AreaResult> = (1..=6).map(|i| area(i, i as u32, i as u32)).collect();
        let groups = priorities(&areas, 3);
        assert_eq!(labels(&groups), [vec!["A1"], vec!["A2"], vec!["A3"]]);
        assert!(groups.iter().all(|g| !g.tied));
        assert!(priorities(&[], 3).is_empty());
    }
}
