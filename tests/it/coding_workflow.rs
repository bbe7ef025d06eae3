//! An analyst codes customers' own words into problem areas, as they would: answers
//! arrive (imported from a file here, which is quick), `pds code` applies the
//! survey's codebook and groups the rest, the analyst renames, merges, splits, moves
//! and accepts areas, coding runs again, and nothing they decided is undone, no
//! mention is lost or counted twice, and results rank the areas. Runs on SQLite and
//! PostgreSQL.

use std::collections::BTreeMap;

use crate::common::{args, Backend, TestApp};
use diesel::prelude::*;
use pds::db::schema::{mentions, responses};
use serde_json::Value;

const TEMPLATE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/survey-templates/discovery");

/// Respondents and their problems, most important first. Late delivery in both
/// languages (the codebook's rules), parking at the warehouse (no rule: automatic
/// grouping), an area named in the file (import), and one answer with no problems.
const ANSWERS: &[(&str, &[&str], &str)] = &[
    (
        "r01",
        &[
            "Leveransen kom för sent",
            "no parking space at the warehouse",
        ],
        "",
    ),
    (
        "r02",
        &[
            "Delivery was late",
            "parking at the warehouse is impossible",
        ],
        "",
    ),
    ("r03", &["levtid", "Fakturan var fel"], ""),
    (
        "r04",
        &[
            "late deliveries again and again",
            "nowhere to park at the warehouse",
        ],
        "",
    ),
    (
        "r05",
        &["the parking at your warehouse is full every morning"],
        "",
    ),
    ("r06", &["Wrong invoice", "leveransförsening"], ""),
    ("r07", &["parking space at the warehouse is too small"], ""),
    ("r08", &[], ""),
    ("r09", &["The forklift blocked our truck"], "Yard safety"),
];

fn csv_of(answers: &[(&str, &[&str], &str)]) -> String {
    let mut csv = String::from("respondent,wave,segment,rank,problem,area\n");
    for (id, problems, area) in answers {
        if problems.is_empty() {
            csv.push_str(&format!("{id},2026-H1,,,,\n"));
        }
        for (rank, text) in problems.iter().enumerate() {
            csv.push_str(&format!(
                "{id},2026-H1,,{},\"{}\",{area}\n",
                rank + 1,
                text.replace('"', "\"\"")
            ));
        }
    }
    csv
}

