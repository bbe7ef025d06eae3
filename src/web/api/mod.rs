//! The admin API under `/api/`: JSON for scripts and the dashboard. Every request
//! needs `Authorization: Bearer KEY` (a key from `pds keys create`). Handlers are
//! thin: they parse, call a capability on the blocking pool and serialise; errors
//! are `{"error": "..."}` with a status that says whose move it is. The key is never
//! logged.

mod announcements;
mod areas;
mod auth;
mod case_review;
mod cases;
mod docs;
pub(crate) mod exports;
mod results;
mod surveys;

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::{header, StatusCode};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse, ResponseError};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, IntoResponses, ToSchema};

use super::AppState;
use crate::error::Error;
use crate::invite::ImportError;
use crate::survey::{StoredSurvey, SurveyError, SurveySlug};

pub use auth::Authenticated;
pub use docs::ApiDoc;

/// Largest CSV body (contacts import), in bytes.
pub const MAX_CSV_BYTES: usize = 10 * 1024 * 1024;
/// Largest JSON or TOML body, in bytes.
pub const MAX_JSON_BYTES: usize = 64 * 1024;

/// An error as every endpoint returns it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What happened and what to fix.
    #[schema(example = "no survey with slug \"acme\"; `pds survey list` shows the surveys")]
    pub error: String,
    /// Line-numbered problems of an uploaded file (contacts CSV, routing.toml), when
    /// there are any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

/// The 401 of every endpoint but the OpenAPI document. The types from here to
/// [`CaseErrors`] only document responses (utoipa reads them); nothing builds them.
#[allow(dead_code)]
#[derive(IntoResponses)]
#[response(status = 401, description = "No key, or a bad or revoked key")]
pub struct Unauthorized(ErrorBody);

/// The 413 of an endpoint that takes JSON (or TOML) of at most [`MAX_JSON_BYTES`].
#[allow(dead_code)]
#[derive(IntoResponses)]
#[response(status = 413, description = "The body is over 64 KiB")]
pub struct JsonTooLarge(ErrorBody);

/// The errors of an endpoint on `/api/surveys/{slug}` whose other input cannot be
/// wrong: a bad slug, no key, no such survey.
#[allow(dead_code)]
#[derive(IntoResponses)]
pub enum SurveyErrors {
    #[response(status = 400, description = "The slug is not a valid slug")]
    BadSlug(ErrorBody),
    #[response(status = 401, description = "No key, or a bad or revoked key")]
    Unauthorized(ErrorBody),
    #[response(status = 404, description = "No such survey")]
    NoSurvey(ErrorBody),
}

/// The errors every endpoint on `/api/cases/{id}` shares: no key, no such case.
#[allow(dead_code)]
#[derive(IntoResponses)]
pub enum CaseErrors {
    #[response(status = 401, description = "No key, or a bad or revoked key")]
    Unauthorized(ErrorBody),
    #[response(status = 404, description = "No such case")]
    NoCase(ErrorBody),
}

/// The survey an endpoint's path names (`/api/surveys/{slug}/...`).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SlugPath {
    /// The survey's slug
    slug: String,
}

impl SlugPath {
    /// The slug, checked: 400 when it is not one.
    pub(crate) fn slug(&self) -> Result<SurveySlug, ApiError> {
        Ok(self.slug.parse::<SurveySlug>()?)
    }
}

/// What a handler on `/api/surveys/{slug}/...` starts from, checked in this order:
/// the caller's key (401), then the slug (400 when it is not one).
pub struct SurveyCall {
    pub caller: Authenticated,
    pub slug: SurveySlug,
    pub state: web::Data<AppState>,
}

impl FromRequest for SurveyCall {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let caller = Authenticated::extract(&req).await?;
            let path = web::Path::<SlugPath>::extract(&req).await?;
            let state = web::Data::<AppState>::extract(&req).await?;
            Ok(SurveyCall {
                caller,
                slug: path.slug()?,
                state,
            })
        })
    }
}

impl SurveyCall {
    /// [`with_survey`] with this call's survey.
    pub(crate) async fn with_survey<T: Send + 'static>(
        self,
        f: impl FnOnce(&AppState, StoredSurvey) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        with_survey(self.state, self.slug, f).await
    }
}

/// Timestamps are UTC, RFC 3339, e.g. `2026-11-23T06:30:00Z`.
pub(crate) fn utc(t: chrono::NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A failed request: a status and a message that says what to fix.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    problems: Vec<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            problems: Vec::new(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// Our fault, not the caller's: the log says why, the caller gets no details.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the server could not complete the request; its log says why",
        )
    }

    pub fn unprocessable(message: impl Into<String>, problems: Vec<String>) -> Self {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message: message.into(),
            problems,
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.status, self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response.insert_header((header::CACHE_CONTROL, "no-store"));
        if self.status == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"pds\""));
        }
        response.json(ErrorBody {
            error: self.message.clone(),
            problems: self.problems.clone(),
        })
    }
}

