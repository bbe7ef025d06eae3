//! Forgetting people, as a customer who asks to be forgotten and an analyst who keeps
//! data no longer than needed: `pds contacts erase` and `pds purge`. The answers stay
//! and count; nothing in the database leads back to the person. SQLite and PostgreSQL.

use crate::common::{
    args, copy_folder, get, link_in, post_form, received_for, unique, Backend, TestApp,
};
use diesel::prelude::*;
use pds::db::schema::{contacts, invitations, mentions, outbox, responses};

const DISCOVERY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/survey-templates/discovery");

/// Creates the survey, imports `people` (email, name) and invites them all.
fn invited(app: &TestApp, people: &[(&str, &str)]) {
    app.create_survey(DISCOVERY, "study");
    let mut csv = String::from("email,name,locale,customer_type\n");
    for (email, name) in people {
        csv.push_str(&format!("{email},{name},en,current\n"));
    }
    app.import_contacts(&csv);
    let out = app.invite("study", "2026-H2");
    assert!(
        out.contains(&format!("Queued {} invitations", people.len())),
        "{out}"
    );
}

fn respondents(app: &TestApp) -> u64 {
    let json = app.pds_ok(&["results", "--survey", "study", "--format", "json"]);
    let results: serde_json::Value = serde_json::from_str(&json).unwrap();
    results["n"].as_u64().unwrap()
}

/// recipient, subject, text and HTML bodies, last error, unsubscribe link.
type OutboxTexts = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
);

/// Every text the database holds about contacts and email, one string per value.
fn personal_texts(app: &TestApp) -> Vec<String> {
    let mut conn = app.db.conn().unwrap();
    let mut texts = Vec::new();
    let people: Vec<(String, String, String)> = contacts::table
        .select((contacts::email, contacts::name, contacts::attributes))
        .load(&mut *conn)
        .unwrap();
    for (email, name, attributes) in people {
        texts.extend([email, name, attributes]);
    }
    let mail: Vec<OutboxTexts> = outbox::table
        .select((
            outbox::recipient,
            outbox::subject,
            outbox::body_text,
            outbox::body_html,
            outbox::last_error,
            outbox::list_unsubscribe,
        ))
        .load(&mut *conn)
        .unwrap();
    for (recipient, subject, text, html, error, unsubscribe) in mail {
        texts.extend([recipient, subject, text, html]);
        texts.extend(error);
        texts.extend(unsubscribe);
    }
    let answers: Vec<String> = responses::table
        .select(responses::attributes)
        .load(&mut *conn)
        .unwrap();
    texts.extend(answers);
    texts
}

fn mentions_anywhere(app: &TestApp, needle: &str) -> bool {
    personal_texts(app).iter().any(|t| t.contains(needle))
}

fn customer_is_forgotten_but_her_answer_still_counts(backend: Backend) {
    let app = TestApp::spawn(backend);
    let domain = format!("{}.example", unique("p"));
    let anna = format!("anna@{domain}");
    let john = format!("john@{domain}");
    invited(&app, &[(&anna, "Anna Åberg"), (&john, "John Smith")]);

    let link = link_in(&received_for(&anna, 1)[0], &app.base_url);
    let out = app.pds_ok(&args(
        "remind --survey study --wave 2026-H2 --after 0s --queue-only",
    ));
    assert!(
        out.contains("2"),
        "a reminder waits for each of them: {out}"
    );
    let agent = app.http();
    let (status, _) = post_form(
        &agent,
        &link,
        &[
            ("problem_1", "The delivery came two weeks late"),
            ("rank_1", "1"),
            ("consent_1", "yes"),
        ],
    );
    assert_eq!(status, 200);
    assert_eq!(respondents(&app), 1);
    assert!(mentions_anywhere(&app, &anna));

    let out = app.pds_ok(&["contacts", "erase", &anna.to_uppercase()]);
    assert!(out.contains("Erased contact"), "{out}");
    assert!(out.contains("1 answer(s) unlinked"), "{out}");
    assert!(
        out.contains("1 cancelled before sending"),
        "her reminder: {out}"
    );

    assert!(!mentions_anywhere(&app, &anna), "her address is gone");
    assert!(!mentions_anywhere(&app, "Anna Åberg"), "her name is gone");
    assert!(mentions_anywhere(&app, &john), "John is untouched");
    assert!(
        mentions_anywhere(&app, "The delivery came two weeks late"),
        "the complaint routed to the team keeps her words, without her address"
    );

    assert_eq!(respondents(&app), 1, "her answer still counts");
    let mut conn = app.db.conn().unwrap();
    let texts: Vec<String> = mentions::table
        .select(mentions::text)
        .load(&mut *conn)
        .unwrap();
    assert_eq!(texts, vec!["The delivery came two weeks late".to_string()]);
    let linked: i64 = responses::table
        .filter(responses::contact_id.is_not_null())
        .count()
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(linked, 0, "no answer leads to a contact");
    let queued: i64 = outbox::table
        .filter(outbox::kind.eq("reminder"))
        .filter(outbox::status.eq("queued"))
        .count()
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(queued, 1, "John's reminder still waits");
    let invited: i64 = invitations::table.count().get_result(&mut *conn).unwrap();
    assert_eq!(invited, 2, "invitations stay for the response rate");
    drop(conn);

    let (status, _) = get(&agent, &link);
    assert_eq!(status, 404, "her personal link no longer opens the form");

    let again = app.pds(&["contacts", "erase", &anna]);
    assert_eq!(again.status.code(), Some(2), "erased before");
    let unknown = app.pds(&["contacts", "erase", &format!("nobody@{domain}")]);
    assert_eq!(unknown.status.code(), Some(2));
    let message = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        message.contains("no contact has the email address"),
        "{message}"
    );
}

