//! The flat store of feature vectors (`Matrix`) and their dot product: sparse
//! rows of stems and trigrams, each optionally ending in a dense word vector.

/// Unit-length sparse vectors, one row per text, in one flat store.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Matrix {
    offsets: Vec<usize>,
    ids: Vec<u32>,
    weights: Vec<f32>,
}

impl Matrix {
    pub(super) fn with_rows(rows: Vec<(Vec<u32>, Vec<f32>)>) -> Matrix {
        let total = rows.iter().map(|r| r.0.len()).sum();
        let mut m = Matrix {
            offsets: Vec::with_capacity(rows.len() + 1),
            ids: Vec::with_capacity(total),
            weights: Vec::with_capacity(total),
        };
        m.offsets.push(0);
        for (ids, weights) in rows {
            m.push(&ids, &weights);
        }
        m
    }

    /// An empty matrix to push rows into.
    pub fn new() -> Matrix {
        Matrix {
            offsets: vec![0],
            ids: Vec::new(),
            weights: Vec::new(),
        }
    }

    /// An empty matrix with room for `rows` rows of `entries` features in all.
    pub fn with_capacity(rows: usize, entries: usize) -> Matrix {
        let mut offsets = Vec::with_capacity(rows + 1);
        offsets.push(0);
        Matrix {
            offsets,
            ids: Vec::with_capacity(entries),
            weights: Vec::with_capacity(entries),
        }
    }

    /// Features in all rows.
    pub fn entries(&self) -> usize {
        self.ids.len()
    }

    /// Appends a row; `ids` must be ascending.
    pub fn push(&mut self, ids: &[u32], weights: &[f32]) {
        debug_assert!(ids.windows(2).all(|w| w[0] < w[1]));
        if self.offsets.is_empty() {
            self.offsets.push(0);
        }
        self.ids.extend_from_slice(ids);
        self.weights.extend_from_slice(weights);
        self.offsets.push(self.ids.len());
    }

    pub fn rows(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// Row `i`: ascending feature ids and their weights.
    pub fn row(&self, i: usize) -> (&[u32], &[f32]) {
        let (a, b) = (self.offsets[i], self.offsets[i + 1]);
        (&self.ids[a..b], &self.weights[a..b])
    }

    /// Dot product of row `i` with row `j` of `other`: their cosine similarity.
    pub fn dot(&self, i: usize, other: &Matrix, j: usize) -> f32 {
        let (a, b) = (self.row(i), other.row(j));
        dot(a, b)
    }
}

/// Dot product of two sparse rows with ascending ids. Where both rows end in
/// a word vector (every dimension present, from `DENSE_BASE` up) that part
/// is a plain dot product of the two, added after the stems and trigrams.
pub fn dot(a: (&[u32], &[f32]), b: (&[u32], &[f32])) -> f32 {
    let (sa, sb) = (sparse_part(a), sparse_part(b));
    sparse_dot(sa, sb) + dense_tails(a, sa.0.len(), b, sb.0.len())
}

/// The word-vector part of a dot product: of the rows' ends after their
/// first `from_a` and `from_b` features.
fn dense_tails(a: (&[u32], &[f32]), from_a: usize, b: (&[u32], &[f32]), from_b: usize) -> f32 {
    let (da, db) = (&a.0[from_a..], &b.0[from_b..]);
    match (da.first(), db.first()) {
        (Some(x), Some(y)) if x == y && da.len() == db.len() => {
            dense_dot(&a.1[from_a..], &b.1[from_b..])
        }
        // Not made by `word_vectors::mix`, which gives every row all its
        // dimensions: their common dimensions one by one.
        (Some(_), Some(_)) => sparse_dot((da, &a.1[from_a..]), (db, &b.1[from_b..])),
        _ => 0.0,
    }
}

/// One row spread out by feature id, for its dot product with many rows:
/// each is then a pass over the other row's features, with no merging of
/// ids. The sums are [`dot`]'s, added in the same order.
pub struct Spread<'s, 'r> {
    weights: &'s mut Vec<f32>,
    row: (&'r [u32], &'r [f32]),
    sparse: usize,
}

impl<'s, 'r> Spread<'s, 'r> {
    /// Spreads `row` into `buffer` (all zeros, as a `Spread` leaves it).
    pub fn new(buffer: &'s mut Vec<f32>, row: (&'r [u32], &'r [f32])) -> Spread<'s, 'r> {
        let sparse = sparse_part(row);
        if let Some(&last) = sparse.0.last() {
            if buffer.len() <= last as usize {
                buffer.resize(last as usize + 1, 0.0);
            }
        }
        for (&id, &w) in sparse.0.iter().zip(sparse.1) {
            buffer[id as usize] = w;
        }
        Spread {
            weights: buffer,
            row,
            sparse: sparse.0.len(),
        }
    }

