//! Settings: `pds.toml` in the working folder (or `--config FILE`), then `PDS_*`
//! environment variables, which win. Validated once at start; everything after that
//! trusts the parsed [`Settings`]. Defaults serve a newcomer on one machine.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use lettre::message::Mailbox;
use serde::Deserialize;
use url::Url;

use crate::error::{Error, Result};

/// A URL that may carry a password (`smtp://user:secret@host`). It prints itself
/// without the password, in `Debug` and `Display` alike, so that it can reach an
/// error message or a log line only redacted; `expose` hands the whole URL to the
/// one place that connects with it.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretUrl(String);

impl SecretUrl {
    pub fn new(url: impl Into<String>) -> Self {
        SecretUrl(url.into())
    }

    /// The URL with its password, for connecting and nothing else.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", redact_url(&self.0))
    }
}

impl std::fmt::Display for SecretUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redact_url(&self.0))
    }
}

/// `url` with any password replaced by `***`; text that is not a URL is shown
/// only up to any `@`, in case it holds credentials all the same.
pub fn redact_url(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(_) => url.to_string(),
        Err(_) => match url.rsplit_once('@') {
            Some((_, host)) => format!("***@{host}"),
            None => url.to_string(),
        },
    }
}

/// Where the data lives, chosen by the URL scheme.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// An SQLite file, created on first use.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL.
    Postgres(String),
}

impl DatabaseUrl {
    /// Accepts `sqlite://PATH`, `sqlite:PATH`, a bare file path, or
    /// `postgres://...` / `postgresql://...`.
    pub fn parse(value: &str) -> Result<Self> {
        let value = value.trim();
        if value.is_empty() {
            return Err(Error::Config(
                "database_url is empty; use e.g. sqlite://pds.db or postgres://user@host/db".into(),
            ));
        }
        if value.starts_with("postgres://") || value.starts_with("postgresql://") {
            Url::parse(value).map_err(|e| {
                Error::Config(format!("database_url {value:?} is not a valid URL: {e}"))
            })?;
            return Ok(DatabaseUrl::Postgres(value.to_string()));
        }
        let path = value
            .strip_prefix("sqlite://")
            .or_else(|| value.strip_prefix("sqlite:"))
            .unwrap_or(value);
        if path.contains("://") {
            return Err(Error::Config(format!(
                "database_url {value:?}: unknown scheme; use sqlite://FILE or postgres://..."
            )));
        }
        if path.is_empty() {
            return Err(Error::Config(
                "database_url names no SQLite file; use e.g. sqlite://pds.db".into(),
            ));
        }
        Ok(DatabaseUrl::Sqlite(PathBuf::from(path)))
    }

    /// The URL with any password removed, for messages and logs.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => redact_url(url),
        }
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DatabaseUrl({:?})", self.redacted())
    }
}

/// How email leaves the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailTransport {
    /// One `.eml` file per message in this folder: the zero-setup default.
    File(PathBuf),
    /// A real SMTP server, e.g. `smtp://127.0.0.1:2525` or `smtps://user:pw@host`.
    Smtp(SecretUrl),
}

/// The validated settings every command runs with.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: DatabaseUrl,
    pub mail: MailTransport,
    /// Base of the links in emails, e.g. `https://survey.example.com`.
    pub public_url: Url,
    pub bind: SocketAddr,
    pub mail_from: Mailbox,
    /// The most messages per second the worker sends; `None` for no limit.
    pub mail_rate: Option<f64>,
    /// How long a worker's claim on a message lasts; a worker that dies mid-send
    /// leaves its messages to another worker after this long.
    pub outbox_lease: std::time::Duration,
    /// Requests per client address to the token pages `/s/` and `/u/`.
    pub rate_limit: RateLimit,
    /// Sign-in attempts per client address (`POST /admin/login`).
    pub login_rate_limit: RateLimit,
    /// How long a client may take to send a request: its head, and then its body.
    /// A slower client gets 408 and its connection is closed, so slow senders
    /// cannot hold the server's connections.
    pub request_timeout: std::time::Duration,
    /// The global contact frequency cap: no contact is asked to a survey (invited,
    /// reminded, or invited by a cadence) within this long of their last
    /// invitation to any other wave. `None`: no cap.
    pub contact_at_most_every: Option<chrono::Duration>,
    /// Teams' webhooks: the signing secret and whether private addresses are allowed.
    pub webhooks: WebhookSettings,
}

