//! Email that must arrive exactly once: routed complaints to operations teams,
//! reminders that stop once a customer answers, one-click unsubscribe, and delivery
//! that survives a dead SMTP server, a refusing recipient and a killed worker.

use std::collections::HashSet;

use crate::common::{
    args, emails, get, link_in, post_form, received_for, routing_toml, unique, Backend, SmtpSink,
    TestApp,
};
use diesel::prelude::*;

const DISCOVERY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/survey-templates/discovery");

fn parse(raw: &[u8]) -> mail_parser::Message<'_> {
    mail_parser::MessageParser::default()
        .parse(raw)
        .expect("a MIME message")
}

/// Creates survey `s` with routing to `team`, imports `contacts` (email, name,
/// locale, customer_type) and invites them all.
fn study(app: &TestApp, team: &str, contacts: &[(&str, &str, &str, &str)]) {
    app.create_survey(DISCOVERY, "s");
    let routing = app.write_file("routing.toml", &routing_toml(team));
    let out = app.pds_ok(&["route", "set", "--survey", "s", routing.to_str().unwrap()]);
    assert!(out.contains("1 rules to 1 teams"), "{out}");
    let mut csv = String::from("email,name,locale,customer_type\n");
    for (email, name, locale, kind) in contacts {
        csv.push_str(&format!("{email},{name},{locale},{kind}\n"));
    }
    app.import_contacts(&csv);
    app.invite("s", "w1");
}

fn routed_complaints_reach_the_team_once(backend: Backend) {
    let app = TestApp::spawn(backend);
    let [anna, bo, team] = emails(["anna", "bo", "ops"]);
    study(
        &app,
        &team,
        &[
            (&anna, "Anna Åberg", "sv", "current"),
            (&bo, "Bo Ek", "en", "lost"),
        ],
    );

    let out = route_test(&app, "Leveransen kom för sent");
    assert!(
        out.contains("Rule \"late deliveries\" fires") && out.contains("leverans*"),
        "{out}"
    );
    let out = route_test(&app, "Fakturan var fel");
    assert!(out.contains("No rule fires"), "{out}");

    let agent = app.http();
    let anna_link = link_in(&received_for(&anna, 1)[0], &app.base_url);
    let bo_link = link_in(&received_for(&bo, 1)[0], &app.base_url);
    let answer = [
        ("problem_1", "Fakturan var fel"),
        ("rank_1", "1"),
        ("problem_2", "Leveransen kom två veckor för sent"),
        ("rank_2", "2"),
        ("frequency_2", "often"),
        ("consent_2", "yes"),
    ];
    assert_eq!(post_form(&agent, &anna_link, &answer).0, 200);
    assert_eq!(
        post_form(
            &agent,
            &bo_link,
            &[("problem_1", "Late delivery, again"), ("rank_1", "1")]
        )
        .0,
        200
    );
    // Anna corrects her answer but keeps the delivery problem: no second complaint.
    assert_eq!(post_form(&agent, &anna_link, &answer[2..]).0, 200);
    app.pds_ok(&["worker", "--once"]);

    let mails = received_for(&team, 2);
    assert_eq!(mails.len(), 2, "one complaint per customer, none repeated");
    let texts: Vec<String> = mails
        .iter()
        .map(|m| parse(m).body_text(0).unwrap().into_owned())
        .collect();
    let anna_mail = texts
        .iter()
        .find(|t| t.contains("Leveransen kom två veckor för sent"))
        .expect("Anna's words, verbatim");
    assert!(
        anna_mail.contains(&anna) && anna_mail.contains("Anna Åberg"),
        "she agreed to be contacted:\n{anna_mail}"
    );
    let bo_mail = texts
        .iter()
        .find(|t| t.contains("Late delivery, again"))
        .expect("Bo's words, verbatim");
    assert!(
        !bo_mail.contains(&bo) && !bo_mail.contains("Bo Ek"),
        "he did not agree to be contacted:\n{bo_mail}"
    );
    assert!(
        !texts.iter().any(|t| t.contains("Fakturan var fel")),
        "unrouted problems stay with the analysts"
    );
    for m in &mails {
        let message = parse(m);
        assert!(
            message.body_html(0).is_some(),
            "multipart with an HTML part"
        );
        assert!(message.subject().is_some_and(|s| !s.is_empty()));
    }
}

on_both_backends!(routed_complaints_reach_the_team_once);

