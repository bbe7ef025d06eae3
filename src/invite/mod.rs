//! Who is asked: contacts import, personal tokens, invitations queued in the outbox.
//! Each invitation and its email are written in one transaction, and a contact is
//! invited at most once per wave however often the command runs.

pub mod cadence;
pub mod contacts;
pub(crate) mod error;
mod invitee;
pub mod overview;
pub mod plan;
pub mod privacy;
mod token;

pub use error::{header_names, ImportError};

use std::collections::HashMap;

use diesel::prelude::*;

pub use contacts::{EmailAddress, ImportReport, NewContact};
pub use invitee::{
    coarse_stamp, find_invitee, find_invitee_by_invitation, find_unsubscriber, mark_opened,
    unsubscribe, Invitee, Unsubscriber,
};
pub use token::{NotAToken, Token};

use crate::config::Settings;
use crate::db::schema::{
    contacts as contacts_t, invitation_tokens, invitations, outbox as outbox_t, unsubscribe_tokens,
};
use crate::db::{now, AnyConnection, Database};
use crate::error::{Error, Result};
use crate::mail::outbox::{self, NewMessage};
use crate::survey::{store as survey_store, Addressee, Locale, StoredSurvey, WaveLabel};

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

/// What an invitation run queued.
// The admin API answers with it as it is, named `InviteResult` in its OpenAPI document.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[schema(as = InviteResult)]
pub struct InviteReport {
    pub wave: String,
    /// Invitations queued now; the worker in `pds serve` (or `pds worker`) delivers them.
    pub queued: usize,
    pub already_invited: usize,
    pub unsubscribed: usize,
    pub outside_segment: usize,
    /// Held back by the contact frequency cap (`contact_at_most_every`).
    pub contacted_recently: usize,
}

#[derive(Debug, Queryable, Selectable, Clone)]
#[diesel(table_name = contacts_t)]
pub(crate) struct ContactRow {
    id: i64,
    email: String,
    name: String,
    locale: String,
    attributes: String,
    unsubscribed_at: Option<chrono::NaiveDateTime>,
    /// `customer` or `staff` (see [`crate::audience::STAFF`]).
    audience: String,
}

/// Invitations and reminders to a closed survey would only lead to its closed
/// page: refused before anything is queued.
fn refuse_closed(survey: &StoredSurvey) -> Result<()> {
    match survey.survey.closes {
        Some(closed) if !survey.survey.is_open_at(now()) => {
            Err(crate::survey::SurveyError::Closed {
                survey: survey.slug.clone(),
                closed: closed.to_string(),
            }
            .into())
        }
        _ => Ok(()),
    }
}

/// Gives every matching contact a personal link for `wave` and queues the invitation
/// email. Safe to re-run: contacts invited to this wave before are left alone, and
/// so are those the contact frequency cap holds back.
pub fn invite(
    db: &Database,
    settings: &Settings,
    survey: &StoredSurvey,
    wave: &WaveLabel,
    segment: Option<&SegmentFilter>,
    progress: &indicatif::ProgressBar,
) -> Result<InviteReport> {
    let whom = Whom {
        survey,
        wave,
        segment,
        audience: crate::audience::CUSTOMER,
    };
    invite_audience(db, settings, &whom, progress)
}

/// Whom a run invites: the contacts of `audience` (`customer` or `staff`) in
/// `segment`, to `wave` of `survey`. Contacts of another audience count as
/// outside the segment.
#[derive(Debug, Clone, Copy)]
pub struct Whom<'a> {
    pub survey: &'a StoredSurvey,
    pub wave: &'a WaveLabel,
    pub segment: Option<&'a SegmentFilter>,
    pub audience: &'a str,
}

/// [`invite`] for the contacts of one audience.
pub fn invite_audience(
    db: &Database,
    settings: &Settings,
    whom: &Whom,
    progress: &indicatif::ProgressBar,
) -> Result<InviteReport> {
    let survey = whom.survey;
    refuse_closed(survey)?;
    let wave = db.write(|conn| survey_store::ensure_wave(conn, survey.id, whom.wave))?;
    let plan = plan::plan(
        &mut *db.conn()?,
        settings.contact_at_most_every,
        Some(wave.id),
        whom.segment,
        whom.audience,
        now(),
    )?;
    let mut report = InviteReport {
        wave: whom.wave.to_string(),
        queued: 0,
        already_invited: plan.count(|s| *s == plan::Skip::AlreadyInvited),
        unsubscribed: plan.count(|s| *s == plan::Skip::Unsubscribed),
        outside_segment: plan
            .count(|s| matches!(s, plan::Skip::OutsideSegment | plan::Skip::OtherAudience)),
        contacted_recently: plan.count(|s| matches!(s, plan::Skip::ContactedRecently { .. })),
    };
    let queued = invite_contacts(db, settings, survey, &wave, &plan.invite, progress)?;
    report.queued = queued;
    report.already_invited += plan.invite.len() - queued;
    Ok(report)
}

