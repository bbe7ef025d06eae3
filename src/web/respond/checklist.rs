//! The form behind a personal link when the survey is a checklist (kind =
//! "checklist"): the same links, closed and thank-you pages and storing as the
//! discovery form, asking every item of `checklist.toml` in the respondent's own
//! order (shuffled with the invitation's id as seed) and then the "other problems"
//! write-ins. Thin: reading, checking and the page's context are the checklist
//! room's; storing is the answer room's, with the item answers in the same
//! transaction. "Save and continue later" keeps a draft (`checklist::drafts`)
//! instead of sending, and the link opens the form filled in from it.

use std::sync::Arc;

use actix_web::http::StatusCode;

use super::{AppState, Outcome, Ready, Submission};
use crate::answer::{self, Answer};
use crate::checklist::drafts::{self, Draft, TooLong};
use crate::checklist::form::{ChecklistErrors, ChecklistInput};
use crate::checklist::{store, Checklist};
use crate::db::now;
use crate::error::Result;
use crate::invite::{Invitee, Token};
use crate::survey::StoredSurvey;

/// The order this respondent sees the items in: the same every time the link is
/// opened, different from one invitation to the next.
fn order_for(checklist: &Checklist, invitee: &Invitee) -> Vec<usize> {
    checklist.order_for(invitee.invitation_id as u64)
}

#[allow(clippy::too_many_arguments)]
fn page(
    survey: &StoredSurvey,
    checklist: &Checklist,
    invitee: &Invitee,
    input: &ChecklistInput,
    errors: &ChecklistErrors,
    token: &Token,
    answered_before: bool,
    draft: DraftNote,
) -> Result<String> {
    let mut ctx = input.context(
        &survey.survey,
        checklist,
        &order_for(checklist, invitee),
        invitee.locale,
        errors,
        &invitee.name,
        &format!("/s/{}", token.as_str()),
        answered_before,
    );
    // Staff answer as they think customers would, in their own wording.
    crate::survey::merge(
        &mut ctx,
        serde_json::json!({
            "staff": invitee.audience == store::STAFF,
            "draft_saved": draft == DraftNote::Saved,
            "draft_restored": draft == DraftNote::Restored,
        }),
    );
    survey.survey.render_page(invitee.locale, "form", ctx)
}

/// What the form says about a draft ("Save and continue later").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DraftNote {
    None,
    /// Just saved: the form again, with a note that nothing is sent yet.
    Saved,
    /// Opened again: the answers saved before are filled in.
    Restored,
}

/// GET: the form, filled in with the draft saved through this link, or else the
/// answer given before through it. `just_saved`: shown right after a save.
pub(super) fn show(
    state: &AppState,
    survey: &StoredSurvey,
    invitee: &Invitee,
    token: &Token,
    write_ins: Option<&Answer>,
    just_saved: bool,
) -> Result<Outcome> {
    let checklist = Checklist::of_survey(survey)?;
    let m = survey.survey.max_problems;
    let mut conn = state.db.conn()?;
    let (input, note) = match drafts::load(&mut conn, invitee.invitation_id)? {
        Some(draft) => {
            let note = if just_saved {
                DraftNote::Saved
            } else {
                DraftNote::Restored
            };
            (draft.to_input(&checklist, m), note)
        }
        None => {
            let items = match store::response_of_invitation(&mut conn, invitee.invitation_id)? {
                Some(response) => store::answers_of(&mut conn, response)?,
                None => Vec::new(),
            };
            let input = ChecklistInput::from_answer(&items, write_ins, m);
            (input, DraftNote::None)
        }
    };
    drop(conn);
    let body = page(
        survey,
        &checklist,
        invitee,
        &input,
        &ChecklistErrors::default(),
        token,
        write_ins.is_some(),
        note,
    )?;
    Ok(Outcome::Page(StatusCode::OK, body))
}

/// "Save and continue later": keeps what is chosen so far, unchecked for
/// completeness, and sends the person back to the form (303) with a note; a
/// written-in problem over the form's length limit comes back as the form's
/// error (422), nothing kept.
fn save_draft(
    state: &AppState,
    survey: &StoredSurvey,
    checklist: &Checklist,
    invitee: &Invitee,
    token: &Token,
    input: &ChecklistInput,
) -> Result<Outcome> {
    let draft = match Draft::of_input(input) {
        Ok(draft) => draft,
        Err(TooLong(slot)) => {
            let mut errors = ChecklistErrors::default();
            let max = crate::answer::form::MAX_TEXT_CHARS;
            errors
                .write_ins
                .slots
                .insert(slot, ("text_too_long", serde_json::json!({ "max": max })));
            let body = page(
                survey,
                checklist,
                invitee,
                input,
                &errors,
                token,
                false,
                DraftNote::None,
            )?;
            return Ok(Outcome::Page(StatusCode::UNPROCESSABLE_ENTITY, body));
        }
    };
    let invitation_id = invitee.invitation_id;
    state
        .db
        .write(|conn| drafts::save(conn, invitation_id, &draft, now()))?;
    Ok(Outcome::SeeOther(format!(
        "/s/{}?{SAVED_QUERY}",
        token.as_str()
    )))
}

