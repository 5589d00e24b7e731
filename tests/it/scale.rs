//! `check` on real zones, against a real NSD on 127.0.0.1: delegations and glue, signed data,
//! zone transfers (allowed, refused, TSIG) and rate limiting. The real root zone is audited
//! on every server in servers.rs.

use crate::common::*;

const QUERIES: &str = "timeout_ms = 500\nretries = 2\naxfr = \"never\"\n";
const TRANSFER: &str = "timeout_ms = 500\nretries = 2\naxfr = \"always\"\n";

/// A directory holding one zone file named for `origin` and a config.
fn dir_with(origin: &str, text: &str, config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let file = if origin == "." {
        "root.zone".to_string()
    } else {
        format!("{}zone", origin)
    };
    std::fs::write(dir.path().join(file), text).unwrap();
    std::fs::write(dir.path().join("dns-audit.toml"), config).unwrap();
    dir
}

fn method(json: &serde_json::Value) -> String {
    json["zones"][0]["servers"][0]["method"]
        .as_str()
        .unwrap()
        .to_string()
}

const DELEGATING: &str = "$ORIGIN bots.example.net.
$TTL 300
@ 3600 IN SOA ns1 hostmaster.example.net. ( 2026112401 3600 900 1209600 300 )
@ 3600 IN NS ns1
ns1 IN A 192.0.2.53
bh1 IN A 203.0.113.1
; delegated with in-zone glue
lab 3600 IN NS ns.lab
lab 3600 IN NS ns.other.example.org.
ns.lab 3600 IN A 192.0.2.80
ns.lab 3600 IN AAAA 2001:db8::80
; delegated to servers of another zone: no glue
ext 3600 IN NS ns1.example.org.
";

#[tokio::test(flavor = "multi_thread")]
async fn delegations_and_glue_are_compared_not_reported_as_drift() {
    let Some(nsd) = Daemon::start(
        Software::Nsd,
        "bots.example.net.",
        DELEGATING,
        &Setup::default(),
    ) else {
        return;
    };
    for config in [QUERIES, TRANSFER] {
        let dir = dir_with("bots.example.net.", DELEGATING, config);
        let (code, json) = check_json(dir.path(), &[("ns1", nsd.addr)]).await;
        assert_eq!(code, 0, "{config}: {json:#}");
        assert!(findings(&json).is_empty(), "{json:#}");
    }

    let moved = DELEGATING.replace("ns.lab 3600 IN A 192.0.2.80", "ns.lab 3600 IN A 192.0.2.81");
    let Some(nsd) = Daemon::start(
        Software::Nsd,
        "bots.example.net.",
        &moved,
        &Setup::default(),
    ) else {
        return;
    };
    for (config, how) in [(QUERIES, "queries"), (TRANSFER, "axfr")] {
        let dir = dir_with("bots.example.net.", DELEGATING, config);
        let (code, json) = check_json(dir.path(), &[("ns1", nsd.addr)]).await;
        assert_eq!(code, 1, "{json:#}");
        assert_eq!(method(&json), how);
        let drift = drift(&json);
        assert_eq!(drift.len(), 1, "{how}: {drift:#?}");
        assert_eq!(drift[0]["name"], "ns.lab.bots.example.net.");
        assert_eq!(drift[0]["unexpected"], serde_json::json!(["192.0.2.81"]));
    }
}

/// A small zone to sign at test time.
const TO_SIGN: &str = "$ORIGIN signed.example.net.\n$TTL 3600\n\
    @ SOA ns1 hostmaster.example.net. ( 2026112401 3600 900 1209600 300 )\n\
    @ NS ns1\nns1 A 192.0.2.53\nbh1 A 203.0.113.1\nbh2 AAAA 2001:db8::2\nwww CNAME bh1\n";

