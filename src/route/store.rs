//! A survey's routing rules in the database (`routing` table), and the parsed
//! rules kept per survey so an answer does not parse them again.

use super::rules::Routing;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use diesel::prelude::*;

use crate::db::schema::routing;
use crate::db::{now, AnyConnection};
use crate::error::{Error, Result};

/// The routing rules stored for a survey, if any, parsed now.
pub fn load(conn: &mut AnyConnection, survey_id: i64) -> Result<Option<Routing>> {
    stored_source(conn, survey_id)?
        .map(|source| parse_stored(&source))
        .transpose()
}

fn stored_source(conn: &mut AnyConnection, survey_id: i64) -> Result<Option<String>> {
    Ok(routing::table
        .find(survey_id)
        .select(routing::definition)
        .first(conn)
        .optional()?)
}

fn parse_stored(source: &str) -> Result<Routing> {
    Routing::parse(source, "stored routing.toml")
        .map_err(|e| Error::Internal(format!("the stored routing rules are damaged: {e}")))
}

/// Routing rules already parsed, by survey. Parsing `routing.toml` (the TOML and
/// every keyword normalised) costs more than the rest of storing an answer, and
/// answers are stored one at a time, so it is done once per text: the stored text
/// is still read each time and compared, so `pds route set` from another process
/// applies to the next answer. One entry per survey that has received answers.
/// The server keeps one in its state (`web::AppState`); a command makes one for
/// its run.
#[derive(Debug, Default)]
pub struct ParsedRules(Mutex<HashMap<i64, Arc<Routing>>>);

impl ParsedRules {
    /// Like [`load`], sharing rules parsed before while their text is unchanged.
    pub(super) fn load(
        &self,
        conn: &mut AnyConnection,
        survey_id: i64,
    ) -> Result<Option<Arc<Routing>>> {
        let Some(source) = stored_source(conn, survey_id)? else {
            return Ok(None);
        };
        let cached = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(&survey_id)
            .filter(|r| r.source == source)
            .cloned();
        if let Some(routing) = cached {
            return Ok(Some(routing));
        }
        let parsed = Arc::new(parse_stored(&source)?);
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(survey_id, parsed.clone());
        Ok(Some(parsed))
    }
}

/// Stores (or replaces) a survey's routing rules; the caller has validated them.
pub fn save(conn: &mut AnyConnection, survey_id: i64, routing: &Routing) -> Result<()> {
    let stamp = now();
    let updated = diesel::update(routing::table.find(survey_id))
        .set((
            routing::definition.eq(&routing.source),
            routing::updated_at.eq(stamp),
        ))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(routing::table)
            .values((
                routing::survey_id.eq(survey_id),
                routing::definition.eq(&routing.source),
                routing::updated_at.eq(stamp),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// How fast the teams of survey `survey_id` act on its cases at `now`
/// (`pds cases stats` and the dashboard's case figures): each team's service
/// levels come from the survey's routing rules. Returns the number of cases too.
pub fn case_figures(
    conn: &mut AnyConnection,
    survey_id: i64,
    now: chrono::NaiveDateTime,
) -> Result<(usize, crate::cases::stats::Stats)> {
    use crate::cases::stats::{self, Deadlines};
    let routing = load(conn, survey_id)?;
    let cases = crate::cases::team::load(conn, survey_id, &[], None)?;
    let deadlines = |team: &str| {
        routing
            .as_ref()
            .and_then(|r| r.teams.get(team))
            .map(|t| Deadlines {
                ack_within: t.sla.ack_within,
                resolve_within: t.sla.resolve_within,
                calendar: t.sla.calendar.clone(),
            })
            .unwrap_or_default()
    };
    Ok((cases.len(), stats::compute(&cases, deadlines, now)))
}
