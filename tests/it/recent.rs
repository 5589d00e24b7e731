//! `dns-audit recent` and the history store, end to end: a real git repository made in a temp
//! dir (commits with set dates), real servers on 127.0.0.1, the binary.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;

const BASE: &str = "$ORIGIN bots.example.net.
$TTL 300
@ 3600 IN SOA ns1 hostmaster.example.net. ( 2026112401 3600 900 1209600 300 )
@ 3600 IN NS ns1
ns1 IN A 192.0.2.53
bh16 IN A 203.0.113.16
bh17 IN A 203.0.113.17
";

fn with_bh18(zone: &str) -> String {
    format!(
        "{}bh18 IN A 203.0.113.18\n",
        zone.replace("2026112401", "2026112402")
    )
}

struct Fleet {
    _dir: tempfile::TempDir,
    repo: PathBuf,
    state: PathBuf,
    /// Where the fleet's one server answers, run after run.
    server: std::net::SocketAddr,
}

impl Fleet {
    fn expected(&self) -> PathBuf {
        self.repo.join("expected-records")
    }

    fn git(&self, args: &[&str], minutes_ago: i64) {
        self.git_written(args, minutes_ago, minutes_ago);
    }

    /// `git` with the commit written (author date) and landed (committer date) apart.
    fn git_written(&self, args: &[&str], minutes_ago: i64, written_minutes_ago: i64) {
        let at = |minutes: i64| {
            let when = jiff::Timestamp::now().as_second() - minutes * 60;
            format!("@{when} +0000")
        };
        let (date, written) = (at(minutes_ago), at(written_minutes_ago));
        let out = Command::new("git")
            .arg("-C")
            .arg(&self.repo)
            .args(args)
            .env("GIT_AUTHOR_DATE", &written)
            .env("GIT_COMMITTER_DATE", &date)
            .env("GIT_AUTHOR_NAME", "alice")
            .env("GIT_AUTHOR_EMAIL", "alice@example.net")
            .env("GIT_COMMITTER_NAME", "alice")
            .env("GIT_COMMITTER_EMAIL", "alice@example.net")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", self.repo.parent().unwrap())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn commit(&self, zone: &str, subject: &str, minutes_ago: i64) {
        std::fs::write(self.expected().join("bots.example.net.zone"), zone).unwrap();
        self.git(&["add", "-A"], minutes_ago);
        self.git(&["commit", "-q", "-m", subject], minutes_ago);
    }

    fn new() -> Fleet {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("dns");
        std::fs::create_dir_all(repo.join("expected-records")).unwrap();
        std::fs::write(repo.join("expected-records/dns-audit.toml"), FAST).unwrap();
        let fleet = Fleet {
            // A named store's directory must exist (only the default one is created).
            state: {
                std::fs::create_dir_all(dir.path().join("state")).unwrap();
                dir.path().join("state/history.sqlite")
            },
            repo,
            server: std::net::SocketAddr::from(([127, 0, 0, 1], free_port())),
            _dir: dir,
        };
        fleet.git(&["init", "-q", "-b", "main"], 0);
        fleet.commit(BASE, "initial fleet", 120);
        fleet
    }

    /// One check run against a server serving `live`, recorded in the fleet's store.
    async fn observe(&self, live: &str) -> i32 {
        let server = serve_at(self.server, live).await;
        let out = audit("check")
            .expected(&self.expected())
            .state(&self.state)
            .nameserver("ns1", server.addr())
            .arg("--quiet")
            .run()
            .await;
        server.stop().await;
        out.status.code().unwrap_or(-1)
    }

    async fn recent(&self, extra: &[&str]) -> (i32, serde_json::Value, String) {
        let command = audit("recent")
            .arg("--offline")
            .expected(&self.expected())
            .state(&self.state)
            .args(extra);
        let human = command.clone().run().await;
        let out = command.format("json").run().await;
        let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{e}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (
            out.status.code().unwrap_or(-1),
            json,
            String::from_utf8_lossy(&human.stdout).into_owned(),
        )
    }
}

