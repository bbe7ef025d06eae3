//! Surveys and waves in the database. A survey's files are stored with it, so a
//! running survey does not change when its folder is edited.

use std::collections::BTreeMap;
use std::sync::Arc;

use diesel::prelude::*;

use super::{Survey, SurveyError, SurveySlug, WaveLabel};
use crate::db::schema::{surveys, waves};
use crate::db::{now, AnyConnection};
use crate::error::{Error, Result};

/// A survey as stored: its row id and slug with the validated definition.
#[derive(Debug, Clone)]
pub struct StoredSurvey {
    pub id: i64,
    pub slug: String,
    pub created_at: chrono::NaiveDateTime,
    pub survey: Arc<Survey>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = waves)]
pub struct Wave {
    pub id: i64,
    pub survey_id: i64,
    pub label: String,
    pub created_at: chrono::NaiveDateTime,
}

#[derive(Queryable)]
struct SurveyRow {
    id: i64,
    slug: String,
    definition: String,
    created_at: chrono::NaiveDateTime,
}

impl StoredSurvey {
    fn from_row(row: SurveyRow) -> Result<Self> {
        let files: BTreeMap<String, String> =
            serde_json::from_str(&row.definition).map_err(|e| {
                Error::Invalid(format!(
                    "survey {:?}: stored definition is damaged: {e}",
                    row.slug
                ))
            })?;
        let survey = Survey::from_files(&format!("survey {:?}", row.slug), files)?;
        Ok(StoredSurvey {
            id: row.id,
            slug: row.slug,
            created_at: row.created_at,
            survey: Arc::new(survey),
        })
    }
}

/// Stores `survey` under `slug` on `conn`, inside the caller's transaction, and
/// returns its id. A survey's routing rules and codebook are stored by their own
/// rooms in the same transaction (see `crate::setup::create`).
pub fn insert(conn: &mut AnyConnection, slug: &SurveySlug, survey: &Survey) -> Result<i64> {
    let definition =
        serde_json::to_string(survey.files()).map_err(|e| Error::Internal(e.to_string()))?;
    let slug_text = slug.as_str().to_string();
    let exists: i64 = surveys::table
        .filter(surveys::slug.eq(&slug_text))
        .count()
        .get_result(conn)?;
    if exists > 0 {
        return Err(Error::from(SurveyError::Exists(slug_text)));
    }
    diesel::insert_into(surveys::table)
        .values((
            surveys::slug.eq(&slug_text),
            surveys::title.eq(survey.title()),
            surveys::max_problems.eq(survey.max_problems as i32),
            surveys::closes_at.eq(survey.closes_at()),
            surveys::definition.eq(&definition),
            surveys::created_at.eq(now()),
        ))
        .execute(conn)?;
    let id = surveys::table
        .filter(surveys::slug.eq(&slug_text))
        .select(surveys::id)
        .first(conn)?;
    super::summary::create(conn, id)?;
    Ok(id)
}

/// The survey with this slug.
pub fn find(conn: &mut AnyConnection, slug: &SurveySlug) -> Result<StoredSurvey> {
    let row = surveys::table
        .filter(surveys::slug.eq(slug.as_str()))
        .select((
            surveys::id,
            surveys::slug,
            surveys::definition,
            surveys::created_at,
        ))
        .first::<SurveyRow>(conn)
        .optional()?
        .ok_or_else(|| SurveyError::Unknown(slug.to_string()))?;
    StoredSurvey::from_row(row)
}

/// The id of the survey named `slug`: a look-up of one row, for callers that
/// keep surveys compiled by id (the web app) and need not compile it again.
pub fn id_of(conn: &mut AnyConnection, slug: &SurveySlug) -> Result<i64> {
    surveys::table
        .filter(surveys::slug.eq(slug.as_str()))
        .select(surveys::id)
        .first::<i64>(conn)
        .optional()?
        .ok_or_else(|| SurveyError::Unknown(slug.to_string()).into())
}

/// The survey with this id.
pub fn by_id(conn: &mut AnyConnection, id: i64) -> Result<StoredSurvey> {
    let row = surveys::table
        .find(id)
        .select((
            surveys::id,
            surveys::slug,
            surveys::definition,
            surveys::created_at,
        ))
        .first::<SurveyRow>(conn)?;
    StoredSurvey::from_row(row)
}

/// A line per survey: slug, title, created.
pub fn list(conn: &mut AnyConnection) -> Result<Vec<(String, String, chrono::NaiveDateTime)>> {
    Ok(surveys::table
        .select((surveys::slug, surveys::title, surveys::created_at))
        .order(surveys::id)
        .load(conn)?)
}

/// The wave with this label, created if it does not exist yet.
pub fn ensure_wave(conn: &mut AnyConnection, survey_id: i64, label: &WaveLabel) -> Result<Wave> {
    if let Some(wave) = find_wave(conn, survey_id, label)? {
        return Ok(wave);
    }
    diesel::insert_into(waves::table)
        .values((
            waves::survey_id.eq(survey_id),
            waves::label.eq(label.as_str()),
            waves::created_at.eq(now()),
        ))
        .execute(conn)?;
    find_wave(conn, survey_id, label)?
        .ok_or_else(|| Error::Internal(format!("wave {label} could not be created")))
}

pub fn find_wave(
    conn: &mut AnyConnection,
    survey_id: i64,
    label: &WaveLabel,
) -> Result<Option<Wave>> {
    Ok(waves::table
        .filter(waves::survey_id.eq(survey_id))
        .filter(waves::label.eq(label.as_str()))
        .select(Wave::as_select())
        .first(conn)
        .optional()?)
}

/// The wave of `survey` with this label; [`SurveyError::UnknownWave`] when there
/// is none.
pub fn existing_wave(
    conn: &mut AnyConnection,
    survey: &StoredSurvey,
    label: &WaveLabel,
) -> Result<Wave> {
    find_wave(conn, survey.id, label)?.ok_or_else(|| {
        Error::from(SurveyError::UnknownWave {
            survey: survey.slug.clone(),
            wave: label.to_string(),
        })
    })
}

pub fn waves_of(conn: &mut AnyConnection, survey_id: i64) -> Result<Vec<Wave>> {
    Ok(waves::table
        .filter(waves::survey_id.eq(survey_id))
        .order(waves::id)
        .select(Wave::as_select())
        .load(conn)?)
}
