//! Mixing a study's word vectors into its rows, and the gate that decides
//! whether a study gets them at all.

use rayon::prelude::*;

use super::WordVectors;
use crate::coding::features::{Matrix, Vectors, DENSE_BASE};
use crate::coding::text::Analysed;
use crate::survey::Locale;

/// The fewest mentions a study with word vectors has: a word vector is taken
/// less the study's mean, which in a handful of texts about one problem is
/// that problem itself, so what is left would push them apart (five wordings
/// of "no parking at the warehouse" split in two).
pub const MIN_MENTIONS: u64 = 100;

/// The gate's defaults: word vectors where the median mention has at most
/// this many content words...
pub const GATE_MAX_WORDS: usize = 12;
/// ...and at least this share of the mentions is English.
pub const GATE_MIN_ENGLISH: f32 = 0.2;

/// What the gate looks at in a study's texts (each counted as often as it was
/// written).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Profile {
    /// How many mentions there are.
    pub mentions: u64,
    /// The median number of content words per mention.
    pub median_words: usize,
    /// The share of mentions read as English (0 to 1).
    pub english: f32,
}

impl Profile {
    /// The profile of `docs`, each standing for `counts[i]` mentions.
    pub fn of(docs: &[&Analysed], counts: &[u32]) -> Profile {
        let mut words: Vec<(usize, u32)> = docs
            .iter()
            .zip(counts)
            .map(|(d, &c)| (d.content().count(), c))
            .collect();
        words.sort_unstable();
        let total: u64 = counts.iter().map(|&c| u64::from(c)).sum();
        let english: u64 = docs
            .iter()
            .zip(counts)
            .filter(|(d, _)| d.locale == Locale::En)
            .map(|(_, &c)| u64::from(c))
            .sum();
        let mut seen = 0u64;
        let median_words = words
            .iter()
            .find(|&&(_, c)| {
                seen += u64::from(c);
                2 * seen >= total
            })
            .map_or(0, |&(w, _)| w);
        Profile {
            mentions: total,
            median_words,
            english: if total == 0 {
                0.0
            } else {
                english as f32 / total as f32
            },
        }
    }

    /// Whether word vectors help texts like these: short ones (a median of at
    /// most `max_words` content words) of which at least `min_english` are
    /// English (the table is English; a Swedish word reaches it only through
    /// the glossary), and at least [`MIN_MENTIONS`] of them.
    pub fn suits_word_vectors(&self, max_words: usize, min_english: f32) -> bool {
        self.mentions >= MIN_MENTIONS
            && self.median_words > 0
            && self.median_words <= max_words
            && self.english >= min_english
    }
}

/// Appends to each row of `vectors` its text's word vector (IDF-weighted sum
/// of its words' vectors from `table` scaled to unit length, less the study's
/// mean so that what every text of the study shares does not count), so that
/// the dot product of two rows is `1 - share` times the cosine of their stems
/// and trigrams plus `share` times the dot product of their word vectors (the
/// first `dims` dimensions of the table's: its strongest principal
/// components), each row then scaled to unit length.
///
/// A word vector less the mean is scaled to unit length if it is at least
/// `full_length` long (0: always), else by `1 / full_length`: texts whose
/// words are the study's mean (a study of one template's texts: "Problem 16
/// as customer 1 put it") have next to no word vector left, and their stems
/// and trigrams decide. (When such a study's word vectors were all zero less
/// the mean, rows were left at length `sqrt(1 - share)`, so no two texts
/// reached the gather pass's 0.8 and each stayed alone.) A text none of whose
/// words the table knows keeps its row as it was.
pub fn mix(
    vectors: &mut Vectors,
    docs: &[&Analysed],
    counts: &[u32],
    table: &WordVectors,
    share: f32,
    dims: usize,
    full_length: f32,
) {
    let share = share.clamp(0.0, 1.0);
    let dims = dims.min(table.dims());
    if share == 0.0 || dims == 0 {
        return;
    }
    let dense: Vec<Option<Vec<f32>>> = docs
        .par_iter()
        .map(|doc| {
            table.text_vector(doc, dims, |stem| {
                vectors
                    .stem_id(stem, doc.locale)
                    .map_or(1.0, |id| vectors.idf(id))
            })
        })
        .map(|v| v.map(unit))
        .collect();
    let mean = weighted_mean(&dense, counts, dims);
    let (sparse_scale, dense_scale) = ((1.0 - share).sqrt(), share.sqrt());
    let with_vector = dense.iter().filter(|v| v.is_some()).count();
    let mut matrix = Matrix::with_capacity(
        dense.len(),
        vectors.matrix.entries() + with_vector * mean.len(),
    );
    let mut ids = Vec::new();
    let mut weights = Vec::new();
    for (i, v) in dense.into_iter().enumerate() {
        let (row_ids, row_weights) = vectors.matrix.row(i);
        let Some(v) = v else {
            matrix.push(row_ids, row_weights);
            continue;
        };
        let mut v: Vec<f32> = v.iter().zip(&mean).map(|(x, m)| x - m).collect();
        let length = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        let scale = if length > 0.0 {
            1.0 / length.max(full_length)
        } else {
            0.0
        };
        v.iter_mut().for_each(|x| *x *= scale);
        let dense_length = (length * scale).min(1.0);
        // Unit length: `1 - share` of it the stems' part, `share` times the
        // word vector's squared length the rest.
        let norm = (1.0 - share + share * dense_length * dense_length).sqrt();
        ids.clear();
        ids.extend_from_slice(row_ids);
        ids.extend((0..v.len() as u32).map(|d| DENSE_BASE + d));
        weights.clear();
        weights.extend(row_weights.iter().map(|w| w * sparse_scale / norm));
        weights.extend(v.iter().map(|x| x * dense_scale / norm));
        matrix.push(&ids, &weights);
    }
    vectors.matrix = matrix;
}

