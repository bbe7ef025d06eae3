//! Continuous surveys (`cadence = "12 months"` in survey.toml): each active contact
//! is invited again once their last invitation to the survey is a period old (or
//! they were never invited), in small daily batches spread over the period, into
//! the wave of the month (`2026-12`). The worker in `pds serve` runs the day's
//! batch; `pds invite --cadence-run` does the same for cron users.
//!
//! The batch of a day is the period's share, spread evenly: by the end of the
//! run's day k, ceil(active contacts x (k + 1) / days in the period) in all, so
//! each day takes the floor or the ceiling of active / days and a period takes
//! every active contact once; days that were missed are caught up (at most one
//! period). The contacts due longest (never invited first) go first;
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
    let standing = Standing::load(conn, survey.id)?;
    let recent = RecentInvitations::load(conn, settings.contact_at_most_every, None, at)?;
    let day = choose(&standing, cadence, at, |id| recent.holds(id));
    let report = CadenceReport {
        survey: survey.slug.clone(),
        cadence: cadence.to_string(),
        wave: wave.to_string(),
        already_ran: standing.runs.contains(&at.date().to_string()),
        active_contacts: standing.active.len(),
        due: day.due,
        batch: day.batch,
        invited: Vec::new(),
        held_back: day.held_back,
    };
    Ok((report, day.chosen))
}

/// What a day's choice is made from: the survey's earlier batches (days), its
/// active contacts, and each contact's last invitation to it.
struct Standing {
    runs: Vec<String>,
    active: Vec<ContactRow>,
    last: HashMap<i64, chrono::NaiveDateTime>,
}

impl Standing {
    fn load(conn: &mut AnyConnection, survey_id: i64) -> Result<Standing> {
        let runs: Vec<String> = cadence_runs::table
            .filter(cadence_runs::survey_id.eq(survey_id))
            .select(cadence_runs::day)
            .load(conn)?;
        // A continuous survey asks customers; staff are invited to a wave by hand.
        let active: Vec<ContactRow> = plan::contacts(conn)?
            .into_iter()
            .filter(|c| c.unsubscribed_at.is_none() && c.audience == crate::audience::CUSTOMER)
            .collect();
        let last = invitations::table
            .filter(invitations::survey_id.eq(survey_id))
            .group_by(invitations::contact_id)
            .select((
                invitations::contact_id,
                diesel::dsl::max(invitations::created_at),
            ))
            .load::<(i64, Option<chrono::NaiveDateTime>)>(conn)?
            .into_iter()
            .filter_map(|(c, t)| t.map(|t| (c, t)))
            .collect();
        Ok(Standing { runs, active, last })
    }
}

/// A day's choice.
struct Choice {
    due: usize,
    batch: usize,
    chosen: Vec<ContactRow>,
    held_back: Vec<(Person, Skip)>,
}

/// The day's batch at `at` (pure): the contacts due longest (never invited
/// first), as many as the day's share, passing over those `holds` names.
fn choose(
    standing: &Standing,
    cadence: Cadence,
    at: chrono::NaiveDateTime,
    holds: impl Fn(i64) -> Option<Skip>,
) -> Choice {
    let last = |c: &ContactRow| standing.last.get(&c.id).copied();
    let mut due: Vec<&ContactRow> = standing
        .active
        .iter()
        .filter(|c| last(c).is_none_or(|t| cadence.due_after(t) <= at))
        .collect();
    due.sort_by_key(|c| (last(c), c.id));
    let (day, days) = period_day(&standing.runs, at);
    let batch = batch_size(standing.active.len(), cadence, day, days);
    let mut choice = Choice {
        due: due.len(),
        batch,
        chosen: Vec::new(),
        held_back: Vec::new(),
    };
    for contact in due {
        if choice.chosen.len() == batch {
            break;
        }
        match holds(contact.id) {
            Some(why) => choice.held_back.push((plan::person(contact), why)),
            None => choice.chosen.push(contact.clone()),
        }
    }
    choice
}

