//! Agreement between a grouping and reference labels, for the evaluation harness:
//! adjusted Rand index, normalised mutual information and purity. Pure functions
//! over two label slices of equal length; a label is any small integer.
//!
//! Mentions a method leaves uncoded should be passed as one shared "uncoded"
//! cluster, not as singletons, which would flatter purity.

use std::collections::BTreeMap;

/// The contingency table of two labelings: counts per (truth, predicted) pair.
fn contingency(truth: &[usize], predicted: &[usize]) -> BTreeMap<(usize, usize), u64> {
    let mut table = BTreeMap::new();
    for (&t, &p) in truth.iter().zip(predicted) {
        *table.entry((t, p)).or_insert(0) += 1;
    }
    table
}

fn marginals(labels: &[usize]) -> BTreeMap<usize, u64> {
    let mut counts = BTreeMap::new();
    for &l in labels {
        *counts.entry(l).or_insert(0) += 1;
    }
    counts
}

fn pairs(n: u64) -> f64 {
    let n = n as f64;
    n * (n - 1.0) / 2.0
}

/// Adjusted Rand index (Hubert & Arabie 1985): 1 for identical partitions, about 0
/// for a random one. Defined as 1 when both labelings are a single cluster or all
/// singletons (no pair can disagree).
pub fn adjusted_rand_index(truth: &[usize], predicted: &[usize]) -> f64 {
    let n = truth.len().min(predicted.len());
    let (truth, predicted) = (&truth[..n], &predicted[..n]);
    let index: f64 = contingency(truth, predicted)
        .values()
        .map(|&c| pairs(c))
        .sum();
    let a: f64 = marginals(truth).values().map(|&c| pairs(c)).sum();
    let b: f64 = marginals(predicted).values().map(|&c| pairs(c)).sum();
    let total = pairs(n as u64);
    if total == 0.0 {
        return 1.0;
    }
    let expected = a * b / total;
    let max = (a + b) / 2.0;
    if (max - expected).abs() < f64::EPSILON {
        return 1.0;
    }
    (index - expected) / (max - expected)
}

/// Normalised mutual information, arithmetic-mean normalisation
/// (`2 I(T;P) / (H(T) + H(P))`, as scikit-learn's default): 1 for identical
/// partitions, 0 for independent ones; 1 when both have a single cluster.
pub fn normalized_mutual_information(truth: &[usize], predicted: &[usize]) -> f64 {
    let n = truth.len().min(predicted.len());
    if n == 0 {
        return 1.0;
    }
    let (truth, predicted) = (&truth[..n], &predicted[..n]);
    let nf = n as f64;
    let entropy = |m: &BTreeMap<usize, u64>| -> f64 {
        m.values()
            .map(|&c| {
                let p = c as f64 / nf;
                -p * p.ln()
            })
            .sum()
    };
    let (mt, mp) = (marginals(truth), marginals(predicted));
    let (ht, hp) = (entropy(&mt), entropy(&mp));
    let mi: f64 = contingency(truth, predicted)
        .iter()
        .map(|(&(t, p), &c)| {
            let c = c as f64;
            c / nf * (nf * c / (mt[&t] as f64 * mp[&p] as f64)).ln()
        })
        .sum();
    if ht + hp == 0.0 {
        return 1.0;
    }
    (2.0 * mi / (ht + hp)).clamp(0.0, 1.0)
}

/// Purity: the share of items whose predicted cluster's majority label is their
/// own label. 1 for a perfect (or over-split) grouping.
pub fn purity(truth: &[usize], predicted: &[usize]) -> f64 {
    let n = truth.len().min(predicted.len());
    if n == 0 {
        return 1.0;
    }
    let mut best: BTreeMap<usize, u64> = BTreeMap::new();
    for (&(_, p), &c) in &contingency(&truth[..n], &predicted[..n]) {
        let entry = best.entry(p).or_insert(0);
        *entry = (*entry).max(c);
    }
    best.values().sum::<u64>() as f64 / n as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_partitions_score_one_whatever_the_names() {
        let truth = [0, 0, 1, 1, 2, 2];
        let predicted = [5, 5, 3, 3, 9, 9];
        assert!((adjusted_rand_index(&truth, &predicted) - 1.0).abs() < 1e-12);
        assert!((normalized_mutual_information(&truth, &predicted) - 1.0).abs() < 1e-12);
        assert!((purity(&truth, &predicted) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn matches_reference_values() {
        // scikit-learn: adjusted_rand_score([0,0,1,1],[0,0,1,2]) = 0.5714285714;
        // normalized_mutual_info_score(...) = 0.8;
        let truth = [0, 0, 1, 1];
        let predicted = [0, 0, 1, 2];
        assert!((adjusted_rand_index(&truth, &predicted) - 0.571_428_571_4).abs() < 1e-9);
        assert!((normalized_mutual_information(&truth, &predicted) - 0.8).abs() < 1e-9);
        assert!((purity(&truth, &predicted) - 1.0).abs() < 1e-12);
        // One big cluster: purity is the majority share, ARI 0.
        let lumped = [0, 0, 0, 0, 0, 0];
        let truth = [0, 0, 0, 0, 1, 1];
        assert!((purity(&truth, &lumped) - 4.0 / 6.0).abs() < 1e-12);
        assert!(adjusted_rand_index(&truth, &lumped).abs() < 1e-12);
    }
}
