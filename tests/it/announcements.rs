//! "You said, we did": an analyst marks problem areas improved, and every
//! respondent of the chosen wave(s) who mentioned one and agreed to be contacted
//! hears of it once per wave, in their own language, several areas in one email.

use crate::cases::{api, parse, received_titled, study, survey_folder, text_of};
use crate::common::{link_in, post_form, received_for, unique, Backend, TestApp};
use diesel::prelude::*;

/// The announcement emails `email` received (either language).
fn announcements_to(email: &str) -> Vec<Vec<u8>> {
    received_titled(email, &["You said, we did", "Ni sa, vi gjorde"])
}

fn answer(app: &TestApp, invitation: &[u8], problems: &[(&str, bool)]) {
    let link = link_in(invitation, &app.base_url);
    let mut form: Vec<(String, String)> = Vec::new();
    for (i, (text, consent)) in problems.iter().enumerate() {
        let n = i + 1;
        form.push((format!("problem_{n}"), text.to_string()));
        form.push((format!("rank_{n}"), n.to_string()));
        if *consent {
            form.push((format!("consent_{n}"), "yes".into()));
        }
    }
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(post_form(&app.http(), &link, &pairs).0, 200);
}

fn announce(app: &TestApp, args: &[&str]) -> std::process::Output {
    let mut all = vec!["areas", "announce", "--survey", "s"];
    all.extend_from_slice(args);
    app.pds(&all)
}

fn stored_announcements(app: &TestApp) -> i64 {
    use pds::db::schema::{announcement_recipients, announcements};
    let a: i64 = announcements::table
        .count()
        .get_result(&mut *app.db.conn().unwrap())
        .unwrap();
    let r: i64 = announcement_recipients::table
        .count()
        .get_result(&mut *app.db.conn().unwrap())
        .unwrap();
    a + r
}