fn purge_forgets_only_contacts_not_heard_from_for_long(backend: Backend) {
    let app = TestApp::spawn(backend);
    let domain = format!("{}.example", unique("p"));
    let old = format!("old@{domain}");
    let new = format!("new@{domain}");
    invited(&app, &[(&old, "Olga Old"), (&new, "Nina New")]);

    // Olga was imported, invited and emailed two years ago.
    let long_ago = pds::db::now() - chrono::Duration::days(730);
    {
        let mut conn = app.db.conn().unwrap();
        let olga: i64 = contacts::table
            .filter(contacts::email.eq(&old))
            .select(contacts::id)
            .first(&mut *conn)
            .unwrap();
        diesel::update(contacts::table.find(olga))
            .set((
                contacts::created_at.eq(long_ago),
                contacts::updated_at.eq(long_ago),
            ))
            .execute(&mut *conn)
            .unwrap();
        diesel::update(invitations::table.filter(invitations::contact_id.eq(olga)))
            .set(invitations::created_at.eq(long_ago))
            .execute(&mut *conn)
            .unwrap();
        diesel::update(outbox::table.filter(outbox::contact_id.eq(olga)))
            .set(outbox::created_at.eq(long_ago))
            .execute(&mut *conn)
            .unwrap();
    }

    let before = personal_texts(&app);
    let out = app.pds_ok(&["purge", "--older-than", "1y", "--dry-run"]);
    assert!(out.contains("Would erase 1 contact(s)"), "{out}");
    assert!(out.contains("would delete 1 old email(s)"), "{out}");
    assert_eq!(personal_texts(&app), before, "a dry run changes nothing");

    let out = app.pds_ok(&["purge", "--older-than", "1y"]);
    assert!(out.contains("Erased 1 contact(s)"), "{out}");
    assert!(out.contains("deleted 1 old email(s)"), "{out}");
    assert!(!mentions_anywhere(&app, &old), "Olga is forgotten");
    assert!(mentions_anywhere(&app, &new), "Nina is kept");
    let mails: i64 = outbox::table
        .count()
        .get_result(&mut *app.db.conn().unwrap())
        .unwrap();
    assert_eq!(mails, 1, "Nina's recent invitation stays");

    let out = app.pds_ok(&["purge", "--older-than", "1y"]);
    assert!(
        out.contains("Erased 0 contact(s)"),
        "nothing left to do: {out}"
    );

    let bad = app.pds(&["purge", "--older-than", "2 years"]);
    assert_eq!(bad.status.code(), Some(2));
}

on_both_backends!(customer_is_forgotten_but_her_answer_still_counts);

on_both_backends!(purge_forgets_only_contacts_not_heard_from_for_long);

/// A copy of the discovery survey with `anonymous = true`, routing late deliveries
/// to `team`.
fn anonymous_survey(app: &TestApp, team: &str) -> std::path::PathBuf {
    let folder = app.dir.path().join("anonymous-survey");
    copy_folder(std::path::Path::new(DISCOVERY), &folder);
    let toml = std::fs::read_to_string(folder.join("survey.toml")).unwrap();
    std::fs::write(
        folder.join("survey.toml"),
        toml.replacen("[survey]\n", "[survey]\nanonymous = true\n", 1),
    )
    .unwrap();
    std::fs::write(
        folder.join("routing.toml"),
        format!(
            "[teams.logistics]\nname = \"Logistics\"\nemails = [\"{team}\"]\n\n\
             [[rules]]\nname = \"late deliveries\"\nkeywords = [\"late\"]\nteams = [\"logistics\"]\n"
        ),
    )
    .unwrap();
    folder
}

