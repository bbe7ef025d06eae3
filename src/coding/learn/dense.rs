//! Word vectors as features of the learned model: where the examples suit
//! them as they would suit grouping, each row is part stems and trigrams, part
//! the text's word vector less the examples' mean.

use super::super::text::Analysed;
use super::super::word_vectors::{Profile, WordVectors};
use super::LearningOptions;

/// Word vectors as features of a model: the table, how many of its
/// dimensions, the examples' mean vector and the share of a row they take.
#[derive(Debug, Clone)]
pub(super) struct Dense {
    table: &'static WordVectors,
    pub(super) dims: usize,
    mean: Vec<f32>,
    share: f32,
}

impl Dense {
    /// The dense part for `docs`, if `options` and the examples call for it.
    pub(super) fn for_examples(
        docs: &[Analysed],
        options: &LearningOptions,
        table: Option<&'static WordVectors>,
    ) -> Option<Dense> {
        let table = table.filter(|_| options.word_vectors > 0.0)?;
        let refs: Vec<&Analysed> = docs.iter().collect();
        let suits = Profile::of(&refs, &vec![1; refs.len()]).suits_word_vectors(
            options.word_vectors_max_words,
            options.word_vectors_min_english,
        );
        if !suits {
            return None;
        }
        let dims = table.dims();
        let mut dense = Dense {
            table,
            dims,
            mean: vec![0.0; dims],
            share: options.word_vectors.min(1.0),
        };
        let vectors: Vec<Vec<f32>> = docs.iter().filter_map(|d| dense.unit(d)).collect();
        for v in &vectors {
            dense.mean.iter_mut().zip(v).for_each(|(m, x)| *m += x);
        }
        let n = vectors.len().max(1) as f32;
        dense.mean.iter_mut().for_each(|m| *m /= n);
        Some(dense)
    }

    /// A text's word vector at unit length (`None`: the table knows no word).
    fn unit(&self, doc: &Analysed) -> Option<Vec<f32>> {
        let mut v = self.table.text_vector(doc, self.dims, |_| 1.0)?;
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        (norm > 0.0).then(|| {
            v.iter_mut().for_each(|x| *x /= norm);
            v
        })
    }

    /// `row` (unit length, features below `base`) with the text's word
    /// vector less the mean, at unit length, from feature `base` on: `1 -
    /// share` of the row's squared length the first part, `share` the second.
    pub(super) fn extend(
        &self,
        doc: &Analysed,
        base: u32,
        row: (Vec<u32>, Vec<f32>),
    ) -> (Vec<u32>, Vec<f32>) {
        let (mut ids, mut weights) = row;
        let Some(v) = self.unit(doc) else {
            return (ids, weights);
        };
        let mut v: Vec<f32> = v.iter().zip(&self.mean).map(|(x, m)| x - m).collect();
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm == 0.0 {
            return (ids, weights);
        }
        let (sparse, dense) = ((1.0 - self.share).sqrt(), self.share.sqrt() / norm);
        v.iter_mut().for_each(|x| *x *= dense);
        weights.iter_mut().for_each(|w| *w *= sparse);
        ids.extend((0..self.dims as u32).map(|d| base + d));
        weights.extend(v);
        (ids, weights)
    }
}
