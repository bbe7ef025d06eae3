//! A survey's `codebook.toml`, stored as written and parsed when read.

use diesel::prelude::*;

use crate::coding::codebook::{Codebook, CodebookError};
use crate::db::schema::codebooks;
use crate::db::{now, AnyConnection};
use crate::error::{Error, Result};

/// A codebook with the text it was parsed from (stored as written).
#[derive(Debug, Clone)]
pub struct SurveyCodebook {
    pub source: String,
    pub codebook: Codebook,
}

impl SurveyCodebook {
    /// Parses `source`; `file` names it in errors (`codebook.toml line 7: ...`).
    pub fn parse(source: &str, file: &str) -> Result<SurveyCodebook, CodebookError> {
        Ok(SurveyCodebook {
            source: source.to_string(),
            codebook: Codebook::parse(file, source)?,
        })
    }
}

/// Stores (or replaces) a survey's codebook; the caller has validated it.
pub fn save_codebook(
    conn: &mut AnyConnection,
    survey_id: i64,
    codebook: &SurveyCodebook,
) -> Result<()> {
    let stamp = now();
    let updated = diesel::update(codebooks::table.find(survey_id))
        .set((
            codebooks::definition.eq(&codebook.source),
            codebooks::updated_at.eq(stamp),
        ))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(codebooks::table)
            .values((
                codebooks::survey_id.eq(survey_id),
                codebooks::definition.eq(&codebook.source),
                codebooks::updated_at.eq(stamp),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The survey's codebook, if it has one.
pub fn load_codebook(conn: &mut AnyConnection, survey_id: i64) -> Result<Option<SurveyCodebook>> {
    let source: Option<String> = codebooks::table
        .find(survey_id)
        .select(codebooks::definition)
        .first(conn)
        .optional()?;
    source
        .map(|s| {
            SurveyCodebook::parse(&s, "stored codebook.toml")
                .map_err(|e| Error::Internal(format!("the stored codebook is damaged: {e}")))
        })
        .transpose()
}
