//! The history store: what each server answered, kept as changes, not snapshots.
//!
//! One SQLite file (WAL while a run writes, busy timeout; a single file in rollback mode at rest,
//! so that a user who may only read it, or a read-only mount, can open it: a WAL database
//! needs its `-shm` file, which such a reader cannot create). Per (zone, server, name, type) the store keeps the current
//! state as a hash; a run adds a `changes` row only where an RRset first appears, changes or
//! disappears, plus one small `runs` row. A year of 5-minute runs over a stable fleet therefore
//! grows with the number of changes, not of runs. Every run is one transaction: a run killed at
//! any point leaves the store as it was, and a second run waits for the first to commit.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use crate::observe::{Probe, ServerView};

mod read;
mod record;
mod schema;

/// `PRAGMA application_id` of a dns-audit store ("dnsa").
const APPLICATION_ID: i64 = 0x646e_7361;
/// Schema version this build writes; older ones are migrated forward.
pub const SCHEMA_VERSION: i64 = 4;

/// Errors of the history store.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// The file exists but is not a dns-audit store (or is damaged); it is left untouched.
    #[error("{path}: {why}; the file was left untouched")]
    Foreign {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// Another run held the store for longer than the busy timeout.
    #[error("{path}: the history store is busy (another run is writing); try again")]
    Busy {
        /// The file.
        path: PathBuf,
    },
    /// SQLite or the file system failed.
    #[error("{path}: {source}")]
    Sqlite {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: rusqlite::Error,
    },
    /// The path names something other than a regular file (a device such as /dev/null, a
    /// directory, a pipe): refused before anything is opened, so nothing is made beside it.
    #[error("{path}: not a regular file: the history store must be a file (or a path where one can be made)")]
    NotAFile {
        /// The path.
        path: PathBuf,
    },
    /// No store was named and there is no default place for one.
    #[error("no place for the history store: set --state, `state` in the config, or HOME")]
    NoPlace,
    /// The directory could not be created.
    #[error("{path}: {source}")]
    Io {
        /// The directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

impl HistoryError {
    /// What the user can do about it, for a run that goes on without recording.
    pub(crate) fn advice(&self) -> &'static str {
        if self.is_not_writable() {
            "This user may not write it (or its file system is read-only): run as the user that records, or with --no-record"
        } else if matches!(self, HistoryError::NotAFile { .. }) {
            "Name a file with --state (or `state` in the config), or run with --no-record"
        } else {
            "Move the file aside (a new store is made in its place) or run with --no-record"
        }
    }

    /// Whether the store could not be opened for writing only because this user (or this
    /// mount) may not write it: a reader can still read it as it is.
    pub(crate) fn is_not_writable(&self) -> bool {
        use rusqlite::ErrorCode::{CannotOpen, PermissionDenied, ReadOnly};
        use std::io::ErrorKind;
        match self {
            HistoryError::Sqlite {
                source: rusqlite::Error::SqliteFailure(e, _),
                ..
            } => matches!(e.code, ReadOnly | CannotOpen | PermissionDenied),
            HistoryError::Io { source, .. } => matches!(
                source.kind(),
                ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem
            ),
            _ => false,
        }
    }
}

/// Where the store is: `flag` (--state, DNS_AUDIT_STATE), else the config's `state`, else
/// the default place; and whether it was named (a named store's directory must exist: a
/// mistyped path is not a new empty history).
pub(crate) fn store_path(
    flag: Option<&Path>,
    config: &crate::config::Config,
) -> Result<(PathBuf, bool), HistoryError> {
    if let Some(path) = flag.map(Path::to_path_buf).or_else(|| config.state.clone()) {
        return Ok((path, true));
    }
    default_path()
        .map(|path| (path, false))
        .ok_or(HistoryError::NoPlace)
}

/// The default store: `$XDG_STATE_HOME/dns-audit/history.sqlite`, else
/// `~/.local/state/dns-audit/history.sqlite`.
pub(crate) fn default_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local").join("state"))
        })?;
    Some(base.join("dns-audit").join("history.sqlite"))
}

/// An open store.
pub struct History {
    path: PathBuf,
    conn: Connection,
    /// Opened to write: on close the file is put back in rollback mode.
    writer: bool,
    /// How the store was read when it could not be read the ordinary way (said to the user).
    pub read_note: Option<String>,
}

