//! Responses collected elsewhere (phone interviews, paper forms, another tool),
//! imported from CSV so that they are ranked with the answers given through the form.
//!
//! The file has the columns `respondent,wave,segment,rank,problem` and optionally
//! `area`, one row per mention; a respondent with no problems has one row with
//! `rank` and `problem` empty. A respondent id is unique per survey and wave: the
//! same id in the same wave is the same answer, so importing a file again replaces
//! that respondent's answer instead of adding a second one. The same id in two
//! waves is the same person (results pair them for McNemar's test).
//!
//! A file with any bad row imports nothing, unless the caller chooses to skip bad
//! rows; then every respondent with a bad row is left out whole, since half an
//! answer would distort the ranking.
//!
//! The file is read twice, so that memory does not grow with its texts: the first
//! reading checks every row and keeps only each respondent's shape (segment, ranks
//! given and on which lines); the second stores the rows of the respondents without
//! errors, in batches (multi-row INSERT on SQLite, COPY on PostgreSQL), all in one
//! transaction.

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Seek, SeekFrom};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use super::form::MAX_TEXT_CHARS;
use crate::coding;
use crate::db::schema::{areas, imported_responses, mentions, responses};
use crate::db::{now, AnyConnection, Database};
use crate::error::Result;
use crate::invite::ImportError;
use crate::survey::{store as survey_store, StoredSurvey, WaveLabel};

/// Longest respondent id, segment or area label, in characters.
pub const MAX_FIELD_CHARS: usize = 200;
/// How imported area labels are marked on their mentions (`mentions.coded_by`).
pub const CODED_BY_IMPORT: &str = "import";
/// The response attribute that the `segment` column fills (`pds results --by segment`).
pub const SEGMENT_ATTRIBUTE: &str = "segment";

const REQUIRED: [&str; 5] = ["respondent", "wave", "segment", "rank", "problem"];
const OPTIONAL: [&str; 1] = ["area"];
/// Rows stored per statement: 2,000 mentions of 7 values stay under SQLite's limit of
/// 32,766 values per statement, and a batch of texts stays a few hundred KiB.
const BATCH: usize = 2_000;

/// One problem of an imported respondent; ranks are renumbered 1..m in the order
/// given, as the form does, so a skipped number leaves no gap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedProblem {
    pub rank: u32,
    pub text: String,
    /// The problem area named in the file, if any; results use it instead of
    /// grouping by text.
    pub area: Option<String>,
}

/// One respondent's answer in one wave, gathered from their rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedRespondent {
    pub respondent: String,
    pub wave: WaveLabel,
    pub segment: Option<String>,
    /// Empty: the respondent reported no problems (and still counts in n).
    pub problems: Vec<ImportedProblem>,
}

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ResponsesReport {
    pub inserted: usize,
    pub replaced: usize,
    pub mentions: usize,
    /// Respondents left out with `--skip-invalid`.
    pub skipped_respondents: usize,
    /// Messages for bad rows, by line.
    pub errors: Vec<String>,
}

/// Where each column is.
struct Columns {
    respondent: usize,
    wave: usize,
    segment: usize,
    rank: usize,
    problem: usize,
    area: Option<usize>,
}

/// One respondent as the first reading leaves it: no texts, only what the checks of
/// later rows need.
#[derive(Debug, Clone, Copy, Default)]
struct Seen {
    first_line: u64,
    /// 0: no "no problems" row.
    no_problems_line: u64,
    /// 0: no segment; else the segment's index + 1.
    segment: u32,
    /// Bit `r` set: rank `r` is given (ranks are at most `MAX_PROBLEMS_LIMIT`).
    ranks: u16,
    bad: bool,
}

/// Every respondent of a file, numbered in order of their first row.
#[derive(Default)]
struct Respondents {
    max_problems: u32,
    waves: Vec<WaveLabel>,
    wave_of: HashMap<String, u32>,
    /// Per wave: respondent id to number.
    number_of: Vec<HashMap<Box<str>, u32>>,
    ids: Vec<Box<str>>,
    wave: Vec<u32>,
    seen: Vec<Seen>,
    /// `max_problems` lines per respondent: the line of each rank given (0: none).
    rank_lines: Vec<u64>,
    segments: Vec<String>,
    segment_of: HashMap<String, u32>,
}

