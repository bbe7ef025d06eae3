//! Wave 2 is coded the way an analyst finally coded wave 1: wave 1 is imported and
//! coded, the analyst makes areas of their own and moves mentions into them through
//! the CLI, wave 2 arrives from a CSV file, and `pds code` puts its mentions where
//! the analyst's decisions point, saying why. The analyst's areas and mentions never
//! change, and running coding again changes nothing. Runs on SQLite and PostgreSQL.

use crate::common::{Backend, TestApp};
use serde_json::Value;

const TEMPLATE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/survey-templates/discovery");

/// Three problems no codebook rule covers, in a few wordings each: (text, area).
const WAVE_1: &[(&str, &str)] = &[
    ("no parking space at the warehouse", "Parking"),
    ("parking at the warehouse is impossible", "Parking"),
    ("nowhere to park our truck at your warehouse", "Parking"),
    ("the warehouse parking lot is always full", "Parking"),
    ("the shop closes too early in the evening", "Opening hours"),
    ("opening hours are too short", "Opening hours"),
    ("the store is closed on saturdays", "Opening hours"),
    ("you should open earlier in the morning", "Opening hours"),
    ("the coffee machine in the lobby is broken", "Coffee"),
    ("coffee in the waiting room tastes awful", "Coffee"),
    ("no coffee while we wait", "Coffee"),
    ("the coffee machine never works", "Coffee"),
];

/// New wordings of the same problems, in the next wave.
const WAVE_2: &[(&str, &str)] = &[
    ("parking space at the warehouse is too small", "Parking"),
    ("could not park at the warehouse again", "Parking"),
    ("longer opening hours please", "Opening hours"),
    ("the shop closes far too early", "Opening hours"),
    ("the coffee machine was out of order again", "Coffee"),
    ("bad coffee in the lobby", "Coffee"),
];

fn csv_of(wave: &str, mentions: &[(&str, &str)]) -> String {
    let mut csv = String::from("respondent,wave,segment,rank,problem,area\n");
    for (i, (text, _)) in mentions.iter().enumerate() {
        csv.push_str(&format!("{wave}-r{i:02},{wave},,1,\"{text}\",\n"));
    }
    csv
}

fn json(app: &TestApp, args: &[&str]) -> Value {
    let out = app.pds_ok(args);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// Every coded mention: (mention id, text, area id, area label, coded_by, note).
fn coded(app: &TestApp) -> Vec<(String, String, String, String, String, String)> {
    let list = json(app, &["areas", "list", "--survey", "s", "--json"]);
    let mut out = Vec::new();
    for area in list["areas"].as_array().unwrap() {
        let id = area["id"].to_string();
        let shown = json(
            app,
            &[
                "areas", "show", "--survey", "s", &id, "--limit", "0", "--json",
            ],
        );
        for m in shown["shown"].as_array().unwrap() {
            out.push((
                m["id"].to_string(),
                m["text"].as_str().unwrap().to_string(),
                id.clone(),
                area["label"].as_str().unwrap().to_string(),
                m["coded_by"].as_str().unwrap_or("").to_string(),
                m["note"].as_str().unwrap_or("").to_string(),
            ));
        }
    }
    out.sort();
    out
}

fn wave_two_is_coded_like_wave_one(backend: Backend) {
    let app = TestApp::spawn(backend);
    app.create_survey(TEMPLATE, "s");
    app.import_responses("s", &csv_of("2026-H1", WAVE_1));
    app.pds_ok(&["code", "--survey", "s"]);

    // The analyst makes an area per problem: the first mention is split out of
    // wherever grouping put it, the others are moved in.
    for label in ["Parking", "Opening hours", "Coffee"] {
        let texts: Vec<&str> = WAVE_1
            .iter()
            .filter(|m| m.1 == label)
            .map(|m| m.0)
            .collect();
        let now = coded(&app);
        let first = now.iter().find(|m| m.1 == texts[0]).expect("coded");
        app.pds_ok(&[
            "areas",
            "split",
            "--survey",
            "s",
            &first.2,
            "--mentions",
            &first.0,
            "--label",
            label,
        ]);
        let now = coded(&app);
        let area = now.iter().find(|m| m.1 == texts[0]).unwrap().2.clone();
        let ids: Vec<String> = now
            .iter()
            .filter(|m| texts[1..].contains(&m.1.as_str()))
            .map(|m| m.0.clone())
            .collect();
        assert_eq!(ids.len(), texts.len() - 1, "{now:?}");
        app.move_mentions("s", &ids.join(","), &area);
    }
    let decided = coded(&app);
    for (text, label) in WAVE_1 {
        let m = decided.iter().find(|m| m.1 == *text).expect("placed");
        assert_eq!((m.3.as_str(), m.4.as_str()), (*label, "analyst"), "{m:?}");
    }

    // Wave 2 arrives and is coded where the decisions point, with the reason.
    app.import_responses("s", &csv_of("2026-H2", WAVE_2));
    let out = app.pds_ok(&["code", "--survey", "s"]);
    assert!(out.contains("Coded survey s"), "{out}");
    let after = coded(&app);
    for (text, label) in WAVE_2 {
        let m = after
            .iter()
            .find(|m| m.1 == *text)
            .unwrap_or_else(|| panic!("{text} not coded: {after:?}"));
        assert_eq!(m.3, *label, "{text}: {m:?}");
        assert_eq!(m.4, "automatic", "{m:?}");
        assert!(
            m.5.starts_with(&format!("learned: \"{label}\" (p ")),
            "explained: {m:?}"
        );
        assert!(m.5.contains("analyst decisions"), "{m:?}");
    }
    // The analyst's areas and mentions are as they were.
    for d in &decided {
        let now = after.iter().find(|m| m.0 == d.0).expect("still there");
        assert_eq!(now, d);
    }

    // Running coding again changes nothing.
    let out = app.pds_ok(&["code", "--survey", "s"]);
    assert!(out.contains("(0 changed in this run)"), "{out}");
    assert_eq!(coded(&app), after);
}

on_both_backends!(wave_two_is_coded_like_wave_one);
