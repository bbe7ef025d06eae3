//! Opening a case for a routed complaint (or continuing it when the customer
//! corrects their answer), and erasure's loss of consent to contact. Runs inside
//! the caller's transaction; every change appends an event.

use diesel::prelude::*;

use super::{append_event, Actor, Links, Status};
use crate::db::schema::cases;
use crate::db::{now, AnyConnection};
use crate::error::{Error, Result};
use crate::survey::Locale;

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

/// A row of `cases` as opened.
#[derive(Insertable)]
#[diesel(table_name = cases)]
struct CaseRow<'a> {
    survey_id: i64,
    response_id: i64,
    team: &'a str,
    team_name: &'a str,
    team_locale: &'a str,
    rank: i32,
    text: &'a str,
    text_key: &'a str,
    may_contact: i32,
    status: &'a str,
    reference: &'a str,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
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
            continue_case(conn, new, id, &old_text, links.is_some(), stamp)?;
            id
        }
        None => open_case(conn, new, stamp)?,
    };
    if let Some(links) = links {
        links.store(conn, case_id, stamp)?;
    }
    Ok(case_id)
}

/// Case `id` takes the corrected answer's words, rank and consent; the earlier
/// words go into its trail.
fn continue_case(
    conn: &mut AnyConnection,
    new: &NewCase<'_>,
    id: i64,
    old_text: &str,
    new_email: bool,
    stamp: chrono::NaiveDateTime,
) -> Result<()> {
    diesel::update(cases::table.find(id))
        .set((
            cases::text.eq(new.text),
            cases::text_key.eq(new.text_key),
            cases::rank.eq(new.rank as i32),
            cases::may_contact.eq(i32::from(new.may_contact)),
            cases::updated_at.eq(stamp),
        ))
        .execute(conn)?;
    if new_email {
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
            Some(old_text),
        )?;
    }
    Ok(())
}

/// Inserts a new open case and its `opened` event; returns its number.
fn open_case(
    conn: &mut AnyConnection,
    new: &NewCase<'_>,
    stamp: chrono::NaiveDateTime,
) -> Result<i64> {
    diesel::insert_into(cases::table)
        .values(CaseRow {
            survey_id: new.survey_id,
            response_id: new.response_id,
            team: new.team,
            team_name: new.team_name,
            team_locale: new.team_locale.as_str(),
            rank: new.rank as i32,
            text: new.text,
            text_key: new.text_key,
            may_contact: i32::from(new.may_contact),
            status: Status::Open.as_str(),
            reference: new.reference,
            created_at: stamp,
            updated_at: stamp,
        })
        .execute(conn)?;
    let id: i64 = cases::table
        .filter(cases::response_id.eq(new.response_id))
        .filter(cases::team.eq(new.team))
        .select(diesel::dsl::max(cases::id))
        .first::<Option<i64>>(conn)?
        .ok_or_else(|| Error::Internal("a case just inserted is not there".into()))?;
    append_event(conn, id, stamp, Actor::Rule(new.rule), "opened", None)?;
    Ok(id)
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
