//! Analysts' decisions on areas and mentions (rename, merge, split, move, accept
//! and their reversals), one function per kind, each applied in one transaction
//! with a line in the decisions log.

use std::collections::HashSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{
    areas_of, insert_area, NewArea, StoredArea, ACCEPTED, ANALYST_KEY, BY_ANALYST, BY_AUTOMATIC,
    BY_RULE, MERGED,
};
use crate::coding::group_key;
use crate::db::schema::{areas, coding_decisions, mentions, responses};
use crate::db::{now, AnyConnection, Database};
use crate::error::{Error, Result};
use crate::survey::StoredSurvey;

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

/// Applies an analyst's decision in one transaction and logs it. Every mention it
/// touches is marked `coded_by = analyst` with the time, so coding keeps it.
pub fn decide(db: &Database, survey: &StoredSurvey, decision: &Decision) -> Result<Decided> {
    db.write(|conn| -> Result<Decided> {
        let at = Context {
            areas: areas_of(conn, survey.id)?,
            survey,
            stamp: now(),
        };
        let done = match decision {
            Decision::Rename { area, label } => rename(conn, &at, *area, label)?,
            Decision::Merge { from, into } => merge(conn, &at, *from, *into)?,
            Decision::Split {
                area,
                mentions,
                label,
            } => split(conn, &at, *area, mentions, label)?,
            Decision::Unmerge { area } => unmerge(conn, &at, *area)?,
            Decision::Move { mentions, to } => move_to(conn, &at, mentions, *to, false)?,
            Decision::Unmove { mentions, to } => move_to(conn, &at, mentions, *to, true)?,
            Decision::Accept { areas } => accept(conn, &at, areas)?,
        };
        diesel::insert_into(coding_decisions::table)
            .values((
                coding_decisions::survey_id.eq(survey.id),
                coding_decisions::action.eq(done.action),
                coding_decisions::area_id.eq(Some(done.area)),
                coding_decisions::detail.eq(&done.detail),
                coding_decisions::decided_at.eq(at.stamp),
            ))
            .execute(conn)?;
        crate::survey::summary::coded(conn, survey.id, at.stamp)?;
        Ok(done.decided)
    })
}

/// What a decision is taken on: the survey, its areas before it, and its time.
struct Context<'a> {
    areas: Vec<StoredArea>,
    survey: &'a StoredSurvey,
    stamp: NaiveDateTime,
}

impl Context<'_> {
    /// A live (not merged) area of the survey.
    fn area(&self, id: i64) -> Result<&StoredArea> {
        self.areas
            .iter()
            .find(|a| a.id == id && a.status != MERGED)
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "survey {} has no area {id}; `pds areas list --survey {}` shows them",
                    self.survey.slug, self.survey.slug
                ))
            })
    }
}

/// A decision as applied: the log line and what the analyst is told.
struct Done {
    action: &'static str,
    area: i64,
    detail: String,
    decided: Decided,
}

impl Done {
    fn new(action: &'static str, area: i64, detail: String, mentions: usize) -> Done {
        Done {
            action,
            area,
            detail,
            decided: Decided {
                area: Some(area),
                mentions,
            },
        }
    }
}

fn rename(conn: &mut AnyConnection, at: &Context, id: i64, label: &str) -> Result<Done> {
    let old = at.area(id)?;
    let label = clean_label(label)?;
    diesel::update(areas::table.find(id))
        .set((areas::label.eq(&label), areas::status.eq(ACCEPTED)))
        .execute(conn)?;
    Ok(Done::new(
        "rename",
        id,
        format!("{:?} -> {label:?}", old.label),
        0,
    ))
}

