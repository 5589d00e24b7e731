//! UDP, multiplexed: a few connected sockets per server, queries told apart by random ID and
//! matched to answers by ID and question.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::{Edns, Message, MessageType, Query, ResponseCode};
use hickory_proto::rr::{Name, RecordType};
use tokio::net::UdpSocket;
use tokio::sync::oneshot;

use super::{decode_for, network, Failure, Keep, EDNS_BUFFER};

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
pub(super) struct UdpMux {
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
    pub(super) async fn open(addr: SocketAddr) -> std::io::Result<Arc<UdpMux>> {
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

    pub(super) async fn query(
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
        // RFC 5001: which instance answers (one bad anycast node behind a shared address).
        if let Ok(empty) = hickory_proto::rr::rdata::opt::NSIDPayload::new(Vec::new()) {
            edns.options_mut()
                .insert(hickory_proto::rr::rdata::opt::EdnsOption::NSID(empty));
        }
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
