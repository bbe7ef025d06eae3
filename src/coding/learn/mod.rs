//! Learning from analysts' decisions: the mentions an analyst placed (moved,
//! merged, accepted, imported, or the previous wave's final coding) train a
//! classifier that codes new mentions the way they were coded before.
//!
//! The classifier is multinomial logistic regression over the same features as
//! grouping (stems with `1 + ln tf`, pairs of neighbouring stems, character
//! trigrams; IDF from the examples) and, where the examples suit them as they
//! would suit grouping (short, enough English), the texts' word vectors
//! (`word_vectors`), trained by stochastic gradient descent in a fixed order,
//! so the same decisions always give the same model. It says how sure
//! it is: a mention whose most likely area has a probability under
//! `sure_probability` stays a proposal for review, shown with its nearest areas
//! and the words that pointed there, never silently forced.
//!
//! Pure: examples in, a model out; the model codes any batch of mentions.

use rayon::prelude::*;

use super::corpus::MentionText;
use super::features::{dot, FnvMap, Matrix, Vocabulary, Weighting};
use super::text::{Analysed, Analyzer};
use super::word_vectors::{self, WordVectors};
use dense::Dense;

mod dense;

/// Settings of learned coding. `Default` suits a few to many thousand examples.
#[derive(Debug, Clone, PartialEq)]
pub struct LearningOptions {
    /// Passes over the examples.
    pub epochs: usize,
    /// Step size at the start; it shrinks as `1 / (1 + t / examples)`.
    pub learning_rate: f32,
    /// L2 penalty per example seen.
    pub l2: f32,
    /// Least probability of the best area for a mention to be coded into it;
    /// below, it stays a proposal for review.
    pub sure_probability: f32,
    /// Least cosine similarity of a mention to the centroid of the examples of
    /// its best area for it to be coded there: a text unlike anything decided
    /// is not forced into the likeliest of areas it has nothing to do with.
    pub sure_similarity: f32,
    /// How texts become vectors.
    pub weighting: Weighting,
    /// Where the examples suit word vectors (the gate of grouping: a median
    /// of at most `word_vectors_max_words` content words, at least
    /// `word_vectors_min_english` of them English, at least 100), the share of
    /// each text's row that is its word vector (less the examples' mean), the
    /// rest its stems and trigrams; 0: never. A new wording that shares no
    /// word with the decisions can then still go where they point.
    pub word_vectors: f32,
    pub word_vectors_max_words: usize,
    pub word_vectors_min_english: f32,
}

impl Default for LearningOptions {
    fn default() -> Self {
        LearningOptions {
            epochs: 12,
            learning_rate: 4.0,
            l2: 1e-5,
            sure_probability: 0.5,
            sure_similarity: 0.1,
            weighting: Weighting {
                bigrams: true,
                ..Weighting::default()
            },
            word_vectors: 0.5,
            word_vectors_max_words: word_vectors::GATE_MAX_WORDS,
            word_vectors_min_english: word_vectors::GATE_MIN_ENGLISH,
        }
    }
}

/// A trained model: areas are numbered `0..areas` as in the examples' labels.
#[derive(Debug, Clone)]
pub struct Learned {
    vocabulary: Vocabulary,
    areas: usize,
    /// `weights[feature * areas + area]`.
    weights: Vec<f32>,
    bias: Vec<f32>,
    /// Unit-length centroid of each area's examples.
    centroids: Matrix,
    sure_probability: f32,
    sure_similarity: f32,
    /// The texts' word vectors as features from `vocabulary.features()` on.
    dense: Option<Dense>,
}

/// What the model says of one mention.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    /// The most likely area and its probability (0 to 1).
    pub area: usize,
    pub probability: f32,
    /// Cosine similarity of the mention to the centroid of the area's examples.
    pub similarity: f32,
    /// The next most likely areas with their probabilities, best first (up to 2).
    pub nearest: Vec<(usize, f32)>,
    /// Whether `probability` reaches the model's `sure_probability`: coded when
    /// sure, else left for review.
    pub sure: bool,
    /// The mention's words that pointed most to `area`, strongest first (up to 3).
    pub words: Vec<String>,
}

