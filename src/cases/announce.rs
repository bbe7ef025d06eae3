//! "You said, we did": an analyst marks a problem area improved, with a short text
//! per locale, for the respondents of chosen waves who mentioned that area and
//! agreed to be contacted about it. Announcing stores the announcement and, in the
//! same transaction, one pending row per contact and wave; the worker (or
//! `pds areas announce --send-now`) then sends each contact ONE email with all
//! their pending announcements, once the newest is [`HOLD`] old, so that areas
//! announced together arrive together. A contact gets at most one such email per
//! wave (`announcement_emails` is unique per contact and wave): an announcement
//! for a wave they were already told about is recorded as skipped.
//!
//! Never for an anonymous survey (its answers keep no contact), an unsubscribed
//! or erased contact, or a mention without consent.

use std::collections::{BTreeMap, BTreeSet};

use diesel::prelude::*;
use serde::Serialize;

use crate::coding::store as coding;
use crate::config::Settings;
use crate::db::schema::{
    announcement_emails, announcement_recipients as recipients, announcements, contacts, mentions,
    responses, unsubscribe_tokens,
};
use crate::db::{now, AnyConnection, Database};
use crate::error::{Error, Result};
use crate::invite::Token;
use crate::mail::outbox::{self, Kind, NewMessage};
use crate::survey::{store as survey_store, Locale, StoredSurvey, WaveLabel};

/// How long pending announcements wait for others before the worker sends them.
pub const HOLD: chrono::Duration = chrono::Duration::hours(1);

/// The longest announcement text, in characters.
pub const MAX_TEXT_CHARS: usize = 1000;

/// What an analyst announces.
#[derive(Debug, Clone)]
pub struct NewAnnouncement<'a> {
    /// The area: its id, codebook id or label.
    pub area: &'a str,
    pub waves: &'a [WaveLabel],
    /// What was done, per locale code as written (`sv`, `en`).
    pub texts: &'a BTreeMap<String, String>,
    /// Who announces (`cli:NAME`, `api:KEY`).
    pub actor: &'a str,
}

/// What announcing did (also the admin API's answer).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Announced {
    pub id: i64,
    pub area_id: i64,
    pub area: String,
    pub waves: Vec<String>,
    /// Contacts who will hear of it (once per wave they mentioned it in).
    pub contacts: usize,
    /// Mentioners who did not agree to be contacted about it.
    pub without_consent: usize,
    /// Mentioners who have unsubscribed or were erased.
    pub unsubscribed: usize,
    /// Of `contacts`, those already told about every one of these waves: they get
    /// no second such email for the same wave.
    pub already_told: usize,
}

/// Checks `new` against `survey`, and stores it with its pending recipients in one
/// transaction. Nothing is stored when anything is wrong.
pub fn announce(
    db: &Database,
    survey: &StoredSurvey,
    new: &NewAnnouncement<'_>,
) -> Result<Announced> {
    let checked = check(db, survey, new)?;
    let texts_json =
        serde_json::to_string(&checked.texts).map_err(|e| Error::Internal(e.to_string()))?;
    let waves_json =
        serde_json::to_string(&new.waves.iter().map(|w| w.as_str()).collect::<Vec<_>>())
            .map_err(|e| Error::Internal(e.to_string()))?;
    db.write(|conn| -> Result<Announced> {
        let stamp = now();
        diesel::insert_into(announcements::table)
            .values((
                announcements::survey_id.eq(survey.id),
                announcements::area_id.eq(checked.area.id),
                announcements::waves.eq(&waves_json),
                announcements::texts.eq(&texts_json),
                announcements::actor.eq(new.actor),
                announcements::created_at.eq(stamp),
            ))
            .execute(conn)?;
        let id: i64 = announcements::table
            .filter(announcements::survey_id.eq(survey.id))
            .select(diesel::dsl::max(announcements::id))
            .first::<Option<i64>>(conn)?
            .ok_or_else(|| Error::Internal("an announcement just stored is not there".into()))?;
        let audience = Audience::of(conn, &checked)?;
        for &(contact, wave) in &audience.told {
            diesel::insert_into(recipients::table)
                .values((
                    recipients::announcement_id.eq(id),
                    recipients::contact_id.eq(contact),
                    recipients::wave_id.eq(wave),
                    recipients::status.eq(PENDING),
                ))
                .execute(conn)?;
        }
        Ok(audience.announced(id, &checked.area, new.waves))
    })
}

