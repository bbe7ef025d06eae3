//! Cases in the dashboard (`/admin/cases`): the routed complaints as a list with
//! filters (team, status, area, age), a case's page with the customer's words, its
//! history and the actions, and acknowledging several cases at once. Acting goes
//! through `cases::act`, as the API and `pds cases` do, in the session key's name.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::pages::{field, session_json};
use super::{render, Analyst, Answer, Session};
use crate::cases::{self, Action, Actor, Case, Filter, Note, Status};
use crate::error::{Error, Result};
use crate::web::AppState;

/// Cases listed at most on one page; the filters narrow a longer list.
const LISTED: usize = 200;

#[derive(Debug, Default, Clone, Deserialize, serde::Serialize)]
pub(super) struct CaseQuery {
    #[serde(default)]
    team: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    area: Option<String>,
    /// Only cases older than this many days.
    #[serde(default)]
    older_than_days: Option<String>,
    /// After acting: what was done (`acknowledge`, ...) and to how many cases.
    #[serde(default)]
    done: Option<String>,
    #[serde(default)]
    count: Option<usize>,
}

fn given(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

pub(super) async fn list(analyst: Analyst, query: web::Query<CaseQuery>) -> HttpResponse {
    analyst
        .show_page(move |state, s| list_page(state, s, &query))
        .await
}

fn list_page(state: &AppState, session: &Session, query: &CaseQuery) -> Result<String> {
    let mut conn = state.db.conn()?;
    let everything = cases::list(&mut conn, &Filter::default())?;
    let mut teams: Vec<String> = everything.iter().map(|c| c.team.clone()).collect();
    teams.sort();
    teams.dedup();
    let status: Option<Status> = given(&query.status)
        .map(|s| s.parse().map_err(Error::Invalid))
        .transpose()?;
    let days: Option<i64> = given(&query.older_than_days)
        .map(|d| {
            d.parse()
                .map_err(|_| Error::Invalid(format!("{d:?} is not a number of days")))
        })
        .transpose()?;
    let now = chrono::Utc::now().naive_utc();
    let area = given(&query.area).map(|a| a.to_lowercase());
    let mut shown: Vec<Value> = Vec::new();
    let mut matching = 0;
    for case in everything.into_iter().rev() {
        let fits = given(&query.team).is_none_or(|t| case.team == t)
            && status.is_none_or(|s| case.status == s)
            && days.is_none_or(|d| (now - case.created_at).num_days() >= d);
        if !fits {
            continue;
        }
        let case = match &area {
            Some(wanted) => {
                let (case, _) = cases::show(&mut conn, case.id)?;
                let label = case.area.clone().unwrap_or_default().to_lowercase();
                if !label.contains(wanted.as_str()) {
                    continue;
                }
                case
            }
            None => case,
        };
        matching += 1;
        if shown.len() < LISTED {
            shown.push(case_json(&case, now));
        }
    }
    render(
        "cases",
        &json!({
            "session": session_json(session),
            "cases": shown,
            "matching": matching,
            "more": matching > shown.len(),
            "teams": teams,
            "statuses": Status::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            "query": query,
            "listed_at_most": LISTED,
        }),
    )
}

fn case_json(case: &Case, now: chrono::NaiveDateTime) -> Value {
    let mut value = serde_json::to_value(case).unwrap_or(Value::Null);
    if let Some(obj) = value.as_object_mut() {
        obj.insert(
            "age_days".into(),
            json!((now - case.created_at).num_days().max(0)),
        );
        obj.insert(
            "created".into(),
            json!(case.created_at.format("%Y-%m-%d %H:%M").to_string()),
        );
        obj.insert("closed".into(), json!(case.status.is_closed()));
    }
    value
}

pub(super) async fn show(
    analyst: Analyst,
    path: web::Path<String>,
    query: web::Query<CaseQuery>,
) -> HttpResponse {
    // A case number, or its reference as the team's email links it.
    let id = path.into_inner();
    let done = query.into_inner().done;
    analyst
        .show_page(move |state, s| {
            let id = cases::id_of(&mut *state.db.conn()?, &id)?;
            case_page(state, s, id, done.as_deref(), None)
        })
        .await
}

fn case_page(
    state: &AppState,
    session: &Session,
    id: i64,
    done: Option<&str>,
    error: Option<String>,
) -> Result<String> {
    let (case, events) = cases::show(&mut *state.db.conn()?, id)?;
    let now = chrono::Utc::now().naive_utc();
    let history: Vec<Value> = events
        .iter()
        .map(|e| {
            json!({
                "at": e.at.format("%Y-%m-%d %H:%M").to_string(),
                "who": if e.actor_name.is_empty() { e.actor_kind.clone() } else { format!("{} {}", e.actor_kind, e.actor_name) },
                "action": e.action,
                "note": e.note,
            })
        })
        .collect();
    render(
        "case",
        &json!({
            "session": session_json(session),
            "case": case_json(&case, now),
            "history": history,
            "done": done,
            "error": error,
            "max_note": cases::MAX_NOTE_CHARS,
        }),
    )
}

/// Acts on one case from its page (`action`, optional `note`), or acknowledges every
/// ticked case of the list (`bulk=acknowledge`, `case` fields).
pub(super) async fn act(analyst: Analyst, body: web::Bytes) -> HttpResponse {
    analyst
        .answer_form(&body, move |state, s, fields| {
            let field = |name: &str| field(&fields, name);
            let ids: Vec<i64> = fields
                .iter()
                .filter(|(k, _)| k == "case")
                .filter_map(|(_, v)| v.parse().ok())
                .collect();
            let bulk = field("bulk") == "acknowledge";
            let single = ids.first().copied().filter(|_| !bulk);
            let fail = |message: String| -> Result<Answer> {
                match single {
                    Some(id) => Ok(Answer::Page(
                        StatusCode::BAD_REQUEST,
                        case_page(state, s, id, None, Some(message))?,
                    )),
                    None => Err(Error::Invalid(message)),
                }
            };
            if ids.is_empty() {
                return Err(Error::Invalid(
                "No case was ticked: tick the cases to acknowledge, then press the button again."
                    .into(),
            ));
            }
            let action: Action = if bulk {
                Action::Acknowledge
            } else {
                match field("action").parse() {
                    Ok(a) => a,
                    Err(_) => return fail("Choose acknowledge, resolve or decline.".into()),
                }
            };
            let note = match Note::parse(&field("note")) {
                Ok(n) => n,
                Err(e) => return fail(e.to_string()),
            };
            let mut acted = 0;
            for id in &ids {
                let what = cases::CaseAction {
                    id: *id,
                    action,
                    note: note.as_ref(),
                    actor: Actor::ApiKey(&s.key_name),
                };
                match cases::act(&state.db, &state.settings, what) {
                    Ok(_) => acted += 1,
                    Err(cases::ActError::Refused { refused, .. }) if single.is_some() => {
                        return fail(format!(
                            "This case is {}; it cannot be {} now.",
                            refused.from.as_str(),
                            refused.action.past()
                        ));
                    }
                    Err(cases::ActError::Refused { .. }) => {}
                    Err(cases::ActError::Other(e)) => return Err(e),
                }
            }
            Ok(Answer::Redirect(match single {
                Some(id) => format!("/admin/cases/{id}?done={}", action.as_str()),
                None => format!("/admin/cases?done=acknowledge&count={acted}"),
            }))
        })
        .await
}

/// `/admin/cases/figures`: `pds cases stats` for every survey, per team and per area.
pub(super) async fn figures(analyst: Analyst) -> HttpResponse {
    analyst.show_page(figures_page).await
}

fn figures_page(state: &AppState, session: &Session) -> Result<String> {
    let now = crate::db::now();
    let mut conn = state.db.conn()?;
    let mut surveys = Vec::new();
    for (slug, title, _) in crate::survey::store::list(&mut conn)? {
        let survey = state.survey_named(&mut conn, &slug.parse()?)?;
        let (count, figures) = crate::route::case_figures(&mut conn, survey.id, now)?;
        let rows = |named: Vec<(String, &cases::stats::Figures)>| -> Vec<Value> {
            named
                .into_iter()
                .map(|(name, f)| {
                    let [a, b, c] = f.open_by_age;
                    json!({
                        "name": name,
                        "cases": f.cases,
                        "ack_median": f.acknowledge.median_text(),
                        "ack_share": f.acknowledge.share_text(),
                        "resolve_median": f.resolve.median_text(),
                        "resolve_share": f.resolve.share_text(),
                        "open_by_age": format!("{a} / {b} / {c} ({})", a + b + c),
                    })
                })
                .collect()
        };
        let teams = rows(figures.teams.iter().map(|(k, f)| (k.clone(), f)).collect());
        let areas = rows(
            figures
                .areas
                .iter()
                .map(|(k, f)| (k.clone().unwrap_or_else(|| "(not coded yet)".into()), f))
                .collect(),
        );
        surveys.push(json!({
            "slug": slug,
            "title": title,
            "cases": count,
            "tables": [{"by": "team", "rows": teams}, {"by": "area", "rows": areas}],
        }));
    }
    render(
        "case_figures",
        &json!({
            "session": session_json(session),
            "now": now.format("%Y-%m-%d %H:%M").to_string(),
            "method": cases::stats::METHOD,
            "surveys": surveys,
        }),
    )
}
