//! Test support: real servers on 127.0.0.1 and the binary under test.
//!
//! - [`serve`] starts dns-audit's in-process hickory authoritative server.
//! - [`FaultProxy`] sits between the audit and a real server and injects one fault per matching
//!   query (drop, rcode, no AA, wrong ID, wrong question, QR=0, empty TC=1 slip, other source
//!   port, truncation); everything else is forwarded untouched, so the data is always real.
//! - [`daemons::Daemon`] starts a real NSD, Knot, BIND or PowerDNS (from Debian's packages) on a
//!   free loopback port.
//! - [`signing::Signer`] signs zones at test time with BIND's dnssec-keygen and dnssec-signzone.

#![allow(dead_code)]

pub mod daemons;
pub mod golden;
pub mod signing;

#[allow(unused_imports)]
pub use daemons::{free_port, Daemon, Setup, Software, Transfer, Unbound, EVERY_SERVER};

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use dns_audit::model::Zone;
use dns_audit::server::AuthServer;
use dns_audit::zonefile::{load_zone_bytes, ZoneLimits};
use hickory_proto::op::{Message, MessageType, ResponseCode};
use hickory_proto::rr::{Name, RecordType};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

/// A small zone with two hosts, a CNAME and a wildcard.
pub const ZONE: &str = "$ORIGIN bots.example.net.
$TTL 300
@ 3600 IN SOA ns1 hostmaster.example.net. ( 2026112401 3600 900 1209600 300 )
@ 3600 IN NS ns1
@ 3600 IN NS ns2
@ IN TXT \"v=spf1 -all\"
ns1 IN A 192.0.2.53
ns2 IN A 198.51.100.53
bh17 IN A 203.0.113.17
bh17 IN AAAA 2001:db8:100::17
panel.bh17 IN CNAME bh17
bh18 IN A 203.0.113.18
*.bh18 IN A 203.0.113.18
";

pub const ORIGIN: &str = "bots.example.net.";

/// Parses zone text of [`ORIGIN`] into the model (for serving).
pub fn zone(text: &str) -> Zone {
    let origin = Name::from_str(ORIGIN).unwrap();
    load_zone_bytes(
        Path::new("test.zone"),
        text.as_bytes(),
        &origin,
        ZoneLimits::default(),
    )
    .unwrap()
    .zone
}

/// Starts an in-process authoritative server for `text` on 127.0.0.1.
pub async fn serve(text: &str) -> AuthServer {
    AuthServer::start("127.0.0.1:0".parse().unwrap(), &[zone(text)])
        .await
        .unwrap()
}

/// Starts an in-process authoritative server for `text` at `addr` (a server that keeps its
/// address between runs, as real ones do: the history knows servers by address).
pub async fn serve_at(addr: SocketAddr, text: &str) -> AuthServer {
    for _ in 0..50 {
        match AuthServer::start(addr, &[zone(text)]).await {
            Ok(server) => return server,
            // The previous server on this port may still be letting go of it.
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
        }
    }
    panic!("cannot serve on {addr}");
}

/// A temporary expected-records directory holding `bots.example.net.zone` and a config.
pub fn expected_dir(zone_text: &str, config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bots.example.net.zone"), zone_text).unwrap();
    std::fs::write(dir.path().join("dns-audit.toml"), config).unwrap();
    dir
}

/// Fast timeouts so failure tests stay quick; per-name queries (the transport under test).
pub const FAST: &str = "timeout_ms = 300\nretries = 1\naxfr = \"never\"\n";

/// Fast timeouts, zone transfer where the server allows it.
pub const FAST_AXFR: &str = "timeout_ms = 300\nretries = 1\naxfr = \"auto\"\n";

