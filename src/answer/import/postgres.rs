//! PostgreSQL's bulk path of an import, around the COPY streams of `pg_copy.rs`.
//!
//! An import that at least doubles the stored mentions sets the foreign keys of
//! `responses`, `imported_responses` and `mentions`, their UNIQUE and primary key
//! constraints, and their secondary indexes aside during the load and adds them
//! again at its end: PostgreSQL checks a foreign key row by row as rows arrive
//! (millions of index lookups, most of a large import's time) and inserts each row
//! into every index one by one (most of the rest), but checks a constraint added
//! to a filled table in one pass over it, and builds an index by sorting once. A
//! UNIQUE or primary key constraint added again checks the loaded rows as it would
//! have checked them arriving. Only the primary key of `responses` stays, as the
//! foreign keys of other tables (cases, routed complaints) need it. All of this happens
//! inside the import's one transaction, so a failure, including a row that breaks
//! a constraint when it is added again, rolls the rows and the constraints back
//! together. Dropping a constraint locks its tables until the commit, as the
//! SQLite import holds the write lock throughout.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::db::AnyConnection;

/// A constraint as PostgreSQL's catalog describes it.
#[derive(QueryableByName)]
struct Constraint {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    definition: String,
}

/// A secondary index, with the statement that creates it.
#[derive(QueryableByName)]
struct Index {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    definition: String,
}

/// What a large load sets aside and puts back.
#[derive(Default)]
struct SetAside {
    /// UNIQUE and primary keys first, then foreign keys: the order to add them again.
    keys: Vec<Constraint>,
    indexes: Vec<Index>,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    rows: i64,
}

/// Runs `load` (storing about `new_mentions` mentions), with the foreign keys of
/// the tables it fills set aside when the load at least doubles the mentions;
/// they are added again, and so checked over the whole tables, before returning.
pub(super) fn bulk_load<T, E>(
    conn: &mut AnyConnection,
    new_mentions: u64,
    load: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    let set_aside = match conn {
        AnyConnection::Postgresql(c) => begin_load(c, new_mentions)?,
        AnyConnection::Sqlite(_) => SetAside::default(),
    };
    let loaded = load(conn)?;
    if let AnyConnection::Postgresql(c) = conn {
        for index in &set_aside.indexes {
            c.batch_execute(&index.definition)?;
        }
        for key in &set_aside.keys {
            c.batch_execute(&format!(
                "ALTER TABLE {} ADD CONSTRAINT {} {}",
                quoted(&key.table_name),
                quoted(&key.name),
                key.definition
            ))?;
        }
    }
    Ok(loaded)
}

/// Sets the foreign keys aside if the load pays for checking them again.
fn begin_load(conn: &mut PgConnection, new_mentions: u64) -> QueryResult<SetAside> {
    let existing: Count =
        diesel::sql_query("SELECT COUNT(*) AS rows FROM mentions").get_result(conn)?;
    if new_mentions < existing.rows.max(0) as u64 {
        return Ok(SetAside::default());
    }
    let keys: Vec<Constraint> = diesel::sql_query(
        "SELECT c.conrelid::regclass::text AS table_name, c.conname::text AS name, \
         pg_get_constraintdef(c.oid) AS definition FROM pg_constraint c \
         WHERE c.contype IN ('f', 'p', 'u') AND c.conrelid IN \
         ('responses'::regclass, 'imported_responses'::regclass, 'mentions'::regclass) \
         AND NOT EXISTS (SELECT 1 FROM pg_constraint f \
         WHERE f.contype = 'f' AND f.conindid = c.conindid AND c.contype <> 'f') \
         ORDER BY c.contype = 'f', c.conname",
    )
    .load(conn)?;
    for key in &keys {
        conn.batch_execute(&format!(
            "ALTER TABLE {} DROP CONSTRAINT {}",
            quoted(&key.table_name),
            quoted(&key.name)
        ))?;
    }
    let indexes: Vec<Index> = diesel::sql_query(
        "SELECT i.indexname::text AS name, i.indexdef AS definition FROM pg_indexes i \
         WHERE i.schemaname = current_schema() \
         AND i.tablename IN ('responses', 'imported_responses', 'mentions') \
         AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname) \
         ORDER BY i.indexname",
    )
    .load(conn)?;
    for index in &indexes {
        conn.batch_execute(&format!("DROP INDEX {}", quoted(&index.name)))?;
    }
    more_memory_for_the_rebuild(conn)?;
    Ok(SetAside { keys, indexes })
}

/// Lets this transaction's index builds sort, and its key checks join, in the
/// server's memory rather than in temporary files: at least 256 MiB for
/// building an index and 64 MiB for each join (PostgreSQL's defaults are 64 and
/// 4 MiB); a server set higher keeps its settings. Ends with the transaction.
fn more_memory_for_the_rebuild(conn: &mut PgConnection) -> QueryResult<()> {
    diesel::sql_query(
        "SELECT set_config(name, GREATEST(setting::bigint, \
         CASE name WHEN 'maintenance_work_mem' THEN 262144 ELSE 65536 END)::text || 'kB', true) \
         FROM pg_settings WHERE name IN ('maintenance_work_mem', 'work_mem')",
    )
    .execute(conn)
    .map(|_| ())
}

/// A name as an SQL identifier.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
