//! SQLite's write discipline: one writer, so answers commit in groups on a thread
//! of the database's own (each write in a savepoint), wait a bounded time for a
//! lock another process holds, and leave the write-ahead log to a checkpointing
//! thread instead of the committing writer. `Database` (in `mod.rs`) decides when
//! these are used; PostgreSQL needs none of them.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use super::{AnyConnection, Pool};
use crate::error::{Error, Result};

/// Sets SQLite's threading mode to multi-thread once, before the first connection
/// opens: a connection is used by one thread at a time (diesel's connections are
/// not `Sync`, and the pool hands each to one thread), so SQLite's own lock around
/// every call on a connection (its default, serialized mode) only costs time (3%
/// of `pds results`' CPU at a million respondents). If SQLite was already in use
/// in this process, the call is refused and the default stays, which is also safe.
pub(super) fn threading_once() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: `sqlite3_config` with SQLITE_CONFIG_MULTITHREAD takes no further
        // arguments; SQLite refuses it (SQLITE_MISUSE) once initialised, changing
        // nothing.
        let code =
            unsafe { libsqlite3_sys::sqlite3_config(libsqlite3_sys::SQLITE_CONFIG_MULTITHREAD) };
        if code != libsqlite3_sys::SQLITE_OK {
            tracing::debug!(code, "SQLite threading mode left as it was");
        }
    });
}

/// The most writes one grouped transaction commits.
pub(super) const GROUP_MAX: usize = 64;

pub(super) type AnyValue = Box<dyn std::any::Any + Send>;
pub(super) type GroupedWork = Box<dyn FnOnce(&mut AnyConnection) -> Result<AnyValue> + Send>;

/// One caller's write, waiting for a group commit, and where its outcome goes.
pub(super) struct GroupedWrite {
    pub(super) work: GroupedWork,
    pub(super) reply: tokio::sync::oneshot::Sender<Result<AnyValue>>,
}

/// SQLite: starts the thread that commits grouped writes. It takes what is queued
/// (up to `GROUP_MAX`), commits it in one transaction under the write lock, answers
/// each caller, and goes round again; it ends when the last handle on the database
/// is dropped. Callers only wait for their answer, so a web worker waiting for its
/// write holds no thread that could be preparing the next answer meanwhile.
pub(super) fn start_grouped_writer(
    pool: Pool,
    writer: Arc<Mutex<()>>,
    checkpoints: Option<Arc<Checkpointer>>,
) -> Result<std::sync::mpsc::Sender<GroupedWrite>> {
    let (queue, queued) = std::sync::mpsc::channel::<GroupedWrite>();
    std::thread::Builder::new()
        .name("pds-writer".into())
        .spawn(move || {
            while let Ok(first) = queued.recv() {
                let mut group = vec![first];
                while group.len() < GROUP_MAX {
                    match queued.try_recv() {
                        Ok(write) => group.push(write),
                        Err(_) => break,
                    }
                }
                let size = group.len() as u64;
                {
                    let _guard = writer
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                    // A write that panics takes its group's transaction down with
                    // it (the connection is discarded, so SQLite rolls it back);
                    // its callers hear so, and the thread goes on.
                    let committed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        commit_group(&pool, group)
                    }));
                    if committed.is_err() {
                        tracing::error!("a grouped write panicked; its group was rolled back");
                    }
                }
                if let Some(checkpoints) = &checkpoints {
                    checkpoints.wrote(size);
                }
            }
        })
        .map_err(|e| Error::Internal(format!("could not start the database writer: {e}")))?;
    Ok(queue)
}

