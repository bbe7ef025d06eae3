//! Rule matching: which codebook area an analysed mention belongs to, and why.
//! Deterministic and self-explaining: the result names the keyword or regex as the
//! analyst wrote it and the words of the mention it matched.
//!
//! When several areas match, the area with the most matching keywords wins, then
//! the one with the longest matching phrase, then the one written first in the
//! codebook. The others are reported too, so an analyst can see overlaps.

use std::fmt;

use super::codebook::{Area, AreaId, Codebook, Keyword};
use super::text::{Analysed, Token, TokenKind};

/// Why a mention was coded into a codebook area.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleMatch {
    pub area: AreaId,
    /// The keyword or regex as written in the codebook: `leverans* sen*`.
    pub rule: String,
    /// The mention's words that matched, normalised: `leveransen sena`.
    pub matched: String,
    /// Other areas whose rules also matched, in codebook order.
    pub also: Vec<AreaId>,
}

impl fmt::Display for RuleMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "matched {} ({:?})", self.rule, self.matched)
    }
}

/// The best matching area of a codebook for one analysed mention, if any rule
/// matches.
pub fn match_rules(codebook: &Codebook, mention: &Analysed) -> Option<RuleMatch> {
    if codebook.areas.is_empty() {
        return None;
    }
    let content: Vec<&Token> = mention.content().collect();
    let needs_text = codebook.areas.iter().any(|a| !a.patterns.is_empty());
    let text = if needs_text {
        mention
            .tokens
            .iter()
            .map(|t| t.word.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        String::new()
    };

    let mut best: Option<(Score, usize, Hit)> = None;
    let mut matching = Vec::new();
    for (index, area) in codebook.areas.iter().enumerate() {
        let Some((score, hit)) = area_match(area, &content, mention, &text) else {
            continue;
        };
        matching.push(index);
        if best.as_ref().is_none_or(|(s, _, _)| score > *s) {
            best = Some((score, index, hit));
        }
    }
    let (_, winner, hit) = best?;
    Some(RuleMatch {
        area: codebook.areas[winner].id.clone(),
        rule: hit.rule,
        matched: hit.matched,
        also: matching
            .into_iter()
            .filter(|&i| i != winner)
            .map(|i| codebook.areas[i].id.clone())
            .collect(),
    })
}

/// How strongly an area matched: distinct matching rules, then longest phrase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Score {
    rules: usize,
    longest: usize,
}

struct Hit {
    rule: String,
    matched: String,
}

fn area_match(
    area: &Area,
    content: &[&Token],
    mention: &Analysed,
    text: &str,
) -> Option<(Score, Hit)> {
    let mut score = Score {
        rules: 0,
        longest: 0,
    };
    let mut first: Option<Hit> = None;
    for keyword in &area.keywords {
        if let Some(start) = find_keyword(keyword, content, mention) {
            let len = keyword.terms.len();
            score.rules += 1;
            // The explanation shows the most specific rule that matched.
            if len > score.longest || first.is_none() {
                score.longest = score.longest.max(len);
                first = Some(Hit {
                    rule: keyword.source.clone(),
                    matched: content[start..start + len]
                        .iter()
                        .map(|t| t.word.as_str())
                        .collect::<Vec<_>>()
                        .join(" "),
                });
            }
        }
    }
    for pattern in &area.patterns {
        if let Some(found) = pattern.regex.find(text) {
            score.rules += 1;
            if first.is_none() {
                score.longest = score.longest.max(1);
                first = Some(Hit {
                    rule: pattern.source.clone(),
                    matched: found.as_str().to_string(),
                });
            }
        }
    }
    first.map(|hit| (score, hit))
}

