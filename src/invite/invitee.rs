//! Who a link belongs to: the invitee behind a personal survey link (and the
//! moment it was first opened), the contact behind an unsubscribe link (and the
//! unsubscribing itself). Reads and marks; queues nothing new.

use diesel::prelude::*;

use super::Token;
use crate::attributes::Attributes;
use crate::db::schema::{
    contacts as contacts_t, invitation_tokens, invitations, unsubscribe_tokens, waves,
};
use crate::db::{now, AnyConnection, Database};
use crate::error::Result;
use crate::mail::outbox;
use crate::survey::Locale;

/// The person behind a valid token, with what the answer form needs.
#[derive(Debug, Clone)]
pub struct Invitee {
    pub invitation_id: i64,
    pub survey_id: i64,
    pub wave_id: i64,
    /// The wave's label.
    pub wave: String,
    pub contact_id: i64,
    pub name: String,
    pub email: String,
    pub locale: Locale,
    /// The contact's segment columns from the contact list (`customer_type` →
    /// `current`), copied onto the response.
    pub attributes: Attributes,
    /// The invitation's audience, fixed when it was made: `customer`, or `staff`,
    /// who answer as they think customers would and never count as customers. The
    /// link records answers in this audience whatever the contact is later
    /// imported as, and whatever a submitted form claims.
    pub audience: String,
    pub opened: bool,
    /// Whether an answer came through this invitation (in an anonymous survey the
    /// answer itself is no longer linked to it).
    pub answered: bool,
}

/// An invitation with its contact and wave, as [`Invitee`] is made from.
#[derive(Queryable)]
struct InviteeRow {
    invitation_id: i64,
    survey_id: i64,
    wave_id: i64,
    contact_id: i64,
    name: String,
    email: String,
    locale: String,
    /// The contact's segment columns as stored: a JSON object of strings.
    attributes: String,
    audience: String,
    wave: String,
    opened_at: Option<chrono::NaiveDateTime>,
    answered_at: Option<chrono::NaiveDateTime>,
}

/// Looks a token up by its hash. `None` for unknown tokens.
pub fn find_invitee(conn: &mut AnyConnection, token: &Token) -> Result<Option<Invitee>> {
    let hash = token.hash();
    // The first link is on the invitation: one query finds it with its contact and
    // wave. Reminders' links are in invitation_tokens.
    let row = invitee_row(conn, Found::ByTokenHash(&hash))?;
    if row.is_none() {
        let reminded: Option<i64> = invitation_tokens::table
            .filter(invitation_tokens::token_hash.eq(&hash))
            .select(invitation_tokens::invitation_id)
            .first(conn)
            .optional()?;
        if let Some(id) = reminded {
            return find_invitee_by_invitation(conn, id);
        }
    }
    row.map(invitee_of_row).transpose()
}

/// The invitee of an invitation by its id (for answers that waited in the inbox,
/// which keeps no token). `None` when the invitation is gone.
pub fn find_invitee_by_invitation(
    conn: &mut AnyConnection,
    invitation_id: i64,
) -> Result<Option<Invitee>> {
    invitee_row(conn, Found::ByInvitation(invitation_id))?
        .map(invitee_of_row)
        .transpose()
}

/// How an invitee is looked up.
enum Found<'a> {
    ByTokenHash(&'a str),
    ByInvitation(i64),
}

/// An invitation with its contact and wave, as one query.
fn invitee_row(conn: &mut AnyConnection, found: Found<'_>) -> Result<Option<InviteeRow>> {
    let query = invitations::table
        .inner_join(contacts_t::table)
        .inner_join(waves::table)
        .select((
            invitations::id,
            invitations::survey_id,
            invitations::wave_id,
            contacts_t::id,
            contacts_t::name,
            contacts_t::email,
            contacts_t::locale,
            contacts_t::attributes,
            invitations::audience,
            waves::label,
            invitations::opened_at,
            invitations::answered_at,
        ));
    Ok(match found {
        Found::ByTokenHash(hash) => query
            .filter(invitations::token_hash.eq(hash))
            .first::<InviteeRow>(conn)
            .optional()?,
        Found::ByInvitation(id) => query
            .filter(invitations::id.eq(id))
            .first::<InviteeRow>(conn)
            .optional()?,
    })
}

