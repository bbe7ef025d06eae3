//! The mention and response exports: one row each, read in pages by id and
//! written page by page, with the response's segment columns (parsed once per
//! response) and its wave's label.

use std::collections::{BTreeSet, HashMap};
use std::io::Write;

use diesel::prelude::*;

use super::{csv_error, io, page_survey_id, writer, Dialect, Exported, OnProgress, PAGE};
use crate::attributes::Attributes;
use crate::db::schema::{areas, mentions, responses};
use crate::db::AnyConnection;
use crate::error::Result;
use crate::report::spreadsheet_safe;
use crate::survey::{store as survey_store, StoredSurvey};

/// A response's stored segment columns; one that cannot be read stops the export,
/// naming the response.
fn attributes(response_id: i64, json: &str) -> Result<Attributes> {
    Ok(Attributes::from_stored(json, || {
        format!("response {response_id}")
    })?)
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
        for (id, json) in &page {
            if json != "{}" {
                keys.extend(attributes(*id, json)?.into_names());
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
    fn read(&mut self, response_id: i64, json: &str, keys: &[String]) -> Result<()> {
        if response_id != self.response_id {
            let mut values = attributes(response_id, json)?;
            self.cells.clear();
            self.cells.extend(keys.iter().map(|k| {
                values
                    .remove(k)
                    .map(|v| spreadsheet_safe(&v))
                    .unwrap_or_default()
            }));
            self.response_id = response_id;
        }
        Ok(())
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

pub(super) fn mentions_csv(
    conn: &mut AnyConnection,
    survey: &StoredSurvey,
    wave_id: Option<i64>,
    dialect: Dialect,
    out: &mut impl Write,
    progress: OnProgress,
) -> Result<Exported> {
    let mut sheet = Sheet::open(conn, survey, wave_id)?;
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
    header.extend(segment_headers(&sheet.keys, &fixed));
    header.extend(MENTION_COLUMNS_AFTER.iter().map(|c| c.to_string()));
    w.write_record(&header).map_err(csv_error)?;

    let load = |conn: &mut AnyConnection, last: i64| -> Result<Vec<MentionRow>> {
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
        Ok(query.load(conn)?)
    };
    let write = |_: &mut AnyConnection, page: &[MentionRow]| -> Result<()> {
        for m in page {
            sheet
                .segments
                .read(m.response_id, &m.attributes, &sheet.keys)?;
            sheet.write_mention(&mut w, m).map_err(csv_error)?;
        }
        Ok(())
    };
    let rows = pages(conn, total, progress, load, |m| m.id, write)?;
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

pub(super) fn responses_csv(
    conn: &mut AnyConnection,
    survey: &StoredSurvey,
    wave_id: Option<i64>,
    dialect: Dialect,
    out: &mut impl Write,
    progress: OnProgress,
) -> Result<Exported> {
    let mut sheet = Sheet::open(conn, survey, wave_id)?;
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
    header.extend(segment_headers(&sheet.keys, &RESPONSE_COLUMNS));
    w.write_record(&header).map_err(csv_error)?;

    let load = |conn: &mut AnyConnection, last: i64| -> Result<Vec<ResponseRow>> {
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
        Ok(query.load(conn)?)
    };
    let write = |conn: &mut AnyConnection, page: &[ResponseRow]| -> Result<()> {
        let ids: Vec<i64> = page.iter().map(|r| r.id).collect();
        let counts: HashMap<i64, i64> = mentions::table
            .filter(mentions::response_id.eq_any(&ids))
            .group_by(mentions::response_id)
            .select((mentions::response_id, diesel::dsl::count_star()))
            .load::<(i64, i64)>(conn)?
            .into_iter()
            .collect();
        for r in page {
            let mentions = counts.get(&r.id).copied().unwrap_or(0);
            sheet.segments.read(r.id, &r.attributes, &sheet.keys)?;
            sheet
                .write_response(&mut w, r, mentions)
                .map_err(csv_error)?;
        }
        Ok(())
    };
    let rows = pages(conn, total, progress, load, |r| r.id, write)?;
    w.flush().map_err(io)?;
    Ok(Exported { rows })
}

/// Reads pages of rows after the last id seen, hands each to `write` before the
/// next is read, and reports progress; returns how many rows were written.
fn pages<R>(
    conn: &mut AnyConnection,
    total: u64,
    progress: OnProgress,
    mut load: impl FnMut(&mut AnyConnection, i64) -> Result<Vec<R>>,
    id: impl Fn(&R) -> i64,
    mut write: impl FnMut(&mut AnyConnection, &[R]) -> Result<()>,
) -> Result<u64> {
    let mut rows = 0u64;
    let mut last = 0i64;
    loop {
        let page = load(conn, last)?;
        let Some(tail) = page.last() else {
            break;
        };
        last = id(tail);
        write(conn, &page)?;
        rows += page.len() as u64;
        progress(rows, total.max(rows));
    }
    Ok(rows)
}

/// What every row of a mention or response export shares: the survey's cell, the
/// waves' labels and the segment columns of the responses in scope.
struct Sheet {
    survey_cell: String,
    waves: HashMap<i64, String>,
    keys: Vec<String>,
    segments: SegmentCells,
    number: Number,
}

impl Sheet {
    fn open(
        conn: &mut AnyConnection,
        survey: &StoredSurvey,
        wave_id: Option<i64>,
    ) -> Result<Sheet> {
        Ok(Sheet {
            keys: segment_keys(conn, survey.id, wave_id)?,
            waves: wave_labels(conn, survey.id)?,
            survey_cell: spreadsheet_safe(&survey.slug),
            segments: SegmentCells {
                response_id: 0,
                cells: Vec::new(),
            },
            number: Number::default(),
        })
    }

    /// The survey and wave cells that open every row.
    fn write_survey_and_wave<W: Write>(
        &self,
        w: &mut csv::Writer<W>,
        wave_id: i64,
    ) -> csv::Result<()> {
        w.write_field(&self.survey_cell)?;
        w.write_field(self.waves.get(&wave_id).map(String::as_str).unwrap_or(""))
    }

    fn write_mention<W: Write>(
        &mut self,
        w: &mut csv::Writer<W>,
        m: &MentionRow,
    ) -> csv::Result<()> {
        self.write_survey_and_wave(w, m.wave_id)?;
        w.write_field(self.number.format(m.response_id))?;
        w.write_field(self.number.format(m.id))?;
        for cell in &self.segments.cells {
            w.write_field(cell)?;
        }
        w.write_field(self.number.format(m.rank))?;
        w.write_field(spreadsheet_safe(&m.text))?;
        w.write_field(optional_text(m.frequency.as_deref()))?;
        w.write_field(if m.may_contact != 0 { "true" } else { "false" })?;
        w.write_field(optional_text(m.area.as_deref()))?;
        w.write_field(optional_text(m.coded_by.as_deref()))?;
        w.write_record(None::<&[u8]>)
    }

    fn write_response<W: Write>(
        &mut self,
        w: &mut csv::Writer<W>,
        r: &ResponseRow,
        mentions: i64,
    ) -> csv::Result<()> {
        self.write_survey_and_wave(w, r.wave_id)?;
        w.write_field(self.number.format(r.id))?;
        w.write_field(if r.invitation_id.is_some() {
            "form"
        } else {
            "import"
        })?;
        w.write_field(timestamp(&r.submitted_at))?;
        w.write_field(timestamp(&r.updated_at))?;
        w.write_field(if r.no_problems != 0 { "true" } else { "false" })?;
        w.write_field(self.number.format(mentions))?;
        for cell in &self.segments.cells {
            w.write_field(cell)?;
        }
        w.write_record(None::<&[u8]>)
    }
}

/// A text cell that may be empty.
fn optional_text(text: Option<&str>) -> String {
    text.map(spreadsheet_safe).unwrap_or_default()
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
    fn segment_columns_never_repeat_a_fixed_column() {
        let keys = vec!["wave".to_string(), "region".to_string(), "=cmd".to_string()];
        assert_eq!(
            segment_headers(&keys, &RESPONSE_COLUMNS),
            ["segment_wave", "region", "'=cmd"]
        );
    }
}