/// Who `pds invite` would invite and skip among `audience`, without storing
/// anything (not even the wave).
pub fn dry_run(db: &Database, settings: &Settings, whom: &Whom) -> Result<plan::Plan> {
    refuse_closed(whom.survey)?;
    let mut conn = db.conn()?;
    let wave_id = survey_store::find_wave(&mut conn, whom.survey.id, whom.wave)?.map(|w| w.id);
    plan::plan(
        &mut conn,
        settings.contact_at_most_every,
        wave_id,
        whom.segment,
        whom.audience,
        now(),
    )
}

/// Invites `contacts` to `wave`, in short transactions of 200 (a stopped run
/// resumes where it was); a contact invited to the wave meanwhile is left alone.
/// Returns how many were invited.
fn invite_contacts(
    db: &Database,
    settings: &Settings,
    survey: &StoredSurvey,
    wave: &crate::survey::Wave,
    contacts: &[ContactRow],
    progress: &indicatif::ProgressBar,
) -> Result<usize> {
    progress.set_length(contacts.len() as u64);
    let mut total = 0;
    for batch in contacts.chunks(200) {
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
                diesel::insert_into(invitations::table)
                    .values((
                        invitations::survey_id.eq(survey.id),
                        invitations::wave_id.eq(wave.id),
                        invitations::contact_id.eq(contact.id),
                        invitations::token_hash.eq(token.hash()),
                        invitations::created_at.eq(now()),
                        invitations::audience.eq(&contact.audience),
                    ))
                    .execute(conn)?;
                let invitation_id: i64 = invitations::table
                    .filter(invitations::token_hash.eq(token.hash()))
                    .select(invitations::id)
                    .first(conn)?;
                queue_personal_email(
                    conn,
                    settings,
                    survey,
                    &wave.label,
                    contact,
                    invitation_id,
                    &token,
                    None,
                )?;
                queued += 1;
            }
            Ok(queued)
        })?;
        total += queued;
        progress.inc(batch.len() as u64);
    }
    Ok(total)
}

/// Renders and queues an invitation (or reminder `n`) with a fresh unsubscribe link,
/// inside the caller's transaction.
#[allow(clippy::too_many_arguments)]
fn queue_personal_email(
    conn: &mut AnyConnection,
    settings: &Settings,
    survey: &StoredSurvey,
    wave_label: &str,
    contact: &ContactRow,
    invitation_id: i64,
    token: &Token,
    reminder_number: Option<u32>,
) -> Result<()> {
    let unsubscribe = Token::generate();
    diesel::insert_into(unsubscribe_tokens::table)
        .values((
            unsubscribe_tokens::contact_id.eq(contact.id),
            unsubscribe_tokens::invitation_id.eq(Some(invitation_id)),
            unsubscribe_tokens::token_hash.eq(unsubscribe.hash()),
            unsubscribe_tokens::created_at.eq(now()),
        ))
        .execute(conn)?;
    let locale: Locale = contact
        .locale
        .parse()
        .unwrap_or(survey.survey.default_locale);
    let link = settings.link(&format!("/s/{}", token.as_str()));
    let unsubscribe_link = settings.link(&format!("/u/{}", unsubscribe.as_str()));
    let email = survey.survey.render_invitation(
        &Addressee {
            locale,
            name: &contact.name,
            email: &contact.email,
            link: &link,
            unsubscribe_link: &unsubscribe_link,
            wave: wave_label,
            audience: &contact.audience,
        },
        reminder_number,
    )?;
    outbox::queue(
        conn,
        settings,
        NewMessage {
            kind: if reminder_number.is_some() {
                outbox::Kind::Reminder
            } else {
                outbox::Kind::Invitation
            },
            invitation_id: Some(invitation_id),
            recipient_name: &contact.name,
            recipient_email: &contact.email,
            rendered: email,
            contact_id: Some(contact.id),
            list_unsubscribe: Some(unsubscribe_link),
            reply_to: None,
        },
    )
}

/// Parses an age such as `5d`, `36h`, `90m` or `0s`: how long since the last email
/// a contact must have waited before a reminder (see `crate::age`). `None` when it
/// is not of that form.
pub fn parse_age(text: &str) -> Option<chrono::Duration> {
    crate::age::parse(text)
}

/// What a reminder run queued.
// The admin API answers with it as it is, named `RemindResult` in its OpenAPI document.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[schema(as = RemindResult)]
pub struct RemindReport {
    pub wave: String,
    pub queued: usize,
    pub answered: usize,
    pub unsubscribed: usize,
    pub too_recent: usize,
    pub reminded_enough: usize,
    /// Invited to another survey within `contact_at_most_every`.
    pub contacted_recently: usize,
}

