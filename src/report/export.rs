//! Exports for spreadsheets, R and pandas: a survey's ranked areas, its mentions
//! (one row each, the customer's text exactly as written) and its responses, as
//! CSV written to any `Write` (a file for `pds export`, an HTTP body for the API).
//!
//! - Mentions and responses stream: they are read in pages by id (keyset
//!   pagination, never OFFSET) and each page is written before the next is read,
//!   so memory stays flat however large the survey is.
//! - Every text cell goes through [`spreadsheet_safe`]; numbers are written as
//!   numbers. The Excel dialect (a UTF-8 BOM, `;` between cells, a decimal comma in
//!   numeric cells only, CRLF) is what a Swedish Excel opens as columns and numbers.
//! - No export carries a contact's email address or name: exports end up in
//!   spreadsheets that travel. Respondents are identified by response id and
//!   described by their segment columns only.
//!
//! The ranked areas are those of `pds results`, laid out by its CSV writer; this
//! room only adds the dialect.

use std::collections::{BTreeSet, HashMap};
use std::io::{BufWriter, Write};
use std::ops::ControlFlow;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use super::{spreadsheet_safe, Format, Options};
use crate::db::schema::{areas, mentions, responses};
use crate::db::AnyConnection;
use crate::error::{Error, Result};
use crate::survey::{store as survey_store, StoredSurvey, SurveyError, WaveLabel};

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
pub type OnProgress<'a> = &'a (dyn Fn(u64, u64) + Sync);

/// Writes the export `options` asks for to `out`, page by page.
pub fn export(
    conn: &mut AnyConnection,
    survey: &StoredSurvey,
    options: &ExportOptions,
    out: impl Write,
    progress: OnProgress,
) -> Result<Exported> {
    let wave_id = match &options.wave {
        Some(label) => Some(
            survey_store::find_wave(conn, survey.id, label)?
                .ok_or_else(|| {
                    Error::from(SurveyError::UnknownWave {
                        survey: survey.slug.clone(),
                        wave: label.to_string(),
                    })
                })?
                .id,
        ),
        None => None,
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
            conn.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
        }
        match options.what {
            Export::Areas => areas_csv(conn, survey, options, &mut out, progress),
            Export::Mentions => {
                mentions_csv(conn, survey, wave_id, options.dialect, &mut out, progress)
            }
            Export::Responses => {
                responses_csv(conn, survey, wave_id, options.dialect, &mut out, progress)
            }
        }
    })?;
    out.flush().map_err(io)?;
    Ok(exported)
}

