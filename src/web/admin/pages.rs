//! The dashboard's handlers: login and logout, the survey list, a survey's overview
//! (with segment and wave views), its charts, an area's page and the coding review.

use std::collections::HashMap;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::Session;
use super::{
    blocking, cache, chart_words, checklist, html, problem, render, secure, see_other, session,
};
use crate::coding::store::{self as coding, Decision};
use crate::error::{Error, Result};
use crate::keys;
use crate::report::{charts, Options, Results};
use crate::survey::{store, StoredSurvey, SurveySlug, WaveLabel};
use crate::web::AppState;

fn session_json(s: &Session) -> Value {
    json!({"key_name": s.key_name, "csrf": s.csrf})
}

fn title_of(survey: &StoredSurvey) -> String {
    let s = &survey.survey;
    s.wording
        .get(&s.default_locale)
        .map(|w| w.title.clone())
        .unwrap_or_default()
}

pub(super) async fn login_form(req: HttpRequest) -> HttpResponse {
    if session::of_request(&req).await.is_some() {
        return see_other("/admin");
    }
    login_page(StatusCode::OK, false)
}

fn login_page(status: StatusCode, failed: bool) -> HttpResponse {
    match render("login", &json!({"failed": failed})) {
        Ok(body) => html(status, body),
        Err(e) => problem(e, None),
    }
}

#[derive(Deserialize)]
pub(super) struct LoginForm {
    #[serde(default)]
    key: String,
}

/// Logs in with an API key: a valid, unrevoked key starts a session.
pub(super) async fn login(form: web::Form<LoginForm>, state: web::Data<AppState>) -> HttpResponse {
    let presented = form.into_inner().key;
    let https = secure(&state);
    let started = blocking(state, move |state| {
        let Some(caller) = keys::verify(&mut *state.db.conn()?, &presented)? else {
            return Ok(None);
        };
        state.db.write(|conn| keys::touch(conn, caller.key_id))?;
        Ok(Some(session::start(&state.db, caller.key_id)?))
    })
    .await;
    match started {
        Ok(Some(token)) => HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/admin"))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .cookie(session::cookie(&token, https))
            .finish(),
        Ok(None) => login_page(StatusCode::UNAUTHORIZED, true),
        Err(e) => problem(e, None),
    }
}

/// The fields of a dashboard form; the CSRF token is checked before anything else.
fn form_fields(body: &web::Bytes, session: &Session) -> Option<Vec<(String, String)>> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).ok()?;
    let presented = pairs
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    session.csrf_matches(presented).then_some(pairs)
}

fn forbidden(session: &Session) -> HttpResponse {
    match render("forbidden", &json!({"session": session_json(session)})) {
        Ok(body) => html(StatusCode::FORBIDDEN, body),
        Err(e) => problem(e, Some(session)),
    }
}

pub(super) async fn logout(
    session: Session,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> HttpResponse {
    if form_fields(&body, &session).is_none() {
        return forbidden(&session);
    }
    let https = secure(&state);
    let id = session.id;
    match blocking(state, move |state| session::end(&state.db, id)).await {
        Ok(()) => HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/admin/login"))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .cookie(session::removal(https))
            .finish(),
        Err(e) => problem(e, Some(&session)),
    }
}

pub(super) async fn surveys(session: Session, state: web::Data<AppState>) -> HttpResponse {
    let listed = blocking(state, |state| {
        Ok(store::list(&mut *state.db.conn()?)?
            .into_iter()
            .map(|(slug, title, created)| {
                json!({"slug": slug, "title": title, "created": created.format("%Y-%m-%d").to_string()})
            })
            .collect::<Vec<_>>())
    })
    .await;
    let page = listed.and_then(|surveys| {
        render(
            "surveys",
            &json!({"session": session_json(&session), "surveys": surveys}),
        )
    });
    match page {
        Ok(body) => html(StatusCode::OK, body),
        Err(e) => problem(e, Some(&session)),
    }
}

/// Which view of a survey: all waves or one, by a segment attribute, compared with
/// an earlier wave. Empty fields (from the view form) mean "not asked for".
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub(super) struct ViewQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    wave: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    compare_wave: Option<String>,
    #[serde(default, skip_serializing)]
    download: Option<String>,
}

impl ViewQuery {
    fn cleaned(&self) -> ViewQuery {
        let keep = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        ViewQuery {
            wave: keep(&self.wave),
            by: keep(&self.by),
            compare_wave: keep(&self.compare_wave),
            download: None,
        }
    }

    fn options(&self) -> Result<Options> {
        let wave = |w: &Option<String>| -> Result<Option<WaveLabel>> {
            Ok(w.as_deref().map(str::parse).transpose()?)
        };
        Ok(Options {
            wave: wave(&self.wave)?,
            by: self.by.clone(),
            compare_wave: wave(&self.compare_wave)?,
            ..Options::default()
        })
    }

