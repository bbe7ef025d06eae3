//! Cases: what became of each complaint routed to a team. Routing opens a case in
//! the same transaction as the answer and the team's email; the team acknowledges,
//! resolves or declines it from the email's one-click links (`links`), the command
//! line or the API; when a case is resolved with a note and the customer agreed to
//! be contacted, the customer hears back (`followup`) through the outbox.
//!
//! This room owns the tables `cases`, `case_events` and `case_links`. Every change
//! appends an event (time, actor, action, note); events are never updated or
//! deleted. It must not render pages or talk HTTP: the doors do that.
//!
//! Here: a case, its events and who acted (`Actor`), and the one function that
//! appends an event. Opening a case and erasure's loss of consent are in
//! `open.rs`, reading cases in `read.rs`, acting on one (by command, API or
//! one-click link) in `act.rs`.

pub mod announce;
mod followup;
mod followup_review;
mod links;
pub mod reference;
pub mod stats;
mod status;
pub mod team;

mod act;
mod open;
mod read;

use diesel::prelude::*;
use serde::Serialize;

pub use followup::{FollowUp, Skip};
pub use followup_review::{review, Decision, Reviewed};
pub use links::{path as link_path, Links, LINK_DAYS};
pub use status::{Action, Refused, Status};

use act::record_follow_up;
pub use act::{
    act, act_by_link, open_link, ActError, Acted, CaseAction, LinkOutcome, LinkState, Note,
    NoteTooLong,
};
pub use open::{forget_contact, record, NewCase};
use read::find;
pub use read::{id_of, list, show, Filter};

use crate::db::schema::case_events;
use crate::db::AnyConnection;
use crate::error::Result;
use crate::survey::Locale;

/// The longest note a team may write on a case, in characters.
pub const MAX_NOTE_CHARS: usize = 2000;

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

/// A row of `case_events`: one entry of a case's trail, as written.
#[derive(Insertable)]
#[diesel(table_name = case_events)]
struct NewEvent<'a> {
    case_id: i64,
    at: chrono::NaiveDateTime,
    actor: String,
    action: &'a str,
    note: Option<&'a str>,
}

/// Appends an entry to case `case_id`'s trail, in the caller's transaction.
fn append_event(
    conn: &mut AnyConnection,
    case_id: i64,
    at: chrono::NaiveDateTime,
    actor: Actor<'_>,
    action: &str,
    note: Option<&str>,
) -> Result<()> {
    diesel::insert_into(case_events::table)
        .values(NewEvent {
            case_id,
            at,
            actor: actor.stored(),
            action,
            note,
        })
        .execute(conn)?;
    Ok(())
}