/// Where the keyword's terms match consecutive content words, if they do.
fn find_keyword(keyword: &Keyword, content: &[&Token], mention: &Analysed) -> Option<usize> {
    let n = keyword.terms.len();
    if n == 0 || n > content.len() {
        return None;
    }
    (0..=content.len() - n).find(|&start| {
        keyword
            .terms
            .iter()
            .zip(&content[start..])
            .all(|(term, token)| {
                debug_assert_eq!(token.kind, TokenKind::Content);
                term.matches(&token.word, &token.stem, mention.locale)
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coding::text::Analyzer;
    use crate::survey::Locale;

    const CODEBOOK: &str = r#"
[[area]]
id = "late-delivery"
label.sv = "Sena leveranser"
keywords = ["levtid", "leverans* sen*", "kom för sent", "*försen*", "late", "delay*"]

[[area]]
id = "damaged-goods"
label.sv = "Skadat gods"
keywords = ["skada*", "trasig*", "leverans* skada*", "damag*"]

[[area]]
id = "invoice-errors"
label.sv = "Fakturafel"
keywords = ["faktura*", "invoic*"]
regex = ['\bmoms\b']
"#;

    fn code(text: &str, locale: Option<Locale>) -> Option<RuleMatch> {
        let codebook = Codebook::parse("codebook.toml", CODEBOOK).expect("valid codebook");
        let analysed = Analyzer::new().analyse(text, locale);
        match_rules(&codebook, &analysed)
    }

    fn area(text: &str) -> Option<String> {
        code(text, None).map(|m| m.area.to_string())
    }

    #[test]
    fn a_rule_explains_itself() {
        let found = code("Leveransförseningar hela tiden", Some(Locale::Sv)).expect("a match");
        assert_eq!(found.area.as_str(), "late-delivery");
        assert_eq!(
            found.to_string(),
            r#"matched *försen* ("leveransförseningar")"#
        );
        let found = code("Leveransen kom för sent!", Some(Locale::Sv)).expect("a match");
        assert_eq!(found.rule, "kom för sent");
        assert_eq!(found.matched, "kom sent");
    }

    #[test]
    fn stems_match_inflected_forms_in_both_languages() {
        assert_eq!(
            area("the deliveries were delayed").as_deref(),
            Some("late-delivery")
        );
        assert_eq!(area("LATE delivery").as_deref(), Some("late-delivery"));
        assert_eq!(area("levtid").as_deref(), Some("late-delivery"));
        assert_eq!(
            area("incorrect invoices").as_deref(),
            Some("invoice-errors")
        );
    }

    #[test]
    fn regex_matches_the_normalised_text() {
        let found = code("Fel MOMS!", Some(Locale::Sv)).expect("a match");
        assert_eq!(found.area.as_str(), "invoice-errors");
        assert_eq!(found.rule, r"\bmoms\b");
        assert_eq!(found.matched, "moms");
    }

    #[test]
    fn the_stronger_match_wins_and_the_other_is_reported() {
        // Damaged goods: two rules ("leverans* skada*" and "skada*") beat one.
        let found = code("leveransen skadad", Some(Locale::Sv)).expect("a match");
        assert_eq!(found.area.as_str(), "damaged-goods");
        assert_eq!(found.rule, "leverans* skada*");
        // Equal strength: the area written first wins; the other is listed.
        let found = code("sen faktura", Some(Locale::Sv)).expect("a match");
        assert_eq!(found.area.as_str(), "invoice-errors");
        assert!(
            found.also.is_empty(),
            "'sen' alone is no rule of late-delivery"
        );
        let found = code("försenad faktura", Some(Locale::Sv)).expect("a match");
        assert_eq!(found.area.as_str(), "late-delivery");
        assert_eq!(found.also, [AreaId::parse("invoice-errors").expect("id")]);
    }

    #[test]
    fn no_rule_no_match_and_odd_input_is_fine() {
        assert_eq!(area("rude driver"), None);
        for text in ["", "🙂", "<b></b>", &"ö".repeat(10_000)] {
            assert_eq!(area(text), None);
        }
        let empty = Codebook::default();
        let analysed = Analyzer::new().analyse("late", None);
        assert_eq!(match_rules(&empty, &analysed), None);
    }
}