/// The survey id of a page query, kept from steering the plan. Compared as
/// `survey_id + 0`, it cannot pick the `(survey_id, wave_id)` index, so the page is
/// read by walking the primary key from the last id (the LIMIT stops the walk)
/// instead of finding every row of the survey and sorting them for each page: on
/// SQLite that sort made a 1M-mention export quadratic (26 s instead of ~2 s).
/// PostgreSQL walks the primary key either way.
fn page_survey_id() -> diesel::dsl::Add<responses::survey_id, diesel::dsl::AsExprOf<i64, BigInt>> {
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
            progress(u64::from(p.done), u64::from(p.total));
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

/// Segment columns as text; values that are not strings keep their JSON spelling.
fn attributes(json: &str) -> std::collections::BTreeMap<String, String> {
    super::load::parse_attributes(json)
}

/// The segment keys of the responses in scope, sorted, read page by page.
fn segment_keys(
    conn: &mut AnyConnection,
    survey_id: i64,
    wave_id: Option<i64>,
) -> Result<Vec<String>> {
    let mut keys = BTreeSet::new();
    let mut last = 0i64;
    loop {
        let mut query = responses::table
            .filter(page_survey_id().eq(survey_id))
            .filter(responses::id.gt(last))
            .order(responses::id)
            .limit(PAGE)
            .select((responses::id, responses::attributes))
            .into_boxed();
        if let Some(w) = wave_id {
            query = query.filter(responses::wave_id.eq(w));
        }
        let page: Vec<(i64, String)> = query.load(conn)?;
        let Some((id, _)) = page.last() else {
            break;
        };
        last = *id;
        for (_, json) in &page {
            if json != "{}" {
                keys.extend(attributes(json).into_keys());
            }
        }
    }
    Ok(keys.into_iter().collect())
}

/// Header names for the segment columns: the key itself, unless it would repeat a
/// fixed column's name.
fn segment_headers(keys: &[String], fixed: &[&str]) -> Vec<String> {
    keys.iter()
        .map(|k| {
            if fixed.contains(&k.as_str()) {
                spreadsheet_safe(&format!("segment_{k}"))
            } else {
                spreadsheet_safe(k)
            }
        })
        .collect()
}

fn wave_labels(conn: &mut AnyConnection, survey_id: i64) -> Result<HashMap<i64, String>> {
    Ok(survey_store::waves_of(conn, survey_id)?
        .into_iter()
        .map(|w| (w.id, spreadsheet_safe(&w.label)))
        .collect())
}

/// The segment cells of one response, in the order of `keys`; parsed once per
/// response, not once per mention.
struct SegmentCells {
    response_id: i64,
    cells: Vec<String>,
}

impl SegmentCells {
    fn of(&mut self, response_id: i64, json: &str, keys: &[String]) -> &[String] {
        if response_id != self.response_id {
            let mut values = attributes(json);
            self.cells.clear();
            self.cells.extend(keys.iter().map(|k| {
                values
                    .remove(k)
                    .map(|v| spreadsheet_safe(&v))
                    .unwrap_or_default()
            }));
            self.response_id = response_id;
        }
        &self.cells
    }
}

const MENTION_COLUMNS: [&str; 4] = ["survey", "wave", "response_id", "mention_id"];
const MENTION_COLUMNS_AFTER: [&str; 6] = [
    "rank",
    "text",
    "frequency",
    "may_contact",
    "area",
    "coded_by",
];

/// One mention as exported, with its response's wave and segment columns.
#[derive(Queryable)]
struct MentionRow {
    id: i64,
    response_id: i64,
    wave_id: i64,
    attributes: String,
    rank: i32,
    text: String,
    frequency: Option<String>,
    may_contact: i32,
    /// The label of its area, once coded.
    area: Option<String>,
    coded_by: Option<String>,
}

fn mentions_csv(
    conn: &mut AnyConnection,
    survey: &StoredSurvey,
    wave_id: Option<i64>,
    dialect: Dialect,
    out: &mut impl Write,
    progress: OnProgress,
) -> Result<Exported> {
    let keys = segment_keys(conn, survey.id, wave_id)?;
    let waves = wave_labels(conn, survey.id)?;
    let total = {
        let mut query = mentions::table
            .inner_join(responses::table)
            .filter(responses::survey_id.eq(survey.id))
            .select(diesel::dsl::count_star())
            .into_boxed();
        if let Some(w) = wave_id {
            query = query.filter(responses::wave_id.eq(w));
        }
        query.first::<i64>(conn)?.max(0) as u64
    };
    progress(0, total);

    let mut w = writer(out, dialect);
    let fixed: Vec<&str> = MENTION_COLUMNS
        .iter()
        .chain(MENTION_COLUMNS_AFTER.iter())
        .copied()
        .collect();
    let mut header: Vec<String> = MENTION_COLUMNS.iter().map(|c| c.to_string()).collect();
    header.extend(segment_headers(&keys, &fixed));
    header.extend(MENTION_COLUMNS_AFTER.iter().map(|c| c.to_string()));
    w.write_record(&header).map_err(csv_error)?;

    let survey_cell = spreadsheet_safe(&survey.slug);
    let mut segments = SegmentCells {
        response_id: 0,
        cells: Vec::new(),
    };
    let mut rows = 0u64;
    let mut last = 0i64;
    loop {
        let mut query = mentions::table
            .inner_join(responses::table)
            .left_join(areas::table)
            .filter(page_survey_id().eq(survey.id))
            .filter(mentions::id.gt(last))
            .order(mentions::id)
            .limit(PAGE)
            .select((
                mentions::id,
                mentions::response_id,
                responses::wave_id,
                responses::attributes,
                mentions::rank,
                mentions::text,
                mentions::frequency,
                mentions::may_contact,
                areas::label.nullable(),
                mentions::coded_by,
            ))
            .into_boxed();
        if let Some(wave) = wave_id {
            query = query.filter(responses::wave_id.eq(wave));
        }
        let page: Vec<MentionRow> = query.load(conn)?;
        let Some(tail) = page.last() else {
            break;
        };
        last = tail.id;
        let mut number = Number::default();
        for m in &page {
            w.write_field(&survey_cell).map_err(csv_error)?;
            w.write_field(waves.get(&m.wave_id).map(String::as_str).unwrap_or(""))
                .map_err(csv_error)?;
            w.write_field(number.format(m.response_id))
                .map_err(csv_error)?;
            w.write_field(number.format(m.id)).map_err(csv_error)?;
            for cell in segments.of(m.response_id, &m.attributes, &keys) {
                w.write_field(cell).map_err(csv_error)?;
            }
            w.write_field(number.format(m.rank)).map_err(csv_error)?;
            w.write_field(spreadsheet_safe(&m.text))
                .map_err(csv_error)?;
            w.write_field(
                m.frequency
                    .as_deref()
                    .map(spreadsheet_safe)
                    .unwrap_or_default(),
            )
            .map_err(csv_error)?;
            w.write_field(if m.may_contact != 0 { "true" } else { "false" })
                .map_err(csv_error)?;
            w.write_field(m.area.as_deref().map(spreadsheet_safe).unwrap_or_default())
                .map_err(csv_error)?;
            w.write_field(
                m.coded_by
                    .as_deref()
                    .map(spreadsheet_safe)
                    .unwrap_or_default(),
            )
            .map_err(csv_error)?;
            w.write_record(None::<&[u8]>).map_err(csv_error)?;
        }
        rows += page.len() as u64;
        progress(rows, total.max(rows));
    }
    w.flush().map_err(io)?;
    Ok(Exported { rows })
}

const RESPONSE_COLUMNS: [&str; 8] = [
    "survey",
    "wave",
    "response_id",
    "source",
    "submitted_at",
    "updated_at",
    "no_problems",
    "mentions",
];

/// One response as exported.
#[derive(Queryable)]
struct ResponseRow {
    id: i64,
    wave_id: i64,
    /// `None` for an imported answer.
    invitation_id: Option<i64>,
    attributes: String,
    no_problems: i32,
    submitted_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
}

fn responses_csv(
    conn: &mut AnyConnection,
    survey: &StoredSurvey,
    wave_id: Option<i64>,
    dialect: Dialect,
    out: &mut impl Write,
    progress: OnProgress,
) -> Result<Exported> {
    let keys = segment_keys(conn, survey.id, wave_id)?;
    let waves = wave_labels(conn, survey.id)?;
    let total = {
        let mut query = responses::table
            .filter(responses::survey_id.eq(survey.id))
            .select(diesel::dsl::count_star())
            .into_boxed();
        if let Some(w) = wave_id {
            query = query.filter(responses::wave_id.eq(w));
        }
        query.first::<i64>(conn)?.max(0) as u64
    };
    progress(0, total);

    let mut w = writer(out, dialect);
    let mut header: Vec<String> = RESPONSE_COLUMNS.iter().map(|c| c.to_string()).collect();
    header.extend(segment_headers(&keys, &RESPONSE_COLUMNS));
    w.write_record(&header).map_err(csv_error)?;

    let survey_cell = spreadsheet_safe(&survey.slug);
    let mut segments = SegmentCells {
        response_id: 0,
        cells: Vec::new(),
    };
    let mut rows = 0u64;
    let mut last = 0i64;
    loop {
        let mut query = responses::table
            .filter(page_survey_id().eq(survey.id))
            .filter(responses::id.gt(last))
            .order(responses::id)
            .limit(PAGE)
            .select((
                responses::id,
                responses::wave_id,
                responses::invitation_id,
                responses::attributes,
                responses::no_problems,
                responses::submitted_at,
                responses::updated_at,
            ))
            .into_boxed();
        if let Some(wave) = wave_id {
            query = query.filter(responses::wave_id.eq(wave));
        }
        let page: Vec<ResponseRow> = query.load(conn)?;
        let Some(tail) = page.last() else {
            break;
        };
        last = tail.id;
        let ids: Vec<i64> = page.iter().map(|r| r.id).collect();
        let counts: HashMap<i64, i64> = mentions::table
            .filter(mentions::response_id.eq_any(&ids))
            .group_by(mentions::response_id)
            .select((mentions::response_id, diesel::dsl::count_star()))
            .load::<(i64, i64)>(conn)?
            .into_iter()
            .collect();
        let mut number = Number::default();
        for r in &page {
            w.write_field(&survey_cell).map_err(csv_error)?;
            w.write_field(waves.get(&r.wave_id).map(String::as_str).unwrap_or(""))
                .map_err(csv_error)?;
            w.write_field(number.format(r.id)).map_err(csv_error)?;
            w.write_field(if r.invitation_id.is_some() {
                "form"
            } else {
                "import"
            })
            .map_err(csv_error)?;
            w.write_field(timestamp(&r.submitted_at))
                .map_err(csv_error)?;
            w.write_field(timestamp(&r.updated_at)).map_err(csv_error)?;
            w.write_field(if r.no_problems != 0 { "true" } else { "false" })
                .map_err(csv_error)?;
            w.write_field(number.format(counts.get(&r.id).copied().unwrap_or(0)))
                .map_err(csv_error)?;
            for cell in segments.of(r.id, &r.attributes, &keys) {
                w.write_field(cell).map_err(csv_error)?;
            }
            w.write_record(None::<&[u8]>).map_err(csv_error)?;
        }
        rows += page.len() as u64;
        progress(rows, total.max(rows));
    }
    w.flush().map_err(io)?;
    Ok(Exported { rows })
}

/// Formats numbers into one reused buffer: a million rows need no million
/// small allocations per numeric column.
#[derive(Default)]
struct Number(String);

impl Number {
    fn format(&mut self, value: impl std::fmt::Display) -> &str {
        use std::fmt::Write as _;
        self.0.clear();
        let _ = write!(self.0, "{value}");
        &self.0
    }
}

/// UTC, in the spelling every spreadsheet reads as a date and time.
fn timestamp(t: &chrono::NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
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

    #[test]
    fn segment_columns_never_repeat_a_fixed_column() {
        let keys = vec!["wave".to_string(), "region".to_string(), "=cmd".to_string()];
        assert_eq!(
            segment_headers(&keys, &RESPONSE_COLUMNS),
            ["segment_wave", "region", "'=cmd"]
        );
    }
}
