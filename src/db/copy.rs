//! `pds db copy`: a whole installation moved from the configured database (SQLite or
//! PostgreSQL) into an empty PostgreSQL database, every table, ids kept. The target
//! is migrated by the embedded migrations first; its catalog then says which tables
//! there are, in which order their foreign keys allow them to be filled, and which
//! columns hold timestamps. Rows travel as JSON, a batch at a time, inside one
//! transaction on the target: the rows are read back and compared (count and a
//! SHA-256 over every value, timestamps normalised) before anything is committed,
//! so a failed copy leaves the target empty. This room knows no capability's
//! tables by name.

use std::collections::{BTreeMap, BTreeSet};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use diesel::PgConnection;
use sha2::{Digest, Sha256};

use super::{AnyConnection, Database};
use crate::config::DatabaseUrl;
use crate::error::{Error, Result};

/// Rows per batch: large enough that a round trip is small beside the work, small
/// enough that a batch of emails with their bodies stays a few megabytes.
const BATCH: i64 = 500;

/// What was copied of one table, verified on the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCopied {
    pub table: String,
    pub rows: u64,
    /// SHA-256 over every value of every row in key order, the same on both sides.
    pub checksum: String,
}

/// How far a copy has come: `(table, rows copied, rows in the table)`.
pub type Progress<'a> = &'a mut dyn FnMut(&str, u64, u64);

/// Copies every table of `source` into the empty PostgreSQL database at `target`,
/// verifies each table on the target and commits. Refuses a target holding any row.
pub fn copy(
    source: &Database,
    target: &DatabaseUrl,
    progress: Progress<'_>,
) -> Result<Vec<TableCopied>> {
    let DatabaseUrl::Postgres(_) = target else {
        return Err(Error::Invalid(format!(
            "pds db copy copies into PostgreSQL; {} is not a postgres:// URL",
            target.redacted()
        )));
    };
    if source.url() == target {
        return Err(Error::Invalid(
            "the target is the configured database itself; name an empty PostgreSQL database"
                .into(),
        ));
    }
    let target_db = Database::open(target)?;
    let mut target_conn = target_db.conn()?;
    let AnyConnection::Postgresql(pg) = &mut *target_conn else {
        return Err(Error::Internal(
            "a postgres:// URL opened another backend".into(),
        ));
    };
    let tables = Catalog::read(pg)?.tables_in_order()?;
    refuse_non_empty(pg, &tables, target)?;
    let mut source_conn = source.conn()?;
    let source_conn = &mut *source_conn;
    if let AnyConnection::Postgresql(_) = source_conn {
        source_conn.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
    } else {
        // A read transaction: every table is read from one snapshot of the file.
        source_conn.batch_execute("BEGIN")?;
    }
    let copied = pg.transaction(|pg| {
        let mut copied = Vec::with_capacity(tables.len());
        for table in &tables {
            copied.push(copy_table(source_conn, pg, table, progress)?);
        }
        reset_sequences(pg, &tables)?;
        Ok::<_, Error>(copied)
    });
    source_conn.batch_execute("ROLLBACK")?;
    let copied = copied?;
    // The planner's statistics of the filled tables, now rather than whenever
    // autovacuum gets there: until then PostgreSQL plans every query as if the
    // tables were nearly empty (an export of a large survey joined the whole
    // tables for each page).
    pg.batch_execute("ANALYZE")?;
    Ok(copied)
}

/// A table as the target's catalog describes it.
#[derive(Debug, Clone)]
struct Table {
    name: String,
    /// The single-column primary key the rows are read in order of.
    key: String,
    columns: Vec<Column>,
    /// Columns referring to the same table (an area merged into another): filled
    /// after all its rows, since a row may point to one with a higher key.
    self_references: Vec<String>,
}

#[derive(Debug, Clone)]
struct Column {
    name: String,
    timestamp: bool,
}

#[derive(QueryableByName)]
struct CatalogColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
}

