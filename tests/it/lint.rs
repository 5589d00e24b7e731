//! `dns-audit lint` end to end: a real git repository in a temp dir, the binary, every output
//! format, waivers, and hostile content.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::audit;

const BASE: &str = "$ORIGIN bots.example.net.
$TTL 300
@ 3600 IN SOA ns1 hostmaster.example.net. ( 2026112401 3600 900 1209600 300 )
@ 3600 IN NS ns1
ns1 IN A 192.0.2.53
bh16 IN A 203.0.113.16
bh17 IN A 203.0.113.17
bh18 IN A 203.0.113.18
";

struct Repo {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Repo {
    fn new() -> Repo {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("dns");
        std::fs::create_dir_all(root.join("expected-records")).unwrap();
        let repo = Repo { _dir: dir, root };
        repo.git(&["init", "-q", "-b", "main"]);
        repo.write(BASE);
        repo.git(&["add", "-A"]);
        repo.git(&["commit", "-q", "-m", "fleet"]);
        repo
    }

    fn git(&self, args: &[&str]) {
        let out = Command::new("git")
            .arg("-C")
            .arg(&self.root)
            .args(["-c", "user.name=ci", "-c", "user.email=ci@example.net"])
            .args(args)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn dir(&self) -> PathBuf {
        self.root.join("expected-records")
    }

    fn write(&self, zone: &str) {
        std::fs::write(self.dir().join("bots.example.net.zone"), zone).unwrap();
    }

    async fn lint(&self, extra: &[&str]) -> (Option<i32>, String, String) {
        let out = audit("lint").expected(&self.dir()).args(extra).run().await;
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

fn proposed(extra: &str) -> String {
    format!("{}{extra}", BASE.replace("2026112401", "2026112402"))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_incident_is_stopped_before_it_ships() {
    let repo = Repo::new();
    repo.write(&proposed(
        "bh19 IN A 203.0.113.19\nbh17 IN A 203.0.113.18\n",
    ));
    let (code, out, err) = repo.lint(&["--base", "main"]).await;
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(out.contains("bots.example.net.zone:10: error[address-reuse]: bh17 A 203.0.113.18: that address belongs to bh18"), "{out}");
    assert!(
        out.contains("error[other-host]: this change sets up bh19 but also gives bh17 A 203.0.113.18, bh18's value"),
        "{out}"
    );
    assert!(out.contains("lint: 2 errors, 1 warning (base "), "{out}");

    // The same change without the slip passes.
    repo.write(&proposed("bh19 IN A 203.0.113.19\n"));
    let (code, out, _) = repo.lint(&["--base", "main"]).await;
    assert_eq!(code, Some(0), "{out}");
}

/// CI runs lint from the repository's root, `--expected` in any form: every CI format names
/// the file by its path in the repository (GitHub places annotations only by that path), and
/// so does the human output; from inside expected-records/ too.
#[tokio::test(flavor = "multi_thread")]
async fn annotations_name_files_by_their_path_in_the_repository() {
    let repo = Repo::new();
    repo.write(&proposed("bh17 IN A 203.0.113.18\n"));
    let absolute = repo.dir();
    for (cwd, expected) in [
        (repo.root.clone(), absolute.display().to_string()),
        (repo.root.clone(), "expected-records".to_string()),
        (absolute.clone(), ".".to_string()),
    ] {
        for format in ["github", "human", "json", "sarif"] {
            let out = audit("lint")
                .arg("--expected")
                .arg(&expected)
                .args(["--base", "main"])
                .format(format)
                .current_dir(&cwd)
                .run()
                .await;
            let text = String::from_utf8_lossy(&out.stdout);
            assert_eq!(out.status.code(), Some(1), "{format} from {cwd:?}: {text}");
            let named = match format {
                "github" => "::error file=expected-records/bots.example.net.zone,line=",
                "human" => "\nexpected-records/bots.example.net.zone:",
                "json" => "\"file\": \"expected-records/bots.example.net.zone\"",
                _ => "\"uri\": \"expected-records/bots.example.net.zone\"",
            };
            assert!(
                text.contains(named),
                "{format}, --expected {expected}: {text}"
            );
            let root = repo.root.canonicalize().unwrap();
            assert!(!text.contains(&*root.to_string_lossy()), "{format}: {text}");
        }
    }
}

/// An ignore_names entry that matches nothing in the zone file is said at its line in the
/// config, with the name it may have meant; a waiver with a reason quiets one that is meant.
#[tokio::test(flavor = "multi_thread")]
async fn an_ignore_that_matches_nothing_is_said_where_it_is_written() {
    let repo = Repo::new();
    let config = repo.dir().join("dns-audit.toml");
    std::fs::write(
        &config,
        "ignore_names = [\"bh71\", \"_acme-challenge\", \"bh16\"]\n",
    )
    .unwrap();
    let (code, out, err) = repo.lint(&["--strict"]).await;
    assert_eq!(code, Some(1), "a warning under --strict: {out}{err}");
    assert!(
        out.contains(":1:18: warning[unused-ignore]: ignore_names entry \"bh71\" matches no name in the zone file (did you mean bh17?)"),
        "{out}"
    );
    assert!(
        out.contains("entry \"_acme-challenge\" matches no name"),
        "{out}"
    );
    assert!(
        !out.contains("\"bh16\" matches"),
        "bh16 is in the zone: {out}"
    );

    let waived = "ignore_names = [\"_acme-challenge\"]\n\n[[waive]]\nname = \"_acme-challenge\"\n\
                  check = \"unused-ignore\"\nreason = \"ACME challenges come and go\"\n";
    std::fs::write(&config, waived).unwrap();
    let (code, out, _) = repo.lint(&["--strict"]).await;
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("[waived: ACME challenges come and go]"),
        "{out}"
    );
}

/// A changed value one edit from what it replaces is shown with the slip marked, in every
/// format that people read.
/// A `*.zone` file whose name is no zone name is never skipped silently: a lint error naming
/// it, and a note of every check.
#[tokio::test(flavor = "multi_thread")]
async fn zone_files_named_for_no_zone_are_said() {
    let repo = Repo::new();
    std::fs::write(repo.dir().join("sp ace.example.zone"), BASE).unwrap();
    std::fs::write(repo.dir().join("\u{fc}n\u{ef}.example.zone"), BASE).unwrap();
    let (code, out, err) = repo.lint(&[]).await;
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(
        out.contains("error[parse]: sp ace.example.zone: not read"),
        "{out}"
    );
    assert!(
        out.contains("\u{fc}n\u{ef}.example.zone: not read"),
        "{out}"
    );
    let server = crate::common::serve(BASE).await;
    let out = audit("check")
        .expected(&repo.dir())
        .arg("--no-record")
        .arg("--quiet")
        .nameserver("ns1", server.addr())
        .run()
        .await;
    server.stop().await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("sp ace.example.zone: not read"), "{err}");
}

/// A record of another zone inside a zone file (a wildcard pasted from a neighbour's file):
/// BIND loads the zone and ignores the record with a warning; so do lint and check.
#[tokio::test(flavor = "multi_thread")]
async fn out_of_zone_data_is_ignored_with_a_warning_as_bind_does() {
    let repo = Repo::new();
    repo.write(&proposed("*.other.example. IN A 203.0.113.99\n"));
    let (code, out, err) = repo.lint(&["--base", "main"]).await;
    assert_eq!(code, Some(0), "a warning: {out}{err}");
    assert!(
        out.contains(
            "bots.example.net.zone:9:1: warning[out-of-zone]: *.other.example. is outside the zone"
        ),
        "{out}"
    );
    let server = crate::common::serve(BASE).await;
    let out = audit("check")
        .expected(&repo.dir())
        .args(["--no-record", "--quiet"])
        .nameserver("ns1", server.addr())
        .run()
        .await;
    server.stop().await;
    let err = String::from_utf8_lossy(&out.stderr);
    // BASE's serial on the server, the proposal's in the file: a serial warning, no drift.
    assert_ne!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("bots.example.net.zone:9:1: warning: *.other.example. is outside the zone"),
        "{err}"
    );
}

/// A fleet numbered bh1..bh44 at 198.51.100.(100+N), as the postmortem's hoster numbers it.
fn numbered_fleet(serial: u32, extra: &str, bh44: &str) -> String {
    let mut zone = format!(
        "$ORIGIN bots.example.net.\n$TTL 300\n@ 3600 IN SOA ns1 hostmaster.example.net. ( {serial} 3600 900 1209600 300 )\n@ 3600 IN NS ns1\nns1 IN A 192.0.2.53\n"
    );
    for n in 1..44 {
        zone.push_str(&format!("bh{n} IN A 198.51.100.{}\n", 100 + n));
    }
    zone.push_str(&format!("bh44 IN A {bh44}\n{extra}"));
    zone
}

/// The new host's address typo, and the postmortem's own shape, as a new user writes them: each
/// an error on the right line, with the fix named.
#[tokio::test(flavor = "multi_thread")]
async fn a_new_hosts_address_typo_is_an_error_with_the_fix() {
    let repo = Repo::new();
    repo.write(&numbered_fleet(1, "", "198.51.100.144"));
    repo.git(&["commit", "-qam", "fleet of 44"]);
    // bh45 at .154 for .145: a transposition no other host's address explains.
    repo.write(&numbered_fleet(
        2,
        "bh45 IN A 198.51.100.154\n",
        "198.51.100.144",
    ));
    let (code, out, err) = repo.lint(&["--base", "main"]).await;
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(
        out.contains("bots.example.net.zone:50: error[address-pattern]: bh45 A 198.51.100.154 does not follow the fleet's numbering"),
        "{out}"
    );
    assert!(out.contains("fix: bh45 A 198.51.100.145"), "{out}");
    // The right address passes.
    repo.write(&numbered_fleet(
        2,
        "bh45 IN A 198.51.100.145\n",
        "198.51.100.144",
    ));
    let (code, out, _) = repo.lint(&["--base", "main"]).await;
    assert_eq!(code, Some(0), "{out}");
    // The postmortem: bh45 added at .145, and by mistake bh44 given .145 too. The outage is
    // bh44's line: it comes first.
    repo.write(&numbered_fleet(
        2,
        "bh45 IN A 198.51.100.145\n",
        "198.51.100.145",
    ));
    let (code, out, _) = repo.lint(&["--base", "main"]).await;
    assert_eq!(code, Some(1), "{out}");
    let first = out.lines().next().unwrap_or_default();
    assert!(
        first.contains("zone:49: error[") && first.contains("bh44 A 198.51.100.145"),
        "bh44's line first: {out}"
    );
}

/// A pull request whose zone file fans out into `$INCLUDE`s (ten of a file that has ten of the
/// next, eight deep: 10^8 reads) fails at the bound in a moment, at the line that crossed it.
#[tokio::test(flavor = "multi_thread")]
async fn an_include_fan_out_fails_at_its_bound() {
    let repo = Repo::new();
    let files = ["a", "b", "c", "d", "e", "f", "g", "h"];
    for pair in files.windows(2) {
        let text = format!("$INCLUDE {}.inc\n", pair[1]).repeat(10);
        std::fs::write(repo.dir().join(format!("{}.inc", pair[0])), text).unwrap();
    }
    std::fs::write(repo.dir().join("h.inc"), "; nothing\n").unwrap();
    repo.write(&proposed(&"$INCLUDE a.inc\n".repeat(10)));
    let (code, out, err) = repo.lint(&["--base", "main"]).await;
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(
        out.contains("error[parse]: refused: more than 1000 $INCLUDEs"),
        "{out}"
    );
    assert!(out.contains("max_zone_includes"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slip_is_marked_character_by_character() {
    let repo = Repo::new();
    repo.write(&proposed("").replace("bh17 IN A 203.0.113.17", "bh17 IN A 203.0.113.71"));
    let (code, out, err) = repo.lint(&["--base", "main"]).await;
    assert_eq!(code, Some(0), "a warning: {out}{err}");
    assert!(
        out.contains(
            "one transposition away: a slip? (resembles: bh17 A 203.0.113.17): 203.0.113.[17→71]"
        ),
        "{out}"
    );
    let (_, out, _) = repo.lint(&["--base", "main", "--format", "github"]).await;
    assert!(out.contains(": 203.0.113.[17→71]"), "{out}");
    let (_, out, _) = repo.lint(&["--base", "main", "--format", "json"]).await;
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let slip = &json["findings"][0]["slip"];
    assert_eq!(slip["intended"], "203.0.113.17", "{json:#}");
    assert_eq!(slip["typed"], "203.0.113.71");
}

#[tokio::test(flavor = "multi_thread")]
async fn machine_formats_are_valid_and_escape_hostile_text() {
    let repo = Repo::new();
    // Hostile text already in the base, and a doubled letter in it while bh19 is set up.
    repo.write(&format!(
        "{BASE}bh16 IN TXT \"x\\010::error::pwned\\013\" \"%0A::warning::also\"\n"
    ));
    repo.git(&["commit", "-q", "-am", "hostile TXT"]);
    repo.write(&proposed(
        "bh19 IN A 203.0.113.19\nbh16 IN TXT \"x\\010::error::pwned\\013\" \"%0A::warning::allso\"\n",
    ));
    let (code, out, _) = repo.lint(&["--base", "main", "--format", "github"]).await;
    assert_eq!(code, Some(1));
    for line in out.lines() {
        assert!(
            line.starts_with("::error file=")
                || line.starts_with("::warning file=")
                || line.starts_with("dns-audit lint:"),
            "a line that GitHub would read as a command of its own: {line:?}"
        );
    }
    assert!(out.contains("%250A::warning::also"), "{out}");
    assert!(!out.contains('\r'), "{out:?}");

    let (_, out, _) = repo.lint(&["--base", "main", "--format", "sarif"]).await;
    let sarif: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().any(|r| r["ruleId"] == "other-host"));
    assert!(results.iter().all(
        |r| r["locations"][0]["physicalLocation"]["region"]["startLine"]
            .as_u64()
            .unwrap()
            >= 1
    ));

    let (_, out, _) = repo.lint(&["--base", "main", "--format", "json"]).await;
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["schema"], "dns-audit.lint/1");
    assert_eq!(json["errors"], 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn waivers_need_a_reason_and_silence_one_check_at_one_name() {
    let repo = Repo::new();
    repo.write(&proposed("bh17 IN A 203.0.113.18\n"));
    let waiver = "[[waive]]\nname = \"bh17\"\ncheck = \"address-reuse\"\nreason = \"bh17 and bh18 share a VIP during the move\"\n\
                  [[waive]]\nname = \"bh17\"\ncheck = \"second-address\"\nreason = \"same move\"\n";
    std::fs::write(repo.dir().join("dns-audit.toml"), waiver).unwrap();
    let (code, out, _) = repo.lint(&["--base", "main"]).await;
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("[waived: bh17 and bh18 share a VIP during the move]"),
        "{out}"
    );

    std::fs::write(
        repo.dir().join("dns-audit.toml"),
        "[[waive]]\nname = \"bh17\"\ncheck = \"address-reuse\"\n",
    )
    .unwrap();
    let (code, _, err) = repo.lint(&["--base", "main"]).await;
    assert_eq!(code, Some(2));
    assert!(
        err.contains("dns-audit.toml:1:1: missing field `reason`"),
        "{err}"
    );

    // A mistyped check waives nothing: an error at its place, never silence (check too).
    std::fs::write(
        repo.dir().join("dns-audit.toml"),
        "[[waive]]\nname = \"bh17\"\ncheck = \"adress-reuse\"\nreason = \"move\"\n",
    )
    .unwrap();
    let (code, _, err) = repo.lint(&["--base", "main"]).await;
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(
            "dns-audit.toml:3:9: [[waive]] check \"adress-reuse\": no lint check has that name"
        ) && err.contains("did you mean address-reuse?"),
        "{err}"
    );
    let out = audit("check")
        .arg("--plan")
        .expected(&repo.dir())
        .run()
        .await;
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("adress-reuse"));
}

#[tokio::test(flavor = "multi_thread")]
async fn strict_fails_on_warnings_and_mass_changes_need_a_flag() {
    let repo = Repo::new();

    let many: String = (0..40)
        .map(|i| format!("h{i} IN A 198.18.0.{i}\n"))
        .collect();
    let base = format!("{BASE}{many}");
    repo.write(&base);
    repo.git(&["commit", "-q", "-a", "-m", "more"]);
    repo.write(&BASE.replace("2026112401", "2026112403"));
    let (code, out, _) = repo.lint(&["--base", "main"]).await;
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("error[mass-change]"), "{out}");
    let (code, out, _) = repo.lint(&["--base", "main", "--allow-mass-change"]).await;
    assert_eq!(code, Some(0), "{out}");

