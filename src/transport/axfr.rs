//! Zone transfers (AXFR, RFC 5936) over their own TCP connection, TSIG-signed when configured.

use std::net::SocketAddr;
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, Query, ResponseCode};
use hickory_proto::rr::rdata::tsig::TsigAlgorithm;
use hickory_proto::rr::{Name, Record, RecordType, TSigVerifier, TSigner};

use crate::model::{Rdata, Served};

use super::{network, rcode_name, Failure, Server};
use crate::config::TsigKey;

impl Server {
    /// Transfers the whole zone (AXFR over its own TCP connection).
    ///
    /// Read here rather than through hickory-net's `zone_transfer`: its TCP multiplexer hands
    /// each response message to a channel of 8 with `try_send` and drops what does not fit, so
    /// a transfer of more than a few messages silently loses records (seen on the root zone:
    /// 1,799 false "missing" findings). A refusal, an error rcode, a message for another ID
    /// or question, and a transfer that does not end with the SOA it began with are failures,
    /// never an empty or partial zone.
    pub async fn transfer(
        &self,
        origin: &Name,
        timeout: Duration,
        tsig: Option<&TsigKey>,
    ) -> Result<Served, Failure> {
        self.count(|s| s.queries += 1);
        let max = self.settings.max_transfer_records;
        tokio::time::timeout(timeout, read_transfer(self.addr, origin, tsig, max))
            .await
            .unwrap_or(Err(Failure::Timeout))
    }
}

impl Server {
    /// A transfer of this server's started before it was asked (the audit starts them while
    /// it loads the zone files): awaited, and counted as its query.
    pub(crate) async fn started_transfer(
        &self,
        pending: tokio::task::JoinHandle<Result<Served, Failure>>,
    ) -> Result<Served, Failure> {
        self.count(|s| s.queries += 1);
        pending
            .await
            .unwrap_or_else(|e| Err(Failure::Network(format!("the transfer stopped: {e}"))))
    }
}

async fn read_transfer(
    addr: SocketAddr,
    origin: &Name,
    tsig: Option<&TsigKey>,
    max_records: usize,
) -> Result<Served, Failure> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(network)?;
    let (framed, id, mut verifier) = request(origin, tsig)?;
    stream.write_all(&framed).await.map_err(network)?;
    let mut zone = Received::default();
    let mut buf = Vec::new();
    loop {
        let len = stream.read_u16().await.map_err(|e| {
            Failure::Malformed(format!("zone transfer ended before its closing SOA: {e}"))
        })?;
        buf.resize(usize::from(len), 0);
        stream.read_exact(&mut buf).await.map_err(network)?;
        let message = open(&buf, verifier.as_mut())?;
        accept(&message, id, origin)?;
        crate::progress::records_read(message.answers.len());
        zone.take(message.answers, origin)?;
        if zone.records.len() > max_records.saturating_add(1) {
            return Err(Failure::TooLarge(max_records));
        }
        if zone.closed {
            return Ok(zone.records);
        }
    }
}

