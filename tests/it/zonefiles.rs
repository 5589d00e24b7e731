//! Zone files read as BIND reads them, pinned construct by construct through `dns-audit show`.
//! Every expected listing here is what `named-compilezone -s full` 9.18 prints for the same
//! file (checked by hand when each case was written; `scripts/bind-differential.py` compares
//! whole corpora). Each case fails without the part of the loader it names.

use std::path::Path;

use crate::common::audit;

const HEAD: &str =
    "$ORIGIN z.example.\n$TTL 300\n@ IN SOA ns h 1 2 3 4 5\n@ IN NS ns\nns IN A 192.0.2.1\n";

/// Whether a listed record is not one of HEAD's (the apex records and ns).
fn past_head(line: &str) -> bool {
    !line.starts_with("z.example.\t") && line != "ns.z.example.\t300\tIN\tA\t192.0.2.1"
}

/// `show` of a file holding `text`, as (exit code, stdout lines past the head, stderr).
async fn show_in(dir: &Path, text: &str, extra: &[&str]) -> (i32, Vec<String>, String) {
    let file = dir.join("z.example.zone");
    std::fs::write(&file, text).unwrap();
    let out = audit("show")
        .arg(file.display())
        .args(extra)
        .expected(dir)
        .run()
        .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines = stdout
        .lines()
        .filter(|l| past_head(l))
        .map(str::to_string)
        .collect();
    (
        out.status.code().unwrap_or(-1),
        lines,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn show(body: &str) -> (i32, Vec<String>, String) {
    let dir = tempfile::tempdir().unwrap();
    show_in(dir.path(), &format!("{HEAD}{body}"), &[]).await
}

#[tokio::test(flavor = "multi_thread")]
async fn ttl_units_are_read_wherever_a_ttl_goes() {
    let dir = tempfile::tempdir().unwrap();
    let text =
        "$ORIGIN z.example.\n$TTL 1h\n@ IN SOA ns h 1 1d 2h 1w 15M\n@ NS ns\nns A 192.0.2.1\n\
                a 1w2d3h4m5s IN A 192.0.2.2\nb IN 2H A 192.0.2.3\nc A 192.0.2.4\n\
                d 0h30 A 192.0.2.5\n@ ( 1D IN TXT \"x\" )\n";
    let (code, stdout, stderr) = show_in(dir.path(), text, &[]).await;
    assert_eq!(code, 0, "{stderr}");
    let all = stdout.join("\n");
    for want in [
        "a.z.example.\t788645\tIN\tA\t192.0.2.2",
        "b.z.example.\t7200\tIN\tA\t192.0.2.3",
        "c.z.example.\t3600\tIN\tA\t192.0.2.4",
        "d.z.example.\t30\tIN\tA\t192.0.2.5",
    ] {
        assert!(
            stdout.contains(&want.to_string()),
            "missing {want:?} in\n{all}"
        );
    }
    // The SOA timers and the apex TXT: show the whole file to see them.
    let file = dir.path().join("z.example.zone");
    let out = audit("show").arg(file.display()).run().await;
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(
        listing.contains(
            "z.example.\t3600\tIN\tSOA\tns.z.example. h.z.example. 1 86400 7200 604800 900"
        ),
        "{listing}"
    );
    assert!(
        listing.contains("z.example.\t86400\tIN\tTXT\t\"x\""),
        "{listing}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn ttls_bind_refuses_are_errors_at_their_place() {
    // BIND: "unknown RR type '1h30'"; a plain number may not follow units that add up.
    let (code, _, stderr) = show("a 1h30 A 192.0.2.2\n").await;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("z.example.zone:6:"), "{stderr}");
    let (code, _, stderr) = show("$TTL 5y\na A 192.0.2.2\n").await;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("z.example.zone:6:6: $TTL 5y"), "{stderr}");
    let (code, _, stderr) = show("a 9999999999 A 192.0.2.2\n").await;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains(":6:3:"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn generate_makes_the_records_bind_makes() {
    let (code, stdout, stderr) = show(
        "$GENERATE 1-3/2 h$ A 10.0.0.$\n\
         $GENERATE 10-12 ${0,3,n} 1h IN PTR x-${-5,4,x}.example.\n\
         $GENERATE 1-2 m$ MX \"10 mx\\$$\"\n\
         $GENERATE 1-2 $$x TXT \"a$ b\"\n\
         $GENERATE 0-1 r${1,2} A 10.0.1.${1,0,d}\n\
         after A 192.0.2.9\n",
    )
    .await;
    assert_eq!(code, 0, "{stderr}");
    let want = [
        "a.0.z.example.\t3600\tIN\tPTR\tx-0005.example.",
        "b.0.z.example.\t3600\tIN\tPTR\tx-0006.example.",
        "c.0.z.example.\t3600\tIN\tPTR\tx-0007.example.",
        "\\$x.z.example.\t300\tIN\tTXT\t\"a1\" \"b\"",
        "\\$x.z.example.\t300\tIN\tTXT\t\"a2\" \"b\"",
        "after.z.example.\t300\tIN\tA\t192.0.2.9",
        "h1.z.example.\t300\tIN\tA\t10.0.0.1",
        "h3.z.example.\t300\tIN\tA\t10.0.0.3",
        "m1.z.example.\t300\tIN\tMX\t10 mx\\$1.z.example.",
        "m2.z.example.\t300\tIN\tMX\t10 mx\\$2.z.example.",
        "r01.z.example.\t300\tIN\tA\t10.0.1.1",
        "r02.z.example.\t300\tIN\tA\t10.0.1.2",
    ];
    let mut got = stdout.clone();
    got.sort();
    let mut want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(got, want);
}

#[tokio::test(flavor = "multi_thread")]
async fn generate_errors_are_one_error_on_the_directive_line() {
    for (body, place, needle) in [
        ("$GENERATE 5-3 r$ A 10.0.0.$\n", ":6:11:", "invalid range"),
        ("$GENERATE 1-2 m$ MX 10 mx$\n", ":6:24:", "extra input"),
        ("$GENERATE 1-2 m${1 A 10.0.0.1\n", ":6:15:", "closing"),
        ("$GENERATE 1-300 h$ A 10.0.0.$\n", ":6:", "10.0.0.256"),
    ] {
        let (code, _, stderr) = show(body).await;
        assert_eq!(code, 2, "{body}: {stderr}");
        assert_eq!(
            stderr.lines().count(),
            1,
            "{body}: one error, not a cascade: {stderr}"
        );
        assert!(stderr.contains(place), "{body}: {stderr}");
        assert!(stderr.contains(needle), "{body}: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn at_in_record_data_is_the_origin() {
    let (code, stdout, stderr) = show("www CNAME @\n$ORIGIN sub.z.example.\nx MX 10 @\n").await;
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains(&"www.z.example.\t300\tIN\tCNAME\tz.example.".to_string()),
        "{stdout:?}"
    );
    assert!(
        stdout.contains(&"x.sub.z.example.\t300\tIN\tMX\t10 sub.z.example.".to_string()),
        "{stdout:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_included_files_ttl_holds_after_it_as_in_bind() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("hosts.inc"),
        "a A 192.0.2.2\n$TTL 60\nb A 192.0.2.3\n",
    )
    .unwrap();
    let text = format!("{HEAD}$INCLUDE hosts.inc\nc A 192.0.2.4\n");
    let (code, stdout, stderr) = show_in(dir.path(), &text, &[]).await;
    assert_eq!(code, 0, "{stderr}");
    for want in [
        "a.z.example.\t300\tIN\tA\t192.0.2.2",
        "b.z.example.\t60\tIN\tA\t192.0.2.3",
        "c.z.example.\t60\tIN\tA\t192.0.2.4",
    ] {
        assert!(stdout.contains(&want.to_string()), "{want}: {stdout:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn include_roots_resolve_relative_and_server_paths() {
    // The repository keeps the server's /srv/dns as shared/: zones include from there.
    let repo = tempfile::tempdir().unwrap();
    let expected = repo.path().join("expected-records");
    let shared = repo.path().join("shared");
    std::fs::create_dir_all(&expected).unwrap();
    std::fs::create_dir_all(shared.join("common")).unwrap();
    std::fs::write(shared.join("common/hosts.inc"), "a A 192.0.2.2\n").unwrap();
    std::fs::write(shared.join("mail.inc"), "mx A 192.0.2.25\n").unwrap();
    let text = format!("{HEAD}$INCLUDE common/hosts.inc\n$INCLUDE /srv/dns/mail.inc\n");

    // Without include roots: the relative path is not in expected-records, the absolute one
    // is a server path. Both refused, on their lines.
    let (code, _, stderr) = show_in(&expected, &text, &[]).await;
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("z.example.zone:6:10: $INCLUDE common/hosts.inc"),
        "{stderr}"
    );
    assert!(
        stderr.contains("z.example.zone:7:10: $INCLUDE /srv/dns/mail.inc"),
        "{stderr}"
    );
    assert!(stderr.contains("include_server_root"), "{stderr}");

    std::fs::write(
        expected.join("dns-audit.toml"),
        "include_root = \"../shared\"\ninclude_server_root = \"/srv/dns\"\n",
    )
    .unwrap();
    let (code, stdout, stderr) = show_in(&expected, &text, &[]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains(&"a.z.example.\t300\tIN\tA\t192.0.2.2".to_string()),
        "{stdout:?}"
    );
    assert!(
        stdout.contains(&"mx.z.example.\t300\tIN\tA\t192.0.2.25".to_string()),
        "{stdout:?}"
    );

    // Still confined: a path that climbs out of the include root is refused.
    let text = format!("{HEAD}$INCLUDE ../expected-records/z.example.zone\n");
    let (code, _, stderr) = show_in(&expected, &text, &[]).await;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("outside the include root"), "{stderr}");

    // An absolute path outside the server root is refused too.
    let text = format!("{HEAD}$INCLUDE /etc/passwd\n");
    let (code, _, stderr) = show_in(&expected, &text, &[]).await;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("not under include_server_root"), "{stderr}");

    // A config path that is not absolute is a config error with its place.
    std::fs::write(
        expected.join("dns-audit.toml"),
        "include_server_root = \"srv\"\n",
    )
    .unwrap();
    let (code, _, stderr) = show_in(&expected, HEAD, &[]).await;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("dns-audit.toml:1:"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn show_takes_a_zone_name_or_a_file_and_says_what_it_needs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("z.example.zone"),
        format!("{HEAD}a A 192.0.2.2\n"),
    )
    .unwrap();
    let out = audit("show")
        .arg("z.example")
        .expected(dir.path())
        .run()
        .await;
    assert_eq!(out.status.code(), Some(0));
    let listing = String::from_utf8_lossy(&out.stdout);
    assert_eq!(listing.lines().count(), 4, "{listing}");
    assert!(
        listing.starts_with("z.example.\t300\tIN\tNS\tns.z.example.\n"),
        "{listing}"
    );

    let other = dir.path().join("zone.db");
    std::fs::write(&other, HEAD).unwrap();
    let out = audit("show").arg(other.display()).run().await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--origin"));
}

#[tokio::test(flavor = "multi_thread")]
async fn owners_origins_and_rrset_ttls_follow_bind_across_includes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("inc.db"),
        "b A 192.0.2.3\n$ORIGIN sub.z.example.\nc A 192.0.2.4\n",
    )
    .unwrap();
    let text = format!(
        "{HEAD}a A 192.0.2.2\n$INCLUDE inc.db\n  A 192.0.2.5\nd 600 A 192.0.2.6\nd 60 A 192.0.2.7\ne A 192.0.2.8\n"
    );
    let (code, stdout, stderr) = show_in(dir.path(), &text, &[]).await;
    assert_eq!(code, 0, "{stderr}");
    // named-checkzone -D 9.18: the blank owner after the include is the including file's last
    // owner; the include's $ORIGIN ends with it; an RRset keeps its first TTL.
    assert_eq!(
        stdout,
        [
            "a.z.example.\t300\tIN\tA\t192.0.2.2",
            "a.z.example.\t300\tIN\tA\t192.0.2.5",
            "b.z.example.\t300\tIN\tA\t192.0.2.3",
            "d.z.example.\t600\tIN\tA\t192.0.2.6",
            "d.z.example.\t600\tIN\tA\t192.0.2.7",
            "e.z.example.\t300\tIN\tA\t192.0.2.8",
            "c.sub.z.example.\t300\tIN\tA\t192.0.2.4",
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn one_mistake_is_one_error() {
    for (body, place) in [
        // A stray quote swallows the ')' after it: BIND says "unbalanced quotes", once.
        ("b IN TXT ( \"x\"\n  bad\" )\nc A 192.0.2.3\n", ":7:6:"),
        // A bad timer in a multi-line SOA: the records after it are not errors.
        ("@ IN SOA ns h ( 1\n  2x 3 4 5 )\na A 192.0.2.1\n", ":7:5:"),
        ("a 1h30 A 192.0.2.1\nb A 192.0.2.2\n", ":6:"),
    ] {
        let (code, _, stderr) = show(body).await;
        assert_eq!(code, 2, "{body}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{body}: {stderr}");
        assert!(stderr.contains(place), "{body}: {stderr}");
    }
}
