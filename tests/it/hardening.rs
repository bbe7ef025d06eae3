//! The server against slow and curious clients, and what it writes down: a client
//! that sends its request head or its form too slowly is cut off with 408, and the
//! log of a whole study (invitations, answers, unsubscribe, admin API and sign-in)
//! holds no personal token, email address, API key or session cookie.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use crate::common::{get, link_in, post_form, received_for, unique, Backend, TestApp};

const DISCOVERY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/survey-templates/discovery");

/// Sends `first`, then waits without sending more; returns what the server answered
/// and how long it took to answer and close.
fn stall_after(base_url: &str, first: &str) -> (String, Duration) {
    let address = base_url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    stream.write_all(first.as_bytes()).unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    // Reads until the server closes the connection (or the read timeout, which
    // would fail the test below).
    let _ = stream.read_to_end(&mut answer);
    (
        String::from_utf8_lossy(&answer).into_owned(),
        started.elapsed(),
    )
}

#[test]
fn a_slow_request_head_is_cut_off_with_408() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.request_timeout = Duration::from_secs(1);
    });
    let (answer, took) = stall_after(
        &app.base_url,
        "POST /s/AAAAAAAAAAAAAAAAAAAAAA HTTP/1.1\r\nHost: x\r\n",
    );
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    assert!(took < Duration::from_secs(5), "closed after {took:?}");
}

#[test]
fn a_form_that_trickles_in_is_cut_off_with_408_and_nothing_is_stored() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.request_timeout = Duration::from_secs(1);
    });
    let d = unique("slow");
    let email = format!("slow@{d}.example");
    app.create_survey(DISCOVERY, "s");
    app.import_contacts(&format!("email,name,locale\n{email},Slow,en\n"));
    app.invite("s", "w");
    let link = link_in(&received_for(&email, 1)[0], &app.base_url);
    let path = link.trim_start_matches(&app.base_url);

    // Announces 200 bytes, sends 20, then nothing.
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 200\r\n\r\nproblem_1=Late+deliv"
    );
    let (answer, took) = stall_after(&app.base_url, &head);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    assert!(took < Duration::from_secs(5), "answered after {took:?}");

    // The same link still works at a normal pace, and only that answer is stored.
    let agent = app.http();
    let (status, _) = post_form(
        &agent,
        &link,
        &[("problem_1", "Late delivery"), ("rank_1", "1")],
    );
    assert_eq!(status, 200);
    let json = app.pds_ok(&["results", "--survey", "s", "--format", "json"]);
    let results: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(results["n"], 1);
}

/// `pds serve` as its own process, logging at debug level into a file.
struct Server {
    child: Child,
    log: std::path::PathBuf,
    base_url: String,
}

