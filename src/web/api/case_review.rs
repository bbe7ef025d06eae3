//! Review of a held follow-up over the API (`followup_review = true` in
//! survey.toml): approve releases it to the customer, reject withholds it, as
//! `pds cases review` does. The caller's key name is recorded in the case's history.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{blocking, read_json, ApiError, Authenticated, CaseErrors};
use crate::cases::{self, Actor, Decision};
use crate::web::AppState;

/// An analyst's decision on a held follow-up.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    /// `approve` or `reject`.
    #[schema(example = "approve")]
    pub decision: String,
    /// With approve: the text the customer gets instead of the team's note; with
    /// reject: why. At most 2,000 characters.
    pub note: Option<String>,
}

/// What the review did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewedBody {
    pub case: i64,
    /// `approve` or `reject`.
    pub decision: String,
    /// For an approval: `queued`, or `skipped` with the reason in
    /// `follow_up_skipped_because` (the customer unsubscribed meanwhile, ...).
    pub follow_up: Option<String>,
    pub follow_up_skipped_because: Option<String>,
}

/// Approve or reject a follow-up awaiting review.
#[utoipa::path(
    post,
    path = "/api/cases/{id}/review",
    tag = "cases",
    params(("id" = i64, Path, description = "The case's number")),
    request_body = ReviewRequest,
    responses(
        (status = 200, description = "Decided", body = ReviewedBody),
        (status = 400, description = "Unknown decision, a note too long, or no follow-up awaits review for the case (nothing changed)", body = super::ErrorBody),
        CaseErrors,
    )
)]
pub async fn review(
    caller: Authenticated,
    path: web::Path<i64>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let request: ReviewRequest = read_json(payload).await?;
    let decision = match request.decision.as_str() {
        "approve" => Decision::Approve,
        "reject" => Decision::Reject,
        other => {
            return Err(ApiError::bad_request(format!(
                "no decision {other:?}: use approve or reject"
            )))
        }
    };
    let note = super::cases::note_of(request.note.as_deref())?;
    let done = blocking(state, move |state| {
        Ok(cases::review(
            &state.db,
            &state.settings,
            id,
            decision,
            note.as_ref(),
            Actor::ApiKey(&caller.0.name),
        )?)
    })
    .await?;
    let (follow_up, because) = super::cases::follow_up_words(done.follow_up);
    Ok(HttpResponse::Ok().json(ReviewedBody {
        case: id,
        decision: request.decision,
        follow_up,
        follow_up_skipped_because: because,
    }))
}
