//! The codebook: problem areas as analysts describe them in `codebook.toml`, parsed
//! and checked once. A codebook that parses can be matched without further errors;
//! a broken one is rejected with the file, the line and what to change.
//!
//! ```toml
//! [[area]]
//! id = "late-delivery"                 # stable id: a-z, 0-9, '-'
//! label = { sv = "Sena leveranser", en = "Late delivery" }
//! team = "logistics"                   # optional: who a routed complaint goes to
//! keywords = [
//!     "levtid",                        # a word, compared by its stem
//!     "leverans* sen*",                # a phrase; '*' ends a prefix
//!     "*försen*",                      # '*' on both ends: inside a compound
//!     "kom för sent",                  # stop words in phrases are ignored
//!     "late", "delay*",
//! ]
//! regex = ['\bv(ecka|\.)? ?\d+']       # optional, on the normalised text
//! ```
//!
//! This file only reads text it is given; reading the file from disk is the door's
//! job (CLI), which passes its name for error messages.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use regex::{Regex, RegexBuilder};
use serde::Deserialize;
use toml::Spanned;

use super::text::{normalise, token_kind, words, Analyzer, TokenKind};
use crate::source_lines::{one_line, LineIndex};
use crate::survey::Locale;

/// Compiled size limit for one regex: generous for any sane pattern, small enough
/// that a pathological one is rejected when the codebook is loaded.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// A problem area's stable id, such as `late-delivery`: lower-case ASCII letters,
/// digits and '-', starting with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AreaId(String);

impl AreaId {
    /// Parses an id, saying what is wrong with it when it is not one.
    pub fn parse(id: &str) -> Result<AreaId, String> {
        let well_formed = id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && id.chars().next().is_some_and(|c| c != '-');
        if well_formed {
            Ok(AreaId(id.to_string()))
        } else {
            Err(format!(
                "area id {id:?} must be lower-case letters a-z, digits and '-', such as \"late-delivery\""
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AreaId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A codebook that cannot be used, and where: `codebook.toml line 7: ...`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct CodebookError {
    /// The file name as the user gave it.
    pub file: String,
    /// 1-based line of the problem, when the parser could place it.
    pub line: Option<usize>,
    pub reason: String,
}

impl fmt::Display for CodebookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{} line {}: {}", self.file, line, self.reason),
            None => write!(f, "{}: {}", self.file, self.reason),
        }
    }
}

/// One term of a keyword.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Term {
    /// Matches a word with the same stem, in the mention's language.
    Stem { sv: String, en: String },
    /// Matches a word that starts with this (`leverans*`).
    Prefix(String),
    /// Matches a word that ends with this (`*fel`): the head of a Swedish compound.
    Suffix(String),
    /// Matches a word that contains this (`*försen*`): any part of a compound.
    Infix(String),
}

impl Term {
    pub(crate) fn matches(&self, word: &str, stem: &str, locale: Locale) -> bool {
        match self {
            Term::Stem { sv, en } => match locale {
                Locale::Sv => stem == sv,
                Locale::En => stem == en,
            },
            Term::Prefix(prefix) => word.starts_with(prefix.as_str()),
            Term::Suffix(suffix) => word.ends_with(suffix.as_str()),
            Term::Infix(infix) => word.contains(infix.as_str()),
        }
    }
}

/// A keyword or phrase of an area, as written and as compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keyword {
    /// As the analyst wrote it, for explanations: `leverans* sen*`.
    pub source: String,
    /// Where it is in the codebook.
    pub line: usize,
    pub(crate) terms: Vec<Term>,
}

/// A regular expression of an area, matched against the normalised text.
#[derive(Debug, Clone)]
pub struct Pattern {
    pub source: String,
    pub line: usize,
    pub(crate) regex: Regex,
}

/// One problem area of the codebook.
#[derive(Debug, Clone)]
pub struct Area {
    pub id: AreaId,
    /// The area's name per locale; at least one.
    pub labels: BTreeMap<Locale, String>,
    /// The team that owns the area (routing), if any.
    pub team: Option<String>,
    pub keywords: Vec<Keyword>,
    pub patterns: Vec<Pattern>,
    /// Line of the area's `id`.
    pub line: usize,
}

impl Area {
    /// The label in `locale`, else in any locale the codebook has, else the id.
    pub fn label(&self, locale: Locale) -> &str {
        self.labels
            .get(&locale)
            .or_else(|| self.labels.values().next())
            .map_or(self.id.as_str(), String::as_str)
    }
}