    /// The view as a query string (`?wave=...`), or empty.
    fn query_string(&self) -> String {
        let q = serde_urlencoded::to_string(self).unwrap_or_default();
        if q.is_empty() {
            q
        } else {
            format!("?{q}")
        }
    }
}

fn database_key(state: &AppState) -> String {
    format!("{:?}", state.settings.database_url)
}

/// A survey and the results of a view of it, from the cache when nothing changed.
fn survey_results(
    state: &AppState,
    slug: &SurveySlug,
    view: &ViewQuery,
) -> Result<(StoredSurvey, std::sync::Arc<Results>)> {
    let options = view.options()?;
    let mut conn = state.db.conn()?;
    let survey = store::find(&mut conn, slug)?;
    let results = cache::results(&database_key(state), &mut conn, &survey, &options)?;
    Ok((survey, results))
}

/// Results as JSON, each area with its id and page (by label: labels of live areas
/// are unique within a survey).
fn results_json(results: &Results, ids: &HashMap<String, i64>) -> Value {
    let mut value = serde_json::to_value(results).unwrap_or(Value::Null);
    if let Some(areas) = value.get_mut("areas").and_then(Value::as_array_mut) {
        for a in areas {
            let id = a
                .get("area")
                .and_then(Value::as_str)
                .and_then(|l| ids.get(l))
                .copied();
            if let Some(obj) = a.as_object_mut() {
                obj.insert("area_id".into(), json!(id));
            }
        }
    }
    value
}

fn live_area_ids(areas: &[coding::StoredArea]) -> HashMap<String, i64> {
    areas
        .iter()
        .filter(|a| a.merged_into.is_none() && a.status != "merged")
        .map(|a| (a.label.clone(), a.id))
        .collect()
}

pub(super) async fn survey(
    session: Session,
    path: web::Path<String>,
    query: web::Query<ViewQuery>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let view = query.into_inner().cleaned();
    let s = session.clone();
    let page = blocking(state, move |state| {
        let session = s;
        let slug: SurveySlug = path.parse()?;
        if let Some(survey) = checklist::checklist_survey(state, &slug)? {
            let asked = (view.options()?, json!(view), view.query_string());
            return checklist::page(state, session_json(&session), &survey, asked);
        }
        let (survey, results) = survey_results(state, &slug, &view)?;
        let mut conn = state.db.conn()?;
        let waves: Vec<String> = store::waves_of(&mut conn, survey.id)?
            .into_iter()
            .map(|w| w.label)
            .collect();
        let ids = live_area_ids(&coding::areas_of(&mut conn, survey.id)?);
        let chart_query = view.query_string();
        let download_query = if chart_query.is_empty() {
            "?download=1".to_string()
        } else {
            format!("{chart_query}&download=1")
        };
        render(
            "survey",
            &json!({
                "session": session_json(&session),
                "survey": {"slug": survey.slug, "title": title_of(&survey)},
                "waves": waves,
                "view": view,
                "chart_query": chart_query,
                "download_query": download_query,
                "results": results_json(&results, &ids),
            }),
        )
    })
    .await;
    match page {
        Ok(body) => html(StatusCode::OK, body),
        Err(e) => problem(e, Some(&session)),
    }
}

pub(super) async fn chart(
    _session: Session,
    path: web::Path<(String, String)>,
    query: web::Query<ViewQuery>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let download = query.download.as_deref() == Some("1");
    let view = query.into_inner().cleaned();
    let (slug, chart) = path.into_inner();
    let Some(kind) = chart.strip_suffix(".svg").map(str::to_string) else {
        return problem(Error::NotFound(chart), None);
    };
    if !["scatter", "bars"].contains(&kind.as_str()) && !checklist::CHARTS.contains(&kind.as_str())
    {
        return problem(Error::NotFound(chart), None);
    }
    let name = kind.clone();
    let drawn = blocking(state, move |state| {
        let slug: SurveySlug = slug.parse()?;
        if let Some(survey) = checklist::checklist_survey(state, &slug)? {
            let svg = checklist::chart(state, &survey, &kind, &view.options()?)?;
            return Ok((survey.slug, svg));
        }
        let (survey, results) = survey_results(state, &slug, &view)?;
        let ctx = json!({
            "survey": survey.slug,
            "title": title_of(&survey),
            "wave": results.wave,
            "n": results.n,
            "method": results.method,
            "frequency_method": results.frequency_method,
            "importance_method": results.importance_method,
            "bootstrap": results.rank_stability.method,
            "replicates": results.rank_stability.replicates,
            "seed": results.rank_stability.seed,
        });
        let words = |part: &str| chart_words(&format!("{kind}_{part}"), &ctx);
        let text = charts::ChartText {
            title: words("title")?,
            x_axis: words("x")?,
            y_axis: if kind == "scatter" {
                words("y")?
            } else {
                String::new()
            },
        };
        Ok((
            survey.slug.clone(),
            if kind == "scatter" {
                charts::scatter(&results, &text)
            } else {
                charts::bars(&results, &text)
            },
        ))
    })
    .await;
    match drawn {
        Ok((slug, svg)) => {
            let mut response = HttpResponse::Ok();
            response
                .content_type("image/svg+xml")
                .insert_header((header::CACHE_CONTROL, "no-store"));
            if download {
                response.insert_header((
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{slug}-{name}.svg\""),
                ));
            }
            response.body(svg)
        }
        Err(e) => problem(e, None),
    }
}

