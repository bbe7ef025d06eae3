//! A small Swedish-English glossary of the words customers use to describe
//! problems with a supplier, so that a Swedish and an English wording of one
//! problem share features: in "leveransen kom för sent" the known words count
//! as the English stems of "delivery" and "late" (their own character trigrams
//! stay).
//!
//! Written for this project (not taken from any dictionary) and under the
//! project's licence (MIT OR Apache-2.0). It covers general customer-service
//! vocabulary: delivery, orders, invoices and payments, support, prices, the web
//! shop, products and their faults, staff, documentation, marketing. A word it
//! lacks simply gets no bridge; nothing is downloaded.
//!
//! Each entry is a Swedish word and its English counterpart; both are stemmed as
//! the analyser stems them, so any inflection of the Swedish word finds the
//! English stem. Swedish compounds ("leveransförsening", "fakturafel") are split
//! into two known parts when the whole word is not in the list. The word lists
//! themselves are in `lexicon`, which language detection reads too.

use std::sync::OnceLock;

use super::text::Analyzer;
use crate::survey::Locale;
use fnv::FnvHashMap as FnvMap;

pub use super::lexicon::{BRIDGE_ONLY, SWEDISH_ENGLISH};

/// Swedish stem -> English stems, built once from [`SWEDISH_ENGLISH`], and
/// with [`BRIDGE_ONLY`] too when `bilingual`.
fn table(bilingual: bool) -> &'static FnvMap<String, Vec<String>> {
    static PROBLEM_WORDS: OnceLock<FnvMap<String, Vec<String>>> = OnceLock::new();
    static ALL_WORDS: OnceLock<FnvMap<String, Vec<String>>> = OnceLock::new();
    if bilingual {
        ALL_WORDS.get_or_init(|| build(&[SWEDISH_ENGLISH, BRIDGE_ONLY]))
    } else {
        PROBLEM_WORDS.get_or_init(|| build(&[SWEDISH_ENGLISH]))
    }
}

/// Every English stem the lists give for words of one Swedish stem, in list
/// order: "vara" (item) and "varor" (goods) share a stem, so a Swedish text
/// saying either meets English texts saying "items" and those saying "goods".
fn english_by_swedish_stem(
    analyzer: &Analyzer,
    lists: &[&[(&str, &str)]],
) -> FnvMap<String, Vec<String>> {
    let mut by_stem: FnvMap<String, Vec<String>> = FnvMap::default();
    for (sv, en) in lists.iter().copied().flatten() {
        let english = analyzer.stem(en, Locale::En).into_owned();
        let all = by_stem
            .entry(analyzer.stem(sv, Locale::Sv).into_owned())
            .or_default();
        if !all.contains(&english) {
            all.push(english);
        }
    }
    by_stem
}

fn build(lists: &[&[(&str, &str)]]) -> FnvMap<String, Vec<String>> {
    let analyzer = Analyzer::new();
    let by_stem = english_by_swedish_stem(&analyzer, lists);
    let mut table = FnvMap::default();
    for (sv, _) in lists.iter().copied().flatten() {
        let english = &by_stem[analyzer.stem(sv, Locale::Sv).as_ref()];
        // The word, its stem and the stems of its usual inflections (the
        // stemmer does not always bring "fakturan" and "faktura" together).
        let mut keys = vec![sv.to_string()];
        for ending in ["", "n", "en", "et", "na", "or", "ar", "er", "s"] {
            keys.push(
                analyzer
                    .stem(&format!("{sv}{ending}"), Locale::Sv)
                    .into_owned(),
            );
        }
        for key in keys {
            table.entry(key).or_insert_with(|| english.clone());
        }
    }
    table
}

