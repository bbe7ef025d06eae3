//! Rank stability by bootstrap (docs/METHOD.md §5): resample whole respondents with
//! replacement, rescore, rerank, `B` times; report each area's rank percentiles, a
//! percentile interval of its score and `P(top k)`.
//!
//! Speed comes from two facts. Scores are sums of small integer points per
//! respondent, so respondents with the same answer pattern are interchangeable:
//! they are grouped once and a replicate draws how many times each *pattern* is
//! picked (a multinomial over patterns, drawn exactly by [`super::resample`])
//! instead of picking a million rows.
//!
//! Replicate `b` draws from its own ChaCha8 stream (`seed`, stream `b`), so the
//! output depends only on the data and the seed: not on the number of threads,
//! nor on the order of the respondents.

use std::ops::ControlFlow;
use std::sync::Mutex;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::discovery::{AreaScore, DiscoveryInput};
use super::error::StatsError;
use super::interval::Interval;
use super::patterns::PatternTable;
use super::resample::{Sampler, Scratch};

/// Rank stability by resampling whole respondents (docs/METHOD.md §5).
pub const RANK_BOOTSTRAP_V1: &str = "rank-bootstrap-v1";
/// The seed used unless the caller chooses another, so that the same data always
/// give the same output.
pub const DEFAULT_SEED: u64 = 20_040_501;
/// Replicates unless the caller chooses otherwise.
pub const DEFAULT_REPLICATES: u32 = 2000;
/// `k` of `P(top k)` unless the caller chooses otherwise.
pub const DEFAULT_TOP_K: usize = 5;

/// Replicates run between two progress reports.
const CHUNK: u32 = 64;

/// How to run the bootstrap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct BootstrapOptions {
    /// `B`, the number of resamples.
    pub replicates: u32,
    /// Seed of the random draws; same data and seed give the same output.
    pub seed: u64,
    /// `k` of `P(top k)`.
    pub top_k: usize,
}

impl Default for BootstrapOptions {
    fn default() -> Self {
        BootstrapOptions {
            replicates: DEFAULT_REPLICATES,
            seed: DEFAULT_SEED,
            top_k: DEFAULT_TOP_K,
        }
    }
}

/// How far the bootstrap has come, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub done: u32,
    pub total: u32,
}

/// Rank stability of every area.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RankStability {
    pub method: &'static str,
    /// The score that was resampled (`joint-v1`, discovery or checklist form).
    pub scoring: &'static str,
    pub replicates: u32,
    pub seed: u64,
    pub top_k: usize,
    /// Respondents in scope.
    pub n: u64,
    /// `n < 30`: ranks resting on so few respondents are barely informative.
    pub small_sample: bool,
    /// One entry per area, in the order of the point estimate (rank 1 first).
    pub areas: Vec<AreaStability>,
}

/// Rank stability of one area.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AreaStability {
    pub area: usize,
    /// Rank of the point estimate (1 = highest score; ties by area index).
    pub rank: u32,
    /// The point estimate of the score.
    pub score: f64,
    /// 2.5% percentile of the area's rank over the replicates (a rank it reached).
    pub rank_low: u32,
    /// 97.5% percentile of the area's rank over the replicates.
    pub rank_high: u32,
    /// 2.5%-97.5% percentile interval of the score (linear interpolation between
    /// order statistics, as numpy's default).
    pub score_ci: Interval,
    /// Share of replicates in which the area ranks `top_k` or better.
    pub p_top_k: f64,
}

/// Rank stability of discovery `joint-v1` scores, with the given options.
///
/// # Errors
/// Invalid mentions (as [`super::joint_v1`]) or `replicates == 0`.
pub fn rank_stability(
    input: &DiscoveryInput,
    options: &BootstrapOptions,
) -> Result<RankStability, StatsError> {
    rank_stability_with_progress(input, options, &|_| ControlFlow::Continue(()))
}

