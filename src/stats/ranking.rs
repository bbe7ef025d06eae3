//! Rank-based views of discovery answers (docs/METHOD.md §3): Plackett-Luce worths
//! (`worth-pl-v1`, Hunter's 2004 MM algorithm) and Borda counts (`borda-v1`).
//!
//! Both take rankings: per respondent, the areas they mentioned, most important
//! first. A respondent ranks only the problems they have, so a ranking says
//! nothing about the areas it leaves out (they are not "ranked last").

use std::collections::{HashMap, VecDeque};

use super::discovery::{best_ranks, DiscoveryInput};
use super::error::{Disconnection, StatsError};

/// Plackett-Luce worths by Hunter's (2004) MM algorithm, normalised to sum 1.
pub const WORTH_PL_V1: &str = "worth-pl-v1";
/// Borda count: in a ranking of all `m` areas, position `p` (0 = first) earns
/// `m - 1 - p` points.
pub const BORDA_V1: &str = "borda-v1";

/// Each respondent's mentioned areas, most important first (best rank per area;
/// areas sharing a rank, as when one mention is coded into two areas, are ordered
/// by area index). Respondents with no mention give an empty ranking.
///
/// # Errors
/// As [`super::joint_v1`].
pub fn rankings_from_discovery(input: &DiscoveryInput) -> Result<Vec<Vec<usize>>, StatsError> {
    if input.max_problems == 0 {
        return Err(StatsError::MaxProblemsZero);
    }
    let mut best = Vec::new();
    input
        .respondents
        .iter()
        .enumerate()
        .map(|(i, mentions)| {
            best_ranks(input, i, mentions, &mut best)?;
            best.sort_by_key(|m| (m.rank, m.area));
            Ok(best.iter().map(|m| m.area).collect())
        })
        .collect()
}

/// When to stop the MM iterations.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct PlOptions {
    pub max_iterations: u32,
    /// Stop when no worth moves by more than this in one iteration.
    pub tolerance: f64,
}

impl Default for PlOptions {
    fn default() -> Self {
        PlOptions {
            max_iterations: 10_000,
            tolerance: 1e-12,
        }
    }
}

/// Plackett-Luce worths of all areas.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PlWorths {
    pub method: &'static str,
    /// Rankings that compare at least two areas (the others carry no information).
    pub rankings_used: u64,
    pub iterations: u32,
    /// False when `max_iterations` ran out before the tolerance was met.
    pub converged: bool,
    /// One entry per area, highest worth first (ties by area index).
    pub areas: Vec<AreaWorth>,
}

/// The worth of one area: the probability that it is ranked first when every
/// area is on offer. Worths sum to 1.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct AreaWorth {
    pub area: usize,
    pub worth: f64,
}

/// `worth-pl-v1` of discovery answers with the default options.
///
/// # Errors
/// As [`super::joint_v1`], and [`StatsError::ComparisonsDisconnected`] as
/// [`plackett_luce`].
pub fn worth_pl_v1(input: &DiscoveryInput) -> Result<PlWorths, StatsError> {
    let rankings = rankings_from_discovery(input)?;
    plackett_luce(&rankings, input.area_count, &PlOptions::default())
}

/// Plackett-Luce worths of `area_count` areas from rankings (each most important
/// first), by Hunter's (2004) MM algorithm, normalised to sum 1.
///
/// # Errors
/// An area outside `0..area_count` or repeated within a ranking; and
/// [`StatsError::ComparisonsDisconnected`] when the worths do not exist: an area is
/// never ranked with another, never above another, never below another, or a group
/// of areas is only ever ranked on one side of the rest.
pub fn plackett_luce(
    rankings: &[Vec<usize>],
    area_count: usize,
    options: &PlOptions,
) -> Result<PlWorths, StatsError> {
    let distinct = distinct_rankings(rankings, area_count)?;
    if area_count == 0 {
        return Ok(PlWorths {
            method: WORTH_PL_V1,
            rankings_used: 0,
            iterations: 0,
            converged: true,
            areas: Vec::new(),
        });
    }
    check_connected(&distinct, area_count)?;

    // wins[i]: stages at which i was chosen (every position but a ranking's last).
    let mut wins = vec![0f64; area_count];
    let mut rankings_used = 0;
    for (ranking, count) in &distinct {
        if ranking.len() > 1 {
            rankings_used += count;
        }
        for &area in &ranking[..ranking.len() - 1] {
            wins[area] += *count as f64;
        }
    }
    let mut worth = vec![1.0 / area_count as f64; area_count];
    let mut next = vec![0f64; area_count];
    let mut suffix = Vec::new();
    let mut iterations = 0;
    let mut converged = false;
    while iterations < options.max_iterations {
        iterations += 1;
        next.iter_mut().for_each(|x| *x = 0.0);
        for (ranking, count) in &distinct {
            // suffix[t] = sum of worths still on offer at stage t.
            suffix.clear();
            let mut sum = 0.0;
            for &area in ranking.iter().rev() {
                sum += worth[area];
                suffix.push(sum);
            }
            suffix.reverse();
            // The item at position p is on offer at stages 0..=min(p, len - 2).
            let mut on_offer = 0.0;
            for (p, &area) in ranking.iter().enumerate() {
                if p + 1 < ranking.len() {
                    on_offer += *count as f64 / suffix[p];
                }
                next[area] += on_offer;
            }
        }
        let mut total = 0.0;
        for (n, w) in next.iter_mut().zip(&wins) {
            *n = w / *n;
            total += *n;
        }
        let mut change = 0f64;
        for (w, n) in worth.iter_mut().zip(&next) {
            let updated = n / total;
            change = change.max((updated - *w).abs());
            *w = updated;
        }
        if change < options.tolerance {
            converged = true;
            break;
        }
    }
    let mut areas: Vec<AreaWorth> = worth
        .iter()
        .enumerate()
        .map(|(area, &worth)| AreaWorth { area, worth })
        .collect();
    areas.sort_by(|a, b| b.worth.total_cmp(&a.worth).then(a.area.cmp(&b.area)));
    Ok(PlWorths {
        method: WORTH_PL_V1,
        rankings_used,
        iterations,
        converged,
        areas,
    })
}

