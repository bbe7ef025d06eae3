//! Review of a follow-up before it is sent (`followup_review = true` in
//! survey.toml): a resolved case's note waits as "awaiting review" in
//! `followup_reviews`; an analyst approves it (then it is queued, after the same
//! checks as any follow-up: consent, not anonymous, not unsubscribed or erased) or
//! rejects it (then the customer hears nothing). Each decision is appended to the
//! case's trail with who made it.

use diesel::prelude::*;
use serde::Serialize;

use super::followup::{self, Release, AWAITING};
use super::{append_event, find, record_follow_up, Actor, FollowUp, Note};
use crate::config::Settings;
use crate::db::schema::followup_reviews;
use crate::db::{now, Database};
use crate::error::{Error, Result};

/// An analyst's decision on a held follow-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Approve,
    Reject,
}

/// What a review did.
#[derive(Debug, Clone, Serialize)]
pub struct Reviewed {
    pub case: i64,
    pub decision: Decision,
    /// For an approval: whether the customer's email was queued, or why not.
    pub follow_up: Option<FollowUp>,
}

/// Approves (queuing the follow-up, with `note` instead of the team's when given)
/// or rejects (`note`: why) the follow-up held for case `id`, in one transaction.
/// A case with no follow-up awaiting review is refused and nothing changes.
pub fn review(
    db: &Database,
    settings: &Settings,
    id: i64,
    decision: Decision,
    note: Option<&Note>,
    actor: Actor<'_>,
) -> Result<Reviewed> {
    db.write(|conn| -> Result<Reviewed> {
        let case = find(conn, id)?;
        let held: Option<(String, String)> = followup_reviews::table
            .find(id)
            .select((followup_reviews::note, followup_reviews::status))
            .first(conn)
            .optional()?;
        let team_note = match held {
            Some((n, status)) if status == AWAITING => n,
            Some((_, status)) => {
                return Err(Error::Invalid(format!(
                    "case {id}: its follow-up was {status} already; a follow-up is reviewed once"
                )))
            }
            None => {
                return Err(Error::Invalid(format!(
                    "case {id} has no follow-up awaiting review (only a case resolved with a note, in a survey with followup_review = true, has one)"
                )))
            }
        };
        let stamp = now();
        let status = match decision {
            Decision::Approve => "approved",
            Decision::Reject => "rejected",
        };
        diesel::update(followup_reviews::table.find(id))
            .set((
                followup_reviews::status.eq(status),
                followup_reviews::decided_at.eq(stamp),
            ))
            .execute(conn)?;
        let event = format!("followup_{status}");
        append_event(conn, id, stamp, actor, &event, note.map(Note::as_str))?;
        let follow_up = match decision {
            Decision::Reject => None,
            Decision::Approve => {
                let sent = match note {
                    Some(n) => n.clone(),
                    None => Note::parse(&team_note)
                        .ok()
                        .flatten()
                        .ok_or_else(|| Error::Internal(format!("case {id}: held note is empty")))?,
                };
                let outcome = followup::queue(conn, settings, &case, &sent, Release::Approved)?;
                record_follow_up(conn, id, stamp, &outcome)?;
                Some(outcome)
            }
        };
        Ok(Reviewed {
            case: id,
            decision,
            follow_up,
        })
    })
}
