//! Reads what results need from the database: the responses of some waves with
//! their mentions (in areas as [`super::areas::group`] decides, the uncoded ones
//! apart), and invitation
//! counts for response rates. Both backends run these same queries.

use std::collections::HashMap;

use diesel::prelude::*;

use super::areas::{self, Area, Numbering};
use crate::attributes::Attributes;
use crate::db::schema::{areas as areas_t, imported_responses, invitations, mentions, responses};
use crate::db::AnyConnection;
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
    /// [`Loaded::areas`], ordered by rank.
    pub mentions: Vec<Vec<stats::Mention>>,
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

/// `(response id, rank, mention id, area id)`: sorted, the order in which areas are
/// numbered.
type MentionRow = (i64, i32, i64, Option<i64>);

/// Loads the responses in `scope`, ordered by id, with their coded mentions as
/// area numbers (no text is read but that of mentions in no area).
pub fn responses_of(conn: &mut AnyConnection, scope: Scope) -> Result<Loaded> {
    let respondents = respondents_of(conn, scope)?;
    let mut loaded = Loaded {
        mentions: vec![Vec::new(); respondents.len()],
        respondents,
        ..Loaded::default()
    };
    let mut numbering = Numbering::default();
    // `None`: the area id names no area (counted as not coded, as before coding).
    let mut labels: HashMap<i64, Option<(String, String)>> = HashMap::new();
    for start in (0..loaded.respondents.len()).step_by(CHUNK) {
        let end = (start + CHUNK).min(loaded.respondents.len());
        let chunk = &loaded.respondents[start..end];
        let ids = (chunk[0].response_id, chunk[chunk.len() - 1].response_id);
        let mut rows: Vec<MentionRow> = mentions_between(ids)
            .select((
                mentions::response_id,
                mentions::rank,
                mentions::id,
                mentions::area_id,
            ))
            .load(conn)?;
        rows.sort_unstable();
        read_labels(conn, &rows, &mut labels)?;
        let mut any_uncoded = false;
        for (response_id, rank, _, area_id) in rows {
            let Ok(i) = chunk.binary_search_by_key(&response_id, |r| r.response_id) else {
                continue;
            };
            let label = area_id.and_then(|id| labels[&id].as_ref().map(|l| (id, l)));
            match label {
                Some((id, (label, origin))) => loaded.mentions[start + i].push(stats::Mention {
                    area: numbering.area(id, label, &areas::grouping_of(origin)),
                    rank: rank.max(0) as u32,
                }),
                None => any_uncoded = true,
            }
        }
        if any_uncoded {
            let missing: Vec<i64> = labels
                .iter()
                .filter(|(_, l)| l.is_none())
                .map(|(id, _)| *id)
                .collect();
            uncoded_between(conn, chunk, &missing, &mut loaded.uncoded)?;
        }
    }
    loaded.areas = numbering.areas;
    Ok(loaded)
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

/// Reads the label and origin of every area id in `rows` not read yet.
fn read_labels(
    conn: &mut AnyConnection,
    rows: &[MentionRow],
    labels: &mut HashMap<i64, Option<(String, String)>>,
) -> Result<()> {
    let mut new: Vec<i64> = rows
        .iter()
        .filter_map(|r| r.3)
        .filter(|id| !labels.contains_key(id))
        .collect();
    new.sort_unstable();
    new.dedup();
    for ids in new.chunks(10_000) {
        let found: Vec<(i64, String, String)> = areas_t::table
            .filter(areas_t::id.eq_any(ids))
            .select((areas_t::id, areas_t::label, areas_t::origin))
            .load(conn)?;
        labels.extend(ids.iter().map(|id| (*id, None)));
        labels.extend(
            found
                .into_iter()
                .map(|(id, label, origin)| (id, Some((label, origin)))),
        );
    }
    Ok(())
}

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
