//! Checklist answers collected by phone or on paper: `pds responses import` on a
//! checklist survey reads one row per item answered and per other problem written
//! in. A file with bad rows (an unknown item, a bother without sometimes/often, an
//! item answered twice) imports nothing and names every bad line; a good file
//! counts in results like answers given through the form, staff apart, and
//! importing it again replaces the answers. Runs on SQLite and PostgreSQL.

use serde_json::Value;

use crate::common::{args, Backend, TestApp};

const CHECKLIST: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/survey-templates/checklist");
const HEADER: &str =
    "respondent,wave,segment,audience,item,experienced,bother,solved_elsewhere,rank,problem\n";

/// One respondent's rows: late deliveries as given, every other item never.
fn rows(respondent: &str, segment: &str, audience: &str, late: &str) -> String {
    let mut csv = format!("{respondent},2027-H1,{segment},{audience},late-delivery,{late}\n");
    for item in ["damaged-goods", "invoice-errors", "hard-to-reach"] {
        csv.push_str(&format!(
            "{respondent},2027-H1,{segment},{audience},{item},never,,,,\n"
        ));
    }
    csv
}

fn results(app: &TestApp) -> Value {
    let json = app.pds_ok(&args(
        "results --survey check --format json --bootstrap 100",
    ));
    serde_json::from_str(&json).expect("JSON")
}

fn late_often(results: &Value) -> f64 {
    results["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "late-delivery")
        .expect("late-delivery")["often"]["value"]
        .as_f64()
        .unwrap()
}

fn interviewers_import_checklist_answers_from_a_file(backend: Backend) {
    let app = TestApp::spawn(backend);
    app.create_survey(CHECKLIST, "check");

    // An unknown item, a bother for "never", an item answered twice and a
    // respondent who skipped items: every line named, nothing stored.
    let mut bad = String::from(HEADER);
    bad.push_str(&rows("p1", "lost", "", "often,5,yes,,"));
    bad.push_str("p1,2027-H1,lost,,parking,often,4,,,\n");
    bad.push_str(&rows("p2", "current", "", "never,3,,,"));
    bad.push_str(&rows("p3", "current", "", "sometimes,2,,,"));
    bad.push_str("p3,2027-H1,current,,late-delivery,never,,,,\n");
    bad.push_str("p4,2027-H1,current,,late-delivery,never,,,,\n");
    let file = app.write_file("bad.csv", &bad);
    let out = app.pds(&[
        "responses",
        "import",
        "--survey",
        "check",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    for expected in [
        "4 invalid row(s); nothing was imported",
        "line 6: item \"parking\" is not in this checklist; its items are late-delivery, damaged-goods, invoice-errors, hard-to-reach",
        "line 7: item \"late-delivery\", never: how much it bothers",
        "line 15: respondent \"p3\" (wave 2027-H1) already answered item \"late-delivery\" on line 11",
        "line 16: respondent \"p4\" (wave 2027-H1) has no row for item(s) damaged-goods, invoice-errors, hard-to-reach",
    ] {
        assert!(err.contains(expected), "{expected}\n{err}");
    }
    assert_eq!(results(&app)["n"], 0, "nothing was stored");

    // A good file: 3 lost customers meet late deliveries often, 1 current
    // customer never; 2 staff think it rare. Write-ins in rank order.
    let mut good = String::from(HEADER);
    for r in ["p1", "p2", "p3"] {
        good.push_str(&rows(r, "lost", "customer", "often,5,no,,"));
    }
    good.push_str(&rows("p4", "current", "", "never,,,,"));
    good.push_str("p4,2027-H1,current,,,,,,2,Parking is hard\n");
    good.push_str("p4,2027-H1,current,,,,,,1,The driver never calls ahead\n");
    for r in ["s1", "s2"] {
        good.push_str(&rows(r, "", "staff", "sometimes,2,dont_know,,"));
    }
    let file = app.write_file("good.csv", &good);
    let path = file.to_str().unwrap();
    let printed = app.pds_ok(&["responses", "import", "--survey", "check", path]);
    assert!(
        printed
            .contains("Imported 6 new and replaced 0 earlier respondents (2 mentions written in)"),
        "{printed}"
    );
    let r = results(&app);
    assert_eq!(r["n"], 4, "staff never count as customers: {r}");
    assert!((late_often(&r) - 0.75).abs() < 1e-12, "{r}");
    assert_eq!(r["staff_gap"]["staff_n"], 2, "{r}");
    let uncoded: Vec<&str> = r["write_ins"]["uncoded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["text"].as_str().unwrap())
        .collect();
    assert!(
        uncoded.contains(&"The driver never calls ahead") && uncoded.contains(&"Parking is hard"),
        "{r}"
    );
    let by = app.pds_ok(&args(
        "results --survey check --by segment --format json --bootstrap 100",
    ));
    assert!(
        by.contains("\"lost\"") && by.contains("\"current\""),
        "{by}"
    );

    // Importing again replaces: p1 now never had late deliveries.
    let again = good.replace(
        "p1,2027-H1,lost,customer,late-delivery,often,5,no,,",
        "p1,2027-H1,lost,customer,late-delivery,never,,,,",
    );
    let printed = app.import_responses("check", &again);
    assert!(
        printed.contains("Imported 0 new and replaced 6"),
        "{printed}"
    );
    let r = results(&app);
    assert_eq!(r["n"], 4, "{r}");
    assert!((late_often(&r) - 0.5).abs() < 1e-12, "{r}");
}

on_both_backends!(interviewers_import_checklist_answers_from_a_file);