/// The English stems a Swedish stem stands for: those of a known word (usually
/// one), those of both parts of a compound of two known words, none otherwise.
/// [`BRIDGE_ONLY`] words count only in a `bilingual` study.
pub fn english_of(swedish_stem: &str, bilingual: bool) -> Vec<&'static str> {
    let table = table(bilingual);
    if let Some(en) = table.get(swedish_stem) {
        return en.iter().map(String::as_str).collect();
    }
    // A compound: the longest known first part whose rest is known too
    // (allowing the linking "s" of "leveranstid").
    let bounds: Vec<usize> = swedish_stem.char_indices().map(|(i, _)| i).collect();
    for &at in bounds.iter().rev() {
        let (head, tail) = swedish_stem.split_at(at);
        if head.chars().count() < 3 || tail.chars().count() < 3 {
            continue;
        }
        if let Some(first) = table.get(head) {
            let tail = tail
                .strip_prefix('s')
                .filter(|t| table.contains_key(*t))
                .unwrap_or(tail);
            if let Some(second) = table.get(tail) {
                let mut both: Vec<&'static str> = Vec::new();
                for english in first.iter().chain(second) {
                    if !both.contains(&english.as_str()) {
                        both.push(english);
                    }
                }
                return both;
            }
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stems(word: &str) -> Vec<String> {
        let a = Analyzer::new();
        english_of(&a.stem(word, Locale::Sv), true)
            .into_iter()
            .map(String::from)
            .collect()
    }

    #[test]
    fn inflected_swedish_words_find_their_english_stem() {
        let a = Analyzer::new();
        let delivery = a.stem("delivery", Locale::En).into_owned();
        assert_eq!(stems("leveransen"), stems("leveranser"));
        assert_eq!(stems("leveranser"), [delivery]);
        assert_eq!(
            stems("fakturan")[0],
            a.stem("invoice", Locale::En).into_owned()
        );
    }

    #[test]
    fn a_swedish_stem_stands_for_every_english_word_given_for_it() {
        // "vara" (item) and "varor" (goods) are one Swedish stem.
        let a = Analyzer::new();
        let en = |w: &str| a.stem(w, Locale::En).into_owned();
        assert_eq!(stems("varorna"), [en("goods"), en("item")]);
        assert_eq!(stems("fakturerade"), [en("invoice"), en("bill")]);
    }

    #[test]
    fn swedish_words_bridge_to_english_content_words() {
        // "slut" (sold out) once gave "out", an English stop word that no
        // English text has as a feature.
        let a = Analyzer::new();
        let out = stems("slut");
        assert_eq!(out, [a.stem("sold", Locale::En).into_owned()]);
        assert!(out
            .iter()
            .all(|w| !crate::coding::stopwords::is_stop_word(w)));
    }

    #[test]
    fn compounds_of_two_known_words_give_both() {
        let a = Analyzer::new();
        let got = stems("leveransförsening");
        assert_eq!(
            got,
            [
                a.stem("delivery", Locale::En).into_owned(),
                a.stem("delay", Locale::En).into_owned()
            ]
        );
        assert!(stems("xyzzyplugh").is_empty());
    }

    #[test]
    fn everyday_complaint_words_find_their_english_stem() {
        let a = Analyzer::new();
        let en = |w: &str| a.stem(w, Locale::En).into_owned();
        assert_eq!(stems("timmar"), [en("hours")]);
        assert_eq!(stems("otrevligt"), [en("rude")]);
        assert_eq!(
            stems("leveransavisering"),
            [en("delivery"), en("notification")]
        );
        assert_eq!(stems("säkerhetsproblem"), [en("safety"), en("problem")]);
    }

    #[test]
    fn everyday_words_bridge_languages_only_in_a_bilingual_study() {
        let a = Analyzer::new();
        let send = a.stem("skicka", Locale::Sv);
        assert_eq!(
            english_of(&send, true),
            [a.stem("send", Locale::En), a.stem("sent", Locale::En)]
        );
        assert!(english_of(&send, false).is_empty());
        // "faktura" bridges everywhere; "fakturera" (bill), of the same stem,
        // only in a bilingual study.
        let invoice = a.stem("faktura", Locale::Sv);
        assert_eq!(english_of(&invoice, false), [a.stem("invoice", Locale::En)]);
        assert_eq!(
            english_of(&invoice, true),
            [a.stem("invoice", Locale::En), a.stem("bill", Locale::En)]
        );
    }
}
