//! Golden files: outputs pinned byte for byte after the parts that change from run to run
//! are replaced (times, durations, ports, temporary paths, commit hashes). A change of output
//! on purpose updates the files in the same commit: `DNS_AUDIT_BLESS=1 cargo test`.

use std::path::{Path, PathBuf};

/// Replaces what differs between runs with fixed words.
pub fn normalise(text: &str, dirs: &[&Path]) -> String {
    let mut text = text.to_string();
    for dir in dirs {
        text = text.replace(&dir.display().to_string(), "DIR");
    }
    let rules = [
        (r"127\.0\.0\.1:\d+", "127.0.0.1:PORT"),
        (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "TIME"),
        (r"\d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)? UTC", "TIME"),
        (r"in \d+\.\d\d s", "in N s"),
        (r#""(duration_ms|load_ms)": \d+"#, r#""$1": N"#),
        (
            r"dns_audit_(run_duration_seconds|last_run_timestamp_seconds)(\{[^}]*\})? [0-9.e+-]+",
            "dns_audit_$1$2 N",
        ),
        (r"\b[0-9a-f]{40}\b", "HASH"),
        (r"\b[0-9a-f]{8}\b", "HASH8"),
        (r"\d+ (s|min|h|d) ago", "N ago"),
        (r"\b1[78]\d{8}\b", "EPOCH"),
    ];
    for (pattern, with) in rules {
        text = regex::Regex::new(pattern)
            .unwrap()
            .replace_all(&text, with)
            .into_owned();
    }
    text
}

/// Compares `actual` with the golden file `name`, or writes it under DNS_AUDIT_BLESS.
pub fn golden(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("DNS_AUDIT_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{name}: no golden file (DNS_AUDIT_BLESS=1 writes it)"));
    assert!(
        expected == actual,
        "{name} changed (DNS_AUDIT_BLESS=1 to accept):\n--- golden\n{expected}\n--- now\n{actual}"
    );
}
