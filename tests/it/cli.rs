//! The command line people already know: expected-records found as git finds its repository,
//! shell completions and a manual page generated from the flags.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::common::*;

/// The binary run in `cwd` with `args`, no DNS_AUDIT_* from the environment unless given.
fn run_in(cwd: &Path, args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dns-audit"));
    command
        .args(args)
        .current_dir(cwd)
        .env_remove("DNS_AUDIT_EXPECTED")
        .env_remove("DNS_AUDIT_STATE")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().unwrap()
}

/// A repository holding expected-records/ and a deeper directory to start from.
fn repository() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join(".git")).unwrap();
    let expected = root.path().join("expected-records");
    std::fs::create_dir(&expected).unwrap();
    std::fs::write(expected.join("bots.example.net.zone"), ZONE).unwrap();
    std::fs::write(expected.join("dns-audit.toml"), FAST).unwrap();
    std::fs::create_dir_all(root.path().join("docs/runbooks")).unwrap();
    root
}

fn plan(out: &Output) -> String {
    success_stdout(out)
}

#[test]
fn expected_records_are_found_from_a_parent_from_inside_and_by_the_environment() {
    let repo = repository();
    let root = repo.path();
    let from_below = run_in(&root.join("docs/runbooks"), &["check", "--plan"], &[]);
    assert!(plan(&from_below).starts_with("bots.example.net. SOA\n"));
    let from_inside = run_in(&root.join("expected-records"), &["check", "--plan"], &[]);
    assert_eq!(plan(&from_inside), plan(&from_below));

    let elsewhere = tempfile::tempdir().unwrap();
    let by_env = run_in(
        elsewhere.path(),
        &["check", "--plan"],
        &[("DNS_AUDIT_EXPECTED", &root.join("expected-records"))],
    );
    assert_eq!(plan(&by_env), plan(&from_below));

    // Not found: it says where it looked and what to pass, and stops at the repository root.
    std::fs::create_dir(elsewhere.path().join(".git")).unwrap();
    std::fs::create_dir_all(elsewhere.path().join("a/b")).unwrap();
    let lost = run_in(&elsewhere.path().join("a/b"), &["lint"], &[]);
    let stderr = String::from_utf8_lossy(&lost.stderr);
    assert_eq!(lost.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("no expected-records directory: looked for"),
        "{stderr}"
    );
    assert!(stderr.contains("a/b/expected-records"), "{stderr}");
    assert!(
        stderr.contains("pass --expected DIR or set DNS_AUDIT_EXPECTED"),
        "{stderr}"
    );
    let parent_of_repo = elsewhere.path().parent().unwrap().join("expected-records");
    assert!(
        !stderr.contains(&parent_of_repo.display().to_string()),
        "looked above the repository root: {stderr}"
    );
}

/// A mistyped `--expected` names the path and what was expected there, for every command.
#[test]
fn a_missing_expected_directory_is_said_with_what_belongs_there() {
    let here = tempfile::tempdir().unwrap();
    let missing = here.path().join("no-such-dir");
    for command in ["check", "lint", "recent"] {
        let out = run_in(
            here.path(),
            &[command, "--expected", missing.to_str().unwrap()],
            &[],
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{command}: {err}");
        assert!(
            err.contains("no-such-dir: no such directory"),
            "{command}: {err}"
        );
        assert!(
            err.contains("expected-records directory"),
            "{command}: {err}"
        );
    }
}

#[test]
fn completions_and_the_manual_page_come_from_the_flags() {
    let here = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = run_in(here.path(), &["completions", shell], &[]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(script.contains("dns-audit"), "{shell}: {script}");
        assert!(
            script.contains("recent"),
            "{shell}: subcommands are completed"
        );
    }
    let out = run_in(here.path(), &["man"], &[]);
    assert_eq!(out.status.code(), Some(0));
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(
        page.starts_with(".ie") || page.contains(".TH dns-audit 1"),
        "{page}"
    );
    for section in [".SH NAME", ".SH SYNOPSIS", ".SH SUBCOMMANDS"] {
        assert!(page.contains(section), "{section} missing: {page}");
    }
}

/// What bash completes after `WORDS` (the last one being completed), with the script the
/// binary prints loaded: the completion function run as bash runs it on TAB.
fn bash_completes(script: &Path, words: &[&str]) -> String {
    let program = format!(
        "source {}\nCOMP_WORDS=({})\nCOMP_CWORD={}\n\
         _dns__audit {} \"{}\" \"{}\"\necho \"${{COMPREPLY[*]}}\"\n",
        script.display(),
        words.join(" "),
        words.len() - 1,
        words[0],
        words[words.len() - 1],
        words[words.len().saturating_sub(2)],
    );
    let out = Command::new("bash")
        .args(["-c", &program])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The bash script completes a subcommand's flags (clap_complete's hyphenated-name bug is
/// worked around), for `dns-audit` and for `audit`, the name on-call types.
#[test]
fn bash_completes_subcommand_flags_for_both_names() {
    let here = tempfile::tempdir().unwrap();
    let out = run_in(here.path(), &["completions", "bash"], &[]);
    let script = here.path().join("dns-audit.bash");
    std::fs::write(&script, &out.stdout).unwrap();
    for program in ["dns-audit", "audit"] {
        let top = bash_completes(&script, &[program, ""]);
        assert!(
            top.contains("check") && top.contains("recent"),
            "{program}: {top}"
        );
        let flags = bash_completes(&script, &[program, "check", "--"]);
        assert!(flags.contains("--nameserver"), "{program} check: {flags}");
        let flags = bash_completes(&script, &[program, "recent", "--"]);
        assert!(flags.contains("--offline"), "{program} recent: {flags}");
    }
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(" -o default dns-audit audit\n"), "{text}");
}

/// `man --dir` writes the main page and one per subcommand; `man -l` renders each without a
/// warning, and the main page has the sections a manual needs.
#[test]
fn manual_pages_are_written_one_per_subcommand_and_render_cleanly() {
    let here = tempfile::tempdir().unwrap();
    let dir = here.path().join("man1");
    std::fs::create_dir(&dir).unwrap();
    let out = run_in(here.path(), &["man", "--dir", dir.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let mut pages: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    pages.sort();
    for page in [
        "dns-audit.1",
        "dns-audit-check.1",
        "dns-audit-recent.1",
        "dns-audit-lint.1",
    ] {
        assert!(pages.iter().any(|p| p == page), "{page} missing: {pages:?}");
    }
    let main = std::fs::read_to_string(dir.join("dns-audit.1")).unwrap();
    for section in [
        "EXIT STATUS",
        "ENVIRONMENT",
        "FILES",
        "EXAMPLES",
        "SEE ALSO",
    ] {
        assert!(
            main.contains(&format!(".SH \"{section}\""))
                || main.contains(&format!(".SH {section}")),
            "{section}"
        );
    }
    let check = std::fs::read_to_string(dir.join("dns-audit-check.1")).unwrap();
    assert!(check.contains("nameserver"), "the check page has its flags");
    if !Path::new("/usr/bin/man").exists() {
        assert!(std::env::var_os("CI").is_none(), "CI installs man-db");
        return;
    }
    for page in &pages {
        let out = Command::new("man")
            .args(["--warnings", "-l"])
            .arg(dir.join(page))
            .env("MANWIDTH", "80")
            .env("MANPAGER", "cat")
            .env("PAGER", "cat")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && err.trim().is_empty(),
            "{page}: {err}"
        );
        assert!(!out.stdout.is_empty(), "{page} rendered nothing");
    }
}

/// `check --plan | head`: the plan stops quietly when its reader has seen enough.
#[test]
fn a_plan_read_in_part_stops_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let mut zone = String::from("$TTL 300\n@ SOA ns1 host 1 2 3 4 5\n@ NS ns1\nns1 A 127.0.0.1\n");
    for i in 0..5000 {
        zone.push_str(&format!("host{i} A 192.0.2.{}\n", i % 250));
    }
    std::fs::write(dir.path().join("example.com.zone"), zone).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_dns-audit"))
        .args(["check", "--plan", "--expected"])
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 64];
    std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
    assert!(first.starts_with(b"example.com. SOA\n"), "{first:?}");
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}

