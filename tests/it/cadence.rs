//! Continuous surveys and the contact frequency cap: a survey with
//! `cadence = "12 months"` invites every active contact once a year, in small
//! batches spread over the year, never within `contact_at_most_every` of another
//! invitation; `pds invite --dry-run` says who would be invited and why others are
//! skipped, and stores and sends nothing. Simulated days come from `PDS_NOW`.

use std::collections::BTreeMap;

use crate::cases::survey_folder;
use crate::common::{args, received_for, unique, Backend, TestApp};
use diesel::prelude::*;
use pds::db::schema::{contacts, invitations, outbox, surveys, waves};

const CAP: (&str, &str) = ("PDS_CONTACT_AT_MOST_EVERY", "90d");

/// Runs `pds` on the simulated day `now` with the 90-day cap, insisting on success.
fn pds_at(app: &TestApp, now: &str, args: &[&str]) -> String {
    let out = app.pds_env(&[("PDS_NOW", now), CAP], args);
    assert!(
        out.status.success(),
        "pds {args:?} at {now} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A discovery survey folder without a closing date, with `extra` under [survey].
fn folder_with(app: &TestApp, name: &str, extra: &str) -> String {
    let team = format!("ops@{}.example", unique("t"));
    let extra = extra.to_string();
    survey_folder(app, name, &team, move |f| {
        let toml = std::fs::read_to_string(f.join("survey.toml")).unwrap();
        let toml = toml.replace("closes = \"2027-06-30\"\n", "").replacen(
            "[survey]\n",
            &format!("[survey]\n{extra}"),
            1,
        );
        std::fs::write(f.join("survey.toml"), toml).unwrap();
    })
}

/// Every invitation: (contact email, survey slug, wave label, when).
fn invitations_of(app: &TestApp) -> Vec<(String, String, String, chrono::NaiveDateTime)> {
    invitations::table
        .inner_join(contacts::table)
        .inner_join(surveys::table)
        .inner_join(waves::table)
        .select((
            contacts::email,
            surveys::slug,
            waves::label,
            invitations::created_at,
        ))
        .order(invitations::id)
        .load(&mut *app.db.conn().unwrap())
        .unwrap()
}

fn import(app: &TestApp, emails: &[String]) {
    let mut csv = String::from("email,name,locale,group\n");
    for (i, e) in emails.iter().enumerate() {
        let group = if i < 10 { "early" } else { "rest" };
        let locale = if i % 2 == 0 { "sv" } else { "en" };
        csv.push_str(&format!("{e},Kund {i},{locale},{group}\n"));
    }
    app.import_contacts(&csv);
}

fn a_continuous_survey_invites_everyone_once_a_year_within_the_cap(backend: Backend) {
    let app = TestApp::spawn(backend);
    let d = unique("y");
    let emails: Vec<String> = (0..40).map(|i| format!("c{i:02}@{d}.example")).collect();
    import(&app, &emails);
    app.pds_ok(&["contacts", "erase", &emails[39]]);
    let yearly = folder_with(&app, "yearly", "cadence = \"12 months\"\n");
    let adhoc = folder_with(&app, "adhoc", "");
    app.create_survey(&yearly, "yearly");
    app.create_survey(&adhoc, "adhoc");

    // Ten contacts are asked by another survey just before the year starts.
    let out = pds_at(
        &app,
        "2026-12-20T10:00:00",
        &args("invite --survey adhoc --wave dec --segment group=early --queue-only"),
    );
    assert!(out.contains("Queued 10 invitations"), "{out}");

    // A run a week for two years (2027-01-04 to 2029-01-08).
    let start = chrono::NaiveDate::from_ymd_opt(2027, 1, 4).unwrap();
    let mut batches = Vec::new();
    for week in 0..106 {
        let day = start + chrono::Duration::weeks(week);
        let now = format!("{day}T09:00:00");
        let before = invitations_of(&app).len();
        let out = pds_at(&app, &now, &["invite", "--cadence-run", "--queue-only"]);
        let invited = invitations_of(&app).len() - before;
        assert!(
            out.contains(&format!(
                "yearly: invited {invited} into wave {}",
                day.format("%Y-%m")
            )),
            "{out}"
        );
        batches.push(invited);
        if week == 0 {
            // The same day again: its batch has run.
            let again = pds_at(&app, &now, &["invite", "--cadence-run", "--queue-only"]);
            assert!(again.contains("today's batch has run already"), "{again}");
            assert_eq!(invitations_of(&app).len() - before, invited);
        }
        if week == 13 {
            // 2027-04-05: those of the ten whom the yearly survey has invited
            // since their cap ended (2027-03-20) may not be reminded by the
            // other survey now; the others may.
            let early: Vec<&String> = emails.iter().take(10).collect();
            let held = invitations_of(&app)
                .iter()
                .filter(|(e, s, ..)| s == "yearly" && early.contains(&e))
                .count();
            assert!(held >= 1, "the cadence has reached the ten by now");
            let out = pds_at(
                &app,
                &now,
                &args("remind --survey adhoc --wave dec --after 5d --queue-only"),
            );
            assert!(
                out.contains(&format!("Queued {} reminders", 10 - held))
                    && out.contains(&format!(
                        "{held} invited to another survey within contact_at_most_every"
                    )),
                "{out}"
            );
        }
    }
    // 39 active contacts over 365 days: about one every nine days, so never
    // more than one a week, and all 39 in the first year, not in its first weeks.
    assert_eq!(batches[0], 1, "{batches:?}");
    assert!(batches.iter().all(|&b| b <= 1), "{batches:?}");
    assert_eq!(batches[..53].iter().sum::<usize>(), 39, "{batches:?}");
    assert!(batches[..26].iter().sum::<usize>() <= 20, "{batches:?}");

    let all = invitations_of(&app);
    let mut per_contact: BTreeMap<&str, Vec<(&str, chrono::NaiveDateTime)>> = BTreeMap::new();
    for (email, survey, _, at) in &all {
        per_contact.entry(email).or_default().push((survey, *at));
    }
    assert!(
        !all.iter().any(|(e, ..)| e.starts_with("erased-")),
        "an erased contact is never invited"
    );
    for (i, email) in emails.iter().take(39).enumerate() {
        let got = &per_contact[email.as_str()];
        let yearly: Vec<_> = got
            .iter()
            .filter(|(s, _)| *s == "yearly")
            .map(|(_, t)| *t)
            .collect();
        assert_eq!(yearly.len(), 2, "{email}: {got:?}");
        assert!(
            yearly[1] - yearly[0] >= chrono::Duration::days(365),
            "{email}: {yearly:?}"
        );
        let mut times: Vec<_> = got.iter().map(|(_, t)| *t).collect();
        times.sort();
        for pair in times.windows(2) {
            assert!(
                pair[1] - pair[0] >= chrono::Duration::days(90),
                "{email}: {got:?}"
            );
        }
        if i < 10 {
            let first = yearly[0].date();
            assert!(
                first >= chrono::NaiveDate::from_ymd_opt(2027, 3, 20).unwrap(),
                "{email}: {first}"
            );
        }
    }
    assert!(all
        .iter()
        .any(|(_, s, w, _)| s == "yearly" && w == "2027-01"));
    assert!(all
        .iter()
        .filter(|(_, s, _, _)| s == "yearly")
        .all(|(_, _, w, _)| { w.len() == 7 && w.starts_with("202") && &w[4..5] == "-" }));

    // The emails go out (the worker on the last simulated day).
    pds_at(&app, "2029-01-16T10:00:00", &["worker", "--once"]);
    assert_eq!(
        received_for(&emails[0], 3).len(),
        3,
        "adhoc and two yearly invitations"
    );
    assert_eq!(received_for(&emails[20], 2).len(), 2);
}

on_both_backends!(a_continuous_survey_invites_everyone_once_a_year_within_the_cap);

fn a_dry_run_says_who_would_be_invited_and_why_not_and_stores_nothing(backend: Backend) {
    let app = TestApp::spawn(backend);
    let d = unique("r");
    let emails: Vec<String> = (0..12).map(|i| format!("d{i:02}@{d}.example")).collect();
    import(&app, &emails);
    let folder = folder_with(&app, "s", "");
    app.create_survey(&folder, "s");
    app.create_survey(&folder, "other");
    // d00 was asked by another survey a month ago; d11 asked to be forgotten.
    pds_at(
        &app,
        "2026-11-01T09:00:00",
        &args("invite --survey other --wave nov --segment group=early --queue-only"),
    );
    app.pds_ok(&["contacts", "erase", &emails[11]]);
    let outbox_before: i64 = outbox::table
        .count()
        .get_result(&mut *app.db.conn().unwrap())
        .unwrap();
    let invitations_before = invitations_of(&app).len();

    let out = pds_at(
        &app,
        "2026-12-01T09:00:00",
        &["invite", "--survey", "s", "--wave", "dec", "--dry-run"],
    );
    assert!(out.contains("nothing was stored or sent"), "{out}");
    assert!(
        out.contains("Would invite 1 contacts; would skip 11 (0 invited to this wave before, 1 unsubscribed, 0 outside the segment, 10 invited to a survey within contact_at_most_every)"),
        "{out}"
    );
    assert!(
        out.contains(&format!("invite  {}  Kund 10", emails[10])),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "skip    {}  invited to a survey on 2026-11-01 (contact_at_most_every = 90 days)",
            emails[0]
        )),
        "{out}"
    );
    assert!(out.contains("unsubscribed (or erased)"), "{out}");
    let segment = pds_at(
        &app,
        "2026-12-01T09:00:00",
        &args("invite --survey s --wave dec --segment group=rest --dry-run"),
    );
    // The erased contact has no segment values left either.
    assert!(
        segment.contains("Would invite 1 contacts; would skip 11 (0 invited to this wave before, 0 unsubscribed, 11 outside the segment"),
        "{segment}"
    );

    // Nothing stored, not even the wave; nothing sent.
    assert_eq!(invitations_of(&app).len(), invitations_before);
    let outbox_after: i64 = outbox::table
        .count()
        .get_result(&mut *app.db.conn().unwrap())
        .unwrap();
    assert_eq!(outbox_after, outbox_before);
    let wave_count: i64 = waves::table
        .filter(waves::label.eq("dec"))
        .count()
        .get_result(&mut *app.db.conn().unwrap())
        .unwrap();
    assert_eq!(wave_count, 0);
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(received_for(&emails[10], 0).is_empty());

    // The real run does what the dry run said.
    let out = pds_at(
        &app,
        "2026-12-01T09:00:00",
        &["invite", "--survey", "s", "--wave", "dec"],
    );
    assert!(
        out.contains("Queued 1 invitations")
            && out.contains("10 invited to a survey within contact_at_most_every"),
        "{out}"
    );
    assert_eq!(received_for(&emails[10], 1).len(), 1);
}

