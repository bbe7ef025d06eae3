//! Surveys and what an analyst does with them: waves and their counts, contacts
//! import, invitations and reminders (queued; the worker delivers) and routing
//! rules (results are in `results.rs`). Each handler parses, calls the
//! capability, and serialises.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    blocking, read_json, read_text, utc, ApiError, Authenticated, JsonTooLarge, SlugPath,
    SurveyCall, SurveyErrors, Unauthorized, MAX_CSV_BYTES, MAX_JSON_BYTES,
};
use crate::invite::{self, contacts, overview, SegmentFilter};
use crate::route::{self, Routing};
use crate::stats;
use crate::survey::{store, WaveLabel};
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
    params(("slug" = String, Path, description = "The survey's slug, e.g. acme-2026")),
    responses(
        (status = 200, description = "The survey and its waves", body = SurveyDetail),
        SurveyErrors,
    )
)]
pub async fn show(call: SurveyCall) -> Result<HttpResponse, ApiError> {
    let detail = call
        .with_survey(|state, survey| {
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
pub struct ImportQuery {
    /// Import the valid rows even if some rows are invalid (they are listed in `skipped`).
    #[serde(default)]
    pub skip_invalid: bool,
}

/// What a contacts import did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportResult {
    pub inserted: usize,
    pub updated: usize,
    /// Rows left out with `skip_invalid=true`, each with its line number.
    pub skipped: Vec<String>,
}

/// Import contacts from CSV (`email,name,locale`, then any segment columns).
///
/// The same rules as `pds contacts import`: a file with a bad row imports nothing
/// and gets 422 with every bad row by line number, unless `skip_invalid=true`.
/// Contacts are shared by all surveys; the survey in the path must exist.
#[utoipa::path(
    post,
    path = "/api/surveys/{slug}/contacts",
    tag = "contacts",
    params(SlugPath, ImportQuery),
    request_body(
        content = String,
        content_type = "text/csv",
        description = "The contacts file, UTF-8, at most 10 MiB",
        example = "email,name,locale,customer_type\nanna@example.se,Anna Åberg,sv,current\n"
    ),
    responses(
        (status = 200, description = "Imported", body = ImportResult),
        SurveyErrors,
        (status = 413, description = "The body is over 10 MiB", body = super::ErrorBody),
        (status = 422, description = "Bad header or rows; nothing was imported; `problems` lists every bad row by line", body = super::ErrorBody),
    )
)]
pub async fn import_contacts(
    call: SurveyCall,
    query: web::Query<ImportQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let csv = read_text(payload, MAX_CSV_BYTES).await?;
    let skip_invalid = query.skip_invalid;
    let report = call
        .with_survey(move |state, _| {
            Ok(contacts::import(
                &state.db,
                csv.as_bytes(),
                "contacts.csv",
                skip_invalid,
                &ProgressBar::hidden(),
            )?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(ImportResult {
        inserted: report.inserted,
        updated: report.updated,
        skipped: report.skipped,
    }))
}

/// Whom to invite.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteRequest {
    /// The wave label (created on first use).
    #[schema(example = "2026-H2")]
    pub wave: String,
    /// Only contacts whose segment column has this value, as `column=value`.
    #[schema(example = "customer_type=current")]
    pub segment: Option<String>,
}

/// Queue invitations for a wave (as `pds invite --queue-only`).
///
/// Every matching contact not yet invited to the wave gets a personal link; the
/// emails are queued in the outbox and delivered by the worker. Re-running never
/// invites a contact twice to the same wave.
#[utoipa::path(
    post,
    path = "/api/surveys/{slug}/invitations",
    tag = "invitations",
    params(SlugPath),
    request_body(content = InviteRequest, description = "At most 64 KiB of JSON"),
    responses(
        (status = 202, description = "Queued", body = invite::InviteReport),
        (status = 400, description = "Bad JSON, wave label or segment", body = super::ErrorBody),
        Unauthorized,
        (status = 404, description = "No such survey", body = super::ErrorBody),
        JsonTooLarge,
    )
)]
pub async fn invite(call: SurveyCall, payload: web::Payload) -> Result<HttpResponse, ApiError> {
    let request: InviteRequest = read_json(payload).await?;
    let wave: WaveLabel = request.wave.parse()?;
    let segment: Option<SegmentFilter> = request
        .segment
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(|_| {
            ApiError::bad_request(format!(
                "segment {:?}: write it as column=value, e.g. customer_type=current",
                request.segment.as_deref().unwrap_or_default()
            ))
        })?;
    let result = call
        .with_survey(move |state, survey| {
            Ok(invite::invite(
                &state.db,
                &state.settings,
                &survey,
                &wave,
                segment.as_ref(),
                &ProgressBar::hidden(),
            )?)
        })
        .await?;
    Ok(HttpResponse::Accepted().json(result))
}

