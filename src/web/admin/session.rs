//! Dashboard sessions: after a login with an API key the browser holds a random
//! token in an HttpOnly, SameSite=Strict cookie scoped to `/admin`. Only the token's
//! SHA-256 hash is stored (table `admin_sessions`), so a leaked database opens no
//! session. A session expires after [`LIFETIME_HOURS`], ends at logout, and opens
//! nothing once its key is revoked. Each session has its own CSRF token, which every
//! form of the dashboard carries and every POST must return.

use std::future::Future;
use std::pin::Pin;

use crate::web::AppState;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse, ResponseError};

/// The session cookie's name.
pub const COOKIE: &str = "pds_admin";

pub use crate::keys::sessions::{end, find, start, Session, LIFETIME_HOURS};

/// The session cookie: HttpOnly, SameSite=Strict, only under `/admin`, and Secure
/// when the public address is https.
pub fn cookie(token: &str, secure: bool) -> Cookie<'static> {
    Cookie::build(COOKIE, token.to_string())
        .path("/admin")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .max_age(actix_web::cookie::time::Duration::hours(LIFETIME_HOURS))
        .finish()
}

/// A cookie that makes the browser forget the session.
pub fn removal(secure: bool) -> Cookie<'static> {
    let mut c = cookie("", secure);
    c.make_removal();
    c
}

/// No valid session: the browser is sent to the login page.
#[derive(Debug)]
pub struct LoginNeeded;

impl std::fmt::Display for LoginNeeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("login needed")
    }
}

impl ResponseError for LoginNeeded {
    fn error_response(&self) -> HttpResponse {
        crate::web::see_other("/admin/login")
    }
}

/// Looks up the session of a request's cookie.
pub async fn of_request(req: &HttpRequest) -> Option<Session> {
    let token = req.cookie(COOKIE)?.value().to_string();
    let state = req.app_data::<web::Data<AppState>>()?.clone();
    let found =
        crate::web::blocking(state, move |state| find(&mut *state.db.conn()?, &token)).await;
    found.unwrap_or_else(|e: crate::Error| {
        tracing::error!(error = %e, "looking up a dashboard session failed");
        None
    })
}

impl FromRequest for Session {
    type Error = LoginNeeded;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { of_request(&req).await.ok_or(LoginNeeded) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_http_only_strict_and_secure_on_https() {
        let text = cookie(&"a".repeat(64), true).to_string();
        for part in [
            "HttpOnly",
            "SameSite=Strict",
            "Path=/admin",
            "Secure",
            "Max-Age=28800",
        ] {
            assert!(text.contains(part), "{part} in {text}");
        }
        assert!(!cookie("x", false).to_string().contains("Secure"));
    }

    #[test]
    fn csrf_tokens_must_match_exactly() {
        let s = Session {
            id: 1,
            key_name: "a".into(),
            csrf: "f".repeat(64),
        };
        assert!(s.csrf_matches(&"f".repeat(64)));
        assert!(!s.csrf_matches(&"f".repeat(63)));
        assert!(!s.csrf_matches(""));
    }
}
