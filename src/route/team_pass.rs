//! What the worker does for the teams besides delivering mail, once a minute in
//! `pds serve` and `pds worker` (and at `--now` with `pds worker --once`):
//!
//! - **Daily digest** (`digest = "daily"`): the complaints a team's cases were
//!   opened for on one day (UTC) go out in one email the next day, each with its
//!   own action links; the case trail records `digested` so none is listed twice.
//! - **Service levels** (`ack_within`, `resolve_within`, `escalate_to`), in the
//!   team's working hours when routing.toml gives it a calendar
//!   (`working_hours`, `timezone`, `holidays`), else in plain elapsed time
//!   since the case was opened: a case not acknowledged within
//!   `ack_within`, or not resolved or declined within `resolve_within`, is
//!   listed once in a reminder to the team (`sla_reminded`, note `ack` or
//!   `resolve`); one still not acknowledged at twice `ack_within`, or still open
//!   at twice `resolve_within`, is escalated once to `escalate_to`
//!   (`sla_escalated`). The trail makes each of these happen once.
//!
//! Every time is `now`, passed down, so a test (or a catch-up run) can say when.

use chrono::{Duration, NaiveDateTime};
use serde_json::{json, Value};

use super::rules::Routing;
use super::teams::Team;
use crate::cases::team::{self as case_team, TeamCase, DIGESTED};
use crate::cases::{Links, Status};
use crate::config::Settings;
use crate::db::{AnyConnection, Database};
use crate::error::Result;
use crate::mail::outbox::{self, Kind, NewMessage};
use crate::survey::{Locale, StoredSurvey};

/// What one pass queued.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PassReport {
    pub digests: usize,
    pub reminders: usize,
    pub escalations: usize,
}

const REMINDED: &str = "sla_reminded";
const ESCALATED: &str = "sla_escalated";

/// Runs the digests and service-level checks of every survey with routing rules,
/// as of `now`.
pub fn run(db: &Database, settings: &Settings, now: NaiveDateTime) -> Result<PassReport> {
    let mut report = PassReport::default();
    let survey_ids: Vec<i64> = {
        use crate::db::schema::routing;
        use diesel::prelude::*;
        routing::table
            .select(routing::survey_id)
            .load(&mut *db.conn()?)?
    };
    for survey_id in survey_ids {
        let Some(routing) = super::load(&mut *db.conn()?, survey_id)? else {
            continue;
        };
        let wanted = routing.teams.values().any(|t| {
            t.daily_digest || t.sla.ack_within.is_some() || t.sla.resolve_within.is_some()
        });
        if !wanted {
            continue;
        }
        let survey = crate::survey::store::by_id(&mut *db.conn()?, survey_id)?;
        let pass = Pass {
            settings,
            survey: &survey,
            routing: &routing,
            now,
        };
        report.digests += db.write(|conn| pass.digests(conn))?;
        let (reminders, escalations) = db.write(|conn| pass.service_levels(conn))?;
        report.reminders += reminders;
        report.escalations += escalations;
    }
    Ok(report)
}

struct Pass<'a> {
    settings: &'a Settings,
    survey: &'a StoredSurvey,
    routing: &'a Routing,
    now: NaiveDateTime,
}