/// What the first reading found.
struct Checked {
    respondents: Respondents,
    errors: Vec<String>,
    bad: usize,
}

/// A row of a respondent without errors, as the second reading hands it on.
struct GoodRow<'r> {
    number: u32,
    /// `(rank renumbered 1..m, text, area)`; `None` for a "no problems" row.
    problem: Option<(u32, &'r str, Option<&'r str>)>,
}

fn open<R: Read>(reader: R, file: &str) -> Result<(csv::Reader<R>, Columns), ImportError> {
    let mut csv = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(reader);
    let header_error = |reason: String| ImportError::Header {
        file: file.to_string(),
        reason,
    };
    let headers: Vec<String> = csv
        .headers()
        .map_err(|e| header_error(e.to_string()))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_lowercase())
        .collect();
    let mut column: HashMap<&str, usize> = HashMap::new();
    for (i, h) in headers.iter().enumerate() {
        let Some(name) = REQUIRED.iter().chain(&OPTIONAL).find(|c| **c == h) else {
            return Err(header_error(format!(
                "unknown column {h:?}; the columns are respondent,wave,segment,rank,problem and optionally area"
            )));
        };
        if column.insert(name, i).is_some() {
            return Err(header_error(format!("column {h:?} appears twice")));
        }
    }
    let missing: Vec<&str> = REQUIRED
        .iter()
        .filter(|c| !column.contains_key(*c))
        .copied()
        .collect();
    if !missing.is_empty() {
        return Err(header_error(format!(
            "missing column(s) {}; the first line must name the columns respondent,wave,segment,rank,problem (and optionally area)",
            missing.join(",")
        )));
    }
    let columns = Columns {
        respondent: column["respondent"],
        wave: column["wave"],
        segment: column["segment"],
        rank: column["rank"],
        problem: column["problem"],
        area: column.get("area").copied(),
    };
    Ok((csv, columns))
}

/// The first reading: checks every row; keeps each respondent's shape.
fn check(reader: impl Read, file: &str, max_problems: u32) -> Result<Checked, ImportError> {
    let (mut csv, columns) = open(reader, file)?;
    let mut respondents = Respondents {
        max_problems,
        ..Respondents::default()
    };
    let mut errors: Vec<String> = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        match csv.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                errors.push(format!("line {line}: {e}"));
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
                continue;
            }
        }
        let line = record.position().map_or(0, |p| p.line());
        let field = |i: usize| record.get(i).unwrap_or("");
        let respondent = field(columns.respondent);
        if let Err(reason) = check_field("respondent", respondent, true) {
            errors.push(format!("line {line}: {reason}"));
            continue;
        }
        let wave = match respondents.wave_number(field(columns.wave)) {
            Ok(w) => w,
            Err(e) => {
                errors.push(format!("line {line}: {e}"));
                continue;
            }
        };
        let number = respondents.number(wave, respondent, line);
        let row = Row {
            segment: field(columns.segment),
            rank: field(columns.rank),
            problem: field(columns.problem),
            area: columns.area.map_or("", field),
        };
        if let Err(reason) = respondents.check_row(number, line, &row) {
            respondents.seen[number as usize].bad = true;
            errors.push(format!("line {line}: {reason}"));
        }
    }
    let bad = respondents.seen.iter().filter(|s| s.bad).count();
    Ok(Checked {
        respondents,
        errors,
        bad,
    })
}

/// The fields of one row that belong to its respondent.
struct Row<'r> {
    segment: &'r str,
    rank: &'r str,
    problem: &'r str,
    area: &'r str,
}

impl Respondents {
    fn wave_number(&mut self, text: &str) -> std::result::Result<u32, String> {
        if let Some(&w) = self.wave_of.get(text) {
            return Ok(w);
        }
        let label: WaveLabel = text.parse().map_err(|e| format!("{e}"))?;
        let w = self.waves.len() as u32;
        self.waves.push(label);
        self.number_of.push(HashMap::new());
        self.wave_of.insert(text.to_string(), w);
        Ok(w)
    }

    /// The respondent's number, a new one at their first row.
    fn number(&mut self, wave: u32, respondent: &str, line: u64) -> u32 {
        if let Some(&n) = self.number_of[wave as usize].get(respondent) {
            return n;
        }
        let n = self.seen.len() as u32;
        self.number_of[wave as usize].insert(respondent.into(), n);
        self.ids.push(respondent.into());
        self.wave.push(wave);
        self.seen.push(Seen {
            first_line: line,
            ..Seen::default()
        });
        self.rank_lines
            .extend(std::iter::repeat_n(0, self.max_problems as usize));
        n
    }

