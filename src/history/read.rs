//! Reading the store: changes, latest states, serials, alerts; and pruning it.

use rusqlite::{params, OptionalExtension, TransactionBehavior};

use super::{retry_busy, sqlite, Change, History, HistoryError, ServedState};

/// (name, type, server address) -> the values last recorded, None when absent.
pub type LatestStates = std::collections::HashMap<(String, String, String), Option<Vec<String>>>;

impl History {
    /// Changes seen at or after `since` (seconds since 1970), newest first; the baseline a
    /// server's first run records is not a change.
    pub fn changes_since(&self, since: i64) -> Result<Vec<Change>, HistoryError> {
        let err = sqlite(&self.path);
        let mut stmt = self
            .conn
            .prepare(
                "SELECT c.at, s.zone, coalesce(s.label, s.server), s.name, s.rtype, c.present, c.vals, c.before, c.run
                 FROM changes c JOIN rrsets s ON s.id = c.rrset
                 WHERE c.at >= ?1 AND c.baseline = 0 ORDER BY c.at DESC, c.run DESC, s.zone, s.name, s.rtype, s.server",
            )
            .map_err(&err)?;
        let rows = stmt
            .query_map(params![since], |r| {
                let vals: String = r.get(6)?;
                let before: String = r.get(7)?;
                Ok(Change {
                    at: r.get(0)?,
                    run: r.get(8)?,
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

    /// The latest recorded state of every RRset of a zone on every server: (name, type,
    /// server address) -> the values served, None when absent.
    pub fn latest_of_zone(&self, zone: &str) -> Result<LatestStates, HistoryError> {
        let err = sqlite(&self.path);
        let mut stmt = self
            .conn
            .prepare(
                "SELECT s.name, s.rtype, s.server, c.present, c.vals FROM rrsets s
                 JOIN changes c ON c.id = (SELECT max(id) FROM changes WHERE rrset = s.id)
                 WHERE s.zone = ?1",
            )
            .map_err(&err)?;
        let rows = stmt
            .query_map(params![zone], |r| {
                let present = r.get::<_, i64>(3)? != 0;
                let vals: String = r.get(4)?;
                let values = present.then(|| serde_json::from_str(&vals).unwrap_or_default());
                Ok(((r.get(0)?, r.get(1)?, r.get(2)?), values))
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
                "SELECT coalesce(s.label, s.server), c.present, c.vals, c.at, s.server, c.baseline
                 FROM rrsets s
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
                    baseline: r.get::<_, i64>(5)? != 0,
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
    format!("{:016x}", crate::hash::Fnv1a::of(target.as_bytes()))
}
