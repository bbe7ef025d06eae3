//! `pds worker [--once]`: delivers the outbox.

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
        let transport = mail::Transport::from_settings(settings)?;
        let r = mail::deliver_due(&db, settings, &transport)?;
        println!(
            "Delivered {}, retrying {}, failed {}.",
            r.sent, r.retrying, r.failed
        );
        return Ok(());
    }
    mail::run_worker(
        db,
        settings.clone(),
        Duration::from_secs(args.interval.max(1)),
        Arc::new(AtomicBool::new(false)),
    )
}
