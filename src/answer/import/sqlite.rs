//! SQLite's bulk path of an import: multi-row INSERTs prepared once, and, for an
//! import that at least doubles the survey data, the secondary indexes of
//! `responses` and `mentions` whose keys it writes in no particular order set
//! aside during the load and built again at its end (sorting a million keys once
//! is cheaper than inserting them one by one into the middle of an index).
//! Everything here runs inside the import's one write transaction: a failure
//! anywhere rolls back the rows and the indexes with them.

use std::marker::PhantomData;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Integer, Nullable, Text};
use diesel::sqlite::Sqlite;

use super::rows::{Batch, MentionRow, ResponseRow, Shared};
use super::CODED_BY_IMPORT;
use crate::db::AnyConnection;

/// Rows per INSERT statement; what is left of a batch goes in statements of 50,
/// 5 and 1 rows. Each size is prepared once per connection and table (4 values a
/// mention: 2,000 per statement, within SQLite's limit of 32,766).
const ROWS_PER_STATEMENT: usize = 500;

/// Secondary indexes kept during a load: their keys grow with the ids the import
/// hands out (one survey, its few waves, one time stamp), so each new entry goes
/// at the end of its index, which costs less than building it again (a million
/// respondents: 0.8 s more storing against 1.0 s less building). The others
/// (`mentions_area`, in the order of the file's area column, and any added later)
/// are set aside.
const KEPT_DURING_LOAD: [&str; 2] = ["responses_survey_updated", "mentions_response"];

/// SQLite's page cache during an import, in KiB (its default is 2,000).
const CACHE_KIB: u32 = 32_768;

/// SQLite's page cache while the indexes are built again, in KiB: the sort that
/// builds an index keeps as much in memory before it writes a sorted run to a
/// temporary file, and the rows no longer need the larger cache.
const REBUILD_CACHE_KIB: u32 = 8_192;

/// Stores one batch: responses, then mentions.
pub(super) fn insert_batch(conn: &mut SqliteConnection, batch: &Batch) -> QueryResult<()> {
    insert_all(conn, &batch.shared, &batch.responses)?;
    insert_all(conn, &batch.shared, &batch.mentions)
}

/// Inserts `rows` in statements of [`ROWS_PER_STATEMENT`], 50, 5 and 1 rows.
fn insert_all<R: Values>(
    conn: &mut SqliteConnection,
    shared: &Shared,
    rows: &[R],
) -> QueryResult<()> {
    let rest = insert_chunks::<R, ROWS_PER_STATEMENT>(conn, shared, rows)?;
    let rest = insert_chunks::<R, 50>(conn, shared, rest)?;
    let rest = insert_chunks::<R, 5>(conn, shared, rest)?;
    insert_chunks::<R, 1>(conn, shared, rest).map(|_| ())
}

/// Inserts the rows in statements of `N` rows; returns those left over.
fn insert_chunks<'r, R: Values, const N: usize>(
    conn: &mut SqliteConnection,
    shared: &Shared,
    rows: &'r [R],
) -> QueryResult<&'r [R]> {
    let mut chunks = rows.chunks_exact(N);
    for chunk in &mut chunks {
        let rows: &[R; N] = chunk.try_into().expect("chunks_exact gives N rows");
        Insert { shared, rows }.execute(conn)?;
    }
    Ok(chunks.remainder())
}

/// A table's rows as SQLite gets them: `INSERT INTO table (...) SELECT ... FROM
/// (VALUES (...), ...)`, where the `VALUES` hold only what differs from row to
/// row and the `SELECT` adds what they share, bound once per statement. (diesel's
/// `Insertable` binds every column of every row: binding was a seventh of an
/// import's time, and the rows had to own their texts.)
trait Values {
    /// Stands for the statement in diesel's cache of prepared statements.
    type Shape: 'static;

    /// `INSERT INTO ... SELECT ... FROM (VALUES `, binding what the rows share.
    fn head<'b>(shared: &'b Shared<'b>, out: &mut AstPass<'_, 'b, Sqlite>) -> QueryResult<()>;

    /// This row's `(?, ...)`.
    fn values<'b>(&'b self, out: &mut AstPass<'_, 'b, Sqlite>) -> QueryResult<()>;
}