    fn find(&self, wave: &str, respondent: &str) -> Option<u32> {
        let w = self.wave_of.get(wave)?;
        self.number_of[*w as usize].get(respondent).copied()
    }

    fn segment(&self, seen: &Seen) -> Option<&str> {
        (seen.segment > 0).then(|| self.segments[seen.segment as usize - 1].as_str())
    }

    fn rank_line(&self, number: u32, rank: u32) -> u64 {
        self.rank_lines[number as usize * self.max_problems as usize + rank as usize - 1]
    }

    /// Adds one row to respondent `number`, or says what is wrong with it.
    fn check_row(&mut self, number: u32, line: u64, row: &Row) -> std::result::Result<(), String> {
        let max_problems = self.max_problems;
        let who = |r: &Respondents| {
            format!(
                "respondent {:?} (wave {})",
                r.ids[number as usize], r.waves[r.wave[number as usize] as usize]
            )
        };
        check_field("segment", row.segment, false)?;
        let segment = if row.segment.is_empty() {
            0
        } else {
            let next = self.segments.len() as u32;
            let index = *self
                .segment_of
                .entry(row.segment.to_string())
                .or_insert(next);
            if index == next {
                self.segments.push(row.segment.to_string());
            }
            index + 1
        };
        let seen = self.seen[number as usize];
        if line == seen.first_line {
            self.seen[number as usize].segment = segment;
        } else if segment != seen.segment {
            return Err(format!(
                "{} is in segment {:?} here but {:?} on line {}",
                who(self),
                row.segment,
                self.segment(&seen).unwrap_or_default(),
                seen.first_line
            ));
        }

        let (rank, problem, area) = (row.rank, row.problem, row.area);
        check_field("area", area, false)?;
        if rank.is_empty() && problem.is_empty() {
            if !area.is_empty() {
                return Err(format!(
                    "area {area:?} is given without a problem (a row with empty rank and problem means \"no problems\")"
                ));
            }
            if seen.no_problems_line > 0 {
                return Err(format!(
                    "{} already has a \"no problems\" row on line {}",
                    who(self),
                    seen.no_problems_line
                ));
            }
            if seen.ranks != 0 {
                let first = (1..=max_problems)
                    .map(|r| self.rank_line(number, r))
                    .filter(|&l| l > 0)
                    .min()
                    .unwrap_or_default();
                return Err(format!(
                    "{} has problems (line {first}) and also this \"no problems\" row (empty rank and problem)",
                    who(self)
                ));
            }
            self.seen[number as usize].no_problems_line = line;
            return Ok(());
        }
        if problem.is_empty() {
            return Err(format!(
                "rank {rank:?} has no problem text (leave both empty for a respondent with no problems)"
            ));
        }
        if rank.is_empty() {
            return Err("the problem has no rank (1 = most important)".into());
        }
        let rank = ranked_problem(rank, problem, max_problems, "")?;
        if !area.is_empty() && coding::group_key(area).is_empty() {
            return Err(format!("area {area:?} has no letters or digits"));
        }
        if seen.no_problems_line > 0 {
            return Err(format!(
                "{} has a \"no problems\" row on line {} and also this problem",
                who(self),
                seen.no_problems_line
            ));
        }
        if seen.ranks & (1 << rank) != 0 {
            return Err(format!(
                "{} already has rank {rank} on line {}",
                who(self),
                self.rank_line(number, rank)
            ));
        }
        if seen.ranks.count_ones() >= max_problems {
            return Err(format!(
                "{} lists more than {max_problems} problems, the most this survey asks for",
                who(self)
            ));
        }
        self.seen[number as usize].ranks |= 1 << rank;
        let at = number as usize * max_problems as usize + rank as usize - 1;
        self.rank_lines[at] = line;
        Ok(())
    }
}

