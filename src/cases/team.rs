//! Cases as a team's daily digest, its service-level reminders and `pds cases
//! stats` read them: each with its answer (language, date, how many problems),
//! its area once coded, the customer only where they agreed to be contacted, and
//! its audit trail. The passes that send those emails live in `route` (which
//! knows the teams); this file reads and appends, nothing else.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{append_event, Actor, Links, Status};
use crate::db::schema::{areas, case_events, cases, contacts, mentions, responses};
use crate::db::AnyConnection;
use crate::error::{Error, Result};

/// One case with what the team emails and the figures need.
#[derive(Debug, Clone)]
pub struct TeamCase {
    pub id: i64,
    pub survey_id: i64,
    pub team: String,
    pub reference: Option<String>,
    pub rank: i32,
    /// How many problems the customer gave in that answer.
    pub of: i64,
    pub text: String,
    pub status: Status,
    pub created_at: NaiveDateTime,
    pub answer_locale: String,
    pub answered_at: NaiveDateTime,
    pub area: Option<String>,
    /// (name, email), only when the customer agreed to be contacted and has
    /// neither unsubscribed nor been erased.
    pub customer: Option<(String, String)>,
    /// The audit trail, oldest first: (time, action, note).
    pub events: Vec<(NaiveDateTime, String, Option<String>)>,
}

impl TeamCase {
    /// When the case was first acted on by `action` (`acknowledged`, ...).
    pub fn first(&self, action: &str) -> Option<NaiveDateTime> {
        self.events
            .iter()
            .find(|(_, a, _)| a == action)
            .map(|(at, _, _)| *at)
    }

    /// Whether the trail has `action` with `note` (any note when `None`).
    pub fn has(&self, action: &str, note: Option<&str>) -> bool {
        self.events
            .iter()
            .any(|(_, a, n)| a == action && (note.is_none() || n.as_deref() == note))
    }
}

/// A case's row with its answer's language, time and contact.
#[derive(Queryable, Selectable)]
#[diesel(table_name = cases)]
struct Row {
    id: i64,
    survey_id: i64,
    team: String,
    reference: Option<String>,
    rank: i32,
    text: String,
    status: String,
    created_at: NaiveDateTime,
    may_contact: i32,
    response_id: i64,
    #[diesel(select_expression = responses::locale)]
    answer_locale: String,
    #[diesel(select_expression = responses::submitted_at)]
    answered_at: NaiveDateTime,
    #[diesel(select_expression = responses::contact_id)]
    contact_id: Option<i64>,
}

/// The cases of survey `survey_id` in `statuses` (all when empty), oldest first;
/// `only` narrows them to these ids.
pub fn load(
    conn: &mut AnyConnection,
    survey_id: i64,
    statuses: &[Status],
    only: Option<&[i64]>,
) -> Result<Vec<TeamCase>> {
    let mut query = cases::table
        .inner_join(responses::table)
        .filter(cases::survey_id.eq(survey_id))
        .order(cases::id)
        .select(Row::as_select())
        .into_boxed();
    if !statuses.is_empty() {
        query = query.filter(cases::status.eq_any(statuses.iter().map(|s| s.as_str())));
    }
    if let Some(ids) = only {
        query = query.filter(cases::id.eq_any(ids.to_vec()));
    }
    let rows: Vec<Row> = query.load(conn)?;
    let mut around = Around::read(conn, &rows)?;
    rows.into_iter().map(|row| around.case(row)).collect()
}

/// What the cases' rows need from other tables, read once for all of them.
struct Around {
    /// Problems per response.
    of: HashMap<i64, i64>,
    /// Area labels by (response, rank) of the coded mentions.
    area: HashMap<(i64, i32), String>,
    /// (name, email) of the contacts who have not unsubscribed.
    reachable: HashMap<i64, (String, String)>,
    /// Each case's trail, oldest first.
    events: HashMap<i64, Vec<(NaiveDateTime, String, Option<String>)>>,
}

