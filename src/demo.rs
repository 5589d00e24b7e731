//! `dns-audit demo`: the incident this tool exists for, replayed on loopback.
//!
//! Two in-process authoritative servers serve the example fleet with one extra record: while
//! bot-host 18 was being set up, an A record with bh18's address landed on bh17. The audit runs
//! against them, exactly as `check` would, and the demo verifies that it found that record and
//! nothing else.

use std::net::SocketAddr;
use std::path::Path;

use hickory_proto::rr::{Name, RecordType};

use crate::check::{check, resolver_finding};
use crate::expected::load_expected;
use crate::git::Repo;
use crate::history::History;
use crate::model::Zone;
use crate::observe::Nameserver;
use crate::recent::{gather, Recent, RecentQuery};
use crate::report::{Kind, Report, Severity};
use crate::server::AuthServer;
use crate::zonefile::{load_zone_bytes, ZoneLimits};

/// The example fleet shipped in expected-records/, built into the binary so the demo runs anywhere.
pub const EXAMPLE_ZONE: &str = include_str!("../expected-records/bots.example.net.zone");
/// The zone the example file holds.
pub const EXAMPLE_ORIGIN: &str = "bots.example.net.";

/// What the demo did.
pub struct DemoRun {
    /// The audit's report.
    pub report: Report,
    /// What `recent` shows after it.
    pub recent: Recent,
    /// The two servers, as `ns1=addr`, `ns2=addr`.
    pub servers: Vec<Nameserver>,
    /// After the fix: what a caching resolver in front of ns1 still serves of bh17 A.
    pub resolver_view: Vec<crate::report::Finding>,
    /// The resolver's address.
    pub resolver: Option<SocketAddr>,
    /// Why the result is not exactly the replayed incident; empty when it is.
    pub mismatch: Vec<String>,
}

