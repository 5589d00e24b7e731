//! Real authoritative servers from Debian's packages, each started in the foreground on a free
//! loopback port with a config written for the test, and killed by its pid when dropped.
//!
//! Under CI=true a server that is not installed fails the test (`.ci/run` installs them all);
//! elsewhere the test is skipped with a line on stderr.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::time::Duration;

use hickory_proto::op::{Message, Query, ResponseCode};
use hickory_proto::rr::{Name, RecordType};

/// Which server software.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Software {
    /// NLnet Labs' NSD (`nsd`).
    Nsd,
    /// CZ.NIC's Knot DNS (`knot`).
    Knot,
    /// ISC's BIND 9 (`bind9`).
    Bind,
    /// PowerDNS Authoritative with its BIND-zone-file backend (`pdns-server`,
    /// `pdns-backend-bind`).
    PowerDns,
}

/// Every server of the interoperability matrix.
pub const EVERY_SERVER: [Software; 4] = [
    Software::Nsd,
    Software::Knot,
    Software::Bind,
    Software::PowerDns,
];

impl Software {
    fn binary(self) -> (&'static str, &'static str) {
        match self {
            Software::Nsd => ("/usr/sbin/nsd", "nsd"),
            Software::Knot => ("/usr/sbin/knotd", "knot"),
            Software::Bind => ("/usr/sbin/named", "bind9"),
            Software::PowerDns => ("/usr/sbin/pdns_server", "pdns-server pdns-backend-bind"),
        }
    }

    /// The server's program, or None (the test then skips, except under CI where it fails).
    pub fn installed(self) -> Option<PathBuf> {
        let (path, package) = self.binary();
        let found = Path::new(path).exists().then(|| PathBuf::from(path));
        if found.is_none() && std::env::var_os("CI").is_some() {
            panic!("{self:?} is required under CI=true (apt-get install -y {package}): .ci/run installs it");
        }
        if found.is_none() {
            eprintln!("{self:?} not installed: skipping (apt-get install -y {package})");
        }
        found
    }
}

/// What a test asks of a server beyond serving its zone.
#[derive(Clone, Debug, Default)]
pub struct Setup {
    /// Response rate limiting on UDP, with slips: NSD's rrl at 200/s; Knot's mod-rrl and
    /// BIND's rate-limit at 1/s with every limited answer slipped (they count per name, and
    /// the nine questions an audit asks of a name pass at 5/s or 20/s). Otherwise each
    /// server's default (NSD: 200/s; the others: none).
    pub rate_limit: bool,
    /// Who may transfer the zone.
    pub transfer: Transfer,
    /// The server's RFC 5001 identifier (NSD's `nsid:`), as text.
    pub nsid: Option<String>,
}

/// Who a server lets transfer its zone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Transfer {
    /// 127.0.0.1, unsigned.
    #[default]
    Open,
    /// Nobody.
    Refused,
    /// 127.0.0.1 with this TSIG key (hmac-sha256): its name and base64 secret.
    Tsig(String, String),
}