fn strings(value: &serde_json::Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// The incident, replayed: bh18 committed and deployed, then an A record with bh18's address
/// lands on bh17 by hand. `recent` puts that on top, says no commit explains it and whose
/// address it is, and shows the commit as live.
#[tokio::test(flavor = "multi_thread")]
async fn the_incident_reads_as_an_unexplained_change_on_top() {
    let fleet = Fleet::new();
    assert_eq!(fleet.observe(BASE).await, 0);
    fleet.commit(&with_bh18(BASE), "add bh18", 6);
    assert_eq!(fleet.observe(&with_bh18(BASE)).await, 0);
    let incident = format!("{}bh17 IN A 203.0.113.18\n", with_bh18(BASE));
    assert_eq!(fleet.observe(&incident).await, 1);

    let (code, json, human) = fleet.recent(&[]).await;
    assert_eq!(code, 1, "{json:#}");
    let dirs = [fleet._dir.path()];
    golden::golden(
        "recent.incident.json",
        &golden::normalise(&serde_json::to_string_pretty(&json).unwrap(), &dirs),
    );
    golden::golden("recent.incident.txt", &golden::normalise(&human, &dirs));
    let top = &json["unexplained"][0];
    assert_eq!(json["unexplained"].as_array().unwrap().len(), 1, "{json:#}");
    assert_eq!(top["host"], "bh17");
    assert_eq!(top["type"], "A");
    assert_eq!(strings(&top["values"]), ["203.0.113.17", "203.0.113.18"]);
    assert_eq!(strings(&top["before"]), ["203.0.113.17"]);
    assert_eq!(strings(&top["servers"]), ["ns1"]);
    assert_eq!(strings(&top["notes"]), ["203.0.113.18 is bh18's address"]);

    let commit = &json["commits"][0];
    assert_eq!(commit["subject"], "add bh18");
    assert_eq!(commit["status"], "live");
    let change = &commit["changes"][0];
    assert_eq!(
        (change["op"].as_str(), change["name"].as_str()),
        (Some("added"), Some("bh18.bots.example.net."))
    );

    let lines: Vec<&str> = human.lines().collect();
    let first = lines
        .iter()
        .position(|l| l.contains("LIVE CHANGES NO COMMIT EXPLAINS"))
        .unwrap();
    assert!(
        lines[first + 1].contains("bh17 A 203.0.113.1[7→8] appeared (before: 203.0.113.17) on ns1"),
        "{human}"
    );
    assert!(
        lines[first + 2].contains(
            "no commit explains it; 203.0.113.18 is bh18's address; last commit: 'add bh18'"
        ),
        "{human}"
    );
    assert!(
        human.contains("add bh18  (alice)  live on all servers"),
        "{human}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn undeployed_and_reverted_changes_are_told_apart() {
    let fleet = Fleet::new();
    assert_eq!(fleet.observe(BASE).await, 0);
    // Committed, not deployed: the servers still serve BASE.
    fleet.commit(&with_bh18(BASE), "add bh18", 10);
    assert_eq!(fleet.observe(BASE).await, 1);
    let (_, json, _) = fleet.recent(&[]).await;
    assert_eq!(json["commits"][0]["status"], "not yet live", "{json:#}");
    assert!(
        json["unexplained"].as_array().unwrap().is_empty(),
        "{json:#}"
    );

    // A manual change, then reverted by hand: the manual change stays in the story, marked
    // reverted and below what is served now; the revert is told on it, not as a change of its
    // own; and with nothing unexplained still served, recent does not fail.
    let manual = BASE.replace("bh16 IN A 203.0.113.16", "bh16 IN A 203.0.113.61");
    fleet.observe(&with_bh18(&manual)).await;
    let (code, json, human) = fleet.recent(&[]).await;
    assert_eq!(code, 1, "served and unexplained: {json:#}");
    assert!(json["unexplained"][0]["reverted"].is_null(), "{json:#}");
    assert!(!human.contains("SINCE REVERTED"), "{human}");
    fleet.observe(&with_bh18(BASE)).await;
    let (code, json, human) = fleet.recent(&[]).await;
    assert_eq!(code, 0, "{json:#}");
    assert_eq!(json["commits"][0]["status"], "live", "{json:#}");
    let unexplained = json["unexplained"].as_array().unwrap();
    assert_eq!(unexplained.len(), 1, "{json:#}");
    assert_eq!(strings(&unexplained[0]["values"]), ["203.0.113.61"]);
    assert!(unexplained[0]["reverted"].is_i64(), "{json:#}");
    assert!(
        !json["explained"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["host"] == "bh16"),
        "the revert is told on the change it undid: {json:#}"
    );
    assert!(
        !human.contains("LIVE CHANGES NO COMMIT EXPLAINS\n"),
        "{human}"
    );
    let reverted = human
        .lines()
        .skip_while(|l| !l.contains("LIVE CHANGES NO COMMIT EXPLAINED, SINCE REVERTED"))
        .nth(1)
        .unwrap_or_default();
    assert!(
        reverted.contains("bh16 A 203.0.113.[16→61] (was 203.0.113.16) on ns1; reverted "),
        "{human}"
    );

    // The same manual change made and reverted a second time is still one story: reverted,
    // by the latest revert, with nothing unexplained served.
    fleet.observe(&with_bh18(&manual)).await;
    let (code, json, _) = fleet.recent(&[]).await;
    assert_eq!(code, 1, "served again: {json:#}");
    fleet.observe(&with_bh18(BASE)).await;
    let (code, json, human) = fleet.recent(&[]).await;
    assert_eq!(code, 0, "{json:#}");
    let unexplained = json["unexplained"].as_array().unwrap();
    assert_eq!(unexplained.len(), 1, "{json:#}");
    assert!(unexplained[0]["reverted"].is_i64(), "{json:#}");
    assert!(human.contains("SINCE REVERTED"), "{human}");

    // --host narrows everything to one host.
    let (_, json, _) = fleet.recent(&["--host", "bh18"]).await;
    assert!(json["unexplained"].as_array().unwrap().is_empty());
    assert_eq!(json["commits"].as_array().unwrap().len(), 1);
}

/// A commit written days ago and landed minutes ago (a rebase, a late merge) is in a window
/// of an hour, shown by when it landed, with when it was written beside.
#[tokio::test(flavor = "multi_thread")]
async fn commits_are_chosen_and_shown_by_when_they_landed() {
    let fleet = Fleet::new();
    assert_eq!(fleet.observe(BASE).await, 0);
    std::fs::write(
        fleet.expected().join("bots.example.net.zone"),
        with_bh18(BASE),
    )
    .unwrap();
    fleet.git(&["add", "-A"], 6);
    fleet.git_written(&["commit", "-q", "-m", "add bh18"], 6, 3 * 24 * 60);
    let (_, json, human) = fleet.recent(&["--since", "1h"]).await;
    let commits = json["commits"].as_array().unwrap();
    assert_eq!(commits.len(), 1, "{json:#}");
    let landed = commits[0]["time"].as_i64().unwrap();
    let written = commits[0]["authored"].as_i64().unwrap();
    assert_eq!(landed - written, 3 * 24 * 3600 - 6 * 60, "{json:#}");
    assert!(
        human.contains("add bh18  (alice, written 3 d ago)"),
        "{human}"
    );
    let line = human.lines().find(|l| l.contains("add bh18")).unwrap();
    assert!(line.trim_start().starts_with("6 min ago"), "{line}");
}

#[tokio::test(flavor = "multi_thread")]
async fn nothing_recent_is_said_in_one_line() {
    let fleet = Fleet::new();
    assert_eq!(fleet.observe(BASE).await, 0);
    let (code, _, human) = fleet.recent(&["--since", "30m"]).await;
    assert_eq!(code, 0);
    // One line, and the store it read: a store that holds a single run cannot show changes.
    assert_eq!(human.lines().count(), 2, "{human}");
    assert!(human.starts_with("Nothing changed since"), "{human}");
    let store = human.lines().nth(1).unwrap();
    assert!(store.starts_with("history: "), "{human}");
    assert!(store.contains("holds 1 run since"), "{human}");
    assert!(
        store.contains("live changes cannot be shown yet"),
        "{human}"
    );
}

/// A stable fleet stores one row per run and no change rows.
#[tokio::test(flavor = "multi_thread")]
async fn the_store_grows_with_changes_not_runs() {
    let fleet = Fleet::new();
    for _ in 0..5 {
        assert_eq!(fleet.observe(BASE).await, 0);
    }
    let conn = rusqlite::Connection::open(&fleet.state).unwrap();
    let runs: i64 = conn
        .query_row("SELECT count(*) FROM runs", [], |r| r.get(0))
        .unwrap();
    let changes: i64 = conn
        .query_row("SELECT count(*) FROM changes", [], |r| r.get(0))
        .unwrap();
    assert_eq!(runs, 5);
    let first: i64 = conn
        .query_row(
            "SELECT count(*) FROM changes WHERE run = (SELECT min(id) FROM runs)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(changes, first, "only the first run wrote change rows");
}

#[tokio::test(flavor = "multi_thread")]
async fn overlapping_runs_both_succeed() {
    let fleet = Fleet::new();
    let server = serve(BASE).await;
    let check = audit("check")
        .expected(&fleet.expected())
        .state(&fleet.state)
        .nameserver("ns1", server.addr())
        // Without --wait the lock turns a second run away (exit 4, tests/scheduled.rs).
        .arg("--wait");
    let runs: Vec<_> = (0..4).map(|_| tokio::spawn(check.clone().run())).collect();
    for handle in runs {
        let out = handle.await.unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let conn = rusqlite::Connection::open(&fleet.state).unwrap();
    let runs: i64 = conn
        .query_row("SELECT count(*) FROM runs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(runs, 4);
}

/// A run killed at any point leaves a valid store that loses at most that run.
#[tokio::test(flavor = "multi_thread")]
async fn a_killed_run_leaves_a_valid_store() {
    let fleet = Fleet::new();
    assert_eq!(fleet.observe(BASE).await, 0);
    // A slow server keeps the run busy; kill it at several points of its life.
    let upstream = serve(BASE).await;
    let proxy = FaultProxy::start(
        upstream.addr(),
        Fault::Drop,
        Some(("bh17.bots.example.net.", hickory_proto::rr::RecordType::A)),
    )
    .await;
    for delay_ms in [5u64, 50, 200, 400] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_dns-audit"))
            .args(["check", "--expected"])
            .arg(fleet.expected())
            .arg("--state")
            .arg(&fleet.state)
            .arg("--nameserver")
            .arg(format!("ns1={}", proxy.addr))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(delay_ms)).await;
        let _ = child.kill();
        let _ = child.wait();
    }
    let conn = rusqlite::Connection::open(&fleet.state).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    assert_eq!(fleet.observe(BASE).await, 0, "the store still takes runs");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_corrupt_or_foreign_store_is_reported_and_never_overwritten() {
    let fleet = Fleet::new();
    let junk = b"this is not a database, and it is someone's file\n".repeat(100);
    std::fs::write(&fleet.state, &junk).unwrap();
    // The audit stands: its own exit code (clean), not 2, and the run is said to be unrecorded.
    assert_eq!(fleet.observe(BASE).await, 0);
    assert_eq!(
        std::fs::read(&fleet.state).unwrap(),
        junk,
        "the file was changed"
    );

    let foreign = fleet.state.with_file_name("other.sqlite");
    let conn = rusqlite::Connection::open(&foreign).unwrap();
    conn.execute_batch("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL); INSERT INTO invoices VALUES (1, 9.5);").unwrap();
    drop(conn);
    let before = std::fs::read(&foreign).unwrap();
    let server = serve(&format!("{BASE}bh17 IN A 203.0.113.18\n")).await;
    let out = audit("check")
        .expected(&fleet.expected())
        .state(&foreign)
        .nameserver("ns1", server.addr())
        .format("json")
        .run()
        .await;
    assert_eq!(
        out.status.code(),
        Some(1),
        "the drift is reported, not hidden"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("this run was not recorded"), "{err}");
    assert!(err.contains("not a dns-audit history store"), "{err}");
    assert!(err.contains("--no-record"), "says what to do: {err}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let why = json["not_recorded"].as_str().unwrap_or_default();
    assert!(why.contains("not a dns-audit history store"), "{json:#}");
    assert_eq!(std::fs::read(&foreign).unwrap(), before);
    let beside: Vec<_> = std::fs::read_dir(foreign.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("other.sqlite") && n != "other.sqlite")
        .collect();
    assert!(
        beside.is_empty(),
        "nothing written beside a file not ours: {beside:?}"
    );

    // recent cannot tell a story from it: exit 2, file untouched.
    let out = audit("recent")
        .arg("--offline")
        .expected(&fleet.expected())
        .state(&foreign)
        .run()
        .await;
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read(&foreign).unwrap(), before);
    let _ = Path::new("");
}

/// A store damaged inside (its header whole, so it is still known as a store) fails SQLite's
/// quick check, which runs beside the writing of a run: the run is not committed.
#[tokio::test(flavor = "multi_thread")]
async fn a_store_damaged_inside_is_reported_and_never_written() {
    let fleet = Fleet::new();
    assert_eq!(fleet.observe(BASE).await, 0);
    let conn = rusqlite::Connection::open(&fleet.state).unwrap();
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
        .unwrap();
    let page: i64 = conn
        .query_row("PRAGMA page_size", [], |r| r.get(0))
        .unwrap();
    // A page this run does not touch (no alert is configured): only the check can find it.
    let root: i64 = conn
        .query_row(
            "SELECT rootpage FROM sqlite_master WHERE name = 'alerts'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    drop(conn);
    let at = usize::try_from((root - 1) * page).unwrap();
    let mut bytes = std::fs::read(&fleet.state).unwrap();
    bytes[at..at + usize::try_from(page).unwrap()].fill(0x55);
    std::fs::write(&fleet.state, &bytes).unwrap();

    // A damaged store brought here without its lock file: none is left beside it either.
    let lock = fleet.state.with_file_name("history.sqlite.lock");
    std::fs::remove_file(&lock).unwrap();
    let server = serve_at(fleet.server, &format!("{BASE}bh17 IN A 203.0.113.18\n")).await;
    let out = audit("check")
        .expected(&fleet.expected())
        .state(&fleet.state)
        .nameserver("ns1", server.addr())
        .run()
        .await;
    server.stop().await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "the drift stands: {err}");
    assert!(
        !lock.exists(),
        "a lock file was left beside the damaged store"
    );
    assert!(err.contains("this run was not recorded"), "{err}");
    assert!(err.contains("the store is damaged"), "{err}");
    // A writer puts the store in WAL mode while it works and back in rollback mode when it is
    // done (so that readers who may not write can open it): that is the header's journal-mode
    // bytes and change counter (bytes 18-19, 24-27, 92-99). Nothing else may differ.
    let after = std::fs::read(&fleet.state).unwrap();
    assert_eq!(after.len(), bytes.len(), "the store was written");
    let data = |b: &[u8]| [&b[..18], &b[20..24], &b[28..92], &b[100..]].concat();
    assert!(data(&after) == data(&bytes), "the store was written");
    assert_eq!(
        &after[18..20],
        &[1, 1],
        "the store is left in rollback mode"
    );
}

/// A store path that is no regular file (/dev/null as root) is refused before SQLite opens it:
/// no `/dev/null-journal` appears; an empty file is taken as a new store, and said.
#[tokio::test(flavor = "multi_thread")]
async fn a_store_that_is_no_file_is_refused_and_an_empty_one_said() {
    let fleet = Fleet::new();
    let server = serve_at(fleet.server, BASE).await;
    let journal = Path::new("/dev/null-journal");
    let _ = std::fs::remove_file(journal);
    let out = audit("check")
        .expected(&fleet.expected())
        .state(Path::new("/dev/null"))
        .nameserver("ns1", server.addr())
        .run()
        .await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "the audit stands: {err}");
    assert!(err.contains("/dev/null: not a regular file"), "{err}");
    assert!(err.contains("Name a file with --state"), "{err}");
    assert!(!journal.exists(), "a journal was made beside /dev/null");
    let out = audit("recent")
        .arg("--offline")
        .expected(&fleet.expected())
        .state(Path::new("/dev/null"))
        .run()
        .await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("/dev/null: not a regular file"),
        "recent refuses it too: {err}"
    );

    // An empty file left there a while ago (not one another run is creating now).
    std::fs::write(&fleet.state, b"").unwrap();
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&fleet.state)
        .unwrap()
        .set_modified(old)
        .unwrap();
    let out = audit("check")
        .expected(&fleet.expected())
        .state(&fleet.state)
        .nameserver("ns1", server.addr())
        .run()
        .await;
    server.stop().await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("an empty file, taken as a new store"), "{err}");
}

