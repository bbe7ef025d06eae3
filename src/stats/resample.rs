//! One bootstrap replicate of a [`PatternTable`]: how many times each answer
//! pattern is drawn, as per-area point totals. Only the drawing lives here; what
//! the replicates mean (ranks, intervals) is `bootstrap`'s.
//!
//! The multinomial over patterns is drawn exactly: sequential binomials over the
//! common patterns, then the rest of the draws uniformly among the rows of the rare
//! ones (for a pattern seen only a few times a uniform pick is cheaper than a
//! binomial draw, and the split leaves the distribution unchanged).
//!
//! The uniform picks read the replicate's ChaCha8 stream a block of words at a time
//! ([`Words`]) and turn each word into a row exactly as `rand`'s `random_range` does,
//! so the picks, and every figure drawn from them, are the same as drawing them one
//! call at a time: only faster (no call and no buffer check per word in `rand`).

use rand_chacha::ChaCha8Rng;
use rand_distr::{Binomial, Distribution};

use super::patterns::PatternTable;
use super::words::{tally, Words, WORDS};

/// Patterns seen at least this often get a binomial draw of their own; rarer ones
/// are picked row by row. Any value gives the same distribution; this one is fast.
const COMMON_PATTERN: u64 = 16;

/// Draws one resample's per-area point totals from a [`PatternTable`].
pub(super) struct Sampler<'a> {
    table: &'a PatternTable,
    /// Patterns `0..common` get a binomial draw each.
    common: usize,
    /// One entry per respondent of a rare pattern (`common..`), in pattern order:
    /// the respondent's pattern. Picking an entry uniformly picks a rare respondent.
    rare_rows: Vec<u32>,
    /// The rare rows in groups of consecutive rows of one pattern (see [`Groups`]).
    groups: Groups,
}

/// Rare rows grouped by pattern, so that a replicate adds each pattern's points
/// once, times the picks of all its rows, instead of once per row.
struct Groups {
    /// Group `h` is rows `starts[h]..starts[h + 1]`; no group has more than
    /// [`GROUP_ROWS`] rows, so its picks fit a `u16`.
    starts: Vec<u32>,
    /// Groups from this one on have one row each (the rarest patterns come last).
    single_from: usize,
    /// The groups before `single_from` as runs of groups of one size, in order.
    runs: Vec<Run>,
    /// `(area, points)` of each column: each pair that some rare pattern has.
    columns: Vec<(usize, u64)>,
    /// The groups whose pattern has column `c`: the spans of two or more
    /// consecutive groups `spans[span_starts[c]..span_starts[c + 1]]` (first group,
    /// group after the last), and the groups alone
    /// `lone[lone_starts[c]..lone_starts[c + 1]]`. Patterns of one size are ordered by their entries, so a column's
    /// groups often follow each other: a span's picks are the difference of two
    /// running sums, however many groups it holds.
    span_starts: Vec<u32>,
    spans: Vec<(u32, u32)>,
    lone_starts: Vec<u32>,
    lone: Vec<u32>,
}

/// Rows of one group at most: 257 rows of at most 255 picks each fit a `u16`.
const GROUP_ROWS: usize = 257;

/// Consecutive groups with the same number of rows (patterns are ordered by how
/// many respondents have them, so the groups of one size follow each other):
/// summed with a loop of a fixed length, which the processor predicts, instead
/// of one whose length changes from group to group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Run {
    /// The first row of the first group.
    first_row: u32,
    /// Rows per group.
    rows: u32,
    groups: u32,
}

/// The runs of groups of equal size among `sizes`.
fn runs_of(starts: &[u32], sizes: &[u32]) -> Vec<Run> {
    let mut runs: Vec<Run> = Vec::new();
    for (h, &rows) in sizes.iter().enumerate() {
        match runs.last_mut() {
            Some(run) if run.rows == rows => run.groups += 1,
            _ => runs.push(Run {
                first_row: starts[h],
                rows,
                groups: 1,
            }),
        }
    }
    runs
}

