//! Cases: what became of each complaint routed to a team. Routing opens a case in
//! the same transaction as the answer and the team's email; the team acknowledges,
//! resolves or declines it from the email's one-click links (`links`), the command
//! line or the API; when a case is resolved with a note and the customer agreed to
//! be contacted, the customer hears back (`followup`) through the outbox.
//!
//! This room owns the tables `cases`, `case_events` and `case_links`. Every change
//! appends an event (time, actor, action, note); events are never updated or
//! deleted. It must not render pages or talk HTTP: the doors do that.

pub mod announce;
mod followup;
mod followup_review;
mod links;
pub mod reference;
pub mod stats;
mod status;
pub mod team;

use diesel::prelude::*;
use serde::Serialize;

pub use followup::{FollowUp, Skip};
pub use followup_review::{review, Decision, Reviewed};
pub use links::{path as link_path, Links, LINK_DAYS};
pub use status::{Action, Refused, Status};

use crate::config::Settings;
use crate::db::schema::{areas, case_events, cases, mentions, responses, surveys, waves};
use crate::db::{now, AnyConnection, Database};
use crate::error::{Error, Result};
use crate::invite::Token;
use crate::survey::Locale;

/// The longest note a team may write on a case, in characters.
pub const MAX_NOTE_CHARS: usize = 2000;

/// A routed complaint, as routing hands it over to become a case.
#[derive(Debug, Clone)]
pub struct NewCase<'a> {
    pub survey_id: i64,
    pub response_id: i64,
    pub team: &'a str,
    pub team_name: &'a str,
    pub team_locale: Locale,
    pub rank: u32,
    pub text: &'a str,
    pub text_key: &'a str,
    pub may_contact: bool,
    pub rule: &'a str,
    /// The short reference written into the team's email.
    pub reference: &'a str,
}

/// A case as the doors show it.
#[derive(Debug, Clone, Serialize)]
pub struct Case {
    pub id: i64,
    pub survey: String,
    pub survey_title: String,
    pub wave: String,
    pub team: String,
    pub team_name: String,
    pub team_locale: Locale,
    pub rank: i32,
    pub text: String,
    pub may_contact: bool,
    pub status: Status,
    pub assignee: Option<String>,
    /// The problem area of the customer's words, once they are coded.
    pub area: Option<String>,
    /// The short reference in the team's email (none for cases opened earlier).
    pub reference: Option<String>,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
    #[serde(skip)]
    survey_id: i64,
    #[serde(skip)]
    response_id: i64,
}

/// One entry of a case's audit trail.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub at: chrono::NaiveDateTime,
    /// `rule`, `customer`, `pds`, `team` (by email link), `api` (a key) or `cli`.
    pub actor_kind: String,
    /// The rule's, team's, key's or user's name; empty for `customer` and `pds`.
    pub actor_name: String,
    pub action: String,
    pub note: Option<String>,
}