/// What a team's `secret_env` in routing.toml must start with, so that it can
/// name webhook secrets only, not any other variable of the server's environment.
pub const SECRET_ENV_PREFIX: &str = "PDS_WEBHOOK_SECRET_";

/// How webhooks are delivered (see README, "Webhooks").
#[derive(Clone, Default)]
pub struct WebhookSettings {
    /// The key of the `X-PDS-Signature` HMAC; without it, `json` webhooks are
    /// not delivered (the outbox records why).
    pub secret: Option<String>,
    /// Teams' own secrets: every `PDS_WEBHOOK_SECRET_*` environment variable by
    /// its name, which a team names with `secret_env` in routing.toml.
    pub team_secrets: std::collections::BTreeMap<String, String>,
    /// Allow webhook URLs on loopback and private networks (off: such a URL is
    /// refused when the routing is set and again before each delivery).
    pub allow_private: bool,
}

impl WebhookSettings {
    /// The key that signs a webhook: the team's own secret when it names one
    /// (an error, saying what to set, when that variable is missing), else the
    /// global `webhook_secret`.
    pub fn secret_for(
        &self,
        secret_env: Option<&str>,
    ) -> std::result::Result<Option<&str>, String> {
        match secret_env {
            None => Ok(self.secret.as_deref()),
            Some(name) => self.team_secrets.get(name).map(|s| Some(s.as_str())).ok_or_else(|| {
                format!(
                    "the team's webhook is signed with {name} (secret_env in routing.toml), which is not set \
                     where the worker runs; set it (at least 16 characters) and run pds outbox retry"
                )
            }),
        }
    }
}

impl std::fmt::Debug for WebhookSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSettings")
            .field("secret", &self.secret.as_ref().map(|_| "***"))
            .field(
                "team_secrets",
                &self.team_secrets.keys().collect::<Vec<_>>(),
            )
            .field("allow_private", &self.allow_private)
            .finish()
    }
}

/// How many requests one client address may make: `burst` at once, then one more
/// every `replenish`. Limits by the connecting address: behind a reverse proxy
/// that is the proxy's address, so every visitor shares one budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub burst: std::num::NonZeroU32,
    pub replenish: std::time::Duration,
}

impl RateLimit {
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

/// The raw form of `pds.toml`; every field optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    database_url: Option<String>,
    smtp_url: Option<String>,
    mail_dir: Option<String>,
    public_url: Option<String>,
    bind: Option<String>,
    mail_from: Option<String>,
    mail_rate: Option<f64>,
    outbox_lease_seconds: Option<u64>,
    rate_limit_burst: Option<u32>,
    rate_limit_per_second: Option<f64>,
    login_rate_limit_burst: Option<u32>,
    login_rate_limit_per_second: Option<f64>,
    request_timeout_seconds: Option<f64>,
    contact_at_most_every: Option<String>,
    webhook_secret: Option<String>,
    webhook_allow_private: Option<bool>,
}

pub const DEFAULT_CONFIG_FILE: &str = "pds.toml";

impl Settings {
    /// Reads `config` (or `pds.toml` if it exists) and the environment.
    pub fn load(config: Option<&Path>) -> Result<Self> {
        let file = match config {
            Some(path) => Some(read_file(path)?),
            None if Path::new(DEFAULT_CONFIG_FILE).exists() => {
                Some(read_file(Path::new(DEFAULT_CONFIG_FILE))?)
            }
            None => None,
        }
        .unwrap_or_default();
        let mut settings = Self::from_sources(file, |name| std::env::var(name).ok())?;
        settings.webhooks.team_secrets = team_secrets(std::env::vars())?;
        Ok(settings)
    }