/// The second reading: hands on every row of the respondents without errors, with
/// ranks renumbered 1..m in the order of the ranks given.
fn for_each_good_row<E: From<ImportError>>(
    reader: impl Read,
    file: &str,
    checked: &Checked,
    mut f: impl FnMut(GoodRow) -> std::result::Result<(), E>,
) -> std::result::Result<(), E> {
    let (mut csv, columns) = open(reader, file)?;
    let respondents = &checked.respondents;
    let mut record = csv::StringRecord::new();
    loop {
        match csv.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => return Ok(()),
            // Reported by the first reading; such a row belongs to no respondent.
            Err(e) if !matches!(e.kind(), csv::ErrorKind::Io(_)) => continue,
            Err(e) => {
                return Err(ImportError::Header {
                    file: file.to_string(),
                    reason: format!("reading it again: {e}"),
                }
                .into())
            }
        }
        let field = |i: usize| record.get(i).unwrap_or("");
        let Some(number) = respondents.find(field(columns.wave), field(columns.respondent)) else {
            continue;
        };
        let seen = &respondents.seen[number as usize];
        if seen.bad {
            continue;
        }
        let problem = match field(columns.rank).parse::<u32>() {
            Ok(rank) => {
                let renumbered = (seen.ranks & ((1u16 << rank) - 1)).count_ones() + 1;
                let area = columns.area.map_or("", field);
                Some((
                    renumbered,
                    field(columns.problem),
                    (!area.is_empty()).then_some(area),
                ))
            }
            Err(_) => None,
        };
        f(GoodRow { number, problem })?;
    }
}

/// Parses a whole responses file for a survey that lets respondents list up to
/// `max_problems` problems, into memory. Returns the respondents without errors, the
/// number of respondents with errors, and one message per bad row.
pub fn parse<R: Read + Seek>(
    mut reader: R,
    file: &str,
    max_problems: u32,
) -> std::result::Result<(Vec<ImportedRespondent>, usize, Vec<String>), ImportError> {
    let checked = check(&mut reader, file, max_problems)?;
    rewind(&mut reader, file)?;
    let r = &checked.respondents;
    let mut gathered: Vec<Option<ImportedRespondent>> = vec![None; r.seen.len()];
    for_each_good_row::<ImportError>(&mut reader, file, &checked, |row| {
        let n = row.number as usize;
        let respondent = gathered[n].get_or_insert_with(|| ImportedRespondent {
            respondent: r.ids[n].to_string(),
            wave: r.waves[r.wave[n] as usize].clone(),
            segment: r.segment(&r.seen[n]).map(str::to_string),
            problems: Vec::new(),
        });
        if let Some((rank, text, area)) = row.problem {
            respondent.problems.push(ImportedProblem {
                rank,
                text: text.to_string(),
                area: area.map(str::to_string),
            });
        }
        Ok(())
    })?;
    let respondents = gathered
        .into_iter()
        .flatten()
        .map(|mut r| {
            r.problems.sort_by_key(|p| p.rank);
            r
        })
        .collect();
    Ok((respondents, checked.bad, checked.errors))
}

fn rewind(reader: &mut impl Seek, file: &str) -> std::result::Result<(), ImportError> {
    reader
        .seek(SeekFrom::Start(0))
        .map(|_| ())
        .map_err(|e| ImportError::Header {
            file: file.to_string(),
            reason: format!("cannot read it a second time: {e}"),
        })
}

/// Checks a short field of an imported row (respondent id, segment): length and
/// no control characters; `Err` says what is wrong.
pub fn check_field(what: &str, value: &str, required: bool) -> std::result::Result<(), String> {
    if required && value.is_empty() {
        return Err(format!("{what} is empty"));
    }
    if value.chars().count() > MAX_FIELD_CHARS {
        return Err(format!(
            "{what} is longer than {MAX_FIELD_CHARS} characters"
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(format!("{what} contains control characters"));
    }
    Ok(())
}

/// A response row of an imported respondent, with its id chosen beforehand (see
/// [`ResponseIds`]) so that its mentions can be stored in the same batch.
#[derive(Insertable)]
#[diesel(table_name = responses, treat_none_as_default_value = false)]
struct NewResponse {
    id: i64,
    survey_id: i64,
    wave_id: i64,
    locale: String,
    attributes: String,
    no_problems: i32,
    submitted_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = imported_responses, treat_none_as_default_value = false)]
struct NewImported {
    response_id: i64,
    survey_id: i64,
    wave_id: i64,
    respondent: String,
    imported_at: chrono::NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = mentions, treat_none_as_default_value = false)]