    /// The dot product of the spread row with `other`, as `dot` gives it.
    pub fn dot(&self, other: (&[u32], &[f32])) -> f32 {
        let sparse = sparse_part(other);
        let mut sum = 0.0f32;
        for (&id, &w) in sparse.0.iter().zip(sparse.1) {
            // 0.0 for a feature the spread row lacks leaves the sum as it was.
            sum += self.weights.get(id as usize).map_or(0.0, |&q| q * w);
        }
        sum + dense_tails(self.row, self.sparse, other, sparse.0.len())
    }
}

impl Drop for Spread<'_, '_> {
    fn drop(&mut self) {
        for &id in &self.row.0[..self.sparse] {
            self.weights[id as usize] = 0.0;
        }
    }
}

/// The stem and trigram part of a dot product: the rows' common ids, found
/// by walking both without a branch on which one is behind (the processor
/// cannot predict it), in the order of the ids.
fn sparse_dot(a: (&[u32], &[f32]), b: (&[u32], &[f32])) -> f32 {
    let (mut i, mut j, mut sum) = (0, 0, 0.0f32);
    while i < a.0.len() && j < b.0.len() {
        let (x, y) = (a.0[i], b.0[j]);
        // Adding 0.0 where the ids differ leaves the sum as it was.
        sum += if x == y { a.1[i] * b.1[j] } else { 0.0 };
        i += usize::from(x <= y);
        j += usize::from(x >= y);
    }
    sum
}

/// Dot product of two dense vectors of one length, in eight lanes (which the
/// compiler turns into SIMD; a single running sum it may not reorder).
fn dense_dot(a: &[f32], b: &[f32]) -> f32 {
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

/// Feature ids from here up are the dimensions of a text's word vector (see
/// `word_vectors::mix`); stem and trigram ids are all below it, so
/// in a row (ids ascending) the word vector comes last.
pub const DENSE_BASE: u32 = 0xFFFF_0000;

/// The stem and trigram part of a row, without its word vector.
pub fn sparse_part<'r>(row: (&'r [u32], &'r [f32])) -> (&'r [u32], &'r [f32]) {
    let n = match row.0.last() {
        // A word vector has every dimension up to its last: found without a
        // search (this is in every dot product).
        Some(&last) if last >= DENSE_BASE => {
            let n = row.0.len().saturating_sub((last - DENSE_BASE) as usize + 1);
            if row.0[n] == DENSE_BASE {
                n
            } else {
                row.0.partition_point(|&id| id < DENSE_BASE)
            }
        }
        _ => row.0.len(),
    };
    (&row.0[..n], &row.1[..n])
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    /// A row of a few stems and trigrams (ids below 60, so rows share some),
    /// ending in a word vector of `dims` dimensions when `dims` > 0.
    fn random_row(rng: &mut ChaCha8Rng, dims: u32) -> (Vec<u32>, Vec<f32>) {
        let mut sparse: BTreeMap<u32, f32> = BTreeMap::new();
        for _ in 0..rng.random_range(0..25) {
            sparse.insert(rng.random_range(0..60), rng.random_range(0.01..1.0));
        }
        let mut ids: Vec<u32> = sparse.keys().copied().collect();
        let mut weights: Vec<f32> = sparse.values().copied().collect();
        for d in 0..dims {
            ids.push(DENSE_BASE + d);
            weights.push(rng.random_range(-1.0..1.0));
        }
        (ids, weights)
    }

    /// The dot product by looking every id of `a` up in `b`, in f64.
    fn looked_up(a: &(Vec<u32>, Vec<f32>), b: &(Vec<u32>, Vec<f32>)) -> f64 {
        let b: BTreeMap<u32, f32> = b.0.iter().copied().zip(b.1.iter().copied()).collect();
        a.0.iter()
            .zip(&a.1)
            .filter_map(|(id, &w)| b.get(id).map(|&v| f64::from(w) * f64::from(v)))
            .sum()
    }

    #[test]
    fn dot_products_are_the_sum_over_shared_features_with_or_without_word_vectors() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for round in 0..2000 {
            // Word vectors of 64 dimensions on both, one or neither side,
            // and now and then of different lengths.
            let dims_a = [0, 64, 64, 13][round % 4];
            let dims_b = [0, 64, 0, 64][(round / 4) % 4];
            let (a, b) = (random_row(&mut rng, dims_a), random_row(&mut rng, dims_b));
            let expected = looked_up(&a, &b);
            let got = dot((&a.0, &a.1), (&b.0, &b.1));
            assert!(
                (f64::from(got) - expected).abs() < 1e-4,
                "round {round}: {got} against {expected}"
            );
            let mut buffer = Vec::new();
            let spread = Spread::new(&mut buffer, (&a.0, &a.1));
            let by_spread = spread.dot((&b.0, &b.1));
            assert_eq!(by_spread.to_bits(), got.to_bits(), "round {round}");
            drop(spread);
            assert!(
                buffer.iter().all(|&w| w == 0.0),
                "a spread leaves its buffer clear"
            );
        }
    }
}
