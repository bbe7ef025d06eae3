//! A stranger guessing personal links or admin keys: after a short burst every
//! further request from their address is refused with 429 until they wait.
//! Every test client is 127.0.0.1, so these tests check that the budgets count per
//! route group (token pages, sign-in) rather than per visitor.

use std::time::Duration;

use crate::common::{get, post_form, Backend, TestApp};
use rand::Rng;

/// Five requests, then a wait long enough that nothing refills during the test.
fn strict(settings: &mut pds::config::Settings) {
    settings.rate_limit = pds::config::RateLimit {
        burst: 5.try_into().expect("non-zero"),
        replenish: Duration::from_secs(600),
    };
    settings.login_rate_limit = pds::config::RateLimit {
        burst: 2.try_into().expect("non-zero"),
        replenish: Duration::from_secs(600),
    };
}

fn random_token() -> String {
    format!("{:032x}", rand::rng().random::<u128>())
}

#[test]
fn a_stranger_guessing_personal_links_is_told_to_wait() {
    let app = TestApp::spawn_with(Backend::Sqlite, strict);
    let agent = app.http();

    for attempt in 1..=5 {
        let (status, _) = get(&agent, &format!("{}/s/{}", app.base_url, random_token()));
        assert_eq!(status, 404, "guess {attempt} is within the burst");
    }

    let mut refused = agent
        .get(format!("{}/s/{}", app.base_url, random_token()))
        .call()
        .expect("GET");
    assert_eq!(refused.status().as_u16(), 429);
    let retry_after: u64 = refused
        .headers()
        .get("retry-after")
        .expect("a Retry-After header")
        .to_str()
        .expect("ASCII")
        .parse()
        .expect("whole seconds");
    assert!(
        (1..=600).contains(&retry_after),
        "Retry-After {retry_after}"
    );
    assert_eq!(
        refused
            .headers()
            .get("referrer-policy")
            .and_then(|v| v.to_str().ok()),
        Some("no-referrer"),
        "the refusal still carries the security headers"
    );
    let page = refused.body_mut().read_to_string().expect("body");
    assert!(page.contains("429"), "the site's error page: {page}");

    // Unsubscribe links answer the same question ("does this token exist?"), so
    // they draw on the same budget.
    let (status, _) = get(&agent, &format!("{}/u/{}", app.base_url, random_token()));
    assert_eq!(status, 429);
    let (status, _) = post_form(
        &agent,
        &format!("{}/s/{}", app.base_url, random_token()),
        &[("no_problems", "yes")],
    );
    assert_eq!(status, 429);

    // Pages that reveal nothing are not limited.
    let (status, _) = get(&agent, &format!("{}/healthz", app.base_url));
    assert_eq!(status, 200);
    let (status, _) = get(&agent, &format!("{}/admin/login", app.base_url));
    assert_eq!(status, 200);
}

#[test]
fn admin_sign_in_has_a_stricter_budget_of_its_own() {
    let app = TestApp::spawn_with(Backend::Sqlite, strict);
    let agent = app.http();
    let login = format!("{}/admin/login", app.base_url);

    for attempt in 1..=2 {
        let (status, _) = post_form(&agent, &login, &[("key", "pds_guess")]);
        assert_ne!(status, 429, "sign-in attempt {attempt} is within the burst");
    }
    let (status, page) = post_form(&agent, &login, &[("key", "pds_guess")]);
    assert_eq!(status, 429, "{page}");

    // The token pages keep their own budget.
    let (status, _) = get(&agent, &format!("{}/s/{}", app.base_url, random_token()));
    assert_eq!(status, 404);
}

#[test]
fn encoded_paths_draw_on_the_same_budgets() {
    let app = TestApp::spawn_with(Backend::Sqlite, strict);
    let agent = app.http();

    // `/%73/` is `/s/` and `/%75/` is `/u/` to the router: the same budget.
    for (attempt, prefix) in ["%73", "s", "%75", "%73", "u"].iter().enumerate() {
        let (status, _) = get(
            &agent,
            &format!("{}/{prefix}/{}", app.base_url, random_token()),
        );
        assert_eq!(
            status,
            404,
            "guess {} ({prefix}) is within the burst",
            attempt + 1
        );
    }
    for prefix in ["%73", "%75", "s", "%2573"] {
        let (status, _) = get(
            &agent,
            &format!("{}/{prefix}/{}", app.base_url, random_token()),
        );
        let expected = if prefix == "%2573" { 404 } else { 429 };
        assert_eq!(status, expected, "/{prefix}/…");
    }

    // Every spelling of the sign-in shares its budget, and still signs in.
    for path in ["/admin/logi%6e", "/%61dmin/login"] {
        let (status, page) = post_form(
            &agent,
            &format!("{}{path}", app.base_url),
            &[("key", "pds_guess")],
        );
        assert!(status == 401 || status == 403, "{path}: {status} {page}");
    }
    for path in [
        "/admin/%6cogin",
        "/admin/login",
        "/%61%64%6D%69%6E/%6C%6F%67%69%6E",
    ] {
        let (status, _) = post_form(
            &agent,
            &format!("{}{path}", app.base_url),
            &[("key", "pds_guess")],
        );
        assert_eq!(status, 429, "{path}");
    }
    // Spellings the limiter does not count are not the sign-in to the router either
    // (sent as raw bytes: an HTTP client might tidy them first).
    for path in [
        "/admin/./login",
        "//admin/login",
        "/admin/x/../login",
        "/admin/login;x",
        "/admin/login%2F",
    ] {
        let status = raw_post_status(&app.base_url, path, "key=pds_guess");
        // Unknown under /admin sends a visitor to the sign-in page (303); elsewhere
        // 404. Never a sign-in attempt (401) that the budget did not count.
        assert!(matches!(status, 303 | 404), "{path}: {status}");
    }
}

/// POSTs a form to `path` exactly as written and returns the status code.
fn raw_post_status(base_url: &str, path: &str, body: &str) -> u16 {
    use std::io::{Read, Write};
    let mut stream =
        std::net::TcpStream::connect(base_url.trim_start_matches("http://")).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("send");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {answer:?}"))
}