/// A stray record the store's first run saw, gone in a later run: told as back to
/// expected-records, with git as without.
#[tokio::test(flavor = "multi_thread")]
async fn a_stray_gone_after_the_first_run_is_back_to_expected_in_git_or_not() {
    let fleet = Fleet::new();
    // By zone transfer: a name nobody expected is seen.
    std::fs::write(fleet.expected().join("dns-audit.toml"), FAST_AXFR).unwrap();
    fleet.git(&["commit", "-qam", "transfers"], 100);
    let stray = format!("{BASE}bh99 IN A 203.0.113.99\n");
    assert_eq!(fleet.observe(&stray).await, 1);
    assert_eq!(fleet.observe(BASE).await, 0);
    let (code, json, human) = fleet.recent(&[]).await;
    assert_eq!(code, 0, "{human}");
    assert!(
        human.contains("LIVE CHANGES BACK TO expected-records") && human.contains("bh99 A"),
        "in git: {human}\n{json:#}"
    );
}

/// A fix in several steps on the server (a second A added, the right one deleted, then the
/// zone redeployed from git) is one story, reverted: nothing is served that no commit explains.
#[tokio::test(flavor = "multi_thread")]
async fn a_change_fixed_in_steps_is_reverted_not_live() {
    let fleet = Fleet::new();
    assert_eq!(fleet.observe(BASE).await, 0);
    let added = format!("{BASE}bh17 IN A 203.0.113.145\n");
    assert_eq!(fleet.observe(&added).await, 1);
    let own_gone = added.replace("bh17 IN A 203.0.113.17\n", "");
    assert_eq!(fleet.observe(&own_gone).await, 1);
    assert_eq!(fleet.observe(BASE).await, 0, "redeployed from git: clean");

    let (code, json, human) = fleet.recent(&[]).await;
    assert_eq!(code, 0, "every server matches: {human}");
    let unexplained = json["unexplained"].as_array().unwrap();
    assert_eq!(unexplained.len(), 2, "{json:#}");
    assert!(
        unexplained.iter().all(|c| c["reverted"].is_i64()),
        "both steps are reverted: {json:#}"
    );
    assert_eq!(human.matches("reverted ").count(), 2, "{human}");
}

