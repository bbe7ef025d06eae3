//! Reads what results need from the database: the responses of some waves with
//! their mentions (in areas as [`super::areas::group`] decides, the uncoded ones
//! apart), and invitation
//! counts for response rates. Both backends run these same queries.

use std::collections::HashMap;
use std::ops::Range;

use diesel::prelude::*;

use super::areas::{self, Area, Numbering};
use crate::attributes::Attributes;
use crate::db::schema::{areas as areas_t, imported_responses, invitations, mentions, responses};
use crate::db::{self, AnyConnection};
use crate::error::Result;
use crate::stats;

/// Responses read per query, and whose mentions are read per query: bounds the rows
/// held at once (PostgreSQL's client keeps a whole result in memory).
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

/// `(response id, rank, mention id, area id, text and coder if in no area)`: sorted,
/// the order in which areas are numbered.
type MentionRow = (i64, i32, i64, Option<i64>, Option<(String, Option<String>)>);

/// Loads the responses in `scope`, ordered by id, with their coded mentions as
/// area numbers (no text is read but that of mentions in no area).
///
/// Mentions are read `CHUNK` responses at a time. On SQLite a second connection
/// reads every other chunk on a thread of its own, while this one reads the rest
/// and takes the chunks in order (areas are numbered in order of first mention).
pub fn responses_of(conn: &mut AnyConnection, scope: Scope) -> Result<Loaded> {
    let respondents = respondents_of(conn, scope)?;
    let chunks: Vec<Range<usize>> = (0..respondents.len())
        .step_by(CHUNK)
        .map(|start| start..(start + CHUNK).min(respondents.len()))
        .collect();
    let second = match chunks.len() {
        0 | 1 => None,
        _ => db::second_reader(conn)?,
    };
    let mut taken = Taken::default();
    match second {
        None => {
            let mut rows = Vec::new();
            for range in &chunks {
                read_mentions(conn, &respondents[range.clone()], &mut rows)?;
                taken.chunk(conn, &respondents, range.start, &mut rows)?;
            }
        }
        Some(mut other) => std::thread::scope(|threads| {
            let (sender, received) = std::sync::mpsc::sync_channel(1);
            let (give_back, given_back) = std::sync::mpsc::channel::<Vec<MentionRow>>();
            let odd: Vec<Range<usize>> = chunks.iter().skip(1).step_by(2).cloned().collect();
            let respondents = &respondents;
            threads.spawn(move || {
                for range in odd {
                    let mut rows = given_back.try_recv().unwrap_or_default();
                    let read = read_mentions(&mut other, &respondents[range], &mut rows);
                    let failed = read.is_err();
                    if sender.send(read.map(|()| rows)).is_err() || failed {
                        return;
                    }
                }
            });
            let mut own = Vec::new();
            for (i, range) in chunks.iter().enumerate() {
                let mut rows = if i % 2 == 0 {
                    read_mentions(conn, &respondents[range.clone()], &mut own)?;
                    std::mem::take(&mut own)
                } else {
                    received.recv().map_err(|_| {
                        crate::error::Error::Internal("the second reader stopped".into())
                    })??
                };
                taken.chunk(conn, respondents, range.start, &mut rows)?;
                if i % 2 == 0 {
                    own = rows;
                } else {
                    let _ = give_back.send(rows);
                }
            }
            Ok::<(), crate::error::Error>(())
        })?,
    }
    taken.mentions.close(respondents.len());
    Ok(Loaded {
        respondents,
        mentions: taken.mentions,
        areas: taken.areas.numbering.areas,
        uncoded: taken.uncoded,
    })
}

/// What [`responses_of`] has taken from the chunks read so far.
#[derive(Default)]
struct Taken {
    mentions: stats::FlatMentions,
    uncoded: Vec<UncodedMention>,
    areas: AreaNumbers,
}

impl Taken {
    /// Takes the mentions `rows` (as [`read_mentions`] reads them, emptied here)
    /// of the chunk of `respondents` that starts at `start`.
    fn chunk(
        &mut self,
        conn: &mut AnyConnection,
        respondents: &[Respondent],
        start: usize,
        rows: &mut Vec<MentionRow>,
    ) -> Result<()> {
        let chunk = &respondents[start..(start + CHUNK).min(respondents.len())];
        self.areas.read_labels(conn, rows)?;
        let uncoded_before = self.uncoded.len();
        let mut unknown_area = false;
        let mut at = 0;
        for j in 0..rows.len() {
            let (response_id, rank, area_id) = (rows[j].0, rows[j].1, rows[j].3);
            let Some(i) = position_from(chunk, &mut at, response_id) else {
                continue;
            };
            match area_id.map(|id| self.areas.number(id)) {
                Some(Some(area)) => self.mentions.push(
                    start + i,
                    stats::Mention {
                        area,
                        rank: rank.max(0) as u32,
                    },
                ),
                Some(None) => unknown_area = true,
                None => self
                    .uncoded
                    .extend(rows[j].4.take().map(|(text, coded_by)| UncodedMention {
                        response_id,
                        wave_id: chunk[i].wave_id,
                        text,
                        coded_by,
                    })),
            }
        }
        rows.clear();
        if unknown_area {
            // Rare: an area id that names no area counts as not coded; read this
            // chunk's mentions in no area again, with those.
            self.uncoded.truncate(uncoded_before);
            uncoded_between(conn, chunk, &self.areas.unknown(), &mut self.uncoded)?;
        }
        Ok(())
    }
}