    /// Settings for a folder of its own (the demo, tests): SQLite and file mail there.
    pub fn in_folder(folder: &Path) -> Result<Self> {
        let file = FileSettings {
            database_url: Some(format!("sqlite://{}", folder.join("pds.db").display())),
            mail_dir: Some(folder.join("mail-out").display().to_string()),
            ..FileSettings::default()
        };
        Self::from_sources(file, |_| None)
    }

    fn from_sources(file: FileSettings, env: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let pick = |name: &str, from_file: Option<String>| env(name).or(from_file);

        let database_url = DatabaseUrl::parse(
            &pick("PDS_DATABASE_URL", file.database_url)
                .unwrap_or_else(|| "sqlite://pds.db".into()),
        )?;

        let mail = mail_transport(
            pick("PDS_SMTP_URL", file.smtp_url),
            pick("PDS_MAIL_DIR", file.mail_dir),
        )?;

        let bind_text = pick("PDS_BIND", file.bind).unwrap_or_else(|| "127.0.0.1:8080".into());
        let bind: SocketAddr = bind_text.parse().map_err(|_| {
            Error::Config(format!(
                "bind {bind_text:?} is not an address and port such as 127.0.0.1:8080"
            ))
        })?;

        let public_url = public_url(
            pick("PDS_PUBLIC_URL", file.public_url).unwrap_or_else(|| format!("http://{bind}")),
        )?;

        let from_text = pick("PDS_MAIL_FROM", file.mail_from)
            .unwrap_or_else(|| "Customer research <pds@localhost>".into());
        let mail_from: Mailbox = from_text.parse().map_err(|e| {
            Error::Config(format!(
                "mail_from {from_text:?} is not an address such as \"Research <research@example.com>\": {e}"
            ))
        })?;

        let mail_rate = mail_rate(env("PDS_MAIL_RATE"), file.mail_rate)?;
        let lease = outbox_lease(env("PDS_OUTBOX_LEASE_SECONDS"), file.outbox_lease_seconds)?;

        let number = |key: &str, from_file: Option<f64>, default: f64| -> Result<f64> {
            match env(&format!("PDS_{}", key.to_uppercase())) {
                Some(text) => text
                    .trim()
                    .parse::<f64>()
                    .map_err(|_| Error::Config(format!("{key} {text:?} is not a number"))),
                None => Ok(from_file.unwrap_or(default)),
            }
        };
        let whole = |key: &str, from_file: Option<u32>, default: u32| -> Result<u32> {
            match env(&format!("PDS_{}", key.to_uppercase())) {
                Some(text) => text.trim().parse::<u32>().map_err(|_| {
                    Error::Config(format!("{key} {text:?} is not a whole number of requests"))
                }),
                None => Ok(from_file.unwrap_or(default)),
            }
        };
        let rate_limit = RateLimit::parse(
            "rate_limit",
            whole("rate_limit_burst", file.rate_limit_burst, 30)?,
            number("rate_limit_per_second", file.rate_limit_per_second, 1.0)?,
        )?;
        let login_rate_limit = RateLimit::parse(
            "login_rate_limit",
            whole("login_rate_limit_burst", file.login_rate_limit_burst, 5)?,
            number(
                "login_rate_limit_per_second",
                file.login_rate_limit_per_second,
                0.1,
            )?,
        )?;

        let request_timeout = number(
            "request_timeout_seconds",
            file.request_timeout_seconds,
            10.0,
        )?;
        if !(request_timeout.is_finite() && (0.1..=3600.0).contains(&request_timeout)) {
            return Err(Error::Config(format!(
                "request_timeout_seconds {request_timeout} must be between 0.1 and 3600 seconds"
            )));
        }

        let contact_at_most_every = contact_cap(pick(
            "PDS_CONTACT_AT_MOST_EVERY",
            file.contact_at_most_every,
        ))?;
        check_fixed_now(env(crate::clock::FIXED_NOW_VARIABLE))?;
        let webhooks = webhook_settings(
            pick("PDS_WEBHOOK_SECRET", file.webhook_secret),
            env("PDS_WEBHOOK_ALLOW_PRIVATE"),
            file.webhook_allow_private,
        )?;

        Ok(Settings {
            webhooks,
            database_url,
            mail,
            public_url,
            bind,
            mail_from,
            mail_rate,
            outbox_lease: std::time::Duration::from_secs(lease),
            rate_limit,
            login_rate_limit,
            request_timeout: std::time::Duration::from_secs_f64(request_timeout),
            contact_at_most_every,
        })
    }

