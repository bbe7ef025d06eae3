//! Routing: which complaints go to which operations team, decided as each answer
//! arrives. Rules come from a survey's `routing.toml` (see docs/TEMPLATES.md) and
//! explain themselves, so `pds route test` can say why a rule fired. This room
//! decides (`plan_complaints`, before the write lock) and is the one room that
//! writes `routed_complaints` and queues their emails (`queue_planned`), inside the
//! transaction `answer` stores the response in. It does not deliver mail, and it
//! takes problems as its own `Problem`, so it never imports `answer`.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, LazyLock, Mutex};

use diesel::prelude::*;
use serde::Deserialize;

use crate::coding::group_key;
use crate::db::schema::routing;
use crate::db::{now, AnyConnection};
use crate::error::{Error, Result};
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
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TeamToml {
    name: String,
    emails: Vec<String>,
    locale: Option<String>,
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
    pub why: String,
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
            if team.emails.is_empty() {
                problems.push(format!("{at}team {id:?} has no emails"));
            }
            for email in &team.emails {
                if email.parse::<lettre::Address>().is_err() {
                    problems.push(format!(
                        "{at}team {id:?}: {email:?} is not an email address"
                    ));
                }
            }
            let locale = match team.locale.as_deref().map(str::parse::<Locale>) {
                Some(Ok(l)) => Some(l),
                Some(Err(e)) => {
                    problems.push(format!("{at}team {id:?}: {e}"));
                    None
                }
                None => None,
            };
            teams.insert(
                id.clone(),
                Team {
                    id,
                    name: team.name,
                    emails: team.emails,
                    locale,
                },
            );
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
    fn route_keyed(&self, facts: &Facts<'_>, key: &str) -> Vec<Fired> {
        let tokens: Vec<&str> = key.split(' ').filter(|t| !t.is_empty()).collect();
        let area_key = facts.area.map(group_key);
        self.rules
            .iter()
            .filter_map(|rule| {
                let mut why = Vec::new();
                if !rule.keywords.is_empty() {
                    let hit = rule
                        .keywords
                        .iter()
                        .find_map(|k| k.find(&tokens).map(|w| (k, w)))?;
                    why.push(format!("keyword {:?} matched {:?}", hit.0.written, hit.1));
                }
                if !rule.areas.is_empty() {
                    let area = area_key.as_deref().unwrap_or(key);
                    if !rule.areas.iter().any(|a| a == area) {
                        return None;
                    }
                    why.push(format!("area {area:?}"));
                }
                if let Some(max) = rule.max_rank {
                    if facts.rank > max {
                        return None;
                    }
                    why.push(format!("rank {} (at most {max})", facts.rank));
                }
                for (k, v) in &rule.segment {
                    if facts.segments.get(k) != Some(v) {
                        return None;
                    }
                    why.push(format!("{k} = {v}"));
                }
                Some(Fired {
                    rule: rule.name.clone(),
                    teams: rule.teams.clone(),
                    why: why.join("; "),
                })
            })
            .collect()
    }
}

/// The routing rules stored for a survey, if any.
pub fn load(conn: &mut AnyConnection, survey_id: i64) -> Result<Option<Routing>> {
    Ok(load_shared(conn, survey_id)?.map(|r| Routing::clone(&r)))
}

/// Rules already parsed, by survey. Parsing `routing.toml` (the TOML and every
/// keyword normalised) costs more than the rest of storing an answer, and answers
/// are stored one at a time, so it is done once per text: the stored text is still
/// read each time and compared, so `pds route set` from another process applies to
/// the next answer. One entry per survey that has received answers.
static PARSED: LazyLock<Mutex<HashMap<i64, Arc<Routing>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// Like [`load`], sharing the parsed rules instead of copying them.
fn load_shared(conn: &mut AnyConnection, survey_id: i64) -> Result<Option<Arc<Routing>>> {
    let source: Option<String> = routing::table
        .find(survey_id)
        .select(routing::definition)
        .first(conn)
        .optional()?;
    let Some(source) = source else {
        return Ok(None);
    };
    let cached = PARSED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .get(&survey_id)
        .filter(|r| r.source == source)
        .cloned();
    if let Some(routing) = cached {
        return Ok(Some(routing));
    }
    let parsed = Arc::new(
        Routing::parse(&source, "stored routing.toml")
            .map_err(|e| Error::Internal(format!("the stored routing rules are damaged: {e}")))?,
    );
    PARSED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .insert(survey_id, parsed.clone());
    Ok(Some(parsed))
}

