//! `dns-audit check` end to end: the binary against real servers on 127.0.0.1.

use std::process::Command;
use std::time::Duration;

use crate::common::*;
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;

fn with(extra: &str) -> String {
    format!("{ZONE}{extra}")
}

#[tokio::test(flavor = "multi_thread")]
async fn clean_zone_exits_0_with_no_findings() {
    let ns1 = serve(ZONE).await;
    let ns2 = serve(ZONE).await;
    let dir = expected_dir(ZONE, FAST);
    let (code, json) = check_json(dir.path(), &[("ns1", ns1.addr()), ("ns2", ns2.addr())]).await;
    assert_eq!(code, 0, "{json:#}");
    assert_eq!(json["schema"], "dns-audit.check/1");
    assert_eq!(json["verdict"], "clean");
    assert!(findings(&json).is_empty(), "{json:#}");
    assert_eq!(json["zones"][0]["servers"][0]["status"], "ok");
    assert_eq!(json["zones"][0]["servers"][0]["serial"], 2026112401);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_incident_is_one_drift_line_naming_both_servers() {
    let live = with("bh17 IN A 203.0.113.18\n");
    let ns1 = serve(&live).await;
    let ns2 = serve(&live).await;
    let dir = expected_dir(ZONE, FAST);
    let (code, json) = check_json(dir.path(), &[("ns1", ns1.addr()), ("ns2", ns2.addr())]).await;
    assert_eq!(code, 1);
    let drift = drift(&json);
    assert_eq!(drift.len(), 1, "{json:#}");
    assert_eq!(drift[0]["kind"], "wrong_value");
    assert_eq!(drift[0]["host"], "bh17");
    assert_eq!(drift[0]["type"], "A");
    assert_eq!(drift[0]["unexpected"], serde_json::json!(["203.0.113.18"]));
    assert_eq!(drift[0]["servers"], serde_json::json!(["ns1", "ns2"]));

    let out = audit("check")
        .expected(dir.path())
        .nameserver("ns1", ns1.addr())
        .nameserver("ns2", ns2.addr())
        .run()
        .await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("bh17  DRIFT   A 203.0.113.1[7→8] not expected (seen on ns1, ns2)"),
        "{text}"
    );
    assert_eq!(out.status.code(), Some(1));
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_extra_and_changed_records_are_each_reported() {
    let live = ZONE.replace("bh17 IN AAAA 2001:db8:100::17\n", "").replace(
        "\nbh18 IN A 203.0.113.18\n",
        "\nbh18 IN A 203.0.113.81\nbh18 IN TXT \"stray\"\n",
    );
    let ns1 = serve(&live).await;
    let dir = expected_dir(ZONE, FAST);
    let (code, json) = check_json(dir.path(), &[("ns1", ns1.addr())]).await;
    assert_eq!(code, 1);
    let kinds: Vec<(String, String, String)> = drift(&json)
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap().to_string(),
                f["name"].as_str().unwrap().to_string(),
                f["type"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        kinds.contains(&(
            "missing_rrset".into(),
            "bh17.bots.example.net.".into(),
            "AAAA".into()
        )),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&(
            "wrong_value".into(),
            "bh18.bots.example.net.".into(),
            "A".into()
        )),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&(
            "extra_type".into(),
            "bh18.bots.example.net.".into(),
            "TXT".into()
        )),
        "{kinds:?}"
    );
    assert_eq!(kinds.len(), 3, "{kinds:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn ttl_differences_are_drift_or_warning_as_configured() {
    let live = ZONE.replace("\nbh18 IN A 203.0.113.18", "\nbh18 60 IN A 203.0.113.18");
    let ns1 = serve(&live).await;
    let dir = expected_dir(ZONE, FAST);
    let (code, json) = check_json(dir.path(), &[("ns1", ns1.addr())]).await;
    assert_eq!(code, 1);
    let drift = drift(&json);
    assert_eq!(drift[0]["kind"], "ttl_differs");
    assert_eq!(drift[0]["seen"], serde_json::json!(["60"]));

    let dir = expected_dir(ZONE, &format!("{FAST}ttl = \"warn\"\n"));
    let (code, json) = check_json(dir.path(), &[("ns1", ns1.addr())]).await;
    assert_eq!(code, 0, "{json:#}");
    assert_eq!(findings(&json)[0]["severity"], "warning");
}

#[tokio::test(flavor = "multi_thread")]
async fn servers_that_disagree_are_named_and_serials_show_propagation() {
    let newer = ZONE
        .replace("2026112401", "2026112402")
        .replace("\nbh18 IN A 203.0.113.18", "\nbh18 IN A 203.0.113.99");
    let ns1 = serve(&newer).await;
    let ns2 = serve(ZONE).await;
    let dir = expected_dir(ZONE, FAST);
    let (code, json) = check_json(dir.path(), &[("ns1", ns1.addr()), ("ns2", ns2.addr())]).await;
    assert_eq!(code, 1);
    let all = findings(&json);
    let drift = drift(&json);
    assert_eq!(drift.len(), 1, "{all:#?}");
    assert_eq!(drift[0]["servers"], serde_json::json!(["ns1"]));
    assert!(all
        .iter()
        .any(|f| f["kind"] == "servers_disagree"
            && f["servers"] == serde_json::json!(["ns1", "ns2"])));
    let serial = all.iter().find(|f| f["kind"] == "serial_differs").unwrap();
    assert_eq!(serial["severity"], "warning");
    assert_eq!(serial["servers"], serde_json::json!(["ns1"]));
}

