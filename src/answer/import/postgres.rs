//! PostgreSQL's bulk path of an import, around the COPY streams of `pg_copy.rs`.
//!
//! An import that at least doubles the stored mentions sets aside, during the
//! load, the foreign keys of `responses` and `mentions` and those of other tables
//! that point at them, their UNIQUE and primary keys, and their secondary
//! indexes, and adds them again at its end: PostgreSQL checks a
//! foreign key row by row as rows arrive (millions of index lookups, most of a
//! large import's time) and inserts each row into every index one by one (most of
//! the rest), but builds an index by sorting once. A UNIQUE or primary key added
//! again checks the loaded rows as it would have checked them arriving.
//!
//! The foreign keys come back `NOT VALID` (PostgreSQL checks every row written
//! from then on) and the import itself checks every row already in each table, in
//! one query per table for all its foreign keys together (an anti-join: rows whose
//! referenced row is missing; for a key that refers to integer ids without gaps,
//! such as the `responses` a load into an empty table wrote, a comparison with the
//! lowest and highest id instead of a join). PostgreSQL's own check of an added
//! key reads the whole table once per key; `responses` alone has four. A violation found this
//! way is reported by asking PostgreSQL to validate that table's keys, which fails
//! with its usual message. So every row is checked as before, and the catalog
//! marks these keys as not validated (`\d mentions` in `psql` shows `NOT VALID`):
//! `ALTER TABLE ... VALIDATE CONSTRAINT` can confirm them at any time. Last, the
//! two tables are analysed, so that the planner knows their new sizes.
//!
//! Everything happens inside the import's one transaction, so a failure, including
//! a row that breaks a key when it comes back, rolls the rows and the keys back
//! together. Dropping a key locks its table until the commit (reads wait too; a
//! foreign key also the table it points at: surveys, waves, areas), as
//! the SQLite import holds the write lock throughout; the locks also let the load
//! write the new rows' ids itself from one block per table (`pg_copy::Ids`).

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DbError};
use diesel::sql_types::{Array, BigInt, Bool, Text};

use super::pg_copy::Ids;
use crate::db::AnyConnection;

/// The tables an import fills.
const FILLED: &str = "('responses'::regclass, 'mentions'::regclass)";

/// A UNIQUE or primary key as PostgreSQL's catalog describes it.
#[derive(QueryableByName)]
struct Constraint {
    /// The table, as an SQL name (quoted where needed).
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    definition: String,
}

/// A foreign key, with what the import's own check of it needs.
#[derive(QueryableByName)]
struct ForeignKey {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    definition: String,
    #[diesel(sql_type = Text)]
    referenced: String,
    #[diesel(sql_type = Array<Text>)]
    columns: Vec<String>,
    #[diesel(sql_type = Array<Text>)]
    referenced_columns: Vec<String>,
    /// `MATCH SIMPLE` (the default): a row with a NULL in the key refers to nothing.
    #[diesel(sql_type = Bool)]
    simple: bool,
    /// The key is one integer column (such as an `id`), so the rows it may refer
    /// to can be told by their range when their values have no gaps.
    #[diesel(sql_type = Bool)]
    integer_key: bool,
}

/// The values of a referenced integer key: lowest, highest and how many.
#[derive(QueryableByName)]
struct Span {
    #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
    lowest: Option<i64>,
    #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
    highest: Option<i64>,
    #[diesel(sql_type = BigInt)]
    present: i64,
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
    foreign_keys: Vec<ForeignKey>,
    keys: Vec<Constraint>,
    indexes: Vec<Index>,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    rows: i64,
}

/// Runs `load` (storing about `new_mentions` mentions), with the keys and indexes
/// of the tables it fills set aside when the load at least doubles the mentions;
/// they are added again, and so checked over the whole tables, before returning.
/// `load` learns where the new rows' ids come from.
pub(super) fn bulk_load<T, E>(
    conn: &mut AnyConnection,
    new_mentions: u64,
    load: impl FnOnce(&mut AnyConnection, Ids) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    let set_aside = match conn {
        AnyConnection::Postgresql(c) => begin_load(c, new_mentions)?,
        AnyConnection::Sqlite(_) => SetAside::default(),
    };
    let ids = match set_aside.keys.is_empty() {
        true => Ids::FromSequences,
        false => Ids::Blocks {
            mentions: new_mentions,
        },
    };
    let loaded = load(conn, ids)?;
    if let AnyConnection::Postgresql(c) = conn {
        put_back(c, &set_aside)?;
    }
    Ok(loaded)
}

