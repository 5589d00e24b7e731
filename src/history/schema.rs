//! The store's schema and its migrations: each version a step of the ladder.

use rusqlite::TransactionBehavior;

use super::{
    check_health, check_identity, sqlite, History, HistoryError, APPLICATION_ID, SCHEMA_VERSION,
};

impl History {
    /// Checks that the file is a dns-audit store (or empty), then creates the schema or brings
    /// an older one forward, all in one write transaction so two runs starting together agree.
    /// True when this call made the schema in an empty file (not another run beside it).
    pub(super) fn migrate(&mut self) -> Result<bool, HistoryError> {
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
                if to == 4 {
                    fill_states(&tx).map_err(&err)?;
                }
                tx.execute_batch(&format!("PRAGMA user_version = {to};"))
                    .map_err(&err)?;
            }
        }
        tx.commit().map_err(&err)?;
        Ok(version == 0)
    }
}

/// The steps from an empty file to the current schema; step N brings a store to version N.
const STEPS: [&str; SCHEMA_VERSION as usize] = [SCHEMA_1, SCHEMA_2, SCHEMA_3, SCHEMA_4];

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

/// The current state of every RRset on every server moves out of `rrsets` (one row per RRset
/// with its zone, server and label written out, two indexes, and a baseline `changes` row each:
/// 276 MB for a zone of a million records) into `states`: per feed (zone and server), the
/// owner's canonical key, the type, the state's hash, its data in canonical wire form and
/// since when (and whether since the server's first run, before which it is unknown),
/// clustered by that key (no rowid, no index), so that a run reads it in one
/// sequential scan in the order of the plan. `rrsets` and `changes` keep the changes only.
const SCHEMA_4: &str = "
    CREATE TABLE feeds (
        id INTEGER PRIMARY KEY,
        zone TEXT NOT NULL,
        server TEXT NOT NULL,
        label TEXT,
        since INTEGER NOT NULL,
        UNIQUE (zone, server));
    CREATE TABLE states (
        feed INTEGER NOT NULL REFERENCES feeds(id),
        owner BLOB NOT NULL,
        rtype INTEGER NOT NULL,
        hash INTEGER NOT NULL,
        data BLOB,
        since INTEGER NOT NULL,
        baseline INTEGER NOT NULL,
        PRIMARY KEY (feed, owner, rtype)) WITHOUT ROWID;
";

/// Fills `feeds` and `states` from a version 3 store: every RRset's hash and since when, its
/// data left NULL (its values stay in its last `changes` row, where `before` is read from).
fn fill_states(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute_batch(
        "INSERT INTO feeds (zone, server, label, since)
         SELECT s.zone, s.server, max(s.label), coalesce(min(c.at), 0)
         FROM rrsets s LEFT JOIN changes c ON c.rrset = s.id GROUP BY s.zone, s.server;",
    )?;
    let mut rows = Vec::new();
    {
        let mut select = tx.prepare(
            "SELECT f.id, s.name, s.rtype, s.hash, c.at, c.baseline
             FROM rrsets s JOIN feeds f ON f.zone = s.zone AND f.server = s.server
             LEFT JOIN changes c ON c.id = (SELECT max(id) FROM changes WHERE rrset = s.id)",
        )?;
        let mut found = select.query([])?;
        while let Some(row) = found.next()? {
            let name: String = row.get(1)?;
            let rtype: String = row.get(2)?;
            let (Ok(name), Ok(rtype)) = (
                hickory_proto::rr::Name::from_ascii(&name),
                rtype.parse::<hickory_proto::rr::RecordType>(),
            ) else {
                continue;
            };
            let since: Option<i64> = row.get(4)?;
            rows.push((
                row.get::<_, i64>(0)?,
                crate::model::owner_key(&name),
                u16::from(rtype),
                row.get::<_, i64>(3)?,
                since.unwrap_or(0),
                row.get::<_, Option<i64>>(5)?.unwrap_or(1),
            ));
        }
    }
    let mut insert = tx.prepare(
        "INSERT OR REPLACE INTO states (feed, owner, rtype, hash, data, since, baseline)
         VALUES (?1, ?2, ?3, ?4, NULL, ?5, ?6)",
    )?;
    for (feed, owner, rtype, hash, since, baseline) in rows {
        insert.execute(rusqlite::params![feed, owner, rtype, hash, since, baseline])?;
    }
    Ok(())
}
