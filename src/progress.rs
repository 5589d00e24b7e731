//! How far a run has come, for a progress line: servers asked, queries sent, transfer records
//! read. Process-wide counters the transport adds to; whoever shows them (the binary, on a
//! terminal only) reads them. Counting never changes what a run does.

use std::sync::atomic::{AtomicU64, Ordering};

static SERVERS: AtomicU64 = AtomicU64::new(0);
static QUERIES: AtomicU64 = AtomicU64::new(0);
static RECORDS: AtomicU64 = AtomicU64::new(0);

/// A server of a zone is being asked.
pub(crate) fn server_asked() {
    SERVERS.fetch_add(1, Ordering::Relaxed);
}

/// A query was sent.
pub(crate) fn query_sent() {
    QUERIES.fetch_add(1, Ordering::Relaxed);
}

/// Records of a zone transfer were read.
pub(crate) fn records_read(n: usize) {
    RECORDS.fetch_add(n as u64, Ordering::Relaxed);
}

/// (servers asked, queries sent, transfer records read) so far.
pub fn snapshot() -> (u64, u64, u64) {
    (
        SERVERS.load(Ordering::Relaxed),
        QUERIES.load(Ordering::Relaxed),
        RECORDS.load(Ordering::Relaxed),
    )
}