impl Drop for History {
    /// A writer leaves the store as one file in rollback mode (after a checkpoint): on-call, as
    /// another user or through a read-only mount, can then read it without creating anything
    /// beside it. Where another connection is open the switch fails at once (no busy wait) and
    /// the store stays in WAL, its `-wal`/`-shm` kept for that reader; the next writer tries again.
    fn drop(&mut self) {
        if self.writer {
            let _ = self.conn.busy_timeout(Duration::ZERO);
            let _ = self.conn.pragma_update(None, "journal_mode", "DELETE");
        }
    }
}

/// What a run was, for its `runs` row.
#[derive(Clone, Debug)]
pub struct RunSummary {
    /// Start, seconds since 1970.
    pub started_at: i64,
    /// Duration.
    pub duration_ms: i64,
    /// Server addresses asked.
    pub servers: i64,
    /// Verdict word.
    pub verdict: String,
    /// Drift findings.
    pub drift: i64,
    /// Failure findings.
    pub failures: i64,
}

impl RunSummary {
    /// The row of a finished run that started at `started` (seconds since 1970).
    pub fn of(report: &crate::report::Report, started: i64) -> RunSummary {
        RunSummary {
            started_at: started,
            duration_ms: i64::try_from(report.duration_ms).unwrap_or(i64::MAX),
            servers: report.zones.iter().map(|z| z.servers.len() as i64).sum(),
            verdict: report.verdict.as_str().to_string(),
            drift: report.summary.drift as i64,
            failures: report.summary.failures as i64,
        }
    }
}

/// The observations of one zone in a run.
pub struct ZoneObservations<'a, 'z> {
    /// The expected zone the plan was made from (its apex names the zone in the store, its
    /// names' keys are the states' keys).
    pub expected: &'z crate::model::Zone,
    /// The plan the answers line up with.
    pub plan: &'a [Probe<'z>],
    /// One view per server.
    pub views: &'a [ServerView],
}

/// What one server serves for one RRset, as last recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServedState {
    /// Server label (the name it was last recorded under).
    pub server: String,
    /// Server address: what the history is keyed by.
    pub address: String,
    /// Whether the RRset is served.
    pub present: bool,
    /// Its values.
    pub values: Vec<String>,
    /// Since when (the run that first saw this state).
    pub since: i64,
    /// Seen first by the server's first recorded run: it was there before, since when unknown.
    pub baseline: bool,
}

/// One recorded change of one RRset on one server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// When the run that saw it started, seconds since 1970.
    pub at: i64,
    /// The run that saw it: orders changes seen within one second.
    pub run: i64,
    /// Zone apex.
    pub zone: String,
    /// Server label.
    pub server: String,
    /// Owner name.
    pub name: String,
    /// Type.
    pub rtype: String,
    /// Whether the RRset is present after the change (false: it disappeared).
    pub present: bool,
    /// Values after the change (presentation format).
    pub values: Vec<String>,
    /// Values before (empty when it appeared).
    pub before: Vec<String>,
}

fn sqlite(path: &Path) -> impl Fn(rusqlite::Error) -> HistoryError + '_ {
    use rusqlite::ErrorCode::{DatabaseBusy, DatabaseCorrupt, DatabaseLocked, NotADatabase};
    move |source| {
        let code = match &source {
            rusqlite::Error::SqliteFailure(e, _) => Some(e.code),
            _ => None,
        };
        match code {
            Some(DatabaseBusy | DatabaseLocked) => HistoryError::Busy { path: path.into() },
            Some(NotADatabase | DatabaseCorrupt) => HistoryError::Foreign {
                path: path.into(),
                why: format!("not a readable SQLite database ({source})"),
            },
            _ => HistoryError::Sqlite {
                path: path.into(),
                source,
            },
        }
    }
}

impl History {
    /// Opens (creating when missing, its directory too) the store at `path`. A file that is not
    /// a dns-audit store, or is damaged, is reported and never written to.
    pub fn open(path: &Path) -> Result<History, HistoryError> {
        History::open_in(path, true)
    }

