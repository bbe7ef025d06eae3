//! One coding run (`pds code`): reads a survey's codebook, areas and mentions,
//! codes the undecided mentions (rules, then what analysts' decisions teach, then
//! automatic grouping) and stores where each goes, in one transaction.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use super::{
    areas_of, insert_area, is_decided, load_codebook, mentions_where, NewArea, StoredArea,
    StoredMention, Which, AUTO_KEY, BY_ANALYST, BY_AUTOMATIC, BY_IMPORT, BY_NONE, BY_RULE,
    PROPOSED, RULE_KEY,
};
use crate::coding::learn::{Learned, LearningOptions};
use crate::coding::{
    code_mentions, Analyzer, Assignment, Codebook, Coding, CodingResult, GroupingOptions,
    MentionText, RuleMatch,
};
use crate::db::schema::{areas, mentions, responses};
use crate::db::{now, AnyConnection, Database};
use crate::error::Result;
use crate::survey::StoredSurvey;

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

/// Most decided mentions a run reads. Beyond it, a sample of them (every k-th of each
/// area, by id) stands for all of them in grouping and learning, so that a survey of
/// a million respondents codes its new mentions in seconds, not minutes.
pub const DECIDED_SAMPLE: usize = 50_000;

/// Mentions stored per statement.
const BATCH: usize = 500;

/// Codes every mention of `survey` not decided by an analyst: codebook rules first,
/// then what the analysts' decisions teach, then automatic grouping. Decided mentions
/// keep their area, and a proposal whose decided mentions mostly sit in one area
/// joins that area; decided mentions are all read up to [`DECIDED_SAMPLE`], a
/// sample of each area beyond. Everything is stored in one transaction; running it
/// again on the same data changes nothing. `progress(done, total)` follows the storing.
pub fn code_survey(
    db: &Database,
    survey: &StoredSurvey,
    options: &GroupingOptions,
    progress: &dyn Fn(u64, u64),
) -> Result<CodingRun> {
    let (codebook, (all, decided), stored_areas) = {
        let mut conn = db.conn()?;
        let codebook = load_codebook(&mut conn, survey.id)?
            .map(|c| c.codebook)
            .unwrap_or_default();
        (
            codebook,
            mentions_to_code(&mut conn, survey.id)?,
            areas_of(&mut conn, survey.id)?,
        )
    };
    let texts: Vec<MentionText<'_>> = all
        .iter()
        .map(|m| MentionText::new(&m.text, m.locale))
        .collect();
    let result = code_mentions(&texts, &codebook, options);
    let areas = KnownAreas::new(&stored_areas);
    // Rules come first, so only what no rule covers is asked of the model.
    let asked: Vec<bool> = result
        .codings
        .iter()
        .map(|c| !matches!(c, Coding::Rule(_)))
        .collect();
    let learned = learn_from_decisions(&all, &texts, &asked, &areas);
    let places = ProposalPlaces::new(&all, &result, &areas);
    let undecided = all.iter().filter(|m| !is_decided(m.coded_by.as_deref()));
    let mut run = CodingRun {
        mentions: undecided.count() + decided,
        decided,
        ..CodingRun::default()
    };
    let plan = Plan {
        codebook: &codebook,
        result: &result,
        areas: &areas,
        places: &places,
        learned: &learned,
    };
    let planned = plan.all(&all, &mut run);
    db.write(|conn| store(conn, survey, &plan, &all, &planned, &mut run, progress))?;
    Ok(run)
}

/// The mentions a run reads, by id: every undecided one, and the decided ones (all,
/// or a sample of each area when there are more than [`DECIDED_SAMPLE`]); and how
/// many mentions are decided.
fn mentions_to_code(
    conn: &mut AnyConnection,
    survey_id: i64,
) -> Result<(Vec<StoredMention>, usize)> {
    let decided: Vec<(i64, Option<i64>)> = mentions::table
        .inner_join(responses::table)
        .filter(responses::survey_id.eq(survey_id))
        .filter(mentions::coded_by.eq_any([BY_ANALYST, BY_IMPORT]))
        .select((mentions::id, mentions::area_id))
        .order(mentions::id)
        .load(conn)?;
    let Some(sample) = sample(&decided, DECIDED_SAMPLE) else {
        return Ok((mentions_where(conn, survey_id, Which::All)?, decided.len()));
    };
    let sample: HashSet<i64> = sample.into_iter().collect();
    let chosen = mentions_where(conn, survey_id, Which::UndecidedAnd(&sample))?;
    Ok((chosen, decided.len()))
}