#[tokio::test(flavor = "multi_thread")]
async fn names_compare_case_insensitively_and_rrsets_as_sets() {
    let live = ZONE.replace("bh17 IN A", "BH17 IN A").replace(
        "panel.bh17 IN CNAME bh17",
        "Panel.Bh17 IN CNAME BH17.bots.example.NET.",
    );
    let expected = with("bh18 IN A 203.0.113.180\n");
    let served = format!("{live}bh18 IN A 203.0.113.180\n");
    let ns1 = serve(&served).await;
    let dir = expected_dir(&expected, FAST);
    let (code, json) = check_json(dir.path(), &[("ns1", ns1.addr())]).await;
    assert_eq!(code, 0, "{json:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_is_down_is_incomplete_not_drift() {
    let ns1 = serve(ZONE).await;
    let dead = {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.local_addr().unwrap()
    };
    let dir = expected_dir(ZONE, FAST);
    let (code, json) = check_json(dir.path(), &[("ns1", ns1.addr()), ("ns2", dead)]).await;
    assert_eq!(code, 3, "{json:#}");
    assert_eq!(json["verdict"], "incomplete");
    assert!(drift(&json).is_empty());
    let all = findings(&json);
    assert_eq!(all.len(), 1, "{all:#?}");
    assert_eq!(all[0]["kind"], "unreachable");
    assert_eq!(all[0]["servers"], serde_json::json!(["ns2"]));
}

/// A server that answers the zone's apex SOA with an authoritative NXDOMAIN (it serves the
/// parent, not this zone) is lame for it: failed, exit 3, no "SOA missing" drift, and no
/// host said to match.
#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_does_not_serve_the_zone_is_lame_not_drift() {
    let parent = serve(ZONE).await;
    let dir = tempfile::tempdir().unwrap();
    let child = "$ORIGIN sub.bots.example.net.\n$TTL 300\n\
                 @ SOA ns1 hostmaster 1 3600 900 1209600 300\n@ NS ns1\nns1 A 192.0.2.1\nwww A 192.0.2.2\n";
    std::fs::write(dir.path().join("sub.bots.example.net.zone"), child).unwrap();
    std::fs::write(dir.path().join("dns-audit.toml"), FAST).unwrap();
    let (code, json) = check_json(dir.path(), &[("ns1", parent.addr())]).await;
    assert_eq!(code, 3, "{json:#}");
    assert!(drift(&json).is_empty(), "{json:#}");
    let all = findings(&json);
    assert_eq!(all.len(), 1, "{all:#?}");
    assert_eq!(all[0]["kind"], "not_authoritative", "{all:#?}");
    let why = all[0]["why"].as_str().unwrap();
    assert!(why.contains("NXDOMAIN for the zone's apex"), "{why}");
    let out = audit("check")
        .expected(dir.path())
        .nameserver("ns1", parent.addr())
        .run()
        .await;
    let human = String::from_utf8_lossy(&out.stdout);
    assert!(!human.contains("match expected-records"), "{human}");
    assert!(human.contains("none served"), "{human}");
}

/// A zone transfer that slips in records of another zone (`ns1bots.example.net.` ends with the
/// zone's letters, not its labels) and of another class (CH) never makes them zone data: one
/// warning about the server names them, nothing drifts.
#[tokio::test(flavor = "multi_thread")]
async fn records_of_another_zone_or_class_in_a_transfer_are_not_zone_data() {
    use hickory_proto::rr::{rdata::A, DNSClass, RData, Record};
    let real = serve(ZONE).await;
    let record = |name: &str, class: DNSClass, last: u8| {
        let mut record = Record::from_rdata(
            hickory_proto::rr::Name::from_ascii(name).unwrap(),
            300,
            RData::A(A::new(6, 6, 6, last)),
        );
        record.dns_class = class;
        record
    };
    let hostile = TransferTamper::start(
        real.addr(),
        vec![
            record("ns1bots.example.net.", DNSClass::IN, 11),
            record("bh17.bots.example.net.", DNSClass::CH, 12),
        ],
    )
    .await;
    let dir = expected_dir(ZONE, FAST_AXFR);
    let (code, json) = check_json(dir.path(), &[("ns1", hostile.addr)]).await;
    assert_eq!(code, 0, "{json:#}");
    assert!(drift(&json).is_empty(), "{json:#}");
    let all = findings(&json);
    assert_eq!(all.len(), 1, "{all:#?}");
    assert_eq!(all[0]["kind"], "outside_zone", "{all:#?}");
    assert_eq!(all[0]["severity"], "warning", "{all:#?}");
    let why = all[0]["why"].as_str().unwrap();
    assert!(why.contains("2 records"), "{why}");
    assert!(why.contains("ns1bots.example.net. IN A"), "{why}");
    assert!(why.contains("bh17.bots.example.net. CH A"), "{why}");
    assert_eq!(json["zones"][0]["servers"][0]["method"], "axfr", "{json:#}");
}

