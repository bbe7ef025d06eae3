//! Closing the loop: a routed complaint becomes a case; the team acts on it from
//! the links in its email (a GET only asks, a POST acts); a customer who agreed to
//! be contacted hears back in their own language, and nobody else does.

use crate::common::{
    copy_folder, emails, get, link_in, post_form, received_for, unique, Backend, TestApp,
};
use diesel::prelude::*;

const DISCOVERY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/survey-templates/discovery");

pub(crate) fn parse(raw: &[u8]) -> mail_parser::Message<'_> {
    mail_parser::MessageParser::default()
        .parse(raw)
        .expect("a MIME message")
}

pub(crate) fn text_of(raw: &[u8]) -> String {
    parse(raw)
        .body_text(0)
        .expect("plain-text part")
        .into_owned()
}

/// The case links in a complaint email, in the order they are written:
/// acknowledge, resolve, decline.
fn case_links(raw: &[u8], base_url: &str) -> [String; 3] {
    let text = text_of(raw);
    let prefix = format!("{base_url}/c/");
    let links: Vec<String> = text
        .split_whitespace()
        .filter(|w| w.starts_with(&prefix))
        .map(str::to_string)
        .collect();
    links
        .try_into()
        .unwrap_or_else(|l: Vec<String>| panic!("three case links, found {l:?} in:\n{text}"))
}

/// The emails `email` received so far whose subject starts with one of `subjects`.
pub(crate) fn received_titled(email: &str, subjects: &[&str]) -> Vec<Vec<u8>> {
    received_for(email, 0)
        .into_iter()
        .filter(|m| {
            parse(m)
                .subject()
                .is_some_and(|s| subjects.iter().any(|start| s.starts_with(start)))
        })
        .collect()
}

/// The subjects of the follow-up email, in English and Swedish.
pub(crate) const FOLLOW_UP: [&str; 2] = ["What we did about the problem", "Vad vi gjorde"];

/// How many follow-up emails (in either language) reached `email`.
fn follow_ups(email: &str) -> usize {
    received_titled(email, &FOLLOW_UP).len()
}

/// Calls the admin API with `key`: GET, or POST with a JSON `body`.
fn token_of(link: &str) -> &str {
    link.rsplit('/').next().expect("a token")
}

/// A survey folder like the discovery study, routing late deliveries to `team`
/// (Swedish-speaking), changed by `adjust`.
pub(crate) fn survey_folder(
    app: &TestApp,
    name: &str,
    team: &str,
    adjust: impl FnOnce(&std::path::Path),
) -> String {
    let folder = app.dir.path().join(name);
    copy_folder(std::path::Path::new(DISCOVERY), &folder);
    std::fs::write(
        folder.join("routing.toml"),
        crate::common::routing_toml(team),
    )
    .unwrap();
    adjust(&folder);
    folder.to_str().unwrap().to_string()
}

/// Creates survey `slug` from `folder`, imports `contacts` (email, name, locale)
/// and invites them.
pub(crate) fn study(app: &TestApp, folder: &str, slug: &str, contacts: &[(&str, &str, &str)]) {
    app.create_survey(folder, slug);
    let mut csv = String::from("email,name,locale\n");
    for (email, name, locale) in contacts {
        csv.push_str(&format!("{email},{name},{locale}\n"));
    }
    let file = app.write_file(&format!("{slug}.csv"), &csv);
    app.pds_ok(&["contacts", "import", file.to_str().unwrap()]);
    app.invite(slug, "w1");
}

/// The numbers of the cases `pds cases list` prints.
pub(crate) fn case_ids(app: &TestApp, args: &[&str]) -> Vec<String> {
    let mut all = vec!["cases", "list"];
    all.extend_from_slice(args);
    app.pds_ok(&all)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| w.chars().all(|c| c.is_ascii_digit()))
        .map(str::to_string)
        .collect()
}

fn post_with_origin(
    agent: &ureq::Agent,
    url: &str,
    origin: &str,
    pairs: &[(&str, &str)],
) -> (u16, String) {
    let mut response = agent
        .post(url)
        .header("Origin", origin)
        .send_form(pairs.iter().copied())
        .expect("POST");
    let status = response.status().as_u16();
    (status, response.body_mut().read_to_string().expect("body"))
}

