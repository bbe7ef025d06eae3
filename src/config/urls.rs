//! The addresses in the settings: the database URL, the SMTP URL (which may carry a
//! password, so it is shown only redacted), the address served, the public URL of
//! the links and the sender of the emails.

use std::net::SocketAddr;
use std::path::PathBuf;

use lettre::message::Mailbox;
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

/// SMTP when a URL is given (checked; shown only redacted), else files in a folder.
pub(super) fn mail_transport(
    smtp_url: Option<String>,
    mail_dir: Option<String>,
) -> Result<MailTransport> {
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
pub(super) fn public_url(text: String) -> Result<Url> {
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

/// The address and port the server listens on (default 127.0.0.1:8080).
pub(super) fn bind_address(text: Option<String>) -> Result<SocketAddr> {
    let bind_text = text.unwrap_or_else(|| "127.0.0.1:8080".into());
    bind_text.parse().map_err(|_| {
        Error::Config(format!(
            "bind {bind_text:?} is not an address and port such as 127.0.0.1:8080"
        ))
    })
}

/// The sender of every email, with a name (default `Customer research
/// <pds@localhost>`).
pub(super) fn mail_from(text: Option<String>) -> Result<Mailbox> {
    let from_text = text.unwrap_or_else(|| "Customer research <pds@localhost>".into());
    from_text.parse().map_err(|e| {
        Error::Config(format!(
            "mail_from {from_text:?} is not an address such as \"Research <research@example.com>\": {e}"
        ))
    })
}
