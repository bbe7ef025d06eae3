//! Tests of the write discipline: grouped writes, bulk writes and the log, page size.

use super::*;
use crate::db::schema::surveys;

fn insert_survey(conn: &mut AnyConnection, slug: &str) -> diesel::QueryResult<usize> {
    diesel::insert_into(surveys::table)
        .values((
            surveys::slug.eq(slug),
            surveys::title.eq("t"),
            surveys::max_problems.eq(5),
            surveys::definition.eq("{}"),
            surveys::created_at.eq(now()),
        ))
        .execute(conn)
}

#[test]
fn grouped_writes_commit_together_and_fail_alone() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(&DatabaseUrl::Sqlite(dir.path().join("g.db"))).unwrap();
    let threads: Vec<_> = (0..40)
        .map(|i| {
            let db = db.clone();
            std::thread::spawn(move || {
                db.write_grouped(move |conn| {
                    let slug = format!("s{i}");
                    insert_survey(conn, &slug)?;
                    if i % 10 == 3 {
                        // A duplicate: this write fails, after its first insert.
                        insert_survey(conn, &slug)?;
                    }
                    Ok(i)
                })
            })
        })
        .collect();
    let outcomes: Vec<Result<i32>> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    for (i, outcome) in outcomes.iter().enumerate() {
        match outcome {
            Ok(value) => assert_eq!(*value as usize, i, "each caller gets its own value"),
            Err(e) => assert_eq!(i % 10, 3, "only the duplicates fail: {e}"),
        }
    }
    let mut conn = db.conn().unwrap();
    let slugs: Vec<String> = surveys::table
        .select(surveys::slug)
        .load(&mut *conn)
        .unwrap();
    assert_eq!(slugs.len(), 36, "a failed write is rolled back alone");
    assert!(!slugs.contains(&"s3".to_string()));
    assert!(slugs.contains(&"s4".to_string()));
}

fn log_bytes(dir: &std::path::Path) -> u64 {
    std::fs::metadata(dir.join("b.db-wal")).map_or(0, |m| m.len())
}

#[test]
fn a_bulk_write_starts_the_log_over_unless_a_reader_is_behind() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(&DatabaseUrl::Sqlite(dir.path().join("b.db"))).unwrap();
    let surveys_now =
        |conn: &mut AnyConnection| -> i64 { surveys::table.count().get_result(conn).unwrap() };
    let bulk = |from: usize| {
        db.write_bulk(|conn| {
            for i in from..from + 200 {
                insert_survey(conn, &format!("s{i}"))?;
            }
            Ok::<_, Error>(())
        })
        .unwrap()
    };
    bulk(0);
    assert_eq!(
        log_bytes(dir.path()),
        0,
        "nobody reading: the log starts over"
    );

    // A reader in the middle of a read keeps the snapshot it started with.
    let mut reader = db.conn().unwrap();
    reader.batch_execute("BEGIN").unwrap();
    assert_eq!(surveys_now(&mut reader), 200);
    bulk(200);
    assert!(
        log_bytes(dir.path()) > 0,
        "the log a reader may need is kept"
    );
    assert_eq!(
        surveys_now(&mut reader),
        200,
        "the reader's view is unchanged"
    );
    reader.batch_execute("COMMIT").unwrap();
    assert_eq!(
        surveys_now(&mut reader),
        400,
        "and the bulk write is stored"
    );
    assert_eq!(surveys_now(&mut db.conn().unwrap()), 400);
}

fn page_size(conn: &mut AnyConnection) -> i64 {
    diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
        "(SELECT page_size FROM pragma_page_size())",
    ))
    .get_result(conn)
    .unwrap()
}

