//! `pds worker [--once] [--now TIME]`: delivers the outbox, and runs the
//! engine's timetable (`crate::jobs`: cadence batches, announcement emails, the
//! teams' daily digests and service-level reminders).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::config::Settings;
use crate::error::{Error, Result};
use crate::mail;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Deliver what is due now and exit.
    #[arg(long)]
    once: bool,
    /// Seconds between looks at the outbox.
    #[arg(long, default_value_t = 2)]
    interval: u64,
    /// With --once: run the digests and service-level checks as if it were this
    /// time (UTC, e.g. 2027-03-01T09:00:00), to catch up or to test.
    #[arg(long, requires = "once", value_name = "TIME")]
    now: Option<String>,
}

pub fn run(args: Args, settings: &Settings) -> Result<()> {
    let db = super::open_db(settings)?;
    if args.once {
        let now = match &args.now {
            Some(text) => parse_time(text)?,
            None => crate::db::now(),
        };
        let teams = crate::jobs::run_once(&db, settings, now);
        let transport = mail::Transport::from_settings(settings)?;
        let r = mail::deliver_due(&db, settings, &transport)?;
        println!(
            "Queued {} digests, {} reminders, {} escalations. Delivered {}, retrying {}, failed {}.",
            teams.digests, teams.reminders, teams.escalations, r.sent, r.retrying, r.failed
        );
        return Ok(());
    }
    let stop = Arc::new(AtomicBool::new(false));
    let jobs = {
        let (db, settings, stop) = (db.clone(), settings.clone(), stop.clone());
        std::thread::spawn(move || crate::jobs::run(db, settings, Duration::from_secs(60), stop))
    };
    let result = mail::run_worker(
        db,
        settings.clone(),
        Duration::from_secs(args.interval.max(1)),
        stop.clone(),
    );
    stop.store(true, Ordering::Relaxed);
    let _ = jobs.join();
    result
}

fn parse_time(text: &str) -> Result<chrono::NaiveDateTime> {
    chrono::NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%dT%H:%M:%S")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%d %H:%M:%S"))
        .map_err(|_| {
            Error::Invalid(format!(
                "--now {text:?} is not a time such as 2027-03-01T09:00:00 (UTC)"
            ))
        })
}