/// Sets each of `sums` to the sum of its `rows` consecutive tallies of `picks`.
fn sum_groups(picks: &[u8], rows: usize, sums: &mut [u32]) {
    fn fixed<const ROWS: usize>(picks: &[u8], sums: &mut [u32]) {
        for (sum, group) in sums.iter_mut().zip(picks.chunks_exact(ROWS)) {
            *sum = group.iter().map(|&p| u32::from(p)).sum();
        }
    }
    match rows {
        2 => fixed::<2>(picks, sums),
        3 => fixed::<3>(picks, sums),
        4 => fixed::<4>(picks, sums),
        5 => fixed::<5>(picks, sums),
        6 => fixed::<6>(picks, sums),
        7 => fixed::<7>(picks, sums),
        8 => fixed::<8>(picks, sums),
        9 => fixed::<9>(picks, sums),
        10 => fixed::<10>(picks, sums),
        11 => fixed::<11>(picks, sums),
        12 => fixed::<12>(picks, sums),
        13 => fixed::<13>(picks, sums),
        14 => fixed::<14>(picks, sums),
        15 => fixed::<15>(picks, sums),
        _ => {
            for (sum, group) in sums.iter_mut().zip(picks.chunks_exact(rows)) {
                *sum = group.iter().map(|&p| u32::from(p)).sum();
            }
        }
    }
}

/// The first row of each group of `rare_rows` (consecutive rows of one pattern,
/// [`GROUP_ROWS`] at most), then the number of rows; and each group's pattern.
fn row_groups(rare_rows: &[u32]) -> (Vec<u32>, Vec<u32>) {
    let mut starts = Vec::new();
    let mut patterns = Vec::new();
    for (r, &g) in rare_rows.iter().enumerate() {
        let start = starts.last().map_or(0, |&s| s as usize);
        if r == 0 || rare_rows[start] != g || r - start == GROUP_ROWS {
            starts.push(r as u32);
            patterns.push(g);
        }
    }
    starts.push(rare_rows.len() as u32);
    (starts, patterns)
}

impl Groups {
    fn new(table: &PatternTable, rare_rows: &[u32]) -> Self {
        let (starts, patterns) = row_groups(rare_rows);
        let sizes: Vec<u32> = starts.windows(2).map(|w| w[1] - w[0]).collect();
        let single_from = sizes.len() - sizes.iter().rev().take_while(|&&s| s == 1).count();
        let runs = runs_of(&starts, &sizes[..single_from]);
        // `(column, group)` for every entry of every group's pattern, by column.
        let mut entries: Vec<((u32, u32), u32)> = patterns
            .iter()
            .enumerate()
            .flat_map(|(h, &g)| {
                table
                    .pattern(g as usize)
                    .iter()
                    .map(move |&e| (e, h as u32))
            })
            .collect();
        entries.sort_unstable();
        let mut groups = Groups {
            starts,
            single_from,
            runs,
            columns: Vec::new(),
            span_starts: vec![0],
            spans: Vec::new(),
            lone_starts: vec![0],
            lone: Vec::new(),
        };
        for column in entries.chunk_by(|a, b| a.0 == b.0) {
            let (area, points) = column[0].0;
            groups.columns.push((area as usize, u64::from(points)));
            let members: Vec<u32> = column.iter().map(|&(_, h)| h).collect();
            for span in members.chunk_by(|a, b| a + 1 == *b) {
                match span {
                    [alone] => groups.lone.push(*alone),
                    _ => groups.spans.push((span[0], span[span.len() - 1] + 1)),
                }
            }
            groups.span_starts.push(groups.spans.len() as u32);
            groups.lone_starts.push(groups.lone.len() as u32);
        }
        groups
    }

    fn len(&self) -> usize {
        self.starts.len() - 1
    }

