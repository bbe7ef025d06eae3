//! How far each wave of a survey has come: contacts invited, answers through the
//! emailed link, answers imported, and the response rate (`response-rate-v1`). A
//! read for the admin API and the dashboard; it changes nothing.

use std::collections::HashMap;

use diesel::prelude::*;

use crate::db::schema::{invitations, responses};
use crate::db::AnyConnection;
use crate::error::{Error, Result};
use crate::stats::{self, Interval};
use crate::survey::store as survey_store;

/// One wave's counts.
#[derive(Debug, Clone, PartialEq)]
pub struct WaveCounts {
    pub label: String,
    pub created_at: chrono::NaiveDateTime,
    pub invited: u64,
    /// Invitations answered through the emailed link.
    pub answered: u64,
    /// Answers imported from a file (no invitation, so not in the rate).
    pub imported: u64,
    /// `answered / invited`; `None` when nobody was invited to the wave.
    pub response_rate: Option<f64>,
    /// Its Wilson 95% interval.
    pub ci: Option<Interval>,
    /// Fewer than 30 answers: read the rate with care.
    pub small_sample: bool,
}

/// Every wave of a survey, oldest first, with its counts.
pub fn waves(conn: &mut AnyConnection, survey_id: i64) -> Result<Vec<WaveCounts>> {
    let count = |n: i64| n.max(0) as u64;
    // Invited and answered per wave in one pass: COUNT(answered_at) counts the
    // answered ones (those with a time).
    let invitations: HashMap<i64, (u64, u64)> = invitations::table
        .filter(invitations::survey_id.eq(survey_id))
        .group_by(invitations::wave_id)
        .select((
            invitations::wave_id,
            diesel::dsl::count_star(),
            diesel::dsl::count(invitations::answered_at),
        ))
        .load::<(i64, i64, i64)>(conn)?
        .into_iter()
        .map(|(wave, invited, answered)| (wave, (count(invited), count(answered))))
        .collect();
    let imported: HashMap<i64, u64> = responses::table
        .filter(responses::survey_id.eq(survey_id))
        .filter(responses::invitation_id.is_null())
        .group_by(responses::wave_id)
        .select((responses::wave_id, diesel::dsl::count_star()))
        .load::<(i64, i64)>(conn)?
        .into_iter()
        .map(|(wave, n)| (wave, count(n)))
        .collect();
    survey_store::waves_of(conn, survey_id)?
        .into_iter()
        .map(|w| {
            let (invited, answered) = invitations.get(&w.id).copied().unwrap_or((0, 0));
            let answered = answered.min(invited);
            let rate = (invited > 0)
                .then(|| stats::response_rate(answered, invited))
                .transpose()
                .map_err(|e| Error::Invalid(format!("wave {}: {e}", w.label)))?;
            Ok(WaveCounts {
                label: w.label,
                created_at: w.created_at,
                invited,
                answered,
                imported: imported.get(&w.id).copied().unwrap_or(0),
                response_rate: rate.map(|r| r.rate),
                ci: rate.map(|r| r.ci),
                small_sample: rate.map_or(stats::is_small_sample(answered), |r| r.small_sample),
            })
        })
        .collect()
}