    /// The same settings serving on another address (the public URL follows it when
    /// it was derived from the bind address).
    pub fn with_bind(mut self, bind: SocketAddr) -> Self {
        if self.public_url.as_str().trim_end_matches('/') == format!("http://{}", self.bind) {
            self.public_url = Url::parse(&format!("http://{bind}")).expect("valid bind URL");
        }
        self.bind = bind;
        self
    }

    /// The absolute link for a path such as `/s/TOKEN`.
    pub fn link(&self, path: &str) -> String {
        format!("{}{}", self.public_url.as_str().trim_end_matches('/'), path)
    }
}

/// SMTP when a URL is given (checked; shown only redacted), else files in a folder.
fn mail_transport(smtp_url: Option<String>, mail_dir: Option<String>) -> Result<MailTransport> {
    let Some(url) = smtp_url.filter(|s| !s.trim().is_empty()) else {
        return Ok(MailTransport::File(PathBuf::from(
            mail_dir.unwrap_or_else(|| "mail-out".into()),
        )));
    };
    let shown = redact_url(&url);
    let parsed = Url::parse(&url)
        .map_err(|e| Error::Config(format!("smtp_url {shown:?} is not a valid URL: {e}")))?;
    if !matches!(parsed.scheme(), "smtp" | "smtps") {
        return Err(Error::Config(format!(
            "smtp_url {shown:?} must start with smtp:// or smtps://"
        )));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(Error::Config(format!("smtp_url {shown:?} names no host")));
    }
    Ok(MailTransport::Smtp(SecretUrl::new(url)))
}

/// The address customers' links start with: http or https.
fn public_url(text: String) -> Result<Url> {
    let public_url = Url::parse(&text).map_err(|e| {
        Error::Config(format!(
            "public_url {text:?} is not a valid URL ({e}); use e.g. https://survey.example.com"
        ))
    })?;
    if !matches!(public_url.scheme(), "http" | "https") {
        return Err(Error::Config(format!(
            "public_url {text:?} must start with http:// or https://"
        )));
    }
    Ok(public_url)
}

