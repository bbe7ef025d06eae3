//! The survey summary the dashboard reads at every view instead of scanning every
//! mention and response (`survey::summary`): the segment attributes it offers, and
//! the freshness of its cached results, follow imports and `pds code` run from the
//! command line, another process than the server. Runs on SQLite and PostgreSQL.

use crate::common::{Backend, TestApp};
use crate::dashboard::{get, log_in};

const DISCOVERY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/survey-templates/discovery");
const SEGMENT_CHOICE: &str = r#"<option value="segment""#;
const NEW_ANSWERS: &str = r#"id="new-answers""#;

fn the_dashboard_follows_imports_and_coding_through_the_summary(backend: Backend) {
    let app = TestApp::spawn(backend);
    app.create_survey(DISCOVERY, "s");
    app.import_responses(
        "s",
        "respondent,wave,segment,rank,problem,area\n\
         r1,w1,,1,The delivery was late,Late delivery\n\
         r2,w1,,1,The invoice had errors,Invoice errors\n",
    );
    let cookie = log_in(&app);
    let cookie = Some(cookie.as_str());
    let first = get(&app, "/admin/surveys/s", cookie);
    assert_eq!(first.status, 200, "{}", first.body);
    assert!(first.body.contains("Late delivery"), "{}", first.body);
    assert!(
        !first.body.contains(SEGMENT_CHOICE),
        "no respondent has a segment yet"
    );
    assert!(!first.body.contains(NEW_ANSWERS), "{}", first.body);

    // Respondents with a segment and problems in no area: both show at once.
    app.import_responses(
        "s",
        "respondent,wave,segment,rank,problem\n\
         r3,w1,lost,1,The driver was rude\n\
         r4,w1,current,1,The driver was rude\n",
    );
    let imported = get(&app, "/admin/surveys/s", cookie);
    assert!(imported.body.contains(SEGMENT_CHOICE), "{}", imported.body);
    assert!(imported.body.contains(NEW_ANSWERS), "{}", imported.body);
    assert!(imported.body.contains("The driver was rude"));

    // Coded by another process: the server's kept results are not shown again.
    app.pds_ok(&["code", "--survey", "s"]);
    let coded = get(&app, "/admin/surveys/s", cookie);
    assert!(!coded.body.contains(NEW_ANSWERS), "{}", coded.body);
    assert!(coded.body.contains(SEGMENT_CHOICE));
    assert!(coded.body.contains("n = 4"), "{}", coded.body);
}

on_both_backends!(the_dashboard_follows_imports_and_coding_through_the_summary);
