//! Who an invitation run reaches and who it skips, and why: the one place that
//! applies the rules a run must respect (already invited to the wave,
//! unsubscribed, outside the segment, and the global contact frequency cap
//! `contact_at_most_every`). `pds invite`, `pds invite --dry-run`, reminders and
//! the cadence all ask here; nothing here writes.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;
use serde::Serialize;

use super::{ContactRow, SegmentFilter};
use crate::attributes::Attributes;
use crate::db::schema::{contacts as contacts_t, invitations};
use crate::db::AnyConnection;
use crate::error::Result;

/// Why a contact is not invited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Skip {
    AlreadyInvited,
    Unsubscribed,
    OutsideSegment,
    /// Another audience than the run's (staff in a customer run, or the reverse).
    OtherAudience,
    /// Invited to another wave (of any survey) at `last`, less than
    /// `contact_at_most_every` ago.
    ContactedRecently {
        last: chrono::NaiveDateTime,
    },
}

impl Skip {
    /// For the command line.
    pub fn describe(self, cap: Option<chrono::Duration>) -> String {
        match self {
            Skip::AlreadyInvited => "invited to this wave before".into(),
            Skip::Unsubscribed => "unsubscribed (or erased)".into(),
            Skip::OutsideSegment => "outside the segment".into(),
            Skip::OtherAudience => "another audience (customers or staff)".into(),
            Skip::ContactedRecently { last } => format!(
                "invited to a survey on {} (contact_at_most_every = {} days)",
                last.date(),
                cap.map_or(0, |c| c.num_days())
            ),
        }
    }
}

/// A contact as a plan lists it: who, never their answers.
#[derive(Debug, Clone, Serialize)]
pub struct Person {
    pub contact_id: i64,
    pub email: String,
    pub name: String,
}

/// What a run would do.
#[derive(Debug, Default)]
pub struct Plan {
    pub(super) invite: Vec<ContactRow>,
    pub skipped: Vec<(Person, Skip)>,
}

impl Plan {
    pub fn to_invite(&self) -> Vec<Person> {
        self.invite.iter().map(person).collect()
    }

    pub fn count(&self, wanted: impl Fn(&Skip) -> bool) -> usize {
        self.skipped.iter().filter(|(_, s)| wanted(s)).count()
    }
}

pub(super) fn person(c: &ContactRow) -> Person {
    Person {
        contact_id: c.id,
        email: c.email.clone(),
        name: c.name.clone(),
    }
}

/// Every contact, in import order.
pub(super) fn contacts(conn: &mut AnyConnection) -> Result<Vec<ContactRow>> {
    Ok(contacts_t::table
        .select(ContactRow::as_select())
        .order(contacts_t::id)
        .load(conn)?)
}

/// The frequency cap as seen at `now`: each contact's latest invitation to a wave
/// other than `wave_id`, when it is within `cap`.
pub(super) struct RecentInvitations(HashMap<i64, chrono::NaiveDateTime>);

impl RecentInvitations {
    pub(super) fn load(
        conn: &mut AnyConnection,
        cap: Option<chrono::Duration>,
        wave_id: Option<i64>,
        now: chrono::NaiveDateTime,
    ) -> Result<Self> {
        let Some(cap) = cap else {
            return Ok(RecentInvitations(HashMap::new()));
        };
        let mut query = invitations::table
            .filter(invitations::created_at.gt(now - cap))
            .select((invitations::contact_id, invitations::created_at))
            .into_boxed();
        if let Some(wave_id) = wave_id {
            query = query.filter(invitations::wave_id.ne(wave_id));
        }
        let mut latest = HashMap::new();
        for (contact, at) in query.load::<(i64, chrono::NaiveDateTime)>(conn)? {
            latest
                .entry(contact)
                .and_modify(|t: &mut chrono::NaiveDateTime| *t = (*t).max(at))
                .or_insert(at);
        }
        Ok(RecentInvitations(latest))
    }

    /// Why the cap holds `contact_id` back, if it does.
    pub(super) fn holds(&self, contact_id: i64) -> Option<Skip> {
        self.0
            .get(&contact_id)
            .map(|&last| Skip::ContactedRecently { last })
    }
}

/// Who `pds invite` would invite among `audience` (`customer` or `staff`) to the
/// wave `wave_id` (`None`: not created yet) at `now`, and who it skips.
pub fn plan(
    conn: &mut AnyConnection,
    cap: Option<chrono::Duration>,
    wave_id: Option<i64>,
    segment: Option<&SegmentFilter>,
    audience: &str,
    now: chrono::NaiveDateTime,
) -> Result<Plan> {
    let everyone = contacts(conn)?;
    let invited: HashSet<i64> = match wave_id {
        Some(id) => invitations::table
            .filter(invitations::wave_id.eq(id))
            .select(invitations::contact_id)
            .load::<i64>(conn)?
            .into_iter()
            .collect(),
        None => HashSet::new(),
    };
    let recent = RecentInvitations::load(conn, cap, wave_id, now)?;
    let mut plan = Plan::default();
    for contact in everyone {
        let outside = match segment {
            Some(filter) => !in_segment(&contact, filter)?,
            None => false,
        };
        let skip = if contact.audience != audience {
            Some(Skip::OtherAudience)
        } else if outside {
            Some(Skip::OutsideSegment)
        } else if invited.contains(&contact.id) {
            Some(Skip::AlreadyInvited)
        } else if contact.unsubscribed_at.is_some() {
            Some(Skip::Unsubscribed)
        } else {
            recent.holds(contact.id)
        };
        match skip {
            Some(why) => plan.skipped.push((person(&contact), why)),
            None => plan.invite.push(contact),
        }
    }
    Ok(plan)
}

/// Whether the contact's segment column `filter.key` is `filter.value`; a stored
/// column that cannot be read stops the plan, naming the contact.
fn in_segment(contact: &ContactRow, filter: &SegmentFilter) -> Result<bool> {
    let attributes =
        Attributes::from_stored(&contact.attributes, || format!("contact {}", contact.id))?;
    Ok(attributes.get(&filter.key) == Some(filter.value.as_str()))
}
