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

use std::collections::{BTreeMap, HashMap};
use std::io::Read;

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

/// A respondent while their rows are read.
struct Draft {
    respondent: String,
    wave: WaveLabel,
    segment: Option<String>,
    first_line: u64,
    no_problems_line: Option<u64>,
    /// `(rank as written, text, area, line)`.
    problems: Vec<(u32, String, Option<String>, u64)>,
    bad: bool,
}

/// Parses a whole responses file for a survey that lets respondents list up to
/// `max_problems` problems. Returns the respondents without errors, the number of
/// respondents with errors, and one message per bad row.
pub fn parse(
    reader: impl Read,
    file: &str,
    max_problems: u32,
) -> Result<(Vec<ImportedRespondent>, usize, Vec<String>), ImportError> {
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

    let mut drafts: Vec<Draft> = Vec::new();
    let mut draft_of: HashMap<(String, String), usize> = HashMap::new();
    let mut errors: Vec<String> = Vec::new();
    for record in csv.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                errors.push(format!("line {line}: {e}"));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let field = |name: &str| {
            column
                .get(name)
                .and_then(|&i| record.get(i))
                .unwrap_or("")
                .to_string()
        };
        let respondent = field("respondent");
        if let Err(reason) = check_field("respondent", &respondent, true) {
            errors.push(format!("line {line}: {reason}"));
            continue;
        }
        let wave: WaveLabel = match field("wave").parse() {
            Ok(w) => w,
            Err(e) => {
                errors.push(format!("line {line}: {e}"));
                continue;
            }
        };
        let key = (wave.as_str().to_string(), respondent.clone());
        let index = *draft_of.entry(key).or_insert_with(|| {
            drafts.push(Draft {
                respondent: respondent.clone(),
                wave: wave.clone(),
                segment: None,
                first_line: line,
                no_problems_line: None,
                problems: Vec::new(),
                bad: false,
            });
            drafts.len() - 1
        });
        let draft = &mut drafts[index];
        if let Err(reason) = read_row(draft, line, &field, max_problems) {
            draft.bad = true;
            errors.push(format!("line {line}: {reason}"));
        }
    }

    let bad = drafts.iter().filter(|d| d.bad).count();
    let respondents = drafts
        .into_iter()
        .filter(|d| !d.bad)
        .map(|mut d| {
            d.problems.sort_by_key(|p| p.0);
            ImportedRespondent {
                respondent: d.respondent,
                wave: d.wave,
                segment: d.segment,
                problems: d
                    .problems
                    .into_iter()
                    .enumerate()
                    .map(|(i, (_, text, area, _))| ImportedProblem {
                        rank: i as u32 + 1,
                        text,
                        area,
                    })
                    .collect(),
            }
        })
        .collect();
    Ok((respondents, bad, errors))
}

