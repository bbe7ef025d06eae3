//! A small summary of each survey, kept up to date by the writes that change it, so
//! that the dashboard reads a row or two at every page view instead of scanning all
//! of a survey's mentions and responses (a million of each at the largest sizes):
//! when its mentions were last coded, and which segment attributes its respondents
//! carry. The writers: `pds code` and analysts' decisions (`coding::store`), imports
//! (`answer::import`, `checklist::import`) and answers through the form (`answer`).

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::db::schema::{survey_attributes, survey_summaries};
use crate::db::AnyConnection;
use crate::error::Result;

/// Makes the summary of a new survey (nothing coded, no attributes).
pub fn create(conn: &mut AnyConnection, survey_id: i64) -> Result<()> {
    diesel::insert_into(survey_summaries::table)
        .values((
            survey_summaries::survey_id.eq(survey_id),
            survey_summaries::last_coded_at.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(())
}

/// Notes that mentions of the survey were coded at `at` (the latest time is kept).
pub fn coded(conn: &mut AnyConnection, survey_id: i64, at: NaiveDateTime) -> Result<()> {
    let updated = diesel::update(
        survey_summaries::table
            .filter(survey_summaries::survey_id.eq(survey_id))
            .filter(
                survey_summaries::last_coded_at
                    .is_null()
                    .or(survey_summaries::last_coded_at.lt(at)),
            ),
    )
    .set(survey_summaries::last_coded_at.eq(at))
    .execute(conn)?;
    if updated > 0 {
        return Ok(());
    }
    let exists: i64 = survey_summaries::table
        .find(survey_id)
        .count()
        .get_result(conn)?;
    if exists == 0 {
        // A survey stored before summaries were kept gets one now.
        create(conn, survey_id)?;
        coded(conn, survey_id, at)?;
    }
    Ok(())
}

/// Notes the segment attributes a respondent's `attributes` (a JSON object) has a
/// value for.
pub fn respondent_attributes(
    conn: &mut AnyConnection,
    survey_id: i64,
    attributes: &str,
) -> Result<()> {
    let names: Vec<String> =
        match serde_json::from_str::<BTreeMap<String, serde_json::Value>>(attributes) {
            Ok(map) => map
                .into_iter()
                .filter(|(_, value)| !value.is_null())
                .map(|(name, _)| name)
                .collect(),
            Err(_) => Vec::new(),
        };
    attribute_names(conn, survey_id, &names)
}

/// Notes that respondents of the survey carry the segment attributes `names`.
pub fn attribute_names(conn: &mut AnyConnection, survey_id: i64, names: &[String]) -> Result<()> {
    const INSERT: &str = "INSERT INTO survey_attributes (survey_id, name) VALUES";
    for name in names {
        // Two writers may note the same name at once: the second one's row is
        // left out, not an error.
        match conn {
            AnyConnection::Sqlite(c) => {
                diesel::sql_query(format!("{INSERT} (?, ?) ON CONFLICT DO NOTHING"))
                    .bind::<BigInt, _>(survey_id)
                    .bind::<Text, _>(name)
                    .execute(c)?
            }
            AnyConnection::Postgresql(c) => {
                diesel::sql_query(format!("{INSERT} ($1, $2) ON CONFLICT DO NOTHING"))
                    .bind::<BigInt, _>(survey_id)
                    .bind::<Text, _>(name)
                    .execute(c)?
            }
        };
    }
    Ok(())
}

/// When the survey's mentions were last coded, if ever.
pub fn last_coded(conn: &mut AnyConnection, survey_id: i64) -> Result<Option<NaiveDateTime>> {
    Ok(survey_summaries::table
        .find(survey_id)
        .select(survey_summaries::last_coded_at)
        .first::<Option<NaiveDateTime>>(conn)
        .optional()?
        .flatten())
}

/// The segment attributes the survey's respondents carry, sorted.
pub fn segment_attributes(conn: &mut AnyConnection, survey_id: i64) -> Result<Vec<String>> {
    Ok(survey_attributes::table
        .filter(survey_attributes::survey_id.eq(survey_id))
        .select(survey_attributes::name)
        .order(survey_attributes::name)
        .load(conn)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DatabaseUrl;
    use crate::db::Database;
    use crate::survey::store;

    fn survey(conn: &mut AnyConnection) -> i64 {
        let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/survey-templates/discovery");
        let loaded =
            crate::survey::Survey::from_folder(std::path::Path::new(folder)).expect("the template");
        store::insert(conn, &"s".parse().expect("a slug"), &loaded).expect("stored")
    }

    fn at(minute: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 12, 2)
            .and_then(|d| d.and_hms_opt(10, minute, 0))
            .expect("a time")
    }

    #[test]
    fn the_latest_coding_time_is_kept_and_attributes_are_listed_once_sorted() {
        let dir = tempfile::tempdir().expect("a folder");
        let db = Database::open(&DatabaseUrl::Sqlite(dir.path().join("s.db"))).expect("a db");
        let mut conn = db.conn().expect("a connection");
        let id = survey(&mut conn);
        assert_eq!(last_coded(&mut conn, id).expect("read"), None);
        assert!(segment_attributes(&mut conn, id).expect("read").is_empty());

        coded(&mut conn, id, at(5)).expect("noted");
        coded(&mut conn, id, at(3)).expect("noted");
        assert_eq!(last_coded(&mut conn, id).expect("read"), Some(at(5)));
        coded(&mut conn, id, at(9)).expect("noted");
        assert_eq!(last_coded(&mut conn, id).expect("read"), Some(at(9)));

        respondent_attributes(&mut conn, id, r#"{"region":"north","segment":"lost"}"#)
            .expect("noted");
        respondent_attributes(&mut conn, id, r#"{"segment":"new","tier":null}"#).expect("noted");
        respondent_attributes(&mut conn, id, "not json").expect("nothing to note");
        attribute_names(&mut conn, id, &["customer_type".to_string()]).expect("noted");
        assert_eq!(
            segment_attributes(&mut conn, id).expect("read"),
            ["customer_type", "region", "segment"]
        );
        // Another survey's summary is its own.
        assert_eq!(last_coded(&mut conn, id + 1).expect("read"), None);
        assert!(segment_attributes(&mut conn, id + 1)
            .expect("read")
            .is_empty());
    }
}
