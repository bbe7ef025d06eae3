//! Reading a responses file: its header, then its rows as trimmed text fields,
//! one reused record and no string per field. Checks nothing but the CSV and
//! its encoding; what a field must hold is the business of `check`.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};

use crate::invite::{header_names, ImportError};

const REQUIRED: [&str; 5] = ["respondent", "wave", "segment", "rank", "problem"];
const OPTIONAL: [&str; 1] = ["area"];
/// Bytes read from the file at a time (the CSV reader's default is 8 KiB).
const READ_BUFFER: usize = 256 * 1024;

/// Where each column is.
struct Columns {
    respondent: usize,
    wave: usize,
    segment: usize,
    rank: usize,
    problem: usize,
    area: Option<usize>,
}

/// One row's fields, trimmed (the area empty when the file has no such column).
pub(super) struct Fields<'r> {
    pub respondent: &'r str,
    pub wave: &'r str,
    pub segment: &'r str,
    pub rank: &'r str,
    pub problem: &'r str,
    pub area: &'r str,
}

/// What went wrong with a row that is not even CSV (or not UTF-8): the line and why.
pub(super) struct RowError {
    pub line: u32,
    pub message: String,
    /// The file could not be read further.
    pub fatal: bool,
}

/// The rows of a responses file, read one at a time into one record.
pub(super) struct Rows<R> {
    csv: csv::Reader<R>,
    record: csv::ByteRecord,
    columns: Columns,
}

impl<R: Read> Rows<R> {
    /// Reads the header; says what to fix if the columns are not those of the format.
    pub(super) fn open(reader: R, file: &str) -> Result<Self, ImportError> {
        let mut csv = csv::ReaderBuilder::new()
            .flexible(false)
            .buffer_capacity(READ_BUFFER)
            .from_reader(reader);
        let headers: Vec<String> = header_names(&mut csv, file)?
            .iter()
            .map(|h| h.trim().to_lowercase())
            .collect();
        let columns = columns(&headers).map_err(|reason| ImportError::header(file, reason))?;
        Ok(Rows {
            csv,
            record: csv::ByteRecord::new(),
            columns,
        })
    }

    /// Moves to the next row and gives its line, `None` at the end of the file.
    pub(super) fn next(&mut self) -> Result<Option<u32>, RowError> {
        match self.csv.read_byte_record(&mut self.record) {
            Ok(true) => line_of(self.record.position().map_or(0, |p| p.line())),
            Ok(false) => Ok(None),
            Err(e) => Err(RowError {
                line: e
                    .position()
                    .map_or(0, |p| p.line())
                    .min(u64::from(u32::MAX)) as u32,
                fatal: matches!(e.kind(), csv::ErrorKind::Io(_)),
                message: e.to_string(),
            }),
        }
    }

    /// The current row's fields, or which one is not UTF-8.
    pub(super) fn fields(&self) -> Result<Fields<'_>, String> {
        let field = |i: usize| -> Result<&str, String> {
            let bytes = self.record.get(i).unwrap_or_default();
            std::str::from_utf8(bytes)
                .map(str::trim)
                .map_err(|_| format!("field {} is not UTF-8 text; save the file as UTF-8", i + 1))
        };
        let c = &self.columns;
        Ok(Fields {
            respondent: field(c.respondent)?,
            wave: field(c.wave)?,
            segment: field(c.segment)?,
            rank: field(c.rank)?,
            problem: field(c.problem)?,
            area: match c.area {
                Some(i) => field(i)?,
                None => "",
            },
        })
    }

    /// How far into the file the reading is, in bytes.
    pub(super) fn byte(&self) -> u64 {
        self.csv.position().byte()
    }
}

/// Lines are kept as 32-bit numbers (a file of more lines would be over 40 GB).
fn line_of(line: u64) -> Result<Option<u32>, RowError> {
    u32::try_from(line).map(Some).map_err(|_| RowError {
        line: u32::MAX,
        message: "the file has more than 4,294,967,295 lines; split it into several files".into(),
        fatal: true,
    })
}

fn columns(headers: &[String]) -> Result<Columns, String> {
    let mut column: HashMap<&str, usize> = HashMap::new();
    for (i, h) in headers.iter().enumerate() {
        let Some(name) = REQUIRED.iter().chain(&OPTIONAL).find(|c| **c == h) else {
            return Err(format!(
                "unknown column {h:?}; the columns are respondent,wave,segment,rank,problem and optionally area"
            ));
        };
        if column.insert(name, i).is_some() {
            return Err(format!("column {h:?} appears twice"));
        }
    }
    let missing: Vec<&str> = REQUIRED
        .iter()
        .filter(|c| !column.contains_key(*c))
        .copied()
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "missing column(s) {}; the first line must name the columns respondent,wave,segment,rank,problem (and optionally area)",
            missing.join(",")
        ));
    }
    Ok(Columns {
        respondent: column["respondent"],
        wave: column["wave"],
        segment: column["segment"],
        rank: column["rank"],
        problem: column["problem"],
        area: column.get("area").copied(),
    })
}

