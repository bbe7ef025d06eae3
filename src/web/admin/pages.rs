//! The dashboard's handlers: login and logout, the survey list, a survey's overview
//! (with segment and wave views), its charts, an area's page and the coding review.

use std::collections::HashMap;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{
    blocking, chart_context, chart_text, checklist, html, lang_of, problem, redirect, render,
    secure, see_other, session, title_of, words, Analyst, Answer, Session,
};
use crate::coding::store as coding;
use crate::error::{Error, Result};
use crate::invite::overview;
use crate::keys;
use crate::report::{self, charts, summary, Options, Results};
use crate::stats;
use crate::survey::{store, StoredSurvey, SurveyError, SurveySlug, WaveLabel};
use crate::web::AppState;

pub(super) fn session_json(s: &Session) -> Value {
    json!({"key_name": s.key_name, "csrf": s.csrf})
}

pub(super) async fn login_form(req: HttpRequest) -> HttpResponse {
    if session::of_request(&req).await.is_some() {
        return see_other("/admin");
    }
    login_page(StatusCode::OK, false, lang_of(&req))
}

fn login_page(status: StatusCode, failed: bool, lang: &str) -> HttpResponse {
    let ctx = json!({"failed": failed, "lang": lang, "words": words(lang)});
    match render("login", &ctx) {
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
pub(super) async fn login(
    req: HttpRequest,
    form: web::Form<LoginForm>,
    state: web::Data<AppState>,
) -> HttpResponse {
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
        Ok(Some(token)) => redirect("/admin")
            .cookie(session::cookie(&token, https))
            .finish(),
        Ok(None) => login_page(StatusCode::UNAUTHORIZED, true, lang_of(&req)),
        Err(e) => problem(e, None),
    }
}

/// The fields of a dashboard form; the CSRF token is checked before anything else.
pub(super) fn form_fields(body: &web::Bytes, session: &Session) -> Option<Vec<(String, String)>> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).ok()?;
    let presented = pairs
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    session.csrf_matches(presented).then_some(pairs)
}

/// The value of a form's field `name`, trimmed; empty when the form has none.
pub(super) fn field(fields: &[(String, String)], name: &str) -> String {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default()
}

pub(super) fn forbidden(session: &Session) -> HttpResponse {
    match render("forbidden", &json!({"session": session_json(session)})) {
        Ok(body) => html(StatusCode::FORBIDDEN, body),
        Err(e) => problem(e, Some(session)),
    }
}

pub(super) async fn logout(Analyst { session, state }: Analyst, body: web::Bytes) -> HttpResponse {
    if form_fields(&body, &session).is_none() {
        return forbidden(&session);
    }
    let https = secure(&state);
    let id = session.id;
    match blocking(state, move |state| session::end(&state.db, id)).await {
        Ok(()) => redirect("/admin/login")
            .cookie(session::removal(https))
            .finish(),
        Err(e) => problem(e, Some(&session)),
    }
}

