//! Scheduled runs: --quiet, the run lock, alerts on change of state (to a local HTTP server on
//! 127.0.0.1), Prometheus metrics written atomically.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::*;

/// What the webhook does with a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Ok,
    Fail,
    Hang,
}

/// A webhook receiver on 127.0.0.1 that records every body it is sent.
struct Hook {
    addr: SocketAddr,
    bodies: Arc<Mutex<Vec<serde_json::Value>>>,
    mode: Arc<Mutex<Mode>>,
}

impl Hook {
    fn start() -> Hook {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let mode = Arc::new(Mutex::new(Mode::Ok));
        let (b, m) = (Arc::clone(&bodies), Arc::clone(&mode));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (b, m) = (Arc::clone(&b), Arc::clone(&m));
                std::thread::spawn(move || serve_one(stream, &b, &m));
            }
        });
        Hook { addr, bodies, mode }
    }

    fn url(&self) -> String {
        format!("http://{}/hook/secret-token", self.addr)
    }

    fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    fn events(&self) -> Vec<String> {
        self.bodies
            .lock()
            .unwrap()
            .iter()
            .map(|b| b["event"].as_str().unwrap_or("?").to_string())
            .collect()
    }
}

fn serve_one(
    stream: std::net::TcpStream,
    bodies: &Mutex<Vec<serde_json::Value>>,
    mode: &Mutex<Mode>,
) {
    let mut reader = BufReader::new(stream);
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = value.trim().parse().unwrap_or(0);
        }
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0u8; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    bodies
        .lock()
        .unwrap()
        .push(serde_json::from_slice(&body).unwrap_or_default());
    let mut stream = reader.into_inner();
    let current = *mode.lock().unwrap();
    match current {
        Mode::Ok => {
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
        }
        Mode::Fail => {
            let _ = stream.write_all(b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
        Mode::Hang => std::thread::sleep(Duration::from_secs(30)),
    }
}

struct Cron {
    _dir: tempfile::TempDir,
    expected: PathBuf,
    state: PathBuf,
}

impl Cron {
    fn new(config: &str) -> Cron {
        let dir = tempfile::tempdir().unwrap();
        let expected = dir.path().join("expected-records");
        std::fs::create_dir_all(&expected).unwrap();
        std::fs::write(expected.join("bots.example.net.zone"), ZONE).unwrap();
        std::fs::write(expected.join("dns-audit.toml"), format!("{FAST}{config}")).unwrap();
        Cron {
            // A named store's directory must exist (only the default one is created).
            state: {
                std::fs::create_dir_all(dir.path().join("state")).unwrap();
                dir.path().join("state/history.sqlite")
            },
            expected,
            _dir: dir,
        }
    }

    async fn check(&self, server: SocketAddr, extra: &[String]) -> std::process::Output {
        audit("check")
            .arg("--quiet")
            .expected(&self.expected)
            .state(&self.state)
            .nameserver("ns1", server)
            .args(extra)
            .run()
            .await
    }
}

const INCIDENT: &str = "bh17 IN A 203.0.113.18\n";

#[tokio::test(flavor = "multi_thread")]
async fn quiet_prints_nothing_when_clean_and_only_findings_otherwise() {
    let cron = Cron::new("");
    let clean = serve(ZONE).await;
    let out = cron.check(clean.addr(), &[]).await;
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty() && out.stderr.is_empty(), "{out:?}");

    let drift = serve(&format!("{ZONE}{INCIDENT}")).await;
    let out = cron.check(drift.addr(), &[]).await;
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    // The zone's header, so a mail about several zones names each, the finding, and the fix.
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(text.starts_with("bots.example.net.  serial "), "{text}");
    assert!(
        text.contains("bh17  DRIFT   A 203.0.113.1[7→8] not expected (seen on ns1)"),
        "{text}"
    );
    let fix = text.lines().nth(2).unwrap_or_default().trim_start();
    assert!(
        fix.starts_with("fix: remove bh17 A 203.0.113.18 from ns1; or, if what is served is meant, write it in ")
            && fix.ends_with("expected-records/bots.example.net.zone and commit"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_that_finds_another_running_exits_4_at_once() {
    let cron = Cron::new("");
    let server = serve(ZONE).await;
    let lock = dns_audit::lock::lock_path(&cron.state);
    let held = dns_audit::lock::RunLock::acquire(&lock, false)
        .unwrap()
        .unwrap();
    let out = cron.check(server.addr(), &[]).await;
    assert_eq!(out.status.code(), Some(4));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("another check is still running"), "{err}");

    // --wait waits for the lock instead.
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        drop(held);
    });
    let out = cron.check(server.addr(), &["--wait".into()]).await;
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    release.join().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn each_change_of_state_fires_exactly_one_alert() {
    let hook = Hook::start();
    let cron = Cron::new(&format!("notify = [\"{}\"]\n", hook.url()));
    let clean = serve(ZONE).await;
    let drift = serve(&format!("{ZONE}{INCIDENT}")).await;
    let worse = serve(&format!("{ZONE}{INCIDENT}bh18 IN TXT \"stray\"\n")).await;

    for (server, code) in [
        (clean.addr(), 0),
        (clean.addr(), 0),
        (drift.addr(), 1),
        (drift.addr(), 1),
        (worse.addr(), 1),
        (worse.addr(), 1),
        (clean.addr(), 0),
        (clean.addr(), 0),
    ] {
        let out = cron.check(server, &[]).await;
        assert_eq!(out.status.code(), Some(code), "{out:?}");
    }
    assert_eq!(hook.events(), ["drift", "changed", "recovered"]);
    let first = &hook.bodies.lock().unwrap()[0];
    assert_eq!(first["schema"], "dns-audit.alert/1");
    assert_eq!(first["zone"], "bots.example.net.");
    assert!(first["findings"][0]
        .as_str()
        .unwrap()
        .contains("203.0.113.18 not expected"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_webhook_changes_nothing_and_is_tried_again() {
    let hook = Hook::start();
    let cron = Cron::new("notify_timeout_ms = 500\n");
    let drift = serve(&format!("{ZONE}{INCIDENT}")).await;
    let notify = vec![
        "--notify".to_string(),
        hook.url(),
        "--notify-format".into(),
        "slack".into(),
    ];

    hook.set(Mode::Fail);
    let out = cron.check(drift.addr(), &notify).await;
    assert_eq!(out.status.code(), Some(1), "the audit's exit code stands");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not delivered") && !err.contains("secret-token"),
        "{err}"
    );

    hook.set(Mode::Hang);
    let started = Instant::now();
    let out = cron.check(drift.addr(), &notify).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "a hanging webhook held the run"
    );

    hook.set(Mode::Ok);
    let out = cron.check(drift.addr(), &notify).await;
    assert_eq!(out.status.code(), Some(1));
    let bodies = hook.bodies.lock().unwrap().clone();
    let delivered = bodies.last().unwrap();
    assert!(delivered["text"]
        .as_str()
        .unwrap()
        .starts_with("dns-audit: DRIFT in bots.example.net."));
    // Sent again on the next run only because it had not been delivered: now it has.
    let before = bodies.len();
    drop(bodies);
    cron.check(drift.addr(), &notify).await;
    assert_eq!(hook.bodies.lock().unwrap().len(), before);
}

fn metric(text: &str, name: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.starts_with(name) && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_are_complete_and_never_seen_half_written() {
    let cron = Cron::new("");
    let drift = serve(&format!("{ZONE}{INCIDENT}")).await;
    let out = audit("check")
        .format("prometheus")
        .arg("--no-record")
        .expected(&cron.expected)
        .nameserver("ns1", drift.addr())
        .run()
        .await;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        metric(&text, "dns_audit_findings"),
        ["dns_audit_findings{zone=\"bots.example.net.\",host=\"bh17\",kind=\"wrong_value\",severity=\"drift\"} 1"]
    );
    assert_eq!(metric(&text, "dns_audit_server_up").len(), 1);
    assert!(metric(&text, "dns_audit_server_up")[0].ends_with(" 1"));
    assert!(metric(&text, "dns_audit_soa_serial")[0].ends_with(" 2026112401"));
    assert_eq!(metric(&text, "dns_audit_drift"), ["dns_audit_drift 1"]);
    assert_eq!(
        metric(&text, "dns_audit_last_run_timestamp_seconds").len(),
        1
    );

    // A reader polling the file while runs rewrite it sees either no file or a whole one.
    let file = cron.state.with_file_name("dns_audit.prom");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (file, stop) = (file.clone(), Arc::clone(&stop));
        std::thread::spawn(move || {
            let mut reads = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                if let Ok(text) = std::fs::read_to_string(&file) {
                    assert!(whole(&text), "half-written metrics file: {text:?}");
                    reads += 1;
                }
            }
            reads
        })
    };
    for _ in 0..8 {
        let out = cron
            .check(
                drift.addr(),
                &["--metrics-file".into(), file.display().to_string()],
            )
            .await;
        assert_eq!(out.status.code(), Some(1));
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(reader.join().unwrap() > 0);
    let names: Vec<_> = std::fs::read_dir(file.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".tmp"))
        .collect();
    assert!(names.is_empty(), "temporary files left behind: {names:?}");
}

