//! The mention and response exports: one row each, read in pages by id and
//! written page by page, with the response's segment columns (parsed once per
//! response) and its wave's label.

use std::collections::{BTreeSet, HashMap};
use std::io::Write;

use diesel::dsl;
use diesel::prelude::*;
use diesel::query_dsl::methods;
use diesel::sql_types::BigInt;

use super::{
    csv_error, io, page_survey_id, writer, Dialect, Exported, OnProgress, PageSurveyId, PAGE,
};
use crate::attributes::Attributes;
use crate::db::schema::{areas, mentions, responses};
use crate::db::AnyConnection;
use crate::error::Result;
use crate::report::copy_out::{self, CopyRow};
use crate::report::spreadsheet_safe;
use crate::survey::{store as survey_store, StoredSurvey};

/// A response's stored segment columns; one that cannot be read stops the export,
/// naming the response.
fn attributes(response_id: i64, json: &str) -> Result<Attributes> {
    Ok(Attributes::from_stored(json, || {
        format!("response {response_id}")
    })?)
}

/// The segment keys of the responses in scope, sorted. SQLite reads them page by
/// page; PostgreSQL groups the responses by their segment columns (a handful of
/// distinct values for a million responses) and sends each group once, with its
/// first response, in the order of those: a group that cannot be read stops the
/// export naming the same response as a reading in order would.
fn segment_keys(conn: &mut AnyConnection, scope: Scope) -> Result<Vec<String>> {
    let mut keys = BTreeSet::new();
    let mut add = |id: i64, json: &str| -> Result<()> {
        if json != "{}" {
            keys.extend(attributes(id, json)?.into_names());
        }
        Ok(())
    };
    match conn {
        AnyConnection::Postgresql(_) => {
            let query = responses::table
                .group_by(responses::attributes)
                .select((
                    dsl::min(responses::id).assume_not_null(),
                    responses::attributes,
                ))
                .into_boxed();
            let mut groups: Vec<(i64, String)> = scope.all(query).load(conn)?;
            groups.sort_unstable();
            groups.iter().try_for_each(|(id, json)| add(*id, json))?;
        }
        AnyConnection::Sqlite(_) => {
            for_each_page(conn, scope, |_, page: &[ResponseRow]| {
                page.iter().try_for_each(|r| add(r.id, &r.attributes))
            })?;
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

/// The responses an export covers: a survey's, or one wave's of it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Scope {
    pub survey_id: i64,
    pub wave_id: Option<i64>,
    /// Whether a page compares the survey as [`page_survey_id`] (SQLite) or as the
    /// column itself (PostgreSQL, whose planner, given the column's statistics,
    /// walks the primary key from the last id; given `survey_id + 0`, which it
    /// cannot estimate, it joins the whole tables for every page: 34 s instead of
    /// 8 s for 2,000,000 mentions).
    pub survey_as_expression: bool,
}

impl Scope {
    /// `query` (it reads responses) narrowed to the scope, by the index.
    fn all<Q>(self, query: Q) -> Q
    where
        Q: methods::FilterDsl<dsl::Eq<responses::survey_id, i64>, Output = Q>
            + methods::FilterDsl<dsl::Eq<responses::wave_id, i64>, Output = Q>,
    {
        self.wave(methods::FilterDsl::filter(
            query,
            responses::survey_id.eq(self.survey_id),
        ))
    }

    /// The page of `query` (it reads responses) in the scope after id `last`, by
    /// its `id` column; the survey compared as [`page_survey_id`], so that the page
    /// walks the primary key.
    fn page<Q, Id>(self, query: Q, id: Id, last: i64) -> Q
    where
        Id: Expression<SqlType = BigInt> + Copy,
        Q: methods::FilterDsl<dsl::Gt<Id, i64>, Output = Q>
            + methods::OrderDsl<Id, Output = Q>
            + methods::FilterDsl<dsl::Eq<PageSurveyId, i64>, Output = Q>
            + methods::FilterDsl<dsl::Eq<responses::survey_id, i64>, Output = Q>
            + methods::FilterDsl<dsl::Eq<responses::wave_id, i64>, Output = Q>
            + methods::LimitDsl<Output = Q>,
    {
        let query = if self.survey_as_expression {
            methods::FilterDsl::filter(query, page_survey_id().eq(self.survey_id))
        } else {
            methods::FilterDsl::filter(query, responses::survey_id.eq(self.survey_id))
        };
        let query = methods::FilterDsl::filter(query, id.gt(last));
        let query = methods::OrderDsl::order(self.wave(query), id);
        methods::LimitDsl::limit(query, PAGE)
    }

    /// The scope as the WHERE clause of a COPY's SELECT (which cannot take bind
    /// parameters: only the scope's ids are written into it), `responses` being
    /// `table`.
    fn copy_filter(self, table: &str) -> String {
        match self.wave_id {
            Some(w) => format!(
                "{table}.survey_id = {} AND {table}.wave_id = {w}",
                self.survey_id
            ),
            None => format!("{table}.survey_id = {}", self.survey_id),
        }
    }

    fn wave<Q>(self, query: Q) -> Q
    where
        Q: methods::FilterDsl<dsl::Eq<responses::wave_id, i64>, Output = Q>,
    {
        match self.wave_id {
            Some(w) => methods::FilterDsl::filter(query, responses::wave_id.eq(w)),
            None => query,
        }
    }
}

/// The rows of one export (a mention or a response each): how many the scope has,
/// the header, a page of them after an id, and how a page is written.
pub(super) trait Row: Sized {
    fn header(keys: &[String]) -> Vec<String>;
    fn count(conn: &mut AnyConnection, scope: Scope) -> Result<u64>;
    fn id(&self) -> i64;
    /// The next page: the rows in scope after id `last`, by id.
    fn page(conn: &mut AnyConnection, scope: Scope, last: i64) -> Result<Vec<Self>>;
    fn write(conn: &mut AnyConnection, page: &[Self], to: &mut Sheet<impl Write>) -> Result<()>;

    /// Writes every row of `scope` to `sheet`, by id, calling `written` with the
    /// rows written since it was last called; returns how many rows there were.
    /// By default page by page, each page written before the next is read.
    fn write_all(
        conn: &mut AnyConnection,
        scope: Scope,
        sheet: &mut Sheet<impl Write>,
        written: &mut dyn FnMut(u64),
    ) -> Result<u64> {
        for_each_page(conn, scope, |conn, page: &[Self]| {
            Self::write(conn, page, sheet)?;
            written(page.len() as u64);
            Ok(())
        })
    }
}

/// Writes the rows `R` of `scope` page by page: the header, then each page before
/// the next is read, reporting progress.
pub(super) fn rows_csv<R: Row>(
    conn: &mut AnyConnection,
    survey: &StoredSurvey,
    scope: Scope,
    dialect: Dialect,
    out: impl Write,
    progress: OnProgress,
) -> Result<Exported> {
    let mut sheet = Sheet::open(conn, survey, scope, writer(out, dialect))?;
    let total = match progress {
        Some(progress) => {
            let total = R::count(conn, scope)?;
            progress(0, total);
            total
        }
        None => 0,
    };
    sheet
        .w
        .write_record(R::header(&sheet.keys))
        .map_err(csv_error)?;
    let mut done = 0u64;
    let rows = R::write_all(conn, scope, &mut sheet, &mut |rows| {
        done += rows;
        if let Some(progress) = progress {
            progress(done, total.max(done));
        }
    })?;
    sheet.w.flush().map_err(io)?;
    Ok(Exported { rows })
}

/// Reads the rows `R` of `scope` in pages after the last id seen and hands each
/// page to `each` before the next is read; returns how many rows there were.
fn for_each_page<R: Row>(
    conn: &mut AnyConnection,
    scope: Scope,
    mut each: impl FnMut(&mut AnyConnection, &[R]) -> Result<()>,
) -> Result<u64> {
    let mut rows = 0u64;
    let mut last = 0i64;
    loop {
        let page = R::page(conn, scope, last)?;
        let Some(tail) = page.last() else {
            break;
        };
        last = tail.id();
        each(conn, &page)?;
        rows += page.len() as u64;
    }
    Ok(rows)
}

/// The mention export's fixed columns; the segment columns go between the first
/// [`MENTION_SEGMENTS_AT`] and the rest.
const MENTION_COLUMNS: [&str; 10] = [
    "survey",
    "wave",
    "response_id",
    "mention_id",
    "rank",
    "text",
    "frequency",
    "may_contact",
    "area",
    "coded_by",
];
const MENTION_SEGMENTS_AT: usize = 4;

/// One mention as exported, with its response's wave and segment columns.
#[derive(Queryable, Selectable, Default)]
#[diesel(table_name = mentions)]
pub(super) struct MentionRow {
    id: i64,
    response_id: i64,
    #[diesel(select_expression = responses::wave_id)]
    wave_id: i64,
    #[diesel(select_expression = responses::attributes)]
    attributes: String,
    rank: i32,
    text: String,
    frequency: Option<String>,
    may_contact: i32,
    /// The label of its area, once coded.
    #[diesel(select_expression = areas::label.nullable())]
    #[diesel(select_expression_type = dsl::Nullable<areas::label>)]
    area: Option<String>,
    coded_by: Option<String>,
}

impl Row for MentionRow {
    fn header(keys: &[String]) -> Vec<String> {
        let (before, after) = MENTION_COLUMNS.split_at(MENTION_SEGMENTS_AT);
        let mut header: Vec<String> = before.iter().map(|c| c.to_string()).collect();
        header.extend(segment_headers(keys, &MENTION_COLUMNS));
        header.extend(after.iter().map(|c| c.to_string()));
        header
    }

    fn count(conn: &mut AnyConnection, scope: Scope) -> Result<u64> {
        let query = mentions::table
            .inner_join(responses::table)
            .select(dsl::count_star())
            .into_boxed();
        Ok(scope.all(query).first::<i64>(conn)?.max(0) as u64)
    }

    fn id(&self) -> i64 {
        self.id
    }

    fn page(conn: &mut AnyConnection, scope: Scope, last: i64) -> Result<Vec<Self>> {
        let query = mentions::table
            .inner_join(responses::table)
            .left_join(areas::table)
            .select(Self::as_select())
            .into_boxed();
        Ok(scope.page(query, mentions::id, last).load(conn)?)
    }

    fn write(_: &mut AnyConnection, page: &[Self], to: &mut Sheet<impl Write>) -> Result<()> {
        for m in page {
            to.segments.read(m.response_id, &m.attributes, &to.keys)?;
            to.write_mention(m).map_err(csv_error)?;
        }
        Ok(())
    }

    /// On PostgreSQL one COPY for the whole export (`../copy_out.rs`), each row
    /// written as it arrives into one reused row; on SQLite page by page.
    fn write_all(
        conn: &mut AnyConnection,
        scope: Scope,
        sheet: &mut Sheet<impl Write>,
        written: &mut dyn FnMut(u64),
    ) -> Result<u64> {
        let AnyConnection::Postgresql(pg) = conn else {
            return for_each_page(conn, scope, |conn, page: &[Self]| {
                Self::write(conn, page, sheet)?;
                written(page.len() as u64);
                Ok(())
            });
        };
        let select = format!(
            "SELECT m.id, m.response_id, r.wave_id, r.attributes, m.rank, m.text, \
             m.frequency, m.may_contact, a.label, m.coded_by \
             FROM mentions m JOIN responses r ON r.id = m.response_id \
             LEFT JOIN areas a ON a.id = m.area_id \
             WHERE {} ORDER BY m.id",
            scope.copy_filter("r")
        );
        let mut m = MentionRow::default();
        let mut since = 0;
        let rows = copy_out::for_each_row(pg, select, |row| {
            m.read_copied(row)?;
            sheet
                .segments
                .read(m.response_id, &m.attributes, &sheet.keys)?;
            sheet.write_mention(&m).map_err(csv_error)?;
            since += 1;
            if since == PAGE as u64 {
                written(since);
                since = 0;
            }
            Ok(())
        })?;
        written(since);
        Ok(rows)
    }
}

impl MentionRow {
    /// Takes the values of a COPY row of `write_all`'s SELECT, keeping the room of
    /// the strings of the row before.
    fn read_copied(&mut self, row: &CopyRow) -> Result<()> {
        fn set(to: &mut String, from: &str) {
            to.clear();
            to.push_str(from);
        }
        fn set_optional(to: &mut Option<String>, from: Option<&str>) {
            match (to.as_mut(), from) {
                (Some(to), Some(from)) => set(to, from),
                (None, Some(from)) => *to = Some(from.to_string()),
                (_, None) => *to = None,
            }
        }
        self.id = row.i64(0)?;
        self.response_id = row.i64(1)?;
        self.wave_id = row.i64(2)?;
        set(&mut self.attributes, row.required_text(3)?);
        self.rank = row.i32(4)?;
        set(&mut self.text, row.required_text(5)?);
        set_optional(&mut self.frequency, row.text(6)?);
        self.may_contact = row.i32(7)?;
        set_optional(&mut self.area, row.text(8)?);
        set_optional(&mut self.coded_by, row.text(9)?);
        Ok(())
    }
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
#[derive(Queryable, Selectable)]
#[diesel(table_name = responses)]
pub(super) struct ResponseRow {
    id: i64,
    wave_id: i64,
    /// `None` for an imported answer.
    invitation_id: Option<i64>,
    attributes: String,
    no_problems: i32,
    submitted_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
}

impl Row for ResponseRow {
    fn header(keys: &[String]) -> Vec<String> {
        let mut header: Vec<String> = RESPONSE_COLUMNS.iter().map(|c| c.to_string()).collect();
        header.extend(segment_headers(keys, &RESPONSE_COLUMNS));
        header
    }

    fn count(conn: &mut AnyConnection, scope: Scope) -> Result<u64> {
        let query = responses::table.select(dsl::count_star()).into_boxed();
        Ok(scope.all(query).first::<i64>(conn)?.max(0) as u64)
    }

    fn id(&self) -> i64 {
        self.id
    }

    fn page(conn: &mut AnyConnection, scope: Scope, last: i64) -> Result<Vec<Self>> {
        let query = responses::table.select(Self::as_select()).into_boxed();
        Ok(scope.page(query, responses::id, last).load(conn)?)
    }

    /// Each response with how many mentions it has, counted for the page at once.
    fn write(conn: &mut AnyConnection, page: &[Self], to: &mut Sheet<impl Write>) -> Result<()> {
        let ids: Vec<i64> = page.iter().map(|r| r.id).collect();
        let counts: HashMap<i64, i64> = mentions::table
            .filter(mentions::response_id.eq_any(&ids))
            .group_by(mentions::response_id)
            .select((mentions::response_id, dsl::count_star()))
            .load::<(i64, i64)>(conn)?
            .into_iter()
            .collect();
        for r in page {
            let mentions = counts.get(&r.id).copied().unwrap_or(0);
            to.segments.read(r.id, &r.attributes, &to.keys)?;
            to.write_response(r, mentions).map_err(csv_error)?;
        }
        Ok(())
    }
}

/// What every row of a mention or response export shares: the CSV writer, the
/// survey's cell, the waves' labels and the segment columns of the responses in
/// scope.
pub(super) struct Sheet<W: Write> {
    w: csv::Writer<W>,
    survey_cell: String,
    waves: HashMap<i64, String>,
    keys: Vec<String>,
    segments: SegmentCells,
    number: Number,
}

impl<W: Write> Sheet<W> {
    fn open(
        conn: &mut AnyConnection,
        survey: &StoredSurvey,
        scope: Scope,
        w: csv::Writer<W>,
    ) -> Result<Self> {
        Ok(Sheet {
            w,
            keys: segment_keys(conn, scope)?,
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
    fn write_survey_and_wave(&mut self, wave_id: i64) -> csv::Result<()> {
        self.w.write_field(&self.survey_cell)?;
        self.w
            .write_field(self.waves.get(&wave_id).map(String::as_str).unwrap_or(""))
    }

    fn write_mention(&mut self, m: &MentionRow) -> csv::Result<()> {
        self.write_survey_and_wave(m.wave_id)?;
        let w = &mut self.w;
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

    fn write_response(&mut self, r: &ResponseRow, mentions: i64) -> csv::Result<()> {
        self.write_survey_and_wave(r.wave_id)?;
        let w = &mut self.w;
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
