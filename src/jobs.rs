//! The engine's own timetable, beside the mail worker in `pds serve` and
//! `pds worker`: the continuous surveys' daily invitation batches
//! (`invite::cadence`), the "you said, we did" emails that wait to be
//! combined (`cases::announce`), and the teams' daily digests and service-level
//! reminders and escalations (`route::run_team_pass`). Each job is safe to run from several processes
//! and again after a crash; this room only decides when they run.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;

use crate::config::Settings;
use crate::db::Database;
use crate::route::PassReport;

/// How often the cadence looks for a day whose batch has not run.
const CADENCE_EVERY: Duration = Duration::from_secs(600);

/// Runs every due job once: what `pds worker --once` adds to delivering. The
/// teams' pass runs as if it were `now` (UTC).
pub fn run_once(db: &Database, settings: &Settings, now: NaiveDateTime) -> PassReport {
    if let Err(e) = crate::invite::cadence::run_due(db, settings) {
        tracing::warn!("cadence: {e}");
    }
    if let Err(e) = crate::cases::announce::send_pending(db, settings, crate::cases::announce::HOLD)
    {
        tracing::warn!("announcements: {e}");
    }
    team_pass(db, settings, now)
}

/// The teams' digests and service levels; a failure is logged and retried on
/// the next round.
fn team_pass(db: &Database, settings: &Settings, now: NaiveDateTime) -> PassReport {
    match crate::route::run_team_pass(db, settings, now) {
        Ok(r) => {
            if r != PassReport::default() {
                tracing::info!(
                    digests = r.digests,
                    reminders = r.reminders,
                    escalations = r.escalations,
                    "teams"
                );
            }
            r
        }
        Err(e) => {
            tracing::warn!(error = %e, "teams' digest and service-level pass failed; will retry");
            PassReport::default()
        }
    }
}

/// Runs the jobs until `stop` is set: announcements and the teams' pass every
/// `interval`, the cadence
/// every ten minutes (a day's batch runs once, so looking often costs a query).
pub fn run(db: Database, settings: Settings, interval: Duration, stop: Arc<AtomicBool>) {
    let mut cadence_due = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        if Instant::now() >= cadence_due {
            if let Err(e) = crate::invite::cadence::run_due(&db, &settings) {
                tracing::warn!("cadence: {e}");
            }
            cadence_due = Instant::now() + CADENCE_EVERY;
        }
        if let Err(e) =
            crate::cases::announce::send_pending(&db, &settings, crate::cases::announce::HOLD)
        {
            tracing::warn!("announcements: {e}");
        }
        team_pass(&db, &settings, crate::db::now());
        let until = Instant::now() + interval;
        while Instant::now() < until && !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}
