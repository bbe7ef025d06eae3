//! The respondent's pages: the form behind a personal link, its submission, and the
//! thank-you, closed and not-found pages.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;

use super::{html, AppState, MAX_FORM_BYTES};
use crate::answer::{self, Answer, FormErrors, FormInput};
use crate::db::now;
use crate::error::Result;
use crate::invite::{self, Invitee, Token};
use crate::survey::StoredSurvey;

enum Outcome {
    NotFound,
    Page(StatusCode, String),
}

async fn run(
    state: web::Data<AppState>,
    f: impl FnOnce(&AppState) -> Result<Outcome> + Send + 'static,
) -> Outcome {
    let result = web::block(move || f(&state)).await;
    match result {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "answer page failed");
            Outcome::Page(StatusCode::INTERNAL_SERVER_ERROR, String::new())
        }
        Err(e) => {
            tracing::error!(error = %e, "answer page task failed");
            Outcome::Page(StatusCode::INTERNAL_SERVER_ERROR, String::new())
        }
    }
}

fn finish(state: &AppState, req: &HttpRequest, outcome: Outcome) -> HttpResponse {
    match outcome {
        Outcome::NotFound => state.site_page(req, "not_found", 404),
        Outcome::Page(status, body) if body.is_empty() => {
            state.site_page(req, "error", status.as_u16())
        }
        Outcome::Page(status, body) => html(status, body),
    }
}

/// Finds the invitee and their survey, or says why the page cannot be shown.
fn open(
    state: &AppState,
    token: &Token,
) -> Result<Result<(Invitee, std::sync::Arc<StoredSurvey>), Outcome>> {
    let Some(invitee) = invite::find_invitee(&mut *state.db.conn()?, token)? else {
        return Ok(Err(Outcome::NotFound));
    };
    let survey = state.survey(invitee.survey_id)?;
    if !survey.survey.is_open_at(now()) {
        let page = survey
            .survey
            .render_page(invitee.locale, "closed", serde_json::json!({}))?;
        return Ok(Err(Outcome::Page(StatusCode::GONE, page)));
    }
    Ok(Ok((invitee, survey)))
}

/// The thank-you page for an anonymous survey's link that has answered before: the
/// answer is no longer linked to it, so there is nothing to show or change.
fn already_answered(survey: &StoredSurvey, invitee: &Invitee) -> Result<Outcome> {
    let page = survey.survey.render_page(
        invitee.locale,
        "thanks",
        serde_json::json!({
            "contact": {"name": invitee.name},
            "no_problems": false,
            "mentions": [],
            "edit_link": null,
            "already_answered": true,
        }),
    )?;
    Ok(Outcome::Page(StatusCode::OK, page))
}

fn form_page(
    survey: &StoredSurvey,
    invitee: &Invitee,
    input: &FormInput,
    errors: &FormErrors,
    token: &Token,
    answered_before: bool,
) -> Result<String> {
    let s = &survey.survey;
    let ctx = input.context(
        s,
        invitee.locale,
        errors,
        &invitee.name,
        &format!("/s/{}", token.as_str()),
        answered_before,
    );
    s.render_page(invitee.locale, "form", ctx)
}

