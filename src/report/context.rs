//! What the dashboard shows around the figures: the segment attributes a survey's
//! respondents carry (offered as choices, so nobody types an attribute that does not
//! exist), and each mention's rank, answer date and segment values (on an area's
//! page). Reads only.

use std::collections::{BTreeSet, HashMap};

use diesel::prelude::*;

use crate::attributes::Attributes;
use crate::db::schema::{mentions, responses};
use crate::db::AnyConnection;
use crate::error::Result;

/// The segment attributes of a survey's respondents, sorted.
pub fn segment_attributes(conn: &mut AnyConnection, survey_id: i64) -> Result<Vec<String>> {
    let distinct: Vec<String> = responses::table
        .filter(responses::survey_id.eq(survey_id))
        .select(responses::attributes)
        .distinct()
        .load(conn)?;
    let mut keys = BTreeSet::new();
    for stored in &distinct {
        let attributes =
            Attributes::from_stored(stored, || format!("a response of survey {survey_id}"))?;
        keys.extend(attributes.into_names());
    }
    Ok(keys.into_iter().collect())
}

/// A mention's place in its answer.
#[derive(Debug, Clone, PartialEq)]
pub struct MentionContext {
    /// 1 = the problem the customer ranked first.
    pub rank: i32,
    pub answered_at: chrono::NaiveDateTime,
    /// The respondent's segment values (`customer_type = current`).
    pub attributes: Attributes,
}

/// The context of each of `ids` (mentions of any survey), by mention id.
pub fn of_mentions(conn: &mut AnyConnection, ids: &[i64]) -> Result<HashMap<i64, MentionContext>> {
    let mut found = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(10_000) {
        let rows: Vec<(i64, i32, chrono::NaiveDateTime, String)> = mentions::table
            .inner_join(responses::table)
            .filter(mentions::id.eq_any(chunk))
            .select((
                mentions::id,
                mentions::rank,
                responses::submitted_at,
                responses::attributes,
            ))
            .load(conn)?;
        for (id, rank, answered_at, stored) in rows {
            let attributes =
                Attributes::from_stored(&stored, || format!("the response of mention {id}"))?;
            let context = MentionContext {
                rank,
                answered_at,
                attributes,
            };
            found.insert(id, context);
        }
    }
    Ok(found)
}
