//! Recording a run: a change row wherever an RRset appeared, changed or disappeared.

use std::borrow::Cow;

use hickory_proto::rr::RecordType;
use std::path::Path;

use rusqlite::{params, OptionalExtension, TransactionBehavior};

use super::{
    check_apart, check_health, reader, retry_busy, sqlite, History, HistoryError, RunSummary,
    ZoneObservations,
};
use crate::model::{name_of_key, owner_key, presence_only, present_name, Rdata, RrSet};
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
        let path = &self.path;
        let written = std::thread::scope(|scope| {
            // The quick check reads every page of the store: it runs on a connection of its own
            // while this one works the run out, and the run is committed only once the store
            // passed it. Until then nothing of the run is in the file.
            let check = std::thread::Builder::new().spawn_scoped(scope, || check_apart(path));
            let run_id = insert_run(&tx, run).map_err(&err)?;
            let mut written = 0;
            for zone in zones {
                for view in zone.views {
                    let at = (&tx, path.as_path());
                    written += record_server(at, run, run_id, zone, view).map_err(&err)?;
                }
            }
            match check {
                Ok(check) => check.join().unwrap_or_else(|_| {
                    let why = "the store's check crashed; please report it".to_string();
                    Err(HistoryError::Foreign {
                        path: path.clone(),
                        why,
                    })
                })?,
                Err(_) => check_health(&tx, path)?,
            }
            Ok::<_, HistoryError>(written)
        })?;
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

