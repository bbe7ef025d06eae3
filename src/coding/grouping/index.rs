//! The inverted index over rows' strongest features through which every pass
//! finds candidates without comparing all pairs.

use super::super::features::sparse_part;

/// Features of a row used to look up candidates, and posted for others to find.
pub(super) const QUERY_FEATURES: usize = 12;
pub(super) const POSTED_FEATURES: usize = 16;
/// Candidates per posting list looked at: the earliest, i.e. most frequent, ones.
pub(super) const POSTING_CAP: usize = 512;
/// Candidates whose exact cosine is computed after the index's estimate.
pub(super) const VERIFIED: usize = 6;

/// Inverted index: feature -> (item, weight) for the items' strongest features.
pub(super) struct Index {
    postings: Vec<Vec<(u32, f32)>>,
}

impl Index {
    pub(super) fn new(features: usize) -> Index {
        Index {
            postings: vec![Vec::new(); features],
        }
    }

    /// Posts `row`'s strongest stems and trigrams (a word vector, dense,
    /// would post every row under every dimension, so it is left out).
    pub(super) fn insert(&mut self, item: u32, row: (&[u32], &[f32])) {
        let row = sparse_part(row);
        for k in strongest(row, POSTED_FEATURES) {
            self.postings[row.0[k] as usize].push((item, row.1[k]));
        }
    }

    /// Items sharing strong features with `row`, best estimated first, at most
    /// `VERIFIED` of them.
    pub(super) fn candidates(&self, row: (&[u32], &[f32]), scratch: &mut Scratch) -> Vec<u32> {
        self.candidates_alive(row, scratch, &[])
    }

    /// Up to `n` items sharing strong features with `row`, best estimated first.
    pub(super) fn nearest(
        &self,
        row: (&[u32], &[f32]),
        scratch: &mut Scratch,
        n: usize,
    ) -> Vec<u32> {
        self.search(row, scratch, &[], n)
    }

    /// `candidates` among the items `alive` marks (all when `alive` is empty).
    pub(super) fn candidates_alive(
        &self,
        row: (&[u32], &[f32]),
        scratch: &mut Scratch,
        alive: &[bool],
    ) -> Vec<u32> {
        self.search(row, scratch, alive, VERIFIED)
    }

    fn search(
        &self,
        row: (&[u32], &[f32]),
        scratch: &mut Scratch,
        alive: &[bool],
        n: usize,
    ) -> Vec<u32> {
        let row = sparse_part(row);
        for k in strongest(row, QUERY_FEATURES) {
            let w = row.1[k];
            let posting = self.postings[row.0[k] as usize]
                .iter()
                .filter(|(item, _)| alive.is_empty() || alive[*item as usize]);
            for &(item, v) in posting.take(POSTING_CAP) {
                let slot = item as usize;
                if slot >= scratch.score.len() {
                    scratch.score.resize(slot + 1, 0.0);
                }
                if scratch.score[slot] == 0.0 {
                    scratch.touched.push(item);
                }
                scratch.score[slot] += w * v;
            }
        }
        let mut found: Vec<(u32, f32)> = scratch
            .touched
            .drain(..)
            .map(|item| (item, std::mem::take(&mut scratch.score[item as usize])))
            .collect();
        let order = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
        if found.len() > n {
            found.select_nth_unstable_by(n, order);
            found.truncate(n);
        }
        found.sort_unstable_by(order);
        found.into_iter().map(|(item, _)| item).collect()
    }
}

#[derive(Default)]
pub(super) struct Scratch {
    score: Vec<f32>,
    touched: Vec<u32>,
}

/// Positions of the `n` heaviest weights of a row, heaviest first.
fn strongest(row: (&[u32], &[f32]), n: usize) -> Vec<usize> {
    let mut positions: Vec<usize> = (0..row.0.len()).collect();
    if positions.len() > n {
        positions.select_nth_unstable_by(n, |&a, &b| {
            row.1[b].total_cmp(&row.1[a]).then(row.0[a].cmp(&row.0[b]))
        });
        positions.truncate(n);
    }
    positions
}

#[cfg(test)]
mod tests {
    use super::super::super::features::DENSE_BASE;
    use super::*;

    #[test]
    fn rows_are_found_by_their_words_not_by_their_word_vectors() {
        let dense = [DENSE_BASE, DENSE_BASE + 1];
        let mut index = Index::new(10);
        index.insert(0, (&[1, dense[0], dense[1]], &[0.6, 0.6, 0.5]));
        index.insert(1, (&[2, dense[0], dense[1]], &[0.6, 0.6, 0.5]));
        let mut scratch = Scratch::default();
        let query = ([1, dense[0], dense[1]], [0.6, 0.6, 0.5]);
        assert_eq!(index.nearest((&query.0, &query.1), &mut scratch, 5), [0]);
    }
}
