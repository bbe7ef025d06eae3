//! Reads what results need from the database: the responses of some waves with
//! their mentions (in areas as [`super::areas::group`] decides, the uncoded ones
//! apart), and invitation
//! counts for response rates. Both backends run these same queries.

use std::collections::{BTreeMap, HashMap};

use diesel::prelude::*;

use super::areas::{self, Area, StoredMention};
use crate::db::schema::{areas as areas_t, imported_responses, invitations, mentions, responses};
use crate::db::AnyConnection;
use crate::error::Result;
use crate::stats;

/// One response, ready for the statistics.
#[derive(Debug, Clone)]
pub struct Respondent {
    pub response_id: i64,
    pub wave_id: i64,
    pub contact_id: Option<i64>,
    /// The respondent id of an imported response.
    pub imported_as: Option<String>,
    /// Answered through the emailed link (so the answer time is the respondent's).
    pub via_form: bool,
    /// The contact's segment columns (or `segment` of an imported response).
    pub attributes: BTreeMap<String, String>,
    pub submitted_at: chrono::NaiveDateTime,
    /// Mentions with the index of their area in [`Loaded::areas`].
    pub mentions: Vec<stats::Mention>,
}

/// Responses of the waves asked for, and the areas their mentions fall in.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub respondents: Vec<Respondent>,
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

type ResponseRow = (
    i64,
    i64,
    Option<i64>,
    Option<i64>,
    String,
    chrono::NaiveDateTime,
);

/// `(response id, rank, text, area id, coded by)`.
type MentionRow = (i64, i32, String, Option<i64>, Option<String>);

/// Loads the responses of `wave_ids` (all waves when `None`), ordered by id.
pub fn responses_of(
    conn: &mut AnyConnection,
    survey_id: i64,
    wave_ids: Option<&[i64]>,
) -> Result<Loaded> {
    let mut query = responses::table
        .filter(responses::survey_id.eq(survey_id))
        .select((
            responses::id,
            responses::wave_id,
            responses::contact_id,
            responses::invitation_id,
            responses::attributes,
            responses::submitted_at,
        ))
        .order(responses::id)
        .into_boxed();
    if let Some(ids) = wave_ids {
        query = query.filter(responses::wave_id.eq_any(ids.to_vec()));
    }
    let rows: Vec<ResponseRow> = query.load(conn)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();

    let mut imported: HashMap<i64, String> = HashMap::new();
    let mut stored: Vec<MentionRow> = Vec::new();
    for chunk in ids.chunks(10_000) {
        imported.extend(
            imported_responses::table
                .filter(imported_responses::response_id.eq_any(chunk))
                .select((
                    imported_responses::response_id,
                    imported_responses::respondent,
                ))
                .load::<(i64, String)>(conn)?,
        );
        stored.extend(
            mentions::table
                .filter(mentions::response_id.eq_any(chunk))
                .select((
                    mentions::response_id,
                    mentions::rank,
                    mentions::text,
                    mentions::area_id,
                    mentions::coded_by,
                ))
                .order((mentions::response_id, mentions::rank, mentions::id))
                .load(conn)?,
        );
    }
    let mut area_ids: Vec<i64> = stored.iter().filter_map(|m| m.3).collect();
    area_ids.sort_unstable();
    area_ids.dedup();
    let mut labels: HashMap<i64, (String, String)> = HashMap::new();
    for chunk in area_ids.chunks(10_000) {
        labels.extend(
            areas_t::table
                .filter(areas_t::id.eq_any(chunk))
                .select((areas_t::id, areas_t::label, areas_t::origin))
                .load::<(i64, String, String)>(conn)?
                .into_iter()
                .map(|(id, label, origin)| (id, (label, origin))),
        );
    }

    // Areas are numbered in order of first mention, by response and rank, so the
    // same data always give the same area order (it breaks ties between scores).
    stored.sort_by_key(|m| (m.0, m.1));
    let grouping = areas::group(
        &stored
            .iter()
            .map(|(_, _, text, area_id, _)| StoredMention {
                text: text.clone(),
                coded: area_id.and_then(|id| {
                    labels
                        .get(&id)
                        .map(|(label, origin)| (id, label.clone(), areas::grouping_of(origin)))
                }),
            })
            .collect::<Vec<_>>(),
    );
    let index_of: HashMap<i64, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let mut respondents: Vec<Respondent> = rows
        .into_iter()
        .map(
            |(response_id, wave_id, contact_id, invitation_id, attributes, submitted_at)| {
                Respondent {
                    response_id,
                    wave_id,
                    contact_id,
                    imported_as: imported.remove(&response_id),
                    via_form: invitation_id.is_some(),
                    attributes: parse_attributes(&attributes),
                    submitted_at,
                    mentions: Vec::new(),
                }
            },
        )
        .collect();
    let mut uncoded = Vec::new();
    for ((response_id, rank, text, _, coded_by), area) in stored.iter().zip(&grouping.area_of) {
        let Some(&i) = index_of.get(response_id) else {
            continue;
        };
        match area {
            Some(area) => respondents[i].mentions.push(stats::Mention {
                area: *area,
                rank: (*rank).max(0) as u32,
            }),
            None => uncoded.push(UncodedMention {
                response_id: *response_id,
                wave_id: respondents[i].wave_id,
                text: text.clone(),
                coded_by: coded_by.clone(),
            }),
        }
    }
    Ok(Loaded {
        respondents,
        areas: grouping.areas,
        uncoded,
    })
}

/// Segment columns as text; values that are not strings keep their JSON spelling.
pub(super) fn parse_attributes(json: &str) -> BTreeMap<String, String> {
    match serde_json::from_str::<serde_json::Value>(json) {
        Ok(serde_json::Value::Object(map)) => map
            .into_iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| {
                let v = match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                (k, v)
            })
            .collect(),
        _ => BTreeMap::new(),
    }
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