impl Values for ResponseRow<'_> {
    type Shape = ResponseRow<'static>;

    fn head<'b>(shared: &'b Shared<'b>, out: &mut AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        out.push_sql(
            "INSERT INTO responses (id, survey_id, wave_id, locale, attributes, no_problems, \
             respondent, submitted_at, updated_at) SELECT column1, ",
        );
        out.push_bind_param::<BigInt, _>(&shared.survey_id)?;
        out.push_sql(", column2, ");
        out.push_bind_param::<Text, _>(shared.locale)?;
        out.push_sql(", column3, column4, column5, ");
        out.push_bind_param::<Text, _>(shared.stamp)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(shared.stamp)?;
        out.push_sql(" FROM (VALUES ");
        Ok(())
    }

    fn values<'b>(&'b self, out: &mut AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        out.push_sql("(");
        out.push_bind_param::<BigInt, _>(&self.id)?;
        out.push_sql(", ");
        out.push_bind_param::<BigInt, _>(&self.wave_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(self.attributes)?;
        out.push_sql(", ");
        out.push_bind_param::<Integer, _>(&self.no_problems)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(self.respondent)?;
        out.push_sql(")");
        Ok(())
    }
}

impl Values for MentionRow<'_> {
    type Shape = MentionRow<'static>;

    /// A mention with an area was coded by the import, at the import's time.
    fn head<'b>(shared: &'b Shared<'b>, out: &mut AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        out.push_sql(
            "INSERT INTO mentions (response_id, rank, text, may_contact, area_id, coded_by, \
             coded_at) SELECT column1, column2, column3, 0, column4, \
             CASE WHEN column4 IS NULL THEN NULL ELSE ",
        );
        out.push_bind_param::<Text, _>(CODED_BY_IMPORT)?;
        out.push_sql(" END, CASE WHEN column4 IS NULL THEN NULL ELSE ");
        out.push_bind_param::<Text, _>(shared.stamp)?;
        out.push_sql(" END FROM (VALUES ");
        Ok(())
    }

    fn values<'b>(&'b self, out: &mut AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        out.push_sql("(");
        out.push_bind_param::<BigInt, _>(&self.response_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Integer, _>(&self.rank)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(self.text)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<BigInt>, _>(&self.area_id)?;
        out.push_sql(")");
        Ok(())
    }
}

/// One INSERT of `N` rows.
struct Insert<'q, R, const N: usize> {
    shared: &'q Shared<'q>,
    rows: &'q [R; N],
}

/// The cache key of an [`Insert`]: one prepared statement per table and `N`.
struct Shape<S, const N: usize>(PhantomData<S>);

impl<R: Values, const N: usize> QueryId for Insert<'_, R, N> {
    type QueryId = Shape<R::Shape, N>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<R: Values, const N: usize> QueryFragment<Sqlite> for Insert<'_, R, N> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        R::head(self.shared, &mut out)?;
        for (i, row) in self.rows.iter().enumerate() {
            if i > 0 {
                out.push_sql(", ");
            }
            row.values(&mut out)?;
        }
        out.push_sql(")");
        Ok(())
    }

    /// Always: the statement's text depends only on its type (diesel would walk
    /// every row once more to ask).
    fn is_safe_to_cache_prepared(&self, _: &Sqlite) -> QueryResult<bool> {
        Ok(true)
    }
}

impl<R, const N: usize> RunQueryDsl<SqliteConnection> for Insert<'_, R, N> {}

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
/// and without the secondary indexes of `responses` and `mentions` it would fill in
/// no particular order (all but [`KEPT_DURING_LOAD`]) when the load at least
/// doubles those tables; the indexes are built again before returning.
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