/// Adds one row to its respondent, or says what is wrong with it.
fn read_row(
    draft: &mut Draft,
    line: u64,
    field: &dyn Fn(&str) -> String,
    max_problems: u32,
) -> std::result::Result<(), String> {
    let who = format!("respondent {:?} (wave {})", draft.respondent, draft.wave);
    let segment = field("segment");
    check_field("segment", &segment, false)?;
    let segment = (!segment.is_empty()).then_some(segment);
    if line == draft.first_line {
        draft.segment = segment;
    } else if segment != draft.segment {
        return Err(format!(
            "{who} is in segment {:?} here but {:?} on line {}",
            segment.unwrap_or_default(),
            draft.segment.clone().unwrap_or_default(),
            draft.first_line
        ));
    }

    let (rank, problem, area) = (field("rank"), field("problem"), field("area"));
    check_field("area", &area, false)?;
    if rank.is_empty() && problem.is_empty() {
        if !area.is_empty() {
            return Err(format!(
                "area {area:?} is given without a problem (a row with empty rank and problem means \"no problems\")"
            ));
        }
        if let Some(first) = draft.no_problems_line {
            return Err(format!(
                "{who} already has a \"no problems\" row on line {first}"
            ));
        }
        if let Some(p) = draft.problems.first() {
            return Err(format!(
                "{who} has problems (line {}) and also this \"no problems\" row (empty rank and problem)",
                p.3
            ));
        }
        draft.no_problems_line = Some(line);
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
    let rank: u32 = match rank.parse() {
        Ok(r) if (1..=max_problems).contains(&r) => r,
        _ => {
            return Err(format!(
                "rank {rank:?} is not a whole number from 1 to {max_problems} (1 = most important)"
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
    if !area.is_empty() && coding::group_key(&area).is_empty() {
        return Err(format!("area {area:?} has no letters or digits"));
    }
    if let Some(first) = draft.no_problems_line {
        return Err(format!(
            "{who} has a \"no problems\" row on line {first} and also this problem"
        ));
    }
    if let Some(same) = draft.problems.iter().find(|p| p.0 == rank) {
        return Err(format!("{who} already has rank {rank} on line {}", same.3));
    }
    if draft.problems.len() >= max_problems as usize {
        return Err(format!(
            "{who} lists more than {max_problems} problems, the most this survey asks for"
        ));
    }
    draft
        .problems
        .push((rank, problem, (!area.is_empty()).then_some(area), line));
    Ok(())
}

fn check_field(what: &str, value: &str, required: bool) -> std::result::Result<(), String> {
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

/// Stores imported respondents in one transaction. A respondent already imported
/// into the same survey and wave has their answer replaced (first import time kept).
pub fn store(
    db: &Database,
    survey: &StoredSurvey,
    respondents: &[ImportedRespondent],
    progress: &indicatif::ProgressBar,
) -> Result<ResponsesReport> {
    db.write(|conn| {
        let stamp = now();
        let locale = survey.survey.default_locale.as_str();
        let mut report = ResponsesReport::default();
        let mut wave_ids: HashMap<WaveLabel, i64> = HashMap::new();
        let mut area_ids: HashMap<String, i64> = HashMap::new();
        for r in respondents {
            let wave_id = match wave_ids.get(&r.wave) {
                Some(id) => *id,
                None => {
                    let id = survey_store::ensure_wave(conn, survey.id, &r.wave)?.id;
                    wave_ids.insert(r.wave.clone(), id);
                    id
                }
            };
            let attributes: BTreeMap<&str, &str> = r
                .segment
                .iter()
                .map(|s| (SEGMENT_ATTRIBUTE, s.as_str()))
                .collect();
            let attributes = serde_json::to_string(&attributes).unwrap_or_else(|_| "{}".into());
            let no_problems = i32::from(r.problems.is_empty());
            let existing: Option<i64> = imported_responses::table
                .filter(imported_responses::survey_id.eq(survey.id))
                .filter(imported_responses::wave_id.eq(wave_id))
                .filter(imported_responses::respondent.eq(&r.respondent))
                .select(imported_responses::response_id)
                .first(conn)
                .optional()?;
            let response_id = match existing {
                Some(id) => {
                    diesel::update(responses::table.find(id))
                        .set((
                            responses::attributes.eq(&attributes),
                            responses::no_problems.eq(no_problems),
                            responses::updated_at.eq(stamp),
                        ))
                        .execute(conn)?;
                    diesel::delete(mentions::table.filter(mentions::response_id.eq(id)))
                        .execute(conn)?;
                    report.replaced += 1;
                    id
                }
                None => {
                    diesel::insert_into(responses::table)
                        .values((
                            responses::survey_id.eq(survey.id),
                            responses::wave_id.eq(wave_id),
                            responses::locale.eq(locale),
                            responses::attributes.eq(&attributes),
                            responses::no_problems.eq(no_problems),
                            responses::submitted_at.eq(stamp),
                            responses::updated_at.eq(stamp),
                        ))
                        .execute(conn)?;
                    // No RETURNING across both backends: the row just inserted is the
                    // newest response of this wave without an invitation (form answers
                    // always have one), and this transaction holds it.
                    let id: i64 = responses::table
                        .filter(responses::survey_id.eq(survey.id))
                        .filter(responses::wave_id.eq(wave_id))
                        .filter(responses::invitation_id.is_null())
                        .select(diesel::dsl::max(responses::id))
                        .first::<Option<i64>>(conn)?
                        .ok_or(diesel::result::Error::NotFound)?;
                    diesel::insert_into(imported_responses::table)
                        .values((
                            imported_responses::response_id.eq(id),
                            imported_responses::survey_id.eq(survey.id),
                            imported_responses::wave_id.eq(wave_id),
                            imported_responses::respondent.eq(&r.respondent),
                            imported_responses::imported_at.eq(stamp),
                        ))
                        .execute(conn)?;
                    report.inserted += 1;
                    id
                }
            };
            for p in &r.problems {
                let area_id = match &p.area {
                    Some(label) => Some(area_id(conn, survey.id, label, &mut area_ids)?),
                    None => None,
                };
                diesel::insert_into(mentions::table)
                    .values((
                        mentions::response_id.eq(response_id),
                        mentions::rank.eq(p.rank as i32),
                        mentions::text.eq(&p.text),
                        mentions::may_contact.eq(0),
                        mentions::area_id.eq(area_id),
                        mentions::coded_by.eq(area_id.map(|_| CODED_BY_IMPORT)),
                        mentions::coded_at.eq(area_id.map(|_| stamp)),
                    ))
                    .execute(conn)?;
                report.mentions += 1;
            }
            progress.inc(1);
        }
        Ok(report)
    })
}

/// The id of the survey's area with this label (by normalised text), created if new.
fn area_id(
    conn: &mut AnyConnection,
    survey_id: i64,
    label: &str,
    cache: &mut HashMap<String, i64>,
) -> Result<i64> {
    let key = coding::group_key(label);
    if let Some(id) = cache.get(&key) {
        return Ok(*id);
    }
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
    cache.insert(key, id);
    Ok(id)
}

/// Parses and stores a responses file. With `skip_invalid` false, one bad row means
/// nothing is imported and every bad row is reported.
pub fn import(
    db: &Database,
    survey: &StoredSurvey,
    reader: impl Read,
    file: &str,
    skip_invalid: bool,
    progress: &indicatif::ProgressBar,
) -> Result<ResponsesReport> {
    let (respondents, bad, errors) = parse(reader, file, survey.survey.max_problems)?;
    if !errors.is_empty() && !skip_invalid {
        return Err(ImportError::Rejected {
            file: file.to_string(),
            errors,
        }
        .into());
    }
    progress.set_length(respondents.len() as u64);
    let mut report = store(db, survey, &respondents, progress)?;
    report.skipped_respondents = bad;
    report.errors = errors;
    Ok(report)
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
        let (rows, bad, errors) = parse(csv.as_bytes(), "r.csv", 5).unwrap();
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
        let (rows, bad, errors) = parse(csv.as_bytes(), "r.csv", 5).unwrap();
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
        let err = parse("respondent,wave,rank,problem\n".as_bytes(), "r.csv", 5).unwrap_err();
        assert!(err.to_string().contains("segment"), "{err}");
        let err = parse(
            "respondent,wave,segment,rank,problem,areas\n".as_bytes(),
            "r.csv",
            5,
        )
        .unwrap_err();
        assert!(err.to_string().contains("\"areas\""), "{err}");
    }
}
