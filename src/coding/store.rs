//! Coding in the database: a survey's codebook, its areas, each mention's area with
//! who put it there and why, and the analysts' decisions. The pure rooms of
//! `coding` decide; this one reads their input and stores their output, and is the
//! only place that writes `areas`, `codebooks`, `coding_decisions` and the coding
//! columns of `mentions` (import names areas too, through its own door).
//!
//! Who coded a mention (`mentions.coded_by`):
//! - `rule` and `automatic`: coding did, and may change it when it runs again;
//! - `analyst` and `import`: a person did; coding never changes it;
//! - `none`: coding ran and could place it nowhere (no content words, or unlike
//!   every proposed area), so it waits for an analyst;
//! - NULL: coding has not run since the mention arrived.
//!
//! An area is `proposed` (coding may change or remove it), `accepted` (an analyst's:
//! renamed, accepted, made by a split, or merged into) or `merged` (kept so that a
//! codebook rule of a merged area leads to the area it was merged into).

use std::collections::{BTreeMap, HashMap, HashSet};

use diesel::prelude::*;

use super::codebook::{Codebook, CodebookError};
use super::grouping::GroupingOptions;
use super::learn::{Learned, LearningOptions};
use super::pipeline::{code_mentions, Coding};
use super::MentionText;
use crate::db::schema::{areas, codebooks, coding_decisions, mentions, responses};
use crate::db::{now, AnyConnection, Database};
use crate::error::{Error, Result};
use crate::survey::{Locale, StoredSurvey};

/// The grouping method results name for areas coded here.
pub const CODING_METHOD: &str = "codebook+auto-v1";

pub const BY_RULE: &str = "rule";
pub const BY_AUTOMATIC: &str = "automatic";
pub const BY_ANALYST: &str = "analyst";
pub const BY_IMPORT: &str = "import";
pub const BY_NONE: &str = "none";

pub const PROPOSED: &str = "proposed";
pub const ACCEPTED: &str = "accepted";
pub const MERGED: &str = "merged";

/// Whether a mention coded by `coded_by` is an analyst's (never recoded).
pub fn is_decided(coded_by: Option<&str>) -> bool {
    matches!(coded_by, Some(BY_ANALYST) | Some(BY_IMPORT))
}

/// A codebook with the text it was parsed from (stored as written).
#[derive(Debug, Clone)]
pub struct SurveyCodebook {
    pub source: String,
    pub codebook: Codebook,
}

impl SurveyCodebook {
    /// Parses `source`; `file` names it in errors (`codebook.toml line 7: ...`).
    pub fn parse(source: &str, file: &str) -> Result<SurveyCodebook, CodebookError> {
        Ok(SurveyCodebook {
            source: source.to_string(),
            codebook: Codebook::parse(file, source)?,
        })
    }
}

