//! `routing.toml` parsed and checked, and the rules applied to one problem's facts:
//! which rule fires, for which teams, and why. Pure: no database. A team's own
//! table (`[teams.ID]`: addresses, webhook, service levels) is checked in `teams.rs`.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::teams::{check_team, Team, TeamToml};
use crate::coding::group_key;
use crate::error::Result;
use crate::survey::Locale;

/// A routing file that cannot be used, with where and why.
#[derive(Debug, thiserror::Error)]
#[error("{file}:\n{}", problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
pub struct RoutingError {
    pub file: String,
    pub problems: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoutingToml {
    #[serde(default)]
    teams: BTreeMap<String, TeamToml>,
    #[serde(default)]
    rules: Vec<RuleToml>,
    /// Per locale, readable names of contact attributes (`customer_type`) and
    /// their values (`customer_type.current`).
    #[serde(default)]
    labels: BTreeMap<String, BTreeMap<String, String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleToml {
    name: String,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    areas: Vec<String>,
    max_rank: Option<u32>,
    #[serde(default)]
    segment: BTreeMap<String, String>,
    teams: Vec<String>,
}

/// A keyword: a whole word, a prefix (`leverans*`), or a phrase of several words.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Keyword {
    written: String,
    words: Vec<String>,
    prefix_last: bool,
}

impl Keyword {
    fn parse(written: &str) -> Option<Keyword> {
        let trimmed = written.trim();
        let prefix_last = trimmed.ends_with('*');
        let words: Vec<String> = group_key(trimmed.trim_end_matches('*'))
            .split(' ')
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect();
        (!words.is_empty()).then(|| Keyword {
            written: trimmed.to_string(),
            words,
            prefix_last,
        })
    }

    /// The words of `tokens` this keyword matched, if it did.
    fn find<'t>(&self, tokens: &'t [&'t str]) -> Option<String> {
        let n = self.words.len();
        if tokens.len() < n {
            return None;
        }
        (0..=tokens.len() - n).find_map(|start| {
            let window = &tokens[start..start + n];
            let hit = window
                .iter()
                .zip(&self.words)
                .enumerate()
                .all(|(i, (t, w))| {
                    if i == n - 1 && self.prefix_last {
                        t.starts_with(w.as_str())
                    } else {
                        *t == w
                    }
                });
            hit.then(|| window.join(" "))
        })
    }
}

/// One rule: all its conditions must hold.
#[derive(Debug, Clone)]
pub struct Rule {
    pub name: String,
    keywords: Vec<Keyword>,
    areas: Vec<String>,
    pub max_rank: Option<u32>,
    pub segment: BTreeMap<String, String>,
    pub teams: Vec<String>,
}

/// A survey's routing rules, validated.
#[derive(Debug, Clone)]
pub struct Routing {
    pub teams: BTreeMap<String, Team>,
    pub rules: Vec<Rule>,
    /// Readable attribute names and values per locale (`[labels.sv]`).
    labels: BTreeMap<Locale, BTreeMap<String, String>>,
    /// The file as written, stored with the survey.
    pub source: String,
}

/// What routing needs to know about one mention.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    pub text: &'a str,
    pub rank: u32,
    /// The mention's area label, when it has been coded.
    pub area: Option<&'a str>,
    pub segments: &'a BTreeMap<String, String>,
}

/// A rule that fired, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fired {
    pub rule: String,
    pub teams: Vec<String>,
    /// The reasons in English, for the command line (`pds route test`).
    pub why: String,
    /// The same reasons as data, for emails to say in their own language.
    pub reasons: Vec<Reason>,
}

/// One condition of a rule that held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    Keyword { keyword: String, matched: String },
    Area { area: String },
    Rank { rank: u32, max: u32 },
    Segment { key: String, value: String },
}

impl Reason {
    fn english(&self) -> String {
        match self {
            Reason::Keyword { keyword, matched } => {
                format!("keyword {keyword:?} matched {matched:?}")
            }
            Reason::Area { area } => format!("area {area:?}"),
            Reason::Rank { rank, max } => format!("rank {rank} (at most {max})"),
            Reason::Segment { key, value } => format!("{key} = {value}"),
        }
    }
}

impl Routing {
    /// Parses and checks `routing.toml`; every problem is reported with its line.
    pub fn parse(source: &str, file: &str) -> Result<Routing, RoutingError> {
        let fail = |problems| RoutingError {
            file: file.to_string(),
            problems,
        };
        let raw = read_toml(source).map_err(|problem| fail(vec![problem]))?;
        let line_of = |needle: &str| line_prefix(source, needle);
        let mut problems = Vec::new();
        let mut teams = BTreeMap::new();
        for (id, team) in raw.teams {
            let at = line_of(&format!("[teams.{id}]"));
            let checked = check_team(&id, team, &mut |p| problems.push(format!("{at}{p}")));
            teams.insert(id, checked);
        }
        let labels = check_labels(raw.labels, &line_of, &mut problems);
        let mut rules = Vec::new();
        let mut names = std::collections::BTreeSet::new();
        for rule in raw.rules {
            let at = line_of(&format!("\"{}\"", rule.name));
            // Teams and `pds route test` name a rule by its name: it must say which.
            if !names.insert(rule.name.clone()) {
                problems.push(format!(
                    "{at}rule name {:?} is used by two rules; give each rule a name of its own",
                    rule.name
                ));
            }
            rules.push(check_rule(rule, &teams, &mut |p| {
                problems.push(format!("{at}{p}"))
            }));
        }
        if problems.is_empty() {
            Ok(Routing {
                teams,
                rules,
                labels,
                source: source.to_string(),
            })
        } else {
            Err(fail(problems))
        }
    }

