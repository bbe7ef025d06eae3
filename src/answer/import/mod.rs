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
//! errors (in batches of multi-row INSERTs on SQLite; on PostgreSQL, one binary COPY
//! stream per table), all in one transaction. On PostgreSQL a large import first
//! tries to check and store in one reading (`one_pass.rs`), and reads the file
//! twice only if that gives up (a bad row, a respondent's rows apart).

mod check;
mod good_rows;
mod one_pass;
mod pg_copy;
mod postgres;
mod read;
mod rows;
mod sqlite;
mod store;

use std::io::{Read, Seek};
use std::sync::Arc;

use super::form::MAX_TEXT_CHARS;
use crate::db::{AnyConnection, Database};
use crate::error::{Error, Result};
use crate::invite::ImportError;
use crate::survey::{StoredSurvey, WaveLabel};
use check::{check, for_each_good_row, with_good_rows, Checked, Respondents};
use read::rewind;

/// Longest respondent id, segment or area label, in characters: as long as a
/// segment column may be.
pub const MAX_FIELD_CHARS: usize = crate::attributes::MAX_CHARS;
/// How imported area labels are marked on their mentions (`mentions.coded_by`).
pub const CODED_BY_IMPORT: &str = "import";
/// The response attribute that the `segment` column fills (`pds results --by segment`).
pub const SEGMENT_ATTRIBUTE: &str = "segment";

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

