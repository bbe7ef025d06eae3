//! A discovery study end to end, as a customer and an analyst live it: contacts are
//! imported, invited by real email, the customer follows the link in the email they
//! received, answers, and the analyst sees the answer in the ranked results. Runs on
//! SQLite and on PostgreSQL.

use crate::common::{get, link_in, post_form, received_for, unique, Backend, TestApp};

fn customer_answers_from_the_emailed_link(backend: Backend) {
    let app = TestApp::spawn(backend);
    let domain = format!("{}.example", unique("d"));
    let anna = format!("anna@{domain}");
    let john = format!("john@{domain}");

    let out = app.create_survey(
        concat!(env!("CARGO_MANIFEST_DIR"), "/survey-templates/discovery"),
        "study",
    );
    assert!(out.contains("Created survey study"), "{out}");

    let csv = format!(
        "email,name,locale,customer_type\n{anna},Anna Åberg,sv,current\n{john},John O'Brien <b>,en,lost\n"
    );
    let file = app.write_file("contacts.csv", &csv);
    let out = app.pds_ok(&["contacts", "import", file.to_str().unwrap()]);
    assert!(out.contains("Imported 2 new"), "{out}");

    let out = app.invite("study", "2026-H2");
    assert!(out.contains("Queued 2 invitations"), "{out}");
    assert!(out.contains("Delivered 2 emails"), "{out}");

    // Anna's invitation arrives in Swedish, multipart, with her name and her link.
    let mails = received_for(&anna, 1);
    assert_eq!(mails.len(), 1, "exactly one invitation for Anna");
    let message = mail_parser::MessageParser::default()
        .parse(&mails[0])
        .unwrap();
    assert!(
        message.subject().unwrap().contains("Nordvik"),
        "{:?}",
        message.subject()
    );
    assert!(message.message_id().is_some());
    assert!(message.date().is_some());
    assert_eq!(
        message.to().unwrap().first().unwrap().name(),
        Some("Anna Åberg")
    );
    let html = message.body_html(0).expect("an HTML part").into_owned();
    let text = message
        .body_text(0)
        .expect("a plain-text part")
        .into_owned();
    assert!(text.contains("Anna"), "{text}");
    let link = link_in(&mails[0], &app.base_url);
    assert!(html.contains(&link), "the HTML part carries the same link");

    // John's name is escaped in the HTML part of his email.
    let johns = received_for(&john, 1);
    let john_html = mail_parser::MessageParser::default()
        .parse(&johns[0])
        .unwrap()
        .body_html(0)
        .unwrap()
        .into_owned();
    assert!(!john_html.contains("<b>"), "{john_html}");

    // Running the invitation again sends nothing new.
    let out = app.invite("study", "2026-H2");
    assert!(
        out.contains("Queued 0 invitations") && out.contains("2 invited before"),
        "{out}"
    );
    let later = crate::common::received_within(&anna, 2, std::time::Duration::from_secs(1));
    assert_eq!(later.len(), 1, "no second invitation");

    // Anna opens the form: Swedish, with five problem slots.
    let agent = app.http();
    let (status, page) = get(&agent, &link);
    assert_eq!(status, 200);
    assert!(page.contains("lang=\"sv\""), "form in Anna's language");
    for i in 1..=5 {
        assert!(page.contains(&format!("name=\"problem_{i}\"")), "slot {i}");
    }

    // She answers with two problems, the second one first in importance.
    let (status, thanks) = post_form(
        &agent,
        &link,
        &[
            ("problem_1", "Fakturan var fel igen"),
            ("rank_1", "2"),
            ("problem_2", "Leveransen kom två veckor för sent"),
            ("rank_2", "1"),
            ("frequency_2", "often"),
            ("consent_2", "yes"),
        ],
    );
    assert_eq!(status, 200, "{thanks}");
    assert!(
        thanks.contains("Leveransen kom två veckor för sent"),
        "thank-you page repeats her words"
    );

    // The analyst codes her words into areas and sees her answer, ranked by joint-v1.
    app.pds_ok(&["code", "--survey", "study"]);
    let json = app.pds_ok(&["results", "--survey", "study", "--format", "json"]);
    let results: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(results["method"], "joint-v1");
    assert_eq!(results["n"], 1);
    let areas = results["areas"].as_array().unwrap();
    assert_eq!(areas.len(), 2);
    assert_eq!(areas[0]["area"], "Late delivery", "the codebook's area");
    assert_eq!(areas[1]["area"], "Invoice errors");
    assert_eq!(areas[0]["score"], 1.0, "rank 1 weighs 1");
    assert_eq!(areas[1]["score"], 0.8, "rank 2 of M = 5 weighs 4/5");

    // She comes back and changes her answer: it replaces the first one.
    let (status, page) = get(&agent, &link);
    assert_eq!(status, 200);
    assert!(
        page.contains("Fakturan var fel igen"),
        "the form shows her earlier answer"
    );
    let (status, _) = post_form(&agent, &link, &[("no_problems", "yes")]);
    assert_eq!(status, 200);
    let json = app.pds_ok(&["results", "--survey", "study", "--format", "json"]);
    let results: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(results["n"], 1, "still one respondent");
    assert_eq!(results["areas"].as_array().unwrap().len(), 0);

    // The CSV export carries the method and n on every row.
    let (status, _) = post_form(
        &agent,
        &link,
        &[
            ("problem_1", "=HYPERLINK(\"http://evil\")"),
            ("rank_1", "1"),
        ],
    );
    assert_eq!(status, 200);
    let csv_out = app.pds_ok(&["results", "--survey", "study", "--format", "csv"]);
    let mut reader = csv::Reader::from_reader(csv_out.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let row = reader.records().next().unwrap().unwrap();
    let field = |name: &str| row[headers.iter().position(|h| h == name).unwrap()].to_string();
    assert_eq!(
        field("section"),
        "uncoded",
        "not coded yet, listed as written"
    );
    assert_eq!(field("method"), "not-yet-coded");
    assert_eq!(field("n"), "1");
    assert!(
        field("area").starts_with("'="),
        "formula neutralised: {}",
        field("area")
    );
}

on_both_backends!(customer_answers_from_the_emailed_link);
