//! The respondent's form behind a personal link: what a customer sees when they
//! make mistakes, come with a wrong or expired link, or type something hostile.

use crate::common::{get, link_in, new_email, post_form, received_for, Backend, TestApp};

/// Creates a survey from `folder`, invites one contact and returns their link.
fn invited_customer(app: &TestApp, folder: &str, locale: &str) -> String {
    app.create_survey(folder, "s");
    let email = new_email("c");
    let file = app.write_file(
        "c.csv",
        &format!("email,name,locale\n{email},Kim <i>Kund</i>,{locale}\n"),
    );
    app.pds_ok(&["contacts", "import", file.to_str().unwrap()]);
    app.invite("s", "w1");
    let mails = received_for(&email, 1);
    assert_eq!(mails.len(), 1);
    link_in(&mails[0], &app.base_url)
}

const DISCOVERY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/survey-templates/discovery");

#[test]
fn a_mistake_shows_the_form_again_with_the_text_kept_and_the_error_beside_it() {
    let app = TestApp::spawn(Backend::Sqlite);
    let link = invited_customer(&app, DISCOVERY, "en");
    let agent = app.http();
    let (status, page) = post_form(
        &agent,
        &link,
        &[
            ("problem_1", "Invoices are wrong"),
            ("rank_1", "1"),
            ("problem_2", "Nobody answers the phone"),
            ("rank_2", "1"),
        ],
    );
    assert_eq!(status, 422);
    assert!(
        page.contains("Invoices are wrong") && page.contains("Nobody answers the phone"),
        "text kept"
    );
    let error_at = page
        .find("id=\"rank_2_error\"")
        .expect("an error beside problem 2's rank");
    let error_text = &page[error_at..error_at + page[error_at..].find("</p>").unwrap()];
    assert!(
        error_text.contains("number 1"),
        "the duplicate rank is named: {error_text}"
    );

    let (status, page) = post_form(&agent, &link, &[]);
    assert_eq!(status, 422, "an empty answer is not stored");
    assert!(page.contains("role=\"alert\""));

    let json = app.pds_ok(&["results", "--survey", "s", "--format", "json"]);
    assert!(json.contains("\"n\": 0"), "nothing was stored: {json}");
}

#[test]
fn hostile_text_is_shown_as_text_never_run() {
    let app = TestApp::spawn(Backend::Sqlite);
    let link = invited_customer(&app, DISCOVERY, "sv");
    let agent = app.http();
    let payload = "<script>alert('x')</script><img src=x onerror=alert(1)>";
    let (status, page) = get(&agent, &link);
    assert_eq!(status, 200);
    assert!(
        !page.contains("<i>Kund</i>"),
        "the contact's name is escaped"
    );
    let (status, thanks) = post_form(&agent, &link, &[("problem_1", payload), ("rank_1", "1")]);
    assert_eq!(status, 200);
    assert!(
        !thanks.contains("<script>alert"),
        "escaped on the thank-you page"
    );
    assert!(thanks.contains("&lt;script&gt;"));
    let (_, form) = get(&agent, &link);
    assert!(
        !form.contains("<img src=x"),
        "escaped when the form is shown again"
    );
    // ...and stored exactly as written (listed as not yet coded in the results).
    let json = app.pds_ok(&["results", "--survey", "s", "--format", "json"]);
    let results: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(results["uncoded"]["texts"][0]["text"], payload);
}

#[test]
fn an_unknown_link_says_not_found_and_nothing_more() {
    let app = TestApp::spawn(Backend::Sqlite);
    let agent = app.http();
    let (status, real_shape) = get(&agent, &format!("{}/s/{}", app.base_url, "0".repeat(32)));
    assert_eq!(status, 404);
    let (status, wrong_shape) = get(&agent, &format!("{}/s/not-a-token", app.base_url));
    assert_eq!(status, 404);
    assert_eq!(
        real_shape, wrong_shape,
        "the page does not reveal whether a token is well-formed"
    );
    let (status, _) = post_form(
        &agent,
        &format!("{}/s/{}", app.base_url, "0".repeat(32)),
        &[("no_problems", "yes")],
    );
    assert_eq!(status, 404);
}

#[test]
fn a_closed_survey_says_so_with_410() {
    let app = TestApp::spawn(Backend::Sqlite);
    // Invited while the survey was open; then its closing day passed (invitations
    // to a survey that has already closed are refused).
    let link = invited_customer(&app, DISCOVERY, "en");
    {
        use diesel::prelude::*;
        use pds::db::schema::surveys;
        let mut conn = app.db.conn().unwrap();
        let definition: String = surveys::table
            .select(surveys::definition)
            .first(&mut *conn)
            .unwrap();
        assert!(definition.contains("2027-06-30"), "the shipped closing day");
        diesel::update(surveys::table)
            .set(surveys::definition.eq(definition.replace("2027-06-30", "2020-01-31")))
            .execute(&mut *conn)
            .unwrap();
    }
    let agent = app.http();
    let (status, page) = get(&agent, &link);
    assert_eq!(status, 410);
    assert!(
        !page.contains("name=\"problem_1\""),
        "no form on a closed survey"
    );
    let (status, _) = post_form(&agent, &link, &[("no_problems", "yes")]);
    assert_eq!(status, 410);
    let json = app.pds_ok(&["results", "--survey", "s", "--format", "json"]);
    assert!(json.contains("\"n\": 0"), "{json}");
}

#[test]
fn pages_carry_security_headers_and_oversized_forms_are_refused() {
    let app = TestApp::spawn(Backend::Sqlite);
    let link = invited_customer(&app, DISCOVERY, "en");
    let agent = app.http();
    let response = agent.get(&link).call().unwrap();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    assert!(header("content-security-policy").contains("default-src 'self'"));
    assert_eq!(
        header("referrer-policy"),
        "no-referrer",
        "the token never leaks in a Referer"
    );
    assert_eq!(header("x-content-type-options"), "nosniff");

    let huge = "x".repeat(pds::web::MAX_FORM_BYTES + 10);
    let (status, _) = post_form(&agent, &link, &[("problem_1", &huge), ("rank_1", "1")]);
    assert_eq!(status, 413);
    let (status, _) = post_form(
        &agent,
        &link,
        &[("problem_1", &"y".repeat(1001)), ("rank_1", "1")],
    );
    assert_eq!(status, 422, "a problem over 1,000 characters is refused");
}
