//! Rows from PostgreSQL as one `COPY (SELECT ...) TO STDOUT` in its binary format,
//! read row by row: for the streamed mention export (`export/rows.rs`) and for
//! reading the mentions that results need (`load/chunk.rs`).
//!
//! For the export, one COPY for the whole export instead of a query per page of
//! 10,000 rows. The server plans the export once
//! (a hash join and a sort of the whole scope, instead of walking the primary key
//! and looking up each mention's response for every page) and streams the rows
//! while the client writes the CSV of the rows before them, instead of the two
//! taking turns page by page. Memory stays flat: rows arrive as PostgreSQL sends
//! them, a message each, and only the row being decoded is kept.
//!
//! The export's COPY runs inside its one read transaction, so it sees the
//! snapshot every other query of the export sees.
//!
//! For results, a COPY per range of response ids: the rows arrive as a stream
//! the client decodes as it reads, with no result set built in libpq first.

use std::cell::RefCell;
use std::io::{self, BufRead};
use std::ops::Range;

use diesel::connection::SimpleConnection;
use diesel::pg::{CopyFormat, CopyTarget, Pg, PgConnection};
use diesel::query_builder::AstPass;
use diesel::sql_types::BigInt;
use diesel::QueryResult;

use crate::db::schema::mentions;
use crate::error::{Error, Result};

thread_local! {
    /// The SELECT of the COPY being started on this thread: diesel's COPY TO
    /// takes its target as a type, whose SQL cannot carry values, and a COPY
    /// cannot have bind parameters; so the statement's text is set here, with the
    /// scope's ids written into it, just before diesel builds the statement.
    static SELECT: RefCell<String> = const { RefCell::new(String::new()) };
}

/// The `(SELECT ...)` of a COPY, taken from [`SELECT`].
struct Select;

impl CopyTarget for Select {
    type Table = mentions::table;
    type SqlType = BigInt;

    fn walk_target(mut pass: AstPass<'_, '_, Pg>) -> QueryResult<()> {
        SELECT.with(|select| {
            pass.push_sql("(");
            pass.push_sql(&select.borrow());
            pass.push_sql(")");
        });
        Ok(())
    }
}

