//! Respondents grouped by identical answer pattern: the compact table the
//! bootstrap resamples (`bootstrap.rs`, `resample.rs`) for discovery and
//! checklist studies alike.

use rayon::prelude::*;

use super::discovery::{best_ranks, rank_points, DiscoveryInput, DiscoveryTally};
use super::error::StatsError;

/// Respondents grouped by identical answer pattern. A pattern is a list of
/// `(area, points)`; an area's score is the sum of its points over respondents
/// divided by `denominator * n`.
pub(crate) struct PatternTable {
    pub area_count: usize,
    pub n: u64,
    pub denominator: u64,
    /// Entries of pattern `g` are `entries[offsets[g]..offsets[g + 1]]`.
    offsets: Vec<usize>,
    entries: Vec<(u32, u32)>,
    /// Respondents with pattern `g`, most common pattern first.
    counts: Vec<u64>,
}

impl PatternTable {
    /// Tallies the respondents of a table of discovery answers (made by
    /// [`PatternTable::from_discovery`] with this `max_problems`): the same sums
    /// as [`DiscoveryTally::from_input`] gives, from one pass per pattern.
    pub fn discovery_tally(&self, max_problems: u32) -> DiscoveryTally {
        let mut tally = DiscoveryTally::new(max_problems, self.area_count);
        tally.n = self.n;
        let first = u64::from(max_problems);
        for (g, &count) in self.counts().iter().enumerate() {
            for &(area, points) in self.pattern(g) {
                let (a, points) = (area as usize, u64::from(points));
                tally.k[a] += count;
                tally.points[a] += count * points;
                tally.points_sq[a] += u128::from(count) * u128::from(points * points);
                // Rank 1, and only rank 1, earns `M` points.
                if points == first {
                    tally.first_choice[a] += count;
                }
            }
        }
        tally
    }

    /// Groups discovery respondents by their best rank per area. Blocks of
    /// respondents are grouped on threads of their own and then merged; the
    /// table, and the first invalid respondent reported, are those of grouping
    /// them one after the other.
    pub fn from_discovery(input: &DiscoveryInput) -> Result<Self, StatsError> {
        if input.max_problems == 0 {
            return Err(StatsError::MaxProblemsZero);
        }
        let size = (input.respondents.len())
            .div_ceil(rayon::current_num_threads())
            .max(GROUPING_BLOCK);
        let respondents = input.respondents.len();
        let blocks: Vec<Result<PatternBuilder, StatsError>> = (0..respondents.div_ceil(size))
            .into_par_iter()
            .map(|b| discovery_block(input, b * size..((b + 1) * size).min(respondents)))
            .collect();
        let mut builder = PatternBuilder::default();
        for block in blocks {
            builder.merge(block?);
        }
        Ok(builder.finish(input.area_count, u64::from(input.max_problems)))
    }

    /// Point totals per area over all respondents: the point estimate's numerators.
    pub fn totals(&self) -> Vec<u64> {
        let mut totals = vec![0u64; self.area_count];
        for (g, &count) in self.counts.iter().enumerate() {
            for &(area, points) in self.pattern(g) {
                totals[area as usize] += count * u64::from(points);
            }
        }
        totals
    }

    /// The `(area, points)` entries of pattern `g`.
    pub(super) fn pattern(&self, g: usize) -> &[(u32, u32)] {
        &self.entries[self.offsets[g]..self.offsets[g + 1]]
    }

    /// Respondents with each pattern, most common pattern first.
    pub(super) fn counts(&self) -> &[u64] {
        &self.counts
    }
}

/// Respondents grouped on one thread at least by [`PatternTable::from_discovery`]
/// (each thread takes an equal block, so that only one table per thread is held
/// before they are merged).
const GROUPING_BLOCK: usize = 1 << 16;

/// The patterns of `block`, the respondents of `input` from index `first` on.
fn discovery_block(
    input: &DiscoveryInput,
    block: std::ops::Range<usize>,
) -> Result<PatternBuilder, StatsError> {
    let mut builder = PatternBuilder::default();
    let mut best = Vec::new();
    let mut key = Vec::new();
    for i in block {
        best_ranks(input, i, input.respondents.get(i), &mut best)?;
        key.clear();
        key.extend(best.iter().map(|m| {
            let points = rank_points(input.max_problems, m.rank);
            pack(m.area as u32, points as u32)
        }));
        builder.add(&key);
    }
    Ok(builder)
}

/// `(area, points)` packed so that a pattern key sorts by area.
pub(crate) fn pack(area: u32, points: u32) -> u64 {
    (u64::from(area) << 32) | u64::from(points)
}

/// Collects respondents' pattern keys (packed `(area, points)`, sorted by area,
/// zero points left out) and counts each distinct one. Keys are hashed with
/// hashbrown's default (foldhash), several times faster than the standard
/// library's SipHash on a million short keys; `finish` sorts the patterns, so the
/// hash order never shows. The usual key (at most five entries of an area below
/// 65,536 with 1 to 255 points) is held as one `u128` ([`compact`]), looked up
/// without following a pointer; others as a boxed slice.
#[derive(Default)]
pub(crate) struct PatternBuilder {
    compact: hashbrown::HashMap<u128, usize>,
    index: hashbrown::HashMap<Box<[u64]>, usize>,
    counts: Vec<u64>,
    n: u64,
}

