//! Reads what results need from the database: the responses of some waves with
//! their mentions (in areas as [`super::areas::group`] decides, the uncoded ones
//! apart), and invitation
//! counts for response rates. Both backends run these same queries.

mod chunk;

use std::collections::{BTreeMap, HashMap};
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use diesel::prelude::*;

use super::areas::{self, Area, Numbering};
use crate::attributes::Attributes;
use crate::config::DatabaseUrl;
use crate::db::schema::{areas as areas_t, invitations, mentions, responses};
use crate::db::{self, AnyConnection};
use crate::error::Result;
use crate::stats;

/// Response ids read per query, and whose mentions are read per query: bounds the
/// rows held at once (PostgreSQL's client keeps a whole result in memory).
const CHUNK: usize = 50_000;

/// One response, ready for the statistics. What only some views need (segment
/// columns, who answered, answer times) is read by those views.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Respondent {
    pub response_id: i64,
    pub wave_id: i64,
    /// Answered through the emailed link (so the answer time is the respondent's).
    pub via_form: bool,
}

/// Responses of the waves asked for, and the areas their mentions fall in.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    /// Ordered by response id.
    pub respondents: Vec<Respondent>,
    /// The mentions of each respondent (same order), with the index of their area in
    /// [`Loaded::areas`], ordered by rank; in one flat store, not a vec each.
    pub mentions: stats::FlatMentions,
    pub areas: Vec<Area>,
    /// Mentions in no area, by response and rank.
    pub uncoded: Vec<UncodedMention>,
}

/// A mention that counts in no area (yet).
#[derive(Debug, Clone)]
pub struct UncodedMention {
    pub response_id: i64,
    pub wave_id: i64,
    /// As the customer wrote it.
    pub text: String,
    /// `None`: coding has not run since it arrived; `Some("none")`: coding could not
    /// place it.
    pub coded_by: Option<String>,
}

/// Which responses: a survey's, of some waves or all.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub survey_id: i64,
    pub wave_ids: Option<&'a [i64]>,
}

/// Loads the responses in `scope`, ordered by id, with their coded mentions as
/// area numbers (no text is read but that of mentions in no area).
///
/// Responses are read by ranges of `CHUNK` ids, each with its mentions. A second
/// connection reads ranges on a thread of its own (on SQLite a connection to the
/// same file; on PostgreSQL one to `postgres_url`, when given), each reader taking
/// the next range not yet taken, while this thread takes the ranges read in order
/// (areas are numbered in order of first mention).
pub fn responses_of(
    conn: &mut AnyConnection,
    scope: Scope,
    postgres_url: Option<&DatabaseUrl>,
) -> Result<Loaded> {
    responses_in_ranges(conn, scope, postgres_url, CHUNK as i64)
}

/// [`responses_of`], reading ranges of `width` response ids.
fn responses_in_ranges(
    conn: &mut AnyConnection,
    scope: Scope,
    postgres_url: Option<&DatabaseUrl>,
    width: i64,
) -> Result<Loaded> {
    let ranges = id_ranges(conn, scope, width)?;
    let second = match ranges.len() {
        0 | 1 => None,
        _ => db::second_reader(conn, postgres_url)?,
    };
    let mut taken = Taken::new(ranges.len());
    match second {
        None => {
            let (mut rows, mut chunk) = (Vec::new(), chunk::Chunk::default());
            for ids in ranges {
                chunk = chunk::read(conn, scope, ids, &mut rows, chunk)?;
                taken.take(conn, &mut chunk)?;
            }
        }
        Some(other) => read_beside(conn, other, scope, &ranges, &mut taken)?,
    }
    Ok(Loaded {
        areas: taken.areas.numbering.areas,
        ..taken.loaded
    })
}