/// Runs `group` in one transaction, each write in a savepoint, and answers each
/// caller once the transaction has committed (or failed).
pub(super) fn commit_group(pool: &Pool, group: Vec<GroupedWrite>) {
    let mut conn = match pool.get() {
        Ok(conn) => conn,
        Err(e) => {
            let message = e.to_string();
            for write in group {
                let _ = write.reply.send(Err(Error::Internal(format!(
                    "no database connection for the write: {message}"
                ))));
            }
            return;
        }
    };
    // Answers wait for the write lock a bounded time (another process may hold it
    // for minutes); then the group fails with `Error::Busy` and its callers keep
    // their answers elsewhere (the answer inbox) instead of timing out.
    if let Err(e) = conn.batch_execute(&format!("PRAGMA busy_timeout = {GROUPED_LOCK_WAIT_MS}")) {
        tracing::warn!(error = %e, "could not shorten the grouped writer's lock wait");
    }
    let (works, replies): (Vec<_>, Vec<_>) = group.into_iter().map(|w| (w.work, w.reply)).unzip();
    let mut outcomes = Vec::with_capacity(works.len());
    let committed = write_transaction::<_, diesel::result::Error>(&mut conn, |conn| {
        for work in works {
            outcomes.push(conn.transaction::<_, Error, _>(|conn| work(conn)));
        }
        Ok(())
    });
    let _ = conn.batch_execute(&format!("PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}"));
    match committed {
        Ok(()) => {
            for (reply, outcome) in replies.into_iter().zip(outcomes) {
                let _ = reply.send(outcome);
            }
        }
        Err(e) => {
            // Nothing of the group was committed, whether it began or not.
            let busy = is_busy(&e);
            for reply in replies {
                let _ = reply.send(Err(if busy {
                    Error::Busy {
                        waited_ms: GROUPED_LOCK_WAIT_MS,
                    }
                } else {
                    Error::Internal(format!("the write could not be committed: {e}"))
                }));
            }
        }
    }
}

/// Whether SQLite refused for a lock another connection holds (SQLITE_BUSY).
pub fn is_busy(e: &diesel::result::Error) -> bool {
    matches!(e, diesel::result::Error::DatabaseError(_, info) if info.message().contains("database is locked"))
}

/// Runs `f` in a transaction that, on SQLite, takes the write lock as it begins
/// (`BEGIN IMMEDIATE`). A deferred transaction reads first and asks for the lock at
/// its first write; if the log has moved on since its read began, SQLite refuses
/// at once with "database is locked" rather than waiting, which under load failed
/// answers (13 of 1,000 at once in one run).
pub(super) fn write_transaction<T, E>(
    conn: &mut AnyConnection,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    type Manager = <AnyConnection as Connection>::TransactionManager;
    match conn {
        AnyConnection::Sqlite(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?
        }
        AnyConnection::Postgresql(_) => Manager::begin_transaction(conn)?,
    }
    match f(conn) {
        Ok(value) => {
            Manager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(error) => match Manager::rollback_transaction(conn) {
            Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(error),
            Err(rollback) => Err(rollback.into()),
        },
    }
}

/// A grouped write's outcome as its caller receives it.
pub(super) fn unbox<T: 'static>(
    received: std::result::Result<Result<AnyValue>, tokio::sync::oneshot::error::RecvError>,
) -> Result<T> {
    // A dropped reply means the thread committing it failed: the write was rolled back.
    let value = received.unwrap_or_else(|_| {
        Err(Error::Internal(
            "the write was rolled back: the thread committing it failed".into(),
        ))
    })?;
    value
        .downcast::<T>()
        .map(|v| *v)
        .map_err(|_| Error::Internal("a grouped write returned the wrong type".into()))
}

/// SQLite copies the write-ahead log back into the database file at checkpoints.
/// Left to itself it does so inside whichever COMMIT crosses 1,000 pages, while
/// that writer holds the write lock and every other answer waits. Instead, a thread
/// of the database's own runs a passive checkpoint every this many writes (and
/// after a second without one), outside the write lock: writers go on meanwhile,
/// and no caller waits for it. A process that ends checkpoints as it closes its
/// last connection.
const CHECKPOINT_EVERY: u64 = 200;

// A passive checkpoint never catches up with writers that keep appending, so
// under steady load the log is not started over and grows (400 MB in 46,000
// answers at full speed); it starts over at the first write after a checkpoint
// that copied all of it, and is then cut back to 64 MiB (`journal_size_limit`).
// Restarting it under load by a checkpoint that holds the write lock was tried:
// each took 10 to 50 ms (syncing a busy file), which put p99 at 500 answers/s
// from 5 ms to 30 ms and more.

/// How long an SQLite connection waits for a lock another process holds.
pub(super) const BUSY_TIMEOUT_MS: u32 = 10_000;