    /// Every rule that fires for this mention, with the reason.
    pub fn route(&self, facts: &Facts<'_>) -> Vec<Fired> {
        self.route_keyed(facts, &group_key(facts.text))
    }

    /// [`Routing::route`] with the mention's text already normalised by `group_key`.
    pub(super) fn route_keyed(&self, facts: &Facts<'_>, key: &str) -> Vec<Fired> {
        let tokens: Vec<&str> = key.split(' ').filter(|t| !t.is_empty()).collect();
        let area_key = facts.area.map(group_key);
        self.rules
            .iter()
            .filter_map(|rule| {
                let mut reasons = Vec::new();
                if !rule.keywords.is_empty() {
                    let (keyword, matched) = rule
                        .keywords
                        .iter()
                        .find_map(|k| k.find(&tokens).map(|w| (k, w)))?;
                    reasons.push(Reason::Keyword {
                        keyword: keyword.written.clone(),
                        matched,
                    });
                }
                if !rule.areas.is_empty() {
                    let area = area_key.as_deref().unwrap_or(key);
                    if !rule.areas.iter().any(|a| a == area) {
                        return None;
                    }
                    reasons.push(Reason::Area {
                        area: area.to_string(),
                    });
                }
                if let Some(max) = rule.max_rank {
                    if facts.rank > max {
                        return None;
                    }
                    reasons.push(Reason::Rank {
                        rank: facts.rank,
                        max,
                    });
                }
                for (k, v) in &rule.segment {
                    if facts.segments.get(k) != Some(v) {
                        return None;
                    }
                    reasons.push(Reason::Segment {
                        key: k.clone(),
                        value: v.clone(),
                    });
                }
                Some(Fired {
                    rule: rule.name.clone(),
                    teams: rule.teams.clone(),
                    why: reasons
                        .iter()
                        .map(Reason::english)
                        .collect::<Vec<_>>()
                        .join("; "),
                    reasons,
                })
            })
            .collect()
    }
}

impl Routing {
    /// A contact attribute's name as `[labels.LOCALE]` gives it, else the key
    /// made readable (`customer_type` -> `Customer type`).
    pub fn attribute_label(&self, locale: Locale, key: &str) -> String {
        match self.labels.get(&locale).and_then(|l| l.get(key)) {
            Some(label) => label.clone(),
            None => {
                let spaced = key.replace(['_', '-'], " ");
                let mut chars = spaced.chars();
                chars
                    .next()
                    .map(|c| c.to_uppercase().chain(chars).collect())
                    .unwrap_or_default()
            }
        }
    }

    /// An attribute's value as `[labels.LOCALE]` gives it (`"customer_type.current"`),
    /// else the value with underscores as spaces.
    pub fn value_label(&self, locale: Locale, key: &str, value: &str) -> String {
        self.labels
            .get(&locale)
            .and_then(|l| l.get(&format!("{key}.{value}")))
            .cloned()
            .unwrap_or_else(|| value.replace('_', " "))
    }
}

/// The TOML read into its tables, or the parser's complaint with its line.
fn read_toml(source: &str) -> std::result::Result<RoutingToml, String> {
    toml::from_str(source).map_err(|e| {
        let line = e
            .span()
            .map(|s| source[..s.start.min(source.len())].lines().count().max(1));
        let message = e.message().to_string();
        match line {
            Some(l) => format!("line {l}: {message}"),
            None => message,
        }
    })
}

/// `line N: ` for the first line holding `needle`, or nothing.
fn line_prefix(source: &str, needle: &str) -> String {
    source
        .lines()
        .position(|l| l.contains(needle))
        .map(|i| format!("line {}: ", i + 1))
        .unwrap_or_default()
}

/// The `[labels.LOCALE]` tables by parsed locale; an unknown locale is a problem.
fn check_labels(
    raw: BTreeMap<String, BTreeMap<String, String>>,
    line_of: &dyn Fn(&str) -> String,
    problems: &mut Vec<String>,
) -> BTreeMap<Locale, BTreeMap<String, String>> {
    let mut labels = BTreeMap::new();
    for (locale, names) in raw {
        match locale.parse::<Locale>() {
            Ok(l) => {
                labels.insert(l, names);
            }
            Err(e) => problems.push(format!(
                "{}[labels.{locale}]: {e}",
                line_of(&format!("[labels.{locale}]"))
            )),
        }
    }
    labels
}

