//! What the coding review shows beside an area: its typical words, the other
//! areas most like it (to merge into), and for each of its mentions how similar
//! it is to the area, the words it shares with it, and the other area it is more
//! like, if any (to move it to). Every suggestion carries its cosine similarity
//! and the words behind it, so an analyst can check it before one click.
//!
//! Pure: mentions and their current areas in, suggestions out; no database. It
//! compares each mention with area centroids (TF-IDF as in grouping), so it costs
//! the mentions looked at, never all pairs: an area's centroid is built from at
//! most `PER_AREA` of its mentions.

use super::corpus::MentionText;
use super::features::{dot, vectorise_with, FnvMap, Vectors, Weighting};
use super::grouping::GroupingOptions;
use super::text::{Analysed, Analyzer};
use crate::survey::Locale;

/// Mentions of another area that make up its centroid, at most.
pub const PER_AREA: usize = 200;
/// Words shown per area and per suggestion, at most.
const WORDS: usize = 6;
/// Other areas suggested to merge into, at most.
const MERGE_SUGGESTIONS: usize = 3;

/// Another area and why it is suggested.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggested {
    /// Index of the area, as numbered in the input.
    pub area: usize,
    /// Cosine similarity (0 to 1): of two centroids, or of a mention to a centroid.
    pub similarity: f32,
    /// The words both sides share, most typical first.
    pub words: Vec<String>,
}

/// One mention of the reviewed area.
#[derive(Debug, Clone, PartialEq)]
pub struct MentionReview {
    /// Cosine similarity of the mention to its own area's centroid.
    pub similarity: f32,
    /// Its words that are typical of its area.
    pub words: Vec<String>,
    /// Another area it is more similar to, when there is one.
    pub better: Option<Suggested>,
}

/// The reviewed area.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AreaReview {
    /// Its typical words, most typical first.
    pub words: Vec<String>,
    /// Other areas most like it, most similar first.
    pub similar: Vec<Suggested>,
    /// One per mention of the area, in input order.
    pub mentions: Vec<MentionReview>,
}

