use super::group::Group;
use super::label::phrase_label;
use super::passes::{favour_mutual, merge, resolution_for, MAX_ROUNDS, PAIR_ROUNDS};
use super::*;
use crate::coding::evaluate::purity;
use crate::survey::Locale;

/// A small study: three areas, Swedish and English, repeated wordings, a
/// compound and a typo, as customers write.
const CORPUS: &[(&str, usize, &str)] = &[
    ("leveransen kom för sent", 3, "late"),
    ("sena leveranser", 2, "late"),
    ("leveransförsening", 1, "late"),
    ("försenad leverans", 2, "late"),
    ("leveranserna är alltid försenade", 1, "late"),
    ("late delivery", 3, "late"),
    ("delivery was late", 1, "late"),
    ("late delivey", 1, "late"),
    ("deliveries are always late", 1, "late"),
    ("fel på fakturan", 2, "invoice"),
    ("felaktig faktura", 2, "invoice"),
    ("fakturafel", 1, "invoice"),
    ("fakturan var fel", 1, "invoice"),
    ("wrong invoice", 3, "invoice"),
    ("invoice errors", 1, "invoice"),
    ("incorrect invoices", 1, "invoice"),
    ("webbshoppen fungerar inte", 2, "webshop"),
    ("webbshoppen kraschar", 1, "webshop"),
    ("webbshopen är seg", 1, "webshop"),
    ("web shop does not work", 2, "webshop"),
    ("the web shop crashes", 1, "webshop"),
    ("webshop bugs", 1, "webshop"),
];

fn corpus() -> (Vec<String>, Vec<usize>) {
    let labels = ["late", "invoice", "webshop"];
    let mut texts = Vec::new();
    let mut truth = Vec::new();
    for (text, times, label) in CORPUS {
        for _ in 0..*times {
            texts.push((*text).to_string());
            truth.push(labels.iter().position(|l| l == label).unwrap_or(0));
        }
    }
    (texts, truth)
}

fn mentions(texts: &[String]) -> Vec<MentionText<'_>> {
    texts.iter().map(|t| MentionText::new(t, None)).collect()
}

fn area_of(grouping: &Grouping, texts: &[String], text: &str) -> Option<usize> {
    let m = texts.iter().position(|t| t == text)?;
    grouping.assignments[m].map(|a| a.proposal)
}

#[test]
fn phrasings_of_one_problem_land_together() {
    let (texts, truth) = corpus();
    let grouping = group(&mentions(&texts), &GroupingOptions::default());
    let predicted: Vec<usize> = grouping
        .assignments
        .iter()
        .map(|a| a.map_or(usize::MAX, |a| a.proposal))
        .collect();
    // The three areas share no stem, so a mixed area would be a real fault;
    // 0.9 leaves room for one stray short text.
    let p = purity(&truth, &predicted);
    assert!(p >= 0.9, "purity {p}: {grouping:#?}");
    let late = area_of(&grouping, &texts, "leveransen kom för sent");
    assert!(late.is_some());
    for same in ["sena leveranser", "leveransförsening", "försenad leverans"] {
        assert_eq!(area_of(&grouping, &texts, same), late, "{same}");
    }
    let en = area_of(&grouping, &texts, "late delivery");
    assert!(en.is_some());
    assert_eq!(
        area_of(&grouping, &texts, "late delivey"),
        en,
        "a typo stays"
    );
    assert_ne!(area_of(&grouping, &texts, "wrong invoice"), en);
}

#[test]
fn areas_are_labelled_and_shown_with_distinct_examples() {
    let (texts, _) = corpus();
    let grouping = group(&mentions(&texts), &GroupingOptions::default());
    assert!(!grouping.proposals.is_empty());
    for area in &grouping.proposals {
        assert!(!area.label.is_empty());
        assert!(area.examples.len() <= 3 && !area.examples.is_empty());
        let shown: Vec<&str> = area.examples.iter().map(|&m| texts[m].as_str()).collect();
        let mut distinct = shown.clone();
        distinct.dedup();
        assert_eq!(shown.len(), distinct.len(), "{shown:?}");
    }
    let sizes: Vec<usize> = grouping.proposals.iter().map(|a| a.mentions).collect();
    assert!(
        sizes.windows(2).all(|w| w[0] >= w[1]),
        "largest first: {sizes:?}"
    );
    let late = area_of(&grouping, &texts, "late delivery").unwrap_or(usize::MAX);
    let label = &grouping.proposals[late].label;
    assert!(
        label.contains("late") || label.contains("delivery"),
        "{label}"
    );
}

#[test]
fn same_mentions_in_any_order_give_the_same_areas() {
    let (texts, _) = corpus();
    let first = group(&mentions(&texts), &GroupingOptions::default());
    let again = group(&mentions(&texts), &GroupingOptions::default());
    assert_eq!(first, again);

    let mut reversed = texts.clone();
    reversed.reverse();
    let other = group(&mentions(&reversed), &GroupingOptions::default());
    let label_of = |g: &Grouping, ts: &[String], t: &str| {
        area_of(g, ts, t).map(|a| g.proposals[a].label.clone())
    };
    for text in &texts {
        assert_eq!(
            label_of(&first, &texts, text),
            label_of(&other, &reversed, text),
            "{text}"
        );
    }
}

