//! Storing what a respondent answered: a response and its mentions, in one
//! transaction. A second submission with the same personal link replaces the first
//! until the survey closes (respondents expect to be able to correct themselves);
//! the response keeps its first submission time.
//!
//! In an anonymous survey (`anonymous = true` in survey.toml) the answer is routed
//! like any other, and then, in the same transaction, loses its link: the response
//! keeps no invitation and no contact, and the invitation records only the day it
//! was answered. Such a link answers once.

pub mod form;
pub mod import;
pub mod inbox;

use diesel::prelude::*;

pub use form::{Answer, Edit, FormErrors, FormInput, Frequency, Problem};

use crate::config::Settings;
use crate::db::schema::{invitations, mentions, responses};
use crate::db::{now, AnyConnection, Database};
use crate::error::Result;
use crate::invite::Invitee;
use crate::route;
use crate::survey::StoredSurvey;

/// What preparing an answer needs from the running process: the database, the
/// settings and the routing rules parsed once (the server keeps them in its
/// state, a command for its run).
#[derive(Clone, Copy)]
pub struct Services<'a> {
    pub db: &'a Database,
    pub settings: &'a Settings,
    pub rules: &'a route::ParsedRules,
}

/// Whether a submission created the response or replaced an earlier one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    New,
    Replaced,
    /// An anonymous survey's link that has answered before: nothing was stored.
    AlreadyAnswered,
}

/// An answer ready to be stored: routing decided and the teams' emails rendered,
/// so that only the inserts are left for the write lock.
pub struct Prepared {
    write: Box<StoreWrite>,
}

/// The inserts of a prepared answer, run in the write transaction.
type StoreWrite = dyn FnOnce(&mut AnyConnection) -> Result<Stored> + Send;

impl Prepared {
    /// Stores the answer: the response row, all its mentions and the complaints
    /// routing rules send to operations teams, in one transaction, waiting for
    /// the commit.
    pub fn store(self, db: &Database) -> Result<Stored> {
        db.write_grouped(self.write)
    }

    /// Stores the answer from an async caller, holding no thread while it waits
    /// for the commit.
    pub async fn store_async(self, db: &Database) -> Result<Stored> {
        db.write_grouped_async(self.write).await
    }
}

/// Does the work of storing an answer that needs no write lock: reads the routing rules,
/// decides which team hears of which problem and renders their emails.
pub fn prepare(
    services: Services<'_>,
    survey: &StoredSurvey,
    invitee: &Invitee,
    answer: &Answer,
) -> Result<Prepared> {
    prepare_received(services, survey, invitee, answer, now())
}

/// [`prepare`] for an answer received at `received` (one that waited in the
/// [`inbox`]): it is stored with that time.
pub fn prepare_received(
    services: Services<'_>,
    survey: &StoredSurvey,
    invitee: &Invitee,
    answer: &Answer,
    received: chrono::NaiveDateTime,
) -> Result<Prepared> {
    prepare_with(services, survey, invitee, answer, received, None)
}

/// More of an answer that is stored with its response, in the same transaction:
/// given the response's id once its row and mentions are written (a checklist
/// survey's answers per item, which the checklist room stores).
pub type AlsoStore = Box<dyn FnOnce(&mut AnyConnection, i64) -> Result<()> + Send>;

/// [`prepare`] for an answer with more to store (`also`), received at `received`.
pub fn prepare_with(
    services: Services<'_>,
    survey: &StoredSurvey,
    invitee: &Invitee,
    answer: &Answer,
    received: chrono::NaiveDateTime,
    also: Option<AlsoStore>,
) -> Result<Prepared> {
    let anonymous = survey.survey.anonymous;
    // Routing decisions and the teams' emails are worked out before the write lock
    // is taken; only the inserts happen inside it.
    let planned = match answer {
        Answer::Problems(problems) => {
            let mut conn = services.db.conn()?;
            plan_routing(&mut conn, services, survey, invitee, problems, received)?
        }
        Answer::NoProblems => Vec::new(),
    };
    let settings = services.settings.clone();
    let invitee = invitee.clone();
    let attributes = invitee.attributes.to_stored();
    let answer = answer.clone();
    let write = Box::new(move |conn: &mut AnyConnection| {
        let stamp = received;
        if anonymous && !claim_link(conn, invitee.invitation_id, stamp)? {
            return Ok(Stored::AlreadyAnswered);
        }
        let no_problems = matches!(answer, Answer::NoProblems);
        let (response_id, stored) =
            store_response(conn, &invitee, &attributes, no_problems, stamp)?;
        if let Answer::Problems(problems) = &answer {
            store_mentions(conn, response_id, problems)?;
        }
        if let Some(also) = also {
            also(conn, response_id)?;
        }
        route::queue_planned(
            conn,
            &settings,
            invitee.survey_id,
            response_id,
            planned,
            stored == Stored::Replaced,
        )?;
        if anonymous {
            diesel::update(responses::table.find(response_id))
                .set((
                    responses::invitation_id.eq(None::<i64>),
                    responses::contact_id.eq(None::<i64>),
                ))
                .execute(conn)?;
        } else {
            diesel::update(invitations::table.find(invitee.invitation_id))
                .set(invitations::answered_at.eq(stamp))
                .execute(conn)?;
        }
        Ok(stored)
    });
    Ok(Prepared { write })
}

