//! The history store: what each server answered, kept as changes, not snapshots.
//!
//! One SQLite file (WAL, busy timeout). Per (zone, server, name, type) the store keeps the current
//! state as a hash; a run adds a `changes` row only where an RRset first appears, changes or
//! disappears, plus one small `runs` row. A year of 5-minute runs over a stable fleet therefore
//! grows with the number of changes, not of runs. Every run is one transaction: a run killed at
//! any point leaves the store as it was, and a second run waits for the first to commit.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};

use hickory_proto::rr::RecordType;

use crate::model::{presence_only, present_name, RrSet};
use crate::observe::{Method, Observed, Probe, ServerView};

/// Moves the rows an older store keeps under a server's name (label NULL) to its address, the
/// first time a run sees that name for that address and the address has no rows of its own.
fn adopt_rows_keyed_by_name(
    tx: &rusqlite::Transaction<'_>,
    zone: &str,
    label: &str,
    address: &str,
) -> rusqlite::Result<()> {
    if label == address {
        return Ok(());
    }
    for table in ["rrsets", "serials"] {
        let owned: bool = tx.query_row(
            &format!("SELECT EXISTS (SELECT 1 FROM {table} WHERE zone = ?1 AND server = ?2)"),
            params![zone, address],
            |r| r.get(0),
        )?;
        if !owned {
            tx.execute(
                &format!("UPDATE {table} SET server = ?3, label = ?2 WHERE zone = ?1 AND server = ?2 AND label IS NULL"),
                params![zone, label, address],
            )?;
        }
    }
    Ok(())
}