/// The page size of a new SQLite database, in bytes (SQLite's default is 4,096).
/// A million imported respondents (README, "Scale benchmark") load in about a
/// sixth less time with 16 KiB pages and read back a little faster: fewer pages
/// to split, link and log per row. A database created before keeps its own size
/// (SQLite sets it once, with the first table).
pub(super) const PAGE_SIZE: u32 = 16_384;

/// How long grouped writes (answers) wait for the SQLite write lock before they
/// fail with [`Error::Busy`]: the longest an answer waits on another process.
pub const GROUPED_LOCK_WAIT_MS: u32 = 1_000;

/// Counts SQLite writes and wakes the checkpointing thread; the thread ends when the
/// last handle on the database is dropped.
pub(super) struct Checkpointer {
    writes: Arc<std::sync::atomic::AtomicU64>,
    wake: std::sync::mpsc::SyncSender<()>,
}

impl Checkpointer {
    pub(super) fn start(pool: Pool) -> Arc<Self> {
        use std::sync::atomic::Ordering;
        use std::sync::mpsc::RecvTimeoutError;
        let (wake, woken) = std::sync::mpsc::sync_channel(1);
        let writes = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counted = writes.clone();
        let spawned = std::thread::Builder::new()
            .name("pds-checkpoint".into())
            .spawn(move || {
                let mut checkpointed = 0;
                while let Ok(()) | Err(RecvTimeoutError::Timeout) =
                    woken.recv_timeout(Duration::from_secs(1))
                {
                    let now = counted.load(Ordering::Relaxed);
                    if now != checkpointed {
                        checkpointed = now;
                        checkpoint_turn(&pool);
                    }
                }
                // The last handle is gone. Copy the log into the file now, while
                // other processes may go on reading and writing: SQLite would
                // otherwise do it as the last connection closes, holding an
                // exclusive lock that keeps every other process from even opening
                // the database for as long as the copy takes (seconds after a
                // large import).
                checkpoint_turn(&pool);
            });
        if let Err(e) = spawned {
            // Without the thread the log is checkpointed when the process ends.
            tracing::warn!(error = %e, "could not start the SQLite checkpoint thread");
        }
        Arc::new(Checkpointer { writes, wake })
    }

    /// Counts `writes` committed; every `CHECKPOINT_EVERY` of them wakes the thread.
    pub(super) fn wrote(&self, writes: u64) {
        use std::sync::atomic::Ordering;
        let before = self.writes.fetch_add(writes, Ordering::Relaxed);
        if before / CHECKPOINT_EVERY != (before + writes) / CHECKPOINT_EVERY {
            // Already awake with a wake-up waiting is as good as woken twice.
            let _ = self.wake.try_send(());
        }
    }
}

/// One turn of the checkpointing thread.
pub(super) fn checkpoint_turn(pool: &Pool) {
    if let Ok(mut conn) = pool.get() {
        if let Some(outcome) = checkpoint(&mut conn) {
            tracing::trace!(
                log = outcome.log,
                checkpointed = outcome.checkpointed,
                "SQLite checkpoint"
            );
        }
    }
}

/// After a bulk load: copies the log into the database file without blocking
/// anyone (a passive checkpoint, seconds for a million rows), then starts the log
/// over at zero bytes. Left as it was, the log (as large as the load, 500 MB for a
/// million respondents) stays on disk once this process ends without closing its
/// connections, and the next process to open the database reads all of it again to
/// rebuild its index before its first query: about 1.6 s of the first `pds results` after
/// such an import (README, "Scale benchmark"). Starting over must wait for readers
/// still on an older snapshot, and holds writers back while it waits, so it waits
/// at most [`TRUNCATE_WAIT_MS`] (a server computing a large survey's results holds
/// a snapshot for seconds); when it cannot, the log is left for the next
/// checkpoint as before.
pub(super) fn checkpoint_and_truncate(pool: &Pool) {
    checkpoint_turn(pool);
    let Ok(mut conn) = pool.get() else {
        return;
    };
    let truncated = conn
        .batch_execute(&format!("PRAGMA busy_timeout = {TRUNCATE_WAIT_MS}"))
        .and_then(|()| {
            diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)")
                .get_result::<CheckpointOutcome>(&mut *conn)
        });
    match truncated {
        Ok(outcome) if outcome.busy == 0 => {
            tracing::debug!("SQLite log started over after a bulk load")
        }
        Ok(_) => tracing::debug!("SQLite log in use; left to the next checkpoint"),
        Err(e) => tracing::warn!(error = %e, "SQLite checkpoint failed; will retry"),
    }
    if let Err(e) = conn.batch_execute(&format!("PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")) {
        tracing::warn!(error = %e, "could not restore the SQLite busy timeout");
    }
}