/// Which day of the survey's continuous run `at` is (0: its first batch) and
/// how many days it answers for: 1, or more after days without a batch.
fn period_day(runs: &[String], at: chrono::NaiveDateTime) -> (i64, i64) {
    let days: Vec<chrono::NaiveDate> = runs
        .iter()
        .filter_map(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .collect();
    let (Some(first), Some(last)) = (days.iter().min(), days.iter().max()) else {
        return (0, 1);
    };
    (
        (at.date() - *first).num_days().max(0),
        (at.date() - *last).num_days().max(1),
    )
}

/// How many of `active` contacts day `day` of the run may invite when it
/// answers for `days` days: by the end of day k, ceil(active x (k + 1) / period)
/// in all, so every day takes the floor or the ceiling of active / period and a
/// period takes exactly `active`. Missed days are caught up, at most a period.
fn batch_size(active: usize, cadence: Cadence, day: i64, days: i64) -> usize {
    let period = cadence.days().max(1);
    let by_end_of = |k: i64| {
        let days_run = usize::try_from(k + 1).unwrap_or(0);
        active.saturating_mul(days_run).div_ceil(period as usize)
    };
    by_end_of(day).saturating_sub(by_end_of(day - days.clamp(1, period)))
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

    fn day(text: &str) -> chrono::NaiveDateTime {
        chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap()
    }

    #[test]
    fn each_day_takes_its_even_share_and_missed_days_are_caught_up() {
        let year = Cadence::Months(12);
        let daily: Vec<usize> = (0..365).map(|k| batch_size(730, year, k, 1)).collect();
        assert!(daily.iter().all(|&b| b == 2), "{daily:?}");
        let daily: Vec<usize> = (0..365).map(|k| batch_size(731, year, k, 1)).collect();
        assert_eq!(daily.iter().sum::<usize>(), 731, "a period takes everyone");
        assert_eq!(daily.iter().filter(|&&b| b == 3).count(), 1);
        // Fewer contacts than days: one every few days, not all in the first weeks.
        let daily: Vec<usize> = (0..365).map(|k| batch_size(10, year, k, 1)).collect();
        assert_eq!(daily.iter().sum::<usize>(), 10);
        assert_eq!(daily[0], 1, "the first day starts");
        assert!(daily[..180].iter().sum::<usize>() <= 5, "{daily:?}");
        assert_eq!(batch_size(730, year, 10, 3), 6, "two days missed");
        assert_eq!(batch_size(730, year, 5000, 1000), 730, "at most a period");
        assert_eq!(batch_size(0, year, 0, 1), 0);
    }

    #[test]
    fn the_first_batch_is_day_zero_and_counts_one_day() {
        assert_eq!(period_day(&[], day("2027-01-10")), (0, 1));
        let runs = ["2027-01-07".to_string(), "2027-01-01".to_string()];
        assert_eq!(period_day(&runs, day("2027-01-10")), (9, 3));
    }

    fn contact(id: i64) -> ContactRow {
        ContactRow {
            id,
            email: format!("c{id}@example.com"),
            name: String::new(),
            locale: "en".into(),
            attributes: "{}".into(),
            unsubscribed_at: None,
            audience: crate::audience::CUSTOMER.into(),
        }
    }

    /// Two simulated years of daily batches: 1,000 contacts, 200 more imported
    /// in June, 50 held back by the cap for their first two months. Every
    /// day's batch stays within the day's share of the active contacts (give or
    /// take one), and every contact is invited once a year.
    #[test]
    fn a_year_of_daily_batches_stays_small_and_even() {
        let year = Cadence::Months(12);
        let mut standing = Standing {
            runs: Vec::new(),
            active: (0..1000).map(contact).collect(),
            last: HashMap::new(),
        };
        let start = day("2027-01-04");
        let mut invited: HashMap<i64, Vec<chrono::NaiveDateTime>> = HashMap::new();
        let mut daily = Vec::new();
        for k in 0..730 {
            let at = start + chrono::Duration::days(k);
            if k == 150 {
                standing.active.extend((1000..1200).map(contact));
            }
            let holds =
                |id: i64| (id < 50 && k < 60).then_some(Skip::ContactedRecently { last: start });
            let choice = choose(&standing, year, at, holds);
            let share = standing.active.len() as f64 / 365.0;
            let n = choice.chosen.len();
            assert!(
                n as f64 <= share.ceil() + 1.0,
                "day {k}: {n} invited, more than the day's share {share:.2}"
            );
            if k >= 60 && choice.due > n {
                assert!(n as f64 >= share.floor() - 1.0, "day {k}: only {n}");
            }
            daily.push(n);
            for c in &choice.chosen {
                standing.last.insert(c.id, at);
                invited.entry(c.id).or_default().push(at);
            }
            standing.runs.push(at.date().to_string());
        }
        // Spread, not front-loaded: any 30 days before the import take their
        // share of 1,000 a year (82.2), not 3 a day (90).
        for window in daily[..150].windows(30) {
            let n: usize = window.iter().sum();
            assert!((81..=84).contains(&n), "{n} in 30 days: {daily:?}");
        }
        let first_year: Vec<i64> = (0..1000)
            .filter(|id| invited[id][0] < start + chrono::Duration::days(366))
            .collect();
        assert_eq!(
            first_year.len(),
            1000,
            "the first thousand within the first year"
        );
        for (id, times) in &invited {
            assert!(times.len() <= 2, "{id}: {times:?}");
            if let [a, b] = times[..] {
                assert!(b - a >= chrono::Duration::days(365), "{id}: {times:?}");
            }
        }
        let second_round = invited.values().filter(|t| t.len() == 2).count();
        assert!(
            second_round >= 900,
            "a year on, the round starts again: {second_round}"
        );
    }
}
