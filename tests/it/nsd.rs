//! `dns-audit check` against a real NSD on 127.0.0.1 (installed by .ci/run; under CI=true a
//! missing NSD fails the test instead of skipping it).

use crate::common::*;

#[tokio::test(flavor = "multi_thread")]
async fn nsd_serving_the_expected_zone_is_clean() {
    let Some(nsd) = Daemon::start(Software::Nsd, ORIGIN, ZONE, &Setup::default()) else {
        return;
    };
    let dir = expected_dir(ZONE, FAST);
    let (code, json) = check_json(dir.path(), &[("ns1", nsd.addr)]).await;
    assert_eq!(code, 0, "{json:#}");
    assert!(findings(&json).is_empty(), "{json:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn nsd_serving_the_incident_is_drift() {
    let live = format!("{ZONE}bh17 IN A 203.0.113.18\n");
    let Some(nsd) = Daemon::start(Software::Nsd, ORIGIN, &live, &Setup::default()) else {
        return;
    };
    let dir = expected_dir(ZONE, FAST);
    let (code, json) = check_json(dir.path(), &[("ns1", nsd.addr)]).await;
    assert_eq!(code, 1, "{json:#}");
    let drift = drift(&json);
    assert_eq!(drift.len(), 1, "{json:#}");
    assert_eq!(drift[0]["unexpected"], serde_json::json!(["203.0.113.18"]));
}

/// An RRset too large for 1232 octets comes back truncated over UDP and whole over TCP.
#[tokio::test(flavor = "multi_thread")]
async fn truncated_answers_are_asked_again_over_tcp() {
    let mut big = String::from(ZONE);
    for i in 0..40 {
        big.push_str(&format!("keys IN TXT \"key-{i:02} {}\"\n", "x".repeat(60)));
    }
    let Some(nsd) = Daemon::start(Software::Nsd, ORIGIN, &big, &Setup::default()) else {
        return;
    };
    let dir = expected_dir(&big, FAST);
    let (code, json) = check_json(dir.path(), &[("ns1", nsd.addr)]).await;
    assert_eq!(code, 0, "{json:#}");
    let server = &json["zones"][0]["servers"][0];
    assert!(server["tcp_fallbacks"].as_u64().unwrap() >= 1, "{server}");

    let fewer = big.replace("keys IN TXT \"key-07", "; gone \"key-07");
    let dir = expected_dir(&big, FAST);
    let Some(nsd2) = Daemon::start(Software::Nsd, ORIGIN, &fewer, &Setup::default()) else {
        return;
    };
    let (code, json) = check_json(dir.path(), &[("ns1", nsd2.addr)]).await;
    assert_eq!(code, 1, "{json:#}");
    let drift = drift(&json);
    assert_eq!(drift[0]["missing"].as_array().unwrap().len(), 1, "{json:#}");
}

/// NSID (RFC 5001): every query asks which instance answers; NSD with `nsid:` set is named in
/// the report and the human output, so one bad anycast node behind a shared address is told
/// apart. A server that gives none says nothing of it.
#[tokio::test(flavor = "multi_thread")]
async fn the_instance_that_answered_is_named() {
    let live = format!("{ZONE}bh17 IN A 203.0.113.18\n");
    let setup = Setup {
        nsid: Some("fra1-ns1".into()),
        ..Setup::default()
    };
    let Some(nsd) = Daemon::start(Software::Nsd, ORIGIN, &live, &setup) else {
        return;
    };
    let Some(plain) = Daemon::start(Software::Nsd, ORIGIN, ZONE, &Setup::default()) else {
        return;
    };
    let dir = expected_dir(ZONE, FAST);
    let servers = [("ns1", nsd.addr), ("ns2", plain.addr)];
    let (code, json) = check_json(dir.path(), &servers).await;
    assert_eq!(code, 1, "{json:#}");
    let reports = json["zones"][0]["servers"].as_array().unwrap();
    assert_eq!(
        reports[0]["instances"],
        serde_json::json!(["fra1-ns1"]),
        "{json:#}"
    );
    assert!(reports[1].get("instances").is_none(), "{json:#}");
    let out = audit("check")
        .expected(dir.path())
        .nameservers(&servers)
        .run()
        .await;
    let human = String::from_utf8_lossy(&out.stdout);
    assert!(
        human.contains("ns1  answered as instance fra1-ns1 (NSID)"),
        "{human}"
    );
    let out = audit("check")
        .arg("-v")
        .expected(dir.path())
        .nameservers(&servers)
        .run()
        .await;
    let logs = String::from_utf8_lossy(&out.stderr);
    assert!(
        logs.contains("answered by instance fra1-ns1 (NSID)"),
        "{logs}"
    );
}
