//! Who is asked: contacts import, personal tokens, invitations queued in the outbox.
//! Each invitation and its email are written in one transaction, and a contact is
//! invited at most once per wave however often the command runs.

pub mod contacts;
mod token;

use std::collections::{BTreeMap, HashSet};

use diesel::prelude::*;

pub use contacts::{EmailAddress, ImportReport, NewContact};
pub use token::{NotAToken, Token};

use crate::config::Settings;
use crate::db::schema::{contacts as contacts_t, invitations};
use crate::db::{now, AnyConnection, Database};
use crate::error::{Error, Result};
use crate::mail::outbox::{self, NewMessage};
use crate::survey::{store as survey_store, Locale, StoredSurvey, WaveLabel};

/// A contacts file could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{file}: {reason}")]
    Header { file: String, reason: String },
    #[error("{file}: {} invalid row(s); nothing was imported. Fix them, or pass --skip-invalid to import only the valid rows:\n{}", errors.len(), errors.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
    Rejected { file: String, errors: Vec<String> },
}

/// Which contacts to invite: all, or those whose segment column has a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentFilter {
    pub key: String,
    pub value: String,
}

impl std::str::FromStr for SegmentFilter {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok(SegmentFilter {
                key: k.trim().to_string(),
                value: v.trim().to_string(),
            }),
            _ => Err(Error::Invalid(format!(
                "--segment {s:?}: write it as column=value, e.g. customer_type=current"
            ))),
        }
    }
}

/// What an invitation run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct InviteReport {
    pub queued: usize,
    pub already_invited: usize,
    pub unsubscribed: usize,
    pub outside_segment: usize,
}

#[derive(Queryable)]
struct ContactRow {
    id: i64,
    email: String,
    name: String,
    locale: String,
    attributes: String,
    unsubscribed_at: Option<chrono::NaiveDateTime>,
}

/// Gives every matching contact a personal link for `wave` and queues the invitation
/// email. Safe to re-run: contacts invited to this wave before are left alone.
pub fn invite(
    db: &Database,
    settings: &Settings,
    survey: &StoredSurvey,
    wave: &WaveLabel,
    segment: Option<&SegmentFilter>,
    progress: &indicatif::ProgressBar,
) -> Result<InviteReport> {
    let wave = db.write(|conn| survey_store::ensure_wave(conn, survey.id, wave))?;
    let mut conn = db.conn()?;
    let everyone: Vec<ContactRow> = contacts_t::table
        .select((
            contacts_t::id,
            contacts_t::email,
            contacts_t::name,
            contacts_t::locale,
            contacts_t::attributes,
            contacts_t::unsubscribed_at,
        ))
        .order(contacts_t::id)
        .load(&mut *conn)?;
    let invited: HashSet<i64> = invitations::table
        .filter(invitations::wave_id.eq(wave.id))
        .select(invitations::contact_id)
        .load::<i64>(&mut *conn)?
        .into_iter()
        .collect();
    drop(conn);

    let mut report = InviteReport::default();
    let mut todo = Vec::new();
    for contact in everyone {
        if let Some(filter) = segment {
            let attributes: BTreeMap<String, String> =
                serde_json::from_str(&contact.attributes).unwrap_or_default();
            if attributes.get(&filter.key) != Some(&filter.value) {
                report.outside_segment += 1;
                continue;
            }
        }
        if invited.contains(&contact.id) {
            report.already_invited += 1;
        } else if contact.unsubscribed_at.is_some() {
            report.unsubscribed += 1;
        } else {
            todo.push(contact);
        }
    }

    progress.set_length(todo.len() as u64);
    // Batches keep each transaction short; a stopped run resumes where it was.
    for batch in todo.chunks(200) {
        let queued = db.write(|conn| -> Result<usize> {
            let mut queued = 0;
            for contact in batch {
                let already: i64 = invitations::table
                    .filter(invitations::wave_id.eq(wave.id))
                    .filter(invitations::contact_id.eq(contact.id))
                    .count()
                    .get_result(conn)?;
                if already > 0 {
                    continue;
                }
                let token = Token::generate();
                let locale: Locale = contact
                    .locale
                    .parse()
                    .unwrap_or(survey.survey.default_locale);
                let link = settings.link(&format!("/s/{}", token.as_str()));
                let email = survey.survey.render_invitation(
                    locale,
                    &contact.name,
                    &contact.email,
                    &link,
                    &wave.label,
                )?;
                diesel::insert_into(invitations::table)
                    .values((
                        invitations::survey_id.eq(survey.id),
                        invitations::wave_id.eq(wave.id),
                        invitations::contact_id.eq(contact.id),
                        invitations::token_hash.eq(token.hash()),
                        invitations::created_at.eq(now()),
                    ))
                    .execute(conn)?;
                let invitation_id: i64 = invitations::table
                    .filter(invitations::token_hash.eq(token.hash()))
                    .select(invitations::id)
                    .first(conn)?;
                outbox::queue(
                    conn,
                    settings,
                    NewMessage {
                        kind: outbox::Kind::Invitation,
                        invitation_id: Some(invitation_id),
                        recipient_name: &contact.name,
                        recipient_email: &contact.email,
                        rendered: email,
                    },
                )?;
                queued += 1;
            }
            Ok(queued)
        })?;
        report.queued += queued;
        report.already_invited += batch.len() - queued;
        progress.inc(batch.len() as u64);
    }
    Ok(report)
}

/// The person behind a valid token, with what the answer form needs.
#[derive(Debug, Clone)]
pub struct Invitee {
    pub invitation_id: i64,
    pub survey_id: i64,
    pub wave_id: i64,
    pub contact_id: i64,
    pub name: String,
    pub locale: Locale,
    pub attributes: String,
    pub opened: bool,
}

/// Looks a token up by its hash. `None` for unknown tokens.
pub fn find_invitee(conn: &mut AnyConnection, token: &Token) -> Result<Option<Invitee>> {
    let row = invitations::table
        .inner_join(contacts_t::table)
        .filter(invitations::token_hash.eq(token.hash()))
        .select((
            invitations::id,
            invitations::survey_id,
            invitations::wave_id,
            contacts_t::id,
            contacts_t::name,
            contacts_t::locale,
            contacts_t::attributes,
            invitations::opened_at,
        ))
        .first::<(
            i64,
            i64,
            i64,
            i64,
            String,
            String,
            String,
            Option<chrono::NaiveDateTime>,
        )>(conn)
        .optional()?;
    Ok(row.map(
        |(invitation_id, survey_id, wave_id, contact_id, name, locale, attributes, opened_at)| {
            Invitee {
                invitation_id,
                survey_id,
                wave_id,
                contact_id,
                name,
                locale: locale.parse().unwrap_or(Locale::En),
                attributes,
                opened: opened_at.is_some(),
            }
        },
    ))
}

/// Records the first time the personal link was opened.
pub fn mark_opened(conn: &mut AnyConnection, invitation_id: i64) -> Result<()> {
    diesel::update(
        invitations::table
            .find(invitation_id)
            .filter(invitations::opened_at.is_null()),
    )
    .set(invitations::opened_at.eq(now()))
    .execute(conn)?;
    Ok(())
}
