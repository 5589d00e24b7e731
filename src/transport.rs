//! Asking one authoritative server one question: non-recursive, UDP with TCP on truncation,
//! bounded retries with backoff and a bounded number of queries in flight.
//!
//! The wire work is hickory-net's: its UDP client stream draws a fresh random source port per
//! query and drops answers from another address or port, with another ID or another question;
//! its TCP stream multiplexes queries over one connection. This module adds what an auditor needs
//! on top: RD=0, checks of QR, opcode, question and rcode, and a verdict that keeps every kind of
//! failure apart from an answer.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use hickory_net::runtime::TokioRuntimeProvider;
use hickory_net::tcp::TcpClientStream;
use hickory_net::udp::UdpClientStream;
use hickory_net::xfer::{DnsExchange, DnsHandle, DnsRequestSender};
use hickory_proto::op::{DnsRequest, DnsRequestOptions, Message, MessageType, Query, ResponseCode};
use hickory_proto::rr::{Name, RecordType};
use tokio::sync::{Mutex, Semaphore};

use crate::config::QuerySettings;

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
        }
    }
}

/// Which transport carried an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Carried {
    /// A single UDP datagram.
    Udp,
    /// TCP, after a truncated UDP answer (or for a transfer).
    Tcp,
}

/// A checked answer: QR set, our question echoed, rcode NOERROR or NXDOMAIN.
#[derive(Debug)]
pub struct Answer {
    /// The whole message.
    pub message: Message,
    /// How it came.
    pub carried: Carried,
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
}

/// One nameserver address and the means to ask it.
pub struct Server {
    addr: SocketAddr,
    settings: QuerySettings,
    provider: TokioRuntimeProvider,
    in_flight: Semaphore,
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
    pub async fn query(&self, name: &Name, rtype: RecordType) -> Result<Answer, Failure> {
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
            self.count(|s| s.queries += 1);
            match self.udp(name, rtype).await {
                Ok(message) if message.metadata.truncation => {
                    self.count(|s| s.tcp_fallbacks += 1);
                    return match self.tcp_query(name, rtype).await {
                        Ok(message) if message.metadata.truncation => Err(Failure::Truncated),
                        Ok(message) => check(message, name, rtype, Carried::Tcp),
                        Err(Failure::Timeout | Failure::Network(_)) => Err(Failure::Truncated),
                        Err(other) => Err(other),
                    };
                }
                Ok(message) => return check(message, name, rtype, Carried::Udp),
                Err(failure @ (Failure::Timeout | Failure::Network(_))) => last = failure,
                Err(other) => return Err(other),
            }
        }
        Err(last)
    }

    fn request(name: &Name, rtype: RecordType) -> DnsRequest {
        let mut options = DnsRequestOptions::default();
        options.recursion_desired = false;
        options.use_edns = true;
        options.edns_payload_len = EDNS_BUFFER;
        DnsRequest::from_query(Query::query(name.clone(), rtype), options)
    }

    async fn udp(&self, name: &Name, rtype: RecordType) -> Result<Message, Failure> {
        let mut stream = UdpClientStream::builder(self.addr, self.provider.clone())
            .with_timeout(Some(self.settings.timeout))
            .with_max_retries(1)
            .build();
        let mut responses = stream.send_message(Self::request(name, rtype));
        match responses.next().await {
            Some(Ok(response)) => Ok(response.into_message()),
            Some(Err(e)) => Err(classify(e)),
            None => Err(Failure::Timeout),
        }
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
    pub async fn tcp_query(&self, name: &Name, rtype: RecordType) -> Result<Message, Failure> {
        let mut last = Failure::Timeout;
        for _ in 0..2 {
            let exchange = self.tcp_exchange().await?;
            self.count(|s| s.queries += 1);
            let mut responses = exchange.send(Self::request(name, rtype));
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

/// Checks that a message answers our question and is usable; anything else is a failure.
pub fn check(
    message: Message,
    name: &Name,
    rtype: RecordType,
    carried: Carried,
) -> Result<Answer, Failure> {
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
        ResponseCode::NoError | ResponseCode::NXDomain => Ok(Answer { message, carried }),
        other => Err(Failure::Rcode(other.to_str().to_ascii_uppercase())),
    }
}
