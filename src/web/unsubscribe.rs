//! `/u/{token}`: the personal unsubscribe link of every invitation and reminder.
//! GET asks for confirmation (link scanners must not unsubscribe anyone); POST, from
//! the page's button or from a mail client's one-click button (RFC 8058), does it.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;

use super::{blocking, html, AppState, LinkRequest};
use crate::invite::{self, Unsubscriber};

fn page(
    state: &AppState,
    who: &Unsubscriber,
    page: &str,
    extra: serde_json::Value,
) -> crate::Result<String> {
    let survey_id = who
        .survey_id
        .ok_or_else(|| crate::Error::NotFound("unsubscribe link without a survey".into()))?;
    let survey = state.survey(survey_id)?;
    survey.survey.render_page(who.locale, page, extra)
}

pub(super) async fn confirm(link: LinkRequest) -> HttpResponse {
    handle(link, false).await
}

pub(super) async fn unsubscribe(link: LinkRequest) -> HttpResponse {
    handle(link, true).await
}

async fn handle(link: LinkRequest, act: bool) -> HttpResponse {
    let LinkRequest { token, state, req } = link;
    let Some(token) = token else {
        return state.site_page(&req, "not_found", 404);
    };
    let result = blocking(
        state.clone(),
        move |state| -> crate::Result<Option<String>> {
            let Some(who) = invite::find_unsubscriber(&mut *state.db.conn()?, &token)? else {
                return Ok(None);
            };
            if act {
                let cancelled = invite::unsubscribe(&state.db, who.contact_id)?;
                tracing::info!(cancelled, "a contact unsubscribed");
                page(state, &who, "unsubscribed", serde_json::json!({})).map(Some)
            } else if who.already {
                page(state, &who, "unsubscribed", serde_json::json!({})).map(Some)
            } else {
                let action = format!("/u/{}", token.as_str());
                page(
                    state,
                    &who,
                    "unsubscribe",
                    serde_json::json!({ "action": action }),
                )
                .map(Some)
            }
        },
    )
    .await;
    match result {
        Ok(Some(body)) => html(StatusCode::OK, body),
        Ok(None) => state.site_page(&req, "not_found", 404),
        Err(e) => {
            tracing::error!(error = %e, "unsubscribe failed");
            state.site_page(&req, "error", 500)
        }
    }
}
