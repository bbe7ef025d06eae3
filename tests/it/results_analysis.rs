//! An analyst's results, as they read them: on responses imported from a CSV file
//! (two waves, three segments, some areas named in the file) and on answers given
//! through the emailed form. The figures a user would check by hand (n, k,
//! frequency, score = frequency x importance) are recomputed here from the data, and
//! every section names its method, n and seed. Runs on SQLite and PostgreSQL.

use crate::common::{args, link_in, post_form, received_for, unique, Backend, TestApp};
use serde_json::Value;

const TEMPLATE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/survey-templates/discovery");
const M: f64 = 5.0;
const WAVES: [&str; 2] = ["2026-H1", "2026-H2"];
const SEGMENTS: [&str; 3] = ["current", "lost", "potential"];
const PER_WAVE: usize = 60;

/// What respondent `i` reports in wave `w`, most important first: (text, area column).
fn answer(i: usize, w: usize) -> Vec<(&'static str, &'static str)> {
    if i % 7 == 0 {
        return Vec::new();
    }
    let mut problems = Vec::new();
    if (i + w) % 2 == 0 {
        problems.push(("The parcel came a week late", "Delivery"));
    }
    if i % 3 != 1 {
        // Different spellings of one problem: grouped by normalised text.
        problems.push(if i % 4 == 0 {
            ("invoice was WRONG!", "")
        } else {
            ("Invoice was wrong", "")
        });
    }
    if (w == 0 && i % 5 == 0) || (w == 1 && i % 4 == 0) {
        problems.push(("Hard to reach support", ""));
    }
    problems
}

fn responses_csv() -> String {
    let mut csv = String::from("respondent,wave,segment,rank,problem,area\n");
    for (w, wave) in WAVES.iter().enumerate() {
        for i in 0..PER_WAVE {
            let segment = SEGMENTS[i % 3];
            let problems = answer(i, w);
            if problems.is_empty() {
                csv.push_str(&format!("r{i:03},{wave},{segment},,,\n"));
            }
            for (rank, (text, area)) in problems.iter().enumerate() {
                csv.push_str(&format!(
                    "r{i:03},{wave},{segment},{},{text},{area}\n",
                    rank + 1
                ));
            }
        }
    }
    csv
}

/// `(k, score)` of an area in wave `w`, from the data as a person would count it.
fn expected(w: usize, is_area: impl Fn(&str) -> bool) -> (u64, f64) {
    let (mut k, mut points) = (0, 0.0);
    for i in 0..PER_WAVE {
        if let Some(rank) = answer(i, w).iter().position(|(t, _)| is_area(t)) {
            k += 1;
            points += (M - rank as f64) / M;
        }
    }
    (k, points / PER_WAVE as f64)
}

fn area<'a>(areas: &'a Value, label: &str) -> &'a Value {
    areas
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["area"] == label)
        .unwrap_or_else(|| panic!("no area {label:?} in {areas:#}"))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

