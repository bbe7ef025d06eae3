//! The HTTP door (actix-web): the respondent's pages under `/s/{token}`, the
//! teams' one-click case links under `/c/{token}`, static
//! files and a health check. Handlers are thin: they parse, call a capability, and
//! render a template. Database work runs on the blocking pool.

pub mod admin;
pub mod api;
mod canonical_path;
mod cases;
mod guard;
mod rate_limit;
mod respond;
mod unsubscribe;

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{Arc, RwLock};

use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::middleware::DefaultHeaders;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};

use crate::config::Settings;
use crate::db::Database;
use crate::error::{Error, Result};
use crate::survey::{store as survey_store, Locale, SiteTemplates, StoredSurvey};

/// Largest form submission accepted, in bytes (M problems of 1,000 characters of
/// four-byte UTF-8, percent-encoded, fit well inside it).
pub const MAX_FORM_BYTES: usize = 128 * 1024;

/// How many heavy reads (exports, results computations with their bootstrap) run at
/// once. Each holds a database connection for its query and up to tens of
/// megabytes while it computes; the others wait their turn holding neither, so
/// the answer path always finds connections free (the SQLite pool holds 8).
pub const HEAVY_AT_ONCE: usize = 2;

/// The most bootstrap replicates a results request over HTTP may ask for. Memory
/// grows with replicates x areas (about 280 bytes a replicate at 15 areas), so an
/// unbounded request could take hundreds of megabytes; 20,000 replicates give
/// percentiles to well under a rank's width. The command line has no such cap.
pub const MAX_REPLICATES_OVER_HTTP: u32 = 20_000;

/// What every handler shares.
pub struct AppState {
    pub db: Database,
    pub settings: Settings,
    site: SiteTemplates,
    rate_limits: rate_limit::RateLimiters,
    surveys: RwLock<HashMap<i64, Arc<StoredSurvey>>>,
    heavy: tokio::sync::Semaphore,
    /// SQLite: where answers wait while another process holds the write lock.
    inbox: Option<crate::answer::inbox::Inbox>,
    /// Wakes the thread that stores what waits in the inbox; the thread ends when
    /// the state is dropped.
    inbox_wake: Option<std::sync::mpsc::SyncSender<()>>,
    /// Answers just sent, for their thank-you page after the redirect.
    receipts: respond::Receipts,
    /// The dashboard's computed results per view, kept while nothing changed.
    pub(crate) views: admin::cache::Views,
    /// Each survey's routing rules, parsed once per text (shared with the inbox
    /// thread).
    routing_rules: Arc<crate::route::ParsedRules>,
}