/// Drops the secondary indexes of `responses` and `mentions` but those
/// [`KEPT_DURING_LOAD`]; returns them.
fn set_indexes_aside(conn: &mut SqliteConnection) -> QueryResult<Vec<Index>> {
    let indexes: Vec<Index> = diesel::sql_query(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' \
         AND tbl_name IN ('responses', 'mentions') AND sql IS NOT NULL",
    )
    .load::<Index>(conn)?
    .into_iter()
    .filter(|index| !KEPT_DURING_LOAD.contains(&index.name.as_str()))
    .collect();
    for index in &indexes {
        conn.batch_execute(&format!(
            "DROP INDEX \"{}\"",
            index.name.replace('"', "\"\"")
        ))?;
    }
    Ok(indexes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer::import::rows::{Shared, Stamp};
    use crate::config::DatabaseUrl;
    use crate::db::Database;
    use crate::error::Result;

    /// 557 rows of each table go in statements of 500, 50, 5, 1 and 1 rows:
    /// every row stored once, with its own values and those the batch shares.
    #[test]
    fn a_batch_of_any_length_is_stored_whole_with_what_its_rows_share() -> Result<()> {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open(&DatabaseUrl::Sqlite(dir.path().join("b.db")))?;
        let mut conn = db.conn()?;
        conn.batch_execute(
            "INSERT INTO surveys (id, slug, title, max_problems, definition, created_at) \
             VALUES (7, 's', 't', 5, '{}', '2026-12-01 00:00:00'); \
             INSERT INTO waves (id, survey_id, label, created_at) \
             VALUES (3, 7, 'w', '2026-12-01 00:00:00'); \
             INSERT INTO areas (id, survey_id, key, label, created_at) \
             VALUES (9, 7, 'late', 'Late', '2026-12-01 00:00:00');",
        )?;
        let stamp = Stamp::now();
        let n = 557;
        let respondents: Vec<String> = (0..n).map(|i| format!("r{i}")).collect();
        let texts: Vec<String> = (0..n)
            .map(|i| format!("problem \"{i}\", 'quoted'"))
            .collect();
        let batch = Batch {
            shared: Shared {
                survey_id: 7,
                locale: "sv",
                stamp: stamp.text(),
            },
            responses: (0..n)
                .map(|i| ResponseRow {
                    id: 1000 + i as i64,
                    wave_id: 3,
                    attributes: if i % 2 == 0 {
                        "{}"
                    } else {
                        "{\"segment\":\"a\"}"
                    },
                    no_problems: i32::from(i % 5 == 0),
                    respondent: &respondents[i],
                })
                .collect(),
            mentions: (0..n)
                .map(|i| MentionRow {
                    response_id: 1000 + i as i64,
                    rank: 1 + (i % 3) as i32,
                    text: &texts[i],
                    area_id: (i % 4 == 0).then_some(9),
                })
                .collect(),
        };
        let AnyConnection::Sqlite(c) = &mut *conn else {
            unreachable!("a SQLite URL opens SQLite")
        };
        insert_batch(c, &batch)?;

        type Response = (i64, i64, i64, String, String, i32, String, String);
        type Mention = (i64, i32, String, i32, Option<i64>, Option<String>);
        let stored: Vec<Response> = diesel::sql_query(
            "SELECT id AS a, survey_id AS b, wave_id AS c, locale AS d, attributes AS e, \
             no_problems AS f, submitted_at AS g, updated_at AS h FROM responses ORDER BY id",
        )
        .load::<ResponseFields>(c)?
        .into_iter()
        .map(|r| (r.a, r.b, r.c, r.d, r.e, r.f, r.g, r.h))
        .collect();
        assert_eq!(stored.len(), n);
        for (i, r) in stored.iter().enumerate() {
            let want = &batch.responses[i];
            assert_eq!((r.0, r.1, r.2), (want.id, 7, 3));
            assert_eq!(
                (r.3.as_str(), r.4.as_str(), r.5),
                ("sv", want.attributes, want.no_problems)
            );
            assert_eq!((r.6.as_str(), r.7.as_str()), (stamp.text(), stamp.text()));
        }
        use crate::db::schema::responses as r;
        let imported: Vec<(i64, Option<String>)> = r::table
            .order(r::id)
            .select((r::id, r::respondent))
            .load(c)?;
        let want: Vec<(i64, Option<String>)> = (0..n)
            .map(|i| (1000 + i as i64, Some(respondents[i].clone())))
            .collect();
        assert_eq!(imported, want);
        use crate::db::schema::mentions as m;
        let mentions: Vec<Mention> = m::table
            .order(m::id)
            .select((
                m::response_id,
                m::rank,
                m::text,
                m::may_contact,
                m::area_id,
                m::coded_by,
            ))
            .load(c)?;
        assert_eq!(
            mentions.len(),
            n,
            "every mention once, in the batch's order"
        );
        for (i, got) in mentions.iter().enumerate() {
            let want = &batch.mentions[i];
            let coded_by = want.area_id.map(|_| CODED_BY_IMPORT.to_string());
            assert_eq!(
                got,
                &(
                    want.response_id,
                    want.rank,
                    texts[i].clone(),
                    0,
                    want.area_id,
                    coded_by
                )
            );
        }
        let coded_at: Vec<Option<String>> =
            diesel::sql_query("SELECT coded_at AS a FROM mentions ORDER BY id")
                .load::<CodedAt>(c)?
                .into_iter()
                .map(|r| r.a)
                .collect();
        for (i, at) in coded_at.iter().enumerate() {
            let want = batch.mentions[i].area_id.map(|_| stamp.text().to_string());
            assert_eq!(at, &want, "coded at the import's time when it has an area");
        }
        Ok(())
    }

    #[derive(QueryableByName)]
    struct ResponseFields {
        #[diesel(sql_type = BigInt)]
        a: i64,
        #[diesel(sql_type = BigInt)]
        b: i64,
        #[diesel(sql_type = BigInt)]
        c: i64,
        #[diesel(sql_type = Text)]
        d: String,
        #[diesel(sql_type = Text)]
        e: String,
        #[diesel(sql_type = Integer)]
        f: i32,
        #[diesel(sql_type = Text)]
        g: String,
        #[diesel(sql_type = Text)]
        h: String,
    }

    #[derive(QueryableByName)]
    struct CodedAt {
        #[diesel(sql_type = Nullable<Text>)]
        a: Option<String>,
    }
}
