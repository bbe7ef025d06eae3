//! Surveys and what an analyst reads and sets of them: waves and their counts,
//! results and routing rules (contacts, invitations and reminders are in
//! `invitations.rs`). Each handler parses, calls the capability, and serialises.

use std::ops::ControlFlow;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    blocking, read_text, utc, with_survey, ApiError, Authenticated, JsonTooLarge, SlugPath,
    SurveyErrors, Unauthorized, MAX_JSON_BYTES,
};
use crate::invite::overview;
use crate::report::{self, Options};
use crate::route::{self, Routing};
use crate::stats::{self, BootstrapOptions};
use crate::survey::{store, SurveyKind, WaveLabel};
use crate::web::AppState;

/// A survey in the list.
#[derive(Debug, Serialize, ToSchema)]
pub struct SurveySummary {
    #[schema(example = "acme-2026")]
    pub slug: String,
    pub title: String,
    /// UTC, RFC 3339.
    pub created_at: String,
}

/// A 95% interval.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntervalBody {
    pub low: f64,
    pub high: f64,
}

/// A wave with its counts.
#[derive(Debug, Serialize, ToSchema)]
pub struct WaveSummary {
    #[schema(example = "2026-H2")]
    pub label: String,
    pub created_at: String,
    /// Contacts invited to the wave.
    pub invited: u64,
    /// Invitations answered through the emailed link.
    pub answered: u64,
    /// Answers imported from a file (not in the response rate).
    pub imported: u64,
    /// `response-rate-v1`: answered / invited; null when nobody was invited.
    pub response_rate: Option<f64>,
    /// Wilson 95% interval of the response rate.
    pub response_rate_ci: Option<IntervalBody>,
    /// Fewer than 30 answers.
    pub small_sample: bool,
    #[schema(example = "response-rate-v1")]
    pub method: &'static str,
}

/// A survey with its waves.
#[derive(Debug, Serialize, ToSchema)]
pub struct SurveyDetail {
    pub slug: String,
    pub title: String,
    pub created_at: String,
    /// The most problems one respondent may give (M).
    pub max_problems: u32,
    /// When the survey stops taking answers (UTC), if set.
    pub closes_at: Option<String>,
    /// Answers keep no link to the contact once stored and routed.
    pub anonymous: bool,
    pub waves: Vec<WaveSummary>,
}

/// List surveys.
#[utoipa::path(
    get,
    path = "/api/surveys",
    tag = "surveys",
    security(("api_key" = [])),
    responses(
        (status = 200, description = "Every stored survey, oldest first", body = [SurveySummary]),
        Unauthorized,
    )
)]
pub async fn list(
    _caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let surveys = blocking(state, |state| {
        Ok(store::list(&mut *state.db.conn()?)?
            .into_iter()
            .map(|(slug, title, created)| SurveySummary {
                slug,
                title,
                created_at: utc(created),
            })
            .collect::<Vec<_>>())
    })
    .await?;
    Ok(HttpResponse::Ok().json(surveys))
}

