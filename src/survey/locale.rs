//! The languages the engine speaks. Parsed once at the edge (CSV, HTTP, TOML).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    En,
    Sv,
}

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::En, Locale::Sv];

    pub fn as_str(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Sv => "sv",
        }
    }

    /// The first supported language in an `Accept-Language` header, if any.
    pub fn from_accept_language(header: &str) -> Option<Locale> {
        header
            .split(',')
            .filter_map(|part| part.split(';').next())
            .filter_map(|tag| tag.trim().split(['-', '_']).next())
            .find_map(|lang| lang.parse().ok())
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The locale a user wrote is not one the engine speaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown locale {0:?}; use one of: en, sv")]
pub struct UnknownLocale(pub String);

impl FromStr for Locale {
    type Err = UnknownLocale;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "en" => Ok(Locale::En),
            "sv" => Ok(Locale::Sv),
            _ => Err(UnknownLocale(s.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known_locales_only() {
        assert_eq!("SV".parse::<Locale>(), Ok(Locale::Sv));
        assert!("de".parse::<Locale>().is_err());
    }

    #[test]
    fn picks_the_first_supported_accept_language() {
        assert_eq!(
            Locale::from_accept_language("de-DE,sv-SE;q=0.8,en;q=0.5"),
            Some(Locale::Sv)
        );
        assert_eq!(Locale::from_accept_language("fr"), None);
    }
}