impl Pass<'_> {
    fn locale(&self, team: &Team) -> Locale {
        team.locale.unwrap_or(self.survey.survey.default_locale)
    }

    /// One email per team and past day with the cases waiting for a digest.
    fn digests(&self, conn: &mut AnyConnection) -> Result<usize> {
        let today = self.now.date();
        let mut days: std::collections::BTreeMap<(String, chrono::NaiveDate), Vec<TeamCase>> =
            Default::default();
        for case in case_team::awaiting_digest(conn, self.survey.id)? {
            if case.created_at.date() < today {
                days.entry((case.team.clone(), case.created_at.date()))
                    .or_default()
                    .push(case);
            }
        }
        let mut sent = 0;
        for ((team_id, day), cases) in days {
            let Some(team) = self.routing.teams.get(&team_id) else {
                continue;
            };
            let mut items = Vec::new();
            for (i, case) in cases.iter().enumerate() {
                let links = Links::generate();
                case_team::add_links(conn, case.id, &links, self.now)?;
                items.push(self.item(case, i + 1, None, Some(&links)));
            }
            let day_text = day.format("%Y-%m-%d").to_string();
            let ctx = json!({"kind": "digest", "day": day_text});
            self.send(conn, team, &team.emails, ctx, items)?;
            let ids: Vec<i64> = cases.iter().map(|c| c.id).collect();
            case_team::note(conn, &ids, self.now, DIGESTED, Some(&day_text))?;
            sent += 1;
        }
        Ok(sent)
    }

    /// Reminders to each team with newly overdue cases, and escalations.
    fn service_levels(&self, conn: &mut AnyConnection) -> Result<(usize, usize)> {
        let open = case_team::load(
            conn,
            self.survey.id,
            &[Status::Open, Status::Acknowledged],
            None,
        )?;
        let (mut reminders, mut escalations) = (0, 0);
        for team in self.routing.teams.values() {
            let sla = &team.sla;
            if sla.ack_within.is_none() && sla.resolve_within.is_none() {
                continue;
            }
            let mine: Vec<&TeamCase> = open.iter().filter(|c| c.team == team.id).collect();
            let mut remind = Vec::new();
            let mut escalate = Vec::new();
            for case in mine {
                if let Some(missed) = self.missed(team, case, 1) {
                    if !case.has(REMINDED, Some(missed)) {
                        remind.push((case, missed));
                    }
                }
                if let Some(missed) = self.missed(team, case, 2) {
                    if sla.escalate_to.is_some() && !case.has(ESCALATED, None) {
                        escalate.push((case, missed));
                    }
                }
            }
            if !remind.is_empty() {
                self.send_overdue(conn, team, "reminder", &team.emails, &remind, REMINDED)?;
                reminders += 1;
            }
            if let (false, Some(to)) = (escalate.is_empty(), &sla.escalate_to) {
                let to = std::slice::from_ref(to);
                self.send_overdue(conn, team, "escalation", to, &escalate, ESCALATED)?;
                escalations += 1;
            }
        }
        Ok((reminders, escalations))
    }

    /// Which deadline `case` has missed by `times` its length: `resolve` before
    /// `ack` (a case past both is late above all in being resolved).
    fn missed(&self, team: &Team, case: &TeamCase, times: i32) -> Option<&'static str> {
        let past = |d: Option<Duration>| {
            d.is_some_and(|d| self.now >= team.sla.due(case.created_at, d, times))
        };
        if past(team.sla.resolve_within) {
            Some("resolve")
        } else if case.status == Status::Open && past(team.sla.ack_within) {
            Some("ack")
        } else {
            None
        }
    }

    fn send_overdue(
        &self,
        conn: &mut AnyConnection,
        team: &Team,
        kind: &str,
        to: &[String],
        cases: &[(&TeamCase, &'static str)],
        event: &str,
    ) -> Result<()> {
        let items = cases
            .iter()
            .enumerate()
            .map(|(i, (c, missed))| self.item(c, i + 1, Some(missed), None))
            .collect();
        self.send(conn, team, to, json!({"kind": kind}), items)?;
        for (case, missed) in cases {
            case_team::note(conn, &[case.id], self.now, event, Some(missed))?;
        }
        Ok(())
    }

    /// One case as the team templates list it.
    fn item(
        &self,
        case: &TeamCase,
        number: usize,
        overdue: Option<&str>,
        links: Option<&Links>,
    ) -> Value {
        json!({
            "number": number,
            "reference": case.reference.clone().unwrap_or_else(|| format!("#{}", case.id)),
            "text": case.text,
            "area": case.area,
            "rank": case.rank,
            "of": case.of,
            "status": case.status.as_str(),
            "opened": case.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            "answer_date": case.answered_at.format("%Y-%m-%d").to_string(),
            "answer_locale": case.answer_locale,
            "overdue": overdue,
            "customer": case.customer.as_ref().map(|(name, email)| json!({"name": name, "email": email})),
            "actions": links.map(|l| l.urls(self.settings)),
        })
    }

    /// Renders the team email listing `items` and queues it to each of `to`.
    fn send(
        &self,
        conn: &mut AnyConnection,
        team: &Team,
        to: &[String],
        mut ctx: Value,
        items: Vec<Value>,
    ) -> Result<()> {
        let locale = self.locale(team);
        let show = |d: Option<Duration>| d.map(|d| human(d, locale));
        let mut common = self.survey.survey.common_context(locale);
        let extra = json!({
            "team": {"name": team.name},
            "count": items.len(),
            "cases": items,
            "dashboard": super::reasons::dashboard_cases(self.settings),
            "sla": {
                "ack_within": show(team.sla.ack_within),
                "resolve_within": show(team.sla.resolve_within),
                "working_hours": team.sla.calendar.working_hours(),
            },
        });
        crate::survey::merge(&mut ctx, extra);
        crate::survey::merge(&mut common, ctx);
        let rendered = super::team_templates::cases_email(locale, &common)?;
        for address in to {
            outbox::queue(
                conn,
                self.settings,
                NewMessage {
                    kind: Kind::Complaint,
                    invitation_id: None,
                    recipient_name: &team.name,
                    recipient_email: address,
                    rendered: rendered.clone(),
                    contact_id: None,
                    list_unsubscribe: None,
                    reply_to: None,
                },
            )?;
        }
        Ok(())
    }
}

/// A length of time as the team reads it: `8 h`, `5 d` (`tim`, `dagar` in Swedish).
fn human(d: Duration, locale: Locale) -> String {
    let (days, hours) = (d.num_days(), d.num_hours());
    match (locale, days > 0 && hours % 24 == 0) {
        (Locale::Sv, true) => format!("{days} dagar"),
        (Locale::Sv, false) => format!("{hours} timmar"),
        (Locale::En, true) => format!("{days} days"),
        (Locale::En, false) => format!("{hours} hours"),
    }
}