/// The file's length in bytes, if it can be found; the reading stays at the start.
pub(super) fn length(reader: &mut impl Seek) -> Option<u64> {
    let length = reader.seek(SeekFrom::End(0)).ok();
    reader.seek(SeekFrom::Start(0)).ok().and(length)
}

/// Back to the start of the file, for the second reading.
pub(super) fn rewind(reader: &mut impl Seek, file: &str) -> Result<(), ImportError> {
    reader
        .seek(SeekFrom::Start(0))
        .map(|_| ())
        .map_err(|e| ImportError::header(file, format!("cannot read it a second time: {e}")))
}

/// Rows the reading thread of [`read_ahead`] hands on at a time.
const CHUNK_ROWS: usize = 4_096;

/// Chunks read ahead of the caller at most.
const CHUNKS_AHEAD: usize = 4;

/// A row as [`read_ahead`] hands it on.
pub(super) enum Row<'c> {
    /// A row's fields, its line, and how far into the file the reading was after it.
    Fields {
        line: u32,
        fields: Fields<'c>,
        byte: u64,
    },
    /// A row that is not CSV or not UTF-8 (fatal: the reading stopped there).
    Error(&'c RowError),
}

/// What the reading thread found in one row: the fields' ends in its chunk's
/// `texts`, or what went wrong.
enum Found {
    Fields {
        line: u32,
        ends: [usize; 6],
        byte: u64,
    },
    Error(RowError),
}

/// Rows on their way from the reading thread: each row's six fields one after
/// the other in `texts`.
#[derive(Default)]
struct FieldChunk {
    texts: String,
    rows: Vec<Found>,
}

impl FieldChunk {
    fn push_fields(&mut self, line: u32, fields: &Fields, byte: u64) {
        let mut ends = [0; 6];
        let all = [
            fields.respondent,
            fields.wave,
            fields.segment,
            fields.rank,
            fields.problem,
            fields.area,
        ];
        for (end, field) in ends.iter_mut().zip(all) {
            self.texts.push_str(field);
            *end = self.texts.len();
        }
        self.rows.push(Found::Fields { line, ends, byte });
    }

    /// Calls `f` with each row until it returns false; whether it never did.
    fn each(&self, f: &mut impl FnMut(Row) -> bool) -> bool {
        let mut start = 0;
        for found in &self.rows {
            let go_on = match found {
                Found::Fields { line, ends, byte } => {
                    let field = |i: usize| {
                        let from = if i == 0 { start } else { ends[i - 1] };
                        &self.texts[from..ends[i]]
                    };
                    let go_on = f(Row::Fields {
                        line: *line,
                        fields: Fields {
                            respondent: field(0),
                            wave: field(1),
                            segment: field(2),
                            rank: field(3),
                            problem: field(4),
                            area: field(5),
                        },
                        byte: *byte,
                    });
                    start = ends[5];
                    go_on
                }
                Found::Error(e) => f(Row::Error(e)),
            };
            if !go_on {
                return false;
            }
        }
        true
    }
}

/// Reads every row of the file (its header first, on the caller's thread) and
/// calls `f` with each, in order, until `f` returns false. The CSV is read, decoded and split into trimmed
/// fields on a thread of its own, a chunk of rows ahead, so that the caller's
/// checks of a row overlap with the reading of the next (reading is about half
/// the work of the first reading of a large file).
pub(super) fn read_ahead<R: Read + Send>(
    reader: R,
    file: &str,
    mut f: impl FnMut(Row) -> bool,
) -> Result<(), ImportError> {
    use std::sync::mpsc::sync_channel;
    let mut rows = Rows::open(reader, file)?;
    let (chunks, arriving) = sync_channel::<FieldChunk>(CHUNKS_AHEAD);
    // Chunks go back to the reading thread to be filled again.
    let (used, reusable) = sync_channel::<FieldChunk>(CHUNKS_AHEAD + 2);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut chunk = FieldChunk::default();
            loop {
                let end = match rows.next() {
                    Ok(Some(line)) => {
                        match rows.fields() {
                            Ok(fields) => chunk.push_fields(line, &fields, rows.byte()),
                            Err(message) => chunk.rows.push(Found::Error(RowError {
                                line,
                                message,
                                fatal: false,
                            })),
                        }
                        false
                    }
                    Ok(None) => true,
                    Err(e) => {
                        let fatal = e.fatal;
                        chunk.rows.push(Found::Error(e));
                        fatal
                    }
                };
                if end || chunk.rows.len() >= CHUNK_ROWS {
                    let next = reusable.try_recv().unwrap_or_default();
                    let full = std::mem::replace(&mut chunk, next);
                    if chunks.send(full).is_err() || end {
                        return;
                    }
                }
            }
        });
        for chunk in arriving.iter() {
            if !chunk.each(&mut f) {
                break;
            }
            let mut chunk = chunk;
            chunk.texts.clear();
            chunk.rows.clear();
            let _ = used.try_send(chunk);
        }
        // A caller that stopped: the reading thread's next chunk finds no one.
        drop(arriving);
    });
    Ok(())
}
