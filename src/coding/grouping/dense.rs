//! Candidates found by the rows' word vectors alone.
//!
//! The inverted index (`index`) only ever offers texts that share a stem or a
//! trigram, so "card declined" never meets "payment refused" though their word
//! vectors say they are alike. In a study with word vectors, each search also
//! takes the rows whose word-vector part is most like the query's, found here;
//! the exact similarity of every candidate is then computed as before.
//!
//! The search is an inverted-file index: the vectors are cut into about
//! `sqrt(n)` cells by a few rounds of k-means (seeded with evenly spaced rows,
//! so the same rows give the same cells), and a query looks in the `PROBES`
//! cells whose centres are most like it. A small set is searched whole. Above
//! `MOST_ITEMS` rows no index is built (the search would cost more than the
//! rest of grouping, and so many texts share words with their neighbours
//! anyway), and searches find nothing, as in a study without word vectors.

use rayon::prelude::*;

use super::super::features::{Matrix, DENSE_BASE};

/// Sets of at most this many vectors are searched whole.
const WHOLE: usize = 2_048;
/// Cells looked in by each search.
const PROBES: usize = 4;
/// Rounds of k-means that place the cells' centres.
const ROUNDS: usize = 2;
/// No index over more vectors than this.
pub(super) const MOST_ITEMS: usize = 60_000;

/// Word vectors of some rows, cut into cells.
pub(super) struct DenseIndex {
    dims: usize,
    /// Items, cell by cell; `vectors` holds theirs in the same order.
    items: Vec<u32>,
    vectors: Vec<f32>,
    /// Cell `c` holds `items[starts[c]..starts[c + 1]]`.
    starts: Vec<usize>,
    /// Cell centres, `dims` each.
    centres: Vec<f32>,
}

/// The word-vector part of a row (empty when it has none).
pub(super) fn dense_of<'r>(row: (&[u32], &'r [f32])) -> &'r [f32] {
    let n = row.0.partition_point(|&id| id < DENSE_BASE);
    &row.1[n..]
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            lanes[k] += x[k] * y[k];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// The position of the centre in `centres` (`dims` each) most like `v`; the
/// first of equals.
fn nearest_centre(centres: &[f32], dims: usize, v: &[f32]) -> usize {
    let mut best = (0, f32::NEG_INFINITY);
    for (c, centre) in centres.chunks_exact(dims).enumerate() {
        let s = dot(centre, v);
        if s > best.1 {
            best = (c, s);
        }
    }
    best.0
}

