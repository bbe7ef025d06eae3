//! One spelling per path, before anything else looks at it. A URL may spell a
//! letter as itself or percent-encoded (`/s/…` and `/%73/…` are the same resource to
//! the router, which decodes before matching), so a rate limit, a log filter or any
//! other check on the raw path can be walked around by encoding. This middleware runs
//! first: it decodes every percent-encoded *unreserved* character (letters, digits,
//! `-`, `.`, `_`, `~`; RFC 3986 section 6.2.2.2 says they mean the same decoded),
//! writes the remaining escapes with upper-case hex, and rewrites the request so the
//! rate limiter, the access log and the router all see that one path.
//!
//! It changes nothing else: `/`, `%`, `+` and other reserved characters stay encoded
//! (the router keeps `%2F`, `%25` and `%2B` encoded too, so `/s%2F…` is not `/s/…` to
//! anyone), and the query string is not touched. A `%` that starts no escape (`%zz`)
//! is written `%25`: left bare, `/%%37%33/` would become `/%73/` here and `/s/` in
//! the router, a second spelling again. The result is its own canonical form.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::uri::{PathAndQuery, Uri};
use actix_web::middleware::Next;

/// The path in its one spelling, or `None` when it is already written that way.
pub fn canonical(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    if !bytes.contains(&b'%') {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escape = match bytes.get(i..i + 3) {
            Some([b'%', hi, lo]) => hex(*hi).zip(hex(*lo)).map(|(h, l)| h << 4 | l),
            _ => None,
        };
        match escape {
            Some(byte) if is_unreserved(byte) => {
                out.push(byte);
                i += 3;
            }
            Some(byte) => {
                out.extend_from_slice(format!("%{byte:02X}").as_bytes());
                i += 3;
            }
            None if bytes[i] == b'%' => {
                out.extend_from_slice(b"%25");
                i += 1;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    // Bytes were copied or replaced by ASCII at character boundaries: still UTF-8.
    let canonical = String::from_utf8(out).ok()?;
    (canonical != path).then_some(canonical)
}

fn hex(digit: u8) -> Option<u8> {
    (digit as char).to_digit(16).map(|d| d as u8)
}

fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
}

/// The request URI with its path in its one spelling, if that differs.
fn canonical_uri(uri: &Uri) -> Option<Uri> {
    let path = canonical(uri.path())?;
    let path_and_query = match uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path,
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(PathAndQuery::try_from(path_and_query).ok()?);
    Uri::from_parts(parts).ok()
}

/// The middleware: the outermost layer, so everything inside sees the one path.
pub async fn rewrite(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if let Some(uri) = canonical_uri(req.uri()) {
        // The router matches on `match_info`, the rest on the head: both must change.
        req.match_info_mut().get_mut().update(&uri);
        req.head_mut().uri = uri;
    }
    next.call(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_letters_and_digits_are_decoded() {
        assert_eq!(canonical("/%73/AbC").as_deref(), Some("/s/AbC"));
        assert_eq!(canonical("/%75/AbC").as_deref(), Some("/u/AbC"));
        assert_eq!(
            canonical("/%61dmin/logi%6E").as_deref(),
            Some("/admin/login")
        );
        assert_eq!(canonical("/admin/%6cogin").as_deref(), Some("/admin/login"));
        assert_eq!(canonical("/s/%41%2d%5F%7e%2E").as_deref(), Some("/s/A-_~."));
    }

    #[test]
    fn reserved_characters_stay_encoded_in_upper_case() {
        assert_eq!(canonical("/s%2fAbC").as_deref(), Some("/s%2FAbC"));
        assert_eq!(canonical("/s%2FAbC"), None);
        assert_eq!(canonical("/a%20b%c3%a5").as_deref(), Some("/a%20b%C3%A5"));
        assert_eq!(canonical("/100%25"), None);
    }

    #[test]
    fn plain_paths_are_left_alone() {
        assert_eq!(canonical("/s/AbC"), None);
        assert_eq!(canonical("/admin/surveys/acme-2026"), None);
        assert_eq!(canonical("/s/%C3%A5"), None);
    }

    #[test]
    fn a_bare_percent_sign_cannot_build_a_second_escape() {
        assert_eq!(canonical("/%zz/%4").as_deref(), Some("/%25zz/%254"));
        assert_eq!(canonical("/%").as_deref(), Some("/%25"));
        assert_eq!(canonical("/%%37%33/AbC").as_deref(), Some("/%2573/AbC"));
    }

    proptest::proptest! {
        #[test]
        fn the_one_spelling_is_its_own_one_spelling(path in "/[a-zA-Z0-9%/._~+-]{0,40}") {
            let once = canonical(&path).unwrap_or(path);
            proptest::prop_assert_eq!(canonical(&once), None, "{}", once);
        }
    }

    #[test]
    fn the_query_string_is_kept_as_sent() {
        let uri: Uri = "/%73/AbC?x=%73".parse().unwrap();
        assert_eq!(
            canonical_uri(&uri).map(|u| u.to_string()).as_deref(),
            Some("/s/AbC?x=%73")
        );
        assert!(canonical_uri(&"/s/AbC?x=%73".parse().unwrap()).is_none());
    }
}
