//! The short phone form without a browser (issue 17): one box and "+ add another"
//! that work as plain form posts, move buttons only where they move something, an
//! error summary that links to its fields, a redirect after sending, and who sends
//! the survey and reads its answers, in every email and page, in both languages.
//! The same form with JavaScript, and its height on a phone, are in `browser.rs`.

use crate::common::{get, link_in, new_email, post_form, received_for, Backend, TestApp};

const DISCOVERY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/survey-templates/discovery");
const PRIVACY: &str = "https://nordvik.example/privacy";

/// Creates survey `s` from the shipped discovery folder and invites one contact per
/// locale given; returns (email, personal link) for each.
fn invited(app: &TestApp, locales: &[&str]) -> Vec<(String, String)> {
    app.create_survey(DISCOVERY, "s");
    let contacts: Vec<(String, &str)> = locales.iter().map(|l| (new_email("c"), *l)).collect();
    let mut csv = String::from("email,name,locale\n");
    for (email, locale) in &contacts {
        csv.push_str(&format!("{email},Kim Kund,{locale}\n"));
    }
    let file = app.write_file("c.csv", &csv);
    app.pds_ok(&["contacts", "import", file.to_str().unwrap()]);
    app.invite("s", "w1");
    contacts
        .into_iter()
        .map(|(email, _)| {
            let link = link_in(&received_for(&email, 1)[0], &app.base_url);
            (email, link)
        })
        .collect()
}

/// Whether problem box `n` is shown (not `hidden`).
fn box_shown(page: &str, n: usize) -> bool {
    let tag = format!("id=\"slot_{n}\"");
    let at = page
        .find(&tag)
        .unwrap_or_else(|| panic!("no box {n} in the page"));
    let end = page[at..].find('>').expect("end of the tag");
    !page[at..at + end].contains("hidden")
}

/// Whether the button with `id` is in the page and shown.
fn button_shown(page: &str, id: &str) -> bool {
    let tag = format!("id=\"{id}\"");
    let Some(at) = page.find(&tag) else {
        return false;
    };
    let end = page[at..].find('>').expect("end of the tag");
    !page[at..at + end].contains(" hidden")
}

fn respondents(app: &TestApp) -> String {
    app.pds_ok(&["results", "--survey", "s", "--format", "json"])
}

#[test]
fn without_javascript_add_another_shows_one_more_box_and_keeps_what_was_typed() {
    let app = TestApp::spawn(Backend::Sqlite);
    let link = invited(&app, &["en"]).remove(0).1;
    let agent = app.http();
    let (status, page) = get(&agent, &link);
    assert_eq!(status, 200);
    assert!(
        box_shown(&page, 1) && !box_shown(&page, 2),
        "one box to start with"
    );
    assert!(button_shown(&page, "add_another"));
    assert!(
        page.contains("1 — most important"),
        "the first box says it matters most"
    );
    let first_question = page
        .find("Have you had any problems")
        .expect("the first question");
    assert!(
        first_question < page.find("id=\"problem_1\"").unwrap(),
        "“Have you had any problems?” comes before the first box"
    );

    let mut fields = vec![
        ("problem_1", "The invoice had the wrong VAT"),
        ("frequency_1", "often"),
        ("consent_1", "yes"),
        ("boxes", "1"),
        ("add", "1"),
    ];
    let (status, page) = post_form(&agent, &link, &fields);
    assert_eq!(status, 200, "{page}");
    assert!(box_shown(&page, 2) && !box_shown(&page, 3), "a second box");
    assert!(
        page.contains("The invoice had the wrong VAT"),
        "the text is kept"
    );
    assert!(page.contains("id=\"consent_1\" name=\"consent_1\" value=\"yes\" checked"));
    assert!(
        page.contains("name=\"problem_2\" rows=\"2\" aria-describedby=\"problem_2_error problem_2_count\" autofocus"),
        "the cursor waits in the new box"
    );
    // Up to M = 5 boxes, then no more "add another".
    for boxes in ["2", "3"] {
        fields[3] = ("boxes", boxes);
        let (_, page) = post_form(&agent, &link, &fields);
        assert!(
            button_shown(&page, "add_another"),
            "{boxes} boxes and one more"
        );
    }
    fields[3] = ("boxes", "4");
    let (_, page) = post_form(&agent, &link, &fields);
    assert!(
        box_shown(&page, 5) && !button_shown(&page, "add_another"),
        "M boxes at most"
    );
    assert!(
        respondents(&app).contains("\"n\": 0"),
        "adding a box stores nothing"
    );
}

