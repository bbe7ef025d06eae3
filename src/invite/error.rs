//! Why a contacts or responses file could not be imported. A leaf: it imports
//! nothing of the crate, so the crate's error type can hold it without a circle.

/// A contacts file could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{file}: {reason}")]
    Header { file: String, reason: String },
    #[error("{file}: {} invalid row(s); nothing was imported. Fix them, or pass --skip-invalid to import only the valid rows:\n{}", errors.len(), errors.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
    Rejected { file: String, errors: Vec<String> },
}
