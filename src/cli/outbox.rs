//! `pds outbox status|retry`.

use clap::Subcommand;

use crate::config::Settings;
use crate::error::Result;
use crate::mail::outbox;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Messages per kind and status, and the latest failures with the server's answer.
    Status,
    /// Requeue failed messages and make waiting ones due now.
    Retry,
}

pub fn run(cmd: Command, settings: &Settings) -> Result<()> {
    let db = super::open_db(settings)?;
    match cmd {
        Command::Status => {
            let mut conn = db.conn()?;
            let counts = outbox::counts(&mut conn)?;
            if counts.is_empty() {
                println!("The outbox is empty.");
            }
            for (kind, status, n) in counts {
                println!("{kind:<12} {status:<10} {n:>8}");
            }
            let failures = outbox::failures(&mut conn, 20)?;
            if !failures.is_empty() {
                println!("\nLatest problems (pds outbox retry requeues failed messages):");
            }
            for f in failures {
                println!(
                    "  #{} {} to {} after {} attempt(s): {}",
                    f.id,
                    f.kind,
                    f.recipient,
                    f.attempts,
                    f.last_error.unwrap_or_default()
                );
            }
        }
        Command::Retry => {
            let (failed, waiting) = outbox::retry(&db)?;
            println!("Requeued {failed} failed and {waiting} waiting messages; the worker sends them now.");
        }
    }
    Ok(())
}
