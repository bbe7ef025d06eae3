//! Webhook deliveries: a queued outbox row of kind `webhook` is POSTed to its
//! URL, signed (HMAC-SHA256 of `TIMESTAMP.BODY` with the team's own secret or
//! the `webhook_secret` setting, header `X-PDS-Signature: v1=HEX`). Only
//! http(s), and never to loopback or private networks unless
//! `webhook_allow_private` says so: the host is resolved and every address it
//! resolves to is checked, when the routing is set and again before each
//! delivery, and the delivery connects to the addresses it checked (a second
//! lookup could answer differently: DNS rebinding). No redirects are followed.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::DefaultConnector;

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
    checked_addresses(url, allow_private).map(|_| ())
}

/// Resolves `url`'s host once and checks every address as `check_url` does;
/// returns the addresses, which are the only ones a delivery may connect to.
fn checked_addresses(url: &url::Url, allow_private: bool) -> Result<Vec<SocketAddr>, String> {
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
    let addresses: Vec<SocketAddr> = (bare, port)
        .to_socket_addrs()
        .map_err(|e| format!("webhook {url}: the host {host} does not resolve ({e})"))?
        .collect();
    if addresses.is_empty() {
        return Err(format!("webhook {url}: the host {host} has no address"));
    }
    if !allow_private {
        if let Some(ip) = addresses
            .iter()
            .map(SocketAddr::ip)
            .find(|ip| is_private(*ip))
        {
            return Err(format!(
                "webhook {url}: {host} resolves to {ip}, a loopback or private address; \
                 webhooks go to the public internet only (set webhook_allow_private = true \
                 in pds.toml, or PDS_WEBHOOK_ALLOW_PRIVATE=true, to allow a receiver on your own network)"
            ));
        }
    }
    Ok(addresses)
}

/// A resolver that answers every lookup with the addresses checked before: the
/// connection goes where the check looked, whatever the name resolves to by
/// then. TLS still verifies the certificate against the URL's host name.
#[derive(Debug)]
struct Pinned(Vec<SocketAddr>);

impl Resolver for Pinned {
    fn resolve(
        &self,
        _uri: &ureq::http::Uri,
        _config: &ureq::config::Config,
        _timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let mut addresses = self.empty();
        for address in &self.0 {
            if addresses.try_push(*address).is_err() {
                break; // ureq keeps at most 16; each was checked.
            }
        }
        Ok(addresses)
    }
}

/// The HTTP client for one delivery: connects only to `addresses`, a timeout, no
/// redirects, statuses as values.
fn pinned_agent(addresses: Vec<SocketAddr>) -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .timeout_global(Some(TIMEOUT))
        .max_redirects(0)
        .http_status_as_error(false)
        .user_agent(concat!("pds/", env!("CARGO_PKG_VERSION")))
        .build();
    ureq::Agent::with_parts(config, DefaultConnector::new(), Pinned(addresses))
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
pub(super) fn send(settings: &Settings, message: &Queued) -> Result<(), SendFailure> {
    let url = url::Url::parse(&message.recipient)
        .map_err(|e| permanent(format!("webhook {:?}: {e}", message.recipient)))?;
    let secret = settings
        .webhooks
        .secret_for(message.webhook_secret_env.as_deref())
        .map_err(permanent)?;
    if secret.is_none() && message.subject.starts_with(SIGNED) {
        return Err(permanent(
            "no webhook_secret is set, so the payload cannot be signed; set PDS_WEBHOOK_SECRET and run pds outbox retry".into(),
        ));
    }
    let addresses =
        checked_addresses(&url, settings.webhooks.allow_private).map_err(|reason| SendFailure {
            // A name that does not resolve may resolve later; a private address stays.
            permanent: reason.contains("private address"),
            reason,
        })?;
    let body = &message.body_text;
    let timestamp = chrono::Utc::now().timestamp();
    let mut request = pinned_agent(addresses)
        .post(url.as_str())
        .header("Content-Type", "application/json")
        .header("X-PDS-Event", "case.opened")
        .header("X-PDS-Delivery", &message.message_id)
        .header("X-PDS-Timestamp", timestamp.to_string());
    if let Some(secret) = secret {
        request = request.header("X-PDS-Signature", signature(secret, timestamp, body));
    }
    match request.send(body.as_str()) {
        Ok(response) => answered(response.status().as_u16()),
        Err(e) => Err(SendFailure {
            permanent: false,
            reason: format!("webhook {url}: {e}"),
        }),
    }
}

/// What the receiver's status means for the delivery.
fn answered(status: u16) -> Result<(), SendFailure> {
    match status {
        200..=299 => Ok(()),
        408 | 429 | 500..=599 => Err(SendFailure {
            permanent: false,
            reason: format!("the receiver answered {status}"),
        }),
        _ => Err(permanent(format!("the receiver answered {status}"))),
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

    /// A delivery connects to the address that was checked, not to whatever a
    /// second lookup of the name would answer: a name that does not resolve at
    /// all still reaches the pinned receiver, and the request keeps its Host.
    #[test]
    fn a_delivery_connects_to_the_checked_address_only() {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let pinned = listener.local_addr().unwrap();
        let receiver = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut request = vec![0; 4096];
            let n = stream.read(&mut request).unwrap();
            stream
                .write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
                .unwrap();
            String::from_utf8_lossy(&request[..n]).into_owned()
        });
        let url = format!("http://rebound.invalid:{}/hook", pinned.port());
        let status = pinned_agent(vec![pinned])
            .post(&url)
            .send("{}")
            .expect("reaches the pinned address")
            .status();
        assert_eq!(status.as_u16(), 204);
        let request = receiver.join().unwrap();
        assert!(
            request.starts_with("POST /hook ")
                && request
                    .to_ascii_lowercase()
                    .contains("host: rebound.invalid"),
            "{request}"
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
