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
    /// One more than the largest item inserted.
    items: usize,
    /// Features with a posting, in the order they got their first.
    posted: Vec<u32>,
}

impl Index {
    pub(super) fn new(features: usize) -> Index {
        Index {
            postings: vec![Vec::new(); features],
            items: 0,
            posted: Vec::new(),
        }
    }

    /// Posts `row`'s strongest stems and trigrams (a word vector, dense,
    /// would post every row under every dimension, so it is left out).
    pub(super) fn insert(&mut self, item: u32, row: (&[u32], &[f32])) {
        let row = sparse_part(row);
        self.items = self.items.max(item as usize + 1);
        let mut positions = Vec::new();
        strongest(row, POSTED_FEATURES, &mut positions);
        for k in positions {
            let posting = &mut self.postings[row.0[k] as usize];
            if posting.is_empty() {
                self.posted.push(row.0[k]);
            }
            posting.push((item, row.1[k]));
        }
    }

    /// Appends the postings of `later` (items inserted after all of this
    /// index's) to this index's, leaving `later` empty: as if they had been
    /// inserted here.
    pub(super) fn append(&mut self, later: &mut Index) {
        for feature in later.posted.drain(..) {
            let from = &mut later.postings[feature as usize];
            let into = &mut self.postings[feature as usize];
            if into.is_empty() {
                self.posted.push(feature);
            }
            into.append(from);
        }
        self.items = self.items.max(later.items);
        later.items = 0;
    }

    /// [`Index::candidates`] with their estimates, best first. With `before`
    /// (an index of the items inserted before all of this one's), the
    /// candidates of this index that `before` with this index appended would
    /// give: each posting list here is read only as far as the cap leaves
    /// room after `before`'s list of the feature.
    pub(super) fn scored_candidates(
        &self,
        row: (&[u32], &[f32]),
        scratch: &mut Scratch,
        before: Option<&Index>,
    ) -> Vec<(u32, f32)> {
        self.search_scored(row, scratch, &[], VERIFIED, before)
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
        let found = self.search_scored(row, scratch, alive, n, None);
        found.into_iter().map(|(item, _)| item).collect()
    }

    fn search_scored(
        &self,
        row: (&[u32], &[f32]),
        scratch: &mut Scratch,
        alive: &[bool],
        n: usize,
        before: Option<&Index>,
    ) -> Vec<(u32, f32)> {
        let row = sparse_part(row);
        if scratch.score.len() < self.items {
            scratch.score.resize(self.items, 0.0);
        }
        let Scratch {
            score,
            touched,
            positions,
            keys,
            ..
        } = scratch;
        strongest(row, QUERY_FEATURES, positions);
        // Every item read is written at `len`, which moves on only for an
        // item read the first time: no branch the processor must guess.
        let most = positions.len() * POSTING_CAP;
        if touched.len() < most {
            touched.resize(most, 0);
        }
        let mut len = 0;
        let mut add = |item: u32, part: f32| {
            let slot = &mut score[item as usize];
            touched[len] = item;
            len += usize::from(*slot == 0.0);
            *slot += part;
        };
        for &k in positions.iter() {
            let w = row.1[k];
            let feature = row.0[k] as usize;
            let posting = &self.postings[feature];
            if alive.is_empty() {
                let cap =
                    POSTING_CAP - before.map_or(0, |b| b.postings[feature].len().min(POSTING_CAP));
                for &(item, v) in &posting[..posting.len().min(cap)] {
                    add(item, w * v);
                }
            } else {
                let posting = posting.iter().filter(|(item, _)| alive[*item as usize]);
                for &(item, v) in posting.take(POSTING_CAP) {
                    add(item, w * v);
                }
            }
        }
        keys.clear();
        keys.extend(
            touched[..len]
                .iter()
                .map(|&item| key(item, std::mem::take(&mut score[item as usize]))),
        );
        if keys.len() > n {
            keys.select_nth_unstable(n);
            keys.truncate(n);
        }
        keys.sort_unstable();
        keys.iter().map(|&k| unkey(k)).collect()
    }
}