/// Borda points of every area.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BordaCount {
    pub method: &'static str,
    /// Points per area, indexed by area.
    pub points: Vec<u64>,
    /// Areas, most points first (ties by area index).
    pub order: Vec<usize>,
}

/// Borda count (`borda-v1`): in each ranking, the area at position `p` (0 = first)
/// earns `area_count - 1 - p` points; with three areas, 2, 1 and 0.
///
/// # Errors
/// An area outside `0..area_count` or repeated within a ranking.
pub fn borda(rankings: &[Vec<usize>], area_count: usize) -> Result<BordaCount, StatsError> {
    let mut points = vec![0u64; area_count];
    for (ranking, count) in distinct_rankings(rankings, area_count)? {
        for (position, &area) in ranking.iter().enumerate() {
            points[area] += count * (area_count - 1 - position) as u64;
        }
    }
    let mut order: Vec<usize> = (0..area_count).collect();
    order.sort_by(|&a, &b| points[b].cmp(&points[a]).then(a.cmp(&b)));
    Ok(BordaCount {
        method: BORDA_V1,
        points,
        order,
    })
}

/// Validates rankings and counts each distinct non-empty one.
fn distinct_rankings(
    rankings: &[Vec<usize>],
    area_count: usize,
) -> Result<Vec<(Vec<usize>, u64)>, StatsError> {
    let mut seen = vec![usize::MAX; area_count];
    let mut counts: HashMap<&[usize], u64> = HashMap::new();
    for (r, ranking) in rankings.iter().enumerate() {
        for &area in ranking {
            if area >= area_count {
                return Err(StatsError::AreaOutOfRange {
                    respondent: r,
                    area,
                    area_count,
                });
            }
            if seen[area] == r {
                return Err(StatsError::DuplicateInRanking { ranking: r, area });
            }
            seen[area] = r;
        }
        if !ranking.is_empty() {
            *counts.entry(ranking.as_slice()).or_insert(0) += 1;
        }
    }
    let mut distinct: Vec<(Vec<usize>, u64)> =
        counts.into_iter().map(|(r, c)| (r.to_vec(), c)).collect();
    // A fixed order keeps floating-point sums identical from run to run.
    distinct.sort_unstable();
    Ok(distinct)
}

/// Checks that the "ranked above" graph is strongly connected (Hunter's condition
/// for the worths to exist), naming the first obstacle found.
fn check_connected(distinct: &[(Vec<usize>, u64)], area_count: usize) -> Result<(), StatsError> {
    let mut beats: Vec<Vec<usize>> = vec![Vec::new(); area_count];
    let mut beaten_by: Vec<Vec<usize>> = vec![Vec::new(); area_count];
    for (ranking, _) in distinct {
        for (p, &winner) in ranking.iter().enumerate() {
            for &loser in &ranking[p + 1..] {
                beats[winner].push(loser);
                beaten_by[loser].push(winner);
            }
        }
    }
    for list in beats.iter_mut().chain(beaten_by.iter_mut()) {
        list.sort_unstable();
        list.dedup();
    }
    let fail = |problem| Err(StatsError::ComparisonsDisconnected { problem });
    for area in 0..area_count {
        match (beats[area].is_empty(), beaten_by[area].is_empty()) {
            (true, true) => return fail(Disconnection::NeverCompared { area }),
            (true, false) => return fail(Disconnection::NeverBeats { area }),
            (false, true) => return fail(Disconnection::NeverLoses { area }),
            (false, false) => {}
        }
    }
    for graph in [&beats, &beaten_by] {
        let reached = reachable_from(0, graph);
        let unreached: Vec<usize> = (0..area_count).filter(|&a| !reached[a]).collect();
        if !unreached.is_empty() {
            return fail(Disconnection::Group { areas: unreached });
        }
    }
    Ok(())
}

