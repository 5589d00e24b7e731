//! Recording a run: a change row wherever an RRset appeared, changed or disappeared.

use std::collections::{HashMap, HashSet};

use hickory_proto::rr::RecordType;
use rusqlite::{params, OptionalExtension, TransactionBehavior};

use super::{
    check_health, retry_busy, sqlite, History, HistoryError, RunSummary, ZoneObservations,
};
use crate::model::{presence_only, present_name, RrSet};
use crate::observe::{Method, Observed, ServerView};

impl History {
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
        let run_id = insert_run(&tx, run).map_err(&err)?;
        let mut written = 0;
        for zone in zones {
            for view in zone.views {
                written += record_server(&tx, run, run_id, zone, view).map_err(&err)?;
            }
        }
        tx.commit().map_err(&err)?;
        Ok(written)
    }
}

/// The run's own row; its id.
fn insert_run(tx: &rusqlite::Transaction<'_>, run: &RunSummary) -> rusqlite::Result<i64> {
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
    )?;
    Ok(tx.last_insert_rowid())
}

/// What one server served of one zone: its serial, and a change row per RRset that differs
/// from its last recorded state. A server that could not be asked leaves nothing.
fn record_server(
    tx: &rusqlite::Transaction<'_>,
    run: &RunSummary,
    run_id: i64,
    zone: &ZoneObservations<'_, '_>,
    view: &ServerView,
) -> rusqlite::Result<usize> {
    let Ok(serial) = view.serial else {
        return Ok(0);
    };
    let address = view.server.addr.to_string();
    let server = address.as_str();
    let label = view.server.label.as_str();
    adopt_rows_keyed_by_name(tx, &zone.zone, label, server)?;
    tx.execute(
        "INSERT INTO serials (zone, server, serial, since, label) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (zone, server) DO UPDATE
         SET serial = excluded.serial, since = excluded.since
         WHERE serial != excluded.serial",
        params![zone.zone, server, serial, run.started_at, label],
    )?;
    for table in ["serials", "rrsets"] {
        tx.execute(
            &format!(
                "UPDATE {table} SET label = ?3 WHERE zone = ?1 AND server = ?2 AND label IS NOT ?3"
            ),
            params![zone.zone, server, label],
        )?;
    }
    let current = current_states(tx, &zone.zone, server)?;
    // The first run that sees a server records its baseline: every RRset "appears", but
    // nothing changed; `recent` leaves those rows out.
    let at = Place {
        run: run_id,
        time: run.started_at,
        zone: &zone.zone,
        server,
        label,
        baseline: current.is_empty(),
    };
    let mut written = 0;
    let mut visited: HashSet<(String, String)> = HashSet::new();
    for (name, rtype, state) in observed_states(zone, view) {
        let key = (name, rtype.to_string());
        let known = current.get(&key).copied();
        written += write_state(tx, &at, &key, rtype, state, known)?;
        visited.insert(key);
    }
    // A transfer shows the whole zone: what it no longer holds has disappeared.
    if view.method == Method::Transfer {
        for (key, known) in &current {
            if !visited.contains(key) {
                let rtype = key.1.parse().unwrap_or(RecordType::Unknown(0));
                written += write_state(tx, &at, key, rtype, None, Some(*known))?;
            }
        }
    }
    Ok(written)
}

/// The recorded state of every RRset of a server: (name, type) -> (row id, hash).
fn current_states(
    tx: &rusqlite::Transaction<'_>,
    zone: &str,
    server: &str,
) -> rusqlite::Result<HashMap<(String, String), (i64, i64)>> {
    let mut stmt = tx.prepare_cached(
        "SELECT id, name, rtype, hash FROM rrsets WHERE zone = ?1 AND server = ?2",
    )?;
    let rows = stmt.query_map(params![zone, server], |r| {
        Ok(((r.get(1)?, r.get(2)?), (r.get(0)?, r.get(3)?)))
    })?;
    rows.collect()
}

/// What the server showed, RRset by RRset: present (its set) or absent; what could not be
/// asked is left out (unknown is not a change).
fn observed_states<'v>(
    zone: &ZoneObservations<'_, '_>,
    view: &'v ServerView,
) -> Vec<(String, RecordType, Option<&'v RrSet>)> {
    let mut seen = Vec::new();
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
    seen
}

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
    let mut hash = crate::hash::Fnv1a::default();
    let mut feed = |bytes: &[u8]| hash.feed(bytes);
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
    ((hash.finish() >> 1) | 1) as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Rdata;

    /// Stored hashes must never change: a store written by an earlier build would otherwise
    /// see every RRset of every server as changed on the next run.
    #[test]
    fn state_hashes_are_stable() {
        let rdata = Rdata::from_wire(RecordType::A, &[203, 0, 113, 17]).unwrap();
        let set = RrSet::single(300, rdata);
        assert_eq!(state_hash(RecordType::A, &set), PINNED);
    }

    /// FNV-1a of type, TTL and the data, as the first store format wrote it.
    const PINNED: i64 = 4_424_237_036_073_958_363;
}