/// A server that answers the SOA and drops everything else is asked only until its budget of
/// timeouts in a row is spent; what was not asked is said, the run is incomplete (exit 3), and
/// no host it never answered for is counted as matching.
#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_drops_everything_but_the_soa_is_given_up() {
    let mut zone = ZONE.to_string();
    for n in 0..300 {
        zone.push_str(&format!("host{n} IN A 198.51.100.{}\n", n % 250));
    }
    let real = serve(&zone).await;
    let dropping = FaultProxy::start(real.addr(), Fault::DropAllButSoa, None).await;
    let config = "timeout_ms = 100\nretries = 0\naxfr = \"never\"\nmax_timeouts_in_a_row = 20\nconcurrency = 4\n";
    let dir = expected_dir(&zone, config);
    let (code, json) = check_json(dir.path(), &[("ns1", dropping.addr)]).await;
    assert_eq!(code, 3, "{json:#}");
    assert!(drift(&json).is_empty(), "{json:#}");
    let server = &json["zones"][0]["servers"][0];
    let queries = server["queries"].as_u64().unwrap();
    assert!(queries < 40, "asked on after the budget: {queries} queries");
    let failed = findings(&json)
        .into_iter()
        .find(|f| f["kind"] == "query_failed")
        .expect("query_failed");
    let why = failed["why"].as_str().unwrap();
    assert!(
        why.contains("not asked: 20 queries in a row timed out"),
        "{why}"
    );
    assert!(
        json["zones"][0]["hosts_unknown"].as_u64().unwrap() > 300,
        "{json:#}"
    );
    let out = audit("check")
        .expected(dir.path())
        .nameserver("ns1", dropping.addr)
        .run()
        .await;
    let human = String::from_utf8_lossy(&out.stdout);
    assert!(!human.contains("match expected-records"), "{human}");
    assert!(
        human.contains("hosts unknown: no server answered for them"),
        "{human}"
    );

    // The run's own time limit stops a server that answers slowly but never in a row.
    let config =
        "timeout_ms = 300\nretries = 0\naxfr = \"never\"\nmax_run_time = \"1s\"\nconcurrency = 1\n";
    let dir = expected_dir(&zone, config);
    let (code, json) = check_json(dir.path(), &[("ns1", dropping.addr)]).await;
    assert_eq!(code, 3, "{json:#}");
    let failed = findings(&json)
        .into_iter()
        .find(|f| f["kind"] == "query_failed")
        .expect("query_failed");
    let why = failed["why"].as_str().unwrap();
    assert!(why.contains("max_run_time = 1s"), "{why}");
}