/// Reads into `rows` (emptied first) the mentions whose response ids lie within
/// `chunk`'s, sorted; the text and coder only of those in no area.
fn read_mentions(
    conn: &mut AnyConnection,
    chunk: &[Respondent],
    rows: &mut Vec<MentionRow>,
) -> Result<()> {
    use diesel::connection::DefaultLoadingMode;
    use diesel::dsl::case_when;

    rows.clear();
    let ids = (chunk[0].response_id, chunk[chunk.len() - 1].response_id);
    let uncoded = mentions::area_id.is_null();
    let query = mentions_between(ids).select((
        mentions::response_id,
        mentions::rank,
        mentions::id,
        mentions::area_id,
        case_when(uncoded, mentions::text),
        case_when(uncoded, mentions::coded_by),
    ));
    type Read = (i64, i32, i64, Option<i64>, Option<String>, Option<String>);
    for row in query.load_iter::<Read, DefaultLoadingMode>(conn)? {
        let (response_id, rank, id, area_id, text, coded_by) = row?;
        rows.push((response_id, rank, id, area_id, text.map(|t| (t, coded_by))));
    }
    rows.sort_unstable_by_key(|r| (r.0, r.1, r.2));
    Ok(())
}

/// The index in `chunk` (sorted by response id) of `response_id`, for ids asked
/// in ascending order; `at` keeps the place between calls.
fn position_from(chunk: &[Respondent], at: &mut usize, response_id: i64) -> Option<usize> {
    while *at < chunk.len() && chunk[*at].response_id < response_id {
        *at += 1;
    }
    (chunk.get(*at)?.response_id == response_id).then_some(*at)
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
    /// Reads the label and origin of every area id in `rows` not read yet.
    fn read_labels(&mut self, conn: &mut AnyConnection, rows: &[MentionRow]) -> Result<()> {
        let mut new: Vec<i64> = rows
            .iter()
            .filter_map(|r| r.3)
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

fn respondents_of(conn: &mut AnyConnection, scope: Scope) -> Result<Vec<Respondent>> {
    let mut respondents: Vec<Respondent> = Vec::new();
    loop {
        let mut query = responses::table
            .filter(unindexed_survey_id().eq(scope.survey_id))
            .select((
                responses::id,
                responses::wave_id,
                responses::invitation_id.is_not_null(),
            ))
            .order(responses::id)
            .limit(CHUNK as i64)
            .into_boxed();
        if let Some(ids) = scope.wave_ids {
            query = query.filter(responses::wave_id.eq_any(ids.to_vec()));
        }
        if let Some(last) = respondents.last() {
            query = query.filter(responses::id.gt(last.response_id));
        }
        let page: Vec<(i64, i64, bool)> = query.load(conn)?;
        let full = page.len() == CHUNK;
        respondents.extend(
            page.into_iter()
                .map(|(response_id, wave_id, via_form)| Respondent {
                    response_id,
                    wave_id,
                    via_form,
                }),
        );
        if !full {
            return Ok(respondents);
        }
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
    let mut contacts = responses::table
        .filter(responses::survey_id.eq(scope.survey_id))
        .filter(responses::contact_id.is_not_null())
        .select((responses::id, responses::contact_id))
        .into_boxed();
    let mut imported = imported_responses::table
        .filter(imported_responses::survey_id.eq(scope.survey_id))
        .select((
            imported_responses::response_id,
            imported_responses::respondent,
        ))
        .into_boxed();
    if let Some(ids) = scope.wave_ids {
        contacts = contacts.filter(responses::wave_id.eq_any(ids.to_vec()));
        imported = imported.filter(imported_responses::wave_id.eq_any(ids.to_vec()));
    }
    let mut people: HashMap<i64, String> = imported
        .load::<(i64, String)>(conn)?
        .into_iter()
        .map(|(id, respondent)| (id, format!("imported {respondent}")))
        .collect();
    for (id, contact) in contacts.load::<(i64, Option<i64>)>(conn)? {
        if let Some(c) = contact {
            people.insert(id, format!("contact {c}"));
        }
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
