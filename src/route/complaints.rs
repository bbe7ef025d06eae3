//! Complaints from one answer: which team hears of which problem (planned before
//! the write lock, emails rendered), and the `routed_complaints` rows, cases and
//! queued emails written in the answer's transaction.

use super::rules::{Facts, Fired};
use super::store::ParsedRules;
use std::collections::BTreeMap;

use diesel::prelude::*;

use crate::coding::group_key;
use crate::db::{now, AnyConnection};
use crate::error::Result;
use crate::survey::Locale;

/// A response as routing sees it, before it is stored.
pub struct Response<'a> {
    pub wave: &'a str,
    pub segments: &'a BTreeMap<String, String>,
    pub customer_name: &'a str,
    pub customer_email: &'a str,
    /// The language the customer answered in.
    pub locale: Locale,
    /// When the answer arrived.
    pub received: chrono::NaiveDateTime,
}

/// A complaint decided and rendered, waiting for the answer's transaction.
#[derive(Debug, Clone)]
pub struct Planned {
    team: String,
    team_name: String,
    team_locale: Locale,
    /// Empty for a team that reads a daily digest instead.
    emails: Vec<String>,
    /// The team reads its complaints in a daily digest.
    digest: bool,
    rule: String,
    text_key: String,
    rank: u32,
    text: String,
    may_contact: bool,
    reference: String,
    /// The customer, as Reply-To, when they agreed to be contacted.
    reply_to: Option<String>,
    /// The action links in the email, stored with the case when it is queued.
    links: crate::cases::Links,
    rendered: crate::survey::Rendered,
    webhook: Option<super::webhook::Planned>,
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
    rules: &ParsedRules,
    survey: &crate::survey::StoredSurvey,
    response: &Response<'_>,
    problems: &[Problem<'_>],
) -> Result<Vec<Planned>> {
    let Some(routing) = rules.load(conn, survey.id)? else {
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
            let complaint = Complaint {
                survey,
                routing: &routing,
                team,
                response,
                problem,
                of: problems.len(),
                fired,
                reference: crate::cases::reference::generate(),
                links: crate::cases::Links::generate(),
            };
            planned.push(complaint.plan(settings, text_key.clone())?);
        }
    }
    Ok(planned)
}

/// One complaint for one team, being planned.
struct Complaint<'a> {
    survey: &'a crate::survey::StoredSurvey,
    routing: &'a super::Routing,
    team: &'a super::Team,
    response: &'a Response<'a>,
    problem: &'a Problem<'a>,
    of: usize,
    fired: &'a Fired,
    reference: String,
    links: crate::cases::Links,
}

impl Complaint<'_> {
    fn locale(&self) -> Locale {
        self.team
            .locale
            .unwrap_or(self.survey.survey.default_locale)
    }

    /// The customer is named to the team only when they agreed to be contacted
    /// about this problem (in an anonymous survey too: they chose to be).
    fn named_customer(&self) -> bool {
        self.problem.may_contact && !self.response.customer_email.is_empty()
    }

    /// A reply reaches the customer only with consent, and never in an anonymous
    /// survey, whose answers are unlinked from the people who gave them.
    fn replies_to_customer(&self) -> bool {
        self.named_customer() && !self.survey.survey.anonymous
    }

    /// The variables of the complaint templates (docs/TEMPLATES.md).
    fn context(&self, settings: &crate::config::Settings) -> serde_json::Value {
        let locale = self.locale();
        let (problem, response) = (self.problem, self.response);
        let mut complaint = serde_json::json!({
            "text": problem.text,
            "snippet": snippet(problem.text, SNIPPET_CHARS),
            "area": null,
            "rank": problem.rank,
            "of": self.of,
            "rule": self.fired.rule,
            "why": self.fired.why,
            "reasons": super::reasons::for_template(self.routing, locale, &self.fired.reasons),
            "reference": self.reference,
        });
        if let (Some(f), Some(o)) = (problem.frequency, complaint.as_object_mut()) {
            o.insert("frequency".into(), f.into());
        }
        let mut ctx = serde_json::json!({
            "team": {"name": self.team.name},
            "actions": self.links.urls(settings),
            "complaint": complaint,
            "answer": {
                "locale": response.locale.as_str(),
                "date": response.received.format("%Y-%m-%d").to_string(),
            },
            "dashboard": super::reasons::dashboard_case(settings, &self.reference),
            "segments": super::reasons::segments(self.routing, locale, response.segments),
            "wave": response.wave,
            "reply_reaches_customer": self.replies_to_customer(),
        });
        if let (true, Some(o)) = (self.named_customer(), ctx.as_object_mut()) {
            o.insert(
                "customer".into(),
                serde_json::json!({"name": response.customer_name, "email": response.customer_email}),
            );
        }
        ctx
    }

    fn plan(self, settings: &crate::config::Settings, text_key: String) -> Result<Planned> {
        let locale = self.locale();
        let ctx = self.context(settings);
        let rendered = self
            .survey
            .survey
            .render_email(locale, "complaint", ctx.clone())?;
        let reply_to = if self.replies_to_customer() {
            let name = Some(self.response.customer_name.to_string()).filter(|n| !n.is_empty());
            (self.response.customer_email.parse::<lettre::Address>().ok())
                .map(|address| lettre::message::Mailbox::new(name, address).to_string())
        } else {
            None
        };
        let webhook = match &self.team.webhook {
            Some(hook) => Some(super::webhook::plan(
                hook,
                locale,
                &ctx,
                &rendered.subject,
                (
                    self.survey.slug.as_str(),
                    self.survey.survey.title(),
                    &self.team.id,
                ),
            )?),
            None => None,
        };
        Ok(Planned {
            team: self.team.id.clone(),
            team_name: self.team.name.clone(),
            team_locale: locale,
            digest: self.team.daily_digest,
            emails: if self.team.daily_digest {
                Vec::new()
            } else {
                self.team.emails.clone()
            },
            rule: self.fired.rule.clone(),
            text_key,
            rank: self.problem.rank,
            text: self.problem.text.to_string(),
            may_contact: self.problem.may_contact,
            reference: self.reference,
            reply_to,
            links: self.links,
            rendered,
            webhook,
        })
    }
}

/// How much of the customer's words a subject shows when the area is not known.
const SNIPPET_CHARS: usize = 48;

/// The start of `text` on one line, cut at a word and marked with an ellipsis
/// when cut.
pub(super) fn snippet(text: &str, max: usize) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= max {
        return line;
    }
    let cut: String = line.chars().take(max).collect();
    let at_word = match cut.rfind(' ') {
        Some(i) if i > max / 2 => &cut[..i],
        _ => cut.as_str(),
    };
    format!("{}…", at_word.trim_end_matches([',', '.', ';', ':']))
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
            reference: &p.reference,
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
        let case_id = crate::cases::record(conn, &case, replaces, Some(&p.links))?;
        if p.digest {
            crate::cases::team::note(
                conn,
                &[case_id],
                now(),
                crate::cases::team::DIGEST_PENDING,
                None,
            )?;
        }
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
                    reply_to: p.reply_to.clone(),
                },
            )?;
        }
        if let Some(hook) = p.webhook {
            hook.queue(conn)?;
        }
        routed += 1;
    }
    Ok(routed)
}
