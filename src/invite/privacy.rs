//! Forgetting people: `pds contacts erase` and `pds purge`. An erased contact keeps
//! their row, blanked (email `erased-<id>@invalid`, no name, no segment values), so
//! invitations still count in response rates and every foreign key stays valid on
//! both backends. Their answers stay, anonymous: the mentions are the study's data,
//! the person behind them is not. This room must not delete answers or mentions;
//! checklist drafts (answers saved half-way, never sent) are deleted.
//!
//! Segment values copied onto a response (`responses.attributes`, e.g.
//! `customer_type=current`) are kept: they are analysis categories, not identities,
//! and removing them would change segment results after the fact.

use std::collections::HashMap;

use diesel::prelude::*;

use crate::db::schema::{
    checklist_drafts, contacts, invitation_tokens, invitations, mentions, outbox, responses,
    unsubscribe_tokens,
};
use crate::db::{now, AnyConnection, Database};
use crate::error::{Error, Result};
use crate::invite::EmailAddress;
use crate::mail::outbox as mail_outbox;

/// What replaces an erased person's words in emails kept for the record.
const ERASED: &str = "(erased)";

/// The address an erased contact is left with: unique, and undeliverable by design
/// (`.invalid` is reserved, RFC 2606).
fn placeholder(contact_id: i64) -> String {
    format!("erased-{contact_id}@invalid")
}

fn is_placeholder(email: &str) -> bool {
    email.starts_with("erased-") && email.ends_with("@invalid")
}

/// What erasing one contact did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ErasureReport {
    pub contact_id: i64,
    pub responses_unlinked: usize,
    pub invitations_kept: usize,
    pub links_revoked: usize,
    pub emails_scrubbed: usize,
    pub emails_cancelled: usize,
    /// Checklists saved half-way ("Save and continue later") and never sent.
    pub drafts_deleted: usize,
}

/// Erases the contact with this email address in one transaction. Fails with
/// `NotFound` (exit code 2) when no contact has it.
pub fn erase(db: &Database, email: &EmailAddress) -> Result<ErasureReport> {
    db.write(|conn| {
        let found: Option<(i64, String)> = contacts::table
            .filter(contacts::email.eq(email.as_str()))
            .select((contacts::id, contacts::name))
            .first(conn)
            .optional()?;
        let Some((contact_id, name)) = found else {
            return Err(Error::NotFound(format!(
                "no contact has the email address {}; check the spelling, or it was erased before",
                email.as_str()
            )));
        };
        erase_contact(conn, contact_id, email.as_str(), &name)
    })
}

/// Erases one contact inside the caller's transaction.
fn erase_contact(
    conn: &mut AnyConnection,
    contact_id: i64,
    email: &str,
    name: &str,
) -> Result<ErasureReport> {
    let mut report = ErasureReport {
        contact_id,
        ..Default::default()
    };
    let invitation_ids: Vec<i64> = invitations::table
        .filter(invitations::contact_id.eq(contact_id))
        .select(invitations::id)
        .load(conn)?;
    report.invitations_kept = invitation_ids.len();

    // Personal links: the reminders' tokens go; the invitation's own token is
    // replaced by a value no token hashes to, so the first link stops working too.
    report.links_revoked += diesel::delete(
        invitation_tokens::table.filter(invitation_tokens::invitation_id.eq_any(&invitation_ids)),
    )
    .execute(conn)?;
    for id in &invitation_ids {
        report.links_revoked += diesel::update(invitations::table.find(id))
            .set(invitations::token_hash.eq(format!("erased-{id}")))
            .execute(conn)?;
    }
    report.links_revoked += diesel::delete(
        unsubscribe_tokens::table.filter(unsubscribe_tokens::contact_id.eq(contact_id)),
    )
    .execute(conn)?;
    // A checklist saved half-way can hold written-in text; it was never sent, so
    // nothing of it is the study's data.
    report.drafts_deleted = diesel::delete(
        checklist_drafts::table.filter(checklist_drafts::invitation_id.eq_any(&invitation_ids)),
    )
    .execute(conn)?;

    // Answers stay and still count; nothing leads from them to the person, and
    // nobody may be contacted about them any more.
    let response_ids: Vec<i64> = responses::table
        .filter(
            responses::contact_id
                .eq(contact_id)
                .or(responses::invitation_id.eq_any(&invitation_ids)),
        )
        .select(responses::id)
        .load(conn)?;
    report.responses_unlinked =
        diesel::update(responses::table.filter(responses::id.eq_any(&response_ids)))
            .set(responses::contact_id.eq(None::<i64>))
            .execute(conn)?;
    diesel::update(mentions::table.filter(mentions::response_id.eq_any(&response_ids)))
        .set(mentions::may_contact.eq(0))
        .execute(conn)?;
    crate::cases::forget_contact(conn, &response_ids)?;

    let (scrubbed, cancelled) = scrub_outbox(conn, contact_id, &invitation_ids, email, name)?;
    report.emails_scrubbed = scrubbed;
    report.emails_cancelled = cancelled;

    diesel::update(contacts::table.find(contact_id))
        .set((
            contacts::email.eq(placeholder(contact_id)),
            contacts::name.eq(""),
            contacts::attributes.eq("{}"),
            contacts::updated_at.eq(now()),
        ))
        .execute(conn)?;
    // Unsubscribed, so that no later invitation run picks the blank row up.
    super::invitee::mark_unsubscribed(conn, contact_id)?;
    Ok(report)
}