/// Runs `COPY (select) TO STDOUT (FORMAT binary)` and hands every row to `each`,
/// in the order the SELECT gives; returns how many rows there were. `select` is
/// SQL text: only numbers may be written into it, never a user's text.
pub(crate) fn for_each_row(
    conn: &mut PgConnection,
    select: String,
    mut each: impl FnMut(&CopyRow<'_>) -> Result<()>,
) -> Result<u64> {
    SELECT.with(|s| *s.borrow_mut() = select);
    let started = diesel::copy_to(Select)
        .with_format(CopyFormat::Binary)
        .load_raw(conn);
    SELECT.with(|s| s.borrow_mut().clear());
    let count = {
        let mut rows = BinaryRows::new(started?).map_err(copy_error)?;
        let mut count = 0;
        let mut failed = None;
        while let Some(row) = rows.next_row().map_err(copy_error)? {
            if let Err(e) = each(&row) {
                // The rest is read and dropped, so that the connection can be used
                // again (one from the pool goes back to it).
                failed = Some(e);
                break;
            }
            count += 1;
        }
        rows.drain().map_err(copy_error)?;
        (count, failed)
    };
    conn_ready(conn)?;
    match count {
        (_, Some(e)) => Err(e),
        (count, None) => Ok(count),
    }
}

/// After a COPY's stream has ended: libpq holds the COPY's closing status until
/// it is asked for, and diesel's COPY reader never asks, so the connection's next
/// prepared statement would find it busy ("another command is already in
/// progress"). A simple query collects and discards it first.
fn conn_ready(conn: &mut PgConnection) -> Result<()> {
    conn.batch_execute("SELECT 1")?;
    Ok(())
}

fn copy_error(e: io::Error) -> Error {
    Error::Internal(format!("reading a COPY from PostgreSQL: {e}"))
}

/// The signature that opens PostgreSQL's binary COPY format.
const SIGNATURE: &[u8; 11] = b"PGCOPY\n\xff\r\n\0";

/// A binary COPY stream, row by row: a row is a 16-bit field count, then each
/// field as a 32-bit length (-1 for NULL) and its bytes; a count of -1 ends it.
struct BinaryRows<R> {
    src: R,
    /// Bytes received and not yet taken; the current row starts at `start`.
    buf: Vec<u8>,
    start: usize,
    /// The fields of the last row parsed, as ranges of `buf`.
    fields: Vec<Option<Range<usize>>>,
}

/// What the bytes at hand hold.
enum Parsed {
    /// A whole row of this many bytes.
    Row(usize),
    /// The trailer.
    End,
    /// Not yet a whole row.
    Short,
}

impl<R: BufRead> BinaryRows<R> {
    fn new(src: R) -> io::Result<Self> {
        let mut rows = BinaryRows {
            src,
            buf: Vec::with_capacity(1 << 16),
            start: 0,
            fields: Vec::new(),
        };
        // Signature, flags, then a header extension of the length given.
        rows.want(SIGNATURE.len() + 8)?;
        if &rows.buf[..SIGNATURE.len()] != SIGNATURE {
            return Err(io::Error::other("not PostgreSQL's binary COPY format"));
        }
        let extension = i32::from_be_bytes(rows.buf[15..19].try_into().expect("4 bytes"));
        let header = 19 + usize::try_from(extension).map_err(io::Error::other)?;
        rows.want(header)?;
        rows.start = header;
        Ok(rows)
    }

    /// Reads until `n` bytes from `start` are at hand.
    fn want(&mut self, n: usize) -> io::Result<()> {
        while self.buf.len() - self.start < n {
            self.more()?;
        }
        Ok(())
    }

    /// Moves the bytes not yet taken to the front and appends what the stream has.
    fn more(&mut self) -> io::Result<()> {
        self.buf.drain(..self.start);
        self.start = 0;
        let data = self.src.fill_buf()?;
        if data.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the COPY stream ended inside a row",
            ));
        }
        self.buf.extend_from_slice(data);
        let n = data.len();
        self.src.consume(n);
        Ok(())
    }

    /// Reads what follows the trailer until the stream ends (PostgreSQL's
    /// end of the COPY).
    fn drain(&mut self) -> io::Result<()> {
        loop {
            let n = self.src.fill_buf()?.len();
            if n == 0 {
                return Ok(());
            }
            self.src.consume(n);
        }
    }

    fn next_row(&mut self) -> io::Result<Option<CopyRow<'_>>> {
        loop {
            match self.parse()? {
                Parsed::Row(len) => {
                    let at = self.start;
                    self.start += len;
                    return Ok(Some(CopyRow {
                        data: &self.buf[at..at + len],
                        fields: &self.fields,
                    }));
                }
                Parsed::End => return Ok(None),
                Parsed::Short => self.more()?,
            }
        }
    }

    /// Parses the row at `start`, if it is all at hand, into `fields`.
    fn parse(&mut self) -> io::Result<Parsed> {
        let bytes = &self.buf[self.start..];
        let Some(count) = bytes.get(..2) else {
            return Ok(Parsed::Short);
        };
        let count = i16::from_be_bytes([count[0], count[1]]);
        if count == -1 {
            return Ok(Parsed::End);
        }
        let count = usize::try_from(count).map_err(io::Error::other)?;
        self.fields.clear();
        let mut at = 2;
        for _ in 0..count {
            let Some(len) = bytes.get(at..at + 4) else {
                return Ok(Parsed::Short);
            };
            let len = i32::from_be_bytes(len.try_into().expect("4 bytes"));
            at += 4;
            if len < 0 {
                self.fields.push(None);
                continue;
            }
            let end = at + len as usize;
            if end > bytes.len() {
                return Ok(Parsed::Short);
            }
            self.fields.push(Some(at..end));
            at = end;
        }
        Ok(Parsed::Row(at))
    }
}

/// One row of a binary COPY: its fields by position, typed by the caller, who
/// knows the SELECT.
pub(crate) struct CopyRow<'a> {
    data: &'a [u8],
    fields: &'a [Option<Range<usize>>],
}

