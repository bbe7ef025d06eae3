//! The rows an import stores on SQLite, as `sqlite.rs` takes them from the
//! writer (`store.rs`): only what differs from row to row, borrowed from the
//! writer; what every row of a batch shares (survey, locale, time stamp) once.

use crate::db::now;

/// The import's one time stamp, formatted once as diesel writes a timestamp on
/// SQLite (formatting it per row and column was 7% of an import of a million
/// respondents).
#[derive(Debug, Clone)]
pub(super) struct Stamp {
    pub(super) at: chrono::NaiveDateTime,
    text: String,
}

impl Stamp {
    pub(super) fn now() -> Self {
        let at = now();
        Stamp {
            at,
            text: at.format("%F %T%.f").to_string(),
        }
    }

    /// As SQLite stores it (`TIMESTAMP` columns hold text).
    pub(super) fn text(&self) -> &str {
        &self.text
    }

    /// As PostgreSQL's binary format has a `TIMESTAMP`: microseconds since 2000-01-01.
    pub(super) fn pg_micros(&self) -> i64 {
        let epoch = chrono::NaiveDate::from_ymd_opt(2000, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .expect("2000-01-01 is a date");
        (self.at - epoch)
            .num_microseconds()
            .expect("the import's time stamp is within 292,000 years of 2000")
    }
}

/// What every row of a batch shares.
pub(super) struct Shared<'w> {
    pub survey_id: i64,
    pub locale: &'w str,
    pub stamp: &'w str,
}

/// A new respondent's response row, with its id chosen beforehand (see
/// `store::ResponseIds`) so that its mentions can be stored in the same batch.
/// (PostgreSQL's `pg_copy.rs` streams the same rows.)
pub(super) struct ResponseRow<'w> {
    pub id: i64,
    pub wave_id: i64,
    pub attributes: &'w str,
    pub no_problems: i32,
    /// The respondent's id in the file.
    pub respondent: &'w str,
}

/// A mention; one with an area was coded by the import (at its time stamp).
pub(super) struct MentionRow<'w> {
    pub response_id: i64,
    pub rank: i32,
    pub text: &'w str,
    pub area_id: Option<i64>,
}

/// One batch's rows, as the backend stores them.
pub(super) struct Batch<'w> {
    pub shared: Shared<'w>,
    pub responses: Vec<ResponseRow<'w>>,
    pub mentions: Vec<MentionRow<'w>>,
}
