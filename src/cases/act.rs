//! Acting on a case: a team's note, the status change with its event in one
//! transaction, the customer's follow-up on a resolution, and the one-click
//! links of a complaint email (what a link would do, and doing it once).

use diesel::prelude::*;

use super::followup::{self, FollowUp, Skip};
use super::read::find;
use super::{append_event, links, show, Action, Actor, Case, Event, Refused, MAX_NOTE_CHARS};
use crate::config::Settings;
use crate::db::schema::cases;
use crate::db::{now, AnyConnection, Database};
use crate::error::{Error, Result};
use crate::invite::Token;

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

/// One action on a case: which case, what is done, the note that goes with it
/// and who does it.
#[derive(Debug, Clone, Copy)]
pub struct CaseAction<'a> {
    pub id: i64,
    pub action: Action,
    pub note: Option<&'a Note>,
    pub actor: Actor<'a>,
}

/// Acts on a case in one transaction: the status changes, an event is appended,
/// and a resolution with a note may queue the customer's follow-up.
pub fn act(
    db: &Database,
    settings: &Settings,
    what: CaseAction<'_>,
) -> std::result::Result<Acted, ActError> {
    db.write(|conn| act_in(conn, settings, what))
}

fn act_in(
    conn: &mut AnyConnection,
    settings: &Settings,
    what: CaseAction<'_>,
) -> std::result::Result<Acted, ActError> {
    let CaseAction {
        id,
        action,
        note,
        actor,
    } = what;
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
pub(super) fn record_follow_up(
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
        let what = CaseAction {
            id: case.id,
            action: *action,
            note,
            actor: Actor::Team(&case.team_name),
        };
        let acted = act_in(conn, settings, what).map_err(|e| match e {
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
