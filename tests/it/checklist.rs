//! The checklist study (phase 2): an analyst drafts a checklist from a coded
//! discovery survey with `pds checklist draft`, edits a wording and creates the
//! checklist survey; a broken checklist is refused with its file and line. Runs on
//! SQLite and PostgreSQL.

use crate::common::{
    assert_late_delivery_as_whole_answer, new_email, Backend, TestApp, WHOLE_CHECKLIST_ANSWER,
};

const DISCOVERY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/survey-templates/discovery");
const CHECKLIST: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/survey-templates/checklist");

/// Discovery answers, most important first: late delivery most often, then
/// invoice errors, then unclear prices (all three codebook areas).
const ANSWERS: &[(&str, &[&str])] = &[
    ("r01", &["Leveransen kom för sent", "Fakturan var fel"]),
    ("r02", &["Delivery was late", "Wrong invoice"]),
    ("r03", &["levtid", "The prices are unclear"]),
    ("r04", &["late deliveries again and again"]),
    ("r05", &["Fakturan var fel igen", "Leveransen var försenad"]),
    ("r06", &[]),
];

fn csv_of(answers: &[(&str, &[&str])]) -> String {
    let mut csv = String::from("respondent,wave,segment,rank,problem,area\n");
    for (id, problems) in answers {
        if problems.is_empty() {
            csv.push_str(&format!("{id},2026-H1,,,,\n"));
        }
        for (rank, text) in problems.iter().enumerate() {
            csv.push_str(&format!("{id},2026-H1,,{},\"{text}\",\n", rank + 1));
        }
    }
    csv
}

/// A coded discovery survey `disc` in a fresh app, from the shipped folder with
/// Acme's trust lines instead of the example organisation's.
fn coded_discovery(backend: Backend) -> TestApp {
    let app = TestApp::spawn(backend);
    let folder = app.dir.path().join("acme-discovery");
    crate::common::copy_folder(std::path::Path::new(DISCOVERY), &folder);
    let toml = folder.join("survey.toml");
    let text = std::fs::read_to_string(&toml)
        .unwrap()
        .replace("research@nordvik.example\"", "insights@acme.example\"")
        .replace(
            "https://nordvik.example/privacy",
            "https://acme.example/privacy",
        )
        .replace("Nordvik Supply customer research", "Acme insights")
        .replace("Questions about the study? Write to", "Ask Acme:");
    std::fs::write(&toml, text).unwrap();
    app.create_survey(folder.to_str().unwrap(), "disc");
    app.import_responses("disc", &csv_of(ANSWERS));
    app.pds_ok(&["code", "--survey", "disc"]);
    app
}