pub(super) async fn surveys(analyst: Analyst) -> HttpResponse {
    analyst
        .show_page(|state, s| {
            let mut conn = state.db.conn()?;
            let mut surveys = Vec::new();
            for (slug, title, created) in store::list(&mut conn)? {
                let survey = state.survey_named(&mut conn, &slug.parse()?)?;
                let waves = overview::waves(&mut conn, survey.id)?;
                let sent: u64 = waves.iter().map(|w| w.invited).sum();
                let answered: u64 = waves.iter().map(|w| w.answered).sum();
                let imported: u64 = waves.iter().map(|w| w.imported).sum();
                let rate = (sent > 0)
                    .then(|| stats::response_rate(answered.min(sent), sent).ok())
                    .flatten();
                surveys.push(json!({
                    "slug": slug,
                    "title": title,
                    "created": created.format("%Y-%m-%d").to_string(),
                    "sent": sent,
                    "answered": answered,
                    "imported": imported,
                    "rate": rate,
                }));
            }
            render(
                "surveys",
                &json!({"session": session_json(s), "surveys": surveys}),
            )
        })
        .await
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
    /// After "code new answers": how many mentions the run placed or changed.
    #[serde(default, skip_serializing)]
    coded: Option<usize>,
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
            coded: self.coded,
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

/// A survey and the results of a view of it, from the cache when nothing changed.
pub(super) fn survey_results(
    state: &AppState,
    slug: &SurveySlug,
    view: &ViewQuery,
) -> Result<(StoredSurvey, std::sync::Arc<Results>)> {
    let options = view.options()?;
    let mut conn = state.db.conn()?;
    let survey = state.survey_named(&mut conn, slug)?;
    let results = (state.views).results(state.db.url(), &mut conn, &survey, &options)?;
    Ok((survey, results))
}

/// Results as JSON, each area with its id and page (by label: labels of live areas
/// are unique within a survey) and whether its score is too wide to act on alone.
/// The results as the page's template reads them. The texts of the mentions in no
/// area are left out: the page lists the first few apart, and a million
/// respondents can leave hundreds of thousands (as JSON, twice: the template engine
/// copies its data).
fn results_json(results: &Results, ids: &HashMap<String, i64>) -> Value {
    let uncoded = &results.uncoded;
    let counts = report::Uncoded {
        mentions: uncoded.mentions,
        not_yet_coded: uncoded.not_yet_coded,
        not_placed: uncoded.not_placed,
        texts: Vec::new(),
    };
    let shown = results.with_uncoded(counts);
    let mut value = serde_json::to_value(&shown).unwrap_or(Value::Null);
    if let Some(areas) = value.get_mut("areas").and_then(Value::as_array_mut) {
        for (a, figures) in areas.iter_mut().zip(&results.areas) {
            let wide = stats::is_imprecise(figures.score, figures.score_ci);
            let id = a
                .get("area")
                .and_then(Value::as_str)
                .and_then(|l| ids.get(l))
                .copied();
            if let Some(obj) = a.as_object_mut() {
                obj.insert("area_id".into(), json!(id));
                obj.insert("wide".into(), json!(wide));
            }
        }
    }
    value
}

pub(super) fn live_area_ids(areas: &[coding::StoredArea]) -> HashMap<String, i64> {
    areas
        .iter()
        .filter(|a| a.merged_into.is_none() && a.status != "merged")
        .map(|a| (a.label.clone(), a.id))
        .collect()
}

pub(super) async fn survey(
    req: HttpRequest,
    analyst: Analyst,
    path: web::Path<String>,
    query: web::Query<ViewQuery>,
) -> HttpResponse {
    let view = query.into_inner().cleaned();
    let lang = lang_of(&req);
    analyst
        .answer(move |state, s| {
            let slug: SurveySlug = path.parse()?;
            if let Some(survey) = checklist::checklist_survey(state, &slug)? {
                let asked = (view.options()?, json!(view), view.query_string());
                let page = checklist::page(state, session_json(s), &survey, asked)?;
                return Ok(Answer::Page(StatusCode::OK, page));
            }
            let (status, body) = survey_page(state, s, &path, &view, lang)?;
            Ok(Answer::Page(status, body))
        })
        .await
}

/// Uncoded answers listed on the survey page at most; the count says how many more.
const UNCODED_LISTED: usize = 30;
/// Areas named in the summary at most.
const SUMMARY_AREAS: usize = 6;

/// The survey page. A view that cannot be shown (an unknown wave, a comparison
/// without a wave) shows the whole survey instead, with the reason in words at the
/// top, and the status of the error.
fn survey_page(
    state: &AppState,
    session: &Session,
    slug: &str,
    view: &ViewQuery,
    lang: &str,
) -> Result<(StatusCode, String)> {
    let slug: SurveySlug = slug.parse()?;
    let (survey, results, view, failure) = match survey_results(state, &slug, view) {
        Ok((survey, results)) => (survey, results, view.clone(), None),
        Err(e) => {
            let Some(failure) = view_failure(&e) else {
                return Err(e);
            };
            let all = ViewQuery::default();
            let (survey, results) = survey_results(state, &slug, &all)?;
            (survey, results, all, Some(failure))
        }
    };
    let mut conn = state.db.conn()?;
    let waves: Vec<String> = store::waves_of(&mut conn, survey.id)?
        .into_iter()
        .map(|w| w.label)
        .collect();
    let attributes = crate::survey::summary::segment_attributes(&mut conn, survey.id)?;
    let ids = live_area_ids(&coding::areas_of(&mut conn, survey.id)?);
    let chart_query = view.query_string();
    let download_query = if chart_query.is_empty() {
        "?download=1".to_string()
    } else {
        format!("{chart_query}&download=1")
    };
    let summary = summary::priorities(&results.areas, SUMMARY_AREAS);
    let named: usize = summary.iter().map(|g| g.areas.len()).sum();
    let uncoded: Vec<_> = results.uncoded.texts.iter().take(UNCODED_LISTED).collect();
    let body = render(
        "survey",
        &json!({
            "session": session_json(session),
            "lang": lang,
            "words": words(lang),
            "survey": {"slug": survey.slug, "title": title_of(&survey)},
            "waves": waves,
            "comparisons": comparisons(&waves),
            "attributes": attributes,
            "view": view,
            "error": failure.as_ref().map(|(_, m)| m),
            "coded": view.coded,
            "chart_query": chart_query,
            "download_query": download_query,
            "summary": summary,
            "summary_more": results.areas.len() - named,
            "uncoded_listed": uncoded,
            "uncoded_more": results.uncoded.texts.len().saturating_sub(UNCODED_LISTED),
            "results": results_json(&results, &ids),
        }),
    )?;
    Ok((failure.map_or(StatusCode::OK, |(status, _)| status), body))
}

/// A view's error in the analyst's words with its status, when the survey itself
/// can still be shown.
fn view_failure(e: &Error) -> Option<(StatusCode, String)> {
    match e {
        Error::View(v) => Some((StatusCode::BAD_REQUEST, v.to_string())),
        Error::Survey(w @ SurveyError::UnknownWave { .. }) => {
            Some((StatusCode::NOT_FOUND, w.to_string()))
        }
        Error::Survey(w @ SurveyError::BadWave(_)) => {
            Some((StatusCode::BAD_REQUEST, w.to_string()))
        }
        _ => None,
    }
}

/// The wave comparisons that can be made: each wave with every earlier one.
fn comparisons(waves: &[String]) -> Vec<Value> {
    waves
        .iter()
        .enumerate()
        .rev()
        .flat_map(|(i, later)| {
            waves[..i]
                .iter()
                .rev()
                .map(move |earlier| json!({"wave": later, "compare_wave": earlier}))
        })
        .collect()
}

/// A chart, `scatter` or `bars`, as `.svg` or `.png` (`?download=1`: as a file).
pub(super) async fn chart(
    Analyst { state, .. }: Analyst,
    path: web::Path<(String, String)>,
    query: web::Query<ViewQuery>,
) -> HttpResponse {
    let download = query.download.as_deref() == Some("1");
    let view = query.into_inner().cleaned();
    let (slug, chart) = path.into_inner();
    let Some((kind, format)) = chart
        .split_once('.')
        .map(|(k, f)| (k.to_string(), f.to_string()))
    else {
        return problem(Error::NotFound(chart), None);
    };
    let known =
        matches!(kind.as_str(), "scatter" | "bars") || checklist::CHARTS.contains(&kind.as_str());
    if !known || !matches!(format.as_str(), "svg" | "png") {
        return problem(Error::NotFound(chart), None);
    }
    let name = kind.clone();
    let png = format == "png";
    let drawn = blocking(state, move |state| {
        let slug: SurveySlug = slug.parse()?;
        let (slug, svg) = match checklist::checklist_survey(state, &slug)? {
            Some(survey) => {
                let svg = checklist::chart(state, &survey, &kind, &view.options()?)?;
                (survey.slug, svg)
            }
            None => {
                let (survey, results) = survey_results(state, &slug, &view)?;
                let svg = draw(&survey, &results, &kind)?;
                (survey.slug.clone(), svg)
            }
        };
        let bytes = if png {
            charts::png(&svg, 2.0).map_err(Error::Internal)?
        } else {
            svg.into_bytes()
        };
        Ok((slug, bytes))
    })
    .await;
    match drawn {
        Ok((slug, bytes)) => {
            let mut response = HttpResponse::Ok();
            response
                .content_type(if png { "image/png" } else { "image/svg+xml" })
                .insert_header((header::CACHE_CONTROL, "no-store"));
            if download {
                response.insert_header((
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{slug}-{name}.{format}\""),
                ));
            }
            response.body(bytes)
        }
        Err(e) => problem(e, None),
    }
}

/// The SVG of chart `kind` with its words from `charts.toml`.
fn draw(survey: &StoredSurvey, results: &Results, kind: &str) -> Result<String> {
    let sample = (results.wave.as_deref(), results.n, results.method);
    let ctx = chart_context(
        survey,
        sample,
        json!({
            "importance_method": results.importance_method,
            "bootstrap": results.rank_stability.method,
            "replicates": results.rank_stability.replicates,
            "seed": results.rank_stability.seed,
        }),
    );
    let text = chart_text(kind, kind == "scatter", &ctx)?;
    Ok(if kind == "scatter" {
        charts::scatter(results, &text)
    } else {
        charts::bars(results, &text)
    })
}