pub(super) async fn area(
    session: Session,
    path: web::Path<(String, i64)>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let (slug, id) = path.into_inner();
    let s = session.clone();
    let page = blocking(state, move |state| area_page(state, &s, &slug, id)).await;
    match page {
        Ok(body) => html(StatusCode::OK, body),
        Err(e) => problem(e, Some(&session)),
    }
}

fn area_page(state: &AppState, session: &Session, slug: &str, id: i64) -> Result<String> {
    let slug: SurveySlug = slug.parse()?;
    let (survey, results) = survey_results(state, &slug, &ViewQuery::default())?;
    let mut conn = state.db.conn()?;
    let areas = coding::areas_of(&mut conn, survey.id)?;
    let Some(area) = areas.iter().find(|a| a.id == id) else {
        return Err(Error::NotFound(format!("area {id}")));
    };
    let figures = results.areas.iter().find(|a| a.area == area.label);
    let mentions: Vec<Value> = coding::mentions_of(&mut conn, survey.id)?
        .into_iter()
        .filter(|m| m.area_id == Some(id))
        .map(|m| {
            json!({
                "id": m.id,
                "text": m.text,
                "coded_by": m.coded_by,
                "note": m.note,
                "coded_at": m.coded_at.map(|t| t.format("%Y-%m-%d %H:%M").to_string()),
            })
        })
        .collect();
    let others: Vec<Value> = areas
        .iter()
        .filter(|a| a.id != id && a.merged_into.is_none() && a.status != "merged")
        .map(|a| json!({"id": a.id, "label": a.label}))
        .collect();
    render(
        "area",
        &json!({
            "session": session_json(session),
            "survey": {"slug": survey.slug, "title": title_of(&survey)},
            "results": {
                "n": results.n,
                "method": results.method,
                "frequency_method": results.frequency_method,
                "importance_method": results.importance_method,
                "rank_stability": results.rank_stability,
            },
            "area": {
                "id": area.id,
                "label": area.label,
                "origin": area.origin,
                "status": area.status,
                "team": area.team,
                "merged": area.merged_into.is_some() || area.status == "merged",
            },
            "figures": figures,
            "mention_count": mentions.len(),
            "mentions": mentions,
            "others": others,
        }),
    )
}

/// A coding decision from the area page: rename, merge into another area, or move
/// mentions to another area. Applied as `pds areas` applies it, then back to a page
/// (post/redirect/get).
pub(super) async fn decide(
    session: Session,
    path: web::Path<(String, i64)>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> HttpResponse {
    let Some(fields) = form_fields(&body, &session) else {
        return forbidden(&session);
    };
    let (slug, id) = path.into_inner();
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let number = |name: &str| -> Result<i64> {
        field(name)
            .parse()
            .map_err(|_| Error::Invalid(format!("{name}: choose an area")))
    };
    let decision = match field("action").as_str() {
        "rename" => Ok(Decision::Rename {
            area: id,
            label: field("label"),
        }),
        "merge" => number("into").map(|into| Decision::Merge { from: id, into }),
        "move" => number("to").and_then(|to| {
            let mentions: Vec<i64> = fields
                .iter()
                .filter(|(k, _)| k == "mention")
                .filter_map(|(_, v)| v.parse().ok())
                .collect();
            if mentions.is_empty() {
                Err(Error::Invalid("move: tick at least one mention".into()))
            } else {
                Ok(Decision::Move { mentions, to })
            }
        }),
        other => Err(Error::Invalid(format!("unknown action {other:?}"))),
    };
    let decision = match decision {
        Ok(d) => d,
        Err(e) => return problem(e, Some(&session)),
    };
    let back = match &decision {
        Decision::Merge { into, .. } => *into,
        _ => id,
    };
    let applied = blocking(state, move |state| {
        let slug: SurveySlug = slug.parse()?;
        let survey = store::find(&mut *state.db.conn()?, &slug)?;
        coding::decide(&state.db, &survey, &decision)?;
        Ok(survey.slug)
    })
    .await;
    match applied {
        Ok(slug) => see_other(&format!("/admin/surveys/{slug}/areas/{back}")),
        Err(e) => problem(e, Some(&session)),
    }
}
