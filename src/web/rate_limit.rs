//! Rate limiting per client address, so that guessing a personal link or an admin
//! password is hopeless: a 128-bit token cannot be found at a few requests per
//! second. Two budgets: the token pages (`/s/`, `/u/` and the case links `/c/`
//! share one, since all answer "does this token exist?") and the dashboard
//! sign-in (`POST /admin/login`). Everything else passes untouched. The path it looks at is the one the router
//! matches: `canonical_path` has already decoded `/%73/…` to `/s/…`, so no spelling
//! of a token page or of the sign-in escapes its budget.
//!
//! The key is the connecting address (`peer_addr`), never `X-Forwarded-For`, which
//! any client can write. Behind a reverse proxy every visitor therefore shares the
//! proxy's budget; limit at the proxy, or raise the limits, in that setup.
//!
//! The budgets live in this process's memory: with several `pds serve` instances
//! on one database, each keeps its own, so a client whose requests a load balancer
//! spreads over n instances gets up to n times the configured budget. Such a
//! set-up has a load balancer in front anyway, which is where a limit that holds
//! across instances belongs; otherwise divide `rate_limit_burst` and
//! `rate_limit_per_second` by n (README, "Running at scale"). A 128-bit token stays
//! out of reach at any of these rates.

use std::net::IpAddr;
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::Next;
use actix_web::web;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::AppState;
use crate::config::RateLimit;

/// Past this many remembered addresses, forget those whose budget is full again,
/// so a scan from many addresses cannot grow memory without bound.
const FORGET_ABOVE: usize = 10_000;

/// The budgets of one running server, shared by all its workers.
pub struct RateLimiters {
    token_pages: Limiter,
    login: Limiter,
}

struct Limiter {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
}

impl Limiter {
    fn new(limit: RateLimit) -> Self {
        let quota = Quota::with_period(limit.replenish)
            .unwrap_or_else(|| Quota::per_second(limit.burst))
            .allow_burst(limit.burst);
        Limiter {
            limiter: RateLimiter::keyed(quota),
            clock: DefaultClock::default(),
        }
    }

    /// `Err(wait)` when `ip` has used its budget and must wait that long.
    fn check(&self, ip: IpAddr) -> Result<(), Duration> {
        if self.limiter.len() > FORGET_ABOVE {
            self.limiter.retain_recent();
        }
        self.limiter
            .check_key(&ip)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

impl RateLimiters {
    pub fn new(token_pages: RateLimit, login: RateLimit) -> Self {
        RateLimiters {
            token_pages: Limiter::new(token_pages),
            login: Limiter::new(login),
        }
    }

    /// The budget that `method` on `path` draws from, if any.
    fn for_request(&self, method: &Method, path: &str) -> Option<&Limiter> {
        if path.starts_with("/s/") || path.starts_with("/u/") || path.starts_with("/c/") {
            Some(&self.token_pages)
        } else if method == Method::POST && path.trim_end_matches('/') == "/admin/login" {
            Some(&self.login)
        } else {
            None
        }
    }
}

/// The middleware: over the limit, 429 with the site's error page and `Retry-After`.
pub async fn limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let refused = match (req.app_data::<web::Data<AppState>>(), req.peer_addr()) {
        (Some(state), Some(peer)) => state
            .rate_limits
            .for_request(req.method(), req.path())
            .and_then(|limiter| limiter.check(peer.ip()).err())
            .map(|wait| (state.clone(), wait)),
        _ => None,
    };
    match refused {
        None => Ok(next.call(req).await?.map_into_left_body()),
        Some((state, wait)) => {
            let mut response = state.site_page(req.request(), "error", 429);
            // Whole seconds, rounded up: a client that waits exactly this long succeeds.
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            response.headers_mut().insert(
                header::RETRY_AFTER,
                header::HeaderValue::from(seconds.max(1)),
            );
            Ok(req.into_response(response).map_into_right_body())
        }
    }
}