/// A dns-audit command line under construction, run off the async runtime (so in-process
/// servers keep serving): `audit("check").expected(dir).nameserver("ns1", addr).run().await`.
/// The history store goes to a fresh temp dir unless `--state` is given: tests never write
/// outside their own directories. (ripgrep's `TestCommand` is the model.)
#[derive(Debug, Clone)]
pub struct Audit {
    args: Vec<String>,
    env: Vec<(String, String)>,
    /// Run as this Unix user through `runuser` (the test runs as root), as on-call does.
    user: Option<String>,
    /// Run the `audit` alias instead of `dns-audit`.
    alias: bool,
    /// The directory it runs in (the test's own when None).
    cwd: Option<std::path::PathBuf>,
}

/// Whether this test may run commands as another Unix user (root, with `runuser`): the
/// deployment tests need it; CI runs as root, so there they always run.
pub fn can_run_as_others() -> bool {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout == b"0\n");
    if !(root && Path::new("/usr/sbin/runuser").exists()) {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the tests as root with runuser"
        );
        eprintln!("skipped: not root, or no runuser");
        return false;
    }
    true
}

/// `dns-audit SUBCOMMAND`, to be completed with flags.
pub fn audit(subcommand: &str) -> Audit {
    Audit {
        args: vec![subcommand.to_string()],
        env: Vec::new(),
        user: None,
        alias: false,
        cwd: None,
    }
}

impl Audit {
    /// One more argument, as written.
    pub fn arg(mut self, arg: impl ToString) -> Audit {
        self.args.push(arg.to_string());
        self
    }

    /// More arguments, as written.
    pub fn args<T: ToString>(mut self, args: impl IntoIterator<Item = T>) -> Audit {
        self.args.extend(args.into_iter().map(|a| a.to_string()));
        self
    }

    /// `--expected DIR`.
    pub fn expected(self, dir: &Path) -> Audit {
        self.arg("--expected").arg(dir.display())
    }

    /// `--state PATH`.
    pub fn state(self, path: &Path) -> Audit {
        self.arg("--state").arg(path.display())
    }

    /// `--nameserver LABEL=ADDR`.
    pub fn nameserver(self, label: &str, addr: SocketAddr) -> Audit {
        self.arg("--nameserver").arg(format!("{label}={addr}"))
    }

    /// `--nameserver LABEL=ADDR` for each.
    pub fn nameservers(self, servers: &[(&str, SocketAddr)]) -> Audit {
        servers.iter().fold(self, |command, (label, addr)| {
            command.nameserver(label, *addr)
        })
    }

    /// `--format FORMAT`.
    pub fn format(self, format: &str) -> Audit {
        self.arg("--format").arg(format)
    }

