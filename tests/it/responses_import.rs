//! Importing responses collected elsewhere: a file with bad rows imports nothing
//! and names every bad row by line; `--skip-invalid` imports the respondents without
//! errors. Also `pds plan`, the other command that works without a study.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use crate::common::{args, Backend, TestApp};

const TEMPLATE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/survey-templates/discovery");

/// (On PostgreSQL the import first tries one reading, which gives up at the
/// first bad row; the two readings after it name every bad row.)
fn a_file_with_bad_rows_imports_nothing_and_names_each_line(backend: Backend) {
    let app = TestApp::spawn(backend);
    app.create_survey(TEMPLATE, "paper");
    let file = app.write_file(
        "paper.csv",
        "respondent,wave,segment,rank,problem\n\
         p1,2026-H1,current,1,Late delivery\n\
         p1,2026-H1,current,1,Wrong invoice\n\
         p2,2026-H1,lost,7,Rude staff\n\
         p3,2026-H1,lost,,\n\
         p4,2026-H1,current,2,Slow refunds\n\
         p4,2026-H1,current,1,\"=HYPERLINK(\"\"http://evil\"\")\"\n",
    );
    let path = file.to_str().unwrap();
    let debug = [("PDS_LOG", "pds=debug")];
    let out = app.pds_env(&debug, &["responses", "import", "--survey", "paper", path]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("2 invalid row(s); nothing was imported"),
        "{stderr}"
    );
    if backend == Backend::Postgres {
        assert!(
            stderr.contains("one reading gave up") && stderr.contains("line 3: respondent"),
            "{stderr}"
        );
    }
    assert!(
        stderr.contains("line 3: respondent \"p1\" (wave 2026-H1) already has rank 1 on line 2"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 4: rank \"7\" is not a whole number from 1 to 5"),
        "{stderr}"
    );
    let json = app.pds_ok(&["results", "--survey", "paper", "--format", "json"]);
    assert!(json.contains("\"n\": 0"), "nothing was stored: {json}");

    let out = app.pds_ok(&[
        "responses",
        "import",
        "--survey",
        "paper",
        path,
        "--skip-invalid",
    ]);
    assert!(
        out.contains("Imported 2 new and replaced 0 earlier respondents (2 mentions)")
            && out.contains("left out 2 respondents"),
        "{out}"
    );
    let r: serde_json::Value =
        serde_json::from_str(&app.pds_ok(&["results", "--survey", "paper", "--format", "json"]))
            .unwrap();
    assert_eq!(r["n"], 2, "p3 (no problems) and p4");
    assert_eq!(r["respondents_with_problems"], 1);
    assert_eq!(
        r["uncoded"]["texts"][0]["text"], "=HYPERLINK(\"http://evil\")",
        "stored as written, listed as not yet coded"
    );
    let csv_out = app.pds_ok(&["results", "--survey", "paper", "--format", "csv"]);
    assert!(
        csv_out.contains("'=HYPERLINK"),
        "neutralised in CSV: {csv_out}"
    );

    let out = app.pds(&["responses", "import", "--survey", "paper", path, "--bogus"]);
    assert_eq!(out.status.code(), Some(2));
    let wrong = app.write_file("wrong.csv", "id,wave,rank,problem\n1,w,1,x\n");
    let out = app.pds(&[
        "responses",
        "import",
        "--survey",
        "paper",
        wrong.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown column \"id\""));
}

on_both_backends!(a_file_with_bad_rows_imports_nothing_and_names_each_line);

#[test]
fn plan_gives_discovery_coverage_and_interviews_needed() {
    let app = TestApp::spawn(Backend::Sqlite);
    let out = app.pds_ok(&["plan", "--incidence", "0.10", "--interviews", "30"]);
    assert!(
        out.contains("probability 0.958") && out.contains("coverage-v1"),
        "{out}"
    );
    let out = app.pds_ok(&["plan", "--incidence", "2%", "--interviews", "30"]);
    assert!(out.contains("0.455"), "{out}");
    let out = app.pds_ok(&args("plan --incidence 0.10 --target-probability 0.95"));
    assert!(out.contains("plan 29 interviews"), "{out}");
    let out = app.pds_ok(&["plan", "--incidence", "0.10", "--json"]);
    let plans: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        plans[2]["interviews"], 22,
        "90% needs 22 interviews at p = 0.10"
    );
    let out = app.pds(&["plan", "--incidence", "1.5", "--interviews", "3"]);
    assert_eq!(out.status.code(), Some(2));
}