/// Who changed a case. Stored as `kind:name`, so that pages can say it in the
/// reader's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor<'a> {
    /// The routing rule that opened the case.
    Rule(&'a str),
    /// The customer, correcting their answer.
    Customer,
    /// The engine itself (follow-ups, erasure).
    Pds,
    /// A team, by a link in its complaint email.
    Team(&'a str),
    /// An admin API key, by name.
    ApiKey(&'a str),
    /// Someone at the command line.
    Cli(&'a str),
}

impl Actor<'_> {
    fn stored(self) -> String {
        match self {
            Actor::Rule(n) => format!("rule:{n}"),
            Actor::Customer => "customer:".into(),
            Actor::Pds => "pds:".into(),
            Actor::Team(n) => format!("team:{n}"),
            Actor::ApiKey(n) => format!("api:{n}"),
            Actor::Cli(n) => format!("cli:{n}"),
        }
    }
}

fn event_from_row(
    (at, actor, action, note): (chrono::NaiveDateTime, String, String, Option<String>),
) -> Event {
    let (kind, name) = actor.split_once(':').unwrap_or((actor.as_str(), ""));
    Event {
        at,
        actor_kind: kind.to_string(),
        actor_name: name.to_string(),
        action,
        note,
    }
}

/// Opens the case for a routed complaint, or, when the answer `replaces` an
/// earlier one and the team already has a case for it (the same words after
/// normalisation, else the same rank), updates that case's text: a corrected
/// answer never opens a second case. `links`, the action links of the email
/// queued with it, are stored for the case. Runs in the caller's transaction.
pub fn record(
    conn: &mut AnyConnection,
    new: &NewCase<'_>,
    replaces: bool,
    links: Option<&Links>,
) -> Result<i64> {
    let stamp = now();
    let existing = if replaces {
        existing_case(conn, new)?
    } else {
        None
    };
    let case_id = match existing {
        Some((id, old_text)) => {
            diesel::update(cases::table.find(id))
                .set((
                    cases::text.eq(new.text),
                    cases::text_key.eq(new.text_key),
                    cases::rank.eq(new.rank as i32),
                    cases::may_contact.eq(i32::from(new.may_contact)),
                    cases::updated_at.eq(stamp),
                ))
                .execute(conn)?;
            if links.is_some() {
                // A new email goes out for the corrected words, with a new
                // reference: the case answers to the one the team read last.
                diesel::update(cases::table.find(id))
                    .set(cases::reference.eq(new.reference))
                    .execute(conn)?;
            }
            if old_text != new.text {
                // The earlier words stay in the trail: the case's text is replaced,
                // its history is not.
                append_event(
                    conn,
                    id,
                    stamp,
                    Actor::Customer,
                    "text_updated",
                    Some(&old_text),
                )?;
            }
            id
        }
        None => {
            diesel::insert_into(cases::table)
                .values((
                    cases::survey_id.eq(new.survey_id),
                    cases::response_id.eq(new.response_id),
                    cases::team.eq(new.team),
                    cases::team_name.eq(new.team_name),
                    cases::team_locale.eq(new.team_locale.as_str()),
                    cases::rank.eq(new.rank as i32),
                    cases::text.eq(new.text),
                    cases::text_key.eq(new.text_key),
                    cases::may_contact.eq(i32::from(new.may_contact)),
                    cases::status.eq(Status::Open.as_str()),
                    cases::reference.eq(new.reference),
                    cases::created_at.eq(stamp),
                    cases::updated_at.eq(stamp),
                ))
                .execute(conn)?;
            let id: i64 = cases::table
                .filter(cases::response_id.eq(new.response_id))
                .filter(cases::team.eq(new.team))
                .select(diesel::dsl::max(cases::id))
                .first::<Option<i64>>(conn)?
                .ok_or_else(|| Error::Internal("a case just inserted is not there".into()))?;
            append_event(conn, id, stamp, Actor::Rule(new.rule), "opened", None)?;
            id
        }
    };
    if let Some(links) = links {
        links.store(conn, case_id, stamp)?;
    }
    Ok(case_id)
}

/// The team's case for this response that a corrected answer continues.
fn existing_case(conn: &mut AnyConnection, new: &NewCase<'_>) -> Result<Option<(i64, String)>> {
    let of_team = || {
        cases::table
            .filter(cases::response_id.eq(new.response_id))
            .filter(cases::team.eq(new.team))
            .select((cases::id, cases::text))
            .order(cases::id)
    };
    if let Some(found) = of_team()
        .filter(cases::text_key.eq(new.text_key))
        .first(conn)
        .optional()?
    {
        return Ok(Some(found));
    }
    Ok(of_team()
        .filter(cases::rank.eq(new.rank as i32))
        .first(conn)
        .optional()?)
}

fn append_event(
    conn: &mut AnyConnection,
    case_id: i64,
    at: chrono::NaiveDateTime,
    actor: Actor<'_>,
    action: &str,
    note: Option<&str>,
) -> Result<()> {
    diesel::insert_into(case_events::table)
        .values((
            case_events::case_id.eq(case_id),
            case_events::at.eq(at),
            case_events::actor.eq(actor.stored()),
            case_events::action.eq(action),
            case_events::note.eq(note),
        ))
        .execute(conn)?;
    Ok(())
}

/// Erasure: the answers `response_ids` no longer lead to a person, so their cases
/// lose the consent to contact (the words stay, as the mentions do). Runs in the
/// eraser's transaction; each case's history records it.
pub fn forget_contact(conn: &mut AnyConnection, response_ids: &[i64]) -> Result<usize> {
    let ids: Vec<i64> = cases::table
        .filter(cases::response_id.eq_any(response_ids))
        .select(cases::id)
        .load(conn)?;
    let stamp = now();
    for id in &ids {
        diesel::update(cases::table.find(id))
            .set((cases::may_contact.eq(0), cases::updated_at.eq(stamp)))
            .execute(conn)?;
        append_event(conn, *id, stamp, Actor::Pds, "contact_erased", None)?;
    }
    Ok(ids.len())
}

/// Which cases to list; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub survey: Option<String>,
    pub team: Option<String>,
    pub status: Vec<Status>,
}

type CaseTuple = (
    (i64, i64, i64, String, String, String, i32, String),
    (
        i32,
        String,
        Option<String>,
        chrono::NaiveDateTime,
        chrono::NaiveDateTime,
    ),
    (String, String, String),
);

fn from_tuple(t: CaseTuple) -> Result<Case> {
    let ((id, survey_id, response_id, team, team_name, team_locale, rank, text), rest, names) = t;
    let (may_contact, status, assignee, created_at, updated_at) = rest;
    let (survey, survey_title, wave) = names;
    Ok(Case {
        id,
        survey,
        survey_title,
        wave,
        team,
        team_name,
        team_locale: team_locale
            .parse()
            .map_err(|e| Error::Internal(format!("case {id}: stored locale: {e}")))?,
        rank,
        text,
        may_contact: may_contact != 0,
        status: status
            .parse()
            .map_err(|e| Error::Internal(format!("case {id}: stored status: {e}")))?,
        assignee,
        area: None,
        reference: None,
        created_at,
        updated_at,
        survey_id,
        response_id,
    })
}

macro_rules! case_query {
    () => {
        cases::table
            .inner_join(surveys::table)
            .inner_join(responses::table.inner_join(waves::table))
            .select((
                (
                    cases::id,
                    cases::survey_id,
                    cases::response_id,
                    cases::team,
                    cases::team_name,
                    cases::team_locale,
                    cases::rank,
                    cases::text,
                ),
                (
                    cases::may_contact,
                    cases::status,
                    cases::assignee,
                    cases::created_at,
                    cases::updated_at,
                ),
                (surveys::slug, surveys::title, waves::label),
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
        .load::<CaseTuple>(conn)?
        .into_iter()
        .map(from_tuple)
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
        .select((
            case_events::at,
            case_events::actor,
            case_events::action,
            case_events::note,
        ))
        .load(conn)?
        .into_iter()
        .map(event_from_row)
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

fn find(conn: &mut AnyConnection, id: i64) -> Result<Case> {
    let row = case_query!()
        .filter(cases::id.eq(id))
        .first::<CaseTuple>(conn)
        .optional()?
        .ok_or_else(|| {
            Error::NotFound(format!("no case has the number {id}; see pds cases list"))
        })?;
    from_tuple(row)
}

/// A team's note, cleaned like a customer's text and limited in length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note(String);

impl Note {
    /// `None` for an empty note; an error for one over [`MAX_NOTE_CHARS`].
    pub fn parse(text: &str) -> std::result::Result<Option<Note>, NoteTooLong> {
        let cleaned = crate::text_safety::stored(text);
        if cleaned.chars().count() > MAX_NOTE_CHARS {
            return Err(NoteTooLong);
        }
        Ok((!cleaned.is_empty()).then_some(Note(cleaned)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A note longer than [`MAX_NOTE_CHARS`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the note is longer than {MAX_NOTE_CHARS} characters; shorten it")]
pub struct NoteTooLong;

/// What acting on a case did.
#[derive(Debug, Clone)]
pub struct Acted {
    pub case: Case,
    pub action: Action,
    /// For a resolution: whether the customer hears back.
    pub follow_up: Option<FollowUp>,
}

/// Why an action was not taken.
#[derive(Debug, thiserror::Error)]
pub enum ActError {
    #[error("case {id}: {refused}")]
    Refused { id: i64, refused: Refused },
    #[error(transparent)]
    Other(#[from] Error),
}

impl From<diesel::result::Error> for ActError {
    fn from(e: diesel::result::Error) -> Self {
        ActError::Other(e.into())
    }
}

impl From<ActError> for Error {
    fn from(e: ActError) -> Self {
        match e {
            ActError::Refused { .. } => Error::Invalid(e.to_string()),
            ActError::Other(e) => e,
        }
    }
}

/// Acts on case `id` in one transaction: the status changes, an event is
/// appended, and a resolution with a note may queue the customer's follow-up.
pub fn act(
    db: &Database,
    settings: &Settings,
    id: i64,
    action: Action,
    note: Option<&Note>,
    actor: Actor<'_>,
) -> std::result::Result<Acted, ActError> {
    db.write(|conn| act_in(conn, settings, id, action, note, actor))
}

fn act_in(
    conn: &mut AnyConnection,
    settings: &Settings,
    id: i64,
    action: Action,
    note: Option<&Note>,
    actor: Actor<'_>,
) -> std::result::Result<Acted, ActError> {
    let mut case = find(conn, id)?;
    let status = case
        .status
        .after(action)
        .map_err(|refused| ActError::Refused { id, refused })?;
    let stamp = now();
    // The status in the filter makes two concurrent actions on one case safe: the
    // second finds the row changed and is refused.
    let changed = diesel::update(
        cases::table
            .find(id)
            .filter(cases::status.eq(case.status.as_str())),
    )
    .set((
        cases::status.eq(status.as_str()),
        cases::updated_at.eq(stamp),
    ))
    .execute(conn)?;
    if changed == 0 {
        let now_status = find(conn, id)?.status;
        return Err(ActError::Refused {
            id,
            refused: Refused {
                from: now_status,
                action,
            },
        });
    }
    append_event(
        conn,
        id,
        stamp,
        actor,
        action.past(),
        note.map(Note::as_str),
    )?;
    case.status = status;
    case.updated_at = stamp;
    let follow_up = match (action, note) {
        (Action::Resolve, Some(note)) => {
            let outcome = followup::queue(
                conn,
                settings,
                &case,
                note,
                followup::Release::AsSurveyWants,
            )?;
            record_follow_up(conn, id, stamp, &outcome)?;
            Some(outcome)
        }
        (Action::Resolve, None) => Some(FollowUp::Skipped(Skip::NoNote)),
        _ => None,
    };
    Ok(Acted {
        case,
        action,
        follow_up,
    })
}

/// Appends what became of a follow-up to the case's trail.
fn record_follow_up(
    conn: &mut AnyConnection,
    id: i64,
    stamp: chrono::NaiveDateTime,
    outcome: &FollowUp,
) -> Result<()> {
    let (event, detail) = match outcome {
        FollowUp::Queued => ("followup_queued", None),
        FollowUp::Skipped(why) => ("followup_skipped", Some(why.as_str())),
        FollowUp::AwaitingReview => ("followup_awaiting_review", None),
    };
    if let FollowUp::Skipped(why) = outcome {
        tracing::info!(
            case = id,
            reason = why.describe(),
            "no follow-up to the customer"
        );
    }
    append_event(conn, id, stamp, Actor::Pds, event, detail)
}

/// What an action link leads to.
#[derive(Debug, Clone)]
pub enum LinkState {
    /// No link has this token (mistyped, forged, or its case was deleted).
    Unknown,
    /// The link is older than [`LINK_DAYS`] days.
    Expired { case: Case, events: Vec<Event> },
    /// The link was used already.
    Used { case: Case, events: Vec<Event> },
    /// The case is closed, or the action no longer applies to it.
    Refused {
        case: Case,
        events: Vec<Event>,
        action: Action,
    },
    /// The link may act.
    Usable {
        case: Case,
        events: Vec<Event>,
        action: Action,
    },
}

/// What the link with `token` would do now; changes nothing.
pub fn open_link(conn: &mut AnyConnection, token: &Token) -> Result<LinkState> {
    let Some(link) = links::find(conn, token)? else {
        return Ok(LinkState::Unknown);
    };
    let action: Action = link
        .action
        .parse()
        .map_err(|e| Error::Internal(format!("case link {}: {e}", link.id)))?;
    let (case, events) = show(conn, link.case_id)?;
    Ok(if link.used_at.is_some() {
        LinkState::Used { case, events }
    } else if link.expires_at <= now() {
        LinkState::Expired { case, events }
    } else if case.status.after(action).is_err() {
        LinkState::Refused {
            case,
            events,
            action,
        }
    } else {
        LinkState::Usable {
            case,
            events,
            action,
        }
    })
}

/// What following an action link did.
#[derive(Debug, Clone)]
pub enum LinkOutcome {
    Acted(Acted),
    /// Nothing changed; the state says why.
    NotActed(LinkState),
}

/// Acts with the link `token`: in one transaction the link is spent, the case
/// changes and its event is appended (and a follow-up queued). A link that cannot
/// act, or loses a race with another request, changes nothing: its transaction is
/// rolled back whole.
pub fn act_by_link(
    db: &Database,
    settings: &Settings,
    token: &Token,
    note: Option<&Note>,
) -> Result<LinkOutcome> {
    let written = db.write(|conn| -> std::result::Result<Acted, Rollback> {
        let state = open_link(conn, token)?;
        let LinkState::Usable { case, action, .. } = &state else {
            return Err(Rollback::NotActed(Box::new(state)));
        };
        let link = links::find(conn, token)?
            .ok_or_else(|| Error::Internal("a case link vanished inside its transaction".into()))?;
        let acted = act_in(
            conn,
            settings,
            case.id,
            *action,
            note,
            Actor::Team(&case.team_name),
        )
        .map_err(|e| match e {
            ActError::Refused { .. } => Rollback::Raced,
            ActError::Other(e) => Rollback::Failed(e),
        })?;
        if !links::mark_used(conn, link.id, now())? {
            return Err(Rollback::Raced);
        }
        Ok(acted)
    });
    match written {
        Ok(acted) => Ok(LinkOutcome::Acted(acted)),
        Err(Rollback::NotActed(state)) => Ok(LinkOutcome::NotActed(*state)),
        Err(Rollback::Raced) => Ok(LinkOutcome::NotActed(open_link(&mut *db.conn()?, token)?)),
        Err(Rollback::Failed(e)) => Err(e),
    }
}

/// Why a link's transaction was rolled back.
enum Rollback {
    /// The link cannot act; nothing was written.
    NotActed(Box<LinkState>),
    /// Another request changed the case or spent the link first.
    Raced,
    Failed(Error),
}

impl From<Error> for Rollback {
    fn from(e: Error) -> Self {
        Rollback::Failed(e)
    }
}

impl From<diesel::result::Error> for Rollback {
    fn from(e: diesel::result::Error) -> Self {
        Rollback::Failed(e.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_is_cleaned_and_kept_as_written_but_not_too_long() {
        assert_eq!(Note::parse("  \n "), Ok(None));
        let note = Note::parse(" We <b>fixed</b> it.\u{1b}[31m\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(
            note.as_str(),
            "We <b>fixed</b> it.[31m",
            "HTML is escaped where shown, not here"
        );
        assert!(Note::parse(&"x".repeat(MAX_NOTE_CHARS)).unwrap().is_some());
        assert_eq!(
            Note::parse(&"x".repeat(MAX_NOTE_CHARS + 1)),
            Err(NoteTooLong)
        );
    }
}
