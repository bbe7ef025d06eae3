//! Dashboard speed: the survey page of a 100,000-response survey through the real
//! HTTP server, the first load (computes the results with the default bootstrap)
//! and the loads after it (cached results, checked against the survey's freshness).
//!
//!     cargo run --release --example dashboard_bench [-- RESPONSES]
//!
//! Generates the responses with set-based INSERTs in a fresh SQLite database (two
//! mentions each over 20 areas), starts the server on a free port, logs in with a
//! new API key and times GET /admin/surveys/bench and the scatter chart.

use std::net::TcpListener;
use std::time::Instant;

use diesel::connection::SimpleConnection;
use pds::config::Settings;
use pds::db::Database;
use pds::survey::store;

const AREAS: u64 = 20;
const LATER_LOADS: usize = 11;

fn main() {
    let responses: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = Settings::in_folder(dir.path()).expect("settings");
    let db = Database::open(&settings.database_url).expect("open the database");

    let started = Instant::now();
    generate(&db, responses);
    println!(
        "generated {responses} responses ({} mentions) in {:.2} s",
        responses * 2,
        started.elapsed().as_secs_f64()
    );

    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    settings.public_url = url::Url::parse(&base).expect("base URL");
    let state = pds::web::AppState::new(db.clone(), settings).expect("app state");
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = pds::web::start(listener, state).expect("start the server");
            let _ = server.await;
        })
    });

    let key = pds::keys::create(&db, &"bench".parse().expect("key name")).expect("a key");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(std::time::Duration::from_secs(600)))
        .build()
        .into();
    let login = agent
        .post(&format!("{base}/admin/login"))
        .send_form([("key", key.reveal())])
        .expect("log in");
    let cookie = login
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_string();

    let load = |path: &str| -> f64 {
        let started = Instant::now();
        let mut response = agent
            .get(&format!("{base}{path}"))
            .header("Cookie", &cookie)
            .call()
            .expect("GET");
        assert_eq!(response.status().as_u16(), 200, "{path}");
        let body = response.body_mut().read_to_string().expect("body");
        assert!(!body.is_empty());
        started.elapsed().as_secs_f64() * 1000.0
    };
    let page = "/admin/surveys/bench";
    let first = load(page);
    let later: Vec<f64> = (0..LATER_LOADS).map(|_| load(page)).collect();
    let chart: Vec<f64> = (0..LATER_LOADS)
        .map(|_| load("/admin/surveys/bench/charts/scatter.svg"))
        .collect();
    println!("survey page, first load (computes the results): {first:.0} ms");
    println!(
        "survey page, next {LATER_LOADS} loads (cached): median {:.1} ms, max {:.1} ms",
        median(&later),
        later.iter().copied().fold(0.0, f64::max)
    );
    println!(
        "scatter chart, {LATER_LOADS} loads (cached): median {:.1} ms",
        median(&chart)
    );
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn generate(db: &Database, responses: u64) {
    let survey = pds::setup::create(
        db,
        &"bench".parse().unwrap(),
        &pds::setup::shipped("discovery").unwrap(),
    )
    .expect("create the survey");
    let mut conn = db.conn().expect("connection");
    let wave = store::ensure_wave(&mut conn, survey.id, &"2026-H2".parse().unwrap())
        .expect("wave")
        .id;
    let sid = survey.id;
    let mentions = responses * 2;
    conn.batch_execute(&format!(
        r#"
        BEGIN;
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {AREAS})
        INSERT INTO areas (survey_id, key, label, created_at, origin, status, labels)
        SELECT {sid}, 'area-' || i, 'Area ' || i || ' <b>"&"</b>',
               '2026-11-01 09:00:00', 'rule', 'accepted', '{{}}' FROM n;
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {responses})
        INSERT INTO responses (survey_id, wave_id, locale, attributes, no_problems,
                               submitted_at, updated_at)
        SELECT {sid}, {wave}, 'en',
               '{{"customer_type":"' || CASE i % 3 WHEN 0 THEN 'current' WHEN 1 THEN 'lost'
               ELSE 'potential' END || '"}}',
               0, '2026-11-02 10:00:00', '2026-11-02 10:00:00' FROM n;
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {mentions} - 1)
        INSERT INTO mentions (response_id, rank, text, frequency, may_contact, area_id,
                              coded_by, coded_at)
        SELECT (SELECT min(id) FROM responses) + i / 2, 1 + i % 2,
               'Problem ' || i,
               NULL, 0,
               (SELECT min(id) FROM areas) + ((i / 2) * 7 + (i % 2) * 3 + (i / 2) % 5 * ((i / 2) % 5)) % {AREAS},
               'rule', '2026-11-03 08:00:00'
        FROM n;
        COMMIT;
        "#
    ))
    .expect("generate the data");
}
