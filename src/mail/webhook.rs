//! Webhook deliveries: a queued outbox row of kind `webhook` is POSTed to its
//! URL, signed (HMAC-SHA256 of `TIMESTAMP.BODY` with the `webhook_secret`
//! setting, header `X-PDS-Signature: v1=HEX`). Only http(s), and never to
//! loopback or private networks unless `webhook_allow_private` says so: the host
//! is resolved and every address it resolves to is checked, when the routing is
//! set and again before each delivery. No redirects are followed.

use std::net::{IpAddr, ToSocketAddrs};
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::outbox::Queued;
use super::SendFailure;
use crate::config::Settings;

/// How long one delivery may take, connection included.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The signature header's value for `body` sent at `timestamp` (Unix seconds).
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body.as_bytes());
    format!("v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// Whether an address is on loopback, a private or link-local network, or
/// otherwise not the public internet.
fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
                || (a == 198 && (b == 18 || b == 19)) // benchmarking
                || a >= 224 // multicast and reserved
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
        }
    }
}

/// Checks that `url` may receive webhooks: http(s), a host that resolves, and
/// (unless `allow_private`) no resolved address on a private network. The error
/// says what to change.
pub fn check_url(url: &url::Url, allow_private: bool) -> Result<(), String> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "webhook {url} must be an http:// or https:// address"
        ));
    }
    let host = url
        .host_str()
        .ok_or_else(|| format!("webhook {url} names no host"))?;
    let port = url.port_or_known_default().unwrap_or(443);
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addresses: Vec<IpAddr> = (bare, port)
        .to_socket_addrs()
        .map_err(|e| format!("webhook {url}: the host {host} does not resolve ({e})"))?
        .map(|a| a.ip())
        .collect();
    if addresses.is_empty() {
        return Err(format!("webhook {url}: the host {host} has no address"));
    }
    if !allow_private {
        if let Some(ip) = addresses.iter().find(|ip| is_private(**ip)) {
            return Err(format!(
                "webhook {url}: {host} resolves to {ip}, a loopback or private address; \
                 webhooks go to the public internet only (set webhook_allow_private = true \
                 in pds.toml, or PDS_WEBHOOK_ALLOW_PRIVATE=true, to allow a receiver on your own network)"
            ));
        }
    }
    Ok(())
}

/// The HTTP client for webhooks: a timeout, no redirects, statuses as values.
pub(super) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(TIMEOUT))
        .max_redirects(0)
        .http_status_as_error(false)
        .user_agent(concat!("pds/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

fn permanent(reason: String) -> SendFailure {
    SendFailure {
        permanent: true,
        reason,
    }
}

/// POSTs one queued webhook row. 2xx is delivered; a refused address, a missing
/// secret or a 4xx answer (but 408 and 429) is permanent; anything else is
/// retried with backoff by the outbox.
pub(super) fn send(
    settings: &Settings,
    agent: &ureq::Agent,
    message: &Queued,
) -> Result<(), SendFailure> {
    let url = url::Url::parse(&message.recipient)
        .map_err(|e| permanent(format!("webhook {:?}: {e}", message.recipient)))?;
    check_url(&url, settings.webhooks.allow_private).map_err(|reason| SendFailure {
        // A name that does not resolve may resolve later; a private address stays.
        permanent: reason.contains("private address"),
        reason,
    })?;
    let body = &message.body_text;
    let timestamp = chrono::Utc::now().timestamp();
    let mut request = agent
        .post(url.as_str())
        .header("Content-Type", "application/json")
        .header("X-PDS-Event", "case.opened")
        .header("X-PDS-Delivery", &message.message_id)
        .header("X-PDS-Timestamp", timestamp.to_string());
    if let Some(secret) = &settings.webhooks.secret {
        request = request.header("X-PDS-Signature", signature(secret, timestamp, body));
    } else if message.subject.starts_with(SIGNED) {
        return Err(permanent(
            "no webhook_secret is set, so the payload cannot be signed; set PDS_WEBHOOK_SECRET and run pds outbox retry".into(),
        ));
    }
    match request.send(body.as_str()) {
        Ok(response) => {
            let status = response.status().as_u16();
            match status {
                200..=299 => Ok(()),
                408 | 429 | 500..=599 => Err(SendFailure {
                    permanent: false,
                    reason: format!("the receiver answered {status}"),
                }),
                _ => Err(permanent(format!("the receiver answered {status}"))),
            }
        }
        Err(e) => Err(SendFailure {
            permanent: false,
            reason: format!("webhook {url}: {e}"),
        }),
    }
}

/// The start of the outbox subject of a payload that must be signed (format
/// `json`); Slack and Teams payloads are sent signed when a secret is set, and
/// unsigned otherwise, as those services do not check signatures.
pub const SIGNED: &str = "signed ";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_dot_body() {
        // Computed independently, with Python's hmac module (the README recipe).
        let s = signature("secret-key-of-16+", 1_700_000_000, r#"{"a":1}"#);
        assert_eq!(
            s,
            "v1=ce4f5aa0199614440f5cef088b2cff07f9aef6c671ed84794471561006fb6973"
        );
        assert_ne!(
            s,
            signature("secret-key-of-16+", 1_700_000_001, r#"{"a":1}"#)
        );
    }

    #[test]
    fn loopback_and_private_networks_are_refused_unless_allowed() {
        for url in [
            "http://127.0.0.1:9/x",
            "http://10.1.2.3/x",
            "http://192.168.0.1/x",
            "http://172.16.5.4/x",
            "http://169.254.169.254/latest",
            "http://[::1]:8080/x",
            "http://[fd00::1]/x",
            "http://localhost:8080/x",
        ] {
            let u = url::Url::parse(url).unwrap();
            let err = check_url(&u, false).unwrap_err();
            assert!(err.contains("private address"), "{url}: {err}");
            assert!(check_url(&u, true).is_ok(), "{url} allowed when asked");
        }
        assert!(check_url(&url::Url::parse("ftp://example.com/").unwrap(), true).is_err());
        assert!(!is_private("93.184.215.14".parse().unwrap()));
    }
}