fn an_anonymous_answer_keeps_no_link_to_the_customer(backend: Backend) {
    let app = TestApp::spawn(backend);
    let domain = format!("{}.example", unique("anon"));
    let anna = format!("anna@{domain}");
    let john = format!("john@{domain}");
    let team = format!("logistics@{domain}");
    let folder = anonymous_survey(&app, &team);
    let out = app.create_survey(folder.to_str().unwrap(), "study");
    assert!(out.contains("anonymous"), "{out}");
    app.import_contacts(&format!("email,name,locale,customer_type\n{anna},Anna Åberg,en,current\n{john},John Smith,en,former\n"));
    app.invite("study", "2026-H2");
    let link = link_in(&received_for(&anna, 1)[0], &app.base_url);

    let agent = app.http();
    let (status, form) = get(&agent, &link);
    assert_eq!(status, 200);
    assert!(form.contains("This survey is anonymous"), "{form}");
    let (status, thanks) = post_form(
        &agent,
        &link,
        &[
            ("problem_1", "The delivery came two weeks late"),
            ("rank_1", "1"),
            ("consent_1", "yes"),
            ("problem_2", "Late answers from support"),
            ("rank_2", "2"),
        ],
    );
    assert_eq!(status, 200);
    assert!(
        thanks.contains("The delivery came two weeks late"),
        "{thanks}"
    );
    assert!(
        thanks.contains("no longer linked to you") && !thanks.contains("/s/"),
        "no link to reopen the answer: {thanks}"
    );

    // Routed as it arrived: the problem she allowed us to follow up carries her
    // address; the other does not.
    app.pds_ok(&["worker", "--once"]);
    let routed = received_for(&team, 2);
    assert_eq!(routed.len(), 2, "both problems reached the team");
    let with_consent: Vec<_> = routed
        .iter()
        .map(|raw| String::from_utf8_lossy(raw).into_owned())
        .filter(|text| text.contains(&anna))
        .collect();
    assert_eq!(
        with_consent.len(),
        1,
        "only the consented problem names her"
    );
    assert!(with_consent[0].contains("two weeks late"));

    // Stored with no way back to her: no invitation or contact on the response,
    // and the invitation knows only the day.
    {
        let mut conn = app.db.conn().unwrap();
        let stored: Vec<(Option<i64>, Option<i64>, String)> = responses::table
            .select((
                responses::invitation_id,
                responses::contact_id,
                responses::attributes,
            ))
            .load(&mut *conn)
            .unwrap();
        assert_eq!(stored.len(), 1);
        assert_eq!((stored[0].0, stored[0].1), (None, None));
        assert!(
            stored[0].2.contains("current"),
            "segments stay for the analysis"
        );
        let stamps: Vec<(Option<chrono::NaiveDateTime>, Option<chrono::NaiveDateTime>)> =
            invitations::table
                .inner_join(contacts::table)
                .filter(contacts::email.eq(&anna))
                .select((invitations::opened_at, invitations::answered_at))
                .load(&mut *conn)
                .unwrap();
        let midnight = chrono::NaiveTime::from_hms_opt(0, 0, 0).unwrap();
        let (opened, answered) = stamps[0];
        assert_eq!(opened.map(|t| t.time()), Some(midnight), "{opened:?}");
        assert_eq!(answered.map(|t| t.time()), Some(midnight), "{answered:?}");
    }
    assert_eq!(respondents(&app), 1);

    // The link answers once: opening or sending again shows that the answer is in,
    // and stores nothing.
    let (status, page) = get(&agent, &link);
    assert_eq!(status, 200);
    assert!(page.contains("We already have your answer"), "{page}");
    assert!(!page.contains("two weeks late"), "her answer is not shown");
    let (status, page) = post_form(
        &agent,
        &link,
        &[("problem_1", "Something else entirely"), ("rank_1", "1")],
    );
    assert_eq!(status, 200);
    assert!(page.contains("We already have your answer"), "{page}");
    {
        let mut conn = app.db.conn().unwrap();
        let texts: Vec<String> = mentions::table
            .order(mentions::rank)
            .select(mentions::text)
            .load(&mut *conn)
            .unwrap();
        assert_eq!(
            texts,
            vec![
                "The delivery came two weeks late".to_string(),
                "Late answers from support".to_string()
            ]
        );
    }
    assert_eq!(respondents(&app), 1);

    // Reminders still skip her, and erasing her finds no answer to unlink.
    let out = app.pds_ok(&args(
        "remind --survey study --wave 2026-H2 --after 0s --queue-only",
    ));
    assert!(
        out.contains("Queued 1 reminders") && out.contains("(1 answered"),
        "only John is reminded: {out}"
    );
    let out = app.pds_ok(&["contacts", "erase", &anna]);
    assert!(out.contains("0 answer(s) unlinked"), "{out}");
    assert_eq!(respondents(&app), 1, "her answer still counts");
}

on_both_backends!(an_anonymous_answer_keeps_no_link_to_the_customer);