/// The query the form is shown with right after a save.
pub(super) const SAVED_QUERY: &str = "saved=1";

/// POST: reads and checks the form; a form with errors comes back with them (422),
/// a whole one is prepared for storing with its item answers.
pub(super) fn prepare(
    state: &AppState,
    survey: Arc<StoredSurvey>,
    invitee: Invitee,
    token: &Token,
    too_large: bool,
    pairs: &[(String, String)],
) -> Result<Submission> {
    let checklist = Checklist::of_survey(&survey)?;
    let m = survey.survey.max_problems;
    // The form back to the respondent with what to fix.
    let back = |status,
                input: &ChecklistInput,
                errors: &ChecklistErrors,
                answered_before|
     -> Result<Submission> {
        let body = page(
            &survey,
            &checklist,
            &invitee,
            input,
            errors,
            token,
            answered_before,
            DraftNote::None,
        )?;
        Ok(Submission::Done(Outcome::Page(status, body)))
    };
    if too_large {
        let mut errors = ChecklistErrors::default();
        errors
            .write_ins
            .form
            .push(("form_too_large", serde_json::json!({})));
        let input = ChecklistInput::from_answer(&[], None, m);
        return back(StatusCode::PAYLOAD_TOO_LARGE, &input, &errors, false);
    }
    let Ok(input) = ChecklistInput::from_pairs(pairs, &checklist, m) else {
        return Ok(Submission::Done(Outcome::Page(
            StatusCode::BAD_REQUEST,
            String::new(),
        )));
    };
    if pairs.iter().any(|(k, _)| k == SAVE_BUTTON) {
        let outcome = save_draft(state, &survey, &checklist, &invitee, token, &input)?;
        return Ok(Submission::Done(outcome));
    }
    let order = order_for(&checklist, &invitee);
    let answer = match input.validate(&survey.survey, &checklist, &order, &invitee.audience) {
        Ok(a) => a,
        Err(errors) => {
            let answered_before =
                answer::load(&mut *state.db.conn()?, invitee.invitation_id)?.is_some();
            return back(
                StatusCode::UNPROCESSABLE_ENTITY,
                &input,
                &errors,
                answered_before,
            );
        }
    };
    let also = crate::checklist::answer::to_json(&answer.items);
    let prepared = prepare_items(
        state.services(),
        &survey,
        &invitee,
        &answer.write_ins,
        answer.items,
        now(),
    )?;
    Ok(Submission::Store(Box::new(Ready {
        prepared,
        survey,
        invitee,
        answer: answer.write_ins,
        token: token.clone(),
        also: Some(also),
    })))
}

/// The name of the "Save and continue later" button: a submission that carries it
/// is kept as a draft, not sent.
const SAVE_BUTTON: &str = "save_draft";

/// The write-ins and the item answers, ready to store in one transaction, which
/// also deletes the link's draft: a sent answer leaves none behind.
pub(super) fn prepare_items(
    services: answer::Services<'_>,
    survey: &StoredSurvey,
    invitee: &Invitee,
    write_ins: &answer::Answer,
    items: Vec<crate::checklist::answer::ItemAnswer>,
    received: chrono::NaiveDateTime,
) -> Result<answer::Prepared> {
    let invitation_id = invitee.invitation_id;
    answer::prepare_with(
        services,
        survey,
        invitee,
        write_ins,
        received,
        Some(Box::new(move |conn, response| {
            store::replace_answers(conn, response, &items)?;
            drafts::discard(conn, invitation_id)
        })),
    )
}

/// The item answers of a checklist answer that waited in the answer inbox, as
/// the inbox kept them (checked again on the way in).
pub(super) fn waiting_items(
    waiting: &answer::inbox::Waiting,
) -> Result<Vec<crate::checklist::answer::ItemAnswer>> {
    Ok(waiting
        .also
        .as_ref()
        .map(crate::checklist::answer::from_json)
        .transpose()
        .map_err(|e| crate::error::Error::Internal(format!("a waiting checklist answer: {e}")))?
        .unwrap_or_default())
}
