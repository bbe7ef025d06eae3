//! Complaints from one answer: which team hears of which problem (planned before
//! the write lock, emails rendered), and the `routed_complaints` rows, cases and
//! queued emails written in the answer's transaction.

use super::rules::{Facts, Fired};
use super::store::load_shared;
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
