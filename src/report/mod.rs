//! Results for analysts: gathers a survey's responses from the database, hands them
//! to `stats` (docs/METHOD.md §3-§7) and lays the answers out as a terminal table,
//! CSV or JSON. Every figure is computed in `stats`; this room only decides which
//! respondents are in scope, names the method and n beside each figure, and never
//! shows a rank without its bootstrap rank interval (docs/METHOD.md §5).

mod areas;
pub mod charts;
pub mod checklist;
mod compute;
pub mod context;
mod copy_out;
mod csv_out;
pub(crate) mod error;
pub mod export;
pub mod freshness;
mod load;
mod results;
pub mod summary;
mod table;
pub mod xlsx;

use std::io::Write;
use std::ops::ControlFlow;

pub use areas::{group, grouping_of, Area, Grouping, StoredMention, TEXT_GROUPING};
pub use compute::{compute, compute_beside, waves_asked};
pub use error::ViewError;
pub use export::{export, Dialect, Export, ExportOptions, Exported, OnProgress};
pub use results::*;

use crate::db::AnyConnection;
use crate::error::{Error, Result};
use crate::survey::{StoredSurvey, WaveLabel};

/// How mentions are grouped into areas (`pds code`); kept for callers of the spine.
pub const GROUPING: &str = TEXT_GROUPING;
/// The frequency interval: Wilson score, 95% (docs/METHOD.md §5).
pub const FREQUENCY_CI: &str = "wilson-95";
/// The importance interval: Student-t, 95%, over those who mention the area.
pub const IMPORTANCE_CI: &str = "student-t-95";

/// The default analysis of a survey, or one wave of it (what the demo shows).
pub fn results(
    conn: &mut AnyConnection,
    survey: &StoredSurvey,
    wave: Option<&WaveLabel>,
) -> Result<Results> {
    let options = Options {
        wave: wave.cloned(),
        ..Options::default()
    };
    compute(conn, survey, &options, &|_| ControlFlow::Continue(()))
}

/// Output formats of `pds results`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
}

/// Writes the results in `format`. CSV and JSON keep full precision.
pub fn write(results: &Results, format: Format, out: &mut dyn Write) -> Result<()> {
    write_as(results, format, out, csv_out::write, table::write)
}

/// Writes `results` as pretty JSON, or with the writer of its CSV or table.
pub(crate) fn write_as<R: serde::Serialize>(
    results: &R,
    format: Format,
    out: &mut dyn Write,
    csv: impl FnOnce(&R, &mut dyn Write) -> Result<()>,
    table: impl FnOnce(&R, &mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    let io = |e: std::io::Error| Error::io("<output>", e);
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, results)
                .map_err(|e| Error::Internal(format!("writing JSON: {e}")))?;
            writeln!(out).map_err(io)
        }
        Format::Csv => csv(results, out),
        Format::Table => table(results, out).map_err(io),
    }
}

/// A CSV cell's text: formulas neutralised, control characters made visible
/// (see [`crate::text_safety::for_spreadsheet`], whose tests cover it).
pub fn spreadsheet_safe(text: &str) -> String {
    crate::text_safety::for_spreadsheet(text)
}