#[test]
fn move_buttons_show_only_where_they_move_something_and_work_without_javascript() {
    let app = TestApp::spawn(Backend::Sqlite);
    let link = invited(&app, &["sv"]).remove(0).1;
    let agent = app.http();
    let (_, empty) = get(&agent, &link);
    for id in ["move_up_1", "move_down_1"] {
        assert!(!button_shown(&empty, id), "no {id} on a single empty box");
    }
    let (status, page) = post_form(
        &agent,
        &link,
        &[
            ("problem_1", "Fakturan var fel"),
            ("problem_2", "Leveransen kom sent"),
            ("consent_2", "yes"),
            ("boxes", "3"),
            ("move", "up_2"),
        ],
    );
    assert_eq!(status, 200, "{page}");
    let first = page.find("Leveransen kom sent").expect("moved text");
    let second = page.find("Fakturan var fel").expect("other text");
    assert!(first < second, "the second problem moved up");
    assert!(
        page.contains("id=\"consent_1\" name=\"consent_1\" value=\"yes\" checked"),
        "its consent moved with it"
    );
    assert!(!button_shown(&page, "move_up_1"), "no “up” on the first");
    assert!(button_shown(&page, "move_down_1"));
    assert!(button_shown(&page, "move_up_2"));
    assert!(
        !button_shown(&page, "move_down_2"),
        "box 3 is empty: nothing to swap with"
    );
    assert!(!button_shown(&page, "move_up_3") && !button_shown(&page, "move_down_3"));
    assert!(page.contains("1 – viktigast"), "in Swedish too");
}

#[test]
fn errors_are_summarised_at_the_top_with_links_to_the_fields_they_concern() {
    let app = TestApp::spawn(Backend::Sqlite);
    let link = invited(&app, &["en"]).remove(0).1;
    let agent = app.http();
    let summary = |page: &str| -> String {
        let at = page.find("id=\"error-summary\"").expect("an error summary");
        assert!(
            at < page.find("id=\"had_problems\"").unwrap(),
            "the summary is at the top"
        );
        page[at..at + page[at..].find("</div>").unwrap()].to_string()
    };

    let (status, page) = post_form(&agent, &link, &[]);
    assert_eq!(status, 422);
    assert!(summary(&page).contains("<a href=\"#problem_1\">Please describe at least one problem"));

    let (status, page) = post_form(
        &agent,
        &link,
        &[("no_problems", "yes"), ("problem_1", "Late")],
    );
    assert_eq!(status, 422);
    assert!(
        summary(&page).contains("href=\"#no_problems_yes\""),
        "{}",
        summary(&page)
    );

    // A duplicate rank (an old form, or a crafted one) marks the rank, not the text.
    let (status, page) = post_form(
        &agent,
        &link,
        &[
            ("problem_1", "a"),
            ("rank_1", "1"),
            ("problem_2", "b"),
            ("rank_2", "1"),
        ],
    );
    assert_eq!(status, 422);
    assert!(summary(&page).contains("<a href=\"#rank_2\">More than one problem has number 1"));
    assert!(page.contains("class=\"rank-mark has-error\" id=\"rank_2\""));
    assert!(!page.contains("id=\"problem_2\" name=\"problem_2\" rows=\"2\" aria-describedby=\"problem_2_error problem_2_count\" aria-invalid"));

    // Over the limit: refused with a clear error, never cut.
    let long = "y".repeat(1_005);
    let (status, page) = post_form(&agent, &link, &[("problem_1", &long)]);
    assert_eq!(status, 422);
    assert!(summary(&page).contains("<a href=\"#problem_1\">This problem is too long"));
    assert!(
        page.contains(&long),
        "the whole text comes back to be shortened"
    );
    assert!(
        page.contains("1005 of 1000 characters"),
        "the counter says how long"
    );
    assert!(
        !page.contains("maxlength"),
        "the browser does not cut it silently either"
    );
    assert!(respondents(&app).contains("\"n\": 0"));
}