/// Reads `ranges` on `conn` and on `other` (on a thread of its own), each taking
/// the next range not yet taken, and takes them in order. This thread reads a
/// range only while the next one to take is not ready, so the time it spends
/// taking is made up by the other reading more.
fn read_beside(
    conn: &mut AnyConnection,
    mut other: AnyConnection,
    scope: Scope,
    ranges: &[RangeInclusive<i64>],
    taken: &mut Taken,
) -> Result<()> {
    let next = AtomicUsize::new(0);
    let next_range = || Some(next.fetch_add(1, Ordering::Relaxed)).filter(|&i| i < ranges.len());
    // Chunks taken, to be read into again.
    let spares: Mutex<Vec<chunk::Chunk>> = Mutex::new(Vec::new());
    let spare = || {
        let mut spares = spares.lock().unwrap_or_else(PoisonError::into_inner);
        spares.pop().unwrap_or_default()
    };
    std::thread::scope(|threads| {
        // Bounded, so that the other reader cannot run far ahead of the taking.
        let (sender, received) = std::sync::mpsc::sync_channel(2);
        threads.spawn(move || {
            let mut rows = Vec::new();
            while let Some(i) = next_range() {
                let read = chunk::read(&mut other, scope, ranges[i].clone(), &mut rows, spare());
                let failed = read.is_err();
                if sender.send((i, read)).is_err() || failed {
                    return;
                }
            }
        });
        let mut rows = Vec::new();
        let mut ready: BTreeMap<usize, chunk::Chunk> = BTreeMap::new();
        for i in 0..ranges.len() {
            let mut chunk = loop {
                if let Some(chunk) = ready.remove(&i) {
                    break chunk;
                }
                let (j, read) = match next_range() {
                    Some(j) => {
                        let ids = ranges[j].clone();
                        (j, chunk::read(conn, scope, ids, &mut rows, spare()))
                    }
                    None => received.recv().map_err(|_| {
                        crate::error::Error::Internal("the second reader stopped".into())
                    })?,
                };
                ready.insert(j, read?);
                while let Ok((j, read)) = received.try_recv() {
                    ready.insert(j, read?);
                }
            };
            taken.take(conn, &mut chunk)?;
            (spares.lock().unwrap_or_else(PoisonError::into_inner)).push(chunk);
        }
        Ok(())
    })
}

/// The ranges of `width` response ids from the first response in `scope` to the
/// last; none if there is no response.
fn id_ranges(
    conn: &mut AnyConnection,
    scope: Scope,
    width: i64,
) -> Result<Vec<RangeInclusive<i64>>> {
    let mut end = |last: bool| -> Result<Option<i64>> {
        // The primary key walked from one end to the first response in scope
        // (see `unindexed_survey_id`).
        let mut query = responses::table
            .filter(unindexed_survey_id().eq(scope.survey_id))
            .select(responses::id)
            .into_boxed();
        if let Some(ids) = scope.wave_ids {
            query = query.filter(responses::wave_id.eq_any(ids.to_vec()));
        }
        query = if last {
            query.order(responses::id.desc())
        } else {
            query.order(responses::id)
        };
        Ok(query.first::<i64>(conn).optional()?)
    };
    let (Some(first), Some(last)) = (end(false)?, end(true)?) else {
        return Ok(Vec::new());
    };
    let width = width.max(1);
    Ok((first..=last)
        .step_by(width as usize)
        .map(|start| start..=start.saturating_add(width - 1).min(last))
        .collect())
}

/// What [`responses_of`] has taken from the ranges read so far.
struct Taken {
    /// Ranges not taken yet.
    left: usize,
    loaded: Loaded,
    areas: AreaNumbers,
}

impl Taken {
    fn new(ranges: usize) -> Self {
        Taken {
            left: ranges,
            loaded: Loaded::default(),
            areas: AreaNumbers::default(),
        }
    }

    /// Takes the next range's `chunk` (left to be read into again), numbering its
    /// areas.
    fn take(&mut self, conn: &mut AnyConnection, chunk: &mut chunk::Chunk) -> Result<()> {
        self.areas.read_labels(conn, &chunk.area_ids)?;
        let numbers: Vec<Option<usize>> = (chunk.area_ids.iter())
            .map(|&id| self.areas.number(id))
            .collect();
        chunk.mentions.renumber(|area| numbers[area]);
        if numbers.contains(&None) {
            // Rare: an area id that names no area counts as not coded; read this
            // range's mentions in no area again, with those.
            chunk.uncoded.clear();
            let unknown = self.areas.unknown();
            uncoded_between(conn, &chunk.respondents, &unknown, &mut chunk.uncoded)?;
        }
        let loaded = &mut self.loaded;
        if loaded.respondents.is_empty() {
            // Room for as many in each range left as in this one: at once the
            // size of a survey whose ids follow each other (not grown by doubling,
            // which would hold the old lists and the new at once).
            let respondents = chunk.respondents.len() * self.left;
            loaded.respondents.reserve(respondents);
            (loaded.mentions).reserve(respondents, chunk.mentions.entries().len() * self.left);
            loaded.uncoded.reserve(chunk.uncoded.len() * self.left);
        }
        self.left -= 1;
        loaded.respondents.extend_from_slice(&chunk.respondents);
        loaded.mentions.append(&chunk.mentions);
        loaded.uncoded.append(&mut chunk.uncoded);
        Ok(())
    }
}

