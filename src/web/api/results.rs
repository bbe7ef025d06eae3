//! A survey's results through the API: the same document as `pds results --format
//! json`, for a discovery or a checklist survey, with the view asked for in the
//! query. The handler parses, calls `report`, and serialises.

use std::ops::ControlFlow;

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::{ApiError, SlugPath, SurveyCall, Unauthorized};
use crate::report::{self, Options};
use crate::stats::{self, BootstrapOptions};
use crate::survey::{SurveyKind, WaveLabel};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResultsQuery {
    /// Only this wave (default: all waves together).
    pub wave: Option<String>,
    /// Compare segments by this respondent attribute (a contacts segment column, or
    /// `segment` for imported responses).
    pub by: Option<String>,
    /// Compare `wave` with this earlier wave.
    pub compare_wave: Option<String>,
    /// Bootstrap replicates for rank stability, 1 to 20,000 (default 2000); `pds results` on the command line allows more.
    #[param(minimum = 1, maximum = 1000000)]
    pub bootstrap: Option<u32>,
    /// Seed of the bootstrap (default 20040501); the same data and seed give the same output.
    pub seed: Option<u64>,
    /// k of P(top k), 1 to 10,000 (default 5).
    #[param(minimum = 1, maximum = 10000)]
    pub top: Option<u64>,
    /// Also fit Plackett-Luce worths (`worth-pl-v1`).
    #[serde(default)]
    pub worth: bool,
}

/// The results document: exactly what `pds results --format json` prints. Every
/// figure names its method and n; see the README's Results section.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct ResultsBody {
    #[schema(example = "acme-2026")]
    survey: String,
    /// The wave in scope; null for all waves together.
    wave: Option<String>,
    #[schema(example = "joint-v1")]
    method: String,
    grouping: String,
    /// Respondents in scope.
    n: u64,
    respondents_with_problems: u64,
    max_problems: u32,
    small_sample: bool,
    frequency_method: String,
    importance_method: String,
    /// `method`, `replicates`, `seed`, `top_k` of the rank bootstrap.
    #[schema(value_type = Object)]
    rank_stability: (),
    /// Areas in rank order, each with frequency, importance, score, intervals,
    /// rank interval and P(top k).
    #[schema(value_type = Vec<Object>)]
    areas: (),
    /// Mentions in no area, listed apart.
    #[schema(value_type = Object)]
    uncoded: (),
    /// Plackett-Luce worths (with `worth=true`).
    #[schema(value_type = Option<Object>)]
    worth: (),
    /// Response rate per wave (`response-rate-v1`).
    #[schema(value_type = Vec<Object>)]
    response_rates: (),
    /// Early against late respondents (`early-late-v1`).
    #[schema(value_type = Option<Object>)]
    early_late: (),
    /// Segment comparison (with `by`).
    #[schema(value_type = Option<Object>)]
    segments: (),
    /// Wave comparison (with `wave` and `compare_wave`).
    #[schema(value_type = Option<Object>)]
    wave_comparison: (),
}

/// Results: problem areas ranked by `joint-v1` with rank stability, segments, wave
/// changes and response rates; the same JSON as `pds results --format json`. For a
/// checklist survey the document has `kind: "checklist"`: items and areas with A,
/// B, crawford-v1, joint-v1 (and preemptible-v1), segments, waves, write-ins and the
/// staff gap (see the README's "Checklist study (phase 2)").
#[utoipa::path(
    get,
    path = "/api/surveys/{slug}/results",
    tag = "results",
    params(SlugPath, ResultsQuery),
    responses(
        (status = 200, description = "The results", body = ResultsBody),
        (status = 400, description = "A query parameter is not valid", body = super::ErrorBody),
        Unauthorized,
        (status = 404, description = "No such survey or wave", body = super::ErrorBody),
    )
)]
pub async fn results(
    call: SurveyCall,
    query: web::Query<ResultsQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let wave = |w: &Option<String>| -> Result<Option<WaveLabel>, ApiError> {
        Ok(w.as_deref().map(str::parse).transpose()?)
    };
    let replicates = q.bootstrap.unwrap_or(stats::DEFAULT_REPLICATES);
    if !(1..=crate::web::MAX_REPLICATES_OVER_HTTP).contains(&replicates) {
        return Err(ApiError::bad_request(format!(
            "bootstrap must be 1 to {} replicates over HTTP (more: pds results --bootstrap on the command line)",
            crate::web::MAX_REPLICATES_OVER_HTTP
        )));
    }
    let top = q.top.unwrap_or(stats::DEFAULT_TOP_K as u64);
    if !(1..=10_000).contains(&top) {
        return Err(ApiError::bad_request("top must be 1 to 10000"));
    }
    let options = Options {
        wave: wave(&q.wave)?,
        by: q.by.map(|b| b.trim().to_string()),
        compare_wave: wave(&q.compare_wave)?,
        bootstrap: BootstrapOptions {
            replicates,
            seed: q.seed.unwrap_or(stats::DEFAULT_SEED),
            top_k: top as usize,
        },
        worth: q.worth,
    };
    let state = call.state.clone();
    let _turn = state.heavy_turn().await;
    let results = call
        .with_survey(move |state, survey| {
            let mut conn = state.db.conn()?;
            let go_on = |_| ControlFlow::Continue(());
            Ok(if survey.survey.kind == SurveyKind::Checklist {
                serde_json::to_value(crate::checklist::results::compute(
                    &mut conn, &survey, &options, &go_on,
                )?)
            } else {
                serde_json::to_value(report::compute(&mut conn, &survey, &options, &go_on)?)
            }
            .map_err(|e| crate::error::Error::Internal(format!("results as JSON: {e}")))?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(results))
}