/// Messages per second the worker may send at most; `None` for no limit.
fn mail_rate(from_env: Option<String>, from_file: Option<f64>) -> Result<Option<f64>> {
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
fn outbox_lease(from_env: Option<String>, from_file: Option<u64>) -> Result<u64> {
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

/// `PDS_NOW`, when set, must be a time the clock can run at.
fn check_fixed_now(text: Option<String>) -> Result<()> {
    match text {
        Some(text) if crate::clock::parse(&text).is_none() => Err(Error::Config(format!(
            "{} {text:?} is not a UTC time such as {}; unset it to use the system clock",
            crate::clock::FIXED_NOW_VARIABLE,
            crate::clock::FORMATS
        ))),
        _ => Ok(()),
    }
}

/// Parses `contact_at_most_every` (`90d`, `12w`; empty or absent: no cap).
fn contact_cap(text: Option<String>) -> Result<Option<chrono::Duration>> {
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

fn webhook_settings(
    secret: Option<String>,
    allow_env: Option<String>,
    allow_file: Option<bool>,
) -> Result<WebhookSettings> {
    let secret = secret.filter(|s| !s.trim().is_empty());
    if secret.as_ref().is_some_and(|s| s.len() < 16) {
        return Err(too_short_secret("webhook_secret"));
    }
    let allow_private = match allow_env.as_deref().map(str::trim) {
        None => allow_file.unwrap_or(false),
        Some("1" | "true" | "yes") => true,
        Some("0" | "false" | "no" | "") => false,
        Some(other) => {
            return Err(Error::Config(format!(
                "PDS_WEBHOOK_ALLOW_PRIVATE {other:?} is not true or false"
            )))
        }
    };
    Ok(WebhookSettings {
        secret,
        team_secrets: Default::default(),
        allow_private,
    })
}

fn too_short_secret(name: &str) -> Error {
    Error::Config(format!(
        "{name} is shorter than 16 characters; use a long random text, e.g. from `openssl rand -hex 32`"
    ))
}

/// The teams' webhook secrets among the environment's `variables`: each
/// `PDS_WEBHOOK_SECRET_*` (the global `PDS_WEBHOOK_SECRET` is not one), at least
/// 16 characters long.
fn team_secrets(
    variables: impl Iterator<Item = (String, String)>,
) -> Result<std::collections::BTreeMap<String, String>> {
    let mut secrets = std::collections::BTreeMap::new();
    for (name, value) in variables {
        if !name.starts_with(SECRET_ENV_PREFIX) || value.trim().is_empty() {
            continue;
        }
        if value.len() < 16 {
            return Err(too_short_secret(&name));
        }
        secrets.insert(name, value);
    }
    Ok(secrets)
}

fn read_file(path: &Path) -> Result<FileSettings> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    toml::from_str(&text).map_err(|e| Error::Config(format!("{}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(file: FileSettings, env: &[(&str, &str)]) -> Result<Settings> {
        Settings::from_sources(file, |name| {
            env.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn defaults_need_no_setup() {
        let s = settings(FileSettings::default(), &[]).unwrap();
        assert_eq!(s.database_url, DatabaseUrl::Sqlite("pds.db".into()));
        assert_eq!(s.mail, MailTransport::File("mail-out".into()));
        assert_eq!(s.public_url.as_str(), "http://127.0.0.1:8080/");
        assert_eq!(s.link("/s/abc"), "http://127.0.0.1:8080/s/abc");
    }

    #[test]
    fn environment_wins_over_file() {
        let file = FileSettings {
            database_url: Some("sqlite://a.db".into()),
            ..Default::default()
        };
        let s = settings(file, &[("PDS_DATABASE_URL", "postgres://u@localhost/pds")]).unwrap();
        assert_eq!(
            s.database_url,
            DatabaseUrl::Postgres("postgres://u@localhost/pds".into())
        );
    }

    #[test]
    fn bad_settings_name_the_setting() {
        for (variable, value, says) in [
            ("PDS_BIND", "localhost", "bind \"localhost\""),
            ("PDS_SMTP_URL", "http://x", "smtp_url"),
            ("PDS_MAIL_FROM", "nobody", "mail_from"),
            ("PDS_DATABASE_URL", "mysql://x", "unknown scheme"),
            ("PDS_RATE_LIMIT_BURST", "0", "rate_limit_burst"),
            (
                "PDS_LOGIN_RATE_LIMIT_PER_SECOND",
                "-1",
                "login_rate_limit_per_second",
            ),
            (
                "PDS_REQUEST_TIMEOUT_SECONDS",
                "0",
                "request_timeout_seconds",
            ),
            (
                "PDS_CONTACT_AT_MOST_EVERY",
                "90",
                "contact_at_most_every \"90\"",
            ),
            ("PDS_NOW", "next week", "PDS_NOW \"next week\""),
        ] {
            let err = settings(FileSettings::default(), &[(variable, value)]).unwrap_err();
            assert!(err.to_string().contains(says), "{variable}={value}: {err}");
        }
    }

    #[test]
    fn the_contact_cap_is_off_unless_set() {
        let s = settings(FileSettings::default(), &[]).unwrap();
        assert_eq!(s.contact_at_most_every, None);
        let file = FileSettings {
            contact_at_most_every: Some("90d".into()),
            ..Default::default()
        };
        let s = settings(file, &[]).unwrap();
        assert_eq!(s.contact_at_most_every, Some(chrono::Duration::days(90)));
    }

    #[test]
    fn rate_limits_default_to_a_burst_then_a_trickle() {
        let s = settings(FileSettings::default(), &[]).unwrap();
        assert_eq!(s.rate_limit.burst.get(), 30);
        assert_eq!(s.rate_limit.replenish, std::time::Duration::from_secs(1));
        assert_eq!(s.login_rate_limit.burst.get(), 5);
        assert_eq!(
            s.login_rate_limit.replenish,
            std::time::Duration::from_secs(10)
        );
    }

    #[test]
    fn unknown_keys_in_the_file_are_rejected() {
        let err = toml::from_str::<FileSettings>("databse_url = 'x'").unwrap_err();
        assert!(err.to_string().contains("databse_url"));
    }

    #[test]
    fn smtp_passwords_never_reach_messages_or_debug_output() {
        let url = SecretUrl::new("smtp://mailer:hunter2@mail.example:587");
        assert_eq!(url.expose(), "smtp://mailer:hunter2@mail.example:587");
        for shown in [format!("{url}"), format!("{url:?}")] {
            assert!(
                !shown.contains("hunter2") && shown.contains("mail.example"),
                "{shown}"
            );
        }
        let db = DatabaseUrl::parse("postgres://pds:hunter2@db.example/pds").unwrap();
        assert!(!format!("{db:?}").contains("hunter2"));
        assert_eq!(redact_url("not a url, user:hunter2@host"), "***@host");
        let err = settings(
            FileSettings::default(),
            &[("PDS_SMTP_URL", "ftp://mailer:hunter2@mail.example")],
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("smtp://") && !err.contains("hunter2"), "{err}");
    }

    #[test]
    fn passwords_are_redacted() {
        let url = DatabaseUrl::parse("postgres://u:secret@h/db").unwrap();
        assert!(!url.redacted().contains("secret"));
    }

    #[test]
    fn each_team_secret_comes_from_its_own_variable() {
        let vars = [
            ("PDS_WEBHOOK_SECRET", "the-global-secret-0123"),
            ("PDS_WEBHOOK_SECRET_OPS", "the-ops-team-secret-456"),
            ("HOME", "/root"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        let hooks = WebhookSettings {
            secret: Some("the-global-secret-0123".into()),
            team_secrets: team_secrets(vars.into_iter()).unwrap(),
            allow_private: false,
        };
        assert_eq!(
            hooks.team_secrets.keys().collect::<Vec<_>>(),
            ["PDS_WEBHOOK_SECRET_OPS"]
        );
        assert_eq!(
            hooks.secret_for(Some("PDS_WEBHOOK_SECRET_OPS")),
            Ok(Some("the-ops-team-secret-456"))
        );
        assert_eq!(hooks.secret_for(None), Ok(Some("the-global-secret-0123")));
        let missing = hooks
            .secret_for(Some("PDS_WEBHOOK_SECRET_SALES"))
            .unwrap_err();
        assert!(missing.contains("PDS_WEBHOOK_SECRET_SALES") && missing.contains("not set"));
        assert!(!format!("{hooks:?}").contains("the-ops-team-secret"));
        let short = [("PDS_WEBHOOK_SECRET_OPS".to_string(), "short".to_string())];
        let err = team_secrets(short.into_iter()).unwrap_err().to_string();
        assert!(
            err.contains("PDS_WEBHOOK_SECRET_OPS is shorter than 16"),
            "{err}"
        );
    }
}
