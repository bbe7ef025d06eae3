//! Tests of learned coding.

use super::*;
use crate::survey::Locale;

const EXAMPLES: &[(&str, usize)] = &[
    ("my card has not arrived yet", 0),
    ("still waiting for my new card", 0),
    ("when will the card arrive", 0),
    ("card not delivered", 0),
    ("the exchange rate was wrong", 1),
    ("why is the exchange rate so bad", 1),
    ("you used the wrong rate for my currency", 1),
    ("currency conversion rate is off", 1),
    ("leveransen kom för sent", 2),
    ("sena leveranser igen", 2),
    ("försenad leverans", 2),
];

fn model() -> (Analyzer, Learned) {
    let analyzer = Analyzer::new();
    let texts: Vec<MentionText<'_>> = EXAMPLES
        .iter()
        .map(|(t, _)| MentionText::new(t, None))
        .collect();
    let labels: Vec<usize> = EXAMPLES.iter().map(|e| e.1).collect();
    let model = Learned::train(&analyzer, &texts, &labels, 3, &LearningOptions::default());
    (analyzer, model)
}

#[test]
fn new_wordings_go_where_the_decisions_point() {
    let (analyzer, model) = model();
    let new = [
        ("has my card arrived", 0),
        ("bad exchange rate", 1),
        ("leveranserna är försenade", 2),
    ];
    let mentions: Vec<_> = new.iter().map(|(t, _)| MentionText::new(t, None)).collect();
    let out = model.suggest(&analyzer, &mentions);
    for ((text, want), got) in new.iter().zip(&out) {
        let got = got
            .as_ref()
            .unwrap_or_else(|| panic!("{text}: no suggestion"));
        assert_eq!(got.area, *want, "{text}: {got:?}");
        assert!(!got.words.is_empty(), "{text}: {got:?}");
    }
    let sum: f32 = {
        let s = out[0].as_ref().map(|s| s.probability).unwrap_or(0.0);
        s + out[0]
            .as_ref()
            .map_or(0.0, |s| s.nearest.iter().map(|n| n.1).sum())
    };
    assert!(sum <= 1.0 + 1e-4);
}

#[test]
fn unrelated_text_is_unsure_and_says_why() {
    let (analyzer, model) = model();
    let out = model.suggest(
        &analyzer,
        &[
            MentionText::new("the parking lot was full", Some(Locale::En)),
            MentionText::new("🙂", None),
        ],
    );
    assert_eq!(out[1], None, "no content words, no suggestion");
    let s = out[0].as_ref().expect("a suggestion");
    assert!(!s.sure, "{s:?}");
    let reason = s.reason(|a| format!("area {a}"));
    assert!(reason.starts_with("unsure: area"), "{reason}");
    assert!(reason.contains(", or area"), "{reason}");
}

#[test]
fn training_is_deterministic() {
    let (analyzer, a) = model();
    let (_, b) = model();
    let m = [MentionText::new("card exchange leverans", None)];
    assert_eq!(a.suggest(&analyzer, &m), b.suggest(&analyzer, &m));
    assert_eq!(a.weights, b.weights);
}

#[test]
fn no_examples_give_a_model_that_is_never_sure() {
    let analyzer = Analyzer::new();
    let model = Learned::train(&analyzer, &[], &[], 2, &LearningOptions::default());
    let out = model.suggest(&analyzer, &[MentionText::new("anything at all", None)]);
    assert!(out[0].as_ref().is_none_or(|s| !s.sure));
}

/// 4 problems x 4 wordings x 8 ways to start = 128 short English
/// decisions; none says "duplicate", "payment" or "statement".
#[cfg(feature = "word-vectors")]
fn bank_decisions() -> (Vec<String>, Vec<usize>) {
    let problems = [
        [
            "i was charged twice",
            "you billed me two times",
            "double charge on my card",
            "the same purchase was taken twice",
        ],
        [
            "my card has not arrived",
            "still waiting for my new card",
            "the card never came in the mail",
            "when will my card be delivered",
        ],
        [
            "the exchange rate was wrong",
            "bad currency conversion",
            "you used the wrong rate for euros",
            "foreign exchange cost too much",
        ],
        [
            "i want to close my account",
            "how do i delete my account",
            "please cancel my membership",
            "terminate my account now",
        ],
    ];
    let starts = [
        "", "hi ", "hello ", "help ", "urgent ", "why ", "again ", "so ",
    ];
    let mut texts = Vec::new();
    let mut labels = Vec::new();
    for (label, wordings) in problems.iter().enumerate() {
        for wording in wordings {
            for start in starts {
                texts.push(format!("{start}{wording}"));
                labels.push(label);
            }
        }
    }
    (texts, labels)
}

#[test]
#[cfg(feature = "word-vectors")]
fn with_word_vectors_a_wording_sharing_no_word_goes_where_the_decisions_point() {
    let table: &'static WordVectors = Box::leak(Box::new(
        WordVectors::shipped().expect("built with the table"),
    ));
    let analyzer = Analyzer::new();
    let (texts, labels) = bank_decisions();
    let examples: Vec<MentionText<'_>> = texts.iter().map(|t| MentionText::new(t, None)).collect();
    let options = LearningOptions::default();
    let train = |table| Learned::train_with(&analyzer, &examples, &labels, 4, &options, table);
    let (with, without) = (train(Some(table)), train(None));
    assert!(with.dense.is_some() && without.dense.is_none());
    let new = [MentionText::new(
        "there is a duplicate payment on my statement",
        None,
    )];
    let got = with.suggest(&analyzer, &new)[0]
        .clone()
        .expect("a suggestion");
    assert_eq!(got.area, 0, "{got:?}");
    // Its stems and trigrams alone point elsewhere or barely here.
    let alone = without.suggest(&analyzer, &new)[0].clone();
    let p_alone = alone
        .as_ref()
        .map_or(0.0, |s| if s.area == 0 { s.probability } else { 0.0 });
    assert!(got.probability > p_alone + 0.2, "{got:?} against {alone:?}");
    // A study of long or Swedish texts, or a handful, gets none.
    let few = Learned::train_with(
        &analyzer,
        &examples[..40],
        &labels[..40],
        4,
        &options,
        Some(table),
    );
    assert!(few.dense.is_none(), "under 100 examples");
}

#[test]
fn permutation_is_a_permutation() {
    let mut p = permutation(100, 7);
    assert_ne!(p, (0..100).collect::<Vec<_>>());
    p.sort_unstable();
    assert_eq!(p, (0..100).collect::<Vec<_>>());
    assert!(permutation(0, 1).is_empty());
}