/// Stores (or replaces) a survey's routing rules; the caller has validated them.
pub fn save(conn: &mut AnyConnection, survey_id: i64, routing: &Routing) -> Result<()> {
    let stamp = now();
    let updated = diesel::update(routing::table.find(survey_id))
        .set((
            routing::definition.eq(&routing.source),
            routing::updated_at.eq(stamp),
        ))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(routing::table)
            .values((
                routing::survey_id.eq(survey_id),
                routing::definition.eq(&routing.source),
                routing::updated_at.eq(stamp),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// A response as routing sees it, before it is stored.
pub struct Response<'a> {
    pub wave: &'a str,
    pub segments: &'a BTreeMap<String, String>,
    pub customer_name: &'a str,
    pub customer_email: &'a str,
}

/// A complaint decided and rendered, waiting for the answer's transaction.
#[derive(Debug, Clone)]
pub struct Planned {
    team: String,
    team_name: String,
    team_locale: Locale,
    emails: Vec<String>,
    rule: String,
    text_key: String,
    rank: u32,
    text: String,
    may_contact: bool,
    /// The action links in the email, stored with the case when it is queued.
    links: crate::cases::Links,
    rendered: crate::survey::Rendered,
}

/// One problem of an answer, as routing needs it (the answer room has its own,
/// richer type; routing stands below it and does not import it).
#[derive(Debug, Clone, Copy)]
pub struct Problem<'a> {
    /// 1 matters most.
    pub rank: u32,
    pub text: &'a str,
    /// How often it happens, as the form spells it (`once`, `sometimes`, `often`).
    pub frequency: Option<&'a str>,
    /// Whether the customer agreed to be contacted about it.
    pub may_contact: bool,
}

/// Decides which team hears of which problem and renders their emails: for each
/// problem and each team a rule sends it to, one complaint. A team hears of a
/// mention once, naming the first rule that sent it. Pure work apart from reading
/// the rules, so the caller does it before taking the write lock.
pub fn plan_complaints(
    conn: &mut AnyConnection,
    settings: &crate::config::Settings,
    survey: &crate::survey::StoredSurvey,
    response: &Response<'_>,
    problems: &[Problem<'_>],
) -> Result<Vec<Planned>> {
    let Some(routing) = load_shared(conn, survey.id)? else {
        return Ok(Vec::new());
    };
    let mut planned = Vec::new();
    for problem in problems {
        let text_key = group_key(problem.text);
        let fired = routing.route_keyed(
            &Facts {
                text: problem.text,
                rank: problem.rank,
                area: None,
                segments: response.segments,
            },
            &text_key,
        );
        let mut per_team: BTreeMap<&str, &Fired> = BTreeMap::new();
        for f in &fired {
            for team in &f.teams {
                per_team.entry(team.as_str()).or_insert(f);
            }
        }
        for (team_id, fired) in per_team {
            let Some(team) = routing.teams.get(team_id) else {
                continue;
            };
            let locale = team.locale.unwrap_or(survey.survey.default_locale);
            let mut complaint = serde_json::json!({
                "text": problem.text,
                "rank": problem.rank,
                "of": problems.len(),
                "rule": fired.rule,
                "why": fired.why,
            });
            if let (Some(f), Some(o)) = (problem.frequency, complaint.as_object_mut()) {
                o.insert("frequency".into(), f.into());
            }
            let links = crate::cases::Links::generate();
            let mut ctx = serde_json::json!({
                "team": {"name": team.name},
                "actions": links.urls(settings),
                "complaint": complaint,
                "segments": response.segments.iter().map(|(k, v)| serde_json::json!({"key": k, "value": v})).collect::<Vec<_>>(),
                "wave": response.wave,
            });
            if let (true, Some(o)) = (problem.may_contact, ctx.as_object_mut()) {
                o.insert(
                    "customer".into(),
                    serde_json::json!({"name": response.customer_name, "email": response.customer_email}),
                );
            }
            planned.push(Planned {
                team: team_id.to_string(),
                team_name: team.name.clone(),
                team_locale: locale,
                emails: team.emails.clone(),
                rule: fired.rule.clone(),
                text_key: text_key.clone(),
                rank: problem.rank,
                text: problem.text.to_string(),
                may_contact: problem.may_contact,
                links,
                rendered: survey.survey.render_email(locale, "complaint", ctx)?,
            });
        }
    }
    Ok(planned)
}

/// Queues planned complaints for the stored response `response_id` on `conn`,
/// inside the caller's transaction: one email per team address, and a case for
/// each complaint (`cases::record`). When the answer `replaces` an earlier one, a
/// complaint already routed to a team for this response (the same words, after
/// normalisation) is not routed again; its case takes the corrected text.
/// Returns how many complaints were routed.
pub fn queue_planned(
    conn: &mut AnyConnection,
    settings: &crate::config::Settings,
    survey_id: i64,
    response_id: i64,
    planned: Vec<Planned>,
    replaces: bool,
) -> Result<usize> {
    use crate::db::schema::routed_complaints as rc;
    use crate::mail::outbox::{self, Kind, NewMessage};

    let mut routed = 0;
    for p in planned {
        let case = crate::cases::NewCase {
            survey_id,
            response_id,
            team: &p.team,
            team_name: &p.team_name,
            team_locale: p.team_locale,
            rank: p.rank,
            text: &p.text,
            text_key: &p.text_key,
            may_contact: p.may_contact,
            rule: &p.rule,
        };
        if replaces {
            let already: i64 = rc::table
                .filter(rc::response_id.eq(response_id))
                .filter(rc::team.eq(&p.team))
                .filter(rc::text_key.eq(&p.text_key))
                .count()
                .get_result(conn)?;
            if already > 0 {
                crate::cases::record(conn, &case, true, None)?;
                continue;
            }
        }
        crate::cases::record(conn, &case, replaces, Some(&p.links))?;
        diesel::insert_into(rc::table)
            .values((
                rc::survey_id.eq(survey_id),
                rc::response_id.eq(response_id),
                rc::team.eq(&p.team),
                rc::text_key.eq(&p.text_key),
                rc::rule.eq(&p.rule),
                rc::created_at.eq(now()),
            ))
            .execute(conn)?;
        let last = p.emails.len().saturating_sub(1);
        let mut rendered = Some(p.rendered);
        for (i, address) in p.emails.iter().enumerate() {
            // The last address takes the rendered email itself; the others a copy.
            let message = if i == last {
                rendered.take().expect("taken once, at the last address")
            } else {
                rendered.clone().expect("present before the last address")
            };
            outbox::queue(
                conn,
                settings,
                NewMessage {
                    kind: Kind::Complaint,
                    invitation_id: None,
                    recipient_name: &p.team_name,
                    recipient_email: address,
                    rendered: message,
                    contact_id: None,
                    list_unsubscribe: None,
                },
            )?;
        }
        routed += 1;
    }
    Ok(routed)
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