/// SIGTERM in the middle of a run: the asking stops, and the run still prints its report,
/// writes its metrics file and says it was stopped (exit 3: the rest is unknown).
#[tokio::test(flavor = "multi_thread")]
async fn a_stopped_run_still_reports() {
    let mut zone = ZONE.to_string();
    for n in 0..200 {
        zone.push_str(&format!("host{n} IN A 198.51.100.{}\n", n % 250));
    }
    let real = serve(&zone).await;
    let dropping = FaultProxy::start(real.addr(), Fault::DropAllButSoa, None).await;
    let config = "timeout_ms = 1000\nretries = 0\naxfr = \"never\"\nconcurrency = 1\n";
    let dir = expected_dir(&zone, config);
    let metrics = dir.path().join("audit.prom");
    let child = Command::new(env!("CARGO_BIN_EXE_dns-audit"))
        .args(["check", "--no-record", "--expected"])
        .arg(dir.path())
        .arg("--nameserver")
        .arg(format!("ns1={}", dropping.addr))
        .arg("--metrics-file")
        .arg(&metrics)
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(3), "{stdout}{stderr}");
    assert!(stdout.contains("bots.example.net."), "the report: {stdout}");
    assert!(
        stderr.contains("stopped: the run was stopped by SIGTERM"),
        "{stderr}"
    );
    let text = std::fs::read_to_string(&metrics).unwrap();
    assert!(text.contains("dns_audit"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_wins_over_an_unreachable_server() {
    let ns1 = serve(&with("bh17 IN A 203.0.113.18\n")).await;
    let dead = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let dir = expected_dir(ZONE, FAST);
    let (code, _) = check_json(dir.path(), &[("ns1", ns1.addr()), ("ns2", dead)]).await;
    assert_eq!(code, 1);
}

/// Every fault that leaves the answer unknown must give exit 3 and no drift.
#[tokio::test(flavor = "multi_thread")]
async fn failed_answers_are_unknown_never_drift() {
    let upstream = serve(ZONE).await;
    let faults = [
        Fault::Rcode(ResponseCode::ServFail),
        Fault::Rcode(ResponseCode::Refused),
        Fault::Rcode(ResponseCode::NotImp),
        Fault::Rcode(ResponseCode::FormErr),
        Fault::Drop,
        Fault::Late,
        Fault::NoAa,
        Fault::EmptyTruncatedNoTcp,
    ];
    for fault in faults {
        let proxy = FaultProxy::start(
            upstream.addr(),
            fault,
            Some(("bh17.bots.example.net.", RecordType::A)),
        )
        .await;
        let dir = expected_dir(ZONE, FAST);
        let (code, json) = check_json(dir.path(), &[("ns1", proxy.addr)]).await;
        assert_eq!(code, 3, "{fault:?}: {json:#}");
        assert!(drift(&json).is_empty(), "{fault:?}: {json:#}");
        let all = findings(&json);
        assert_eq!(all.len(), 1, "{fault:?}: {all:#?}");
        assert_eq!(all[0]["kind"], "query_failed", "{fault:?}");
        assert!(proxy.hits.load(std::sync::atomic::Ordering::SeqCst) >= 1);
    }
}

/// Spoof-like packets are ignored and the real answer still counts; a slipped empty TC=1
/// answer goes to TCP and is never read as "no records".
#[tokio::test(flavor = "multi_thread")]
async fn bogus_packets_are_ignored_and_truncation_goes_to_tcp() {
    let upstream = serve(ZONE).await;
    for fault in [
        Fault::WrongIdFirst,
        Fault::WrongQuestionFirst,
        Fault::OtherPortFirst,
        Fault::EmptyTruncated,
        Fault::LateOnce,
    ] {
        let proxy = FaultProxy::start(upstream.addr(), fault, None).await;
        let dir = expected_dir(ZONE, FAST);
        let (code, json) = check_json(dir.path(), &[("ns1", proxy.addr)]).await;
        assert_eq!(code, 0, "{fault:?}: {json:#}");
        if fault == Fault::EmptyTruncated {
            // Every UDP answer is an empty TC=1 slip: after three, the server counts as
            // rate-limiting and the rest goes straight to TCP.
            let server = &json["zones"][0]["servers"][0];
            assert!(server["tcp_fallbacks"].as_u64().unwrap() >= 3, "{server}");
            assert_eq!(server["rate_limited"], true, "{server}");
        }
        if fault == Fault::LateOnce {
            // The retry gets through; the late answer to the first try comes for an ID no
            // longer waited on and is dropped.
            let server = &json["zones"][0]["servers"][0];
            assert!(server["retries"].as_u64().unwrap() >= 1, "{server}");
        }
    }
}

/// A QR=0 packet is not an answer: it is dropped, and the real answer that follows counts.
#[tokio::test(flavor = "multi_thread")]
async fn a_packet_without_qr_is_never_read_as_content() {
    let upstream = serve(ZONE).await;
    let proxy = FaultProxy::start(upstream.addr(), Fault::QueryBitFirst, None).await;
    let dir = expected_dir(ZONE, FAST);
    let (code, json) = check_json(dir.path(), &[("ns1", proxy.addr)]).await;
    assert_eq!(code, 0, "{json:#}");
    assert!(findings(&json).is_empty(), "{json:#}");
    assert!(proxy.hits.load(std::sync::atomic::Ordering::SeqCst) > 10);
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_txt_cannot_reach_the_terminal_raw() {
    let live = with("bh17 IN TXT \"\\027[2J\\010::error::pwned\\013\"\n");
    let ns1 = serve(&live).await;
    let dir = expected_dir(ZONE, FAST);
    let out = audit("check")
        .expected(dir.path())
        .nameserver("ns1", ns1.addr())
        .run()
        .await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(!text.contains('\x1b') && !text.contains('\r'), "{text:?}");
    assert!(!text.lines().any(|l| l.starts_with("::")), "{text}");
    assert!(
        text.contains(r#""\027[2J\010::error::pwned\013" not expected"#),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_exits_2_with_file_line_and_column() {
    let dir = expected_dir(
        &with("bh19 IN A 203.0.113.300\nbh20 IN AAAA zz::1 junk\n"),
        FAST,
    );
    let out = audit("check")
        .expected(dir.path())
        .arg("--nameserver")
        .arg("127.0.0.1:9")
        .run()
        .await;
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bots.example.net.zone:14:11:"), "{err}");
    assert!(err.contains("bots.example.net.zone:15:"), "{err}");

    let dir = expected_dir(ZONE, "timeout_ms = \"soon\"\n");
    let out = audit("check").expected(dir.path()).run().await;
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("dns-audit.toml:1:14:"), "{err}");

    let out = audit("check")
        .arg("--nameserver")
        .arg("not-an-ip")
        .run()
        .await;
    assert_eq!(out.status.code(), Some(2));
    let out = audit("check").arg("--bogus").run().await;
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_finds_exactly_the_replayed_incident() {
    let out = audit("demo").run().await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("bh17  DRIFT   A 203.0.113.1[7→8] not expected (seen on ns1, ns2)"),
        "{text}"
    );
    // The monitoring phase: after the fix, the demo's caching resolver still serves the stray A.
    assert!(
        text.contains("stale in a resolver: 127.0.0.1:")
            && text.contains(
                "still serves bh17.bots.example.net. A 203.0.113.17, 203.0.113.18, for up to"
            ),
        "{text}"
    );
}

/// The demo under a hostile global git config (a runner's ~/.gitconfig naming a filter, a
/// diff driver and an fsmonitor for every file): it still finds the incident, and nothing
/// the config names runs.
#[tokio::test(flavor = "multi_thread")]
async fn the_demo_runs_nothing_a_git_config_names() {
    let home = tempfile::tempdir().unwrap();
    let marks = home.path().join("marks");
    std::fs::create_dir(&marks).unwrap();
    let mark = |what: &str| format!("touch {}/{what}", marks.display());
    std::fs::write(home.path().join("attributes"), "* filter=evil diff=evil\n").unwrap();
    let config = format!(
        "[core]\n\tattributesFile = {}\n\tfsmonitor = {}\n[filter \"evil\"]\n\tclean = {}; cat\n\tsmudge = {}; cat\n[diff \"evil\"]\n\ttextconv = {}; cat\n\tcommand = {}\n",
        home.path().join("attributes").display(),
        mark("fsmonitor"),
        mark("clean"),
        mark("smudge"),
        mark("textconv"),
        mark("diff"),
    );
    std::fs::write(home.path().join(".gitconfig"), config).unwrap();
    let out = audit("demo")
        .env("HOME", &home.path().display().to_string())
        .run()
        .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ran: Vec<_> = std::fs::read_dir(&marks)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(ran.is_empty(), "the git config ran: {ran:?}");
}

/// `check --format json` with a history store at `state`.
async fn check_recorded(
    dir: &std::path::Path,
    state: &std::path::Path,
    servers: &[(&str, std::net::SocketAddr)],
) -> (i32, serde_json::Value) {
    let state = state.display().to_string();
    check_json_with(dir, servers, &["--state", &state]).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_behind_on_the_serial_is_propagating_within_the_grace_and_drift_after() {
    // The new zone changes bh17's address; ns2 still serves the old one.
    let new = ZONE
        .replace("2026112401", "2026112402")
        .replace("bh17 IN A 203.0.113.17", "bh17 IN A 203.0.113.71");
    let ns1 = serve(&new).await;
    let ns2 = serve(ZONE).await;
    let servers = [("ns1", ns1.addr()), ("ns2", ns2.addr())];

    // Within serial_grace (an hour by default; nothing tells that ns1 has had it for longer):
    // warnings only, exit 0.
    let dir = expected_dir(&new, FAST);
    let (code, json) = check_json(dir.path(), &servers).await;
    assert_eq!(code, 0, "{json:#}");
    let all = findings(&json);
    let serial = all
        .iter()
        .find(|f| f["kind"] == "serial_differs")
        .expect("a serial finding");
    assert_eq!(serial["severity"], "warning");
    assert_eq!(serial["servers"], serde_json::json!(["ns2"]));
    assert_eq!(serial["seen"], serde_json::json!(["2026112401"]));
    assert!(
        serial["why"].as_str().unwrap().contains("propagating"),
        "{serial:#}"
    );
    let bh17 = all
        .iter()
        .find(|f| f["host"] == "bh17" && f["kind"] == "wrong_value")
        .expect("ns2's old address is still reported");
    assert_eq!(bh17["severity"], "warning");
    assert_eq!(bh17["servers"], serde_json::json!(["ns2"]));
    assert!(drift(&json).is_empty(), "{json:#}");

    // With no grace the same state is drift: ns2 is not getting the new zone.
    let dir = expected_dir(&new, &format!("{FAST}serial_grace = \"0s\"\n"));
    let (code, json) = check_json(dir.path(), &servers).await;
    assert_eq!(code, 1, "{json:#}");
    let drift = drift(&json);
    assert!(
        drift.iter().any(|f| f["kind"] == "serial_differs"
            && f["why"]
                .as_str()
                .unwrap()
                .contains("not getting the new zone")),
        "{drift:#?}"
    );
    assert!(
        drift
            .iter()
            .any(|f| f["host"] == "bh17" && f["servers"] == serde_json::json!(["ns2"])),
        "{drift:#?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_history_keeps_since_when_each_server_serves_its_serial() {
    let new = ZONE.replace("2026112401", "2026112402");
    let ns1 = serve(&new).await;
    let old = serve(ZONE).await;
    let dir = expected_dir(&new, FAST);
    let state = tempfile::tempdir().unwrap();
    let store = state.path().join("history.sqlite");
    let serials = || {
        dns_audit::history::History::open(&store)
            .unwrap()
            .serials(ORIGIN)
            .unwrap()
    };

    let (code, _) = check_recorded(
        dir.path(),
        &store,
        &[("ns1", ns1.addr()), ("ns2", old.addr())],
    )
    .await;
    assert_eq!(code, 0);
    let first = serials();
    let (ns1_key, ns2_key) = (ns1.addr().to_string(), old.addr().to_string());
    assert_eq!(first[&ns1_key].serial, 2026112402, "keyed by address");
    assert_eq!(first[&ns2_key].serial, 2026112401);

    // Unchanged serials keep the time they were first seen.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    check_recorded(
        dir.path(),
        &store,
        &[("ns1", ns1.addr()), ("ns2", old.addr())],
    )
    .await;
    assert_eq!(serials(), first);

    // ns2 catches up (the same server, loaded anew): its serial and its time change, ns1's
    // stay.
    let ns2_addr = old.addr();
    old.stop().await;
    let caught_up = serve_at(ns2_addr, &new).await;
    check_recorded(
        dir.path(),
        &store,
        &[("ns1", ns1.addr()), ("ns2", caught_up.addr())],
    )
    .await;
    let now = serials();
    assert_eq!(now[&ns1_key], first[&ns1_key]);
    assert_eq!(now[&ns2_key].serial, 2026112402);
    assert!(
        now[&ns2_key].since > first[&ns2_key].since,
        "{now:?} {first:?}"
    );

    // Named differently on the command line (the bare address, as a config may list it), the
    // same server keeps its history: it is known by address.
    check_recorded(
        dir.path(),
        &store,
        &[(&ns1_key, ns1.addr()), ("ns2", caught_up.addr())],
    )
    .await;
    assert_eq!(serials()[&ns1_key], first[&ns1_key]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_transfer_over_the_record_limit_is_stopped_not_read() {
    // The expected zone holds 11 records; the server streams 300 more.
    let flood: String = (0..300)
        .map(|i| format!("x{i} IN A 192.0.2.{}\n", i % 250))
        .collect();
    let ns1 = serve(&with(&flood)).await;
    let config = "timeout_ms = 300\nretries = 1\naxfr = \"always\"\nmax_zone_records = 11\n";
    let dir = expected_dir(ZONE, config);
    let (code, json) = check_json(dir.path(), &[("ns1", ns1.addr())]).await;
    assert_eq!(code, 3, "{json:#}");
    let server = &json["zones"][0]["servers"][0];
    assert!(
        server["transfer_failure"]
            .as_str()
            .unwrap_or_default()
            .contains("over 11 records (max_zone_records)"),
        "{server:#}"
    );
    assert!(drift(&json).is_empty(), "{json:#}");

    // With the default axfr = "auto" the audit goes on by queries, but it cannot see the 300
    // names nobody expected: incomplete (exit 3), not CLEAN.
    let config = "timeout_ms = 300\nretries = 1\naxfr = \"auto\"\nmax_zone_records = 11\n";
    let dir = expected_dir(ZONE, config);
    let (code, json) = check_json(dir.path(), &[("ns1", ns1.addr())]).await;
    assert_eq!(code, 3, "{json:#}");
    let blind: Vec<_> = findings(&json)
        .into_iter()
        .filter(|f| f["kind"] == "transfer_failed")
        .collect();
    assert_eq!(blind.len(), 1, "{json:#}");
    assert_eq!(blind[0]["severity"], "failure");
    assert!(drift(&json).is_empty(), "{json:#}");
}

#[test]
fn a_store_of_the_first_schema_is_brought_forward_with_its_data() {
    let state = tempfile::tempdir().unwrap();
    let store = state.path().join("history.sqlite");
    drop(dns_audit::history::History::open(&store).unwrap());
    // Make it a schema-1 store, as the first release wrote it, holding one run.
    let conn = rusqlite::Connection::open(&store).unwrap();
    conn.execute_batch(
        "DROP TABLE serials; DROP TABLE states; DROP TABLE feeds;
         ALTER TABLE rrsets DROP COLUMN label; PRAGMA user_version = 1;
         INSERT INTO runs (started_at, duration_ms, servers, verdict, drift, failures)
         VALUES (1700000000, 5, 2, 'clean', 0, 0);",
    )
    .unwrap();
    drop(conn);
    let history = dns_audit::history::History::open(&store).unwrap();
    assert!(history.serials(ORIGIN).unwrap().is_empty());
    assert_eq!(history.last_run().unwrap(), Some(1700000000));
    drop(history);
    let conn = rusqlite::Connection::open(&store).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, dns_audit::history::SCHEMA_VERSION);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_finding_says_since_when_it_has_been_served() {
    let live = with("bh17 IN A 203.0.113.18\n");
    let ns1 = serve(&live).await;
    let dir = expected_dir(ZONE, FAST);
    let state = tempfile::tempdir().unwrap();
    let store = state.path().join("history.sqlite");
    let servers = [("ns1", ns1.addr())];

    // The first run to see it: since is the run's own start.
    let (code, first) = check_recorded(dir.path(), &store, &servers).await;
    assert_eq!(code, 1);
    let second_of = |v: &serde_json::Value| {
        v.as_str()
            .unwrap_or_else(|| panic!("{v}"))
            .parse::<jiff::Timestamp>()
            .unwrap()
            .as_second()
    };
    let seen_first = drift(&first)[0]["since"].clone();
    assert_eq!(
        second_of(&seen_first),
        second_of(&first["started_at"]),
        "{first:#}"
    );

    // A later run: still the time the first run saw it.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (_, second) = check_recorded(dir.path(), &store, &servers).await;
    assert_eq!(drift(&second)[0]["since"], seen_first);
    assert_ne!(second["started_at"], first["started_at"]);
    // On the terminal an earlier run's finding is never "new", however recent.
    let out = audit("check")
        .expected(dir.path())
        .state(&store)
        .nameserver("ns1", ns1.addr())
        .run()
        .await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("(seen on ns1), for "), "{text}");
    assert!(!text.contains(", new"), "{text}");
    assert!(
        text.ends_with("dns-audit recent\n"),
        "points to recent: {text}"
    );

    // The same server under another name (the bare address, as a config lists it): the store
    // knows it by address, so the drift is still as old as it is.
    let bare = ns1.addr().to_string();
    let (_, renamed) = check_recorded(dir.path(), &store, &[(&bare, ns1.addr())]).await;
    assert_eq!(drift(&renamed)[0]["since"], seen_first, "{renamed:#}");

    // A store of schema 2 kept every RRset's state in `rrsets` (its values in a baseline change)
    // and servers by name: brought forward, its states move to `states`, its rows to the
    // address the first time that name is seen again, and nothing is lost.
    let conn = rusqlite::Connection::open(&store).unwrap();
    let states: Vec<(Vec<u8>, u16, i64, i64)> = conn
        .prepare("SELECT owner, rtype, hash, since FROM states")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    conn.execute_batch(
        "DELETE FROM changes; DELETE FROM rrsets; DROP TABLE states; DROP TABLE feeds;
         UPDATE serials SET server = 'ns1', label = NULL;
         ALTER TABLE rrsets DROP COLUMN label; ALTER TABLE serials DROP COLUMN label;
         PRAGMA user_version = 2;",
    )
    .unwrap();
    let first_run: i64 = conn
        .query_row("SELECT min(id) FROM runs", [], |r| r.get(0))
        .unwrap();
    for (owner, rtype, hash, since) in states {
        let name = dns_audit::model::present_name(&dns_audit::model::name_of_key(&owner));
        let rtype = hickory_proto::rr::RecordType::from(rtype).to_string();
        let vals = if name.starts_with("bh17.") && rtype == "A" {
            r#"["203.0.113.17","203.0.113.18"]"#
        } else {
            "[]"
        };
        conn.execute(
            "INSERT INTO rrsets (zone, server, name, rtype, hash) VALUES (?1, 'ns1', ?2, ?3, ?4)",
            rusqlite::params![ORIGIN, name, rtype, hash],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO changes (rrset, run, at, present, ttl, vals, before, baseline)
             VALUES (last_insert_rowid(), ?1, ?2, 1, 300, ?3, '[]', 1)",
            rusqlite::params![first_run, since, vals],
        )
        .unwrap();
    }
    drop(conn);
    let (_, migrated) = check_recorded(dir.path(), &store, &servers).await;
    assert_eq!(drift(&migrated)[0]["since"], seen_first, "{migrated:#}");
    let conn = rusqlite::Connection::open(&store).unwrap();
    let keys: Vec<String> = conn
        .prepare("SELECT DISTINCT server FROM rrsets UNION SELECT server FROM feeds")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(keys, std::slice::from_ref(&bare), "rows keyed by address");
    let changes: i64 = conn
        .query_row("SELECT count(*) FROM changes WHERE baseline = 0", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(changes, 0, "nothing changed: nothing recorded");

    // Without a history nothing tells.
    let (_, unrecorded) = check_json(dir.path(), &servers).await;
    let text = audit("check")
        .arg("--no-record")
        .expected(dir.path())
        .nameserver("ns1", ns1.addr())
        .run()
        .await;
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    // No history, so no "since"; how long resolvers may keep it after the fix (its TTL).
    assert!(
        text.contains("(seen on ns1); cached up to 5 min (TTL 300)\n"),
        "{text}"
    );
    assert!(
        drift(&unrecorded)[0]["since"].is_string(),
        "check_json records in a fresh store"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn queries_are_non_recursive_with_a_1232_octet_buffer_and_stay_in_the_zone() {
    // A CNAME to a name outside the zone: its target is never asked, and the answer a server
    // gives for it (the CNAME and whatever follows) is read only for the RRset asked.
    let zone = with("web IN CNAME www.example.org.\n");
    let upstream = serve(&zone).await;
    let proxy = FaultProxy::start(
        upstream.addr(),
        Fault::Drop,
        Some(("none.invalid.", RecordType::A)),
    )
    .await;
    let dir = expected_dir(&zone, FAST);
    let (code, json) = check_json(dir.path(), &[("ns1", proxy.addr)]).await;
    assert_eq!(code, 0, "{json:#}");
    let queries = proxy.queries.lock().unwrap().clone();
    assert!(queries.len() > 20, "{}", queries.len());
    let origin = hickory_proto::rr::Name::from_ascii(ORIGIN).unwrap();
    for query in &queries {
        assert!(!query.metadata.recursion_desired, "{query:?}");
        let edns = query.edns.as_ref().expect("EDNS on every query");
        assert_eq!(edns.max_payload(), 1232);
        let question = &query.queries[0];
        assert!(
            origin.zone_of(question.name()),
            "asked outside the zone: {question}"
        );
        let dnssec = matches!(question.query_type(), RecordType::DNSKEY | RecordType::DS);
        assert_eq!(edns.flags().dnssec_ok, dnssec, "{question}");
    }
}

/// Colour follows the conventions: NO_COLOR, CLICOLOR_FORCE, CLICOLOR, and TERM=dumb.
#[tokio::test(flavor = "multi_thread")]
async fn colour_follows_no_color_clicolor_and_term() {
    let server = serve(&with("bh17 IN A 203.0.113.18\n")).await;
    let dir = expected_dir(ZONE, FAST);
    let check = format!(
        "{} check --no-record --expected {} --nameserver ns1={}",
        env!("CARGO_BIN_EXE_dns-audit"),
        dir.path().display(),
        server.addr()
    );
    let coloured = |envs: &'static [(&'static str, &'static str)], pty: bool| {
        let check = check.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                let mut command = if pty {
                    // `script` gives the program a terminal, as an engineer's shell does.
                    let mut c = std::process::Command::new("script");
                    c.args(["-qec", &check, "/dev/null"]);
                    c
                } else {
                    let mut parts = check.split(' ');
                    let mut c = std::process::Command::new(parts.next().unwrap());
                    c.args(parts);
                    c
                };
                command
                    .env_remove("NO_COLOR")
                    .env_remove("CLICOLOR")
                    .env_remove("CLICOLOR_FORCE")
                    .env("TERM", "xterm-256color")
                    .envs(envs.iter().copied())
                    .stdin(std::process::Stdio::null());
                let out = command.output().unwrap();
                assert_eq!(out.status.code(), Some(1), "{out:?}");
                String::from_utf8_lossy(&out.stdout).contains("\x1b[")
            })
            .await
            .unwrap()
        }
    };
    assert!(!coloured(&[], false).await, "no colour into a pipe");
    assert!(coloured(&[("CLICOLOR_FORCE", "1")], false).await);
    assert!(!coloured(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")], false).await);
    if std::path::Path::new("/usr/bin/script").exists() {
        assert!(coloured(&[], true).await, "colour on a terminal");
        assert!(!coloured(&[("TERM", "dumb")], true).await, "TERM=dumb");
        assert!(!coloured(&[("CLICOLOR", "0")], true).await, "CLICOLOR=0");
        assert!(!coloured(&[("NO_COLOR", "1")], true).await, "NO_COLOR");
    }
}

/// The same finding on many hosts is one line with a count; --verbose gives one line each.
#[tokio::test(flavor = "multi_thread")]
async fn the_same_finding_on_many_hosts_is_told_once() {
    let tagged: String = (1..=6)
        .map(|i| format!("bh{i} IN TXT \"owner=ops\"\n"))
        .collect();
    let server = serve(ZONE).await;
    let dir = expected_dir(&with(&tagged), FAST);
    let check = |verbose: bool| {
        let command = audit("check")
            .arg("--no-record")
            .expected(dir.path())
            .nameserver("ns1", server.addr());
        if verbose {
            command.arg("--verbose").run()
        } else {
            command.run()
        }
    };
    let out = check(false).await;
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    let missing: Vec<&str> = text.lines().filter(|l| l.contains("owner=ops")).collect();
    assert_eq!(missing.len(), 1, "{text}");
    assert!(missing[0].trim_start().starts_with("6 hosts"), "{text}");
    assert!(missing[0].ends_with("; bh1, bh2, bh3 and 3 more"), "{text}");
    let out = check(true).await;
    let text = String::from_utf8_lossy(&out.stdout);
    let drift_lines = |l: &&str| l.contains("owner=ops") && l.contains("DRIFT");
    assert_eq!(text.lines().filter(drift_lines).count(), 6, "{text}");
    // Each with what to do about it.
    assert_eq!(
        text.lines().filter(|l| l.contains("fix: serve")).count(),
        6,
        "{text}"
    );
}

/// One record deleted on one server is one line that says where it is missing, not also a
/// disagreement between the servers (JSON keeps both).
#[tokio::test(flavor = "multi_thread")]
async fn a_record_missing_on_one_server_is_one_line() {
    let ns1 = serve(ZONE).await;
    let ns2 = serve(&ZONE.replace("bh17 IN A 203.0.113.17\n", "")).await;
    let dir = expected_dir(ZONE, FAST);
    let servers = [("ns1", ns1.addr()), ("ns2", ns2.addr())];
    let (code, json) = check_json(dir.path(), &servers).await;
    assert_eq!(code, 1);
    assert!(
        findings(&json)
            .iter()
            .any(|f| f["kind"] == "servers_disagree"),
        "{json:#}"
    );
    let out = audit("check")
        .arg("--no-record")
        .expected(dir.path())
        .nameservers(&servers)
        .run()
        .await;
    let text = String::from_utf8_lossy(&out.stdout);
    // Its absence is cached for the SOA's negative TTL (RFC 2308: min of MINIMUM 300 and the
    // SOA's own TTL 3600).
    assert!(
        text.contains("bh17  DRIFT   A missing on ns2 (expected 203.0.113.17); its absence cached up to 5 min (negative TTL 300)"),
        "{text}"
    );
    assert_eq!(
        findings(&json)
            .iter()
            .find(|f| f["kind"] == "missing_rrset")
            .unwrap()["cached_for"],
        300
    );
    // The header says the serial is the one expected and the one served; the summary says when.
    assert!(
        text.starts_with(
            "bots.example.net.  serial 2026112401 expected and served  2/2 servers answered"
        ),
        "{text}"
    );
    let summary = text
        .lines()
        .find(|l| l.starts_with("DRIFT"))
        .unwrap_or_default();
    assert!(summary.ends_with(" UTC"), "{text}");
    // The summary counts the warning lines it shows (one): the disagreement the drift line
    // retells is not told again, nor counted; JSON keeps both.
    assert!(summary.contains(" · 1 warning · "), "{text}");
    assert_eq!(json["summary"]["warnings"], 2, "{json:#}");
    assert!(
        text.trim_end()
            .ends_with("compared with expected-records: not in git"),
        "{text}"
    );
    assert!(!text.contains("servers disagree"), "{text}");
    let finding_lines: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("  ") && (l.contains("DRIFT") || l.contains("WARN")))
        .collect();
    // The record's line, and one line naming the servers that share a serial but not the data
    // (a hand edit without a serial bump, which no transfer will carry).
    assert_eq!(finding_lines.len(), 2, "{text}");
    assert!(
        finding_lines[0].contains(
            "same serial, other data: ns1, ns2 all serve serial 2026112401 but different data (1 RRset differs)"
        ),
        "{text}"
    );
    let kinds: Vec<_> = findings(&json).iter().map(|f| f["kind"].clone()).collect();
    assert!(
        kinds.contains(&serde_json::json!("same_serial_other_data")),
        "{json:#}"
    );
}

/// A host nobody expected does not make an expected host look unchecked.
#[tokio::test(flavor = "multi_thread")]
async fn a_host_nobody_expected_leaves_every_expected_host_counted() {
    let server = serve(&with("bh99 IN A 198.51.100.99\n")).await;
    let dir = expected_dir(ZONE, FAST_AXFR);
    let (code, json) = check_json(dir.path(), &[("ns1", server.addr())]).await;
    assert_eq!(code, 1, "{json:#}");
    let hosts = json["zones"][0]["hosts_checked"].as_u64().unwrap();
    assert_eq!(json["zones"][0]["hosts"][0]["expected"], false, "{json:#}");
    let out = audit("check")
        .arg("--no-record")
        .expected(dir.path())
        .nameserver("ns1", server.addr())
        .run()
        .await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!(
            "  {hosts} expected hosts match expected-records\n"
        )),
        "{text}"
    );
}

/// A setting the audit cannot use is said on every run, --quiet included, until fixed or
/// waived: an ignore_names entry that matches nothing in the zone file.
#[tokio::test(flavor = "multi_thread")]
async fn an_ignore_that_matches_nothing_is_said_on_every_run_until_waived() {
    let ns1 = serve(ZONE).await;
    let config = format!("{FAST}ignore_names = [\"bh71\"]\n");
    let dir = expected_dir(ZONE, &config);
    let check = |dir: &std::path::Path| {
        audit("check")
            .expected(dir)
            .nameserver("ns1", ns1.addr())
            .args(["--quiet", "--no-record"])
            .run()
    };
    let out = check(dir.path()).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("dns-audit.toml:4:18: ignore_names entry \"bh71\" matches no name in the zone file (did you mean bh17?)"),
        "{stderr}"
    );
    let waived = format!(
        "{config}\n[[waive]]\nname = \"bh71\"\ncheck = \"unused-ignore\"\nreason = \"bh71 comes next week\"\n"
    );
    let dir = expected_dir(ZONE, &waived);
    let out = check(dir.path()).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("bh71"), "{stderr}");
}

/// The server syntax dig and kdig users type: a host name, `IP@PORT`; a bad part is named.
/// --timeout and --retries on the command line.
#[tokio::test(flavor = "multi_thread")]
async fn servers_and_timeouts_are_written_as_dig_users_write_them() {
    let ns1 = serve(ZONE).await;
    let port = ns1.addr().port();
    let dir = expected_dir(ZONE, FAST);
    for server in [
        format!("127.0.0.1@{port}"),
        format!("ns1=localhost:{port}"),
        format!("ns1=localhost@{port}"),
    ] {
        let (code, json) = check_json_with(dir.path(), &[], &["--nameserver", &server]).await;
        assert_eq!(code, 0, "{server}: {json:#}");
        assert_eq!(json["zones"][0]["servers"][0]["status"], "ok", "{server}");
    }
    let out = audit("check")
        .expected(dir.path())
        .arg("--nameserver")
        .arg("127.0.0.1:99999")
        .run()
        .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("port \"99999\" is not a port"), "{stderr}");

    // A server that never answers, asked with a short timeout and no retry: over fast.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let started = std::time::Instant::now();
    let (code, json) = check_json_with(
        dir.path(),
        &[("ns2", silent.local_addr().unwrap())],
        &["--timeout", "100ms", "--retries", "0"],
    )
    .await;
    assert_eq!(code, 3, "{json:#}");
    assert_eq!(json["zones"][0]["servers"][0]["retries"], 0, "{json:#}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    for bad in [["--timeout", "0"], ["--retries", "11"]] {
        let out = audit("check").expected(dir.path()).args(bad).run().await;
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
    }
}