/// Reviews area `focus`: `area_of[m]` is mention `m`'s area (`0..areas`) or `None`.
pub fn review(
    mentions: &[MentionText<'_>],
    area_of: &[Option<usize>],
    areas: usize,
    focus: usize,
) -> AreaReview {
    if focus >= areas {
        return AreaReview::default();
    }
    // The focus area's mentions all count; others are sampled, first come first.
    let mut taken = vec![0usize; areas];
    let picked: Vec<usize> = (0..mentions.len())
        .filter(|&m| match area_of.get(m).copied().flatten() {
            Some(a) if a == focus => true,
            Some(a) if a < areas && taken[a] < PER_AREA => {
                taken[a] += 1;
                true
            }
            _ => false,
        })
        .collect();
    let analyzer = Analyzer::new();
    let docs: Vec<Analysed> = picked
        .iter()
        .map(|&m| analyzer.analyse(mentions[m].text, mentions[m].locale))
        .collect();
    let refs: Vec<&Analysed> = docs.iter().collect();
    let grouping = GroupingOptions::default();
    let vectors = vectorise_with(
        &refs,
        &vec![1; refs.len()],
        &Weighting {
            bigrams: false,
            ..grouping.weighting
        },
    );
    let area_of_doc: Vec<usize> = picked.iter().map(|&m| area_of[m].unwrap_or(0)).collect();
    let centroids = centroids(&vectors, &area_of_doc, areas);
    let words_of = |a: usize| typical_words(&vectors, &refs, &area_of_doc, &centroids[a], a);
    let typical: Vec<Vec<(String, f32)>> = (0..areas).map(words_of).collect();

    let mut similar: Vec<Suggested> = (0..areas)
        .filter(|&a| a != focus && !centroids[a].0.is_empty())
        .map(|a| Suggested {
            area: a,
            similarity: cosine(&centroids[focus], &centroids[a]),
            words: shared(&typical[focus], &typical[a]),
        })
        .filter(|s| s.similarity > 0.0)
        .collect();
    similar.sort_by(|x, y| {
        y.similarity
            .total_cmp(&x.similarity)
            .then(x.area.cmp(&y.area))
    });
    similar.truncate(MERGE_SUGGESTIONS);

    let mentions = (0..picked.len())
        .filter(|&d| area_of_doc[d] == focus)
        .map(|d| {
            let row = vectors.matrix.row(d);
            let own = dot(row, as_row(&centroids[focus])).clamp(0.0, 1.0);
            let mine: Vec<&str> = refs[d].content().map(|t| t.word.as_str()).collect();
            let words_in = |a: usize| -> Vec<String> {
                typical[a]
                    .iter()
                    .filter(|(w, _)| mine.contains(&w.as_str()))
                    .map(|(w, _)| w.clone())
                    .take(WORDS)
                    .collect()
            };
            let better = (0..areas)
                .filter(|&a| a != focus && !centroids[a].0.is_empty())
                .map(|a| (a, dot(row, as_row(&centroids[a])).clamp(0.0, 1.0)))
                .filter(|&(_, s)| s > own)
                .max_by(|x, y| x.1.total_cmp(&y.1).then(y.0.cmp(&x.0)))
                .map(|(a, s)| Suggested {
                    area: a,
                    similarity: s,
                    words: words_in(a),
                });
            MentionReview {
                similarity: own,
                words: words_in(focus),
                better,
            }
        })
        .collect();
    AreaReview {
        words: typical[focus]
            .iter()
            .take(WORDS)
            .map(|(w, _)| w.clone())
            .collect(),
        similar,
        mentions,
    }
}

type Centroid = (Vec<u32>, Vec<f32>);

fn as_row(c: &Centroid) -> (&[u32], &[f32]) {
    (&c.0, &c.1)
}

fn cosine(a: &Centroid, b: &Centroid) -> f32 {
    dot(as_row(a), as_row(b)).clamp(0.0, 1.0)
}

/// Unit-length mean vector of each area's docs (empty for an area with none).
fn centroids(vectors: &Vectors, area_of_doc: &[usize], areas: usize) -> Vec<Centroid> {
    let mut sums: Vec<FnvMap<u32, f32>> = vec![FnvMap::default(); areas];
    for (d, &a) in area_of_doc.iter().enumerate() {
        let (ids, ws) = vectors.matrix.row(d);
        for (id, w) in ids.iter().zip(ws) {
            *sums[a].entry(*id).or_insert(0.0) += w;
        }
    }
    sums.into_iter()
        .map(|sum| {
            let mut pairs: Vec<(u32, f32)> = sum.into_iter().collect();
            pairs.sort_by_key(|p| p.0);
            let norm = pairs.iter().map(|p| p.1 * p.1).sum::<f32>().sqrt();
            let scale = if norm > 0.0 { 1.0 / norm } else { 0.0 };
            pairs.into_iter().map(|(id, w)| (id, w * scale)).unzip()
        })
        .collect()
}

/// An area's words by the weight of their stem in its centroid, each in its
/// most frequent written form, heaviest first.
fn typical_words(
    vectors: &Vectors,
    docs: &[&Analysed],
    area_of_doc: &[usize],
    centroid: &Centroid,
    area: usize,
) -> Vec<(String, f32)> {
    let mut forms: FnvMap<(&str, Locale), FnvMap<&str, u32>> = FnvMap::default();
    for (d, doc) in docs.iter().enumerate() {
        if area_of_doc[d] != area {
            continue;
        }
        for t in doc.content() {
            *forms
                .entry((t.stem.as_str(), doc.locale))
                .or_default()
                .entry(t.word.as_str())
                .or_insert(0) += 1;
        }
    }
    let mut words: Vec<(String, f32)> = forms
        .into_iter()
        .filter_map(|((stem, locale), written)| {
            let id = vectors.stem_id(stem, locale)?;
            let k = centroid.0.binary_search(&id).ok()?;
            let word = written
                .into_iter()
                .max_by(|x, y| x.1.cmp(&y.1).then(y.0.cmp(x.0)))?
                .0;
            Some((word.to_string(), centroid.1[k]))
        })
        .collect();
    words.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
    words.truncate(4 * WORDS);
    words
}

/// The words two areas' typical words share, by their summed weight.
fn shared(a: &[(String, f32)], b: &[(String, f32)]) -> Vec<String> {
    let mut both: Vec<(&str, f32)> = a
        .iter()
        .filter_map(|(w, x)| {
            b.iter()
                .find(|(v, _)| v == w)
                .map(|(_, y)| (w.as_str(), x + y))
        })
        .collect();
    both.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(y.0)));
    both.into_iter()
        .take(WORDS)
        .map(|(w, _)| w.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(list: &[&'static str]) -> Vec<MentionText<'static>> {
        list.iter()
            .map(|t| MentionText::new(t, Some(Locale::En)))
            .collect()
    }

    #[test]
    fn a_misplaced_mention_is_suggested_where_it_fits_with_the_words_why() {
        let mentions = texts(&[
            "the delivery was late",
            "late delivery again",
            "delivery came two weeks late",
            "the invoice was wrong", // misplaced in the delivery area
            "wrong amount on the invoice",
            "invoice errors every month",
        ]);
        let area_of = [Some(0), Some(0), Some(0), Some(0), Some(1), Some(1)];
        let r = review(&mentions, &area_of, 2, 0);
        assert_eq!(r.mentions.len(), 4);
        assert!(
            r.words.iter().take(2).any(|w| w == "delivery"),
            "{:?}",
            r.words
        );
        assert_eq!(r.mentions[0].better, None);
        assert!(r.mentions[0].words.contains(&"delivery".to_string()));
        let better = r.mentions[3].better.as_ref().expect("a better area");
        assert_eq!(better.area, 1);
        assert!(better.similarity > r.mentions[3].similarity);
        assert!(better.words.contains(&"invoice".to_string()), "{better:?}");
    }

    #[test]
    fn areas_that_say_the_same_are_suggested_for_a_merge() {
        let mentions = texts(&[
            "late delivery",
            "the delivery was late",
            "delivery late again",
            "deliveries are always late",
            "invoice wrong",
            "wrong invoice again",
        ]);
        let area_of = [Some(0), Some(0), Some(1), Some(1), Some(2), Some(2)];
        let r = review(&mentions, &area_of, 3, 0);
        let first = r.similar.first().expect("a merge suggestion");
        assert_eq!(first.area, 1);
        assert!(first.words.contains(&"late".to_string()), "{first:?}");
        assert!(r
            .similar
            .iter()
            .all(|s| s.area != 2 || s.similarity < first.similarity));
    }

    #[test]
    fn empty_and_odd_input_gives_an_empty_review() {
        let r = review(&[], &[], 0, 0);
        assert!(r.mentions.is_empty() && r.similar.is_empty());
        let mentions = texts(&["🙂", "late delivery"]);
        let r = review(&mentions, &[Some(0), None], 1, 0);
        assert_eq!(r.mentions.len(), 1);
        assert_eq!(r.mentions[0].better, None);
    }
}