fn failure(app: &TestApp, args: &[&str]) -> (Option<i32>, String) {
    let out = app.pds(args);
    assert!(!out.status.success(), "pds {args:?} should fail");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn analyst_drafts_a_checklist_from_the_discovery_areas(backend: Backend) {
    let app = coded_discovery(backend);
    let out_dir = app.dir.path().join("draft");
    let out = out_dir.to_str().unwrap();

    let printed = app.pds_ok(&[
        "checklist",
        "draft",
        "--from",
        "disc",
        "--out",
        out,
        "--top",
        "2",
    ]);
    assert!(printed.contains("a checklist of 2 items"), "{printed}");
    assert!(
        printed.contains("late-delivery, invoice-errors"),
        "{printed}"
    );

    let path = out_dir.join("checklist.toml");
    let drafted = std::fs::read_to_string(&path).unwrap();
    let late = drafted.find("id = \"late-delivery\"").expect(&drafted);
    let invoice = drafted.find("id = \"invoice-errors\"").expect(&drafted);
    assert!(late < invoice, "ranked first, written first:\n{drafted}");
    assert!(
        !drafted.contains("unclear-pricing"),
        "only the top 2:\n{drafted}"
    );
    assert!(drafted.contains("area = \"late-delivery\""), "{drafted}");
    assert!(
        drafted.contains("text.en = \"Problems with: Late delivery\""),
        "{drafted}"
    );
    assert!(
        drafted.contains("text.sv = \"Problem med: Sena leveranser\""),
        "{drafted}"
    );
    assert!(
        drafted.contains("# a customer wrote: \"levtid\""),
        "{drafted}"
    );
    let survey_toml = std::fs::read_to_string(out_dir.join("survey.toml")).unwrap();
    assert!(
        survey_toml.contains("kind = \"checklist\""),
        "{survey_toml}"
    );
    assert!(out_dir.join("sv/form.html.hbs").is_file());
    // Who customers can reach is the discovery survey's, not the template's.
    for trust in [
        "reply_to = \"insights@acme.example\"",
        "privacy_url = \"https://acme.example/privacy\"",
        "sender = \"Acme insights\"",
        "contact = \"Ask Acme: research@nordvik.example",
        "sender = \"Nordvik Supply kundundersökning\"",
    ] {
        assert!(survey_toml.contains(trust), "{trust}:\n{survey_toml}");
    }

    // The analyst words the first item as a concrete problem and creates the survey.
    let edited = drafted.replace(
        "text.en = \"Problems with: Late delivery\"",
        "text.en = \"The delivery came later than promised\"",
    );
    std::fs::write(&path, edited).unwrap();
    let created = app.create_survey(out, "check");
    assert!(created.contains("a checklist of 2 items"), "{created}");

    // Named areas come in the order named.
    let named_dir = app.dir.path().join("named");
    app.pds_ok(&[
        "checklist",
        "draft",
        "--from",
        "disc",
        "--out",
        named_dir.to_str().unwrap(),
        "--areas",
        "unclear-pricing,late-delivery",
    ]);
    let named = std::fs::read_to_string(named_dir.join("checklist.toml")).unwrap();
    assert!(
        named.find("unclear-pricing").unwrap() < named.find("id = \"late-delivery\"").unwrap(),
        "{named}"
    );
    assert!(!named.contains("invoice-errors"), "{named}");

    // An analyst's edits are never overwritten.
    let (code, err) = failure(
        &app,
        &["checklist", "draft", "--from", "disc", "--out", out],
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("already holds files"), "{err}");
    assert!(std::fs::read_to_string(&path)
        .unwrap()
        .contains("later than promised"));

    // An unknown area, or a checklist survey as the source: a clear error, no folder.
    let nowhere = app.dir.path().join("nowhere");
    let (code, err) = failure(
        &app,
        &[
            "checklist",
            "draft",
            "--from",
            "disc",
            "--out",
            nowhere.to_str().unwrap(),
            "--areas",
            "parking",
        ],
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("no area \"parking\"") && err.contains("late-delivery"),
        "{err}"
    );
    assert!(!nowhere.exists());
    let (code, err) = failure(
        &app,
        &[
            "checklist",
            "draft",
            "--from",
            "check",
            "--out",
            nowhere.to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("check is a checklist survey"), "{err}");
}

on_both_backends!(analyst_drafts_a_checklist_from_the_discovery_areas);

#[test]
fn a_checklist_with_a_duplicate_id_is_refused_with_its_line() {
    let app = TestApp::spawn(Backend::Sqlite);
    let folder = app.dir.path().join("spoilt");
    let copy = std::process::Command::new("cp")
        .args(["-r", CHECKLIST, folder.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(copy.success());
    let path = folder.join("checklist.toml");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("id = \"damaged-goods\"", "id = \"late-delivery\"");
    std::fs::write(&path, text).unwrap();
    let (code, err) = failure(
        &app,
        &[
            "survey",
            "create",
            "--template",
            folder.to_str().unwrap(),
            "--slug",
            "bad",
        ],
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("checklist.toml line 15: item id \"late-delivery\" is used twice"),
        "{err}"
    );
    let listed = app.pds_ok(&["survey", "list"]);
    assert!(!listed.contains("bad"), "nothing stored: {listed}");
}

/// The checklist survey `check` (the shipped template) with one imported response;
/// returns the response's id.
fn checklist_with_a_response(app: &TestApp) -> i64 {
    use diesel::prelude::*;
    use pds::db::schema::{responses, surveys};
    app.create_survey(CHECKLIST, "check");
    app.import_responses(
        "check",
        "respondent,wave,item,experienced\n\
         r01,2027-H1,late-delivery,never\n\
         r01,2027-H1,damaged-goods,never\n\
         r01,2027-H1,invoice-errors,never\n\
         r01,2027-H1,hard-to-reach,never\n",
    );
    let mut conn = app.db.conn().unwrap();
    let survey: i64 = surveys::table
        .filter(surveys::slug.eq("check"))
        .select(surveys::id)
        .first(&mut *conn)
        .unwrap();
    responses::table
        .filter(responses::survey_id.eq(survey))
        .select(responses::id)
        .first(&mut *conn)
        .unwrap()
}

fn checklist_answers_are_stored_whole_and_replaced(backend: Backend) {
    use diesel::prelude::*;
    use pds::checklist::answer::{Bother, Experienced, ItemAnswer, SolvedElsewhere};
    use pds::checklist::store::{answers_of, answers_of_survey, replace_answers, CUSTOMER, STAFF};
    use pds::checklist::ItemId;
    use pds::db::schema::responses;

    let app = TestApp::spawn(backend);
    let response = checklist_with_a_response(&app);
    let survey_id: i64 = {
        let mut conn = app.db.conn().unwrap();
        responses::table
            .find(response)
            .select(responses::survey_id)
            .first(&mut *conn)
            .unwrap()
    };
    let answer = |id: &str, position, experienced, bother: Option<i64>, solved| {
        ItemAnswer::new(
            ItemId::parse(id).unwrap(),
            position,
            experienced,
            bother.map(|b| Bother::new(b).unwrap()),
            solved,
        )
        .unwrap()
    };
    let first = vec![
        answer(
            "invoice-errors",
            Some(2),
            Experienced::Often,
            Some(5),
            Some(SolvedElsewhere::No),
        ),
        answer("late-delivery", Some(1), Experienced::Never, None, None),
        answer(
            "hard-to-reach",
            Some(3),
            Experienced::Sometimes,
            Some(2),
            None,
        ),
    ];
    app.db
        .write(|conn| replace_answers(conn, response, &first))
        .unwrap();
    let stored = answers_of(&mut app.db.conn().unwrap(), response).unwrap();
    let order: Vec<_> = stored.iter().map(|a| a.item.as_str()).collect();
    assert_eq!(
        order,
        ["late-delivery", "invoice-errors", "hard-to-reach"],
        "in the order shown"
    );
    assert_eq!(stored[1], first[0], "every part kept");

    // A changed answer replaces the old one.
    let second = vec![answer(
        "late-delivery",
        Some(1),
        Experienced::Often,
        Some(4),
        None,
    )];
    app.db
        .write(|conn| replace_answers(conn, response, &second))
        .unwrap();
    assert_eq!(
        answers_of(&mut app.db.conn().unwrap(), response).unwrap(),
        second
    );

    // The same item twice is refused by the database, and nothing is stored half.
    let twice = vec![first[1].clone(), first[1].clone()];
    assert!(app
        .db
        .write(|conn| replace_answers(conn, response, &twice))
        .is_err());
    assert_eq!(
        answers_of(&mut app.db.conn().unwrap(), response).unwrap(),
        second
    );

    // Customers' and staff's answers are apart.
    let customers = answers_of_survey(&mut app.db.conn().unwrap(), survey_id, CUSTOMER).unwrap();
    assert_eq!(customers, vec![(response, second[0].clone())]);
    assert!(
        answers_of_survey(&mut app.db.conn().unwrap(), survey_id, STAFF)
            .unwrap()
            .is_empty()
    );
    app.db
        .write(|conn| {
            diesel::update(responses::table.find(response))
                .set(responses::audience.eq(STAFF))
                .execute(conn)
                .map_err(pds::Error::from)
        })
        .unwrap();
    assert!(
        answers_of_survey(&mut app.db.conn().unwrap(), survey_id, CUSTOMER)
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        answers_of_survey(&mut app.db.conn().unwrap(), survey_id, STAFF)
            .unwrap()
            .len(),
        1
    );
}

on_both_backends!(checklist_answers_are_stored_whole_and_replaced);

/// The item ids in the order a form page shows them.
fn items_shown(page: &str) -> Vec<String> {
    page.match_indices("<fieldset class=\"item")
        .map(|(at, _)| {
            let rest = &page[at..];
            let start = rest.find("id=\"item_").unwrap() + "id=\"item_".len();
            rest[start..].split('"').next().unwrap().to_string()
        })
        .collect()
}

fn customer_answers_the_checklist_from_the_emailed_link(backend: Backend) {
    use crate::common::{get, link_in, post_form, received_for};
    use pds::checklist::store::{answers_of, response_of_invitation};

    let app = TestApp::spawn(backend);
    app.create_survey(CHECKLIST, "check");
    let email = new_email("c");
    let file = app.write_file("c.csv", &format!("email,name,locale\n{email},Kim,en\n"));
    app.pds_ok(&["contacts", "import", file.to_str().unwrap()]);
    app.invite("check", "w1");
    let mails = received_for(&email, 1);
    let link = link_in(&mails[0], &app.base_url);
    let agent = app.http();

    let invitation_text = String::from_utf8_lossy(&mails[0]).to_string();
    assert!(
        invitation_text.contains("Questions about the study?"),
        "the invitation names who to ask: {invitation_text}"
    );
    let (status, page) = get(&agent, &link);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Goods arrived damaged"), "{page}");
    assert!(
        page.contains("Questions about the study?")
            && page.contains("https://nordvik.example/privacy"),
        "the form gives a contact and the privacy notice: {page}"
    );
    assert!(
        page.contains("does another supplier already solve"),
        "{page}"
    );
    let order = items_shown(&page);
    assert_eq!(order.len(), 4, "{page}");
    let (_, again) = get(&agent, &link);
    assert_eq!(
        items_shown(&again),
        order,
        "the same link shows the same order"
    );
    // Groups stay together: the two delivery items are next to each other.
    let delivery: Vec<usize> = order
        .iter()
        .enumerate()
        .filter(|(_, id)| *id == "late-delivery" || *id == "damaged-goods")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(delivery[1] - delivery[0], 1, "{order:?}");

    // Mistakes come back as the form with the errors beside their items.
    let (status, page) = post_form(
        &agent,
        &link,
        &[
            ("experienced_late-delivery", "often"),
            ("experienced_damaged-goods", "never"),
            ("bother_damaged-goods", "2"),
            ("problem_1", "Parking is hard"),
            ("rank_1", "1"),
        ],
    );
    assert_eq!(status, 422, "{page}");
    assert!(
        page.contains("Please choose how much this problem bothers you"),
        "{page}"
    );
    assert!(
        page.contains("You answered “never” for this problem"),
        "{page}"
    );
    assert!(
        page.contains("Please tell us whether you have had this problem"),
        "{page}"
    );
    assert!(
        page.contains("Parking is hard"),
        "the write-in is kept: {page}"
    );
    assert!(
        page.contains("name=\"experienced_late-delivery\" value=\"often\" checked"),
        "the choice is kept: {page}"
    );

    // An item the checklist does not have is refused whole.
    let (status, _) = post_form(&agent, &link, &[("experienced_parking", "often")]);
    assert_eq!(status, 400);

    let whole = WHOLE_CHECKLIST_ANSWER;
    let (status, page) = post_form(&agent, &link, &whole);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("We have received your answer"), "{page}");
    assert!(page.contains("Parking is hard"), "{page}");

    let invitation: i64 = {
        use diesel::prelude::*;
        use pds::db::schema::invitations;
        invitations::table
            .select(invitations::id)
            .first(&mut *app.db.conn().unwrap())
            .unwrap()
    };
    let mut conn = app.db.conn().unwrap();
    let response = response_of_invitation(&mut conn, invitation)
        .unwrap()
        .expect("stored");
    let stored = answers_of(&mut conn, response).unwrap();
    let stored_order: Vec<_> = stored.iter().map(|a| a.item.as_str().to_string()).collect();
    assert_eq!(stored_order, order, "the order shown is stored");
    assert_late_delivery_as_whole_answer(&stored);
    drop(conn);

    // Coming back through the link shows the answer given.
    let (_, page) = get(&agent, &link);
    assert!(page.contains("You have already answered"), "{page}");
    assert!(
        page.contains("name=\"bother_invoice-errors\" value=\"3\" checked"),
        "{page}"
    );

    // The write-in is a mention, coded like a discovery answer.
    let csv = app.pds_ok(&["export", "--survey", "check", "--what", "mentions"]);
    assert!(csv.contains("Parking is hard"), "{csv}");
}

on_both_backends!(customer_answers_the_checklist_from_the_emailed_link);