struct NewMention {
    response_id: i64,
    rank: i32,
    text: String,
    may_contact: i32,
    area_id: Option<i64>,
    coded_by: Option<&'static str>,
    coded_at: Option<chrono::NaiveDateTime>,
}

/// Ids for new responses, taken before their rows are written. SQLite: the write
/// transaction holds the only write lock, so the ids after the highest ever used are
/// ours. PostgreSQL: ids are drawn from the table's sequence, a block at a time, so
/// that concurrent writers never get the same.
#[derive(Default)]
struct ResponseIds {
    next: Vec<i64>,
    /// SQLite: the last id handed out (ids handed out are not all written yet).
    last: Option<i64>,
}

impl ResponseIds {
    fn take(&mut self, conn: &mut AnyConnection) -> Result<i64> {
        if let Some(id) = self.next.pop() {
            return Ok(id);
        }
        use diesel::dsl::sql;
        use diesel::sql_types::BigInt;
        self.next = match conn {
            AnyConnection::Sqlite(c) => {
                let highest: i64 = match self.last {
                    Some(last) => last,
                    None => diesel::select(sql::<BigInt>(
                        "MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'responses'), 0), \
                         COALESCE((SELECT MAX(id) FROM responses), 0))",
                    ))
                    .get_result(c)?,
                };
                self.last = Some(highest + BATCH as i64);
                (highest + 1..=highest + BATCH as i64).rev().collect()
            }
            AnyConnection::Postgresql(c) => {
                let mut ids: Vec<i64> = diesel::select(sql::<BigInt>(&format!(
                    "nextval(pg_get_serial_sequence('responses', 'id')) FROM generate_series(1, {BATCH})"
                )))
                .load(c)?;
                ids.reverse();
                ids
            }
        };
        self.next
            .pop()
            .ok_or_else(|| diesel::result::Error::NotFound.into())
    }
}

/// The second reading's rows, gathered into batches and stored.
struct Writer<'a> {
    survey: &'a StoredSurvey,
    respondents: &'a Respondents,
    stamp: chrono::NaiveDateTime,
    wave_ids: Vec<i64>,
    /// The `attributes` JSON of each segment (index 0: no segment).
    attributes: Vec<String>,
    /// Per respondent: the response id once their first row is stored (0: not yet).
    response_of: Vec<i64>,
    /// Respondents imported before, by number: their response id.
    earlier: HashMap<u32, i64>,
    ids: ResponseIds,
    area_ids: HashMap<String, i64>,
    new_responses: Vec<u32>,
    replaced: Vec<u32>,
    mentions: Vec<NewMention>,
    report: ResponsesReport,
}

impl<'a> Writer<'a> {
    fn new(
        conn: &mut AnyConnection,
        survey: &'a StoredSurvey,
        respondents: &'a Respondents,
    ) -> Result<Self> {
        let mut wave_ids = Vec::new();
        for wave in &respondents.waves {
            wave_ids.push(survey_store::ensure_wave(conn, survey.id, wave)?.id);
        }
        let attributes = std::iter::once(None)
            .chain(respondents.segments.iter().map(Some))
            .map(|segment| {
                let map: BTreeMap<&str, &str> = segment
                    .iter()
                    .map(|s| (SEGMENT_ATTRIBUTE, s.as_str()))
                    .collect();
                serde_json::to_string(&map).unwrap_or_else(|_| "{}".into())
            })
            .collect();
        let mut writer = Writer {
            survey,
            respondents,
            stamp: now(),
            wave_ids,
            attributes,
            response_of: vec![0; respondents.seen.len()],
            earlier: HashMap::new(),
            ids: ResponseIds::default(),
            area_ids: HashMap::new(),
            new_responses: Vec::new(),
            replaced: Vec::new(),
            mentions: Vec::with_capacity(BATCH),
            report: ResponsesReport::default(),
        };
        writer.find_earlier(conn)?;
        Ok(writer)
    }