/// Queues a reminder for every invitation of `wave` that has not been answered,
/// whose contact has not unsubscribed, whose last email is older than `after`, and
/// which has had fewer than `max` reminders. Each reminder carries a new personal
/// link to the same answer (the earlier links keep working).
pub fn remind(
    db: &Database,
    settings: &Settings,
    survey: &StoredSurvey,
    wave: &WaveLabel,
    after: chrono::Duration,
    max: u32,
    progress: &indicatif::ProgressBar,
) -> Result<RemindReport> {
    refuse_closed(survey)?;
    let mut conn = db.conn()?;
    let wave = survey_store::existing_wave(&mut conn, survey, wave)?;
    let rows: Vec<(i64, Option<chrono::NaiveDateTime>, ContactRow)> = invitations::table
        .inner_join(contacts_t::table)
        .filter(invitations::wave_id.eq(wave.id))
        .order(invitations::id)
        .select((
            invitations::id,
            invitations::answered_at,
            (
                contacts_t::id,
                contacts_t::email,
                contacts_t::name,
                contacts_t::locale,
                contacts_t::attributes,
                contacts_t::unsubscribed_at,
                // The invitation's audience, not the contact's today: a staff
                // invitation is reminded in the staff wording.
                invitations::audience,
            ),
        ))
        .load(&mut *conn)?;
    let history = reminders_sent(&mut conn)?;
    let first_sent = invitations_sent(&mut conn)?;
    let recent = plan::RecentInvitations::load(
        &mut conn,
        settings.contact_at_most_every,
        Some(wave.id),
        now(),
    )?;
    drop(conn);

    let cutoff = now() - after;
    let mut report = RemindReport {
        wave: wave.label.clone(),
        ..RemindReport::default()
    };
    let mut todo = Vec::new();
    for (invitation_id, answered_at, contact) in rows {
        let (reminders, last_reminder) = history.get(&invitation_id).copied().unwrap_or((0, None));
        let last_email = last_reminder.or_else(|| first_sent.get(&invitation_id).copied());
        if answered_at.is_some() {
            report.answered += 1;
        } else if contact.unsubscribed_at.is_some() {
            report.unsubscribed += 1;
        } else if reminders >= i64::from(max) {
            report.reminded_enough += 1;
        } else if last_email.is_some_and(|t| t > cutoff) {
            report.too_recent += 1;
        } else if recent.holds(contact.id).is_some() {
            report.contacted_recently += 1;
        } else {
            todo.push((invitation_id, reminders as u32 + 1, contact));
        }
    }
    progress.set_length(todo.len() as u64);
    for batch in todo.chunks(200) {
        db.write(|conn| queue_reminders(conn, settings, survey, &wave.label, batch))?;
        report.queued += batch.len();
        progress.inc(batch.len() as u64);
    }
    Ok(report)
}

/// Per invitation, how many reminders were queued and when the last one was.
fn reminders_sent(
    conn: &mut AnyConnection,
) -> Result<HashMap<i64, (i64, Option<chrono::NaiveDateTime>)>> {
    use diesel::dsl::{count_star, max as sql_max};
    Ok(outbox_t::table
        .filter(outbox_t::invitation_id.is_not_null())
        .filter(outbox_t::kind.eq(outbox::Kind::Reminder.as_str()))
        .group_by(outbox_t::invitation_id)
        .select((
            outbox_t::invitation_id,
            count_star(),
            sql_max(outbox_t::created_at),
        ))
        .load::<(Option<i64>, i64, Option<chrono::NaiveDateTime>)>(conn)?
        .into_iter()
        .filter_map(|(id, n, last)| id.map(|id| (id, (n, last))))
        .collect())
}

/// Per invitation, when its invitation email was queued.
fn invitations_sent(conn: &mut AnyConnection) -> Result<HashMap<i64, chrono::NaiveDateTime>> {
    Ok(outbox_t::table
        .filter(outbox_t::invitation_id.is_not_null())
        .filter(outbox_t::kind.eq(outbox::Kind::Invitation.as_str()))
        .select((outbox_t::invitation_id, outbox_t::created_at))
        .load::<(Option<i64>, chrono::NaiveDateTime)>(conn)?
        .into_iter()
        .filter_map(|(id, at)| id.map(|id| (id, at)))
        .collect())
}

/// Queues reminder `number` to each `(invitation, number, contact)`, each with a
/// new personal link to the same answer.
fn queue_reminders(
    conn: &mut AnyConnection,
    settings: &Settings,
    survey: &StoredSurvey,
    wave: &str,
    batch: &[(i64, u32, ContactRow)],
) -> Result<()> {
    for (invitation_id, number, contact) in batch {
        let token = Token::generate();
        diesel::insert_into(invitation_tokens::table)
            .values((
                invitation_tokens::invitation_id.eq(invitation_id),
                invitation_tokens::token_hash.eq(token.hash()),
                invitation_tokens::created_at.eq(now()),
            ))
            .execute(conn)?;
        queue_personal_email(
            conn,
            settings,
            survey,
            wave,
            contact,
            *invitation_id,
            &token,
            Some(*number),
        )?;
    }
    Ok(())
}