impl<'a> CopyRow<'a> {
    fn field(&self, i: usize) -> Result<Option<&'a [u8]>> {
        match self.fields.get(i) {
            Some(range) => Ok(range.clone().map(|r| &self.data[r])),
            None => Err(Error::Internal(format!(
                "a COPY row has {} fields, not {}",
                self.fields.len(),
                i + 1
            ))),
        }
    }

    fn not_null(&self, i: usize) -> Result<&'a [u8]> {
        self.field(i)?
            .ok_or_else(|| Error::Internal(format!("COPY field {i} is NULL")))
    }

    /// A `bigint` field.
    pub fn i64(&self, i: usize) -> Result<i64> {
        let bytes = self.not_null(i)?;
        Ok(i64::from_be_bytes(bytes.try_into().map_err(|_| {
            Error::Internal(format!("COPY field {i} is not a bigint"))
        })?))
    }

    /// A `bigint` field that may be NULL.
    pub fn optional_i64(&self, i: usize) -> Result<Option<i64>> {
        match self.field(i)? {
            None => Ok(None),
            Some(_) => self.i64(i).map(Some),
        }
    }

    /// A `boolean` field.
    pub fn bool(&self, i: usize) -> Result<bool> {
        match self.not_null(i)? {
            [b] => Ok(*b != 0),
            _ => Err(Error::Internal(format!("COPY field {i} is not a boolean"))),
        }
    }

    /// An `integer` field.
    pub fn i32(&self, i: usize) -> Result<i32> {
        let bytes = self.not_null(i)?;
        Ok(i32::from_be_bytes(bytes.try_into().map_err(|_| {
            Error::Internal(format!("COPY field {i} is not an integer"))
        })?))
    }

    /// A `text` field that may be NULL.
    pub fn text(&self, i: usize) -> Result<Option<&'a str>> {
        self.field(i)?
            .map(|bytes| {
                std::str::from_utf8(bytes)
                    .map_err(|_| Error::Internal(format!("COPY field {i} is not UTF-8")))
            })
            .transpose()
    }

    /// A `text` field that is never NULL.
    pub fn required_text(&self, i: usize) -> Result<&'a str> {
        self.text(i)?
            .ok_or_else(|| Error::Internal(format!("COPY field {i} is NULL")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A binary COPY stream of `rows`, each field `None` (NULL) or bytes, cut into
    /// pieces of `piece` bytes as a connection might deliver it.
    fn stream(rows: &[Vec<Option<Vec<u8>>>], piece: usize) -> Vec<Vec<u8>> {
        let mut all = SIGNATURE.to_vec();
        all.extend(0i32.to_be_bytes());
        all.extend(4i32.to_be_bytes());
        all.extend([9, 9, 9, 9]);
        for row in rows {
            all.extend((row.len() as i16).to_be_bytes());
            for field in row {
                match field {
                    None => all.extend((-1i32).to_be_bytes()),
                    Some(bytes) => {
                        all.extend((bytes.len() as i32).to_be_bytes());
                        all.extend(bytes);
                    }
                }
            }
        }
        all.extend((-1i16).to_be_bytes());
        all.chunks(piece).map(<[u8]>::to_vec).collect()
    }

    /// Pieces handed out one `fill_buf` at a time.
    struct Pieces(std::collections::VecDeque<Vec<u8>>, usize);

    impl io::Read for Pieces {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            unreachable!("read through fill_buf")
        }
    }

    impl BufRead for Pieces {
        fn fill_buf(&mut self) -> io::Result<&[u8]> {
            while self.0.front().is_some_and(|p| self.1 == p.len()) {
                self.0.pop_front();
                self.1 = 0;
            }
            Ok(self.0.front().map_or(&[][..], |p| &p[self.1..]))
        }
        fn consume(&mut self, n: usize) {
            self.1 += n;
        }
    }

    #[test]
    fn rows_are_read_whole_however_the_stream_is_cut() {
        let rows = vec![
            vec![
                Some(7i64.to_be_bytes().to_vec()),
                Some("Late delivery, \"twice\"".as_bytes().to_vec()),
                None,
                Some(3i32.to_be_bytes().to_vec()),
            ],
            vec![
                Some(8i64.to_be_bytes().to_vec()),
                Some(Vec::new()),
                Some("Åre".as_bytes().to_vec()),
                Some((-2i32).to_be_bytes().to_vec()),
            ],
        ];
        for piece in [1, 2, 3, 7, 1000] {
            let mut read = BinaryRows::new(Pieces(stream(&rows, piece).into(), 0)).unwrap();
            let mut seen = Vec::new();
            while let Some(row) = read.next_row().unwrap() {
                seen.push((
                    row.i64(0).unwrap(),
                    row.required_text(1).unwrap().to_string(),
                    row.text(2).unwrap().map(str::to_string),
                    row.i32(3).unwrap(),
                ));
                assert!(row.i64(1).is_err() && row.i64(4).is_err());
            }
            assert_eq!(
                seen,
                [
                    (7, "Late delivery, \"twice\"".into(), None, 3),
                    (8, String::new(), Some("Åre".into()), -2)
                ],
                "pieces of {piece} bytes"
            );
        }
    }

    #[test]
    fn a_stream_cut_inside_a_row_is_an_error() {
        let rows = vec![vec![Some(7i64.to_be_bytes().to_vec())]];
        let mut pieces = stream(&rows, 1000).concat();
        pieces.truncate(pieces.len() - 5);
        let mut read = BinaryRows::new(Pieces(vec![pieces].into(), 0)).unwrap();
        assert!(read.next_row().is_err());
    }
}