/// `v` scaled to unit length (zero stays zero).
fn unit(mut v: Vec<f32>) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v
}

/// The mean of the vectors there, each counting `counts[i]` times.
fn weighted_mean(vectors: &[Option<Vec<f32>>], counts: &[u32], dims: usize) -> Vec<f32> {
    let mut sum = vec![0.0f64; dims];
    let mut n = 0u64;
    for (v, &c) in vectors.iter().zip(counts) {
        if let Some(v) = v {
            sum.iter_mut()
                .zip(v)
                .for_each(|(s, x)| *s += f64::from(*x) * f64::from(c));
            n += u64::from(c);
        }
    }
    sum.into_iter()
        .map(|s| (s / n.max(1) as f64) as f32)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coding::features::{sparse_part, vectorise};
    use crate::coding::text::Analyzer;
    use crate::coding::word_vectors::tests::table;

    fn profile(texts: &[(&str, Locale)], counts: &[u32]) -> Profile {
        let analyzer = Analyzer::new();
        let docs: Vec<Analysed> = texts
            .iter()
            .map(|(t, l)| analyzer.analyse(t, Some(*l)))
            .collect();
        let refs: Vec<&Analysed> = docs.iter().collect();
        Profile::of(&refs, counts)
    }

    #[test]
    fn short_english_or_bilingual_studies_get_word_vectors_long_or_swedish_ones_do_not() {
        let short_english = profile(
            &[
                ("card payment still pending", Locale::En),
                ("my card was declined", Locale::En),
                ("kortet spärrat", Locale::Sv),
            ],
            &[40, 40, 40],
        );
        assert_eq!(short_english.median_words, 2, "card declined, kort spärr");
        assert!((short_english.english - 2.0 / 3.0).abs() < 1e-6);
        assert!(short_english.suits_word_vectors(12, 0.2));

        let long = "I disputed the late fee on my credit report three times and the \
                    bureau never answered my letters about the wrong balance";
        let long_english = profile(&[(long, Locale::En), (long, Locale::En)], &[60, 60]);
        assert!(long_english.median_words > 12, "{long_english:?}");
        assert!(!long_english.suits_word_vectors(12, 0.2));

        // One English text among many Swedish ones: a Swedish study.
        let swedish = profile(
            &[
                ("kortet spärrat", Locale::Sv),
                ("fel faktura", Locale::Sv),
                ("wrong invoice", Locale::En),
            ],
            &[50, 50, 10],
        );
        assert!(swedish.english < 0.1, "{swedish:?}");
        assert!(!swedish.suits_word_vectors(12, 0.2));

        // The median counts mentions, not distinct texts.
        let repeated = profile(&[("late", Locale::En), (long, Locale::En)], &[300, 100]);
        assert_eq!(repeated.median_words, 1);
        assert!(repeated.suits_word_vectors(12, 0.2));
        assert!(!profile(&[("the", Locale::En)], &[200]).suits_word_vectors(12, 0.2));
        // Too few mentions for a study mean to say what they all share.
        let few = profile(&[("card declined", Locale::En)], &[MIN_MENTIONS as u32 - 1]);
        assert_eq!(few.mentions, MIN_MENTIONS - 1);
        assert!(!few.suits_word_vectors(12, 0.2));
    }

    #[test]
    fn word_vectors_bring_wordings_without_a_shared_word_together() {
        let analyzer = Analyzer::new();
        let docs = [
            analyzer.analyse("plånboken försvann", Some(Locale::Sv)),
            analyzer.analyse("my wallet vanished", Some(Locale::En)),
            analyzer.analyse("wrong invoice", Some(Locale::En)),
        ];
        let stem = |w: &str, l: Locale| analyzer.stem(w, l).into_owned();
        let (planbok, forsvann) = (stem("plånboken", Locale::Sv), stem("försvann", Locale::Sv));
        let (wallet, vanish) = (stem("wallet", Locale::En), stem("vanished", Locale::En));
        let (wrong, invoice) = (stem("wrong", Locale::En), stem("invoice", Locale::En));
        let words = WordVectors::parse(&table(&[
            (0, planbok.as_str(), [127, 0, 0]),
            (1, wallet.as_str(), [120, 10, 0]),
            (0, forsvann.as_str(), [0, 127, 0]),
            (1, vanish.as_str(), [10, 120, 0]),
            (1, wrong.as_str(), [0, 20, 120]),
            (1, invoice.as_str(), [0, 0, 127]),
        ]))
        .expect("valid table");
        let refs: Vec<&Analysed> = docs.iter().collect();
        let mut v = vectorise(&refs, &[1, 1, 1], 0.6);
        let before = v.matrix.clone();
        assert!(
            before.dot(0, &before, 1) < 0.05,
            "no shared word or trigram"
        );
        mix(&mut v, &refs, &[1, 1, 1], &words, 0.0, 3, 0.0);
        assert_eq!(v.matrix, before, "share 0: rows as they were");
        mix(&mut v, &refs, &[1, 1, 1], &words, 0.5, 3, 0.0);
        let m = &v.matrix;
        assert!(m.dot(0, m, 1) > 0.4, "{}", m.dot(0, m, 1));
        assert!(m.dot(0, m, 1) > m.dot(0, m, 2) + 0.3);
        for i in 0..3 {
            assert!((m.dot(i, m, i) - 1.0).abs() < 1e-4, "unit length");
            // The word vector comes after the stems and trigrams.
            assert_eq!(sparse_part(m.row(i)).0, before.row(i).0);
        }
    }

    #[test]
    fn texts_whose_words_are_the_study_mean_keep_their_stems_similarity() {
        // One template, texts differing only in numbers (no content words):
        // every word vector is the mean, nothing is left of it.
        let analyzer = Analyzer::new();
        let docs: Vec<Analysed> = (0..4)
            .map(|i| analyzer.analyse(&format!("invoice {i} wrong"), Some(Locale::En)))
            .collect();
        let stem = |w: &str| analyzer.stem(w, Locale::En).into_owned();
        let (wrong, invoice) = (stem("wrong"), stem("invoice"));
        let words = WordVectors::parse(&table(&[
            (1, wrong.as_str(), [0, 20, 120]),
            (1, invoice.as_str(), [0, 0, 127]),
        ]))
        .expect("valid table");
        let refs: Vec<&Analysed> = docs.iter().collect();
        let mut v = vectorise(&refs, &[1; 4], 0.6);
        let before = v.matrix.clone();
        mix(&mut v, &refs, &[1; 4], &words, 0.2, 3, 0.5);
        let m = &v.matrix;
        for i in 0..4 {
            assert!((m.dot(i, m, i) - 1.0).abs() < 1e-4, "unit length");
            for j in 0..4 {
                let (now, was) = (m.dot(i, m, j), before.dot(i, &before, j));
                assert!((now - was).abs() < 1e-4, "{i} {j}: {now} against {was}");
            }
        }
    }
}