/// The analysts' problem areas, in the order written: earlier areas win ties.
#[derive(Debug, Clone, Default)]
pub struct Codebook {
    pub areas: Vec<Area>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCodebook {
    #[serde(default)]
    area: Vec<RawArea>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArea {
    id: Spanned<String>,
    label: Spanned<BTreeMap<String, String>>,
    team: Option<Spanned<String>>,
    #[serde(default)]
    keywords: Vec<Spanned<String>>,
    #[serde(default)]
    regex: Vec<Spanned<String>>,
}

impl Codebook {
    /// Parses and checks a codebook. `file` names it in error messages.
    pub fn parse(file: &str, source: &str) -> Result<Codebook, CodebookError> {
        let lines = LineIndex::new(source);
        let fail = |offset: Option<usize>, reason: String| CodebookError {
            file: file.to_string(),
            line: offset.map(|o| lines.line_of(o)),
            reason,
        };
        let raw: RawCodebook = toml::from_str(source).map_err(|e| {
            fail(
                e.span().map(|s| s.start),
                e.message().trim_end().to_string(),
            )
        })?;
        let analyzer = Analyzer::new();
        let mut seen = HashSet::new();
        let mut areas = Vec::with_capacity(raw.area.len());
        for raw_area in raw.area {
            let at = raw_area.id.span().start;
            let id = AreaId::parse(raw_area.id.get_ref()).map_err(|r| fail(Some(at), r))?;
            if !seen.insert(id.clone()) {
                return Err(fail(
                    Some(at),
                    format!("area id \"{id}\" is used twice; each area needs its own id"),
                ));
            }
            let in_area = |reason: String| format!("area \"{id}\": {reason}");
            let labels = parse_labels(raw_area.label.get_ref())
                .map_err(|r| fail(Some(raw_area.label.span().start), in_area(r)))?;
            let team = match raw_area.team {
                Some(team) if team.get_ref().trim().is_empty() => {
                    return Err(fail(
                        Some(team.span().start),
                        in_area("team is empty; name the team or leave `team` out".into()),
                    ))
                }
                Some(team) => Some(team.into_inner().trim().to_string()),
                None => None,
            };
            let mut keywords = Vec::with_capacity(raw_area.keywords.len());
            for keyword in &raw_area.keywords {
                let offset = keyword.span().start;
                let terms = parse_keyword(&analyzer, keyword.get_ref())
                    .map_err(|r| fail(Some(offset), in_area(r)))?;
                keywords.push(Keyword {
                    source: keyword.get_ref().trim().to_string(),
                    line: lines.line_of(offset),
                    terms,
                });
            }
            let mut patterns = Vec::with_capacity(raw_area.regex.len());
            for pattern in &raw_area.regex {
                let offset = pattern.span().start;
                let regex = RegexBuilder::new(pattern.get_ref())
                    .size_limit(REGEX_SIZE_LIMIT)
                    .build()
                    .map_err(|e| {
                        let reason = format!(
                            "regex {:?} is not valid: {}",
                            pattern.get_ref(),
                            one_line(&e.to_string())
                        );
                        fail(Some(offset), in_area(reason))
                    })?;
                patterns.push(Pattern {
                    source: pattern.get_ref().clone(),
                    line: lines.line_of(offset),
                    regex,
                });
            }
            areas.push(Area {
                id,
                labels,
                team,
                keywords,
                patterns,
                line: lines.line_of(at),
            });
        }
        Ok(Codebook { areas })
    }

    /// The area with this id.
    pub fn area(&self, id: &AreaId) -> Option<&Area> {
        self.areas.iter().find(|a| &a.id == id)
    }
}

fn parse_labels(raw: &BTreeMap<String, String>) -> Result<BTreeMap<Locale, String>, String> {
    let mut labels = BTreeMap::new();
    for (locale, label) in raw {
        let locale: Locale = locale.parse().map_err(|e| format!("label: {e}"))?;
        if label.trim().is_empty() {
            return Err(format!("label.{locale} is empty"));
        }
        labels.insert(locale, label.trim().to_string());
    }
    if labels.is_empty() {
        return Err("label needs at least one language, such as label = { sv = \"...\" }".into());
    }
    Ok(labels)
}

/// Compiles `leverans* sen*` into terms. Stop words are dropped, so "kom för sent"
/// matches "kom för sent" and "kom sent" alike. A '*' at the end of a word makes a
/// prefix, at its start a suffix, at both ends an infix (`*försen*` matches
/// "leveransförsening").
fn parse_keyword(analyzer: &Analyzer, keyword: &str) -> Result<Vec<Term>, String> {
    let mut terms = Vec::new();
    for raw_term in keyword.split_whitespace() {
        let (body, open_end) = match raw_term.strip_suffix('*') {
            Some(body) => (body, true),
            None => (raw_term, false),
        };
        let (body, open_start) = match body.strip_prefix('*') {
            Some(body) => (body, true),
            None => (body, false),
        };
        if body.contains('*') {
            return Err(format!(
                "keyword {keyword:?}: '*' may only start or end a word (\"leverans*\" matches words starting with \"leverans\", \"*fel\" words ending with \"fel\")"
            ));
        }
        let normalised = normalise(body);
        let parts: Vec<&str> = words(&normalised).collect();
        if (open_start || open_end) && parts.is_empty() {
            return Err(format!(
                "keyword {keyword:?}: a lone '*' matches every word"
            ));
        }
        let last = parts.len().saturating_sub(1);
        for (i, part) in parts.iter().enumerate() {
            let part = (*part).to_string();
            let term = match (open_start && i == 0, open_end && i == last) {
                (true, true) => Term::Infix(part),
                (true, false) => Term::Suffix(part),
                (false, true) => Term::Prefix(part),
                (false, false) if token_kind(&part) == TokenKind::Content => Term::Stem {
                    sv: analyzer.stem(&part, Locale::Sv).into_owned(),
                    en: analyzer.stem(&part, Locale::En).into_owned(),
                },
                (false, false) => continue,
            };
            terms.push(term);
        }
    }
    if terms.is_empty() {
        return Err(format!(
            "keyword {keyword:?} has no word a rule can match (empty, or only stop words such as \"och\", \"the\")"
        ));
    }
    Ok(terms)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[[area]]
id = "late-delivery"
label = { sv = "Sena leveranser", en = "Late delivery" }
team = "logistics"
keywords = ["levtid", "leverans* sen*", "kom för sent", "late"]
regex = ['\bv(ecka)? ?\d+']

[[area]]
id = "invoice-errors"
label.en = "Invoice errors"
keywords = ["faktura*", "invoic*"]
"#;

    fn error(source: &str) -> CodebookError {
        match Codebook::parse("codebook.toml", source) {
            Ok(_) => panic!("expected an error for:\n{source}"),
            Err(e) => e,
        }
    }

    #[test]
    fn a_good_codebook_keeps_areas_in_order_with_their_lines() {
        let codebook = Codebook::parse("codebook.toml", GOOD).expect("valid codebook");
        let ids: Vec<_> = codebook.areas.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["late-delivery", "invoice-errors"]);
        let late = &codebook.areas[0];
        assert_eq!(late.line, 3);
        assert_eq!(late.team.as_deref(), Some("logistics"));
        assert_eq!(late.label(Locale::Sv), "Sena leveranser");
        assert_eq!(late.keywords[1].source, "leverans* sen*");
        assert_eq!(late.keywords[1].line, 6);
        assert_eq!(late.keywords[2].terms.len(), 2, "'för' is a stop word");
        assert_eq!(codebook.areas[1].label(Locale::Sv), "Invoice errors");
    }

    #[test]
    fn toml_syntax_errors_name_the_line() {
        let e = error("[[area]]\nid = \"a\"\nlabel = { sv = \"A\" }\nkeywords = [\"x\",\n");
        assert_eq!(e.file, "codebook.toml");
        assert!(e.line.is_some_and(|l| l >= 4), "{e}");
        let e = error("[[area]]\nid = \"a\"\nlabel = { sv = \"A\" }\nkeyword = [\"x\"]\n");
        assert_eq!(e.line, Some(4), "{e}");
        assert!(e.reason.contains("keyword"), "{e}");
    }

    #[test]
    fn semantic_errors_name_the_line_and_what_to_do() {
        let e = error("[[area]]\nid = \"Late Delivery\"\nlabel.sv = \"x\"\n");
        assert_eq!(e.line, Some(2));
        assert!(
            e.to_string().starts_with("codebook.toml line 2: area id"),
            "{e}"
        );

        let e = error(
            "[[area]]\nid = \"a\"\nlabel.sv = \"x\"\n[[area]]\nid = \"a\"\nlabel.sv = \"y\"\n",
        );
        assert_eq!(e.line, Some(5));
        assert!(e.reason.contains("used twice"), "{e}");

        let e = error(
            "[[area]]\nid = \"a\"\nlabel.sv = \"x\"\nkeywords = [\n  \"ok\",\n  \"lev*rans\",\n]\n",
        );
        assert_eq!(e.line, Some(6));
        assert!(e.reason.contains("'*' may only start or end a word"), "{e}");

        let e = error("[[area]]\nid = \"a\"\nlabel.sv = \"x\"\nkeywords = [\"och det\"]\n");
        assert!(e.reason.contains("stop words"), "{e}");

        let e = error("[[area]]\nid = \"a\"\nlabel.sv = \"x\"\nregex = ['(unclosed']\n");
        assert_eq!(e.line, Some(4));
        assert!(e.reason.contains("regex \"(unclosed\" is not valid"), "{e}");

        let e = error("[[area]]\nid = \"a\"\nlabel.de = \"x\"\n");
        assert_eq!(e.line, Some(3));
        assert!(e.reason.contains("unknown locale"), "{e}");

        let e = error("[[area]]\nid = \"a\"\n");
        assert!(e.reason.contains("label"), "{e}");
    }

    #[test]
    fn an_empty_codebook_is_valid() {
        let codebook = Codebook::parse("codebook.toml", "").expect("empty is fine");
        assert!(codebook.areas.is_empty());
    }
}