#[test]
fn a_sent_answer_redirects_to_its_thank_you_page_so_a_refresh_sends_nothing() {
    let app = TestApp::spawn(Backend::Sqlite);
    let link = invited(&app, &["en"]).remove(0).1;
    let no_redirects: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let response = no_redirects
        .post(&link)
        .send_form([
            ("problem_1", "The delivery was two weeks late"),
            ("rank_1", "1"),
        ])
        .expect("POST");
    assert_eq!(response.status().as_u16(), 303, "POST, then redirect");
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let token = link.rsplit('/').next().unwrap();
    assert_eq!(location, format!("/s/{token}/thanks"));
    let thanks_url = format!("{}{location}", app.base_url);
    for refresh in 0..2 {
        let (status, thanks) = get(&no_redirects, &thanks_url);
        assert_eq!(status, 200, "view {refresh}");
        assert!(
            thanks.contains("The delivery was two weeks late"),
            "{thanks}"
        );
        assert!(thanks.contains("change the order"));
    }
    assert!(respondents(&app).contains("\"n\": 1"), "stored once");

    // After "no problems", nothing to reorder; the form says it is answered, as a notice.
    let agent = app.http();
    let (status, thanks) = post_form(&agent, &link, &[("no_problems", "yes")]);
    assert_eq!(status, 200);
    assert!(
        thanks.contains("no problems with Nordvik Supply"),
        "{thanks}"
    );
    assert!(!thanks.contains("order"), "no offer to reorder: {thanks}");
    let (_, form) = get(&agent, &link);
    assert!(form.contains("<p class=\"notice\" role=\"status\">You have already answered"));
    assert!(form.contains("id=\"no_problems_yes\" name=\"no_problems\" value=\"yes\" checked"));
}

#[test]
fn every_customer_email_and_page_says_who_sends_it_and_how_to_reach_a_person() {
    let app = TestApp::spawn(Backend::Sqlite);
    let contacts = invited(&app, &["en", "sv"]);
    app.pds_ok(&["remind", "--survey", "s", "--wave", "w1", "--after", "0s"]);
    let cases = [
        (
            &contacts[0],
            "Nordvik Supply customer research",
            "Questions about the study? Write to research@nordvik.example",
            "How Nordvik Supply handles your personal data",
            "customer research team",
        ),
        (
            &contacts[1],
            "Nordvik Supply kundundersökning",
            "Frågor om undersökningen? Skriv till research@nordvik.example",
            "Så hanterar Nordvik Supply dina personuppgifter",
            "kundundersökningsteamet",
        ),
    ];
    let agent = app.http();
    for ((email, link), sender, contact, privacy, who_reads) in cases {
        let mails = received_for(email, 2);
        assert_eq!(mails.len(), 2, "an invitation and a reminder to {email}");
        for raw in &mails {
            let message = mail_parser::MessageParser::default().parse(raw).unwrap();
            let from = message.from().and_then(|f| f.first()).expect("From");
            assert_eq!(
                from.name(),
                Some(sender),
                "the From name in the customer's language"
            );
            assert_eq!(
                from.address(),
                Some("research@nordvik.example"),
                "mail_from's address"
            );
            let reply_to = message
                .reply_to()
                .and_then(|r| r.first())
                .expect("Reply-To");
            assert_eq!(reply_to.address(), Some("research@nordvik.example"));
            for body in [message.body_text(0).unwrap(), message.body_html(0).unwrap()] {
                assert!(body.contains(contact), "{body}");
                assert!(body.contains(PRIVACY), "{body}");
            }
        }
        let (_, form) = get(&agent, link);
        let (_, thanks) = post_form(&agent, link, &[("problem_1", "x"), ("rank_1", "1")]);
        let unsubscribe = {
            let message = mail_parser::MessageParser::default()
                .parse(&mails[0])
                .unwrap();
            let text = message.body_text(0).unwrap().into_owned();
            let at = text
                .find(&format!("{}/u/", app.base_url))
                .expect("unsubscribe link");
            get(&agent, text[at..].split_whitespace().next().unwrap()).1
        };
        for (name, page) in [
            ("form", &form),
            ("thank-you", &thanks),
            ("unsubscribe", &unsubscribe),
        ] {
            assert!(page.contains(contact), "{name}: {page}");
            assert!(
                page.contains(&format!("<a href=\"{PRIVACY}\">{privacy}</a>")),
                "{name}: {page}"
            );
        }
        assert!(
            form.contains(who_reads) && thanks.contains(who_reads),
            "who reads the words"
        );
    }
}

