//! Continuous surveys (`cadence = "12 months"` in survey.toml): each active contact
//! is invited again once their last invitation to the survey is a period old (or
//! they were never invited), in small daily batches spread over the period, into
//! the wave of the month (`2026-12`). The worker in `pds serve` runs the day's
//! batch; `pds invite --cadence-run` does the same for cron users.
//!
//! The batch of a day is the period's share: ceil(active contacts / days in the
//! period), times the days since the survey's last batch when days were missed
//! (at most one period). The contacts due longest (never invited first) go first;
//! those the contact frequency cap holds back wait for a later day. A day's batch
//! is claimed by a row in `cadence_runs` before anything is sent, so it runs once
//! however many workers or crons ask.

use std::collections::HashMap;

use diesel::prelude::*;
use serde::Serialize;

use super::plan::{self, Person, RecentInvitations, Skip};
use super::ContactRow;
use crate::config::Settings;
use crate::db::schema::{cadence_runs, invitations};
use crate::db::{now, AnyConnection, Database};
use crate::error::{Error, Result};
use crate::survey::cadence::period_wave;
use crate::survey::{store as survey_store, Cadence, StoredSurvey, WaveLabel};

/// What a day's batch of one survey did (or, in a dry run, would do).
#[derive(Debug, Clone, Serialize)]
pub struct CadenceReport {
    pub survey: String,
    pub cadence: String,
    pub wave: String,
    /// The day's batch had already run: nothing was done.
    pub already_ran: bool,
    pub active_contacts: usize,
    /// Contacts whose last invitation to the survey is a period old, or who were
    /// never invited.
    pub due: usize,
    /// How many the day's batch may invite.
    pub batch: usize,
    pub invited: Vec<Person>,
    /// Due contacts held back by the contact frequency cap.
    pub held_back: Vec<(Person, Skip)>,
}

/// Runs (or with `dry_run`, plans) the day's batch of `survey` at `now`.
pub fn run(
    db: &Database,
    settings: &Settings,
    survey: &StoredSurvey,
    dry_run: bool,
) -> Result<CadenceReport> {
    let cadence = survey.survey.cadence.ok_or_else(|| {
        Error::Invalid(format!(
            "survey {} has no cadence; write e.g. cadence = \"12 months\" under [survey] in its survey.toml to make it continuous",
            survey.slug
        ))
    })?;
    super::refuse_closed(survey)?;
    let at = now();
    let day = at.date().to_string();
    let wave: WaveLabel = period_wave(at)
        .parse()
        .map_err(|e| Error::Internal(format!("period wave: {e}")))?;
    let (mut report, chosen) = {
        let mut conn = db.conn()?;
        select(&mut conn, settings, survey, cadence, at, &wave)?
    };
    if report.already_ran || dry_run {
        report.invited = chosen.iter().map(plan::person).collect();
        return Ok(report);
    }
    let Some(wave) = claim_day(db, survey, &day, &wave)? else {
        report.already_ran = true;
        return Ok(report);
    };
    let invited = super::invite_contacts(
        db,
        settings,
        survey,
        &wave,
        &chosen,
        &indicatif::ProgressBar::hidden(),
    )?;
    tracing::info!(survey = %survey.slug, wave = %wave.label, invited, "cadence batch");
    report.invited = chosen.iter().map(plan::person).collect();
    Ok(report)
}

/// Who the day's batch takes, and the report without its invitations.
fn select(
    conn: &mut AnyConnection,
    settings: &Settings,
    survey: &StoredSurvey,
    cadence: Cadence,
    at: chrono::NaiveDateTime,
    wave: &WaveLabel,
) -> Result<(CadenceReport, Vec<ContactRow>)> {
    let day = at.date().to_string();
    let runs: Vec<String> = cadence_runs::table
        .filter(cadence_runs::survey_id.eq(survey.id))
        .select(cadence_runs::day)
        .load(conn)?;
    let active: Vec<ContactRow> = plan::contacts(conn)?
        .into_iter()
        .filter(|c| c.unsubscribed_at.is_none())
        .collect();
    let last: HashMap<i64, chrono::NaiveDateTime> = invitations::table
        .filter(invitations::survey_id.eq(survey.id))
        .group_by(invitations::contact_id)
        .select((
            invitations::contact_id,
            diesel::dsl::max(invitations::created_at),
        ))
        .load::<(i64, Option<chrono::NaiveDateTime>)>(conn)?
        .into_iter()
        .filter_map(|(c, t)| t.map(|t| (c, t)))
        .collect();
    let mut due: Vec<(Option<chrono::NaiveDateTime>, ContactRow)> = active
        .iter()
        .filter(|c| last.get(&c.id).is_none_or(|&t| cadence.due_after(t) <= at))
        .map(|c| (last.get(&c.id).copied(), c.clone()))
        .collect();
    due.sort_by_key(|(t, c)| (*t, c.id));
    let batch = batch_size(active.len(), cadence, days_since_last_run(&runs, at));
    let recent = RecentInvitations::load(conn, settings.contact_at_most_every, None, at)?;
    let mut report = CadenceReport {
        survey: survey.slug.clone(),
        cadence: cadence.to_string(),
        wave: wave.to_string(),
        already_ran: runs.contains(&day),
        active_contacts: active.len(),
        due: due.len(),
        batch,
        invited: Vec::new(),
        held_back: Vec::new(),
    };
    let mut chosen = Vec::new();
    for (_, contact) in due {
        if chosen.len() == batch {
            break;
        }
        match recent.holds(contact.id) {
            Some(why) => report.held_back.push((plan::person(&contact), why)),
            None => chosen.push(contact),
        }
    }
    Ok((report, chosen))
}

