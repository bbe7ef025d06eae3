//! Reading cases for the doors: a list by filter, one case with its trail, a
//! case's number from a reference. Rows are read into named structs.

use diesel::prelude::*;

use super::{reference, Case, Event, Status};
use crate::db::schema::{areas, case_events, cases, mentions, responses, surveys, waves};
use crate::db::AnyConnection;
use crate::error::{Error, Result};

/// Which cases to list; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub survey: Option<String>,
    pub team: Option<String>,
    pub status: Vec<Status>,
}

/// A case's row with its survey's slug and title and its wave's label, in the
/// order [`case_query`] selects them.
#[derive(Queryable)]
struct CaseRow {
    id: i64,
    survey_id: i64,
    response_id: i64,
    team: String,
    team_name: String,
    team_locale: String,
    rank: i32,
    text: String,
    may_contact: i32,
    status: String,
    assignee: Option<String>,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
    survey: String,
    survey_title: String,
    wave: String,
}

impl CaseRow {
    fn into_case(self) -> Result<Case> {
        let id = self.id;
        Ok(Case {
            id,
            survey: self.survey,
            survey_title: self.survey_title,
            wave: self.wave,
            team: self.team,
            team_name: self.team_name,
            team_locale: self
                .team_locale
                .parse()
                .map_err(|e| Error::Internal(format!("case {id}: stored locale: {e}")))?,
            rank: self.rank,
            text: self.text,
            may_contact: self.may_contact != 0,
            status: self
                .status
                .parse()
                .map_err(|e| Error::Internal(format!("case {id}: stored status: {e}")))?,
            assignee: self.assignee,
            area: None,
            reference: None,
            created_at: self.created_at,
            updated_at: self.updated_at,
            survey_id: self.survey_id,
            response_id: self.response_id,
        })
    }
}

/// A row of `case_events` as read.
#[derive(Queryable, Selectable)]
#[diesel(table_name = case_events)]
struct EventRow {
    at: chrono::NaiveDateTime,
    actor: String,
    action: String,
    note: Option<String>,
}

impl EventRow {
    /// The stored `kind:name` actor split for the reader.
    fn into_event(self) -> Event {
        let (kind, name) = self
            .actor
            .split_once(':')
            .unwrap_or((self.actor.as_str(), ""));
        Event {
            at: self.at,
            actor_kind: kind.to_string(),
            actor_name: name.to_string(),
            action: self.action,
            note: self.note,
        }
    }
}

/// Cases joined to their survey and wave, selecting a [`CaseRow`].
macro_rules! case_query {
    () => {
        cases::table
            .inner_join(surveys::table)
            .inner_join(responses::table.inner_join(waves::table))
            .select((
                cases::id,
                cases::survey_id,
                cases::response_id,
                cases::team,
                cases::team_name,
                cases::team_locale,
                cases::rank,
                cases::text,
                cases::may_contact,
                cases::status,
                cases::assignee,
                cases::created_at,
                cases::updated_at,
                surveys::slug,
                surveys::title,
                waves::label,
            ))
    };
}

/// Cases matching `filter`, oldest first.
pub fn list(conn: &mut AnyConnection, filter: &Filter) -> Result<Vec<Case>> {
    let mut query = case_query!().order(cases::id).into_boxed();
    if let Some(s) = &filter.survey {
        query = query.filter(surveys::slug.eq(s.clone()));
    }
    if let Some(t) = &filter.team {
        query = query.filter(cases::team.eq(t.clone()));
    }
    if !filter.status.is_empty() {
        let wanted: Vec<&str> = filter.status.iter().map(|s| s.as_str()).collect();
        query = query.filter(cases::status.eq_any(wanted));
    }
    query
        .load::<CaseRow>(conn)?
        .into_iter()
        .map(CaseRow::into_case)
        .collect()
}

/// One case with its audit trail, oldest event first.
pub fn show(conn: &mut AnyConnection, id: i64) -> Result<(Case, Vec<Event>)> {
    let mut case = find(conn, id)?;
    case.reference = cases::table
        .find(id)
        .select(cases::reference)
        .first::<Option<String>>(conn)?;
    case.area = mentions::table
        .inner_join(areas::table)
        .filter(mentions::response_id.eq(case.response_id))
        .filter(mentions::rank.eq(case.rank))
        .select(areas::label)
        .first::<String>(conn)
        .optional()?;
    let events = case_events::table
        .filter(case_events::case_id.eq(id))
        .order(case_events::id)
        .select(EventRow::as_select())
        .load(conn)?
        .into_iter()
        .map(EventRow::into_event)
        .collect();
    Ok((case, events))
}

/// The case number for `text`: a number, or a reference such as `K7M2QX4P`.
pub fn id_of(conn: &mut AnyConnection, text: &str) -> Result<i64> {
    if let Ok(id) = text.trim().parse::<i64>() {
        return Ok(id);
    }
    let Some(reference) = reference::normalise(text) else {
        return Err(Error::Invalid(format!(
            "{text:?} is neither a case number nor a reference such as K7M2QX4P"
        )));
    };
    cases::table
        .filter(cases::reference.eq(&reference))
        .select(cases::id)
        .first(conn)
        .optional()?
        .ok_or_else(|| {
            Error::NotFound(format!(
                "no case has the reference {reference}; see pds cases list"
            ))
        })
}

/// Case `id`, without its reference, area or trail.
pub(super) fn find(conn: &mut AnyConnection, id: i64) -> Result<Case> {
    let row = case_query!()
        .filter(cases::id.eq(id))
        .first::<CaseRow>(conn)
        .optional()?
        .ok_or_else(|| {
            Error::NotFound(format!("no case has the number {id}; see pds cases list"))
        })?;
    row.into_case()
}
