//! The respondent's pages: the form behind a personal link, its submission, and the
//! thank-you, closed and not-found pages. A checklist survey's form is in
//! `respond/checklist.rs`; this file hands over to it by the survey's kind.
//! A stored answer is answered with a redirect (303) to its thank-you page, so a
//! refresh never sends it twice; `respond/receipts.rs` carries it there.

mod checklist;
mod receipts;

pub use receipts::Receipts;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;

use super::{html, see_other, AppState, LinkRequest, MAX_FORM_BYTES};
use crate::answer::{self, Answer, Edit, FormErrors, FormInput};
use crate::db::now;
use crate::error::Result;
use crate::invite::{self, Invitee, Token};
use crate::survey::{StoredSurvey, SurveyKind};

enum Outcome {
    NotFound,
    Page(StatusCode, String),
    /// 303 See Other to this path.
    SeeOther(String),
}

async fn run(
    state: web::Data<AppState>,
    f: impl FnOnce(&AppState) -> Result<Outcome> + Send + 'static,
) -> Outcome {
    super::blocking(state, f).await.unwrap_or_else(failed)
}

/// The error page for a step that failed; why is logged, never shown.
fn failed(e: impl std::fmt::Display) -> Outcome {
    tracing::error!(error = %e, "answer page failed");
    Outcome::Page(StatusCode::INTERNAL_SERVER_ERROR, String::new())
}

fn finish(state: &AppState, req: &HttpRequest, outcome: Outcome) -> HttpResponse {
    match outcome {
        Outcome::NotFound => state.site_page(req, "not_found", 404),
        Outcome::Page(status, body) if body.is_empty() => {
            state.site_page(req, "error", status.as_u16())
        }
        Outcome::Page(status, body) => html(status, body),
        Outcome::SeeOther(location) => see_other(&location),
    }
}