/// What announcing `new` would do, with the same checks, storing nothing: the
/// dashboard's preview before the analyst confirms. Its `id` is 0.
pub fn preview(
    db: &Database,
    survey: &StoredSurvey,
    new: &NewAnnouncement<'_>,
) -> Result<Announced> {
    let checked = check(db, survey, new)?;
    let audience = Audience::of(&mut *db.conn()?, &checked)?;
    Ok(audience.announced(0, &checked.area, new.waves))
}

/// An announcement that passed the checks.
struct Checked {
    texts: BTreeMap<String, String>,
    area: coding::StoredArea,
    wave_ids: Vec<i64>,
}

/// The checks before anything is stored: not anonymous, a text per language,
/// a known area and known waves.
fn check(db: &Database, survey: &StoredSurvey, new: &NewAnnouncement<'_>) -> Result<Checked> {
    if survey.survey.anonymous {
        return Err(Error::Invalid(format!(
            "survey {} is anonymous: its answers keep no link to a contact, so nobody can be told",
            survey.slug
        )));
    }
    let texts = checked_texts(survey, new.texts)?;
    let mut conn = db.conn()?;
    let area = coding::find_area(
        &coding::areas_of(&mut conn, survey.id)?,
        &survey.slug,
        new.area,
    )?;
    let wave_ids = known_waves(&mut conn, survey, new.waves)?
        .iter()
        .map(|w| w.id)
        .collect();
    Ok(Checked {
        texts,
        area,
        wave_ids,
    })
}

/// The respondents of the waves who mentioned the area: those to tell (contact,
/// wave), and those who may not be told.
struct Audience {
    told: BTreeSet<(i64, i64)>,
    without_consent: BTreeSet<(i64, i64)>,
    unsubscribed: BTreeSet<i64>,
    /// (contact, wave) pairs that had their email for the wave already.
    emailed: BTreeSet<(i64, i64)>,
}

impl Audience {
    fn of(conn: &mut AnyConnection, checked: &Checked) -> Result<Audience> {
        let mentioners: Vec<(i64, i64, i32, Option<chrono::NaiveDateTime>)> = mentions::table
            .inner_join(responses::table)
            .inner_join(contacts::table.on(responses::contact_id.eq(contacts::id.nullable())))
            .filter(mentions::area_id.eq(checked.area.id))
            .filter(responses::wave_id.eq_any(&checked.wave_ids))
            .select((
                contacts::id,
                responses::wave_id,
                mentions::may_contact,
                contacts::unsubscribed_at,
            ))
            .load(conn)?;
        let mut told = BTreeSet::new();
        let (mut without_consent, mut unsubscribed) = (BTreeSet::new(), BTreeSet::new());
        for (contact, wave, may_contact, unsubscribed_at) in mentioners {
            if unsubscribed_at.is_some() {
                unsubscribed.insert(contact);
            } else if may_contact == 0 {
                without_consent.insert((contact, wave));
            } else {
                told.insert((contact, wave));
            }
        }
        // A respondent who consented for one mention of the area is told.
        without_consent.retain(|k| !told.contains(k));
        let emailed = announcement_emails::table
            .filter(announcement_emails::wave_id.eq_any(&checked.wave_ids))
            .select((
                announcement_emails::contact_id,
                announcement_emails::wave_id,
            ))
            .load::<(i64, i64)>(conn)?
            .into_iter()
            .filter(|pair| told.contains(pair))
            .collect();
        Ok(Audience {
            told,
            without_consent,
            unsubscribed,
            emailed,
        })
    }

