//! A checklist survey's results (`pds results`, the API and the dashboard): reads
//! the items (from the stored `checklist.toml`), each response with its audience,
//! segment columns and item answers, and the customers' write-ins with the area they
//! were coded into, and hands them to `report::checklist::analyse`, which computes
//! every figure. Both backends run these same queries.

use std::collections::HashMap;
use std::ops::ControlFlow;

use diesel::prelude::*;

use super::answer::{Experienced, ItemAnswer, SolvedElsewhere};
use super::store::{self, CUSTOMER, STAFF};
use super::Checklist;
use crate::attributes::Attributes;
use crate::db::schema::{areas, mentions, responses};
use crate::db::AnyConnection;
use crate::error::Result;
use crate::report::checklist::{analyse, Analysis, ChecklistResults, Item, Respondent, WriteIn};
use crate::report::Options;
use crate::stats::{ChecklistAnswer, Experience, Progress};
use crate::survey::StoredSurvey;

/// Computes a checklist survey's results as `options` asks.
pub fn compute(
    conn: &mut AnyConnection,
    survey: &StoredSurvey,
    options: &Options,
    on_progress: &(dyn Fn(Progress) -> ControlFlow<()> + Sync),
) -> Result<ChecklistResults> {
    let analysis = analysis(conn, survey, options)?;
    analyse(&analysis, options, on_progress)
}

/// Everything results need, read from the database for `options`' waves.
fn analysis(
    conn: &mut AnyConnection,
    survey: &StoredSurvey,
    options: &Options,
) -> Result<Analysis> {
    let checklist = Checklist::of_survey(survey)?;
    let locale = survey.survey.default_locale;
    let items: Vec<Item> = checklist
        .items
        .iter()
        .map(|i| Item {
            id: i.id.to_string(),
            label: i.text.get(&locale).cloned().unwrap_or_default(),
            area: i.area.clone(),
        })
        .collect();
    let (wave, earlier) = crate::report::waves_asked(conn, survey, options)?;
    let index: HashMap<&str, usize> = items
        .iter()
        .enumerate()
        .map(|(i, item)| (item.id.as_str(), i))
        .collect();
    let mut by_audience = Vec::new();
    for audience in [CUSTOMER, STAFF] {
        let answers = store::answers_of_survey(conn, survey.id, audience)?;
        let mut respondents = responses_of(conn, survey.id, audience)?;
        let position: HashMap<i64, usize> = respondents
            .iter()
            .enumerate()
            .map(|(i, r)| (r.response_id, i))
            .collect();
        for (response, answer) in answers {
            let (Some(&r), Some(&item)) =
                (position.get(&response), index.get(answer.item.as_str()))
            else {
                continue;
            };
            respondents[r].answers.push(to_stats(item, &answer));
        }
        by_audience.push(respondents);
    }
    let staff = by_audience.pop().unwrap_or_default();
    let customers = by_audience.pop().unwrap_or_default();
    Ok(Analysis {
        survey: survey.slug.clone(),
        items,
        ask_solved_elsewhere: checklist.ask_solved_elsewhere,
        wave: wave.map(|w| (w.id, w.label)),
        earlier: earlier.map(|w| (w.id, w.label)),
        customers,
        staff,
        write_ins: write_ins(conn, survey.id)?,
    })
}

fn responses_of(
    conn: &mut AnyConnection,
    survey_id: i64,
    audience: &str,
) -> Result<Vec<Respondent>> {
    let rows: Vec<(i64, i64, String)> = responses::table
        .filter(responses::survey_id.eq(survey_id))
        .filter(responses::audience.eq(audience))
        .select((responses::id, responses::wave_id, responses::attributes))
        .order(responses::id)
        .load(conn)?;
    rows.into_iter()
        .map(|(response_id, wave_id, attributes)| {
            Ok(Respondent {
                response_id,
                wave_id,
                attributes: Attributes::from_stored(&attributes, || {
                    format!("response {response_id}")
                })?,
                answers: Vec::new(),
            })
        })
        .collect()
}

fn write_ins(conn: &mut AnyConnection, survey_id: i64) -> Result<Vec<WriteIn>> {
    let rows: Vec<(i64, String, Option<String>, Option<String>)> = mentions::table
        .inner_join(responses::table)
        .left_join(areas::table)
        .filter(responses::survey_id.eq(survey_id))
        .filter(responses::audience.eq(CUSTOMER))
        .select((
            mentions::response_id,
            mentions::text,
            areas::label.nullable(),
            mentions::coded_by,
        ))
        .order((mentions::response_id, mentions::rank, mentions::id))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(response_id, text, area, coded_by)| WriteIn {
            response_id,
            text,
            area,
            coded_by,
        })
        .collect())
}

fn to_stats(item: usize, answer: &ItemAnswer) -> ChecklistAnswer {
    ChecklistAnswer {
        area: item,
        experienced: match answer.experienced {
            Experienced::Never => Experience::No,
            Experienced::Sometimes => Experience::Sometimes,
            Experienced::Often => Experience::Often,
        },
        bother: answer.bother.map(|b| b.get()),
        // "Don't know" answered the question without saying yes.
        solved_elsewhere: answer.solved_elsewhere.map(|s| s == SolvedElsewhere::Yes),
    }
}