/// A file of several thousand respondents is stored in many batches: every
/// respondent once, with every mention in its area, also when a respondent's rows
/// are far apart; importing it again replaces each answer instead of adding one.
fn a_large_file_is_imported_whole_and_again_replaces(backend: Backend) {
    let app = TestApp::spawn(backend);
    app.create_survey(TEMPLATE, "phone");
    let respondents = 7_000;
    let mut csv = String::from("respondent,wave,segment,rank,problem,area\n");
    for r in 0..respondents {
        if r % 10 == 0 {
            csv.push_str(&format!("p{r},2026-H1,lost,,,\n"));
            continue;
        }
        csv.push_str(&format!(
            "p{r},2026-H1,current,2,Invoice {r} wrong,Billing\n"
        ));
    }
    // The first problems of the same respondents, after all their second ones.
    for r in (0..respondents).filter(|r| r % 10 != 0) {
        csv.push_str(&format!(
            "p{r},2026-H1,current,1,Parcel {r} late,Delivery\n"
        ));
    }
    let file = app.write_file("phone.csv", &csv);
    let path = file.to_str().unwrap();
    let out = app.pds_ok(&["responses", "import", "--survey", "phone", path]);
    assert!(
        out.contains("Imported 7000 new and replaced 0 earlier respondents (12600 mentions)"),
        "{out}"
    );
    if backend == Backend::Sqlite {
        // The load's write-ahead log is copied into the file and started over, so
        // the next command does not read it all again before its first query.
        let log = app.dir.path().join("pds.db-wal");
        let left = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
        assert_eq!(left, 0, "{} still holds {left} bytes", log.display());
    }
    let again = app.pds_ok(&["responses", "import", "--survey", "phone", path]);
    assert!(
        again.contains("Imported 0 new and replaced 7000 earlier respondents (12600 mentions)"),
        "{again}"
    );
    let r: serde_json::Value =
        serde_json::from_str(&app.pds_ok(&["results", "--survey", "phone", "--format", "json"]))
            .unwrap();
    assert_eq!(r["n"], 7000, "each respondent once: {r}");
    assert_eq!(r["respondents_with_problems"], 6300);
    let areas = r["areas"].as_array().unwrap();
    assert_eq!(areas[0]["area"], "Delivery", "ranked first in every answer");
    assert_eq!(areas[0]["mentions"], 6300);
    assert_eq!(areas[0]["first_choice_share"], 0.9);
    assert_eq!(areas[1]["area"], "Billing");
    assert_eq!(areas[1]["mentions"], 6300);
    let by = app.pds_ok(&args("results --survey phone --by segment --format json"));
    let by: serde_json::Value = serde_json::from_str(&by).unwrap();
    assert_eq!(by["segments"]["segments"][0]["segment"], "current", "{by}");
    assert_eq!(by["segments"]["segments"][0]["n"], 6300);
    assert_eq!(by["segments"]["segments"][1]["n"], 700);
}

on_both_backends!(a_large_file_is_imported_whole_and_again_replaces);

/// A file whose respondents fill several batches, with the shapes an import must
/// keep: ranks with a gap (renumbered 1..m), rows of one respondent far apart, no
/// problems, segments, mentions with and without an area.
fn varied_file(respondents: usize) -> String {
    varied_file_laid_out(respondents, false)
}