/// A real server serving one zone on 127.0.0.1. Killed on drop.
pub struct Daemon {
    /// Where it answers (UDP and TCP).
    pub addr: SocketAddr,
    /// Its config, zone file and state.
    pub dir: tempfile::TempDir,
    /// Which server.
    pub software: Software,
    child: Child,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `binary` with `args`, its stdout and stderr to the file `log`.
fn spawn_logged(binary: &Path, args: &[String], log: &Path) -> Child {
    let log = std::fs::File::create(log).unwrap();
    Command::new(binary)
        .args(args)
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap()
}

/// A loopback port free for both UDP and TCP at the time of asking.
pub fn free_port() -> u16 {
    loop {
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = udp.local_addr().unwrap().port();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

impl Daemon {
    /// Starts `software` serving `zone_text` as `origin`, transfers allowed to 127.0.0.1.
    /// None when the server is not installed (outside CI).
    pub fn start(
        software: Software,
        origin: &str,
        zone_text: &str,
        setup: &Setup,
    ) -> Option<Daemon> {
        let binary = software.installed()?;
        for _ in 0..5 {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("zone"), zone_text).unwrap();
            let port = free_port();
            let args = configure(software, dir.path(), port, origin, setup);
            let child = spawn_logged(&binary, &args, &dir.path().join("server.log"));
            let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
            let mut daemon = Daemon {
                addr,
                dir,
                software,
                child,
            };
            if daemon.wait_ready(origin) {
                return Some(daemon);
            }
            let status = daemon.child.try_wait().ok().flatten();
            eprintln!(
                "{software:?} did not come up on port {port} (exit: {status:?}), retrying: {}",
                daemon.log()
            );
        }
        panic!("{software:?} would not start");
    }

    /// Serves `zone_text` instead (NSD only: SIGHUP rereads a changed zone file), and waits
    /// until the SOA serial of `origin` is `serial`.
    pub fn reload(&mut self, origin: &str, zone_text: &str, serial: u32) {
        assert_eq!(self.software, Software::Nsd, "reload is NSD's SIGHUP");
        let file = self.dir.path().join("zone");
        std::fs::write(&file, zone_text).unwrap();
        // The mtime must move even within the same second.
        let later = std::time::SystemTime::now() + Duration::from_secs(2);
        std::fs::File::options()
            .write(true)
            .open(&file)
            .unwrap()
            .set_modified(later)
            .unwrap();
        let status = Command::new("kill")
            .args(["-HUP", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while std::time::Instant::now() < deadline {
            if soa_serial(self.addr, origin) == Some(serial) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("NSD did not reload the zone: {}", self.log());
    }

    /// What the server logged.
    pub fn log(&self) -> String {
        let dir = self.dir.path();
        let mut log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
        log.push_str(&std::fs::read_to_string(dir.join("nsd.log")).unwrap_or_default());
        log
    }

    /// Waits until the server answers the SOA of `origin` authoritatively over UDP.
    fn wait_ready(&mut self, origin: &str) -> bool {
        let mut query = Message::query();
        query.add_query(Query::query(
            Name::from_str(origin).unwrap(),
            RecordType::SOA,
        ));
        let bytes = query.to_vec().unwrap();
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        // By the clock, not by tries: a server still loading a big zone answers SERVFAIL or
        // REFUSED at once, and a count of tries ran out in milliseconds (BIND and the root
        // zone on a busy machine).
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            let _ = socket.send_to(&bytes, self.addr);
            let mut buf = [0u8; 4096];
            if let Ok(len) = socket.recv(&mut buf) {
                let ready = Message::from_vec(&buf[..len]).is_ok_and(|m| {
                    m.metadata.response_code == ResponseCode::NoError && !m.answers.is_empty()
                });
                if ready {
                    return true;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        false
    }
}

/// Writes the server's configuration into `dir` (the zone is `dir/zone`) and returns the
/// arguments that start it in the foreground.
fn configure(
    software: Software,
    dir: &Path,
    port: u16,
    origin: &str,
    setup: &Setup,
) -> Vec<String> {
    let d = dir.display();
    let (file, text, args): (&str, String, Vec<String>) = match software {
        Software::Nsd => {
            let rrl = if setup.rate_limit {
                "  rrl-ratelimit: 200\n  rrl-slip: 2\n  rrl-ipv4-prefix-length: 24\n"
            } else {
                ""
            };
            let (top, zone_extra) = match &setup.transfer {
                Transfer::Open => (String::new(), "  provide-xfr: 127.0.0.1 NOKEY\n".into()),
                Transfer::Refused => (String::new(), String::new()),
                Transfer::Tsig(name, secret) => (
                    format!("key:\n  name: \"{name}\"\n  algorithm: hmac-sha256\n  secret: \"{secret}\"\n"),
                    format!("  provide-xfr: 127.0.0.1 {name}\n"),
                ),
            };
            let nsid = setup
                .nsid
                .as_ref()
                .map_or_else(String::new, |id| format!("  nsid: \"ascii_{id}\"\n"));
            let text = format!(
                "server:\n  ip-address: 127.0.0.1@{port}\n  username: \"\"\n  chroot: \"\"\n  \
                 database: \"\"\n  zonelistfile: \"{d}/zone.list\"\n  xfrdfile: \"{d}/xfrd.state\"\n  \
                 zonesdir: \"{d}\"\n  pidfile: \"{d}/nsd.pid\"\n  logfile: \"{d}/nsd.log\"\n  \
                 server-count: 1\n  verbosity: 1\n{rrl}{nsid}\nremote-control:\n  control-enable: no\n\
                 {top}\nzone:\n  name: \"{origin}\"\n  zonefile: \"{d}/zone\"\n{zone_extra}",
            );
            let conf = dir.join("nsd.conf").display().to_string();
            ("nsd.conf", text, vec!["-d".into(), "-c".into(), conf])
        }
        Software::Knot => {
            let (module, rrl) = if setup.rate_limit {
                (
                    "    global-module: mod-rrl/strict\n",
                    "mod-rrl:\n  - id: strict\n    rate-limit: 1\n    slip: 1\n",
                )
            } else {
                ("", "")
            };
            let (key, acl) = match &setup.transfer {
                Transfer::Open => (String::new(), "    acl: transfer\n"),
                Transfer::Refused => (String::new(), ""),
                Transfer::Tsig(name, secret) => (
                    format!(
                        "key:\n  - id: {name}\n    algorithm: hmac-sha256\n    secret: {secret}\n"
                    ),
                    "    acl: transfer\n",
                ),
            };
            let keyed = match &setup.transfer {
                Transfer::Tsig(name, _) => format!("    key: {name}\n"),
                _ => String::new(),
            };
            let text = format!(
                "server:\n    listen: 127.0.0.1@{port}\n    rundir: \"{d}\"\n    pidfile: \"{d}/knot.pid\"\n\
                 database:\n    storage: \"{d}\"\n\
                 log:\n  - target: stderr\n    any: warning\n\
                 {key}acl:\n  - id: transfer\n    address: 127.0.0.1\n{keyed}    action: transfer\n\
                 {rrl}\
                 template:\n  - id: default\n    storage: \"{d}\"\n{acl}    \
                 zonefile-sync: -1\n    journal-content: none\n    semantic-checks: off\n{module}\
                 zone:\n  - domain: \"{origin}\"\n    file: \"{d}/zone\"\n"
            );
            let conf = dir.join("knot.conf").display().to_string();
            ("knot.conf", text, vec!["-c".into(), conf])
        }
        Software::Bind => {
            // Everything named writes stays in the test's directory (lock-file included), so
            // servers started in parallel share nothing.
            let rrl = if setup.rate_limit {
                "  rate-limit { responses-per-second 1; slip 1; };\n"
            } else {
                ""
            };
            let (key, allowed) = match &setup.transfer {
                Transfer::Open => (String::new(), "127.0.0.1;".to_string()),
                Transfer::Refused => (String::new(), "none;".into()),
                Transfer::Tsig(name, secret) => (
                    format!("key \"{name}\" {{ algorithm hmac-sha256; secret \"{secret}\"; }};\n"),
                    format!("key \"{name}\";"),
                ),
            };
            let text = format!(
                "{key}options {{\n  directory \"{d}\";\n  pid-file \"{d}/named.pid\";\n  \
                 session-keyfile \"{d}/session.key\";\n  managed-keys-directory \"{d}\";\n  \
                 lock-file \"{d}/named.lock\";\n  \
                 listen-on port {port} {{ 127.0.0.1; }};\n  listen-on-v6 {{ none; }};\n  \
                 recursion no;\n  notify no;\n  dnssec-validation no;\n  \
                 allow-transfer {{ {allowed} }};\n{rrl}}};\ncontrols {{ }};\n\
                 zone \"{origin}\" {{ type primary; file \"{d}/zone\"; check-names ignore; }};\n"
            );
            let conf = dir.join("named.conf").display().to_string();
            ("named.conf", text, vec!["-g".into(), "-c".into(), conf])
        }
        Software::PowerDns => {
            std::fs::write(
                dir.join("zones.conf"),
                format!("zone \"{origin}\" {{ type master; file \"{d}/zone\"; }};\n"),
            )
            .unwrap();
            let allowed = match setup.transfer {
                Transfer::Refused => "",
                Transfer::Open | Transfer::Tsig(..) => "127.0.0.1",
            };
            let text = format!(
                "launch=bind\nbind-config={d}/zones.conf\nbind-dnssec-db={d}/dnssec.db\n\
                 local-address=127.0.0.1\n\
                 local-port={port}\nallow-axfr-ips={allowed}\ndaemon=no\nguardian=no\n\
                 socket-dir={d}\ndisable-syslog=yes\nloglevel=3\nwebserver=no\n\
                 receiver-threads=1\ndistributor-threads=1\n"
            );
            std::fs::write(dir.join("pdns.conf"), &text).unwrap();
            // A signed zone file is served as it is only when the zone is marked presigned
            // (otherwise PowerDNS leaves out its DNSSEC records).
            // Nor does it read NSEC3 from the file: it is told the chain's parameters, and
            // serves NSEC without them.
            let zone_text = std::fs::read_to_string(dir.join("zone")).unwrap();
            let config_dir = format!("--config-dir={d}");
            let db = dir.join("dnssec.db").display().to_string();
            let mut steps = vec![vec!["create-bind-db".to_string(), db]];
            if zone_text.contains("RRSIG") {
                steps.push(vec!["set-presigned".into(), origin.into()]);
            }
            if let Some(at) = zone_text.find("NSEC3PARAM") {
                let fields = zone_text[at + "NSEC3PARAM".len()..].split_whitespace();
                let param = fields.take(4).collect::<Vec<_>>().join(" ");
                steps.push(vec!["set-nsec3".into(), origin.into(), param]);
            }
            if let Transfer::Tsig(name, secret) = &setup.transfer {
                steps.push(vec![
                    "import-tsig-key".into(),
                    name.clone(),
                    "hmac-sha256".into(),
                    secret.clone(),
                ]);
                steps.push(vec![
                    "set-meta".into(),
                    origin.into(),
                    "TSIG-ALLOW-AXFR".into(),
                    name.clone(),
                ]);
            }
            for step in &steps {
                let done = Command::new("pdnsutil")
                    .arg(&config_dir)
                    .args(step)
                    .output()
                    .unwrap();
                assert!(done.status.success(), "pdnsutil {step:?}: {done:?}");
            }
            ("pdns.conf", text, vec![config_dir])
        }
    };
    std::fs::write(dir.join(file), text).unwrap();
    args
}

/// The SOA serial `server` answers for `origin`, if it answers.
pub fn soa_serial(server: SocketAddr, origin: &str) -> Option<u32> {
    let mut query = Message::query();
    query.add_query(Query::query(Name::from_str(origin).ok()?, RecordType::SOA));
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").ok()?;
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .ok()?;
    socket.send_to(&query.to_vec().ok()?, server).ok()?;
    let mut buf = [0u8; 4096];
    let len = socket.recv(&mut buf).ok()?;
    let answer = Message::from_vec(&buf[..len]).ok()?;
    answer.answers.iter().find_map(|r| match &r.data {
        hickory_proto::rr::RData::SOA(soa) => Some(soa.serial),
        _ => None,
    })
}

/// A real Unbound on 127.0.0.1 that recurses only into one stub zone, served by `stub` (a
/// test's authoritative server): no packet leaves loopback. Killed on drop.
pub struct Unbound {
    /// Where it answers.
    pub addr: SocketAddr,
    _dir: tempfile::TempDir,
    child: Child,
}

impl Drop for Unbound {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Unbound {
    /// Starts Unbound with `origin` as a stub zone at `stub`. None when Unbound is not
    /// installed (outside CI).
    pub fn start(origin: &str, stub: SocketAddr) -> Option<Unbound> {
        let binary = Path::new("/usr/sbin/unbound");
        if !binary.exists() {
            if std::env::var_os("CI").is_some() {
                panic!("Unbound is required under CI=true (apt-get install -y unbound): .ci/run installs it");
            }
            eprintln!("Unbound not installed: skipping (apt-get install -y unbound)");
            return None;
        }
        for _ in 0..5 {
            let dir = tempfile::tempdir().unwrap();
            let port = free_port();
            let config = format!(
                "server:\n  interface: 127.0.0.1@{port}\n  port: {port}\n  do-ip6: no\n  \
                 outgoing-interface: 127.0.0.1\n  do-not-query-localhost: no\n  \
                 module-config: \"iterator\"\n  do-daemonize: no\n  username: \"\"\n  chroot: \"\"\n  \
                 directory: \"{dir}\"\n  pidfile: \"\"\n  use-syslog: no\n  logfile: \"\"\n  \
                 num-threads: 1\n  so-reuseport: no\n  access-control: 127.0.0.0/8 allow\n  \
                 qname-minimisation: no\n  prefetch: no\n  serve-expired: no\n  \
                 harden-referral-path: no\n  target-fetch-policy: \"0 0 0 0 0\"\n\
                 remote-control:\n  control-enable: no\n\
                 stub-zone:\n  name: \"{origin}\"\n  stub-addr: {ip}@{stub_port}\n  stub-prime: no\n",
                dir = dir.path().display(),
                ip = stub.ip(),
                stub_port = stub.port(),
            );
            std::fs::write(dir.path().join("unbound.conf"), config).unwrap();
            let conf = dir.path().join("unbound.conf").display().to_string();
            let child = spawn_logged(
                binary,
                &["-d".to_string(), "-c".to_string(), conf],
                &dir.path().join("unbound.log"),
            );
            let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
            let mut unbound = Unbound {
                addr,
                _dir: dir,
                child,
            };
            let deadline = std::time::Instant::now() + Duration::from_secs(30);
            while std::time::Instant::now() < deadline {
                if let Ok(Some(_)) = unbound.child.try_wait() {
                    break;
                }
                // Ready when it answers anything (REFUSED included) over UDP.
                if answers(addr) {
                    return Some(unbound);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = unbound.child.kill();
            eprintln!(
                "Unbound did not come up on port {port}, retrying: {}",
                std::fs::read_to_string(unbound._dir.path().join("unbound.log"))
                    .unwrap_or_default()
            );
        }
        panic!("Unbound would not start");
    }
}

/// Whether something answers a DNS query at `addr` (for the version of the server: CH TXT).
fn answers(addr: SocketAddr) -> bool {
    let mut query = Message::query();
    let mut q = Query::query(Name::from_str("version.server.").unwrap(), RecordType::TXT);
    q.set_query_class(hickory_proto::rr::DNSClass::CH);
    query.add_query(q);
    let Ok(socket) = std::net::UdpSocket::bind("127.0.0.1:0") else {
        return false;
    };
    let _ = socket.set_read_timeout(Some(Duration::from_millis(100)));
    let _ = socket.send_to(&query.to_vec().unwrap(), addr);
    let mut buf = [0u8; 4096];
    socket.recv(&mut buf).is_ok()
}