    // A TTL that is far off its siblings is a warning: exit 0, but 1 with --strict.
    repo.write(
        &base
            .replace("2026112401", "2026112402")
            .replace("h7 IN A", "h7 86400 IN A"),
    );
    let (code, out, _) = repo.lint(&["--base", "main"]).await;
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("warning[ttl-outlier]"), "{out}");
    let (code, _, _) = repo.lint(&["--base", "main", "--strict"]).await;
    assert_eq!(code, Some(1));
}

#[tokio::test(flavor = "multi_thread")]
async fn revisions_that_look_like_options_and_symlinks_in_git_are_refused() {
    let repo = Repo::new();
    let (code, _, err) = repo.lint(&["--base=--output=/tmp/pwned"]).await;
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("starts with '-'"), "{err}");
    assert!(!Path::new("/tmp/pwned").exists());

    // A base tree where the zone file is a symlink is not followed.
    std::fs::remove_file(repo.dir().join("bots.example.net.zone")).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", repo.dir().join("bots.example.net.zone")).unwrap();
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "symlink"]);
    repo.git(&["branch", "evil"]);
    std::fs::remove_file(repo.dir().join("bots.example.net.zone")).unwrap();
    repo.write(BASE);
    let (code, out, err) = repo.lint(&["--base", "evil"]).await;
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(
        out.contains("error[base]") && out.contains("symlink"),
        "{out}"
    );
}

