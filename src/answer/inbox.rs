//! The answer inbox: where a confirmed answer waits, on disk, while another process
//! holds the SQLite write lock (a large `pds responses import`, a `pds code` run
//! on hundreds of thousands of mentions).
//!
//! An answer waits at most [`crate::db::GROUPED_LOCK_WAIT_MS`] for the lock. If it
//! does not get it, the answer is written here as one small JSON file (written to
//! a temporary name, synced, renamed, the folder synced), the customer gets the
//! thank-you page, and the server stores the answer in the database as soon as the
//! lock is free. While the inbox holds anything, new answers queue behind it, so
//! two answers through the same link are stored in the order they were sent.
//! Storing an answer again after a crash is harmless: a second submission through
//! a link replaces the first, and routed complaints are not sent twice.
//!
//! Only SQLite has an inbox: PostgreSQL's writers do not wait for each other.
//! This room keeps the files and stores what they hold; it does not decide what an
//! answer is (see `answer::prepare`).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::{Answer, Prepared, Services, Stored};
use crate::config::{DatabaseUrl, Settings};
use crate::db::Database;
use crate::error::{Error, Result};
use crate::invite::{self, Invitee};
use crate::survey::{store as survey_store, StoredSurvey};

/// An answer the customer was thanked for, waiting to be stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Waiting {
    /// The invitation it came through (never the token itself: the inbox holds no
    /// secret that opens a form).
    pub invitation_id: i64,
    pub answer: Answer,
    /// When the customer sent it; stored as the answer's time.
    pub received_at: NaiveDateTime,
    /// What another room stores with this answer (a checklist's item answers), as
    /// that room wrote it; the preparer given to [`Inbox::drain`] reads it back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub also: Option<serde_json::Value>,
}

/// Turns a waiting answer into one ready to store (routing decided, emails
/// rendered), as the submission would have been.
pub type Preparer<'a> =
    dyn Fn(Services<'_>, &StoredSurvey, &Invitee, &Waiting) -> Result<Prepared> + 'a;

/// The preparer for a discovery answer (the problems alone).
pub fn prepare_problems(
    services: Services<'_>,
    survey: &StoredSurvey,
    invitee: &Invitee,
    waiting: &Waiting,
) -> Result<Prepared> {
    if waiting.also.is_some() {
        return Err(Error::Internal(
            "a waiting answer carries more than problems, and this preparer stores problems only"
                .into(),
        ));
    }
    super::prepare_received(
        services,
        survey,
        invitee,
        &waiting.answer,
        waiting.received_at,
    )
}

/// The folder of waiting answers beside an SQLite database, and how many wait in
/// it (counted in memory, so the answer path need not look at the folder).
#[derive(Debug, Clone)]
pub struct Inbox {
    dir: PathBuf,
    waiting: Arc<AtomicUsize>,
}

/// What one pass over the inbox did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Drained {
    pub stored: usize,
    /// Answers that could not be stored at all (the contact was erased meanwhile,
    /// or the survey deleted): moved to `rejected/` in the inbox with the reason
    /// logged, never deleted.
    pub rejected: usize,
    /// Answers still waiting because the lock is still taken.
    pub waiting: usize,
}

/// Tells apart files written in the same microsecond by this process.
static SEQUENCE: AtomicU64 = AtomicU64::new(0);

impl Inbox {
    /// The inbox of the database at `url`: `<file>.inbox/` beside an SQLite file;
    /// none for PostgreSQL. Answers left there before (a server stopped while they
    /// waited) are counted as waiting.
    pub fn of(url: &DatabaseUrl) -> Option<Inbox> {
        match url {
            DatabaseUrl::Sqlite(path) => {
                let mut name = path.file_name()?.to_os_string();
                name.push(".inbox");
                let inbox = Inbox {
                    dir: path.with_file_name(name),
                    waiting: Arc::new(AtomicUsize::new(0)),
                };
                let found = inbox.len().unwrap_or(0);
                inbox.waiting.store(found, Ordering::SeqCst);
                Some(inbox)
            }
            DatabaseUrl::Postgres(_) => None,
        }
    }

    /// Whether answers wait (as this process counts them: it alone writes here).
    pub fn holds_any(&self) -> bool {
        self.waiting.load(Ordering::SeqCst) > 0
    }

    /// Keeps `waiting` durably, counting it as waiting from before it is written,
    /// so that an answer arriving meanwhile queues behind it.
    pub fn keep(&self, waiting: &Waiting) -> Result<()> {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let kept = self.put(waiting);
        if kept.is_err() {
            self.handled();
        }
        kept
    }

