//! The numbers in the settings: how fast mail goes out, how long a worker's claim
//! lasts, how many requests a client may make, how often a contact may be asked.

use crate::error::{Error, Result};

/// How many requests one client address may make: `burst` at once, then one more
/// every `replenish`. Limits by the connecting address: behind a reverse proxy
/// that is the proxy's address, so every visitor shares one budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub burst: std::num::NonZeroU32,
    pub replenish: std::time::Duration,
}

impl RateLimit {
    /// `KEY_burst` and `KEY_per_second` from `PDS_*` variables, else the file's
    /// `from_file`, else `defaults`.
    pub(super) fn from_sources(
        env: &dyn Fn(&str) -> Option<String>,
        key: &str,
        from_file: (Option<u32>, Option<f64>),
        defaults: (u32, f64),
    ) -> Result<Self> {
        let burst_key = format!("{key}_burst");
        let burst = match env(&format!("PDS_{}", burst_key.to_uppercase())) {
            Some(text) => text.trim().parse::<u32>().map_err(|_| {
                Error::Config(format!(
                    "{burst_key} {text:?} is not a whole number of requests"
                ))
            })?,
            None => from_file.0.unwrap_or(defaults.0),
        };
        let per_second = number(env, &format!("{key}_per_second"), from_file.1, defaults.1)?;
        Self::parse(key, burst, per_second)
    }

    /// Parses a burst and a per-second rate, naming `key` in any error.
    fn parse(key: &str, burst: u32, per_second: f64) -> Result<Self> {
        let burst = std::num::NonZeroU32::new(burst).ok_or_else(|| {
            Error::Config(format!(
                "{key}_burst must be at least 1 request (it is how many a client may send at once)"
            ))
        })?;
        if !(per_second.is_finite() && per_second > 0.0) {
            return Err(Error::Config(format!(
                "{key}_per_second {per_second} must be a positive number of requests per second, e.g. 1 or 0.1"
            )));
        }
        Ok(RateLimit {
            burst,
            replenish: std::time::Duration::from_secs_f64(1.0 / per_second),
        })
    }
}

/// Messages per second the worker may send at most; `None` for no limit.
pub(super) fn mail_rate(from_env: Option<String>, from_file: Option<f64>) -> Result<Option<f64>> {
    let mail_rate = match from_env {
        Some(text) => Some(text.trim().parse::<f64>().map_err(|_| {
            Error::Config(format!(
                "mail_rate {text:?} is not a number of messages per second"
            ))
        })?),
        None => from_file,
    };
    if let Some(rate) = mail_rate {
        if !(rate.is_finite() && rate > 0.0) {
            return Err(Error::Config(format!(
                "mail_rate {rate} must be a positive number of messages per second (leave it out for no limit)"
            )));
        }
    }
    Ok(mail_rate)
}

/// How long a claimed outbox row is the worker's, in whole seconds (at least 1).
pub(super) fn outbox_lease(from_env: Option<String>, from_file: Option<u64>) -> Result<u64> {
    let lease = match from_env {
        Some(text) => text.trim().parse::<u64>().map_err(|_| {
            Error::Config(format!(
                "outbox_lease_seconds {text:?} is not a whole number of seconds"
            ))
        })?,
        None => from_file.unwrap_or(300),
    };
    if lease == 0 {
        return Err(Error::Config(
            "outbox_lease_seconds must be at least 1".into(),
        ));
    }
    Ok(lease)
}

/// Parses `contact_at_most_every` (`90d`, `12w`; empty or absent: no cap).
pub(super) fn contact_cap(text: Option<String>) -> Result<Option<chrono::Duration>> {
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
        return Ok(None);
    };
    match crate::age::parse(&text) {
        Some(cap) if cap >= chrono::Duration::days(1) => Ok(Some(cap)),
        _ => Err(Error::Config(format!(
            "contact_at_most_every {text:?} is not a length of at least a day such as 90d or 12w (units: {}); leave it out for no cap",
            crate::age::UNITS
        ))),
    }
}

/// A number setting: its `PDS_*` variable when set, else the file's, else `default`.
fn number(
    env: &dyn Fn(&str) -> Option<String>,
    key: &str,
    from_file: Option<f64>,
    default: f64,
) -> Result<f64> {
    match env(&format!("PDS_{}", key.to_uppercase())) {
        Some(text) => text
            .trim()
            .parse::<f64>()
            .map_err(|_| Error::Config(format!("{key} {text:?} is not a number"))),
        None => Ok(from_file.unwrap_or(default)),
    }
}

/// How long a client may take to send a request: 0.1 s to an hour (default 10 s).
pub(super) fn request_timeout(
    env: &dyn Fn(&str) -> Option<String>,
    from_file: Option<f64>,
) -> Result<std::time::Duration> {
    let seconds = number(env, "request_timeout_seconds", from_file, 10.0)?;
    if !(seconds.is_finite() && (0.1..=3600.0).contains(&seconds)) {
        return Err(Error::Config(format!(
            "request_timeout_seconds {seconds} must be between 0.1 and 3600 seconds"
        )));
    }
    Ok(std::time::Duration::from_secs_f64(seconds))
}