    /// An environment variable for the run.
    pub fn env(mut self, key: &str, value: &str) -> Audit {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    /// Runs as `user` (through `runuser -u USER --`), with that user's HOME.
    pub fn run_as(mut self, user: &str) -> Audit {
        self.user = Some(user.to_string());
        self
    }

    /// Runs in `dir`, as a user would from there (a CI job from the repository's root).
    pub fn current_dir(mut self, dir: &Path) -> Audit {
        self.cwd = Some(dir.to_path_buf());
        self
    }

    /// Runs the `audit` alias, the name on-call types.
    pub fn alias(mut self) -> Audit {
        self.alias = true;
        self
    }

    /// Runs the binary and waits for it.
    pub async fn run(self) -> Output {
        tokio::task::spawn_blocking(move || {
            let state = tempfile::tempdir().unwrap();
            let binary = if self.alias {
                env!("CARGO_BIN_EXE_audit")
            } else {
                env!("CARGO_BIN_EXE_dns-audit")
            };
            let mut command = match &self.user {
                Some(user) => {
                    let mut command = Command::new("/usr/sbin/runuser");
                    command
                        .args(["-u", user, "--", binary])
                        .env("HOME", "/nonexistent");
                    command
                }
                None => Command::new(binary),
            };
            if let Some(dir) = &self.cwd {
                command.current_dir(dir);
            }
            command
                .args(&self.args)
                .env("NO_COLOR", "1")
                .env("XDG_STATE_HOME", state.path())
                .env_remove("DNS_AUDIT_STATE")
                .env_remove("DNS_AUDIT_EXPECTED")
                .envs(self.env)
                .stdin(Stdio::null())
                .output()
                .unwrap()
        })
        .await
        .unwrap()
    }

    /// Runs with `--format json` and parses standard output (exit code, JSON); a run that
    /// prints no JSON fails the test with its stderr.
    pub async fn json(self) -> (i32, serde_json::Value) {
        let out = self.format("json").run().await;
        let code = out.status.code().unwrap_or(-1);
        let text = String::from_utf8_lossy(&out.stdout);
        let json = serde_json::from_str(&text).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {text}\nstderr: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (code, json)
    }
}

/// The output of a run that must succeed (exit 0), or a failure showing its stderr.
pub fn success_stdout(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `check --expected DIR --format json --nameserver …` and the parsed JSON.
pub async fn check_json(dir: &Path, servers: &[(&str, SocketAddr)]) -> (i32, serde_json::Value) {
    check_json_with(dir, servers, &[]).await
}

/// [`check_json`] with more arguments (`--state PATH`, …).
pub async fn check_json_with(
    dir: &Path,
    servers: &[(&str, SocketAddr)],
    extra: &[&str],
) -> (i32, serde_json::Value) {
    audit("check")
        .expected(dir)
        .args(extra)
        .nameservers(servers)
        .json()
        .await
}

/// All findings of a JSON report (host findings and server findings).
pub fn findings(json: &serde_json::Value) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    for zone in json["zones"].as_array().unwrap() {
        for host in zone["hosts"].as_array().unwrap() {
            out.extend(host["findings"].as_array().unwrap().iter().cloned());
        }
        out.extend(zone["server_findings"].as_array().unwrap().iter().cloned());
    }
    out
}

/// Findings with severity "drift".
pub fn drift(json: &serde_json::Value) -> Vec<serde_json::Value> {
    findings(json)
        .into_iter()
        .filter(|f| f["severity"] == "drift")
        .collect()
}

/// A fault applied to matching UDP queries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Never answer.
    Drop,
    /// Answer with this rcode and no records.
    Rcode(ResponseCode),
    /// Forward, but clear the AA bit.
    NoAa,
    /// Send an answer with a wrong ID first, then the real one.
    WrongIdFirst,
    /// Send an answer to another question first, then the real one.
    WrongQuestionFirst,
    /// Send the answer with QR=0 first, then the real one.
    QueryBitFirst,
    /// Send the real answer from another source port first, then from the right one.
    OtherPortFirst,
    /// Answer with an empty TC=1 message (a rate-limit "slip"); TCP gets the real answer.
    EmptyTruncated,
    /// Empty TC=1 over UDP and no TCP at all.
    EmptyTruncatedNoTcp,
    /// Answer only after the client's timeout (`LATE` later), every time.
    Late,
    /// Answer the first matching query late, the others at once (a retry gets through).
    LateOnce,
    /// Answer the SOA, drop every other query (a server that answers just enough to be
    /// asked everything, then nothing).
    DropAllButSoa,
}

/// How late a [`Fault::Late`] answer comes: past the 300 ms timeout of the test configs.
pub const LATE: Duration = Duration::from_millis(450);

