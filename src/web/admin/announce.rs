//! "You said, we did" from the dashboard: on an area's announce page an analyst
//! writes what was done, in each language of the survey, and chooses the waves;
//! the page first shows how many customers will receive it (the same checks and
//! count as announcing, storing nothing), and only the confirmation announces,
//! through `cases::announce` as `pds areas announce` does. Plain forms, no
//! JavaScript; a form that cannot be announced comes back with what to fix and
//! the words kept.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::pages::session_json;
use super::title_of;
use super::{find_survey, render, Answer, AreaRequest, Session};
use crate::cases::announce::{self, Announced, NewAnnouncement};
use crate::coding::store as coding;
use crate::error::{Error, Result};
use crate::survey::{store, StoredSurvey, WaveLabel};
use crate::web::AppState;

/// What the form holds: a text per locale code, and the chosen waves.
#[derive(Debug, Clone, Default)]
struct Draft {
    texts: std::collections::BTreeMap<String, String>,
    waves: Vec<String>,
    confirmed: bool,
}

impl Draft {
    fn read(fields: &[(String, String)]) -> Draft {
        let mut draft = Draft::default();
        for (name, value) in fields {
            if let Some(locale) = name.strip_prefix("text_") {
                draft.texts.insert(locale.to_string(), value.clone());
            } else if name == "wave" {
                draft.waves.push(value.clone());
            } else if name == "confirmed" {
                draft.confirmed = value == "yes";
            }
        }
        draft
    }
}

/// After announcing, how many will hear of it (`?announced=N`).
#[derive(Debug, Deserialize)]
pub(super) struct Done {
    announced: Option<usize>,
}

/// What the page shows besides the form.
enum Step {
    Write,
    Preview(Announced),
    Failed(String),
    Done(usize),
}

pub(super) async fn form(area: AreaRequest, done: web::Query<Done>) -> HttpResponse {
    let AreaRequest { analyst, slug, id } = area;
    let step = done.announced.map_or(Step::Write, Step::Done);
    analyst
        .show_page(move |state, s| {
            let survey = find_survey(state, &slug)?;
            page(state, s, &survey, id, &Draft::default(), step)
        })
        .await
}

/// A preview (the form as written) or, confirmed, the announcement itself;
/// then back to the page saying how many will hear of it (post/redirect/get).
pub(super) async fn post(area: AreaRequest, body: web::Bytes) -> HttpResponse {
    let AreaRequest { analyst, slug, id } = area;
    analyst
        .answer_form(&body, move |state, s, fields| {
            let draft = Draft::read(&fields);
            let survey = find_survey(state, &slug)?;
            area_label(state, &survey, id)?; // an unknown area is a missing page
            let outcome = waves_of(&draft).and_then(|waves| {
                let new = NewAnnouncement {
                    area: &id.to_string(),
                    waves: &waves,
                    texts: &draft.texts,
                    actor: &format!("dashboard:{}", s.key_name),
                };
                if draft.confirmed {
                    announce::announce(&state.db, &survey, &new).map(|a| Step::Done(a.contacts))
                } else {
                    announce::preview(&state.db, &survey, &new).map(Step::Preview)
                }
            });
            let (status, step) = match outcome {
                Ok(Step::Done(contacts)) => {
                    return Ok(Answer::Redirect(format!(
                        "/admin/surveys/{}/areas/{id}/announce?announced={contacts}",
                        survey.slug
                    )))
                }
                Ok(step) => (StatusCode::OK, step),
                Err(Error::Invalid(m) | Error::NotFound(m)) => {
                    (StatusCode::BAD_REQUEST, Step::Failed(m))
                }
                Err(Error::Survey(e)) => (StatusCode::BAD_REQUEST, Step::Failed(e.to_string())),
                Err(e) => return Err(e),
            };
            Ok(Answer::Page(
                status,
                page(state, s, &survey, id, &draft, step)?,
            ))
        })
        .await
}

/// Area `id`'s label, or not found.
fn area_label(state: &AppState, survey: &StoredSurvey, id: i64) -> Result<String> {
    coding::areas_of(&mut *state.db.conn()?, survey.id)?
        .into_iter()
        .find(|a| a.id == id)
        .map(|a| a.label)
        .ok_or_else(|| Error::NotFound(format!("area {id}")))
}

/// The chosen waves, each a wave label.
fn waves_of(draft: &Draft) -> Result<Vec<WaveLabel>> {
    draft
        .waves
        .iter()
        .map(|w| w.parse::<WaveLabel>().map_err(Error::from))
        .collect()
}

fn page(
    state: &AppState,
    session: &Session,
    survey: &StoredSurvey,
    id: i64,
    draft: &Draft,
    step: Step,
) -> Result<String> {
    let label = area_label(state, survey, id)?;
    let waves = store::waves_of(&mut *state.db.conn()?, survey.id)?;
    let locales: Vec<Value> = survey
        .survey
        .locales
        .iter()
        .map(|l| json!({"code": l.as_str(), "text": draft.texts.get(l.as_str())}))
        .collect();
    let waves: Vec<Value> = waves
        .iter()
        .map(|w| json!({"label": w.label, "checked": draft.waves.contains(&w.label)}))
        .collect();
    let (preview, error, done) = match step {
        Step::Write => (None, None, None),
        Step::Preview(a) => (Some(a), None, None),
        Step::Failed(m) => (None, Some(m), None),
        Step::Done(n) => (None, None, Some(n)),
    };
    render(
        "announce",
        &json!({
            "session": session_json(session),
            "survey": {"slug": survey.slug, "title": title_of(survey), "anonymous": survey.survey.anonymous},
            "area": {"id": id, "label": label},
            "locales": locales,
            "waves": waves,
            "chosen": draft.waves,
            "max_chars": announce::MAX_TEXT_CHARS,
            "preview": preview,
            "error": error,
            "done": done,
        }),
    )
}
