//! SQLite's bulk path of an import: multi-row INSERTs prepared once, and, for an
//! import that at least doubles the survey data, the secondary indexes of
//! `responses` and `mentions` set aside during the load and built again at its
//! end (sorting a million keys once is cheaper than inserting them one by one).
//! Everything here runs inside the import's one write transaction: a failure
//! anywhere rolls back the rows and the indexes with them.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::rows::{Batch, NewImported, NewMention, NewResponse};
use crate::db::schema::{imported_responses, mentions, responses};
use crate::db::AnyConnection;

/// Rows per INSERT statement: the statement is prepared once and run again for
/// every `ROWS_PER_STATEMENT` rows (7 values a mention: 3,500, within SQLite's
/// limit of 32,766 values per statement).
const ROWS_PER_STATEMENT: usize = 500;

/// SQLite's page cache during an import, in KiB (its default is 2,000).
const CACHE_KIB: u32 = 32_768;

/// SQLite's page cache while the indexes are built again, in KiB: the sort that
/// builds an index keeps as much in memory before it writes a sorted run to a
/// temporary file, and the rows no longer need the larger cache.
const REBUILD_CACHE_KIB: u32 = 8_192;

/// Stores one batch: responses, their import rows, then mentions.
pub(super) fn insert_batch(conn: &mut SqliteConnection, batch: &Batch) -> QueryResult<()> {
    insert_prepared::<NewResponse, _, ROWS_PER_STATEMENT>(
        conn,
        responses::table,
        &batch.responses,
    )?;
    insert_prepared::<NewImported, _, ROWS_PER_STATEMENT>(
        conn,
        imported_responses::table,
        &batch.imported,
    )?;
    insert_prepared::<NewMention, _, ROWS_PER_STATEMENT>(conn, mentions::table, &batch.mentions)
}

/// Inserts `rows` into `table` with statements of `N` rows and of one row, each
/// prepared once per connection (diesel caches a statement whose shape is known
/// from its type; a batch of any other length would be parsed and planned again).
fn insert_prepared<'r, T, Tab, const N: usize>(
    conn: &mut SqliteConnection,
    table: Tab,
    rows: &'r [T],
) -> QueryResult<()>
where
    Tab: diesel::Table + Copy,
    &'r [T; N]: Insertable<Tab>,
    &'r T: Insertable<Tab>,
    diesel::query_builder::InsertStatement<Tab, <&'r [T; N] as Insertable<Tab>>::Values>:
        diesel::query_dsl::methods::ExecuteDsl<SqliteConnection>,
    diesel::query_builder::InsertStatement<Tab, <&'r T as Insertable<Tab>>::Values>:
        diesel::query_dsl::methods::ExecuteDsl<SqliteConnection>,
{
    let mut chunks = rows.chunks_exact(N);
    for chunk in &mut chunks {
        let chunk: &[T; N] = chunk.try_into().expect("chunks_exact gives N rows");
        diesel::insert_into(table).values(chunk).execute(conn)?;
    }
    for row in chunks.remainder() {
        diesel::insert_into(table).values(row).execute(conn)?;
    }
    Ok(())
}

/// A secondary index as `sqlite_master` keeps it.
#[derive(QueryableByName)]
struct Index {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    sql: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    rows: i64,
}

/// Runs `load` (storing about `new_mentions` mentions) with a larger page cache,
/// and without the secondary indexes of `responses` and `mentions` when the load
/// at least doubles those tables; the indexes are built again before returning.
/// Only indexes created by migrations are set aside (those of UNIQUE constraints
/// stay, as they check the load), and they come back from their own definitions.
/// (PostgreSQL's counterpart is `postgres::bulk_load`.)
pub(super) fn bulk_load<T, E>(
    conn: &mut AnyConnection,
    new_mentions: u64,
    load: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    let set_aside = match conn {
        AnyConnection::Sqlite(c) => begin_load(c, new_mentions)?,
        AnyConnection::Postgresql(_) => Vec::new(),
    };
    let loaded = load(conn);
    if let AnyConnection::Sqlite(c) = conn {
        end_load(c, &set_aside, loaded.is_ok())?;
    }
    loaded
}

/// Before a load: the larger cache, and the indexes set aside if the load pays
/// for building them again.
fn begin_load(conn: &mut SqliteConnection, new_mentions: u64) -> QueryResult<Vec<Index>> {
    // Index pages of a million new rows stay in memory until the commit.
    conn.batch_execute(&format!("PRAGMA cache_size = -{CACHE_KIB}"))?;
    if new_mentions >= existing_mentions(conn)? {
        set_indexes_aside(conn)
    } else {
        Ok(Vec::new())
    }
}

/// After a load: the indexes built again (after a failed load, the rollback
/// brings them back) and the cache as it was.
fn end_load(conn: &mut SqliteConnection, set_aside: &[Index], loaded: bool) -> QueryResult<()> {
    if loaded && !set_aside.is_empty() {
        conn.batch_execute(&format!("PRAGMA cache_size = -{REBUILD_CACHE_KIB}"))?;
    }
    let rebuilt = match loaded {
        true => set_aside.iter().try_for_each(|index| {
            conn.batch_execute(&index.sql)?;
            tracing::debug!(index = index.name, "import: index built again");
            Ok(())
        }),
        false => Ok(()),
    };
    conn.batch_execute("PRAGMA cache_size = -2000")?;
    rebuilt
}

/// Mentions stored so far (ids are never reused, so the highest id bounds it).
fn existing_mentions(conn: &mut SqliteConnection) -> QueryResult<u64> {
    let count: Count =
        diesel::sql_query("SELECT COALESCE(MAX(id), 0) AS rows FROM mentions").get_result(conn)?;
    Ok(count.rows.max(0) as u64)
}

/// Drops the secondary indexes of `responses` and `mentions`; returns them.
fn set_indexes_aside(conn: &mut SqliteConnection) -> QueryResult<Vec<Index>> {
    let indexes: Vec<Index> = diesel::sql_query(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' \
         AND tbl_name IN ('responses', 'mentions') AND sql IS NOT NULL",
    )
    .load(conn)?;
    for index in &indexes {
        conn.batch_execute(&format!(
            "DROP INDEX \"{}\"",
            index.name.replace('"', "\"\"")
        ))?;
    }
    Ok(indexes)
}
