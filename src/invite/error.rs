//! Why a contacts or responses file could not be imported, and the header line
//! every import reads alike. A leaf: it imports nothing of the crate, so the
//! crate's error type can hold it without a circle.

/// A contacts file could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{file}: {reason}")]
    Header { file: String, reason: String },
    #[error("{file}: {} invalid row(s); nothing was imported. Fix them, or pass --skip-invalid to import only the valid rows:\n{}", errors.len(), errors.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
    Rejected { file: String, errors: Vec<String> },
}

impl ImportError {
    /// What is wrong with `file`'s header line.
    pub fn header(file: &str, reason: String) -> Self {
        ImportError::Header {
            file: file.to_string(),
            reason,
        }
    }
}

/// The column names on the first line of `csv`, without the byte-order mark a
/// spreadsheet may write before the first.
pub fn header_names<R: std::io::Read>(
    csv: &mut csv::Reader<R>,
    file: &str,
) -> Result<Vec<String>, ImportError> {
    Ok(csv
        .headers()
        .map_err(|e| ImportError::header(file, e.to_string()))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_string())
        .collect())
}
