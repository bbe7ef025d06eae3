//! Settings: `pds.toml` in the working folder (or `--config FILE`), then `PDS_*`
//! environment variables, which win. Validated once at start; everything after that
//! trusts the parsed [`Settings`]. Defaults serve a newcomer on one machine.

mod limits;
mod urls;
mod webhooks;

use std::net::SocketAddr;
use std::path::Path;

use lettre::message::Mailbox;
use serde::Deserialize;
use url::Url;

pub use limits::RateLimit;
pub use urls::{redact_url, DatabaseUrl, MailTransport, SecretUrl};
pub use webhooks::{WebhookSettings, SECRET_ENV_PREFIX};

use crate::error::{Error, Result};
use limits::{contact_cap, mail_rate, outbox_lease, request_timeout};
use urls::{bind_address, mail_from, mail_transport, public_url};
use webhooks::{team_secrets, webhook_settings};

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

    /// Settings from the file's values and `env` (the environment, which wins), each
    /// checked in turn; the first that is wrong is the error.
    fn from_sources(file: FileSettings, env: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let env: &dyn Fn(&str) -> Option<String> = &env;
        let pick = |name: &str, from_file: Option<String>| env(name).or(from_file);
        let database_url = DatabaseUrl::parse(
            &pick("PDS_DATABASE_URL", file.database_url)
                .unwrap_or_else(|| "sqlite://pds.db".into()),
        )?;
        let mail = mail_transport(
            pick("PDS_SMTP_URL", file.smtp_url),
            pick("PDS_MAIL_DIR", file.mail_dir),
        )?;
        let bind = bind_address(pick("PDS_BIND", file.bind))?;
        let public_url = public_url(
            pick("PDS_PUBLIC_URL", file.public_url).unwrap_or_else(|| format!("http://{bind}")),
        )?;
        let mail_from = mail_from(pick("PDS_MAIL_FROM", file.mail_from))?;
        let mail_rate = mail_rate(env("PDS_MAIL_RATE"), file.mail_rate)?;
        let lease = outbox_lease(env("PDS_OUTBOX_LEASE_SECONDS"), file.outbox_lease_seconds)?;
        let rate_limit = RateLimit::from_sources(
            env,
            "rate_limit",
            (file.rate_limit_burst, file.rate_limit_per_second),
            (30, 1.0),
        )?;
        let login_rate_limit = RateLimit::from_sources(
            env,
            "login_rate_limit",
            (
                file.login_rate_limit_burst,
                file.login_rate_limit_per_second,
            ),
            (5, 0.1),
        )?;
        let request_timeout = request_timeout(env, file.request_timeout_seconds)?;
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
            request_timeout,
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