#[test]
fn survey_check_names_a_bad_sender_reply_address_or_privacy_link() {
    let app = TestApp::spawn(Backend::Sqlite);
    let folder = app.dir.path().join("study");
    copy_folder(std::path::Path::new(DISCOVERY), &folder);
    let toml = std::fs::read_to_string(folder.join("survey.toml")).unwrap();
    let broken = toml
        .replace("research@nordvik.example\"\n", "research@\"\n")
        .replace(PRIVACY, "nordvik.example/privacy")
        .replace(
            "sender = \"Nordvik Supply kundundersökning\"",
            "sender = \"Nordvik <noreply@nordvik.example>\"",
        );
    std::fs::write(folder.join("survey.toml"), broken).unwrap();
    let out = app.pds(&["survey", "check", "--template", folder.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    for expected in [
        "reply_to \"research@\" is not an email address",
        "privacy_url \"nordvik.example/privacy\" is not a web address",
        "[locale.sv] sender is the name shown as the sender",
    ] {
        assert!(stderr.contains(expected), "{expected}: {stderr}");
    }
}

fn copy_folder(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_folder(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn the_demo_prints_how_to_serve_it_so_the_links_in_its_emails_open() {
    let dir = tempfile::tempdir().unwrap();
    let base_url = format!("http://127.0.0.1:{}", crate::common::free_port());
    let stdout =
        crate::common::run_demo(dir.path(), &["--respondents", "3", "--base-url", &base_url]);
    let serve = stdout
        .lines()
        .map(str::trim)
        .find(|line| line.contains(" serve --bind "))
        .unwrap_or_else(|| panic!("no serve command in:\n{stdout}"));
    assert!(serve.contains(&format!(
        "--bind {}",
        base_url.trim_start_matches("http://")
    )));

    // Every invitation links to the stable address, not to the demo's own port.
    let mail_dir = dir.path().join("study/mail-out");
    let mut links = Vec::new();
    for entry in std::fs::read_dir(&mail_dir).unwrap() {
        let raw = std::fs::read(entry.unwrap().path()).unwrap();
        let message = mail_parser::MessageParser::default().parse(&raw).unwrap();
        let text = message.body_text(0).unwrap().into_owned();
        if let Some(at) = text.find("/s/") {
            let start = text[..at].rfind("http").unwrap();
            links.push(text[start..].split_whitespace().next().unwrap().to_string());
        }
    }
    // 200 discovery invitations, then the checklist phase's 300 customers and 30 staff.
    assert_eq!(links.len(), 200 + 300 + 30);
    assert!(
        links
            .iter()
            .all(|l| l.starts_with(&format!("{base_url}/s/"))),
        "{:?}",
        &links[..2]
    );

    // Run as a user would paste it: VAR=value ... program serve --bind ADDRESS.
    let words = shlex::split(serve).expect("a shell command");
    let program_at = words.iter().position(|w| !w.contains('=')).unwrap();
    let mut server = std::process::Command::new(&words[program_at])
        .args(&words[program_at + 1..])
        .envs(
            words[..program_at]
                .iter()
                .map(|w| w.split_once('=').unwrap()),
        )
        .current_dir(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut opened = None;
    for _ in 0..100 {
        if let Ok(mut response) = agent.get(&links[0]).call() {
            opened = Some((
                response.status().as_u16(),
                response.body_mut().read_to_string().unwrap(),
            ));
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = server.kill();
    let _ = server.wait();
    let (status, page) = opened.expect("the printed command serves the links");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Nordvik"), "{page}");
}