impl Suggestion {
    /// "learned from 412 decisions: 'arrive', 'card' (p 0.93)" style reason,
    /// given a name for each area.
    pub fn reason(&self, name: impl Fn(usize) -> String) -> String {
        let words = if self.words.is_empty() {
            String::new()
        } else {
            format!(
                " from {}",
                self.words
                    .iter()
                    .map(|w| format!("\"{w}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let head = format!(
            "{} (p {:.2}, similarity {:.2}){words}",
            name(self.area),
            self.probability,
            self.similarity
        );
        if self.sure {
            format!("learned: {head}")
        } else {
            let others: Vec<String> = self
                .nearest
                .iter()
                .map(|&(a, p)| format!("{} (p {p:.2})", name(a)))
                .collect();
            if others.is_empty() {
                format!("unsure: {head}")
            } else {
                format!("unsure: {head}, or {}", others.join(", "))
            }
        }
    }
}

/// A fixed pseudo-random permutation of `0..n` (SplitMix64-driven
/// Fisher-Yates), the same on every run.
fn permutation(n: usize, seed: u64) -> Vec<usize> {
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    order
}

/// The unit-length mean vector of each area's examples.
fn centroids(matrix: &Matrix, labels: &[usize], areas: usize) -> Matrix {
    let mut sums: Vec<FnvMap<u32, f32>> = vec![FnvMap::default(); areas];
    for (i, &label) in labels.iter().enumerate().take(matrix.rows()) {
        if label < areas {
            let (ids, ws) = matrix.row(i);
            for (&id, &w) in ids.iter().zip(ws) {
                *sums[label].entry(id).or_insert(0.0) += w;
            }
        }
    }
    let mut out = Matrix::new();
    for sum in sums {
        let mut pairs: Vec<(u32, f32)> = sum.into_iter().collect();
        pairs.sort_by_key(|p| p.0);
        let norm = pairs.iter().map(|p| p.1 * p.1).sum::<f32>().sqrt();
        let (ids, ws): (Vec<u32>, Vec<f32>) = pairs
            .into_iter()
            .map(|(id, w)| (id, if norm > 0.0 { w / norm } else { 0.0 }))
            .unzip();
        out.push(&ids, &ws);
    }
    out
}

/// Softmax of `scores` in place.
fn softmax(scores: &mut [f32]) {
    let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for s in scores.iter_mut() {
        *s = (*s - max).exp();
        sum += *s;
    }
    if sum > 0.0 {
        scores.iter_mut().for_each(|s| *s /= sum);
    }
}

impl Learned {
    /// Trains on `examples` whose areas are `labels` (each below `areas`),
    /// with the word vectors grouping uses (if any). Examples with no content
    /// words teach nothing and are skipped.
    pub fn train(
        analyzer: &Analyzer,
        examples: &[MentionText<'_>],
        labels: &[usize],
        areas: usize,
        options: &LearningOptions,
    ) -> Learned {
        Learned::train_with(
            analyzer,
            examples,
            labels,
            areas,
            options,
            WordVectors::installed(),
        )
    }

    /// [`Learned::train`] with the word vectors of `table` (`None`: none).
    pub fn train_with(
        analyzer: &Analyzer,
        examples: &[MentionText<'_>],
        labels: &[usize],
        areas: usize,
        options: &LearningOptions,
        table: Option<&'static WordVectors>,
    ) -> Learned {
        let docs: Vec<Analysed> = examples
            .par_iter()
            .map(|m| analyzer.analyse(m.text, m.locale))
            .collect();
        let refs: Vec<&Analysed> = docs.iter().collect();
        let counts = vec![1u32; refs.len()];
        let (vocabulary, mut matrix) = Vocabulary::build(&refs, &counts, &options.weighting);
        let areas = areas.max(1);
        let mut features = vocabulary.features();
        let dense = Dense::for_examples(&docs, options, table);
        if let Some(dense) = &dense {
            let base = features as u32;
            let rows: Vec<(Vec<u32>, Vec<f32>)> = docs
                .par_iter()
                .enumerate()
                .map(|(i, doc)| {
                    let (ids, weights) = matrix.row(i);
                    dense.extend(doc, base, (ids.to_vec(), weights.to_vec()))
                })
                .collect();
            matrix = Matrix::with_capacity(rows.len(), rows.iter().map(|r| r.0.len()).sum());
            for (ids, weights) in &rows {
                matrix.push(ids, weights);
            }
            features += dense.dims;
        }
        let mut model = Learned {
            vocabulary,
            areas,
            weights: vec![0.0; features * areas],
            bias: vec![0.0; areas],
            centroids: centroids(&matrix, labels, areas),
            sure_probability: options.sure_probability,
            sure_similarity: options.sure_similarity,
            dense,
        };
        model.fit(&matrix, labels, options);
        model
    }

    fn fit(&mut self, matrix: &Matrix, labels: &[usize], options: &LearningOptions) {
        let usable: Vec<usize> = (0..matrix.rows().min(labels.len()))
            .filter(|&i| !matrix.row(i).0.is_empty() && labels[i] < self.areas)
            .collect();
        if usable.is_empty() {
            return;
        }
        let c = self.areas;
        let n = usable.len() as f32;
        let mut scores = vec![0.0f32; c];
        // Weight decay is applied lazily through a global scale.
        let mut scale = 1.0f32;
        let mut t = 0.0f32;
        for epoch in 0..options.epochs {
            for &k in &permutation(usable.len(), epoch as u64 + 1) {
                let i = usable[k];
                let rate = options.learning_rate / (1.0 + t / n);
                t += 1.0;
                let (ids, xs) = matrix.row(i);
                scores.copy_from_slice(&self.bias);
                for (&f, &x) in ids.iter().zip(xs) {
                    let w = &self.weights[f as usize * c..(f as usize + 1) * c];
                    let xs = x * scale;
                    for (s, w) in scores.iter_mut().zip(w) {
                        *s += xs * w;
                    }
                }
                softmax(&mut scores);
                scores[labels[i]] -= 1.0;
                scale *= 1.0 - rate * options.l2;
                if scale < 1e-3 {
                    self.weights.iter_mut().for_each(|w| *w *= scale);
                    scale = 1.0;
                }
                for (&f, &x) in ids.iter().zip(xs) {
                    let w = &mut self.weights[f as usize * c..(f as usize + 1) * c];
                    let step = rate * x / scale;
                    for (w, g) in w.iter_mut().zip(&scores) {
                        *w -= step * g;
                    }
                }
                for (b, g) in self.bias.iter_mut().zip(&scores) {
                    *b -= rate * g * 0.1;
                }
            }
        }
        self.weights.iter_mut().for_each(|w| *w *= scale);
    }

    /// Number of areas the model knows.
    pub fn areas(&self) -> usize {
        self.areas
    }

    /// What the model says of each mention (`None`: no content words).
    pub fn suggest(
        &self,
        analyzer: &Analyzer,
        mentions: &[MentionText<'_>],
    ) -> Vec<Option<Suggestion>> {
        mentions
            .par_iter()
            .map(|m| self.suggest_one(&analyzer.analyse(m.text, m.locale)))
            .collect()
    }

    /// What the model says of one analysed text.
    pub fn suggest_one(&self, doc: &Analysed) -> Option<Suggestion> {
        let (ids, xs) = self.vocabulary.vector(doc);
        if ids.is_empty() {
            return None;
        }
        let (ids, xs) = match &self.dense {
            Some(dense) => dense.extend(doc, self.vocabulary.features() as u32, (ids, xs)),
            None => (ids, xs),
        };
        let c = self.areas;
        let mut scores = self.bias.clone();
        for (&f, &x) in ids.iter().zip(&xs) {
            let w = &self.weights[f as usize * c..(f as usize + 1) * c];
            for (s, w) in scores.iter_mut().zip(w) {
                *s += x * w;
            }
        }
        softmax(&mut scores);
        let mut ranked: Vec<(usize, f32)> = scores.iter().copied().enumerate().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let (area, probability) = ranked[0];
        // The words that pushed most towards the area: each content word's
        // stem feature times its weight for the area.
        let mut words: Vec<(f32, &str)> = Vec::new();
        for token in doc.content() {
            if words.iter().any(|w| w.1 == token.word) {
                continue;
            }
            if let Some(f) = self.vocabulary.stem_id(&token.stem, doc.locale) {
                if let Ok(k) = ids.binary_search(&f) {
                    let push = xs[k] * self.weights[f as usize * c + area];
                    if push > 0.0 {
                        words.push((push, &token.word));
                    }
                }
            }
        }
        words.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
        let similarity = if area < self.centroids.rows() {
            dot((&ids, &xs), self.centroids.row(area)).clamp(0.0, 1.0)
        } else {
            0.0
        };
        Some(Suggestion {
            area,
            probability,
            similarity,
            nearest: ranked[1..].iter().take(2).copied().collect(),
            sure: probability >= self.sure_probability && similarity >= self.sure_similarity,
            words: words.into_iter().take(3).map(|w| w.1.to_string()).collect(),
        })
    }
}

#[cfg(test)]
mod tests;
