//! The engine's own timetable, beside the mail worker in `pds serve` and
//! `pds worker`: the continuous surveys' daily invitation batches
//! (`invite::cadence`) and the "you said, we did" emails that wait to be
//! combined (`cases::announce`). Each job is safe to run from several processes
//! and again after a crash; this room only decides when they run.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::Settings;
use crate::db::Database;

/// How often the cadence looks for a day whose batch has not run.
const CADENCE_EVERY: Duration = Duration::from_secs(600);

/// Runs every due job once: what `pds worker --once` adds to delivering.
pub fn run_once(db: &Database, settings: &Settings) {
    if let Err(e) = crate::invite::cadence::run_due(db, settings) {
        tracing::warn!("cadence: {e}");
    }
    if let Err(e) = crate::cases::announce::send_pending(db, settings, crate::cases::announce::HOLD)
    {
        tracing::warn!("announcements: {e}");
    }
}

/// Runs the jobs until `stop` is set: announcements every `interval`, the cadence
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
        let until = Instant::now() + interval;
        while Instant::now() < until && !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}