impl Around {
    fn read(conn: &mut AnyConnection, rows: &[Row]) -> Result<Around> {
        let response_ids: Vec<i64> = rows.iter().map(|r| r.response_id).collect();
        let case_ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let of: HashMap<i64, i64> = mentions::table
            .filter(mentions::response_id.eq_any(&response_ids))
            .group_by(mentions::response_id)
            .select((mentions::response_id, diesel::dsl::count_star()))
            .load(conn)?
            .into_iter()
            .collect();
        let area: HashMap<(i64, i32), String> = mentions::table
            .inner_join(areas::table)
            .filter(mentions::response_id.eq_any(&response_ids))
            .select((mentions::response_id, mentions::rank, areas::label))
            .load::<(i64, i32, String)>(conn)?
            .into_iter()
            .map(|(r, k, l)| ((r, k), l))
            .collect();
        let contact_ids: Vec<i64> = rows.iter().filter_map(|r| r.contact_id).collect();
        let reachable: HashMap<i64, (String, String)> = contacts::table
            .filter(contacts::id.eq_any(&contact_ids))
            .filter(contacts::unsubscribed_at.is_null())
            .select((contacts::id, contacts::name, contacts::email))
            .load::<(i64, String, String)>(conn)?
            .into_iter()
            .map(|(id, n, e)| (id, (n, e)))
            .collect();
        let mut events: HashMap<i64, Vec<(NaiveDateTime, String, Option<String>)>> = HashMap::new();
        for (case_id, at, action, note) in case_events::table
            .filter(case_events::case_id.eq_any(&case_ids))
            .order(case_events::id)
            .select((
                case_events::case_id,
                case_events::at,
                case_events::action,
                case_events::note,
            ))
            .load::<(i64, NaiveDateTime, String, Option<String>)>(conn)?
        {
            events.entry(case_id).or_default().push((at, action, note));
        }
        Ok(Around {
            of,
            area,
            reachable,
            events,
        })
    }

    /// The row as a team's case; its trail is taken out of `self`.
    fn case(&mut self, row: Row) -> Result<TeamCase> {
        let id = row.id;
        Ok(TeamCase {
            id,
            survey_id: row.survey_id,
            team: row.team,
            reference: row.reference,
            rank: row.rank,
            of: self.of.get(&row.response_id).copied().unwrap_or(1),
            text: row.text,
            status: row
                .status
                .parse()
                .map_err(|e| Error::Internal(format!("case {id}: stored status: {e}")))?,
            created_at: row.created_at,
            answer_locale: row.answer_locale,
            answered_at: row.answered_at,
            area: self.area.get(&(row.response_id, row.rank)).cloned(),
            customer: row
                .contact_id
                .filter(|_| row.may_contact != 0)
                .and_then(|c| self.reachable.get(&c).cloned()),
            events: self.events.remove(&id).unwrap_or_default(),
        })
    }
}

/// The cases of survey `survey_id` that wait for their team's daily digest
/// (an event `digest_pending` and no `digested` yet).
pub fn awaiting_digest(conn: &mut AnyConnection, survey_id: i64) -> Result<Vec<TeamCase>> {
    let pending: Vec<i64> = case_events::table
        .inner_join(cases::table)
        .filter(cases::survey_id.eq(survey_id))
        .filter(case_events::action.eq(DIGEST_PENDING))
        .select(case_events::case_id)
        .load(conn)?;
    if pending.is_empty() {
        return Ok(Vec::new());
    }
    Ok(load(conn, survey_id, &[], Some(&pending))?
        .into_iter()
        .filter(|c| !c.has(DIGESTED, None))
        .collect())
}

/// The event that puts a case in its team's next daily digest.
pub const DIGEST_PENDING: &str = "digest_pending";
/// The event of a case listed in a digest (its note: the day).
pub const DIGESTED: &str = "digested";

/// Appends an event by PDS itself (a digest, a reminder, an escalation) to each
/// of `case_ids`, inside the caller's transaction.
pub fn note(
    conn: &mut AnyConnection,
    case_ids: &[i64],
    at: NaiveDateTime,
    action: &str,
    note: Option<&str>,
) -> Result<()> {
    for id in case_ids {
        append_event(conn, *id, at, Actor::Pds, action, note)?;
    }
    Ok(())
}

/// Stores a fresh set of action links for a case (a digest lists each case with
/// links of its own), inside the caller's transaction.
pub fn add_links(
    conn: &mut AnyConnection,
    case_id: i64,
    links: &Links,
    at: NaiveDateTime,
) -> Result<()> {
    links.store(conn, case_id, at)
}