/// [`varied_file`], with each respondent's rows together if `together`.
fn varied_file_laid_out(respondents: usize, together: bool) -> String {
    let mut csv = String::from("respondent,wave,segment,rank,problem,area\n");
    for r in 0..respondents {
        match r % 4 {
            0 => csv.push_str(&format!("v{r},2026-H1,lost,,,\n")),
            1 => csv.push_str(&format!(
                "v{r},2026-H1,current,3,Refund {r} slow,Billing\nv{r},2026-H1,current,1,Parcel {r} late,\n"
            )),
            _ => csv.push_str(&format!("v{r},2026-H1,new,1,\"Rude, \"\"very\"\" rude\",Staff\n")),
        }
        if together && r % 4 == 2 {
            csv.push_str(&format!("v{r},2026-H1,new,2,Login {r} fails,Website\n"));
        }
    }
    for r in (0..respondents).filter(|r| r % 4 == 2 && !together) {
        csv.push_str(&format!("v{r},2026-H1,new,2,Login {r} fails,Website\n"));
    }
    csv
}

/// PostgreSQL stores an import by COPY and SQLite by INSERT: the same file gives
/// the same responses and mentions on both, as their exports show, whether
/// PostgreSQL stores it in one reading (each respondent's rows together) or
/// gives that up where a respondent's rows are apart and reads it twice.
#[test]
fn copy_and_insert_store_the_same_rows() {
    for together in [true, false] {
        copy_and_insert_store_the_same_rows_of(together);
    }
}

fn copy_and_insert_store_the_same_rows_of(together: bool) {
    let exports: Vec<(String, String)> = [Backend::Sqlite, Backend::Postgres]
        .into_iter()
        .map(|backend| {
            let app = TestApp::spawn(backend);
            app.create_survey(TEMPLATE, "phone");
            let file = app.write_file("phone.csv", &varied_file_laid_out(5_003, together));
            let now = [("PDS_NOW", "2026-12-01T09:30:00"), ("PDS_LOG", "pds=debug")];
            let import = ["responses", "import", "--survey", "phone"];
            let out = app.pds_env(&now, &[&import[..], &[file.to_str().unwrap()]].concat());
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "{stderr}");
            if backend == Backend::Postgres {
                let one = stderr.contains("rows stored in one reading");
                assert_eq!(one, together, "{stderr}");
                assert_eq!(stderr.contains("rows are not together"), !together);
            }
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                stdout.contains(
                    "Imported 5003 new and replaced 0 earlier respondents (6254 mentions)"
                ),
                "{stdout}"
            );
            let export = |what: &str| {
                let path = app.dir.path().join(format!("{what}.csv"));
                app.pds_ok(&args(&format!(
                    "export --survey phone --what {what} -o {}",
                    path.display()
                )));
                std::fs::read_to_string(path).unwrap()
            };
            (export("responses"), export("mentions"))
        })
        .collect();
    assert_eq!(exports[0].0, exports[1].0, "the same responses");
    assert_eq!(exports[0].1, exports[1].1, "the same mentions");
    let mentions = &exports[0].1;
    assert!(
        mentions.contains(",1,Parcel 1 late,"),
        "{}",
        &mentions[..600]
    );
    assert!(
        mentions.contains(",2,Refund 1 slow,"),
        "rank 3 renumbered to 2"
    );
    assert!(
        mentions.contains("\"Rude, \"\"very\"\" rude\""),
        "quotes kept"
    );
}

