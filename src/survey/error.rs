//! What can be wrong with a survey definition, a survey's name or a wave: the
//! survey room's errors. A leaf: it imports nothing of the crate, so the crate's
//! error type can hold it without an import circle.

/// What went wrong with a survey definition or a survey name.
#[derive(Debug, thiserror::Error)]
pub enum SurveyError {
    #[error("{folder} is not a valid survey folder:\n{}", problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid {
        folder: String,
        problems: Vec<String>,
    },
    #[error("survey slug {0:?} is not valid: use 1 to 64 lower-case letters, digits and dashes, starting with a letter or digit")]
    BadSlug(String),
    #[error("a survey with slug {0:?} already exists; choose another --slug")]
    Exists(String),
    #[error("no survey with slug {0:?}; `pds survey list` shows the surveys")]
    Unknown(String),
    #[error("wave label {0:?} is not valid: use 1 to 64 characters without control characters")]
    BadWave(String),
    #[error("no wave {wave:?} in survey {survey:?}")]
    UnknownWave { survey: String, wave: String },
    #[error("survey {survey:?} closed at the end of {closed}: its links show the closed page, so nothing was sent. Invite to a survey that is open (a copy of the folder with a later `closes` in survey.toml)")]
    Closed { survey: String, closed: String },
}