impl AppState {
    /// What storing an answer needs from this server.
    pub(crate) fn services(&self) -> crate::answer::Services<'_> {
        crate::answer::Services {
            db: &self.db,
            settings: &self.settings,
            rules: &self.routing_rules,
        }
    }

    pub fn new(db: Database, settings: Settings) -> Result<Self> {
        let routing_rules = Arc::new(crate::route::ParsedRules::default());
        let inbox = crate::answer::inbox::Inbox::of(db.url());
        let inbox_wake = match &inbox {
            Some(inbox) => Some(start_inbox_drain(
                inbox.clone(),
                db.clone(),
                settings.clone(),
                routing_rules.clone(),
            )?),
            None => None,
        };
        Ok(AppState {
            routing_rules,
            inbox,
            inbox_wake,
            db,
            site: SiteTemplates::shipped()?,
            rate_limits: rate_limit::RateLimiters::new(
                settings.rate_limit,
                settings.login_rate_limit,
            ),
            settings,
            surveys: RwLock::new(HashMap::new()),
            heavy: tokio::sync::Semaphore::new(HEAVY_AT_ONCE),
            receipts: respond::Receipts::default(),
            views: admin::cache::Views::default(),
        })
    }

    /// Tells the inbox thread that an answer waits.
    fn wake_inbox(&self) {
        if let Some(wake) = &self.inbox_wake {
            let _ = wake.try_send(());
        }
    }

    /// Waits, holding nothing, until a heavy read may run (see [`HEAVY_AT_ONCE`]);
    /// the turn ends when the returned permit is dropped.
    pub(crate) async fn heavy_turn(&self) -> tokio::sync::SemaphorePermit<'_> {
        // The semaphore is never closed, so acquiring cannot fail.
        self.heavy
            .acquire()
            .await
            .expect("the heavy-read semaphore is never closed")
    }

    /// A survey by id, compiled once and then kept (stored surveys do not change).
    fn survey(&self, id: i64) -> Result<Arc<StoredSurvey>> {
        self.survey_on(&mut *self.db.conn()?, id)
    }

    /// The survey named `slug`, read on `conn`: one look-up of its id, then the
    /// survey as [`AppState::survey`] keeps it. Compiling a survey's templates on
    /// every dashboard view cost more than the rest of a cached survey page.
    pub(crate) fn survey_named(
        &self,
        conn: &mut crate::db::AnyConnection,
        slug: &crate::survey::SurveySlug,
    ) -> Result<StoredSurvey> {
        let id = survey_store::id_of(conn, slug)?;
        Ok(StoredSurvey::clone(&*self.survey_on(conn, id)?))
    }

    fn survey_on(&self, conn: &mut crate::db::AnyConnection, id: i64) -> Result<Arc<StoredSurvey>> {
        if let Some(s) = self
            .surveys
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
        {
            return Ok(s.clone());
        }
        let loaded = Arc::new(survey_store::by_id(conn, id)?);
        self.surveys
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, loaded.clone());
        Ok(loaded)
    }

    /// A page not tied to a survey, e.g. 404, in the visitor's language.
    fn site_page(&self, req: &HttpRequest, page: &str, status: u16) -> HttpResponse {
        let locale = preferred_locale(req).unwrap_or(Locale::En);
        let body = self
            .site
            .render(locale, page, status)
            .unwrap_or_else(|e| format!("{status}: {e}"));
        let code = actix_web::http::StatusCode::from_u16(status)
            .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
        html(code, body)
    }
}