#[test]
fn a_new_database_gets_large_pages_and_an_existing_one_keeps_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let new = Database::open(&DatabaseUrl::Sqlite(dir.path().join("new.db"))).unwrap();
    assert_eq!(page_size(&mut new.conn().unwrap()), i64::from(PAGE_SIZE));

    // A database an older pds created, with SQLite's default pages and a row.
    let old_path = dir.path().join("old.db");
    let mut old = SqliteConnection::establish(&old_path.to_string_lossy()).unwrap();
    old.batch_execute(
        "PRAGMA page_size = 4096; CREATE TABLE kept (x INTEGER); INSERT INTO kept VALUES (42);",
    )
    .unwrap();
    drop(old);
    let db = Database::open(&DatabaseUrl::Sqlite(old_path)).unwrap();
    let mut conn = db.conn().unwrap();
    assert_eq!(
        page_size(&mut conn),
        4096,
        "an existing file keeps its pages"
    );
    let kept: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
        "(SELECT x FROM kept)",
    ))
    .get_result(&mut *conn)
    .unwrap();
    assert_eq!(kept, 42, "and its rows");
    insert_survey(&mut conn, "after").unwrap();
    assert_eq!(
        surveys::table
            .count()
            .get_result::<i64>(&mut *conn)
            .unwrap(),
        1
    );
}

fn journal_mode_now(conn: &mut AnyConnection) -> String {
    #[derive(QueryableByName)]
    struct Mode {
        #[diesel(sql_type = diesel::sql_types::Text)]
        journal_mode: String,
    }
    diesel::sql_query("PRAGMA journal_mode")
        .get_result::<Mode>(conn)
        .unwrap()
        .journal_mode
}

fn bulk_surveys(db: &Database, from: usize, fail: bool) -> (String, Result<(), Error>) {
    let mut mode = String::new();
    let result = db.write_bulk(|conn| {
        mode = journal_mode_now(conn);
        for i in from..from + 100 {
            insert_survey(conn, &format!("s{i}"))?;
        }
        match fail {
            true => Err(Error::Invalid("a bad row half-way".into())),
            false => Ok(()),
        }
    });
    (mode, result)
}

#[test]
fn a_bulk_write_alone_with_the_file_skips_the_log_and_the_log_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open_alone(&DatabaseUrl::Sqlite(dir.path().join("b.db"))).unwrap();
    let count = |db: &Database| -> i64 {
        surveys::table
            .count()
            .get_result(&mut db.conn().unwrap())
            .unwrap()
    };

    let (mode, stored) = bulk_surveys(&db, 0, false);
    stored.unwrap();
    assert_eq!(
        mode, "delete",
        "alone with the file: no log during the load"
    );
    assert_eq!(journal_mode_now(&mut db.conn().unwrap()), "wal");
    assert_eq!(count(&db), 100);

    let (mode, failed) = bulk_surveys(&db, 100, true);
    assert!(failed.is_err());
    assert_eq!(mode, "delete");
    assert_eq!(count(&db), 100, "a failed load is rolled back whole");
    assert_eq!(journal_mode_now(&mut db.conn().unwrap()), "wal");
    assert!(
        !dir.path().join("b.db-journal").exists(),
        "no journal left behind"
    );
    drop(db);

    // Another process (here: another handle) has the file open: through the log.
    let db = Database::open_alone(&DatabaseUrl::Sqlite(dir.path().join("b.db"))).unwrap();
    let other = Database::open(&DatabaseUrl::Sqlite(dir.path().join("b.db"))).unwrap();
    assert_eq!(count(&other), 100);
    let (mode, stored) = bulk_surveys(&db, 200, false);
    stored.unwrap();
    assert_eq!(mode, "wal", "a reader elsewhere keeps the load in the log");
    assert_eq!(count(&other), 200, "and sees it once committed");
}

#[test]
fn a_bulk_write_of_a_handle_with_many_connections_stays_in_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(&DatabaseUrl::Sqlite(dir.path().join("b.db"))).unwrap();
    let _reader = db.conn().unwrap();
    let (mode, stored) = bulk_surveys(&db, 0, false);
    stored.unwrap();
    assert_eq!(mode, "wal");
}