    /// Adds the points of the rows picked `picks[row]` times each to `totals`:
    /// the picks summed per group (reading the tallies in order) and then run
    /// through (`running[h]` is the picks of the groups before `h`), then per
    /// column the picks of its spans and lone groups, as differences of running
    /// sums, added in registers (nothing waits for a store). The running sums
    /// wrap at 2^32, and their differences are exact: no column is picked 2^32
    /// times (the draws are numbered by `u32`, see [`Sampler::draw_rare`]).
    fn add_points(&self, picks: &[u8], running: &mut [u32], totals: &mut [u64]) {
        let first_single = self.starts[self.single_from] as usize;
        let (grouped, single) = running[1..].split_at_mut(self.single_from);
        let mut h = 0;
        for run in &self.runs {
            let (first, rows, groups) = (
                run.first_row as usize,
                run.rows as usize,
                run.groups as usize,
            );
            let sums = &mut grouped[h..h + groups];
            sum_groups(&picks[first..first + rows * groups], rows, sums);
            h += groups;
        }
        for (sum, &p) in single.iter_mut().zip(&picks[first_single..]) {
            *sum = u32::from(p);
        }
        let mut total = 0u32;
        for sum in running.iter_mut() {
            total = total.wrapping_add(*sum);
            *sum = total;
        }
        let running = &*running;
        for (c, &(area, points)) in self.columns.iter().enumerate() {
            let spans = &self.spans[self.span_starts[c] as usize..self.span_starts[c + 1] as usize];
            let lone = &self.lone[self.lone_starts[c] as usize..self.lone_starts[c + 1] as usize];
            let mut sum = 0u32;
            for &(first, end) in spans {
                sum = sum.wrapping_add(running[end as usize].wrapping_sub(running[first as usize]));
            }
            sum = sum.wrapping_add(picks_of(running, lone));
            totals[area] += u64::from(sum) * points;
        }
    }
}

/// The picks of the groups `at`, from the running sums of the picks: four groups
/// at a time into four sums (so that an addition does not wait for the one
/// before it).
fn picks_of(running: &[u32], at: &[u32]) -> u32 {
    let of = |h: u32| running[h as usize + 1].wrapping_sub(running[h as usize]);
    let mut sums = [0u32; 4];
    let quads = at.chunks_exact(4);
    let rest = quads.remainder();
    for quad in quads {
        for (sum, &h) in sums.iter_mut().zip(quad) {
            *sum = sum.wrapping_add(of(h));
        }
    }
    let rest = rest.iter().fold(0u32, |sum, &h| sum.wrapping_add(of(h)));
    sums.iter().fold(rest, |sum, &s| sum.wrapping_add(s))
}

impl<'a> Sampler<'a> {
    pub fn new(table: &'a PatternTable) -> Self {
        let common = table.counts().partition_point(|&c| c >= COMMON_PATTERN);
        let mut rare_rows = Vec::new();
        for (g, &count) in table.counts().iter().enumerate().skip(common) {
            rare_rows.extend(std::iter::repeat_n(g as u32, count as usize));
        }
        Self::with_rare_rows(table, common, rare_rows)
    }

    /// A sampler whose rare pool is `rare_rows` (patterns of `table`).
    fn with_rare_rows(table: &'a PatternTable, common: usize, rare_rows: Vec<u32>) -> Self {
        let groups = Groups::new(table, &rare_rows);
        Sampler {
            table,
            common,
            rare_rows,
            groups,
        }
    }

    /// Scratch space for [`Sampler::replicate`].
    pub fn scratch(&self) -> Scratch {
        Scratch {
            picks: vec![0; self.rare_rows.len()],
            running: vec![0; self.groups.len() + 1],
            words: Words::default(),
            full: Vec::new(),
        }
    }

    /// Per-area point totals of one resample of `n` respondents. `scratch` must come
    /// from [`Sampler::scratch`]. Reads `rng` past the words it uses: the caller
    /// draws nothing more from it.
    pub fn replicate(&self, rng: &mut ChaCha8Rng, scratch: &mut Scratch) -> Vec<u64> {
        let table = self.table;
        let mut totals = vec![0u64; table.area_count];
        // Multinomial(n; counts / n) as a chain of binomials: pattern g takes
        // Bin(draws left, count_g / respondents not yet considered).
        let mut draws_left = table.n;
        let mut rows_left = table.n;
        for (g, &count) in table.counts()[..self.common].iter().enumerate() {
            if draws_left == 0 {
                break;
            }
            let picked = if count >= rows_left {
                draws_left
            } else {
                Binomial::new(draws_left, count as f64 / rows_left as f64)
                    .expect("count / rows_left lies in [0, 1]")
                    .sample(rng)
            };
            draws_left -= picked;
            rows_left -= count;
            if picked > 0 {
                add_pattern(&mut totals, table.pattern(g), picked);
            }
        }
        if draws_left > 0 && !self.rare_rows.is_empty() {
            self.draw_rare(rng, draws_left, scratch, &mut totals);
        }
        totals
    }