    /// Finds the respondents of the file imported before (their answers are replaced).
    fn find_earlier(&mut self, conn: &mut AnyConnection) -> Result<()> {
        let mut last = 0;
        loop {
            let page: Vec<(i64, i64, String, i64)> = imported_responses::table
                .filter(imported_responses::survey_id.eq(self.survey.id))
                .filter(imported_responses::id.gt(last))
                .order(imported_responses::id)
                .select((
                    imported_responses::id,
                    imported_responses::wave_id,
                    imported_responses::respondent,
                    imported_responses::response_id,
                ))
                .limit(10_000)
                .load(conn)?;
            let Some(end) = page.last().map(|p| p.0) else {
                return Ok(());
            };
            last = end;
            for (_, wave_id, respondent, response_id) in page {
                let Some(wave) = self.wave_ids.iter().position(|&w| w == wave_id) else {
                    continue;
                };
                let found = self.respondents.number_of[wave].get(respondent.as_str());
                if let Some(&n) = found.filter(|&&n| !self.respondents.seen[n as usize].bad) {
                    self.earlier.insert(n, response_id);
                }
            }
        }
    }

    fn row(
        &mut self,
        conn: &mut AnyConnection,
        row: GoodRow,
        bar: &indicatif::ProgressBar,
    ) -> Result<()> {
        let n = row.number as usize;
        if self.response_of[n] == 0 {
            self.response_of[n] = match self.earlier.get(&row.number) {
                Some(&id) => {
                    self.replaced.push(row.number);
                    id
                }
                None => {
                    self.new_responses.push(row.number);
                    self.ids.take(conn)?
                }
            };
            bar.inc(1);
        }
        if let Some((rank, text, area)) = row.problem {
            let area_id = match area {
                Some(label) => Some(area_id(conn, self.survey.id, label, &mut self.area_ids)?),
                None => None,
            };
            self.mentions.push(NewMention {
                response_id: self.response_of[n],
                rank: rank as i32,
                text: text.to_string(),
                may_contact: 0,
                area_id,
                coded_by: area_id.map(|_| CODED_BY_IMPORT),
                coded_at: area_id.map(|_| self.stamp),
            });
        }
        if self.mentions.len() >= BATCH || self.new_responses.len() >= BATCH {
            self.flush(conn)?;
        }
        Ok(())
    }

    /// Stores what is gathered: replaced answers first (their old mentions go), then
    /// new responses, then mentions, which refer to both.
    fn flush(&mut self, conn: &mut AnyConnection) -> Result<()> {
        let r = self.respondents;
        let no_problems = |n: u32| i32::from(r.seen[n as usize].ranks == 0);
        let attributes = |n: u32| self.attributes[r.seen[n as usize].segment as usize].as_str();
        for &n in &self.replaced {
            let id = self.response_of[n as usize];
            diesel::update(responses::table.find(id))
                .set((
                    responses::attributes.eq(attributes(n)),
                    responses::no_problems.eq(no_problems(n)),
                    responses::updated_at.eq(self.stamp),
                ))
                .execute(conn)?;
            diesel::delete(mentions::table.filter(mentions::response_id.eq(id))).execute(conn)?;
        }
        self.report.replaced += self.replaced.len();
        self.replaced.clear();
        let locale = self.survey.survey.default_locale.as_str();
        let new: Vec<NewResponse> = self
            .new_responses
            .iter()
            .map(|&n| NewResponse {
                id: self.response_of[n as usize],
                survey_id: self.survey.id,
                wave_id: self.wave_ids[r.wave[n as usize] as usize],
                locale: locale.to_string(),
                attributes: attributes(n).to_string(),
                no_problems: no_problems(n),
                submitted_at: self.stamp,
                updated_at: self.stamp,
            })
            .collect();
        let imported: Vec<NewImported> = self
            .new_responses
            .iter()
            .map(|&n| NewImported {
                response_id: self.response_of[n as usize],
                survey_id: self.survey.id,
                wave_id: self.wave_ids[r.wave[n as usize] as usize],
                respondent: r.ids[n as usize].to_string(),
                imported_at: self.stamp,
            })
            .collect();
        match conn {
            AnyConnection::Sqlite(c) => {
                insert_prepared::<NewResponse, _, ROWS_PER_STATEMENT>(c, responses::table, &new)?;
                insert_prepared::<NewImported, _, ROWS_PER_STATEMENT>(
                    c,
                    imported_responses::table,
                    &imported,
                )?;
                insert_prepared::<NewMention, _, ROWS_PER_STATEMENT>(
                    c,
                    mentions::table,
                    &self.mentions,
                )?;
            }
            AnyConnection::Postgresql(c) => {
                diesel::copy_from(responses::table)
                    .from_insertable(&new)
                    .execute(c)?;
                diesel::copy_from(imported_responses::table)
                    .from_insertable(&imported)
                    .execute(c)?;
                diesel::copy_from(mentions::table)
                    .from_insertable(&self.mentions)
                    .execute(c)?;
            }
        }
        self.report.inserted += new.len();
        self.report.mentions += self.mentions.len();
        self.new_responses.clear();
        self.mentions.clear();
        Ok(())
    }
}