/// An item and its estimate as one number that sorts as [`order`] does:
/// the estimate's bits made to sort as `f32::total_cmp` does, reversed, then
/// the item.
fn key(item: u32, estimate: f32) -> u64 {
    let bits = estimate.to_bits();
    let ordered = bits ^ (((bits as i32 >> 31) as u32) >> 1) ^ 0x8000_0000;
    (u64::from(!ordered) << 32) | u64::from(item)
}

/// The item and estimate of a [`key`].
fn unkey(key: u64) -> (u32, f32) {
    let signed = !((key >> 32) as u32) ^ 0x8000_0000;
    let bits = signed ^ (((signed as i32 >> 31) as u32) >> 1);
    (key as u32, f32::from_bits(bits))
}

/// Best estimate first; of equal estimates the earliest item.
pub(super) fn order(a: &(u32, f32), b: &(u32, f32)) -> std::cmp::Ordering {
    b.1.total_cmp(&a.1).then(a.0.cmp(&b.0))
}

#[derive(Default)]
pub(super) struct Scratch {
    score: Vec<f32>,
    touched: Vec<u32>,
    positions: Vec<usize>,
    keys: Vec<u64>,
    /// For a [`Spread`](super::super::features::Spread) of the searched row.
    pub(super) spread: Vec<f32>,
}

/// Positions of the `n` heaviest weights of a row (in no particular order) into
/// `positions`.
fn strongest(row: (&[u32], &[f32]), n: usize, positions: &mut Vec<usize>) {
    positions.clear();
    positions.extend(0..row.0.len());
    if positions.len() > n {
        positions.select_nth_unstable_by(n, |&a, &b| {
            row.1[b].total_cmp(&row.1[a]).then(row.0[a].cmp(&row.0[b]))
        });
        positions.truncate(n);
    }
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

    #[test]
    fn keys_sort_as_estimates_best_first_then_items_and_give_both_back() {
        let estimates = [
            0.0f32,
            1e-30,
            0.25,
            0.5,
            0.5000001,
            1.0,
            3.5,
            f32::MAX,
            -0.0,
            -1.0,
        ];
        let mut pairs: Vec<(u32, f32)> = Vec::new();
        for (i, &e) in estimates.iter().enumerate() {
            pairs.push((i as u32 * 7 % 5, e));
            pairs.push((u32::MAX - i as u32, e));
        }
        for a in &pairs {
            assert_eq!(unkey(key(a.0, a.1)).0, a.0);
            assert_eq!(unkey(key(a.0, a.1)).1.to_bits(), a.1.to_bits());
            for b in &pairs {
                assert_eq!(
                    key(a.0, a.1).cmp(&key(b.0, b.1)),
                    order(a, b),
                    "{a:?} {b:?}"
                );
            }
        }
    }

    #[test]
    fn a_later_index_appended_is_searched_as_one_index() {
        // Rows 0..600 share feature 1 (past the cap of one posting list),
        // later ones with more weight, and half of them feature 2 or 3: the
        // best estimates for feature 1 are the last the cap lets in.
        let rows: Vec<(Vec<u32>, Vec<f32>)> = (0..600u32)
            .map(|i| (vec![1, 2 + i % 2], vec![0.1 + i as f32 / 1000.0, 0.3]))
            .collect();
        let mut whole = Index::new(4);
        let (mut first, mut later) = (Index::new(4), Index::new(4));
        for (i, row) in rows.iter().enumerate() {
            whole.insert(i as u32, (&row.0, &row.1));
            let part = if i < 300 { &mut first } else { &mut later };
            part.insert(i as u32, (&row.0, &row.1));
        }
        let mut scratch = Scratch::default();
        for query in [(vec![1, 2], vec![0.6, 0.8]), (vec![3], vec![1.0])] {
            let query = (&query.0[..], &query.1[..]);
            let together = whole.scored_candidates(query, &mut scratch, None);
            let mut apart = first.scored_candidates(query, &mut scratch, None);
            apart.extend(later.scored_candidates(query, &mut scratch, Some(&first)));
            apart.sort_by(order);
            apart.truncate(VERIFIED);
            assert_eq!(apart, together);
        }
        first.append(&mut later);
        let query = ([1, 2], [0.6, 0.8]);
        assert_eq!(
            first.scored_candidates((&query.0, &query.1), &mut scratch, None),
            whole.scored_candidates((&query.0, &query.1), &mut scratch, None)
        );
    }
}
