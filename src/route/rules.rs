//! `routing.toml` parsed and checked, and the rules applied to one problem's facts:
//! which rule fires, for which teams, and why. Pure: no database.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::coding::group_key;
use crate::config::SECRET_ENV_PREFIX;
use crate::error::Result;
use crate::survey::Locale;
use crate::working_hours::{Calendar, WorkingHours};

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
struct TeamToml {
    name: String,
    #[serde(default)]
    emails: Vec<String>,
    locale: Option<String>,
    digest: Option<String>,
    webhook: Option<String>,
    format: Option<String>,
    secret_env: Option<String>,
    ack_within: Option<String>,
    resolve_within: Option<String>,
    escalate_to: Option<String>,
    working_hours: Option<String>,
    timezone: Option<String>,
    #[serde(default)]
    holidays: Vec<String>,
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

/// An operations team and where its complaints go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    pub id: String,
    pub name: String,
    pub emails: Vec<String>,
    pub locale: Option<Locale>,
    /// `digest = "daily"`: one email a day listing the day's complaints instead
    /// of one email per complaint.
    pub daily_digest: bool,
    pub webhook: Option<Webhook>,
    pub sla: Sla,
}

/// Where a team's webhook posts, and in which shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub url: url::Url,
    pub format: WebhookFormat,
    /// The environment variable holding this team's signing secret
    /// (`secret_env = "PDS_WEBHOOK_SECRET_LOGISTICS"`); `None`: the global
    /// `webhook_secret`. The secret itself never stands in routing.toml.
    pub secret_env: Option<String>,
}

/// The body a webhook receives: PDS's own signed JSON, or what Slack's and
/// Microsoft Teams' incoming webhooks accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookFormat {
    Json,
    Slack,
    Teams,
}

impl WebhookFormat {
    fn parse(text: &str) -> Option<WebhookFormat> {
        match text {
            "json" => Some(WebhookFormat::Json),
            "slack" => Some(WebhookFormat::Slack),
            "teams" => Some(WebhookFormat::Teams),
            _ => None,
        }
    }
}

/// A team's service levels (all optional): acknowledge within, resolve within
/// (counted in the team's working hours when it has a calendar, else in plain
/// elapsed time since the case was opened), and who hears of a case that
/// missed them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sla {
    pub ack_within: Option<chrono::Duration>,
    pub resolve_within: Option<chrono::Duration>,
    pub escalate_to: Option<String>,
    pub calendar: Calendar,
}

