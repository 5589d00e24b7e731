//! Asking one authoritative server one question: non-recursive, UDP with TCP on truncation,
//! bounded retries with backoff and a bounded number of queries in flight.
//!
//! Messages are hickory-proto's. UDP is multiplexed here: a few connected sockets per server, each
//! on its own random source port, with queries told apart by random ID. hickory-net's UDP client
//! stream opens a socket for every query (right for a resolver, which must resist spoofing on
//! every lookup), but that caps an audit of thousands of names at about 37,000 queries per second
//! on a 2-core machine, far from what the server can answer. Connected sockets receive only from
//! the server's address and port; a packet is taken as the answer only when its ID is pending, QR
//! is set and it echoes our question, otherwise it is dropped and the real answer still counts.
//! TCP (after truncation) is hickory-net's TCP stream, multiplexed over one connection.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use hickory_net::runtime::TokioRuntimeProvider;
use hickory_net::tcp::TcpClientStream;
use hickory_net::xfer::{DnsExchange, DnsHandle};
use hickory_proto::op::{DnsRequest, DnsRequestOptions, Message, MessageType, Query, ResponseCode};
use hickory_proto::rr::{Name, RecordType};
use tokio::sync::{Mutex, Semaphore};

use crate::config::QuerySettings;

mod axfr;
mod decode;
mod udp;

pub use decode::{decode_for, Keep};
use udp::UdpMux;

/// The EDNS buffer size advertised (DNS flag day 2020).
pub const EDNS_BUFFER: u16 = 1232;

/// Why a server gave no usable answer. None of these is ever read as content.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Failure {
    /// No answer within the timeout, after every retry.
    Timeout,
    /// An rcode other than NOERROR / NXDOMAIN (REFUSED, SERVFAIL, NOTIMP, FORMERR, …).
    Rcode(String),
    /// The answer was truncated over UDP and TCP did not give a whole one.
    Truncated,
    /// A referral or a non-authoritative answer where authority was expected (a lame server).
    NotAuthoritative,
    /// The connection failed (refused port, unreachable network, reset).
    Network(String),
    /// The answer did not parse or was not an answer to our question.
    Malformed(String),
    /// A zone transfer brought more records than `max_zone_records` and was stopped.
    TooLarge(usize),
    /// An authoritative answer that says the server does not serve the zone (NXDOMAIN or no
    /// SOA for its apex): lame for it, as a server without AA is.
    NotServed(String),
    /// Not asked: the server's budget for this run was spent (too many timeouts in a row,
    /// or the run's `max_run_time`, or the run was stopped).
    NotAsked(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Timeout => f.write_str("timeout"),
            Failure::Rcode(rcode) => f.write_str(rcode),
            Failure::Truncated => f.write_str("truncated answer and no TCP answer"),
            Failure::NotAuthoritative => f.write_str("answer without AA (lame)"),
            Failure::Network(e) => write!(f, "network error: {}", crate::escape::terminal(e)),
            Failure::Malformed(e) => write!(f, "malformed answer: {}", crate::escape::terminal(e)),
            Failure::NotServed(what) => write!(f, "{what}: it does not serve the zone (lame)"),
            Failure::NotAsked(why) => write!(f, "not asked: {why}"),
            Failure::TooLarge(max) => write!(
                f,
                "zone transfer of over {max} records (max_zone_records): stopped"
            ),
        }
    }
}

/// Counters of what happened on the wire, for the report.
#[derive(Clone, Copy, Debug, Default)]
pub struct WireStats {
    /// Queries sent (tries included).
    pub queries: u64,
    /// Retries after a timeout.
    pub retries: u64,
    /// Truncated UDP answers retried over TCP.
    pub tcp_fallbacks: u64,
    /// Empty truncated answers: a rate limiter's "slips".
    pub slips: u64,
}

/// Slips after which a server counts as rate-limiting and the rest goes over TCP.
const RATE_LIMIT_SLIPS: u64 = 3;

impl WireStats {
    /// Whether the server rate-limited us (the rest of the audit went over TCP).
    pub fn rate_limited(&self) -> bool {
        self.slips >= RATE_LIMIT_SLIPS
    }
}

/// Why this process asks no server anything more (SIGINT, SIGTERM), once set.
static STOPPED: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Stops every server being asked: each query not yet sent fails at once as not asked, so
/// the audit ends with what it has and still writes its report, metrics and store.
pub fn stop_asking(why: String) {
    let _ = STOPPED.set(why);
}