/// Why the demo could not run (not: why its result is not the incident; that is
/// [`DemoRun::mismatch`]).
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// Its temporary directory or files.
    #[error("cannot write the demo's files: {0}")]
    Files(#[from] std::io::Error),
    /// The built-in example fleet does not load.
    #[error(transparent)]
    Example(#[from] crate::error::Error),
    /// A loopback server could not start.
    #[error("cannot start the demo's {what} on 127.0.0.1: {source}")]
    Serve {
        /// Which server.
        what: String,
        /// Why.
        source: std::io::Error,
    },
    /// The history store.
    #[error("history: {0}")]
    History(#[from] crate::history::HistoryError),
    /// Reading history and git for `recent`.
    #[error(transparent)]
    Recent(#[from] crate::recent::RecentError),
}

/// The example fleet as committed, and as served during the incident.
struct Fleet {
    expected: crate::expected::Expected,
    repo: Option<Repo>,
    served: Zone,
    incident: Zone,
}

/// bh17, where the stray record lands.
fn bh17() -> Name {
    Name::from_ascii("bh17.bots.example.net.").unwrap_or_default()
}

/// Replays the incident: a git repository of expected-records with "initial fleet" (3 days ago)
/// and "add bh18" (6 min ago); two loopback servers serve the fleet with bh18 and a check is
/// recorded; then the stray A record lands on bh17 and the servers are audited again; `recent`
/// joins the history and git. Everything lives in a temporary directory.
pub async fn run() -> Result<DemoRun, DemoError> {
    let work = tempfile::tempdir()?;
    let fleet = fleet(work.path())?;
    let mut history = History::open(&work.path().join("history.sqlite"))?;
    // The run from before the incident: bh18 deployed, everything as committed.
    let (servers, running) = serve_pair(&fleet.served, None).await?;
    let (_, not_recorded) = check(&fleet.expected, &servers, Some(&mut history)).await;
    stop(running).await;
    if let Some(e) = not_recorded {
        return Err(e.into());
    }
    // The incident, on the same servers (the history knows servers by address).
    let addresses: Vec<SocketAddr> = servers.iter().map(|s| s.addr).collect();
    let (servers, running) = serve_pair(&fleet.incident, Some(&addresses)).await?;
    let (mut report, not_recorded) = check(&fleet.expected, &servers, Some(&mut history)).await;
    // A caching resolver in front of ns1 answers a user about bh17 while the incident is live,
    // and still serves what it cached once the fix is served.
    let resolver = AuthServer::forwarder(loopback(), addresses[0]).await;
    let resolver = resolver.map_err(|source| DemoError::Serve {
        what: "resolver".into(),
        source,
    })?;
    let question = bh17_question(&fleet.served);
    let spec = [crate::config::ResolverSpec::Address(resolver.addr())];
    let query = fleet.expected.config.query;
    crate::resolvers::ask(&spec, std::slice::from_ref(&question), query).await;
    stop(running).await;
    if let Some(e) = not_recorded {
        return Err(e.into());
    }
    let (_, fixed) = serve_pair(&fleet.served, Some(&addresses)).await?;
    let answers = crate::resolvers::ask(&spec, &[question], query).await;
    stop(fixed).await;
    let resolver_addr = resolver.addr();
    resolver.stop().await;
    let resolver_view: Vec<_> = answers
        .iter()
        .filter_map(|answer| resolver_finding(answer, &[]))
        .collect();
    // The demo audits a temporary copy of the repository's expected-records: name the file as
    // the reader has it.
    for zone in &mut report.zones {
        let file = crate::zonefile::file_name_for_zone(&fleet.served.origin);
        zone.zone_file = Some(format!("expected-records/{file}"));
    }
    let mut recent = last_day(&fleet, &history)?;
    recent.drift = Some(report.clone());
    let mut mismatch = incident_mismatch(&report);
    mismatch.extend(recent_mismatch(&recent, fleet.repo.is_some()));
    mismatch.extend(resolver_mismatch(&resolver_view));
    Ok(DemoRun {
        report,
        recent,
        servers,
        resolver_view,
        resolver: Some(resolver_addr),
        mismatch,
    })
}

/// What `recent` shows of the last day, from the demo's history and git.
fn last_day(fleet: &Fleet, history: &History) -> Result<Recent, crate::recent::RecentError> {
    let now = jiff::Timestamp::now().as_second();
    let query = RecentQuery {
        since: now - 86_400,
        now,
        host: None,
    };
    gather(&fleet.expected, Some(history), fleet.repo.as_ref(), &query)
}

/// Writes expected-records in `work` with its git history, and loads the fleet as committed
/// and as served during the incident (bh17 with bh18's address).
fn fleet(work: &Path) -> Result<Fleet, DemoError> {
    let dir = work.join("expected-records");
    std::fs::create_dir_all(&dir)?;
    let zone_file = dir.join("bots.example.net.zone");
    let before_bh18: String = EXAMPLE_ZONE
        .lines()
        .filter(|line| !line.starts_with("bh18") && !line.starts_with("*.bh18"))
        .map(|line| format!("{}\n", line.replace("2026112401", "2026112400")))
        .collect();
    let repo = git_history(work, &zone_file, &before_bh18)?;
    let expected = load_expected(&dir, &[])?;
    let origin = Name::from_ascii(EXAMPLE_ORIGIN).unwrap_or_default();
    let load = |text: &str| {
        load_zone_bytes(&zone_file, text.as_bytes(), &origin, ZoneLimits::default())
            .map(|loaded| loaded.zone)
            .map_err(crate::error::Error::Zone)
    };
    Ok(Fleet {
        expected,
        repo,
        served: load(EXAMPLE_ZONE)?,
        incident: load(&format!("{EXAMPLE_ZONE}bh17 300 IN A 203.0.113.18\n"))?,
    })
}

/// What a user asked the resolver: bh17 A, expected as `served` has it.
fn bh17_question(served: &Zone) -> crate::resolvers::Question {
    let name = bh17();
    crate::resolvers::Question {
        zone: EXAMPLE_ORIGIN.into(),
        host: "bh17".into(),
        expected: served
            .rrset(&name, RecordType::A)
            .map(|set| set.shown(RecordType::A))
            .unwrap_or_default(),
        name,
        rtype: RecordType::A,
        ttl: 300,
    }
}

/// After the fix the resolver must still serve bh17's stray A (both values, from its cache).
fn resolver_mismatch(resolver_view: &[crate::report::Finding]) -> Option<String> {
    let stale = resolver_view.iter().any(|f| {
        f.kind == Kind::ResolverStale
            && f.seen.len() == 2
            && f.seen.contains(&"203.0.113.18".to_string())
    });
    (!stale).then(|| {
        format!(
            "after the fix the resolver should still serve bh17's stray A; it gave {resolver_view:?}"
        )
    })
}

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// Two servers of `zone` on loopback: on `addresses` when given, else on free ports.
async fn serve_pair(
    zone: &Zone,
    addresses: Option<&[SocketAddr]>,
) -> Result<(Vec<Nameserver>, Vec<AuthServer>), DemoError> {
    let mut servers = Vec::new();
    let mut running = Vec::new();
    for (i, label) in ["ns1", "ns2"].into_iter().enumerate() {
        let bind = addresses
            .and_then(|a| a.get(i))
            .copied()
            .unwrap_or_else(loopback);
        let server = AuthServer::start(bind, std::slice::from_ref(zone))
            .await
            .map_err(|source| DemoError::Serve {
                what: label.into(),
                source,
            })?;
        servers.push(Nameserver {
            label: label.into(),
            addr: server.addr(),
        });
        running.push(server);
    }
    Ok((servers, running))
}

async fn stop(servers: Vec<AuthServer>) {
    for server in servers {
        server.stop().await;
    }
}

/// Commits "initial fleet" (3 days ago, without bh18) and "add bh18" (6 min ago) in a new
/// repository at `root`. Without git the demo goes on with no commits to show.
fn git_history(root: &Path, zone_file: &Path, before: &str) -> std::io::Result<Option<Repo>> {
    let now = jiff::Timestamp::now().as_second();
    let git = |args: &[&str], minutes_ago: i64| -> bool {
        let date = format!("@{} +0000", now - minutes_ago * 60);
        std::process::Command::new("git")
            .arg("-C")
            .arg(root)
            .args(args)
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .env("GIT_AUTHOR_NAME", "alice")
            .env("GIT_AUTHOR_EMAIL", "alice@example.net")
            .env("GIT_COMMITTER_NAME", "alice")
            .env("GIT_COMMITTER_EMAIL", "alice@example.net")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let write = |text: &str| std::fs::write(zone_file, text);
    write(before)?;
    let committed = git(&["init", "-q"], 4320)
        && git(&["add", "-A"], 4320)
        && git(&["commit", "-q", "-m", "initial fleet"], 4320);
    write(EXAMPLE_ZONE)?;
    let committed =
        committed && git(&["add", "-A"], 6) && git(&["commit", "-q", "-m", "add bh18"], 6);
    if !committed {
        return Ok(None);
    }
    Ok(zone_file.parent().and_then(|dir| Repo::find(dir).ok()))
}

/// What `recent` must show after the incident: the stray record on top, unexplained, named as
/// bh18's address, and the "add bh18" commit live.
fn recent_mismatch(recent: &Recent, with_git: bool) -> Vec<String> {
    let mut problems = Vec::new();
    let top = recent.unexplained.first();
    let stray_on_top = top.is_some_and(|live| {
        live.host == "bh17"
            && live.rtype == "A"
            && live
                .notes
                .iter()
                .any(|n| n == "203.0.113.18 is bh18's address")
            && live.servers == ["ns1", "ns2"]
    });
    if !stray_on_top || recent.unexplained.len() != 1 {
        problems.push("recent did not put the stray bh17 A record on top as unexplained".into());
    }
    if with_git {
        let add_bh18 = recent.commits.iter().find(|c| c.subject == "add bh18");
        if add_bh18.is_none_or(|c| c.status != crate::recent::CommitStatus::Live) {
            problems.push("recent did not show the 'add bh18' commit as live".into());
        }
    }
    problems
}

/// Everything in `report` that is not exactly the replayed incident.
fn incident_mismatch(report: &Report) -> Vec<String> {
    let mut problems = Vec::new();
    let findings: Vec<_> = report
        .zones
        .iter()
        .flat_map(|z| {
            z.hosts
                .iter()
                .flat_map(|h| &h.findings)
                .chain(&z.server_findings)
        })
        .collect();
    let incident = |f: &&crate::report::Finding| {
        f.severity == Severity::Drift
            && f.kind == Kind::WrongValue
            && f.host == "bh17"
            && f.rtype == "A"
            && f.unexpected == ["203.0.113.18"]
            && f.missing.is_empty()
            && f.servers == ["ns1", "ns2"]
    };
    if !findings.iter().any(incident) {
        problems.push("the stray A 203.0.113.18 on bh17 was not reported on ns1 and ns2".into());
    }
    for finding in findings.iter().filter(|f| !incident(f)) {
        problems.push(format!(
            "unexpected finding: {} {} {} {}",
            finding.host,
            finding.name,
            finding.rtype,
            finding.kind.label()
        ));
    }
    problems
}
