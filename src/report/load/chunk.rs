//! One range of response ids, as one reader reads it for [`super::responses_of`]:
//! the range's responses in scope and their mentions, grouped per respondent, with
//! areas numbered within the range (the caller numbers them across ranges). The
//! readers run this on threads of their own, so the work per row is done here.

use std::ops::RangeInclusive;

use diesel::connection::DefaultLoadingMode;
use diesel::dsl::case_when;
use diesel::prelude::*;

use super::{unindexed_survey_id, Respondent, Scope, UncodedMention};
use crate::db::schema::{mentions, responses};
use crate::db::AnyConnection;
use crate::error::Result;
use crate::stats;

/// Runs `$body` with `$c` bound to the connection of whichever backend `$conn`
/// holds and `$backend` naming that backend, so that a million rows are decoded
/// by the backend's own types rather than through the layer over both (about a
/// tenth less CPU per row on SQLite).
macro_rules! on_backend {
    ($conn:expr, |$c:ident, $backend:ident| $body:expr) => {
        match $conn {
            AnyConnection::Sqlite($c) => {
                type $backend = diesel::sqlite::Sqlite;
                $body
            }
            AnyConnection::Postgresql($c) => {
                type $backend = diesel::pg::Pg;
                $body
            }
        }
    };
}

/// What one range of response ids holds.
#[derive(Debug, Default)]
pub(super) struct Chunk {
    /// The responses in scope, ordered by id.
    pub respondents: Vec<Respondent>,
    /// The mentions in areas of each respondent (same order), by rank; their
    /// `area` is an index into `area_ids`.
    pub mentions: stats::FlatMentions,
    /// The ids of the areas mentioned, in order of first mention.
    pub area_ids: Vec<i64>,
    /// Mentions in no area, by response and rank.
    pub uncoded: Vec<UncodedMention>,
}

/// `(response id, rank, mention id, area id, text and coder if in no area)`.
pub(super) type MentionRow = (i64, i32, i64, Option<i64>, Option<String>, Option<String>);

/// Reads the responses in `scope` whose ids lie in `ids`, and their mentions, into
/// `chunk` (emptied first: a chunk taken before, so that its room is used again
/// rather than new memory, which the system must clear, for every range). `rows`
/// is working space, kept between calls.
pub(super) fn read(
    conn: &mut AnyConnection,
    scope: Scope,
    ids: RangeInclusive<i64>,
    rows: &mut Vec<MentionRow>,
    mut chunk: Chunk,
) -> Result<Chunk> {
    chunk.respondents.clear();
    chunk.mentions.clear();
    chunk.area_ids.clear();
    chunk.uncoded.clear();
    respondents_between(conn, scope, ids, &mut chunk.respondents)?;
    let (Some(first), Some(last)) = (chunk.respondents.first(), chunk.respondents.last()) else {
        return Ok(chunk);
    };
    read_mentions(conn, (first.response_id, last.response_id), rows)?;
    group(&mut chunk, rows);
    Ok(chunk)
}

/// Appends to `respondents` those in `scope` whose ids lie in `ids`, by id.
fn respondents_between(
    conn: &mut AnyConnection,
    scope: Scope,
    ids: RangeInclusive<i64>,
    respondents: &mut Vec<Respondent>,
) -> Result<()> {
    on_backend!(conn, |c, Backend| {
        let mut query = responses::table
            .filter(responses::id.between(*ids.start(), *ids.end()))
            .filter(unindexed_survey_id().eq(scope.survey_id))
            .select((
                responses::id,
                responses::wave_id,
                responses::invitation_id.is_not_null(),
            ))
            .order(responses::id)
            .into_boxed::<Backend>();
        if let Some(waves) = scope.wave_ids {
            query = query.filter(responses::wave_id.eq_any(waves.to_vec()));
        }
        for row in query.load_iter::<(i64, i64, bool), DefaultLoadingMode>(c)? {
            let (response_id, wave_id, via_form) = row?;
            respondents.push(Respondent {
                response_id,
                wave_id,
                via_form,
            });
        }
    });
    Ok(())
}

/// Reads into `rows` (emptied first) the mentions whose response ids lie in
/// `first..=last`, sorted; the text and coder only of those in no area. Other
/// surveys' responses may lie between: [`grouped`] leaves their mentions out.
/// Without a join to `responses` the query walks the `mentions_response` index alone.
fn read_mentions(
    conn: &mut AnyConnection,
    (first, last): (i64, i64),
    rows: &mut Vec<MentionRow>,
) -> Result<()> {
    rows.clear();
    let uncoded = mentions::area_id.is_null();
    let query = mentions::table
        .filter(mentions::response_id.between(first, last))
        .select((
            mentions::response_id,
            mentions::rank,
            mentions::id,
            mentions::area_id,
            case_when(uncoded, mentions::text),
            case_when(uncoded, mentions::coded_by),
        ));
    on_backend!(conn, |c, _Backend| {
        for row in query.load_iter::<MentionRow, DefaultLoadingMode>(c)? {
            rows.push(row?);
        }
    });
    rows.sort_unstable_by_key(|r| (r.0, r.1, r.2));
    Ok(())
}

/// Groups the mentions `rows` (sorted, emptied here) of `chunk`'s respondents.
fn group(chunk: &mut Chunk, rows: &mut Vec<MentionRow>) {
    let respondents = &chunk.respondents;
    chunk.mentions.reserve(respondents.len(), rows.len());
    let mut local: hashbrown::HashMap<i64, usize> = hashbrown::HashMap::new();
    let mut at = 0;
    for row in rows.iter_mut() {
        let (response_id, rank, area_id) = (row.0, row.1, row.3);
        let Some(i) = position_from(respondents, &mut at, response_id) else {
            continue;
        };
        let Some(id) = area_id else {
            if let Some(text) = row.4.take() {
                chunk.uncoded.push(UncodedMention {
                    response_id,
                    wave_id: respondents[i].wave_id,
                    text,
                    coded_by: row.5.take(),
                });
            }
            continue;
        };
        let next = chunk.area_ids.len();
        let area = *local.entry(id).or_insert_with(|| {
            chunk.area_ids.push(id);
            next
        });
        chunk.mentions.push(
            i,
            stats::Mention {
                area,
                rank: rank.max(0) as u32,
            },
        );
    }
    rows.clear();
    chunk.mentions.close(respondents.len());
}

/// The index in `respondents` (sorted by response id) of `response_id`, for ids
/// asked in ascending order; `at` keeps the place between calls.
fn position_from(respondents: &[Respondent], at: &mut usize, response_id: i64) -> Option<usize> {
    while *at < respondents.len() && respondents[*at].response_id < response_id {
        *at += 1;
    }
    (respondents.get(*at)?.response_id == response_id).then_some(*at)
}
