//! The database door: one connection type over SQLite and PostgreSQL, a pool,
//! embedded migrations applied on open, and the write discipline. Queries live with
//! the capability that owns the tables; this module decides none of them.

pub mod copy;
pub mod schema;
mod sqlite;

pub use sqlite::{is_busy, GROUPED_LOCK_WAIT_MS};
use sqlite::{
    start_grouped_writer, unbox, write_transaction, AnyValue, Checkpointer, GroupedWrite,
    BUSY_TIMEOUT_MS, PAGE_SIZE,
};

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
                sqlite::threading_once();
                let mut conn = SqliteConnection::establish(&path.to_string_lossy())
                    .map_err(r2d2::Error::ConnectionError)?;
                // WAL lets readers work while one writer writes; the busy timeout makes
                // a second process wait for the lock instead of failing at once.
                // Checkpoints are run by `Database::write` after its lock is released
                // (see `CHECKPOINT_EVERY`), not inside a committing write. Savepoints
                // (one per grouped write) keep their undo pages in memory rather than
                // in a temporary file each; after a burst, a log that grew past
                // 64 MiB is cut back when it starts over.
                // The busy timeout comes first: `journal_mode` reads the file, and
                // without a timeout it fails at once ("database is locked") while
                // another process closes after a large write (SQLite checkpoints
                // the log under an exclusive lock as its last connection closes).
                // The page size only takes effect on a file with no table yet (a new
                // database): an existing one keeps its own (see `PAGE_SIZE`).
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}; PRAGMA page_size = {PAGE_SIZE}; \
                     PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                     PRAGMA wal_autocheckpoint = 0; PRAGMA temp_store = MEMORY; \
                     PRAGMA journal_size_limit = 67108864;"
                ))
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

/// Another connection to the database `conn` reads, for reading beside it on a
/// second thread: on SQLite to the file `conn` has open, on PostgreSQL to
/// `postgres_url` (a connection cannot tell its own URL). `None` for a SQLite
/// database that is not a file, on PostgreSQL without a URL, and while `conn` is
/// inside a transaction (the other connection would not see what the transaction
/// wrote).
pub fn second_reader(
    conn: &mut AnyConnection,
    postgres_url: Option<&DatabaseUrl>,
) -> Result<Option<AnyConnection>> {
    #[derive(QueryableByName)]
    struct Attached {
        #[diesel(sql_type = diesel::sql_types::Text)]
        file: String,
    }
    use diesel::connection::TransactionManager;
    type Transactions = <AnyConnection as Connection>::TransactionManager;
    let in_transaction = Transactions::transaction_manager_status_mut(conn)
        .transaction_depth()
        .map_or(true, |depth| depth.is_some());
    if in_transaction {
        return Ok(None);
    }
    let url = match conn {
        AnyConnection::Sqlite(sqlite) => {
            let main: Option<Attached> =
                diesel::sql_query("SELECT file FROM pragma_database_list WHERE name = 'main'")
                    .get_result(sqlite)
                    .optional()?;
            match main.map(|m| m.file).filter(|f| !f.is_empty()) {
                Some(file) => DatabaseUrl::Sqlite(file.into()),
                None => return Ok(None),
            }
        }
        AnyConnection::Postgresql(_) => match postgres_url {
            Some(url @ DatabaseUrl::Postgres(_)) => url.clone(),
            _ => return Ok(None),
        },
    };
    let manager = Manager { url: url.clone() };
    let second = manager.connect().map_err(|e| Error::Connect {
        url: url.redacted(),
        reason: e.to_string(),
    })?;
    Ok(Some(second))
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
    /// SQLite: counts writes and wakes the checkpointing thread.
    checkpoints: Option<Arc<Checkpointer>>,
    /// SQLite: the queue of the thread that commits grouped writes (see
    /// [`Database::write_grouped`]).
    grouped: Option<std::sync::mpsc::Sender<GroupedWrite>>,
}

impl Database {
    /// Connects, creating the SQLite file if needed, and applies pending migrations.
    pub fn open(url: &DatabaseUrl) -> Result<Self> {
        Self::open_with(url, None)
    }

    /// Like [`Database::open`], for a command that does one thing at a time (an
    /// import): on SQLite the handle keeps a single connection, so that a bulk
    /// write may find itself alone with the file and write its pages once
    /// ([`Database::write_bulk`]). On PostgreSQL it is [`Database::open`].
    pub fn open_alone(url: &DatabaseUrl) -> Result<Self> {
        Self::open_with(url, Some(1))
    }