/// An email in the outbox that may name the person being forgotten.
#[derive(Queryable, Selectable)]
#[diesel(table_name = outbox)]
struct OutboxRow {
    id: i64,
    contact_id: Option<i64>,
    invitation_id: Option<i64>,
    recipient: String,
    status: String,
    subject: String,
    body_text: String,
    body_html: String,
    last_error: Option<String>,
}

/// Email addressed to the person loses its recipient and bodies (and is cancelled if
/// not yet sent); email to others that quotes them (a complaint routed to a team with
/// permission to contact) keeps its text with their address and name replaced.
/// Returns (rows scrubbed, rows cancelled).
fn scrub_outbox(
    conn: &mut AnyConnection,
    contact_id: i64,
    invitation_ids: &[i64],
    email: &str,
    name: &str,
) -> Result<(usize, usize)> {
    // LIKE narrows the search; the exact match is decided below, since `_` and `%`
    // in an address are wildcards to LIKE.
    let pattern = format!("%{email}%");
    let rows: Vec<OutboxRow> = outbox::table
        .filter(
            outbox::contact_id
                .eq(contact_id)
                .or(outbox::invitation_id.eq_any(invitation_ids))
                .or(outbox::recipient.like(&pattern))
                .or(outbox::subject.like(&pattern))
                .or(outbox::body_text.like(&pattern))
                .or(outbox::body_html.like(&pattern))
                .or(outbox::last_error.like(&pattern)),
        )
        .select(OutboxRow::as_select())
        .load(conn)?;
    let placeholder = placeholder(contact_id);
    let (mut scrubbed, mut cancelled) = (0, 0);
    for row in rows {
        let OutboxRow {
            id,
            contact_id: to_contact,
            invitation_id: invitation,
            recipient,
            status,
            subject,
            body_text: text,
            body_html: html,
            last_error: error,
        } = row;
        let addressed = to_contact == Some(contact_id)
            || invitation.is_some_and(|i| invitation_ids.contains(&i))
            || recipient.contains(email);
        if addressed {
            let unfinished = [
                mail_outbox::Status::Queued.as_str(),
                mail_outbox::Status::Sending.as_str(),
                mail_outbox::Status::Failed.as_str(),
            ]
            .contains(&status.as_str());
            let status = if unfinished {
                cancelled += 1;
                mail_outbox::Status::Cancelled.as_str().to_string()
            } else {
                status
            };
            diesel::update(outbox::table.find(id))
                .set((
                    outbox::recipient.eq(&placeholder),
                    outbox::subject.eq(""),
                    outbox::body_text.eq(""),
                    outbox::body_html.eq(""),
                    outbox::last_error.eq(None::<String>),
                    outbox::list_unsubscribe.eq(None::<String>),
                    outbox::status.eq(status),
                ))
                .execute(conn)?;
            scrubbed += 1;
            continue;
        }
        let quotes = |s: &str| s.contains(email);
        if !(quotes(&subject)
            || quotes(&text)
            || quotes(&html)
            || error.as_deref().is_some_and(quotes))
        {
            continue;
        }
        let redact = |s: &str| {
            let s = s.replace(email, ERASED);
            if name.trim().is_empty() {
                s
            } else {
                s.replace(name, ERASED)
                    .replace(&handlebars::html_escape(name), ERASED)
            }
        };
        diesel::update(outbox::table.find(id))
            .set((
                outbox::subject.eq(redact(&subject)),
                outbox::body_text.eq(redact(&text)),
                outbox::body_html.eq(redact(&html)),
                outbox::last_error.eq(error.as_deref().map(redact)),
            ))
            .execute(conn)?;
        scrubbed += 1;
    }
    Ok((scrubbed, cancelled))
}