fn reachable_from(start: usize, graph: &[Vec<usize>]) -> Vec<bool> {
    let mut reached = vec![false; graph.len()];
    let mut queue = VecDeque::from([start]);
    reached[start] = true;
    while let Some(node) = queue.pop_front() {
        for &next in &graph[node] {
            if !reached[next] {
                reached[next] = true;
                queue.push_back(next);
            }
        }
    }
    reached
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::rounded;
    use crate::stats::Mention;

    /// docs/METHOD.md §6: {A>B>C, A>B>C, B>A>C, C>A>B}.
    fn method_rankings() -> Vec<Vec<usize>> {
        vec![vec![0, 1, 2], vec![0, 1, 2], vec![1, 0, 2], vec![2, 0, 1]]
    }

    #[test]
    fn plackett_luce_reproduces_the_method_vector() {
        let fit = plackett_luce(&method_rankings(), 3, &PlOptions::default()).expect("connected");
        assert!(fit.converged);
        assert_eq!(fit.method, WORTH_PL_V1);
        let worths: Vec<(usize, f64)> = fit
            .areas
            .iter()
            .map(|a| (a.area, rounded(a.worth, 4)))
            .collect();
        assert_eq!(worths, vec![(0, 0.6139), (1, 0.2917), (2, 0.0944)]);
        let total: f64 = fit.areas.iter().map(|a| a.worth).sum();
        assert!((total - 1.0).abs() < 1e-12);
    }

    #[test]
    fn borda_reproduces_the_method_vector() {
        let count = borda(&method_rankings(), 3).expect("valid rankings");
        assert_eq!(count.points, vec![6, 4, 2]);
        assert_eq!(count.order, vec![0, 1, 2]);
        assert_eq!(count.method, BORDA_V1);
    }

    #[test]
    fn an_area_that_never_wins_has_no_worth() {
        let rankings = vec![vec![0, 1, 2], vec![1, 0, 2]];
        let err = plackett_luce(&rankings, 3, &PlOptions::default()).expect_err("C never wins");
        assert_eq!(
            err,
            StatsError::ComparisonsDisconnected {
                problem: Disconnection::NeverBeats { area: 2 }
            }
        );
        assert!(err
            .to_string()
            .contains("area 2 is never ranked above another area"));
    }

    #[test]
    fn an_area_that_never_loses_or_is_never_compared_is_named() {
        let never_loses = vec![vec![0, 1], vec![0, 2], vec![1, 2], vec![2, 1]];
        assert_eq!(
            plackett_luce(&never_loses, 3, &PlOptions::default()),
            Err(StatsError::ComparisonsDisconnected {
                problem: Disconnection::NeverLoses { area: 0 }
            })
        );
        let alone = vec![vec![0, 1], vec![1, 0], vec![2]];
        assert_eq!(
            plackett_luce(&alone, 3, &PlOptions::default()),
            Err(StatsError::ComparisonsDisconnected {
                problem: Disconnection::NeverCompared { area: 2 }
            })
        );
    }

    #[test]
    fn two_groups_never_ranked_both_ways_are_named() {
        // {0, 1} always above {2, 3}; within each group both orders occur.
        let rankings = vec![vec![0, 1, 2, 3], vec![1, 0, 3, 2]];
        assert_eq!(
            plackett_luce(&rankings, 4, &PlOptions::default()),
            Err(StatsError::ComparisonsDisconnected {
                problem: Disconnection::Group { areas: vec![2, 3] }
            })
        );
    }

    #[test]
    fn rankings_come_from_best_ranks() {
        let respondents = vec![
            vec![Mention { area: 2, rank: 2 }, Mention { area: 0, rank: 1 }],
            vec![],
            vec![
                Mention { area: 1, rank: 3 },
                Mention { area: 1, rank: 1 },
                Mention { area: 0, rank: 2 },
            ],
        ];
        let input = DiscoveryInput {
            max_problems: 3,
            area_count: 3,
            respondents: crate::stats::Respondents::Nested(&respondents),
        };
        let rankings = rankings_from_discovery(&input).expect("valid");
        assert_eq!(rankings, vec![vec![0, 2], vec![], vec![1, 0]]);
    }

    #[test]
    fn invalid_rankings_are_refused() {
        assert_eq!(
            borda(&[vec![0, 0]], 2),
            Err(StatsError::DuplicateInRanking {
                ranking: 0,
                area: 0
            })
        );
        assert!(matches!(
            borda(&[vec![0, 5]], 2),
            Err(StatsError::AreaOutOfRange { area: 5, .. })
        ));
    }
}