on_both_backends!(a_dry_run_says_who_would_be_invited_and_why_not_and_stores_nothing);

#[test]
fn a_wrong_cadence_or_cap_is_named_with_how_to_write_it() {
    let app = TestApp::spawn(Backend::Sqlite);
    let bad = folder_with(&app, "bad", "cadence = \"every year\"\n");
    let out = app.pds(&["survey", "check", "--template", &bad]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("survey.toml: cadence \"every year\" is not a number and a unit: days, weeks, months or years, e.g. \"12 months\""),
        "{err}"
    );
    let short = folder_with(&app, "short", "cadence = \"2 days\"\n");
    let out = app.pds(&["survey", "create", "--template", &short, "--slug", "short"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("from a week to ten years"));
    assert!(app
        .pds_ok(&["survey", "list"])
        .trim()
        .lines()
        .all(|l| !l.contains("short")));

    let out = app.pds_env(
        &[("PDS_CONTACT_AT_MOST_EVERY", "soon")],
        &["survey", "list"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("contact_at_most_every \"soon\" is not a length"));
    let out = app.pds_env(&[("PDS_NOW", "yesterday")], &["survey", "list"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("PDS_NOW \"yesterday\" is not a UTC time")
    );

    let plain = folder_with(&app, "plain", "");
    app.create_survey(&plain, "plain");
    let out = app.pds(&["invite", "--cadence-run", "--survey", "plain"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("survey plain has no cadence; write e.g. cadence = \"12 months\""));
    let out = app.pds(&["invite", "--survey", "plain"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a wave is needed without --cadence-run"
    );
}
