//! The dashboard's downloads: areas, mentions and responses as CSV or as an Excel
//! workbook, the same files as `pds export` and the admin API's exports, spooled
//! to a temporary file and streamed (`web::api::exports`), with the session in
//! place of an API key.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::{blocking, problem, Analyst};
use crate::error::Error;
use crate::report::{Dialect, Export, ExportOptions};
use crate::survey::{store, SurveySlug, WaveLabel};
use crate::web::api::exports::{spool_and_stream, FileFormat};

#[derive(Debug, Default, Deserialize)]
pub(super) struct DownloadQuery {
    /// Only this wave (default: all waves).
    wave: Option<String>,
}

/// `GET /admin/surveys/{slug}/exports/{what}.{csv|xlsx}`.
pub(super) async fn export(
    Analyst { session, state }: Analyst,
    path: web::Path<(String, String)>,
    query: web::Query<DownloadQuery>,
) -> HttpResponse {
    let (slug, file) = path.into_inner();
    let Some((what, format)) = parse_file(&file) else {
        return problem(Error::NotFound(file), Some(&session));
    };
    let wave = query.into_inner().wave.filter(|w| !w.trim().is_empty());
    let found = blocking(state.clone(), move |state| {
        let slug: SurveySlug = slug.parse()?;
        let wave: Option<WaveLabel> = wave.as_deref().map(str::parse).transpose()?;
        let mut conn = state.db.conn()?;
        let survey = state.survey_named(&mut conn, &slug)?;
        if let Some(label) = &wave {
            store::existing_wave(&mut conn, &survey, label)?;
        }
        Ok((survey, wave))
    })
    .await;
    let (survey, wave) = match found {
        Ok(found) => found,
        Err(e) => return problem(e, Some(&session)),
    };
    let options = ExportOptions {
        what,
        wave,
        dialect: Dialect::Standard,
    };
    match spool_and_stream(state, survey, options, format).await {
        Ok(response) => response,
        Err(e) => problem(e, Some(&session)),
    }
}

/// `areas.csv` -> (areas, CSV); `None` for anything else.
fn parse_file(file: &str) -> Option<(Export, FileFormat)> {
    let (what, extension) = file.split_once('.')?;
    let what = match what {
        "areas" => Export::Areas,
        "mentions" => Export::Mentions,
        "responses" => Export::Responses,
        _ => return None,
    };
    let format = match extension {
        "csv" => FileFormat::Csv,
        "xlsx" => FileFormat::Xlsx,
        _ => return None,
    };
    Some((what, format))
}