pub(super) async fn show_form(
    path: web::Path<String>,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> HttpResponse {
    let Ok(token) = path.into_inner().parse::<Token>() else {
        return state.site_page(&req, "not_found", 404);
    };
    let outcome = run(state.clone(), move |state| {
        let (invitee, survey) = match open(state, &token)? {
            Ok(found) => found,
            Err(outcome) => return Ok(outcome),
        };
        if survey.survey.anonymous && invitee.answered {
            return already_answered(&survey, &invitee);
        }
        let mut conn = state.db.conn()?;
        let previous = answer::load(&mut conn, invitee.invitation_id)?;
        drop(conn);
        if !invitee.opened {
            state.db.write(|conn| {
                invite::mark_opened(conn, invitee.invitation_id, survey.survey.anonymous)
            })?;
        }
        let m = survey.survey.max_problems;
        let input = previous
            .as_ref()
            .map(|a| FormInput::from_answer(a, m))
            .unwrap_or_else(|| FormInput::from_pairs(&[], m));
        let page = form_page(
            &survey,
            &invitee,
            &input,
            &FormErrors::default(),
            &token,
            previous.is_some(),
        )?;
        Ok(Outcome::Page(StatusCode::OK, page))
    })
    .await;
    finish(&state, &req, outcome)
}

pub(super) async fn submit(
    path: web::Path<String>,
    state: web::Data<AppState>,
    req: HttpRequest,
    mut payload: web::Payload,
) -> HttpResponse {
    let Ok(token) = path.into_inner().parse::<Token>() else {
        return state.site_page(&req, "not_found", 404);
    };
    let mut body = web::BytesMut::new();
    let mut too_large = false;
    while let Some(chunk) = payload.next().await {
        match chunk {
            Ok(bytes) if body.len() + bytes.len() <= MAX_FORM_BYTES => {
                body.extend_from_slice(&bytes)
            }
            Ok(_) => {
                too_large = true;
                break;
            }
            Err(e) if super::guard::timed_out(&e) => {
                return state.site_page(&req, "error", 408);
            }
            Err(_) => return state.site_page(&req, "error", 400),
        }
    }
    let outcome = run(state.clone(), move |state| {
        let (invitee, survey) = match open(state, &token)? {
            Ok(found) => found,
            Err(outcome) => return Ok(outcome),
        };
        if survey.survey.anonymous && invitee.answered {
            return already_answered(&survey, &invitee);
        }
        let m = survey.survey.max_problems;
        if too_large {
            let mut errors = FormErrors::default();
            errors.form.push(("form_too_large", serde_json::json!({})));
            let page = form_page(
                &survey,
                &invitee,
                &FormInput::from_pairs(&[], m),
                &errors,
                &token,
                false,
            )?;
            return Ok(Outcome::Page(StatusCode::PAYLOAD_TOO_LARGE, page));
        }
        let pairs: Vec<(String, String)> = match serde_urlencoded::from_bytes(&body) {
            Ok(p) => p,
            Err(_) => return Ok(Outcome::Page(StatusCode::BAD_REQUEST, String::new())),
        };
        let input = FormInput::from_pairs(&pairs, m);
        let answer = match input.validate(&survey.survey) {
            Ok(a) => a,
            Err(errors) => {
                let answered_before =
                    answer::load(&mut *state.db.conn()?, invitee.invitation_id)?.is_some();
                let page = form_page(&survey, &invitee, &input, &errors, &token, answered_before)?;
                return Ok(Outcome::Page(StatusCode::UNPROCESSABLE_ENTITY, page));
            }
        };
        if answer::store(&state.db, &state.settings, &survey, &invitee, &answer)?
            == answer::Stored::AlreadyAnswered
        {
            return already_answered(&survey, &invitee);
        }
        // An anonymous answer is no longer linked to this link: nothing to reopen.
        let edit_link = (!survey.survey.anonymous).then(|| format!("/s/{}", token.as_str()));
        let mentions: Vec<_> = match &answer {
            Answer::NoProblems => Vec::new(),
            Answer::Problems(p) => p
                .iter()
                .map(|p| serde_json::json!({"rank": p.rank, "text": p.text}))
                .collect(),
        };
        let page = survey.survey.render_page(
            invitee.locale,
            "thanks",
            serde_json::json!({
                "contact": {"name": invitee.name},
                "no_problems": matches!(answer, Answer::NoProblems),
                "mentions": mentions,
                "edit_link": edit_link,
                "already_answered": false,
            }),
        )?;
        Ok(Outcome::Page(StatusCode::OK, page))
    })
    .await;
    finish(&state, &req, outcome)
}
