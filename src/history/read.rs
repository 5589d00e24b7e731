//! Reading the store: changes, latest states, serials, alerts; and pruning it.

use hickory_proto::rr::{Name, RecordType};
use rusqlite::{params, OptionalExtension, TransactionBehavior};

use super::record::decode_data;
use crate::model::{name_of_key, owner_key, present_name};

use super::{retry_busy, sqlite, Change, History, HistoryError, ServedState};

/// (name, type, server address) -> the values last recorded, None when absent.
pub type LatestStates = std::collections::HashMap<(String, String, String), Option<Vec<String>>>;

impl History {
    /// Changes seen at or after `since` (seconds since 1970), newest first; the baseline a
    /// server's first run records is not a change.
    pub(crate) fn changes_since(&self, since: i64) -> Result<Vec<Change>, HistoryError> {
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
    pub(crate) fn latest_of_zone(&self, zone: &str) -> Result<LatestStates, HistoryError> {
        let err = sqlite(&self.path);
        let mut stmt = self
            .conn
            .prepare(
                "SELECT st.owner, st.rtype, f.server, st.hash, st.data FROM states st
                 JOIN feeds f ON f.id = st.feed WHERE f.zone = ?1",
            )
            .map_err(&err)?;
        let mut rows = stmt.query(params![zone]).map_err(&err)?;
        let mut out = LatestStates::new();
        while let Some(row) = rows.next().map_err(&err)? {
            let owner: Vec<u8> = row.get(0).map_err(&err)?;
            let rtype = RecordType::from(row.get::<_, u16>(1).map_err(&err)?);
            let server: String = row.get(2).map_err(&err)?;
            let hash: i64 = row.get(3).map_err(&err)?;
            let data: Option<Vec<u8>> = row.get(4).map_err(&err)?;
            let name = present_name(&name_of_key(&owner));
            let values = match (hash, data.as_deref().and_then(decode_data)) {
                (0, _) => None,
                (_, Some(set)) => Some(set.shown(rtype)),
                (_, None) => Some(self.last_values(zone, &server, &name, &rtype.to_string())?),
            };
            out.insert((name, rtype.to_string(), server), values);
        }
        Ok(out)
    }

    /// The latest state of one RRset on every server that ever served it.
    pub fn latest(
        &self,
        zone: &str,
        name: &str,
        rtype: &str,
    ) -> Result<Vec<ServedState>, HistoryError> {
        let err = sqlite(&self.path);
        let (Ok(owner), Ok(type_code)) = (Name::from_ascii(name), rtype.parse::<RecordType>())
        else {
            return Ok(Vec::new());
        };
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT coalesce(f.label, f.server), st.hash, st.data, st.since, f.server,
                        st.baseline
                 FROM states st JOIN feeds f ON f.id = st.feed
                 WHERE f.zone = ?1 AND st.owner = ?2 AND st.rtype = ?3 ORDER BY f.server",
            )
            .map_err(&err)?;
        let mut rows = stmt
            .query(params![zone, owner_key(&owner), u16::from(type_code)])
            .map_err(&err)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(&err)? {
            let address: String = row.get(4).map_err(&err)?;
            let present = row.get::<_, i64>(1).map_err(&err)? != 0;
            let data: Option<Vec<u8>> = row.get(2).map_err(&err)?;
            let values = match data.as_deref().and_then(decode_data) {
                _ if !present => Vec::new(),
                Some(set) => set.shown(type_code),
                None => self.last_values(zone, &address, name, rtype)?,
            };
            out.push(ServedState {
                server: row.get(0).map_err(&err)?,
                address,
                present,
                values,
                since: row.get(3).map_err(&err)?,
                baseline: row.get::<_, i64>(5).map_err(&err)? != 0,
            });
        }
        Ok(out)
    }

    fn last_values(
        &self,
        zone: &str,
        server: &str,
        name: &str,
        rtype: &str,
    ) -> Result<Vec<String>, HistoryError> {
        last_present_values(&self.conn, (zone, server, name, rtype)).map_err(sqlite(&self.path))
    }

    /// Servers recorded for a zone.
    pub fn servers(&self, zone: &str) -> Result<Vec<String>, HistoryError> {
        let err = sqlite(&self.path);
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT DISTINCT coalesce(label, server) AS shown FROM feeds WHERE zone = ?1 ORDER BY shown",
            )
            .map_err(&err)?;
        let rows = stmt.query_map(params![zone], |r| r.get(0)).map_err(&err)?;
        rows.collect::<Result<_, _>>().map_err(&err)
    }

    /// The state last delivered to an alert target for a zone: (state, fingerprint).
    pub(crate) fn last_alert(
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
    pub(crate) fn set_alert(
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
    pub(crate) fn prune(&mut self, before: i64) -> Result<usize, HistoryError> {
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

/// The values of an RRset's last change where it was present, as shown: where a state an older
/// store kept holds its values, and what was served before a state that is absent now.
pub(super) fn last_present_values(
    conn: &rusqlite::Connection,
    (zone, server, name, rtype): (&str, &str, &str, &str),
) -> rusqlite::Result<Vec<String>> {
    let vals: Option<String> = conn
        .prepare_cached(
            "SELECT c.vals FROM changes c JOIN rrsets s ON s.id = c.rrset
             WHERE s.zone = ?1 AND s.server = ?2 AND s.name = ?3 AND s.rtype = ?4
               AND c.present = 1
             ORDER BY c.id DESC LIMIT 1",
        )?
        .query_row(params![zone, server, name, rtype], |r| r.get(0))
        .optional()?;
    Ok(vals
        .and_then(|vals| serde_json::from_str(&vals).ok())
        .unwrap_or_default())
}