    /// Picks `draws` rare respondents uniformly and adds their points to `totals`.
    /// Picks are tallied in a byte per respondent (small enough to stay in cache);
    /// the tallies are then added per group of rows of one pattern, and the groups'
    /// sums per column ([`Groups::add_points`]): far faster than reading a pattern
    /// per pick, or per picked respondent.
    fn draw_rare(
        &self,
        rng: &mut ChaCha8Rng,
        draws: u64,
        scratch: &mut Scratch,
        totals: &mut [u64],
    ) {
        let Scratch {
            picks,
            running,
            words,
            full,
        } = scratch;
        let rows = u32::try_from(self.rare_rows.len()).expect("rare rows are numbered by u32");
        u32::try_from(draws).expect("rare draws are numbered by u32");
        words.restart();
        full.clear();
        let mut left = draws;
        while left > 0 {
            if words.next + 1 < WORDS {
                left -= words.tally_in_block(rows, left, picks, full);
            } else {
                // A pick whose words may cross into the next block of the stream.
                tally(picks, words.below(rows, rng), full);
                left -= 1;
            }
        }
        for &row in full.iter() {
            let pattern = self.table.pattern(self.rare_rows[row as usize] as usize);
            add_pattern(totals, pattern, u64::from(u8::MAX));
        }
        self.groups.add_points(picks, running, totals);
        picks.fill(0);
    }
}

/// [`Sampler::replicate`]'s working space, kept between replicates.
pub(super) struct Scratch {
    /// How often each rare respondent was picked (mod 255), all zero between draws.
    picks: Vec<u8>,
    /// The running sums of the picks of the groups of rows ([`Groups::add_points`]).
    running: Vec<u32>,
    words: Words,
    /// Rows whose byte in `picks` reached 255 (once for each time).
    full: Vec<u32>,
}

