//! Coding in the database: a survey's codebook, its areas, each mention's area with
//! who put it there and why, and the analysts' decisions. The pure rooms of
//! `coding` decide; this one reads their input and stores their output, and is the
//! only place that writes `areas`, `codebooks`, `coding_decisions` and the coding
//! columns of `mentions` (import names areas too, through its own door).
//!
//! Who coded a mention (`mentions.coded_by`):
//! - `rule` and `automatic`: coding did, and may change it when it runs again;
//! - `analyst` and `import`: a person did; coding never changes it;
//! - `none`: coding ran and could place it nowhere (no content words, or unlike
//!   every proposed area), so it waits for an analyst;
//! - NULL: coding has not run since the mention arrived.
//!
//! An area is `proposed` (coding may change or remove it), `accepted` (an analyst's:
//! renamed, accepted, made by a split, or merged into) or `merged` (kept so that a
//! codebook rule of a merged area leads to the area it was merged into).

mod codebook;
mod decisions;
mod run;

pub use codebook::{load_codebook, save_codebook, SurveyCodebook};
pub use decisions::{decide, decisions_of, Decided, Decision, LoggedDecision};
pub use run::{code_survey, CodingRun};

use std::collections::{BTreeMap, HashSet};

use diesel::connection::DefaultLoadingMode;
use diesel::prelude::*;

use crate::db::schema::{areas, mentions, responses};
use crate::db::{now, AnyConnection};
use crate::error::{Error, Result};
use crate::survey::Locale;

/// The grouping method results name for areas coded here.
pub const CODING_METHOD: &str = "codebook+auto-v1";

pub const BY_RULE: &str = "rule";
pub const BY_AUTOMATIC: &str = "automatic";
pub const BY_ANALYST: &str = "analyst";
pub const BY_IMPORT: &str = "import";
pub const BY_NONE: &str = "none";

pub const PROPOSED: &str = "proposed";
pub const ACCEPTED: &str = "accepted";
pub const MERGED: &str = "merged";

/// Whether a mention coded by `coded_by` is an analyst's (never recoded).
pub fn is_decided(coded_by: Option<&str>) -> bool {
    matches!(coded_by, Some(BY_ANALYST) | Some(BY_IMPORT))
}

/// An area as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = areas)]
pub struct StoredArea {
    pub id: i64,
    pub key: String,
    pub label: String,
    pub origin: String,
    pub status: String,
    pub labels: String,
    pub team: Option<String>,
    pub merged_into: Option<i64>,
}

impl StoredArea {
    /// The label per locale (`{"sv": ..., "en": ...}`), empty when it has none.
    pub fn labels(&self) -> BTreeMap<String, String> {
        serde_json::from_str(&self.labels).unwrap_or_default()
    }

    /// The codebook id of a rule area (`late-delivery`).
    pub fn codebook_id(&self) -> Option<&str> {
        self.key.strip_prefix(RULE_KEY)
    }
}

const RULE_KEY: &str = "rule:";
const AUTO_KEY: &str = "auto:";
const ANALYST_KEY: &str = "analyst:";

/// The areas of a survey (merged ones too), by id.
pub fn areas_of(conn: &mut AnyConnection, survey_id: i64) -> Result<Vec<StoredArea>> {
    Ok(areas::table
        .filter(areas::survey_id.eq(survey_id))
        .order(areas::id)
        .select(StoredArea::as_select())
        .load(conn)?)
}

/// A mention as coding sees it.
#[derive(Debug, Clone)]
pub struct StoredMention {
    pub id: i64,
    pub response_id: i64,
    /// The customer's words, exactly as written.
    pub text: String,
    /// The respondent's language for form answers; `None` for imported ones.
    pub locale: Option<Locale>,
    pub area_id: Option<i64>,
    pub coded_by: Option<String>,
    pub coded_at: Option<chrono::NaiveDateTime>,
    pub note: Option<String>,
}

type MentionRow = (
    i64,
    i64,
    String,
    String,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<chrono::NaiveDateTime>,
    Option<String>,
);

/// Every mention of a survey, by id.
pub fn mentions_of(conn: &mut AnyConnection, survey_id: i64) -> Result<Vec<StoredMention>> {
    mentions_where(conn, survey_id, Which::All)
}

