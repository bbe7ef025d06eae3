//! A staff invitation's link is a staff answer, whatever happens to the contact
//! afterwards and whatever a submitted form claims: a form that claims the customer
//! audience is refused (422, nothing stored), the answer sent as shown is stored as
//! staff's, and reminders to staff use the staff wording, read from the SMTP server
//! they were delivered to. Runs on SQLite and PostgreSQL.

use diesel::prelude::*;

use crate::common::{
    args, get, link_in, post_form, received_for, received_within, unique, Backend, TestApp,
};

const CHECKLIST: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/survey-templates/checklist");

const WHOLE: [(&str, &str); 6] = [
    ("experienced_late-delivery", "often"),
    ("bother_late-delivery", "4"),
    ("experienced_damaged-goods", "never"),
    ("experienced_invoice-errors", "never"),
    ("experienced_hard-to-reach", "sometimes"),
    ("bother_hard-to-reach", "2"),
];

fn address(prefix: &str) -> String {
    format!("{}@{}.example", unique(prefix), unique("d"))
}

fn import(app: &TestApp, name: &str, emails: &[&str], staff: bool) {
    let mut csv = String::from("email,name,locale\n");
    for email in emails {
        csv.push_str(&format!("{email},Sam,en\n"));
    }
    let file = app.write_file(name, &csv);
    let mut args = vec!["contacts", "import", file.to_str().unwrap()];
    if staff {
        args.extend(["--audience", "staff"]);
    }
    app.pds_ok(&args);
}

/// The subject and plain text of a delivered message.
fn subject_and_text(raw: &[u8]) -> (String, String) {
    let message = mail_parser::MessageParser::default()
        .parse(raw)
        .expect("parse email");
    (
        message.subject().unwrap_or_default().to_string(),
        message.body_text(0).expect("plain-text part").into_owned(),
    )
}

/// The audiences of the survey's stored responses.
fn stored_audiences(app: &TestApp) -> Vec<String> {
    use pds::db::schema::responses;
    responses::table
        .select(responses::audience)
        .load(&mut *app.db.conn().unwrap())
        .unwrap()
}

fn a_staff_link_always_answers_as_staff(backend: Backend) {
    let app = TestApp::spawn(backend);
    app.create_survey(CHECKLIST, "check");
    let (answering, silent, customer) = (address("s"), address("s"), address("c"));
    import(&app, "staff.csv", &[&answering, &silent], true);
    import(&app, "customers.csv", &[&customer], false);
    app.pds_ok(&args("invite --survey check --wave w1 --audience staff"));
    app.invite("check", "w1");
    let link = link_in(&received_for(&answering, 1)[0], &app.base_url);

    // Both staff members are later imported as customers (a list mix-up): the
    // invitations they already have stay staff invitations.
    import(&app, "mixup.csv", &[&answering, &silent], false);
    let agent = app.http();
    let (status, page) = get(&agent, &link);
    assert_eq!(status, 200);
    assert!(
        page.contains("id=\"staff-note\""),
        "still the staff wording: {page}"
    );

    // A form that claims to be a customer's answer is refused, nothing stored.
    let mut claimed = WHOLE.to_vec();
    claimed.push(("audience", "customer"));
    let (status, page) = post_form(&agent, &link, &claimed);
    assert_eq!(status, 422, "{page}");
    assert!(
        page.contains("always recorded as a staff answer and cannot be sent as a customer"),
        "{page}"
    );
    assert!(stored_audiences(&app).is_empty(), "nothing stored");

    // Sent as shown, it is a staff answer: not a customer's in results.
    let (status, page) = post_form(&agent, &link, &WHOLE);
    assert_eq!(status, 200, "{page}");
    assert_eq!(stored_audiences(&app), ["staff"]);
    let json = app.pds_ok(&args("results --survey check --format json --bootstrap 50"));
    let results: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(results["n"], 0, "staff never count as customers: {results}");

    // Reminders: the staff member who has not answered gets the staff wording
    // (their invitation is staff's), the customer the customers' wording.
    let printed = app.pds_ok(&args("remind --survey check --wave w1 --after 0s"));
    assert!(printed.contains("Queued 2 reminders"), "{printed}");
    let staff_mail = received_for(&silent, 2);
    assert_eq!(staff_mail.len(), 2, "invitation and reminder");
    let (subject, text) = staff_mail
        .iter()
        .map(|raw| subject_and_text(raw))
        .find(|(subject, _)| subject.starts_with("Reminder"))
        .expect("a reminder");
    assert_eq!(
        subject,
        "Reminder for staff: how would our customers answer? (about 5 minutes)"
    );
    assert!(
        text.contains("as a member of staff, how you think our customers would answer"),
        "{text}"
    );
    let customer_mail = received_for(&customer, 2);
    let (subject, text) = customer_mail
        .iter()
        .map(|raw| subject_and_text(raw))
        .find(|(subject, _)| subject.starts_with("Reminder"))
        .expect("a reminder");
    assert!(
        subject.starts_with("Reminder: which of these problems"),
        "{subject}"
    );
    assert!(!text.contains("member of staff"), "{text}");
    assert_eq!(
        received_within(&answering, 2, std::time::Duration::from_secs(1)).len(),
        1,
        "who answered is not reminded"
    );
}

on_both_backends!(a_staff_link_always_answers_as_staff);
