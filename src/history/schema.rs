//! The store's schema and its migrations: each version a step of the ladder.

use rusqlite::TransactionBehavior;

use super::{
    check_health, check_identity, sqlite, History, HistoryError, APPLICATION_ID, SCHEMA_VERSION,
};

impl History {
    /// Checks that the file is a dns-audit store (or empty), then creates the schema or brings
    /// an older one forward, all in one write transaction so two runs starting together agree.
    pub(super) fn migrate(&mut self) -> Result<(), HistoryError> {
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
            tx.execute_batch(&format!("PRAGMA application_id = {APPLICATION_ID};"))
                .map_err(&err)?;
        }
        for (to, step) in (1..).zip(STEPS) {
            if version < to {
                tx.execute_batch(step).map_err(&err)?;
                tx.execute_batch(&format!("PRAGMA user_version = {to};"))
                    .map_err(&err)?;
            }
        }
        tx.commit().map_err(&err)
    }
}

/// The steps from an empty file to the current schema; step N brings a store to version N.
const STEPS: [&str; SCHEMA_VERSION as usize] = [SCHEMA_1, SCHEMA_2, SCHEMA_3];

/// Runs, the current state of every RRset on every server (as a hash), the changes, and what
/// each alert target was last told.
const SCHEMA_1: &str = "
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
";

/// The serial each server serves and since when: how long propagation has taken.
const SCHEMA_2: &str = "
    CREATE TABLE serials (
        zone TEXT NOT NULL,
        server TEXT NOT NULL,
        serial INTEGER NOT NULL,
        since INTEGER NOT NULL,
        PRIMARY KEY (zone, server));
";

/// Servers are keyed by address, their display name kept beside: naming a server on the
/// command line where the config has the bare address keeps its history. Rows of older stores
/// (keyed by name, label NULL) move to the address on the first run that sees that name again.
const SCHEMA_3: &str = "
    ALTER TABLE rrsets ADD COLUMN label TEXT;
    ALTER TABLE serials ADD COLUMN label TEXT;
";