fn reminders_go_only_to_those_who_have_not_answered_or_unsubscribed(backend: Backend) {
    let app = TestApp::spawn(backend);
    let [a, b, c, team] = emails(["a", "b", "c", "ops"]);
    study(
        &app,
        &team,
        &[
            (&a, "A", "en", "current"),
            (&b, "Björn Öst", "sv", "current"),
            (&c, "C", "en", "lost"),
        ],
    );
    let agent = app.http();

    // Every invitation offers one-click unsubscribe (RFC 8058).
    let invitation = received_for(&c, 1).remove(0);
    let message = parse(&invitation);
    let header = |name: &str| message.header_raw(name).map(|v| v.trim().to_string());
    let list_unsubscribe = header("List-Unsubscribe").expect("List-Unsubscribe header");
    assert_eq!(
        header("List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    let unsubscribe_url = list_unsubscribe.trim_matches(['<', '>']).to_string();
    assert!(
        unsubscribe_url.starts_with(&format!("{}/u/", app.base_url)),
        "{unsubscribe_url}"
    );
    assert!(
        message.body_text(0).unwrap().contains(&unsubscribe_url),
        "the link is in the text too"
    );

    // Opening the link only asks; the button (or a mail client's one-click POST) acts.
    let (status, page) = get(&agent, &unsubscribe_url);
    assert_eq!(status, 200);
    assert!(
        page.contains("<form") && page.contains("method=\"post\""),
        "{page}"
    );
    let (status, _) = post_form(
        &agent,
        &unsubscribe_url,
        &[("List-Unsubscribe", "One-Click")],
    );
    assert_eq!(status, 200);

    // A answers; B does not; C unsubscribed. Only B is reminded, with a working link.
    let a_link = link_in(&received_for(&a, 1)[0], &app.base_url);
    assert_eq!(post_form(&agent, &a_link, &[("no_problems", "yes")]).0, 200);
    let out = app.pds_ok(&args("remind --survey s --wave w1 --after 0s --max 1"));
    assert!(
        out.contains("Queued 1 reminders")
            && out.contains("1 answered")
            && out.contains("1 unsubscribed"),
        "{out}"
    );
    let b_mails = received_for(&b, 2);
    assert_eq!(b_mails.len(), 2, "invitation and one reminder");
    let reminder = b_mails
        .iter()
        .map(|m| parse(m))
        .find(|m| {
            m.header_raw("List-Unsubscribe").is_some()
                && m.body_text(0).is_some_and(|t| t.contains("/s/"))
        })
        .unwrap();
    let reminder_link = {
        let text = reminder.body_text(0).unwrap().into_owned();
        let start = text.find(&format!("{}/s/", app.base_url)).unwrap();
        text[start..].split_whitespace().next().unwrap().to_string()
    };
    let (status, _) = get(&agent, &reminder_link);
    assert_eq!(status, 200, "the reminder's link opens the form");
    let out = app.pds_ok(&args("remind --survey s --wave w1 --after 0s --max 1"));
    assert!(
        out.contains("Queued 0 reminders") && out.contains("1 reminded 1 times"),
        "{out}"
    );

    // An unsubscribed contact is never emailed again, by any command.
    let out = app.invite("s", "w2");
    assert!(
        out.contains("Queued 2 invitations") && out.contains("1 unsubscribed"),
        "{out}"
    );
    let later = crate::common::received_within(&c, 2, std::time::Duration::from_millis(500));
    assert_eq!(later.len(), 1, "nothing after the unsubscribe");
}

on_both_backends!(reminders_go_only_to_those_who_have_not_answered_or_unsubscribed);

fn message_ids(raw: &[Vec<u8>]) -> Vec<String> {
    raw.iter()
        .map(|m| parse(m).message_id().expect("Message-ID").to_string())
        .collect()
}

#[test]
fn complaints_queued_while_the_smtp_server_is_down_are_all_delivered_once() {
    let port = crate::common::free_port();
    let dir = tempfile::tempdir().unwrap();
    let up = SmtpSink::start(port, &dir.path().join("before"), &[]);
    let app = TestApp::spawn_with_smtp(Backend::Sqlite, &up.url());
    let d = unique("down");
    let team = format!("ops@{d}.example");
    let contacts: Vec<(String, String)> = (0..500)
        .map(|i| (format!("c{i}@{d}.example"), format!("C {i}")))
        .collect();
    let rows: Vec<(&str, &str, &str, &str)> = contacts
        .iter()
        .map(|(e, n)| (e.as_str(), n.as_str(), "en", "current"))
        .collect();
    study(&app, &team, &rows);
    let links: Vec<String> = up
        .messages()
        .iter()
        .filter_map(|m| parse(m).body_text(0).map(|t| t.into_owned()))
        .filter_map(|t| {
            t.find("/s/")
                .map(|i| format!("{}{}", app.base_url, &t[i..i + 35]))
        })
        .collect();
    assert_eq!(links.len(), 500, "every invitation arrived");
    up.stop();

    // The SMTP server is down while 500 answers arrive.
    let agent = app.http();
    for link in &links {
        assert_eq!(
            post_form(
                &agent,
                link,
                &[("problem_1", "Late delivery"), ("rank_1", "1")]
            )
            .0,
            200
        );
    }
    let out = app.pds_ok(&["worker", "--once"]);
    assert!(
        out.contains("Delivered 0") && out.contains("retrying 500"),
        "{out}"
    );
    let status = app.pds_ok(&["outbox", "status"]);
    assert!(
        status.contains("complaint") && status.contains("queued") && status.contains("500"),
        "{status}"
    );

    // It comes back; the queue drains; every complaint arrives exactly once.
    let again = SmtpSink::start(port, &dir.path().join("after"), &[]);
    app.pds_ok(&["outbox", "retry"]);
    let out = app.pds_ok(&["worker", "--once"]);
    assert!(out.contains("Delivered 500"), "{out}");
    let received = again.messages();
    assert_eq!(received.len(), 500);
    let ids: HashSet<String> = message_ids(&received).into_iter().collect();
    assert_eq!(ids.len(), 500, "no duplicates");
}

#[test]
fn a_refused_recipient_is_marked_failed_with_the_servers_answer_and_the_rest_are_delivered() {
    let d = unique("rej");
    let bad = format!("bad@{d}.example");
    let dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(crate::common::free_port(), dir.path(), &[&bad]);
    let app = TestApp::spawn_with_smtp(Backend::Sqlite, &sink.url());
    let good1 = format!("g1@{d}.example");
    let good2 = format!("g2@{d}.example");
    app.create_survey(DISCOVERY, "s");
    let file = app.write_file(
        "c.csv",
        &format!("email,name,locale\n{good1},G1,en\n{bad},Bad,en\n{good2},G2,sv\n"),
    );
    app.pds_ok(&["contacts", "import", file.to_str().unwrap()]);
    let out = app.invite("s", "w");
    let status = app.pds_ok(&["outbox", "status"]);
    assert!(
        out.contains("Delivered 2 emails") && out.contains("1 failed"),
        "{out}\n{status}"
    );
    assert_eq!(sink.messages().len(), 2);
    assert!(status.contains(&bad) && status.contains("550"), "{status}");
    assert!(status.contains("failed"), "{status}");
}

#[test]
fn a_worker_killed_mid_batch_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(crate::common::free_port(), dir.path(), &[]);
    let app = TestApp::spawn_with_smtp(Backend::Sqlite, &sink.url());
    let d = unique("kill");
    app.create_survey(DISCOVERY, "s");
    let mut csv = String::from("email,name,locale\n");
    for i in 0..300 {
        csv.push_str(&format!("k{i}@{d}.example,K {i},en\n"));
    }
    let file = app.write_file("c.csv", &csv);
    app.pds_ok(&["contacts", "import", file.to_str().unwrap()]);
    app.pds_ok(&["invite", "--survey", "s", "--wave", "w", "--queue-only"]);

    let mut worker = std::process::Command::new(env!("CARGO_BIN_EXE_pds"))
        .arg("worker")
        .current_dir(app.dir.path())
        .env("PDS_DATABASE_URL", &app.database_url)
        .env("PDS_SMTP_URL", sink.url())
        .env("PDS_MAIL_RATE", "200")
        .env("PDS_OUTBOX_LEASE_SECONDS", "2")
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while sink.messages().len() < 50 {
        assert!(
            std::time::Instant::now() < deadline,
            "the worker did not start sending"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    worker.kill().unwrap(); // SIGKILL, mid-batch
    worker.wait().unwrap();
    let before = sink.messages().len();
    assert!(before < 300, "killed before the end ({before} sent)");

    std::thread::sleep(std::time::Duration::from_millis(2500)); // the dead worker's lease runs out
    let out = app.pds_ok(&["worker", "--once"]);
    assert!(out.contains("failed 0"), "{out}");

    use pds::db::schema::outbox;
    let mut conn = app.db.conn().unwrap();
    let rows: Vec<(String, String)> = outbox::table
        .select((outbox::status, outbox::message_id))
        .load(&mut *conn)
        .unwrap();
    assert_eq!(rows.len(), 300);
    assert!(
        rows.iter().all(|(status, _)| status == "sent"),
        "every row delivered"
    );
    let queued_ids: HashSet<&str> = rows.iter().map(|(_, id)| id.as_str()).collect();
    let received = message_ids(&sink.messages());
    let received_ids: HashSet<String> = received.iter().cloned().collect();
    assert_eq!(received_ids.len(), 300, "every message arrived");
    assert!(received_ids
        .iter()
        .all(|id| queued_ids.contains(format!("<{id}>").as_str())
            || queued_ids.contains(id.as_str())));
    assert!(
        received.len() - 300 <= 100,
        "at most the claimed batch is repeated, under the same Message-IDs"
    );
}

/// `pds route test --survey s --text TEXT`: which rule fires for these words.
fn route_test(app: &TestApp, text: &str) -> String {
    app.pds_ok(&["route", "test", "--survey", "s", "--text", text])
}
