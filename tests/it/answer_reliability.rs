//! A customer's answer is the one thing pds must never drop: answers keep being
//! stored while downloads stall, while another process holds the database's write
//! lock (an import, a coding run), and whatever characters they contain; and the
//! analyst's terminal never receives a customer's control characters.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::common::*;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

const DISCOVERY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/survey-templates/discovery");

/// Creates survey `s`, invites `n` customers and returns their personal links.
fn invited_customers(app: &TestApp, n: usize) -> Vec<String> {
    app.create_survey(DISCOVERY, "s");
    let domain = unique("d");
    let emails: Vec<String> = (0..n).map(|i| format!("c{i}@{domain}.example")).collect();
    let mut csv = String::from("email,name,locale\n");
    for e in &emails {
        csv.push_str(&format!("{e},Kim Kund,sv\n"));
    }
    app.import_contacts(&csv);
    app.invite("s", "w1");
    emails
        .iter()
        .map(|e| link_in(&received_for(e, 1)[0], &app.base_url))
        .collect()
}

/// The stored texts of the answer behind each link, in rank order.
fn stored_texts(app: &TestApp) -> Vec<String> {
    use pds::db::schema::{mentions, responses};
    mentions::table
        .inner_join(responses::table)
        .filter(responses::invitation_id.is_not_null())
        .order((responses::id, mentions::rank))
        .select(mentions::text)
        .load(&mut *app.db.conn().unwrap())
        .unwrap()
}

/// Adds `n` imported responses with five long mentions each to survey `s`, in SQL
/// (the fastest way to make an export of many megabytes).
fn fill_survey(app: &TestApp, n: u64) {
    let mut conn = app.db.conn().unwrap();
    let survey = pds::survey::store::find(&mut conn, &"s".parse().unwrap()).unwrap();
    let wave = pds::survey::store::ensure_wave(&mut conn, survey.id, &"w0".parse().unwrap())
        .unwrap()
        .id;
    let sid = survey.id;
    let text = "'Leveransen kom för sent och ingen hörde av sig, fast vi ringde flera gånger om samma order ' || i";
    let sql = match &mut *conn {
        pds::db::AnyConnection::Sqlite(_) => format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n})
             INSERT INTO responses (survey_id, wave_id, locale, attributes, no_problems, submitted_at, updated_at)
             SELECT {sid}, {wave}, 'sv', '{{}}', 0, '2026-11-02 10:00:00', '2026-11-02 10:00:00' FROM n;
             WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {n} * 5 - 1)
             INSERT INTO mentions (response_id, rank, text, may_contact)
             SELECT (SELECT min(id) FROM responses WHERE wave_id = {wave}) + i / 5, 1 + i % 5, {text}, 0 FROM n;"
        ),
        pds::db::AnyConnection::Postgresql(_) => format!(
            "INSERT INTO responses (survey_id, wave_id, locale, attributes, no_problems, submitted_at, updated_at)
             SELECT {sid}, {wave}, 'sv', '{{}}', 0, '2026-11-02 10:00:00', '2026-11-02 10:00:00' FROM generate_series(1, {n});
             INSERT INTO mentions (response_id, rank, text, may_contact)
             SELECT (SELECT min(id) FROM responses WHERE wave_id = {wave}) + i / 5, 1 + i % 5, {text}, 0
             FROM generate_series(0, {n} * 5 - 1) AS i;"
        ),
    };
    conn.batch_execute(&sql).unwrap();
}

/// Opens an export download and stops reading once the headers are in.
fn stalled_download(base_url: &str, key: &str) -> TcpStream {
    let address = base_url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).unwrap();
    write!(
        stream,
        "GET /api/surveys/s/exports/mentions HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {key}\r\n\r\n"
    )
    .unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 200", "the download started");
    stream
}

fn answers_are_stored_while_eight_downloads_stall(backend: Backend) {
    let app = TestApp::spawn(backend);
    let links = invited_customers(&app, 4);
    // 20,000 responses of five mentions: an export of about 12 MB, far more than
    // the socket buffers of a client that stopped reading can take.
    fill_survey(&app, 20_000);
    let key = app.pds_ok(&["keys", "create", "--name", "probe"]);
    let stalled: Vec<TcpStream> = (0..8)
        .map(|_| stalled_download(&app.base_url, key.trim()))
        .collect();
    let agent = app.http();
    for (i, link) in links.iter().enumerate() {
        let started = Instant::now();
        let (status, _) = get(&agent, link);
        assert_eq!(status, 200, "the form opens while downloads stall");
        let (status, page) = post_form(
            &agent,
            link,
            &[
                (
                    "problem_1",
                    &format!("Svar {i} medan exporterna står still"),
                ),
                ("rank_1", "1"),
            ],
        );
        assert_eq!(status, 200, "answer {i} is stored: {page}");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "answer {i} took {:?}",
            started.elapsed()
        );
    }
    let texts = stored_texts(&app);
    assert_eq!(texts.len(), 4, "every answer stored: {texts:?}");
    drop(stalled);
}