/// Why asking was stopped, if it was.
pub fn stopped() -> Option<&'static str> {
    STOPPED.get().map(String::as_str)
}

/// One nameserver address and the means to ask it.
pub struct Server {
    addr: SocketAddr,
    settings: QuerySettings,
    provider: TokioRuntimeProvider,
    in_flight: Semaphore,
    udp: Mutex<Option<Arc<UdpMux>>>,
    tcp: Mutex<Option<DnsExchange<TokioRuntimeProvider>>>,
    stats: std::sync::Mutex<WireStats>,
    /// Queries that timed out since the last answer (the budget of `max_timeouts_in_a_row`).
    timeouts_in_a_row: std::sync::atomic::AtomicU32,
    /// Why nothing more is asked of this server in this run, once its budget is spent.
    given_up: std::sync::OnceLock<String>,
    /// The instances (RFC 5001 NSID) that answered, as shown; at most [`MOST_INSTANCES`].
    instances: std::sync::Mutex<std::collections::BTreeSet<String>>,
}

/// The most distinct NSIDs kept per server (an anycast address has a handful).
const MOST_INSTANCES: usize = 16;

/// The NSID an answer carries (RFC 5001), as people read it: text when printable ASCII, else
/// hex, as dig shows it; escaped.
pub fn nsid_of(message: &Message) -> Option<String> {
    use hickory_proto::rr::rdata::opt::{EdnsCode, EdnsOption};
    let Some(EdnsOption::NSID(payload)) = message.edns.as_ref()?.options().get(EdnsCode::NSID)
    else {
        return None;
    };
    let bytes = payload.as_ref();
    if bytes.is_empty() {
        return None;
    }
    let text = match bytes.iter().all(|b| (0x20..0x7f).contains(b)) {
        true => String::from_utf8_lossy(bytes).into_owned(),
        false => bytes.iter().map(|b| format!("{b:02x}")).collect(),
    };
    Some(crate::escape::terminal(&text))
}

impl Server {
    /// A server at `addr`. Must be created inside a tokio runtime that outlives its use.
    pub fn new(addr: SocketAddr, settings: QuerySettings) -> Arc<Server> {
        Arc::new(Server {
            addr,
            settings,
            provider: TokioRuntimeProvider::new(),
            in_flight: Semaphore::new(settings.concurrency.max(1)),
            udp: Mutex::new(None),
            tcp: Mutex::new(None),
            stats: std::sync::Mutex::new(WireStats::default()),
            timeouts_in_a_row: std::sync::atomic::AtomicU32::new(0),
            given_up: std::sync::OnceLock::new(),
            instances: std::sync::Mutex::new(std::collections::BTreeSet::new()),
        })
    }

