//! Checklist answers collected by phone or on paper, imported from CSV so that they
//! count with the answers given through the form (`pds responses import` on a
//! checklist survey; docs/TEMPLATES.md and README "Importing checklist answers").
//!
//! One row per item answered, and one per "other problem" written in:
//!
//! ```csv
//! respondent,wave,segment,audience,item,experienced,bother,solved_elsewhere,rank,problem
//! p1,2027-H1,lost,customer,late-delivery,often,5,no,,
//! p1,2027-H1,lost,customer,damaged-goods,never,,,,
//! p1,2027-H1,lost,customer,,,,,1,The driver never calls ahead
//! ```
//!
//! `respondent`, `wave`, `item` and `experienced` are required columns; `segment`,
//! `audience` (`customer`, the default, or `staff`), `bother`, `solved_elsewhere`,
//! `rank` and `problem` are optional. A respondent answers every item of the
//! checklist exactly once, as on the form: bother (1-5) exactly for sometimes and
//! often, `solved_elsewhere` (yes, no, dont_know) only then and only when the survey
//! asks it. Importing the same respondent and wave again replaces their answer.
//!
//! A file with any bad row imports nothing (every bad row is reported with its
//! line), unless the caller chooses to skip bad rows; then every respondent with a
//! bad row is left out whole. Meant for the hundreds or thousands of answers an
//! interview team collects: the file is read into memory once and stored in one
//! transaction.
//!
//! Here: the file stored in one transaction (`import`); reading and checking its
//! rows is `parse.rs`.

mod parse;

use std::io::Read;

use diesel::prelude::*;

use super::answer::ItemAnswer;
use super::{store, Checklist};
use crate::answer::import::{segment_attributes, ResponsesReport};
use crate::db::schema::{mentions, responses};
use crate::db::{now, AnyConnection, Database};
use crate::error::Result;
use crate::invite::ImportError;
use crate::survey::{store as survey_store, StoredSurvey, WaveLabel};

pub use parse::parse;

/// One respondent of a wave, gathered from their rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedChecklist {
    pub respondent: String,
    pub wave: WaveLabel,
    pub segment: Option<String>,
    /// `customer` or `staff`.
    pub audience: &'static str,
    /// One per item, in the order of the checklist.
    pub items: Vec<ItemAnswer>,
    /// The other problems written in, ranked 1..m in the order of their ranks.
    pub write_ins: Vec<String>,
}

/// Reads and stores a checklist answers file for `survey`, a checklist survey.
/// With `skip_invalid` false, one bad row means nothing is imported and every bad
/// row is reported.
pub fn import(
    db: &Database,
    survey: &StoredSurvey,
    reader: impl Read,
    file: &str,
    skip_invalid: bool,
) -> Result<ResponsesReport> {
    let checklist = Checklist::of_survey(survey)?;
    let (respondents, bad, errors) = parse(reader, file, &checklist, survey.survey.max_problems)?;
    if !errors.is_empty() && !skip_invalid {
        return Err(ImportError::Rejected {
            file: file.to_string(),
            errors,
        }
        .into());
    }
    let mut report = db.write(|conn| -> Result<ResponsesReport> {
        let mut report = ResponsesReport::default();
        for respondent in &respondents {
            store_one(conn, survey, respondent, &mut report)?;
        }
        Ok(report)
    })?;
    report.skipped_respondents = bad;
    report.errors = errors;
    Ok(report)
}

/// Stores one respondent: their response (a new one, or the one an earlier import
/// of the same respondent and wave made), write-ins and item answers.
fn store_one(
    conn: &mut AnyConnection,
    survey: &StoredSurvey,
    r: &ImportedChecklist,
    report: &mut ResponsesReport,
) -> Result<()> {
    let wave = survey_store::ensure_wave(conn, survey.id, &r.wave)?;
    let stamp = now();
    let attributes = segment_attributes(r.segment.as_deref())?;
    let response = NewResponse {
        survey_id: survey.id,
        wave_id: wave.id,
        locale: survey.survey.default_locale.as_str(),
        attributes,
        audience: r.audience,
        no_problems: i32::from(r.write_ins.is_empty()),
        respondent: &r.respondent,
        submitted_at: stamp,
        updated_at: stamp,
    };
    crate::survey::summary::respondent_attributes(conn, survey.id, &response.attributes)?;
    let response_id = match earlier_import(conn, &response)? {
        Some(id) => {
            replace_response(conn, id, &response)?;
            report.replaced += 1;
            id
        }
        None => {
            let id = insert_response(conn, &response)?;
            report.inserted += 1;
            id
        }
    };
    for (rank, text) in r.write_ins.iter().enumerate() {
        diesel::insert_into(mentions::table)
            .values(NewMention {
                response_id,
                rank: rank as i32 + 1,
                text,
                may_contact: 0,
            })
            .execute(conn)?;
    }
    report.mentions += r.write_ins.len();
    store::replace_answers(conn, response_id, &r.items)
}

/// A `responses` row of an imported respondent.
#[derive(Insertable)]
#[diesel(table_name = responses)]
struct NewResponse<'a> {
    survey_id: i64,
    wave_id: i64,
    locale: &'a str,
    attributes: String,
    audience: &'static str,
    no_problems: i32,
    /// The respondent's id in the file: an import of the same id replaces this answer.
    respondent: &'a str,
    submitted_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
}

/// A written-in problem of an imported respondent (never to be contacted about).
#[derive(Insertable)]
#[diesel(table_name = mentions)]
struct NewMention<'a> {
    response_id: i64,
    rank: i32,
    text: &'a str,
    may_contact: i32,
}

/// The response an earlier import of `respondent` in this survey and wave made.
fn earlier_import(conn: &mut AnyConnection, response: &NewResponse<'_>) -> Result<Option<i64>> {
    Ok(responses::table
        .filter(responses::survey_id.eq(response.survey_id))
        .filter(responses::wave_id.eq(response.wave_id))
        .filter(responses::respondent.eq(response.respondent))
        .select(responses::id)
        .first(conn)
        .optional()?)
}

/// Response `id` takes the new import's answer; its earlier write-ins go.
fn replace_response(conn: &mut AnyConnection, id: i64, response: &NewResponse<'_>) -> Result<()> {
    diesel::update(responses::table.find(id))
        .set((
            responses::attributes.eq(&response.attributes),
            responses::audience.eq(response.audience),
            responses::no_problems.eq(response.no_problems),
            responses::updated_at.eq(response.updated_at),
        ))
        .execute(conn)?;
    diesel::delete(mentions::table.filter(mentions::response_id.eq(id))).execute(conn)?;
    Ok(())
}

/// Inserts the response (which remembers which respondent it came from).
fn insert_response(conn: &mut AnyConnection, response: &NewResponse<'_>) -> Result<i64> {
    diesel::insert_into(responses::table)
        .values(response)
        .execute(conn)?;
    last_inserted_id(conn)
}

/// The id of the row this connection inserted last (this session's, so another
/// writer's rows never interfere).
fn last_inserted_id(conn: &mut AnyConnection) -> Result<i64> {
    use diesel::dsl::sql;
    use diesel::sql_types::BigInt;
    Ok(match conn {
        AnyConnection::Sqlite(c) => {
            diesel::select(sql::<BigInt>("last_insert_rowid()")).get_result(c)?
        }
        AnyConnection::Postgresql(c) => diesel::select(sql::<BigInt>("lastval()")).get_result(c)?,
    })
}