/// The database refuses a row far into the file (a trigger stands in for a full
/// disk or a lost connection): nothing of the file stays, on SQLite the indexes
/// set aside for the load are back, and the same file imports once the cause is gone.
fn a_failure_while_storing_leaves_nothing(backend: Backend) {
    let app = TestApp::spawn(backend);
    app.create_survey(TEMPLATE, "phone");
    let mut csv = varied_file(6_000);
    csv.push_str("last,2026-H1,new,1,refused by the database,\n");
    let file = app.write_file("phone.csv", &csv);
    let path = file.to_str().unwrap();
    let refuse = match backend {
        Backend::Sqlite => {
            "CREATE TRIGGER refuse BEFORE INSERT ON mentions \
             WHEN NEW.text = 'refused by the database' \
             BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END;"
        }
        Backend::Postgres => {
            "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN \
             IF NEW.text = 'refused by the database' THEN \
             RAISE EXCEPTION 'refused by a test trigger'; END IF; RETURN NEW; END $$ \
             LANGUAGE plpgsql; \
             CREATE TRIGGER refuse BEFORE INSERT ON mentions \
             FOR EACH ROW EXECUTE FUNCTION refuse();"
        }
    };
    app.db.conn().unwrap().batch_execute(refuse).unwrap();
    let guards_before = set_aside_during_a_load(&app, backend);
    assert!(guards_before >= 3, "{guards_before}");
    let out = app.pds(&["responses", "import", "--survey", "phone", path]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("refused by a test trigger"), "{stderr}");
    let r: serde_json::Value =
        serde_json::from_str(&app.pds_ok(&["results", "--survey", "phone", "--format", "json"]))
            .unwrap();
    assert_eq!(r["n"], 0, "nothing was stored: {r}");
    assert_eq!(
        set_aside_during_a_load(&app, backend),
        guards_before,
        "the indexes (SQLite) or foreign keys (PostgreSQL) are back"
    );
    let drop = match backend {
        Backend::Sqlite => "DROP TRIGGER refuse",
        Backend::Postgres => "DROP TRIGGER refuse ON mentions",
    };
    app.db.conn().unwrap().batch_execute(drop).unwrap();
    let out = app.pds_ok(&["responses", "import", "--survey", "phone", path]);
    assert!(
        out.contains("Imported 6001 new and replaced 0 earlier respondents (7501 mentions)"),
        "{out}"
    );
    assert_eq!(set_aside_during_a_load(&app, backend), guards_before);
    if backend == Backend::Postgres {
        let orphan = app.db.conn().unwrap().batch_execute(
            "INSERT INTO mentions (response_id, rank, text, may_contact) VALUES (-1, 1, 'x', 0)",
        );
        let refused = orphan
            .expect_err("a mention of no response is refused")
            .to_string();
        assert!(refused.contains("foreign key"), "{refused}");
    }
}

on_both_backends!(a_failure_while_storing_leaves_nothing);

/// What a large import sets aside and must put back: the secondary indexes of
/// `responses` and `mentions` on SQLite, the foreign keys and indexes of the
/// tables it fills on PostgreSQL.
fn set_aside_during_a_load(app: &TestApp, backend: Backend) -> i64 {
    let count = match backend {
        Backend::Sqlite => {
            "(SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name IN \
             ('mentions_response', 'mentions_area', 'responses_respondent'))"
        }
        Backend::Postgres => {
            "(SELECT COUNT(*) FROM pg_constraint WHERE contype = 'f' AND conrelid IN \
             ('responses'::regclass, 'mentions'::regclass)) \
             + (SELECT COUNT(*) FROM pg_indexes WHERE schemaname = current_schema() \
             AND tablename IN ('responses', 'mentions'))"
        }
    };
    diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(count))
        .get_result(&mut *app.db.conn().unwrap())
        .unwrap()
}

/// Every constraint and index of the database, as PostgreSQL's catalog defines it
/// (a foreign key the same whether validated or not).
fn keys_and_indexes(app: &TestApp) -> Vec<String> {
    lines(
        app,
        "SELECT c.conrelid::regclass::text || ' ' || c.conname || ' ' || \
         replace(pg_get_constraintdef(c.oid), ' NOT VALID', '') FROM pg_constraint c \
         WHERE c.conrelid <> 0 AND c.connamespace = current_schema()::regnamespace \
         UNION ALL SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema()",
    )
}

/// The rows of a query of one text column, sorted.
fn lines(app: &TestApp, query: &str) -> Vec<String> {
    let all =
        format!("(SELECT COALESCE(string_agg(k, E'\\n' ORDER BY k), '') FROM ({query}) AS q(k))");
    let text: String = diesel::select(diesel::dsl::sql::<diesel::sql_types::Text>(&all))
        .get_result(&mut *app.db.conn().unwrap())
        .unwrap();
    text.lines().map(str::to_string).collect()
}

/// What PostgreSQL answers to one statement: `Ok` or its error message.
fn run(app: &TestApp, statement: &str) -> Result<(), String> {
    let mut conn = app.db.conn().unwrap();
    conn.batch_execute(statement).map_err(|e| e.to_string())
}