/// A database made before respondent ids moved onto `responses` keeps every
/// imported respondent's id through the migration, and the id stays unique per
/// survey and wave (an answer through the form has none).
#[test]
fn imported_respondents_move_onto_their_responses() {
    use diesel::migration::MigrationVersion;
    let dir = tempfile::tempdir().unwrap();
    let mut c = SqliteConnection::establish(dir.path().join("m.db").to_str().unwrap()).unwrap();
    let moved = MigrationVersion::from("20261203100000");
    while let Some(next) = c
        .pending_migrations(SQLITE_MIGRATIONS)
        .unwrap()
        .first()
        .map(|m| m.name().version().as_owned())
    {
        if next == moved {
            break;
        }
        c.run_next_migration(SQLITE_MIGRATIONS).unwrap();
    }
    c.batch_execute(
        "INSERT INTO surveys (id, slug, title, max_problems, definition, created_at) \
         VALUES (1, 's', 't', 5, '{}', '2026-12-01 00:00:00'); \
         INSERT INTO waves (id, survey_id, label, created_at) VALUES (2, 1, 'w', '2026-12-01 00:00:00'); \
         INSERT INTO responses (id, survey_id, wave_id, locale, attributes, no_problems, \
         submitted_at, updated_at) VALUES \
         (10, 1, 2, 'sv', '{}', 0, '2026-12-01 00:00:00', '2026-12-01 00:00:00'), \
         (11, 1, 2, 'sv', '{}', 0, '2026-12-01 00:00:00', '2026-12-01 00:00:00'), \
         (12, 1, 2, 'sv', '{}', 0, '2026-12-01 00:00:00', '2026-12-01 00:00:00'); \
         INSERT INTO imported_responses (response_id, survey_id, wave_id, respondent, imported_at) \
         VALUES (10, 1, 2, 'r-10', '2026-12-01 00:00:00'), (12, 1, 2, 'r-12', '2026-12-01 00:00:00');",
    )
    .unwrap();
    c.run_pending_migrations(SQLITE_MIGRATIONS).unwrap();
    use crate::db::schema::responses as r;
    let respondents: Vec<(i64, Option<String>)> = r::table
        .order(r::id)
        .select((r::id, r::respondent))
        .load(&mut c)
        .unwrap();
    assert_eq!(
        respondents,
        [
            (10, Some("r-10".into())),
            (11, None),
            (12, Some("r-12".into()))
        ]
    );
    let twice = c.batch_execute(
        "INSERT INTO responses (survey_id, wave_id, locale, attributes, no_problems, respondent, \
         submitted_at, updated_at) VALUES (1, 2, 'sv', '{}', 0, 'r-12', '2026-12-02 00:00:00', \
         '2026-12-02 00:00:00')",
    );
    assert!(twice.unwrap_err().to_string().contains("UNIQUE"));
    let form_answers = "INSERT INTO responses (survey_id, wave_id, locale, attributes, \
         no_problems, submitted_at, updated_at) VALUES (1, 2, 'sv', '{}', 0, \
         '2026-12-02 00:00:00', '2026-12-02 00:00:00')";
    c.batch_execute(form_answers).unwrap();
    c.batch_execute(form_answers).unwrap();

    // Reverted, the ids go back to their own table.
    c.revert_last_migration(SQLITE_MIGRATIONS).unwrap();
    let back: Vec<(i64, String)> = diesel::sql_query(
        "SELECT response_id AS id, respondent AS label FROM imported_responses ORDER BY response_id",
    )
    .load::<IdLabel>(&mut c)
    .unwrap()
    .into_iter()
    .map(|r| (r.id, r.label))
    .collect();
    assert_eq!(back, [(10, "r-10".into()), (12, "r-12".into())]);
}

#[derive(QueryableByName)]
struct IdLabel {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    label: String,
}
