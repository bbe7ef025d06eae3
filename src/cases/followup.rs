//! The customer hears back: when a case is resolved with a note, an email in the
//! customer's language tells them what was done, queued in the outbox in the same
//! transaction as the resolution. Never without the customer's consent for that
//! problem, for an anonymous survey, for an unsubscribed or erased contact, or
//! when the survey has no `followup` templates (surveys stored before they
//! existed): then the case's trail says why. A survey with `followup_review = true`
//! holds the follow-up for an analyst's review (`followup_review`) instead.

use diesel::prelude::*;
use serde::Serialize;

use super::{Case, Note};
use crate::config::Settings;
use crate::db::schema::{contacts, followup_reviews, responses};
use crate::db::{now, AnyConnection};
use crate::error::Result;
use crate::mail::outbox::{self, Kind, NewMessage};

/// Whether the customer hears back about a resolved case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", content = "reason", rename_all = "lowercase")]
pub enum FollowUp {
    Queued,
    Skipped(Skip),
    /// Held until an analyst approves or rejects it (`followup_review = true`).
    #[serde(rename = "awaiting_review")]
    AwaitingReview,
}

/// Whether a follow-up may go now or waits for the survey's review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Release {
    /// As the survey says: held for review when `followup_review = true`.
    AsSurveyWants,
    /// An analyst approved it.
    Approved,
}

/// Why no follow-up was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Skip {
    /// Resolved without a note: there is nothing to tell.
    NoNote,
    /// The customer did not agree to be contacted about this problem.
    NoConsent,
    Anonymous,
    /// The answer is no longer linked to a contact (erased).
    NoContact,
    Unsubscribed,
    /// The survey was stored before follow-up templates existed.
    NoTemplate,
}

impl Skip {
    /// The code kept in the case's history (pages say it in words, per locale).
    pub fn as_str(self) -> &'static str {
        match self {
            Skip::NoNote => "no_note",
            Skip::NoConsent => "no_consent",
            Skip::Anonymous => "anonymous",
            Skip::NoContact => "no_contact",
            Skip::Unsubscribed => "unsubscribed",
            Skip::NoTemplate => "no_template",
        }
    }

    /// For the command line and the log.
    pub fn describe(self) -> &'static str {
        match self {
            Skip::NoNote => "resolved without a note",
            Skip::NoConsent => "the customer did not agree to be contacted",
            Skip::Anonymous => "the survey is anonymous",
            Skip::NoContact => "the answer is not linked to a contact (erased)",
            Skip::Unsubscribed => "the contact has unsubscribed",
            Skip::NoTemplate => "the survey has no followup templates in this language",
        }
    }
}

/// Queues the follow-up for `case`, resolved with `note`, on `conn` (inside the
/// caller's transaction), or says why not.
pub(super) fn queue(
    conn: &mut AnyConnection,
    settings: &Settings,
    case: &Case,
    note: &Note,
    release: Release,
) -> Result<FollowUp> {
    if !case.may_contact {
        return Ok(FollowUp::Skipped(Skip::NoConsent));
    }
    let survey = crate::survey::store::by_id(conn, case.survey_id)?;
    if survey.survey.anonymous {
        return Ok(FollowUp::Skipped(Skip::Anonymous));
    }
    let (contact_id, locale): (Option<i64>, String) = responses::table
        .find(case.response_id)
        .select((responses::contact_id, responses::locale))
        .first(conn)?;
    let Some(contact_id) = contact_id else {
        return Ok(FollowUp::Skipped(Skip::NoContact));
    };
    let (email, name, unsubscribed_at): (String, String, Option<chrono::NaiveDateTime>) =
        contacts::table
            .find(contact_id)
            .select((contacts::email, contacts::name, contacts::unsubscribed_at))
            .first(conn)?;
    if unsubscribed_at.is_some() {
        return Ok(FollowUp::Skipped(Skip::Unsubscribed));
    }
    let locale = survey
        .survey
        .locale_for(locale.parse().unwrap_or(survey.survey.default_locale));
    if !survey.survey.has_email(locale, "followup") {
        return Ok(FollowUp::Skipped(Skip::NoTemplate));
    }
    if release == Release::AsSurveyWants && survey.survey.followup_review {
        hold(conn, case.id, note)?;
        return Ok(FollowUp::AwaitingReview);
    }
    let rendered = survey.survey.render_email(
        locale,
        "followup",
        serde_json::json!({
            "contact": {"name": name},
            "complaint": {"text": case.text, "rank": case.rank},
            "note": note.as_str(),
            "team": {"name": case.team_name},
            "wave": case.wave,
        }),
    )?;
    outbox::queue(
        conn,
        settings,
        NewMessage {
            kind: Kind::Followup,
            invitation_id: None,
            recipient_name: &name,
            recipient_email: &email,
            rendered,
            contact_id: Some(contact_id),
            list_unsubscribe: None,
            reply_to: None,
        },
    )?;
    Ok(FollowUp::Queued)
}

/// The status of a follow-up held for an analyst's review (`followup_review`).
pub(super) const AWAITING: &str = "awaiting";

/// Holds the follow-up of case `case_id` with `note` for review, inside the
/// resolution's transaction.
pub(super) fn hold(conn: &mut AnyConnection, case_id: i64, note: &Note) -> Result<()> {
    diesel::insert_into(followup_reviews::table)
        .values((
            followup_reviews::case_id.eq(case_id),
            followup_reviews::note.eq(note.as_str()),
            followup_reviews::status.eq(AWAITING),
            followup_reviews::created_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}
