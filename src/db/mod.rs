//! The database door: one connection type over SQLite and PostgreSQL, a pool,
//! embedded migrations applied on open, and the write discipline. Queries live with
//! the capability that owns the tables; this module decides none of them.

pub mod schema;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, PooledConnection};
use diesel::{PgConnection, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::config::DatabaseUrl;
use crate::error::{Error, Result};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A connection to either backend. Code written against it runs on both.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

/// Opens connections for the pool, choosing the backend by URL instead of by trial.
#[derive(Debug, Clone)]
pub struct Manager {
    url: DatabaseUrl,
}

impl ManageConnection for Manager {
    type Connection = AnyConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<AnyConnection, r2d2::Error> {
        match &self.url {
            DatabaseUrl::Postgres(url) => PgConnection::establish(&without_gss_by_default(url))
                .map(AnyConnection::Postgresql)
                .map_err(r2d2::Error::ConnectionError),
            DatabaseUrl::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(&path.to_string_lossy())
                    .map_err(r2d2::Error::ConnectionError)?;
                // WAL lets readers work while one writer writes; the busy timeout makes
                // a second process wait for the lock instead of failing at once.
                conn.batch_execute(
                    "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
                )
                .map_err(r2d2::Error::QueryError)?;
                Ok(AnyConnection::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, _conn: &mut AnyConnection) -> bool {
        std::thread::panicking()
    }
}

/// libpq's default `gssencmode=prefer` loads Kerberos, whose library destructors
/// abort the process ("k5_mutex_lock: Received error 22") when a pool thread is
/// still connecting as a short command exits. GSS-encrypted connections are rare;
/// a URL that names `gssencmode` itself keeps its choice.
fn without_gss_by_default(url: &str) -> String {
    if url.contains("gssencmode") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&gssencmode=disable")
    } else {
        format!("{url}?gssencmode=disable")
    }
}

pub type Pool = r2d2::Pool<Manager>;
pub type Conn = PooledConnection<Manager>;

/// The engine's handle on its data: a pool plus the write discipline.
#[derive(Clone)]
pub struct Database {
    pool: Pool,
    url: DatabaseUrl,
    /// SQLite allows one writer; taking this in-process lock before a write
    /// transaction avoids the deferred-transaction upgrade that fails with "database
    /// is locked" instead of waiting. PostgreSQL needs no such lock.
    writer: Option<Arc<Mutex<()>>>,
}

impl Database {
    /// Connects, creating the SQLite file if needed, and applies pending migrations.
    pub fn open(url: &DatabaseUrl) -> Result<Self> {
        if let DatabaseUrl::Sqlite(path) = url {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                if !parent.exists() {
                    return Err(Error::Connect {
                        url: url.redacted(),
                        reason: format!("the folder {} does not exist", parent.display()),
                    });
                }
            }
        }
        let manager = Manager { url: url.clone() };
        // Connect once by hand first so a wrong URL fails with the driver's own words
        // rather than after the pool's retry timeout.
        manager.connect().map_err(|e| Error::Connect {
            url: url.redacted(),
            reason: e.to_string(),
        })?;
        let size = match url {
            DatabaseUrl::Sqlite(_) => 8,
            DatabaseUrl::Postgres(_) => 16,
        };
        let pool = r2d2::Pool::builder()
            .max_size(size)
            .min_idle(Some(1))
            // An SQLite connection is a file handle that cannot go stale, so the
            // `SELECT 1` r2d2 runs on every checkout would only cost time, twice per
            // answer and once inside the write lock. A PostgreSQL connection can be
            // dropped by the server, so it is still checked.
            .test_on_check_out(matches!(url, DatabaseUrl::Postgres(_)))
            .connection_timeout(Duration::from_secs(30))
            .build(manager)
            .map_err(|e| Error::Connect {
                url: url.redacted(),
                reason: e.to_string(),
            })?;
        let db = Database {
            pool,
            url: url.clone(),
            writer: matches!(url, DatabaseUrl::Sqlite(_)).then(|| Arc::new(Mutex::new(()))),
        };
        db.migrate()?;
        Ok(db)
    }

    fn migrate(&self) -> Result<()> {
        let mut conn = self.conn()?;
        let applied = match &mut *conn {
            AnyConnection::Sqlite(c) => {
                c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len())
            }
            AnyConnection::Postgresql(c) => c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.len()),
        }
        .map_err(|e| Error::Migration(e.to_string()))?;
        if applied > 0 {
            tracing::info!(applied, "database migrated");
        }
        Ok(())
    }

    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// A connection for reading.
    pub fn conn(&self) -> Result<Conn> {
        Ok(self.pool.get()?)
    }

    /// Runs `f` in one write transaction: all of it is stored, or none of it.
    pub fn write<T, E>(&self, f: impl FnOnce(&mut AnyConnection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<diesel::result::Error> + From<Error>,
    {
        let _guard = self
            .writer
            .as_ref()
            .map(|m| m.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
        let mut conn = self.conn()?;
        (*conn).transaction(f)
    }
}

/// The current time as stored in the database (UTC, microsecond precision).
pub fn now() -> chrono::NaiveDateTime {
    let t = chrono::Utc::now().naive_utc();
    t.with_nanosecond((t.nanosecond() / 1000) * 1000)
        .unwrap_or(t)
}

use chrono::Timelike;
