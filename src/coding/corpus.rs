//! The distinct texts of a batch of mentions, each analysed once. Customers repeat
//! themselves ("levtid", "Late delivery"), so a study's mentions shrink to far fewer
//! distinct texts; rules and grouping work on those and the result is spread back
//! to every mention.

use rayon::prelude::*;

use super::features::FnvMap;
use super::text::{normalise, Analysed, Analyzer};
use crate::survey::Locale;

/// One mention to code: the customer's text, untouched, and the respondent's
/// locale when known (`None`: detect the language from the text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MentionText<'a> {
    pub text: &'a str,
    pub locale: Option<Locale>,
}

impl<'a> MentionText<'a> {
    pub fn new(text: &'a str, locale: Option<Locale>) -> Self {
        MentionText { text, locale }
    }
}

/// Distinct normalised texts (per given locale) and where each mention went.
#[derive(Debug, Clone)]
pub(crate) struct Corpus {
    /// One analysis per distinct text.
    pub docs: Vec<Analysed>,
    /// The normalised text of each doc, for stable tie-breaks.
    pub normalised: Vec<String>,
    /// `doc_of[m]`: the doc of mention `m`.
    pub doc_of: Vec<u32>,
    /// How many mentions each doc stands for.
    pub counts: Vec<u32>,
    /// The first mention of each doc (its example when shown).
    pub first: Vec<usize>,
}

impl Corpus {
    pub fn build(analyzer: &Analyzer, mentions: &[MentionText<'_>]) -> Corpus {
        let normalised: Vec<String> = mentions.par_iter().map(|m| normalise(m.text)).collect();
        let mut doc_of = Vec::with_capacity(mentions.len());
        let mut counts: Vec<u32> = Vec::new();
        let mut first = Vec::new();
        let mut seen: FnvMap<(Option<Locale>, &str), u32> = FnvMap::default();
        for (m, (mention, text)) in mentions.iter().zip(&normalised).enumerate() {
            let next = counts.len() as u32;
            let doc = *seen.entry((mention.locale, text.as_str())).or_insert(next);
            if doc == next {
                counts.push(0);
                first.push(m);
            }
            counts[doc as usize] += 1;
            doc_of.push(doc);
        }
        drop(seen);
        let docs: Vec<Analysed> = first
            .par_iter()
            .map(|&m| analyzer.analyse_normalised(&normalised[m], mentions[m].locale))
            .collect();
        let mut normalised = normalised;
        let distinct: Vec<String> = first
            .iter()
            .map(|&m| std::mem::take(&mut normalised[m]))
            .collect();
        Corpus {
            docs,
            normalised: distinct,
            doc_of,
            counts,
            first,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_texts_are_analysed_once() {
        let texts = [
            "Late delivery!",
            "late  DELIVERY",
            "levtid",
            "Late delivery",
        ];
        let mentions: Vec<_> = texts.iter().map(|t| MentionText::new(t, None)).collect();
        let corpus = Corpus::build(&Analyzer::new(), &mentions);
        assert_eq!(corpus.docs.len(), 2);
        assert_eq!(corpus.doc_of, [0, 0, 1, 0]);
        assert_eq!(corpus.counts, [3, 1]);
        assert_eq!(corpus.first, [0, 2]);
        assert_eq!(corpus.normalised, ["late delivery", "levtid"]);
    }
}