    /// Opens the store at `path`, creating the file when missing; its directory is created only
    /// when `create_dir` (the default place), so a mistyped `--state` is an error, not a fresh
    /// store that hides the history.
    pub(crate) fn open_in(path: &Path, create_dir: bool) -> Result<History, HistoryError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if create_dir {
                std::fs::create_dir_all(dir).map_err(|source| HistoryError::Io {
                    path: dir.into(),
                    source,
                })?;
            } else if !dir.is_dir() {
                return Err(HistoryError::Io {
                    path: dir.into(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "no such directory (the store's directory is created only for the default place)",
                    ),
                });
            }
        }
        let err = sqlite(path);
        // An empty file left there (not one another run created a moment ago and is filling).
        let left_empty = regular_file(path)?.is_some_and(|meta| {
            meta.len() == 0
                && meta
                    .modified()
                    .ok()
                    .and_then(|at| at.elapsed().ok())
                    .is_some_and(|age| age > Duration::from_secs(10))
        });
        // Look before touching anything: a foreign database must not even get a new journal mode.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE;
        let mut history = History::identified(path, flags)?;
        history.writer = true;
        // Switching the journal mode and some lock upgrades report "busy" at once, without
        // waiting; two runs that start together retry here instead of failing.
        retry_busy(|| {
            let mode: String = history
                .conn
                .query_row("PRAGMA journal_mode", [], |r| r.get(0))
                .map_err(&err)?;
            if !mode.eq_ignore_ascii_case("wal") {
                history
                    .conn
                    .pragma_update(None, "journal_mode", "WAL")
                    .map_err(&err)?;
            }
            history
                .conn
                .pragma_update(None, "synchronous", "NORMAL")
                .map_err(&err)
        })?;
        if history.version()? != SCHEMA_VERSION && retry_busy(|| history.migrate())? && left_empty {
            history.read_note = Some(format!(
                "{}: an empty file, taken as a new store",
                path.display()
            ));
        }
        Ok(history)
    }

    /// Opens `path` with `flags` and checks, reading only, that it is empty or a dns-audit
    /// store in good health.
    fn identified(path: &Path, flags: OpenFlags) -> Result<History, HistoryError> {
        let conn = connect(path, flags).map_err(sqlite(path))?;
        let mut history = History {
            path: path.into(),
            conn,
            writer: false,
            read_note: None,
        };
        retry_busy(|| history.identify(TransactionBehavior::Deferred))?;
        Ok(history)
    }

    /// The schema version the file holds.
    fn version(&self) -> Result<i64, HistoryError> {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(sqlite(&self.path))
    }

    /// Opens an existing store to read only: no file, directory, journal or lock is created
    /// (on-call may read a store it cannot write). None when there is no file.
    pub(crate) fn open_read_only(path: &Path) -> Result<Option<History>, HistoryError> {
        if regular_file(path)?.is_none() {
            return Ok(None);
        }
        let history = match History::identified(path, READ_ONLY) {
            Err(HistoryError::Sqlite { .. }) if !wal_beside(path).exists() => {
                // A store left in WAL mode (by an older dns-audit, or while another connection
                // was open) with its -wal gone: every change is in the file, but SQLite wants
                // to create the -shm, which this user may not. Read the file as it is.
                let mut history = History::identified(&immutable_uri(path), immutable_flags())?;
                history.path = path.into();
                history.read_note = Some(format!(
                    "{}: left in WAL mode without its -wal and -shm files, which this user may \
                     not create: read as it is on disk, creating nothing (the next recorded \
                     run puts it back in rollback mode)",
                    path.display()
                ));
                history
            }
            other => other?,
        };
        let version = history.version()?;
        if !(1..=SCHEMA_VERSION).contains(&version) {
            return Err(HistoryError::Foreign {
                path: path.into(),
                why: format!(
                    "schema {version}: not one this dns-audit reads (1 to {SCHEMA_VERSION})"
                ),
            });
        }
        Ok(Some(history))
    }

    /// The runs the store holds and when the first one started.
    pub fn summary(&self) -> Result<(u64, Option<i64>), HistoryError> {
        self.conn
            .query_row("SELECT count(*), min(started_at) FROM runs", [], |r| {
                Ok((r.get::<_, i64>(0)? as u64, r.get(1)?))
            })
            .map_err(sqlite(&self.path))
    }

    /// Where the store is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Fails unless the file is empty or a dns-audit store in good health; reads only.
    fn identify(&mut self, behavior: TransactionBehavior) -> Result<(), HistoryError> {
        let err = sqlite(&self.path);
        let tx = self
            .conn
            .transaction_with_behavior(behavior)
            .map_err(&err)?;
        check_identity(&tx, &self.path)?;
        tx.commit().map_err(&err)
    }
}

