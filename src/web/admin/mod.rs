//! The analyst's dashboard under `/admin`: server-rendered pages (templates in
//! `survey-templates/admin/`) over the same capabilities as the CLI and the admin
//! API: the survey list, a survey's overview with ranked areas and charts, segment
//! and wave views, an area's page with the customers' words and the coding review.
//!
//! Login is with an API key into a session cookie (`session`); every form carries the
//! session's CSRF token. Handlers are thin: they parse, call a capability on the
//! blocking pool and render a template. No sentence is built here: all words are in
//! the templates, and Handlebars escapes every value, customers' words included.

mod announce;
pub(crate) mod cache;
mod cases;
mod checklist;
mod downloads;
mod pages;
mod review;
mod session;

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::LazyLock;

use actix_web::dev::Payload;
use actix_web::http::{header, StatusCode};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use handlebars::{handlebars_helper, Handlebars};
use serde_json::Value;

use super::{html, redirect, see_other, AppState};
use crate::error::{Error, Result};
use crate::report::charts::ChartText;
use crate::survey::{StoredSurvey, SurveyError, SurveySlug, SHIPPED_TEMPLATES};

pub use session::Session;

/// A survey's title in its default language, for page headings.
pub(super) fn title_of(survey: &StoredSurvey) -> String {
    let s = &survey.survey;
    s.wording
        .get(&s.default_locale)
        .map(|w| w.title.clone())
        .unwrap_or_default()
}

/// The dashboard's templates: pages (HTML-escaped) and the words on charts (plain,
/// escaped as XML by the chart code).
struct Templates {
    html: Handlebars<'static>,
    text: Handlebars<'static>,
    /// `words.toml`: per language, the words of the localised parts.
    words: BTreeMap<String, Value>,
}

handlebars_helper!(pct: |v: Json| match v.as_f64() {
    Some(x) => format!("{:.1}%", x * 100.0),
    None => "–".to_string(),
});
handlebars_helper!(num: |v: Json, digits: u64| match v.as_f64() {
    Some(x) => format!("{:.*}", digits as usize, x),
    None => "–".to_string(),
});
handlebars_helper!(pval: |v: Json| match v.as_f64() {
    Some(x) if x < 0.001 => "<0.001".to_string(),
    Some(x) => format!("{x:.3}"),
    None => "–".to_string(),
});
handlebars_helper!(eq: |a: Json, b: Json| a == b);

fn compile() -> Result<Templates> {
    let broken = |name: &str, reason: String| Error::Render {
        template: name.to_string(),
        reason,
    };
    let mut html = Handlebars::new();
    html.register_helper("pct", Box::new(pct));
    html.register_helper("num", Box::new(num));
    html.register_helper("pval", Box::new(pval));
    html.register_helper("eq", Box::new(eq));
    let mut text = Handlebars::new();
    text.register_escape_fn(handlebars::no_escape);
    let mut words = BTreeMap::new();
    let dir = SHIPPED_TEMPLATES
        .get_dir("admin")
        .ok_or_else(|| broken("admin/", "not shipped with this build".into()))?;
    for file in dir.files() {
        let path = file.path().to_string_lossy().to_string();
        let name = file
            .path()
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let source = file
            .contents_utf8()
            .ok_or_else(|| broken(&path, "not UTF-8".into()))?;
        if let Some(partial) = name
            .strip_suffix(".html.hbs")
            .and_then(|n| n.strip_prefix('_'))
        {
            html.register_partial(partial, source)
                .map_err(|e| broken(&path, e.to_string()))?;
        } else if let Some(page) = name.strip_suffix(".html.hbs") {
            html.register_template_string(page, source)
                .map_err(|e| broken(&path, e.to_string()))?;
        } else if name == "charts.toml" {
            let words: BTreeMap<String, String> =
                toml::from_str(source).map_err(|e| broken(&path, e.to_string()))?;
            for (key, template) in words {
                text.register_template_string(&key, template)
                    .map_err(|e| broken(&path, e.to_string()))?;
            }
        } else if name == "words.toml" {
            words = parse_words(source).map_err(|reason| broken(&path, reason))?;
        }
    }
    Ok(Templates { html, text, words })
}