fn a_team_closes_the_loop_from_the_complaint_email(backend: Backend) {
    let app = TestApp::spawn(backend);
    let d = unique("c");
    let (anna, team) = (format!("anna@{d}.example"), format!("ops@{d}.example"));
    let folder = survey_folder(&app, "study", &team, |_| {});
    study(&app, &folder, "s", &[(&anna, "Anna Åberg", "en")]);
    let agent = app.http();
    let link = link_in(&received_for(&anna, 1)[0], &app.base_url);

    let first = [
        ("problem_1", "Late delivery of the sofa"),
        ("rank_1", "1"),
        ("consent_1", "yes"),
    ];
    assert_eq!(post_form(&agent, &link, &first).0, 200);
    // Anna corrects her words: the case takes them; no second case opens.
    let corrected = [
        ("problem_1", "Late delivery of the sofa, two weeks late"),
        ("rank_1", "1"),
        ("consent_1", "yes"),
    ];
    assert_eq!(post_form(&agent, &link, &corrected).0, 200);
    let ids = case_ids(&app, &["--survey", "s"]);
    assert_eq!(ids, ["1"], "one case for one problem");
    let shown = app.pds_ok(&["cases", "show", "1"]);
    assert!(
        shown.contains("Case 1: open")
            && shown.contains("Words: Late delivery of the sofa, two weeks late")
            && shown.contains("text_updated: Late delivery of the sofa"),
        "{shown}"
    );

    app.pds_ok(&["worker", "--once"]);
    let mails = received_for(&team, 2);
    let latest = mails
        .iter()
        .find(|m| text_of(m).contains("two weeks late"))
        .expect("the corrected complaint reached the team");
    let [ack, resolve, decline] = case_links(latest, &app.base_url);

    // Opening a link (as a scanner would) only asks.
    let (status, page) = get(&agent, &ack);
    assert_eq!(status, 200);
    assert!(
        page.contains("Bekräfta klagomålet?") && page.contains("two weeks late"),
        "the team's language, the customer's words:\n{page}"
    );
    assert!(app.pds_ok(&["cases", "show", "1"]).contains("Case 1: open"));

    // A form on another site cannot act, even knowing the link.
    let (status, page) = post_with_origin(
        &agent,
        &ack,
        "http://evil.example",
        &[("token", token_of(&ack))],
    );
    assert_eq!(status, 403, "{page}");
    // Nor can a POST without the token in its body.
    assert_eq!(post_form(&agent, &ack, &[]).0, 403);
    assert!(app.pds_ok(&["cases", "show", "1"]).contains("Case 1: open"));

    let (status, page) =
        post_with_origin(&agent, &ack, &app.base_url, &[("token", token_of(&ack))]);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Klagomålet är nu bekräftat"), "{page}");
    let shown = app.pds_ok(&["cases", "show", "1"]);
    assert!(
        shown.contains("Case 1: acknowledged")
            && shown.contains("Logistik (email link)  acknowledged"),
        "{shown}"
    );

    // Each link works once.
    let (status, page) = post_form(&agent, &ack, &[("token", token_of(&ack))]);
    assert_eq!(status, 409);
    assert!(page.contains("Länken har redan använts"), "{page}");
    assert!(
        page.contains("Logistik (länk i mejl) · bekräftat"),
        "the history, in the team's language:\n{page}"
    );

    let note = "We changed carriers <b>and</b> refunded the delivery.";
    let (status, page) = post_form(
        &agent,
        &resolve,
        &[("token", token_of(&resolve)), ("note", note)],
    );
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("&lt;b&gt;and&lt;&#x2F;b&gt;") || page.contains("&lt;b&gt;and&lt;/b&gt;"),
        "the note is escaped:\n{page}"
    );
    assert!(!page.contains("<b>and</b>"), "{page}");
    assert!(
        page.contains("Kunden får din anteckning i ett mejl"),
        "{page}"
    );

    // The case is closed: the decline link no longer applies.
    let (status, page) = get(&agent, &decline);
    assert_eq!(status, 409);
    assert!(page.contains("åtgärdat"), "{page}");
    let (status, _) = post_form(&agent, &decline, &[("token", token_of(&decline))]);
    assert_eq!(status, 409);
    let shown = app.pds_ok(&["cases", "show", "1"]);
    assert!(
        shown.contains("Case 1: resolved")
            && shown.contains("followup_queued")
            && !shown.contains("declined"),
        "{shown}"
    );

    app.pds_ok(&["worker", "--once"]);
    let to_anna = received_for(&anna, 2);
    let followup = to_anna
        .iter()
        .find(|m| {
            parse(m)
                .subject()
                .is_some_and(|s| s.starts_with("What we did about the problem"))
        })
        .expect("Anna hears back, in English");
    let text = text_of(followup);
    assert!(
        text.contains(note) && text.contains("two weeks late") && text.contains("Hello Anna Åberg"),
        "{text}"
    );
    let html = parse(followup)
        .body_html(0)
        .expect("HTML part")
        .into_owned();
    assert!(!html.contains("<b>and</b>"), "the note is escaped:\n{html}");

    // Anna asks to be forgotten: her case keeps the words, not the consent.
    app.pds_ok(&["contacts", "erase", &anna]);
    let shown = app.pds_ok(&["cases", "show", "1"]);
    assert!(
        shown.contains("Customer agreed to be contacted: no") && shown.contains("contact_erased"),
        "{shown}"
    );

    // A forged or mangled link finds nothing and says so.
    let (status, page) = get(&agent, &format!("{}/c/{}", app.base_url, "0".repeat(32)));
    assert_eq!(status, 404);
    assert!(page.contains("No complaint has this link"), "{page}");
    let (status, _) = post_form(
        &agent,
        &format!("{}/c/{}", app.base_url, "0".repeat(32)),
        &[("token", &"0".repeat(32))],
    );
    assert_eq!(status, 404);
    assert_eq!(
        get(&agent, &format!("{}/c/not-a-token", app.base_url)).0,
        404
    );
}

