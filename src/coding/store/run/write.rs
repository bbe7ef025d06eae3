//! A coding run's plan written in one transaction: areas created as first
//! needed, changed codings gathered in a temporary table and applied by one
//! statement (never over an analyst's decision taken meanwhile), and proposals
//! left empty removed.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use super::super::{
    insert_area, NewArea, StoredMention, AUTO_KEY, BY_ANALYST, BY_AUTOMATIC, BY_IMPORT, BY_RULE,
    PROPOSED, RULE_KEY,
};
use super::plan::{AreaRef, Plan, Planned, Target};
use super::CodingRun;
use crate::db::schema::{areas, mentions, responses};
use crate::db::{now, AnyConnection};
use crate::error::Result;
use crate::survey::StoredSurvey;

/// Mentions stored per statement.
const BATCH: usize = 500;

/// Stores the planned codings (areas created as first needed), then removes the
/// proposed areas no mention is in any more.
pub(super) fn store(
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
    if run.changed > 0 {
        crate::survey::summary::coded(conn, survey.id, stamp)?;
    }
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
