//! The chain of trust between a parent and a child zone audited together, with zones signed at
//! test time by BIND's dnssec-keygen and dnssec-signzone and served by two NSDs on 127.0.0.1:
//! a DS that points at a key the child serves is clean; the child re-keyed while the parent
//! keeps the old DS is `bogus`, on the child, though each zone alone matches its zone file;
//! `lint` says the same of the files before deploy (`ds-mismatch`, at the DS's line).

use std::path::Path;

use crate::common::signing::Signer;
use crate::common::*;

const PARENT: &str = "example.";
const CHILD: &str = "child.example.";

/// The child zone signed with a new key pair, and the DS of its key-signing key.
fn signed_child(serial: u32) -> Option<(String, String)> {
    let signer = Signer::new(CHILD)?;
    let text = format!(
        "$ORIGIN {CHILD}\n$TTL 300\n@ SOA ns1 hostmaster.example. ( {serial} 3600 900 1209600 300 )\n\
         @ NS ns1\nns1 A 127.0.0.1\nbh1 A 192.0.2.1\nbh2 AAAA 2001:db8::2\n"
    );
    Some((signer.sign(&text, false), signer.ds()))
}

fn parent_with(ds: &str) -> String {
    format!(
        "$ORIGIN {PARENT}\n$TTL 300\n@ SOA ns1 hostmaster ( 2026113001 3600 900 1209600 300 )\n\
         @ NS ns1\nns1 A 127.0.0.1\nchild NS ns1.child\nns1.child A 127.0.0.1\n{ds}\n"
    )
}

fn expected_dir(
    parent: &str,
    child: &str,
    parent_ns: &Daemon,
    child_ns: &Daemon,
) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("example.zone"), parent).unwrap();
    std::fs::write(dir.path().join("child.example.zone"), child).unwrap();
    let config = format!(
        "timeout_ms = 1000\nretries = 2\naxfr = \"always\"\nsignature_warn_days = 0\n\
         [zones.\"example\"]\nnameservers = [\"{}\"]\n\
         [zones.\"child.example\"]\nnameservers = [\"{}\"]\n",
        parent_ns.addr, child_ns.addr
    );
    std::fs::write(dir.path().join("dns-audit.toml"), config).unwrap();
    dir
}

/// `lint` of the directory: its exit code and what it printed.
async fn lint_dir(dir: &Path) -> (Option<i32>, String) {
    let out = audit("lint").expected(dir).run().await;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    (
        out.status.code(),
        text + &String::from_utf8_lossy(&out.stderr),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_ds_the_child_has_no_key_for_is_bogus_on_the_child() {
    let Some((child, ds)) = signed_child(1) else {
        return;
    };
    let parent = parent_with(&ds);
    let Some(parent_ns) = Daemon::start(Software::Nsd, PARENT, &parent, &Setup::default()) else {
        return;
    };
    let Some(child_ns) = Daemon::start(Software::Nsd, CHILD, &child, &Setup::default()) else {
        return;
    };
    let dir = expected_dir(&parent, &child, &parent_ns, &child_ns);
    let (code, json) = check_json(dir.path(), &[]).await;
    assert_eq!(code, 0, "{:#}", serde_json::Value::Array(findings(&json)));
    assert!(findings(&json).is_empty());
    let (code, lint) = lint_dir(dir.path()).await;
    assert!(!lint.contains("ds-mismatch"), "{lint}");
    assert_eq!(code, Some(0), "{lint}");

    // The child rolls to a new key and drops the old one at once; expected-records follows the
    // child, but the parent still serves the DS of the old key.
    let Some((child, _)) = signed_child(2) else {
        return;
    };
    let Some(child_ns) = Daemon::start(Software::Nsd, CHILD, &child, &Setup::default()) else {
        return;
    };
    let dir = expected_dir(&parent, &child, &parent_ns, &child_ns);
    let (code, json) = check_json(dir.path(), &[]).await;
    assert_eq!(code, 1, "{json:#}");
    let found = findings(&json);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0]["kind"], "bogus");
    assert_eq!(found[0]["name"], CHILD);
    assert_eq!(found[0]["type"], "DNSKEY");
    let why = found[0]["why"].as_str().unwrap();
    assert!(
        why.starts_with("validating resolvers reject every name of child.example.:"),
        "{why}"
    );
    assert_eq!(
        json["zones"][1]["zone"], CHILD,
        "the finding is the child's"
    );
    assert_eq!(
        json["zones"][1]["server_findings"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // lint, before deploy, sees the same in the files: the parent's DS, at its line.
    let (code, lint) = lint_dir(dir.path()).await;
    assert_eq!(code, Some(1), "{lint}");
    let ds_line = parent.lines().position(|l| l.contains(" DS ")).unwrap() + 1;
    assert!(
        lint.contains(&format!("example.zone:{ds_line}:")) && lint.contains("ds-mismatch"),
        "{lint}"
    );
    assert!(lint.contains("which has DNSKEY"), "{lint}");
}
