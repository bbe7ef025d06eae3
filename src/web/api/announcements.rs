//! "You said, we did" over the API: announce an area improved for the consenting
//! respondents of chosen waves, as `pds areas announce` does. The worker sends the
//! emails (see `cases::announce`); the caller's key name is recorded.

use std::collections::BTreeMap;

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{read_json, ApiError, SlugPath, SurveyCall, Unauthorized};
use crate::cases::announce::{self, Announced, NewAnnouncement};
use crate::survey::WaveLabel;

/// An area marked improved.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnnouncementRequest {
    /// The area: its id, codebook id or label.
    #[schema(example = "late-delivery")]
    pub area: String,
    /// The waves whose respondents hear of it.
    #[schema(example = json!(["2026-H2"]))]
    pub waves: Vec<String>,
    /// What was done, one short text per language of the survey (at most 1,000 characters each).
    #[schema(example = json!({"en": "We changed carriers.", "sv": "Vi har bytt transportör."}))]
    pub texts: BTreeMap<String, String>,
}

/// Announce an area improved ("you said, we did").
///
/// Every respondent of the waves who mentioned the area and agreed to be contacted
/// hears of it once per wave, in their language; areas announced within the hour
/// arrive in one email. Nothing is stored when anything is wrong.
#[utoipa::path(
    post,
    path = "/api/surveys/{slug}/announcements",
    tag = "areas",
    params(SlugPath),
    request_body = AnnouncementRequest,
    responses(
        (status = 201, description = "Stored; the worker sends the emails", body = Announced),
        (status = 400, description = "An empty, missing or too long text, or an anonymous survey", body = super::ErrorBody),
        Unauthorized,
        (status = 404, description = "No such survey, area or wave", body = super::ErrorBody),
    )
)]
pub async fn announce(call: SurveyCall, payload: web::Payload) -> Result<HttpResponse, ApiError> {
    let request: AnnouncementRequest = read_json(payload).await?;
    let waves: Vec<WaveLabel> = request
        .waves
        .iter()
        .map(|w| w.parse())
        .collect::<Result<_, _>>()?;
    let actor = format!("api:{}", call.caller.0.name);
    let done = call
        .with_survey(move |state, survey| {
            Ok(announce::announce(
                &state.db,
                &survey,
                &NewAnnouncement {
                    area: &request.area,
                    waves: &waves,
                    texts: &request.texts,
                    actor: &actor,
                },
            )?)
        })
        .await?;
    Ok(HttpResponse::Created().json(done))
}
