//! Cases over the API: list them, show one with its history, and act on one
//! (acknowledge, resolve, decline) exactly as `pds cases` does. The caller's key
//! name is recorded as the actor.

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use futures_util::future::LocalBoxFuture;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{blocking, read_json, utc, ApiError, Authenticated, CaseErrors, Unauthorized};
use crate::cases::{self, Action, Actor, Case, Event, Filter, FollowUp, Note, Status};
use crate::survey::SurveySlug;
use crate::web::AppState;

/// A routed complaint and what became of it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseBody {
    pub id: i64,
    /// The survey's slug.
    pub survey: String,
    pub wave: String,
    /// The team's id in routing.toml.
    pub team: String,
    pub team_name: String,
    /// The customer's rank for the problem (1 = most important to them).
    pub rank: i32,
    /// The customer's words, as written.
    pub text: String,
    /// Whether the customer agreed to be contacted about this problem.
    pub may_contact: bool,
    /// `open`, `acknowledged`, `resolved` or `declined`.
    pub status: String,
    /// The problem area, once the mention is coded.
    pub area: Option<String>,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub updated_at: String,
}

impl From<Case> for CaseBody {
    fn from(c: Case) -> Self {
        CaseBody {
            id: c.id,
            survey: c.survey,
            wave: c.wave,
            team: c.team,
            team_name: c.team_name,
            rank: c.rank,
            text: c.text,
            may_contact: c.may_contact,
            status: c.status.as_str().to_string(),
            area: c.area,
            created_at: utc(c.created_at),
            updated_at: utc(c.updated_at),
        }
    }
}

/// One entry of a case's history (never changed once written).
#[derive(Debug, Serialize, ToSchema)]
pub struct EventBody {
    pub at: String,
    /// Who: `rule`, `customer`, `pds`, `team` (by email link), `api` (a key) or `cli`.
    pub actor_kind: String,
    /// The rule's, team's, key's or user's name; empty for `customer` and `pds`.
    pub actor_name: String,
    /// `opened`, `text_updated` (note: the earlier words), `acknowledged`, `resolved`,
    /// `declined`, `followup_queued`, `followup_skipped` (note: why),
    /// `followup_awaiting_review`, `followup_approved` (note: the text sent instead of
    /// the team's, if edited) or `followup_rejected` (note: why).
    pub action: String,
    pub note: Option<String>,
}

impl From<Event> for EventBody {
    fn from(e: Event) -> Self {
        EventBody {
            at: utc(e.at),
            actor_kind: e.actor_kind,
            actor_name: e.actor_name,
            action: e.action,
            note: e.note,
        }
    }
}

/// A case with its history.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseDetailBody {
    pub case: CaseBody,
    pub history: Vec<EventBody>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CasesQuery {
    /// Only this survey (slug).
    pub survey: Option<String>,
    /// Only this team (its id in routing.toml).
    pub team: Option<String>,
    /// Only these statuses, comma-separated, e.g. `open,acknowledged`.
    pub status: Option<String>,
}

/// What to do to a case.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionRequest {
    /// `acknowledge`, `resolve` or `decline`.
    pub action: String,
    /// A short note (at most 2,000 characters). Resolving with a note sends it to a
    /// customer who agreed to be contacted.
    pub note: Option<String>,
}

/// What acting did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActedBody {
    pub case: CaseBody,
    /// For a resolution: `queued`, `awaiting_review` (the survey has
    /// `followup_review = true`: POST /api/cases/{id}/review releases it), or
    /// `skipped` with the reason (`no_note`, `no_consent`, `anonymous`,
    /// `no_contact`, `unsubscribed`, `no_template`).
    pub follow_up: Option<String>,
    pub follow_up_skipped_because: Option<String>,
}