fn json(app: &TestApp, args: &[&str]) -> Value {
    let out = app.pds_ok(args);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

fn list(app: &TestApp) -> Value {
    json(app, &["areas", "list", "--survey", "s", "--json"])
}

/// The area (in `pds areas list --json`) holding a mention with this text.
fn area_of(app: &TestApp, text: &str) -> Option<Value> {
    for area in list(app)["areas"].as_array().unwrap() {
        let id = area["id"].to_string();
        let shown = json(
            app,
            &[
                "areas", "show", "--survey", "s", &id, "--limit", "0", "--json",
            ],
        );
        if shown["shown"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["text"] == text)
        {
            return Some(shown);
        }
    }
    None
}

/// Sum of area counts plus uncoded mentions is every mention, each once.
fn assert_nothing_lost_or_doubled(app: &TestApp, total: usize) {
    let l = list(app);
    let in_areas: u64 = l["areas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["mentions"].as_u64().unwrap())
        .sum();
    let uncoded = l["not_yet_coded"].as_u64().unwrap() + l["not_placed"].as_u64().unwrap();
    assert_eq!(l["mentions"], total as u64, "{l:#}");
    assert_eq!(in_areas + uncoded, total as u64, "{l:#}");
    assert_eq!(l["coded"].as_u64().unwrap(), in_areas);
}

fn analyst_codes_and_decisions_survive_a_rerun(backend: Backend) {
    let app = TestApp::spawn(backend);
    app.create_survey(TEMPLATE, "s");
    app.import_responses("s", &csv_of(ANSWERS));
    let total: usize = ANSWERS.iter().map(|a| a.1.len()).sum();

    // Before coding, results rank only the imported area and list the rest apart.
    let r = json(
        &app,
        &args("results --survey s --format json --bootstrap 50"),
    );
    assert_eq!(r["areas"].as_array().unwrap().len(), 1, "{r:#}");
    assert_eq!(r["uncoded"]["not_yet_coded"], (total - 1) as u64);
    let table = app.pds_ok(&["results", "--survey", "s", "--bootstrap", "50"]);
    assert!(
        table.contains(&format!(
            "{} mentions not yet coded — run pds code --survey s",
            total - 1
        )),
        "{table}"
    );
    assert!(
        table.contains("no parking space at the warehouse"),
        "listed as written: {table}"
    );

    let out = app.pds_ok(&["code", "--survey", "s"]);
    assert!(out.contains("Coded survey s"), "{out}");
    assert_nothing_lost_or_doubled(&app, total);

    // Rules: Swedish and English wordings of late delivery are one area, explained.
    let late = area_of(&app, "Leveransen kom för sent").expect("coded");
    assert_eq!(late["label"], "Late delivery");
    assert_eq!(late["labels"]["sv"], "Sena leveranser");
    assert_eq!(late["mentions"], 5);
    for m in late["shown"].as_array().unwrap() {
        assert_eq!(m["coded_by"], "rule");
        assert!(m["note"].as_str().unwrap().starts_with("matched "), "{m}");
        assert!(m["coded_at"].is_string());
    }
    let texts: Vec<&str> = late["shown"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert!(
        texts.contains(&"Delivery was late") && texts.contains(&"levtid"),
        "{texts:?}"
    );

    // Automatic grouping: the parking mentions, which no rule covers, form one area.
    let parking = area_of(&app, "no parking space at the warehouse").expect("grouped");
    assert_eq!(parking["origin"], "automatic");
    assert_eq!(parking["status"], "proposed");
    assert!(parking["mentions"].as_u64().unwrap() >= 4, "{parking:#}");
    for m in parking["shown"].as_array().unwrap() {
        assert_eq!(m["coded_by"], "automatic");
        assert!(m["note"].as_str().unwrap().starts_with("similar ("), "{m}");
    }
    // The imported area is the file's, untouched.
    let yard = area_of(&app, "The forklift blocked our truck").expect("imported");
    assert_eq!(yard["label"], "Yard safety");
    assert_eq!(yard["shown"][0]["coded_by"], "import");

    // Running coding again on the same data changes nothing.
    let out = app.pds_ok(&["code", "--survey", "s"]);
    assert!(out.contains("(0 changed in this run)"), "{out}");

    // The analyst decides.
    let parking_id = parking["id"].to_string();
    app.pds_ok(&[
        "areas",
        "rename",
        "--survey",
        "s",
        &parking_id,
        "Parking at the warehouse",
    ]);
    let invoice = area_of(&app, "Wrong invoice").expect("invoice area");
    let invoice_id = invoice["id"].to_string();
    // Split one invoice mention into its own area, then move it back by hand, then
    // split another one out for good.
    let fakturan = invoice["shown"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["text"] == "Fakturan var fel")
        .unwrap()["id"]
        .to_string();
    app.pds_ok(&[
        "areas",
        "split",
        "--survey",
        "s",
        &invoice_id,
        "--mentions",
        &fakturan,
        "--label",
        "Svenska fakturor",
    ]);
    let svenska = area_of(&app, "Fakturan var fel").unwrap();
    assert_eq!(svenska["label"], "Svenska fakturor");
    assert_eq!(svenska["origin"], "analyst");
    assert_eq!(svenska["shown"][0]["coded_by"], "analyst");
    // Merge the split-off area into the late-delivery area (an analyst's odd choice,
    // which coding must still respect), and move a late-delivery mention to parking.
    app.pds_ok(&[
        "areas",
        "merge",
        "--survey",
        "s",
        "Svenska fakturor",
        "late-delivery",
    ]);
    let levtid = late["shown"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["text"] == "levtid")
        .unwrap()["id"]
        .to_string();
    app.move_mentions("s", &levtid, &parking_id);
    app.pds_ok(&["areas", "accept", "--survey", "s", "Yard safety"]);
    assert_nothing_lost_or_doubled(&app, total);

    // Clear errors for what cannot be done.
    for (args, expected) in [
        (
            vec!["areas", "merge", "--survey", "s", &parking_id, &parking_id],
            "cannot merge area",
        ),
        (
            vec!["areas", "show", "--survey", "s", "no-such-area"],
            "has no area \"no-such-area\"",
        ),
        (
            vec![
                "areas",
                "move",
                "--survey",
                "s",
                "--mentions",
                "999999",
                "--to",
                &parking_id,
            ],
            "has no mention 999999",
        ),
        (
            vec!["areas", "rename", "--survey", "s", &parking_id, "  "],
            "has no letters or digits",
        ),
        (
            vec![
                "areas",
                "split",
                "--survey",
                "s",
                &parking_id,
                "--mentions",
                &fakturan,
                "--label",
                "X",
            ],
            "are not in area",
        ),
        (
            vec!["areas", "show", "--survey", "s", "Svenska fakturor"],
            "has no area",
        ),
    ] {
        let out = app.pds(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }

    // Coding again keeps every decision.
    app.pds_ok(&["code", "--survey", "s"]);
    assert_nothing_lost_or_doubled(&app, total);
    let parking = area_of(&app, "no parking space at the warehouse").unwrap();
    assert_eq!(parking["id"].to_string(), parking_id);
    assert_eq!(parking["label"], "Parking at the warehouse");
    assert_eq!(parking["status"], "accepted");
    let moved = parking["shown"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["text"] == "levtid")
        .expect("moved mention stays");
    assert_eq!(moved["coded_by"], "analyst");
    let late = area_of(&app, "Fakturan var fel").unwrap();
    assert_eq!(
        late["label"], "Late delivery",
        "merged into late delivery, and kept there"
    );
    assert_eq!(
        area_of(&app, "The forklift blocked our truck").unwrap()["status"],
        "accepted"
    );
    let log = app.pds_ok(&["areas", "log", "--survey", "s"]);
    for action in ["rename", "split", "merge", "move", "accept"] {
        assert!(log.contains(action), "{log}");
    }

    // New answers: not yet coded until coding runs; then a parking mention joins the
    // analyst's parking area.
    let more: &[(&str, &[&str], &str)] = &[(
        "r10",
        &["no parking space at the warehouse again", "🙂🙂"],
        "",
    )];
    app.import_responses("s", &csv_of(more));
    let l = list(&app);
    assert_eq!(l["not_yet_coded"], 2);
    app.pds_ok(&["code", "--survey", "s"]);
    assert_nothing_lost_or_doubled(&app, total + 2);
    let parking = area_of(&app, "no parking space at the warehouse again").expect("coded");
    assert_eq!(parking["label"], "Parking at the warehouse");
    let l = list(&app);
    assert!(
        l["not_placed"].as_u64().unwrap() >= 1,
        "the emoji-only mention waits for an analyst: {l:#}"
    );

    // Results rank the coded areas; the unplaced mention is listed apart.
    let r = json(
        &app,
        &args("results --survey s --format json --bootstrap 100"),
    );
    let areas = r["areas"].as_array().unwrap();
    let labels: Vec<&str> = areas.iter().map(|a| a["area"].as_str().unwrap()).collect();
    // Six parking mentions (one moved there by hand) against five late deliveries.
    assert_eq!(
        labels[..2],
        ["Parking at the warehouse", "Late delivery"],
        "{labels:?}"
    );
    for expected in ["Parking at the warehouse", "Invoice errors", "Yard safety"] {
        assert!(labels.contains(&expected), "{labels:?}");
    }
    let grouping =
        |label: &str| areas.iter().find(|a| a["area"] == label).unwrap()["grouping"].clone();
    assert_eq!(grouping("Late delivery"), "codebook+auto-v1");
    assert_eq!(grouping("Yard safety"), "import");
    assert!(
        r["grouping"].as_str().unwrap().contains("codebook+auto-v1"),
        "{}",
        r["grouping"]
    );
    assert_eq!(r["uncoded"]["not_placed"], l["not_placed"]);
    let unplaced: Vec<&str> = r["uncoded"]["texts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["text"].as_str().unwrap())
        .collect();
    assert!(unplaced.contains(&"🙂🙂"), "{unplaced:?}");
    assert_eq!(r["n"], 10);
}

on_both_backends!(analyst_codes_and_decisions_survive_a_rerun);

/// Odd input keeps its text exactly as written and is coded without trouble.
fn odd_mentions_keep_their_words(backend: Backend) {
    let app = TestApp::spawn(backend);
    app.create_survey(TEMPLATE, "s");
    let answers: &[(&str, &[&str], &str)] = &[
        ("a", &["placeholder one"], ""),
        ("b", &["placeholder two"], ""),
        ("c", &["😡😡😡"], ""),
        (
            "d",
            &["<b>Fakturan</b> <script>alert(1)</script> was wrong"],
            "",
        ),
        ("e", &["Leveransen was late igen, very sent!"], ""),
    ];
    app.import_responses("s", &csv_of(answers));
    // Longer and emptier than the form allows, stored by some other door.
    let long = "leverans ".repeat(1_111) + "ö";
    let mut conn = app.db.conn().unwrap();
    let ids: Vec<(i64, String)> = mentions::table
        .inner_join(responses::table)
        .select((mentions::id, mentions::text))
        .order(mentions::id)
        .load(&mut *conn)
        .unwrap();
    diesel::update(mentions::table.find(ids[0].0))
        .set(mentions::text.eq(&long))
        .execute(&mut *conn)
        .unwrap();
    diesel::update(mentions::table.find(ids[1].0))
        .set(mentions::text.eq(""))
        .execute(&mut *conn)
        .unwrap();
    let before: BTreeMap<i64, String> = mentions::table
        .select((mentions::id, mentions::text))
        .load(&mut *conn)
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(before[&ids[0].0].chars().count(), 10_000);

    app.pds_ok(&["code", "--survey", "s"]);
    app.pds_ok(&["code", "--survey", "s"]);
    let after: BTreeMap<i64, String> = mentions::table
        .select((mentions::id, mentions::text))
        .load(&mut *conn)
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(before, after, "coding never changes what a customer wrote");
    assert_nothing_lost_or_doubled(&app, 5);
    let r = json(
        &app,
        &args("results --survey s --format json --bootstrap 50"),
    );
    let shown: Vec<&str> = r["uncoded"]["texts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["text"].as_str().unwrap())
        .collect();
    for text in &shown {
        assert!(
            before.values().any(|b| b == text),
            "listed as written: {text:?}"
        );
    }
    assert!(
        shown.contains(&""),
        "the empty mention is listed, not lost: {shown:?}"
    );
    let csv = app.pds_ok(&args("results --survey s --format csv --bootstrap 50"));
    assert!(csv.contains("uncoded"), "{csv}");
}

on_both_backends!(odd_mentions_keep_their_words);

/// A broken codebook is refused with the file, the line and the reason, both when
/// the survey is created and when the codebook is replaced.
fn broken_codebook_is_refused_with_its_line(backend: Backend) {
    let app = TestApp::spawn(backend);
    let folder = app.dir.path().join("survey");
    copy_dir(std::path::Path::new(TEMPLATE), &folder);
    let broken =
        "[[area]]\nid = \"late\"\nlabel = { en = \"Late\" }\nkeywords = [\n  \"lev*rans\",\n]\n";
    std::fs::write(folder.join("codebook.toml"), broken).unwrap();
    let (code, stderr) = app.create_survey_fails(folder.to_str().unwrap(), "b");
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("codebook.toml line 5: area \"late\": keyword \"lev*rans\""),
        "{stderr}"
    );
    let out = app.pds(&["survey", "check", "--template", folder.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));

    app.create_survey(TEMPLATE, "s");
    let shown = app.pds_ok(&["areas", "codebook", "--survey", "s"]);
    assert!(shown.contains("id = \"late-delivery\""), "{shown}");
    let file = app.write_file(
        "bad.toml",
        "[[area]]\nid = \"Late Delivery\"\nlabel.en = \"x\"\n",
    );
    let out = app.pds(&["areas", "codebook", "--survey", "s", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.toml line 2: area id"), "{stderr}");
    let good = app.write_file(
        "good.toml",
        "[[area]]\nid = \"parking\"\nlabel.en = \"Parking\"\nkeywords = [\"park*\"]\n",
    );
    let out = app.pds_ok(&["areas", "codebook", "--survey", "s", good.to_str().unwrap()]);
    assert!(out.contains("codebook of 1 areas"), "{out}");
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

on_both_backends!(broken_codebook_is_refused_with_its_line);