/// Checks one `[[rules]]` entry against the teams; each problem goes to `problem`.
fn check_rule(
    rule: RuleToml,
    teams: &BTreeMap<String, Team>,
    problem: &mut dyn FnMut(String),
) -> Rule {
    if rule.keywords.is_empty()
        && rule.areas.is_empty()
        && rule.max_rank.is_none()
        && rule.segment.is_empty()
    {
        problem(format!(
            "rule {:?} has no condition; give it keywords, areas, max_rank or segment",
            rule.name
        ));
    }
    if rule.teams.is_empty() {
        problem(format!("rule {:?} names no team", rule.name));
    }
    for team in &rule.teams {
        if !teams.contains_key(team) {
            problem(format!("rule {:?}: no team {team:?} in [teams]", rule.name));
        }
    }
    if rule.max_rank == Some(0) {
        problem(format!("rule {:?}: max_rank must be 1 or more", rule.name));
    }
    let mut keywords = Vec::new();
    for k in &rule.keywords {
        match Keyword::parse(k) {
            Some(kw) => keywords.push(kw),
            None => problem(format!(
                "rule {:?}: keyword {k:?} has no letters or digits",
                rule.name
            )),
        }
    }
    Rule {
        name: rule.name,
        keywords,
        areas: rule.areas.iter().map(|a| group_key(a)).collect(),
        max_rank: rule.max_rank,
        segment: rule.segment,
        teams: rule.teams,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_rules_may_not_share_a_name() {
        let source = "[teams.ops]\nname = \"Ops\"\nemails = [\"ops@example.com\"]\n\n\
                      [[rules]]\nname = \"late\"\nkeywords = [\"late\"]\nteams = [\"ops\"]\n\n\
                      [[rules]]\nname = \"late\"\nkeywords = [\"slow\"]\nteams = [\"ops\"]\n";
        let err = Routing::parse(source, "routing.toml")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("rule name \"late\" is used by two rules"),
            "{err}"
        );
    }

    const EXAMPLE: &str = r#"
[teams.logistics]
name = "Logistics"
emails = ["logistics@nordvik.example"]
locale = "sv"

[teams.billing]
name = "Billing"
emails = ["billing@nordvik.example"]

[[rules]]
name = "late deliveries"
keywords = ["leverans*", "kom för sent", "late"]
teams = ["logistics"]

[[rules]]
name = "top billing"
keywords = ["faktur*", "invoice*"]
max_rank = 1
segment = { customer_type = "current" }
teams = ["billing"]
"#;

    fn segments(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn keywords_match_prefixes_and_phrases_and_say_why() {
        let routing = Routing::parse(EXAMPLE, "routing.toml").unwrap();
        let none = segments(&[]);
        let fired = routing.route(&Facts {
            text: "Leveransen kom två veckor för sent!",
            rank: 3,
            area: None,
            segments: &none,
        });
        assert_eq!(fired.len(), 1);
        assert_eq!(fired[0].rule, "late deliveries");
        assert_eq!(fired[0].why, "keyword \"leverans*\" matched \"leveransen\"");
        let fired = routing.route(&Facts {
            text: "it KOM FÖR SENT",
            rank: 1,
            area: None,
            segments: &none,
        });
        assert_eq!(
            fired[0].why,
            "keyword \"kom för sent\" matched \"kom för sent\""
        );
        assert!(
            routing
                .route(&Facts {
                    text: "chocolate",
                    rank: 1,
                    area: None,
                    segments: &none
                })
                .is_empty(),
            "whole words only"
        );
    }

    #[test]
    fn every_condition_of_a_rule_must_hold() {
        let routing = Routing::parse(EXAMPLE, "routing.toml").unwrap();
        let current = segments(&[("customer_type", "current")]);
        let lost = segments(&[("customer_type", "lost")]);
        let text = "Fakturan var fel";
        assert_eq!(
            routing
                .route(&Facts {
                    text,
                    rank: 1,
                    area: None,
                    segments: &current
                })
                .len(),
            1
        );
        assert!(routing
            .route(&Facts {
                text,
                rank: 2,
                area: None,
                segments: &current
            })
            .is_empty());
        assert!(routing
            .route(&Facts {
                text,
                rank: 1,
                area: None,
                segments: &lost
            })
            .is_empty());
        let fired = routing.route(&Facts {
            text,
            rank: 1,
            area: None,
            segments: &current,
        });
        assert_eq!(
            fired[0].why,
            "keyword \"faktur*\" matched \"fakturan\"; rank 1 (at most 1); customer_type = current"
        );
    }

    #[test]
    fn broken_files_are_reported_with_lines() {
        let err = Routing::parse("[teams.a]\nname = \"A\"\nemails = [\"nope\"]\n\n[[rules]]\nname = \"r\"\nteams = [\"b\"]\n", "routing.toml")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 1: team \"a\": \"nope\" is not an email address"),
            "{err}"
        );
        assert!(err.contains("line 6: rule \"r\" has no condition"), "{err}");
        assert!(err.contains("no team \"b\""), "{err}");
        let err = Routing::parse("[teams.a]\nname = 3\n", "routing.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2"), "{err}");
    }
}
