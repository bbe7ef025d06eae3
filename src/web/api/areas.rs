//! Problem areas and the analyst's coding decisions over the API: the areas of a
//! survey with their mention counts, the decisions log, and a decision (rename,
//! merge, split, move, accept) applied exactly as `pds areas` applies it.

use std::collections::{BTreeMap, HashMap};

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    read_json, utc, ApiError, JsonTooLarge, SlugPath, SurveyCall, SurveyErrors, Unauthorized,
};
use crate::coding::store::{self as coding, Decision};

/// A problem area.
#[derive(Debug, Serialize, ToSchema)]
pub struct AreaBody {
    pub id: i64,
    /// A stable key: `rule:late-delivery`, `auto:...`, `analyst:...` or an import's name.
    pub key: String,
    pub label: String,
    /// The label per locale, e.g. `{"en": "Late delivery", "sv": "Sen leverans"}`.
    pub labels: BTreeMap<String, String>,
    /// `rule`, `automatic`, `analyst` or `import`.
    pub origin: String,
    /// `proposed`, `accepted` or `merged`.
    pub status: String,
    /// The team that owns the area (codebook), if any.
    pub team: Option<String>,
    /// For a merged area: the area its mentions went to.
    pub merged_into: Option<i64>,
    /// Mentions in the area now.
    pub mentions: u64,
}

/// A survey's areas and what is not in any.
#[derive(Debug, Serialize, ToSchema)]
pub struct AreasBody {
    /// Every area, merged ones too, by id.
    pub areas: Vec<AreaBody>,
    /// Mentions in no area (not yet coded, or coding could not place them).
    pub uncoded_mentions: u64,
}

/// A survey's problem areas with their mention counts.
#[utoipa::path(
    get,
    path = "/api/surveys/{slug}/areas",
    tag = "coding",
    params(SlugPath),
    responses(
        (status = 200, description = "The areas", body = AreasBody),
        SurveyErrors,
    )
)]
pub async fn list(call: SurveyCall) -> Result<HttpResponse, ApiError> {
    let body = call
        .with_survey(|state, survey| {
            let mut conn = state.db.conn()?;
            let mut counts: HashMap<Option<i64>, u64> = HashMap::new();
            for m in coding::mentions_of(&mut conn, survey.id)? {
                *counts.entry(m.area_id).or_default() += 1;
            }
            let areas = coding::areas_of(&mut conn, survey.id)?
                .into_iter()
                .map(|a| AreaBody {
                    mentions: counts.get(&Some(a.id)).copied().unwrap_or(0),
                    labels: a.labels(),
                    id: a.id,
                    key: a.key,
                    label: a.label,
                    origin: a.origin,
                    status: a.status,
                    team: a.team,
                    merged_into: a.merged_into,
                })
                .collect();
            Ok(AreasBody {
                areas,
                uncoded_mentions: counts.get(&None).copied().unwrap_or(0),
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// An analyst's decision; areas and mentions by id (`GET .../areas` lists them).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "action", rename_all = "lowercase", deny_unknown_fields)]
pub enum DecisionRequest {
    /// Give an area a new label (and accept it).
    Rename { area: i64, label: String },
    /// Move every mention of `from` into `into`; `from` goes away.
    Merge { from: i64, into: i64 },
    /// Move some mentions of `area` into a new area called `label`.
    Split {
        area: i64,
        mentions: Vec<i64>,
        label: String,
    },
    /// Move mentions into area `to`.
    Move { mentions: Vec<i64>, to: i64 },
    /// Accept proposed areas as they are.
    Accept { areas: Vec<i64> },
}

impl From<DecisionRequest> for Decision {
    fn from(d: DecisionRequest) -> Self {
        match d {
            DecisionRequest::Rename { area, label } => Decision::Rename { area, label },
            DecisionRequest::Merge { from, into } => Decision::Merge { from, into },
            DecisionRequest::Split {
                area,
                mentions,
                label,
            } => Decision::Split {
                area,
                mentions,
                label,
            },
            DecisionRequest::Move { mentions, to } => Decision::Move { mentions, to },
            DecisionRequest::Accept { areas } => Decision::Accept { areas },
        }
    }
}

/// What a decision did.
#[derive(Debug, Serialize, ToSchema)]
pub struct DecidedBody {
    /// The area the decision leaves the mentions in (a split's new area).
    pub area: Option<i64>,
    /// Mentions whose area (or coder) changed.
    pub mentions: usize,
}

/// Apply a coding decision: rename, merge, split, move or accept (as `pds areas`).
///
/// Applied in one transaction and logged; the mentions it touches are marked as
/// decided by an analyst, so a later `pds code` keeps them.
#[utoipa::path(
    post,
    path = "/api/surveys/{slug}/areas/decisions",
    tag = "coding",
    params(SlugPath),
    request_body(content = DecisionRequest, description = "At most 64 KiB of JSON",
        example = json!({"action": "rename", "area": 12, "label": "Parking at the warehouse"})),
    responses(
        (status = 200, description = "Applied", body = DecidedBody),
        (status = 400, description = "Bad JSON, or a decision that cannot be made (e.g. an area that was merged)", body = super::ErrorBody),
        Unauthorized,
        (status = 404, description = "No such survey, area or mention", body = super::ErrorBody),
        JsonTooLarge,
    )
)]
pub async fn decide(call: SurveyCall, payload: web::Payload) -> Result<HttpResponse, ApiError> {
    let request: DecisionRequest = read_json(payload).await?;
    let decision = Decision::from(request);
    let decided = call
        .with_survey(move |state, survey| Ok(coding::decide(&state.db, &survey, &decision)?))
        .await?;
    Ok(HttpResponse::Ok().json(DecidedBody {
        area: decided.area,
        mentions: decided.mentions,
    }))
}

/// A line of the decisions log.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoggedDecisionBody {
    /// `rename`, `merge`, `split`, `move`, `accept`, ...
    pub action: String,
    pub area: Option<i64>,
    pub detail: String,
    pub decided_at: String,
}

/// The analysts' decisions of a survey, oldest first.
#[utoipa::path(
    get,
    path = "/api/surveys/{slug}/areas/decisions",
    tag = "coding",
    params(SlugPath),
    responses(
        (status = 200, description = "The decisions log", body = [LoggedDecisionBody]),
        SurveyErrors,
    )
)]
pub async fn decisions(call: SurveyCall) -> Result<HttpResponse, ApiError> {
    let log = call
        .with_survey(|state, survey| {
            Ok(coding::decisions_of(&mut *state.db.conn()?, survey.id)?
                .into_iter()
                .map(|d| LoggedDecisionBody {
                    action: d.action,
                    area: d.area_id,
                    detail: d.detail,
                    decided_at: utc(d.decided_at),
                })
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(HttpResponse::Ok().json(log))
}
