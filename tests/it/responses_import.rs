//! Importing responses collected elsewhere: a file with bad rows imports nothing
//! and names every bad row by line; `--skip-invalid` imports the respondents without
//! errors. Also `pds plan`, the other command that works without a study.

use crate::common::{args, Backend, TestApp};

const TEMPLATE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/survey-templates/discovery");

#[test]
fn a_file_with_bad_rows_imports_nothing_and_names_each_line() {
    let app = TestApp::spawn(Backend::Sqlite);
    app.create_survey(TEMPLATE, "paper");
    let file = app.write_file(
        "paper.csv",
        "respondent,wave,segment,rank,problem\n\
         p1,2026-H1,current,1,Late delivery\n\
         p1,2026-H1,current,1,Wrong invoice\n\
         p2,2026-H1,lost,7,Rude staff\n\
         p3,2026-H1,lost,,\n\
         p4,2026-H1,current,2,Slow refunds\n\
         p4,2026-H1,current,1,\"=HYPERLINK(\"\"http://evil\"\")\"\n",
    );
    let path = file.to_str().unwrap();
    let out = app.pds(&["responses", "import", "--survey", "paper", path]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("2 invalid row(s); nothing was imported"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 3: respondent \"p1\" (wave 2026-H1) already has rank 1 on line 2"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 4: rank \"7\" is not a whole number from 1 to 5"),
        "{stderr}"
    );
    let json = app.pds_ok(&["results", "--survey", "paper", "--format", "json"]);
    assert!(json.contains("\"n\": 0"), "nothing was stored: {json}");

    let out = app.pds_ok(&[
        "responses",
        "import",
        "--survey",
        "paper",
        path,
        "--skip-invalid",
    ]);
    assert!(
        out.contains("Imported 2 new and replaced 0 earlier respondents (2 mentions)")
            && out.contains("left out 2 respondents"),
        "{out}"
    );
    let r: serde_json::Value =
        serde_json::from_str(&app.pds_ok(&["results", "--survey", "paper", "--format", "json"]))
            .unwrap();
    assert_eq!(r["n"], 2, "p3 (no problems) and p4");
    assert_eq!(r["respondents_with_problems"], 1);
    assert_eq!(
        r["uncoded"]["texts"][0]["text"], "=HYPERLINK(\"http://evil\")",
        "stored as written, listed as not yet coded"
    );
    let csv_out = app.pds_ok(&["results", "--survey", "paper", "--format", "csv"]);
    assert!(
        csv_out.contains("'=HYPERLINK"),
        "neutralised in CSV: {csv_out}"
    );

    let out = app.pds(&["responses", "import", "--survey", "paper", path, "--bogus"]);
    assert_eq!(out.status.code(), Some(2));
    let wrong = app.write_file("wrong.csv", "id,wave,rank,problem\n1,w,1,x\n");
    let out = app.pds(&[
        "responses",
        "import",
        "--survey",
        "paper",
        wrong.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown column \"id\""));
}

#[test]
fn plan_gives_discovery_coverage_and_interviews_needed() {
    let app = TestApp::spawn(Backend::Sqlite);
    let out = app.pds_ok(&["plan", "--incidence", "0.10", "--interviews", "30"]);
    assert!(
        out.contains("probability 0.958") && out.contains("coverage-v1"),
        "{out}"
    );
    let out = app.pds_ok(&["plan", "--incidence", "2%", "--interviews", "30"]);
    assert!(out.contains("0.455"), "{out}");
    let out = app.pds_ok(&args("plan --incidence 0.10 --target-probability 0.95"));
    assert!(out.contains("plan 29 interviews"), "{out}");
    let out = app.pds_ok(&["plan", "--incidence", "0.10", "--json"]);
    let plans: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        plans[2]["interviews"], 22,
        "90% needs 22 interviews at p = 0.10"
    );
    let out = app.pds(&["plan", "--incidence", "1.5", "--interviews", "3"]);
    assert_eq!(out.status.code(), Some(2));
}

/// A file of several thousand respondents is stored in many batches: every
/// respondent once, with every mention in its area, also when a respondent's rows
/// are far apart; importing it again replaces each answer instead of adding one.
fn a_large_file_is_imported_whole_and_again_replaces(backend: Backend) {
    let app = TestApp::spawn(backend);
    app.create_survey(TEMPLATE, "phone");
    let respondents = 7_000;
    let mut csv = String::from("respondent,wave,segment,rank,problem,area\n");
    for r in 0..respondents {
        if r % 10 == 0 {
            csv.push_str(&format!("p{r},2026-H1,lost,,,\n"));
            continue;
        }
        csv.push_str(&format!(
            "p{r},2026-H1,current,2,Invoice {r} wrong,Billing\n"
        ));
    }
    // The first problems of the same respondents, after all their second ones.
    for r in (0..respondents).filter(|r| r % 10 != 0) {
        csv.push_str(&format!(
            "p{r},2026-H1,current,1,Parcel {r} late,Delivery\n"
        ));
    }
    let file = app.write_file("phone.csv", &csv);
    let path = file.to_str().unwrap();
    let out = app.pds_ok(&["responses", "import", "--survey", "phone", path]);
    assert!(
        out.contains("Imported 7000 new and replaced 0 earlier respondents (12600 mentions)"),
        "{out}"
    );
    let again = app.pds_ok(&["responses", "import", "--survey", "phone", path]);
    assert!(
        again.contains("Imported 0 new and replaced 7000 earlier respondents (12600 mentions)"),
        "{again}"
    );
    let r: serde_json::Value =
        serde_json::from_str(&app.pds_ok(&["results", "--survey", "phone", "--format", "json"]))
            .unwrap();
    assert_eq!(r["n"], 7000, "each respondent once: {r}");
    assert_eq!(r["respondents_with_problems"], 6300);
    let areas = r["areas"].as_array().unwrap();
    assert_eq!(areas[0]["area"], "Delivery", "ranked first in every answer");
    assert_eq!(areas[0]["mentions"], 6300);
    assert_eq!(areas[0]["first_choice_share"], 0.9);
    assert_eq!(areas[1]["area"], "Billing");
    assert_eq!(areas[1]["mentions"], 6300);
    let by = app.pds_ok(&args("results --survey phone --by segment --format json"));
    let by: serde_json::Value = serde_json::from_str(&by).unwrap();
    assert_eq!(by["segments"]["segments"][0]["segment"], "current", "{by}");
    assert_eq!(by["segments"]["segments"][0]["n"], 6300);
    assert_eq!(by["segments"]["segments"][1]["n"], 700);
}

on_both_backends!(a_large_file_is_imported_whole_and_again_replaces);
