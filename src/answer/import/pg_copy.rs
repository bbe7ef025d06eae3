//! PostgreSQL's load of an import: two `COPY ... FROM STDIN` streams in
//! PostgreSQL's binary format, one per table, each one statement for the whole
//! file: `responses` from the first reading's respondents (no texts needed), then
//! `mentions` from the second reading as it arrives. When the file is checked
//! and stored in one reading (`one_pass.rs`), `mentions` comes first, as the file
//! is read, and `responses` after it from the respondents the reading found.
//! One statement per table instead of one per table and batch: each statement is
//! a round trip during which client and server wait for each other, and the server
//! sets up its insert state for every statement again.
//!
//! Ids: a small import takes the response ids from the table's sequence for all
//! new respondents in one query before the streams start, and `mentions` take
//! theirs from the column's default (a `nextval` per row). A large import, which
//! holds the two tables alone until it commits
//! (`postgres.rs`), reserves one block of ids per table instead, one `setval`
//! each, and writes the ids in its streams: a `nextval` per row cost a quarter of
//! the `mentions` COPY (`Ids`). An area named for the first time stops the
//! `mentions` stream: it is created (outside a COPY) and a new stream goes on from
//! that row, so a file with 50 areas costs a few statements, not one per row.
//!
//! Runs inside the import's one transaction (`postgres::bulk_load` around it);
//! decides nothing about the file's validity.

use std::cell::RefCell;
use std::io::{self, BufWriter, Read, Write};
use std::sync::Arc;

use diesel::pg::{CopyFormat, CopyTarget, PgConnection};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::good_rows::{Chunk, GoodRows};
use super::one_pass::{with_checked_rows, GaveUp};
use super::store::Writer;
use super::CODED_BY_IMPORT;
use crate::db::schema::{mentions, responses};
use crate::db::AnyConnection;
use crate::error::Result;

/// Bytes gathered before they go to the connection (libpq sends what it is given
/// at once, in messages of its own).
const SEND_BUFFER: usize = 1 << 20;

/// Where the new rows' ids come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ids {
    /// The tables' sequences, as other writers take theirs meanwhile.
    FromSequences,
    /// One block per table, reserved at once: only while the import holds the
    /// tables alone (ACCESS EXCLUSIVE, `postgres::bulk_load`), so that no other
    /// writer draws from their sequences until the commit. `mentions` is the
    /// number of mentions the first reading counted.
    Blocks { mentions: u64 },
}

/// Stores every row of the second reading (and the new respondents' responses).
pub(super) fn load(
    conn: &mut AnyConnection,
    writer: &mut Writer,
    rows: &mut GoodRows,
    ids: Ids,
    bar: &indicatif::ProgressBar,
) -> Result<()> {
    let new = writer.new_respondents();
    let (response_ids, mentions) = match ids {
        Ids::FromSequences => (take_response_ids(pg(conn), new.len())?, None),
        Ids::Blocks { mentions } => {
            let responses = IdBlock::reserve(pg(conn), "responses", new.len() as u64)?;
            let mentions = IdBlock::reserve(pg(conn), "mentions", mentions)?;
            (responses.all().collect(), Some(mentions))
        }
    };
    writer.give_response_ids(&new, response_ids);
    copy_responses(pg(conn), writer, &new)?;
    writer.report.inserted = new.len();
    drop(new);
    copy_mentions(conn, writer, rows, mentions, bar)?;
    writer.note_coded(conn)
}

/// The load of one reading (`one_pass.rs`): the `mentions` stream is fed as the
/// file is checked, then `responses` comes from the respondents the reading
/// found, every one new, respondent `n` taking the `n`th id of its table's
/// block. Only under `Ids::Blocks` (the import holds the tables alone), with
/// blocks opened before the reading, whose size is learnt at its end. Returns
/// where the reading gave up, if it did: the caller must then roll back.
pub(super) fn load_in_one_reading(
    conn: &mut AnyConnection,
    writer: &mut Writer,
    reader: impl Read + Send,
    file: &str,
    (max_problems, file_bytes): (u32, Option<u64>),
    bar: &indicatif::ProgressBar,
) -> Result<std::result::Result<(), GaveUp>> {
    let responses = IdBlock::open(pg(conn), "responses")?;
    let mentions = IdBlock::open(pg(conn), "mentions")?;
    writer.number_responses_from(responses.first);
    let ((), read) = with_checked_rows(reader, file, max_problems, file_bytes, bar, |rows| {
        copy_mentions(conn, writer, rows, Some(mentions), bar)
    })?;
    let respondents = match read {
        Ok(respondents) => respondents,
        Err(gave_up) => return Ok(Err(gave_up)),
    };
    let all: Vec<u32> = (0..respondents.seen.len() as u32).collect();
    writer.take_respondents(conn, Arc::new(respondents))?;
    responses.close(pg(conn), "responses", all.len())?;
    mentions.close(pg(conn), "mentions", writer.report.mentions)?;
    copy_responses(pg(conn), writer, &all)?;
    writer.report.inserted = all.len();
    writer.note_coded(conn)?;
    Ok(Ok(()))
}