/// Parses a retention age (see `crate::age`), e.g. `18mo` or `2y`. A retention
/// shorter than a day is refused: `18m` is eighteen minutes, as everywhere in
/// pds, and a purge of everything older than that is never what was meant.
pub fn parse_retention(text: &str) -> std::result::Result<chrono::Duration, String> {
    let age = crate::age::parse(text).ok_or_else(|| {
        format!(
            "{text:?} is not an age; write a number and a unit, e.g. 2y or 18mo. Units: {}",
            crate::age::UNITS
        )
    })?;
    if age < chrono::Duration::days(1) {
        return Err(format!(
            "{text:?} is shorter than a day, which would erase nearly everyone; write months as mo (18mo) and years as y (2y)"
        ));
    }
    Ok(age)
}

/// What a purge did, or would do on a dry run.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PurgeReport {
    pub contacts_erased: usize,
    pub responses_unlinked: usize,
    pub outbox_deleted: usize,
}

/// Erases every contact whose last sign of life (import or update, invitation,
/// answer) is older than `older_than`, and deletes sent and cancelled email older
/// than that. Each contact is erased in its own transaction, so a stopped purge
/// resumes where it stopped. With `dry_run`, only counts.
pub fn purge(db: &Database, older_than: chrono::Duration, dry_run: bool) -> Result<PurgeReport> {
    let cutoff = now() - older_than;
    let mut conn = db.conn()?;
    let people: Vec<(i64, String, String, chrono::NaiveDateTime)> = contacts::table
        .select((
            contacts::id,
            contacts::email,
            contacts::name,
            contacts::updated_at,
        ))
        .order(contacts::id)
        .load(&mut *conn)?;
    let mut last_seen: HashMap<i64, chrono::NaiveDateTime> = people
        .iter()
        .map(|(id, _, _, updated)| (*id, *updated))
        .collect();
    let mut seen = |id: i64, at: chrono::NaiveDateTime| {
        if let Some(last) = last_seen.get_mut(&id) {
            *last = (*last).max(at);
        }
    };
    let invited: Vec<(i64, chrono::NaiveDateTime)> = invitations::table
        .select((invitations::contact_id, invitations::created_at))
        .load(&mut *conn)?;
    for (id, at) in invited {
        seen(id, at);
    }
    let answered: Vec<(Option<i64>, chrono::NaiveDateTime)> = responses::table
        .filter(responses::contact_id.is_not_null())
        .select((responses::contact_id, responses::updated_at))
        .load(&mut *conn)?;
    for (id, at) in answered {
        if let Some(id) = id {
            seen(id, at);
        }
    }
    let stale: Vec<(i64, String, String)> = people
        .into_iter()
        .filter(|(id, email, _, _)| {
            !is_placeholder(email) && last_seen.get(id).is_some_and(|at| *at < cutoff)
        })
        .map(|(id, email, name, _)| (id, email, name))
        .collect();
    let finished = [
        mail_outbox::Status::Sent.as_str(),
        mail_outbox::Status::Cancelled.as_str(),
    ];
    let old_mail = outbox::table
        .filter(outbox::status.eq_any(finished))
        .filter(outbox::created_at.lt(cutoff));

    let mut report = PurgeReport::default();
    if dry_run {
        report.contacts_erased = stale.len();
        let ids: Vec<i64> = stale.iter().map(|(id, _, _)| *id).collect();
        report.responses_unlinked = responses::table
            .filter(responses::contact_id.eq_any(&ids))
            .count()
            .get_result::<i64>(&mut *conn)? as usize;
        report.outbox_deleted = old_mail.count().get_result::<i64>(&mut *conn)? as usize;
        return Ok(report);
    }
    drop(conn);
    for (id, email, name) in &stale {
        let erased = db.write(|conn| erase_contact(conn, *id, email, name))?;
        report.contacts_erased += 1;
        report.responses_unlinked += erased.responses_unlinked;
    }
    report.outbox_deleted = db.write(|conn| -> Result<usize> {
        Ok(diesel::delete(
            outbox::table
                .filter(outbox::status.eq_any(finished))
                .filter(outbox::created_at.lt(cutoff)),
        )
        .execute(conn)?)
    })?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_ages_read_as_days() {
        assert_eq!(parse_retention("2y"), Ok(chrono::Duration::days(730)));
        assert_eq!(parse_retention("18mo"), Ok(chrono::Duration::days(540)));
        let minutes = parse_retention("18m").unwrap_err();
        assert!(
            minutes.contains("shorter than a day") && minutes.contains("18mo"),
            "{minutes}"
        );
        assert_eq!(parse_retention("3w"), Ok(chrono::Duration::days(21)));
        assert_eq!(parse_retention("10d"), Ok(chrono::Duration::days(10)));
        assert!(parse_retention("2").is_err());
        assert!(parse_retention("y").is_err());
        assert!(parse_retention("5h").is_err());
    }

    #[test]
    fn placeholders_are_recognised() {
        assert!(is_placeholder(&placeholder(42)));
        assert!(!is_placeholder("anna@example.com"));
    }
}
