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

/// Dot product of two sparse rows with ascending ids. Where both rows reach
/// their word vectors (every dimension present, from `DENSE_BASE` up) the rest
/// is a plain dot product of the two; the rows are read front to back once.
pub fn dot(a: (&[u32], &[f32]), b: (&[u32], &[f32])) -> f32 {
    let (mut i, mut j, mut sum) = (0, 0, 0.0f32);
    while i < a.0.len() && j < b.0.len() {
        let (x, y) = (a.0[i], b.0[j]);
        if x < y {
            i += 1;
        } else if x > y {
            j += 1;
        } else if x >= DENSE_BASE {
            return sum + dense_dot(&a.1[i..], &b.1[j..]);
        } else {
            sum += a.1[i] * b.1[j];
            i += 1;
            j += 1;
        }
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
