//! One coding run (`pds code`): reads a survey's codebook, areas and mentions,
//! codes the undecided mentions (rules, then what analysts' decisions teach, then
//! automatic grouping) and stores where each goes, in one transaction.
//!
//! Here: the run in order and which mentions it reads; what it decides for each
//! mention is `plan.rs`, how that is written is `write.rs`.

mod plan;
mod write;

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;

use super::{
    areas_of, is_decided, load_codebook, mentions_where, StoredMention, Which, BY_ANALYST,
    BY_IMPORT,
};
use crate::coding::{code_mentions, Coding, GroupingOptions, MentionText};
use crate::db::schema::{mentions, responses};
use crate::db::{AnyConnection, Database};
use crate::error::Result;
use crate::survey::StoredSurvey;
use plan::{learn_from_decisions, KnownAreas, Plan, ProposalPlaces};
use write::store;

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

/// Most decided mentions a run reads. Beyond it, a sample of them (every k-th of each
/// area, by id) stands for all of them in grouping and learning, so that a survey of
/// a million respondents codes its new mentions in seconds, not minutes.
pub const DECIDED_SAMPLE: usize = 50_000;

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