/// On a pull request, `check --base` asks only the nameservers the base branch's config names:
/// a changed config (or NS record) in the PR cannot send CI's traffic elsewhere.
#[tokio::test(flavor = "multi_thread")]
async fn a_pull_request_cannot_point_check_at_other_servers() {
    let repo = Repo::new();
    let trusted = crate::common::serve(BASE).await;
    let upstream = crate::common::serve(BASE).await;
    // Counts every query it gets (and answers none).
    let elsewhere =
        crate::common::FaultProxy::start(upstream.addr(), crate::common::Fault::Drop, None).await;
    let config = |servers: &[std::net::SocketAddr]| {
        let list: Vec<String> = servers.iter().map(|s| format!("\"{s}\"")).collect();
        format!(
            "{}[zones.\"bots.example.net\"]\nnameservers = [{}]\n",
            crate::common::FAST,
            list.join(", ")
        )
    };
    std::fs::write(repo.dir().join("dns-audit.toml"), config(&[trusted.addr()])).unwrap();
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "config"]);
    // The pull request adds a server of its own.
    std::fs::write(
        repo.dir().join("dns-audit.toml"),
        config(&[trusted.addr(), elsewhere.addr]),
    )
    .unwrap();

    let check = |extra: &[&str]| {
        audit("check")
            .arg("--no-record")
            .format("json")
            .expected(&repo.dir())
            .args(extra)
    };
    let out = check(&["--base", "main"]).run().await;
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(3), "{json:#}");
    let findings = crate::common::findings(&json);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0]["kind"], "not_allowed");
    assert_eq!(elsewhere.hits.load(std::sync::atomic::Ordering::SeqCst), 0);
    assert_eq!(
        json["zones"][0]["servers"].as_array().unwrap().len(),
        1,
        "only the trusted server was asked"
    );

    // Without --base, under a GitHub pull request, the base is origin/$GITHUB_BASE_REF: here it
    // does not exist, and the run fails closed.
    let out = check(&[]).env("GITHUB_BASE_REF", "main").run().await;
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every class of mistake the README's table lists is a lint error (or the `duplicate`
/// warning) at the line that holds it.
#[tokio::test(flavor = "multi_thread")]
async fn every_class_bind_or_knot_rejects_is_said_at_its_line() {
    const HEAD: &str =
        "$ORIGIN t.example.\n$TTL 300\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\n";
    let cases: &[(&str, &str, &str)] = &[
        (
            "cname-and-other-data",
            "www A 192.0.2.2\nwww CNAME ns1\n",
            ":7: error[cname-and-other-data]",
        ),
        (
            "two-cnames",
            "www CNAME ns1\nwww CNAME ns1.other.\n",
            "error[two-cnames]",
        ),
        (
            "ns-without-address",
            "@ NS ns2\n",
            ":6: error[ns-without-address]",
        ),
        (
            "ns-below-dname",
            "sub DNAME other.example.\nx NS ns.sub\n",
            ":7: error[ns-below-dname]",
        ),
        (
            "ds-at-apex",
            &format!("@ DS 12345 13 2 {}\n", "ab".repeat(32)),
            ":6: error[ds-at-apex]",
        ),
        (
            "cds-without-dnskey",
            &format!("@ CDS 12345 13 2 {}\n", "ab".repeat(32)),
            ":6: error[cds-without-dnskey]",
        ),
        (
            "nsec3-hash-length",
            "ca4u3j6g3t7tvcgtkdeqqvvp9qnqmnij NSEC3 1 0 0 - AAAA A\n",
            ":6: error[nsec3-hash-length]",
        ),
        (
            "nsec3-owner",
            &format!("not-base32 NSEC3 1 0 0 - {} A\n", "0".repeat(32)),
            ":6: error[nsec3-owner]",
        ),
        ("svcb alpn", "svc HTTPS 1 . alpn=h2,,h3\n", ":6:"),
        (
            "svcb mandatory",
            "svc HTTPS 1 . mandatory=port alpn=h2\n",
            ":6:",
        ),
        ("svcb port", "svc HTTPS 1 . port=70000\n", ":6:"),
        (
            "dangling-target",
            "@ MX 10 mail\n",
            ":6: error[dangling-target]",
        ),
        (
            "duplicate",
            "www A 192.0.2.2\nwww A 192.0.2.2\n",
            ":7: warning[duplicate]",
        ),
        (
            "repeated-origin",
            "www CNAME ns1.t.example\n",
            ":6: error[repeated-origin]",
        ),
    ];
    for (case, extra, said) in cases {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("t.example.zone"), format!("{HEAD}{extra}")).unwrap();
        let out = audit("lint").expected(dir.path()).run().await;
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(said), "{case}: {text}");
        let code = out.status.code();
        let expected = if *case == "duplicate" {
            Some(0)
        } else {
            Some(1)
        };
        assert_eq!(code, expected, "{case}: {text}");
    }
}