#[test]
fn a_fixed_number_of_areas_is_respected() {
    let (texts, _) = corpus();
    for k in [1, 2, 3] {
        let options = GroupingOptions {
            areas: Some(k),
            ..GroupingOptions::default()
        };
        let grouping = group(&mentions(&texts), &options);
        assert!(
            grouping.proposals.len() <= k,
            "k = {k}: {}",
            grouping.proposals.len()
        );
        assert!(!grouping.proposals.is_empty());
    }
}

#[test]
fn one_way_links_weigh_less() {
    let out = favour_mutual(vec![
        vec![(1, 0.8), (2, 0.6)],
        vec![(0, 0.8)],
        vec![(1, 0.4)],
    ]);
    assert_eq!(out[0], [(1, 0.8), (2, 0.3)]);
    assert_eq!(out[1], [(0, 0.8)]);
    assert_eq!(out[2], [(1, 0.2)]);
}

#[test]
fn small_graphs_get_a_milder_resolution() {
    assert_eq!(resolution_for(2.5, 0), 1.0);
    assert!((resolution_for(2.5, 250) - 1.75).abs() < 1e-9);
    assert_eq!(resolution_for(2.5, 10_000), 2.5);
    assert_eq!(resolution_for(0.8, 10), 0.8);
}

#[test]
fn a_shared_phrase_labels_an_area() {
    let analyzer = Analyzer::new();
    let texts = [
        "the exchange rate was wrong",
        "bad exchange rate again",
        "exchange rate is too high",
        "why this rate",
    ];
    let docs: Vec<Analysed> = texts
        .iter()
        .map(|t| analyzer.analyse(t, Some(Locale::En)))
        .collect();
    let refs: Vec<&Analysed> = docs.iter().collect();
    let terms = vec!["exchange".to_string(), "rate".to_string()];
    let label = phrase_label(&[0, 1, 2, 3], &refs, &[1, 1, 1, 1], &terms, 4);
    assert_eq!(label, "exchange rate");
    // No pair shared: the two most typical words.
    let label = phrase_label(&[3], &refs, &[1, 1, 1, 1], &terms, 1);
    assert_eq!(label, "exchange / rate");
}

#[test]
fn redaction_marks_are_never_a_label_or_a_typical_word() {
    let analyzer = Analyzer::new();
    let texts = [
        "XXXX XXXX reported a late payment on XX/XX/XXXX",
        "late payment reported by XXXX although I paid",
        "XXXX says my payment was late",
    ];
    let docs: Vec<Analysed> = texts
        .iter()
        .map(|t| analyzer.analyse(t, Some(Locale::En)))
        .collect();
    let refs: Vec<&Analysed> = docs.iter().collect();
    // The pair most texts share is "xxxx xxxx" or one with "xxxx" in it; the label
    // is the pair of words about the problem.
    let terms = vec!["payment".to_string(), "late".to_string()];
    let label = phrase_label(&[0, 1, 2], &refs, &[1, 1, 1], &terms, 3);
    assert_eq!(label, "late payment");
    assert!(label::is_redaction("XXXX") && label::is_redaction("xx"));
    assert!(!label::is_redaction("x") && !label::is_redaction("xbox"));

    let many: Vec<String> = (0..12)
        .map(|i| format!("XXXX XXXX charged a late fee on account XXXX number {i}"))
        .collect();
    let grouping = group(&mentions(&many), &GroupingOptions::default());
    assert!(!grouping.proposals.is_empty());
    for area in &grouping.proposals {
        assert!(!area.label.to_lowercase().contains("xx"), "{}", area.label);
        assert!(
            area.terms.iter().all(|t| !label::is_redaction(t)),
            "{:?}",
            area.terms
        );
    }
}

#[test]
fn bad_input_is_left_uncoded_without_panic() {
    let long = "leverans försenad ".repeat(600);
    let odd = [
        "",
        "   ",
        "🙂🙂🙂",
        "<p><br/></p>",
        long.as_str(),
        "<b>Leveransen</b> kom för sent &amp; late delivery 😡",
        "x",
    ];
    let texts: Vec<String> = odd.iter().map(|t| (*t).to_string()).collect();
    let before = texts.clone();
    let grouping = group(&mentions(&texts), &GroupingOptions::default());
    assert_eq!(texts, before, "texts are never changed");
    assert_eq!(grouping.assignments.len(), texts.len());
    for (text, assignment) in texts.iter().zip(&grouping.assignments).take(4) {
        assert_eq!(*assignment, None, "{text:?}");
    }
    assert!(group(&[], &GroupingOptions::default()).proposals.is_empty());
    let one = [MentionText::new("levtid", Some(Locale::Sv))];
    assert_eq!(
        group(&one, &GroupingOptions::default()).assignments.len(),
        1
    );
}