fn whole(text: &str) -> bool {
    text.ends_with('\n')
        && text
            .lines()
            .last()
            .is_some_and(|l| l.starts_with("dns_audit_last_run_timestamp_seconds "))
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_are_readable_by_node_exporter_and_written_when_nothing_could_be_audited() {
    use std::os::unix::fs::PermissionsExt;
    let cron = Cron::new("");
    let server = serve(ZONE).await;
    let file = cron.state.with_file_name("dns_audit.prom");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let metrics = vec!["--metrics-file".to_string(), file.display().to_string()];
    let out = cron.check(server.addr(), &metrics).await;
    assert_eq!(out.status.code(), Some(0));
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644, "node_exporter runs as its own user");
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        metric(&text, "dns_audit_run_success"),
        ["dns_audit_run_success 1"]
    );
    // Read as another user, as node_exporter does (tests run as root in CI).
    let runuser = std::path::Path::new("/usr/sbin/runuser");
    let is_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout == b"0\n");
    if runuser.exists() && is_root {
        // The directory must be searchable by that user too, as /var/lib/node_exporter is.
        for dir in file.ancestors().skip(1).take(3) {
            let mut perms = std::fs::metadata(dir).unwrap().permissions();
            perms.set_mode(perms.mode() | 0o755);
            std::fs::set_permissions(dir, perms).unwrap();
        }
        let read = std::process::Command::new(runuser)
            .args(["-u", "nobody", "--", "cat"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(read.status.success(), "{read:?}");
        assert_eq!(String::from_utf8_lossy(&read.stdout), text);
    }

    // A mode the operator chose is kept.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
    let out = cron.check(server.addr(), &metrics).await;
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o640
    );

    // A broken zone file audits nothing (exit 2), and the metrics say so at once.
    std::fs::write(
        cron.expected.join("bots.example.net.zone"),
        "@ IN SOA broken\n",
    )
    .unwrap();
    let out = cron.check(server.addr(), &metrics).await;
    assert_eq!(out.status.code(), Some(2));
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        metric(&text, "dns_audit_run_success"),
        ["dns_audit_run_success 0"]
    );
    assert_eq!(
        metric(&text, "dns_audit_exit_code"),
        ["dns_audit_exit_code 2"]
    );
    assert!(whole(&text), "{text}");
    assert!(
        metric(&text, "dns_audit_findings").is_empty(),
        "no stale findings: {text}"
    );
}