/// As [`rank_stability`], calling `on_progress` between blocks of replicates; the
/// callback stops the run by returning `ControlFlow::Break(())`.
///
/// # Errors
/// As [`rank_stability`], and [`StatsError::Cancelled`] when stopped.
pub fn rank_stability_with_progress(
    input: &DiscoveryInput,
    options: &BootstrapOptions,
    on_progress: &(dyn Fn(Progress) -> ControlFlow<()> + Sync),
) -> Result<RankStability, StatsError> {
    let table = PatternTable::from_discovery(input)?;
    run(&table, super::JOINT_V1, options, on_progress)
}

/// The `joint-v1` scores (as [`super::joint_v1`] gives them) and their rank
/// stability (as [`rank_stability_with_progress`]), grouping the respondents into
/// answer patterns once for both.
///
/// # Errors
/// As [`rank_stability_with_progress`].
pub fn scores_and_rank_stability(
    input: &DiscoveryInput,
    options: &BootstrapOptions,
    on_progress: &(dyn Fn(Progress) -> ControlFlow<()> + Sync),
) -> Result<(Vec<AreaScore>, RankStability), StatsError> {
    let table = PatternTable::from_discovery(input)?;
    let scores = table.discovery_tally(input.max_problems).scores();
    Ok((scores, run(&table, super::JOINT_V1, options, on_progress)?))
}

/// Resamples a table of answer patterns: the entry point for every linear score.
pub(crate) fn run(
    table: &PatternTable,
    scoring: &'static str,
    options: &BootstrapOptions,
    on_progress: &(dyn Fn(Progress) -> ControlFlow<()> + Sync),
) -> Result<RankStability, StatsError> {
    let drawn = replicate_totals(table, options, on_progress)?;
    Ok(summarise(table, scoring, options, &drawn))
}

/// Rank stability from the replicates' per-area point totals (as
/// [`replicate_totals`] draws them).
pub(crate) fn summarise(
    table: &PatternTable,
    scoring: &'static str,
    options: &BootstrapOptions,
    drawn: &[Vec<u64>],
) -> RankStability {
    let area_count = table.area_count;
    let point = table.totals();
    let point_ranks = ranks_of(&point);
    let total = drawn.len() as u32;
    let ranks: Vec<Vec<u32>> = drawn.par_iter().map(|d| ranks_of(d)).collect();
    let scale = table.denominator as f64 * table.n as f64;
    let to_score = |points: f64| if table.n == 0 { 0.0 } else { points / scale };
    let b = total as usize;
    let mut areas: Vec<AreaStability> = (0..area_count)
        .into_par_iter()
        .map(|a| {
            let mut area_ranks: Vec<u32> = ranks.iter().map(|r| r[a]).collect();
            let mut area_sums: Vec<u64> = drawn.iter().map(|d| d[a]).collect();
            area_ranks.sort_unstable();
            area_sums.sort_unstable();
            let top = area_ranks.partition_point(|&r| r as usize <= options.top_k);
            AreaStability {
                area: a,
                rank: point_ranks[a],
                score: to_score(point[a] as f64),
                rank_low: lower_order_statistic(&area_ranks, 0.025),
                rank_high: lower_order_statistic(&area_ranks, 0.975),
                score_ci: Interval {
                    low: to_score(interpolated_quantile(&area_sums, 0.025)),
                    high: to_score(interpolated_quantile(&area_sums, 0.975)),
                },
                p_top_k: top as f64 / b as f64,
            }
        })
        .collect();
    areas.sort_by_key(|s| s.rank);
    RankStability {
        method: RANK_BOOTSTRAP_V1,
        scoring,
        replicates: total,
        seed: options.seed,
        top_k: options.top_k,
        n: table.n,
        small_sample: table.n < super::SMALL_SAMPLE,
        areas,
    }
}