/// Which of a survey's mentions to read.
enum Which<'a> {
    All,
    /// Those coding may change (never coded, or coded by rule or automatically)
    /// and these: read in one pass, and kept as they stream by.
    UndecidedAnd(&'a HashSet<i64>),
}

/// The survey's mentions that `which` selects, by id.
fn mentions_where(
    conn: &mut AnyConnection,
    survey_id: i64,
    which: Which<'_>,
) -> Result<Vec<StoredMention>> {
    let query = mentions::table
        .inner_join(responses::table)
        .filter(responses::survey_id.eq(survey_id))
        .select((
            mentions::id,
            mentions::response_id,
            mentions::text,
            responses::locale,
            responses::invitation_id,
            mentions::area_id,
            mentions::coded_by,
            mentions::coded_at,
            mentions::coding_note,
        ))
        .order(mentions::id);
    let keep = |row: &MentionRow| match which {
        Which::All => true,
        Which::UndecidedAnd(ids) => !is_decided(row.6.as_deref()) || ids.contains(&row.0),
    };
    let mut rows: Vec<MentionRow> = Vec::new();
    for row in query.load_iter::<MentionRow, DefaultLoadingMode>(conn)? {
        let row = row?;
        if keep(&row) {
            rows.push(row);
        }
    }
    Ok(rows
        .into_iter()
        .map(
            |(id, response_id, text, locale, invitation, area_id, coded_by, coded_at, note)| {
                StoredMention {
                    id,
                    response_id,
                    text,
                    locale: invitation.and_then(|_| locale.parse().ok()),
                    area_id,
                    coded_by,
                    coded_at,
                    note,
                }
            },
        )
        .collect())
}

struct NewArea {
    key: String,
    label: String,
    origin: &'static str,
    status: &'static str,
    labels: String,
    team: Option<String>,
}

/// Inserts an area and returns its id (no RETURNING: it is read back by key).
fn insert_area(conn: &mut AnyConnection, survey_id: i64, area: &NewArea) -> Result<i64> {
    diesel::insert_into(areas::table)
        .values((
            areas::survey_id.eq(survey_id),
            areas::key.eq(&area.key),
            areas::label.eq(&area.label),
            areas::created_at.eq(now()),
            areas::origin.eq(area.origin),
            areas::status.eq(area.status),
            areas::labels.eq(&area.labels),
            areas::team.eq(&area.team),
        ))
        .execute(conn)?;
    Ok(areas::table
        .filter(areas::survey_id.eq(survey_id))
        .filter(areas::key.eq(&area.key))
        .select(areas::id)
        .first(conn)?)
}

/// Finds an area of a survey by id (`12`), key, codebook id (`late-delivery`) or
/// label (case and spacing ignored), saying what to do when there is none or more
/// than one.
pub fn find_area(areas: &[StoredArea], survey_slug: &str, wanted: &str) -> Result<StoredArea> {
    let wanted = wanted.trim();
    let listing = format!("`pds areas list --survey {survey_slug}` shows them");
    let live = || areas.iter().filter(|a| a.status != MERGED);
    if let Ok(id) = wanted.trim_start_matches('#').parse::<i64>() {
        return match areas.iter().find(|a| a.id == id) {
            Some(a) if a.status == MERGED => Err(Error::Invalid(format!(
                "area {id} ({:?}) was merged into area {}; use that one",
                a.label,
                a.merged_into.unwrap_or_default()
            ))),
            Some(a) => Ok(a.clone()),
            None => Err(Error::NotFound(format!(
                "survey {survey_slug} has no area {id}; {listing}"
            ))),
        };
    }
    if let Some(a) = live().find(|a| a.key == wanted || a.codebook_id() == Some(wanted)) {
        return Ok(a.clone());
    }
    let key = super::group_key(wanted);
    let named: Vec<&StoredArea> = live()
        .filter(|a| {
            super::group_key(&a.label) == key
                || a.labels().values().any(|l| super::group_key(l) == key)
        })
        .collect();
    match named.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(Error::NotFound(format!(
            "survey {survey_slug} has no area {wanted:?}; {listing}"
        ))),
        many => Err(Error::Invalid(format!(
            "{} areas are called {wanted:?} (ids {}); name one by its id",
            many.len(),
            many.iter()
                .map(|a| a.id.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}
