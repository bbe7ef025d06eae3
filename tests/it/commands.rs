//! The command line as an analyst meets it: bad input is refused with messages that
//! say what to fix, and nothing half-written is left behind.

use crate::common::{args, run_demo, Backend, TestApp};

#[test]
fn a_contacts_file_with_bad_rows_imports_nothing_and_names_each_line() {
    let app = TestApp::spawn(Backend::Sqlite);
    let file = app.write_file(
        "contacts.csv",
        "email,name,locale,region\nok@x.example,Ok,en,North\nanna@,Anna,sv,South\nbo@x.example,Bo,de,West\n",
    );
    let out = app.pds(&["contacts", "import", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 3: \"anna@\" is not an email address"),
        "{err}"
    );
    assert!(err.contains("line 4: unknown locale \"de\""), "{err}");
    assert!(err.contains("nothing was imported"), "{err}");
    assert!(err.contains("--skip-invalid"), "{err}");

    let out = app.pds_ok(&[
        "contacts",
        "import",
        "--skip-invalid",
        file.to_str().unwrap(),
    ]);
    assert!(
        out.contains("Imported 1 new") && out.contains("skipped 2"),
        "{out}"
    );

    // Importing again updates instead of duplicating.
    let file = app.write_file(
        "again.csv",
        "email,name,locale,region\nOK@x.example,Ok Updated,sv,South\n",
    );
    let out = app.pds_ok(&["contacts", "import", file.to_str().unwrap()]);
    assert!(out.contains("Imported 0 new and updated 1"), "{out}");
}

#[test]
fn a_broken_survey_folder_is_reported_file_by_file() {
    let app = TestApp::spawn(Backend::Sqlite);
    let folder = app.dir.path().join("broken");
    std::fs::create_dir_all(folder.join("en")).unwrap();
    std::fs::write(
        folder.join("survey.toml"),
        "[survey]\ndefault_locale = \"en\"\nlocales = [\"en\", \"fi\"]\nmax_problems = 0\n\n[locale.en]\ntitle = \"T\"\nquestion = \"Q\"\norganisation = \"O\"\n",
    )
    .unwrap();
    let (code, err) = app.create_survey_fails(folder.to_str().unwrap(), "b");
    assert_eq!(code, Some(2));
    assert!(err.contains("unknown locale \"fi\""), "{err}");
    assert!(err.contains("max_problems is 0"), "{err}");
    let out = app.pds_ok(&["survey", "list"]);
    assert!(out.contains("No surveys yet"), "nothing stored: {out}");
}

#[test]
fn bad_settings_stop_the_program_with_the_setting_named() {
    let app = TestApp::spawn(Backend::Sqlite);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pds"))
        .args(["survey", "list"])
        .env("PDS_SMTP_URL", "mailto:x")
        .current_dir(app.dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("smtp_url"));
}

#[test]
fn unknown_survey_and_wave_are_named() {
    let app = TestApp::spawn(Backend::Sqlite);
    let out = app.pds(&["results", "--survey", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no survey with slug \"nope\""));
}

