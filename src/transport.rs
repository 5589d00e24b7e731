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

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::StreamExt;
use hickory_net::runtime::TokioRuntimeProvider;
use hickory_net::tcp::TcpClientStream;
use hickory_net::xfer::{DnsExchange, DnsHandle};
use hickory_proto::op::{
    DnsRequest, DnsRequestOptions, Edns, Header, Message, MessageType, Query, ResponseCode,
};
use hickory_proto::rr::{Name, Record, RecordData, RecordType};
use hickory_proto::serialize::binary::{BinDecodable, BinDecoder, DecodeError};
use tokio::net::UdpSocket;
use tokio::sync::{oneshot, Mutex, Semaphore};

use crate::config::{QuerySettings, TsigKey};

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

/// One nameserver address and the means to ask it.
pub struct Server {
    addr: SocketAddr,
    settings: QuerySettings,
    provider: TokioRuntimeProvider,
    in_flight: Semaphore,
    udp: Mutex<Option<Arc<UdpMux>>>,
    tcp: Mutex<Option<DnsExchange<TokioRuntimeProvider>>>,
    stats: std::sync::Mutex<WireStats>,
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
        })
    }

    /// The address asked.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// What has been sent so far.
    pub fn stats(&self) -> WireStats {
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
    pub async fn query_for(
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
fn wants_dnssec(rtype: RecordType) -> bool {
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

/// Sockets per server: queries spread over several source ports.
const UDP_SOCKETS: usize = 4;

/// A query waiting for its answer: the question asked, what its caller reads, and where the
/// answer goes.
struct Waiting {
    query: Query,
    keep: Keep,
    answer: oneshot::Sender<Message>,
}

/// Queries waiting for an answer, by message ID.
type Pending = std::sync::Mutex<HashMap<u16, Waiting>>;

/// Connected UDP sockets to one server, with queries matched to answers by ID and question.
struct UdpMux {
    sockets: Vec<(Arc<UdpSocket>, Arc<Pending>)>,
    receivers: Vec<tokio::task::JoinHandle<()>>,
    next: AtomicUsize,
}

impl Drop for UdpMux {
    fn drop(&mut self) {
        for receiver in &self.receivers {
            receiver.abort();
        }
    }
}

impl UdpMux {
    async fn open(addr: SocketAddr) -> std::io::Result<Arc<UdpMux>> {
        let local: SocketAddr = if addr.is_ipv4() {
            (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
        } else {
            (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let mut sockets = Vec::new();
        let mut receivers = Vec::new();
        for _ in 0..UDP_SOCKETS {
            let socket = Arc::new(UdpSocket::bind(local).await?);
            socket.connect(addr).await?;
            let pending: Arc<Pending> = Arc::default();
            receivers.push(tokio::spawn(receive(
                Arc::clone(&socket),
                Arc::clone(&pending),
            )));
            sockets.push((socket, pending));
        }
        Ok(Arc::new(UdpMux {
            sockets,
            receivers,
            next: AtomicUsize::new(0),
        }))
    }

    async fn query(
        &self,
        name: &Name,
        rtype: RecordType,
        keep: &Keep,
        timeout: Duration,
    ) -> Result<Message, Failure> {
        let which = self.next.fetch_add(1, Ordering::Relaxed) % self.sockets.len();
        let (socket, pending) = &self.sockets[which];
        let query = Query::query(name.clone(), rtype);
        let (sender, receiver) = oneshot::channel();
        let id = {
            let mut waiting = pending.lock().map_err(|_| network("lock poisoned"))?;
            let mut id: u16 = rand::random();
            while waiting.contains_key(&id) {
                id = rand::random();
            }
            let entry = Waiting {
                query: query.clone(),
                keep: keep.clone(),
                answer: sender,
            };
            waiting.insert(id, entry);
            id
        };
        let mut message = Message::query();
        message.metadata.id = id;
        message.metadata.recursion_desired = false;
        message.queries.push(query);
        let mut edns = Edns::new();
        edns.set_max_payload(EDNS_BUFFER);
        edns.set_dnssec_ok(keep.dnssec);
        message.edns = Some(edns);
        let result = match message.to_vec() {
            Ok(bytes) => match socket.send(&bytes).await {
                Ok(_) => match tokio::time::timeout(timeout, receiver).await {
                    Ok(Ok(answer)) => Ok(answer),
                    Ok(Err(_)) => Err(Failure::Network("receiver stopped".into())),
                    Err(_) => Err(Failure::Timeout),
                },
                Err(e) => Err(network(e)),
            },
            Err(e) => Err(Failure::Malformed(e.to_string())),
        };
        if result.is_err() {
            if let Ok(mut waiting) = pending.lock() {
                waiting.remove(&id);
            }
        }
        result
    }
}

/// Reads one socket: a datagram is delivered only to the query with its ID, and only when it is
/// a response (QR=1) that echoes that query's question. Anything else is dropped.
async fn receive(socket: Arc<UdpSocket>, pending: Arc<Pending>) {
    let mut buf = vec![0u8; 65535];
    loop {
        let len = match socket.recv(&mut buf).await {
            Ok(len) => len,
            // ICMP errors (port unreachable) surface here on a connected socket; the queries
            // waiting on this socket time out and are retried.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let Some(id) = buf.get(..2).map(|b| u16::from_be_bytes([b[0], b[1]])) else {
            continue;
        };
        let Ok(mut waiting) = pending.lock() else {
            return;
        };
        let Some(entry) = waiting.get(&id) else {
            continue;
        };
        let Ok(message) = decode_for(&buf[..len], &entry.keep) else {
            continue;
        };
        let echoed = message.queries.len() == 1 && message.queries[0] == entry.query;
        // Some servers leave out the question in an error answer (FORMERR to EDNS).
        let bare_error =
            message.queries.is_empty() && message.metadata.response_code != ResponseCode::NoError;
        if message.metadata.message_type == MessageType::Response && (echoed || bare_error) {
            if let Some(entry) = waiting.remove(&id) {
                let _ = entry.answer.send(message);
            }
        }
    }
}

/// What a caller reads from an answer: the RRsets (owner, type) it names and, when `dnssec`
/// is set, every RRSIG, NSEC and NSEC3 record (signatures and denial proofs). With `dnssec`
/// the question is asked with the DO bit: servers send an RRset's signatures only then.
#[derive(Clone, Debug)]
pub struct Keep {
    /// The RRsets read.
    pub rrsets: Vec<(Name, RecordType)>,
    /// Ask with DO=1 and keep the DNSSEC records of every section.
    pub dnssec: bool,
}

impl Keep {
    /// One RRset, asked with DO=1 only for the DNSSEC types.
    pub fn rrset(name: &Name, rtype: RecordType) -> Keep {
        Keep {
            rrsets: vec![(name.clone(), rtype)],
            dnssec: wants_dnssec(rtype),
        }
    }

    fn wants_type(&self, rtype: RecordType) -> bool {
        self.rrsets.iter().any(|(_, t)| *t == rtype)
    }

    fn wants(&self, owner: &Name, rtype: RecordType) -> bool {
        self.rrsets.iter().any(|(n, t)| *t == rtype && n == owner)
    }
}

/// Decodes a response keeping, in each section, only what `keep` names and the OPT record;
/// the others are stepped over (their owner is read only where the type is a kept one). A
/// referral from a parent zone carries dozens of glue records of which a probe reads a few,
/// and decoding every record was the largest cost of an audit of the root zone by queries.
/// Header, question and rcode (with EDNS's extended bits) are read as a full decode reads them.
/// A truncated answer is decoded whole: an empty one is a rate limiter's slip.
pub fn decode_for(bytes: &[u8], keep: &Keep) -> Result<Message, DecodeError> {
    let mut decoder = BinDecoder::new(bytes);
    let Header { metadata, counts } = Header::read(&mut decoder)?;
    if metadata.truncation {
        return Message::from_vec(bytes);
    }
    let mut message = Message::new(metadata.id, metadata.message_type, metadata.op_code);
    message.metadata = metadata;
    for _ in 0..counts.queries {
        message.queries.push(Query::read(&mut decoder)?);
    }
    let sections = [counts.answers, counts.authorities, counts.additionals];
    for (section, count) in sections.into_iter().enumerate() {
        for _ in 0..count {
            let start = decoder.index();
            let start = u16::try_from(start).map_err(|_| DecodeError::InsufficientBytes)?;
            // The type comes after the owner: the owner is stepped over first, and read (with
            // its compression pointers) only where the type is the one kept.
            skip_name(&mut decoder)?;
            let rtype = RecordType::from(decoder.read_u16()?.unverified());
            let is_opt = rtype == RecordType::OPT;
            let dnssec = matches!(
                rtype,
                RecordType::RRSIG | RecordType::NSEC | RecordType::NSEC3
            );
            let kept = is_opt
                || (keep.dnssec && dnssec)
                || (keep.wants_type(rtype)
                    && keep.wants(&Name::read(&mut decoder.clone(start))?, rtype));
            if !kept {
                decoder.read_slice(6)?; // class, TTL
                let len = decoder.read_u16()?.unverified();
                decoder.read_slice(usize::from(len))?;
                continue;
            }
            decoder = decoder.clone(start);
            let record = Record::read(&mut decoder)?;
            if !is_opt && record.data.is_update() {
                return Err(DecodeError::InvalidEmptyRecord);
            }
            match section {
                _ if is_opt && section < 2 => {
                    return Err(DecodeError::RecordNotInAdditionalSection(rtype))
                }
                _ if is_opt && message.edns.is_some() => return Err(DecodeError::DuplicateEdns),
                0 => message.answers.push(record),
                1 => message.authorities.push(record),
                _ if is_opt => {
                    let edns = Edns::from(&record);
                    message.metadata.merge_response_code(edns.rcode_high());
                    message.edns = Some(edns);
                }
                _ => message.additionals.push(record),
            }
        }
    }
    Ok(message)
}

/// Steps over a name in wire form: its labels up to the root label or a compression pointer,
/// which ends it. Where the pointer leads is read only when the name itself is.
fn skip_name(decoder: &mut BinDecoder<'_>) -> Result<(), DecodeError> {
    loop {
        let length = decoder.read_u8()?.unverified();
        match length {
            0 => return Ok(()),
            1..=63 => {
                decoder.read_slice(usize::from(length))?;
            }
            0xC0..=0xFF => {
                decoder.read_u8()?;
                return Ok(());
            }
            _ => return Err(DecodeError::UnrecognizedLabelCode(length)),
        }
    }
}

fn network(e: impl std::fmt::Display) -> Failure {
    Failure::Network(e.to_string())
}

impl Server {
    /// Transfers the whole zone (AXFR over its own TCP connection).
    ///
    /// Read here rather than through hickory-net's `zone_transfer`: its TCP multiplexer hands
    /// each response message to a channel of 8 with `try_send` and drops what does not fit, so
    /// a transfer of more than a few messages silently loses records (seen on the root zone:
    /// 1,799 false "missing" findings). A refusal, an error rcode, an answer without AA, a
    /// message for another ID and a transfer that does not end with the SOA it began with are
    /// failures, never an empty or partial zone.
    pub async fn transfer(
        &self,
        origin: &Name,
        timeout: Duration,
        tsig: Option<&TsigKey>,
    ) -> Result<Vec<hickory_proto::rr::Record>, Failure> {
        self.count(|s| s.queries += 1);
        let max = self.settings.max_transfer_records;
        tokio::time::timeout(timeout, read_transfer(self.addr, origin, tsig, max))
            .await
            .unwrap_or(Err(Failure::Timeout))
    }
}

async fn read_transfer(
    addr: SocketAddr,
    origin: &Name,
    tsig: Option<&TsigKey>,
    max_records: usize,
) -> Result<Vec<hickory_proto::rr::Record>, Failure> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(network)?;
    let id: u16 = rand::random();
    let mut request = Message::query();
    request.metadata.id = id;
    request
        .queries
        .push(Query::query(origin.clone(), RecordType::AXFR));
    let mut verifier = match tsig {
        Some(key) => {
            let algorithm = Name::from_ascii(&key.algorithm)
                .map_err(|e| Failure::Malformed(format!("TSIG algorithm: {e}")))?;
            let signer = hickory_proto::rr::TSigner::new(
                key.secret.clone(),
                hickory_proto::rr::rdata::tsig::TsigAlgorithm::from_name(algorithm),
                key.name.clone(),
                300,
            )
            .map_err(|e| Failure::Malformed(format!("TSIG key: {e}")))?;
            let now = u64::try_from(jiff::Timestamp::now().as_second()).unwrap_or(0);
            request
                .finalize(&signer, now)
                .map_err(|e| Failure::Malformed(format!("cannot sign the transfer: {e}")))?
        }
        None => None,
    };
    let bytes = request
        .to_vec()
        .map_err(|e| Failure::Malformed(e.to_string()))?;
    let len =
        u16::try_from(bytes.len()).map_err(|_| Failure::Malformed("query too long".into()))?;
    let mut framed = len.to_be_bytes().to_vec();
    framed.extend_from_slice(&bytes);
    stream.write_all(&framed).await.map_err(network)?;

    let mut records: Vec<hickory_proto::rr::Record> = Vec::new();
    let mut closed = false;
    let mut buf = Vec::new();
    loop {
        let len = stream.read_u16().await.map_err(|e| {
            Failure::Malformed(format!("zone transfer ended before its closing SOA: {e}"))
        })?;
        buf.resize(usize::from(len), 0);
        stream.read_exact(&mut buf).await.map_err(network)?;
        let message = match verifier.as_mut() {
            // Every message of a signed transfer must carry a valid signature chained to ours.
            Some(verifier) => match verifier.verify(&buf) {
                Ok(response) => response.into_message(),
                Err(e) => {
                    let rcode = Message::from_vec(&buf)
                        .ok()
                        .map(|m| m.metadata.response_code);
                    return Err(match rcode {
                        Some(rcode) if rcode != ResponseCode::NoError => {
                            Failure::Rcode(format!("AXFR {}", rcode_name(rcode)))
                        }
                        _ => Failure::Malformed(format!("TSIG verification failed: {e}")),
                    });
                }
            },
            None => Message::from_vec(&buf).map_err(|e| Failure::Malformed(e.to_string()))?,
        };
        if message.metadata.id != id || message.metadata.message_type != MessageType::Response {
            return Err(Failure::Malformed(
                "zone transfer message for another query".into(),
            ));
        }
        let rcode = message.metadata.response_code;
        if rcode != ResponseCode::NoError {
            return Err(Failure::Rcode(format!("AXFR {}", rcode_name(rcode))));
        }
        // RFC 5936 2.2.1: the question, where a message carries one, is ours. The AA bit is
        // not read: the RFC recommends that clients ignore it, and Knot sends AA=0 on every
        // message of a transfer that BIND and NSD secondaries take.
        if message
            .queries
            .iter()
            .any(|q| q.name() != origin || q.query_type() != RecordType::AXFR)
        {
            return Err(Failure::Malformed(
                "zone transfer message for another question".into(),
            ));
        }
        let mut answers = message.answers.into_iter();
        if records.is_empty() {
            match answers.next() {
                Some(soa) if soa.record_type() == RecordType::SOA && soa.name == *origin => {
                    records.push(soa)
                }
                _ => {
                    return Err(Failure::Malformed(
                        "zone transfer refused (no SOA first)".into(),
                    ))
                }
            }
        }
        for record in answers {
            // The transfer ends with the SOA it began with (RFC 5936 2.2): an SOA of the zone
            // that differs from the first, or anything after the last, is a broken transfer.
            if record.record_type() == RecordType::SOA && record.name == *origin {
                if records.first().map(|first| &first.data) != Some(&record.data) {
                    return Err(Failure::Malformed(
                        "zone transfer's closing SOA differs from its first".into(),
                    ));
                }
                if closed {
                    return Err(Failure::Malformed(
                        "zone transfer has records after its closing SOA".into(),
                    ));
                }
                closed = true;
                continue;
            }
            if closed {
                return Err(Failure::Malformed(
                    "zone transfer has records after its closing SOA".into(),
                ));
            }
            records.push(record);
        }
        if records.len() > max_records.saturating_add(1) {
            return Err(Failure::TooLarge(max_records));
        }
        if closed {
            return Ok(records);
        }
    }
}

/// An rcode by its mnemonic, as dig and the RFCs write it (SERVFAIL, not "Server Failure").
pub fn rcode_name(rcode: ResponseCode) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::OpCode;
    use hickory_proto::rr::rdata::{A, NS};
    use hickory_proto::rr::RData;
    use std::str::FromStr;

    fn name(s: &str) -> Name {
        Name::from_str(s).unwrap()
    }

    /// A referral for `com.` as a root server gives it: NS in authority, glue in additional.
    fn referral() -> Message {
        let mut message = Message::new(7, MessageType::Response, OpCode::Query);
        message
            .queries
            .push(Query::query(name("com."), RecordType::NS));
        for ns in ["a.gtld.net.", "b.gtld.net."] {
            let data = RData::NS(NS(name(ns)));
            message
                .authorities
                .push(Record::from_rdata(name("com."), 172800, data));
            let glue = RData::A(A::new(192, 0, 2, ns.len() as u8));
            message
                .additionals
                .push(Record::from_rdata(name(ns), 172800, glue));
        }
        let mut edns = Edns::new();
        edns.set_max_payload(EDNS_BUFFER);
        message.edns = Some(edns);
        message
    }

    #[test]
    fn only_the_kept_rrset_is_decoded_from_a_referral() {
        let bytes = referral().to_vec().unwrap();
        let glue = decode_for(&bytes, &Keep::rrset(&name("B.gtld.net."), RecordType::A)).unwrap();
        assert!(glue.authorities.is_empty());
        assert_eq!(glue.additionals.len(), 1);
        assert_eq!(glue.additionals[0].name, name("b.gtld.net."));
        assert!(glue.edns.is_some());
        assert_eq!(glue.queries, referral().queries);

        let ns = decode_for(&bytes, &Keep::rrset(&name("com."), RecordType::NS)).unwrap();
        assert_eq!(ns.authorities, referral().authorities);
        assert!(ns.additionals.is_empty());
    }

    #[test]
    fn extended_rcodes_and_misplaced_opt_are_read_as_a_full_decode_reads_them() {
        let mut badvers = referral();
        badvers.metadata.response_code = ResponseCode::BADVERS;
        let bytes = badvers.to_vec().unwrap();
        let decoded = decode_for(&bytes, &Keep::rrset(&name("com."), RecordType::NS)).unwrap();
        let full = Message::from_vec(&bytes).unwrap();
        assert_eq!(decoded.metadata.response_code, full.metadata.response_code);
        assert_eq!(u16::from(decoded.metadata.response_code), 16);

        let mut misplaced = referral();
        let opt = Record::from_rdata(Name::root(), 0, RData::Update0(RecordType::OPT));
        misplaced.answers.push(opt);
        let bytes = misplaced.to_vec().unwrap();
        assert!(Message::from_vec(&bytes).is_err());
        assert!(decode_for(&bytes, &Keep::rrset(&name("x."), RecordType::A)).is_err());

        let mut cut_short = referral().to_vec().unwrap();
        cut_short.truncate(cut_short.len() - 3);
        assert!(decode_for(&cut_short, &Keep::rrset(&name("x."), RecordType::A)).is_err());
    }

    #[test]
    fn a_truncated_answer_is_decoded_whole() {
        let mut truncated = referral();
        truncated.metadata.truncation = true;
        let bytes = truncated.to_vec().unwrap();
        let decoded = decode_for(&bytes, &Keep::rrset(&name("x."), RecordType::A)).unwrap();
        assert_eq!(decoded.authorities.len(), 2);
        assert_eq!(decoded.additionals.len(), 2);
    }
}
