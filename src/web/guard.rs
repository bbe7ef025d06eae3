//! Two middlewares every request passes: a deadline on reading the request body,
//! and the access log.
//!
//! The deadline: actix-web already closes a connection whose request head does
//! not arrive within `request_timeout` (408); this gives the body the same
//! time, counted from the moment the handler starts reading it. A client that
//! trickles a form in byte by byte gets 408 instead of holding a connection.
//!
//! The access log is one line per request (`pds::access`, level info): method,
//! path, status and milliseconds. It sees the path after `canonical_path` wrote it
//! in its one spelling. A path is written out only when it matches a route without
//! a personal token; a token page is logged by its route (`/s/{token}`), and a path
//! that matches no route as `(no route)`, since it may hold a token in some
//! spelling no route accepts (`/s%2F…`, `//s/…`). Query strings are never logged,
//! and neither are headers (API keys, cookies) or the client's address, so the log
//! holds no token, key or email address (tests/it/hardening.rs reads it).

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes};
use actix_web::HttpMessage;
use futures_util::StreamExt;

use super::AppState;

/// Whether a body read failed because the client was too slow.
pub fn timed_out(error: &PayloadError) -> bool {
    matches!(error, PayloadError::Io(e) if e.kind() == std::io::ErrorKind::TimedOut)
}

/// Gives the request body a deadline: past it, the body stream ends with a
/// `TimedOut` error (see [`timed_out`]).
pub async fn body_deadline(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let timeout = req
        .app_data::<web::Data<AppState>>()
        .map(|state| state.settings.request_timeout);
    if let Some(timeout) = timeout {
        let payload = req.take_payload();
        let deadline: std::cell::Cell<Option<Instant>> = Default::default();
        let timed = futures_util::stream::unfold(
            (payload, deadline, false),
            move |(mut payload, deadline, done)| async move {
                if done {
                    return None;
                }
                // The clock starts when the handler first asks for the body.
                let at = deadline.get().unwrap_or_else(|| Instant::now() + timeout);
                deadline.set(Some(at));
                let left = at.saturating_duration_since(Instant::now());
                match actix_web::rt::time::timeout(left, payload.next()).await {
                    Ok(Some(item)) => Some((item, (payload, deadline, false))),
                    Ok(None) => None,
                    Err(_) => Some((
                        Err(PayloadError::Io(std::io::Error::new(
                            std::io::ErrorKind::TimedOut,
                            format!("the request body did not arrive within {timeout:?}"),
                        ))),
                        (payload, deadline, true),
                    )),
                }
            },
        );
        let boxed: std::pin::Pin<
            Box<dyn futures_util::Stream<Item = Result<Bytes, PayloadError>>>,
        > = Box::pin(timed);
        req.set_payload(actix_web::dev::Payload::from(boxed));
    }
    next.call(req).await
}

/// The path as it may appear in logs, given the route `pattern` it matched.
pub fn loggable_path(pattern: Option<&str>, path: &str) -> String {
    match pattern {
        None => "(no route)".to_string(),
        Some(pattern) if pattern.contains("{token}") => pattern.to_string(),
        // Nothing else carries secrets in the path; still, keep log lines short and
        // printable whatever a scanner sends.
        Some(_) => path
            .chars()
            .take(200)
            .map(|c| if c.is_control() { '?' } else { c })
            .collect(),
    }
}

/// Writes one access-log line per request.
pub async fn access_log(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().clone();
    let path = loggable_path(req.match_pattern().as_deref(), req.path());
    let result = next.call(req).await;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let status = match &result {
        Ok(response) => response.status().as_u16(),
        Err(e) => e.as_response_error().status_code().as_u16(),
    };
    if status >= 500 {
        tracing::warn!(target: "pds::access", %method, %path, status, ms = format_args!("{ms:.1}"), "request");
    } else {
        tracing::info!(target: "pds::access", %method, %path, status, ms = format_args!("{ms:.1}"), "request");
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_never_reach_the_log() {
        assert_eq!(
            loggable_path(Some("/s/{token}"), "/s/AbC123xyz"),
            "/s/{token}"
        );
        assert_eq!(
            loggable_path(Some("/u/{token}"), "/u/AbC123xyz"),
            "/u/{token}"
        );
        assert_eq!(
            loggable_path(Some("/c/{token}"), "/c/AbC123xyz"),
            "/c/{token}"
        );
        assert_eq!(loggable_path(None, "/s/AbC/extra"), "(no route)");
        assert_eq!(loggable_path(None, "/s%2FAbC123xyz"), "(no route)");
        assert_eq!(
            loggable_path(Some("/admin/surveys/{slug}"), "/admin/surveys/demo"),
            "/admin/surveys/demo"
        );
        assert_eq!(loggable_path(Some("/x"), "/x\n\u{1b}[31m"), "/x??[31m");
    }

    #[test]
    fn timeouts_are_recognised() {
        let e = PayloadError::Io(std::io::Error::new(std::io::ErrorKind::TimedOut, "slow"));
        assert!(timed_out(&e));
        assert!(!timed_out(&PayloadError::Overflow));
    }
}
