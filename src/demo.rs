//! `dns-audit demo`: the incident this tool exists for, replayed on loopback.
//!
//! Two in-process authoritative servers serve the example fleet with one extra record: while
//! bot-host 18 was being set up, an A record with bh18's address landed on bh17. The audit runs
//! against them, exactly as `check` would, and the demo verifies that it found that record and
//! nothing else.

use std::net::SocketAddr;
use std::path::Path;
use std::str::FromStr;

use hickory_proto::rr::{Name, RecordType};

use crate::check::{check, Expected};
use crate::config::Config;
use crate::model::Rdata;
use crate::observe::Nameserver;
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
    /// The two servers, as `ns1=addr`, `ns2=addr`.
    pub servers: Vec<Nameserver>,
    /// Why the report is not exactly the replayed incident; empty when it is.
    pub mismatch: Vec<String>,
}

/// Serves the example fleet with the incident on two loopback servers and audits them.
pub async fn run() -> Result<DemoRun, String> {
    let origin = Name::from_str(EXAMPLE_ORIGIN).map_err(|e| e.to_string())?;
    let loaded = load_zone_bytes(
        Path::new("expected-records/bots.example.net.zone"),
        EXAMPLE_ZONE.as_bytes(),
        &origin,
        ZoneLimits::default(),
    )
    .map_err(|errors| format!("the built-in example zone does not load: {errors:?}"))?;

    let mut live = loaded.zone.clone();
    let bh17 = Name::from_str("bh17.bots.example.net.").map_err(|e| e.to_string())?;
    let stray = Rdata::from_wire(RecordType::A, &[203, 0, 113, 18])?;
    live.insert(&bh17, RecordType::A, 300, stray);

    let loopback: SocketAddr = "127.0.0.1:0".parse().map_err(|e| format!("{e}"))?;
    let ns1 = AuthServer::start(loopback, std::slice::from_ref(&live))
        .await
        .map_err(|e| format!("cannot start ns1 on 127.0.0.1: {e}"))?;
    let ns2 = AuthServer::start(loopback, std::slice::from_ref(&live))
        .await
        .map_err(|e| format!("cannot start ns2 on 127.0.0.1: {e}"))?;
    let servers = vec![
        Nameserver {
            label: "ns1".into(),
            addr: ns1.addr(),
        },
        Nameserver {
            label: "ns2".into(),
            addr: ns2.addr(),
        },
    ];
    let expected = Expected {
        dir: "expected-records".into(),
        config: Config::default(),
        zones: vec![loaded],
    };
    let (report, _) = check(&expected, &servers, None).await;
    ns1.stop().await;
    ns2.stop().await;
    let mismatch = incident_mismatch(&report);
    Ok(DemoRun {
        report,
        servers,
        mismatch,
    })
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