    fn open_with(url: &DatabaseUrl, connections: Option<u32>) -> Result<Self> {
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
            .max_size(match url {
                DatabaseUrl::Sqlite(_) => connections.unwrap_or(size),
                DatabaseUrl::Postgres(_) => size,
            })
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
            checkpoints: None,
            grouped: None,
        };
        db.migrate()?;
        let Some(writer) = db.writer.clone() else {
            return Ok(db);
        };
        let checkpoints = Some(Checkpointer::start(db.pool.clone()));
        let grouped = Some(start_grouped_writer(
            db.pool.clone(),
            writer,
            checkpoints.clone(),
        )?);
        Ok(Database {
            checkpoints,
            grouped,
            ..db
        })
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
        let Some(writer) = &self.writer else {
            return (*self.conn()?).transaction(f);
        };
        let result = {
            let _guard = writer
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let mut conn = self.conn()?;
            write_transaction(&mut conn, f)
        };
        self.wrote(1);
        result
    }

    /// Like [`Database::write`], for a bulk load (an import of a million rows) whose
    /// every reference `f` takes from rows it reads or writes in the same transaction.
    /// On SQLite the load holds the write lock throughout, so no other writer can
    /// remove what it refers to; foreign keys are therefore not checked during it
    /// (a quarter of the load's work; SQLite can only switch them outside a
    /// transaction, and does so again for the connection's next user). SQLite's
    /// temporary files (the sorter that builds indexes again after the load) are
    /// kept in files instead of memory during it, which keeps an import of a million
    /// respondents under 200 MiB (README, "Import memory"). The log is then copied
    /// into the database file at once and started over, so that the next command
    /// does not pay for it. When nothing else has the file open (a handle from
    /// [`Database::open_alone`], no other process), the load skips the log
    /// altogether: see `sqlite::write_straight`.
    pub fn write_bulk<T, E>(
        &self,
        f: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<diesel::result::Error> + From<Error>,
    {
        let Some(writer) = &self.writer else {
            return self.write(f);
        };
        let result = {
            let _guard = writer
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let mut conn = self.conn()?;
            conn.batch_execute("PRAGMA foreign_keys = OFF; PRAGMA temp_store = FILE")?;
            let alone = self.pool.state().connections == 1;
            let straight = alone && sqlite::write_straight(&mut conn);
            let result = write_transaction(&mut conn, f);
            if straight {
                sqlite::back_to_log(&mut conn);
            }
            conn.batch_execute("PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY")?;
            result
        };
        if result.is_ok() {
            sqlite::checkpoint_and_truncate(&self.pool);
        }
        self.wrote(1);
        result
    }

    /// Like [`Database::write`], for many small writes arriving at once (answers):
    /// on SQLite, a thread of the database's own commits every write waiting for it
    /// in one transaction, each inside a savepoint of its own. A write that fails
    /// is rolled back alone and its caller gets the error; the others are committed.
    /// Every caller returns only after the transaction holding its write has
    /// committed. One commit instead of dozens: the rows of consecutive answers share
    /// pages, so far fewer pages reach the write-ahead log. PostgreSQL, whose
    /// writers do not wait for each other, runs each write in its own transaction.
    pub fn write_grouped<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut AnyConnection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        match &self.grouped {
            None => self.write(f),
            Some(queue) => unbox(Self::enqueue(queue, f)?.blocking_recv()),
        }
    }

    /// [`Database::write_grouped`] for async callers (web handlers): waits for the
    /// commit without holding a thread. On PostgreSQL the write runs on a blocking
    /// thread of the async runtime, which must be Tokio's (actix-web's is).
    pub async fn write_grouped_async<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut AnyConnection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        match &self.grouped {
            None => {
                let db = self.clone();
                tokio::task::spawn_blocking(move || db.write(f))
                    .await
                    .unwrap_or_else(|e| {
                        Err(Error::Internal(format!(
                            "the write was rolled back: the thread running it failed: {e}"
                        )))
                    })
            }
            Some(queue) => {
                let outcome = Self::enqueue(queue, f)?;
                unbox(outcome.await)
            }
        }
    }

    fn enqueue<T: Send + 'static>(
        queue: &std::sync::mpsc::Sender<GroupedWrite>,
        f: impl FnOnce(&mut AnyConnection) -> Result<T> + Send + 'static,
    ) -> Result<tokio::sync::oneshot::Receiver<Result<AnyValue>>> {
        let (reply, outcome) = tokio::sync::oneshot::channel();
        queue
            .send(GroupedWrite {
                work: Box::new(move |conn| f(conn).map(|value| Box::new(value) as AnyValue)),
                reply,
            })
            .map_err(|_| Error::Internal("the database writer has stopped".into()))?;
        Ok(outcome)
    }

    fn wrote(&self, writes: u64) {
        if let Some(checkpoints) = &self.checkpoints {
            checkpoints.wrote(writes);
        }
    }
}

/// The current time as stored in the database (UTC, microsecond precision), from
/// [`crate::clock`] (which `PDS_NOW` can fix).
pub fn now() -> chrono::NaiveDateTime {
    let t = crate::clock::now();
    t.with_nanosecond((t.nanosecond() / 1000) * 1000)
        .unwrap_or(t)
}

use chrono::Timelike;

#[cfg(test)]
mod tests;
