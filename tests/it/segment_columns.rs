//! Contacts' segment columns as stored: a value that cannot be read is never taken
//! for "no segment columns". The command stops, names the contact and changes
//! nothing; importing the contact again mends it. SQLite and PostgreSQL.

use crate::common::{unique, Backend, TestApp};
use diesel::prelude::*;
use pds::db::schema::{contacts, invitations};

const DISCOVERY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/survey-templates/discovery");

fn stored_columns(app: &TestApp, id: i64) -> String {
    contacts::table
        .find(id)
        .select(contacts::attributes)
        .first(&mut *app.db.conn().unwrap())
        .unwrap()
}

fn invitations_made(app: &TestApp) -> i64 {
    invitations::table
        .count()
        .get_result(&mut *app.db.conn().unwrap())
        .unwrap()
}

fn a_damaged_segment_column_stops_the_invitation_and_names_the_contact(backend: Backend) {
    let app = TestApp::spawn(backend);
    app.create_survey(DISCOVERY, "study");
    let domain = format!("{}.example", unique("seg"));
    let (anna, bo) = (format!("anna@{domain}"), format!("bo@{domain}"));
    app.import_contacts(&format!(
        "email,name,locale,region\n{anna},Anna,en,North\n{bo},Bo,en,South\n"
    ));
    let bo_id: i64 = contacts::table
        .filter(contacts::email.eq(&bo))
        .select(contacts::id)
        .first(&mut *app.db.conn().unwrap())
        .unwrap();
    // A hand edit of the database left Bo's columns as a list.
    diesel::update(contacts::table.find(bo_id))
        .set(contacts::attributes.eq(r#"["South"]"#))
        .execute(&mut *app.db.conn().unwrap())
        .unwrap();

    let invite = [
        "invite",
        "--survey",
        "study",
        "--wave",
        "2026-H2",
        "--segment",
        "region=North",
        "--queue-only",
    ];
    let out = app.pds(&invite);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "our data, not the user's input: {stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "contact {bo_id}: the stored segment columns are not a JSON object"
        )),
        "{stderr}"
    );
    assert_eq!(invitations_made(&app), 0, "nothing is invited on a guess");
    assert_eq!(
        stored_columns(&app, bo_id),
        r#"["South"]"#,
        "nothing is rewritten"
    );

    app.import_contacts(&format!("email,name,locale,region\n{bo},Bo,en,South\n"));
    assert_eq!(stored_columns(&app, bo_id), r#"{"region":"South"}"#);
    let out = app.pds_ok(&invite);
    assert!(out.contains("Queued 1 invitations"), "{out}");
    assert!(out.contains("1 outside the segment"), "{out}");
}

on_both_backends!(a_damaged_segment_column_stops_the_invitation_and_names_the_contact);
