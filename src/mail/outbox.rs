//! The outbox table: every email is queued here in the same transaction as the fact
//! that caused it, and the worker claims, delivers and records it. A claimed row
//! carries a lease, so a worker that dies mid-send leaves the row to be retried.

use chrono::Duration;
use diesel::prelude::*;
use lettre::message::Mailbox;
use rand::Rng;

pub use super::transport::SendFailure;
use crate::config::Settings;
use crate::db::schema::{contacts, invitations, outbox};
use crate::db::{now, AnyConnection, Database};
use crate::error::{Error, Result};
use crate::survey::Rendered;

/// What a message is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Invitation,
    Reminder,
    /// A routed complaint, to an operations team.
    Complaint,
    /// What a team did about a customer's complaint, to that customer.
    Followup,
    /// "You said, we did": areas improved, to the customers who mentioned them.
    Announcement,
    /// A routed complaint, POSTed to a team's webhook (`mail::webhook`).
    Webhook,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Invitation => "invitation",
            Kind::Reminder => "reminder",
            Kind::Complaint => "complaint",
            Kind::Followup => "followup",
            Kind::Announcement => "announcement",
            Kind::Webhook => "webhook",
        }
    }
}

/// Where a message is in its life, as the `outbox.status` column spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Waiting for its `next_attempt_at`.
    Queued,
    /// Claimed by a worker whose lease has not run out.
    Sending,
    Sent,
    /// Given up on: a permanent failure, or too many transient ones.
    Failed,
    /// Not sent because the contact unsubscribed after it was queued.
    Cancelled,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Queued,
        Status::Sending,
        Status::Sent,
        Status::Failed,
        Status::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Sending => "sending",
            Status::Sent => "sent",
            Status::Failed => "failed",
            Status::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// Transient failures are retried this many times before the row is marked failed.
pub const MAX_ATTEMPTS: i32 = 8;

pub struct NewMessage<'a> {
    pub kind: Kind,
    pub invitation_id: Option<i64>,
    pub recipient_name: &'a str,
    pub recipient_email: &'a str,
    pub rendered: Rendered,
    /// The contact a survey email goes to; an unsubscribe cancels it if still queued.
    pub contact_id: Option<i64>,
    /// The personal unsubscribe URL, sent as List-Unsubscribe (RFC 8058).
    pub list_unsubscribe: Option<String>,
    /// Where a reply goes instead of the sender (a complaint: the customer who
    /// agreed to be contacted), as a mailbox such as `Anna <anna@example.com>`.
    pub reply_to: Option<String>,
}

/// Queues one message on `conn`, inside the caller's transaction.
pub fn queue(conn: &mut AnyConnection, settings: &Settings, message: NewMessage<'_>) -> Result<()> {
    let address = message.recipient_email.parse().map_err(|e| {
        Error::Invalid(format!(
            "{:?} is not an email address: {e}",
            message.recipient_email
        ))
    })?;
    let recipient = Mailbox::new(Some(message.recipient_name.to_string()), address).to_string();
    let domain = settings.mail_from.email.domain().to_string();
    // A stable Message-ID per row: a crash between sending and recording produces at
    // most a duplicate that mail clients recognise as the same message.
    let message_id = format!(
        "<{}@{}>",
        hex::encode(rand::rng().random::<[u8; 16]>()),
        domain
    );
    let stamp = now();
    diesel::insert_into(outbox::table)
        .values((
            outbox::kind.eq(message.kind.as_str()),
            outbox::invitation_id.eq(message.invitation_id),
            outbox::recipient.eq(recipient),
            outbox::subject.eq(message.rendered.subject),
            outbox::body_text.eq(message.rendered.text),
            outbox::body_html.eq(message.rendered.html),
            outbox::message_id.eq(message_id),
            outbox::status.eq(Status::Queued.as_str()),
            outbox::attempts.eq(0),
            outbox::next_attempt_at.eq(stamp),
            outbox::created_at.eq(stamp),
            outbox::contact_id.eq(message.contact_id),
            outbox::list_unsubscribe.eq(message.list_unsubscribe),
            outbox::sender_name.eq(message.rendered.sender),
            outbox::reply_to.eq(message
                .reply_to
                .or_else(|| message.rendered.reply_to.map(|a| a.to_string()))),
        ))
        .execute(conn)?;
    Ok(())
}

/// Queues a webhook delivery on `conn`, inside the caller's transaction: the
/// row's recipient is the URL, its plain-text body the JSON to POST, and its
/// Message-ID the `X-PDS-Delivery` id that stays the same across retries.
/// `summary` is what `pds outbox status` shows for it; `secret_env` names the
/// team's own signing secret (`None`: the global `webhook_secret`).
pub fn queue_webhook(
    conn: &mut AnyConnection,
    url: &str,
    summary: &str,
    body: &str,
    secret_env: Option<&str>,
) -> Result<()> {
    let stamp = now();
    diesel::insert_into(outbox::table)
        .values((
            outbox::kind.eq(Kind::Webhook.as_str()),
            outbox::recipient.eq(url),
            outbox::subject.eq(summary),
            outbox::body_text.eq(body),
            outbox::body_html.eq(""),
            outbox::webhook_secret_env.eq(secret_env),
            outbox::message_id.eq(hex::encode(rand::rng().random::<[u8; 16]>())),
            outbox::status.eq(Status::Queued.as_str()),
            outbox::attempts.eq(0),
            outbox::next_attempt_at.eq(stamp),
            outbox::created_at.eq(stamp),
        ))
        .execute(conn)?;
    Ok(())
}