#[test]
fn the_demo_runs_a_whole_study_and_writes_results_csv() {
    let dir = tempfile::tempdir().unwrap();
    let stdout = run_demo(dir.path(), &[]);
    assert!(
        stdout.contains("joint-v1") && stdout.contains("n = 150"),
        "{stdout}"
    );
    let mut invitations = 0;
    let mut complaints = 0;
    let mut follow_ups = 0;
    for entry in std::fs::read_dir(dir.path().join("study/mail-out")).unwrap() {
        let raw = std::fs::read(entry.unwrap().path()).unwrap();
        let message = mail_parser::MessageParser::default().parse(&raw).unwrap();
        let text = message.body_text(0).unwrap().into_owned();
        if text.contains("/s/") {
            invitations += 1;
        } else if text.contains("transportör") || text.contains("changed carrier") {
            // The team's note, in the follow-up to a customer who agreed to hear back.
            follow_ups += 1;
        } else {
            complaints += 1;
        }
    }
    assert_eq!(
        follow_ups, 2,
        "two resolved cases told their customers: {stdout}"
    );
    assert!(
        stdout.contains(
            "resolved 2 with a note, and 2 customers who agreed to be contacted were told"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("pds cases stats --survey demo") && stdout.contains("median-v1"),
        "the demo prints how fast the teams acted: {stdout}"
    );
    let stats = stdout
        .split("pds cases stats --survey demo")
        .nth(1)
        .unwrap();
    assert!(
        stats.lines().any(|l| l.starts_with("logistics")),
        "a row per team: {stats}"
    );
    assert_eq!(
        invitations,
        200 + 300 + 30,
        "one .eml per invitation, each with a personal link: discovery, then the checklist's customers and staff"
    );
    assert!(
        complaints > 0,
        "routed complaints were delivered to the teams too"
    );
    assert!(stdout.contains(&format!("{complaints} emails")), "{stdout}");

    // Phase 2: a checklist of the top areas, answered over HTTP by customers in
    // three segments and by staff; its ranking, segments and the staff gap.
    let phase2 = stdout
        .split("phase 2:")
        .nth(1)
        .expect("the checklist phase");
    for words in [
        "drafted a checklist of the top 8 areas (late-delivery,",
        "300 customers and 30 staff followed their link and answered every item over HTTP",
        "n = 300 customers",
        "joint-v1",
        "lost: n = 100",
        "chi-square-v1",
        "customers n = 300, staff n = 30",
        "Kendall tau-b",
        "Blind spots (customers' top 5, staff rank below):",
    ] {
        assert!(phase2.contains(words), "{words}:\n{phase2}");
    }
    let drafted =
        std::fs::read_to_string(dir.path().join("study/checklist/checklist.toml")).unwrap();
    assert_eq!(drafted.matches("[[item]]").count(), 8, "{drafted}");
    let csv = std::fs::read_to_string(dir.path().join("study/results.csv")).unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let rows: Vec<_> = reader.records().map(|r| r.unwrap()).collect();
    assert!(rows.len() >= 10, "areas ranked");
    let scores: Vec<f64> = rows.iter().map(|r| r[12].parse().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "ranked by score");

    // Running it again replaces the earlier demo rather than mixing with it.
    let again = std::process::Command::new(env!("CARGO_BIN_EXE_pds"))
        .args(["demo", "--dir", "study"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stdout).contains("n = 150"));
}

#[test]
fn a_segment_is_invited_on_its_own_and_the_rest_later() {
    let app = TestApp::spawn(Backend::Sqlite);
    let template = concat!(env!("CARGO_MANIFEST_DIR"), "/survey-templates/discovery");
    app.create_survey(template, "seg");
    let domain = crate::common::unique("seg");
    let file = app.write_file(
        "c.csv",
        &format!(
            "email,name,locale,customer_type\na@{domain}.example,A,en,lost\nb@{domain}.example,B,sv,current\nc@{domain}.example,C,sv,lost\n"
        ),
    );
    app.pds_ok(&["contacts", "import", file.to_str().unwrap()]);
    let out = app.pds_ok(&args(
        "invite --survey seg --wave w --segment customer_type=lost",
    ));
    assert!(
        out.contains("Queued 2 invitations") && out.contains("1 outside the segment"),
        "{out}"
    );
    assert_eq!(
        crate::common::received_for(&format!("c@{domain}.example"), 1).len(),
        1
    );
    let out = app.invite("seg", "w");
    assert!(
        out.contains("Queued 1 invitations") && out.contains("2 invited before"),
        "{out}"
    );
    assert_eq!(
        crate::common::received_for(&format!("b@{domain}.example"), 1).len(),
        1
    );

    let out = app.pds(&args("invite --survey seg --wave w --segment lost"));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("column=value"));
}