on_both_backends!(a_team_closes_the_loop_from_the_complaint_email);

fn only_customers_who_agreed_and_are_still_subscribed_hear_back(backend: Backend) {
    let app = TestApp::spawn(backend);
    let [anna, bo, team] = emails(["anna", "bo", "ops"]);
    let folder = survey_folder(&app, "study", &team, |_| {});
    study(
        &app,
        &folder,
        "s",
        &[(&anna, "Anna Åberg", "sv"), (&bo, "Bo Ek", "en")],
    );
    let agent = app.http();
    let invitation = received_for(&anna, 1).remove(0);
    let anna_link = link_in(&invitation, &app.base_url);
    let bo_link = link_in(&received_for(&bo, 1)[0], &app.base_url);
    let answer = [("problem_1", "Leveransen kom för sent"), ("rank_1", "1")];
    let mut consenting = answer.to_vec();
    consenting.push(("consent_1", "yes"));
    assert_eq!(post_form(&agent, &anna_link, &consenting).0, 200);
    assert_eq!(post_form(&agent, &bo_link, &answer).0, 200);

    // Anna agreed, then unsubscribed: no more email from the study.
    let text = text_of(&invitation);
    let start = text
        .find(&format!("{}/u/", app.base_url))
        .expect("unsubscribe link");
    let unsubscribe = text[start..].split_whitespace().next().unwrap().to_string();
    assert_eq!(post_form(&agent, &unsubscribe, &[]).0, 200);

    let ids = case_ids(&app, &["--status", "open"]);
    assert_eq!(ids.len(), 2, "{ids:?}");
    // One case is resolved over the API, the other from the terminal.
    let key = app.create_key("ci");
    let (status, acted) = app.api(Some(&key)).post_json(
        &format!("/api/cases/{}/actions", ids[0]),
        r#"{"action": "resolve", "note": "Fixed."}"#,
    );
    assert_eq!(status, 200, "{acted}");
    assert_eq!(acted["case"]["status"], "resolved", "{acted}");
    assert_eq!(acted["follow_up"], "skipped", "{acted}");
    let api_reason = acted["follow_up_skipped_because"]
        .as_str()
        .unwrap()
        .to_string();
    let cli = app.pds_ok(&["cases", "resolve", &ids[1], "--note", "Fixed."]);
    let unsubscribed = "No follow-up to the customer: the contact has unsubscribed";
    let no_consent = "No follow-up to the customer: the customer did not agree to be contacted";
    assert!(
        (api_reason == "unsubscribed" && cli.contains(no_consent))
            || (api_reason == "no_consent" && cli.contains(unsubscribed)),
        "{api_reason}\n{cli}"
    );
    let (status, listed) = app
        .api(Some(&key))
        .get("/api/cases?status=resolved&team=logistics");
    assert_eq!(status, 200);
    assert_eq!(listed.as_array().map(Vec::len), Some(2), "{listed}");
    let (status, shown) = app.api(Some(&key)).get(&format!("/api/cases/{}", ids[0]));
    assert_eq!(status, 200);
    let history = shown["history"].as_array().unwrap();
    assert!(
        history.iter().any(|e| e["action"] == "resolved"
            && e["actor_kind"] == "api"
            && e["actor_name"] == "ci"
            && e["note"] == "Fixed."),
        "{shown}"
    );
    let (status, refused) = app.api(Some(&key)).post_json(
        &format!("/api/cases/{}/actions", ids[0]),
        r#"{"action": "acknowledge"}"#,
    );
    assert_eq!(status, 400);
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("cannot be acknowledged now"),
        "{refused}"
    );
    let (_, doc) = app.api(Some(&key)).get("/api/openapi.json");
    assert!(doc["paths"]["/api/cases/{id}/actions"]["post"].is_object());
    assert!(case_ids(&app, &["--status", "open"]).is_empty());
    assert_eq!(
        case_ids(&app, &["--status", "resolved", "--team", "logistics"]).len(),
        2
    );
    // A closed case cannot be acted on again.
    let out = app.pds(&["cases", "decline", &ids[0]]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("it cannot be declined now"),
        "{out:?}"
    );

    app.pds_ok(&["worker", "--once"]);
    assert_eq!(received_for(&team, 2).len(), 2);
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(received_for(&anna, 1).len(), 1, "only the invitation");
    assert_eq!(received_for(&bo, 1).len(), 1, "only the invitation");
    assert_eq!(follow_ups(&anna) + follow_ups(&bo), 0);
}

