//! Personal survey tokens: 128 random bits, shown once in an email link and stored
//! only as a SHA-256 hash, so a leaked database does not open anyone's survey.

use std::fmt;
use std::str::FromStr;

use crate::secret;

/// A token as it appears in a link: 32 lower-case hex digits.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// A fresh token from the operating system's cryptographic generator.
    pub fn generate() -> Self {
        Token(secret::random_hex::<16>())
    }

    /// The form stored in the database.
    pub fn hash(&self) -> String {
        secret::hash(&self.0)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Debug output never shows the token itself: it would end up in logs.
impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

/// The text is not shaped like a token; nothing was looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotAToken;

impl FromStr for Token {
    type Err = NotAToken;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if secret::is_hex(s, 32) {
            Ok(Token(s.to_string()))
        } else {
            Err(NotAToken)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_parse_back() {
        let a = Token::generate();
        let b = Token::generate();
        assert_ne!(a, b);
        assert_eq!(a.as_str().parse::<Token>(), Ok(a.clone()));
        assert_eq!(a.hash().len(), 64);
        assert_ne!(a.hash(), a.as_str());
    }

    #[test]
    fn malformed_tokens_are_rejected_without_lookup() {
        assert!("".parse::<Token>().is_err());
        assert!("ABCDEF0123456789abcdef0123456789".parse::<Token>().is_err());
        assert!("../../etc/passwd".parse::<Token>().is_err());
    }

    #[test]
    fn debug_output_hides_the_token() {
        let t = Token::generate();
        assert!(!format!("{t:?}").contains(t.as_str()));
    }
}
