//! The rows an import stores on SQLite, as `sqlite.rs` takes them from the
//! writer (`store.rs`).

use diesel::prelude::*;
use diesel::serialize::{IsNull, Output, ToSql};
use diesel::sql_types::Timestamp;

use crate::db::now;
use crate::db::schema::{imported_responses, mentions, responses};

/// The import's one time stamp, formatted once: diesel would format a
/// `NaiveDateTime` again for every row and column that holds it on SQLite (7% of
/// an import of a million respondents).
#[derive(Debug, Clone, diesel::expression::AsExpression)]
#[diesel(sql_type = Timestamp)]
pub(super) struct Stamp {
    pub(super) at: chrono::NaiveDateTime,
    /// As diesel writes a timestamp on SQLite; shared by every row.
    text: std::sync::Arc<str>,
}

impl Stamp {
    pub(super) fn now() -> Self {
        let at = now();
        Stamp {
            at,
            text: at.format("%F %T%.f").to_string().into(),
        }
    }
}

impl Stamp {
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

impl ToSql<Timestamp, diesel::sqlite::Sqlite> for Stamp {
    fn to_sql<'b>(
        &'b self,
        out: &mut Output<'b, '_, diesel::sqlite::Sqlite>,
    ) -> diesel::serialize::Result {
        out.set_value(&*self.text);
        Ok(IsNull::No)
    }
}

// The rows own their texts: diesel caches a multi-row INSERT by the type of its
// rows, which must therefore not borrow.

/// A response row of an imported respondent, with its id chosen beforehand (see
/// `store::ResponseIds`) so that its mentions can be stored in the same batch.
#[derive(Insertable)]
#[diesel(table_name = responses, treat_none_as_default_value = false)]
pub(super) struct NewResponse {
    pub id: i64,
    pub survey_id: i64,
    pub wave_id: i64,
    pub locale: String,
    pub attributes: String,
    pub no_problems: i32,
    pub submitted_at: Stamp,
    pub updated_at: Stamp,
}

#[derive(Insertable)]
#[diesel(table_name = imported_responses, treat_none_as_default_value = false)]
pub(super) struct NewImported {
    pub response_id: i64,
    pub survey_id: i64,
    pub wave_id: i64,
    pub respondent: String,
    pub imported_at: Stamp,
}

#[derive(Insertable)]
#[diesel(table_name = mentions, treat_none_as_default_value = false)]
pub(super) struct NewMention {
    pub response_id: i64,
    pub rank: i32,
    pub text: String,
    pub may_contact: i32,
    pub area_id: Option<i64>,
    pub coded_by: Option<&'static str>,
    pub coded_at: Option<Stamp>,
}

/// One batch's rows, as the backend stores them.
pub(super) struct Batch {
    pub responses: Vec<NewResponse>,
    pub imported: Vec<NewImported>,
    pub mentions: Vec<NewMention>,
}