/// Stores (or replaces) a survey's codebook; the caller has validated it.
pub fn save_codebook(
    conn: &mut AnyConnection,
    survey_id: i64,
    codebook: &SurveyCodebook,
) -> Result<()> {
    let stamp = now();
    let updated = diesel::update(codebooks::table.find(survey_id))
        .set((
            codebooks::definition.eq(&codebook.source),
            codebooks::updated_at.eq(stamp),
        ))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(codebooks::table)
            .values((
                codebooks::survey_id.eq(survey_id),
                codebooks::definition.eq(&codebook.source),
                codebooks::updated_at.eq(stamp),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The survey's codebook, if it has one.
pub fn load_codebook(conn: &mut AnyConnection, survey_id: i64) -> Result<Option<SurveyCodebook>> {
    let source: Option<String> = codebooks::table
        .find(survey_id)
        .select(codebooks::definition)
        .first(conn)
        .optional()?;
    source
        .map(|s| {
            SurveyCodebook::parse(&s, "stored codebook.toml")
                .map_err(|e| Error::Internal(format!("the stored codebook is damaged: {e}")))
        })
        .transpose()
}

/// An area as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = areas)]
pub struct StoredArea {
    pub id: i64,
    pub key: String,
    pub label: String,
    pub origin: String,
    pub status: String,
    pub labels: String,
    pub team: Option<String>,
    pub merged_into: Option<i64>,
}

impl StoredArea {
    /// The label per locale (`{"sv": ..., "en": ...}`), empty when it has none.
    pub fn labels(&self) -> BTreeMap<String, String> {
        serde_json::from_str(&self.labels).unwrap_or_default()
    }

    /// The codebook id of a rule area (`late-delivery`).
    pub fn codebook_id(&self) -> Option<&str> {
        self.key.strip_prefix(RULE_KEY)
    }
}

const RULE_KEY: &str = "rule:";
const AUTO_KEY: &str = "auto:";
const ANALYST_KEY: &str = "analyst:";

/// The areas of a survey (merged ones too), by id.
pub fn areas_of(conn: &mut AnyConnection, survey_id: i64) -> Result<Vec<StoredArea>> {
    Ok(areas::table
        .filter(areas::survey_id.eq(survey_id))
        .order(areas::id)
        .select(StoredArea::as_select())
        .load(conn)?)
}

/// A mention as coding sees it.
#[derive(Debug, Clone)]
pub struct StoredMention {
    pub id: i64,
    pub response_id: i64,
    /// The customer's words, exactly as written.
    pub text: String,
    /// The respondent's language for form answers; `None` for imported ones.
    pub locale: Option<Locale>,
    pub area_id: Option<i64>,
    pub coded_by: Option<String>,
    pub coded_at: Option<chrono::NaiveDateTime>,
    pub note: Option<String>,
}

type MentionRow = (
    i64,
    i64,
    String,
    String,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<chrono::NaiveDateTime>,
    Option<String>,
);

/// Every mention of a survey, by id.
pub fn mentions_of(conn: &mut AnyConnection, survey_id: i64) -> Result<Vec<StoredMention>> {
    let rows: Vec<MentionRow> = mentions::table
        .inner_join(responses::table)
        .filter(responses::survey_id.eq(survey_id))
        .select((
            mentions::id,
            mentions::response_id,
            mentions::text,
            responses::locale,
            responses::invitation_id,
            mentions::area_id,
            mentions::coded_by,
            mentions::coded_at,
            mentions::coding_note,
        ))
        .order(mentions::id)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(id, response_id, text, locale, invitation, area_id, coded_by, coded_at, note)| {
                StoredMention {
                    id,
                    response_id,
                    text,
                    locale: invitation.and_then(|_| locale.parse().ok()),
                    area_id,
                    coded_by,
                    coded_at,
                    note,
                }
            },
        )
        .collect())
}

/// What one coding run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CodingRun {
    /// All mentions of the survey.
    pub mentions: usize,
    /// Left as an analyst (or an imported file) decided.
    pub decided: usize,
    pub by_rule: usize,
    pub automatic: usize,
    /// Coding could place these nowhere.
    pub uncoded: usize,
    /// Mentions whose area or explanation changed in this run.
    pub changed: usize,
    /// Areas in use after the run (not merged).
    pub areas: usize,
}

