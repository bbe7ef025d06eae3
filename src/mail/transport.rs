//! The two ways out: SMTP through lettre's pooled transport, or `.eml` files.

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{header, Mailbox, MultiPart};
use lettre::{FileTransport, Message, SmtpTransport, Transport as _};

use super::outbox::Queued;
use super::MailError;
use crate::config::{MailTransport, Settings};
use crate::error::Result;

pub enum Transport {
    File(FileTransport),
    Smtp(Box<SmtpTransport>),
}

/// Why one message was not delivered.
#[derive(Debug, Clone)]
pub struct SendFailure {
    /// True when retrying cannot help (a 5xx answer, an invalid address).
    pub permanent: bool,
    pub reason: String,
}

impl Transport {
    pub fn from_settings(settings: &Settings) -> Result<Self> {
        match &settings.mail {
            MailTransport::File(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| MailError::MailDir {
                    path: dir.display().to_string(),
                    reason: e.to_string(),
                })?;
                Ok(Transport::File(FileTransport::new(dir)))
            }
            MailTransport::Smtp(url) => {
                let transport = SmtpTransport::from_url(url.expose())
                    .map_err(|e| MailError::BadSmtpUrl {
                        url: url.to_string(),
                        reason: e.to_string(),
                    })?
                    .build();
                Ok(Transport::Smtp(Box::new(transport)))
            }
        }
    }

    /// Builds the MIME message for a queued row and hands it to the transport.
    pub(super) fn send(&self, settings: &Settings, message: &Queued) -> Result<(), SendFailure> {
        let email = build(settings, message).map_err(|reason| SendFailure {
            permanent: true,
            reason,
        })?;
        match self {
            Transport::File(t) => t.send(&email).map(|_| ()).map_err(|e| SendFailure {
                permanent: false,
                reason: e.to_string(),
            }),
            Transport::Smtp(t) => t.send(&email).map(|_| ()).map_err(|e| SendFailure {
                permanent: e.is_permanent(),
                reason: e.to_string(),
            }),
        }
    }
}

fn build(settings: &Settings, message: &Queued) -> Result<Message, String> {
    let to: Mailbox = message
        .recipient
        .parse()
        .map_err(|e| format!("recipient {:?}: {e}", message.recipient))?;
    let mut builder = Message::builder();
    if let Some(url) = &message.list_unsubscribe {
        // RFC 2369 and RFC 8058: mail clients show an unsubscribe button that POSTs
        // to the personal link without opening a page.
        builder = builder
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!("<{url}>"),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".to_string(),
            ));
    }
    if let Some(reply_to) = &message.reply_to {
        let mailbox: Mailbox = reply_to
            .parse()
            .map_err(|e| format!("reply-to {reply_to:?}: {e}"))?;
        builder = builder.reply_to(mailbox);
    }
    builder
        .from(settings.mail_from.clone())
        .to(to)
        .subject(message.subject.clone())
        .message_id(Some(message.message_id.clone()))
        .date_now()
        .header(header::MIME_VERSION_1_0)
        .multipart(MultiPart::alternative_plain_html(
            message.body_text.clone(),
            message.body_html.clone(),
        ))
        .map_err(|e| e.to_string())
}
