//! Small Swedish and English stop-word lists: words that say nothing about which
//! problem a customer means ("the", "och", "was", "för"). They are dropped from the
//! features automatic grouping compares, and skipped inside codebook phrases; they
//! stay in the token stream so nothing a customer wrote is lost.
//!
//! Based on the Snowball lists, trimmed of words that can carry a problem (modal and
//! tense forms such as "sent", Swedish for late, are not in them), and extended with
//! informal forms customers type ("e" for "är", "dom", "nån").

use std::sync::OnceLock;

use fnv::FnvHashMap as FnvMap;

/// Swedish stop words, sorted (checked by a test).
pub const SWEDISH: &[&str] = &[
    "alla", "allt", "att", "av", "bara", "blev", "bli", "blir", "blivit", "da", "de", "dem", "den",
    "denna", "deras", "dess", "dessa", "det", "detta", "dig", "din", "dina", "ditt", "dom", "du",
    "där", "då", "e", "efter", "ej", "eller", "en", "er", "era", "ert", "ett", "från", "för", "ha",
    "hade", "han", "hans", "har", "hela", "henne", "hennes", "hon", "honom", "hur", "här", "i",
    "icke", "ingen", "inom", "inte", "jag", "ju", "kan", "kunde", "man", "med", "mellan", "men",
    "mig", "min", "mina", "mitt", "mot", "mycket", "ni", "nu", "när", "någon", "något", "några",
    "nån", "och", "också", "om", "oss", "på", "samma", "sedan", "sig", "sin", "sina", "sitta",
    "själv", "skulle", "som", "så", "sådan", "sådana", "sådant", "till", "under", "upp", "ut",
    "utan", "vad", "var", "vara", "vare", "varför", "varit", "varje", "vars", "vart", "vem", "vi",
    "vid", "vilka", "vilkas", "vilken", "vilket", "vår", "våra", "vårt", "än", "är", "åt", "över",
];

/// English stop words, sorted (checked by a test).
pub const ENGLISH: &[&str] = &[
    "a",
    "about",
    "above",
    "after",
    "again",
    "against",
    "all",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "by",
    "can",
    "could",
    "did",
    "do",
    "does",
    "doing",
    "down",
    "during",
    "each",
    "few",
    "for",
    "from",
    "further",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "hers",
    "herself",
    "him",
    "himself",
    "his",
    "how",
    "i",
    "i'm",
    "if",
    "in",
    "into",
    "is",
    "it",
    "it's",
    "its",
    "itself",
    "just",
    "me",
    "more",
    "most",
    "my",
    "myself",
    "no",
    "nor",
    "not",
    "now",
    "of",
    "off",
    "on",
    "once",
    "only",
    "or",
    "other",
    "our",
    "ours",
    "ourselves",
    "out",
    "over",
    "own",
    "same",
    "she",
    "should",
    "so",
    "some",
    "such",
    "than",
    "that",
    "the",
    "their",
    "theirs",
    "them",
    "themselves",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "too",
    "under",
    "until",
    "up",
    "very",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "whom",
    "why",
    "will",
    "with",
    "would",
    "you",
    "your",
    "yours",
    "yourself",
    "yourselves",
];

/// Whether `word` (already lower-cased) is a stop word in either language. Both
/// lists apply to every mention: mixed-language mentions are common and the two
/// lists barely collide on words that matter.
pub fn is_stop_word(word: &str) -> bool {
    languages_of(word) != 0
}

const IS_SWEDISH: u8 = 1;
const IS_ENGLISH: u8 = 2;

/// Which lists hold `word` (bits `IS_SWEDISH`, `IS_ENGLISH`), through one hash
/// look-up built on first use: every token of every mention asks.
fn languages_of(word: &str) -> u8 {
    static TABLE: OnceLock<FnvMap<&'static str, u8>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut table = FnvMap::default();
        for w in SWEDISH {
            *table.entry(*w).or_insert(0) |= IS_SWEDISH;
        }
        for w in ENGLISH {
            *table.entry(*w).or_insert(0) |= IS_ENGLISH;
        }
        table
    });
    table.get(word).copied().unwrap_or(0)
}

/// How many of `words` are Swedish and English stop words: a cheap, robust
/// language signal for texts too short for letter statistics.
pub fn stop_word_votes<'a>(words: impl IntoIterator<Item = &'a str>) -> (usize, usize) {
    words.into_iter().fold((0, 0), |(sv, en), w| {
        let l = languages_of(w);
        (
            sv + usize::from(l & IS_SWEDISH != 0),
            en + usize::from(l & IS_ENGLISH != 0),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_sorted_for_binary_search() {
        assert!(
            SWEDISH.windows(2).all(|w| w[0] < w[1]),
            "SWEDISH is not sorted"
        );
        assert!(
            ENGLISH.windows(2).all(|w| w[0] < w[1]),
            "ENGLISH is not sorted"
        );
    }

    #[test]
    fn problem_words_are_not_stop_words() {
        for word in [
            "sent", "late", "leverans", "faktura", "fel", "wrong", "slow",
        ] {
            assert!(!is_stop_word(word), "{word} must count as content");
        }
        assert!(is_stop_word("för") && is_stop_word("the"));
    }
}