fn analyst_ranks_imported_responses(backend: Backend) {
    let app = TestApp::spawn(backend);
    app.create_survey(TEMPLATE, "phone");
    let out = app.import_responses("phone", &responses_csv());
    assert!(out.contains("Imported 120 new and replaced 0"), "{out}");
    // Mentions without an area in the file are coded with the survey's codebook.
    app.pds_ok(&["code", "--survey", "phone"]);

    let json = app.pds_ok(&args("results --survey phone --wave 2026-H2 --format json"));
    let r: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(r["method"], "joint-v1");
    assert_eq!(r["n"], PER_WAVE as u64);
    assert_eq!(r["rank_stability"]["method"], "rank-bootstrap-v1");
    assert_eq!(r["rank_stability"]["replicates"], 2000);
    assert_eq!(r["rank_stability"]["seed"], 20_040_501);
    for (label, grouping, is_area) in [
        (
            "Delivery",
            "import",
            Box::new(|t: &str| t.contains("parcel")) as Box<dyn Fn(&str) -> bool>,
        ),
        (
            "Invoice errors",
            "codebook+auto-v1",
            Box::new(|t: &str| t.to_lowercase().starts_with("invoice")),
        ),
        (
            "Hard to reach customer service",
            "codebook+auto-v1",
            Box::new(|t: &str| t.starts_with("Hard")),
        ),
    ] {
        let a = area(&r["areas"], label);
        let (k, score) = expected(1, is_area);
        assert_eq!(a["grouping"], grouping, "{a:#}");
        assert_eq!(a["n"], PER_WAVE as u64);
        assert_eq!(a["mentions"], k, "{label}");
        let f = a["frequency"].as_f64().unwrap();
        let i = a["importance"].as_f64().unwrap();
        let s = a["score"].as_f64().unwrap();
        assert!(close(f, k as f64 / PER_WAVE as f64), "{label}: f = {f}");
        assert!(close(s, score), "{label}: score {s}, expected {score}");
        assert!(close(s, f * i), "{label}: score = f x I");
        assert_eq!(a["method"], "joint-v1");
        assert_eq!(a["frequency_method"], "wilson-95");
        assert_eq!(a["importance_method"], "student-t-95");
        let position = a["position"].as_u64().unwrap();
        assert!(a["rank_low"].as_u64().unwrap() <= position);
        assert!(position <= a["rank_high"].as_u64().unwrap());
        let ci = &a["score_ci"];
        assert!(ci["low"].as_f64().unwrap() <= s && s <= ci["high"].as_f64().unwrap());
        assert!((0.0..=1.0).contains(&a["p_top_k"].as_f64().unwrap()));
    }
    // Imported answers have no invitation: no response rate, no early-vs-late.
    let rates = r["response_rates"].as_array().unwrap();
    assert_eq!(rates.len(), 1);
    assert_eq!(rates[0]["imported"], PER_WAVE as u64);
    assert!(rates[0]["rate"].is_null());
    assert!(r["early_late"].is_null());

    // The same seed gives the same output; another seed is named in the output.
    let again = app.pds_ok(&args("results --survey phone --wave 2026-H2 --format json"));
    assert_eq!(json, again, "same data and seed, same output");
    let other: Value = serde_json::from_str(&app.pds_ok(&args(
        "results --survey phone --wave 2026-H2 --format json --seed 7 --bootstrap 500",
    )))
    .unwrap();
    assert_eq!(other["rank_stability"]["seed"], 7);
    assert_eq!(other["rank_stability"]["replicates"], 500);
    assert_eq!(
        other["areas"][0]["score"], r["areas"][0]["score"],
        "point estimates do not move"
    );

    // Segments and the change since the first wave, with their methods.
    let json = app.pds_ok(&args("results --survey phone --wave 2026-H2 --compare-wave 2026-H1 --by segment --worth --format json"));
    let r: Value = serde_json::from_str(&json).unwrap();
    let seg = &r["segments"];
    assert_eq!(seg["attribute"], "segment");
    assert_eq!(seg["method"], "segments-v1");
    assert_eq!(seg["test"], "chi-square-v1");
    assert_eq!(seg["adjustment"], "bh-v1");
    let segments = seg["segments"].as_array().unwrap();
    assert_eq!(segments.len(), 3);
    for s in segments {
        assert_eq!(s["n"], 20);
        assert_eq!(s["small_sample"], true, "20 < 30 is flagged");
    }
    let delivery = area(&seg["areas"], "Delivery");
    let test = &delivery["test"];
    assert_eq!(test["method"], "chi-square-v1");
    assert!(test["p_value"].as_f64().is_some() && delivery["p_adjusted"].as_f64().is_some());

    let change = &r["wave_comparison"];
    assert_eq!(change["method"], "waves-v1");
    assert_eq!(change["test"], "two-proportion-z-v1");
    assert_eq!(change["paired_test"], "mcnemar-exact-v1");
    assert_eq!(change["adjustment"], "bh-v1");
    assert_eq!(change["earlier_n"], 60);
    assert_eq!(change["later_n"], 60);
    assert_eq!(
        change["pairs"], 60,
        "the same respondent ids answered both waves"
    );
    let support = area(&change["areas"], "Hard to reach customer service");
    let (k1, _) = expected(0, |t| t.starts_with("Hard"));
    let (k2, _) = expected(1, |t| t.starts_with("Hard"));
    assert_eq!(support["earlier_mentions"], k1);
    assert_eq!(support["later_mentions"], k2);
    let difference = support["change"]["difference"].as_f64().unwrap();
    assert!(close(difference, (k2 as f64 - k1 as f64) / 60.0));
    assert_eq!(support["paired"]["method"], "mcnemar-exact-v1");
    assert!(support["p_adjusted"].as_f64().is_some());
    assert_eq!(r["worth"]["method"], "worth-pl-v1");

    // The terminal view names the methods, n, the seed and the flags.
    let table = app.pds_ok(&args(
        "results --survey phone --wave 2026-H2 --compare-wave 2026-H1 --by segment",
    ));
    for expected in [
        "n = 60",
        "joint-v1",
        "wilson-95",
        "student-t-95",
        "rank-bootstrap-v1, seed 20040501",
        "Segments by segment",
        "chi-square-v1",
        "waves-v1",
        "mcnemar-exact-v1",
        "bh-v1",
        "n<30",
        "Delivery",
    ] {
        assert!(
            table.contains(expected),
            "{expected:?} missing from:\n{table}"
        );
    }

    // CSV: every row carries its method and n; bootstrap figures carry the seed.
    let csv_out = app.pds_ok(&args(
        "results --survey phone --wave 2026-H2 --compare-wave 2026-H1 --by segment --format csv",
    ));
    let mut reader = csv::Reader::from_reader(csv_out.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    let sections: std::collections::BTreeSet<&str> =
        rows.iter().map(|r| &r[col("section")]).collect();
    assert_eq!(
        sections.into_iter().collect::<Vec<_>>(),
        ["overall", "response-rate", "segment", "wave-change"]
    );
    for row in &rows {
        assert!(
            !row[col("method")].is_empty() && !row[col("n")].is_empty(),
            "{row:?}"
        );
        if &row[col("section")] == "overall" {
            assert_eq!(&row[col("seed")], "20040501");
            assert_eq!(&row[col("bootstrap_method")], "rank-bootstrap-v1");
        }
    }

    // Importing the same file again replaces the answers instead of adding to them.
    let out = app.import_responses("phone", &responses_csv());
    assert!(out.contains("Imported 0 new and replaced 120"), "{out}");
    let r: Value = serde_json::from_str(&app.pds_ok(&args(
        "results --survey phone --format json --bootstrap 100",
    )))
    .unwrap();
    assert_eq!(r["n"], 120, "both waves together, nobody twice");
}

on_both_backends!(analyst_ranks_imported_responses);

/// Customers answer two waves through their emailed links; the analyst compares the
/// waves, sees the response rate per wave and the segments of the contacts file.
fn analyst_compares_waves_answered_through_the_form(backend: Backend) {
    let app = TestApp::spawn(backend);
    app.create_survey(TEMPLATE, "web");
    let domain = format!("{}.example", unique("w"));
    let people = ["anna", "bo", "cai"];
    let mut csv = String::from("email,name,locale,customer_type\n");
    for (i, p) in people.iter().enumerate() {
        csv.push_str(&format!(
            "{p}@{domain},{p},en,{}\n",
            ["current", "lost", "current"][i]
        ));
    }
    app.import_contacts(&csv);
    let agent = app.http();
    for (w, wave) in WAVES.iter().enumerate() {
        app.invite("web", wave);
        for (i, p) in people.iter().enumerate() {
            let mails = received_for(&format!("{p}@{domain}"), w + 1);
            assert_eq!(mails.len(), w + 1, "{p} has an invitation per wave");
            let links: Vec<String> = mails.iter().map(|m| link_in(m, &app.base_url)).collect();
            if w == 1 && i == 2 {
                continue; // cai does not answer the second wave
            }
            let link = newest_link(&app, &links, w);
            let problems: &[(&str, &str)] = if w == 0 || i == 1 {
                &[("problem_1", "Late delivery"), ("rank_1", "1")]
            } else {
                &[("problem_1", "Wrong invoice"), ("rank_1", "1")]
            };
            let (status, page) = post_form(&agent, &link, problems);
            assert_eq!(status, 200, "{page}");
        }
    }
    app.pds_ok(&["code", "--survey", "web"]);
    let r: Value = serde_json::from_str(&app.pds_ok(&args("results --survey web --wave 2026-H2 --compare-wave 2026-H1 --by customer_type --format json")))
    .unwrap();
    assert_eq!(r["n"], 2);
    assert_eq!(r["small_sample"], true);
    let rates = r["response_rates"].as_array().unwrap();
    let rate = |wave: &str| {
        rates
            .iter()
            .find(|x| x["wave"] == wave)
            .unwrap_or_else(|| panic!("{rates:?}"))
    };
    assert_eq!(rate("2026-H1")["invited"], 3);
    assert_eq!(rate("2026-H1")["completed"], 3);
    assert_eq!(rate("2026-H2")["completed"], 2);
    assert_eq!(rate("2026-H2")["method"], "response-rate-v1");
    assert_eq!(r["early_late"]["method"], "early-late-v1");
    let change = &r["wave_comparison"];
    assert_eq!(change["pairs"], 2, "anna and bo answered both waves");
    let late = area(&change["areas"], "Late delivery");
    assert_eq!(late["earlier_mentions"], 3);
    assert_eq!(late["later_mentions"], 1);
    assert_eq!(late["paired"]["yes_to_no"], 1, "anna no longer mentions it");
    let seg = &r["segments"];
    assert_eq!(seg["attribute"], "customer_type");
    let names: Vec<&str> = seg["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["segment"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["current", "lost"]);
}

/// The link of wave `w`: the form behind the first wave's link shows the answer
/// already given there, the second wave's form is empty.
fn newest_link(app: &TestApp, links: &[String], w: usize) -> String {
    if w == 0 {
        return links[0].clone();
    }
    let agent = app.http();
    links
        .iter()
        .find(|l| !crate::common::get(&agent, l).1.contains("Late delivery"))
        .cloned()
        .unwrap_or_else(|| links[links.len() - 1].clone())
}

on_both_backends!(analyst_compares_waves_answered_through_the_form);

#[test]
fn an_impossible_view_is_explained_in_each_door_s_own_words() {
    let app = TestApp::spawn(Backend::Sqlite);
    app.create_survey(
        concat!(env!("CARGO_MANIFEST_DIR"), "/survey-templates/discovery"),
        "s",
    );
    let mut csv = String::from("respondent,wave,segment,rank,problem\n");
    for i in 0..6 {
        let wave = if i % 2 == 0 { "w1" } else { "w2" };
        csv.push_str(&format!("r{i},{wave},current,1,Leveransen kom för sent\n"));
    }
    app.import_responses("s", &csv);

    // The command line names its flags.
    for (args, said) in [
        (vec!["--compare-wave", "w1"], "--compare-wave needs --wave"),
        (
            vec!["--wave", "w1", "--compare-wave", "w1"],
            "--compare-wave w1 is the same wave as --wave",
        ),
        (
            vec!["--by", "region"],
            "--by region: no respondent in scope",
        ),
    ] {
        let mut full = vec!["results", "--survey", "s"];
        full.extend(args);
        let out = app.pds(&full);
        assert_eq!(out.status.code(), Some(2), "{full:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(said), "{full:?}: {stderr}");
    }

    // The API (and the dashboard) say what to choose, without command-line flags.
    let key = app.pds_ok(&["keys", "create", "--name", "k"]);
    for (query, said) in [
        ("compare_wave=w1", "a comparison needs a wave"),
        ("wave=w1&compare_wave=w1", "cannot be compared with itself"),
        ("by=region", "known attributes: segment"),
    ] {
        let response = app
            .http()
            .get(format!("{}/api/surveys/s/results?{query}", app.base_url))
            .header("Authorization", format!("Bearer {}", key.trim()))
            .call()
            .unwrap();
        assert_eq!(response.status().as_u16(), 400, "{query}");
        let body = response.into_body().read_to_string().unwrap();
        assert!(
            body.contains(said) && !body.contains("--"),
            "{query}: {body}"
        );
    }
}

/// A survey larger than one reading range (50,000 responses, `report::load`):
/// `pds results` reads its ranges with two connections on both backends, while
/// the areas export, which reads inside one transaction, reads them all with one.
/// Both give the same CSV, and every respondent counts once.
fn two_readers_give_what_one_gives(backend: Backend) {
    const GENERATED: i64 = 120_000;
    let app = TestApp::spawn(backend);
    app.create_survey(TEMPLATE, "big");
    let small = "respondent,wave,segment,rank,problem,area\n\
                 a,2026-H1,current,1,Parcel late,Delivery\n\
                 b,2026-H1,current,1,Invoice wrong,Billing\n";
    let file = app.write_file("small.csv", small);
    app.pds_ok(&[
        "responses",
        "import",
        "--survey",
        "big",
        file.to_str().unwrap(),
    ]);
    let mut conn = app.db.conn().unwrap();
    diesel::connection::SimpleConnection::batch_execute(
        &mut *conn,
        &format!(
            "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {GENERATED}) \
             INSERT INTO responses (survey_id, wave_id, locale, attributes, no_problems, \
             submitted_at, updated_at) SELECT r.survey_id, r.wave_id, 'en', '{{}}', 0, \
             CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM g, \
             (SELECT survey_id, wave_id FROM responses ORDER BY id LIMIT 1) AS r; \
             INSERT INTO mentions (response_id, rank, text, may_contact, area_id) \
             SELECT r.id, 1, 'Parcel late', 0, CASE WHEN r.id % 3 = 0 THEN NULL \
             ELSE (SELECT MIN(a.id) FROM areas a) + r.id % 3 - 1 END FROM responses r \
             WHERE r.id > 2; \
             INSERT INTO mentions (response_id, rank, text, may_contact, area_id) \
             SELECT r.id, 2, 'Invoice wrong', 1, (SELECT MAX(a.id) FROM areas a) \
             FROM responses r WHERE r.id > 2 AND r.id % 2 = 0;"
        ),
    )
    .unwrap();
    drop(conn);

    let two = app.pds_ok(&["results", "--survey", "big", "--format", "csv"]);
    let one = app.pds_ok(&["export", "--survey", "big", "--what", "areas"]);
    assert_eq!(two, one, "two readers and one read the same survey");
    let json: Value =
        serde_json::from_str(&app.pds_ok(&["results", "--survey", "big", "--format", "json"]))
            .unwrap();
    assert_eq!(json["n"], GENERATED + 2, "{}", json["n"]);
}

#[test]
fn two_readers_give_what_one_gives_on_postgres() {
    two_readers_give_what_one_gives(Backend::Postgres);
}

#[test]
fn two_readers_give_what_one_gives_on_sqlite() {
    two_readers_give_what_one_gives(Backend::Sqlite);
}