/// A large import into a survey that has answers already (PostgreSQL sets its
/// keys and indexes aside for it and writes the new rows' ids itself): afterwards
/// every key and index is back, each foreign key holds for every row, and the
/// database still refuses a row that breaks one and takes new rows as before.
#[test]
fn a_large_import_into_a_survey_with_answers_keeps_every_key_on_postgres() {
    let app = TestApp::spawn(Backend::Postgres);
    app.create_survey(TEMPLATE, "phone");
    let first = app.write_file("first.csv", &varied_file(1_000));
    app.pds_ok(&[
        "responses",
        "import",
        "--survey",
        "phone",
        first.to_str().unwrap(),
    ]);
    let before = keys_and_indexes(&app);
    assert!(
        before
            .iter()
            .any(|k| k.contains("mentions_response_id_fkey")),
        "{before:?}"
    );
    let file = app.write_file("phone.csv", &varied_file(6_000));
    let out = app.pds_ok(&[
        "responses",
        "import",
        "--survey",
        "phone",
        file.to_str().unwrap(),
    ]);
    assert!(
        out.contains("Imported 5000 new and replaced 1000 earlier respondents (7500 mentions)"),
        "{out}"
    );
    assert_eq!(
        keys_and_indexes(&app),
        before,
        "every key and index is back"
    );
    let analysed = lines(
        &app,
        "SELECT relname::text FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL \
         AND relname IN ('responses', 'mentions')",
    );
    assert_eq!(
        analysed,
        ["mentions", "responses"],
        "the planner knows the filled tables' sizes"
    );
    let not_validated = lines(
        &app,
        "SELECT format('ALTER TABLE %s VALIDATE CONSTRAINT %I', conrelid::regclass, conname) \
         FROM pg_constraint WHERE contype = 'f' AND NOT convalidated",
    );
    assert!(not_validated.len() >= 6, "{not_validated:?}");
    for validate in &not_validated {
        assert_eq!(run(&app, validate), Ok(()), "every row keeps {validate}");
    }
    let refused = [
        "INSERT INTO mentions (response_id, rank, text, may_contact) VALUES (-1, 1, 'x', 0)",
        "INSERT INTO mentions (response_id, rank, text, may_contact, area_id) \
         SELECT MAX(id), 9, 'x', 0, -1 FROM responses",
        "INSERT INTO responses (survey_id, wave_id, locale, attributes, no_problems, respondent, \
         submitted_at, updated_at) SELECT survey_id, MAX(wave_id) + 1000000, 'sv', '{}', 0, \
         'nobody', NOW(), NOW() FROM responses GROUP BY survey_id",
        "INSERT INTO responses (survey_id, wave_id, locale, attributes, no_problems, respondent, \
         submitted_at, updated_at) SELECT survey_id, wave_id, locale, attributes, 0, respondent, \
         NOW(), NOW() FROM responses WHERE respondent IS NOT NULL ORDER BY id DESC LIMIT 1",
    ];
    for (statement, why) in
        refused
            .iter()
            .zip(["foreign key", "foreign key", "foreign key", "duplicate key"])
    {
        let error = run(&app, statement).expect_err(statement);
        assert!(error.contains(why), "{statement}: {error}");
    }
    let mut small = String::from("respondent,wave,segment,rank,problem,area\n");
    for r in 0..10 {
        small.push_str(&format!("s{r},2026-H1,new,1,Small {r},Website\n"));
    }
    let small = app.write_file("small.csv", &small);
    let out = app.pds_ok(&[
        "responses",
        "import",
        "--survey",
        "phone",
        small.to_str().unwrap(),
    ]);
    assert!(
        out.contains("Imported 10 new and replaced 0 earlier respondents (10 mentions)"),
        "a small import takes ids from the sequences, after the large one's: {out}"
    );
    let taken = "INSERT INTO responses (survey_id, wave_id, locale, attributes, no_problems, \
                 respondent, submitted_at, updated_at) SELECT survey_id, wave_id, locale, \
                 attributes, 0, 'typed later', NOW(), NOW() FROM responses ORDER BY id LIMIT 1; \
                 INSERT INTO mentions (response_id, rank, text, may_contact) \
                 SELECT MAX(id), 1, 'typed later', 0 FROM responses";
    assert_eq!(
        run(&app, taken),
        Ok(()),
        "new rows take ids after the import's"
    );
    let r: serde_json::Value =
        serde_json::from_str(&app.pds_ok(&["results", "--survey", "phone", "--format", "json"]))
            .unwrap();
    assert_eq!(r["n"], 6011, "{r}");
}