/// The number of each stored area in the order of first mention (as
/// [`areas::group`] numbers them), and which area ids name no area.
#[derive(Default)]
struct AreaNumbers {
    numbering: Numbering,
    /// `None`: the id names no area (its mentions count as not coded). Looked up
    /// once per mention, so hashed with foldhash (hashbrown's default) rather
    /// than SipHash.
    number_of: hashbrown::HashMap<i64, Option<usize>>,
    /// Label and origin of ids read but not numbered yet.
    labels: HashMap<i64, (String, String)>,
}

impl AreaNumbers {
    /// Reads the label and origin of every area id of `ids` not read yet.
    fn read_labels(&mut self, conn: &mut AnyConnection, ids: &[i64]) -> Result<()> {
        let mut new: Vec<i64> = (ids.iter().copied())
            .filter(|id| !self.number_of.contains_key(id) && !self.labels.contains_key(id))
            .collect();
        new.sort_unstable();
        new.dedup();
        for ids in new.chunks(10_000) {
            let found: Vec<(i64, String, String)> = areas_t::table
                .filter(areas_t::id.eq_any(ids))
                .select((areas_t::id, areas_t::label, areas_t::origin))
                .load(conn)?;
            self.number_of.extend(ids.iter().map(|id| (*id, None)));
            for (id, label, origin) in found {
                self.number_of.remove(&id);
                self.labels.insert(id, (label, origin));
            }
        }
        Ok(())
    }

    /// The number of area `id` (read by [`AreaNumbers::read_labels`]), numbering it
    /// at its first mention; `None` if it names no area.
    fn number(&mut self, id: i64) -> Option<usize> {
        if let Some(&number) = self.number_of.get(&id) {
            return number;
        }
        let (label, origin) = self.labels.remove(&id)?;
        let number = self
            .numbering
            .area(id, &label, &areas::grouping_of(&origin));
        self.number_of.insert(id, Some(number));
        Some(number)
    }

    /// The area ids read that name no area.
    fn unknown(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = self
            .number_of
            .iter()
            .filter(|(_, n)| n.is_none())
            .map(|(id, _)| *id)
            .collect();
        ids.sort_unstable();
        ids
    }
}

/// The survey id of a chunk query, kept from steering the plan: compared as
/// `survey_id + 0`, it cannot pick the `(survey_id, wave_id)` index, so SQLite walks
/// the primary key over the chunk's ids instead of visiting every response of the
/// survey (or sorting them all) for each chunk, which made a million respondents
/// take minutes. PostgreSQL plans either way well.
fn unindexed_survey_id(
) -> diesel::dsl::Add<responses::survey_id, diesel::dsl::AsExprOf<i64, diesel::sql_types::BigInt>> {
    responses::survey_id + 0_i64
}

/// Mentions whose response ids lie in `first..=last`: a superset of the mentions
/// of a chunk's responses (other surveys' responses may lie between), which the
/// callers narrow by looking each response up in the chunk. Without a join to
/// `responses` the query walks the `mentions_response` index alone.
fn mentions_between((first, last): (i64, i64)) -> mentions::BoxedQuery<'static, AnyBackend> {
    mentions::table
        .filter(mentions::response_id.between(first, last))
        .into_boxed()
}

type AnyBackend = <AnyConnection as diesel::Connection>::Backend;