/// Before a bulk load on a connection that is this process's only one: leaves
/// the write-ahead log for a rollback journal if no other connection (of any
/// process) has the file open; SQLite refuses otherwise, and the load goes
/// through the log as before. In the log every page is written twice (into the
/// log, then copied into the file); with the journal, pages the load adds are
/// written once, and only pages it changes are saved first (a million imported
/// respondents: 8.8 -> 7.5 s, README "Scale benchmark"). A failed or interrupted
/// load is rolled back from the journal as from the log; `synchronous = FULL`
/// keeps the commit as durable as the log's. While it runs, another process
/// opening the database waits for it (up to [`BUSY_TIMEOUT_MS`]) instead of
/// reading beside it. Returns whether it left the log.
pub(super) fn write_straight(conn: &mut AnyConnection) -> bool {
    match journal_mode(conn, "DELETE") {
        Ok(mode) if mode.eq_ignore_ascii_case("delete") => {
            if let Err(e) = conn.batch_execute("PRAGMA synchronous = FULL") {
                tracing::warn!(error = %e, "could not make SQLite's commits durable");
                back_to_log(conn);
                return false;
            }
            tracing::debug!("bulk load writes straight into the SQLite file");
            true
        }
        Ok(_) | Err(_) => {
            tracing::debug!("SQLite file open elsewhere: bulk load goes through the log");
            false
        }
    }
}

/// After a bulk load that [`write_straight`] let skip the log: back to the
/// write-ahead log. Should another process have opened the file meanwhile and
/// hold it, the connection stays in journal mode and the next connection to open
/// sets the log again (every connection does as it opens: `Manager::connect`).
pub(super) fn back_to_log(conn: &mut AnyConnection) {
    let back = conn
        .batch_execute("PRAGMA synchronous = NORMAL")
        .and_then(|()| journal_mode(conn, "WAL"));
    match back {
        Ok(mode) if mode.eq_ignore_ascii_case("wal") => {}
        Ok(mode) => tracing::warn!(mode, "SQLite stayed in journal mode after a bulk load"),
        Err(e) => tracing::warn!(error = %e, "SQLite stayed in journal mode after a bulk load"),
    }
}

/// Sets SQLite's journal mode; returns the mode now in force.
fn journal_mode(conn: &mut AnyConnection, mode: &str) -> QueryResult<String> {
    #[derive(QueryableByName)]
    struct Mode {
        #[diesel(sql_type = diesel::sql_types::Text)]
        journal_mode: String,
    }
    let now: Mode = diesel::sql_query(format!("PRAGMA journal_mode = {mode}")).get_result(conn)?;
    Ok(now.journal_mode)
}

/// How long starting the log over after a bulk load waits for older readers, in
/// milliseconds (writers wait meanwhile).
const TRUNCATE_WAIT_MS: u32 = 200;

/// What `PRAGMA wal_checkpoint` reports: whether it could not run, the frames in
/// the log, and how many of them are now in the database file.
#[derive(QueryableByName, Clone, Copy)]
struct CheckpointOutcome {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    busy: i32,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    log: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    checkpointed: i64,
}

/// Runs a passive SQLite checkpoint: copies what it can of the log into the
/// database file without waiting for anyone.
fn checkpoint(conn: &mut AnyConnection) -> Option<CheckpointOutcome> {
    match diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)").get_result::<CheckpointOutcome>(conn)
    {
        Ok(outcome) if outcome.busy == 0 => Some(outcome),
        Ok(_) => None,
        Err(e) => {
            tracing::warn!(error = %e, "SQLite checkpoint failed; will retry");
            None
        }
    }
}
