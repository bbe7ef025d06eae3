//! "Save and continue later" on the checklist form, without JavaScript: a
//! respondent saves half the answers (nothing is sent or counted), comes back
//! through the same emailed link in a new browser and finds them filled in, sends,
//! and the draft is gone; erasing a contact deletes their unsent draft, written-in
//! text and all. Runs on SQLite and PostgreSQL.

use diesel::prelude::*;

use crate::common::{get, link_in, post_form, received_for, unique, Backend, TestApp};

const CHECKLIST: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/survey-templates/checklist");

/// Two of the template's four items, and one problem in the respondent's words.
const HALF: [(&str, &str); 5] = [
    ("experienced_late-delivery", "often"),
    ("bother_late-delivery", "4"),
    ("experienced_damaged-goods", "never"),
    ("problem_1", "Nobody answers the phone after 4 pm"),
    ("rank_1", "1"),
];

const REST: [(&str, &str); 3] = [
    ("experienced_invoice-errors", "never"),
    ("experienced_hard-to-reach", "sometimes"),
    ("bother_hard-to-reach", "2"),
];

fn save(mut pairs: Vec<(&'static str, &'static str)>) -> Vec<(&'static str, &'static str)> {
    pairs.push(("save_draft", "1"));
    pairs
}

/// A checklist survey with `emails` invited as customers; their emailed links.
fn invited(app: &TestApp, emails: &[&str]) -> Vec<String> {
    app.pds_ok(&[
        "survey",
        "create",
        "--template",
        CHECKLIST,
        "--slug",
        "check",
    ]);
    let mut csv = String::from("email,name,locale\n");
    for email in emails {
        csv.push_str(&format!("{email},Robin,en\n"));
    }
    let file = app.write_file("contacts.csv", &csv);
    app.pds_ok(&["contacts", "import", file.to_str().unwrap()]);
    app.pds_ok(&["invite", "--survey", "check", "--wave", "w1"]);
    emails
        .iter()
        .map(|email| link_in(&received_for(email, 1)[0], &app.base_url))
        .collect()
}

fn drafts_stored(app: &TestApp) -> Vec<String> {
    use pds::db::schema::checklist_drafts;
    checklist_drafts::table
        .select(checklist_drafts::answers)
        .load(&mut *app.db.conn().unwrap())
        .unwrap()
}

fn responses_stored(app: &TestApp) -> i64 {
    use pds::db::schema::responses;
    responses::table
        .count()
        .get_result(&mut *app.db.conn().unwrap())
        .unwrap()
}

fn checked(page: &str, field: &str, value: &str) -> bool {
    page.contains(&format!("name=\"{field}\" value=\"{value}\" checked"))
}

fn a_respondent_saves_half_and_finishes_later(backend: Backend) {
    let app = TestApp::spawn(backend);
    let email = format!("{}@{}.example", unique("r"), unique("d"));
    let link = invited(&app, &[&email]).remove(0);

    // Half the checklist, saved: no completeness errors, the form again with a note.
    let (status, page) = post_form(&app.http(), &link, &save(HALF.to_vec()));
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Your answers so far are saved"), "{page}");
    assert!(!page.contains("Please check your answer"), "{page}");
    assert!(
        checked(&page, "experienced_late-delivery", "often"),
        "{page}"
    );
    assert_eq!(responses_stored(&app), 0, "a draft is not an answer");
    assert_eq!(drafts_stored(&app).len(), 1);

    // Days later, in another browser, through the same emailed link.
    let (status, page) = get(&app.http(), &link);
    assert_eq!(status, 200);
    assert!(
        page.contains("The answers you saved last time are filled in"),
        "{page}"
    );
    assert!(
        checked(&page, "experienced_late-delivery", "often"),
        "{page}"
    );
    assert!(checked(&page, "bother_late-delivery", "4"), "{page}");
    assert!(
        checked(&page, "experienced_damaged-goods", "never"),
        "{page}"
    );
    assert!(
        !page.contains("name=\"experienced_invoice-errors\" value=\"never\" checked"),
        "not answered yet: {page}"
    );
    assert!(
        page.contains(">Nobody answers the phone after 4 pm</textarea>"),
        "{page}"
    );
    assert!(page.contains("2 of 4 answered"), "{page}");

    // Sent whole: stored, and the draft is gone with it.
    let mut whole = HALF.to_vec();
    whole.extend(REST);
    let (status, page) = post_form(&app.http(), &link, &whole);
    assert_eq!(status, 200, "{page}");
    assert_eq!(responses_stored(&app), 1);
    assert!(drafts_stored(&app).is_empty(), "sending deleted the draft");
    let (_, page) = get(&app.http(), &link);
    assert!(!page.contains("you saved last time"), "{page}");
    assert!(page.contains("You have already answered"), "{page}");
}

fn a_written_in_problem_over_the_limit_is_not_saved(backend: Backend) {
    let app = TestApp::spawn(backend);
    let email = format!("{}@{}.example", unique("r"), unique("d"));
    let link = invited(&app, &[&email]).remove(0);
    let long = "x".repeat(1001);
    let pairs = [
        ("experienced_late-delivery", "often"),
        ("problem_1", long.as_str()),
        ("rank_1", "1"),
        ("save_draft", "1"),
    ];
    let (status, page) = post_form(&app.http(), &link, &pairs);
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("This problem is too long"), "{page}");
    assert!(drafts_stored(&app).is_empty(), "nothing kept");
}

fn erasing_a_contact_deletes_their_draft(backend: Backend) {
    let app = TestApp::spawn(backend);
    let (kept, erased) = (
        format!("{}@{}.example", unique("k"), unique("d")),
        format!("{}@{}.example", unique("e"), unique("d")),
    );
    let links = invited(&app, &[&kept, &erased]);
    for link in &links {
        let (status, page) = post_form(&app.http(), link, &save(HALF.to_vec()));
        assert_eq!(status, 200, "{page}");
    }
    assert_eq!(drafts_stored(&app).len(), 2);

    let out = app.pds_ok(&["contacts", "erase", &erased]);
    assert!(out.contains("1 unsent checklist draft(s) deleted"), "{out}");
    let left = drafts_stored(&app);
    assert_eq!(left.len(), 1, "only the other person's draft stays");
    let (_, page) = get(&app.http(), &links[0]);
    assert!(page.contains("you saved last time"), "{page}");
}

on_both_backends!(
    a_respondent_saves_half_and_finishes_later,
    a_written_in_problem_over_the_limit_is_not_saved,
    erasing_a_contact_deletes_their_draft,
);
