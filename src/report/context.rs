//! What the dashboard shows around the figures: each mention's rank, answer date
//! and segment values (on an area's page). Reads only. The segment attributes a
//! survey's respondents carry, offered as choices, come from `survey::summary`.

use std::collections::HashMap;

use diesel::prelude::*;

use crate::attributes::Attributes;
use crate::db::schema::{mentions, responses};
use crate::db::AnyConnection;
use crate::error::Result;

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
