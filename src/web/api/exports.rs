//! CSV exports over HTTP: the same files as `pds export`, streamed.
//!
//! The database is never held for the client's sake. The export is first written
//! at full speed into an anonymous temporary file (one read transaction, a
//! consistent snapshot, a few seconds at a million rows), its connection goes back
//! to the pool, and only then is the file streamed to the client, chunk by chunk,
//! at whatever pace the client reads. A client that stalls or reads slowly holds a
//! file descriptor, never a database connection or a thread: answers keep their
//! connections however many downloads are paused. At most
//! [`crate::web::HEAVY_AT_ONCE`] exports and results computations run at once;
//! further requests wait their turn without holding anything.

use std::io::{self, Read, Seek};

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{blocking, ApiError, Authenticated};
use crate::report::{self, Dialect, Export, ExportOptions};
use crate::survey::{store, SurveySlug, WaveLabel};
use crate::web::AppState;

/// Bytes read from the spooled export per chunk of the response body.
const CHUNK: usize = 64 * 1024;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// Only this wave (default: all waves).
    pub wave: Option<String>,
    /// What a Swedish Excel opens correctly: UTF-8 BOM, `;`, decimal comma, CRLF.
    #[serde(default)]
    pub excel: bool,
}

/// Export a survey as CSV: `areas` (ranked, every figure), `mentions` (one row
/// each, the text as written) or `responses` (one row each).
///
/// The same files as `pds export`, streamed as they are written. Text cells that a
/// spreadsheet would run as a formula get a leading apostrophe.
#[utoipa::path(
    get,
    path = "/api/surveys/{slug}/exports/{what}",
    tag = "exports",
    security(("api_key" = [])),
    params(
        ("slug" = String, Path, description = "The survey's slug"),
        ("what" = String, Path, description = "`areas`, `mentions` or `responses`"),
        ExportQuery
    ),
    responses(
        (status = 200, description = "The CSV file, streamed", content_type = "text/csv", body = String),
        (status = 400, description = "Unknown export or bad wave label", body = super::ErrorBody),
        (status = 401, description = "No key, or a bad or revoked key", body = super::ErrorBody),
        (status = 404, description = "No such survey or wave", body = super::ErrorBody),
    )
)]
pub async fn export(
    _caller: Authenticated,
    path: web::Path<(String, String)>,
    query: web::Query<ExportQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (slug, what) = path.into_inner();
    let slug: SurveySlug = slug.parse()?;
    let what: Export =
        serde_json::from_value(serde_json::Value::String(what.clone())).map_err(|_| {
            ApiError::bad_request(format!(
                "no export {what:?}: ask for areas, mentions or responses"
            ))
        })?;
    let q = query.into_inner();
    let wave: Option<WaveLabel> = q.wave.as_deref().map(str::parse).transpose()?;
    let options = ExportOptions {
        what,
        wave: wave.clone(),
        dialect: if q.excel {
            Dialect::Excel
        } else {
            Dialect::Standard
        },
    };
    // Unknown surveys and waves get a JSON error before the file starts.
    let survey = blocking(state.clone(), move |state| {
        let mut conn = state.db.conn()?;
        let survey = store::find(&mut conn, &slug)?;
        if let Some(label) = &wave {
            store::find_wave(&mut conn, survey.id, label)?.ok_or_else(|| {
                crate::survey::SurveyError::UnknownWave {
                    survey: survey.slug.clone(),
                    wave: label.to_string(),
                }
            })?;
        }
        Ok(survey)
    })
    .await?;
    let filename = format!(
        "{}-{}.csv",
        survey.slug,
        match what {
            Export::Areas => "areas",
            Export::Mentions => "mentions",
            Export::Responses => "responses",
        }
    );
    let spooled = {
        let _turn = state.heavy_turn().await;
        blocking(state.clone(), move |state| {
            let mut file = tempfile::tempfile().map_err(|e| {
                tracing::error!(error = %e, "no temporary file for an export");
                ApiError::internal()
            })?;
            {
                let mut conn = state.db.conn()?;
                report::export(&mut conn, &survey, &options, &mut file, &|_, _| {})?;
            }
            file.rewind().map_err(|e| {
                tracing::error!(error = %e, "rewinding a spooled export");
                ApiError::internal()
            })?;
            Ok(file)
        })
        .await?
    };
    let body = futures_util::stream::try_unfold(spooled, |mut file| async move {
        let (file, chunk) = web::block(move || {
            let mut chunk = vec![0; CHUNK];
            let read = file.read(&mut chunk)?;
            chunk.truncate(read);
            Ok::<_, io::Error>((file, chunk))
        })
        .await
        .map_err(io::Error::other)??;
        Ok::<_, io::Error>((!chunk.is_empty()).then(|| (web::Bytes::from(chunk), file)))
    });
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .streaming(body))
}