/// Days since the survey's last batch (1 for the first), at most what is needed.
fn days_since_last_run(runs: &[String], at: chrono::NaiveDateTime) -> i64 {
    runs.iter()
        .filter_map(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .max()
        .map_or(1, |last| (at.date() - last).num_days().max(1))
}

/// The period's share of `active` contacts for `days` days.
fn batch_size(active: usize, cadence: Cadence, days: i64) -> usize {
    let period = cadence.days().max(1) as usize;
    let per_day = active.div_ceil(period);
    per_day.saturating_mul(days.clamp(1, period as i64) as usize)
}

/// Claims the day for `survey` and returns the wave to invite to; `None` when
/// another run claimed it first.
fn claim_day(
    db: &Database,
    survey: &StoredSurvey,
    day: &str,
    wave: &WaveLabel,
) -> Result<Option<crate::survey::Wave>> {
    db.write(|conn| -> Result<Option<crate::survey::Wave>> {
        let taken: i64 = cadence_runs::table
            .filter(cadence_runs::survey_id.eq(survey.id))
            .filter(cadence_runs::day.eq(day))
            .count()
            .get_result(conn)?;
        if taken > 0 {
            return Ok(None);
        }
        diesel::insert_into(cadence_runs::table)
            .values((
                cadence_runs::survey_id.eq(survey.id),
                cadence_runs::day.eq(day),
                cadence_runs::created_at.eq(now()),
            ))
            .execute(conn)?;
        survey_store::ensure_wave(conn, survey.id, wave).map(Some)
    })
}

/// Every open continuous survey's batch for today that has not run yet: what the
/// worker in `pds serve` calls. One survey's failure is logged and does not stop
/// the others.
pub fn run_due(db: &Database, settings: &Settings) -> Result<Vec<CadenceReport>> {
    let slugs = survey_store::list(&mut *db.conn()?)?;
    let mut reports = Vec::new();
    for (slug, _, _) in slugs {
        let survey = match slug
            .parse()
            .map_err(Error::from)
            .and_then(|s| survey_store::find(&mut *db.conn()?, &s))
        {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(survey = %slug, "cadence: {e}");
                continue;
            }
        };
        if survey.survey.cadence.is_none() || !survey.survey.is_open_at(now()) {
            continue;
        }
        match run(db, settings, &survey, false) {
            Ok(r) => reports.push(r),
            Err(e) => tracing::warn!(survey = %slug, "cadence batch failed: {e}"),
        }
    }
    Ok(reports)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_year_is_spread_over_its_days_and_missed_days_are_caught_up() {
        let year = Cadence::Months(12);
        assert_eq!(batch_size(730, year, 1), 2);
        assert_eq!(
            batch_size(731, year, 1),
            3,
            "rounded up, so a period is enough"
        );
        assert_eq!(batch_size(10, year, 1), 1);
        assert_eq!(batch_size(730, year, 3), 6, "two days missed");
        assert_eq!(batch_size(730, year, 1000), 730, "at most a period");
        assert_eq!(batch_size(0, year, 1), 0);
    }

    #[test]
    fn the_first_batch_counts_one_day() {
        let at = chrono::NaiveDate::from_ymd_opt(2027, 1, 10)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap();
        assert_eq!(days_since_last_run(&[], at), 1);
        assert_eq!(
            days_since_last_run(&["2027-01-07".into(), "2027-01-01".into()], at),
            3
        );
    }
}