/// What one server served of one zone: its serial, and its state: per RRset, a `states` row
/// where the state is new or changed, and a change row unless this is the server's first run
/// (its baseline). The stored states are read in one scan in canonical order, beside what the
/// server showed in the same order: a run where nothing changed writes nothing but its serial.
/// A server that could not be asked leaves nothing.
fn record_server(
    (tx, path): (&rusqlite::Transaction<'_>, &Path),
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
    // The store names a zone by its apex in presentation form.
    let name = present_name(&zone.expected.origin);
    adopt_rows_keyed_by_name(tx, &name, label, server)?;
    tx.execute(
        "INSERT INTO serials (zone, server, serial, since, label) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (zone, server) DO UPDATE
         SET serial = excluded.serial, since = excluded.since
         WHERE serial != excluded.serial",
        params![name, server, serial, run.started_at, label],
    )?;
    for table in ["serials", "rrsets", "feeds"] {
        tx.execute(
            &format!(
                "UPDATE {table} SET label = ?3 WHERE zone = ?1 AND server = ?2 AND label IS NOT ?3"
            ),
            params![name, server, label],
        )?;
    }
    let (feed, baseline) = feed_of(tx, &name, server, label, run.started_at)?;
    let at = Place {
        run: run_id,
        time: run.started_at,
        zone: &name,
        server,
        label,
        feed,
        baseline,
    };
    let seen = observed_states(zone, view);
    // A transfer shows the whole zone: what it no longer holds has disappeared. One that
    // failed (axfr = "always") showed nothing.
    let whole = view.method == Method::Transfer && view.transfer_failure.is_none();
    let (writes, gone) = differences(path, feed, &seen, whole)?;
    write_states(tx, &at, writes, &gone)
}

/// Keeps the states that differ, and that of each stored RRset that is gone; returns rows
/// written.
fn write_states(
    tx: &rusqlite::Transaction<'_>,
    at: &Place<'_>,
    writes: Vec<Write<'_>>,
    gone: &[StoredRow],
) -> rusqlite::Result<usize> {
    if at.baseline && gone.is_empty() {
        return keep_baseline(tx, at, &writes);
    }
    let mut keep = tx.prepare_cached(
        "INSERT INTO states (feed, owner, rtype, hash, data, since, baseline)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (feed, owner, rtype) DO UPDATE
         SET hash = excluded.hash, data = excluded.data, since = excluded.since, baseline = 0",
    )?;
    let gone = gone.iter().map(|(owner, rtype, hash)| Write {
        key: owner,
        rtype: RecordType::from(*rtype),
        state: None,
        hash: 0,
        known: Some(*hash),
    });
    let mut written = 0;
    for write in writes.into_iter().chain(gone) {
        written += write_state(tx, &mut keep, at, &write)?;
    }
    Ok(written)
}

/// A server's first run: a state kept for every RRset it serves and no change row, so the
/// rows go in by statements of [`BASELINE_ROWS`] each (a statement per row spent a third of
/// the time binding and stepping it).
fn keep_baseline(
    tx: &rusqlite::Transaction<'_>,
    at: &Place<'_>,
    writes: &[Write<'_>],
) -> rusqlite::Result<usize> {
    let statement = |rows: usize| {
        let values = vec!["(?, ?, ?, ?, ?, ?, 1)"; rows].join(", ");
        format!(
            "INSERT INTO states (feed, owner, rtype, hash, data, since, baseline) VALUES {values}
             ON CONFLICT (feed, owner, rtype) DO UPDATE
             SET hash = excluded.hash, data = excluded.data, since = excluded.since"
        )
    };
    let mut full = tx.prepare(&statement(BASELINE_ROWS))?;
    for chunk in writes.chunks(BASELINE_ROWS) {
        let rows: Vec<(u16, Option<Vec<u8>>)> = chunk
            .iter()
            .map(|write| (u16::from(write.rtype), write.state.map(encode_data)))
            .collect();
        let mut values: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(chunk.len() * 6);
        for (write, (rtype, data)) in chunk.iter().zip(&rows) {
            values.extend([&at.feed as &dyn rusqlite::ToSql, &write.key, rtype]);
            values.extend([&write.hash as &dyn rusqlite::ToSql, data, &at.time]);
        }
        if chunk.len() == BASELINE_ROWS {
            full.execute(&*values)?;
        } else {
            tx.prepare(&statement(chunk.len()))?.execute(&*values)?;
        }
    }
    Ok(writes.len())
}

/// Rows a statement of [`keep_baseline`] inserts.
const BASELINE_ROWS: usize = 64;

/// A state to keep.
struct Write<'a> {
    key: &'a [u8],
    rtype: RecordType,
    /// None: absent.
    state: Option<&'a RrSet>,
    /// The state's [`state_hash`] (0: absent).
    hash: i64,
    /// The stored state's hash, if any.
    known: Option<i64>,
}

/// What differs between the stored states of a feed and what was `seen`, both walked in
/// canonical order in one scan: the states to write, and the stored RRsets a transfer
/// (`whole`) no longer holds. The stored states are read on a connection of their own, on
/// another thread, as the walk goes: what is stored before this run is what that connection
/// sees, as this one writes nothing of the feed's states until the walk is done.
fn differences<'s>(
    path: &Path,
    feed: i64,
    seen: &'s [(Cow<'s, [u8]>, RecordType, Seen<'s>)],
    whole: bool,
) -> rusqlite::Result<(Vec<Write<'s>>, Vec<StoredRow>)> {
    let (sender, batches) = std::sync::mpsc::sync_channel(STORED_BATCHES);
    std::thread::scope(|scope| {
        let reader = std::thread::Builder::new()
            .spawn_scoped(scope, move || read_states(path, feed, &sender))
            .map_err(|e| {
                let why = format!("cannot start a thread to read the stored states: {e}");
                let code = rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR);
                rusqlite::Error::SqliteFailure(code, Some(why))
            })?;
        let mut rows = Stored {
            batches,
            batch: Vec::new().into_iter(),
            row: None,
        };
        let walked = walk(&mut rows, seen, whole);
        // Hanging up stops a reader the walk did not need to the end.
        drop(rows);
        let _ = reader.join();
        walked
    })
}

/// The walk of [`differences`].
fn walk<'s>(
    rows: &mut Stored,
    seen: &'s [(Cow<'s, [u8]>, RecordType, Seen<'s>)],
    whole: bool,
) -> rusqlite::Result<(Vec<Write<'s>>, Vec<StoredRow>)> {
    let mut writes = Vec::new();
    let mut gone = Vec::new();
    rows.advance()?;
    for (key, rtype, state) in seen {
        let wanted = (&key[..], u16::from(*rtype));
        // Stored states before this one were not seen.
        while let Some((owner, stored_type, hash)) = rows.row.take() {
            if (owner.as_slice(), stored_type) >= wanted {
                rows.row = Some((owner, stored_type, hash));
                break;
            }
            if whole && hash != 0 {
                gone.push((owner, stored_type, hash));
            }
            rows.advance()?;
        }
        let known = match rows.row.as_ref() {
            Some((owner, stored_type, hash)) if (owner.as_slice(), *stored_type) == wanted => {
                let hash = *hash;
                rows.advance()?;
                Some(hash)
            }
            _ => None,
        };
        let Seen::Known(state) = state else {
            continue;
        };
        let hash = state.map_or(0, |set| state_hash(*rtype, set));
        // Unchanged, or never seen and absent: nothing to record.
        if known != Some(hash) && (known.is_some() || state.is_some()) {
            let (key, rtype, state) = (&key[..], *rtype, *state);
            writes.push(Write {
                key,
                rtype,
                state,
                hash,
                known,
            });
        }
    }
    while let Some((owner, stored_type, hash)) = rows.row.take() {
        if whole && hash != 0 {
            gone.push((owner, stored_type, hash));
        }
        rows.advance()?;
    }
    Ok((writes, gone))
}

