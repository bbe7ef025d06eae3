//! Exports for spreadsheets, R and pandas: a survey's ranked areas, its mentions
//! (one row each, the customer's text exactly as written) and its responses, as
//! CSV written to any `Write` (a file for `pds export`, an HTTP body for the API).
//!
//! - Mentions and responses stream: they are read in pages by id (keyset
//!   pagination, never OFFSET) and each page is written before the next is read,
//!   so memory stays flat however large the survey is. On PostgreSQL the mentions
//!   come instead in one binary `COPY (SELECT ...) TO STDOUT`, written row by row
//!   as they arrive (`../copy_out.rs`).
//! - Every text cell goes through [`spreadsheet_safe`]; numbers are written as
//!   numbers. The Excel dialect (a UTF-8 BOM, `;` between cells, a decimal comma in
//!   numeric cells only, CRLF) is what a Swedish Excel opens as columns and numbers.
//! - No export carries a contact's email address or name: exports end up in
//!   spreadsheets that travel. Respondents are identified by response id and
//!   described by their segment columns only.
//!
//! The ranked areas are those of `pds results`, laid out by its CSV writer; this
//! room only adds the dialect.
//!
//! Here: what is exported and how it is spelled, the one read transaction, and
//! the ranked areas; the mention and response rows, streamed page by page with
//! their segment columns, are `rows.rs`.

mod rows;

use std::io::{BufWriter, Write};
use std::ops::ControlFlow;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use super::{Format, Options};
use crate::db::schema::responses;
use crate::db::AnyConnection;
use crate::error::{Error, Result};
use crate::survey::{store as survey_store, StoredSurvey, WaveLabel};
use rows::{rows_csv, MentionRow, ResponseRow, Scope};

/// Rows read per query: large enough that the round trips do not show, small
/// enough that a page is a few megabytes at most.
pub const PAGE: i64 = 10_000;

/// What to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Export {
    /// The ranked areas with every figure of `pds results --format csv`.
    Areas,
    /// One row per mention.
    Mentions,
    /// One row per response.
    Responses,
}

/// How the CSV is spelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    /// RFC 4180 with `,`, `.` decimals and LF line ends (R, pandas, LibreOffice).
    #[default]
    Standard,
    /// What a Swedish Excel opens correctly: UTF-8 BOM, `;`, decimal comma, CRLF.
    Excel,
}

/// An export asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportOptions {
    pub what: Export,
    /// Only this wave; all waves when `None`.
    pub wave: Option<WaveLabel>,
    pub dialect: Dialect,
}

/// What was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exported {
    /// Data rows, without the header.
    pub rows: u64,
}

/// Progress of an export: `(done, total)` in rows (bootstrap replicates for areas).
/// `None` when nobody watches: a mention or response export then does not count
/// its rows before it starts (a join of the whole scope: about 2 s of a
/// million-respondent export on PostgreSQL).
pub type OnProgress<'a> = Option<&'a (dyn Fn(u64, u64) + Sync)>;

/// Writes the export `options` asks for to `out`, page by page.
pub fn export(
    conn: &mut AnyConnection,
    survey: &StoredSurvey,
    options: &ExportOptions,
    out: impl Write,
    progress: OnProgress,
) -> Result<Exported> {
    let wave_id = match &options.wave {
        Some(label) => Some(survey_store::existing_wave(conn, survey, label)?.id),
        None => None,
    };
    let scope = Scope {
        survey_id: survey.id,
        wave_id,
        survey_as_expression: matches!(conn, AnyConnection::Sqlite(_)),
    };
    let mut out = BufWriter::with_capacity(1 << 16, out);
    if options.dialect == Dialect::Excel {
        // The BOM is how Excel knows the file is UTF-8 and not the ANSI code page.
        out.write_all("\u{feff}".as_bytes()).map_err(io)?;
    }
    // One read transaction, so that every page sees the same data: answers and
    // coding that arrive during the export are in the next file, not half in this
    // one. PostgreSQL needs REPEATABLE READ for that; SQLite's is a snapshot anyway.
    let exported = conn.transaction::<_, Error, _>(|conn| {
        if let AnyConnection::Postgresql(_) = conn {
            // No JIT: the mention export's one COPY is costed high enough for
            // PostgreSQL to compile it, which took seconds of the export and
            // saves nothing on a join and a sort (`copy_out.rs`).
            conn.batch_execute(
                "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY; SET LOCAL jit = off",
            )?;
        }
        match options.what {
            Export::Areas => areas_csv(conn, survey, options, &mut out, progress),
            Export::Mentions => {
                rows_csv::<MentionRow>(conn, survey, scope, options.dialect, &mut out, progress)
            }
            Export::Responses => {
                rows_csv::<ResponseRow>(conn, survey, scope, options.dialect, &mut out, progress)
            }
        }
    })?;
    out.flush().map_err(io)?;
    Ok(exported)
}