on_both_backends!(answers_are_stored_while_eight_downloads_stall);

/// Holds the SQLite write lock from another connection, as a long import does.
fn hold_write_lock(app: &TestApp) -> diesel::SqliteConnection {
    let path = app.database_url.trim_start_matches("sqlite://");
    let mut other = diesel::SqliteConnection::establish(path).unwrap();
    other.batch_execute("BEGIN IMMEDIATE").unwrap();
    other
}

#[test]
fn answers_sent_while_another_process_holds_the_write_lock_are_confirmed_and_then_stored_in_order()
{
    let app = TestApp::spawn(Backend::Sqlite);
    let links = invited_customers(&app, 2);
    let agent = app.http();
    let mut lock = hold_write_lock(&app);
    let started = Instant::now();
    let (status, page) = post_form(
        &agent,
        &links[0],
        &[("problem_1", "Första svaret"), ("rank_1", "1")],
    );
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("Första svaret"),
        "the thank-you page shows the answer"
    );
    let waited = started.elapsed();
    assert!(
        waited < Duration::from_millis(pds::db::GROUPED_LOCK_WAIT_MS as u64 + 3_000),
        "an answer waits about {} ms for the lock, not {waited:?}",
        pds::db::GROUPED_LOCK_WAIT_MS
    );
    // The same customer corrects themselves, and another answers, still locked.
    let (status, _) = post_form(
        &agent,
        &links[0],
        &[("problem_1", "Rättat svar"), ("rank_1", "1")],
    );
    assert_eq!(status, 200);
    let (status, _) = post_form(
        &agent,
        &links[1],
        &[("problem_1", "Andra kunden"), ("rank_1", "1")],
    );
    assert_eq!(status, 200);
    let inbox = pds::answer::inbox::Inbox::of(&app.settings.database_url).unwrap();
    assert_eq!(inbox.len().unwrap(), 3, "three answers wait on disk");
    lock.batch_execute("COMMIT").unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while inbox.len().unwrap() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(inbox.len().unwrap(), 0, "the server stored what waited");
    assert_eq!(
        stored_texts(&app),
        vec!["Rättat svar".to_string(), "Andra kunden".to_string()],
        "stored in the order sent: the correction replaced the first answer"
    );
}