/// A UDP (and TCP pass-through) proxy that injects a fault into matching queries.
pub struct FaultProxy {
    pub addr: SocketAddr,
    /// Queries that matched and got the fault.
    pub hits: Arc<AtomicUsize>,
    /// Every UDP query received, as sent.
    pub queries: Arc<std::sync::Mutex<Vec<Message>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// A UDP socket and a TCP listener on the same free loopback port. An ephemeral UDP port may
/// be in use for TCP (by the many connections of a test run): another is tried.
pub async fn loopback_pair() -> (UdpSocket, TcpListener, SocketAddr) {
    for _ in 0..50 {
        let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = udp.local_addr().unwrap();
        if let Ok(tcp) = TcpListener::bind(addr).await {
            return (udp, tcp, addr);
        }
    }
    panic!("no loopback port free for both UDP and TCP");
}

impl FaultProxy {
    /// Proxies to `upstream`; `fault` applies to queries for `only` (name, type), or to all.
    pub async fn start(
        upstream: SocketAddr,
        fault: Fault,
        only: Option<(&str, RecordType)>,
    ) -> FaultProxy {
        let (udp, tcp, addr) = loopback_pair().await;
        let udp = Arc::new(udp);
        let hits = Arc::new(AtomicUsize::new(0));
        let queries: Arc<std::sync::Mutex<Vec<Message>>> = Arc::default();
        let log = Arc::clone(&queries);
        let only = only.map(|(n, t)| (Name::from_str(n).unwrap(), t));
        let mut tasks = Vec::new();
        let udp_hits = Arc::clone(&hits);
        tasks.push(tokio::spawn(async move {
            let mut buf = vec![0u8; 65535];
            loop {
                let Ok((len, client)) = udp.recv_from(&mut buf).await else {
                    return;
                };
                let query = buf[..len].to_vec();
                let udp = Arc::clone(&udp);
                let only = only.clone();
                let hits = Arc::clone(&udp_hits);
                let log = Arc::clone(&log);
                tokio::spawn(async move {
                    let Ok(request) = Message::from_vec(&query) else {
                        return;
                    };
                    log.lock().unwrap().push(request.clone());
                    let is_soa = request
                        .queries
                        .first()
                        .is_some_and(|q| q.query_type() == RecordType::SOA);
                    let matches = match &only {
                        _ if fault == Fault::DropAllButSoa => !is_soa,
                        None => true,
                        Some((name, rtype)) => request
                            .queries
                            .first()
                            .is_some_and(|q| q.name() == name && q.query_type() == *rtype),
                    };
                    let Some(answer) = forward(upstream, &query).await else {
                        return;
                    };
                    if !matches {
                        let _ = udp.send_to(&answer, client).await;
                        return;
                    }
                    let first = hits.fetch_add(1, Ordering::SeqCst) == 0;
                    for packet in inject(fault, first, &request, &answer).await {
                        match packet {
                            Packet::FromOtherPort(bytes) => {
                                let other = UdpSocket::bind("127.0.0.1:0").await.unwrap();
                                let _ = other.send_to(&bytes, client).await;
                            }
                            Packet::Normal(bytes) => {
                                let _ = udp.send_to(&bytes, client).await;
                            }
                        }
                    }
                });
            }
        }));
        if fault != Fault::EmptyTruncatedNoTcp {
            tasks.push(tokio::spawn(async move {
                loop {
                    let Ok((mut client, _)) = tcp.accept().await else {
                        return;
                    };
                    tokio::spawn(async move {
                        if let Ok(mut server) = TcpStream::connect(upstream).await {
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                        }
                    });
                }
            }));
        } else {
            drop(tcp);
        }
        FaultProxy {
            addr,
            hits,
            queries,
            tasks,
        }
    }
}

enum Packet {
    Normal(Vec<u8>),
    FromOtherPort(Vec<u8>),
}

async fn forward(upstream: SocketAddr, query: &[u8]) -> Option<Vec<u8>> {
    let socket = UdpSocket::bind("127.0.0.1:0").await.ok()?;
    socket.send_to(query, upstream).await.ok()?;
    let mut buf = vec![0u8; 65535];
    let len = tokio::time::timeout(Duration::from_secs(2), socket.recv(&mut buf))
        .await
        .ok()?
        .ok()?;
    buf.truncate(len);
    Some(buf)
}

async fn inject(fault: Fault, first: bool, request: &Message, answer: &[u8]) -> Vec<Packet> {
    let real = Packet::Normal(answer.to_vec());
    let parsed = Message::from_vec(answer).unwrap();
    let bytes = |m: &Message| m.to_vec().unwrap();
    match fault {
        Fault::Drop | Fault::DropAllButSoa => Vec::new(),
        Fault::Late => {
            tokio::time::sleep(LATE).await;
            vec![real]
        }
        Fault::LateOnce if first => {
            tokio::time::sleep(LATE).await;
            vec![real]
        }
        Fault::LateOnce => vec![real],
        Fault::Rcode(rcode) => {
            let mut m = Message::response(request.metadata.id, request.metadata.op_code);
            m.queries = request.queries.clone();
            m.metadata.response_code = rcode;
            vec![Packet::Normal(bytes(&m))]
        }
        Fault::NoAa => {
            let mut m = parsed;
            m.metadata.authoritative = false;
            vec![Packet::Normal(bytes(&m))]
        }
        Fault::WrongIdFirst => {
            let mut m = parsed.clone();
            m.metadata.id = m.metadata.id.wrapping_add(1);
            m.answers.clear();
            vec![Packet::Normal(bytes(&m)), real]
        }
        Fault::WrongQuestionFirst => {
            let mut m = parsed.clone();
            if let Some(q) = m.queries.first_mut() {
                q.set_name(Name::from_str("evil.example.").unwrap());
            }
            m.answers.clear();
            vec![Packet::Normal(bytes(&m)), real]
        }
        Fault::QueryBitFirst => {
            let mut m = parsed.clone();
            m.metadata.message_type = MessageType::Query;
            m.answers.clear();
            vec![Packet::Normal(bytes(&m)), real]
        }
        Fault::OtherPortFirst => {
            let mut m = parsed.clone();
            m.answers.clear();
            vec![Packet::FromOtherPort(bytes(&m)), real]
        }
        Fault::EmptyTruncated | Fault::EmptyTruncatedNoTcp => {
            let mut m = parsed;
            m.metadata.truncation = true;
            m.answers.clear();
            m.authorities.clear();
            m.additionals.clear();
            vec![Packet::Normal(bytes(&m))]
        }
    }
}

/// A hostile server for zone transfers: it forwards to a real server and slips `extra` records
/// into the first message of every zone transfer, after the opening SOA (records of another
/// zone, of another class). UDP queries are forwarded untouched.
pub struct TransferTamper {
    pub addr: SocketAddr,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for TransferTamper {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl TransferTamper {
    /// Tampers with what `upstream` transfers.
    pub async fn start(upstream: SocketAddr, extra: Vec<hickory_proto::rr::Record>) -> Self {
        let (udp, tcp, addr) = loopback_pair().await;
        let udp = Arc::new(udp);
        let mut tasks = Vec::new();
        tasks.push(tokio::spawn(async move {
            let mut buf = vec![0u8; 65535];
            while let Ok((len, client)) = udp.recv_from(&mut buf).await {
                if let Some(answer) = forward(upstream, &buf[..len]).await {
                    let _ = udp.send_to(&answer, client).await;
                }
            }
        }));
        let extra = Arc::new(extra);
        tasks.push(tokio::spawn(async move {
            while let Ok((client, _)) = tcp.accept().await {
                let extra = Arc::clone(&extra);
                tokio::spawn(async move {
                    let _ = tamper(client, upstream, &extra).await;
                });
            }
        }));
        TransferTamper { addr, tasks }
    }
}

/// One TCP exchange: the query forwarded, the first answer message given `extra` after its
/// first record, the rest copied as it comes.
async fn tamper(
    mut client: TcpStream,
    upstream: SocketAddr,
    extra: &[hickory_proto::rr::Record],
) -> std::io::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    async fn frame(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
        let len = stream.read_u16().await?;
        let mut bytes = vec![0u8; usize::from(len)];
        stream.read_exact(&mut bytes).await?;
        Ok(bytes)
    }
    let mut server = TcpStream::connect(upstream).await?;
    let query = frame(&mut client).await?;
    server.write_u16(query.len() as u16).await?;
    server.write_all(&query).await?;
    let first = frame(&mut server).await?;
    let mut message = Message::from_vec(&first).map_err(std::io::Error::other)?;
    let tail = message.answers.split_off(1.min(message.answers.len()));
    message.answers.extend(extra.iter().cloned());
    message.answers.extend(tail);
    let bytes = message.to_vec().map_err(std::io::Error::other)?;
    client.write_u16(bytes.len() as u16).await?;
    client.write_all(&bytes).await?;
    tokio::io::copy(&mut server, &mut client).await?;
    Ok(())
}
