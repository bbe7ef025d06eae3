//! `pds db copy`: the demo's SQLite installation moved into an empty PostgreSQL
//! database, compared table by table and row by row; a second copy into the same
//! database is refused; the copy serves on as the original did.

use std::process::{Command, Output};

use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text};

use crate::common::{fresh_database, Backend};

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct Value {
    #[diesel(sql_type = Nullable<Text>)]
    value: Option<String>,
}

fn pds(dir: &std::path::Path, database_url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pds"))
        .args(args)
        .current_dir(dir)
        .env("PDS_DATABASE_URL", database_url)
        .output()
        .expect("run pds")
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "pds failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A stored value as text, timestamps written one way (SQLite keeps them as text
/// with as many fraction digits as needed, PostgreSQL prints its own).
fn normalised(value: Option<String>) -> Option<String> {
    value.map(|text| {
        chrono::NaiveDateTime::parse_from_str(&text, "%Y-%m-%d %H:%M:%S%.f")
            .map(|t| t.format("%Y-%m-%d %H:%M:%S%.6f").to_string())
            .unwrap_or(text)
    })
}

/// Every value of `column` in `table`, in id order (the first column is the key).
fn column_values(
    sqlite: &mut SqliteConnection,
    pg: &mut PgConnection,
    table: &str,
    column: &str,
    key: &str,
) -> (Vec<Option<String>>, Vec<Option<String>>) {
    let from_sqlite: Vec<Value> = diesel::sql_query(format!(
        "SELECT CAST(\"{column}\" AS TEXT) AS value FROM \"{table}\" ORDER BY \"{key}\""
    ))
    .load(sqlite)
    .unwrap();
    let from_pg: Vec<Value> = diesel::sql_query(format!(
        "SELECT \"{column}\"::text AS value FROM \"{table}\" ORDER BY \"{key}\""
    ))
    .load(pg)
    .unwrap();
    let texts = |rows: Vec<Value>| rows.into_iter().map(|r| normalised(r.value)).collect();
    (texts(from_sqlite), texts(from_pg))
}

fn compare_every_table(sqlite_path: &std::path::Path, pg_url: &str) -> Vec<(String, usize)> {
    let mut sqlite = SqliteConnection::establish(&sqlite_path.to_string_lossy()).unwrap();
    let mut pg = PgConnection::establish(pg_url).unwrap();
    let tables: Vec<Name> = diesel::sql_query(
        "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' AND name <> '__diesel_schema_migrations' ORDER BY name",
    )
    .load(&mut sqlite)
    .unwrap();
    let mut sizes = Vec::new();
    for Name { name: table } in tables {
        let columns: Vec<Name> = diesel::sql_query(format!(
            "SELECT name FROM pragma_table_info('{table}') ORDER BY cid"
        ))
        .load(&mut sqlite)
        .unwrap();
        let key = columns[0].name.clone();
        let mut rows = 0;
        for Name { name: column } in &columns {
            let (before, after) = column_values(&mut sqlite, &mut pg, &table, column, &key);
            assert_eq!(before.len(), after.len(), "{table}: rows copied");
            for (i, (a, b)) in before.iter().zip(&after).enumerate() {
                assert_eq!(a, b, "{table}.{column}, row {} in {key} order", i + 1);
            }
            rows = before.len();
        }
        sizes.push((table, rows));
    }
    sizes
}

#[test]
fn the_demo_moves_into_postgres_every_row_intact() {
    let dir = tempfile::tempdir().unwrap();
    let study = dir.path().join("study");
    ok(Command::new(env!("CARGO_BIN_EXE_pds"))
        .args(["demo", "--dir", "study", "--respondents", "60"])
        .current_dir(dir.path())
        .output()
        .unwrap());
    let sqlite_path = study.join("pds.db");
    let sqlite_url = format!("sqlite://{}", sqlite_path.display());
    // An API key, so the keys table travels too; and an area merged into one
    // created after it, which points forward in id order.
    ok(pds(
        dir.path(),
        &sqlite_url,
        &["keys", "create", "--name", "analyst"],
    ));
    let merge = ["areas", "merge", "--survey", "demo", "1", "12"];
    ok(pds(dir.path(), &sqlite_url, &merge));
    // A checklist saved half-way by someone who has not sent it yet.
    let mut sqlite = SqliteConnection::establish(&sqlite_path.to_string_lossy()).unwrap();
    let saved = diesel::sql_query(
        "INSERT INTO checklist_drafts (invitation_id, answers, updated_at) \
         SELECT i.id, '{\"problem_1\": \"Slow replies\"}', '2026-12-01 10:00:00.5' \
         FROM invitations i WHERE NOT EXISTS \
           (SELECT 1 FROM responses r WHERE r.invitation_id = i.id) LIMIT 1",
    )
    .execute(&mut sqlite)
    .unwrap();
    assert_eq!(saved, 1, "the demo leaves an invitation unanswered");
    let pg_url = fresh_database(Backend::Postgres, dir.path());

    let report = ok(pds(
        dir.path(),
        &sqlite_url,
        &["db", "copy", "--to", &pg_url],
    ));
    assert!(report.contains("every table verified"), "{report}");

    let sizes = compare_every_table(&sqlite_path, &pg_url);
    let filled: Vec<&str> = sizes
        .iter()
        .filter(|(_, rows)| *rows > 0)
        .map(|(t, _)| t.as_str())
        .collect();
    for table in [
        "surveys",
        "contacts",
        "invitations",
        "responses",
        "mentions",
        "areas",
        "outbox",
        "routing",
        "cases",
        "case_events",
        "case_links",
        "coding_decisions",
        "api_keys",
        "checklist_drafts",
    ] {
        assert!(
            filled.contains(&table),
            "the demo filled {table}: {sizes:?}"
        );
        assert!(report.contains(table), "the report names {table}: {report}");
    }

    let mut pg = PgConnection::establish(&pg_url).unwrap();
    let merged: Vec<Value> =
        diesel::sql_query("SELECT merged_into::text AS value FROM areas WHERE id = 1")
            .load(&mut pg)
            .unwrap();
    assert_eq!(merged[0].value.as_deref(), Some("12"));
    // The filled tables have planner statistics, so the first queries on the copy
    // are planned for their real sizes.
    let analysed: Vec<Name> = diesel::sql_query(
        "SELECT relname::text AS name FROM pg_stat_user_tables \
         WHERE relname IN ('responses', 'mentions') AND last_analyze IS NOT NULL",
    )
    .load(&mut pg)
    .unwrap();
    assert_eq!(
        analysed.len(),
        2,
        "responses and mentions analysed after the copy"
    );

    // The copy answers as the original did, and new rows get fresh ids.
    let results = |url: &str| ok(pds(dir.path(), url, &["results", "--survey", "demo"]));
    assert_eq!(results(&sqlite_url), results(&pg_url));
    ok(pds(
        dir.path(),
        &pg_url,
        &["keys", "create", "--name", "second"],
    ));

    // A database that holds anything is never written over.
    let again = pds(dir.path(), &sqlite_url, &["db", "copy", "--to", &pg_url]);
    assert_eq!(again.status.code(), Some(2));
    let message = String::from_utf8_lossy(&again.stderr);
    assert!(message.contains("is not empty"), "{message}");
    let surveys: Vec<Name> = diesel::sql_query("SELECT slug AS name FROM surveys")
        .load(&mut pg)
        .unwrap();
    assert_eq!(
        surveys.len(),
        2,
        "the refused copy added nothing to the demo's two surveys (discovery and checklist)"
    );
}
