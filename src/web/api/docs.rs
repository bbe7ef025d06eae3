//! The OpenAPI document of the admin API, generated at compile time by utoipa from
//! the handlers' annotations and served at `/api/openapi.json` (no UI bundle).

use actix_web::http::header;
use actix_web::HttpResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{announcements, areas, case_review, cases, exports, results, surveys, ErrorBody};

/// Adds the bearer scheme, and requires it of every endpoint but this document (as
/// their [`super::Authenticated`] does), so no endpoint's annotation can forget it.
struct BearerKey;

impl Modify for BearerKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("pds_ and 64 hex digits, from `pds keys create --name NAME`")
                    .build(),
            ),
        );
        let key = SecurityRequirement::new("api_key", Vec::<String>::new());
        for (path, item) in openapi.paths.paths.iter_mut() {
            if path == OPENAPI_PATH {
                continue;
            }
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                operation.security = Some(vec![key.clone()]);
            }
        }
    }
}

/// Where this document is served.
const OPENAPI_PATH: &str = "/api/openapi.json";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "pds admin API",
        description = "Surveys, contacts, invitations, results, routing and cases of a Problem Detection Study. \
                       Authenticate with `Authorization: Bearer KEY`; errors are `{\"error\": \"...\"}`."
    ),
    paths(
        openapi_json,
        surveys::list,
        surveys::show,
        surveys::import_contacts,
        surveys::invite,
        surveys::remind,
        results::results,
        surveys::routing,
        surveys::set_routing,
        exports::export,
        areas::list,
        areas::decisions,
        areas::decide,
        announcements::announce,
        cases::list,
        cases::show,
        cases::act,
        case_review::review,
    ),
    components(schemas(
        ErrorBody,
        surveys::SurveySummary,
        surveys::SurveyDetail,
        surveys::WaveSummary,
        surveys::IntervalBody,
        surveys::ImportResult,
        surveys::InviteRequest,
        crate::invite::InviteReport,
        surveys::RemindRequest,
        crate::invite::RemindReport,
        results::ResultsBody,
        surveys::RoutingBody,
        areas::AreaBody,
        areas::AreasBody,
        areas::DecisionRequest,
        areas::DecidedBody,
        areas::LoggedDecisionBody,
        announcements::AnnouncementRequest,
        crate::cases::announce::Announced,
        cases::CaseBody,
        cases::EventBody,
        cases::CaseDetailBody,
        cases::ActionRequest,
        cases::ActedBody,
        case_review::ReviewRequest,
        case_review::ReviewedBody,
        crate::route::webhook::WebhookPayload,
        crate::route::webhook::WebhookCase,
        crate::route::webhook::WebhookReason,
        crate::route::webhook::WebhookCustomer,
        crate::route::webhook::WebhookLinks,
    )),
    modifiers(&BearerKey),
    tags(
        (name = "surveys", description = "Surveys and their waves"),
        (name = "contacts", description = "Contacts import"),
        (name = "invitations", description = "Invitations and reminders (queued; the worker delivers)"),
        (name = "results", description = "Ranked problem areas"),
        (name = "routing", description = "Routing rules"),
        (name = "coding", description = "Problem areas and the analysts' decisions"),
        (name = "cases", description = "Routed complaints as cases: what the teams did, and acting on them. \
                                         A team's webhook (routing.toml) receives `WebhookPayload` (see its description for the signature headers)"),
        (name = "exports", description = "CSV exports for spreadsheets, R and pandas"),
        (name = "meta", description = "This document"),
    )
)]
pub struct ApiDoc;

/// This document (no key needed).
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json", body = Object))
)]
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(ApiDoc::openapi())
}