/// Serials a repository never raises by hand (the server's serial policy raises them) are
/// learned from its git history: a change without a bump is not an error there, `--explain`
/// says why, and the config can say otherwise.
#[tokio::test(flavor = "multi_thread")]
async fn serials_raised_elsewhere_are_learned_from_the_history() {
    let repo = Repo::new();
    let mut zone = BASE.to_string();
    for n in 20..24 {
        zone.push_str(&format!("bh{n} IN A 203.0.113.{n}\n"));
        repo.write(&zone);
        repo.git(&["commit", "-q", "-am", &format!("bh{n}")]);
    }
    zone.push_str("bh24 IN A 203.0.113.24\n");
    repo.write(&zone);
    let (code, out, err) = repo.lint(&["--base", "main", "--explain"]).await;
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(!out.contains("[serial-not-raised]"), "{out}");
    assert!(
        out.contains("serials managed elsewhere: serial-not-raised is off (raised elsewhere (server serial policy, deploy script or bump commits): the serial went up in 0 of the last 4 changes of records of this file)"),
        "{out}"
    );
    let (_, out, _) = repo.lint(&["--base", "main", "--format", "json"]).await;
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        json["conventions"][0]["serials"]["value"], "managed",
        "{json:#}"
    );

    std::fs::write(repo.dir().join("dns-audit.toml"), "serials = \"by-hand\"\n").unwrap();
    let (code, out, _) = repo.lint(&["--base", "main", "--explain"]).await;
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("error[serial-not-raised]"), "{out}");
    assert!(out.contains("(set in dns-audit.toml)"), "{out}");
}