fn consenting_mentioners_of_an_area_hear_once_per_wave_in_their_language(backend: Backend) {
    let app = TestApp::spawn(backend);
    let d = unique("y");
    let [anna, bo, cy, dan, eve] =
        ["anna", "bo", "cy", "dan", "eve"].map(|n| format!("{n}@{d}.example"));
    let team = format!("ops@{d}.example");
    let folder = survey_folder(&app, "study", &team, |_| {});
    study(
        &app,
        &folder,
        "s",
        &[
            (&anna, "Anna Åberg", "sv"),
            (&bo, "Bo Ek", "en"),
            (&cy, "Cy Lund", "en"),
            (&dan, "Dan Berg", "en"),
            (&eve, "Eve Nord", "sv"),
        ],
    );
    let first = |email: &str| received_for(email, 1).remove(0);
    answer(
        &app,
        &first(&anna),
        &[
            ("Leveransen kom för sent", true),
            ("Fakturan hade fel moms", true),
        ],
    );
    answer(&app, &first(&bo), &[("Late delivery again", false)]);
    let cy_invitation = first(&cy);
    answer(&app, &cy_invitation, &[("The delivery was late", true)]);
    answer(
        &app,
        &first(&dan),
        &[("The invoice was billed twice", true)],
    );
    // Cy unsubscribes after answering.
    let text = text_of(&cy_invitation);
    let start = text.find(&format!("{}/u/", app.base_url)).unwrap();
    let unsubscribe = text[start..].split_whitespace().next().unwrap();
    assert_eq!(post_form(&app.http(), unsubscribe, &[]).0, 200);
    // Eve answers only the second wave.
    let eve_w1 = link_in(&first(&eve), &app.base_url);
    app.invite("s", "w2");
    let eve_w2 = received_for(&eve, 2)
        .into_iter()
        .find(|m| link_in(m, &app.base_url) != eve_w1)
        .expect("Eve's second invitation");
    answer(&app, &eve_w2, &[("Leveransen kom för sent igen", true)]);
    app.pds_ok(&["code", "--survey", "s"]);

    // Bad input: each says what to fix, and nothing is stored.
    let texts = [
        "--text-sv",
        "Vi har bytt transportör.",
        "--text-en",
        "We changed carriers.",
    ];
    let cases: [(&[&str], &str); 5] = [
        (
            &["--area", "teleport", "--wave", "w1"],
            "survey s has no area \"teleport\"",
        ),
        (
            &["--area", "late-delivery", "--wave", "w9"],
            "survey s has no wave \"w9\"; its waves are: w1, w2",
        ),
        (
            &[
                "--area",
                "late-delivery",
                "--wave",
                "w1",
                "--text-sv",
                "  ",
                "--text-en",
                "x",
            ],
            "--text-sv: the sv text is empty",
        ),
        (
            &["--area", "late-delivery", "--wave", "w1", "--text-sv", "x"],
            "no text in en",
        ),
        (
            &[
                "--area",
                "late-delivery",
                "--wave",
                "w1",
                "--text-sv",
                "x",
                "--text-en",
                &"x".repeat(1001),
            ],
            "longer than 1000 characters",
        ),
    ];
    for (args, expected) in cases {
        let mut all = args.to_vec();
        if !args.contains(&"--text-sv") {
            all.extend_from_slice(&texts);
        }
        let out = announce(&app, &all);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expected), "{args:?}: {err}");
    }
    assert_eq!(stored_announcements(&app), 0, "nothing half-done");

    // Two areas announced before anything is sent: one email each.
    let mut late = vec!["--area", "late-delivery", "--wave", "w1"];
    late.extend_from_slice(&texts);
    let out = String::from_utf8_lossy(&announce(&app, &late).stdout).into_owned();
    assert!(
        out.contains("1 contacts will hear of it (1 mentioned it without agreeing to be contacted, 1 have unsubscribed)"),
        "{out}"
    );
    let out = app.pds_ok(&[
        "areas",
        "announce",
        "--survey",
        "s",
        "--area",
        "invoice-errors",
        "--wave",
        "w1",
        "--text-sv",
        "Fakturorna kontrolleras nu två gånger.",
        "--text-en",
        "Invoices are now checked twice.",
    ]);
    assert!(out.contains("2 contacts will hear of it"), "{out}");
    let out = app.pds_ok(&["areas", "announce", "--survey", "s", "--send-now"]);
    assert!(out.contains("Queued 2 announcement emails"), "{out}");

    // Two invitations and the announcement each.
    received_for(&anna, 3);
    received_for(&dan, 3);
    let to_anna = announcements_to(&anna);
    assert_eq!(to_anna.len(), 1, "both areas in one email");
    let body = text_of(&to_anna[0]);
    assert!(
        parse(&to_anna[0])
            .subject()
            .unwrap()
            .starts_with("Ni sa, vi gjorde")
            && body.contains("Hej Anna Åberg!")
            && body.contains("===== Sena leveranser =====\nVi har bytt transportör.")
            && body.contains("===== Fakturafel =====\nFakturorna kontrolleras nu två gånger.")
            && !body.contains("We changed carriers"),
        "{body}"
    );
    let to_dan = announcements_to(&dan);
    assert_eq!(to_dan.len(), 1);
    let body = text_of(&to_dan[0]);
    assert!(
        body.contains("===== Invoice errors =====\nInvoices are now checked twice.")
            && !body.contains("carriers"),
        "{body}"
    );
    std::thread::sleep(std::time::Duration::from_millis(300));
    for quiet in [&bo, &cy, &eve] {
        assert!(announcements_to(quiet).is_empty(), "{quiet}");
    }

    // Another announcement for the same wave reaches nobody twice; the second
    // wave's respondent hears once.
    // This time the worker sends it, once it has waited an hour for others.
    let mut again = vec!["--area", "late-delivery", "--wave", "w1,w2"];
    again.extend_from_slice(&texts);
    let out = announce(&app, &again);
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(printed.contains("sends it within the hour"), "{printed}");
    app.pds_ok(&["worker", "--once"]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(announcements_to(&eve).is_empty(), "held for an hour");
    let later = (chrono::Utc::now() + chrono::Duration::hours(2))
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string();
    let out = app.pds_env(&[("PDS_NOW", &later)], &["worker", "--once"]);
    assert!(out.status.success(), "{out:?}");
    {
        use pds::db::schema::announcement_recipients as r;
        let statuses: Vec<String> = r::table
            .filter(r::announcement_id.eq(3))
            .order(r::id)
            .select(r::status)
            .load(&mut *app.db.conn().unwrap())
            .unwrap();
        assert_eq!(
            statuses,
            ["skipped_already_told", "sent"],
            "Anna was told about w1 already"
        );
    }
    received_for(&eve, 3);
    let to_eve = announcements_to(&eve);
    assert_eq!(to_eve.len(), 1);
    assert!(text_of(&to_eve[0]).contains("Sena leveranser"));
    assert_eq!(announcements_to(&anna).len(), 1);

    // The admin API announces the same way.
    let key = app.create_key("ci");
    let (status, body) = api(
        &app,
        &key,
        "/api/surveys/s/announcements",
        Some(r#"{"area": "teleport", "waves": ["w1"], "texts": {"sv": "x", "en": "y"}}"#),
    );
    assert_eq!(status, 404, "{body}");
    let (status, body) = api(
        &app,
        &key,
        "/api/surveys/s/announcements",
        Some(
            r#"{"area": "invoice-errors", "waves": ["w2"], "texts": {"sv": "Klart.", "en": "Done."}}"#,
        ),
    );
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["contacts"], 0, "{body}");
}

on_both_backends!(consenting_mentioners_of_an_area_hear_once_per_wave_in_their_language);