/// Parses a whole responses file for a survey that lets respondents list up to
/// `max_problems` problems, into memory. Returns the respondents without errors, the
/// number of respondents with errors, and one message per bad row.
pub fn parse<R: Read + Seek + Send>(
    mut reader: R,
    file: &str,
    max_problems: u32,
) -> std::result::Result<(Vec<ImportedRespondent>, usize, Vec<String>), ImportError> {
    let bytes = read::length(&mut reader);
    let checked = check(&mut reader, file, max_problems, bytes)?;
    rewind(&mut reader, file)?;
    let r = &checked.respondents;
    let mut gathered: Vec<Option<ImportedRespondent>> = vec![None; r.seen.len()];
    for_each_good_row::<ImportError>(&mut reader, file, r, |row| {
        let n = row.number as usize;
        let seen = &r.seen[n];
        let respondent = gathered[n].get_or_insert_with(|| ImportedRespondent {
            respondent: r.id(row.number).to_string(),
            wave: r.waves[seen.wave as usize].clone(),
            segment: r.segment(seen).map(str::to_string),
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

/// Checks a short field of an imported row (respondent id, segment): length and
/// no control characters; `Err` says what is wrong.
pub fn check_field(what: &str, value: &str, required: bool) -> std::result::Result<(), String> {
    if required && value.is_empty() {
        return Err(format!("{what} is empty"));
    }
    crate::attributes::check_value(value).map_err(|why| format!("{what} {why}"))
}

/// The stored segment columns of an imported response: [`SEGMENT_ATTRIBUTE`] when
/// the file gives a segment, else none.
pub fn segment_attributes(segment: Option<&str>) -> Result<String> {
    let mut attributes = crate::attributes::Attributes::new();
    if let Some(value) = segment {
        attributes
            .insert(SEGMENT_ATTRIBUTE, value)
            .map_err(|why| Error::Invalid(format!("segment {value:?} {why}")))?;
    }
    Ok(attributes.to_stored())
}

/// Reads and stores a responses file. With `skip_invalid` false, one bad row means
/// nothing is imported and every bad row is reported.
pub fn import<R: Read + Seek + Send>(
    db: &Database,
    survey: &StoredSurvey,
    mut reader: R,
    file: &str,
    skip_invalid: bool,
    progress: &indicatif::ProgressBar,
) -> Result<ResponsesReport> {
    let bytes = read::length(&mut reader);
    if !skip_invalid && matches!(db.url(), crate::config::DatabaseUrl::Postgres(_)) {
        match one_reading(db, survey, &mut reader, file, bytes, progress) {
            Ok(report) => return Ok(report),
            Err(OneReading::Failed(e)) => return Err(e),
            Err(OneReading::Again(why)) => {
                tracing::debug!(%why, "import: one reading gave up, reading the file twice");
                rewind(&mut reader, file)?;
                progress.set_position(0);
            }
        }
    }
    let checked = check(&mut reader, file, survey.survey.max_problems, bytes)?;
    tracing::debug!(
        respondents = checked.respondents.seen.len(),
        "import: file checked"
    );
    if !checked.errors.is_empty() && !skip_invalid {
        return Err(ImportError::Rejected {
            file: file.to_string(),
            errors: checked.errors,
        }
        .into());
    }
    rewind(&mut reader, file)?;
    let Checked {
        respondents,
        errors,
        bad,
    } = checked;
    let new_mentions = new_mentions(&respondents);
    progress.set_length((respondents.seen.len() - bad) as u64);
    // Shared with the writer, and let go of before the indexes are built again.
    let respondents = Arc::new(respondents);
    let mut report = db.write_bulk(move |conn| {
        let mut writer = store::Writer::new(conn, survey, Arc::clone(&respondents))?;
        writer.replace_earlier(conn)?;
        let load = move |conn: &mut AnyConnection, ids: pg_copy::Ids| {
            match conn {
                AnyConnection::Sqlite(_) => {
                    for_each_good_row(&mut reader, file, &respondents, |row| {
                        writer.row(conn, row, progress)
                    })?;
                    writer.flush(conn, progress)?;
                }
                AnyConnection::Postgresql(_) => {
                    with_good_rows(&mut reader, file, &respondents, |rows| {
                        pg_copy::load(conn, &mut writer, rows, ids, progress)
                    })?;
                }
            }
            drop(respondents);
            let report = writer.finish();
            tracing::debug!(mentions = report.mentions, "import: rows stored");
            Ok::<_, crate::error::Error>(report)
        };
        match conn {
            AnyConnection::Sqlite(_) => sqlite::bulk_load(conn, new_mentions, |conn| {
                load(conn, pg_copy::Ids::FromSequences)
            }),
            AnyConnection::Postgresql(_) => postgres::bulk_load(conn, new_mentions, load),
        }
    })?;
    tracing::debug!("import: committed");
    report.skipped_respondents = bad;
    report.errors = errors;
    Ok(report)
}

/// Why one reading stored nothing.
enum OneReading {
    /// It gave up (why): read the file twice.
    Again(String),
    Failed(Error),
}

impl From<diesel::result::Error> for OneReading {
    fn from(e: diesel::result::Error) -> Self {
        OneReading::Failed(e.into())
    }
}

impl From<Error> for OneReading {
    fn from(e: Error) -> Self {
        OneReading::Failed(e)
    }
}

/// A mention's row in a file is rarely shorter: the file's size over this is
/// the estimate of its mentions that decides whether keys are set aside.
const BYTES_PER_MENTION: u64 = 100;

/// Checks and stores the file in one reading (PostgreSQL, a load that sets the
/// keys aside, no respondents of the survey imported before); gives up, having
/// stored nothing, where the file needs two readings.
fn one_reading<R: Read + Send>(
    db: &Database,
    survey: &StoredSurvey,
    reader: &mut R,
    file: &str,
    bytes: Option<u64>,
    progress: &indicatif::ProgressBar,
) -> std::result::Result<ResponsesReport, OneReading> {
    let Some(bytes) = bytes else {
        return Err(OneReading::Again("the file's size is not known".into()));
    };
    let max_problems = survey.survey.max_problems;
    db.write_bulk(|conn| {
        postgres::bulk_load(conn, bytes / BYTES_PER_MENTION, |conn, ids| {
            if ids == pg_copy::Ids::FromSequences {
                let why = "the survey's tables hold more mentions than the file brings";
                return Err(OneReading::Again(why.into()));
            }
            let mut writer = store::Writer::new(conn, survey, Arc::new(Respondents::default()))?;
            if writer.any_earlier(conn)? {
                let why = "respondents were imported before, whose answers the file may replace";
                return Err(OneReading::Again(why.into()));
            }
            let shape = (max_problems, Some(bytes));
            match pg_copy::load_in_one_reading(conn, &mut writer, reader, file, shape, progress)? {
                Ok(()) => {
                    tracing::debug!("import: rows stored in one reading");
                    Ok(writer.finish())
                }
                Err(gave_up) => Err(OneReading::Again(format!(
                    "line {}: {}",
                    gave_up.line, gave_up.reason
                ))),
            }
        })
    })
}

/// How many mentions the respondents without errors bring.
fn new_mentions(respondents: &check::Respondents) -> u64 {
    let seen = respondents.seen.iter().filter(|s| !s.bad);
    seen.map(|s| u64::from(s.ranks.count_ones())).sum()
}

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