#[test]
fn groups_that_all_point_at_one_hub_merge_in_a_bounded_number_of_rounds() {
    // Group 0 is every other group's nearest (cosine 0.9, to each other
    // 0.81), and its own nearest is one of them: reciprocal pairs alone would
    // merge one group a round, 299 rounds.
    let n = 300u32;
    let spoke = (1.0f32 - 0.81).sqrt();
    let mut groups: Vec<Group> = vec![Group {
        ids: vec![0],
        sums: vec![1.0],
        size: 1,
        rank: 0,
        members: vec![0],
    }];
    groups.extend((1..n).map(|i| Group {
        ids: vec![0, i],
        sums: vec![0.9, spoke],
        size: 1,
        rank: i as usize,
        members: vec![i],
    }));
    let rounds = merge(&mut groups, n as usize, 0.5, None);
    assert_eq!(groups.len(), 1, "all at 0.9 to the hub: one group");
    let mut members = groups[0].members.clone();
    members.sort_unstable();
    assert_eq!(members, (0..n).collect::<Vec<_>>());
    assert!(rounds <= PAIR_ROUNDS + 2, "{rounds} rounds");
    assert!(rounds < MAX_ROUNDS);
}

#[test]
fn a_study_with_word_vectors_is_cut_by_the_settings_for_vectors() {
    // Five times the small study: over 100 short mentions, half of them
    // English, so the gate lets word vectors in when there is a table.
    let (texts, _) = corpus();
    let texts: Vec<String> = texts
        .iter()
        .cycle()
        .take(5 * texts.len())
        .cloned()
        .collect();
    let analyzer = Analyzer::new();
    let corpus = Corpus::build(&analyzer, &mentions(&texts));
    let all: Vec<u32> = (0..corpus.docs.len() as u32).collect();
    let table = WordVectors::parse(&crate::coding::word_vectors::tests::table(&[(
        1,
        "deliveri",
        [127, 0, 0],
    )]))
    .expect("valid table");
    let areas = |options: &GroupingOptions, with_table: bool| {
        group_docs_with(&corpus, &all, options, || with_table.then_some(&table))
            .proposals
            .len()
    };
    let plain = GroupingOptions::default();
    let fine_with_vectors = GroupingOptions {
        vectors_resolution: 30.0,
        vectors_same_area_similarity: 1.0,
        vectors_cohesion_factor: 100.0,
        ..GroupingOptions::default()
    };
    let fine_without_vectors = GroupingOptions {
        resolution: 30.0,
        same_area_similarity: 1.0,
        cohesion_factor: 100.0,
        ..GroupingOptions::default()
    };
    // Without word vectors the settings for them change nothing, the plain
    // ones decide...
    assert_eq!(areas(&fine_with_vectors, false), areas(&plain, false));
    assert!(areas(&fine_without_vectors, false) > areas(&plain, false));
    // ...with them it is the other way round.
    assert_eq!(areas(&fine_without_vectors, true), areas(&plain, true));
    assert!(
        areas(&fine_with_vectors, true) > areas(&plain, true),
        "{} areas, {} with the plain settings",
        areas(&fine_with_vectors, true),
        areas(&plain, true)
    );
}

#[test]
fn a_label_grows_to_the_phrase_most_mentions_share_as_they_write_it() {
    let analyzer = Analyzer::new();
    let label_of = |texts: &[&str], terms: &[&str], locale: Locale| {
        let docs: Vec<Analysed> = texts
            .iter()
            .map(|t| analyzer.analyse(t, Some(locale)))
            .collect();
        let refs: Vec<&Analysed> = docs.iter().collect();
        let all: Vec<u32> = (0..texts.len() as u32).collect();
        let terms: Vec<String> = terms.iter().map(|t| t.to_string()).collect();
        phrase_label(
            &all,
            &refs,
            &vec![1; texts.len()],
            &terms,
            texts.len() as u64,
        )
    };
    // Four in five share the longer phrase: it grows, stop words included.
    let label = label_of(
        &[
            "kundtjänst svarar aldrig på mejl",
            "kundtjänsten svarar aldrig på mejl",
            "de svarar aldrig på mejl alls",
            "svarar aldrig på mejl, tyvärr",
            "svarar aldrig på mejl",
        ],
        &["mejl", "svarar"],
        Locale::Sv,
    );
    assert_eq!(label, "svarar aldrig på mejl");
    // Stop words between the two words are written as most wrote them.
    let label = label_of(
        &[
            "my payment was late",
            "the payment was late again",
            "payment late",
        ],
        &["payment", "late"],
        Locale::En,
    );
    assert_eq!(label, "payment was late");
    // Only two of five go on the same way: the pair stays a pair.
    let label = label_of(
        &[
            "late delivery of the sofa",
            "late delivery of the sofa",
            "late delivery again",
            "very late delivery",
            "late delivery",
        ],
        &["late", "delivery"],
        Locale::En,
    );
    assert_eq!(label, "late delivery");
}
