//! Outputs pinned byte for byte (after the parts that change from run to run are replaced:
//! times, durations, ports, temporary paths, commit hashes), so a change of shape inside the
//! code cannot change what users and their scripts read. A change of output on purpose
//! updates the files in the same commit: `DNS_AUDIT_BLESS=1 cargo test --test golden`.

use std::path::Path;

use crate::common::golden::{golden, normalise};
use crate::common::*;

/// `check` on `dir` against `servers`, in `format`: (exit code, normalised stdout + stderr).
async fn check(dir: &Path, servers: &[(&str, std::net::SocketAddr)], args: &[&str]) -> String {
    let out = audit("check")
        .expected(dir)
        .arg("--no-record")
        .nameservers(servers)
        .args(args)
        .run()
        .await;
    let text = format!(
        "exit {}\n{}{}",
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    normalise(&text, &[dir])
}

#[tokio::test(flavor = "multi_thread")]
async fn check_outputs_of_the_incident_are_pinned() {
    let live = format!("{ZONE}bh17 IN A 203.0.113.18\n");
    let ns1 = serve(&live).await;
    let ns2 = serve(&live).await;
    let dir = expected_dir(ZONE, FAST);
    let servers = [("ns1", ns1.addr()), ("ns2", ns2.addr())];
    for (format, file) in [
        ("human", "check.incident.txt"),
        ("json", "check.incident.json"),
        ("prometheus", "check.incident.prom"),
    ] {
        golden(
            file,
            &check(dir.path(), &servers, &["--format", format]).await,
        );
    }
    golden(
        "check.incident.quiet.txt",
        &check(dir.path(), &servers, &["--quiet"]).await,
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn check_outputs_of_a_server_that_does_not_answer_are_pinned() {
    let ns1 = serve(ZONE).await;
    // A socket that takes queries and never answers: a timeout on every try.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let dir = expected_dir(ZONE, FAST);
    let servers = [("ns1", ns1.addr()), ("ns2", silent.local_addr().unwrap())];
    for (format, file) in [
        ("human", "check.unreachable.txt"),
        ("json", "check.unreachable.json"),
    ] {
        golden(
            file,
            &check(dir.path(), &servers, &["--format", format]).await,
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn check_outputs_of_a_clean_fleet_are_pinned() {
    let ns1 = serve(ZONE).await;
    let dir = expected_dir(ZONE, FAST);
    let servers = [("ns1", ns1.addr())];
    golden("check.clean.txt", &check(dir.path(), &servers, &[]).await);
    golden(
        "check.clean.quiet.txt",
        &check(dir.path(), &servers, &["--quiet"]).await,
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn lint_outputs_of_the_incident_are_pinned() {
    let repo = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(repo.path())
            .env("GIT_AUTHOR_DATE", "2026-11-24T10:00:00Z")
            .env("GIT_COMMITTER_DATE", "2026-11-24T10:00:00Z")
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["config", "user.email", "alice@example.net"]);
    git(&["config", "user.name", "alice"]);
    let dir = repo.path().join("expected-records");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("bots.example.net.zone"), ZONE).unwrap();
    std::fs::write(dir.join("dns-audit.toml"), FAST).unwrap();
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "fleet"]);
    let proposed = ZONE.replace("2026112401", "2026112402")
        + "bh19 IN A 203.0.113.19\nbh17 IN A 203.0.113.18\nbh18 IN AAAA 2001:db8:100::81\n";
    std::fs::write(dir.join("bots.example.net.zone"), proposed).unwrap();
    for (format, file) in [
        ("human", "lint.incident.txt"),
        ("json", "lint.incident.json"),
        ("github", "lint.incident.github"),
        ("sarif", "lint.incident.sarif"),
    ] {
        let out = audit("lint")
            .expected(&dir)
            .args(["--base", "main"])
            .format(format)
            .run()
            .await;
        let text = format!(
            "exit {}\n{}{}",
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        golden(file, &normalise(&text, &[repo.path()]));
    }
}