impl Sla {
    /// When a case opened at `opened` has missed `within` taken `times` times.
    pub fn due(
        &self,
        opened: chrono::NaiveDateTime,
        within: chrono::Duration,
        times: i32,
    ) -> chrono::NaiveDateTime {
        self.calendar.after(opened, within * times)
    }
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
        let raw: RoutingToml = toml::from_str(source).map_err(|e| {
            let line = e
                .span()
                .map(|s| source[..s.start.min(source.len())].lines().count().max(1));
            let message = e.message().to_string();
            fail(vec![match line {
                Some(l) => format!("line {l}: {message}"),
                None => message,
            }])
        })?;
        let line_of = |needle: &str| {
            source
                .lines()
                .position(|l| l.contains(needle))
                .map(|i| format!("line {}: ", i + 1))
                .unwrap_or_default()
        };
        let mut problems = Vec::new();
        let mut teams = BTreeMap::new();
        for (id, team) in raw.teams {
            let at = line_of(&format!("[teams.{id}]"));
            let checked = check_team(&id, team, &mut |p| problems.push(format!("{at}{p}")));
            teams.insert(id, checked);
        }
        let mut labels = BTreeMap::new();
        for (locale, names) in raw.labels {
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
            if rule.keywords.is_empty()
                && rule.areas.is_empty()
                && rule.max_rank.is_none()
                && rule.segment.is_empty()
            {
                problems.push(format!(
                    "{at}rule {:?} has no condition; give it keywords, areas, max_rank or segment",
                    rule.name
                ));
            }
            if rule.teams.is_empty() {
                problems.push(format!("{at}rule {:?} names no team", rule.name));
            }
            for team in &rule.teams {
                if !teams.contains_key(team) {
                    problems.push(format!(
                        "{at}rule {:?}: no team {team:?} in [teams]",
                        rule.name
                    ));
                }
            }
            if rule.max_rank == Some(0) {
                problems.push(format!(
                    "{at}rule {:?}: max_rank must be 1 or more",
                    rule.name
                ));
            }
            let mut keywords = Vec::new();
            for k in &rule.keywords {
                match Keyword::parse(k) {
                    Some(kw) => keywords.push(kw),
                    None => problems.push(format!(
                        "{at}rule {:?}: keyword {k:?} has no letters or digits",
                        rule.name
                    )),
                }
            }
            rules.push(Rule {
                name: rule.name,
                keywords,
                areas: rule.areas.iter().map(|a| group_key(a)).collect(),
                max_rank: rule.max_rank,
                segment: rule.segment,
                teams: rule.teams,
            });
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

/// Checks one `[teams.ID]` table; each problem goes to `problem`.
fn check_team(id: &str, team: TeamToml, problem: &mut dyn FnMut(String)) -> Team {
    if team.emails.is_empty() && team.webhook.is_none() {
        problem(format!(
            "team {id:?} has no emails and no webhook; give it at least one of them"
        ));
    }
    for email in team.emails.iter().chain(&team.escalate_to) {
        if email.parse::<lettre::Address>().is_err() {
            problem(format!("team {id:?}: {email:?} is not an email address"));
        }
    }
    let locale = match team.locale.as_deref().map(str::parse::<Locale>) {
        Some(Ok(l)) => Some(l),
        Some(Err(e)) => {
            problem(format!("team {id:?}: {e}"));
            None
        }
        None => None,
    };
    let daily_digest = match team.digest.as_deref() {
        None => false,
        Some("daily") => true,
        Some(other) => {
            problem(format!(
                "team {id:?}: digest {other:?} is not known; write digest = \"daily\" or leave it out"
            ));
            false
        }
    };
    let webhook = check_webhook(id, &team, problem);
    let calendar = check_calendar(id, &team, problem);
    let working = calendar != Calendar::Elapsed;
    let mut within = |key: &str, text: Option<&str>| {
        let parsed = text.map(|t| (t, crate::age::parse(t)));
        match parsed {
            // A working day is not 24 hours: days would mean two things.
            Some((t, Some(_))) if working && !in_hours(t) => {
                problem(format!(
                    "team {id:?}: {key} {t:?}: with working_hours, write the working time in hours, \
                     such as \"4h\", or \"45h\" for five 9-hour days"
                ));
                None
            }
            Some((_, Some(d))) if d > chrono::Duration::zero() => Some(d),
            Some((t, _)) => {
                problem(format!(
                    "team {id:?}: {key} {t:?} is not a length of time such as \"8h\" or \"5d\" (units: {})",
                    crate::age::UNITS
                ));
                None
            }
            None => None,
        }
    };
    let sla = Sla {
        ack_within: within("ack_within", team.ack_within.as_deref()),
        resolve_within: within("resolve_within", team.resolve_within.as_deref()),
        calendar,
        escalate_to: team.escalate_to,
    };
    Team {
        id: id.to_string(),
        name: team.name,
        emails: team.emails,
        locale,
        daily_digest,
        webhook,
        sla,
    }
}

fn check_webhook(id: &str, team: &TeamToml, problem: &mut dyn FnMut(String)) -> Option<Webhook> {
    let secret_env = check_secret_env(id, team.secret_env.as_deref(), problem);
    let format = match team.format.as_deref().map(|f| (f, WebhookFormat::parse(f))) {
        None => WebhookFormat::Json,
        Some((_, Some(f))) => f,
        Some((f, None)) => {
            problem(format!(
                "team {id:?}: format {f:?} is not known; write \"json\", \"slack\" or \"teams\""
            ));
            WebhookFormat::Json
        }
    };
    let Some(url) = team.webhook.as_deref() else {
        if format != WebhookFormat::Json || secret_env.is_some() {
            problem(format!(
                "team {id:?}: format or secret_env is set but webhook is not"
            ));
        }
        return None;
    };
    match url::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => {
            Some(Webhook {
                url: u,
                format,
                secret_env,
            })
        }
        Ok(_) => {
            problem(format!(
                "team {id:?}: webhook {url:?} must be an http:// or https:// address"
            ));
            None
        }
        Err(e) => {
            problem(format!("team {id:?}: webhook {url:?} is not a URL: {e}"));
            None
        }
    }
}

/// Whether a length is written in hours or shorter units, which mean the same
/// in working time as on the clock (a day or a week does not).
fn in_hours(text: &str) -> bool {
    let unit = text.trim().trim_start_matches(|c: char| c.is_ascii_digit());
    matches!(unit, "h" | "m" | "min" | "s")
}

/// Checks a team's working-hours calendar: `working_hours` with its
/// `timezone`, and `holidays` only beside them.
fn check_calendar(id: &str, team: &TeamToml, problem: &mut dyn FnMut(String)) -> Calendar {
    match (&team.working_hours, &team.timezone) {
        (Some(hours), Some(zone)) => WorkingHours::parse(hours, zone, &team.holidays)
            .map(Calendar::Working)
            .unwrap_or_else(|e| {
                problem(format!("team {id:?}: {e}"));
                Calendar::Elapsed
            }),
        (Some(_), None) => {
            problem(format!(
                "team {id:?}: working_hours needs a timezone, such as timezone = \"Europe/Stockholm\""
            ));
            Calendar::Elapsed
        }
        (None, _) if team.timezone.is_some() || !team.holidays.is_empty() => {
            problem(format!(
                "team {id:?}: timezone and holidays go with working_hours, such as working_hours = \"Mon-Fri 08:00-17:00\""
            ));
            Calendar::Elapsed
        }
        (None, _) => Calendar::Elapsed,
    }
}

/// Checks a team's `secret_env`: the name of a variable starting with
/// `PDS_WEBHOOK_SECRET_`, in capitals, digits and underscores.
fn check_secret_env(
    id: &str,
    name: Option<&str>,
    problem: &mut dyn FnMut(String),
) -> Option<String> {
    let name = name?;
    let suffix = name.strip_prefix(SECRET_ENV_PREFIX).unwrap_or_default();
    let valid = !suffix.is_empty()
        && suffix
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if !valid {
        problem(format!(
            "team {id:?}: secret_env {name:?} is not the name of an environment variable \
             starting with {SECRET_ENV_PREFIX} (capitals, digits, underscores), such as \
             \"{SECRET_ENV_PREFIX}{}\"; write the variable's name here, never the secret",
            id.to_ascii_uppercase()
                .replace(|c: char| !c.is_ascii_alphanumeric(), "_")
        ));
        return None;
    }
    Some(name.to_string())
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

    #[test]
    fn a_working_hours_team_counts_in_hours_in_its_time_zone() {
        let team = |extra: &str| {
            format!(
                "[teams.ops]\nname = \"Ops\"\nemails = [\"ops@example.com\"]\n{extra}\n\
                 [[rules]]\nname = \"late\"\nkeywords = [\"late\"]\nteams = [\"ops\"]\n"
            )
        };
        let hours = "working_hours = \"Mon-Fri 08:00-17:00\"\ntimezone = \"Europe/Stockholm\"\n";
        let routing = Routing::parse(&team(&format!("{hours}ack_within = \"4h\"")), "r").unwrap();
        let sla = &routing.teams["ops"].sla;
        assert_eq!(
            sla.calendar.working_hours().as_deref(),
            Some("Mon-Fri 08:00-17:00 Europe/Stockholm")
        );
        for (extra, says) in [
            (
                format!("{hours}resolve_within = \"5d\""),
                "write the working time in hours",
            ),
            (
                "working_hours = \"Mon-Fri 08:00-17:00\"".to_string(),
                "needs a timezone",
            ),
            ("timezone = \"UTC\"".to_string(), "go with working_hours"),
            (format!("{hours}holidays = [\"24/12\"]"), "is not a date"),
        ] {
            let err = Routing::parse(&team(&extra), "r").unwrap_err().to_string();
            assert!(err.contains(says), "{extra}: {err}");
        }
    }

    #[test]
    fn a_team_names_its_webhook_secret_by_variable_never_by_value() {
        let team = |extra: &str| {
            format!(
                "[teams.ops]\nname = \"Ops\"\nwebhook = \"https://hooks.example/x\"\n{extra}\n\
                 [[rules]]\nname = \"late\"\nkeywords = [\"late\"]\nteams = [\"ops\"]\n"
            )
        };
        let routing = Routing::parse(&team("secret_env = \"PDS_WEBHOOK_SECRET_OPS\""), "r")
            .expect("a variable's name");
        let hook = routing.teams["ops"].webhook.clone().unwrap();
        assert_eq!(hook.secret_env.as_deref(), Some("PDS_WEBHOOK_SECRET_OPS"));
        let global = Routing::parse(&team(""), "r").unwrap();
        assert_eq!(
            global.teams["ops"].webhook.clone().unwrap().secret_env,
            None
        );
        for wrong in [
            "3f9a0c1b2d4e5f60718293a4b5c6d7e8",
            "PDS_DATABASE_URL",
            "PDS_WEBHOOK_SECRET_",
        ] {
            let err = Routing::parse(&team(&format!("secret_env = \"{wrong}\"")), "r")
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("never the secret") && err.contains("PDS_WEBHOOK_SECRET_OPS"),
                "{wrong}: {err}"
            );
        }
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