/// `audit` is the same program under the name on-call types.
#[test]
fn audit_is_dns_audit_under_the_name_on_call_types() {
    let repo = repository();
    let run_as = |program: &str| {
        Command::new(program)
            .args(["check", "--plan"])
            .current_dir(repo.path())
            .env_remove("DNS_AUDIT_EXPECTED")
            .output()
            .unwrap()
    };
    let audit = run_as(env!("CARGO_BIN_EXE_audit"));
    let dns_audit = run_as(env!("CARGO_BIN_EXE_dns-audit"));
    assert_eq!(audit.status.code(), Some(0), "{audit:?}");
    assert_eq!(audit.stdout, dns_audit.stdout);
    let bad = Command::new(env!("CARGO_BIN_EXE_audit"))
        .arg("--bogus")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2), "exit codes pass through");
}

/// The README's first set-up command is `cargo run --release --locked -- demo`: with the
/// `audit` binary beside `dns-audit`, cargo needs `default-run` to know which to run.
#[test]
fn cargo_run_runs_dns_audit() {
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    let binaries = manifest.matches("[[bin]]").count();
    assert!(binaries >= 2, "this test guards the two binaries");
    assert!(
        manifest.contains("\ndefault-run = \"dns-audit\"\n"),
        "cargo run would not know which binary to run"
    );
}

/// A run of over a second (a server that never answers) draws no progress line when stderr
/// is not a terminal: pipes, CI logs and cron mail stay clean. `-v` says what is asked of
/// whom on stderr, `-vv` every query; without them stderr says nothing of it.
#[tokio::test(flavor = "multi_thread")]
async fn progress_stays_off_pipes_and_logs_come_with_v() {
    let server = serve(ZONE).await;
    let dir = expected_dir(ZONE, FAST);
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    // -v and -vv are global flags: after the subcommand as well as before it.
    let base = |extra: &[&str]| {
        audit("check")
            .expected(dir.path())
            .arg("--no-record")
            .nameserver("ns1", server.addr())
            .args(extra)
    };
    let slow = base(&[])
        .nameserver("ns9", silent.local_addr().unwrap())
        .args(["--timeout", "700ms"]);
    let started = std::time::Instant::now();
    let out = slow.run().await;
    assert!(
        started.elapsed() > std::time::Duration::from_secs(1),
        "the run must be slow enough to show progress"
    );
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("asking"), "{stderr}");
    assert!(!stderr.contains('\r'), "{stderr:?}");

    let out = base(&["-v"]).run().await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "asking ns1 ({}) about bots.example.net.: SOA, then queries",
            server.addr()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("serial 2026112401 by queries"), "{stderr}");
    assert!(
        !stderr.contains("bh17.bots.example.net. A"),
        "-v is not every query: {stderr}"
    );

    let out = base(&["-vv"]).run().await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bh17.bots.example.net. A"), "{stderr}");

    let out = base(&[]).run().await;
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
