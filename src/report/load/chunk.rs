//! One range of response ids, as one reader reads it for [`super::responses_of`]:
//! the range's responses in scope and their mentions, grouped per respondent, with
//! areas numbered within the range (the caller numbers them across ranges). The
//! readers run this on threads of their own, so the work per row is done here.
//! SQLite's rows are decoded by SQLite's own types through diesel; PostgreSQL's
//! arrive as a binary COPY (`../copy_out.rs`), which costs its client about a
//! fifth less CPU than a query's result (2026-12-02, a million respondents: median
//! of five `pds results`, 3.60 against 4.37 CPU-s).

use std::ops::RangeInclusive;

use diesel::connection::DefaultLoadingMode;
use diesel::dsl::case_when;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sqlite::Sqlite;

use super::{unindexed_survey_id, Respondent, Scope, UncodedMention};
use crate::db::schema::{mentions, responses};
use crate::db::AnyConnection;
use crate::error::Result;
use crate::report::copy_out;
use crate::stats;

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
    let c = match conn {
        AnyConnection::Postgresql(pg) => return copy_respondents(pg, scope, ids, respondents),
        AnyConnection::Sqlite(c) => c,
    };
    // Decoded by SQLite's own types rather than through the layer over both
    // backends (about a tenth less CPU per row).
    let mut query = responses::table
        .filter(responses::id.between(*ids.start(), *ids.end()))
        .filter(unindexed_survey_id().eq(scope.survey_id))
        .select((
            responses::id,
            responses::wave_id,
            responses::invitation_id.is_not_null(),
        ))
        .order(responses::id)
        .into_boxed::<Sqlite>();
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
    Ok(())
}

/// [`respondents_between`] on PostgreSQL, as a binary COPY (`copy_out.rs`).
fn copy_respondents(
    pg: &mut PgConnection,
    scope: Scope,
    ids: RangeInclusive<i64>,
    respondents: &mut Vec<Respondent>,
) -> Result<()> {
    let waves = match scope.wave_ids {
        Some(waves) => format!(" AND wave_id IN ({})", numbers(waves)),
        None => String::new(),
    };
    // Only numbers are written into the statement (a COPY takes no parameters).
    let select = format!(
        "SELECT id, wave_id, invitation_id IS NOT NULL FROM responses \
         WHERE id BETWEEN {} AND {} AND survey_id = {}{waves} ORDER BY id",
        ids.start(),
        ids.end(),
        scope.survey_id
    );
    copy_out::for_each_row(pg, select, |row| {
        respondents.push(Respondent {
            response_id: row.i64(0)?,
            wave_id: row.i64(1)?,
            via_form: row.bool(2)?,
        });
        Ok(())
    })?;
    Ok(())
}

/// `ids` as SQL: numbers between commas (`NULL` for none, which matches nothing).
fn numbers(ids: &[i64]) -> String {
    match ids {
        [] => "NULL".into(),
        _ => ids
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// Reads into `rows` (emptied first) the mentions whose response ids lie in
/// `first..=last`, sorted; the text and coder only of those in no area. Other
/// surveys' responses may lie between: [`grouped`] leaves their mentions out.
/// Without a join to `responses` the query walks the `mentions_response` index
/// alone. On PostgreSQL a binary COPY (`copy_out.rs`): libpq would first build
/// the whole result, a value at a time, before diesel decodes it again.
fn read_mentions(
    conn: &mut AnyConnection,
    (first, last): (i64, i64),
    rows: &mut Vec<MentionRow>,
) -> Result<()> {
    rows.clear();
    let c = match conn {
        AnyConnection::Sqlite(c) => c,
        AnyConnection::Postgresql(pg) => {
            copy_mentions(pg, (first, last), rows)?;
            rows.sort_unstable_by_key(|r| (r.0, r.1, r.2));
            return Ok(());
        }
    };
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
    for row in query.load_iter::<MentionRow, DefaultLoadingMode>(c)? {
        rows.push(row?);
    }
    rows.sort_unstable_by_key(|r| (r.0, r.1, r.2));
    Ok(())
}

/// [`read_mentions`] on PostgreSQL, as a binary COPY (unsorted).
fn copy_mentions(
    pg: &mut PgConnection,
    (first, last): (i64, i64),
    rows: &mut Vec<MentionRow>,
) -> Result<()> {
    let select = format!(
        "SELECT response_id, rank, id, area_id, \
         CASE WHEN area_id IS NULL THEN text END, \
         CASE WHEN area_id IS NULL THEN coded_by END \
         FROM mentions WHERE response_id BETWEEN {first} AND {last}"
    );
    copy_out::for_each_row(pg, select, |row| {
        let text = |i| row.text(i).map(|t| t.map(str::to_owned));
        rows.push((
            row.i64(0)?,
            row.i32(1)?,
            row.i64(2)?,
            row.optional_i64(3)?,
            text(4)?,
            text(5)?,
        ));
        Ok(())
    })?;
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
