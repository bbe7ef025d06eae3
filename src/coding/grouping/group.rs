//! A group of docs while grouping: its truncated centroid sums and members.

use super::super::features::{FnvMap, Matrix, DENSE_BASE};

/// Features kept in a group centroid.
pub(super) const CENTROID_FEATURES: usize = 96;

/// A group of docs while grouping.
#[derive(Debug, Clone)]
pub(super) struct Group {
    /// Sum of the members' vectors weighted by mention count, truncated.
    pub(super) ids: Vec<u32>,
    pub(super) sums: Vec<f32>,
    /// Mentions in the group.
    pub(super) size: u64,
    /// Position of its first leader in the gather order: the tie-breaker.
    pub(super) rank: usize,
    pub(super) members: Vec<u32>,
}

impl Group {
    pub(super) fn centroid(&self) -> (Vec<u32>, Vec<f32>) {
        let norm = self.sums.iter().map(|w| w * w).sum::<f32>().sqrt();
        let scale = if norm > 0.0 { 1.0 / norm } else { 0.0 };
        (
            self.ids.clone(),
            self.sums.iter().map(|w| w * scale).collect(),
        )
    }

    pub(super) fn absorb(&mut self, other: Group) {
        let mut pairs: Vec<(u32, f32)> = Vec::with_capacity(self.ids.len() + other.ids.len());
        let (mut i, mut j) = (0, 0);
        while i < self.ids.len() || j < other.ids.len() {
            let next = match (self.ids.get(i), other.ids.get(j)) {
                (Some(a), Some(b)) if a == b => {
                    i += 1;
                    j += 1;
                    (*a, self.sums[i - 1] + other.sums[j - 1])
                }
                (Some(a), Some(b)) if a < b => {
                    i += 1;
                    (*a, self.sums[i - 1])
                }
                (Some(a), None) => {
                    i += 1;
                    (*a, self.sums[i - 1])
                }
                (_, Some(b)) => {
                    j += 1;
                    (*b, other.sums[j - 1])
                }
                (None, None) => break,
            };
            pairs.push(next);
        }
        let (ids, sums) = truncate(pairs);
        self.ids = ids;
        self.sums = sums;
        self.size += other.size;
        self.rank = self.rank.min(other.rank);
        self.members.extend(other.members);
    }
}

/// Keeps the `CENTROID_FEATURES` heaviest stems and trigrams and the whole
/// word vector, if any; `pairs` and the result have ids ascending.
fn truncate(mut pairs: Vec<(u32, f32)>) -> (Vec<u32>, Vec<f32>) {
    let sparse = pairs.partition_point(|p| p.0 < DENSE_BASE);
    if sparse > CENTROID_FEATURES {
        let dense = pairs.split_off(sparse);
        pairs.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        pairs.truncate(CENTROID_FEATURES);
        pairs.sort_by_key(|p| p.0);
        pairs.extend(dense);
    }
    pairs.into_iter().unzip()
}

/// The count-weighted sum of some docs' vectors, truncated, and their mentions.
pub(super) fn summed(
    matrix: &Matrix,
    counts: &[u32],
    members: &[u32],
) -> (Vec<u32>, Vec<f32>, u64) {
    let mut sums: FnvMap<u32, f32> = FnvMap::default();
    let mut size = 0u64;
    for &doc in members {
        let c = counts[doc as usize];
        size += u64::from(c);
        let (ids, ws) = matrix.row(doc as usize);
        for (id, w) in ids.iter().zip(ws) {
            *sums.entry(*id).or_insert(0.0) += w * c as f32;
        }
    }
    let mut pairs: Vec<(u32, f32)> = sums.into_iter().collect();
    pairs.sort_by_key(|p| p.0);
    let (ids, sums) = truncate(pairs);
    (ids, sums, size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_centroid_keeps_its_heaviest_words_and_its_whole_word_vector() {
        let mut pairs: Vec<(u32, f32)> = (0..200).map(|id| (id, id as f32)).collect();
        pairs.extend((0..3).map(|d| (DENSE_BASE + d, -0.5)));
        let (ids, weights) = truncate(pairs);
        assert_eq!(ids.len(), CENTROID_FEATURES + 3);
        assert_eq!(
            ids[0],
            200 - CENTROID_FEATURES as u32,
            "the lightest words go"
        );
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(&weights[CENTROID_FEATURES..], [-0.5; 3]);
    }
}
