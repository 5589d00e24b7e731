//! Zone file conformance: broken and hostile input modelled on the public parser suites (Knot's
//! libzscanner cases, BIND's checkzone good/bad zones, dnspython's example zones). Every bad file
//! must give exit 2 and file:line:column, never a panic; every good file must load.
//! `check --plan` loads and plans without sending a packet.

use std::path::Path;

use crate::common::audit;

const HEAD: &[u8] = b"$ORIGIN bots.example.net.\n$TTL 300\n@ IN SOA ns1 h 1 2 3 4 5\n@ IN NS ns1\nns1 IN A 192.0.2.1\n";

/// (case, body after the 5 head lines, expected "line:column" in the error)
const BAD: &[(&str, &[u8], &str)] = &[
    ("unknown type", b"x IN FOO 1\n", ":6:9:"),
    ("RFC 3597 wrong length", b"x IN TYPE65280 \\# 3 abcd\n", ":6:"),
    ("RFC 3597 bad hex", b"x IN TYPE65280 \\# 2 zz\n", ":6:"),
    ("'(' open at end of file", b"x IN TXT ( \"a\"", ":6:10:"),
    ("'(' open, next record swallowed", b"x IN SOA ns1 h ( 1 2 3 4 5\ny IN A 192.0.2.1\n", ":6:16:"),
    ("')' without '('", b"x IN TXT \"a\" )\n", ":6:14:"),
    ("nested parentheses", b"x IN TXT ( ( \"a\" ) )\n", ":6:12:"),
    ("label over 63 octets", b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa IN A 192.0.2.1\n", ":6:"),
    ("escape \\256 in TXT", b"x IN TXT \"\\256\"\n", ":6:"),
    ("escape \\256 in a label", b"a\\256b IN A 192.0.2.1\n", ":6:"),
    ("TXT string over 255 octets", b"x IN TXT \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\n", ":6:"),
    ("NUL byte", b"x IN A 192.0.2.1\0junk\n", ":6:"),
    ("binary junk", b"\x01\x02\x03\xff\xfe garbage \x7f\n", ":6:"),
    ("trailing garbage", b"x IN A 192.0.2.1 garbage\n", ":6:18:"),
    ("bad IPv4 address", b"x IN A 192.0.2.300\n", ":6:8:"),
    ("bad IPv6 address", b"x IN AAAA 2001:db8::zz\n", ":6:"),
    ("unterminated string", b"x IN TXT \"abc\n", ":6:"),
    ("bad class", b"x CH A 192.0.2.1\n", ":6:"),
    ("empty label in an owner", b"bh..17 IN A 192.0.2.1\n", ":6:4:"),
    ("bad $ORIGIN", b"$ORIGIN sub..bots.example.net.\nx IN A 192.0.2.1\n", ":6:13:"),
    ("$ORIGIN without a name", b"$ORIGIN\nx IN A 192.0.2.1\n", ":6:8:"),
];

fn name_over_255() -> Vec<u8> {
    let mut body = vec!["abcdefghi"; 26].join(".").into_bytes();
    body.extend_from_slice(b" IN A 192.0.2.1\n");
    body
}

async fn check_plan(dir: &Path) -> (Option<i32>, String) {
    let out = audit("check").arg("--plan").expected(dir).run().await;
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn zone_dir(body: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut text = HEAD.to_vec();
    text.extend_from_slice(body);
    std::fs::write(dir.path().join("bots.example.net.zone"), text).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_zone_files_exit_2_with_file_line_and_column() {
    let long_name = name_over_255();
    let cases = BAD
        .iter()
        .map(|(case, body, at)| (*case, body.to_vec(), *at))
        .chain([("name over 255 octets", long_name, ":6:")]);
    for (case, body, at) in cases {
        let dir = zone_dir(&body);
        let (code, err) = check_plan(dir.path()).await;
        assert_eq!(code, Some(2), "{case}: {err}");
        assert!(
            err.contains(&format!("bots.example.net.zone{at}")),
            "{case}: {err}"
        );
        assert!(!err.contains("panicked"), "{case}: {err}");
        assert!(
            !err.contains('\0') && !err.contains('\x1b'),
            "{case}: raw bytes echoed"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_error_of_every_file_is_reported() {
    let dir = zone_dir(b"a IN A 192.0.2.300\nb IN A 192.0.2.2\nc IN AAAA nope\n");
    std::fs::write(
        dir.path().join("other.example.zone"),
        b"$TTL 300\n@ IN SOA ns h 1 2 3 4 5\n@ IN TXT ( \"x\"\n",
    )
    .unwrap();
    let (code, err) = check_plan(dir.path()).await;
    assert_eq!(code, Some(2));
    assert!(err.contains("bots.example.net.zone:6:"), "{err}");
    assert!(err.contains("bots.example.net.zone:8:"), "{err}");
    assert!(err.contains("other.example.zone:3:"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_record_with_no_ttl_to_take_is_an_error() {
    // No $TTL and no TTL on the first record: the scanner would silently make up 3600, and every
    // live TTL would then look like drift.
    let dir = tempfile::tempdir().unwrap();
    let zone = dir.path().join("bots.example.net.zone");
    std::fs::write(
        &zone,
        b"$ORIGIN bots.example.net.\n@ IN SOA ns1 h 1 2 3 4 5\n@ 300 IN NS ns1\n",
    )
    .unwrap();
    let (code, err) = check_plan(dir.path()).await;
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("bots.example.net.zone:2:1: no TTL"), "{err}");
    assert!(!err.contains(":3:"), "the NS record has its own TTL: {err}");

    // A TTL on an earlier record carries on (RFC 1035), and a $TTL covers what follows it.
    for good in [
        &b"$ORIGIN bots.example.net.\n@ 300 IN SOA ns1 h 1 2 3 4 5\n@ IN NS ns1\nns1 IN 60 A 192.0.2.1\n"[..],
        b"$ORIGIN bots.example.net.\n$TTL 300\n@ IN SOA ns1 h 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\n",
        b"$ORIGIN bots.example.net.\n@ IN ( 300 SOA ns1 h 1 2 3 4 5 )\n@ NS ns1\nns1 A 192.0.2.1\n",
    ] {
        std::fs::write(&zone, good).unwrap();
        let (code, err) = check_plan(dir.path()).await;
        assert_eq!(code, Some(0), "{}: {err}", String::from_utf8_lossy(good));
    }
}

/// Inputs the fuzzers found crashing the scanner, kept as regression tests (tests/fixtures/fuzz).
#[tokio::test(flavor = "multi_thread")]
async fn fuzzer_findings_stay_fixed() {
    let dir = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz"))
        .unwrap();
    let mut seen = 0;
    for entry in dir {
        let path = entry.unwrap().path();
        let zone = tempfile::tempdir().unwrap();
        std::fs::copy(&path, zone.path().join("bots.example.net.zone")).unwrap();
        let (code, err) = check_plan(zone.path()).await;
        assert_eq!(code, Some(2), "{}: {err}", path.display());
        assert!(
            !err.contains("panicked") && !err.contains("crashed"),
            "{}: {err}",
            path.display()
        );
        seen += 1;
    }
    assert!(seen >= 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn good_zone_files_load() {
    let good: &[(&str, &[u8])] = &[
        (
            "CRLF line ends",
            b"x IN A 192.0.2.1\r\ny IN A 192.0.2.2\r\n",
        ),
        ("raw octet in a label", b"a\xf2b IN A 192.0.2.1\n"),
        (
            "DKIM in parentheses",
            b"s._domainkey IN TXT ( \"v=DKIM1; \" ; part 1\n \"p=abc\" )\n",
        ),
        (
            "RFC 3597 form of a known type",
            b"x IN TYPE1 \\# 4 c0000201\n",
        ),
        ("escapes in TXT", b"x IN TXT \"a\\\"b\\\\c\\059\"\n"),
        (
            "relative and absolute names",
            b"x IN CNAME y\nz IN CNAME y.bots.example.net.\n",
        ),
    ];
    for (case, body) in good {
        let dir = zone_dir(body);
        let (code, err) = check_plan(dir.path()).await;
        assert_eq!(code, Some(0), "{case}: {err}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn includes_stay_inside_the_expected_records_directory() {
    let dir = zone_dir(b"$INCLUDE hosts.inc\n");
    std::fs::write(dir.path().join("hosts.inc"), b"bh1 IN A 203.0.113.1\n").unwrap();
    let (code, err) = check_plan(dir.path()).await;
    assert_eq!(code, Some(0), "{err}");

    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.inc"), b"bh1 IN A 203.0.113.1\n").unwrap();
    // An absolute path names a file on the production server: refused without
    // include_server_root, on the including line.
    let dir = zone_dir(format!("$INCLUDE {}/secret.inc\n", outside.path().display()).as_bytes());
    let (code, err) = check_plan(dir.path()).await;
    assert_eq!(code, Some(2));
    assert!(err.contains(":6:10: $INCLUDE"), "{err}");
    assert!(err.contains("include_server_root"), "{err}");

    let dir = zone_dir(b"$INCLUDE ../../../../etc/hostname\n");
    let (code, err) = check_plan(dir.path()).await;
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains(":6:10: $INCLUDE"), "{err}");
    assert!(err.contains("outside the include root"), "{err}");

    // A zone file that is a symlink out of the directory is refused.
    let dir = tempfile::tempdir().unwrap();
    let target = outside.path().join("bots.example.net.zone");
    let mut text = HEAD.to_vec();
    text.extend_from_slice(b"bh1 IN A 203.0.113.1\n");
    std::fs::write(&target, text).unwrap();
    std::os::unix::fs::symlink(&target, dir.path().join("bots.example.net.zone")).unwrap();
    let (code, err) = check_plan(dir.path()).await;
    assert_eq!(code, Some(2));
    assert!(
        err.contains("outside the expected-records directory"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn zones_over_the_limits_are_refused_before_loading() {
    let mut body = Vec::new();
    for i in 0..50 {
        body.extend_from_slice(format!("h{i} IN A 198.18.0.{i}\n").as_bytes());
    }
    let dir = zone_dir(&body);
    std::fs::write(dir.path().join("dns-audit.toml"), "max_zone_records = 20\n").unwrap();
    let (code, err) = check_plan(dir.path()).await;
    assert_eq!(code, Some(2));
    assert!(err.contains("max_zone_records"), "{err}");

    std::fs::write(dir.path().join("dns-audit.toml"), "max_zone_bytes = 100\n").unwrap();
    let (code, err) = check_plan(dir.path()).await;
    assert_eq!(code, Some(2));
    assert!(err.contains("max_zone_bytes"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn thousands_of_errors_are_counted_not_all_printed() {
    let mut body = Vec::new();
    for i in 0..5000 {
        body.extend_from_slice(format!("h{i} IN A 192.0.2.300\n").as_bytes());
    }
    let dir = zone_dir(&body);
    let (code, err) = check_plan(dir.path()).await;
    assert_eq!(code, Some(2));
    assert_eq!(err.lines().count(), 51, "{err}");
    assert!(err.contains(":55:"), "{err}");
    assert!(
        err.contains("and 4950 more errors in this file (5000 in all)"),
        "{err}"
    );
    // The last error is still found (the scanner reads on in windows after an error).
    let out = audit("lint")
        .expected(dir.path())
        .format("json")
        .run()
        .await;
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 5000);
    assert_eq!(findings[4999]["line"], 5005);
    let out = audit("lint").expected(dir.path()).run().await;
    let human = String::from_utf8_lossy(&out.stdout);
    assert_eq!(human.lines().count(), 52, "{human}");
    assert!(human.contains("and 4950 more [parse] findings"), "{human}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_config_says_what_it_cannot_use_with_its_place() {
    let dir = zone_dir(b"");
    let config = dir.path().join("dns-audit.toml");
    for (text, place, needle) in [
        (
            "timeout_ms = 300\n[zones.\"bots.example.nett\"]\nnameservers = [\"192.0.2.53\"]\n",
            "dns-audit.toml:2:9:",
            "did you mean bots.example.net.?",
        ),
        (
            "# retries = 3\nretries = 200\n",
            "dns-audit.toml:2:1:",
            "retries = 200 is over 10",
        ),
        (
            "timeout_ms = 300\n  concurrency = 0\n",
            "dns-audit.toml:2:3:",
            "concurrency = 0: expected 1 to 1024",
        ),
        // Bounds that keep an audit finite (a huge concurrency panicked in tokio, a huge
        // timeout waited for ever).
        (
            "concurrency = 9223372036854775807\n",
            "dns-audit.toml:1:1:",
            "expected 1 to 1024",
        ),
        (
            "retries = 1\ntimeout_ms = 9223372036854775807\n",
            "dns-audit.toml:2:1:",
            "timeout_ms = 9223372036854775807: expected 1 to 60000",
        ),
        (
            "transfer_timeout_ms = 0\n",
            "dns-audit.toml:1:1:",
            "expected 1 to 3600000",
        ),
        (
            "notify = [\"not-a-url\"]\n",
            "dns-audit.toml:1:12:",
            "not an http(s) URL",
        ),
        (
            "notify = [\"ftp://example.net/hook\"]\n",
            "dns-audit.toml:1:",
            "not an http(s) URL",
        ),
    ] {
        std::fs::write(&config, text).unwrap();
        let (code, err) = check_plan(dir.path()).await;
        assert_eq!(code, Some(2), "{text}: {err}");
        assert!(err.contains(place), "{text}: {err}");
        assert!(err.contains(needle), "{text}: {err}");
    }
    std::fs::write(&config, "").unwrap();
    for flags in [
        vec!["--notify", "not-a-url"],
        vec!["--no-record", "--keep", "30d"],
        vec!["--timeout", "1w"],
    ] {
        let out = audit("check")
            .arg("--plan")
            .expected(dir.path())
            .args(&flags)
            .run()
            .await;
        assert_eq!(out.status.code(), Some(2), "{flags:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(flags[flags.len() - 2]) || err.contains("cannot be used"),
            "{flags:?}: {err}"
        );
    }
}