/// `None` when there are at most `most` decided mentions (`(id, area)` by id), else
/// the ids of every k-th mention of each area: about `most`, each area's share kept,
/// and no area left out.
fn sample(decided: &[(i64, Option<i64>)], most: usize) -> Option<Vec<i64>> {
    if decided.len() <= most {
        return None;
    }
    let stride = decided.len().div_ceil(most.max(1));
    let mut seen: HashMap<Option<i64>, usize> = HashMap::new();
    let ids = decided
        .iter()
        .filter(|(_, area)| {
            let n = seen.entry(*area).or_default();
            *n += 1;
            (*n - 1) % stride == 0
        })
        .map(|(id, _)| *id)
        .collect();
    Some(ids)
}

/// The survey's stored areas by id and key.
struct KnownAreas<'a> {
    by_id: HashMap<i64, &'a StoredArea>,
    by_key: HashMap<&'a str, &'a StoredArea>,
}

impl<'a> KnownAreas<'a> {
    fn new(areas: &'a [StoredArea]) -> Self {
        KnownAreas {
            by_id: areas.iter().map(|a| (a.id, a)).collect(),
            by_key: areas.iter().map(|a| (a.key.as_str(), a)).collect(),
        }
    }

    /// Follows merges to the area that now holds a merged area's mentions.
    fn resolve(&self, mut id: i64) -> i64 {
        for _ in 0..self.by_id.len() {
            match self.by_id.get(&id).and_then(|a| a.merged_into) {
                Some(next) => id = next,
                None => break,
            }
        }
        id
    }

    /// The area stored under `key`, followed through merges.
    fn keyed(&self, key: &str) -> Option<i64> {
        self.by_key.get(key).map(|a| self.resolve(a.id))
    }

    /// An area's label as a note quotes it.
    fn name(&self, id: i64) -> String {
        self.by_id
            .get(&id)
            .map_or_else(|| format!("area {id}"), |a| format!("{:?}", a.label))
    }
}

/// What the decided mentions say of each proposal of automatic grouping.
struct ProposalPlaces {
    /// The analyst's area a proposal continues: where most of its decided mentions sit.
    continued: Vec<Option<i64>>,
    /// The first undecided mention of each proposal: its stable key.
    first_of: Vec<Option<i64>>,
}

impl ProposalPlaces {
    fn new(all: &[StoredMention], result: &CodingResult, areas: &KnownAreas) -> Self {
        let count = result.proposals.len();
        let mut decided_in: Vec<HashMap<i64, usize>> = vec![HashMap::new(); count];
        let mut first_of: Vec<Option<i64>> = vec![None; count];
        for (m, coding) in all.iter().zip(&result.codings) {
            let Coding::Automatic(a) = coding else {
                continue;
            };
            if is_decided(m.coded_by.as_deref()) {
                if let Some(area) = m.area_id {
                    *decided_in[a.proposal]
                        .entry(areas.resolve(area))
                        .or_default() += 1;
                }
            } else if first_of[a.proposal].is_none() {
                first_of[a.proposal] = Some(m.id);
            }
        }
        let continued = decided_in
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
        ProposalPlaces {
            continued,
            first_of,
        }
    }
}

/// Where one undecided mention goes: `all[index]` into `target`, with who and why.
struct Planned {
    index: usize,
    target: Target,
    by: &'static str,
    note: String,
}

/// Everything a run decides from.
struct Plan<'a> {
    codebook: &'a Codebook,
    result: &'a CodingResult,
    areas: &'a KnownAreas<'a>,
    places: &'a ProposalPlaces,
    learned: &'a [LearnedCoding],
}