/// A survey with its waves: contacts invited, answered and the response rate.
#[utoipa::path(
    get,
    path = "/api/surveys/{slug}",
    tag = "surveys",
    security(("api_key" = [])),
    params(("slug" = String, Path, description = "The survey's slug, e.g. acme-2026")),
    responses(
        (status = 200, description = "The survey and its waves", body = SurveyDetail),
        SurveyErrors,
    )
)]
pub async fn show(
    _caller: Authenticated,
    path: web::Path<SlugPath>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let slug = path.slug()?;
    let detail = with_survey(state, slug, |state, survey| {
        let waves = overview::waves(&mut *state.db.conn()?, survey.id)?
            .into_iter()
            .map(|w| WaveSummary {
                label: w.label,
                created_at: utc(w.created_at),
                invited: w.invited,
                answered: w.answered,
                imported: w.imported,
                response_rate: w.response_rate,
                response_rate_ci: w.ci.map(|ci| IntervalBody {
                    low: ci.low,
                    high: ci.high,
                }),
                small_sample: w.small_sample,
                method: stats::RESPONSE_RATE_V1,
            })
            .collect();
        Ok(SurveyDetail {
            slug: survey.slug.clone(),
            title: survey.survey.title().to_string(),
            created_at: utc(survey.created_at),
            max_problems: survey.survey.max_problems,
            closes_at: survey.survey.closes_at().map(utc),
            anonymous: survey.survey.anonymous,
            waves,
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(detail))
}

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
    security(("api_key" = [])),
    params(SlugPath, ResultsQuery),
    responses(
        (status = 200, description = "The results", body = ResultsBody),
        (status = 400, description = "A query parameter is not valid", body = super::ErrorBody),
        Unauthorized,
        (status = 404, description = "No such survey or wave", body = super::ErrorBody),
    )
)]
pub async fn results(
    _caller: Authenticated,
    path: web::Path<SlugPath>,
    query: web::Query<ResultsQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let slug = path.slug()?;
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
    let _turn = state.heavy_turn().await;
    let results = with_survey(state.clone(), slug, move |state, survey| {
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

/// A survey's routing rules.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoutingBody {
    /// The routing.toml as stored.
    pub source: String,
    /// Rule names, in order.
    pub rules: Vec<String>,
    /// Team ids.
    pub teams: Vec<String>,
}

impl From<&Routing> for RoutingBody {
    fn from(r: &Routing) -> Self {
        RoutingBody {
            source: r.source.clone(),
            rules: r.rules.iter().map(|rule| rule.name.clone()).collect(),
            teams: r.teams.keys().cloned().collect(),
        }
    }
}

/// A survey's routing rules.
#[utoipa::path(
    get,
    path = "/api/surveys/{slug}/routing",
    tag = "routing",
    security(("api_key" = [])),
    params(SlugPath),
    responses(
        (status = 200, description = "The stored routing rules", body = RoutingBody),
        (status = 400, description = "The slug is not a valid slug", body = super::ErrorBody),
        Unauthorized,
        (status = 404, description = "No such survey, or it has no routing rules", body = super::ErrorBody),
    )
)]
pub async fn routing(
    _caller: Authenticated,
    path: web::Path<SlugPath>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let slug = path.slug()?;
    let body = with_survey(state, slug, |state, survey| {
        match route::load(&mut *state.db.conn()?, survey.id)? {
            Some(r) => Ok(RoutingBody::from(&r)),
            None => Err(ApiError::new(
                StatusCode::NOT_FOUND,
                format!(
                    "survey {} has no routing rules; PUT a routing.toml to this address to add them",
                    survey.slug
                ),
            )),
        }
    })
    .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// Replace a survey's routing rules with a routing.toml (validated first).
///
/// A file with problems changes nothing and gets 422 with each problem and its line.
/// New answers use the new rules.
#[utoipa::path(
    put,
    path = "/api/surveys/{slug}/routing",
    tag = "routing",
    security(("api_key" = [])),
    params(SlugPath),
    request_body(
        content = String,
        content_type = "application/toml",
        description = "The routing.toml text, UTF-8, at most 64 KiB (see docs/TEMPLATES.md)"
    ),
    responses(
        (status = 200, description = "Stored; the rules now in force", body = RoutingBody),
        SurveyErrors,
        JsonTooLarge,
        (status = 422, description = "The file has problems; `problems` names each with its line", body = super::ErrorBody),
    )
)]
pub async fn set_routing(
    _caller: Authenticated,
    path: web::Path<SlugPath>,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let slug = path.slug()?;
    let source = read_text(payload, MAX_JSON_BYTES).await?;
    let routing = Routing::parse(&source, "routing.toml").map_err(|e| {
        ApiError::unprocessable(
            format!(
                "routing.toml has {} problem(s); nothing was changed. Fix them and send it again",
                e.problems.len()
            ),
            e.problems,
        )
    })?;
    let body = with_survey(state, slug, move |state, survey| {
        route::check_webhook_addresses(&routing, &state.settings)?;
        state
            .db
            .write(|conn| route::save(conn, survey.id, &routing))?;
        Ok(RoutingBody::from(&routing))
    })
    .await?;
    Ok(HttpResponse::Ok().json(body))
}