/// One row of the stored states: (owner key, type, hash).
type StoredRow = (Vec<u8>, u16, i64);

/// Stored rows sent from the reader at a time, and batches it may read ahead.
const STORED_ROWS: usize = 4096;
const STORED_BATCHES: usize = 4;

/// Reads the stored states of `feed` in canonical order on a read-only connection to the
/// store at `path`, and sends them in batches until done or hung up on.
fn read_states(
    path: &Path,
    feed: i64,
    out: &std::sync::mpsc::SyncSender<rusqlite::Result<Vec<StoredRow>>>,
) {
    let read = || -> rusqlite::Result<()> {
        let conn = reader(path)?;
        let mut stored = conn.prepare(
            "SELECT owner, rtype, hash FROM states WHERE feed = ?1 ORDER BY owner, rtype",
        )?;
        let mut rows = stored.query(params![feed])?;
        let mut batch = Vec::with_capacity(STORED_ROWS);
        while let Some(row) = rows.next()? {
            batch.push((row.get(0)?, row.get(1)?, row.get(2)?));
            if batch.len() == STORED_ROWS {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(STORED_ROWS));
                if out.send(Ok(full)).is_err() {
                    return Ok(());
                }
            }
        }
        let _ = out.send(Ok(batch));
        Ok(())
    };
    if let Err(e) = read() {
        let _ = out.send(Err(e));
    }
}

/// The stored states of a feed as the reader sends them, one row at a time.
struct Stored {
    batches: std::sync::mpsc::Receiver<rusqlite::Result<Vec<StoredRow>>>,
    batch: std::vec::IntoIter<StoredRow>,
    /// The current row; None past the last.
    row: Option<StoredRow>,
}

impl Stored {
    fn advance(&mut self) -> rusqlite::Result<()> {
        loop {
            if let Some(row) = self.batch.next() {
                self.row = Some(row);
                return Ok(());
            }
            match self.batches.recv() {
                Ok(batch) => self.batch = batch?.into_iter(),
                // The reader is done.
                Err(_) => {
                    self.row = None;
                    return Ok(());
                }
            }
        }
    }
}

