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

use std::fs::File;
use std::io::{self, Read, Seek};

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{with_survey, ApiError, Authenticated, SlugPath, Unauthorized};
use crate::error::Error;
use crate::report::{self, Dialect, Export, ExportOptions};
use crate::survey::{store, StoredSurvey, SurveySlug, WaveLabel};
use crate::web::blocking;
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
    params(
        SlugPath,
        ("what" = String, Path, description = "`areas`, `mentions` or `responses`"),
        ExportQuery
    ),
    responses(
        (status = 200, description = "The CSV file, streamed", content_type = "text/csv", body = String),
        (status = 400, description = "Unknown export or bad wave label", body = super::ErrorBody),
        Unauthorized,
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
    let survey = with_survey(state.clone(), slug, move |state, survey| {
        if let Some(label) = &wave {
            store::existing_wave(&mut *state.db.conn()?, &survey, label)?;
        }
        Ok(survey)
    })
    .await?;
    Ok(spool_and_stream(state, survey, options, FileFormat::Csv).await?)
}

/// What a spooled export is sent as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileFormat {
    Csv,
    /// An Excel workbook made from the standard-dialect CSV (`report::xlsx`).
    Xlsx,
}

/// Writes `options`' export of `survey` into a temporary file (waiting for a heavy
/// turn), then streams the file: the door shared by the API and the dashboard.
pub(crate) async fn spool_and_stream(
    state: web::Data<AppState>,
    survey: StoredSurvey,
    options: ExportOptions,
    format: FileFormat,
) -> crate::error::Result<HttpResponse> {
    let (extension, content_type) = match format {
        FileFormat::Csv => ("csv", "text/csv; charset=utf-8"),
        FileFormat::Xlsx => (
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
    };
    let what = match options.what {
        Export::Areas => "areas",
        Export::Mentions => "mentions",
        Export::Responses => "responses",
    };
    let filename = format!("{}-{what}.{extension}", survey.slug);
    let spooled = {
        let _turn = state.heavy_turn().await;
        blocking(state.clone(), move |state| {
            spool(state, &survey, &options, format, what)
        })
        .await?
    };
    let body = futures_util::stream::try_unfold(spooled, move |file| {
        let state = state.clone();
        async move {
            let (file, chunk) = blocking(state, move |_| read_chunk(file)).await?;
            Ok::<_, Error>((!chunk.is_empty()).then(|| (web::Bytes::from(chunk), file)))
        }
    });
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .streaming(body))
}

/// The next chunk of a spooled export; empty at its end.
fn read_chunk(mut file: File) -> crate::error::Result<(File, Vec<u8>)> {
    let mut chunk = vec![0; CHUNK];
    let read = file
        .read(&mut chunk)
        .map_err(|e| Error::io("<temporary export file>", e))?;
    chunk.truncate(read);
    Ok((file, chunk))
}

/// The export in a temporary file, rewound; the connection is back in the pool
/// before the first byte goes out.
fn spool(
    state: &AppState,
    survey: &StoredSurvey,
    options: &ExportOptions,
    format: FileFormat,
    sheet: &str,
) -> crate::error::Result<File> {
    let io = |e: io::Error| Error::io("<temporary export file>", e);
    let mut csv = tempfile::tempfile().map_err(io)?;
    {
        let mut conn = state.db.conn()?;
        report::export(&mut conn, survey, options, &mut csv, None)?;
    }
    csv.rewind().map_err(io)?;
    let mut file = match format {
        FileFormat::Csv => csv,
        FileFormat::Xlsx => {
            let mut book = tempfile::tempfile().map_err(io)?;
            report::xlsx::from_csv(io::BufReader::new(csv), sheet, &mut book)?;
            book
        }
    };
    file.rewind().map_err(io)?;
    Ok(file)
}