/// Where coding puts an undecided mention.
#[derive(Debug, Clone, PartialEq)]
enum Target {
    Area(AreaRef),
    Nowhere,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum AreaRef {
    Existing(i64),
    /// A codebook area, by codebook index, not stored yet.
    Rule(usize),
    /// A proposal of automatic grouping, not stored yet.
    Proposal(usize),
}

/// Codes every mention of `survey` not decided by an analyst: codebook rules first,
/// then automatic grouping. Decided mentions keep their area, and a proposal whose
/// decided mentions mostly sit in one area joins that area. Everything is stored in
/// one transaction; running it again on the same data changes nothing.
/// `progress(done, total)` follows the storing.
pub fn code_survey(
    db: &Database,
    survey: &StoredSurvey,
    options: &GroupingOptions,
    progress: &dyn Fn(u64, u64),
) -> Result<CodingRun> {
    let (codebook, all, stored_areas) = {
        let mut conn = db.conn()?;
        let codebook = load_codebook(&mut conn, survey.id)?
            .map(|c| c.codebook)
            .unwrap_or_default();
        (
            codebook,
            mentions_of(&mut conn, survey.id)?,
            areas_of(&mut conn, survey.id)?,
        )
    };
    let texts: Vec<MentionText<'_>> = all
        .iter()
        .map(|m| MentionText::new(&m.text, m.locale))
        .collect();
    let result = code_mentions(&texts, &codebook, options);

    let by_id: HashMap<i64, &StoredArea> = stored_areas.iter().map(|a| (a.id, a)).collect();
    let by_key: HashMap<&str, &StoredArea> =
        stored_areas.iter().map(|a| (a.key.as_str(), a)).collect();
    // Follows merges to the area that now holds a merged area's mentions.
    let resolve = |mut id: i64| {
        for _ in 0..stored_areas.len() {
            match by_id.get(&id).and_then(|a| a.merged_into) {
                Some(next) => id = next,
                None => break,
            }
        }
        id
    };

    // Rules come first, so only what no rule covers is asked of the model.
    let asked: Vec<bool> = result
        .codings
        .iter()
        .map(|c| !matches!(c, Coding::Rule(_)))
        .collect();
    let learned = learn_from_decisions(&all, &texts, &asked, &by_id, &resolve);

    // Decided mentions per proposal, to continue an analyst's area.
    let mut decided_in: Vec<HashMap<i64, usize>> = vec![HashMap::new(); result.proposals.len()];
    // First undecided mention of each proposal: its stable key.
    let mut first_of: Vec<Option<i64>> = vec![None; result.proposals.len()];
    let mut run = CodingRun {
        mentions: all.len(),
        ..CodingRun::default()
    };
    for (m, coding) in all.iter().zip(&result.codings) {
        if let Coding::Automatic(a) = coding {
            if is_decided(m.coded_by.as_deref()) {
                if let Some(area) = m.area_id {
                    *decided_in[a.proposal].entry(resolve(area)).or_default() += 1;
                }
            } else if first_of[a.proposal].is_none() {
                first_of[a.proposal] = Some(m.id);
            }
        }
    }
    let continued: Vec<Option<i64>> = decided_in
        .iter()
        .map(|counts| {
            let total: usize = counts.values().sum();
            counts
                .iter()
                .max_by_key(|(id, n)| (**n, std::cmp::Reverse(**id)))
                .filter(|(_, n)| **n * 2 > total)
                .map(|(id, _)| *id)
        })
        .collect();

    let mut planned: Vec<(usize, Target, &'static str, String)> = Vec::new();
    for (i, (m, coding)) in all.iter().zip(&result.codings).enumerate() {
        if is_decided(m.coded_by.as_deref()) {
            run.decided += 1;
            continue;
        }
        let (target, by, note) = match coding {
            Coding::Rule(rule) => {
                run.by_rule += 1;
                let index = codebook
                    .areas
                    .iter()
                    .position(|a| a.id == rule.area)
                    .unwrap_or_default();
                let key = format!("{RULE_KEY}{}", rule.area);
                let target = match by_key.get(key.as_str()) {
                    Some(area) => AreaRef::Existing(resolve(area.id)),
                    None => AreaRef::Rule(index),
                };
                (Target::Area(target), BY_RULE, rule.to_string())
            }
            Coding::Automatic(_) | Coding::Uncoded if learned[i].sure.is_some() => {
                run.automatic += 1;
                let (area, note) = learned[i].sure.clone().unwrap_or_default();
                (Target::Area(AreaRef::Existing(area)), BY_AUTOMATIC, note)
            }
            Coding::Automatic(a) => {
                run.automatic += 1;
                let proposal = &result.proposals[a.proposal];
                match continued[a.proposal] {
                    Some(area) => (
                        Target::Area(AreaRef::Existing(area)),
                        BY_AUTOMATIC,
                        format!(
                            "similar ({:.2}) to mentions an analyst put in this area (proposal {:?})",
                            a.similarity, proposal.label
                        ),
                    ),
                    None => {
                        let key = first_of[a.proposal].map(|id| format!("{AUTO_KEY}{id}"));
                        let target = match key.as_deref().and_then(|k| by_key.get(k)) {
                            Some(area) => AreaRef::Existing(resolve(area.id)),
                            None => AreaRef::Proposal(a.proposal),
                        };
                        (
                            Target::Area(target),
                            BY_AUTOMATIC,
                            format!(
                                "similar ({:.2}) to the proposal {:?}",
                                a.similarity, proposal.label
                            ),
                        )
                    }
                }
            }
            Coding::Uncoded => {
                run.uncoded += 1;
                (
                    Target::Nowhere,
                    BY_NONE,
                    "no rule matched and it is unlike every proposed area".to_string(),
                )
            }
        };
        let note = match (&learned[i].unsure, by) {
            (Some(unsure), BY_AUTOMATIC) => format!("{note}; {unsure}"),
            _ => note,
        };
        planned.push((i, target, by, note));
    }

    let total = planned.len() as u64;
    let default_locale = survey.survey.default_locale;
    db.write(|conn| -> Result<()> {
        let stamp = now();
        let mut created: HashMap<AreaRef, i64> = HashMap::new();
        let mut done = 0u64;
        for (i, target, by, note) in &planned {
            let m = &all[*i];
            let area_id = match target {
                Target::Nowhere => None,
                Target::Area(AreaRef::Existing(id)) => Some(*id),
                Target::Area(r) => Some(match created.get(r) {
                    Some(id) => *id,
                    None => {
                        let id = match r {
                            AreaRef::Rule(index) => {
                                let area = &codebook.areas[*index];
                                let labels: BTreeMap<&str, &str> = area
                                    .labels
                                    .iter()
                                    .map(|(l, s)| (l.as_str(), s.as_str()))
                                    .collect();
                                insert_area(
                                    conn,
                                    survey.id,
                                    &NewArea {
                                        key: format!("{RULE_KEY}{}", area.id),
                                        label: area.label(default_locale).to_string(),
                                        origin: BY_RULE,
                                        status: PROPOSED,
                                        labels: serde_json::to_string(&labels)
                                            .unwrap_or_else(|_| "{}".into()),
                                        team: area.team.clone(),
                                    },
                                )?
                            }
                            AreaRef::Proposal(p) => insert_area(
                                conn,
                                survey.id,
                                &NewArea {
                                    key: format!("{AUTO_KEY}{}", first_of[*p].unwrap_or(m.id)),
                                    label: result.proposals[*p].label.clone(),
                                    origin: BY_AUTOMATIC,
                                    status: PROPOSED,
                                    labels: "{}".into(),
                                    team: None,
                                },
                            )?,
                            AreaRef::Existing(id) => *id,
                        };
                        created.insert(r.clone(), id);
                        id
                    }
                }),
            };
            let unchanged = m.area_id == area_id
                && m.coded_by.as_deref() == Some(*by)
                && m.note.as_deref() == Some(note.as_str());
            if !unchanged {
                // The filter keeps a decision taken while coding ran.
                diesel::update(
                    mentions::table.filter(mentions::id.eq(m.id)).filter(
                        mentions::coded_by
                            .is_null()
                            .or(mentions::coded_by.ne_all([BY_ANALYST, BY_IMPORT])),
                    ),
                )
                .set((
                    mentions::area_id.eq(area_id),
                    mentions::coded_by.eq(*by),
                    mentions::coded_at.eq(stamp),
                    mentions::coding_note.eq(note),
                ))
                .execute(conn)?;
                run.changed += 1;
            }
            done += 1;
            if done % 1000 == 0 || done == total {
                progress(done, total);
            }
        }
        // Proposed areas of rules or grouping that no mention is in any more.
        let proposed: Vec<i64> = areas::table
            .filter(areas::survey_id.eq(survey.id))
            .filter(areas::status.eq(PROPOSED))
            .select(areas::id)
            .load(conn)?;
        let used: HashSet<i64> = mentions::table
            .inner_join(responses::table)
            .filter(responses::survey_id.eq(survey.id))
            .filter(mentions::area_id.is_not_null())
            .select(mentions::area_id)
            .distinct()
            .load::<Option<i64>>(conn)?
            .into_iter()
            .flatten()
            .collect();
        let empty: Vec<i64> = proposed
            .into_iter()
            .filter(|id| !used.contains(id))
            .collect();
        for chunk in empty.chunks(1000) {
            diesel::delete(areas::table.filter(areas::id.eq_any(chunk))).execute(conn)?;
        }
        // A merged area holds no mentions, so the areas in use are those used.
        run.areas = used.len();
        Ok(())
    })?;
    Ok(run)
}

/// What the model learned from analysts' decisions says of one mention: an
/// area it is sure of (and why), or why it is unsure (kept as a note beside the
/// automatic proposal, so the analyst sees the nearest areas).
#[derive(Debug, Clone, Default)]
struct LearnedCoding {
    sure: Option<(i64, String)>,
    unsure: Option<String>,
}

/// Trains on the mentions an analyst (or an imported file) placed, each in the
/// area it now counts in, and says for every other mention where it belongs.
/// Nothing is learned from fewer than two areas. Decided mentions never change
/// when coding runs, so neither does the model: running again changes nothing.
fn learn_from_decisions(
    all: &[StoredMention],
    texts: &[MentionText<'_>],
    asked: &[bool],
    by_id: &HashMap<i64, &StoredArea>,
    resolve: &dyn Fn(i64) -> i64,
) -> Vec<LearnedCoding> {
    let mut area_ids: Vec<i64> = Vec::new();
    let mut examples = Vec::new();
    let mut labels = Vec::new();
    for (m, text) in all.iter().zip(texts) {
        if let (true, Some(area)) = (is_decided(m.coded_by.as_deref()), m.area_id) {
            let area = resolve(area);
            let label = match area_ids.iter().position(|&a| a == area) {
                Some(l) => l,
                None => {
                    area_ids.push(area);
                    area_ids.len() - 1
                }
            };
            examples.push(*text);
            labels.push(label);
        }
    }
    let mut out = vec![LearnedCoding::default(); all.len()];
    if area_ids.len() < 2 {
        return out;
    }
    let analyzer = super::Analyzer::new();
    let model = Learned::train(
        &analyzer,
        &examples,
        &labels,
        area_ids.len(),
        &LearningOptions::default(),
    );
    let undecided: Vec<usize> = (0..all.len())
        .filter(|&i| asked[i] && !is_decided(all[i].coded_by.as_deref()))
        .collect();
    let asked: Vec<MentionText<'_>> = undecided.iter().map(|&i| texts[i]).collect();
    let name = |l: usize| {
        by_id.get(&area_ids[l]).map_or_else(
            || format!("area {}", area_ids[l]),
            |a| format!("{:?}", a.label),
        )
    };
    let decisions = examples.len();
    for (i, suggestion) in undecided.into_iter().zip(model.suggest(&analyzer, &asked)) {
        let Some(s) = suggestion else { continue };
        let reason = s.reason(name);
        out[i] = if s.sure {
            LearnedCoding {
                sure: Some((
                    area_ids[s.area],
                    format!("{reason} ({decisions} analyst decisions)"),
                )),
                unsure: None,
            }
        } else {
            LearnedCoding {
                sure: None,
                unsure: Some(reason),
            }
        };
    }
    out
}

struct NewArea {
    key: String,
    label: String,
    origin: &'static str,
    status: &'static str,
    labels: String,
    team: Option<String>,
}

/// Inserts an area and returns its id (no RETURNING: it is read back by key).
fn insert_area(conn: &mut AnyConnection, survey_id: i64, area: &NewArea) -> Result<i64> {
    diesel::insert_into(areas::table)
        .values((
            areas::survey_id.eq(survey_id),
            areas::key.eq(&area.key),
            areas::label.eq(&area.label),
            areas::created_at.eq(now()),
            areas::origin.eq(area.origin),
            areas::status.eq(area.status),
            areas::labels.eq(&area.labels),
            areas::team.eq(&area.team),
        ))
        .execute(conn)?;
    Ok(areas::table
        .filter(areas::survey_id.eq(survey_id))
        .filter(areas::key.eq(&area.key))
        .select(areas::id)
        .first(conn)?)
}

/// An analyst's decision, as asked for on the command line (or the admin API).
#[derive(Debug, Clone)]
pub enum Decision {
    Rename {
        area: i64,
        label: String,
    },
    Merge {
        from: i64,
        into: i64,
    },
    Split {
        area: i64,
        mentions: Vec<i64>,
        label: String,
    },
    Move {
        mentions: Vec<i64>,
        to: i64,
    },
    Accept {
        areas: Vec<i64>,
    },
    /// Reverses a merge: the merged area lives again and takes back the mentions
    /// the merge moved that are still where the merge put them.
    Unmerge {
        area: i64,
    },
    /// Reverses a move: the mentions go back to the area they were moved from.
    Unmove {
        mentions: Vec<i64>,
        to: i64,
    },
}

/// What a decision did, for the analyst to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decided {
    /// The area the decision leaves the mentions in (a split's new area).
    pub area: Option<i64>,
    /// Mentions whose area (or coder) changed.
    pub mentions: usize,
}

/// Finds an area of a survey by id (`12`), key, codebook id (`late-delivery`) or
/// label (case and spacing ignored), saying what to do when there is none or more
/// than one.
pub fn find_area(areas: &[StoredArea], survey_slug: &str, wanted: &str) -> Result<StoredArea> {
    let wanted = wanted.trim();
    let listing = format!("`pds areas list --survey {survey_slug}` shows them");
    let live = || areas.iter().filter(|a| a.status != MERGED);
    if let Ok(id) = wanted.trim_start_matches('#').parse::<i64>() {
        return match areas.iter().find(|a| a.id == id) {
            Some(a) if a.status == MERGED => Err(Error::Invalid(format!(
                "area {id} ({:?}) was merged into area {}; use that one",
                a.label,
                a.merged_into.unwrap_or_default()
            ))),
            Some(a) => Ok(a.clone()),
            None => Err(Error::NotFound(format!(
                "survey {survey_slug} has no area {id}; {listing}"
            ))),
        };
    }
    if let Some(a) = live().find(|a| a.key == wanted || a.codebook_id() == Some(wanted)) {
        return Ok(a.clone());
    }
    let key = super::group_key(wanted);
    let named: Vec<&StoredArea> = live()
        .filter(|a| {
            super::group_key(&a.label) == key
                || a.labels().values().any(|l| super::group_key(l) == key)
        })
        .collect();
    match named.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(Error::NotFound(format!(
            "survey {survey_slug} has no area {wanted:?}; {listing}"
        ))),
        many => Err(Error::Invalid(format!(
            "{} areas are called {wanted:?} (ids {}); name one by its id",
            many.len(),
            many.iter()
                .map(|a| a.id.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// Applies an analyst's decision in one transaction and logs it. Every mention it
/// touches is marked `coded_by = analyst` with the time, so coding keeps it.
pub fn decide(db: &Database, survey: &StoredSurvey, decision: &Decision) -> Result<Decided> {
    db.write(|conn| -> Result<Decided> {
        let stamp = now();
        let areas = areas_of(conn, survey.id)?;
        let area = |id: i64| -> Result<&StoredArea> {
            areas
                .iter()
                .find(|a| a.id == id && a.status != MERGED)
                .ok_or_else(|| {
                    Error::NotFound(format!(
                        "survey {} has no area {id}; `pds areas list --survey {}` shows them",
                        survey.slug, survey.slug
                    ))
                })
        };
        let (action, area_id, detail, decided) = match decision {
            Decision::Rename { area: id, label } => {
                let old = area(*id)?;
                let label = clean_label(label)?;
                diesel::update(areas::table.find(id))
                    .set((areas::label.eq(&label), areas::status.eq(ACCEPTED)))
                    .execute(conn)?;
                (
                    "rename",
                    *id,
                    format!("{:?} -> {label:?}", old.label),
                    Decided {
                        area: Some(*id),
                        mentions: 0,
                    },
                )
            }
            Decision::Merge { from, into } => {
                if from == into {
                    return Err(Error::Invalid(format!(
                        "cannot merge area {from} into itself; name two different areas"
                    )));
                }
                let (source, target) = (area(*from)?, area(*into)?);
                // Area ids belong to one survey, so its mentions are all this survey's.
                let moved = diesel::update(mentions::table.filter(mentions::area_id.eq(from)))
                .set((
                    mentions::area_id.eq(into),
                    mentions::coded_by.eq(BY_ANALYST),
                    mentions::coded_at.eq(stamp),
                    mentions::coding_note.eq(format!("merged from {:?}", source.label)),
                ))
                .execute(conn)?;
                diesel::update(areas::table.find(from))
                    .set((areas::status.eq(MERGED), areas::merged_into.eq(into)))
                    .execute(conn)?;
                diesel::update(areas::table.filter(areas::merged_into.eq(from)))
                    .set(areas::merged_into.eq(into))
                    .execute(conn)?;
                diesel::update(areas::table.find(into))
                    .set(areas::status.eq(ACCEPTED))
                    .execute(conn)?;
                (
                    "merge",
                    *into,
                    format!(
                        "{:?} (area {from}, {moved} mentions) into {:?}",
                        source.label, target.label
                    ),
                    Decided {
                        area: Some(*into),
                        mentions: moved,
                    },
                )
            }
            Decision::Split {
                area: id,
                mentions: ids,
                label,
            } => {
                let source = area(*id)?;
                let label = clean_label(label)?;
                let ids = distinct(ids)?;
                let inside: HashSet<i64> = mentions::table
                    .filter(mentions::id.eq_any(&ids))
                    .filter(mentions::area_id.eq(id))
                    .select(mentions::id)
                    .load::<i64>(conn)?
                    .into_iter()
                    .collect();
                let outside: Vec<String> = ids
                    .iter()
                    .filter(|m| !inside.contains(m))
                    .map(i64::to_string)
                    .collect();
                if !outside.is_empty() {
                    return Err(Error::Invalid(format!(
                        "mention(s) {} are not in area {id} ({:?}); `pds areas show --survey {} {id}` lists its mentions",
                        outside.join(", "),
                        source.label,
                        survey.slug
                    )));
                }
                let key = format!("{ANALYST_KEY}{}", super::group_key(&label));
                if let Some(same) = areas.iter().find(|a| a.key == key) {
                    return Err(Error::Invalid(format!(
                        "an area called {label:?} already exists (area {}); move the mentions there with `pds areas move`",
                        same.id
                    )));
                }
                let new = insert_area(
                    conn,
                    survey.id,
                    &NewArea {
                        key,
                        label: label.clone(),
                        origin: BY_ANALYST,
                        status: ACCEPTED,
                        labels: "{}".into(),
                        team: source.team.clone(),
                    },
                )?;
                let moved = move_mentions(
                    conn,
                    &ids,
                    new,
                    stamp,
                    &format!("split from {:?}", source.label),
                )?;
                (
                    "split",
                    new,
                    format!(
                        "{moved} mentions of {:?} (area {id}) into the new area {label:?}",
                        source.label
                    ),
                    Decided {
                        area: Some(new),
                        mentions: moved,
                    },
                )
            }
            Decision::Unmerge { area: id } => unmerge(conn, &areas, survey, *id, stamp)?,
            Decision::Move { mentions: ids, to } | Decision::Unmove { mentions: ids, to } => {
                let undo = matches!(decision, Decision::Unmove { .. });
                let target = area(*to)?;
                let ids = distinct(ids)?;
                let known: HashSet<i64> = mentions::table
                    .inner_join(responses::table)
                    .filter(responses::survey_id.eq(survey.id))
                    .filter(mentions::id.eq_any(&ids))
                    .select(mentions::id)
                    .load::<i64>(conn)?
                    .into_iter()
                    .collect();
                let unknown: Vec<String> = ids
                    .iter()
                    .filter(|m| !known.contains(m))
                    .map(i64::to_string)
                    .collect();
                if !unknown.is_empty() {
                    return Err(Error::NotFound(format!(
                        "survey {} has no mention {}; `pds areas show` lists mentions with their ids",
                        survey.slug,
                        unknown.join(", ")
                    )));
                }
                let note = if undo {
                    "moved back by an analyst"
                } else {
                    "moved by an analyst"
                };
                let moved = move_mentions(conn, &ids, *to, stamp, note)?;
                (
                    if undo { "unmove" } else { "move" },
                    *to,
                    if undo {
                        format!("{moved} mentions back to {:?}, reversing a move", target.label)
                    } else {
                        format!("{moved} mentions to {:?}", target.label)
                    },
                    Decided {
                        area: Some(*to),
                        mentions: moved,
                    },
                )
            }
            Decision::Accept { areas: ids } => {
                let mut total = 0;
                for id in ids {
                    area(*id)?;
                    diesel::update(areas::table.find(id))
                        .set(areas::status.eq(ACCEPTED))
                        .execute(conn)?;
                    total += diesel::update(
                        mentions::table
                            .filter(mentions::area_id.eq(id))
                            .filter(mentions::coded_by.eq_any([BY_RULE, BY_AUTOMATIC])),
                    )
                    .set((
                        mentions::coded_by.eq(BY_ANALYST),
                        mentions::coded_at.eq(stamp),
                        mentions::coding_note.eq("accepted by an analyst"),
                    ))
                    .execute(conn)?;
                }
                let names: Vec<String> = ids
                    .iter()
                    .filter_map(|id| areas.iter().find(|a| a.id == *id))
                    .map(|a| format!("{:?}", a.label))
                    .collect();
                (
                    "accept",
                    ids.first().copied().unwrap_or_default(),
                    format!("{} with {total} mentions", names.join(", ")),
                    Decided {
                        area: ids.first().copied(),
                        mentions: total,
                    },
                )
            }
        };
        diesel::insert_into(coding_decisions::table)
            .values((
                coding_decisions::survey_id.eq(survey.id),
                coding_decisions::action.eq(action),
                coding_decisions::area_id.eq(Some(area_id)),
                coding_decisions::detail.eq(&detail),
                coding_decisions::decided_at.eq(stamp),
            ))
            .execute(conn)?;
        Ok(decided)
    })
}

/// What reversing the merge of area `id` does; see [`Decision::Unmerge`].
fn unmerge(
    conn: &mut AnyConnection,
    areas: &[StoredArea],
    survey: &StoredSurvey,
    id: i64,
    stamp: chrono::NaiveDateTime,
) -> Result<(&'static str, i64, String, Decided)> {
    let merged = areas
        .iter()
        .find(|a| a.id == id && a.status == MERGED)
        .ok_or_else(|| {
            Error::Invalid(format!(
                "area {id} of survey {} is not merged, so there is no merge to undo",
                survey.slug
            ))
        })?;
    let into = merged.merged_into.unwrap_or_default();
    let into_label = areas
        .iter()
        .find(|a| a.id == into)
        .map(|a| a.label.clone())
        .unwrap_or_default();
    let back: Vec<i64> = mentions::table
        .filter(mentions::area_id.eq(into))
        .filter(mentions::coding_note.eq(format!("merged from {:?}", merged.label)))
        .select(mentions::id)
        .load(conn)?;
    let moved = move_mentions(conn, &back, id, stamp, "back after a merge was undone")?;
    diesel::update(areas::table.find(id))
        .set((
            areas::status.eq(ACCEPTED),
            areas::merged_into.eq(None::<i64>),
        ))
        .execute(conn)?;
    Ok((
        "unmerge",
        id,
        format!(
            "{:?} (area {id}, {moved} mentions) out of {into_label:?}, reversing the merge",
            merged.label
        ),
        Decided {
            area: Some(id),
            mentions: moved,
        },
    ))
}

fn move_mentions(
    conn: &mut AnyConnection,
    ids: &[i64],
    to: i64,
    stamp: chrono::NaiveDateTime,
    note: &str,
) -> Result<usize> {
    let mut moved = 0;
    for chunk in ids.chunks(1000) {
        moved += diesel::update(mentions::table.filter(mentions::id.eq_any(chunk)))
            .set((
                mentions::area_id.eq(to),
                mentions::coded_by.eq(BY_ANALYST),
                mentions::coded_at.eq(stamp),
                mentions::coding_note.eq(note),
            ))
            .execute(conn)?;
    }
    Ok(moved)
}

fn distinct(ids: &[i64]) -> Result<Vec<i64>> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Err(Error::Invalid(
            "name at least one mention id, e.g. --mentions 12,13".into(),
        ));
    }
    Ok(ids)
}

fn clean_label(label: &str) -> Result<String> {
    let label = label.trim();
    if super::group_key(label).is_empty() {
        return Err(Error::Invalid(format!(
            "the label {label:?} has no letters or digits; give the area a name"
        )));
    }
    if label.chars().count() > 200 {
        return Err(Error::Invalid(
            "an area label is at most 200 characters".into(),
        ));
    }
    Ok(label.to_string())
}

/// A line of the decisions log.
#[derive(Debug, Clone, Queryable)]
pub struct LoggedDecision {
    pub action: String,
    pub area_id: Option<i64>,
    pub detail: String,
    pub decided_at: chrono::NaiveDateTime,
}

/// The analysts' decisions of a survey, oldest first.
pub fn decisions_of(conn: &mut AnyConnection, survey_id: i64) -> Result<Vec<LoggedDecision>> {
    Ok(coding_decisions::table
        .filter(coding_decisions::survey_id.eq(survey_id))
        .order(coding_decisions::id)
        .select((
            coding_decisions::action,
            coding_decisions::area_id,
            coding_decisions::detail,
            coding_decisions::decided_at,
        ))
        .load(conn)?)
}