/// Runs `step` again while it reports the store busy, for up to a minute.
fn retry_busy<T>(mut step: impl FnMut() -> Result<T, HistoryError>) -> Result<T, HistoryError> {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        match step() {
            Err(HistoryError::Busy { .. }) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// Fails unless the database is empty or a dns-audit store that passes SQLite's quick check.
fn check_identity(tx: &rusqlite::Transaction<'_>, path: &Path) -> Result<(), HistoryError> {
    let err = sqlite(path);
    let app: i64 = tx
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .map_err(&err)?;
    let tables: i64 = tx
        .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
        .map_err(&err)?;
    if app != APPLICATION_ID && (app != 0 || tables != 0) {
        return Err(HistoryError::Foreign {
            path: path.into(),
            why: "this is an SQLite database of something else, not a dns-audit history store"
                .into(),
        });
    }
    Ok(())
}

/// A connection to the store at `path`, waiting up to a minute while it is busy.
fn connect(path: &Path, flags: OpenFlags) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(Duration::from_secs(60))?;
    Ok(conn)
}

/// How a connection that only reads is opened (one used by a single thread).
const READ_ONLY: OpenFlags =
    OpenFlags::SQLITE_OPEN_READ_ONLY.union(OpenFlags::SQLITE_OPEN_NO_MUTEX);

/// The metadata of the regular file at `path`, None when there is nothing there; anything else
/// (a device, a directory, a pipe) is refused before SQLite opens it and makes a journal
/// beside it (`/dev/null-journal`, as root).
fn regular_file(path: &Path) -> Result<Option<std::fs::Metadata>, HistoryError> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => Ok(Some(meta)),
        Ok(_) => Err(HistoryError::NotAFile { path: path.into() }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(HistoryError::Io {
            path: path.into(),
            source,
        }),
    }
}

/// The WAL file SQLite keeps beside the store while it is in WAL mode.
fn wal_beside(path: &Path) -> PathBuf {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    PathBuf::from(wal)
}

/// Flags for reading a file that nothing may be created beside (`immutable=1` in its URI).
fn immutable_flags() -> OpenFlags {
    READ_ONLY | OpenFlags::SQLITE_OPEN_URI
}

/// `file:` URI of `path` with `immutable=1`: SQLite reads the file and creates no journal, WAL
/// index or lock. Only for a file no writer has open (see [`History::open_read_only`]).
fn immutable_uri(path: &Path) -> PathBuf {
    let mut uri = String::from("file:");
    for b in path.as_os_str().as_encoded_bytes() {
        match b {
            b'%' | b'?' | b'#' => uri.push_str(&format!("%{b:02X}")),
            _ if b.is_ascii() => uri.push(*b as char),
            _ => uri.push_str(&format!("%{b:02X}")),
        }
    }
    uri.push_str("?immutable=1");
    PathBuf::from(uri)
}

/// A read-only connection of its own, beside a writing one (the quick check, the stored
/// states read as a run is worked out).
fn reader(path: &Path) -> rusqlite::Result<Connection> {
    connect(path, READ_ONLY)
}

/// [`check_health`] on a read-only connection of its own, beside a writing one.
fn check_apart(path: &Path) -> Result<(), HistoryError> {
    let conn = reader(path).map_err(sqlite(path))?;
    check_health(&conn, path)
}

/// SQLite's quick check (every page of the file): passed before a run is committed, so a
/// damaged store is reported instead of written to. Readers rely on SQLite's own corruption
/// errors.
fn check_health(conn: &Connection, path: &Path) -> Result<(), HistoryError> {
    let check: String = conn
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .map_err(sqlite(path))?;
    if check != "ok" {
        return Err(HistoryError::Foreign {
            path: path.into(),
            why: format!("the store is damaged ({})", crate::escape::terminal(&check)),
        });
    }
    Ok(())
}
