//! Words in context, learned from the study's own texts: two stems are alike
//! when they occur beside the same other stems ("refund" and "money back").
//! Each stem's contexts are the stems it shares texts with, weighted by
//! positive pointwise mutual information (PPMI); a text's context block is the
//! sum of its stems' strongest contexts. Mixed into a text's vector, it lets
//! wordings that share no word but the company they keep meet. Pure Rust,
//! nothing shipped or downloaded.

use rayon::prelude::*;

use super::features::{FnvMap, Matrix, Vectors};

/// Contexts kept per stem (the strongest by PPMI).
const CONTEXTS: usize = 20;

/// Exponent smoothing the context distribution (the usual 0.75): rare
/// contexts otherwise get inflated PPMI.
const SMOOTHING: f64 = 0.75;

/// `vectors` with a context block: each row is `1 - share` (of its squared
/// length) its own features and `share` its stems' contexts, whose ids follow
/// the existing ones. `counts[i]` is how many mentions row `i` stands for.
pub(crate) fn with_contexts(vectors: &Vectors, counts: &[u32], share: f32) -> Vectors {
    let stems = stem_rows(vectors);
    let contexts = strongest_contexts(&stems, counts);
    let own = (1.0 - share.clamp(0.0, 1.0)).sqrt();
    let mixed = share.clamp(0.0, 1.0).sqrt();
    let offset = vectors.features as u32;
    let rows: Vec<(Vec<u32>, Vec<f32>)> = (0..vectors.matrix.rows())
        .into_par_iter()
        .map(|i| {
            let (ids, ws) = vectors.matrix.row(i);
            let mut sum: FnvMap<u32, f32> = FnvMap::default();
            for &(stem, w) in &stems[i] {
                for &(c, ppmi) in contexts.get(&stem).map_or(&[][..], Vec::as_slice) {
                    *sum.entry(c).or_insert(0.0) += w * ppmi;
                }
            }
            let norm = sum.values().map(|v| v * v).sum::<f32>().sqrt();
            let scale = if norm > 0.0 { own } else { 1.0 };
            let mut out: Vec<(u32, f32)> = ids
                .iter()
                .zip(ws)
                .map(|(&id, &w)| (id, w * scale))
                .collect();
            if norm > 0.0 {
                let mut extra: Vec<(u32, f32)> = sum
                    .into_iter()
                    .map(|(c, v)| (offset + c, v * mixed / norm))
                    .collect();
                extra.sort_unstable_by_key(|e| e.0);
                out.extend(extra);
            }
            out.into_iter().unzip()
        })
        .collect();
    let mut matrix = Matrix::new();
    for (ids, ws) in &rows {
        matrix.push(ids, ws);
    }
    vectors.widened(matrix, 2 * vectors.features)
}

/// Each row's stem features and their weights.
fn stem_rows(vectors: &Vectors) -> Vec<Vec<(u32, f32)>> {
    (0..vectors.matrix.rows())
        .map(|i| {
            let (ids, ws) = vectors.matrix.row(i);
            ids.iter()
                .zip(ws)
                .filter(|(id, _)| vectors.is_stem[**id as usize])
                .map(|(&id, &w)| (id, w))
                .collect()
        })
        .collect()
}

/// Each stem's strongest contexts by PPMI over the texts' stem pairs (a text
/// counts once per mention it stands for).
fn strongest_contexts(stems: &[Vec<(u32, f32)>], counts: &[u32]) -> FnvMap<u32, Vec<(u32, f32)>> {
    let mut pairs: FnvMap<(u32, u32), f64> = FnvMap::default();
    let mut marginal: FnvMap<u32, f64> = FnvMap::default();
    for (row, &count) in stems.iter().zip(counts) {
        let n = f64::from(count);
        for &(a, _) in row {
            for &(b, _) in row {
                if a != b {
                    *pairs.entry((a, b)).or_insert(0.0) += n;
                    *marginal.entry(a).or_insert(0.0) += n;
                }
            }
        }
    }
    let smoothed: FnvMap<u32, f64> = marginal
        .iter()
        .map(|(&c, &n)| (c, n.powf(SMOOTHING)))
        .collect();
    let smoothed_total: f64 = smoothed.values().sum();
    let mut by_stem: FnvMap<u32, Vec<(u32, f32, f32)>> = FnvMap::default();
    for (&(a, c), &n) in &pairs {
        if n < 2.0 {
            continue; // one shared text says nothing
        }
        let pmi = (n * smoothed_total / (marginal[&a] * smoothed[&c])).ln();
        if pmi > 0.0 {
            by_stem
                .entry(a)
                .or_default()
                .push((c, pmi as f32, (n * pmi) as f32));
        }
    }
    by_stem
        .into_iter()
        .map(|(a, mut contexts)| {
            // The strongest: often together and more than chance.
            contexts.sort_unstable_by(|x, y| y.2.total_cmp(&x.2).then(x.0.cmp(&y.0)));
            contexts.truncate(CONTEXTS);
            let mut kept: Vec<(u32, f32)> = contexts.into_iter().map(|(c, p, _)| (c, p)).collect();
            kept.sort_unstable_by_key(|c| c.0);
            (a, kept)
        })
        .collect()
}