impl Plan<'_> {
    /// Where every undecided mention goes, counting in `run` how it was coded.
    fn all(&self, all: &[StoredMention], run: &mut CodingRun) -> Vec<Planned> {
        let mut planned = Vec::new();
        for (index, (m, coding)) in all.iter().zip(&self.result.codings).enumerate() {
            if is_decided(m.coded_by.as_deref()) {
                continue;
            }
            let learned = &self.learned[index];
            let (target, by, note) = match coding {
                Coding::Rule(rule) => {
                    run.by_rule += 1;
                    self.by_rule(rule)
                }
                Coding::Automatic(_) | Coding::Uncoded if learned.sure.is_some() => {
                    run.automatic += 1;
                    let (area, note) = learned.sure.clone().unwrap_or_default();
                    (Target::Area(AreaRef::Existing(area)), BY_AUTOMATIC, note)
                }
                Coding::Automatic(a) => {
                    run.automatic += 1;
                    self.by_grouping(a)
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
            let note = match (&learned.unsure, by) {
                (Some(unsure), BY_AUTOMATIC) => format!("{note}; {unsure}"),
                _ => note,
            };
            planned.push(Planned {
                index,
                target,
                by,
                note,
            });
        }
        planned
    }

    /// A codebook rule's area: stored already (perhaps merged since), or to create.
    fn by_rule(&self, rule: &RuleMatch) -> (Target, &'static str, String) {
        let index = self
            .codebook
            .areas
            .iter()
            .position(|a| a.id == rule.area)
            .unwrap_or_default();
        let target = match self.areas.keyed(&format!("{RULE_KEY}{}", rule.area)) {
            Some(id) => AreaRef::Existing(id),
            None => AreaRef::Rule(index),
        };
        (Target::Area(target), BY_RULE, rule.to_string())
    }

    /// A proposal's area: the analyst's area it continues, the area stored for it
    /// by an earlier run, or a new one.
    fn by_grouping(&self, a: &Assignment) -> (Target, &'static str, String) {
        let proposal = &self.result.proposals[a.proposal];
        if let Some(area) = self.places.continued[a.proposal] {
            let note = format!(
                "similar ({:.2}) to mentions an analyst put in this area (proposal {:?})",
                a.similarity, proposal.label
            );
            return (Target::Area(AreaRef::Existing(area)), BY_AUTOMATIC, note);
        }
        let key = self.places.first_of[a.proposal].map(|id| format!("{AUTO_KEY}{id}"));
        let target = match key.as_deref().and_then(|k| self.areas.keyed(k)) {
            Some(id) => AreaRef::Existing(id),
            None => AreaRef::Proposal(a.proposal),
        };
        let note = format!(
            "similar ({:.2}) to the proposal {:?}",
            a.similarity, proposal.label
        );
        (Target::Area(target), BY_AUTOMATIC, note)
    }
}

/// Stores the planned codings (areas created as first needed), then removes the
/// proposed areas no mention is in any more.
fn store(
    conn: &mut AnyConnection,
    survey: &StoredSurvey,
    plan: &Plan,
    all: &[StoredMention],
    planned: &[Planned],
    run: &mut CodingRun,
    progress: &dyn Fn(u64, u64),
) -> Result<()> {
    let stamp = now();
    let total = planned.len() as u64;
    let mut created: HashMap<AreaRef, i64> = HashMap::new();
    let mut changes = Changes::start(conn)?;
    for (done, p) in planned.iter().enumerate() {
        let m = &all[p.index];
        let area_id = match &p.target {
            Target::Nowhere => None,
            Target::Area(AreaRef::Existing(id)) => Some(*id),
            Target::Area(r) => Some(match created.get(r) {
                Some(id) => *id,
                None => {
                    let id = create_area(conn, survey, plan, r, m.id)?;
                    created.insert(r.clone(), id);
                    id
                }
            }),
        };
        let unchanged = m.area_id == area_id
            && m.coded_by.as_deref() == Some(p.by)
            && m.note.as_deref() == Some(p.note.as_str());
        if !unchanged {
            let change = Change {
                id: m.id,
                area_id,
                coded_by: p.by,
                note: &p.note,
                coded_at: stamp,
            };
            changes.add(conn, change)?;
            run.changed += 1;
        }
        let done = done as u64 + 1;
        if done % 1000 == 0 || done == total {
            progress(done, total);
        }
    }
    changes.apply(conn)?;
    run.areas = remove_empty_proposals(conn, survey.id)?;
    Ok(())
}

diesel::table! {
    /// The codings a run changes, gathered to be stored by one statement.
    coding_changes (id) {
        id -> BigInt,
        area_id -> Nullable<BigInt>,
        coded_by -> Text,
        note -> Text,
        coded_at -> Timestamp,
    }
}

/// One mention's new coding.
#[derive(Insertable)]
#[diesel(table_name = coding_changes, treat_none_as_default_value = false)]
struct Change<'a> {
    id: i64,
    area_id: Option<i64>,
    coded_by: &'a str,
    note: &'a str,
    coded_at: NaiveDateTime,
}

/// Changed codings, written to a temporary table [`BATCH`] rows per statement
/// and then into `mentions` by one `UPDATE ... FROM` (SQLite 3.33+, PostgreSQL).
struct Changes<'a> {
    pending: Vec<Change<'a>>,
}

impl<'a> Changes<'a> {
    fn start(conn: &mut AnyConnection) -> Result<Self> {
        conn.batch_execute(
            "DROP TABLE IF EXISTS coding_changes; \
             CREATE TEMPORARY TABLE coding_changes (id BIGINT PRIMARY KEY, area_id BIGINT, \
             coded_by TEXT NOT NULL, note TEXT NOT NULL, coded_at TIMESTAMP NOT NULL)",
        )?;
        Ok(Changes {
            pending: Vec::with_capacity(BATCH),
        })
    }

