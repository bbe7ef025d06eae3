//! The crate's error type. Each variant says what happened and what the user can do
//! about it; the doors (CLI, HTTP) turn it into an exit code or a status page once.

use std::path::PathBuf;

/// Everything that can go wrong outside a capability's own validation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A setting in `pds.toml` or a `PDS_*` variable is wrong.
    #[error("configuration: {0}")]
    Config(String),

    /// Input from a user (command-line argument, file, form) is not acceptable.
    #[error("{0}")]
    Invalid(String),

    /// Our fault, not the user's: a thread or a resource of the process failed.
    /// Never shown with details to a web client; the log has them.
    #[error("internal error: {0}")]
    Internal(String),

    /// Something the user named does not exist.
    #[error("{0}")]
    NotFound(String),

    #[error("cannot open the database {url}: {reason}")]
    Connect { url: String, reason: String },

    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),

    #[error("database connection pool: {0} (is the database reachable?)")]
    Pool(#[from] diesel::r2d2::PoolError),

    /// The database's write lock stayed taken longer than a caller may wait: on
    /// SQLite, another process (an import, a coding run) is writing.
    #[error(
        "the database is busy: another process has held its write lock for over {waited_ms} ms"
    )]
    Busy { waited_ms: u32 },

    #[error("database migration failed: {0}")]
    Migration(String),

    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(transparent)]
    Survey(#[from] crate::survey::error::SurveyError),

    #[error(transparent)]
    Import(#[from] crate::invite::error::ImportError),

    #[error(transparent)]
    Mail(#[from] crate::mail::error::MailError),

    /// A results view that cannot be computed as asked (the user's choice).
    #[error(transparent)]
    View(#[from] crate::report::error::ViewError),

    #[error("template {template}: {reason}")]
    Render { template: String, reason: String },
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// The process exit code for this error: 2 for what the user can fix in their
    /// input or settings, 1 for everything else.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config(_)
            | Error::Invalid(_)
            | Error::NotFound(_)
            | Error::Survey(_)
            | Error::View(_)
            | Error::Import(_) => 2,
            _ => 1,
        }
    }
}

/// A stored `attributes` column that cannot be read is our data gone wrong, not
/// the user's input: it is told with the row it belongs to.
impl From<crate::attributes::Unreadable> for Error {
    fn from(e: crate::attributes::Unreadable) -> Self {
        Error::Internal(e.to_string())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