fn pg(conn: &mut AnyConnection) -> &mut PgConnection {
    match conn {
        AnyConnection::Postgresql(c) => c,
        AnyConnection::Sqlite(_) => unreachable!("the COPY load runs on PostgreSQL only"),
    }
}

/// A run of consecutive ids.
#[derive(QueryableByName)]
struct Island {
    #[diesel(sql_type = BigInt)]
    first: i64,
    #[diesel(sql_type = BigInt)]
    last: i64,
}

/// `count` new ids from the sequence of `responses`, in ascending order. Other
/// writers may draw from the sequence meanwhile, so the ids taken come back as
/// runs of consecutive ids (one run, unless someone else took some in between)
/// instead of one row per id. (The sequence is looked up once: per row, the
/// look-up cost more than the ids.)
fn take_response_ids(conn: &mut PgConnection, count: usize) -> QueryResult<Vec<i64>> {
    if count == 0 {
        return Ok(Vec::new());
    }
    let islands: Vec<Island> = diesel::sql_query(
        "WITH sequence AS MATERIALIZED (SELECT pg_get_serial_sequence('responses', 'id')::regclass AS s) \
         SELECT MIN(id) AS first, MAX(id) AS last FROM \
         (SELECT id, id - ROW_NUMBER() OVER (ORDER BY id) AS island FROM \
         (SELECT nextval(sequence.s) AS id FROM sequence, generate_series(1, $1)) AS taken) \
         AS numbered GROUP BY island ORDER BY first",
    )
    .bind::<BigInt, _>(count as i64)
    .load(conn)?;
    Ok(islands.iter().flat_map(|i| i.first..=i.last).collect())
}

#[derive(QueryableByName)]
struct First {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// Consecutive ids reserved for one table's new rows.
#[derive(Debug, Clone, Copy)]
struct IdBlock {
    first: i64,
    size: u64,
}

impl IdBlock {
    /// Moves `table`'s sequence past `size` new ids in one step, which is sound
    /// only while no other transaction can insert into `table` (see [`Ids::Blocks`]).
    fn reserve(conn: &mut PgConnection, table: &str, size: u64) -> QueryResult<Self> {
        if size == 0 {
            return Ok(IdBlock { first: 0, size });
        }
        let first: First = diesel::sql_query(
            "SELECT setval(s, nextval(s) + $1 - 1) - $1 + 1 AS id FROM \
             (SELECT pg_get_serial_sequence($2, 'id')::regclass AS s) AS sequence",
        )
        .bind::<BigInt, _>(size as i64)
        .bind::<Text, _>(table)
        .get_result(conn)?;
        Ok(IdBlock {
            first: first.id,
            size,
        })
    }

    /// A block from `table`'s next id on, of a size learnt later ([`IdBlock::close`]).
    /// The sequence is only read, not moved, so that a reading that gives up
    /// leaves the ids to the two readings after it.
    fn open(conn: &mut PgConnection, table: &str) -> QueryResult<Self> {
        let first: First = diesel::sql_query(
            "SELECT COALESCE(pg_sequence_last_value(s) + 1, \
             (SELECT seqstart FROM pg_sequence WHERE seqrelid = s)) AS id FROM \
             (SELECT pg_get_serial_sequence($1, 'id')::regclass AS s) AS sequence",
        )
        .bind::<Text, _>(table)
        .get_result(conn)?;
        Ok(IdBlock {
            first: first.id,
            size: u64::MAX,
        })
    }

    /// Moves `table`'s sequence past the `used` ids of an opened block.
    fn close(self, conn: &mut PgConnection, table: &str, used: usize) -> QueryResult<()> {
        if used > 0 {
            diesel::sql_query("SELECT setval(pg_get_serial_sequence($1, 'id'), $2) AS id")
                .bind::<Text, _>(table)
                .bind::<BigInt, _>(self.first + used as i64 - 1)
                .execute(conn)?;
        }
        Ok(())
    }

    fn all(self) -> impl Iterator<Item = i64> {
        (0..self.size as i64).map(move |n| self.first + n)
    }