/// Appends the mentions in no area of the responses in `chunk`, by response and rank.
fn uncoded_between(
    conn: &mut AnyConnection,
    chunk: &[Respondent],
    missing_areas: &[i64],
    uncoded: &mut Vec<UncodedMention>,
) -> Result<()> {
    let ids = (chunk[0].response_id, chunk[chunk.len() - 1].response_id);
    let mut query = mentions_between(ids);
    // Compared as `area_id + 0`, the area cannot pick the `mentions_area` index:
    // SQLite would then visit every mention in no area of the whole survey for each
    // chunk (20 times 210,000 rows at a million respondents) instead of walking the
    // chunk's responses.
    let area = mentions::area_id + 0_i64;
    query = if missing_areas.is_empty() {
        query.filter(area.is_null())
    } else {
        query.filter(area.is_null().or(area.eq_any(missing_areas.to_vec())))
    };
    let mut rows: Vec<(i64, i32, i64, String, Option<String>)> = query
        .select((
            mentions::response_id,
            mentions::rank,
            mentions::id,
            mentions::text,
            mentions::coded_by,
        ))
        .load(conn)?;
    rows.sort_unstable_by_key(|r| (r.0, r.1, r.2));
    for (response_id, _, _, text, coded_by) in rows {
        if let Ok(i) = chunk.binary_search_by_key(&response_id, |r| r.response_id) {
            uncoded.push(UncodedMention {
                response_id,
                wave_id: chunk[i].wave_id,
                text,
                coded_by,
            });
        }
    }
    Ok(())
}

/// Each response's value of the segment column `attribute`, and every column name
/// seen (to say which exist when none has `attribute`).
pub fn attribute_values(
    conn: &mut AnyConnection,
    scope: Scope,
    attribute: &str,
) -> Result<(HashMap<i64, String>, Vec<String>)> {
    let mut query = responses::table
        .filter(responses::survey_id.eq(scope.survey_id))
        .select((responses::id, responses::attributes))
        .into_boxed();
    if let Some(ids) = scope.wave_ids {
        query = query.filter(responses::wave_id.eq_any(ids.to_vec()));
    }
    let mut values = HashMap::new();
    let mut known: Vec<String> = Vec::new();
    for (id, json) in query.load::<(i64, String)>(conn)? {
        let attributes = Attributes::from_stored(&json, || format!("response {id}"))?;
        for (key, value) in attributes {
            if key == attribute {
                values.insert(id, value);
            } else if !known.contains(&key) {
                known.push(key);
            }
        }
    }
    Ok((values, known))
}

/// Who gave each response, where it can be told: `contact N` for an answer through
/// the form, `imported ID` for an imported one. The same person in two waves has the
/// same key.
pub fn people(conn: &mut AnyConnection, scope: Scope) -> Result<HashMap<i64, String>> {
    let mut known = responses::table
        .filter(responses::survey_id.eq(scope.survey_id))
        .filter(
            responses::contact_id
                .is_not_null()
                .or(responses::respondent.is_not_null()),
        )
        .select((responses::id, responses::contact_id, responses::respondent))
        .into_boxed();
    if let Some(ids) = scope.wave_ids {
        known = known.filter(responses::wave_id.eq_any(ids.to_vec()));
    }
    let mut people = HashMap::new();
    for (id, contact, respondent) in known.load::<(i64, Option<i64>, Option<String>)>(conn)? {
        let person = match (contact, respondent) {
            (Some(c), _) => format!("contact {c}"),
            (None, Some(r)) => format!("imported {r}"),
            (None, None) => continue,
        };
        people.insert(id, person);
    }
    Ok(people)
}

/// When each answer through the form was submitted.
pub fn form_answer_times(
    conn: &mut AnyConnection,
    scope: Scope,
) -> Result<HashMap<i64, chrono::NaiveDateTime>> {
    let mut query = responses::table
        .filter(responses::survey_id.eq(scope.survey_id))
        .filter(responses::invitation_id.is_not_null())
        .select((responses::id, responses::submitted_at))
        .into_boxed();
    if let Some(ids) = scope.wave_ids {
        query = query.filter(responses::wave_id.eq_any(ids.to_vec()));
    }
    Ok(query.load(conn)?.into_iter().collect())
}

/// Invitations per wave of a survey.
pub fn invitations_per_wave(conn: &mut AnyConnection, survey_id: i64) -> Result<HashMap<i64, u64>> {
    let rows: Vec<(i64, i64)> = invitations::table
        .filter(invitations::survey_id.eq(survey_id))
        .group_by(invitations::wave_id)
        .select((invitations::wave_id, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(wave, count)| (wave, count.max(0) as u64))
        .collect())
}

#[cfg(test)]
mod tests;