/// The per-area point totals of each of `options.replicates` resamples of
/// `table` (replicate `b` at index `b`).
///
/// # Errors
/// `replicates == 0`, or [`StatsError::Cancelled`].
pub(crate) fn replicate_totals(
    table: &PatternTable,
    options: &BootstrapOptions,
    on_progress: &(dyn Fn(Progress) -> ControlFlow<()> + Sync),
) -> Result<Vec<Vec<u64>>, StatsError> {
    if options.replicates == 0 {
        return Err(StatsError::Zero {
            what: "the number of bootstrap replicates",
        });
    }
    let sampler = Sampler::new(table);
    // One working space per thread, kept for the whole run (not one per piece
    // of work rayon splits off, each zeroed anew).
    let scratches: Vec<Mutex<Scratch>> = (0..rayon::current_num_threads())
        .map(|_| Mutex::new(sampler.scratch()))
        .collect();
    let total = options.replicates;
    let mut drawn = Vec::with_capacity(total as usize);
    let mut done = 0;
    while done < total {
        let end = (done + CHUNK).min(total);
        let block: Vec<Vec<u64>> = (done..end)
            .into_par_iter()
            .map(|b| {
                let thread = rayon::current_thread_index().unwrap_or(0) % scratches.len();
                let mut scratch = scratches[thread].lock().unwrap_or_else(|p| p.into_inner());
                let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
                rng.set_stream(u64::from(b));
                sampler.replicate(&mut rng, &mut scratch)
            })
            .collect();
        drawn.extend(block);
        done = end;
        if on_progress(Progress { done, total }).is_break() {
            return Err(StatsError::Cancelled);
        }
    }
    Ok(drawn)
}

/// Ranks (1 = best) of per-area point totals; ties by area index.
fn ranks_of(totals: &[u64]) -> Vec<u32> {
    let mut order: Vec<usize> = (0..totals.len()).collect();
    order.sort_unstable_by(|&a, &b| totals[b].cmp(&totals[a]).then(a.cmp(&b)));
    let mut ranks = vec![0u32; totals.len()];
    for (position, &area) in order.iter().enumerate() {
        ranks[area] = position as u32 + 1;
    }
    ranks
}

/// The smallest value with at least a share `q` of the sorted values at or below it
/// (inverted CDF): a rank that actually occurred.
fn lower_order_statistic(sorted: &[u32], q: f64) -> u32 {
    let wanted = (q * sorted.len() as f64).ceil() as usize;
    sorted[wanted.clamp(1, sorted.len()) - 1]
}

