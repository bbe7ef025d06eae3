//! A checklist survey's dashboard page and charts: the ranked items with `A`, `B`,
//! `crawford-v1`, `joint-v1` (and `preemptible-v1`), segments, waves, write-ins and
//! the staff gap, with an A-by-B chart and a staff-against-customers dot chart.
//! `pages.rs` hands a checklist survey's requests here.

use serde_json::{json, Value};

use super::{chart_context, chart_text, render, title_of};
use crate::error::{Error, Result};
use crate::report::checklist::{charts, ChecklistResults};
use crate::report::Options;
use crate::survey::{store, StoredSurvey, SurveyKind};
use crate::web::AppState;

/// The charts of a checklist page.
pub(super) const CHARTS: [&str; 2] = ["ab", "gap"];

/// The survey when it is a checklist survey.
pub(super) fn checklist_survey(
    state: &AppState,
    slug: &crate::survey::SurveySlug,
) -> Result<Option<StoredSurvey>> {
    let survey = state.survey_named(&mut *state.db.conn()?, slug)?;
    Ok((survey.survey.kind == SurveyKind::Checklist).then_some(survey))
}

fn results(state: &AppState, survey: &StoredSurvey, options: &Options) -> Result<ChecklistResults> {
    let mut conn = state.db.conn()?;
    crate::checklist::results::compute(&mut conn, survey, options, &|_| {
        std::ops::ControlFlow::Continue(())
    })
}

/// The checklist page of `survey` for the view `view` (its options and query).
pub(super) fn page(
    state: &AppState,
    session: Value,
    survey: &StoredSurvey,
    view: (Options, Value, String),
) -> Result<String> {
    let (options, view, chart_query) = view;
    let results = results(state, survey, &options)?;
    let waves: Vec<String> = store::waves_of(&mut *state.db.conn()?, survey.id)?
        .into_iter()
        .map(|w| w.label)
        .collect();
    render(
        "checklist",
        &json!({
            "session": session,
            "survey": {"slug": survey.slug, "title": title_of(survey)},
            "waves": waves,
            "view": view,
            "chart_query": chart_query,
            "results": results,
        }),
    )
}

/// An SVG chart (`ab` or `gap`) of a checklist survey.
pub(super) fn chart(
    state: &AppState,
    survey: &StoredSurvey,
    kind: &str,
    options: &Options,
) -> Result<String> {
    let results = results(state, survey, options)?;
    let gap = results.staff_gap.as_ref();
    let sample = (results.wave.as_deref(), results.n, results.method);
    let ctx = chart_context(
        survey,
        sample,
        json!({
            "customers_n": gap.map(|g| g.stamp.customers_n),
            "staff_n": gap.map(|g| g.stamp.staff_n),
        }),
    );
    if !CHARTS.contains(&kind) {
        return Err(Error::NotFound(format!("{kind}.svg")));
    }
    let text = chart_text(kind, kind == "ab", &ctx)?;
    match (kind, gap) {
        ("ab", _) => Ok(charts::ab(&results, &text)),
        ("gap", Some(gap)) => Ok(charts::gap(gap, &text)),
        ("gap", None) => Err(Error::NotFound(format!(
            "gap.svg: no staff have answered survey {}, so there is no staff gap to draw",
            survey.slug
        ))),
        _ => Err(Error::NotFound(format!("{kind}.svg"))),
    }
}