#[derive(QueryableByName)]
struct CatalogConstraint {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    parent: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct JsonRow {
    #[diesel(sql_type = Text)]
    row: String,
}

/// The tables of the migrated target, their columns, keys and foreign keys.
struct Catalog {
    columns: Vec<CatalogColumn>,
    constraints: Vec<CatalogConstraint>,
}

impl Catalog {
    fn read(pg: &mut PgConnection) -> Result<Catalog> {
        let columns = diesel::sql_query(
            "SELECT c.table_name::text AS table_name, c.column_name::text AS column_name, \
                    c.data_type::text AS data_type \
             FROM information_schema.columns c \
             JOIN information_schema.tables t \
               ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
             WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' \
               AND c.table_name <> '__diesel_schema_migrations' \
             ORDER BY c.table_name, c.ordinal_position",
        )
        .load(pg)?;
        // Single-column keys only: every table of pds has one, and a key of several
        // columns is refused below rather than copied in an order we did not check.
        let constraints = diesel::sql_query(
            "SELECT c.contype::text AS kind, c.conrelid::regclass::text AS table_name, \
                    a.attname::text AS column_name, \
                    COALESCE(c.confrelid::regclass::text, '') AS parent \
             FROM pg_constraint c \
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] \
             WHERE c.contype IN ('p', 'f') AND c.connamespace = current_schema()::regnamespace \
               AND cardinality(c.conkey) = 1",
        )
        .load(pg)?;
        Ok(Catalog {
            columns,
            constraints,
        })
    }