/// `PRAGMA application_id` of a dns-audit store ("dnsa").
const APPLICATION_ID: i64 = 0x646e_7361;
/// Schema version this build writes; older ones are migrated forward.
pub const SCHEMA_VERSION: i64 = 3;

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
    /// The directory could not be created.
    #[error("{path}: {source}")]
    Io {
        /// The directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// Where the store is: `flag` (--state, DNS_AUDIT_STATE), else the config's `state`, else
/// the default place; and whether it was named (a named store's directory must exist: a
/// mistyped path is not a new empty history).
pub fn store_path(
    flag: Option<&Path>,
    config: &crate::config::Config,
) -> Result<(PathBuf, bool), String> {
    if let Some(path) = flag.map(Path::to_path_buf).or_else(|| config.state.clone()) {
        return Ok((path, true));
    }
    default_path().map(|path| (path, false)).ok_or_else(|| {
        "no place for the history store: set --state, `state` in the config, or HOME".into()
    })
}

/// The default store: `$XDG_STATE_HOME/dns-audit/history.sqlite`, else
/// `~/.local/state/dns-audit/history.sqlite`.
pub fn default_path() -> Option<PathBuf> {
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

/// The observations of one zone in a run.
pub struct ZoneObservations<'a, 'z> {
    /// Zone apex in presentation form.
    pub zone: String,
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
}

/// One recorded change of one RRset on one server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// When the run that saw it started, seconds since 1970.
    pub at: i64,
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
    pub fn open_in(path: &Path, create_dir: bool) -> Result<History, HistoryError> {
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
        // Look before touching anything: a foreign database must not even get a new journal mode.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE;
        let history = History::identified(path, flags)?;
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
        let mut history = history;
        if history.version()? != SCHEMA_VERSION {
            retry_busy(|| history.migrate())?;
        }
        Ok(history)
    }

    /// Opens `path` with `flags` and checks, reading only, that it is empty or a dns-audit
    /// store in good health.
    fn identified(path: &Path, flags: OpenFlags) -> Result<History, HistoryError> {
        let err = sqlite(path);
        let conn = Connection::open_with_flags(path, flags).map_err(&err)?;
        conn.busy_timeout(Duration::from_secs(60)).map_err(&err)?;
        let mut history = History {
            path: path.into(),
            conn,
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
    pub fn open_read_only(path: &Path) -> Result<Option<History>, HistoryError> {
        if !path.exists() {
            return Ok(None);
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let history = History::identified(path, flags)?;
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

    /// Checks that the file is a dns-audit store (or empty), then creates the schema or brings
    /// an older one forward, all in one write transaction so two runs starting together agree.
    fn migrate(&mut self) -> Result<(), HistoryError> {
        let err = sqlite(&self.path);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&err)?;
        check_identity(&tx, &self.path)?;
        check_health(&tx, &self.path)?;
        let version: i64 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(&err)?;
        if version > SCHEMA_VERSION {
            return Err(HistoryError::Foreign {
                path: self.path.clone(),
                why: format!(
                    "written by a newer dns-audit (schema {version}, this one knows {SCHEMA_VERSION})"
                ),
            });
        }
        if version < 1 {
            tx.execute_batch(&format!(
                "PRAGMA application_id = {APPLICATION_ID};
                 CREATE TABLE runs (
                     id INTEGER PRIMARY KEY,
                     started_at INTEGER NOT NULL,
                     duration_ms INTEGER NOT NULL,
                     servers INTEGER NOT NULL,
                     verdict TEXT NOT NULL,
                     drift INTEGER NOT NULL,
                     failures INTEGER NOT NULL);
                 CREATE TABLE rrsets (
                     id INTEGER PRIMARY KEY,
                     zone TEXT NOT NULL,
                     server TEXT NOT NULL,
                     name TEXT NOT NULL,
                     rtype TEXT NOT NULL,
                     hash INTEGER NOT NULL,
                     UNIQUE (zone, server, name, rtype));
                 CREATE TABLE changes (
                     id INTEGER PRIMARY KEY,
                     rrset INTEGER NOT NULL REFERENCES rrsets(id),
                     run INTEGER NOT NULL REFERENCES runs(id),
                     at INTEGER NOT NULL,
                     present INTEGER NOT NULL,
                     ttl INTEGER,
                     vals TEXT NOT NULL,
                     before TEXT NOT NULL,
                     baseline INTEGER NOT NULL DEFAULT 0);
                 CREATE INDEX changes_at ON changes (at);
                 CREATE INDEX changes_rrset ON changes (rrset, id);
                 CREATE INDEX rrsets_name ON rrsets (zone, name, rtype);
                 CREATE INDEX runs_started ON runs (started_at);
                 CREATE TABLE alerts (
                     zone TEXT NOT NULL,
                     target TEXT NOT NULL,
                     state TEXT NOT NULL,
                     fingerprint TEXT NOT NULL,
                     at INTEGER NOT NULL,
                     PRIMARY KEY (zone, target));
                 PRAGMA user_version = 1;"
            ))
            .map_err(&err)?;
        }
        if version < 2 {
            // The serial each server serves and since when: how long propagation has taken.
            tx.execute_batch(
                "CREATE TABLE serials (
                     zone TEXT NOT NULL,
                     server TEXT NOT NULL,
                     serial INTEGER NOT NULL,
                     since INTEGER NOT NULL,
                     PRIMARY KEY (zone, server));
                 PRAGMA user_version = 2;",
            )
            .map_err(&err)?;
        }
        if version < 3 {
            // Servers are keyed by address, their display name kept beside: naming a server
            // on the command line where the config has the bare address keeps its history.
            // Rows of older stores (keyed by name, label NULL) move to the address on the
            // first run that sees that name again.
            tx.execute_batch(
                "ALTER TABLE rrsets ADD COLUMN label TEXT;
                 ALTER TABLE serials ADD COLUMN label TEXT;
                 PRAGMA user_version = 3;",
            )
            .map_err(&err)?;
        }
        tx.commit().map_err(&err)
    }

    /// Records one run: its row, and a change row wherever an RRset appeared, changed or
    /// disappeared on a server since the last run. One transaction.
    pub fn record(
        &mut self,
        run: &RunSummary,
        zones: &[ZoneObservations<'_, '_>],
    ) -> Result<usize, HistoryError> {
        retry_busy(|| self.record_once(run, zones))
    }

    fn record_once(
        &mut self,
        run: &RunSummary,
        zones: &[ZoneObservations<'_, '_>],
    ) -> Result<usize, HistoryError> {
        let err = sqlite(&self.path);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&err)?;
        check_health(&tx, &self.path)?;
        tx.execute(
            "INSERT INTO runs (started_at, duration_ms, servers, verdict, drift, failures)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                run.started_at,
                run.duration_ms,
                run.servers,
                run.verdict,
                run.drift,
                run.failures
            ],
        )
        .map_err(&err)?;
        let run_id = tx.last_insert_rowid();
        let mut written = 0;
        for zone in zones {
            for view in zone.views {
                let Ok(serial) = view.serial else {
                    continue;
                };
                let address = view.server.addr.to_string();
                let server = address.as_str();
                let label = view.server.label.as_str();
                adopt_rows_keyed_by_name(&tx, &zone.zone, label, server).map_err(&err)?;
                tx.execute(
                    "INSERT INTO serials (zone, server, serial, since, label) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (zone, server) DO UPDATE
                     SET serial = excluded.serial, since = excluded.since
                     WHERE serial != excluded.serial",
                    params![zone.zone, server, serial, run.started_at, label],
                )
                .map_err(&err)?;
                for table in ["serials", "rrsets"] {
                    tx.execute(
                        &format!("UPDATE {table} SET label = ?3 WHERE zone = ?1 AND server = ?2 AND label IS NOT ?3"),
                        params![zone.zone, server, label],
                    )
                    .map_err(&err)?;
                }
                let mut current: HashMap<(String, String), (i64, i64)> = HashMap::new();
                {
                    let mut stmt = tx
                        .prepare_cached(
                            "SELECT id, name, rtype, hash FROM rrsets WHERE zone = ?1 AND server = ?2",
                        )
                        .map_err(&err)?;
                    let rows = stmt
                        .query_map(params![zone.zone, server], |r| {
                            Ok(((r.get(1)?, r.get(2)?), (r.get(0)?, r.get(3)?)))
                        })
                        .map_err(&err)?;
                    for row in rows {
                        let (key, value) = row.map_err(&err)?;
                        current.insert(key, value);
                    }
                }
                let mut seen: Vec<(String, RecordType, Option<&RrSet>)> = Vec::new();
                for (probe, observed) in zone.plan.iter().zip(&view.answers) {
                    let state = match observed {
                        Observed::Present(set) => Some(set),
                        Observed::Absent => None,
                        Observed::Failed(_) | Observed::Unasked => continue,
                    };
                    seen.push((present_name(probe.name), probe.rtype, state));
                }
                for extra in &view.extras {
                    seen.push((present_name(&extra.name), extra.rtype, Some(&extra.set)));
                }
                // The first run that sees a server records its baseline: every RRset "appears",
                // but nothing changed; `recent` leaves those rows out.
                let at = Place {
                    run: run_id,
                    time: run.started_at,
                    zone: &zone.zone,
                    server,
                    label,
                    baseline: current.is_empty(),
                };
                let mut visited: HashSet<(String, String)> = HashSet::new();
                for (name, rtype, state) in seen {
                    let key = (name, rtype.to_string());
                    let known = current.get(&key).copied();
                    written += write_state(&tx, &at, &key, rtype, state, known).map_err(&err)?;
                    visited.insert(key);
                }
                // A transfer shows the whole zone: what it no longer holds has disappeared.
                if view.method == Method::Transfer {
                    for (key, known) in &current {
                        if !visited.contains(key) {
                            let rtype = key.1.parse().unwrap_or(RecordType::Unknown(0));
                            written += write_state(&tx, &at, key, rtype, None, Some(*known))
                                .map_err(&err)?;
                        }
                    }
                }
            }
        }
        tx.commit().map_err(&err)?;
        Ok(written)
    }

    /// Changes seen at or after `since` (seconds since 1970), newest first; the baseline a
    /// server's first run records is not a change.
    pub fn changes_since(&self, since: i64) -> Result<Vec<Change>, HistoryError> {
        let err = sqlite(&self.path);
        let mut stmt = self
            .conn
            .prepare(
                "SELECT c.at, s.zone, coalesce(s.label, s.server), s.name, s.rtype, c.present, c.vals, c.before
                 FROM changes c JOIN rrsets s ON s.id = c.rrset
                 WHERE c.at >= ?1 AND c.baseline = 0 ORDER BY c.at DESC, s.zone, s.name, s.rtype, s.server",
            )
            .map_err(&err)?;
        let rows = stmt
            .query_map(params![since], |r| {
                let vals: String = r.get(6)?;
                let before: String = r.get(7)?;
                Ok(Change {
                    at: r.get(0)?,
                    zone: r.get(1)?,
                    server: r.get(2)?,
                    name: r.get(3)?,
                    rtype: r.get(4)?,
                    present: r.get::<_, i64>(5)? != 0,
                    values: serde_json::from_str(&vals).unwrap_or_default(),
                    before: serde_json::from_str(&before).unwrap_or_default(),
                })
            })
            .map_err(&err)?;
        rows.collect::<Result<_, _>>().map_err(&err)
    }

    /// The latest state of one RRset on every server that ever served it.
    pub fn latest(
        &self,
        zone: &str,
        name: &str,
        rtype: &str,
    ) -> Result<Vec<ServedState>, HistoryError> {
        let err = sqlite(&self.path);
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT coalesce(s.label, s.server), c.present, c.vals, c.at, s.server FROM rrsets s
                 JOIN changes c ON c.id = (SELECT max(id) FROM changes WHERE rrset = s.id)
                 WHERE s.zone = ?1 AND s.name = ?2 AND s.rtype = ?3 ORDER BY s.server",
            )
            .map_err(&err)?;
        let rows = stmt
            .query_map(params![zone, name, rtype], |r| {
                let vals: String = r.get(2)?;
                Ok(ServedState {
                    server: r.get(0)?,
                    address: r.get(4)?,
                    present: r.get::<_, i64>(1)? != 0,
                    values: serde_json::from_str(&vals).unwrap_or_default(),
                    since: r.get(3)?,
                })
            })
            .map_err(&err)?;
        rows.collect::<Result<_, _>>().map_err(&err)
    }

    /// Servers recorded for a zone.
    pub fn servers(&self, zone: &str) -> Result<Vec<String>, HistoryError> {
        let err = sqlite(&self.path);
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT DISTINCT coalesce(label, server) AS shown FROM rrsets WHERE zone = ?1 ORDER BY shown",
            )
            .map_err(&err)?;
        let rows = stmt.query_map(params![zone], |r| r.get(0)).map_err(&err)?;
        rows.collect::<Result<_, _>>().map_err(&err)
    }

    /// The state last delivered to an alert target for a zone: (state, fingerprint).
    pub fn last_alert(
        &self,
        zone: &str,
        target: &str,
    ) -> Result<Option<(String, String)>, HistoryError> {
        self.conn
            .query_row(
                "SELECT state, fingerprint FROM alerts WHERE zone = ?1 AND target = ?2",
                params![zone, target_key(target)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(sqlite(&self.path))
    }

    /// Remembers that `state` was delivered to `target` (or needed no alert).
    pub fn set_alert(
        &mut self,
        zone: &str,
        target: &str,
        state: &str,
        fingerprint: &str,
        at: i64,
    ) -> Result<(), HistoryError> {
        retry_busy(|| {
            self.conn
                .execute(
                    "INSERT INTO alerts (zone, target, state, fingerprint, at) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (zone, target) DO UPDATE SET state = ?3, fingerprint = ?4, at = ?5",
                    params![zone, target_key(target), state, fingerprint, at],
                )
                .map(|_| ())
                .map_err(sqlite(&self.path))
        })
    }

    /// The serial each server of `zone` (by address) served at the last run, and since when.
    pub fn serials(&self, zone: &str) -> Result<crate::observe::SerialsSeen, HistoryError> {
        let err = sqlite(&self.path);
        let mut stmt = self
            .conn
            .prepare_cached("SELECT server, serial, since FROM serials WHERE zone = ?1")
            .map_err(&err)?;
        let rows = stmt
            .query_map(params![zone], |r| {
                let seen = crate::observe::SerialSeen {
                    serial: r.get(1)?,
                    since: r.get(2)?,
                };
                Ok((r.get(0)?, seen))
            })
            .map_err(&err)?;
        rows.collect::<Result<_, _>>().map_err(&err)
    }

    /// When the last run started, if any.
    pub fn last_run(&self) -> Result<Option<i64>, HistoryError> {
        self.conn
            .query_row("SELECT max(started_at) FROM runs", [], |r| r.get(0))
            .optional()
            .map(Option::flatten)
            .map_err(sqlite(&self.path))
    }

    /// Deletes runs and changes older than `before`, keeping the latest change of every RRset
    /// (so "before" values stay known). Returns the number of change rows removed.
    pub fn prune(&mut self, before: i64) -> Result<usize, HistoryError> {
        let err = sqlite(&self.path);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&err)?;
        let removed = tx
            .execute(
                "DELETE FROM changes WHERE at < ?1 AND id NOT IN
                     (SELECT max(id) FROM changes GROUP BY rrset)",
                params![before],
            )
            .map_err(&err)?;
        tx.execute(
            "DELETE FROM runs WHERE started_at < ?1 AND id NOT IN (SELECT run FROM changes)",
            params![before],
        )
        .map_err(&err)?;
        tx.commit().map_err(&err)?;
        Ok(removed)
    }
}