/// Which team hears of which problem, with their emails rendered.
fn plan_routing(
    conn: &mut AnyConnection,
    services: Services<'_>,
    survey: &StoredSurvey,
    invitee: &Invitee,
    problems: &[Problem],
    received: chrono::NaiveDateTime,
) -> Result<Vec<route::Planned>> {
    route::plan_complaints(
        conn,
        services.settings,
        services.rules,
        survey,
        &route::Response {
            wave: &invitee.wave,
            segments: invitee.attributes.as_map(),
            customer_name: &invitee.name,
            customer_email: &invitee.email,
            locale: invitee.locale,
            received,
        },
        &problems
            .iter()
            .map(|p| route::Problem {
                rank: p.rank,
                text: &p.text,
                frequency: p.frequency.map(Frequency::as_str),
                may_contact: p.may_contact,
            })
            .collect::<Vec<_>>(),
    )
}

/// Claims an anonymous survey's link before anything is written: of two
/// submissions at once, exactly one finds `answered_at` empty. `false` when the
/// other one did.
fn claim_link(
    conn: &mut AnyConnection,
    invitation_id: i64,
    stamp: chrono::NaiveDateTime,
) -> Result<bool> {
    let claimed = diesel::update(
        invitations::table
            .find(invitation_id)
            .filter(invitations::answered_at.is_null()),
    )
    .set(invitations::answered_at.eq(crate::invite::coarse_stamp(stamp)))
    .execute(conn)?;
    Ok(claimed > 0)
}

/// The invitation's response, new or replaced (its mentions removed); its id.
fn store_response(
    conn: &mut AnyConnection,
    invitee: &Invitee,
    attributes: &str,
    no_problems: bool,
    stamp: chrono::NaiveDateTime,
) -> Result<(i64, Stored)> {
    let no_problems = i32::from(no_problems);
    let existing: Option<i64> = responses::table
        .filter(responses::invitation_id.eq(invitee.invitation_id))
        .select(responses::id)
        .first(conn)
        .optional()?;
    if let Some(id) = existing {
        diesel::update(responses::table.find(id))
            .set((
                responses::no_problems.eq(no_problems),
                responses::updated_at.eq(stamp),
            ))
            .execute(conn)?;
        diesel::delete(mentions::table.filter(mentions::response_id.eq(id))).execute(conn)?;
        return Ok((id, Stored::Replaced));
    }
    diesel::insert_into(responses::table)
        .values((
            responses::survey_id.eq(invitee.survey_id),
            responses::wave_id.eq(invitee.wave_id),
            responses::invitation_id.eq(Some(invitee.invitation_id)),
            responses::contact_id.eq(Some(invitee.contact_id)),
            responses::locale.eq(invitee.locale.as_str()),
            responses::attributes.eq(attributes),
            responses::audience.eq(&invitee.audience),
            responses::no_problems.eq(no_problems),
            responses::submitted_at.eq(stamp),
            responses::updated_at.eq(stamp),
        ))
        .execute(conn)?;
    crate::survey::summary::respondent_attributes(conn, invitee.survey_id, attributes)?;
    let id = responses::table
        .filter(responses::invitation_id.eq(invitee.invitation_id))
        .select(responses::id)
        .first(conn)?;
    Ok((id, Stored::New))
}

/// The problems of a response, one row each.
fn store_mentions(conn: &mut AnyConnection, response_id: i64, problems: &[Problem]) -> Result<()> {
    // One statement per mention: multi-row inserts are not portable across both
    // backends in diesel's MultiConnection.
    for p in problems {
        diesel::insert_into(mentions::table)
            .values((
                mentions::response_id.eq(response_id),
                mentions::rank.eq(p.rank as i32),
                mentions::text.eq(&p.text),
                mentions::frequency.eq(p.frequency.map(Frequency::as_str)),
                mentions::may_contact.eq(i32::from(p.may_contact)),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The answer stored for an invitation, if any.
pub fn load(conn: &mut AnyConnection, invitation_id: i64) -> Result<Option<Answer>> {
    let response: Option<(i64, i32)> = responses::table
        .filter(responses::invitation_id.eq(invitation_id))
        .select((responses::id, responses::no_problems))
        .first(conn)
        .optional()?;
    let Some((response_id, no_problems)) = response else {
        return Ok(None);
    };
    if no_problems != 0 {
        return Ok(Some(Answer::NoProblems));
    }
    let rows = mentions::table
        .filter(mentions::response_id.eq(response_id))
        .order(mentions::rank)
        .select(MentionRow::as_select())
        .load(conn)?;
    Ok(Some(Answer::Problems(
        rows.into_iter().map(MentionRow::into_problem).collect(),
    )))
}

/// A stored mention as [`load`] reads it back.
#[derive(Queryable, Selectable)]
#[diesel(table_name = mentions)]
struct MentionRow {
    rank: i32,
    text: String,
    frequency: Option<String>,
    may_contact: i32,
}

impl MentionRow {
    fn into_problem(self) -> Problem {
        Problem {
            rank: self.rank as u32,
            text: self.text,
            frequency: self.frequency.as_deref().and_then(Frequency::parse),
            may_contact: self.may_contact != 0,
        }
    }
}