    /// The tables, parents before children (foreign keys), ties by name.
    fn tables_in_order(self) -> Result<Vec<Table>> {
        let mut tables: BTreeMap<String, Table> = BTreeMap::new();
        for c in self.columns {
            let table = tables.entry(c.table_name.clone()).or_insert_with(|| Table {
                name: c.table_name.clone(),
                key: String::new(),
                columns: Vec::new(),
                self_references: Vec::new(),
            });
            table.columns.push(Column {
                timestamp: c.data_type.starts_with("timestamp"),
                name: c.column_name,
            });
        }
        let mut parents: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for c in self.constraints {
            let Some(table) = tables.get_mut(&c.table_name) else {
                continue;
            };
            match (c.kind.as_str(), c.parent == c.table_name) {
                ("p", _) => table.key = c.column_name,
                ("f", true) => table.self_references.push(c.column_name),
                _ => {
                    parents.entry(c.table_name).or_default().insert(c.parent);
                }
            }
        }
        if let Some(t) = tables.values().find(|t| t.key.is_empty()) {
            return Err(Error::Internal(format!(
                "table {} has no single-column primary key; pds db copy cannot order its rows",
                t.name
            )));
        }
        let mut ordered = Vec::with_capacity(tables.len());
        while !tables.is_empty() {
            let ready: Vec<String> = tables
                .keys()
                .filter(|name| {
                    parents
                        .get(*name)
                        .is_none_or(|ps| ps.iter().all(|p| !tables.contains_key(p)))
                })
                .cloned()
                .collect();
            if ready.is_empty() {
                return Err(Error::Internal(format!(
                    "the foreign keys of tables {:?} form a circle; pds db copy cannot order them",
                    tables.keys().collect::<Vec<_>>()
                )));
            }
            for name in ready {
                ordered.extend(tables.remove(&name));
            }
        }
        Ok(ordered)
    }
}

fn refuse_non_empty(pg: &mut PgConnection, tables: &[Table], target: &DatabaseUrl) -> Result<()> {
    for table in tables {
        let sql = format!("SELECT count(*) AS n FROM {}", quoted(&table.name));
        let count: Count = diesel::sql_query(sql).get_result(pg)?;
        if count.n > 0 {
            return Err(Error::Invalid(format!(
                "the target database {} is not empty (table {} has {} rows); \
                 pds db copy only fills an empty database: create a new one \
                 (e.g. createdb) and name it with --to",
                target.redacted(),
                table.name,
                count.n
            )));
        }
    }
    Ok(())
}

fn copy_table(
    source: &mut AnyConnection,
    pg: &mut PgConnection,
    table: &Table,
    progress: Progress<'_>,
) -> Result<TableCopied> {
    let total = row_count(source, table)?;
    let mut read = RowDigest::new(table);
    let mut after = i64::MIN;
    loop {
        let rows = source_rows(source, table, after)?;
        if rows.is_empty() {
            break;
        }
        for row in &rows {
            after = read.add(row)?;
        }
        insert(pg, table, &rows)?;
        progress(&table.name, read.rows, total.max(read.rows));
    }
    if !table.self_references.is_empty() {
        fill_self_references(source, pg, table)?;
    }
    let mut written = RowDigest::new(table);
    let mut after = i64::MIN;
    loop {
        let sql = select_rows(table, true, after);
        let rows: Vec<JsonRow> = diesel::sql_query(sql).load(pg)?;
        if rows.is_empty() {
            break;
        }
        for row in &rows {
            after = written.add(&row.row)?;
        }
    }
    let (read, written) = (read.finish(), written.finish());
    if read != written {
        return Err(Error::Internal(format!(
            "table {}: {} rows read (checksum {}) but {} rows on the target (checksum {}); \
             nothing was committed",
            table.name, read.rows, read.checksum, written.rows, written.checksum
        )));
    }
    Ok(read)
}

fn row_count(source: &mut AnyConnection, table: &Table) -> Result<u64> {
    let sql = format!("SELECT count(*) AS n FROM {}", quoted(&table.name));
    let count: Count = diesel::sql_query(sql).get_result(source)?;
    Ok(count.n.max(0) as u64)
}

/// The next batch of rows with a key above `after`, each as a JSON object.
fn source_rows(source: &mut AnyConnection, table: &Table, after: i64) -> Result<Vec<String>> {
    let postgres = matches!(source, AnyConnection::Postgresql(_));
    let sql = select_rows(table, postgres, after);
    let rows: Vec<JsonRow> = diesel::sql_query(sql).load(source)?;
    Ok(rows.into_iter().map(|r| r.row).collect())
}

/// SQL for a batch of rows as JSON objects: SQLite names each column in
/// `json_object`, PostgreSQL turns the whole row into JSON.
fn select_rows(table: &Table, postgres: bool, after: i64) -> String {
    let (name, key) = (quoted(&table.name), quoted(&table.key));
    let row = if postgres {
        "row_to_json(t)::text".to_string()
    } else {
        let pairs: Vec<String> = table
            .columns
            .iter()
            .map(|c| format!("'{}', t.{}", c.name.replace('\'', "''"), quoted(&c.name)))
            .collect();
        format!("json_object({})", pairs.join(", "))
    };
    format!(
        "SELECT {row} AS row FROM {name} t WHERE t.{key} > {after} ORDER BY t.{key} LIMIT {BATCH}"
    )
}

/// Inserts a batch, keeping every value (ids too); self-references wait for
/// [`fill_self_references`].
fn insert(pg: &mut PgConnection, table: &Table, rows: &[String]) -> Result<()> {
    let columns: Vec<String> = table.columns.iter().map(|c| quoted(&c.name)).collect();
    let values: Vec<String> = table
        .columns
        .iter()
        .map(|c| {
            if table.self_references.contains(&c.name) {
                "NULL".to_string()
            } else {
                format!("r.{}", quoted(&c.name))
            }
        })
        .collect();
    let sql = format!(
        "INSERT INTO {name} ({columns}) SELECT {values} \
         FROM json_populate_recordset(NULL::{name}, $1::json) r",
        name = quoted(&table.name),
        columns = columns.join(", "),
        values = values.join(", "),
    );
    diesel::sql_query(sql)
        .bind::<Text, _>(format!("[{}]", rows.join(",")))
        .execute(pg)?;
    Ok(())
}

/// Sets the columns that point into their own table, once all its rows are there.
fn fill_self_references(
    source: &mut AnyConnection,
    pg: &mut PgConnection,
    table: &Table,
) -> Result<()> {
    let name = quoted(&table.name);
    let key = quoted(&table.key);
    let sets: Vec<String> = table
        .self_references
        .iter()
        .map(|c| format!("{c} = r.{c}", c = quoted(c)))
        .collect();
    let sql = format!(
        "UPDATE {name} t SET {sets} FROM json_populate_recordset(NULL::{name}, $1::json) r \
         WHERE t.{key} = r.{key}",
        sets = sets.join(", "),
    );
    let mut after = i64::MIN;
    loop {
        let rows = source_rows(source, table, after)?;
        let Some(last) = rows.last() else {
            return Ok(());
        };
        after = key_of(table, &parse(table, last)?)?;
        diesel::sql_query(&sql)
            .bind::<Text, _>(format!("[{}]", rows.join(",")))
            .execute(pg)?;
    }
}

/// Sets each serial sequence past the highest copied id, so the next row the
/// application inserts gets a fresh one.
fn reset_sequences(pg: &mut PgConnection, tables: &[Table]) -> Result<()> {
    for table in tables {
        let sql = format!(
            "SELECT setval(pg_get_serial_sequence('{name}', '{key}'), \
                           COALESCE(MAX({qkey}), 0) + 1, false) FROM {qname}",
            name = table.name.replace('\'', "''"),
            key = table.key.replace('\'', "''"),
            qkey = quoted(&table.key),
            qname = quoted(&table.name),
        );
        pg.batch_execute(&sql)?;
    }
    Ok(())
}

fn quoted(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

fn parse(table: &Table, row: &str) -> Result<serde_json::Map<String, serde_json::Value>> {
    serde_json::from_str(row).map_err(|e| {
        Error::Internal(format!(
            "table {}: a row did not read as JSON: {e}",
            table.name
        ))
    })
}

fn key_of(table: &Table, row: &serde_json::Map<String, serde_json::Value>) -> Result<i64> {
    row.get(&table.key)
        .and_then(serde_json::Value::as_i64)
        .ok_or_else(|| {
            Error::Internal(format!(
                "table {}: a row has no whole-number key {}",
                table.name, table.key
            ))
        })
}

/// A running count and checksum of a table's rows, fed in key order.
struct RowDigest<'a> {
    table: &'a Table,
    rows: u64,
    hash: Sha256,
}

impl<'a> RowDigest<'a> {
    fn new(table: &'a Table) -> Self {
        RowDigest {
            table,
            rows: 0,
            hash: Sha256::new(),
        }
    }