on_both_backends!(only_customers_who_agreed_and_are_still_subscribed_hear_back);

fn anonymous_and_older_surveys_send_no_follow_up_and_old_links_expire(backend: Backend) {
    let app = TestApp::spawn(backend);
    let [anna, bo, team] = emails(["anna", "bo", "ops"]);
    let anonymous = survey_folder(&app, "anonymous", &team, |f| {
        let toml = std::fs::read_to_string(f.join("survey.toml")).unwrap();
        std::fs::write(
            f.join("survey.toml"),
            toml.replacen("[survey]\n", "[survey]\nanonymous = true\n", 1),
        )
        .unwrap();
    });
    // A survey stored before follow-ups existed has no followup templates.
    let older = survey_folder(&app, "older", &team, |f| {
        for locale in ["en", "sv"] {
            for file in [
                "followup.subject.hbs",
                "followup.txt.hbs",
                "followup.html.hbs",
            ] {
                std::fs::remove_file(f.join(locale).join(file)).unwrap();
            }
        }
    });
    // Follow-up templates come all together or not at all.
    let half = survey_folder(&app, "half", &team, |f| {
        std::fs::remove_file(f.join("sv").join("followup.html.hbs")).unwrap();
    });
    let out = app.pds(&["survey", "check", "--template", &half]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("sv/followup.html.hbs: missing (a follow-up needs all of"),
        "{err}"
    );
    study(&app, &anonymous, "anon", &[(&anna, "Anna Åberg", "en")]);
    let agent = app.http();
    let answer = [
        ("problem_1", "Late delivery"),
        ("rank_1", "1"),
        ("consent_1", "yes"),
    ];
    let link = link_in(&received_for(&anna, 1)[0], &app.base_url);
    assert_eq!(post_form(&agent, &link, &answer).0, 200);
    study(&app, &older, "old", &[(&bo, "Bo Ek", "en")]);
    let link = link_in(&received_for(&bo, 1)[0], &app.base_url);
    assert_eq!(post_form(&agent, &link, &answer).0, 200);

    let anon_case = case_ids(&app, &["--survey", "anon"]);
    let old_case = case_ids(&app, &["--survey", "old"]);
    assert_eq!((anon_case.len(), old_case.len()), (1, 1));
    let out = app.pds_ok(&["cases", "resolve", &anon_case[0], "--note", "Fixed."]);
    assert!(out.contains("No follow-up to the customer"), "{out}");
    let out = app.pds_ok(&["cases", "resolve", &old_case[0], "--note", "Fixed."]);
    assert!(out.contains("no followup templates"), "{out}");

    // The team's links for the older survey's case: expire them.
    app.pds_ok(&["worker", "--once"]);
    let mails = received_for(&team, 2);
    assert_eq!(mails.len(), 2);
    {
        use pds::db::schema::case_links;
        let past = chrono::Utc::now().naive_utc() - chrono::Duration::days(1);
        diesel::update(case_links::table)
            .set(case_links::expires_at.eq(past))
            .execute(&mut *app.db.conn().unwrap())
            .unwrap();
    }
    let [ack, _, _] = case_links(&mails[0], &app.base_url);
    let before = app.pds_ok(&["cases", "show", &anon_case[0]]);
    let (status, page) = get(&agent, &ack);
    assert_eq!(status, 410);
    assert!(page.contains("äldre än 30 dagar"), "{page}");
    let (status, _) = post_form(&agent, &ack, &[("token", token_of(&ack))]);
    assert_eq!(status, 410);
    assert_eq!(
        app.pds_ok(&["cases", "show", &anon_case[0]]),
        before,
        "nothing changed"
    );

    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(follow_ups(&anna), 0);
    assert_eq!(follow_ups(&bo), 0);
}

on_both_backends!(anonymous_and_older_surveys_send_no_follow_up_and_old_links_expire);
