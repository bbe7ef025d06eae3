//! Contacts' segment columns as stored: a value that cannot be read is never taken
//! for "no segment columns". The command stops, names the contact and changes
//! nothing; importing the contact again mends it. SQLite and PostgreSQL.

use crate::common::{unique, Backend, TestApp};
use diesel::prelude::*;
use pds::db::schema::contacts;

const DISCOVERY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/survey-templates/discovery");

/// The id and the stored segment columns of the contact with `email`.
fn contact(app: &TestApp, email: &str) -> (i64, String) {
    let mut conn = app.db.conn().unwrap();
    contacts::table
        .filter(contacts::email.eq(email))
        .select((contacts::id, contacts::attributes))
        .first(&mut *conn)
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
    let (bo_id, _) = contact(&app, &bo);
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
    assert_eq!(contact(&app, &bo).1, r#"["South"]"#, "nothing is rewritten");

    app.import_contacts(&format!("email,name,locale,region\n{bo},Bo,en,South\n"));
    assert_eq!(contact(&app, &bo).1, r#"{"region":"South"}"#);
    let out = app.pds_ok(&invite);
    assert!(
        out.contains("Queued 1 invitations") && out.contains("(0 invited before"),
        "Anna only, and nobody was invited on a guess before: {out}"
    );
    assert!(out.contains("1 outside the segment"), "{out}");
}

on_both_backends!(a_damaged_segment_column_stops_the_invitation_and_names_the_contact);
