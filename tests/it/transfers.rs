//! Zone transfers read as RFC 5936 asks of a client, against a server on 127.0.0.1 that
//! sends each transfer the way the test says: what the RFC leaves to the server (the AA bit,
//! the question after the first message, how records are split into messages) is taken as any
//! secondary takes it; what breaks a transfer (another question, an error rcode, a closing SOA
//! that is not the first, records after it) is a failed transfer, said as such, never drift.

use std::net::SocketAddr;
use std::str::FromStr;

use crate::common::*;
use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How the test server sends its transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Style {
    /// AA=1, question in every message, all records in one message.
    Plain,
    /// AA=0 on every message (Knot DNS).
    NoAa,
    /// One record per message, the question only in the first.
    OneRecordEach,
    /// The first message asks about another zone.
    OtherQuestion,
    /// The second message carries SERVFAIL.
    ErrorMidway,
    /// The closing SOA has another serial.
    OtherClosingSoa,
    /// A record follows the closing SOA.
    AfterTheEnd,
}

/// The zone's records, the SOA first, in wire form.
fn records(text: &str) -> Vec<Record> {
    let zone = zone(text);
    let mut soa = Vec::new();
    let mut rest = Vec::new();
    for (name, sets) in zone.iter() {
        for (rtype, set) in sets {
            for rdata in &set.rdatas {
                let record =
                    Record::from_rdata(name.clone(), set.ttl, rdata.to_hickory(*rtype).unwrap());
                if *rtype == RecordType::SOA {
                    soa.push(record);
                } else {
                    rest.push(record);
                }
            }
        }
    }
    soa.extend(rest);
    soa
}

fn response(id: u16, question: &Query, aa: bool, answers: Vec<Record>) -> Vec<u8> {
    let mut m = Message::new(id, MessageType::Response, OpCode::Query);
    m.metadata.authoritative = aa;
    m.queries.push(question.clone());
    m.answers = answers;
    let bytes = m.to_vec().unwrap();
    let mut framed = u16::try_from(bytes.len()).unwrap().to_be_bytes().to_vec();
    framed.extend(bytes);
    framed
}

/// The messages of a transfer of `records` (SOA first) sent `style`'s way, for query `id`.
fn transfer(style: Style, id: u16, origin: &Name, records: &[Record]) -> Vec<u8> {
    let question = Query::query(origin.clone(), RecordType::AXFR);
    let soa = records[0].clone();
    let mut closing = soa.clone();
    if style == Style::OtherClosingSoa {
        if let RData::SOA(data) = &mut closing.data {
            data.serial += 1;
        }
    }
    let mut all = records.to_vec();
    all.push(closing);
    let mut out = Vec::new();
    match style {
        Style::OneRecordEach => {
            for (at, record) in all.into_iter().enumerate() {
                let mut message = response(id, &question, true, vec![record]);
                if at > 0 {
                    // QDCOUNT 0: RFC 5936 2.2.1 lets later messages leave the question out.
                    let mut m = Message::from_vec(&message[2..]).unwrap();
                    m.queries.clear();
                    let bytes = m.to_vec().unwrap();
                    message = u16::try_from(bytes.len()).unwrap().to_be_bytes().to_vec();
                    message.extend(bytes);
                }
                out.extend(message);
            }
        }
        Style::OtherQuestion => {
            let other = Query::query(Name::from_str("other.example.").unwrap(), RecordType::AXFR);
            out.extend(response(id, &other, true, all));
        }
        Style::ErrorMidway => {
            let half = all.len() / 2;
            out.extend(response(id, &question, true, all[..half].to_vec()));
            let mut m = Message::new(id, MessageType::Response, OpCode::Query);
            m.metadata.response_code = ResponseCode::ServFail;
            m.queries.push(question.clone());
            let bytes = m.to_vec().unwrap();
            out.extend(u16::try_from(bytes.len()).unwrap().to_be_bytes());
            out.extend(bytes);
            out.extend(response(id, &question, true, all[half..].to_vec()));
        }
        Style::AfterTheEnd => {
            all.push(records[1].clone());
            out.extend(response(id, &question, true, all));
        }
        Style::Plain | Style::OtherClosingSoa => out.extend(response(id, &question, true, all)),
        Style::NoAa => out.extend(response(id, &question, false, all)),
    }
    out
}