    fn announced(&self, id: i64, area: &coding::StoredArea, waves: &[WaveLabel]) -> Announced {
        let contacts = |pairs: &BTreeSet<(i64, i64)>| {
            pairs.iter().map(|(c, _)| *c).collect::<BTreeSet<_>>().len()
        };
        Announced {
            id,
            area_id: area.id,
            area: area.label.clone(),
            waves: waves.iter().map(|w| w.to_string()).collect(),
            contacts: contacts(&self.told),
            without_consent: contacts(&self.without_consent),
            unsubscribed: self.unsubscribed.len(),
            already_told: contacts(&self.told)
                - contacts(&self.told.difference(&self.emailed).copied().collect()),
        }
    }
}

const PENDING: &str = "pending";
const SENT: &str = "sent";
/// The contact had their email for this wave already.
const ALREADY_TOLD: &str = "skipped_already_told";
const UNSUBSCRIBED: &str = "skipped_unsubscribed";

/// The texts cleaned, one for every locale of the survey and none other.
fn checked_texts(
    survey: &StoredSurvey,
    texts: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>> {
    let speaks: Vec<&str> = survey.survey.locales.iter().map(|l| l.as_str()).collect();
    let mut cleaned = BTreeMap::new();
    for (locale, text) in texts {
        if !speaks.contains(&locale.as_str()) {
            return Err(Error::Invalid(format!(
                "survey {} does not speak {locale:?}; give a text for each of: {}",
                survey.slug,
                speaks.join(", ")
            )));
        }
        let text = crate::text_safety::stored(text);
        if text.trim().is_empty() {
            return Err(Error::Invalid(format!(
                "the {locale} text is empty; write in a sentence or two what was done"
            )));
        }
        if text.chars().count() > MAX_TEXT_CHARS {
            return Err(Error::Invalid(format!(
                "the {locale} text is longer than {MAX_TEXT_CHARS} characters; shorten it"
            )));
        }
        cleaned.insert(locale.clone(), text.trim().to_string());
    }
    let missing: Vec<&str> = speaks
        .iter()
        .filter(|l| !cleaned.contains_key(**l))
        .copied()
        .collect();
    if !missing.is_empty() {
        return Err(Error::Invalid(format!(
            "no text in {}: survey {} speaks {}, and each respondent reads it in their own language",
            missing.join(", "),
            survey.slug,
            speaks.join(", ")
        )));
    }
    if let Some(l) = survey
        .survey
        .locales
        .iter()
        .find(|l| !survey.survey.has_email(**l, "announcement"))
    {
        return Err(Error::Invalid(format!(
            "survey {} has no announcement templates in {l} ({}); it was stored before they existed: create the survey again from a folder that has them",
            survey.slug,
            crate::survey::ANNOUNCEMENT_FILES.join(", ")
        )));
    }
    Ok(cleaned)
}

fn known_waves(
    conn: &mut AnyConnection,
    survey: &StoredSurvey,
    wanted: &[WaveLabel],
) -> Result<Vec<crate::survey::Wave>> {
    if wanted.is_empty() {
        return Err(Error::Invalid(
            "name at least one wave whose respondents should hear of it".into(),
        ));
    }
    let all = survey_store::waves_of(conn, survey.id)?;
    wanted
        .iter()
        .map(|w| {
            all.iter()
                .find(|x| x.label == w.as_str())
                .cloned()
                .ok_or_else(|| {
                    Error::NotFound(format!(
                        "survey {} has no wave {:?}; its waves are: {}",
                        survey.slug,
                        w.as_str(),
                        all.iter()
                            .map(|x| x.label.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })
        })
        .collect()
}

/// What sending pending announcements did.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Sent {
    pub emails: usize,
    /// Pending for a wave the contact was already told about.
    pub already_told: usize,
    pub unsubscribed: usize,
    /// Contacts whose newest announcement is younger than the hold.
    pub waiting: usize,
}

/// A pending recipient row with what its email needs.
#[derive(Queryable, Selectable)]
#[diesel(table_name = recipients)]
struct PendingRow {
    id: i64,
    contact_id: i64,
    wave_id: i64,
    #[diesel(select_expression = announcements::survey_id)]
    survey_id: i64,
    #[diesel(select_expression = announcements::area_id)]
    area_id: i64,
    /// The announcement's texts by locale, as JSON.
    #[diesel(select_expression = announcements::texts)]
    texts: String,
    /// When the announcement was made.
    #[diesel(select_expression = announcements::created_at)]
    created_at: chrono::NaiveDateTime,
}

/// The contact an announcement email goes to.
#[derive(Queryable, Selectable)]
#[diesel(table_name = contacts)]
struct Recipient {
    email: String,
    name: String,
    locale: String,
    unsubscribed_at: Option<chrono::NaiveDateTime>,
}

/// Sends each contact one email with all their pending announcements whose
/// newest is at least `hold` old, each contact in a transaction of its own.
pub fn send_pending(db: &Database, settings: &Settings, hold: chrono::Duration) -> Result<Sent> {
    let rows: Vec<PendingRow> = recipients::table
        .inner_join(announcements::table)
        .filter(recipients::status.eq(PENDING))
        .order(recipients::id)
        .select(PendingRow::as_select())
        .load(&mut *db.conn()?)?;
    let mut by_contact: BTreeMap<(i64, i64), Vec<PendingRow>> = BTreeMap::new();
    for row in rows {
        by_contact
            .entry((row.contact_id, row.survey_id))
            .or_default()
            .push(row);
    }
    let cutoff = now() - hold;
    let mut sent = Sent::default();
    for ((contact, survey_id), rows) in by_contact {
        if rows.iter().any(|r| r.created_at > cutoff) {
            sent.waiting += 1;
            continue;
        }
        let survey = survey_store::by_id(&mut *db.conn()?, survey_id)?;
        db.write(|conn| send_to(conn, settings, &survey, contact, &rows, &mut sent))?;
    }
    Ok(sent)
}

/// One contact's email for one survey, inside the caller's transaction.
fn send_to(
    conn: &mut AnyConnection,
    settings: &Settings,
    survey: &StoredSurvey,
    contact_id: i64,
    rows: &[PendingRow],
    sent: &mut Sent,
) -> Result<()> {
    let stamp = now();
    let recipient: Recipient = contacts::table
        .find(contact_id)
        .select(Recipient::as_select())
        .first(conn)?;
    if recipient.unsubscribed_at.is_some() {
        sent.unsubscribed += rows.len();
        return mark(conn, rows.iter(), UNSUBSCRIBED, stamp);
    }
    let told: BTreeSet<i64> = announcement_emails::table
        .filter(announcement_emails::contact_id.eq(contact_id))
        .select(announcement_emails::wave_id)
        .load::<i64>(conn)?
        .into_iter()
        .collect();
    let (old, new): (Vec<&PendingRow>, Vec<&PendingRow>) =
        rows.iter().partition(|r| told.contains(&r.wave_id));
    sent.already_told += old.len();
    mark(conn, old.iter().copied(), ALREADY_TOLD, stamp)?;
    if new.is_empty() {
        return Ok(());
    }
    let locale = survey.survey.locale_for(
        recipient
            .locale
            .parse()
            .unwrap_or(survey.survey.default_locale),
    );
    let waves: BTreeSet<i64> = new.iter().map(|r| r.wave_id).collect();
    for wave in &waves {
        diesel::insert_into(announcement_emails::table)
            .values((
                announcement_emails::contact_id.eq(contact_id),
                announcement_emails::wave_id.eq(wave),
                announcement_emails::created_at.eq(stamp),
            ))
            .execute(conn)?;
    }
    let items = items(conn, survey, locale, &new)?;
    let wave_labels: Vec<String> = survey_store::waves_of(conn, survey.id)?
        .into_iter()
        .filter(|w| waves.contains(&w.id))
        .map(|w| w.label)
        .collect();
    let unsubscribe_link = unsubscribe_link(conn, settings, contact_id, stamp)?;
    let rendered = survey.survey.render_email(
        locale,
        "announcement",
        serde_json::json!({
            "contact": {"name": recipient.name},
            "announcements": items,
            "waves": wave_labels,
            "unsubscribe_link": unsubscribe_link,
        }),
    )?;
    outbox::queue(
        conn,
        settings,
        NewMessage {
            kind: Kind::Announcement,
            invitation_id: None,
            recipient_name: &recipient.name,
            recipient_email: &recipient.email,
            rendered,
            contact_id: Some(contact_id),
            list_unsubscribe: Some(unsubscribe_link),
            reply_to: None,
        },
    )?;
    sent.emails += 1;
    mark(conn, new.iter().copied(), SENT, stamp)
}

/// Records what became of the recipient rows `rows` (sent, already told,
/// unsubscribed) at `stamp`.
fn mark<'r>(
    conn: &mut AnyConnection,
    rows: impl Iterator<Item = &'r PendingRow>,
    status: &str,
    stamp: chrono::NaiveDateTime,
) -> Result<()> {
    let ids: Vec<i64> = rows.map(|r| r.id).collect();
    diesel::update(recipients::table.filter(recipients::id.eq_any(ids)))
        .set((
            recipients::status.eq(status),
            recipients::decided_at.eq(stamp),
        ))
        .execute(conn)?;
    Ok(())
}

/// A new one-click unsubscribe link for the contact (stored hashed).
fn unsubscribe_link(
    conn: &mut AnyConnection,
    settings: &Settings,
    contact_id: i64,
    stamp: chrono::NaiveDateTime,
) -> Result<String> {
    let unsubscribe = Token::generate();
    diesel::insert_into(unsubscribe_tokens::table)
        .values((
            unsubscribe_tokens::contact_id.eq(contact_id),
            unsubscribe_tokens::invitation_id.eq(None::<i64>),
            unsubscribe_tokens::token_hash.eq(unsubscribe.hash()),
            unsubscribe_tokens::created_at.eq(stamp),
        ))
        .execute(conn)?;
    Ok(settings.link(&format!("/u/{}", unsubscribe.as_str())))
}

/// One item per announcement (an area announced twice says both texts), in the
/// order announced, with the area's label in `locale`.
fn items(
    conn: &mut AnyConnection,
    survey: &StoredSurvey,
    locale: Locale,
    rows: &[&PendingRow],
) -> Result<Vec<serde_json::Value>> {
    let areas = coding::areas_of(conn, survey.id)?;
    let mut seen = BTreeSet::new();
    let mut items = Vec::new();
    for row in rows {
        let (area_id, texts) = (&row.area_id, &row.texts);
        if !seen.insert((row.area_id, row.texts.clone(), row.created_at)) {
            continue;
        }
        let texts: BTreeMap<String, String> = serde_json::from_str(texts)
            .map_err(|e| Error::Internal(format!("announcement texts: {e}")))?;
        let text = texts
            .get(locale.as_str())
            .or_else(|| texts.values().next())
            .cloned()
            .unwrap_or_default();
        let label = areas
            .iter()
            .find(|a| a.id == *area_id)
            .map(|a| {
                a.labels()
                    .get(locale.as_str())
                    .cloned()
                    .unwrap_or_else(|| a.label.clone())
            })
            .unwrap_or_default();
        items.push(serde_json::json!({"area": label, "text": text}));
    }
    Ok(items)
}