/// A row that breaks a foreign key while the keys are set aside (a trigger points
/// one mention at an area that does not exist) is found when they come back: the
/// import fails with PostgreSQL's message naming the key, and nothing stays.
#[test]
fn a_row_breaking_a_set_aside_key_fails_the_whole_import_on_postgres() {
    let app = TestApp::spawn(Backend::Postgres);
    app.create_survey(TEMPLATE, "phone");
    import_with_one_mention_astray(&app, "area_id := -7", "mentions_area_id_fkey", 0);
}

/// The same for a mention pointed at a response that does not exist: past the
/// last response (the responses' ids have no gaps, so the import checks the
/// mentions against their lowest and highest id) and in a gap between the ids of
/// two imports (so it joins the responses in): found both times.
#[test]
fn a_mention_of_no_response_fails_the_whole_import_on_postgres() {
    let app = TestApp::spawn(Backend::Postgres);
    app.create_survey(TEMPLATE, "phone");
    let key = "mentions_response_id_fkey";
    import_with_one_mention_astray(&app, "response_id := NEW.response_id + 100000000", key, 0);

    let mut small = String::from("respondent,wave,segment,rank,problem,area\n");
    for r in 0..10 {
        small.push_str(&format!("s{r},2026-H1,new,1,Small {r},Website\n"));
    }
    let small = app.write_file("small.csv", &small);
    app.pds_ok(&[
        "responses",
        "import",
        "--survey",
        "phone",
        small.to_str().unwrap(),
    ]);
    let last: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
        "(SELECT MAX(id) FROM responses)",
    ))
    .get_result(&mut *app.db.conn().unwrap())
    .unwrap();
    run(
        &app,
        &format!(
            "SELECT setval(pg_get_serial_sequence('responses', 'id'), {})",
            last + 100
        ),
    )
    .unwrap();
    let gap = last + 50;
    import_with_one_mention_astray(&app, &format!("response_id := {gap}"), key, 10);
}

/// Imports 6,000 respondents while a trigger sets `assignment` on the mention
/// "Login 4002 fails": the import must fail naming `key`, put every key and index
/// back and leave the survey with the `n` respondents it had.
fn import_with_one_mention_astray(app: &TestApp, assignment: &str, key: &str, n: u64) {
    let before = keys_and_indexes(app);
    run(
        app,
        &format!(
            "CREATE FUNCTION astray() RETURNS trigger AS $$ BEGIN \
             IF NEW.text = 'Login 4002 fails' THEN NEW.{assignment}; END IF; RETURN NEW; END $$ \
             LANGUAGE plpgsql; \
             CREATE TRIGGER astray BEFORE INSERT ON mentions FOR EACH ROW EXECUTE FUNCTION astray();"
        ),
    )
    .unwrap();
    let file = app.write_file("phone.csv", &varied_file(6_000));
    let out = app.pds(&[
        "responses",
        "import",
        "--survey",
        "phone",
        file.to_str().unwrap(),
    ]);
    run(
        app,
        "DROP TRIGGER astray ON mentions; DROP FUNCTION astray()",
    )
    .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(key), "{stderr}");
    assert_eq!(keys_and_indexes(app), before, "every key and index is back");
    let r: serde_json::Value =
        serde_json::from_str(&app.pds_ok(&["results", "--survey", "phone", "--format", "json"]))
            .unwrap();
    assert_eq!(r["n"], n, "nothing of the import was stored: {r}");
}
