//! "You said, we did": an analyst marks problem areas improved, and every
//! respondent of the chosen wave(s) who mentioned one and agreed to be contacted
//! hears of it once per wave, in their own language, several areas in one email.

use crate::cases::{parse, received_titled, study, survey_folder, text_of};
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

/// The people of these stories: name and language.
const PEOPLE: [(&str, &str, &str); 5] = [
    ("anna", "Anna Åberg", "sv"),
    ("bo", "Bo Ek", "en"),
    ("cy", "Cy Lund", "en"),
    ("dan", "Dan Berg", "en"),
    ("eve", "Eve Nord", "sv"),
];

/// The study `s` (its team at `ops@D.example`) with the first N of [`PEOPLE`]
/// invited to wave `w1` from addresses on domain `D.example`; their addresses.
fn invited_to_study<const N: usize>(app: &TestApp, d: &str) -> [String; N] {
    let emails: [String; N] = std::array::from_fn(|i| format!("{}@{d}.example", PEOPLE[i].0));
    let folder = survey_folder(app, "study", &format!("ops@{d}.example"), |_| {});
    let contacts: Vec<(&str, &str, &str)> = emails
        .iter()
        .zip(PEOPLE)
        .map(|(email, (_, name, locale))| (email.as_str(), name, locale))
        .collect();
    study(app, &folder, "s", &contacts);
    emails
}

fn consenting_mentioners_of_an_area_hear_once_per_wave_in_their_language(backend: Backend) {
    let app = TestApp::spawn(backend);
    let [anna, bo, cy, dan, eve] = invited_to_study(&app, &unique("y"));
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
    let (status, body) = app.api(Some(&key)).post_json(
        "/api/surveys/s/announcements",
        r#"{"area": "teleport", "waves": ["w1"], "texts": {"sv": "x", "en": "y"}}"#,
    );
    assert_eq!(status, 404, "{body}");
    let (status, body) = app.api(Some(&key)).post_json(
        "/api/surveys/s/announcements",
        r#"{"area": "invoice-errors", "waves": ["w2"], "texts": {"sv": "Klart.", "en": "Done."}}"#,
    );
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["contacts"], 0, "{body}");
}

on_both_backends!(consenting_mentioners_of_an_area_hear_once_per_wave_in_their_language);

/// The area's id on the dashboard (`/admin/surveys/s/areas/{id}`) by its
/// labels (the survey's default language names it).
fn area_id(app: &TestApp, labels: [&str; 2]) -> i64 {
    use pds::db::schema::areas;
    areas::table
        .filter(areas::label.eq_any(labels))
        .select(areas::id)
        .first(&mut *app.db.conn().unwrap())
        .unwrap()
}

/// An analyst announces an improved area from the dashboard, without
/// JavaScript: the area page links to a form with a text per language and the
/// waves; a preview says how many customers will receive it and stores
/// nothing; a form that cannot be announced comes back with what to fix and
/// the words kept; only the confirmation announces, and the customers who
/// agreed get the email in their language from the SMTP server.
fn an_analyst_announces_an_area_from_the_dashboard(backend: Backend) {
    use crate::dashboard::{csrf_of, get, log_in, post};
    let app = TestApp::spawn(backend);
    let [anna, bo, cy] = invited_to_study(&app, &unique("da"));
    let first = |email: &str| received_for(email, 1).remove(0);
    answer(&app, &first(&anna), &[("Leveransen kom för sent", true)]);
    answer(&app, &first(&bo), &[("Late delivery again", false)]);
    answer(&app, &first(&cy), &[("The delivery was <b>late</b>", true)]);
    app.pds_ok(&["code", "--survey", "s"]);
    let cookie = log_in(&app);
    let id = area_id(&app, ["Late delivery", "Sena leveranser"]);
    let area_page = get(&app, &format!("/admin/surveys/s/areas/{id}"), Some(&cookie));
    let path = format!("/admin/surveys/s/areas/{id}/announce");
    assert!(
        area_page.body.contains(&format!("href=\"{path}\"")),
        "the area page links to it"
    );

    let form = get(&app, &path, Some(&cookie));
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(
        form.body.contains("name=\"text_sv\"")
            && form.body.contains("name=\"text_en\"")
            && form.body.contains("name=\"wave\" value=\"w1\""),
        "{}",
        form.body
    );
    let csrf = csrf_of(&form.body);
    let sv = "Vi har bytt transportör.";
    let en = "We changed carriers & <now> keep our dates.";
    let announcement = [
        ("csrf", csrf.as_str()),
        ("text_sv", sv),
        ("text_en", en),
        ("wave", "w1"),
    ];

    // Without the session's CSRF token nothing happens.
    let forged = post(
        &app,
        &path,
        Some(&cookie),
        &[("text_sv", sv), ("text_en", en), ("wave", "w1")],
    );
    assert_eq!(forged.status, 403);
    // A missing text comes back with what to fix, the other text kept.
    let missing = post(
        &app,
        &path,
        Some(&cookie),
        &[
            ("csrf", &csrf),
            ("text_sv", sv),
            ("text_en", " "),
            ("wave", "w1"),
        ],
    );
    assert_eq!(missing.status, 400, "{}", missing.body);
    assert!(
        missing.body.contains("the en text is empty") && missing.body.contains(sv),
        "{}",
        missing.body
    );
    // The preview counts who will hear of it and stores nothing.
    let preview = post(&app, &path, Some(&cookie), &announcement);
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert!(
        preview
            .body
            .contains("Send this to <span id=\"announce-count\">2</span> customers?")
            && preview.body.contains("Not told: 1 who did not agree")
            && preview
                .body
                .contains("We changed carriers &amp; &lt;now&gt; keep our dates."),
        "{}",
        preview.body
    );
    assert_eq!(stored_announcements(&app), 0, "a preview stores nothing");

    // Confirmed: announced as pds areas announce does, then back to the page.
    let done = post(
        &app,
        &path,
        Some(&cookie),
        &[&announcement[..], &[("confirmed", "yes")]].concat(),
    );
    assert_eq!(done.status, 303, "{}", done.body);
    let location = done.header("location").unwrap().to_string();
    let after = get(&app, &location, Some(&cookie));
    assert!(
        after.body.contains("Announced: 2 customers"),
        "{}",
        after.body
    );
    app.pds_ok(&["areas", "announce", "--survey", "s", "--send-now"]);
    received_for(&anna, 2);
    let to_anna = announcements_to(&anna);
    assert_eq!(to_anna.len(), 1);
    assert!(
        text_of(&to_anna[0]).contains(sv),
        "{}",
        text_of(&to_anna[0])
    );
    received_for(&cy, 2);
    let to_cy = announcements_to(&cy);
    assert_eq!(to_cy.len(), 1);
    let body = text_of(&to_cy[0]);
    assert!(body.contains(en) && !body.contains(sv), "{body}");
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        announcements_to(&bo).is_empty(),
        "Bo did not agree to be contacted"
    );

    // A second announcement for the same wave: the preview says that the two
    // were told about it already.
    let again = post(&app, &path, Some(&cookie), &announcement);
    assert!(
        again
            .body
            .contains("2 of them were told about these waves already"),
        "{}",
        again.body
    );
}

on_both_backends!(an_analyst_announces_an_area_from_the_dashboard);