type PageSurveyId = diesel::dsl::Add<responses::survey_id, diesel::dsl::AsExprOf<i64, BigInt>>;

/// The survey id of a page query, kept from steering the plan. Compared as
/// `survey_id + 0`, it cannot pick the `(survey_id, wave_id)` index, so the page is
/// read by walking the primary key from the last id (the LIMIT stops the walk)
/// instead of finding every row of the survey and sorting them for each page: on
/// SQLite that sort made a 1M-mention export quadratic (26 s instead of ~2 s).
/// PostgreSQL compares the column itself (see `Scope::survey_as_expression`).
fn page_survey_id() -> PageSurveyId {
    responses::survey_id + 0_i64
}

fn io(e: std::io::Error) -> Error {
    Error::io("<export>", e)
}

fn csv_error(e: csv::Error) -> Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => io(e),
        other => Error::Internal(format!("writing CSV: {other:?}")),
    }
}

fn writer<W: Write>(out: W, dialect: Dialect) -> csv::Writer<W> {
    let (delimiter, terminator) = match dialect {
        Dialect::Standard => (b',', csv::Terminator::Any(b'\n')),
        Dialect::Excel => (b';', csv::Terminator::CRLF),
    };
    csv::WriterBuilder::new()
        .delimiter(delimiter)
        .terminator(terminator)
        .from_writer(out)
}

/// A number in the dialect's spelling: `0.25`, or `0,25` for Excel.
fn decimal(value: &str, dialect: Dialect) -> std::borrow::Cow<'_, str> {
    match dialect {
        Dialect::Excel if value.contains('.') => value.replace('.', ",").into(),
        _ => value.into(),
    }
}

/// Columns of the results CSV that hold text (labels, names, methods): they are
/// never given a decimal comma, whatever they look like.
fn is_text_column(name: &str) -> bool {
    matches!(
        name,
        "area"
            | "grouping"
            | "survey"
            | "wave"
            | "section"
            | "segment_attribute"
            | "segment"
            | "compare_wave"
            | "adjustment"
    ) || name.ends_with("method")
}

/// The ranked areas, as `pds results --format csv` writes them (the default
/// analysis: default bootstrap and seed), respelled for the dialect.
fn areas_csv(
    conn: &mut AnyConnection,
    survey: &StoredSurvey,
    options: &ExportOptions,
    out: &mut impl Write,
    progress: OnProgress,
) -> Result<Exported> {
    let results = super::compute(
        conn,
        survey,
        &Options {
            wave: options.wave.clone(),
            ..Options::default()
        },
        &|p| {
            if let Some(progress) = progress {
                progress(u64::from(p.done), u64::from(p.total));
            }
            ControlFlow::Continue(())
        },
    )?;
    let rows = results.areas.len() as u64;
    if options.dialect == Dialect::Standard {
        super::write(&results, Format::Csv, out)?;
        return Ok(Exported { rows });
    }
    // The results of one survey are small (one row per area and section), so they
    // are laid out once in memory and then respelled cell by cell.
    let mut standard = Vec::new();
    super::write(&results, Format::Csv, &mut standard)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(standard.as_slice());
    let mut w = writer(out, options.dialect);
    let mut text_columns = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| Error::Internal(format!("reading results CSV: {e}")))?;
        if i == 0 {
            text_columns = record.iter().map(is_text_column).collect();
            w.write_record(&record).map_err(csv_error)?;
            continue;
        }
        for (cell, text) in record
            .iter()
            .zip(text_columns.iter().chain(std::iter::repeat(&true)))
        {
            if !text && cell.parse::<f64>().is_ok() {
                w.write_field(decimal(cell, options.dialect).as_bytes())
                    .map_err(csv_error)?;
            } else {
                w.write_field(cell).map_err(csv_error)?;
            }
        }
        w.write_record(None::<&[u8]>).map_err(csv_error)?;
    }
    w.flush().map_err(io)?;
    Ok(Exported { rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excel_numbers_get_a_decimal_comma_and_text_keeps_its_points() {
        assert_eq!(decimal("0.25", Dialect::Excel), "0,25");
        assert_eq!(decimal("0.25", Dialect::Standard), "0.25");
        assert_eq!(decimal("12", Dialect::Excel), "12");
        assert!(is_text_column("area"));
        assert!(is_text_column("bootstrap_method"));
        assert!(!is_text_column("score"));
    }
}