/// A row claimed for delivery.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = outbox)]
pub struct Queued {
    pub id: i64,
    pub invitation_id: Option<i64>,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub message_id: String,
    pub attempts: i32,
    pub list_unsubscribe: Option<String>,
    pub contact_id: Option<i64>,
    pub kind: String,
    /// The From display name; the `mail_from` setting's name when `None`.
    pub sender_name: Option<String>,
    pub reply_to: Option<String>,
    /// A webhook's own signing secret's variable (`secret_env` in routing.toml).
    pub webhook_secret_env: Option<String>,
}

/// Claims up to `limit` due rows for this worker for `lease`. Survey emails to
/// contacts who have unsubscribed since they were queued are cancelled instead.
pub fn claim_due(db: &Database, limit: i64, lease: std::time::Duration) -> Result<Vec<Queued>> {
    db.write(|conn| {
        let stamp = now();
        // Two index range scans (status, next_attempt_at) rather than one query over
        // both statuses ordered by id, which would sort every due row on each claim.
        let mut due: Vec<Queued> = Vec::new();
        for status in [Status::Sending.as_str(), Status::Queued.as_str()] {
            let room = limit - due.len() as i64;
            if room <= 0 {
                break;
            }
            due.extend(due_rows(conn, status, stamp, room)?);
        }
        // Unsubscribing cancels queued mail at once; this catches mail queued by a
        // run that read the contact list just before the unsubscribe.
        let contact_ids: Vec<i64> = due.iter().filter_map(|r| r.contact_id).collect();
        let unsubscribed: std::collections::HashSet<i64> = contacts::table
            .filter(contacts::id.eq_any(&contact_ids))
            .filter(contacts::unsubscribed_at.is_not_null())
            .select(contacts::id)
            .load::<i64>(conn)?
            .into_iter()
            .collect();
        for contact in &unsubscribed {
            cancel_for_contact(conn, *contact)?;
        }
        let due: Vec<Queued> = due
            .into_iter()
            .filter(|row| !row.contact_id.is_some_and(|c| unsubscribed.contains(&c)))
            .collect();
        let lease = stamp + Duration::milliseconds(lease.as_millis().min(i64::MAX as u128) as i64);
        let mut claimed = Vec::with_capacity(due.len());
        for row in due {
            let won = diesel::update(
                outbox::table
                    .find(row.id)
                    .filter(outbox::next_attempt_at.le(stamp))
                    .filter(
                        outbox::status.eq_any([Status::Queued.as_str(), Status::Sending.as_str()]),
                    ),
            )
            .set((
                outbox::status.eq(Status::Sending.as_str()),
                outbox::next_attempt_at.eq(lease),
            ))
            .execute(conn)?;
            if won == 1 {
                claimed.push(row);
            }
        }
        Ok(claimed)
    })
}

/// Up to `limit` rows in `status` due at `stamp`, oldest first. On PostgreSQL the
/// rows are locked until the claim commits, and rows another worker (another
/// `pds serve` or `pds worker` on the same database) is claiming are skipped instead
/// of waited for: workers on several machines take different rows at once rather
/// than queueing behind each other's claims. SQLite has one writer at a time, so
/// its claims never overlap.
fn due_rows(
    conn: &mut AnyConnection,
    status: &str,
    stamp: chrono::NaiveDateTime,
    limit: i64,
) -> diesel::QueryResult<Vec<Queued>> {
    // Built once per backend: the selection's type depends on it.
    macro_rules! due {
        () => {
            outbox::table
                .filter(outbox::status.eq(status))
                .filter(outbox::next_attempt_at.le(stamp))
                .order(outbox::next_attempt_at)
                .limit(limit)
                .select(Queued::as_select())
        };
    }
    match conn {
        AnyConnection::Postgresql(pg) => due!().for_update().skip_locked().load(pg),
        AnyConnection::Sqlite(sqlite) => due!().load(sqlite),
    }
}

/// Records a delivery. The bodies are dropped: they hold personal links, which
/// the database otherwise keeps only as hashes.
fn mark_sent(conn: &mut AnyConnection, message: &Queued) -> Result<()> {
    {
        let stamp = now();
        diesel::update(outbox::table.find(message.id))
            .set((
                outbox::status.eq(Status::Sent.as_str()),
                outbox::sent_at.eq(stamp),
                outbox::attempts.eq(message.attempts + 1),
                outbox::body_text.eq(""),
                outbox::body_html.eq(""),
                outbox::list_unsubscribe.eq(None::<String>),
                outbox::reply_to.eq(None::<String>),
                outbox::last_error.eq(None::<String>),
            ))
            .execute(conn)?;
        if let Some(invitation) = message.invitation_id {
            diesel::update(
                invitations::table
                    .find(invitation)
                    .filter(invitations::sent_at.is_null()),
            )
            .set(invitations::sent_at.eq(stamp))
            .execute(conn)?;
        }
        Ok(())
    }
}