/// An invitee from its row; a contact's stored segment columns that cannot be read
/// are refused, naming the contact, rather than read as none.
fn invitee_of_row(row: InviteeRow) -> Result<Invitee> {
    let attributes =
        Attributes::from_stored(&row.attributes, || format!("contact {}", row.contact_id))?;
    Ok(Invitee {
        invitation_id: row.invitation_id,
        survey_id: row.survey_id,
        wave_id: row.wave_id,
        wave: row.wave,
        contact_id: row.contact_id,
        name: row.name,
        email: row.email,
        locale: row.locale.parse().unwrap_or(Locale::En),
        attributes,
        audience: row.audience,
        opened: row.opened_at.is_some(),
        answered: row.answered_at.is_some(),
    })
}

/// Records the first time the personal link was opened: the moment, or in an
/// anonymous survey only the day (see [`coarse_stamp`]).
pub fn mark_opened(conn: &mut AnyConnection, invitation_id: i64, anonymous: bool) -> Result<()> {
    let stamp = if anonymous {
        coarse_stamp(now())
    } else {
        now()
    };
    diesel::update(
        invitations::table
            .find(invitation_id)
            .filter(invitations::opened_at.is_null()),
    )
    .set(invitations::opened_at.eq(stamp))
    .execute(conn)?;
    Ok(())
}

/// The start of the day of `at`: what an anonymous survey records on the
/// invitation, so that the exact time of an answer cannot be matched to a contact.
pub fn coarse_stamp(at: chrono::NaiveDateTime) -> chrono::NaiveDateTime {
    at.date().and_hms_opt(0, 0, 0).expect("midnight exists")
}

/// The contact behind an unsubscribe link, with the survey it came with.
#[derive(Debug, Clone)]
pub struct Unsubscriber {
    pub contact_id: i64,
    pub locale: Locale,
    pub survey_id: Option<i64>,
    pub already: bool,
}

/// Looks an unsubscribe token up by its hash.
pub fn find_unsubscriber(conn: &mut AnyConnection, token: &Token) -> Result<Option<Unsubscriber>> {
    let row: Option<(i64, Option<i64>, String, Option<chrono::NaiveDateTime>)> =
        unsubscribe_tokens::table
            .inner_join(contacts_t::table)
            .filter(unsubscribe_tokens::token_hash.eq(token.hash()))
            .select((
                contacts_t::id,
                unsubscribe_tokens::invitation_id,
                contacts_t::locale,
                contacts_t::unsubscribed_at,
            ))
            .first(conn)
            .optional()?;
    let Some((contact_id, invitation_id, locale, unsubscribed_at)) = row else {
        return Ok(None);
    };
    let survey_id = match invitation_id {
        Some(id) => invitations::table
            .find(id)
            .select(invitations::survey_id)
            .first(conn)
            .optional()?,
        None => None,
    };
    Ok(Some(Unsubscriber {
        contact_id,
        locale: locale.parse().unwrap_or(Locale::En),
        survey_id,
        already: unsubscribed_at.is_some(),
    }))
}

/// Unsubscribes a contact from all survey email and cancels what is still queued
/// for them, in one transaction. Complaints routed to teams are not affected.
pub fn unsubscribe(db: &Database, contact_id: i64) -> Result<usize> {
    db.write(|conn| {
        mark_unsubscribed(conn, contact_id)?;
        outbox::cancel_for_contact(conn, contact_id)
    })
}

/// Marks a contact unsubscribed now, unless they already are.
pub(super) fn mark_unsubscribed(conn: &mut AnyConnection, contact_id: i64) -> Result<()> {
    diesel::update(
        contacts_t::table
            .find(contact_id)
            .filter(contacts_t::unsubscribed_at.is_null()),
    )
    .set(contacts_t::unsubscribed_at.eq(now()))
    .execute(conn)?;
    Ok(())
}