fn merge(conn: &mut AnyConnection, at: &Context, from: i64, into: i64) -> Result<Done> {
    if from == into {
        return Err(Error::Invalid(format!(
            "cannot merge area {from} into itself; name two different areas"
        )));
    }
    let (source, target) = (at.area(from)?, at.area(into)?);
    // Area ids belong to one survey, so its mentions are all this survey's.
    let moved = diesel::update(mentions::table.filter(mentions::area_id.eq(from)))
        .set((
            mentions::area_id.eq(into),
            mentions::coded_by.eq(BY_ANALYST),
            mentions::coded_at.eq(at.stamp),
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
    Ok(Done::new(
        "merge",
        into,
        format!(
            "{:?} (area {from}, {moved} mentions) into {:?}",
            source.label, target.label
        ),
        moved,
    ))
}

fn split(
    conn: &mut AnyConnection,
    at: &Context,
    id: i64,
    ids: &[i64],
    label: &str,
) -> Result<Done> {
    let source = at.area(id)?;
    let label = clean_label(label)?;
    let ids = distinct(ids)?;
    let inside = mentions::table
        .filter(mentions::id.eq_any(&ids))
        .filter(mentions::area_id.eq(id))
        .select(mentions::id)
        .load::<i64>(conn)?;
    all_found(&ids, inside).map_err(|outside| {
        Error::Invalid(format!(
            "mention(s) {outside} are not in area {id} ({:?}); `pds areas show --survey {} {id}` lists its mentions",
            source.label, at.survey.slug
        ))
    })?;
    let key = format!("{ANALYST_KEY}{}", group_key(&label));
    if let Some(same) = at.areas.iter().find(|a| a.key == key) {
        return Err(Error::Invalid(format!(
            "an area called {label:?} already exists (area {}); move the mentions there with `pds areas move`",
            same.id
        )));
    }
    let new = insert_area(
        conn,
        at.survey.id,
        &NewArea {
            key,
            label: label.clone(),
            origin: BY_ANALYST,
            status: ACCEPTED,
            labels: "{}".into(),
            team: source.team.clone(),
        },
    )?;
    let note = format!("split from {:?}", source.label);
    let moved = move_mentions(conn, &ids, new, at.stamp, &note)?;
    Ok(Done::new(
        "split",
        new,
        format!(
            "{moved} mentions of {:?} (area {id}) into the new area {label:?}",
            source.label
        ),
        moved,
    ))
}

/// A move, or (`undo`) the reversal of one: the mentions go to area `to`.
fn move_to(
    conn: &mut AnyConnection,
    at: &Context,
    ids: &[i64],
    to: i64,
    undo: bool,
) -> Result<Done> {
    let target = at.area(to)?;
    let ids = distinct(ids)?;
    let known = mentions::table
        .inner_join(responses::table)
        .filter(responses::survey_id.eq(at.survey.id))
        .filter(mentions::id.eq_any(&ids))
        .select(mentions::id)
        .load::<i64>(conn)?;
    all_found(&ids, known).map_err(|unknown| {
        Error::NotFound(format!(
            "survey {} has no mention {unknown}; `pds areas show` lists mentions with their ids",
            at.survey.slug
        ))
    })?;
    let note = if undo {
        "moved back by an analyst"
    } else {
        "moved by an analyst"
    };
    let moved = move_mentions(conn, &ids, to, at.stamp, note)?;
    let (action, detail) = if undo {
        (
            "unmove",
            format!(
                "{moved} mentions back to {:?}, reversing a move",
                target.label
            ),
        )
    } else {
        ("move", format!("{moved} mentions to {:?}", target.label))
    };
    Ok(Done::new(action, to, detail, moved))
}

fn accept(conn: &mut AnyConnection, at: &Context, ids: &[i64]) -> Result<Done> {
    let mut total = 0;
    for id in ids {
        at.area(*id)?;
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
            mentions::coded_at.eq(at.stamp),
            mentions::coding_note.eq("accepted by an analyst"),
        ))
        .execute(conn)?;
    }
    let names: Vec<String> = ids
        .iter()
        .filter_map(|id| at.areas.iter().find(|a| a.id == *id))
        .map(|a| format!("{:?}", a.label))
        .collect();
    Ok(Done {
        action: "accept",
        area: ids.first().copied().unwrap_or_default(),
        detail: format!("{} with {total} mentions", names.join(", ")),
        decided: Decided {
            area: ids.first().copied(),
            mentions: total,
        },
    })
}

/// Reverses the merge of area `id`; see [`Decision::Unmerge`].
fn unmerge(conn: &mut AnyConnection, at: &Context, id: i64) -> Result<Done> {
    let merged = at
        .areas
        .iter()
        .find(|a| a.id == id && a.status == MERGED)
        .ok_or_else(|| {
            Error::Invalid(format!(
                "area {id} of survey {} is not merged, so there is no merge to undo",
                at.survey.slug
            ))
        })?;
    let into = merged.merged_into.unwrap_or_default();
    let into_label = at
        .areas
        .iter()
        .find(|a| a.id == into)
        .map(|a| a.label.clone())
        .unwrap_or_default();
    let back: Vec<i64> = mentions::table
        .filter(mentions::area_id.eq(into))
        .filter(mentions::coding_note.eq(format!("merged from {:?}", merged.label)))
        .select(mentions::id)
        .load(conn)?;
    let moved = move_mentions(conn, &back, id, at.stamp, "back after a merge was undone")?;
    diesel::update(areas::table.find(id))
        .set((
            areas::status.eq(ACCEPTED),
            areas::merged_into.eq(None::<i64>),
        ))
        .execute(conn)?;
    Ok(Done::new(
        "unmerge",
        id,
        format!(
            "{:?} (area {id}, {moved} mentions) out of {into_label:?}, reversing the merge",
            merged.label
        ),
        moved,
    ))
}

/// Whether every id of `ids` was `found`; if not, the ids missing,
/// comma-separated, for the error.
fn all_found(ids: &[i64], found: Vec<i64>) -> std::result::Result<(), String> {
    let found: HashSet<i64> = found.into_iter().collect();
    let missing: Vec<String> = ids
        .iter()
        .filter(|m| !found.contains(m))
        .map(i64::to_string)
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(missing.join(", "))
    }
}

fn move_mentions(
    conn: &mut AnyConnection,
    ids: &[i64],
    to: i64,
    stamp: NaiveDateTime,
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
    if group_key(label).is_empty() {
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