/// Rows per SQLite INSERT statement of an import: the statement is prepared once and
/// run again for every `ROWS_PER_STATEMENT` rows.
const ROWS_PER_STATEMENT: usize = 100;

/// Inserts `rows` into `table` on SQLite with statements of `N` rows and of one row,
/// each prepared once per connection (diesel caches a statement whose shape is known
/// from its type; a batch of any other length would be parsed and planned again).
fn insert_prepared<T, Tab, const N: usize>(
    conn: &mut SqliteConnection,
    table: Tab,
    rows: &[T],
) -> QueryResult<()>
where
    Tab: diesel::Table + Copy,
    for<'r> &'r [T; N]: Insertable<Tab>,
    for<'r> &'r T: Insertable<Tab>,
    for<'r> diesel::query_builder::InsertStatement<Tab, <&'r [T; N] as Insertable<Tab>>::Values>:
        diesel::query_dsl::methods::ExecuteDsl<SqliteConnection>,
    for<'r> diesel::query_builder::InsertStatement<Tab, <&'r T as Insertable<Tab>>::Values>:
        diesel::query_dsl::methods::ExecuteDsl<SqliteConnection>,
{
    let mut chunks = rows.chunks_exact(N);
    for chunk in &mut chunks {
        let chunk: &[T; N] = chunk.try_into().expect("chunks_exact gives N rows");
        diesel::insert_into(table).values(chunk).execute(conn)?;
    }
    for row in chunks.remainder() {
        diesel::insert_into(table).values(row).execute(conn)?;
    }
    Ok(())
}

/// The id of the survey's area with this label (by normalised text), created if new.
fn area_id(
    conn: &mut AnyConnection,
    survey_id: i64,
    label: &str,
    cache: &mut HashMap<String, i64>,
) -> Result<i64> {
    if let Some(id) = cache.get(label) {
        return Ok(*id);
    }
    let key = coding::group_key(label);
    let find = |conn: &mut AnyConnection| {
        areas::table
            .filter(areas::survey_id.eq(survey_id))
            .filter(areas::key.eq(&key))
            .select(areas::id)
            .first::<i64>(conn)
            .optional()
    };
    let id = match find(conn)? {
        Some(id) => id,
        None => {
            diesel::insert_into(areas::table)
                .values((
                    areas::survey_id.eq(survey_id),
                    areas::key.eq(&key),
                    areas::label.eq(label),
                    areas::created_at.eq(now()),
                ))
                .execute(conn)?;
            find(conn)?.ok_or(diesel::result::Error::NotFound)?
        }
    };
    cache.insert(label.to_string(), id);
    Ok(id)
}

/// Reads and stores a responses file. With `skip_invalid` false, one bad row means
/// nothing is imported and every bad row is reported.
pub fn import<R: Read + Seek>(
    db: &Database,
    survey: &StoredSurvey,
    mut reader: R,
    file: &str,
    skip_invalid: bool,
    progress: &indicatif::ProgressBar,
) -> Result<ResponsesReport> {
    let checked = check(&mut reader, file, survey.survey.max_problems)?;
    if !checked.errors.is_empty() && !skip_invalid {
        return Err(ImportError::Rejected {
            file: file.to_string(),
            errors: checked.errors,
        }
        .into());
    }
    rewind(&mut reader, file)?;
    progress.set_length((checked.respondents.seen.len() - checked.bad) as u64);
    let mut report = db.write_bulk(|conn| {
        let large_cache = matches!(conn, AnyConnection::Sqlite(_));
        if large_cache {
            // Index pages of a million new rows stay in memory until the commit.
            conn.batch_execute(&format!("PRAGMA cache_size = -{SQLITE_CACHE_KIB}"))?;
        }
        let mut writer = Writer::new(conn, survey, &checked.respondents)?;
        let stored = for_each_good_row(&mut reader, file, &checked, |row| {
            writer.row(conn, row, progress)
        })
        .and_then(|()| writer.flush(conn));
        if large_cache {
            conn.batch_execute("PRAGMA cache_size = -2000")?;
        }
        stored.map(|()| writer.report)
    })?;
    report.skipped_respondents = checked.bad;
    report.errors = checked.errors;
    Ok(report)
}

