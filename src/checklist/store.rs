//! The `checklist_answers` table: a checklist response's answer per item, with the
//! place each item had in the order the respondent was shown. The only file of the
//! checklist room that touches the database; the caller holds the transaction (the
//! answer is stored together with its response and write-in mentions).

use diesel::prelude::*;

use super::answer::{Bother, Experienced, ItemAnswer, SolvedElsewhere};
use super::ItemId;
use crate::db::schema::{checklist_answers, responses};
use crate::db::AnyConnection;
use crate::error::{Error, Result};

/// The audiences a contact or response may have (`audience` columns).
pub use crate::audience::{Audience, CUSTOMER, STAFF};

#[derive(Insertable)]
#[diesel(table_name = checklist_answers)]
struct NewRow<'a> {
    response_id: i64,
    item_id: &'a str,
    position: Option<i32>,
    experienced: &'static str,
    bother: Option<i32>,
    solved_elsewhere: Option<&'static str>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = checklist_answers)]
struct Row {
    response_id: i64,
    item_id: String,
    position: Option<i32>,
    experienced: String,
    bother: Option<i32>,
    solved_elsewhere: Option<String>,
}

impl Row {
    /// A stored row back as an answer. Rows are only written from whole answers,
    /// so a row that does not parse was changed outside `pds`: our problem to
    /// report, not the user's input.
    fn into_answer(self) -> Result<(i64, ItemAnswer)> {
        let broken = |why: String| {
            Error::Internal(format!(
                "checklist answer of response {} to item {:?} cannot be read: {why}",
                self.response_id, self.item_id
            ))
        };
        let item = ItemId::parse(&self.item_id).map_err(broken)?;
        let experienced: Experienced = self.experienced.parse().map_err(broken)?;
        let bother = self
            .bother
            .map(|b| Bother::new(i64::from(b)))
            .transpose()
            .map_err(broken)?;
        let solved = self
            .solved_elsewhere
            .as_deref()
            .map(str::parse::<SolvedElsewhere>)
            .transpose()
            .map_err(broken)?;
        let position = self.position.and_then(|p| u32::try_from(p).ok());
        let answer = ItemAnswer::new(item, position, experienced, bother, solved)
            .map_err(|e| broken(e.to_string()))?;
        Ok((self.response_id, answer))
    }
}

/// Stores `answers` as the response's checklist answers, replacing any it had (a
/// respondent may change an answer through the same link).
pub fn replace_answers(
    conn: &mut AnyConnection,
    response_id: i64,
    answers: &[ItemAnswer],
) -> Result<()> {
    diesel::delete(checklist_answers::table.filter(checklist_answers::response_id.eq(response_id)))
        .execute(conn)?;
    let rows: Vec<NewRow<'_>> = answers
        .iter()
        .map(|a| NewRow {
            response_id,
            item_id: a.item.as_str(),
            position: a.position.and_then(|p| i32::try_from(p).ok()),
            experienced: a.experienced.as_str(),
            bother: a.bother.map(|b| i32::from(b.get())),
            solved_elsewhere: a.solved_elsewhere.map(SolvedElsewhere::as_str),
        })
        .collect();
    // Row by row: a multi-row insert is not supported on every backend through
    // AnyConnection, and a checklist has at most a few hundred items.
    for row in &rows {
        diesel::insert_into(checklist_answers::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

/// The checklist answers of one response, in the order it was shown (imported
/// answers, which have no position, by item id).
pub fn answers_of(conn: &mut AnyConnection, response_id: i64) -> Result<Vec<ItemAnswer>> {
    let rows: Vec<Row> = checklist_answers::table
        .filter(checklist_answers::response_id.eq(response_id))
        .order((checklist_answers::position, checklist_answers::item_id))
        .select(Row::as_select())
        .load(conn)?;
    rows.into_iter()
        .map(|r| r.into_answer().map(|(_, a)| a))
        .collect()
}

/// The response given through an invitation, if any (an anonymous survey's answer
/// is no longer linked to its invitation).
pub fn response_of_invitation(conn: &mut AnyConnection, invitation_id: i64) -> Result<Option<i64>> {
    Ok(responses::table
        .filter(responses::invitation_id.eq(invitation_id))
        .select(responses::id)
        .first(conn)
        .optional()?)
}

/// Every checklist answer of a survey in one audience, as (response id, answer),
/// by response: what results will count.
pub fn answers_of_survey(
    conn: &mut AnyConnection,
    survey_id: i64,
    audience: &str,
) -> Result<Vec<(i64, ItemAnswer)>> {
    let rows: Vec<Row> = checklist_answers::table
        .inner_join(responses::table)
        .filter(responses::survey_id.eq(survey_id))
        .filter(responses::audience.eq(audience))
        .order((checklist_answers::response_id, checklist_answers::id))
        .select(Row::as_select())
        .load(conn)?;
    rows.into_iter().map(Row::into_answer).collect()
}
