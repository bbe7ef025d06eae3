//! Mail settings that cannot work. A leaf: it imports nothing of the crate, so the
//! crate's error type can hold it without an import circle.

/// Delivery failed in a way the caller must hear about.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("smtp_url {url:?}: {reason}")]
    BadSmtpUrl { url: String, reason: String },
    #[error("cannot create the mail folder {path}: {reason}")]
    MailDir { path: String, reason: String },
}