/// The crate's errors, turned into a status once, here.
impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match e {
            Error::Invalid(m) => ApiError::bad_request(m),
            Error::View(v) => ApiError::bad_request(v.to_string()),
            Error::NotFound(m) => ApiError::new(StatusCode::NOT_FOUND, m),
            Error::Survey(s @ (SurveyError::Unknown(_) | SurveyError::UnknownWave { .. })) => {
                ApiError::new(StatusCode::NOT_FOUND, s.to_string())
            }
            Error::Survey(s @ SurveyError::Exists(_)) => {
                ApiError::new(StatusCode::CONFLICT, s.to_string())
            }
            Error::Survey(s) => ApiError::bad_request(s.to_string()),
            Error::Import(ImportError::Rejected { file, errors }) => ApiError::unprocessable(
                format!(
                    "{file}: {} invalid row(s); nothing was imported. Fix them, or pass ?skip_invalid=true to import only the valid rows",
                    errors.len()
                ),
                errors,
            ),
            Error::Import(e @ ImportError::Header { .. }) => {
                ApiError::unprocessable(e.to_string(), Vec::new())
            }
            other => {
                tracing::error!(error = %other, "admin API request failed");
                ApiError::internal()
            }
        }
    }
}

impl From<crate::survey::SurveyError> for ApiError {
    fn from(e: crate::survey::SurveyError) -> Self {
        Error::from(e).into()
    }
}

/// [`super::blocking`] for the API's handlers: their errors are [`ApiError`]s.
pub(crate) async fn blocking<T: Send + 'static>(
    state: web::Data<AppState>,
    f: impl FnOnce(&AppState) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    super::blocking(state, f).await
}

/// Runs `f` on the blocking pool with the survey `slug` names; 404 when there is
/// none. The survey's connection is back in the pool before `f` runs.
pub(crate) async fn with_survey<T: Send + 'static>(
    state: web::Data<AppState>,
    slug: SurveySlug,
    f: impl FnOnce(&AppState, StoredSurvey) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    blocking(state, move |state| {
        let survey = state.survey_named(&mut *state.db.conn()?, &slug)?;
        f(state, survey)
    })
    .await
}

/// Reads a whole request body of at most `limit` bytes; 413 beyond it.
pub(crate) async fn read_body(
    mut payload: web::Payload,
    limit: usize,
) -> Result<web::Bytes, ApiError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::bad_request(format!("reading the body: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the body is larger than {limit} bytes; send a smaller file or split it"),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// A JSON body of at most [`MAX_JSON_BYTES`].
pub(crate) async fn read_json<T: serde::de::DeserializeOwned>(
    payload: web::Payload,
) -> Result<T, ApiError> {
    let body = read_body(payload, MAX_JSON_BYTES).await?;
    serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("the JSON body is not as expected: {e}")))
}

/// A UTF-8 text body of at most `limit` bytes.
pub(crate) async fn read_text(payload: web::Payload, limit: usize) -> Result<String, ApiError> {
    let body = read_body(payload, limit).await?;
    String::from_utf8(body.to_vec())
        .map_err(|_| ApiError::bad_request("the body is not UTF-8 text; save the file as UTF-8"))
}

async fn not_found() -> HttpResponse {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no such endpoint; GET /api/openapi.json lists them",
    )
    .error_response()
}

async fn method_not_allowed() -> HttpResponse {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "this endpoint does not take that method; GET /api/openapi.json lists what each takes",
    )
    .error_response()
}

/// A path whose other methods get a JSON 405.
fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}

/// The `/api` scope: every endpoint but the OpenAPI document needs a key.
pub fn scope() -> actix_web::Scope {
    web::scope("/api")
        .app_data(
            web::QueryConfig::default()
                .error_handler(|e, _| ApiError::bad_request(format!("query string: {e}")).into()),
        )
        .app_data(
            web::PathConfig::default()
                .error_handler(|e, _| ApiError::bad_request(format!("path: {e}")).into()),
        )
        .service(resource("/openapi.json").get(docs::openapi_json))
        .service(resource("/surveys").get(surveys::list))
        .service(resource("/surveys/{slug}").get(surveys::show))
        .service(resource("/surveys/{slug}/contacts").post(surveys::import_contacts))
        .service(resource("/surveys/{slug}/invitations").post(surveys::invite))
        .service(resource("/surveys/{slug}/reminders").post(surveys::remind))
        .service(resource("/surveys/{slug}/results").get(results::results))
        .service(
            resource("/surveys/{slug}/routing")
                .get(surveys::routing)
                .put(surveys::set_routing),
        )
        .service(resource("/surveys/{slug}/areas").get(areas::list))
        .service(
            resource("/surveys/{slug}/areas/decisions")
                .get(areas::decisions)
                .post(areas::decide),
        )
        .service(resource("/surveys/{slug}/exports/{what}").get(exports::export))
        .service(resource("/surveys/{slug}/announcements").post(announcements::announce))
        .service(resource("/cases").get(cases::list))
        .service(resource("/cases/{id}").get(cases::show))
        .service(resource("/cases/{id}/actions").post(cases::act))
        .service(resource("/cases/{id}/review").post(case_review::review))
        .default_service(web::to(not_found))
}