    /// One waiting answer fewer.
    fn handled(&self) {
        let _ = self
            .waiting
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Waiting answers' files, oldest first.
    fn waiting_files(&self) -> Result<Vec<PathBuf>> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io(&self.dir, e)),
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        // Names start with the time received, zero-padded: by name is by age.
        files.sort();
        Ok(files)
    }

    /// How many answers wait.
    pub fn len(&self) -> Result<usize> {
        Ok(self.waiting_files()?.len())
    }

    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// Writes `waiting` durably: when this returns, the answer survives a crash.
    fn put(&self, waiting: &Waiting) -> Result<()> {
        fs::create_dir_all(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
        let name = format!(
            "{:020}-{:06}-{:08}",
            waiting.received_at.and_utc().timestamp_micros(),
            std::process::id(),
            SEQUENCE.fetch_add(1, Ordering::Relaxed)
        );
        let temporary = self.dir.join(format!("{name}.partial"));
        let file = self.dir.join(format!("{name}.json"));
        let json = serde_json::to_vec(waiting)
            .map_err(|e| Error::Internal(format!("an answer could not be serialised: {e}")))?;
        let mut out = fs::File::create(&temporary).map_err(|e| Error::io(&temporary, e))?;
        out.write_all(&json)
            .and_then(|()| out.sync_all())
            .map_err(|e| Error::io(&temporary, e))?;
        fs::rename(&temporary, &file).map_err(|e| Error::io(&file, e))?;
        // The rename is durable only once the folder itself is synced.
        fs::File::open(&self.dir)
            .and_then(|dir| dir.sync_all())
            .map_err(|e| Error::io(&self.dir, e))?;
        Ok(())
    }

    /// Stores waiting answers, oldest first, until the inbox is empty or the lock
    /// is still taken. `survey` finds a survey by id (the server's cache).
    pub fn drain(
        &self,
        services: Services<'_>,
        survey: &dyn Fn(i64) -> Result<std::sync::Arc<StoredSurvey>>,
        prepare: &Preparer<'_>,
    ) -> Result<Drained> {
        let mut drained = Drained::default();
        let files = self.waiting_files()?;
        for (i, file) in files.iter().enumerate() {
            match self.store_one(services, survey, prepare, file) {
                Ok(()) => {
                    fs::remove_file(file).map_err(|e| Error::io(file, e))?;
                    self.handled();
                    drained.stored += 1;
                }
                Err(Error::Busy { .. }) => {
                    drained.waiting = files.len() - i;
                    return Ok(drained);
                }
                Err(e @ (Error::Database(_) | Error::Pool(_))) => {
                    // The database may be back in a moment: keep the order, retry.
                    tracing::warn!(error = %e, file = %file.display(), "a waiting answer could not be stored yet");
                    drained.waiting = files.len() - i;
                    return Ok(drained);
                }
                Err(e) => {
                    tracing::error!(error = %e, file = %file.display(), "a waiting answer cannot be stored; kept in the inbox's rejected/ folder");
                    let rejected = self.dir.join("rejected");
                    fs::create_dir_all(&rejected).map_err(|e| Error::io(&rejected, e))?;
                    let to = rejected.join(file.file_name().unwrap_or_default());
                    fs::rename(file, &to).map_err(|e| Error::io(&to, e))?;
                    self.handled();
                    drained.rejected += 1;
                }
            }
        }
        Ok(drained)
    }

    fn store_one(
        &self,
        services: Services<'_>,
        survey: &dyn Fn(i64) -> Result<std::sync::Arc<StoredSurvey>>,
        prepare: &Preparer<'_>,
        file: &Path,
    ) -> Result<()> {
        let db = services.db;
        let bytes = fs::read(file).map_err(|e| Error::io(file, e))?;
        let waiting: Waiting = serde_json::from_slice(&bytes).map_err(|e| {
            Error::Internal(format!("{}: not a waiting answer: {e}", file.display()))
        })?;
        let invitee = invite::find_invitee_by_invitation(&mut *db.conn()?, waiting.invitation_id)?
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "invitation {} no longer exists (its contact was erased?)",
                    waiting.invitation_id
                ))
            })?;
        let survey = survey(invitee.survey_id)?;
        let prepared = prepare(services, &survey, &invitee, &waiting)?;
        match prepared.store(db)? {
            Stored::New | Stored::Replaced | Stored::AlreadyAnswered => Ok(()),
        }
    }
}

/// Stores what waits in the database's inbox once, for commands that open the
/// database without a server (and for tests): discovery answers only (the server
/// prepares every kind). `None` for PostgreSQL.
pub fn drain_once(db: &Database, settings: &Settings) -> Result<Option<Drained>> {
    let Some(inbox) = Inbox::of(db.url()) else {
        return Ok(None);
    };
    let surveys = |id: i64| -> Result<std::sync::Arc<StoredSurvey>> {
        Ok(std::sync::Arc::new(survey_store::by_id(
            &mut *db.conn()?,
            id,
        )?))
    };
    inbox
        .drain(
            Services {
                db,
                settings,
                rules: &crate::route::ParsedRules::default(),
            },
            &surveys,
            &prepare_problems,
        )
        .map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer::Problem;

    #[test]
    fn waiting_answers_are_listed_oldest_first_and_survive_a_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let inbox = Inbox::of(&DatabaseUrl::Sqlite(dir.path().join("pds.db"))).unwrap();
        assert!(inbox.is_empty().unwrap(), "no folder yet is an empty inbox");
        let at = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap();
        let later = Waiting {
            invitation_id: 2,
            answer: Answer::NoProblems,
            received_at: at("2026-12-01 10:00:01"),
            also: None,
        };
        let earlier = Waiting {
            invitation_id: 1,
            answer: Answer::Problems(vec![Problem {
                rank: 1,
                text: "Fakturan kom för sent".into(),
                frequency: None,
                may_contact: true,
            }]),
            received_at: at("2026-12-01 10:00:00"),
            also: None,
        };
        inbox.keep(&later).unwrap();
        inbox.keep(&earlier).unwrap();
        assert!(inbox.holds_any());
        let files = inbox.waiting_files().unwrap();
        assert_eq!(files.len(), 2);
        let first: Waiting = serde_json::from_slice(&fs::read(&files[0]).unwrap()).unwrap();
        assert_eq!(first, earlier, "the older answer comes first");
        assert!(
            !fs::read_to_string(&files[0]).unwrap().contains("token"),
            "no link in the inbox"
        );
    }
}