    /// The instances (NSID) that answered so far, in order.
    pub(crate) fn instances(&self) -> Vec<String> {
        self.instances
            .lock()
            .map(|set| set.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Why this server is asked nothing more, if its budget is spent: too many timeouts in a
    /// row, or the run's time limit. Checked before every query, so a server that drops
    /// everything costs `max_timeouts_in_a_row` timeouts, not one per name.
    fn spent(&self) -> Option<String> {
        if let Some(why) = STOPPED.get() {
            return Some(why.clone());
        }
        if let Some(why) = self.given_up.get() {
            return Some(why.clone());
        }
        let deadline = self.settings.deadline?;
        if std::time::Instant::now() < deadline {
            return None;
        }
        let limit = self.settings.max_run_time.as_secs();
        let why = format!("the run's time limit was reached (max_run_time = {limit}s)");
        Some(self.given_up.get_or_init(|| why).clone())
    }

    /// Counts a query's outcome against the budget of timeouts in a row.
    fn budget(&self, result: &Result<Message, Failure>) {
        use std::sync::atomic::Ordering;
        match result {
            Err(Failure::Timeout) => {
                let row = self.timeouts_in_a_row.fetch_add(1, Ordering::Relaxed) + 1;
                if row >= self.settings.max_timeouts_in_a_row {
                    let _ = self.given_up.set(format!(
                        "{row} queries in a row timed out (max_timeouts_in_a_row)"
                    ));
                }
            }
            Err(Failure::NotAsked(_)) => {}
            _ => self.timeouts_in_a_row.store(0, Ordering::Relaxed),
        }
    }

    /// The address asked.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// What has been sent so far.
    pub(crate) fn stats(&self) -> WireStats {
        self.stats.lock().map(|s| *s).unwrap_or_default()
    }

    fn count(&self, f: impl FnOnce(&mut WireStats)) {
        if let Ok(mut stats) = self.stats.lock() {
            f(&mut stats);
        }
    }

    /// Asks `name`/`rtype` without recursion. Timeouts are retried with exponential backoff; a
    /// truncated UDP answer is asked again over TCP and never used as content.
    pub async fn query(&self, name: &Name, rtype: RecordType) -> Result<Message, Failure> {
        self.query_for(name, rtype, &Keep::rrset(name, rtype)).await
    }

    /// As [`Server::query`], for a caller that reads only what `keep` names (a UDP answer holds
    /// only those records, see [`decode_for`]); with `keep.dnssec` the DO bit is set.
    pub(crate) async fn query_for(
        &self,
        name: &Name,
        rtype: RecordType,
        keep: &Keep,
    ) -> Result<Message, Failure> {
        let _permit = self
            .in_flight
            .acquire()
            .await
            .map_err(|_| Failure::Network("shutting down".into()))?;
        if let Some(why) = self.spent() {
            return Err(Failure::NotAsked(why));
        }
        let result = self.ask(name, rtype, keep).await;
        self.budget(&result);
        if let Some(nsid) = result.as_ref().ok().and_then(nsid_of) {
            if let Ok(mut set) = self.instances.lock() {
                if set.len() < MOST_INSTANCES || set.contains(&nsid) {
                    if !set.contains(&nsid) {
                        tracing::info!(server = %self.addr, "answered by instance (NSID) {nsid}");
                    }
                    set.insert(nsid);
                }
            }
        }
        result
    }

    /// One query with its retries (see [`Server::query_for`]).
    async fn ask(&self, name: &Name, rtype: RecordType, keep: &Keep) -> Result<Message, Failure> {
        let mut backoff = Duration::from_millis(50);
        let mut last = Failure::Timeout;
        for attempt in 0..=self.settings.retries {
            if attempt > 0 {
                self.count(|s| s.retries += 1);
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(2));
            }
            // A server that rate-limits UDP is asked over TCP, which response rate limiting
            // leaves alone: the audit stays exact instead of losing answers.
            if self.rate_limited() {
                return self.over_tcp(name, rtype, keep.dnssec).await;
            }
            self.count(|s| s.queries += 1);
            crate::progress::query_sent();
            tracing::debug!(server = %self.addr(), "{} {rtype}", name);
            match self.udp(name, rtype, keep).await {
                Ok(message) if message.metadata.truncation => {
                    if message.answers.is_empty() && message.authorities.is_empty() {
                        self.count(|s| s.slips += 1);
                    }
                    self.count(|s| s.tcp_fallbacks += 1);
                    return self.over_tcp(name, rtype, keep.dnssec).await;
                }
                Ok(message) => return check(message, name, rtype),
                Err(failure @ (Failure::Timeout | Failure::Network(_))) => last = failure,
                Err(other) => return Err(other),
            }
        }
        Err(last)
    }

    /// Whether the server has shown UDP rate limiting: empty truncated "slip" answers.
    fn rate_limited(&self) -> bool {
        self.stats().slips >= RATE_LIMIT_SLIPS
    }

    /// Asks over TCP; a TCP answer that is still truncated or does not come leaves the RRset
    /// unknown (a truncated UDP answer is never read as content).
    async fn over_tcp(
        &self,
        name: &Name,
        rtype: RecordType,
        dnssec: bool,
    ) -> Result<Message, Failure> {
        match self.tcp_query(name, rtype, dnssec).await {
            Ok(message) if message.metadata.truncation => Err(Failure::Truncated),
            Ok(message) => check(message, name, rtype),
            Err(Failure::Timeout | Failure::Network(_)) => Err(Failure::Truncated),
            Err(other) => Err(other),
        }
    }

    fn request(name: &Name, rtype: RecordType, dnssec: bool) -> DnsRequest {
        let mut options = DnsRequestOptions::default();
        options.recursion_desired = false;
        options.use_edns = true;
        options.edns_payload_len = EDNS_BUFFER;
        options.edns_set_dnssec_ok = dnssec;
        DnsRequest::from_query(Query::query(name.clone(), rtype), options)
    }

    async fn udp(&self, name: &Name, rtype: RecordType, keep: &Keep) -> Result<Message, Failure> {
        let mux = {
            let mut slot = self.udp.lock().await;
            match slot.as_ref() {
                Some(mux) => Arc::clone(mux),
                None => {
                    let mux = UdpMux::open(self.addr).await.map_err(network)?;
                    *slot = Some(Arc::clone(&mux));
                    mux
                }
            }
        };
        mux.query(name, rtype, keep, self.settings.timeout).await
    }

    async fn tcp_exchange(&self) -> Result<DnsExchange<TokioRuntimeProvider>, Failure> {
        let mut slot = self.tcp.lock().await;
        if let Some(exchange) = slot.as_ref() {
            return Ok(exchange.clone());
        }
        let exchange = TcpClientStream::exchange(
            self.addr,
            None,
            self.settings.timeout,
            Some(self.settings.concurrency.max(1)),
            self.provider.clone(),
        )
        .await
        .map_err(classify)?;
        *slot = Some(exchange.clone());
        Ok(exchange)
    }

    /// Asks over TCP on the shared connection; a connection that broke is opened once more.
    async fn tcp_query(
        &self,
        name: &Name,
        rtype: RecordType,
        dnssec: bool,
    ) -> Result<Message, Failure> {
        let mut last = Failure::Timeout;
        for _ in 0..2 {
            let exchange = self.tcp_exchange().await?;
            self.count(|s| s.queries += 1);
            let mut responses = exchange.send(Self::request(name, rtype, dnssec));
            match responses.next().await {
                Some(Ok(response)) => return Ok(response.into_message()),
                Some(Err(e)) => last = classify(e),
                None => last = Failure::Network("connection closed".into()),
            }
            *self.tcp.lock().await = None;
        }
        Err(last)
    }
}

/// Whether a question for this type alone sets the DO bit: only for the DNSSEC types, so other
/// answers stay small.
pub(crate) fn wants_dnssec(rtype: RecordType) -> bool {
    matches!(
        rtype,
        RecordType::RRSIG
            | RecordType::NSEC
            | RecordType::NSEC3
            | RecordType::NSEC3PARAM
            | RecordType::DNSKEY
            | RecordType::DS
            | RecordType::CDS
            | RecordType::CDNSKEY
    )
}

fn network(e: impl std::fmt::Display) -> Failure {
    Failure::Network(e.to_string())
}

/// An rcode by its mnemonic, as dig and the RFCs write it (SERVFAIL, not "Server Failure").
pub(crate) fn rcode_name(rcode: ResponseCode) -> String {
    match rcode {
        ResponseCode::NoError => "NOERROR".into(),
        ResponseCode::FormErr => "FORMERR".into(),
        ResponseCode::ServFail => "SERVFAIL".into(),
        ResponseCode::NXDomain => "NXDOMAIN".into(),
        ResponseCode::NotImp => "NOTIMP".into(),
        ResponseCode::Refused => "REFUSED".into(),
        ResponseCode::YXDomain => "YXDOMAIN".into(),
        ResponseCode::YXRRSet => "YXRRSET".into(),
        ResponseCode::NXRRSet => "NXRRSET".into(),
        ResponseCode::NotAuth => "NOTAUTH".into(),
        ResponseCode::NotZone => "NOTZONE".into(),
        ResponseCode::BADVERS => "BADVERS".into(),
        other => format!("RCODE{}", u16::from(other)),
    }
}

/// Maps hickory's errors to what they mean for an audit.
fn classify(e: hickory_net::NetError) -> Failure {
    let text = e.to_string();
    let lower = text.to_ascii_lowercase();
    if lower.contains("timed out") || lower.contains("timeout") {
        Failure::Timeout
    } else if lower.contains("decod") || lower.contains("parse") {
        Failure::Malformed(text)
    } else {
        Failure::Network(text)
    }
}

/// Checks that a message answers our question and is usable (QR set, our question echoed,
/// rcode NOERROR or NXDOMAIN); anything else is a failure.
pub fn check(message: Message, name: &Name, rtype: RecordType) -> Result<Message, Failure> {
    if message.metadata.message_type != MessageType::Response {
        return Err(Failure::Malformed("QR bit not set".into()));
    }
    let echoed = message.queries.len() == 1
        && message.queries[0].name() == name
        && message.queries[0].query_type() == rtype;
    let rcode = message.metadata.response_code;
    if !echoed && rcode == ResponseCode::NoError {
        return Err(Failure::Malformed("question not echoed".into()));
    }
    match rcode {
        ResponseCode::NoError | ResponseCode::NXDomain => Ok(message),
        other => Err(Failure::Rcode(rcode_name(other))),
    }
}
