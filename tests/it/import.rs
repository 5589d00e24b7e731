//! `dns-audit import` against a real NSD on 127.0.0.1: the round trip is the test. What is
//! imported loads back as the served zone, and `check` against the same server is clean.

use std::path::Path;

use crate::common::*;

async fn import(dir: &Path, server: std::net::SocketAddr, extra: &[&str]) -> (i32, String, String) {
    let out = audit("import")
        .args([ORIGIN, "--server", &format!("ns1={server}")])
        .expected(dir)
        .args(extra)
        .run()
        .await;
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn show(target: &str, expected: &Path) -> String {
    let out = audit("show").arg(target).expected(expected).run().await;
    success_stdout(&out)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_imported_zone_is_the_served_zone_and_audits_clean() {
    // A zone written the way people write them: units, relative names (NSD 4.6 has no
    // $GENERATE, so none here).
    let served = format!("{ZONE}long 1h IN TXT \"v=spf1 -all\"\ndhcp-7 2d IN A 198.51.100.7\n");
    let Some(nsd) = Daemon::start(Software::Nsd, ORIGIN, &served, &Setup::default()) else {
        return;
    };
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("expected-records");
    let (code, stdout, stderr) = import(&dir, nsd.addr, &[]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("by zone transfer"), "{stdout}");

    // show of the imported file equals the served zone as dns-audit reads the served file.
    let served_dir = expected_dir(&served, "");
    let want = show(ORIGIN, served_dir.path()).await;
    assert_eq!(show(ORIGIN, &dir).await, want);

    // The config names the server; check against it (no --nameserver) is clean.
    let config = std::fs::read_to_string(dir.join("dns-audit.toml")).unwrap();
    assert!(
        config.contains(&format!("nameservers = [\"ns1={}\"]", nsd.addr)),
        "named as it was given: {config}"
    );
    assert!(!config.contains("axfr"), "the transfer worked: {config}");
    let out = audit("check").expected(&dir).format("json").run().await;
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{json:#}");
    assert!(findings(&json).is_empty(), "{json:#}");
    assert_eq!(json["zones"][0]["servers"][0]["name"], "ns1", "{json:#}");

    // Never overwritten without --force; with it, the same zone gives the same bytes.
    let zone_file = dir.join(format!("{ORIGIN}zone"));
    // Readable as any file of a repository is (not a temporary file's 0600).
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&zone_file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644);
    let before = std::fs::read(&zone_file).unwrap();
    let (code, _, stderr) = import(&dir, nsd.addr, &[]).await;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--force"), "{stderr}");
    let (code, _, stderr) = import(&dir, nsd.addr, &["--force"]).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        std::fs::read(&zone_file).unwrap(),
        before,
        "a re-import is a clean diff"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("dns-audit.toml")).unwrap(),
        config
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_transfer_needs_names_and_says_so() {
    let refusing = Setup {
        transfer: Transfer::Refused,
        ..Setup::default()
    };
    let Some(nsd) = Daemon::start(Software::Nsd, ORIGIN, ZONE, &refusing) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = import(dir.path(), nsd.addr, &[]).await;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--names"), "{stderr}");
    assert!(!dir.path().join(format!("{ORIGIN}zone")).exists());

    // Every name of the fleet, by queries: the result is the served zone.
    let served_dir = expected_dir(ZONE, "");
    let listing = show(ORIGIN, served_dir.path()).await;
    // The names people list: the hosts. The NS targets (ns1, ns2) and the CNAME's target are
    // inside the zone and found from the answers.
    let names: std::collections::BTreeSet<&str> = listing
        .lines()
        .filter_map(|l| l.split('\t').next())
        .filter(|name| !name.starts_with("ns") && !name.starts_with("bh17."))
        .collect();
    let names_file = dir.path().join("names.txt");
    std::fs::write(
        &names_file,
        names.into_iter().collect::<Vec<_>>().join("\n"),
    )
    .unwrap();
    let names_arg = names_file.display().to_string();
    let (code, stdout, stderr) = import(dir.path(), nsd.addr, &["--names", &names_arg]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("zone transfer failed"),
        "said, not silent: {stderr}"
    );
    assert!(stdout.contains("by queries for"), "{stdout}");
    assert_eq!(show(ORIGIN, dir.path()).await, listing);
    let config = std::fs::read_to_string(dir.path().join("dns-audit.toml")).unwrap();
    assert!(
        config.contains("axfr = \"never\""),
        "cron need not try: {config}"
    );
    let lint = audit("lint").expected(dir.path()).run().await;
    assert_eq!(lint.status.code(), Some(0), "{lint:?}");
}

/// A label with an escaped dot in it (`a\.b`, and `c\.` that ends with one) is imported as written and reads back: the zone
/// suffix is cut at a label boundary and only the separator dot goes.
#[tokio::test(flavor = "multi_thread")]
async fn a_label_with_an_escaped_dot_is_imported_as_written() {
    let served = format!("{ZONE}a\\.b IN A 192.0.2.77\nc\\. IN A 192.0.2.78\n");
    let Some(nsd) = Daemon::start(Software::Nsd, ORIGIN, &served, &Setup::default()) else {
        return;
    };
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("expected-records");
    let (code, _, stderr) = import(&dir, nsd.addr, &[]).await;
    assert_eq!(code, 0, "{stderr}");
    let text = std::fs::read_to_string(dir.join(format!("{ORIGIN}zone"))).unwrap();
    assert!(text.contains("a\\.b") && text.contains("c\\. "), "{text}");
    let served_dir = expected_dir(&served, "");
    assert_eq!(
        show(ORIGIN, &dir).await,
        show(ORIGIN, served_dir.path()).await
    );
}