    fn add(&mut self, conn: &mut AnyConnection, change: Change<'a>) -> Result<()> {
        self.pending.push(change);
        if self.pending.len() == BATCH {
            self.flush(conn)?;
        }
        Ok(())
    }

    fn flush(&mut self, conn: &mut AnyConnection) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        // Multi-row inserts are typed per backend: the union of both has no DEFAULT.
        let insert = diesel::insert_into(coding_changes::table).values(&self.pending);
        match conn {
            AnyConnection::Sqlite(c) => insert.execute(c)?,
            AnyConnection::Postgresql(c) => insert.execute(c)?,
        };
        self.pending.clear();
        Ok(())
    }

    /// Stores the changes, but not over a decision an analyst took while coding ran.
    fn apply(mut self, conn: &mut AnyConnection) -> Result<()> {
        self.flush(conn)?;
        conn.batch_execute(&format!(
            "UPDATE mentions SET area_id = c.area_id, coded_by = c.coded_by, \
             coded_at = c.coded_at, coding_note = c.note \
             FROM coding_changes AS c WHERE mentions.id = c.id \
             AND (mentions.coded_by IS NULL \
             OR mentions.coded_by NOT IN ('{BY_ANALYST}', '{BY_IMPORT}')); \
             DROP TABLE coding_changes"
        ))?;
        Ok(())
    }
}

/// Stores a codebook area or a proposal of grouping as a proposed area.
fn create_area(
    conn: &mut AnyConnection,
    survey: &StoredSurvey,
    plan: &Plan,
    area: &AreaRef,
    mention: i64,
) -> Result<i64> {
    let new = match area {
        AreaRef::Existing(id) => return Ok(*id),
        AreaRef::Rule(index) => {
            let area = &plan.codebook.areas[*index];
            let labels: BTreeMap<&str, &str> = area
                .labels
                .iter()
                .map(|(l, s)| (l.as_str(), s.as_str()))
                .collect();
            NewArea {
                key: format!("{RULE_KEY}{}", area.id),
                label: area.label(survey.survey.default_locale).to_string(),
                origin: BY_RULE,
                status: PROPOSED,
                labels: serde_json::to_string(&labels).unwrap_or_else(|_| "{}".into()),
                team: area.team.clone(),
            }
        }
        AreaRef::Proposal(p) => NewArea {
            key: format!("{AUTO_KEY}{}", plan.places.first_of[*p].unwrap_or(mention)),
            label: plan.result.proposals[*p].label.clone(),
            origin: BY_AUTOMATIC,
            status: PROPOSED,
            labels: "{}".into(),
            team: None,
        },
    };
    insert_area(conn, survey.id, &new)
}

/// Deletes the proposed areas of rules or grouping that no mention is in any more;
/// returns how many areas are in use.
fn remove_empty_proposals(conn: &mut AnyConnection, survey_id: i64) -> Result<usize> {
    let proposed: Vec<i64> = areas::table
        .filter(areas::survey_id.eq(survey_id))
        .filter(areas::status.eq(PROPOSED))
        .select(areas::id)
        .load(conn)?;
    let used: HashSet<i64> = mentions::table
        .inner_join(responses::table)
        .filter(responses::survey_id.eq(survey_id))
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
    Ok(used.len())
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
    areas: &KnownAreas,
) -> Vec<LearnedCoding> {
    let mut area_ids: Vec<i64> = Vec::new();
    let mut examples = Vec::new();
    let mut labels = Vec::new();
    for (m, text) in all.iter().zip(texts) {
        if let (true, Some(area)) = (is_decided(m.coded_by.as_deref()), m.area_id) {
            let area = areas.resolve(area);
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
    let analyzer = Analyzer::new();
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
    let name = |l: usize| areas.name(area_ids[l]);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sample_keeps_every_area_and_its_share() {
        // 8,933 mentions in area 1, 900 in area 2, 9 in area 3, 91 without one.
        let decided: Vec<(i64, Option<i64>)> = (0..9933)
            .map(|i| {
                let area = match i % 1000 {
                    0..=2 if i < 3000 => Some(3),
                    0..=9 => None,
                    10..=99 => Some(2),
                    _ => Some(1),
                };
                (i, area)
            })
            .collect();
        assert_eq!(sample(&decided, 9933), None);
        let ids = sample(&decided, 1000).unwrap_or_default();
        let area = |id: i64| decided[id as usize].1;
        let count = |a: Option<i64>| ids.iter().filter(|&&id| area(id) == a).count();
        assert!((950..=1000).contains(&ids.len()), "{}", ids.len());
        assert_eq!(count(Some(3)), 1);
        assert_eq!(count(None), 10);
        assert_eq!(count(Some(2)), 90);
        assert_eq!(count(Some(1)), 894);
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
    }
}