    /// Adds one row (a JSON object) and returns its key.
    fn add(&mut self, row: &str) -> Result<i64> {
        let values = parse(self.table, row)?;
        for column in &self.table.columns {
            let value = canonical(column, values.get(&column.name));
            self.hash.update((value.len() as u64).to_le_bytes());
            self.hash.update(value.as_bytes());
        }
        self.rows += 1;
        key_of(self.table, &values)
    }

    fn finish(self) -> TableCopied {
        TableCopied {
            table: self.table.name.clone(),
            rows: self.rows,
            checksum: hex::encode(self.hash.finalize()),
        }
    }
}

/// A value as both backends agree on it: SQLite keeps a timestamp as text with as
/// many fraction digits as it needs, PostgreSQL's JSON writes it with a `T`.
fn canonical(column: &Column, value: Option<&serde_json::Value>) -> String {
    use serde_json::Value;
    match value {
        None | Some(Value::Null) => "null".to_string(),
        Some(Value::String(text)) if column.timestamp => {
            let spaced = text.replacen('T', " ", 1);
            chrono::NaiveDateTime::parse_from_str(&spaced, "%Y-%m-%d %H:%M:%S%.f")
                .map(|t| format!("time:{}", t.format("%Y-%m-%d %H:%M:%S%.6f")))
                .unwrap_or_else(|_| format!("text:{text}"))
        }
        Some(Value::String(text)) => format!("text:{text}"),
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_compare_equal_however_each_backend_writes_them() {
        let column = Column {
            name: "at".into(),
            timestamp: true,
        };
        let sqlite = serde_json::json!("2026-12-01 10:00:00.1200");
        let postgres = serde_json::json!("2026-12-01T10:00:00.12");
        assert_eq!(
            canonical(&column, Some(&sqlite)),
            canonical(&column, Some(&postgres))
        );
        let whole = serde_json::json!("2026-12-01 10:00:00");
        assert_eq!(
            canonical(&column, Some(&whole)),
            "time:2026-12-01 10:00:00.000000"
        );
        let text = Column {
            name: "note".into(),
            timestamp: false,
        };
        assert_ne!(
            canonical(&text, None),
            canonical(&text, Some(&serde_json::json!("null"))),
            "a missing value is not the word null"
        );
    }
}