/// Where the thank-you page of a link is.
fn thanks_path(token: &Token) -> String {
    format!("/s/{}/thanks", token.as_str())
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

/// Runs `page` on the blocking pool for the invitee whose personal link was
/// followed, once the link is known and its survey open; the not-found or closed
/// page otherwise.
async fn for_invitee(
    link: LinkRequest,
    page: impl FnOnce(&AppState, Token, Invitee, std::sync::Arc<StoredSurvey>) -> Result<Outcome>
        + Send
        + 'static,
) -> HttpResponse {
    let LinkRequest { token, state, req } = link;
    let Some(token) = token else {
        return state.site_page(&req, "not_found", 404);
    };
    let outcome = run(state.clone(), move |state| match open(state, &token)? {
        Ok((invitee, survey)) => page(state, token, invitee, survey),
        Err(outcome) => Ok(outcome),
    })
    .await;
    finish(&state, &req, outcome)
}

pub(super) async fn show_form(link: LinkRequest) -> HttpResponse {
    let just_saved = link.req.query_string() == checklist::SAVED_QUERY;
    for_invitee(link, move |state, token, invitee, survey| {
        if survey.survey.anonymous && invitee.answered {
            return already_answered(&survey, &invitee);
        }
        let mut conn = state.db.conn()?;
        let previous = answer::load(&mut conn, invitee.invitation_id)?;
        drop(conn);
        if !invitee.opened {
            // Worth recording, not worth failing the page for: while another process
            // holds the SQLite write lock, this waits at most a second and gives up.
            let (invitation_id, anonymous) = (invitee.invitation_id, survey.survey.anonymous);
            if let Err(e) = state
                .db
                .write_grouped(move |conn| invite::mark_opened(conn, invitation_id, anonymous))
            {
                tracing::warn!(error = %e, "the link's first opening was not recorded");
            }
        }
        if survey.survey.kind == SurveyKind::Checklist {
            let previous = previous.as_ref();
            return checklist::show(state, &survey, &invitee, &token, previous, just_saved);
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
    .await
}

/// What a submission needs once it has been read and checked.
enum Submission {
    /// Answered already: a page, nothing to store.
    Done(Outcome),
    Store(Box<Ready>),
}

struct Ready {
    prepared: answer::Prepared,
    survey: std::sync::Arc<StoredSurvey>,
    invitee: Invitee,
    answer: Answer,
    token: Token,
    /// What the answer inbox must keep besides the problems, should the answer
    /// wait there (a checklist's item answers; see `prepare_waiting`).
    also: Option<serde_json::Value>,
}

/// Finds the link's invitee, decodes and checks the form, and prepares the answer
/// for storing; a form with errors comes back as the form again, with them.
fn prepare_submission(
    state: &AppState,
    token: &Token,
    too_large: bool,
    body: &[u8],
) -> Result<Submission> {
    let (invitee, survey) = match open(state, token)? {
        Ok(found) => found,
        Err(outcome) => return Ok(Submission::Done(outcome)),
    };
    if survey.survey.anonymous && invitee.answered {
        return Ok(Submission::Done(already_answered(&survey, &invitee)?));
    }
    if survey.survey.kind == SurveyKind::Checklist {
        let pairs: Vec<(String, String)> = if too_large {
            Vec::new()
        } else {
            match serde_urlencoded::from_bytes(body) {
                Ok(p) => p,
                Err(_) => {
                    return Ok(Submission::Done(Outcome::Page(
                        StatusCode::BAD_REQUEST,
                        String::new(),
                    )))
                }
            }
        };
        return checklist::prepare(state, survey, invitee, token, too_large, &pairs);
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
            token,
            false,
        )?;
        return Ok(Submission::Done(Outcome::Page(
            StatusCode::PAYLOAD_TOO_LARGE,
            page,
        )));
    }
    let pairs: Vec<(String, String)> = match serde_urlencoded::from_bytes(body) {
        Ok(p) => p,
        Err(_) => {
            return Ok(Submission::Done(Outcome::Page(
                StatusCode::BAD_REQUEST,
                String::new(),
            )))
        }
    };
    let mut input = FormInput::from_pairs(&pairs, m);
    if let Some(edit) = Edit::from_pairs(&pairs) {
        // "Add another" or a move, without JavaScript: the form again, changed.
        input.apply(edit);
        let answered_before =
            answer::load(&mut *state.db.conn()?, invitee.invitation_id)?.is_some();
        let page = form_page(
            &survey,
            &invitee,
            &input,
            &FormErrors::default(),
            token,
            answered_before,
        )?;
        return Ok(Submission::Done(Outcome::Page(StatusCode::OK, page)));
    }
    let answer = match input.validate(&survey.survey) {
        Ok(a) => a,
        Err(errors) => {
            let answered_before =
                answer::load(&mut *state.db.conn()?, invitee.invitation_id)?.is_some();
            let page = form_page(&survey, &invitee, &input, &errors, token, answered_before)?;
            return Ok(Submission::Done(Outcome::Page(
                StatusCode::UNPROCESSABLE_ENTITY,
                page,
            )));
        }
    };
    let prepared = answer::prepare(state.services(), &survey, &invitee, &answer)?;
    Ok(Submission::Store(Box::new(Ready {
        prepared,
        survey,
        invitee,
        answer,
        token: token.clone(),
        also: None,
    })))
}

/// The thank-you page for a stored answer.
fn thanks(
    survey: &StoredSurvey,
    invitee: &Invitee,
    answer: &Answer,
    token: &Token,
) -> Result<Outcome> {
    // An anonymous answer is no longer linked to this link: nothing to reopen.
    let edit_link = (!survey.survey.anonymous).then(|| format!("/s/{}", token.as_str()));
    let mentions: Vec<_> = match answer {
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
}

/// Stores a checked answer: in the database, or, when another process has held
/// the SQLite write lock for longer than an answer waits, in the answer inbox,
/// from which the server stores it once the lock is free (see `answer::inbox`).
/// While the inbox holds answers, new ones queue behind them, in order.
async fn store(
    state: &web::Data<AppState>,
    prepared: answer::Prepared,
    invitee: &Invitee,
    answer: &Answer,
    also: Option<serde_json::Value>,
) -> Result<answer::Stored> {
    let waiting = || answer::inbox::Waiting {
        invitation_id: invitee.invitation_id,
        answer: answer.clone(),
        received_at: now(),
        also,
    };
    let Some(inbox) = state.inbox.clone() else {
        return prepared.store_async(&state.db).await;
    };
    if !inbox.holds_any() {
        match prepared.store_async(&state.db).await {
            Err(crate::error::Error::Busy { waited_ms }) => {
                tracing::warn!(
                    waited_ms,
                    "the database's write lock is taken by another process; the answer waits in the inbox"
                );
            }
            stored => return stored,
        }
    }
    let waiting = waiting();
    super::blocking(state.clone(), move |_| inbox.keep(&waiting)).await?;
    state.wake_inbox();
    // Stored as soon as the lock is free; for the customer it is stored now.
    Ok(answer::Stored::New)
}

/// Prepares an answer that waited in the answer inbox, by its survey's kind: the
/// server's preparer for `answer::inbox::Inbox::drain`.
pub(super) fn prepare_waiting(
    services: answer::Services<'_>,
    survey: &StoredSurvey,
    invitee: &Invitee,
    waiting: &answer::inbox::Waiting,
) -> Result<answer::Prepared> {
    match survey.survey.kind {
        SurveyKind::Checklist => checklist::prepare_items(
            services,
            survey,
            invitee,
            &waiting.answer,
            checklist::waiting_items(waiting)?,
            waiting.received_at,
        ),
        SurveyKind::Discovery => {
            answer::inbox::prepare_problems(services, survey, invitee, waiting)
        }
    }
}

pub(super) async fn submit(link: LinkRequest, mut payload: web::Payload) -> HttpResponse {
    let LinkRequest { token, state, req } = link;
    let Some(token) = token else {
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
    // Reading, checking and routing the answer happen on a blocking thread; the
    // commit is awaited without one (answers commit in groups, see
    // `Database::write_grouped`), and the thank-you page is rendered here.
    let prepared = super::blocking(state.clone(), move |state| {
        prepare_submission(state, &token, too_large, &body)
    })
    .await;
    let outcome = match prepared {
        Ok(Submission::Done(outcome)) => outcome,
        Ok(Submission::Store(ready)) => {
            let Ready {
                prepared,
                survey,
                invitee,
                answer,
                token,
                also,
            } = *ready;
            match store(&state, prepared, &invitee, &answer, also).await {
                Ok(answer::Stored::AlreadyAnswered) => {
                    already_answered(&survey, &invitee).unwrap_or_else(failed)
                }
                Ok(_) => {
                    state.receipts.keep(&token, &answer);
                    Outcome::SeeOther(thanks_path(&token))
                }
                Err(e) => failed(e),
            }
        }
        Err(e) => failed(e),
    };
    finish(&state, &req, outcome)
}

/// `GET /s/{token}/thanks`: the answer just sent, or, when this server no longer
/// holds it (restarted, or a while later), the answer as stored.
pub(super) async fn show_thanks(link: LinkRequest) -> HttpResponse {
    for_invitee(link, |state, token, invitee, survey| {
        let anonymous = survey.survey.anonymous;
        let answer = match state.receipts.find(&token, anonymous) {
            Some(answer) => Some(answer),
            None if anonymous => None,
            None => answer::load(&mut *state.db.conn()?, invitee.invitation_id)?,
        };
        match answer {
            Some(answer) => thanks(&survey, &invitee, &answer, &token),
            None if anonymous && invitee.answered => already_answered(&survey, &invitee),
            None => Ok(Outcome::SeeOther(format!("/s/{}", token.as_str()))),
        }
    })
    .await
}