/// Serves `text` on 127.0.0.1: the SOA over UDP, the transfer over TCP `style`'s way.
async fn serve_transfer(text: &str, style: Style) -> SocketAddr {
    let origin = Name::from_str(ORIGIN).unwrap();
    let records = records(text);
    let (udp, tcp, addr) = loopback_pair().await;
    let soa = records[0].clone();
    tokio::spawn(async move {
        let mut buf = [0u8; 1500];
        while let Ok((len, from)) = udp.recv_from(&mut buf).await {
            let Ok(query) = Message::from_vec(&buf[..len]) else {
                continue;
            };
            let mut m = Message::new(query.metadata.id, MessageType::Response, OpCode::Query);
            m.metadata.authoritative = true;
            m.queries = query.queries.clone();
            if query.queries.first().map(Query::query_type) == Some(RecordType::SOA) {
                m.answers.push(soa.clone());
            }
            let _ = udp.send_to(&m.to_vec().unwrap(), from).await;
        }
    });
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = tcp.accept().await {
            let records = records.clone();
            let origin = origin.clone();
            tokio::spawn(async move {
                let len = stream.read_u16().await.unwrap();
                let mut query = vec![0; usize::from(len)];
                stream.read_exact(&mut query).await.unwrap();
                let id = Message::from_vec(&query).unwrap().metadata.id;
                let _ = stream
                    .write_all(&transfer(style, id, &origin, &records))
                    .await;
            });
        }
    });
    addr
}

const ALWAYS: &str = "timeout_ms = 1000\nretries = 1\naxfr = \"always\"\n";

#[tokio::test(flavor = "multi_thread")]
async fn what_rfc_5936_leaves_to_the_server_is_taken() {
    let live = format!("{ZONE}bh71 IN A 203.0.113.17\n");
    for style in [Style::Plain, Style::NoAa, Style::OneRecordEach] {
        let addr = serve_transfer(&live, style).await;
        let dir = expected_dir(ZONE, ALWAYS);
        let (code, json) = check_json(dir.path(), &[("ns1", addr)]).await;
        assert_eq!(code, 1, "{style:?}: {json:#}");
        let drift = drift(&json);
        assert_eq!(drift.len(), 1, "{style:?}: {drift:#?}");
        assert_eq!(drift[0]["kind"], "unexpected_name", "{style:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broken_transfer_is_a_failed_transfer_never_drift() {
    let cases = [
        (Style::OtherQuestion, "another question"),
        (Style::ErrorMidway, "SERVFAIL"),
        (Style::OtherClosingSoa, "closing SOA differs"),
        (Style::AfterTheEnd, "after its closing SOA"),
    ];
    for (style, said) in cases {
        let addr = serve_transfer(ZONE, style).await;
        let dir = expected_dir(ZONE, ALWAYS);
        let (code, json) = check_json(dir.path(), &[("ns1", addr)]).await;
        assert_eq!(code, 3, "{style:?}: {json:#}");
        assert!(drift(&json).is_empty(), "{style:?}: {json:#}");
        let failure = json["zones"][0]["servers"][0]["transfer_failure"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(failure.contains(said), "{style:?}: {failure}");
    }
}

/// A TCP listener that counts the connections it accepts and then says nothing on them (a
/// transfer that would hang until its timeout); the UDP side of the port is silent too.
async fn silent_server() -> (
    SocketAddr,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
    tokio::task::JoinHandle<()>,
    UdpSocketKeep,
) {
    let (udp, tcp, addr) = loopback_pair().await;
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = std::sync::Arc::clone(&accepted);
    let task = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((stream, _)) = tcp.accept().await {
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            open.push(stream);
        }
    });
    (addr, accepted, task, UdpSocketKeep(udp))
}

/// Keeps the silent UDP socket bound for the test.
struct UdpSocketKeep(#[allow(dead_code)] tokio::net::UdpSocket);

/// Where the servers are known before the zone files are read (`--nameserver`), the transfer
/// starts while they load. A server that then gives no SOA is unreachable, never drift, and
/// the run does not wait out the transfer it had started (60 s by default); a run turned away
/// by another's lock has asked nothing at all.
#[tokio::test(flavor = "multi_thread")]
async fn a_transfer_started_while_loading_is_dropped_with_a_silent_server() {
    let (addr, accepted, task, _udp) = silent_server().await;
    let dir = expected_dir(ZONE, "timeout_ms = 200\nretries = 0\naxfr = \"auto\"\n");
    let started = std::time::Instant::now();
    let (code, json) = check_json_with(dir.path(), &[("ns1", addr)], &["--no-record"]).await;
    assert_eq!(code, 3, "{json:#}");
    assert!(drift(&json).is_empty(), "{json:#}");
    assert_eq!(
        json["zones"][0]["servers"][0]["status"], "timeout",
        "{json:#}"
    );
    assert_eq!(json["zones"][0]["servers"][0]["queries"], 1, "{json:#}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "the run waited for the transfer: {:?}",
        started.elapsed()
    );
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 1);

    // The store's lock held by another run: this one stops at once, and sent nothing.
    let state = tempfile::tempdir().unwrap();
    let store = state.path().join("history.sqlite");
    let _held = dns_audit::lock::RunLock::acquire(&dns_audit::lock::lock_path(&store), false)
        .unwrap()
        .unwrap();
    let out = audit("check")
        .expected(dir.path())
        .state(&store)
        .nameserver("ns1", addr)
        .run()
        .await;
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 1);
    task.abort();
}
