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

use rand::RngCore;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Binomial, Distribution};

use super::patterns::PatternTable;

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
    /// `(area, points)` of each column: each pair that some rare pattern has.
    columns: Vec<(usize, u64)>,
    /// The groups whose pattern has column `c` are
    /// `members[member_starts[c]..member_starts[c + 1]]`, in ascending order.
    member_starts: Vec<u32>,
    members: Vec<u32>,
}

/// Rows of one group at most: 257 rows of at most 255 picks each fit a `u16`.
const GROUP_ROWS: usize = 257;

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
        let mut columns: Vec<(usize, u64)> = Vec::new();
        let mut member_starts = Vec::new();
        for (i, &((area, points), _)) in entries.iter().enumerate() {
            if i == 0 || entries[i - 1].0 != (area, points) {
                columns.push((area as usize, u64::from(points)));
                member_starts.push(i as u32);
            }
        }
        member_starts.push(entries.len() as u32);
        Groups {
            starts,
            single_from,
            columns,
            member_starts,
            members: entries.into_iter().map(|(_, h)| h).collect(),
        }
    }

    fn len(&self) -> usize {
        self.starts.len() - 1
    }

    /// Adds the points of the rows picked `picks[row]` times each to `totals`:
    /// the picks summed per group (reading the tallies in order), then per column
    /// the sums of the groups that have it (reading each column's groups in
    /// order, adding in a register: nothing waits for a store).
    fn add_points(&self, picks: &[u8], group_picks: &mut [u16], totals: &mut [u64]) {
        let first_single = self.starts[self.single_from] as usize;
        let (grouped, single) = group_picks.split_at_mut(self.single_from);
        for (sum, rows) in grouped.iter_mut().zip(self.starts.windows(2)) {
            let rows = &picks[rows[0] as usize..rows[1] as usize];
            *sum = rows.iter().map(|&p| u16::from(p)).sum();
        }
        for (sum, &p) in single.iter_mut().zip(&picks[first_single..]) {
            *sum = u16::from(p);
        }
        for (c, &(area, points)) in self.columns.iter().enumerate() {
            let members =
                &self.members[self.member_starts[c] as usize..self.member_starts[c + 1] as usize];
            let sum: u64 = members
                .iter()
                .map(|&h| u64::from(group_picks[h as usize]))
                .sum();
            totals[area] += sum * points;
        }
    }
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
            group_picks: vec![0; self.groups.len()],
            words: Words::default(),
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
        let table = self.table;
        let Scratch {
            picks,
            group_picks,
            words,
        } = scratch;
        let rows = u32::try_from(self.rare_rows.len()).expect("rare rows are numbered by u32");
        words.restart();
        for _ in 0..draws {
            let row = words.below(rows, rng) as usize;
            let tally = &mut picks[row];
            *tally += 1;
            if *tally == u8::MAX {
                let pattern = table.pattern(self.rare_rows[row] as usize);
                add_pattern(totals, pattern, u64::from(u8::MAX));
                *tally = 0;
            }
        }
        self.groups.add_points(picks, group_picks, totals);
        picks.fill(0);
    }
}

/// [`Sampler::replicate`]'s working space, kept between replicates.
pub(super) struct Scratch {
    /// How often each rare respondent was picked (mod 255), all zero between draws.
    picks: Vec<u8>,
    /// The picks of each group of rows ([`Groups`]).
    group_picks: Vec<u16>,
    words: Words,
}

/// Words of the stream read at once by [`Words`].
const WORDS: usize = 512;

/// A ChaCha8 stream's 32-bit words, read a block at a time: the words `next_u32`
/// would return, in the same order (the stream is one sequence of words, however it
/// is read).
struct Words {
    block: Box<[u8; 4 * WORDS]>,
    next: usize,
}

impl Default for Words {
    fn default() -> Self {
        Words {
            block: Box::new([0; 4 * WORDS]),
            next: WORDS,
        }
    }
}

impl Words {
    /// Forgets the words read so far: the next word comes from the stream.
    fn restart(&mut self) {
        self.next = WORDS;
    }

    #[inline(always)]
    fn word(&mut self, rng: &mut ChaCha8Rng) -> u32 {
        if self.next == WORDS {
            rng.fill_bytes(&mut self.block[..]);
            self.next = 0;
        }
        let at = 4 * self.next;
        self.next += 1;
        let bytes = &self.block[at..at + 4];
        u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
    }

    /// A uniform number in `0..range` (`range > 0`), computed from the words
    /// exactly as rand 0.9's `random_range(0..range)` computes it for a `usize`
    /// range below 2^32: the high half of word * range, and when the low half
    /// falls in the biased zone, one more word decides a carry (Canon's method).
    #[inline(always)]
    fn below(&mut self, range: u32, rng: &mut ChaCha8Rng) -> u32 {
        let wide = u64::from(self.word(rng)) * u64::from(range);
        let (high, low) = ((wide >> 32) as u32, wide as u32);
        if low <= range.wrapping_neg() {
            return high;
        }
        let next = ((u64::from(self.word(rng)) * u64::from(range)) >> 32) as u32;
        high + u32::from(low.checked_add(next).is_none())
    }
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
        assert_rare_picks_add_up(&sampler);
        let mut scratch = sampler.scratch();
        let mut totals = vec![0u64; table.area_count];
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        sampler.draw_rare(&mut rng, 1_000_000, &mut scratch, &mut totals);
        // 3 points for area 0, 2 for area 1, and every one of the draws counted.
        assert_eq!(totals[0] / 3 + totals[1] / 2, 1_000_000);
    }

    #[test]
    fn words_give_the_numbers_random_range_gives() {
        // Ranges near 2^32 land in the biased zone half the time, so the second
        // word (and its carry) is exercised as well as the common path.
        let ranges = [
            1,
            2,
            3,
            7,
            1000,
            223_080,
            1 << 31,
            (1 << 31) + 1,
            u32::MAX - 4,
            u32::MAX,
        ];
        for (seed, &range) in ranges.iter().enumerate() {
            let mut expected_rng = ChaCha8Rng::seed_from_u64(seed as u64);
            expected_rng.set_stream(5);
            let mut rng = expected_rng.clone();
            let mut words = Words::default();
            for _ in 0..5000 {
                let expected = expected_rng.random_range(0..range as usize);
                assert_eq!(
                    words.below(range, &mut rng) as usize,
                    expected,
                    "range {range}"
                );
            }
        }
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