/// The AXFR query, framed for TCP, with its ID and, when signed, the verifier of the answers.
fn request(
    origin: &Name,
    tsig: Option<&TsigKey>,
) -> Result<(Vec<u8>, u16, Option<TSigVerifier>), Failure> {
    let id: u16 = rand::random();
    let mut request = Message::query();
    request.metadata.id = id;
    request
        .queries
        .push(Query::query(origin.clone(), RecordType::AXFR));
    let verifier = match tsig {
        Some(key) => {
            let algorithm = Name::from_ascii(&key.algorithm)
                .map_err(|e| Failure::Malformed(format!("TSIG algorithm: {e}")))?;
            let signer = TSigner::new(
                key.secret.clone(),
                TsigAlgorithm::from_name(algorithm),
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
    Ok((framed, id, verifier))
}

/// One message of the transfer, decoded; in a signed transfer every message must carry a
/// valid signature chained to the query's (an error rcode unsigned is read as that rcode).
fn open(buf: &[u8], verifier: Option<&mut TSigVerifier>) -> Result<Message, Failure> {
    let Some(verifier) = verifier else {
        return Message::from_vec(buf).map_err(|e| Failure::Malformed(e.to_string()));
    };
    match verifier.verify(buf) {
        Ok(response) => Ok(response.into_message()),
        Err(e) => {
            let rcode = Message::from_vec(buf)
                .ok()
                .map(|m| m.metadata.response_code);
            Err(match rcode {
                Some(rcode) if rcode != ResponseCode::NoError => {
                    Failure::Rcode(format!("AXFR {}", rcode_name(rcode)))
                }
                _ => Failure::Malformed(format!("TSIG verification failed: {e}")),
            })
        }
    }
}

/// Whether a message belongs to this transfer (RFC 5936 2.2.1): a response to our ID, rcode
/// NOERROR, and our question where it carries one. The AA bit is not read: the RFC
/// recommends that clients ignore it, and Knot sends AA=0 on every message of a transfer that
/// BIND and NSD secondaries take.
fn accept(message: &Message, id: u16, origin: &Name) -> Result<(), Failure> {
    if message.metadata.id != id || message.metadata.message_type != MessageType::Response {
        return Err(Failure::Malformed(
            "zone transfer message for another query".into(),
        ));
    }
    let rcode = message.metadata.response_code;
    if rcode != ResponseCode::NoError {
        return Err(Failure::Rcode(format!("AXFR {}", rcode_name(rcode))));
    }
    if message
        .queries
        .iter()
        .any(|q| q.name() != origin || q.query_type() != RecordType::AXFR)
    {
        return Err(Failure::Malformed(
            "zone transfer message for another question".into(),
        ));
    }
    Ok(())
}

/// The records of a transfer so far (each stored as it comes, compactly: a transfer of a
/// million records is not held as a million hickory records), the opening SOA, and whether
/// the closing one came.
#[derive(Default)]
struct Received {
    records: Served,
    first: Option<Record>,
    closed: bool,
}

impl Received {
    /// Takes the answers of one message. The transfer begins with the zone's SOA and ends with
    /// the same SOA (RFC 5936 2.2): a first record that is not it, a closing SOA that differs,
    /// or anything after it is a broken transfer. Data hickory cannot encode back is left out,
    /// as every answer's is.
    fn take(&mut self, answers: Vec<Record>, origin: &Name) -> Result<(), Failure> {
        let after_the_end =
            || Failure::Malformed("zone transfer has records after its closing SOA".into());
        let mut answers = answers.into_iter();
        if self.first.is_none() {
            match answers.next() {
                Some(soa) if soa.record_type() == RecordType::SOA && soa.name == *origin => {
                    self.keep(&soa, origin);
                    self.first = Some(soa);
                }
                _ => {
                    return Err(Failure::Malformed(
                        "zone transfer refused (no SOA first)".into(),
                    ))
                }
            }
        }
        for record in answers {
            if self.closed {
                return Err(after_the_end());
            }
            if record.record_type() == RecordType::SOA && record.name == *origin {
                if self.first.as_ref().map(|first| &first.data) != Some(&record.data) {
                    return Err(Failure::Malformed(
                        "zone transfer's closing SOA differs from its first".into(),
                    ));
                }
                self.closed = true;
                continue;
            }
            self.keep(&record, origin);
        }
        Ok(())
    }

    /// Keeps a record of the zone; one outside its apex or of another class is counted as
    /// foreign, never taken for zone data.
    fn keep(&mut self, record: &Record, origin: &Name) {
        if !origin.zone_of(&record.name) || record.dns_class != hickory_proto::rr::DNSClass::IN {
            self.records.foreign.add(|| {
                crate::escape::terminal(&format!(
                    "{} {} {}",
                    crate::model::present_name(&record.name),
                    record.dns_class,
                    record.record_type()
                ))
            });
            return;
        }
        if let Some(rdata) = Rdata::from_hickory(&record.data) {
            // The key the owner is stored by is lowered: no canonical copy of the name.
            self.records
                .push(&record.name, record.record_type(), record.ttl, rdata);
        }
    }
}
