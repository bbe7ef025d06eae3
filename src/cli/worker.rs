//! `pds worker [--once]`: delivers the outbox, and runs the engine's timetable
//! (`crate::jobs`: cadence batches, announcement emails).

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use crate::config::Settings;
use crate::error::Result;
use crate::mail;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Deliver what is due now and exit.
    #[arg(long)]
    once: bool,
    /// Seconds between looks at the outbox.
    #[arg(long, default_value_t = 2)]
    interval: u64,
}

pub fn run(args: Args, settings: &Settings) -> Result<()> {
    let db = super::open_db(settings)?;
    if args.once {
        crate::jobs::run_once(&db, settings);
        let transport = mail::Transport::from_settings(settings)?;
        let r = mail::deliver_due(&db, settings, &transport)?;
        println!(
            "Delivered {}, retrying {}, failed {}.",
            r.sent, r.retrying, r.failed
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
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = jobs.join();
    result
}