fn add_pattern(totals: &mut [u64], pattern: &[(u32, u32)], times: u64) {
    for &(area, points) in pattern {
        totals[area as usize] += times * u64::from(points);
    }
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};

    use super::*;
    use crate::stats::{DiscoveryInput, Mention};

    fn respondents() -> Vec<Vec<Mention>> {
        (0..300usize)
            .map(|i| {
                let first = [0, 0, 0, 1, 1, 2, 3, 0, 1, 4][i % 10];
                let mut row = vec![Mention {
                    area: first,
                    rank: 1,
                }];
                // Rarer, longer patterns for some (so both pools are used).
                for (rank, area) in [(2, (first + 1 + i % 3) % 6), (3, (i / 7) % 6)] {
                    if i % (rank as usize + 2) != 0 && !row.iter().any(|m| m.area == area) {
                        row.push(Mention { area, rank });
                    }
                }
                row
            })
            .collect()
    }

    fn table_of(rows: &[Vec<Mention>]) -> PatternTable {
        let input = DiscoveryInput {
            max_problems: 3,
            area_count: 6,
            respondents: crate::stats::Respondents::Nested(rows),
        };
        PatternTable::from_discovery(&input).expect("valid")
    }

    #[test]
    fn every_replicate_draws_exactly_n_respondents() {
        // Everyone mentions area 5 at the last rank (1 point), so area 5's total in
        // a replicate is the number of respondents drawn.
        let mut rows = respondents();
        for row in &mut rows {
            row.retain(|m| m.area != 5);
            row.push(Mention { area: 5, rank: 3 });
        }
        let table = table_of(&rows);
        let sampler = Sampler::new(&table);
        assert!(sampler.common > 0 && !sampler.rare_rows.is_empty());
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut scratch = sampler.scratch();
        for _ in 0..200 {
            assert_eq!(sampler.replicate(&mut rng, &mut scratch)[5], 300);
            assert!(scratch.picks.iter().all(|&p| p == 0));
        }
    }

    /// The column sums of `draw_rare` against the plain sum, pick by pick, with
    /// the same draws.
    fn assert_rare_picks_add_up(sampler: &Sampler) {
        let table = sampler.table;
        assert!(sampler.rare_rows.len() > 20, "{}", sampler.rare_rows.len());
        let mut scratch = sampler.scratch();
        for seed in 0..20 {
            let mut totals = vec![0u64; table.area_count];
            let draws = 7 * seed + 1;
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            sampler.draw_rare(&mut rng, draws, &mut scratch, &mut totals);
            let mut expected = vec![0u64; table.area_count];
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            for _ in 0..draws {
                let row = rng.random_range(0..sampler.rare_rows.len());
                add_pattern(
                    &mut expected,
                    table.pattern(sampler.rare_rows[row] as usize),
                    1,
                );
            }
            assert_eq!(totals, expected);
            assert!(scratch.picks.iter().all(|&p| p == 0));
        }
    }

    #[test]
    fn rare_picks_add_up_to_the_points_of_the_respondents_picked() {
        let rows = respondents();
        let table = table_of(&rows);
        let sampler = Sampler::new(&table);
        assert_rare_picks_add_up(&sampler);
        // Both kinds of group are used: patterns of several rare rows, and of one.
        let groups = &sampler.groups;
        assert!(groups.single_from > 0 && groups.single_from < groups.len());
    }

    #[test]
    fn rare_picks_add_up_with_many_columns() {
        // 300 areas at 3 ranks: 900 (area, points) columns, every pattern rare.
        let rows: Vec<Vec<Mention>> = (0..1200usize)
            .map(|i| {
                vec![Mention {
                    area: i % 300,
                    rank: 1 + (i / 300 % 3) as u32,
                }]
            })
            .collect();
        let input = DiscoveryInput {
            max_problems: 3,
            area_count: 300,
            respondents: crate::stats::Respondents::Nested(&rows),
        };
        let table = PatternTable::from_discovery(&input).expect("valid");
        let sampler = Sampler::new(&table);
        assert_rare_picks_add_up(&sampler);
        assert_eq!(sampler.groups.columns.len(), 900);
    }

    #[test]
    fn rare_picks_add_up_when_a_pattern_has_more_rows_than_a_group() {
        // White-box: a rare pool of 600 rows of one pattern and 300 of another
        // takes four groups (257 + 257 + 86 rows, then 300 rows in two), so that
        // no group's picks overflow their u16.
        let mut rows = vec![vec![Mention { area: 0, rank: 1 }]; 1000];
        rows.extend(vec![vec![Mention { area: 1, rank: 2 }]; 300]);
        let table = table_of(&rows);
        let rare_rows: Vec<u32> = [vec![0; 600], vec![1; 300]].concat();
        let sampler = Sampler::with_rare_rows(&table, 0, rare_rows);
        assert_eq!(sampler.groups.starts, vec![0, 257, 514, 600, 857, 900]);
        let run = |first_row, rows, groups| Run {
            first_row,
            rows,
            groups,
        };
        assert_eq!(
            sampler.groups.runs,
            vec![
                run(0, 257, 2),
                run(514, 86, 1),
                run(600, 257, 1),
                run(857, 43, 1)
            ]
        );
        assert_rare_picks_add_up(&sampler);
        let mut scratch = sampler.scratch();
        let mut totals = vec![0u64; table.area_count];
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        sampler.draw_rare(&mut rng, 1_000_000, &mut scratch, &mut totals);
        // 3 points for area 0, 2 for area 1, and every one of the draws counted.
        assert_eq!(totals[0] / 3 + totals[1] / 2, 1_000_000);
    }

    #[test]
    fn a_rare_respondent_picked_very_often_is_still_counted_exactly() {
        // White-box: treat one pattern of 1000 respondents as the rare pool, so all
        // 1000 draws land on one row and its byte counter overflows three times.
        let rows = vec![vec![Mention { area: 0, rank: 1 }]; 1000];
        let table = table_of(&rows);
        let sampler = Sampler::with_rare_rows(&table, 0, vec![0]);
        let mut scratch = sampler.scratch();
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        assert_eq!(sampler.replicate(&mut rng, &mut scratch)[0], 3000);
        assert_eq!(scratch.picks, vec![0]);
    }

    #[test]
    fn the_multinomial_has_the_right_mean() {
        let rows = respondents();
        let table = table_of(&rows);
        let sampler = Sampler::new(&table);
        let point = table.totals();
        let mut mean = [0f64; 6];
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut scratch = sampler.scratch();
        let reps = 4000;
        for _ in 0..reps {
            for (m, t) in mean
                .iter_mut()
                .zip(sampler.replicate(&mut rng, &mut scratch))
            {
                *m += t as f64 / reps as f64;
            }
        }
        for (m, p) in mean.iter().zip(&point) {
            // Standard error of a mean over 4000 resamples of 300 respondents is
            // well below 1% of the total here.
            assert!(
                (m - *p as f64).abs() <= 0.02 * (*p as f64) + 1.0,
                "{m} vs {p}"
            );
        }
    }
}
