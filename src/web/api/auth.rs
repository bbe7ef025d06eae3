//! Who is calling: `Authorization: Bearer KEY`, checked against the stored hashes.
//! A missing, malformed, unknown or revoked key gets the same 401, so the answer
//! says nothing about which keys exist. The key is never logged.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::{header, StatusCode};
use actix_web::{web, FromRequest, HttpRequest};

use super::{blocking, ApiError};
use crate::keys::{self, Caller};
use crate::web::AppState;

/// A request made with a valid, unrevoked API key.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Caller);

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, message)
}

/// The key in `Authorization: Bearer KEY`, if the header has that shape.
fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, key) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| key.trim().to_string())
}

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let presented = bearer(req);
        Box::pin(async move {
            let Some(presented) = presented else {
                return Err(unauthorized(
                    "this endpoint needs an API key: send it as `Authorization: Bearer KEY` (pds keys create --name NAME makes one)",
                ));
            };
            let state = state.ok_or_else(|| {
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "the app has no state")
            })?;
            let caller = blocking(state, move |state| {
                let caller = keys::verify(&mut *state.db.conn()?, &presented)?;
                if let Some(c) = &caller {
                    state.db.write(|conn| keys::touch(conn, c.key_id))?;
                }
                Ok(caller)
            })
            .await?;
            caller.map(Authenticated).ok_or_else(|| {
                unauthorized(
                    "the API key is not valid or has been revoked; pds keys list shows the keys, pds keys create --name NAME makes a new one",
                )
            })
        })
    }
}