impl Server {
    fn start(app: &TestApp) -> Server {
        let port = crate::common::free_port();
        let base_url = format!("http://127.0.0.1:{port}");
        let log = app.dir.path().join("serve.log");
        let file = std::fs::File::create(&log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_pds"))
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .current_dir(app.dir.path())
            .env("PDS_DATABASE_URL", &app.database_url)
            .env("PDS_SMTP_URL", &app.smtp_url)
            .env("PDS_PUBLIC_URL", &base_url)
            .env(
                "PDS_MAIL_FROM",
                "Nordvik Research <research@nordvik.example>",
            )
            .env("PDS_RATE_LIMIT_BURST", "1000")
            // The most a pds operator would ask for: every pds event at debug.
            .env("PDS_LOG", "info,pds=debug")
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .expect("start pds serve");
        let deadline = Instant::now() + Duration::from_secs(20);
        let agent = app.http();
        while agent.get(&format!("{base_url}/healthz")).call().is_err() {
            assert!(Instant::now() < deadline, "pds serve did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Server {
            child,
            log,
            base_url,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `/u/` link in an email's plain-text part.
fn unsubscribe_link_in(raw: &[u8], base_url: &str) -> String {
    let message = mail_parser::MessageParser::default().parse(raw).unwrap();
    let text = message.body_text(0).unwrap().into_owned();
    let start = text
        .find(&format!("{base_url}/u/"))
        .unwrap_or_else(|| panic!("no unsubscribe link in:\n{text}"));
    text[start..].split_whitespace().next().unwrap().to_string()
}

#[test]
fn the_server_log_of_a_whole_study_holds_no_token_email_or_key() {
    let app = TestApp::spawn(Backend::Sqlite);
    let d = unique("log");
    let people = [
        format!("astrid.lindqvist@{d}.example"),
        format!("bo.nyman@{d}.example"),
        format!("carin.ek@{d}.example"),
    ];
    app.create_survey(DISCOVERY, "s");
    let mut csv = String::from("email,name,locale,customer_type\n");
    for (i, email) in people.iter().enumerate() {
        csv.push_str(&format!("{email},Person {i},sv,current\n"));
    }
    app.import_contacts(&csv);
    let server = Server::start(&app);
    let key_out = app.pds_ok(&["keys", "create", "--name", "analyst"]);
    let key = key_out.trim().to_string();
    assert!(key.len() >= 40, "{key_out}");

    // Invitations through the admin API; the server's own worker delivers them.
    let agent = app.http();
    let response = agent
        .post(&format!("{}/api/surveys/s/invitations", server.base_url))
        .header("Authorization", &format!("Bearer {key}"))
        .header("Content-Type", "application/json")
        .send(r#"{"wave": "2026-H2"}"#)
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let mut secrets: Vec<String> = people.to_vec();
    secrets.push(key.clone());
    let mut links = Vec::new();
    for email in &people {
        let raw = &received_for(email, 1)[0];
        let link = link_in(raw, &server.base_url);
        let unsubscribe = unsubscribe_link_in(raw, &server.base_url);
        secrets.push(link.rsplit('/').next().unwrap().to_string());
        secrets.push(unsubscribe.rsplit('/').next().unwrap().to_string());
        links.push((link, unsubscribe));
    }
    for email in &people {
        secrets.push(email.split('@').next().unwrap().to_string());
    }

    // Customers: open, a form with a mistake, an answer that is routed with the
    // customer's consent (the team's email then carries name and address), an
    // unsubscribe, and a guessed token.
    let (status, _) = get(&agent, &links[0].0);
    assert_eq!(status, 200);
    let (status, _) = post_form(&agent, &links[0].0, &[("rank_1", "1")]);
    assert_eq!(status, 422);
    let (status, _) = post_form(
        &agent,
        &links[0].0,
        &[
            ("problem_1", "Leveransen kom två veckor för sent"),
            ("rank_1", "1"),
            ("consent_1", "yes"),
        ],
    );
    assert_eq!(status, 200);
    let (status, _) = post_form(&agent, &links[1].0, &[("no_problems", "yes")]);
    assert_eq!(status, 200);
    let (status, _) = get(&agent, &links[2].1);
    assert_eq!(status, 200);
    let (status, _) = post_form(&agent, &links[2].1, &[]);
    assert_eq!(status, 200);
    let (status, _) = get(
        &agent,
        &format!("{}/s/AAAAAAAAAAAAAAAAAAAAAA", server.base_url),
    );
    assert_eq!(status, 404);

    // Analysts: API calls with the key, a failed and a good sign-in.
    let (status, _) = get(
        &agent,
        &format!("{}/api/surveys?key={key}", server.base_url),
    );
    assert_eq!(status, 401, "a key in the query string is not accepted");
    let response = agent
        .get(&format!("{}/api/surveys/s/results", server.base_url))
        .header("Authorization", &format!("Bearer {key}"))
        .call()
        .unwrap();
    assert_eq!(response.status(), 200);
    let (status, _) = post_form(
        &agent,
        &format!("{}/admin/login", server.base_url),
        &[("key", "not-a-key")],
    );
    assert!(status == 401 || status == 403, "{status}");
    let (status, _) = post_form(
        &agent,
        &format!("{}/admin/login", server.base_url),
        &[("key", key.as_str())],
    );
    assert!(status < 400, "signed in: {status}");

    // Wait for the routed complaint to leave, so the worker has logged its pass.
    let complaints = received_for("logistik@nordvik.example", 1);
    assert!(!complaints.is_empty(), "the complaint was routed");
    std::thread::sleep(Duration::from_millis(500));

    let log = server.log();
    assert!(
        log.contains("path=/s/{token}") && log.contains("status=200"),
        "the access log records token pages without the token:\n{log}"
    );
    assert!(log.contains("path=/u/{token}"), "{log}");
    assert!(log.contains("path=/api/surveys/s/results"), "{log}");
    for secret in &secrets {
        assert!(
            !log.contains(secret.as_str()),
            "the log contains {secret:?}:\n{log}"
        );
    }
    assert!(!log.contains('@'), "no email address of any kind:\n{log}");
}

#[test]
fn hostile_names_and_segment_values_reach_the_team_as_text() {
    let app = TestApp::spawn(Backend::Sqlite);
    let d = unique("xss");
    let email = format!("eve@{d}.example");
    let team = format!("team@{d}.example");
    app.create_survey(DISCOVERY, "s");
    app.write_file(
        "routing.toml",
        &format!(
            "[teams.ops]\nname = \"Ops\"\nemails = [\"{team}\"]\n\n\
             [[rules]]\nname = \"late\"\nkeywords = [\"late\"]\nteams = [\"ops\"]\n"
        ),
    );
    app.pds_ok(&["route", "set", "--survey", "s", "routing.toml"]);
    app.import_contacts(&format!(
            "email,name,locale,customer_type\n{email},\"<b onmouseover=alert(1)>Eve</b>\",en,\"<script>alert('seg')</script>\"\n"
        ));
    app.invite("s", "w");
    let raw = &received_for(&email, 1)[0];
    let link = link_in(raw, &app.base_url);
    let invitation = mail_parser::MessageParser::default().parse(raw).unwrap();
    let html = invitation.body_html(0).unwrap().into_owned();
    assert!(!html.contains("<b onmouseover"), "{html}");
    assert!(html.contains("&lt;b onmouseover"), "{html}");

    let (status, _) = post_form(
        &app.http(),
        &link,
        &[
            ("problem_1", "<i>late</i> delivery"),
            ("rank_1", "1"),
            ("consent_1", "yes"),
        ],
    );
    assert_eq!(status, 200);
    app.pds_ok(&["worker", "--once"]);
    let raw = &received_for(&team, 1)[0];
    let complaint = mail_parser::MessageParser::default().parse(raw).unwrap();
    let html = complaint.body_html(0).unwrap().into_owned();
    for hostile in ["<script>alert('seg')", "<b onmouseover", "<i>late</i>"] {
        assert!(!html.contains(hostile), "{hostile} in {html}");
    }
    assert!(html.contains("&lt;script&gt;alert("), "{html}");
    assert!(html.contains("&lt;i&gt;late&lt;/i&gt;"), "{html}");
}

/// A personal link spelled with percent-encoded letters is the same link: the answer
/// is stored as through `/s/`, and the log records neither spelling's token.
fn an_encoded_link_answers_like_the_plain_one_and_leaves_no_token_in_the_log(backend: Backend) {
    let app = TestApp::spawn(backend);
    let email = format!("encoded@{}.example", unique("enc"));
    app.create_survey(DISCOVERY, "s");
    app.import_contacts(&format!("email,name,locale\n{email},Enc,en\n"));
    let server = Server::start(&app);
    app.invite("s", "w");
    // The links name the in-process app's address; the tokens work on either server.
    let raw = &received_for(&email, 1)[0];
    let link = link_in(raw, &app.base_url);
    let token = link.rsplit('/').next().unwrap().to_string();
    let unsubscribe = unsubscribe_link_in(raw, &app.base_url);
    let unsubscribe_token = unsubscribe.rsplit('/').next().unwrap().to_string();
    // Every letter of the token encoded too: the log must not hold it in any spelling.
    let encoded_token: String = token.bytes().map(|b| format!("%{b:02x}")).collect();

    let agent = app.http();
    let (status, page) = get(&agent, &format!("{}/%73/{token}", server.base_url));
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("problem_1"), "the answer form: {page}");
    let (status, page) = post_form(
        &agent,
        &format!("{}/%73/{encoded_token}", server.base_url),
        &[("problem_1", "Encoded late delivery"), ("rank_1", "1")],
    );
    assert_eq!(status, 200, "{page}");
    let json = app.pds_ok(&["results", "--survey", "s", "--format", "json"]);
    let results: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(results["n"], 1, "the answer was stored: {json}");

    let (status, _) = get(
        &agent,
        &format!("{}/%75/{unsubscribe_token}", server.base_url),
    );
    assert_eq!(status, 200);
    // Spellings no route takes may still carry a token: they are not logged either.
    for path in [
        format!("/s%2F{token}"),
        format!("//s/{token}"),
        format!("/s/{token}/x"),
    ] {
        let (status, _) = get(&agent, &format!("{}{path}", server.base_url));
        assert_eq!(status, 404, "{path}");
    }

    std::thread::sleep(Duration::from_millis(300));
    let log = server.log();
    assert!(log.contains("path=/s/{token} status=200"), "{log}");
    assert!(log.contains("path=/u/{token} status=200"), "{log}");
    assert!(log.contains("path=(no route) status=404"), "{log}");
    for secret in [&token, &encoded_token, &unsubscribe_token] {
        assert!(
            !log.contains(secret.as_str()),
            "the log holds {secret}:\n{log}"
        );
    }
    assert!(!log.contains("%73"), "{log}");
}

on_both_backends!(an_encoded_link_answers_like_the_plain_one_and_leaves_no_token_in_the_log);

/// Sends `request` and reads until the server closes the connection.
fn exchange(base_url: &str, request: &[u8]) -> String {
    let address = base_url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    // The server may answer and close before it has read everything.
    let _ = stream.write_all(request);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

/// actix-web's HTTP/1 layer answers a request it cannot read (slow head, malformed
/// request line, head too large) itself, before any middleware: without the
/// security headers (SECURITY.md, "Responses the HTTP layer writes itself"). What
/// keeps that harmless is that they carry nothing: no body, no content type, and
/// the connection closes.
#[test]
fn answers_from_the_http_layer_carry_no_content() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.request_timeout = Duration::from_secs(1);
    });
    let slow = stall_after(
        &app.base_url,
        "GET /s/AAAAAAAAAAAAAAAAAAAAAA HTTP/1.1\r\nHost: x\r\n",
    )
    .0;
    let malformed = exchange(
        &app.base_url,
        b"GET /s/AAAAAAAAAAAAAAAAAAAAAA HTTP/1.x\r\nHost: x\r\n\r\n",
    );
    let huge = exchange(
        &app.base_url,
        format!(
            // Past actix-http's 128 KiB for a request head, sent without its end.
            "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}",
            "a".repeat(129 * 1024)
        )
        .as_bytes(),
    );
    for (answer, status) in [(slow, "408"), (malformed, "400"), (huge, "431")] {
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {status}")),
            "expected {status}: {answer:?}"
        );
        let (head, body) = answer.split_once("\r\n\r\n").expect("a complete head");
        assert_eq!(body, "", "{status} has no body");
        let head = head.to_ascii_lowercase();
        assert!(head.contains("content-length: 0"), "{head}");
        assert!(!head.contains("content-type"), "{head}");
    }
}