/// Alert targets are kept by a hash: webhook URLs are secrets.
fn target_key(target: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in target.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
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

/// SQLite's quick check (every page of the file): run before each write, so a damaged store is
/// reported instead of written to. Readers rely on SQLite's own corruption errors.
fn check_health(tx: &rusqlite::Transaction<'_>, path: &Path) -> Result<(), HistoryError> {
    let check: String = tx
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .map_err(sqlite(path))?;
    if check != "ok" {
        return Err(HistoryError::Foreign {
            path: path.into(),
            why: format!("the store is damaged ({check})"),
        });
    }
    Ok(())
}

/// Where a state was seen.
struct Place<'a> {
    run: i64,
    time: i64,
    zone: &'a str,
    /// The server's address (the key) and name.
    server: &'a str,
    label: &'a str,
    baseline: bool,
}

/// Writes a change row when `state` differs from the `known` (row id, hash); returns rows written.
fn write_state(
    tx: &rusqlite::Transaction<'_>,
    at: &Place<'_>,
    (name, type_name): &(String, String),
    rtype: RecordType,
    state: Option<&RrSet>,
    known: Option<(i64, i64)>,
) -> rusqlite::Result<usize> {
    let hash = state.map_or(0, |set| state_hash(rtype, set));
    let rrset_id = match known {
        Some((_, old)) if old == hash => return Ok(0),
        // Never seen and absent: nothing to record.
        None if state.is_none() => return Ok(0),
        Some((id, _)) => {
            tx.prepare_cached("UPDATE rrsets SET hash = ?1 WHERE id = ?2")?
                .execute(params![hash, id])?;
            id
        }
        None => {
            tx.prepare_cached(
                "INSERT INTO rrsets (zone, server, name, rtype, hash, label) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![at.zone, at.server, name, type_name, hash, at.label])?;
            tx.last_insert_rowid()
        }
    };
    let before: String = tx
        .prepare_cached(
            "SELECT vals FROM changes WHERE rrset = ?1 AND present = 1 ORDER BY id DESC LIMIT 1",
        )?
        .query_row(params![rrset_id], |r| r.get(0))
        .optional()?
        .unwrap_or_else(|| "[]".into());
    let values: Vec<String> = state.map(|set| set.shown(rtype)).unwrap_or_default();
    tx.prepare_cached(
        "INSERT INTO changes (rrset, run, at, present, ttl, vals, before, baseline)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        rrset_id,
        at.run,
        at.time,
        i64::from(state.is_some()),
        state.map(|s| i64::from(s.ttl)),
        serde_json::to_string(&values).unwrap_or_else(|_| "[]".into()),
        before,
        i64::from(at.baseline),
    ])?;
    Ok(1)
}

/// A stable 63-bit hash (FNV-1a) of an RRset's state: TTL and canonical data. Stored, so it must
/// not depend on the Rust version (std's hasher may change).
/// For the types re-signing changes it hashes what is compared (RRSIG: the types covered), so
/// a re-signing is not a change.
fn state_hash(rtype: RecordType, set: &RrSet) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    };
    feed(&u16::from(rtype).to_be_bytes());
    feed(&set.ttl.to_be_bytes());
    if presence_only(rtype) {
        for value in set.shown(rtype) {
            feed(value.as_bytes());
            feed(&[0]);
        }
    } else {
        for rdata in &set.rdatas {
            feed(&(rdata.bytes().len() as u32).to_be_bytes());
            feed(rdata.bytes());
        }
    }
    // Never 0 (0 means absent) and positive for SQLite's signed integers.
    ((hash >> 1) | 1) as i64
}
