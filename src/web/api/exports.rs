//! CSV exports over HTTP: the same files as `pds export`, streamed. The export runs
//! on the blocking pool and writes into a small bounded channel that the response
//! body reads from, so memory stays flat however large the survey, and a client
//! that goes away stops the export.

use std::io::{self, Write};

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use tokio::sync::mpsc;
use utoipa::IntoParams;

use super::{blocking, ApiError, Authenticated};
use crate::report::{self, Dialect, Export, ExportOptions};
use crate::survey::{store, SurveySlug, WaveLabel};
use crate::web::AppState;

/// Chunks in flight between the export and the client.
const CHUNKS_IN_FLIGHT: usize = 8;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// Only this wave (default: all waves).
    pub wave: Option<String>,
    /// What a Swedish Excel opens correctly: UTF-8 BOM, `;`, decimal comma, CRLF.
    #[serde(default)]
    pub excel: bool,
}

/// A `Write` whose bytes go to the HTTP response.
struct ChannelWriter(mpsc::Sender<Result<web::Bytes, io::Error>>);

impl Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .blocking_send(Ok(web::Bytes::copy_from_slice(buf)))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
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
    let (tx, mut rx) = mpsc::channel(CHUNKS_IN_FLIGHT);
    actix_web::rt::task::spawn_blocking(move || {
        let result = state.db.conn().and_then(|mut conn| {
            report::export(
                &mut conn,
                &survey,
                &options,
                ChannelWriter(tx.clone()),
                &|_, _| {},
            )
        });
        if let Err(e) = result {
            tracing::error!(error = %e, survey = %survey.slug, "export failed mid-stream");
            // Ends the body with an error, so the client sees a broken download
            // rather than a file that looks complete.
            let _ = tx.blocking_send(Err(io::Error::other("the export failed")));
        }
    });
    let body = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .streaming(body))
}