/// Quantile `q` by linear interpolation between order statistics.
fn interpolated_quantile(sorted: &[u64], q: f64) -> f64 {
    let h = q * (sorted.len() - 1) as f64;
    let below = h.floor() as usize;
    let above = (below + 1).min(sorted.len() - 1);
    let (lo, hi) = (sorted[below] as f64, sorted[above] as f64);
    lo + (h - below as f64) * (hi - lo)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{joint_v1, Mention};

    fn respondents() -> Vec<Vec<Mention>> {
        let mut rows = Vec::new();
        for i in 0..300usize {
            let first = [0, 0, 0, 1, 1, 2, 3, 0, 1, 4][i % 10];
            let second = (first + 1 + i % 3) % 6;
            rows.push(match i % 7 {
                0 => vec![],
                1 => vec![Mention {
                    area: first,
                    rank: 1,
                }],
                _ => vec![
                    Mention {
                        area: first,
                        rank: 1,
                    },
                    Mention {
                        area: second,
                        rank: 2,
                    },
                ],
            });
        }
        rows
    }

    fn input(rows: &[Vec<Mention>]) -> DiscoveryInput<'_> {
        DiscoveryInput {
            max_problems: 3,
            area_count: 6,
            respondents: crate::stats::Respondents::Nested(rows),
        }
    }

    fn options(replicates: u32) -> BootstrapOptions {
        BootstrapOptions {
            replicates,
            ..BootstrapOptions::default()
        }
    }

    #[test]
    fn point_estimates_and_ranks_match_joint_v1() {
        let rows = respondents();
        let stability = rank_stability(&input(&rows), &options(200)).expect("valid");
        let scores = joint_v1(&input(&rows)).expect("valid");
        assert_eq!(stability.areas.len(), scores.len());
        for (position, (st, sc)) in stability.areas.iter().zip(&scores).enumerate() {
            assert_eq!(st.area, sc.area);
            assert_eq!(st.rank as usize, position + 1);
            assert!((st.score - sc.score).abs() < 1e-15);
            assert!(st.score_ci.contains(st.score), "{st:?}");
            assert!(st.rank_low <= st.rank && st.rank <= st.rank_high, "{st:?}");
        }
        // Area 0 is ahead of the rest; no area ranks worse than 5th of 6.
        assert_eq!(stability.areas[0].area, 0);
        assert_eq!(stability.areas[0].p_top_k, 1.0);
        assert_eq!(stability.areas[0].rank_low, 1);
        assert_eq!(stability.method, RANK_BOOTSTRAP_V1);
        assert_eq!(stability.scoring, crate::stats::JOINT_V1);
    }

    #[test]
    fn scores_and_stability_at_once_are_those_of_each_alone() {
        let mut rows = respondents();
        // Repeated areas and a respondent whose rank-1 problem was coded twice.
        rows[1].push(Mention { area: 0, rank: 2 });
        rows[2].push(Mention { area: 5, rank: 1 });
        let (scores, stability) =
            scores_and_rank_stability(&input(&rows), &options(120), &|_| ControlFlow::Continue(()))
                .expect("valid");
        assert_eq!(scores, joint_v1(&input(&rows)).expect("valid"));
        assert_eq!(
            stability,
            rank_stability(&input(&rows), &options(120)).expect("valid")
        );
        let mut invalid = rows.clone();
        invalid[7].push(Mention { area: 1, rank: 4 });
        assert_eq!(
            scores_and_rank_stability(&input(&invalid), &options(10), &|_| {
                ControlFlow::Continue(())
            })
            .map(|_| ()),
            joint_v1(&input(&invalid)).map(|_| ())
        );
    }

    #[test]
    fn same_seed_same_output_on_any_thread_count() {
        let rows = respondents();
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .expect("a thread pool")
            .install(|| rank_stability(&input(&rows), &options(150)));
        let three = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .expect("a thread pool")
            .install(|| rank_stability(&input(&rows), &options(150)));
        assert_eq!(one, three);
        let other_seed = BootstrapOptions {
            seed: 7,
            ..options(150)
        };
        assert_ne!(one, rank_stability(&input(&rows), &other_seed));
    }

    #[test]
    fn respondent_order_does_not_matter() {
        let rows = respondents();
        let mut reversed = rows.clone();
        reversed.reverse();
        assert_eq!(
            rank_stability(&input(&rows), &options(100)),
            rank_stability(&input(&reversed), &options(100))
        );
    }

    #[test]
    fn no_respondents_and_no_replicates() {
        let empty: Vec<Vec<Mention>> = Vec::new();
        let s = rank_stability(&input(&empty), &options(10)).expect("n = 0 is valid");
        assert!(s.small_sample);
        assert!(s
            .areas
            .iter()
            .all(|a| a.score == 0.0 && a.score_ci.low == 0.0));
        assert_eq!(
            rank_stability(&input(&empty), &options(0)),
            Err(StatsError::Zero {
                what: "the number of bootstrap replicates"
            })
        );
    }

    #[test]
    fn progress_is_reported_and_can_stop_the_run() {
        let rows = respondents();
        let seen = std::sync::Mutex::new(Vec::new());
        let result = rank_stability_with_progress(&input(&rows), &options(200), &|p| {
            if let Ok(mut seen) = seen.lock() {
                seen.push(p.done);
            }
            if p.done >= 128 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        assert_eq!(result, Err(StatsError::Cancelled));
        assert_eq!(*seen.lock().expect("not poisoned"), vec![64, 128]);
    }
}