/// The feed (zone and server) a server's states are kept under, and whether this is its first
/// recorded run (a baseline: every RRset is new, but nothing changed).
fn feed_of(
    tx: &rusqlite::Transaction<'_>,
    zone: &str,
    server: &str,
    label: &str,
    now: i64,
) -> rusqlite::Result<(i64, bool)> {
    let known: Option<i64> = tx
        .query_row(
            "SELECT id FROM feeds WHERE zone = ?1 AND server = ?2",
            params![zone, server],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(id) = known {
        return Ok((id, false));
    }
    tx.execute(
        "INSERT INTO feeds (zone, server, label, since) VALUES (?1, ?2, ?3, ?4)",
        params![zone, server, label, now],
    )?;
    Ok((tx.last_insert_rowid(), true))
}

/// What a server showed of one RRset: its state (present with its set, or absent), or nothing
/// known (not asked, or the question failed: unknown is not a change).
enum Seen<'v> {
    Known(Option<&'v RrSet>),
    Unknown,
}

/// What the server showed, RRset by RRset, in canonical order of owner keys and types (the
/// order of the `states` table): the plan's answers and what a transfer showed beyond it. The
/// keys of the plan's names are the expected zone's own, walked beside the plan (which
/// follows it); only what the transfer showed beyond it has keys made.
fn observed_states<'v>(
    zone: &ZoneObservations<'_, 'v>,
    view: &'v ServerView,
) -> Vec<(Cow<'v, [u8]>, RecordType, Seen<'v>)> {
    let mut seen = Vec::with_capacity(zone.plan.len() + view.extras.len());
    let mut names = zone.expected.iter_keyed().peekable();
    for (probe, observed) in zone.plan.iter().zip(&view.answers) {
        let state = match observed {
            Observed::Present(set) => Seen::Known(Some(set)),
            Observed::Absent => Seen::Known(None),
            Observed::Failed(_) | Observed::Unasked => Seen::Unknown,
        };
        while names
            .next_if(|(_, name, _)| !std::ptr::eq(*name, probe.name))
            .is_some()
        {}
        let key = match names.peek() {
            Some((key, _, _)) => Cow::Borrowed(*key),
            // Not a name of the expected zone (never, as plans are made): its key is made.
            None => Cow::Owned(owner_key(probe.name)),
        };
        seen.push((key, probe.rtype, state));
    }
    for extra in &view.extras {
        let key = Cow::Owned(owner_key(&extra.name));
        seen.push((key, extra.rtype, Seen::Known(Some(&extra.set))));
    }
    // The plan is in this order already, the extras after it: one merge of two runs.
    seen.sort_by(|a, b| (&a.0, u16::from(a.1)).cmp(&(&b.0, u16::from(b.1))));
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
    for table in ["rrsets", "serials", "feeds"] {
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
    /// The zone and server's row in `feeds`.
    feed: i64,
    /// The server's first recorded run: states are kept, no change is written.
    baseline: bool,
}

/// Keeps the state of `write` as its RRset's state (by `keep`, the statement that does) and,
/// unless this is a baseline, writes a change row from the stored state to it; returns rows
/// written.
fn write_state(
    tx: &rusqlite::Transaction<'_>,
    keep: &mut rusqlite::CachedStatement<'_>,
    at: &Place<'_>,
    write: &Write<'_>,
) -> rusqlite::Result<usize> {
    let Write {
        key,
        rtype,
        state,
        hash,
        known,
    } = *write;
    let before = match known {
        Some(_) if !at.baseline => Some(stored_values(tx, at, key, rtype)?),
        _ => None,
    };
    keep.execute(params![
        at.feed,
        key,
        u16::from(rtype),
        hash,
        state.map(encode_data),
        at.time,
        at.baseline
    ])?;
    if at.baseline {
        return Ok(1);
    }
    let name = present_name(&name_of_key(key));
    let rrset_id: i64 = tx
        .prepare_cached(
            "INSERT INTO rrsets (zone, server, name, rtype, hash, label) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (zone, server, name, rtype) DO UPDATE SET hash = excluded.hash
             RETURNING id",
        )?
        .query_row(
            params![at.zone, at.server, name, rtype.to_string(), hash, at.label],
            |r| r.get(0),
        )?;
    let values: Vec<String> = state.map(|set| set.shown(rtype)).unwrap_or_default();
    let json = |values: &[String]| serde_json::to_string(values).unwrap_or_else(|_| "[]".into());
    tx.prepare_cached(
        "INSERT INTO changes (rrset, run, at, present, ttl, vals, before, baseline)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0)",
    )?
    .execute(params![
        rrset_id,
        at.run,
        at.time,
        i64::from(state.is_some()),
        state.map(|s| i64::from(s.ttl)),
        json(&values),
        json(&before.unwrap_or_default()),
    ])?;
    Ok(2)
}

/// The values last served of an RRset, as shown: from its stored data, else (it is absent
/// now, or the state came from an older store) from its last change where it was present.
fn stored_values(
    tx: &rusqlite::Transaction<'_>,
    at: &Place<'_>,
    key: &[u8],
    rtype: RecordType,
) -> rusqlite::Result<Vec<String>> {
    let data: Option<Vec<u8>> = tx
        .prepare_cached("SELECT data FROM states WHERE feed = ?1 AND owner = ?2 AND rtype = ?3")?
        .query_row(params![at.feed, key, u16::from(rtype)], |r| r.get(0))
        .optional()?
        .flatten();
    if let Some(set) = data.as_deref().and_then(decode_data) {
        return Ok(set.shown(rtype));
    }
    let name = present_name(&name_of_key(key));
    let rtype = rtype.to_string();
    super::read::last_present_values(tx, (at.zone, at.server, &name, &rtype))
}

/// An RRset's data as stored: each record's canonical wire form after its length (two
/// octets). The TTL is in the state's hash and in the change rows.
fn encode_data(set: &RrSet) -> Vec<u8> {
    let mut out = Vec::new();
    for rdata in &set.rdatas {
        let bytes = rdata.bytes();
        out.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
        out.extend_from_slice(bytes);
    }
    out
}

/// The data [`encode_data`] stored (its TTL 0); None when it is empty or cut short.
pub(super) fn decode_data(mut data: &[u8]) -> Option<RrSet> {
    let mut rdatas = Vec::new();
    while let [high, low, rest @ ..] = data {
        let len = usize::from(u16::from_be_bytes([*high, *low]));
        rdatas.push(Rdata::from_canonical(rest.get(..len)?));
        data = &rest[len..];
    }
    let mut rdatas = rdatas.into_iter();
    let mut set = RrSet::single(0, rdatas.next()?);
    for rdata in rdatas {
        set.insert(0, rdata);
    }
    Some(set)
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

    /// What a server showed of `zone` by transfer: as expected, plus `stray`; or, when
    /// `failed`, nothing (a transfer refused under axfr = "always").
    fn by_transfer(
        zone: &crate::model::Zone,
        plan: &[crate::observe::Probe<'_>],
        stray: Option<&crate::observe::Extra>,
        failed: bool,
    ) -> ServerView {
        use crate::observe::{Answers, Nameserver};
        let refused = || crate::transport::Failure::Rcode("AXFR REFUSED".into());
        let answers = if failed {
            Answers::all(Observed::Failed(refused()), plan.len())
        } else {
            plan.iter()
                .map(|p| {
                    p.expected
                        .cloned()
                        .map_or(Observed::Absent, Observed::Present)
                })
                .collect()
        };
        ServerView {
            server: Nameserver {
                label: "ns1".into(),
                addr: std::net::SocketAddr::from(([127, 0, 0, 1], 5301)),
            },
            serial: Ok(1),
            soa: zone
                .rrset(&zone.origin, RecordType::SOA)
                .cloned()
                .map_or(Observed::Absent, Observed::Present),
            answers,
            extras: stray.into_iter().cloned().collect(),
            foreign: crate::model::ForeignRecords::default(),
            instances: Vec::new(),
            method: Method::Transfer,
            transfer_failure: failed.then(refused),
            stats: crate::transport::WireStats::default(),
        }
    }

    #[test]
    fn a_failed_transfer_records_nothing_gone_and_a_stray_that_goes_is_a_change() {
        let zone = crate::zonefile::test_zone(
            "z.net.",
            "$TTL 300\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.53\nbh1 A 192.0.2.1\n",
        )
        .zone;
        let settings = crate::config::Config::default().zone(&zone.origin).clone();
        let plan = crate::observe::plan(&zone, &settings);
        let stray = crate::observe::Extra {
            name: hickory_proto::rr::Name::from_ascii("bh1x.z.net.").unwrap(),
            rtype: RecordType::A,
            set: RrSet::single(
                300,
                Rdata::from_wire(RecordType::A, &[192, 0, 2, 9]).unwrap(),
            ),
        };
        let dir = tempfile::tempdir().unwrap();
        let mut history = History::open(&dir.path().join("h.sqlite")).unwrap();
        let run = |history: &mut History, at: i64, view: ServerView| {
            let summary = RunSummary {
                started_at: at,
                duration_ms: 1,
                servers: 1,
                verdict: "drift".into(),
                drift: 0,
                failures: 0,
            };
            let views = [view];
            let zones = [ZoneObservations {
                expected: &zone,
                plan: &plan,
                views: &views,
            }];
            history.record(&summary, &zones).unwrap();
        };
        run(
            &mut history,
            1000,
            by_transfer(&zone, &plan, Some(&stray), false),
        );
        // Refused: nothing is known, so nothing went (the stray least of all).
        run(&mut history, 2000, by_transfer(&zone, &plan, None, true));
        let changes = |history: &History| history.changes_since(0).unwrap();
        assert!(changes(&history).is_empty(), "{:?}", changes(&history));
        // A transfer without the stray: it went.
        run(&mut history, 3000, by_transfer(&zone, &plan, None, false));
        let changes = changes(&history);
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(changes[0].name, "bh1x.z.net.");
        assert!(!changes[0].present);
        assert_eq!(changes[0].before, ["192.0.2.9"]);
    }
}