    /// The id of the `n`th row stored (from 0); an error past the block, whose
    /// following ids are the sequence's to give.
    fn id(self, n: usize) -> QueryResult<i64> {
        if n as u64 >= self.size {
            let e = io::Error::other("more rows than the first reading counted");
            return Err(sent(e));
        }
        Ok(self.first + n as i64)
    }
}

fn copy_responses(conn: &mut PgConnection, writer: &Writer, new: &[u32]) -> QueryResult<()> {
    use responses::dsl as r;
    let columns = (
        r::id,
        r::survey_id,
        r::wave_id,
        r::locale,
        r::attributes,
        r::no_problems,
        r::respondent,
        r::submitted_at,
        r::updated_at,
    );
    let locale = writer.locale();
    let stamp = writer.stamp_micros();
    copy_binary(conn, responses::table, columns, |rows| {
        for &n in new {
            let response = writer.response(n);
            rows.row(9)?;
            rows.bigint(response.id)?;
            rows.bigint(writer.survey_id())?;
            rows.bigint(response.wave_id)?;
            rows.text(locale)?;
            rows.text(response.attributes)?;
            rows.int(response.no_problems)?;
            rows.text(response.respondent)?;
            rows.timestamp(stamp)?;
            rows.timestamp(stamp)?;
        }
        Ok(())
    })
}

/// One `COPY table (columns) FROM STDIN` in the binary format, its rows from `write`.
fn copy_binary<T, C>(
    conn: &mut PgConnection,
    table: T,
    columns: C,
    write: impl Fn(&mut BinaryRows) -> QueryResult<()>,
) -> QueryResult<()>
where
    T: diesel::Table,
    C: CopyTarget<Table = T>,
{
    diesel::copy_from(table)
        .from_raw_data(columns, |out| {
            let mut rows = BinaryRows::start(out)?;
            write(&mut rows)?;
            rows.end()
        })
        .with_format(CopyFormat::Binary)
        .execute(conn)
        .map(|_| ())
}

/// Where the `mentions` stream is between its statements.
struct MentionStream<'r> {
    rows: &'r mut GoodRows,
    /// A chunk stopped at a row whose area is new; the next statement starts there.
    pending: Option<(Chunk, usize)>,
    /// The first respondent none of whose rows was written yet (for the progress
    /// bar): respondents' first rows come in the order of their numbers.
    next_new: u32,
    mentions: usize,
    /// The mentions' ids, if not from the column's default.
    ids: Option<IdBlock>,
}

fn copy_mentions(
    conn: &mut AnyConnection,
    writer: &mut Writer,
    rows: &mut GoodRows,
    ids: Option<IdBlock>,
    bar: &indicatif::ProgressBar,
) -> Result<()> {
    let mut stream = MentionStream {
        rows,
        pending: None,
        next_new: 0,
        mentions: 0,
        ids,
    };
    loop {
        if let Some((chunk, from)) = &stream.pending {
            writer.create_areas(conn, chunk, *from)?;
        }
        let shared = RefCell::new(stream);
        copy_mentions_until_new_area(pg(conn), writer, &shared, bar)?;
        stream = shared.into_inner();
        if stream.pending.is_none() {
            writer.report.mentions = stream.mentions;
            return Ok(());
        }
    }
}

/// One `COPY mentions` statement: rows until the reading ends or a row names an
/// area not created yet.
fn copy_mentions_until_new_area(
    conn: &mut PgConnection,
    writer: &Writer,
    stream: &RefCell<MentionStream>,
    bar: &indicatif::ProgressBar,
) -> QueryResult<()> {
    use mentions::dsl as m;
    let stamp = writer.stamp_micros();
    let write = |rows: &mut BinaryRows| {
        let mut stream = stream.borrow_mut();
        loop {
            let (chunk, from) = match stream.pending.take() {
                Some(pending) => pending,
                None => match stream.rows.next_chunk() {
                    Some(chunk) => (chunk, 0),
                    None => return Ok(()),
                },
            };
            let stopped = write_mentions(rows, &mut stream, writer, &chunk, from, stamp)?;
            bar.inc(count_begun(&mut stream.next_new, &chunk, from, stopped));
            match stopped {
                Some(at) => {
                    stream.pending = Some((chunk, at));
                    return Ok(());
                }
                None => stream.rows.give_back(chunk),
            }
        }
    };
    let table = mentions::table;
    let (response, rank, text, contact) = (m::response_id, m::rank, m::text, m::may_contact);
    let (area, coded_by, coded_at) = (m::area_id, m::coded_by, m::coded_at);
    if stream.borrow().ids.is_some() {
        let columns = (
            m::id,
            response,
            rank,
            text,
            contact,
            area,
            coded_by,
            coded_at,
        );
        copy_binary(conn, table, columns, write)
    } else {
        let columns = (response, rank, text, contact, area, coded_by, coded_at);
        copy_binary(conn, table, columns, write)
    }
}

