//! A case's short reference (`K7M2QX4P`): what a team quotes when it talks about
//! a case, in the subject of its email and at the command line. Random, so that
//! routing can write it into the email before the case row exists; eight letters
//! and digits from an alphabet without look-alikes (no I, L, O, U) give 2^40
//! references, and a unique index refuses the unlikely repeat.

use rand::Rng;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const LENGTH: usize = 8;

/// A fresh reference.
pub fn generate() -> String {
    let mut rng = rand::rng();
    (0..LENGTH)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// Whether `text` could be a reference (upper-cased first), so the command line
/// can tell `pds cases show 12` from `pds cases show K7M2QX4P`.
pub fn normalise(text: &str) -> Option<String> {
    let upper = text.trim().to_ascii_uppercase();
    (upper.len() == LENGTH && upper.bytes().all(|b| ALPHABET.contains(&b))).then_some(upper)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_eight_unambiguous_characters_and_read_back() {
        for _ in 0..100 {
            let r = generate();
            assert_eq!(r.len(), LENGTH);
            assert!(!r.contains(['I', 'L', 'O', 'U']), "{r}");
            assert_eq!(normalise(&r.to_lowercase()), Some(r));
        }
        assert_eq!(normalise("12"), None);
        assert_eq!(normalise("K7M2QX4I"), None);
    }
}