/// Whom to remind.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemindRequest {
    #[schema(example = "2026-H2")]
    pub wave: String,
    /// Remind those whose last email is at least this old: `5d`, `36h`, `90m`, `0s`.
    #[schema(example = "5d")]
    pub after: Option<String>,
    /// The most reminders one contact gets for the wave (default 2).
    #[schema(example = 2)]
    pub max: Option<u32>,
}

/// Parses an age such as `5d`, `36h`, `90m` or `0s` (as `pds remind --after`).
fn parse_age(text: &str) -> Result<chrono::Duration, ApiError> {
    crate::invite::parse_age(text).ok_or_else(|| {
        ApiError::bad_request(format!(
            "after {text:?}: write a number and a unit (d, h, m for minutes, s), e.g. 5d, 36h or 90m"
        ))
    })
}

/// Queue reminders for a wave (as `pds remind --queue-only`).
///
/// Reminds contacts who have not answered and have not unsubscribed, whose last
/// email is older than `after`, at most `max` times each.
#[utoipa::path(
    post,
    path = "/api/surveys/{slug}/reminders",
    tag = "invitations",
    params(SlugPath),
    request_body(content = RemindRequest, description = "At most 64 KiB of JSON"),
    responses(
        (status = 202, description = "Queued", body = invite::RemindReport),
        (status = 400, description = "Bad JSON, wave label or age", body = super::ErrorBody),
        Unauthorized,
        (status = 404, description = "No such survey or wave", body = super::ErrorBody),
        JsonTooLarge,
    )
)]
pub async fn remind(call: SurveyCall, payload: web::Payload) -> Result<HttpResponse, ApiError> {
    let request: RemindRequest = read_json(payload).await?;
    let wave: WaveLabel = request.wave.parse()?;
    let after = parse_age(request.after.as_deref().unwrap_or("5d"))?;
    let max = request.max.unwrap_or(2);
    let result = call
        .with_survey(move |state, survey| {
            Ok(invite::remind(
                &state.db,
                &state.settings,
                &survey,
                &wave,
                after,
                max,
                &ProgressBar::hidden(),
            )?)
        })
        .await?;
    Ok(HttpResponse::Accepted().json(result))
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
    params(SlugPath),
    responses(
        (status = 200, description = "The stored routing rules", body = RoutingBody),
        (status = 400, description = "The slug is not a valid slug", body = super::ErrorBody),
        Unauthorized,
        (status = 404, description = "No such survey, or it has no routing rules", body = super::ErrorBody),
    )
)]
pub async fn routing(call: SurveyCall) -> Result<HttpResponse, ApiError> {
    let body = call.with_survey(|state, survey| {
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
    call: SurveyCall,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
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
    let body = call
        .with_survey(move |state, survey| {
            route::check_webhook_addresses(&routing, &state.settings)?;
            state
                .db
                .write(|conn| route::save(conn, survey.id, &routing))?;
            Ok(RoutingBody::from(&routing))
        })
        .await?;
    Ok(HttpResponse::Ok().json(body))
}
