//! Email delivery: lettre transports (SMTP, or one `.eml` file per message) and the
//! outbox worker that delivers what other rooms queued. Nothing else sends mail.

pub(crate) mod error;
pub mod outbox;
mod transport;
pub mod webhook;

pub use error::MailError;
pub use transport::{SendFailure, Transport};

use std::time::Duration;

use crate::config::Settings;
use crate::db::Database;
use crate::error::Result;

/// What one pass of the worker did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryReport {
    pub sent: usize,
    pub retrying: usize,
    pub failed: usize,
}

/// Delivers every message that is due now, in batches, until none is left.
pub fn deliver_due(
    db: &Database,
    settings: &Settings,
    transport: &Transport,
) -> Result<DeliveryReport> {
    let mut total = DeliveryReport::default();
    let pause = settings
        .mail_rate
        .map(|rate| Duration::from_secs_f64(1.0 / rate));
    let mut next_send = std::time::Instant::now();
    loop {
        let batch = outbox::claim_due(db, 100, settings.outbox_lease)?;
        if batch.is_empty() {
            return Ok(total);
        }
        let mut outcomes = Vec::with_capacity(batch.len());
        for message in batch {
            if let Some(pause) = pause {
                let now = std::time::Instant::now();
                if next_send > now {
                    std::thread::sleep(next_send - now);
                }
                next_send = std::time::Instant::now().max(next_send) + pause;
            }
            let outcome = if message.kind == outbox::Kind::Webhook.as_str() {
                webhook::send(settings, &message)
            } else {
                transport.send(settings, &message)
            };
            outcomes.push((message, outcome));
        }
        let r = outbox::record(db, &outcomes)?;
        total.sent += r.sent;
        total.retrying += r.retrying;
        total.failed += r.failed;
    }
}

/// Runs the worker until `stop` says so, polling the outbox every `interval`.
pub fn run_worker(
    db: Database,
    settings: Settings,
    interval: Duration,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> Result<()> {
    let transport = Transport::from_settings(&settings)?;
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        match deliver_due(&db, &settings, &transport) {
            Ok(r) if r.sent + r.failed + r.retrying > 0 => {
                tracing::info!(
                    sent = r.sent,
                    retrying = r.retrying,
                    failed = r.failed,
                    "outbox"
                )
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "outbox worker pass failed; will retry"),
        }
        std::thread::sleep(interval);
    }
    Ok(())
}