/// The languages of `words.toml`, each with every key the first one has.
fn parse_words(source: &str) -> std::result::Result<BTreeMap<String, Value>, String> {
    let languages: BTreeMap<String, BTreeMap<String, String>> =
        toml::from_str(source).map_err(|e| e.to_string())?;
    let keys = |l: &BTreeMap<String, String>| l.keys().cloned().collect::<Vec<_>>();
    let english = languages.get("en").ok_or("no [en] table")?;
    for (lang, words) in &languages {
        if keys(words) != keys(english) {
            return Err(format!("[{lang}] does not have the same keys as [en]"));
        }
    }
    Ok(languages
        .into_iter()
        .map(|(lang, words)| (lang, serde_json::json!(words)))
        .collect())
}

/// The analyst's language: Swedish when the browser prefers it to English.
fn lang_of(req: &HttpRequest) -> &'static str {
    let accepted = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut ranked: Vec<(f32, &str)> = accepted
        .split(',')
        .filter_map(|part| {
            let mut pieces = part.trim().split(';');
            let tag = pieces.next()?.trim();
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse().ok())
                .unwrap_or(1.0);
            Some((q, tag.split('-').next()?))
        })
        .collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    match ranked.iter().find(|(_, l)| *l == "sv" || *l == "en") {
        Some((_, "sv")) => "sv",
        _ => "en",
    }
}

/// The words of `lang` for a page's context (empty if the templates are broken,
/// which `render` then reports).
fn words(lang: &str) -> Value {
    templates()
        .ok()
        .and_then(|t| t.words.get(lang).or_else(|| t.words.get("en")).cloned())
        .unwrap_or(Value::Null)
}

static TEMPLATES: LazyLock<Result<Templates, String>> =
    LazyLock::new(|| compile().map_err(|e| e.to_string()));

fn templates() -> Result<&'static Templates> {
    TEMPLATES.as_ref().map_err(|e| Error::Render {
        template: "admin/".into(),
        reason: e.clone(),
    })
}

/// `name` of `registry` rendered with `ctx`; `template` says which file in errors.
fn render_in(
    registry: &Handlebars<'static>,
    name: &str,
    ctx: &Value,
    template: String,
) -> Result<String> {
    registry.render(name, ctx).map_err(|e| Error::Render {
        template,
        reason: e.to_string(),
    })
}

/// A dashboard page rendered from `survey-templates/admin/{page}.html.hbs`.
fn render(page: &str, ctx: &Value) -> Result<String> {
    let template = format!("admin/{page}.html.hbs");
    render_in(&templates()?.html, page, ctx, template)
}

/// Words for a chart from `survey-templates/admin/charts.toml`.
fn chart_words(key: &str, ctx: &Value) -> Result<String> {
    let template = format!("admin/charts.toml: {key}");
    render_in(&templates()?.text, key, ctx, template)
}

/// What the words of every chart may name: the survey, its title, the wave, the
/// sample size and its method (`sample`), and the frequency method; `more` adds
/// what one chart's words name besides.
fn chart_context(survey: &StoredSurvey, sample: (Option<&str>, u64, &str), more: Value) -> Value {
    let (wave, n, method) = sample;
    let mut ctx = serde_json::json!({
        "survey": survey.slug,
        "title": title_of(survey),
        "wave": wave,
        "n": n,
        "method": method,
        "frequency_method": crate::report::FREQUENCY_CI,
    });
    if let (Some(ctx), Value::Object(more)) = (ctx.as_object_mut(), more) {
        ctx.extend(more);
    }
    ctx
}

/// The words of chart `kind`: `{kind}_title`, `{kind}_x` and, when the chart has
/// a named y axis, `{kind}_y` from `charts.toml`.
fn chart_text(kind: &str, y_axis: bool, ctx: &Value) -> Result<ChartText> {
    let words = |part: &str| chart_words(&format!("{kind}_{part}"), ctx);
    Ok(ChartText {
        title: words("title")?,
        x_axis: words("x")?,
        y_axis: if y_axis { words("y")? } else { String::new() },
    })
}