/// As deployed: the cron (root) writes the store in /var/lib/dns-audit's layout (directory
/// 0755, file 0644); on-call is another user (`nobody`) who may read but not write it, and for
/// whom git refuses the root-owned repository until told to trust it.
#[tokio::test(flavor = "multi_thread")]
async fn on_call_as_another_user_reads_the_cron_store() {
    use std::os::unix::fs::PermissionsExt;
    if !can_run_as_others() {
        return;
    }
    let fleet = Fleet::new();
    std::fs::set_permissions(fleet._dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let store_dir = fleet.state.parent().unwrap();
    std::fs::set_permissions(store_dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(fleet.observe(BASE).await, 0);
    let incident = format!("{BASE}bh17 IN A 203.0.113.18\n");
    assert_eq!(fleet.observe(&incident).await, 1);
    std::fs::set_permissions(&fleet.state, std::fs::Permissions::from_mode(0o644)).unwrap();
    let listing = || {
        let mut names: Vec<_> = std::fs::read_dir(store_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    };
    assert_eq!(
        listing(),
        ["history.sqlite", "history.sqlite.lock"],
        "the cron left the store and its run lock, no -wal or -shm"
    );
    let bytes = std::fs::read(&fleet.state).unwrap();

    // git's ownership check stays on: said, with what to do, never "not a repository".
    let out = audit("recent")
        .arg("--offline")
        .expected(&fleet.expected())
        .state(&fleet.state)
        .run_as("nobody")
        .run()
        .await;
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains("bh17 A 203.0.113.1[7→8] appeared"),
        "{stdout}"
    );
    assert!(stderr.contains("git refuses the repository"), "{stderr}");
    assert!(
        stderr.contains("git config --global --add safe.directory"),
        "{stderr}"
    );
    assert!(!stderr.contains("not inside a git repository"), "{stderr}");

    // Trusted by on-call's own git config: the change comes with its last-commit context, by
    // `audit recent --offline` and by `audit recent`, which checks but may not record.
    let trust = fleet._dir.path().join("oncall.gitconfig");
    std::fs::write(
        &trust,
        format!("[safe]\n\tdirectory = {}\n", fleet.repo.display()),
    )
    .unwrap();
    std::fs::set_permissions(&trust, std::fs::Permissions::from_mode(0o644)).unwrap();
    let server = serve_at(fleet.server, &incident).await;
    for offline in [true, false] {
        let mut command = audit("recent")
            .alias()
            .expected(&fleet.expected())
            .state(&fleet.state)
            .nameserver("ns1", server.addr())
            .env("GIT_CONFIG_GLOBAL", &trust.display().to_string())
            .run_as("nobody");
        if offline {
            command = command.arg("--offline");
        }
        let out = command.run().await;
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
        assert!(
            stdout.contains("no commit explains it")
                && stdout.contains("last commit: 'initial fleet'"),
            "offline {offline}: {stdout}{stderr}"
        );
        assert!(!stderr.contains("git refuses"), "{stderr}");
        if !offline {
            assert!(
                stderr.contains("this user may not write the store"),
                "{stderr}"
            );
            assert!(
                stdout.contains("DRIFT"),
                "the fresh check is shown: {stdout}"
            );
        }
    }
    server.stop().await;
    assert_eq!(
        listing(),
        ["history.sqlite", "history.sqlite.lock"],
        "a reader created a file beside the store"
    );
    assert_eq!(
        std::fs::read(&fleet.state).unwrap(),
        bytes,
        "a reader wrote the store"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn stores_are_found_where_named_and_read_only_reading_writes_nothing() {
    use std::os::unix::fs::PermissionsExt;
    let fleet = Fleet::new();
    // A mistyped --state directory is an error, not a fresh store that hides the history.
    let typo = fleet
        .state
        .parent()
        .unwrap()
        .join("no-such-dir/history.sqlite");
    let server = serve(BASE).await;
    let out = audit("check")
        .expected(&fleet.expected())
        .state(&typo)
        .nameserver("ns1", server.addr())
        .run()
        .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-dir"));
    assert!(!typo.parent().unwrap().exists());

    // recent --offline on a store that is not there says so and creates nothing.
    let (code, json, human) = fleet.recent(&[]).await;
    assert_eq!(code, 0);
    assert!(human.contains("history: no store at"), "{human}");
    assert_eq!(json["store"]["exists"], false);
    assert!(!fleet.state.exists(), "--offline created a store");

    // The store named in dns-audit.toml (or DNS_AUDIT_STATE) is the one every command uses.
    assert_eq!(fleet.observe(BASE).await, 0);
    assert_eq!(fleet.observe(BASE).await, 0);
    let config = fleet.expected().join("dns-audit.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!("state = {:?}\n{text}", fleet.state.display().to_string()),
    )
    .unwrap();
    let out = audit("recent")
        .arg("--offline")
        .expected(&fleet.expected())
        .format("json")
        .run()
        .await;
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["store"]["runs"], 2, "{json:#}");
    // DNS_AUDIT_STATE names it too (over the config's), for cron and on-call alike.
    let other = fleet.state.with_file_name("from-env.sqlite");
    let out = Command::new(env!("CARGO_BIN_EXE_dns-audit"))
        .args(["check", "--quiet", "--expected"])
        .arg(fleet.expected())
        .arg("--nameserver")
        .arg(format!("ns1={}", server.addr()))
        .env("DNS_AUDIT_STATE", &other)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(other.exists(), "DNS_AUDIT_STATE was not used");

    // On-call may read the service user's store without write access: read-only, no lock.
    let runuser = Path::new("/usr/sbin/runuser");
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout == b"0\n");
    if runuser.exists() && is_root {
        for dir in fleet.state.ancestors().skip(1) {
            if dir.as_os_str().len() <= 1 {
                break;
            }
            let mut perms = std::fs::metadata(dir).unwrap().permissions();
            perms.set_mode(perms.mode() | 0o755);
            std::fs::set_permissions(dir, perms).unwrap();
        }
        let before: Vec<_> = std::fs::read_dir(fleet.state.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        let out = Command::new(runuser)
            .args(["-u", "nobody", "--"])
            .arg(env!("CARGO_BIN_EXE_dns-audit"))
            .args(["recent", "--offline", "--expected"])
            .arg(fleet.expected())
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{err}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("2 runs"),
            "{out:?}"
        );
        let after: Vec<_> = std::fs::read_dir(fleet.state.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(before, after, "a reader wrote beside the store");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_commit_live_at_the_first_run_is_not_live_since_that_run() {
    let fleet = Fleet::new();
    assert_eq!(fleet.observe(BASE).await, 0);
    // The fleet committed two hours ago was served when the history began: since when, nobody
    // knows (it must not read "live since 0 s ago").
    let (_, json, human) = fleet.recent(&[]).await;
    let initial = &json["commits"][0];
    assert_eq!(initial["status"], "live", "{json:#}");
    assert!(initial["live_since"].is_null(), "{json:#}");
    assert!(human.contains("since before the history began"), "{human}");

    // A change deployed after the history began is live since the run that first saw it.
    let with = with_bh18(BASE);
    fleet.commit(&with, "add bh18", 5);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(fleet.observe(&with).await, 0);
    let (_, json, _) = fleet.recent(&[]).await;
    let added = &json["commits"][0];
    assert_eq!(added["subject"], "add bh18", "{json:#}");
    assert_eq!(added["status"], "live", "{json:#}");
    assert!(added["live_since"].is_i64(), "{json:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn check_says_which_revision_of_expected_records_it_compared() {
    let fleet = Fleet::new();
    let server = serve_at(fleet.server, BASE).await;
    let check = |expected: PathBuf| {
        let addr = server.addr();
        async move {
            let out = audit("check")
                .arg("--no-record")
                .expected(&expected)
                .nameserver("ns1", addr)
                .run()
                .await;
            String::from_utf8_lossy(&out.stdout).into_owned()
        }
    };
    let head = Command::new("git")
        .arg("-C")
        .arg(&fleet.repo)
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .unwrap();
    let head = String::from_utf8_lossy(&head.stdout).trim().to_string();
    let text = check(fleet.expected()).await;
    assert!(
        text.ends_with(&format!("compared with expected-records: commit {head}\n")),
        "{text}"
    );
    // A local edit nobody committed: said, since it may be the drift.
    let zone = fleet.expected().join("bots.example.net.zone");
    let edited = format!("{}; a comment\n", std::fs::read_to_string(&zone).unwrap());
    std::fs::write(&zone, edited).unwrap();
    let text = check(fleet.expected()).await;
    assert!(
        text.contains(&format!(
            ": commit {head} with uncommitted changes to expected-records"
        )),
        "{text}"
    );
    // Staged, and untracked: both nobody committed.
    fleet.git(&["add", "-A"], 0);
    let text = check(fleet.expected()).await;
    assert!(text.contains("with uncommitted changes"), "staged: {text}");
    fleet.git(&["reset", "-q", "--hard"], 0);
    assert!(check(fleet.expected())
        .await
        .ends_with(&format!("commit {head}\n")));
    std::fs::write(fleet.expected().join("notes.txt"), "").unwrap();
    let text = check(fleet.expected()).await;
    assert!(
        text.contains("with uncommitted changes"),
        "untracked: {text}"
    );
    std::fs::remove_file(fleet.expected().join("notes.txt")).unwrap();
    // Outside git.
    let copy = tempfile::tempdir().unwrap();
    for file in ["bots.example.net.zone", "dns-audit.toml"] {
        std::fs::copy(fleet.expected().join(file), copy.path().join(file)).unwrap();
    }
    let text = check(copy.path().to_path_buf()).await;
    assert!(
        text.ends_with("compared with expected-records: not in git\n"),
        "{text}"
    );
}

/// Nothing a repository's config names runs: a filter (clean, smudge, process) on the zone
/// files, a diff driver and textconv, an external diff, fsmonitor, a pager and a signature
/// program behind `log.showSignature`. `check`, `lint --base` and `recent` read the repository
/// (the zone file rewritten first, so `git status` would have to run the clean filter) and no
/// command leaves its mark.
#[tokio::test(flavor = "multi_thread")]
async fn nothing_the_repository_configures_is_run() {
    use std::os::unix::fs::PermissionsExt;
    let fleet = Fleet::new();
    std::fs::write(
        fleet.repo.join(".gitattributes"),
        "*.zone filter=evil diff=evil\n",
    )
    .unwrap();
    fleet.git(&["add", "-A"], 60);
    fleet.git(&["commit", "-q", "-m", "attributes"], 60);
    let marks = fleet._dir.path().join("marks");
    std::fs::create_dir(&marks).unwrap();
    let mark = |what: &str| format!("touch {}/{what}", marks.display());
    let gpg = fleet._dir.path().join("gpg.sh");
    std::fs::write(&gpg, format!("#!/bin/sh\n{}\n", mark("gpg"))).unwrap();
    std::fs::set_permissions(&gpg, std::fs::Permissions::from_mode(0o755)).unwrap();
    let config = [
        ("filter.evil.clean", format!("{}; cat", mark("clean"))),
        ("filter.evil.smudge", format!("{}; cat", mark("smudge"))),
        ("filter.evil.process", mark("process")),
        ("filter.evil.required", "true".into()),
        ("diff.evil.command", mark("diff")),
        ("diff.evil.textconv", format!("{}; cat", mark("textconv"))),
        ("diff.external", mark("external")),
        ("core.fsmonitor", mark("fsmonitor")),
        ("core.pager", format!("{}; cat", mark("pager"))),
        ("log.showSignature", "true".into()),
        ("gpg.program", gpg.display().to_string()),
    ];
    for (key, value) in &config {
        fleet.git(&["config", key, value], 0);
    }
    let zone = fleet.expected().join("bots.example.net.zone");
    let text = std::fs::read_to_string(&zone).unwrap();
    std::fs::write(&zone, text).unwrap();

    let server = serve_at(fleet.server, BASE).await;
    let out = audit("check")
        .expected(&fleet.expected())
        .state(&fleet.state)
        .nameserver("ns1", server.addr())
        .run()
        .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("compared with expected-records: commit ")
            && !stdout.contains("uncommitted"),
        "the same bytes are no change: {stdout}"
    );
    let lint = audit("lint")
        .expected(&fleet.expected())
        .args(["--base", "HEAD~1"])
        .run()
        .await;
    assert_eq!(lint.status.code(), Some(0), "{lint:?}");
    let (code, _, human) = fleet.recent(&[]).await;
    assert_eq!(code, 0, "{human}");
    server.stop().await;
    let ran: Vec<_> = std::fs::read_dir(&marks)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(ran.is_empty(), "the repository's config ran: {ran:?}");
}

/// `--since` as people type it: ages in any combination, dates, RFC 3339 times; a refusal says
/// every form that works.
#[tokio::test(flavor = "multi_thread")]
async fn since_takes_ages_dates_and_times() {
    let fleet = Fleet::new();
    assert_eq!(fleet.observe(BASE).await, 0);
    for since in ["1h30m", "2w", "2026-01-01", "2026-01-01T00:00:00Z"] {
        let (code, _, human) = fleet.recent(&["--since", since]).await;
        assert_eq!(code, 0, "{since}: {human}");
    }
    let out = audit("recent")
        .arg("--offline")
        .expected(&fleet.expected())
        .arg("--since")
        .arg("1h30")
        .run()
        .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("an age (30m, 24h, 7d, 2w, 1h30m), a date (2026-11-29, midnight UTC) or an RFC 3339 time"),
        "{stderr}"
    );
}