/// SQLite's page cache during an import, in KiB (its default is 2,000).
const SQLITE_CACHE_KIB: u32 = 65_536;

/// The rank of an imported problem, once its rank is a whole number from 1 to
/// `max_problems` and its text short enough and free of control characters;
/// else what to fix. `whose` follows "rank" in the message (" of the other
/// problem" for a checklist's write-in).
pub(crate) fn ranked_problem(
    rank: &str,
    problem: &str,
    max_problems: u32,
    whose: &str,
) -> std::result::Result<u32, String> {
    let rank: u32 = match rank.parse() {
        Ok(r) if (1..=max_problems).contains(&r) => r,
        _ => {
            return Err(format!(
                "rank {rank:?}{whose} is not a whole number from 1 to {max_problems} (1 = most important)"
            ))
        }
    };
    if problem.chars().count() > MAX_TEXT_CHARS {
        return Err(format!(
            "the problem is longer than {MAX_TEXT_CHARS} characters"
        ));
    }
    if problem
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err("the problem contains control characters".into());
    }
    Ok(rank)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_become_respondents_with_ranks_in_the_order_given() {
        let csv = "respondent,wave,segment,rank,problem,area\n\
                   r1,2026-H1,current,2,Invoice wrong,Billing\n\
                   r1,2026-H1,current,1,Late delivery,\n\
                   r2,2026-H1,lost,,,\n\
                   r1,2026-H2,current,3,Late again,Delivery\n";
        let (rows, bad, errors) = parse(std::io::Cursor::new(csv), "r.csv", 5).unwrap();
        assert_eq!((bad, errors.len()), (0, 0), "{errors:?}");
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].problems[0].text, "Late delivery");
        assert_eq!(rows[0].problems[0].rank, 1);
        assert_eq!(rows[0].problems[1].area.as_deref(), Some("Billing"));
        assert!(rows[1].problems.is_empty(), "no problems, still counted");
        assert_eq!(rows[1].segment.as_deref(), Some("lost"));
        assert_eq!(rows[2].problems[0].rank, 1, "renumbered 1..m");
    }

    #[test]
    fn bad_rows_are_reported_by_line() {
        let csv = "respondent,wave,segment,rank,problem\n\
                   r1,w,a,1,Late\n\
                   r1,w,a,1,Again rank one\n\
                   r2,w,a,9,Too low a rank\n\
                   ,w,a,1,No respondent\n\
                   r3,w,a,1,\n\
                   r4,w,a,,\n\
                   r4,w,b,1,Other segment\n\
                   r5,w,a,x,Not a number\n";
        let (rows, bad, errors) = parse(std::io::Cursor::new(csv), "r.csv", 5).unwrap();
        assert_eq!(errors.len(), 6, "{errors:?}");
        assert!(errors[0].starts_with("line 3:") && errors[0].contains("line 2"));
        assert!(errors[1].starts_with("line 4:") && errors[1].contains("1 to 5"));
        assert!(errors[2].starts_with("line 5:") && errors[2].contains("respondent is empty"));
        assert!(errors[3].starts_with("line 6:"));
        assert!(errors[4].starts_with("line 8:") && errors[4].contains("segment"));
        assert!(errors[5].starts_with("line 9:"));
        assert_eq!(bad, 5, "r1, r2, r3, r4, r5 each have a bad row");
        assert!(rows.is_empty());
    }

    #[test]
    fn unknown_or_missing_columns_are_refused() {
        let err = parse(
            std::io::Cursor::new("respondent,wave,rank,problem\n"),
            "r.csv",
            5,
        )
        .unwrap_err();
        assert!(err.to_string().contains("segment"), "{err}");
        let err = parse(
            std::io::Cursor::new("respondent,wave,segment,rank,problem,areas\n"),
            "r.csv",
            5,
        )
        .unwrap_err();
        assert!(err.to_string().contains("\"areas\""), "{err}");
    }
}