/// Sets the keys and indexes aside if the load pays for building them again.
fn begin_load(conn: &mut PgConnection, new_mentions: u64) -> QueryResult<SetAside> {
    // Counts no further than it needs to: a large table is not read to the end.
    let existing: Count =
        diesel::sql_query("SELECT COUNT(*) AS rows FROM (SELECT 1 FROM mentions LIMIT $1) AS m")
            .bind::<BigInt, _>(i64::try_from(new_mentions).unwrap_or(i64::MAX - 1) + 1)
            .get_result(conn)?;
    if new_mentions < existing.rows.max(0) as u64 {
        return Ok(SetAside::default());
    }
    let foreign_keys = foreign_keys(conn)?;
    for key in &foreign_keys {
        drop_constraint(conn, &key.table_name, &key.name)?;
    }
    let keys: Vec<Constraint> = diesel::sql_query(format!(
        "SELECT c.conrelid::regclass::text AS table_name, c.conname::text AS name, \
         pg_get_constraintdef(c.oid) AS definition FROM pg_constraint c \
         WHERE c.contype IN ('p', 'u') AND c.conrelid IN {FILLED} ORDER BY c.conname"
    ))
    .load(conn)?;
    for key in &keys {
        drop_constraint(conn, &key.table_name, &key.name)?;
    }
    let indexes: Vec<Index> = diesel::sql_query(
        "SELECT i.indexname::text AS name, i.indexdef AS definition FROM pg_indexes i \
         WHERE i.schemaname = current_schema() \
         AND i.tablename IN ('responses', 'mentions') \
         AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname) \
         ORDER BY i.indexname",
    )
    .load(conn)?;
    for index in &indexes {
        conn.batch_execute(&format!("DROP INDEX {}", quoted(&index.name)))?;
    }
    more_memory_for_the_rebuild(conn)?;
    Ok(SetAside {
        foreign_keys,
        keys,
        indexes,
    })
}

/// The foreign keys of the filled tables and of the tables that point at them.
fn foreign_keys(conn: &mut PgConnection) -> QueryResult<Vec<ForeignKey>> {
    let columns = |key: &str, table: &str| {
        format!(
            "ARRAY(SELECT a.attname::text FROM unnest(c.{key}) WITH ORDINALITY AS k(n, i) \
             JOIN pg_attribute a ON a.attrelid = c.{table} AND a.attnum = k.n ORDER BY k.i)"
        )
    };
    diesel::sql_query(format!(
        "SELECT c.conrelid::regclass::text AS table_name, c.conname::text AS name, \
         pg_get_constraintdef(c.oid) AS definition, c.confrelid::regclass::text AS referenced, \
         {} AS columns, {} AS referenced_columns, c.confmatchtype = 's' AS simple, \
         cardinality(c.confkey) = 1 AND (SELECT a.atttypid IN ('int2'::regtype, 'int4'::regtype, \
         'int8'::regtype) FROM pg_attribute a WHERE a.attrelid = c.confrelid \
         AND a.attnum = c.confkey[1]) AS integer_key \
         FROM pg_constraint c WHERE c.contype = 'f' \
         AND (c.conrelid IN {FILLED} OR c.confrelid IN {FILLED}) \
         ORDER BY c.conrelid::regclass::text, c.conname",
        columns("conkey", "conrelid"),
        columns("confkey", "confrelid"),
    ))
    .load(conn)
}

fn drop_constraint(conn: &mut PgConnection, table: &str, name: &str) -> QueryResult<()> {
    conn.batch_execute(&format!(
        "ALTER TABLE {table} DROP CONSTRAINT {}",
        quoted(name)
    ))
}

/// Adds back what `begin_load` set aside: indexes, then UNIQUE and primary keys
/// (a foreign key needs the key it points at), then foreign keys.
fn put_back(conn: &mut PgConnection, set_aside: &SetAside) -> QueryResult<()> {
    for index in &set_aside.indexes {
        conn.batch_execute(&index.definition)?;
    }
    for key in &set_aside.keys {
        add_constraint(conn, &key.table_name, &key.name, &key.definition, "")?;
    }
    let keys = &set_aside.foreign_keys;
    for key in keys.iter().filter(|k| !k.simple) {
        add_constraint(conn, &key.table_name, &key.name, &key.definition, "")?;
    }
    let checked: Vec<&ForeignKey> = keys.iter().filter(|k| k.simple).collect();
    for key in &checked {
        add_constraint(
            conn,
            &key.table_name,
            &key.name,
            &key.definition,
            " NOT VALID",
        )?;
    }
    let mut spans = Spans::new();
    for table in checked.chunk_by(|a, b| a.table_name == b.table_name) {
        check_rows(conn, table, &mut spans)?;
    }
    // The planner's statistics of the tables the load at least doubled, now rather
    // than whenever autovacuum gets there: until then PostgreSQL plans for the old
    // sizes (an export of the new rows joined whole tables for each page).
    conn.batch_execute("ANALYZE responses, mentions")
}