/// Records a failed attempt. Returns true when the row is given up on (a permanent
/// failure, or too many attempts); otherwise it is rescheduled with exponential
/// backoff and jitter.
fn mark_failed(conn: &mut AnyConnection, message: &Queued, failure: &SendFailure) -> Result<bool> {
    let attempts = message.attempts + 1;
    let give_up = failure.permanent || attempts >= MAX_ATTEMPTS;
    let backoff = 30i64 * (1i64 << attempts.min(10));
    let jitter = rand::rng().random_range(0..=backoff / 4);
    diesel::update(outbox::table.find(message.id))
        .set((
            outbox::status.eq(if give_up {
                Status::Failed
            } else {
                Status::Queued
            }
            .as_str()),
            outbox::attempts.eq(attempts),
            outbox::next_attempt_at.eq(now() + Duration::seconds(backoff + jitter)),
            outbox::last_error.eq(Some(&failure.reason)),
        ))
        .execute(conn)?;
    Ok(give_up)
}

/// Records the outcome of a batch of sends in one transaction. A crash before this
/// commits leaves the batch claimed; after the lease it is sent again under the same
/// Message-IDs, so at most one batch is duplicated and recognisably so.
pub fn record(
    db: &Database,
    outcomes: &[(Queued, Result<(), SendFailure>)],
) -> Result<super::DeliveryReport> {
    db.write(|conn| {
        let mut report = super::DeliveryReport::default();
        for (message, outcome) in outcomes {
            match outcome {
                Ok(()) => {
                    mark_sent(conn, message)?;
                    report.sent += 1;
                }
                Err(failure) => {
                    if mark_failed(conn, message, failure)? {
                        report.failed += 1;
                    } else {
                        report.retrying += 1;
                    }
                }
            }
        }
        Ok(report)
    })
}

/// Cancels survey emails (invitations, reminders, follow-ups) still waiting for a contact.
pub fn cancel_for_contact(conn: &mut AnyConnection, contact_id: i64) -> Result<usize> {
    Ok(diesel::update(
        outbox::table
            .filter(outbox::contact_id.eq(contact_id))
            .filter(outbox::status.eq(Status::Queued.as_str()))
            .filter(outbox::kind.eq_any([
                Kind::Invitation.as_str(),
                Kind::Reminder.as_str(),
                Kind::Followup.as_str(),
                Kind::Announcement.as_str(),
            ])),
    )
    .set((
        outbox::status.eq(Status::Cancelled.as_str()),
        outbox::body_text.eq(""),
        outbox::body_html.eq(""),
        outbox::list_unsubscribe.eq(None::<String>),
    ))
    .execute(conn)?)
}

/// Counts of rows per kind and status, for `pds outbox status`.
pub fn counts(conn: &mut AnyConnection) -> Result<Vec<(String, String, i64)>> {
    use diesel::dsl::count_star;
    Ok(outbox::table
        .group_by((outbox::kind, outbox::status))
        .select((outbox::kind, outbox::status, count_star()))
        .order((outbox::kind, outbox::status))
        .load(conn)?)
}

/// Puts failed messages back in the queue and makes every queued message due now.
/// Returns (requeued failed, made due).
pub fn retry(db: &Database) -> Result<(usize, usize)> {
    db.write(|conn| {
        let stamp = now();
        let failed =
            diesel::update(outbox::table.filter(outbox::status.eq(Status::Failed.as_str())))
                .set((
                    outbox::status.eq(Status::Queued.as_str()),
                    outbox::attempts.eq(0),
                    outbox::next_attempt_at.eq(stamp),
                ))
                .execute(conn)?;
        let waiting = diesel::update(
            outbox::table
                .filter(outbox::status.eq(Status::Queued.as_str()))
                .filter(outbox::next_attempt_at.gt(stamp)),
        )
        .set(outbox::next_attempt_at.eq(stamp))
        .execute(conn)?;
        Ok((failed, waiting))
    })
}

/// A message that could not be delivered, for `pds outbox status`.
#[derive(Debug, Clone, Queryable)]
pub struct Failure {
    pub id: i64,
    pub kind: String,
    pub recipient: String,
    pub attempts: i32,
    pub last_error: Option<String>,
}

/// The most recent failed messages (or queued ones with an error), newest first.
pub fn failures(conn: &mut AnyConnection, limit: i64) -> Result<Vec<Failure>> {
    Ok(outbox::table
        .filter(outbox::last_error.is_not_null())
        .filter(outbox::status.ne(Status::Sent.as_str()))
        .order(outbox::id.desc())
        .limit(limit)
        .select((
            outbox::id,
            outbox::kind,
            outbox::recipient,
            outbox::attempts,
            outbox::last_error,
        ))
        .load(conn)?)
}