/// Routed complaints as cases, oldest first.
#[utoipa::path(
    get,
    path = "/api/cases",
    tag = "cases",
    params(CasesQuery),
    responses(
        (status = 200, description = "The cases", body = [CaseBody]),
        (status = 400, description = "A bad slug or status", body = super::ErrorBody),
        Unauthorized,
    )
)]
pub async fn list(
    _caller: Authenticated,
    query: web::Query<CasesQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let filter = Filter {
        survey: q
            .survey
            .as_deref()
            .map(|s| s.parse::<SurveySlug>().map(|s| s.to_string()))
            .transpose()?,
        team: q.team,
        status: q
            .status
            .as_deref()
            .unwrap_or("")
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|s| s.trim().parse::<Status>().map_err(ApiError::bad_request))
            .collect::<Result<_, _>>()?,
    };
    let found = blocking(state, move |state| {
        Ok(cases::list(&mut *state.db.conn()?, &filter)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(found.into_iter().map(CaseBody::from).collect::<Vec<_>>()))
}

/// One case with its history.
#[utoipa::path(
    get,
    path = "/api/cases/{id}",
    tag = "cases",
    params(("id" = i64, Path, description = "The case's number")),
    responses(
        (status = 200, description = "The case", body = CaseDetailBody),
        CaseErrors,
    )
)]
pub async fn show(call: CaseCall) -> Result<HttpResponse, ApiError> {
    let (case, events) = call
        .run(|state, id, _| cases::show(&mut *state.db.conn()?, id))
        .await?;
    Ok(HttpResponse::Ok().json(CaseDetailBody {
        case: case.into(),
        history: events.into_iter().map(EventBody::from).collect(),
    }))
}

/// Acknowledge, resolve or decline a case.
#[utoipa::path(
    post,
    path = "/api/cases/{id}/actions",
    tag = "cases",
    params(("id" = i64, Path, description = "The case's number")),
    request_body = ActionRequest,
    responses(
        (status = 200, description = "Done", body = ActedBody),
        (status = 400, description = "Unknown action, a note too long, or the action does not apply to the case's status (nothing changed)", body = super::ErrorBody),
        CaseErrors,
    )
)]
pub async fn act(call: CaseCall, payload: web::Payload) -> Result<HttpResponse, ApiError> {
    let request: ActionRequest = read_json(payload).await?;
    let action: Action = request.action.parse().map_err(|_| {
        ApiError::bad_request(format!(
            "no action {:?}: use acknowledge, resolve or decline",
            request.action
        ))
    })?;
    let note = note_of(request.note.as_deref())?;
    let acted = call
        .run(move |state, id, actor| {
            let what = cases::CaseAction {
                id,
                action,
                note: note.as_ref(),
                actor,
            };
            cases::act(&state.db, &state.settings, what).map_err(crate::Error::from)
        })
        .await?;
    let (follow_up, because) = follow_up_words(acted.follow_up);
    Ok(HttpResponse::Ok().json(ActedBody {
        case: acted.case.into(),
        follow_up,
        follow_up_skipped_because: because,
    }))
}

/// What every call on one case brings: a valid API key, the case's number and
/// the app. They are extracted together as a handler's own arguments are (the
/// key, then the number), so a call gets the same status it got before.
pub struct CaseCall {
    caller: Authenticated,
    pub id: i64,
    state: web::Data<AppState>,
}

impl FromRequest for CaseCall {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let parts =
            <(Authenticated, web::Path<i64>, web::Data<AppState>)>::from_request(req, payload);
        Box::pin(async move {
            let (caller, path, state) = parts.await?;
            Ok(CaseCall {
                caller,
                id: path.into_inner(),
                state,
            })
        })
    }
}

impl CaseCall {
    /// Runs `f` on the blocking pool with the case's number, the caller's key
    /// name as the actor recorded in the case's history.
    pub(super) async fn run<T: Send + 'static>(
        self,
        f: impl FnOnce(&AppState, i64, Actor) -> crate::Result<T> + Send + 'static,
    ) -> Result<T, ApiError> {
        let CaseCall { caller, id, state } = self;
        blocking(state, move |state| {
            Ok(f(state, id, Actor::ApiKey(&caller.0.name))?)
        })
        .await
    }
}

/// A request's note: none when it is missing or empty; 400 when it is too long.
pub(super) fn note_of(text: Option<&str>) -> Result<Option<Note>, ApiError> {
    Note::parse(text.unwrap_or("")).map_err(|e| ApiError::bad_request(e.to_string()))
}

/// A follow-up's outcome as the API says it: `queued`, `awaiting_review` or
/// `skipped`, and for `skipped` the reason.
pub(super) fn follow_up_words(outcome: Option<FollowUp>) -> (Option<String>, Option<String>) {
    match outcome {
        Some(FollowUp::Queued) => (Some("queued".into()), None),
        Some(FollowUp::AwaitingReview) => (Some("awaiting_review".into()), None),
        Some(FollowUp::Skipped(why)) => (Some("skipped".into()), Some(why.as_str().into())),
        None => (None, None),
    }
}
