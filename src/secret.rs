//! Random secrets and the form they are stored in, for every secret `pds` hands
//! out (personal survey links, API keys, dashboard sessions): bytes from the
//! operating system's cryptographic generator as lower-case hex, kept only as a
//! SHA-256 hash. This room knows nothing of what a secret opens.

use rand::RngCore;
use sha2::{Digest, Sha256};

/// `BYTES` random bytes as `2 * BYTES` lower-case hex digits.
pub fn random_hex<const BYTES: usize>() -> String {
    let mut bytes = [0u8; BYTES];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The stored form of a secret: the SHA-256 of its text, in hex.
pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Whether `text` is exactly `digits` lower-case hex digits.
pub fn is_hex(text: &str, digits: usize) -> bool {
    text.len() == digits && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_hex_and_hash_to_64_digits() {
        let (a, b) = (random_hex::<16>(), random_hex::<16>());
        assert_ne!(a, b);
        assert!(is_hex(&a, 32), "{a}");
        assert!(is_hex(&hash(&a), 64));
        assert!(!is_hex("ABCDEF", 6));
        assert!(!is_hex("abc", 4));
    }
}
