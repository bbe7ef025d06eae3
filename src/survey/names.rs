//! A survey's names: its kind, its slug and its wave labels, parsed once at the
//! edge (CLI, HTTP, files) and trusted inside.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{SurveyError, CHECKLIST_MESSAGE_KEYS, MESSAGE_KEYS};

/// What a survey asks: customers' own words (discovery, phase 1 of the method) or
/// a checklist of problem statements answered item by item (phase 2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SurveyKind {
    #[default]
    Discovery,
    /// Its items are in `checklist.toml`, which this room keeps as text (the
    /// checklist room parses it).
    Checklist,
}

impl SurveyKind {
    /// The keys its `messages.toml` must define (and the only ones it may).
    pub fn message_keys(self) -> Vec<&'static str> {
        let extra: &[&'static str] = match self {
            SurveyKind::Discovery => &[],
            SurveyKind::Checklist => &CHECKLIST_MESSAGE_KEYS,
        };
        MESSAGE_KEYS.iter().chain(extra).copied().collect()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SurveyKind::Discovery => "discovery",
            SurveyKind::Checklist => "checklist",
        }
    }
}

impl fmt::Display for SurveyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A survey's short name, used in commands and URLs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct SurveySlug(String);

impl FromStr for SurveySlug {
    type Err = SurveyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let ok = (1..=64).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-');
        if ok {
            Ok(SurveySlug(s.to_string()))
        } else {
            Err(SurveyError::BadSlug(s.to_string()))
        }
    }
}

/// `as_str` and `Display` of a name that is its checked text.
macro_rules! text_name {
    ($name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_name!(SurveySlug);
text_name!(WaveLabel);

/// A wave label such as `2026-H2`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct WaveLabel(String);

impl FromStr for WaveLabel {
    type Err = SurveyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if (1..=64).contains(&t.chars().count()) && !t.chars().any(char::is_control) {
            Ok(WaveLabel(t.to_string()))
        } else {
            Err(SurveyError::BadWave(s.to_string()))
        }
    }
}