/// Writes the chunk's mentions from row `from`; stops at the first row whose area
/// has no id yet and returns where.
fn write_mentions(
    rows: &mut BinaryRows,
    stream: &mut MentionStream,
    writer: &Writer,
    chunk: &Chunk,
    from: usize,
    stamp: i64,
) -> QueryResult<Option<usize>> {
    for i in from..chunk.len() {
        let row = chunk.row(i);
        let Some((rank, text, area)) = row.problem else {
            continue;
        };
        let area_id = match area.map(|label| writer.known_area(label)) {
            Some(None) => return Ok(Some(i)),
            Some(Some(id)) => Some(id),
            None => None,
        };
        rows.row(7 + i16::from(stream.ids.is_some()))?;
        if let Some(ids) = stream.ids {
            rows.bigint(ids.id(stream.mentions)?)?;
        }
        rows.bigint(writer.response_id(row.number))?;
        rows.int(rank as i32)?;
        rows.text(text)?;
        rows.int(0)?;
        match area_id {
            Some(id) => {
                rows.bigint(id)?;
                rows.text(CODED_BY_IMPORT)?;
                rows.timestamp(stamp)?;
            }
            None => {
                rows.null()?;
                rows.null()?;
                rows.null()?;
            }
        }
        stream.mentions += 1;
    }
    Ok(None)
}

/// How many respondents have their first row among the chunk's rows `from..stopped`.
fn count_begun(next_new: &mut u32, chunk: &Chunk, from: usize, stopped: Option<usize>) -> u64 {
    let end = stopped.unwrap_or(chunk.len());
    let mut begun = 0;
    for i in from..end {
        let number = chunk.row(i).number;
        if number >= *next_new {
            begun += 1;
            *next_new = number + 1;
        }
    }
    begun
}

/// Rows in PostgreSQL's binary COPY format (a header, then per row its number of
/// fields and each field as its length and its bytes in network order, then a
/// trailer), gathered in a buffer before they go to the connection.
struct BinaryRows<'w> {
    out: BufWriter<&'w mut dyn Write>,
}

/// The format's signature, then no flags and no header extension.
const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

impl<'w> BinaryRows<'w> {
    fn start(out: &'w mut dyn Write) -> QueryResult<Self> {
        let mut out = BufWriter::with_capacity(SEND_BUFFER, out);
        out.write_all(HEADER).map_err(sent)?;
        Ok(BinaryRows { out })
    }

    fn put(&mut self, bytes: &[u8]) -> QueryResult<()> {
        self.out.write_all(bytes).map_err(sent)
    }

    fn row(&mut self, fields: i16) -> QueryResult<()> {
        self.put(&fields.to_be_bytes())
    }

    fn bigint(&mut self, value: i64) -> QueryResult<()> {
        self.put(&8i32.to_be_bytes())?;
        self.put(&value.to_be_bytes())
    }

    fn int(&mut self, value: i32) -> QueryResult<()> {
        self.put(&4i32.to_be_bytes())?;
        self.put(&value.to_be_bytes())
    }

    fn text(&mut self, value: &str) -> QueryResult<()> {
        let length = i32::try_from(value.len()).map_err(|e| sent(io::Error::other(e)))?;
        self.put(&length.to_be_bytes())?;
        self.put(value.as_bytes())
    }

    /// A `TIMESTAMP`: microseconds since 2000-01-01 00:00:00.
    fn timestamp(&mut self, micros: i64) -> QueryResult<()> {
        self.bigint(micros)
    }

    fn null(&mut self) -> QueryResult<()> {
        self.put(&(-1i32).to_be_bytes())
    }

    fn end(mut self) -> QueryResult<()> {
        self.put(&(-1i16).to_be_bytes())?;
        self.out.flush().map_err(sent)
    }
}

fn sent(e: io::Error) -> diesel::result::Error {
    diesel::result::Error::SerializationError(Box::new(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_rows_follow_the_copy_format() {
        let mut bytes = Vec::new();
        let mut rows = BinaryRows::start(&mut bytes).unwrap();
        rows.row(3).unwrap();
        rows.bigint(7).unwrap();
        rows.text("é").unwrap();
        rows.null().unwrap();
        rows.end().unwrap();
        let mut expected = b"PGCOPY\n\xff\r\n\0".to_vec();
        expected.extend([0; 8]);
        expected.extend([0, 3]);
        expected.extend([0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 7]);
        expected.extend([0, 0, 0, 2, 0xc3, 0xa9]);
        expected.extend([0xff; 4]);
        expected.extend([0xff; 2]);
        assert_eq!(bytes, expected);
    }
}