/// `pds serve` as a process of its own on the app's database.
fn serve(app: &TestApp) -> (std::process::Child, String) {
    let port = free_port();
    let base_url = format!("http://127.0.0.1:{port}");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_pds"))
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .current_dir(app.dir.path())
        .env("PDS_DATABASE_URL", &app.database_url)
        .env("PDS_SMTP_URL", &app.smtp_url)
        .env("PDS_PUBLIC_URL", &base_url)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let healthy = |agent: &ureq::Agent| {
        agent
            .get(format!("{base_url}/healthz"))
            .call()
            .is_ok_and(|r| r.status() == 200)
    };
    while !healthy(&app.http()) {
        assert!(Instant::now() < deadline, "pds serve did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    (child, base_url)
}

#[test]
fn an_answer_waiting_in_the_inbox_survives_a_killed_server() {
    let mut app = TestApp::spawn(Backend::Sqlite);
    let links = invited_customers(&app, 1);
    app.stop_server();
    let (mut server, base_url) = serve(&app);
    let link = links[0].replace(&app.base_url, &base_url);
    let mut lock = hold_write_lock(&app);
    let (status, page) = post_form(
        &app.http(),
        &link,
        &[("problem_1", "Väntar på disk"), ("rank_1", "1")],
    );
    assert_eq!(status, 200, "{page}");
    server.kill().unwrap();
    server.wait().unwrap();
    lock.batch_execute("COMMIT").unwrap();
    let inbox = pds::answer::inbox::Inbox::of(&app.settings.database_url).unwrap();
    assert_eq!(
        inbox.len().unwrap(),
        1,
        "the confirmed answer outlived the server"
    );
    assert!(
        stored_texts(&app).is_empty(),
        "and is not in the database yet"
    );
    let (mut server, _) = serve(&app);
    let deadline = Instant::now() + Duration::from_secs(15);
    while inbox.len().unwrap() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    server.kill().unwrap();
    assert_eq!(
        stored_texts(&app),
        vec!["Väntar på disk".to_string()],
        "stored by the next server"
    );
}

/// Starts `pds ARGS` on the app's database, waits until it holds the SQLite write
/// lock, has each customer answer meanwhile, and checks that every answer was
/// confirmed quickly while the command was still writing, and stored afterwards.
fn answers_are_stored_while_a_command_writes(app: &TestApp, links: &[String], args: &[&str]) {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_pds"))
        .args(args)
        .env("PDS_DATABASE_URL", &app.database_url)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The command reads and computes first, then writes in one transaction: wait
    // until it holds the write lock.
    let path = app.database_url.trim_start_matches("sqlite://").to_string();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let mut probe = diesel::SqliteConnection::establish(&path).unwrap();
        probe.batch_execute("PRAGMA busy_timeout = 0").unwrap();
        if probe.batch_execute("BEGIN IMMEDIATE; ROLLBACK").is_err() {
            break;
        }
        assert!(
            command.try_wait().unwrap().is_none(),
            "pds {args:?} ended before it wrote"
        );
        assert!(
            Instant::now() < deadline,
            "pds {args:?} never took the write lock"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // The customers answer at the same moment, so that all of them are answered
    // while the command still writes, however slow a loaded machine makes one.
    let agent = app.http();
    std::thread::scope(|customers| {
        for (i, link) in links.iter().enumerate() {
            let agent = agent.clone();
            customers.spawn(move || {
                let started = Instant::now();
                let (status, page) = post_form(
                    &agent,
                    link,
                    &[
                        ("problem_1", &format!("Medan pds skriver {i}")),
                        ("rank_1", "1"),
                    ],
                );
                assert_eq!(status, 200, "{page}");
                assert!(
                    started.elapsed() < Duration::from_secs(4),
                    "answer {i} took {:?}",
                    started.elapsed()
                );
            });
        }
    });
    assert!(
        command.try_wait().unwrap().is_none(),
        "the answers were sent while pds {args:?} was writing"
    );
    let out = command.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let inbox = pds::answer::inbox::Inbox::of(&app.settings.database_url).unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while inbox.len().unwrap() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut stored = stored_texts(app);
    stored.sort();
    assert_eq!(
        stored,
        (0..links.len())
            .map(|i| format!("Medan pds skriver {i}"))
            .collect::<Vec<_>>()
    );
}

#[test]
fn answers_keep_being_stored_while_a_large_import_runs() {
    let app = TestApp::spawn(Backend::Sqlite);
    let links = invited_customers(&app, 3);
    // Enough rows that the import writes for well over the second an answer
    // waits for the lock before it goes to the inbox.
    let mut csv = String::from("respondent,wave,segment,rank,problem\n");
    for r in 0..160_000 {
        for rank in 1..=3 {
            csv.push_str(&format!(
                "p-{r},2026-H1,current,{rank},Fakturan var fel för order {r} och rad {rank}\n"
            ));
        }
    }
    let file = app.write_file("responses.csv", &csv);
    answers_are_stored_while_a_command_writes(
        &app,
        &links,
        &[
            "responses",
            "import",
            "--survey",
            "s",
            file.to_str().unwrap(),
        ],
    );
}

#[test]
fn answers_keep_being_stored_while_a_large_coding_run_writes() {
    let app = TestApp::spawn(Backend::Sqlite);
    let links = invited_customers(&app, 3);
    // Enough mentions that the run writes for well over the second an answer
    // waits for the lock before it goes to the inbox.
    fill_survey(&app, 80_000);
    answers_are_stored_while_a_command_writes(&app, &links, &["code", "--survey", "s"]);
}

fn control_characters_never_reach_storage_or_a_terminal(backend: Backend) {
    let app = TestApp::spawn(backend);
    let links = invited_customers(&app, 1);
    let hostile =
        "Fakturan\u{0} kom\u{1b}]0;pwned\u{7} sent\u{1b}[2J\u{1b}]52;c;ZXZpbA==\u{7}\r\nigen";
    let (status, page) = post_form(
        &app.http(),
        &links[0],
        &[("problem_1", hostile), ("rank_1", "1")],
    );
    assert_eq!(status, 200, "{page}");
    let texts = stored_texts(&app);
    assert_eq!(
        texts,
        vec!["Fakturan kom]0;pwned sent[2J]52;c;ZXZpbA==\nigen".to_string()]
    );
    app.pds_ok(&["code", "--survey", "s"]);
    let listed = app.pds_ok(&["areas", "list", "--survey", "s"]);
    let area = listed
        .lines()
        .find_map(|l| {
            l.split_whitespace()
                .next()
                .and_then(|w| w.parse::<i64>().ok())
        })
        .unwrap_or_else(|| panic!("an area id in {listed}"));
    for args in [
        vec!["areas", "show", "--survey", "s", &area.to_string()],
        vec!["export", "--survey", "s", "--what", "mentions"],
        vec!["results", "--survey", "s"],
    ] {
        let out = app.pds_ok(&args);
        assert!(
            !out.chars()
                .any(|c| c.is_control() && c != '\n' && c != '\r'),
            "pds {args:?} printed a control character: {out:?}"
        );
    }
}

on_both_backends!(control_characters_never_reach_storage_or_a_terminal);

#[test]
fn a_results_request_cannot_ask_for_unbounded_work() {
    let app = TestApp::spawn(Backend::Sqlite);
    invited_customers(&app, 1);
    let key = app.pds_ok(&["keys", "create", "--name", "probe"]);
    let response = app
        .http()
        .get(format!(
            "{}/api/surveys/s/results?bootstrap=1000000",
            app.base_url
        ))
        .header("Authorization", format!("Bearer {}", key.trim()))
        .call()
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let body = response.into_body().read_to_string().unwrap();
    assert!(body.contains("1 to 20000 replicates"), "{body}");
}

#[test]
fn invitations_to_a_closed_survey_are_refused_with_the_reason() {
    let app = TestApp::spawn(Backend::Sqlite);
    let folder = app.dir.path().join("closed");
    std::fs::create_dir_all(&folder).unwrap();
    let mut stack = vec![(std::path::PathBuf::from(DISCOVERY), folder.clone())];
    while let Some((from, to)) = stack.pop() {
        std::fs::create_dir_all(&to).unwrap();
        for entry in std::fs::read_dir(&from).unwrap().flatten() {
            if entry.path().is_dir() {
                stack.push((entry.path(), to.join(entry.file_name())));
            } else {
                std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
            }
        }
    }
    let toml = std::fs::read_to_string(folder.join("survey.toml")).unwrap();
    std::fs::write(
        folder.join("survey.toml"),
        toml.replace("closes = \"2027-06-30\"", "closes = \"2020-01-31\""),
    )
    .unwrap();
    app.create_survey(folder.to_str().unwrap(), "old");
    let file = app.write_file(
        "c.csv",
        &format!("email,name,locale\n{}@x.example,Kim,sv\n", unique("c")),
    );
    app.pds_ok(&["contacts", "import", file.to_str().unwrap()]);
    let out = app.pds(&["invite", "--survey", "old", "--wave", "w1"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("closed at the end of 2020-01-31"),
        "{stderr}"
    );
    let queued: i64 = pds::db::schema::outbox::table
        .count()
        .get_result(&mut *app.db.conn().unwrap())
        .unwrap();
    assert_eq!(queued, 0, "nothing queued");
}

#[test]
fn an_export_piped_into_head_ends_quietly() {
    let app = TestApp::spawn(Backend::Sqlite);
    invited_customers(&app, 1);
    fill_survey(&app, 2_000);
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "'{}' export --survey s --what mentions 2>stderr.txt | head -n 3",
            env!("CARGO_BIN_EXE_pds")
        ))
        .current_dir(app.dir.path())
        .env("PDS_DATABASE_URL", &app.database_url)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 3);
    let stderr = std::fs::read_to_string(app.dir.path().join("stderr.txt")).unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_checklist_answer_sent_while_the_lock_is_held_waits_in_the_inbox_with_its_items() {
    use pds::checklist::store::{answers_of, response_of_invitation};
    const CHECKLIST: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/survey-templates/checklist");
    let app = TestApp::spawn(Backend::Sqlite);
    app.create_survey(CHECKLIST, "check");
    let email = new_email("c");
    let file = app.write_file("c.csv", &format!("email,name,locale\n{email},Kim,en\n"));
    app.pds_ok(&["contacts", "import", file.to_str().unwrap()]);
    app.invite("check", "w1");
    let link = link_in(&received_for(&email, 1)[0], &app.base_url);
    let mut lock = hold_write_lock(&app);
    let (status, page) = post_form(&app.http(), &link, &WHOLE_CHECKLIST_ANSWER);
    assert_eq!(status, 200, "{page}");
    let inbox = pds::answer::inbox::Inbox::of(&app.settings.database_url).unwrap();
    assert_eq!(
        inbox.len().unwrap(),
        1,
        "the checklist answer waits on disk"
    );
    lock.batch_execute("COMMIT").unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while inbox.len().unwrap() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(inbox.len().unwrap(), 0, "the server stored what waited");
    let invitation: i64 = pds::db::schema::invitations::table
        .select(pds::db::schema::invitations::id)
        .first(&mut *app.db.conn().unwrap())
        .unwrap();
    let mut conn = app.db.conn().unwrap();
    let response = response_of_invitation(&mut conn, invitation)
        .unwrap()
        .expect("the answer is stored");
    let stored = answers_of(&mut conn, response).unwrap();
    assert_eq!(stored.len(), 4, "every item answer came with it");
    assert_late_delivery_as_whole_answer(&stored);
    drop(conn);
    let csv = app.pds_ok(&["export", "--survey", "check", "--what", "mentions"]);
    assert!(
        csv.contains("Parking is hard"),
        "the write-in came too: {csv}"
    );
}