impl PatternBuilder {
    pub fn add(&mut self, key: &[u64]) {
        self.n += 1;
        match compact(key) {
            Some(small) => self.count_compact(small, 1),
            None => self.count_boxed(key, 1),
        }
    }

    /// Adds the respondents `other` has counted.
    fn merge(&mut self, other: PatternBuilder) {
        if self.n == 0 {
            *self = other;
            return;
        }
        self.n += other.n;
        for (small, g) in other.compact {
            self.count_compact(small, other.counts[g]);
        }
        for (key, g) in other.index {
            self.count_boxed(&key, other.counts[g]);
        }
    }

    fn count_compact(&mut self, small: u128, times: u64) {
        let next = self.counts.len();
        let g = *self.compact.entry(small).or_insert(next);
        self.count(g, times);
    }

    fn count_boxed(&mut self, key: &[u64], times: u64) {
        let next = self.counts.len();
        let g = match self.index.get(key) {
            Some(&g) => g,
            None => *self.index.entry(key.into()).or_insert(next),
        };
        self.count(g, times);
    }

    /// Counts `times` more respondents with pattern `g` (a new one if it is
    /// `counts.len()`).
    fn count(&mut self, g: usize, times: u64) {
        if g == self.counts.len() {
            self.counts.push(times);
        } else {
            self.counts[g] += times;
        }
    }

    pub fn finish(self, area_count: usize, denominator: u64) -> PatternTable {
        let counts = &self.counts;
        let mut patterns: Vec<(Box<[u64]>, u64)> = self
            .compact
            .into_iter()
            .map(|(small, g)| (expand(small), counts[g]))
            .chain(self.index.into_iter().map(|(key, g)| (key, counts[g])))
            .collect();
        // A fixed order (most common first, then by key) makes the draws independent
        // of the order in which respondents were given.
        patterns.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let mut offsets = Vec::with_capacity(patterns.len() + 1);
        let mut entries = Vec::new();
        let mut counts = Vec::with_capacity(patterns.len());
        offsets.push(0);
        for (key, count) in patterns {
            entries.extend(key.iter().map(|&e| ((e >> 32) as u32, e as u32)));
            offsets.push(entries.len());
            counts.push(count);
        }
        PatternTable {
            area_count,
            n: self.n,
            denominator,
            offsets,
            entries,
            counts,
        }
    }
}

/// Bits of one entry of a compact key: 16 of area, 8 of points.
const COMPACT_BITS: u32 = 24;
/// Entries of a compact key at most.
const COMPACT_ENTRIES: usize = 5;

/// `key` in one `u128` when it fits: each entry in 24 bits (area above points),
/// the first entry lowest. No entry is zero (points are at least 1), so the
/// zero bits above the last entry tell where the key ends.
fn compact(key: &[u64]) -> Option<u128> {
    if key.len() > COMPACT_ENTRIES {
        return None;
    }
    let mut small = 0u128;
    for (i, &e) in key.iter().enumerate() {
        let (area, points) = (e >> 32, e & 0xffff_ffff);
        if area >= 1 << 16 || points == 0 || points > 0xff {
            return None;
        }
        small |= u128::from((area << 8) | points) << (COMPACT_BITS * i as u32);
    }
    Some(small)
}

/// The key [`compact`] made `small` of.
fn expand(mut small: u128) -> Box<[u64]> {
    let mut key = Vec::with_capacity(COMPACT_ENTRIES);
    while small != 0 {
        let entry = (small & ((1 << COMPACT_BITS) - 1)) as u64;
        key.push(pack((entry >> 8) as u32, (entry & 0xff) as u32));
        small >>= COMPACT_BITS;
    }
    key.into_boxed_slice()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_keys_come_back_as_they_went_in() {
        let keys: [&[u64]; 5] = [
            &[],
            &[pack(0, 1)],
            &[
                pack(0, 5),
                pack(3, 1),
                pack(49, 2),
                pack(50, 255),
                pack(65_535, 4),
            ],
            &[pack(7, 3), pack(9, 1)],
            &[pack(1, 1), pack(2, 1), pack(3, 1), pack(4, 1)],
        ];
        for key in keys {
            let small = compact(key).expect("fits");
            assert_eq!(&*expand(small), key);
        }
    }

    #[test]
    fn keys_that_do_not_fit_are_kept_whole() {
        let six: Vec<u64> = (0..6).map(|a| pack(a, 1)).collect();
        for key in [&six[..], &[pack(65_536, 1)], &[pack(2, 256)], &[pack(2, 0)]] {
            assert_eq!(compact(key), None);
        }
        // Both kinds in one table: counted apart, ordered together by count then key.
        let mut builder = PatternBuilder::default();
        for key in [&six[..], &[pack(1, 2)], &six[..], &[pack(1, 2)], &six[..]] {
            builder.add(key);
        }
        builder.add(&[pack(0, 300)]);
        let table = builder.finish(6, 5);
        assert_eq!(table.counts(), &[3, 2, 1]);
        assert_eq!(table.pattern(0).len(), 6);
        assert_eq!(table.pattern(1), &[(1, 2)]);
        assert_eq!(table.pattern(2), &[(0, 300)]);
        assert_eq!(table.n, 6);
    }
}
