//! Respondents grouped by identical answer pattern: the compact table the
//! bootstrap resamples (`bootstrap.rs`, `resample.rs`) for discovery and
//! checklist studies alike.

use super::discovery::{best_ranks, rank_points, DiscoveryInput};
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
    /// Groups discovery respondents by their best rank per area.
    pub fn from_discovery(input: &DiscoveryInput) -> Result<Self, StatsError> {
        if input.max_problems == 0 {
            return Err(StatsError::MaxProblemsZero);
        }
        let mut builder = PatternBuilder::default();
        let mut best = Vec::new();
        let mut key = Vec::new();
        for (i, mentions) in input.respondents.iter().enumerate() {
            best_ranks(input, i, mentions, &mut best)?;
            key.clear();
            key.extend(best.iter().map(|m| {
                let points = rank_points(input.max_problems, m.rank);
                pack(m.area as u32, points as u32)
            }));
            builder.add(&key);
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

/// `(area, points)` packed so that a pattern key sorts by area.
pub(crate) fn pack(area: u32, points: u32) -> u64 {
    (u64::from(area) << 32) | u64::from(points)
}

/// Collects respondents' pattern keys (packed `(area, points)`, sorted by area,
/// zero points left out) and counts each distinct one. Keys are hashed with
/// hashbrown's default (foldhash), several times faster than the standard
/// library's SipHash on a million short keys; `finish` sorts the patterns, so the
/// hash order never shows.
#[derive(Default)]
pub(crate) struct PatternBuilder {
    index: hashbrown::HashMap<Box<[u64]>, usize>,
    counts: Vec<u64>,
    n: u64,
}

impl PatternBuilder {
    pub fn add(&mut self, key: &[u64]) {
        self.n += 1;
        match self.index.get(key) {
            Some(&g) => self.counts[g] += 1,
            None => {
                self.index.insert(key.into(), self.counts.len());
                self.counts.push(1);
            }
        }
    }

    pub fn finish(self, area_count: usize, denominator: u64) -> PatternTable {
        let mut patterns: Vec<(Box<[u64]>, u64)> = self
            .index
            .into_iter()
            .map(|(key, g)| (key, self.counts[g]))
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