/// A page that says what went wrong: the crate's error turned into a status once,
/// here. Messages of the user's own making (unknown survey, a decision that cannot
/// be made) are shown; anything else only says that the log has it.
fn problem(e: Error, session: Option<&Session>) -> HttpResponse {
    let (status, message) = match e {
        Error::NotFound(m) => (StatusCode::NOT_FOUND, Some(m)),
        Error::Survey(s @ (SurveyError::Unknown(_) | SurveyError::UnknownWave { .. })) => {
            (StatusCode::NOT_FOUND, Some(s.to_string()))
        }
        Error::Invalid(m) => (StatusCode::BAD_REQUEST, Some(m)),
        Error::View(v) => (StatusCode::BAD_REQUEST, Some(v.to_string())),
        Error::Survey(s) => (StatusCode::BAD_REQUEST, Some(s.to_string())),
        other => {
            tracing::error!(error = %other, "dashboard request failed");
            (StatusCode::INTERNAL_SERVER_ERROR, None)
        }
    };
    let ctx = serde_json::json!({
        "status": status.as_u16(),
        "message": message,
        "session": session.map(|s| serde_json::json!({"key_name": s.key_name, "csrf": s.csrf})),
    });
    let body = render("problem", &ctx).unwrap_or_else(|e| {
        tracing::error!(error = %e, "dashboard problem page failed");
        String::new()
    });
    html(status, body)
}

/// [`super::blocking`] for the dashboard's handlers: their errors are the crate's.
async fn blocking<T: Send + 'static>(
    state: web::Data<AppState>,
    f: impl FnOnce(&AppState) -> Result<T> + Send + 'static,
) -> Result<T> {
    super::blocking(state, f).await
}

/// What a dashboard handler answers: a page with its status, or a redirect
/// (post/redirect/get).
enum Answer {
    Page(StatusCode, String),
    Redirect(String),
}

/// A request of the logged-in analyst: their session (without one, the browser is
/// sent to the login page) and the app.
pub(super) struct Analyst {
    pub(super) session: Session,
    pub(super) state: web::Data<AppState>,
}

impl FromRequest for Analyst {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = std::result::Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let session = Session::extract(&req).await?;
            let state = web::Data::<AppState>::extract(&req).await?;
            Ok(Analyst { session, state })
        })
    }
}

/// A request of the logged-in analyst about one area
/// (`/admin/surveys/{slug}/areas/{id}...`): the analyst, extracted first as a
/// handler's own first argument is, then the survey's slug and the area's id.
pub(super) struct AreaRequest {
    pub(super) analyst: Analyst,
    pub(super) slug: String,
    pub(super) id: i64,
}

impl FromRequest for AreaRequest {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = std::result::Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let parts = <(Analyst, web::Path<(String, i64)>)>::from_request(req, payload);
        Box::pin(async move {
            let (analyst, path) = parts.await?;
            let (slug, id) = path.into_inner();
            Ok(AreaRequest { analyst, slug, id })
        })
    }
}

impl Analyst {
    /// Runs `f` on the blocking pool and sends what it answers; the problem page,
    /// with the session, when it fails.
    async fn answer(
        self,
        f: impl FnOnce(&AppState, &Session) -> Result<Answer> + Send + 'static,
    ) -> HttpResponse {
        let Analyst { session, state } = self;
        let s = session.clone();
        match blocking(state, move |state| f(state, &s)).await {
            Ok(Answer::Page(status, body)) => html(status, body),
            Ok(Answer::Redirect(location)) => see_other(&location),
            Err(e) => problem(e, Some(&session)),
        }
    }

    /// [`Analyst::answer`] for a form the session posted, with its fields once its
    /// CSRF token matches; the forbidden page otherwise.
    async fn answer_form(
        self,
        body: &web::Bytes,
        f: impl FnOnce(&AppState, &Session, Vec<(String, String)>) -> Result<Answer> + Send + 'static,
    ) -> HttpResponse {
        let Some(fields) = pages::form_fields(body, &self.session) else {
            return pages::forbidden(&self.session);
        };
        self.answer(move |state, s| f(state, s, fields)).await
    }