impl DenseIndex {
    /// An index of the word vectors of `items` (rows of `matrix`); rows
    /// without one, or with one of another length than the first, are left
    /// out. Empty when there are none or more than `MOST_ITEMS`.
    pub(super) fn build(matrix: &Matrix, items: impl Iterator<Item = u32>) -> DenseIndex {
        let mut dims = 0;
        let mut kept = Vec::new();
        let mut vectors = Vec::new();
        for item in items {
            let v = dense_of(matrix.row(item as usize));
            if v.is_empty() || (dims != 0 && v.len() != dims) {
                continue;
            }
            dims = v.len();
            kept.push(item);
            vectors.extend_from_slice(v);
            if kept.len() > MOST_ITEMS {
                return DenseIndex::empty();
            }
        }
        if kept.is_empty() {
            return DenseIndex::empty();
        }
        let n = kept.len();
        if n <= WHOLE {
            return DenseIndex {
                dims,
                items: kept,
                vectors,
                starts: vec![0, n],
                centres: Vec::new(),
            };
        }
        let cells = (n as f64).sqrt().round() as usize;
        let mut centres: Vec<f32> = (0..cells)
            .flat_map(|c| {
                let i = c * n / cells;
                vectors[i * dims..(i + 1) * dims].iter().copied()
            })
            .collect();
        let mut cell_of = vec![0usize; n];
        for round in 0..=ROUNDS {
            cell_of = vectors
                .par_chunks_exact(dims)
                .map(|v| nearest_centre(&centres, dims, v))
                .collect();
            if round == ROUNDS {
                break;
            }
            // Each centre moves to the mean of its cell (sums in row order, so
            // the same rows always give the same centres); an empty cell's stays.
            let mut sums = vec![0.0f32; cells * dims];
            let mut sizes = vec![0u32; cells];
            for (v, &c) in vectors.chunks_exact(dims).zip(&cell_of) {
                sizes[c] += 1;
                for (s, x) in sums[c * dims..(c + 1) * dims].iter_mut().zip(v) {
                    *s += x;
                }
            }
            for c in (0..cells).filter(|&c| sizes[c] > 0) {
                for (centre, s) in centres[c * dims..(c + 1) * dims]
                    .iter_mut()
                    .zip(&sums[c * dims..(c + 1) * dims])
                {
                    *centre = s / sizes[c] as f32;
                }
            }
        }
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&i| (cell_of[i], i));
        let mut starts = vec![0usize; cells + 1];
        for &c in &cell_of {
            starts[c + 1] += 1;
        }
        for c in 0..cells {
            starts[c + 1] += starts[c];
        }
        DenseIndex {
            dims,
            items: order.iter().map(|&i| kept[i]).collect(),
            vectors: order
                .iter()
                .flat_map(|&i| vectors[i * dims..(i + 1) * dims].iter().copied())
                .collect(),
            starts,
            centres,
        }
    }

    fn empty() -> DenseIndex {
        DenseIndex {
            dims: 0,
            items: Vec::new(),
            vectors: Vec::new(),
            starts: vec![0],
            centres: Vec::new(),
        }
    }

    /// Whether searches can find anything.
    pub(super) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Up to `m` items whose word vectors are most like `query`'s (by dot
    /// product, among the cells looked in), in no particular order; ties go
    /// to the lower item. Nothing when `query` has no word vector.
    pub(super) fn nearest(&self, query: (&[u32], &[f32]), m: usize) -> Vec<u32> {
        let q = dense_of(query);
        if self.is_empty() || q.len() != self.dims || m == 0 {
            return Vec::new();
        }
        let cells = self.starts.len() - 1;
        let mut looked: Vec<usize> = (0..cells).collect();
        if cells > PROBES {
            let scores: Vec<f32> = self
                .centres
                .chunks_exact(self.dims)
                .map(|c| dot(c, q))
                .collect();
            looked.select_nth_unstable_by(PROBES - 1, |&a, &b| {
                scores[b].total_cmp(&scores[a]).then(a.cmp(&b))
            });
            looked.truncate(PROBES);
        }
        let mut scored: Vec<(f32, u32)> = Vec::new();
        for c in looked {
            let (from, to) = (self.starts[c], self.starts[c + 1]);
            scored.extend(
                self.vectors[from * self.dims..to * self.dims]
                    .chunks_exact(self.dims)
                    .zip(&self.items[from..to])
                    .map(|(v, &item)| (dot(v, q), item)),
            );
        }
        if m < scored.len() {
            scored.select_nth_unstable_by(m - 1, |a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            scored.truncate(m);
        }
        scored.into_iter().map(|p| p.1).collect()
    }
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    /// Rows of a stem or two and a word vector of `dims` dimensions near one
    /// of `topics` random directions: row `i` is near topic `i % topics`.
    fn rows(n: usize, dims: u32, topics: usize, seed: u64) -> Matrix {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let directions: Vec<Vec<f32>> = (0..topics)
            .map(|_| (0..dims).map(|_| rng.random_range(-1.0..1.0)).collect())
            .collect();
        let mut m = Matrix::new();
        for i in 0..n {
            let mut ids = vec![rng.random_range(0..50u32)];
            let mut ws = vec![0.5];
            for d in 0..dims {
                ids.push(DENSE_BASE + d);
                ws.push(directions[i % topics][d as usize] + rng.random_range(-0.3..0.3));
            }
            m.push(&ids, &ws);
        }
        m
    }

    fn exact(m: &Matrix, query: usize, k: usize) -> Vec<u32> {
        let q = dense_of(m.row(query));
        let mut all: Vec<(f32, u32)> = (0..m.rows())
            .map(|i| (dot(dense_of(m.row(i)), q), i as u32))
            .collect();
        all.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        all.into_iter().take(k).map(|p| p.1).collect()
    }

    #[test]
    fn a_small_set_is_searched_whole() {
        let m = rows(500, 16, 7, 1);
        let index = DenseIndex::build(&m, 0..500);
        for q in [0, 13, 250, 499] {
            let mut got = index.nearest(m.row(q), 10);
            got.sort_unstable();
            let mut want = exact(&m, q, 10);
            want.sort_unstable();
            assert_eq!(got, want, "query {q}");
        }
    }

    #[test]
    fn cells_find_most_of_the_nearest_rows() {
        let m = rows(12_000, 32, 150, 2);
        let index = DenseIndex::build(&m, 0..12_000);
        assert!(index.starts.len() > PROBES + 1, "cut into cells");
        let (mut found, mut wanted) = (0, 0);
        for q in (0..12_000).step_by(97) {
            let got = index.nearest(m.row(q), 20);
            assert_eq!(got.len(), 20);
            let want = exact(&m, q, 20);
            found += want.iter().filter(|w| got.contains(w)).count();
            wanted += want.len();
        }
        let recall = found as f64 / wanted as f64;
        assert!(recall > 0.9, "recall {recall}");
    }

    #[test]
    fn the_same_rows_give_the_same_answers() {
        let m = rows(5_000, 16, 40, 3);
        let a = DenseIndex::build(&m, 0..5_000);
        let b = DenseIndex::build(&m, 0..5_000);
        assert_eq!(a.items, b.items);
        for q in [1, 777, 4_999] {
            assert_eq!(a.nearest(m.row(q), 15), b.nearest(m.row(q), 15));
        }
    }

    #[test]
    fn rows_without_word_vectors_find_nothing() {
        let mut m = Matrix::new();
        m.push(&[1, 2], &[0.6, 0.8]);
        m.push(&[2, 3], &[0.6, 0.8]);
        let index = DenseIndex::build(&m, 0..2);
        assert!(index.is_empty());
        assert!(index.nearest(m.row(0), 5).is_empty());
        let with = rows(10, 8, 2, 4);
        let index = DenseIndex::build(&with, 0..10);
        assert!(index.nearest(m.row(0), 5).is_empty(), "a query without one");
    }

    #[test]
    fn too_many_rows_build_no_index() {
        let m = rows(MOST_ITEMS + 1, 2, 3, 5);
        assert!(DenseIndex::build(&m, 0..m.rows() as u32).is_empty());
    }
}
