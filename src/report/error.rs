//! A view of the results that cannot be computed as asked, in the words of what
//! was asked for (a wave, an attribute), not of any door's flags: the command line
//! and the dashboard each say it their own way. A leaf: it imports nothing of the
//! crate, so the crate's error type can hold it without an import circle.

/// What is wrong with the view asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ViewError {
    #[error("a comparison needs a wave to compare the earlier one with; choose a wave")]
    CompareWithoutWave,
    #[error("wave {0} cannot be compared with itself; choose another wave to compare with")]
    CompareWithItself(String),
    #[error("no respondent in scope has a value for the attribute {attribute:?}; known attributes: {known}")]
    UnknownAttribute { attribute: String, known: String },
}

impl ViewError {
    /// No respondent in scope has `attribute`; `known` are the attributes they do
    /// have, named sorted and once each ("none" when there are none).
    pub fn unknown_attribute<S: AsRef<str> + Ord>(attribute: &str, mut known: Vec<S>) -> Self {
        known.sort_unstable();
        known.dedup();
        let known: Vec<&str> = known.iter().map(AsRef::as_ref).collect();
        ViewError::UnknownAttribute {
            attribute: attribute.to_string(),
            known: if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            },
        }
    }
}