#[tokio::test(flavor = "multi_thread")]
async fn a_re_signed_zone_is_clean_and_a_lost_signature_is_drift() {
    // Signed now with BIND's dnssec-signzone, then signed again with the same keys: new
    // signatures (ECDSA's are randomised), the same zone.
    let Some(signer) = crate::common::signing::Signer::new("signed.example.net.") else {
        return;
    };
    let signed = signer.sign(TO_SIGN, false);
    let resigned = signer.sign(TO_SIGN, false);
    assert_ne!(signed, resigned, "a new signing makes new signatures");
    let Some(nsd) = Daemon::start(
        Software::Nsd,
        "signed.example.net.",
        &resigned,
        &Setup::default(),
    ) else {
        return;
    };
    for config in [QUERIES, TRANSFER] {
        let dir = dir_with("signed.example.net.", &signed, config);
        let (code, json) = check_json(dir.path(), &[("ns1", nsd.addr)]).await;
        assert_eq!(code, 0, "{config}: {json:#}");
        assert!(findings(&json).is_empty(), "{json:#}");
    }

    // One record per line, full names: the signature over bh1's A is the line that starts
    // with bh1's name and has RRSIG then A.
    let over_bh1_a = |line: &str| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        fields.first() == Some(&"bh1.signed.example.net.")
            && fields.windows(2).any(|w| w == ["RRSIG", "A"])
    };
    let unsigned_a: String = resigned
        .lines()
        .filter(|l| !over_bh1_a(l))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(resigned.lines().filter(|l| over_bh1_a(l)).count(), 1);
    let Some(nsd) = Daemon::start(
        Software::Nsd,
        "signed.example.net.",
        &unsigned_a,
        &Setup::default(),
    ) else {
        return;
    };
    for config in [QUERIES, TRANSFER] {
        let dir = dir_with("signed.example.net.", &signed, config);
        let (code, json) = check_json(dir.path(), &[("ns1", nsd.addr)]).await;
        assert_eq!(code, 1, "{config}: {json:#}");
        // The signature is missing (drift of the RRSIG RRset), and the A RRset it signed is
        // now bogus for validating resolvers: two findings of two kinds.
        let drift = drift(&json);
        assert_eq!(drift.len(), 2, "{config}: {drift:#?}");
        let lost = drift.iter().find(|f| f["type"] == "RRSIG").unwrap();
        assert_eq!(lost["missing"], serde_json::json!(["signature over A"]));
        let bogus = drift.iter().find(|f| f["kind"] == "bogus").unwrap();
        assert_eq!(bogus["type"], "A", "{bogus:#}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_transfer_finds_the_name_nobody_expected() {
    let typo = format!("{DELEGATING}bh1x IN A 203.0.113.1\n");
    let Some(nsd) = Daemon::start(Software::Nsd, "bots.example.net.", &typo, &Setup::default())
    else {
        return;
    };
    let dir = dir_with("bots.example.net.", DELEGATING, TRANSFER);
    let (code, json) = check_json(dir.path(), &[("ns1", nsd.addr)]).await;
    assert_eq!(code, 1, "{json:#}");
    let drift = drift(&json);
    assert_eq!(drift.len(), 1, "{drift:#?}");
    assert_eq!(drift[0]["kind"], "unexpected_name");
    assert_eq!(drift[0]["name"], "bh1x.bots.example.net.");
    assert_eq!(drift[0]["host"], "bh1x");
    assert_eq!(drift[0]["resembles"], "bh1.bots.example.net.");
    let out = audit("check")
        .expected(dir.path())
        .nameserver("ns1", nsd.addr)
        .run()
        .await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("bh1x  DRIFT   bh1[→x] A 203.0.113.1 not expected (seen on ns1)"),
        "{text}"
    );

    // Asking name by name cannot see it: that is why transfers are preferred.
    let dir = dir_with("bots.example.net.", DELEGATING, QUERIES);
    let (code, _) = check_json(dir.path(), &[("ns1", nsd.addr)]).await;
    assert_eq!(code, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_transfer_falls_back_to_queries_or_fails_when_required() {
    let refusing = Setup {
        transfer: Transfer::Refused,
        ..Setup::default()
    };
    let Some(nsd) = Daemon::start(Software::Nsd, "bots.example.net.", DELEGATING, &refusing) else {
        return;
    };
    let auto = "timeout_ms = 500\nretries = 2\naxfr = \"auto\"\n";
    let dir = dir_with("bots.example.net.", DELEGATING, auto);
    let (code, json) = check_json(dir.path(), &[("ns1", nsd.addr)]).await;
    assert_eq!(code, 0, "{json:#}");
    assert_eq!(method(&json), "queries");
    let why = json["zones"][0]["servers"][0]["transfer_failure"]
        .as_str()
        .unwrap();
    assert!(why.contains("REFUSED") || why.contains("NOTAUTH"), "{why}");

    // The fallback is a blind spot, said in JSON, on the terminal and under --quiet.
    let blind: Vec<_> = findings(&json)
        .into_iter()
        .filter(|f| f["kind"] == "transfer_failed")
        .collect();
    assert_eq!(blind.len(), 1, "{json:#}");
    assert_eq!(blind[0]["severity"], "warning");
    for quiet in [false, true] {
        let flags = if quiet { &["--quiet"][..] } else { &[] };
        let out = audit("check")
            .expected(dir.path())
            .nameserver("ns1", nsd.addr)
            .args(flags)
            .run()
            .await;
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("blind spot: zone transfer failed"),
            "quiet {quiet}: {text}"
        );
        assert!(
            text.contains("cannot see names that are not in expected-records"),
            "{text}"
        );
        assert!(
            text.starts_with("bots.example.net."),
            "the zone is named: {text}"
        );
    }

    let dir = dir_with("bots.example.net.", DELEGATING, TRANSFER);
    let (code, json) = check_json(dir.path(), &[("ns1", nsd.addr)]).await;
    assert_eq!(code, 3, "{json:#}");
    assert!(drift(&json).is_empty());
    // One refused transfer is one failure, not one per RRset of the plan.
    let kinds: Vec<_> = findings(&json).iter().map(|f| f["kind"].clone()).collect();
    assert_eq!(kinds, [serde_json::json!("transfer_failed")], "{json:#}");

    // Said once and accepted: axfr = "never" asks no transfer and says nothing of it.
    let dir = dir_with("bots.example.net.", DELEGATING, QUERIES);
    let (code, json) = check_json(dir.path(), &[("ns1", nsd.addr)]).await;
    assert_eq!(code, 0, "{json:#}");
    assert!(findings(&json).is_empty(), "{json:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn tsig_signed_transfers_work_and_a_wrong_key_is_refused() {
    let secret = "K2tf3TRjvQkVCmJF3/Z9vA==";
    let keyed = Setup {
        transfer: Transfer::Tsig("audit-key".into(), secret.into()),
        ..Setup::default()
    };
    let Some(nsd) = Daemon::start(Software::Nsd, "bots.example.net.", DELEGATING, &keyed) else {
        return;
    };
    let outside = tempfile::tempdir().unwrap();
    let secret_file = outside.path().join("tsig.secret");
    std::fs::write(&secret_file, format!("{secret}\n")).unwrap();
    let config = format!(
        "{TRANSFER}tsig = {{ name = \"audit-key\", algorithm = \"hmac-sha256\", secret_file = \"{}\" }}\n",
        secret_file.display()
    );
    let dir = dir_with("bots.example.net.", DELEGATING, &config);
    let (code, json) = check_json(dir.path(), &[("ns1", nsd.addr)]).await;
    assert_eq!(code, 0, "{json:#}");
    assert_eq!(method(&json), "axfr");

    std::fs::write(&secret_file, "AAAAAAAAAAAAAAAAAAAAAA==\n").unwrap();
    let (code, json) = check_json(dir.path(), &[("ns1", nsd.addr)]).await;
    assert_eq!(
        code, 3,
        "a wrong key is a failed transfer, never an empty zone: {json:#}"
    );

    // The secret may not live in the reviewed directory.
    let inside = dir.path().join("tsig.secret");
    std::fs::write(&inside, format!("{secret}\n")).unwrap();
    let config = format!(
        "{TRANSFER}tsig = {{ name = \"audit-key\", secret_file = \"{}\" }}\n",
        inside.display()
    );
    std::fs::write(dir.path().join("dns-audit.toml"), config).unwrap();
    let out = audit("check").expected(dir.path()).run().await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("must not live in the expected-records"));
}

/// With response rate limiting on (200/s, NSD's default slip of 2), answers are dropped or
/// slipped as empty TC=1 packets; the audit must still be exact.
#[tokio::test(flavor = "multi_thread")]
async fn the_audit_stays_exact_under_response_rate_limiting() {
    let mut zone = String::from(DELEGATING);
    for i in 0..400 {
        zone.push_str(&format!("h{i} IN A 198.18.{}.{}\n", i / 256, i % 256));
    }
    let rrl = Setup {
        rate_limit: true,
        ..Setup::default()
    };
    let Some(nsd) = Daemon::start(Software::Nsd, "bots.example.net.", &zone, &rrl) else {
        return;
    };
    let dir = dir_with("bots.example.net.", &zone, QUERIES);
    let (code, json) = check_json(dir.path(), &[("ns1", nsd.addr)]).await;
    let server = &json["zones"][0]["servers"][0];
    assert_eq!(code, 0, "{server}");
    assert_eq!(
        server["rate_limited"], true,
        "RRL did not kick in: {server}"
    );
    let all = findings(&json);
    assert_eq!(all.len(), 1, "{all:#?}");
    assert_eq!(all[0]["kind"], "rate_limited");
    assert_eq!(all[0]["severity"], "warning");
}