/// `ALTER TABLE ... ADD CONSTRAINT` with the catalog's definition (which ends in
/// `NOT VALID` when an earlier import added it so) and then `suffix`.
fn add_constraint(
    conn: &mut PgConnection,
    table: &str,
    name: &str,
    definition: &str,
    suffix: &str,
) -> QueryResult<()> {
    let definition = definition.strip_suffix(" NOT VALID").unwrap_or(definition);
    conn.batch_execute(&format!(
        "ALTER TABLE {table} ADD CONSTRAINT {} {definition}{suffix}",
        quoted(name)
    ))
}

/// Checks that every row of one table refers to existing rows through each of
/// `keys` (all on that table), in one pass over it; else fails as PostgreSQL
/// does when it validates the key that a row breaks.
fn check_rows(conn: &mut PgConnection, keys: &[&ForeignKey], known: &mut Spans) -> QueryResult<()> {
    let Some(first) = keys.first() else {
        return Ok(());
    };
    let mut spans = Vec::new();
    for key in keys {
        let referenced = (key.referenced.clone(), key.referenced_columns[0].clone());
        spans.push(match (key.integer_key, known.get(&referenced)) {
            (false, _) => None,
            (true, Some(span)) => *span,
            (true, None) => {
                let span = whole_span(conn, key)?;
                known.insert(referenced, span);
                span
            }
        });
    }
    let broken: Count =
        diesel::sql_query(broken_rows_query(&first.table_name, keys, &spans)).get_result(conn)?;
    if broken.rows == 0 {
        return Ok(());
    }
    for key in keys {
        conn.batch_execute(&format!(
            "ALTER TABLE {} VALIDATE CONSTRAINT {}",
            key.table_name,
            quoted(&key.name)
        ))?;
    }
    Err(DbError::DatabaseError(
        DatabaseErrorKind::ForeignKeyViolation,
        Box::new(format!(
            "{} rows of {} refer to rows that do not exist",
            broken.rows, first.table_name
        )),
    ))
}

/// The spans of referenced keys found so far, by table and column (several tables
/// refer to `responses`).
type Spans = std::collections::HashMap<(String, String), Option<(i64, i64)>>;

/// The lowest and highest value of the integer key that `key` refers to, when
/// every value between them is there (the key is unique, so as many values as
/// the span is wide means no gap; an empty table has the empty span `(1, 0)`):
/// then a row refers to an existing row exactly when its value lies in the span,
/// which a row can be checked for without joining the referenced table. `None`
/// when the values have gaps.
fn whole_span(conn: &mut PgConnection, key: &ForeignKey) -> QueryResult<Option<(i64, i64)>> {
    let column = quoted(&key.referenced_columns[0]);
    let span: Span = diesel::sql_query(format!(
        "SELECT MIN({column})::bigint AS lowest, MAX({column})::bigint AS highest, \
         COUNT({column}) AS present FROM ONLY {}",
        key.referenced
    ))
    .get_result(conn)?;
    Ok(match (span.lowest, span.highest) {
        (Some(lowest), Some(highest)) => (i128::from(highest) - i128::from(lowest) + 1
            == i128::from(span.present))
        .then_some((lowest, highest)),
        _ => Some((1, 0)),
    })
}

/// How many rows of `table` break one of its foreign keys `keys` (`MATCH SIMPLE`):
/// a row counted when its key has no NULL and finds no referenced row, found by
/// the key's span where `spans` gives one (see [`whole_span`]) and else by
/// joining the referenced table in.
fn broken_rows_query(table: &str, keys: &[&ForeignKey], spans: &[Option<(i64, i64)>]) -> String {
    let mut joins = String::new();
    let mut broken = Vec::new();
    for (k, (key, span)) in keys.iter().zip(spans).enumerate() {
        let mut missing: Vec<String> = key
            .columns
            .iter()
            .map(|c| format!("x.{} IS NOT NULL", quoted(c)))
            .collect();
        match span {
            Some((lowest, highest)) => missing.push(format!(
                "x.{} NOT BETWEEN {lowest} AND {highest}",
                quoted(&key.columns[0])
            )),
            None => {
                let pairs = key.columns.iter().zip(&key.referenced_columns);
                let on: Vec<String> = pairs
                    .map(|(c, r)| format!("r{k}.{} = x.{}", quoted(r), quoted(c)))
                    .collect();
                joins.push_str(&format!(
                    " LEFT JOIN ONLY {} r{k} ON {}",
                    key.referenced,
                    on.join(" AND ")
                ));
                missing.push(format!(
                    "r{k}.{} IS NULL",
                    quoted(&key.referenced_columns[0])
                ));
            }
        }
        broken.push(format!("({})", missing.join(" AND ")));
    }
    format!(
        "SELECT COUNT(*) AS rows FROM ONLY {table} x{joins} WHERE {}",
        broken.join(" OR ")
    )
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
