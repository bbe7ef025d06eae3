//! Coding: grouping customers' own words into problem areas. Every mention keeps
//! its original text; coding only decides which area it counts in.
//!
//! Pure and fast: plain values in, plain values out; no database, no I/O, no
//! logging, no randomness. The rooms:
//!
//! - `text`, `stopwords`: normalisation of Swedish and English (NFKC, case, HTML,
//!   tokens, stop words, Snowball stems, character n-grams, language detection);
//! - `lexicon`, `glossary`: the Swedish-English word lists (which also tell
//!   language detection which language a word is in) and the English stems a
//!   Swedish word stands for, so the two languages' wordings can meet;
//! - `codebook`, `rules`: analysts' areas from `codebook.toml`, and deterministic
//!   rule matching that explains itself ("matched leverans*");
//! - `features`, `grouping`: TF-IDF vectors and the automatic grouping of what no
//!   rule covers into proposed areas, without all-pairs comparison;
//! - `pipeline`: rules then grouping over a batch, one [`Coding`] per mention;
//! - `review`: what the coding review shows beside an area (its words, areas
//!   like it to merge into, a better area for each mention, with similarities);
//! - `evaluate`: agreement with reference labels (ARI, NMI, purity);
//! - `store`: the one room here that touches the database: codebooks, areas, each
//!   mention's area with who coded it and why, analysts' decisions. The rooms
//!   above stay pure; `store` feeds them and keeps what they return.
//!
//! [`group_key`] is the first, deliberately simple grouping (identical normalised
//! text); it still names imported areas and compares labels.

pub mod codebook;
mod corpus;
pub mod evaluate;
pub mod features;
pub mod glossary;
pub mod graph;
pub mod grouping;
pub mod learn;
pub mod lexicon;
mod matrix;
mod pipeline;
pub mod review;
pub mod rules;
pub mod stopwords;
pub mod store;
pub mod text;
pub mod word_vectors;

pub use codebook::{Area, AreaId, Codebook, CodebookError};
pub use corpus::MentionText;
pub use grouping::{group, Assignment, Grouping, GroupingOptions, ProposedArea};
pub use learn::{Learned, LearningOptions, Suggestion};
pub use pipeline::{code_mentions, Coding, CodingResult};
pub use rules::{match_rules, RuleMatch};
pub use text::{Analysed, Analyzer};

use unicode_normalization::UnicodeNormalization;

/// The grouping key of a mention: Unicode-normalised (NFKC), lower-cased, with
/// punctuation dropped and white space collapsed. "Late delivery!" and
/// "late  delivery" share a key; "levtid" and "late delivery" do not.
pub fn group_key(text: &str) -> String {
    let cleaned: String = text
        .nfkc()
        .flat_map(char::to_lowercase)
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_punctuation_and_spacing_do_not_split_an_area() {
        assert_eq!(group_key("Late delivery!"), group_key("  late   DELIVERY "));
        assert_eq!(
            group_key("Leveransen kom för sent."),
            "leveransen kom för sent"
        );
        assert_ne!(group_key("levtid"), group_key("late delivery"));
    }

    #[test]
    fn odd_input_does_not_panic() {
        for (odd, key) in [
            ("", ""),
            ("🙂🙂", ""),
            ("<b>FEL</b>", "b fel b"),
            ("ﬁle", "file"),
        ] {
            assert_eq!(group_key(odd), key, "{odd:?}");
        }
    }
}
