//! An analyst's survey folder that reaches outside itself or never ends, and
//! templates that include each other: `pds survey check` and `create` say which
//! file is wrong and stop, instead of storing a file from elsewhere, growing without
//! bound or dying of a stack overflow; and a survey stored before these checks
//! existed cannot stop `pds serve` for anyone else.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common::{get, link_in, post_form, received_for, unique, Backend, TestApp};
use diesel::prelude::*;

const DISCOVERY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/survey-templates/discovery");

/// A copy of the shipped discovery survey in the app's folder, to spoil.
fn discovery_copy(app: &TestApp, name: &str) -> PathBuf {
    let to = app.dir.path().join(name);
    copy_dir(Path::new(DISCOVERY), &to);
    to
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Runs `pds survey ARGS…` and returns (exit code, stderr); insists it exited by
/// itself within 20 s rather than being killed by a signal.
fn survey_command(app: &TestApp, args: &[&str]) -> (i32, String) {
    let started = Instant::now();
    let mut all = vec!["survey"];
    all.extend_from_slice(args);
    let out = app.pds(&all);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(20), "pds {all:?} took {took:?}");
    let code = out.status.code().unwrap_or_else(|| {
        panic!(
            "pds {all:?} was killed ({:?}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (code, String::from_utf8_lossy(&out.stderr).into_owned())
}

fn surveys_stored(app: &TestApp) -> i64 {
    use pds::db::schema::surveys;
    surveys::table
        .count()
        .get_result(&mut *app.db.conn().unwrap())
        .unwrap()
}

#[test]
fn a_link_to_a_file_outside_the_survey_folder_is_refused_and_named() {
    let app = TestApp::spawn(Backend::Sqlite);
    let folder = discovery_copy(&app, "linked");
    let secret = app.write_file("secret.html.hbs", "database password: hunter2");
    let thanks = folder.join("en/thanks.html.hbs");
    std::fs::remove_file(&thanks).unwrap();
    std::os::unix::fs::symlink(&secret, &thanks).unwrap();

    for command in ["check", "create"] {
        let mut args = vec![command, "--template", folder.to_str().unwrap()];
        if command == "create" {
            args.extend(["--slug", "linked"]);
        }
        let (code, stderr) = survey_command(&app, &args);
        assert_ne!(code, 0, "{command}: {stderr}");
        assert!(
            stderr.contains("en/thanks.html.hbs: is a symbolic link"),
            "{command}: {stderr}"
        );
        assert!(!stderr.contains("hunter2"), "{stderr}");
    }
    assert_eq!(surveys_stored(&app), 0, "nothing was stored");
}

#[test]
fn folders_that_loop_back_are_refused_at_once() {
    let app = TestApp::spawn(Backend::Sqlite);
    let folder = discovery_copy(&app, "looping");
    std::os::unix::fs::symlink("..", folder.join("en/up")).unwrap();
    std::os::unix::fs::symlink("../sv", folder.join("en/across")).unwrap();
    std::os::unix::fs::symlink("../en", folder.join("sv/back")).unwrap();

    let (code, stderr) = survey_command(&app, &["check", "--template", folder.to_str().unwrap()]);
    assert_ne!(code, 0, "{stderr}");
    for link in ["en/up", "en/across", "sv/back"] {
        assert!(
            stderr.contains(&format!("{link}: is a symbolic link")),
            "{link}: {stderr}"
        );
    }
}

#[test]
fn a_pipe_in_the_survey_folder_is_refused_without_waiting_for_it() {
    let app = TestApp::spawn(Backend::Sqlite);
    let folder = discovery_copy(&app, "piped");
    let pipe = folder.join("en/extra.html.hbs");
    let made = std::process::Command::new("mkfifo")
        .arg(&pipe)
        .status()
        .expect("mkfifo");
    assert!(made.success());

    let (code, stderr) = survey_command(&app, &["check", "--template", folder.to_str().unwrap()]);
    assert_ne!(code, 0, "{stderr}");
    assert!(
        stderr.contains("en/extra.html.hbs: is not a regular file or folder"),
        "{stderr}"
    );
}

#[test]
fn folders_nested_without_end_are_refused() {
    let app = TestApp::spawn(Backend::Sqlite);
    let folder = discovery_copy(&app, "deep");
    let deep = folder.join("en/a/b/c/d/e/f/g/h/i/j");
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::write(deep.join("x.html.hbs"), "x").unwrap();

    let (code, stderr) = survey_command(&app, &["check", "--template", folder.to_str().unwrap()]);
    assert_ne!(code, 0, "{stderr}");
    assert!(stderr.contains("folders nest more than 8 deep"), "{stderr}");
}

#[test]
fn an_oversized_template_is_refused_by_name() {
    let app = TestApp::spawn(Backend::Sqlite);
    let folder = discovery_copy(&app, "large");
    std::fs::write(folder.join("en/huge.html.hbs"), "x".repeat(1024 * 1024 + 1)).unwrap();

    let (code, stderr) = survey_command(&app, &["check", "--template", folder.to_str().unwrap()]);
    assert_ne!(code, 0, "{stderr}");
    assert!(
        stderr.contains("en/huge.html.hbs: is larger than 1024 KiB"),
        "{stderr}"
    );
}

#[test]
fn templates_that_include_each_other_are_reported_not_crashed() {
    let app = TestApp::spawn(Backend::Sqlite);
    let folder = discovery_copy(&app, "mutual");
    // Only an answer reading "boom" would reach the include: rendering the sample
    // answers cannot find it, reading the templates does.
    let thanks = folder.join("en/thanks.html.hbs");
    let text = std::fs::read_to_string(&thanks).unwrap();
    std::fs::write(
        &thanks,
        format!(
            "{text}{{{{#each mentions}}}}{{{{#if (eq text \"boom\")}}}}{{{{> en/boom.html.hbs}}}}{{{{/if}}}}{{{{/each}}}}"
        ),
    )
    .unwrap();
    std::fs::write(folder.join("en/boom.html.hbs"), "{{> en/bang.html.hbs}}").unwrap();
    std::fs::write(
        folder.join("en/bang.html.hbs"),
        "<b>{{> en/boom.html.hbs}}</b>",
    )
    .unwrap();

    for command in ["check", "create"] {
        let mut args = vec![command, "--template", folder.to_str().unwrap()];
        if command == "create" {
            args.extend(["--slug", "mutual"]);
        }
        let (code, stderr) = survey_command(&app, &args);
        assert_ne!(code, 0, "{command}: {stderr}");
        assert!(
            stderr.contains("en/bang.html.hbs includes en/boom.html.hbs includes en/bang.html.hbs"),
            "{command} names both files: {stderr}"
        );
        assert!(stderr.contains("include each other"), "{stderr}");
    }
    assert_eq!(surveys_stored(&app), 0, "nothing was stored");
}

/// A survey stored by a pds from before the include check: its thanks page
/// includes two templates that include each other once an answer says "boom".
/// That survey's links fail with the error page; the server keeps serving others.
fn a_stored_survey_with_mutual_includes_cannot_stop_the_server(backend: Backend) {
    use pds::db::schema::surveys;
    let app = TestApp::spawn(backend);
    let email = format!("bo@{}.example", unique("boom"));
    app.create_survey(DISCOVERY, "boom");
    app.create_survey(DISCOVERY, "calm");
    app.import_contacts(&format!("email,name,locale\n{email},Bo,en\n"));
    app.invite("boom", "w");
    let boom_link = link_in(&received_for(&email, 1)[0], &app.base_url);
    app.invite("calm", "w");
    let calm_link = received_for(&email, 2)
        .iter()
        .map(|raw| link_in(raw, &app.base_url))
        .find(|link| *link != boom_link)
        .expect("an invitation to the calm survey");

    {
        let mut conn = app.db.conn().unwrap();
        let definition: String = surveys::table
            .filter(surveys::slug.eq("boom"))
            .select(surveys::definition)
            .first(&mut *conn)
            .unwrap();
        let mut files: std::collections::BTreeMap<String, String> =
            serde_json::from_str(&definition).unwrap();
        let thanks = files.get_mut("en/thanks.html.hbs").unwrap();
        thanks.push_str(
            "{{#each mentions}}{{#if (eq text \"boom\")}}{{> en/boom.html.hbs}}{{/if}}{{/each}}",
        );
        files.insert("en/boom.html.hbs".into(), "{{> en/bang.html.hbs}}".into());
        files.insert("en/bang.html.hbs".into(), "{{> en/boom.html.hbs}}".into());
        diesel::update(surveys::table.filter(surveys::slug.eq("boom")))
            .set(surveys::definition.eq(serde_json::to_string(&files).unwrap()))
            .execute(&mut *conn)
            .unwrap();
    }

    let agent = app.http();
    for _ in 0..2 {
        let (status, page) = post_form(
            &agent,
            &boom_link,
            &[("problem_1", "boom"), ("rank_1", "1")],
        );
        assert_eq!(status, 500, "{page}");
        let (status, _) = get(&agent, &boom_link);
        assert_eq!(status, 500);
    }
    let (status, _) = get(&agent, &format!("{}/healthz", app.base_url));
    assert_eq!(status, 200, "the server is still up");
    let (status, page) = post_form(
        &agent,
        &calm_link,
        &[("problem_1", "boom"), ("rank_1", "1")],
    );
    assert_eq!(status, 200, "other surveys keep taking answers: {page}");
    assert!(page.contains("boom"), "{page}");
}

on_both_backends!(a_stored_survey_with_mutual_includes_cannot_stop_the_server);