/// Starts the thread that stores answers waiting in the inbox: when woken, and
/// every second (the lock may have been freed meanwhile; answers left from before
/// a crash or restart are stored at start).
fn start_inbox_drain(
    inbox: crate::answer::inbox::Inbox,
    db: Database,
    settings: Settings,
    rules: Arc<crate::route::ParsedRules>,
) -> Result<std::sync::mpsc::SyncSender<()>> {
    use std::sync::mpsc::RecvTimeoutError;
    let (wake, woken) = std::sync::mpsc::sync_channel::<()>(1);
    std::thread::Builder::new()
        .name("pds-inbox".into())
        .spawn(move || {
            let surveys = |id: i64| -> Result<Arc<StoredSurvey>> {
                Ok(Arc::new(survey_store::by_id(&mut *db.conn()?, id)?))
            };
            loop {
                if inbox.holds_any() {
                    let services = crate::answer::Services {
                        db: &db,
                        settings: &settings,
                        rules: &rules,
                    };
                    match inbox.drain(services, &surveys, &respond::prepare_waiting) {
                        Ok(drained) if drained.stored + drained.rejected > 0 => {
                            tracing::info!(
                                stored = drained.stored,
                                rejected = drained.rejected,
                                waiting = drained.waiting,
                                "answers from the inbox"
                            )
                        }
                        Ok(_) => {}
                        Err(e) => tracing::error!(error = %e, "the answer inbox could not be read"),
                    }
                }
                match woken.recv_timeout(std::time::Duration::from_secs(1)) {
                    Ok(()) | Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            }
        })
        .map_err(|e| Error::Internal(format!("could not start the answer inbox thread: {e}")))?;
    Ok(wake)
}

fn preferred_locale(req: &HttpRequest) -> Option<Locale> {
    req.headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(Locale::from_accept_language)
}

fn html(status: actix_web::http::StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

/// 303 See Other to `location`, never cached (post/redirect/get); a cookie may be
/// added before `finish`.
fn redirect(location: &str) -> actix_web::HttpResponseBuilder {
    let mut response = HttpResponse::SeeOther();
    response
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"));
    response
}

fn see_other(location: &str) -> HttpResponse {
    redirect(location).finish()
}

/// Routes and middleware; shared by `serve`, the demo and the tests.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(api::scope())
        .service(admin::scope())
        // A path segment that is a secret is named `{token}`: the access log then
        // writes the route's pattern, never the path (guard.rs).
        .route("/s/{token}", web::get().to(respond::show_form))
        .route("/s/{token}", web::post().to(respond::submit))
        .route("/s/{token}/thanks", web::get().to(respond::show_thanks))
        .route("/u/{token}", web::get().to(unsubscribe::confirm))
        .route("/u/{token}", web::post().to(unsubscribe::unsubscribe))
        .route("/c/{token}", web::get().to(cases::confirm))
        .route("/c/{token}", web::post().to(cases::act))
        .route("/static/{name}", web::get().to(static_file))
        // Browsers ask for it on their own; no icon, and no 404 in their console.
        .route(
            "/favicon.ico",
            web::get().to(|| async {
                HttpResponse::NoContent()
                    .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
                    .finish()
            }),
        )
        .route(
            "/healthz",
            web::get().to(|| async { HttpResponse::Ok().body("ok") }),
        );
}

fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
        ))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        // Personal links carry the token in the path: never send it onwards.
        .add((header::REFERRER_POLICY, "no-referrer"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
}

async fn static_file(
    name: web::Path<String>,
    state: web::Data<AppState>,
    req: HttpRequest,
) -> HttpResponse {
    match crate::survey::static_file(&name) {
        Some((bytes, content_type)) => HttpResponse::Ok()
            .content_type(content_type)
            .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
            .body(bytes),
        None => state.site_page(&req, "not_found", 404),
    }
}

async fn not_found(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    state.site_page(&req, "not_found", 404)
}

/// Starts the server on an already bound listener (port 0 gives a free port).
pub fn start(listener: TcpListener, state: AppState) -> Result<Server> {
    let request_timeout = state.settings.request_timeout;
    let state = web::Data::new(state);
    let address = listener.local_addr().ok();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .wrap(actix_web::middleware::from_fn(guard::body_deadline))
            .wrap(actix_web::middleware::from_fn(rate_limit::limit))
            .wrap(security_headers())
            .wrap(actix_web::middleware::from_fn(guard::access_log))
            // Outermost: the limiter, the log and the router see one spelling of the path.
            .wrap(actix_web::middleware::from_fn(canonical_path::rewrite))
            .configure(configure)
            .default_service(web::to(not_found))
    })
    .workers(2)
    // Database work runs on each worker's blocking pool. More threads than the
    // connection pool holds would only wait, each with its own allocator cache.
    .worker_max_blocking_threads(16)
    // A request head slower than this gets 408 (the body: see guard::body_deadline).
    .client_request_timeout(request_timeout)
    .client_disconnect_timeout(std::time::Duration::from_secs(1))
    .keep_alive(std::time::Duration::from_secs(5))
    .listen(listener)
    .map_err(|e| Error::Invalid(format!("cannot listen on {address:?}: {e}")))?
    .run();
    Ok(server)
}

/// Runs `f` with the app's state on the blocking pool, so database work never
/// blocks the server's threads: the one way every door of the web app does it. A
/// task whose thread failed is our fault ([`Error::Internal`]), told in the error
/// type of the door that asked (`ApiError` for the API).
pub(crate) async fn blocking<T, E>(
    state: web::Data<AppState>,
    f: impl FnOnce(&AppState) -> std::result::Result<T, E> + Send + 'static,
) -> std::result::Result<T, E>
where
    T: Send + 'static,
    E: From<Error> + Send + 'static,
{
    web::block(move || f(&state))
        .await
        .map_err(|e| E::from(Error::Internal(format!("a blocking task failed: {e}"))))?
}

/// What every page behind a personal link (`/s/{token}`, `/u/{token}`,
/// `/c/{token}`) starts from: the token in the path, `None` when the text is not
/// shaped like one (nothing was looked up), and the app and the request, for the
/// reader's language and the page.
struct LinkRequest {
    token: Option<crate::invite::Token>,
    state: web::Data<AppState>,
    req: HttpRequest,
}

impl actix_web::FromRequest for LinkRequest {
    type Error = actix_web::Error;
    type Future =
        futures_util::future::LocalBoxFuture<'static, std::result::Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let parts = <(web::Path<String>, web::Data<AppState>)>::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let (path, state) = parts.await?;
            Ok(LinkRequest {
                token: path.into_inner().parse().ok(),
                state,
                req,
            })
        })
    }
}
