//! A team's webhook: the payload for one complaint, in PDS's own JSON (signed
//! when delivered, see `mail::webhook`) or in the shape Slack's or Microsoft
//! Teams' incoming webhooks accept, queued in the outbox beside the emails.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;

use super::teams::{Webhook, WebhookFormat};
use crate::db::AnyConnection;
use crate::error::{Error, Result};
use crate::survey::Locale;

/// What a team's webhook receives (format `json`) when a complaint is routed to
/// it: one POST per complaint, `Content-Type: application/json`, signed.
/// Headers: `X-PDS-Event` (`case.opened`), `X-PDS-Delivery` (the same for every
/// retry of one payload: drop repeats), `X-PDS-Timestamp` (Unix seconds) and
/// `X-PDS-Signature: v1=HEX`, the HMAC-SHA256 of `TIMESTAMP.BODY` (the
/// timestamp, a full stop, the raw body) keyed with the team's own secret
/// (`secret_env` in routing.toml) or else the `webhook_secret` setting.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookPayload {
    /// `case.opened`.
    pub event: String,
    pub case: WebhookCase,
    pub links: WebhookLinks,
}

/// The complaint as a case.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookCase {
    /// The case's short reference, as in the team's email (`pds cases show REF`).
    pub reference: String,
    pub survey: String,
    pub survey_title: String,
    pub wave: String,
    /// The team's id in routing.toml.
    pub team: String,
    pub team_name: String,
    /// The customer's rank of this problem, 1 mattering most, of `of` problems.
    pub rank: u32,
    pub of: usize,
    /// The customer's own words, verbatim.
    pub text: String,
    /// `once`, `sometimes` or `often`, when the survey asks.
    pub frequency: Option<String>,
    /// The language the customer answered in (`en`, `sv`).
    pub answer_locale: String,
    /// The day the answer arrived (YYYY-MM-DD, UTC).
    pub answered_on: String,
    /// The routing rule that sent it, and why it fired.
    pub rule: String,
    pub reasons: Vec<WebhookReason>,
    /// Present only when the customer agreed to be contacted about this problem.
    pub customer: Option<WebhookCustomer>,
}

/// One condition of the rule that held.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookReason {
    /// `keyword`, `area`, `rank` or `segment`.
    pub kind: String,
    pub keyword: Option<String>,
    pub matched: Option<String>,
    pub area: Option<String>,
    pub rank: Option<u32>,
    pub max: Option<u32>,
    /// A segment's attribute and value, readable (`[labels]` in routing.toml).
    pub label: Option<String>,
    pub value: Option<String>,
}

/// The customer who agreed to be contacted about this problem.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookCustomer {
    pub name: String,
    pub email: String,
}

/// One-click links (each opens a confirmation page) and the dashboard.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookLinks {
    pub acknowledge: String,
    pub resolve: String,
    pub decline: String,
    pub dashboard: String,
}

/// A webhook delivery waiting for the answer's transaction.
#[derive(Debug, Clone)]
pub struct Planned {
    url: String,
    body: String,
    summary: String,
    secret_env: Option<String>,
}

/// Builds the body for `hook` from the complaint email's variables `ctx`.
pub(super) fn plan(
    hook: &Webhook,
    locale: Locale,
    ctx: &Value,
    subject: &str,
    ids: (&str, &str, &str),
) -> Result<Planned> {
    let (survey, survey_title, team) = ids;
    let c = &ctx["complaint"];
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let payload = WebhookPayload {
        event: "case.opened".into(),
        case: WebhookCase {
            reference: text(&c["reference"]),
            survey: survey.into(),
            survey_title: survey_title.into(),
            wave: text(&ctx["wave"]),
            team: team.into(),
            team_name: text(&ctx["team"]["name"]),
            rank: c["rank"].as_u64().unwrap_or_default() as u32,
            of: c["of"].as_u64().unwrap_or_default() as usize,
            text: text(&c["text"]),
            frequency: c.get("frequency").map(text),
            answer_locale: text(&ctx["answer"]["locale"]),
            answered_on: text(&ctx["answer"]["date"]),
            rule: text(&c["rule"]),
            reasons: serde_json::from_value(c["reasons"].clone())
                .map_err(|e| Error::Internal(format!("webhook reasons: {e}")))?,
            customer: ctx
                .get("customer")
                .map(|v| serde_json::from_value(v.clone()))
                .transpose()
                .map_err(|e| Error::Internal(format!("webhook customer: {e}")))?,
        },
        links: WebhookLinks {
            acknowledge: text(&ctx["actions"]["acknowledge"]),
            resolve: text(&ctx["actions"]["resolve"]),
            decline: text(&ctx["actions"]["decline"]),
            dashboard: text(&ctx["dashboard"]["url"]),
        },
    };
    let body = match hook.format {
        WebhookFormat::Json => serde_json::to_string(&payload),
        WebhookFormat::Slack => serde_json::to_string(&slack(&chat(locale, ctx, subject)?)),
        WebhookFormat::Teams => {
            serde_json::to_string(&teams(subject, &chat(locale, ctx, subject)?))
        }
    }
    .map_err(|e| Error::Internal(format!("webhook body: {e}")))?;
    Ok(Planned {
        url: hook.url.to_string(),
        secret_env: hook.secret_env.clone(),
        body,
        // A `json` payload must be signed; the worker refuses to send it unsigned.
        summary: format!(
            "{}case {} to {team}",
            if hook.format == WebhookFormat::Json {
                crate::mail::webhook::SIGNED
            } else {
                ""
            },
            payload.case.reference
        ),
    })
}

fn chat(locale: Locale, ctx: &Value, subject: &str) -> Result<String> {
    let mut ctx = ctx.clone();
    if let Some(o) = ctx.as_object_mut() {
        o.insert("subject".into(), subject.into());
    }
    super::team_templates::chat_text(locale, &ctx)
}

/// What a Slack incoming webhook accepts: `text` in Slack's mrkdwn.
fn slack(text: &str) -> Value {
    json!({"text": text})
}

/// What a Microsoft Teams webhook (a Workflows "when a webhook request is
/// received" flow, or a classic incoming webhook) accepts: a message with one
/// Adaptive Card (its text blocks show Markdown links).
fn teams(title: &str, text: &str) -> Value {
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": [
                    {"type": "TextBlock", "text": title, "weight": "Bolder", "wrap": true},
                    {"type": "TextBlock", "text": text, "wrap": true},
                ],
            },
        }],
    })
}

impl Planned {
    /// Queues the delivery inside the answer's transaction.
    pub(super) fn queue(self, conn: &mut AnyConnection) -> Result<()> {
        crate::mail::outbox::queue_webhook(
            conn,
            &self.url,
            &self.summary,
            &self.body,
            self.secret_env.as_deref(),
        )
    }
}

/// Checks every team's webhook address now (it resolves, and not to a private
/// network unless the settings allow it), so a bad one is refused when the
/// routing is set rather than found out at the first complaint.
pub fn check_addresses(routing: &super::Routing, settings: &crate::config::Settings) -> Result<()> {
    let problems: Vec<String> = routing
        .teams
        .values()
        .filter_map(|team| {
            let hook = team.webhook.as_ref()?;
            crate::mail::webhook::check_url(&hook.url, settings.webhooks.allow_private)
                .err()
                .map(|e| format!("routing.toml: team {:?}: {e}", team.id))
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid(problems.join("\n")))
    }
}