    /// [`Analyst::answer`] with the page `f` renders, shown with 200.
    async fn show_page(
        self,
        f: impl FnOnce(&AppState, &Session) -> Result<String> + Send + 'static,
    ) -> HttpResponse {
        self.answer(|state, s| Ok(Answer::Page(StatusCode::OK, f(state, s)?)))
            .await
    }
}

/// The survey a path's slug names.
fn find_survey(state: &AppState, slug: &str) -> Result<StoredSurvey> {
    let slug: SurveySlug = slug.parse()?;
    state.survey_named(&mut *state.db.conn()?, &slug)
}

/// Whether the session cookie must be Secure: when the public address is https.
fn secure(state: &AppState) -> bool {
    state.settings.public_url.scheme() == "https"
}

async fn not_found(req: HttpRequest) -> HttpResponse {
    match session::of_request(&req).await {
        Some(s) => problem(Error::NotFound(req.path().to_string()), Some(&s)),
        None => actix_web::ResponseError::error_response(&session::LoginNeeded),
    }
}

/// The `/admin` scope.
pub fn scope() -> actix_web::Scope {
    web::scope("/admin")
        .route("", web::get().to(pages::surveys))
        .route("/", web::get().to(pages::surveys))
        .route("/login", web::get().to(pages::login_form))
        .route("/login", web::post().to(pages::login))
        .route("/logout", web::post().to(pages::logout))
        .route("/cases", web::get().to(cases::list))
        .route("/cases", web::post().to(cases::act))
        .route("/cases/figures", web::get().to(cases::figures))
        .route("/cases/{id}", web::get().to(cases::show))
        .route("/surveys/{slug}", web::get().to(pages::survey))
        .route(
            "/surveys/{slug}/charts/{chart}",
            web::get().to(pages::chart),
        )
        .route("/surveys/{slug}/code", web::post().to(review::code))
        .route(
            "/surveys/{slug}/exports/{file}",
            web::get().to(downloads::export),
        )
        .route(
            "/surveys/{slug}/areas/{id}/announce",
            web::get().to(announce::form),
        )
        .route(
            "/surveys/{slug}/areas/{id}/announce",
            web::post().to(announce::post),
        )
        .route("/surveys/{slug}/areas/{id}", web::get().to(review::area))
        .route("/surveys/{slug}/areas/{id}", web::post().to(review::decide))
        .default_service(web::to(not_found))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_area_page_renders_and_escapes_customers_words() {
        let ctx = serde_json::json!({
            "session": {"key_name": "a", "csrf": "c"},
            "survey": {"slug": "s", "title": "T"},
            "results": {"n": 3, "method": "joint-v1", "rank_stability": {"top_k": 5, "method": "rank-bootstrap-v1", "replicates": 10, "seed": 1}},
            "area": {"id": 1, "label": "L", "origin": "import", "status": "accepted", "team": null, "merged": false},
            "figures": {"position": 1, "n": 3, "mentions": 1, "frequency": 0.5, "frequency_ci": {"low": 0.1, "high": 0.9}, "importance": 0.5, "importance_ci": null, "score": 0.2, "score_ci": {"low": 0.1, "high": 0.3}, "rank_low": 1, "rank_high": 2, "p_top_k": 1.0, "first_choice_share": 0.5, "small_sample": true, "importance_small_sample": true, "method": "joint-v1", "frequency_method": "wilson-95", "importance_method": "student-t-95"},
            "mention_count": 1,
            "groups": [{"ids": "4", "first_id": 4, "text": "<script>x</script>", "count": 1, "ranks": "1", "segments": "", "answered": "2026-01-02", "coded_by": "import", "note": null}],
            "others": [{"id": 2, "label": "M"}],
        });
        let page = render("area", &ctx).unwrap();
        assert!(page.contains("&lt;script&gt;x"));
        assert!(!page.contains("<script>"));
    }
}
