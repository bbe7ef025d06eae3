//! `/c/{token}`: the one-click links in a complaint email. GET shows what the link
//! would do and asks for confirmation, so a link scanner or a preview changes
//! nothing; only POST acts. The token in the path is the whole authority (there is
//! no session or cookie to borrow), and the POST must also carry it in its body and
//! must not come from another site (`Origin`, `Sec-Fetch-Site`): see SECURITY.md.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::{blocking, html, preferred_locale, AppState, LinkRequest};
use crate::cases::{self, Acted, Case, Event, LinkOutcome, LinkState, Note, MAX_NOTE_CHARS};
use crate::survey::Locale;

#[derive(Debug, Deserialize)]
pub(super) struct ActForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    note: String,
}

pub(super) async fn confirm(link: LinkRequest) -> HttpResponse {
    let LinkRequest { token, state, req } = link;
    let Some(token) = token else {
        return link_page(&state, &req, &LinkState::Unknown);
    };
    let found = blocking(state.clone(), move |state| {
        cases::open_link(&mut *state.db.conn()?, &token).map(|s| (s, token))
    })
    .await;
    match found {
        Ok((
            LinkState::Usable {
                case,
                events,
                action,
            },
            token,
        )) => {
            let body = state.site.render_with(
                case.team_locale,
                "case_action",
                200,
                serde_json::json!({
                    "case": case,
                    "events": events,
                    "action": action,
                    "token": token.as_str(),
                    "post_to": cases::link_path(&token),
                    "note_max": MAX_NOTE_CHARS,
                }),
            );
            rendered(&state, &req, body, StatusCode::OK)
        }
        Ok((other, _)) => link_page(&state, &req, &other),
        Err(e) => {
            tracing::error!(error = %e, "a case link could not be read");
            state.site_page(&req, "error", 500)
        }
    }
}

pub(super) async fn act(link: LinkRequest, form: web::Form<ActForm>) -> HttpResponse {
    let LinkRequest { token, state, req } = link;
    let form = form.into_inner();
    let Some(token) = token else {
        return link_page(&state, &req, &LinkState::Unknown);
    };
    if form.token != token.as_str() || from_another_site(&state, &req) {
        return problem_page(&state, &req, "cross_site", 403);
    }
    let note = match Note::parse(&form.note) {
        Ok(note) => note,
        Err(_) => return problem_page(&state, &req, "note_too_long", 400),
    };
    let done = blocking(state.clone(), move |state| {
        cases::act_by_link(&state.db, &state.settings, &token, note.as_ref())
            .map(|outcome| (outcome, note))
    })
    .await;
    match done {
        Ok((LinkOutcome::Acted(acted), note)) => {
            let Acted {
                case,
                action,
                follow_up,
            } = acted;
            tracing::info!(
                case = case.id,
                action = action.as_str(),
                "a team acted on a case by email link"
            );
            let body = state.site.render_with(
                case.team_locale,
                "case_done",
                200,
                serde_json::json!({
                    "case": case,
                    "note": note.as_ref().map(Note::as_str),
                    "follow_up": follow_up,
                }),
            );
            rendered(&state, &req, body, StatusCode::OK)
        }
        Ok((LinkOutcome::NotActed(state_now), _)) => link_page(&state, &req, &state_now),
        Err(e) => {
            tracing::error!(error = %e, "acting on a case by email link failed");
            state.site_page(&req, "error", 500)
        }
    }
}

/// Whether the browser says the form was sent from a page of another site. A
/// request without these headers (a command-line client) is judged by its token.
fn from_another_site(state: &AppState, req: &HttpRequest) -> bool {
    let headers = req.headers();
    let cross_fetch = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("cross-site"));
    let ours = state.settings.public_url.origin().ascii_serialization();
    let foreign_origin = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|origin| origin != ours);
    cross_fetch || foreign_origin
}

/// The page for a link that does not act now, with the case where there is one.
fn link_page(state: &AppState, req: &HttpRequest, link: &LinkState) -> HttpResponse {
    let (reason, status, case, events): (&str, u16, Option<&Case>, &[Event]) = match link {
        LinkState::Unknown => ("unknown", 404, None, &[]),
        LinkState::Expired { case, events } => ("expired", 410, Some(case), events),
        LinkState::Used { case, events } => ("used", 409, Some(case), events),
        LinkState::Refused { case, events, .. } => ("closed", 409, Some(case), events),
        // Only reached when a POST lost a race: say what the link does now.
        LinkState::Usable { case, events, .. } => ("used", 409, Some(case), events),
    };
    case_link_page(state, req, (reason, status), case, events)
}

/// A refused POST: nothing was looked up or changed.
fn problem_page(state: &AppState, req: &HttpRequest, reason: &str, status: u16) -> HttpResponse {
    case_link_page(state, req, (reason, status), None, &[])
}

/// The page saying why a link does not act now (`reason`, with its status), in
/// the team's language where there is a case, else the browser's.
fn case_link_page(
    state: &AppState,
    req: &HttpRequest,
    (reason, status): (&str, u16),
    case: Option<&Case>,
    events: &[Event],
) -> HttpResponse {
    let locale = case
        .map(|c| c.team_locale)
        .or_else(|| preferred_locale(req))
        .unwrap_or(Locale::En);
    let body = state.site.render_with(
        locale,
        "case_link",
        status,
        serde_json::json!({
            "reason": reason,
            "case": case,
            "events": events,
            "note_max": MAX_NOTE_CHARS,
        }),
    );
    rendered(
        state,
        req,
        body,
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
    )
}

fn rendered(
    state: &AppState,
    req: &HttpRequest,
    body: crate::Result<String>,
    status: StatusCode,
) -> HttpResponse {
    match body {
        Ok(body) => html(status, body),
        Err(e) => {
            tracing::error!(error = %e, "a case page could not be rendered");
            state.site_page(req, "error", 500)
        }
    }
}
