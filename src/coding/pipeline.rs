//! Coding a batch of mentions: codebook rules first, automatic grouping for what
//! no rule covers. Returns one [`Coding`] per mention, in input order, saying which
//! area it counts in and how that was decided; the text itself is never changed.
//!
//! Analyst decisions (rename, merge, split, move, accept) are not made here: the
//! result carries enough (rule and words, or proposal and similarity) for the
//! door that stores it to keep a decided mention's area when coding runs again.

use rayon::prelude::*;

use super::codebook::Codebook;
use super::corpus::{Corpus, MentionText};
use super::grouping::{group_docs, Assignment, GroupingOptions, ProposedArea};
use super::rules::{match_rules, RuleMatch};
use super::text::Analyzer;

/// How one mention was coded.
#[derive(Debug, Clone, PartialEq)]
pub enum Coding {
    /// A codebook rule matched: the area and the explanation.
    Rule(RuleMatch),
    /// No rule matched; automatic grouping proposes an area
    /// (`CodingResult::proposals[proposal]`).
    Automatic(Assignment),
    /// Neither: no content words, or too unlike every proposed area.
    Uncoded,
}

/// Codings of a batch, in input order, and the areas grouping proposes.
#[derive(Debug, Clone, PartialEq)]
pub struct CodingResult {
    pub codings: Vec<Coding>,
    pub proposals: Vec<ProposedArea>,
}

impl CodingResult {
    /// How many mentions rules, grouping and nothing coded.
    pub fn tally(&self) -> (usize, usize, usize) {
        self.codings.iter().fold((0, 0, 0), |(r, a, u), c| match c {
            Coding::Rule(_) => (r + 1, a, u),
            Coding::Automatic(_) => (r, a + 1, u),
            Coding::Uncoded => (r, a, u + 1),
        })
    }
}

/// Codes mentions with a codebook's rules, then groups those no rule covers.
pub fn code_mentions(
    mentions: &[MentionText<'_>],
    codebook: &Codebook,
    options: &GroupingOptions,
) -> CodingResult {
    let analyzer = Analyzer::new();
    let corpus = Corpus::build(&analyzer, mentions);
    let rules: Vec<Option<RuleMatch>> = corpus
        .docs
        .par_iter()
        .map(|doc| match_rules(codebook, doc))
        .collect();
    let uncovered: Vec<u32> = (0..corpus.docs.len() as u32)
        .filter(|&d| rules[d as usize].is_none())
        .collect();
    let grouping = group_docs(&corpus, &uncovered, options);
    let mut automatic: Vec<Option<Assignment>> = vec![None; corpus.docs.len()];
    for (&doc, assignment) in uncovered.iter().zip(grouping.assignments) {
        automatic[doc as usize] = assignment;
    }
    let codings = corpus
        .doc_of
        .par_iter()
        .map(|&doc| {
            let doc = doc as usize;
            match (&rules[doc], automatic[doc]) {
                (Some(rule), _) => Coding::Rule(rule.clone()),
                (None, Some(assignment)) => Coding::Automatic(assignment),
                (None, None) => Coding::Uncoded,
            }
        })
        .collect();
    CodingResult {
        codings,
        proposals: grouping.proposals,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::survey::Locale;
    use proptest::prelude::*;

    const CODEBOOK: &str = r#"
[[area]]
id = "late-delivery"
label = { sv = "Sena leveranser", en = "Late delivery" }
keywords = ["*försen*", "levtid", "late", "sen* leverans*"]
"#;

    fn codebook() -> Codebook {
        Codebook::parse("codebook.toml", CODEBOOK).unwrap_or_default()
    }

    #[test]
    fn rules_first_then_grouping_for_the_rest() {
        let texts = [
            "Leveransförsening igen",
            "levtid",
            "fel på fakturan",
            "fel på fakturan",
            "felaktig faktura",
            "🙂",
        ];
        let mentions: Vec<_> = texts.iter().map(|t| MentionText::new(t, None)).collect();
        let result = code_mentions(&mentions, &codebook(), &GroupingOptions::default());
        assert_eq!(result.codings.len(), texts.len());
        match &result.codings[0] {
            Coding::Rule(rule) => {
                assert_eq!(rule.area.as_str(), "late-delivery");
                assert_eq!(
                    rule.to_string(),
                    r#"matched *försen* ("leveransförsening")"#
                );
            }
            other => panic!("expected a rule: {other:?}"),
        }
        assert!(matches!(result.codings[1], Coding::Rule(_)));
        let invoice = |c: &Coding| match c {
            Coding::Automatic(a) => Some(a.proposal),
            _ => None,
        };
        assert!(invoice(&result.codings[2]).is_some());
        assert_eq!(invoice(&result.codings[2]), invoice(&result.codings[4]));
        assert_eq!(result.codings[5], Coding::Uncoded);
        assert_eq!(result.tally(), (2, 3, 1));
    }

    #[test]
    fn coding_is_deterministic() {
        let texts: Vec<String> = (0..200)
            .map(|i| {
                [
                    "late delivery",
                    "sena leveranser",
                    "fel faktura",
                    "wrong invoice",
                ][i % 4]
            })
            .enumerate()
            .map(|(i, t)| {
                if i % 7 == 0 {
                    format!("{t}!!")
                } else {
                    t.to_string()
                }
            })
            .collect();
        let mentions: Vec<_> = texts
            .iter()
            .map(|t| MentionText::new(t, Some(Locale::En)))
            .collect();
        let a = code_mentions(&mentions, &codebook(), &GroupingOptions::default());
        let b = code_mentions(&mentions, &codebook(), &GroupingOptions::default());
        assert_eq!(a, b);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn any_text_is_coded_without_panic(texts in prop::collection::vec(".{0,200}", 0..20)) {
            let mentions: Vec<_> = texts.iter().map(|t| MentionText::new(t, None)).collect();
            let result = code_mentions(&mentions, &codebook(), &GroupingOptions::default());
            prop_assert_eq!(result.codings.len(), texts.len());
            for coding in &result.codings {
                if let Coding::Automatic(a) = coding {
                    prop_assert!(a.proposal < result.proposals.len());
                    prop_assert!((0.0..=1.0).contains(&a.similarity));
                }
            }
        }
    }
}
