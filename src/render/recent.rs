//! The human screen of `recent`: one or two lines an entry, loudest first. What is served now
//! and no commit explains comes first; what has since been reverted is kept, dimmed, below.

use std::fmt::Write;

use super::human::Style;
use super::{paint, slip};
use crate::recent::{ago, CommitEntry, CommitStatus, LiveChange, LiveWhat, Recent};
use crate::report::{Finding, Severity};

/// Entries shown per section before a count of the rest.
const SHOWN: usize = 10;
/// Record changes shown per commit before a count of the rest.
const SHOWN_CHANGES: usize = 8;

/// The whole screen.
pub fn human(recent: &Recent, style: Style) -> String {
    let mut out = String::new();
    let now = recent.now;
    let since = jiff::Timestamp::from_second(recent.since)
        .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default();
    let last_run = recent.last_run.map_or_else(
        || "no check recorded yet".to_string(),
        |t| format!("last check {}", ago(now, t)),
    );
    let drift = drift_now(recent);
    let nothing = recent.unexplained.is_empty()
        && recent.commits.is_empty()
        && recent.explained.is_empty()
        && drift.is_empty();
    if nothing {
        let _ = writeln!(
            out,
            "Nothing changed since {since}: no commits, no live changes{}. ({last_run})",
            if recent.drift.is_some() {
                ", no drift now"
            } else {
                ""
            }
        );
    } else {
        let _ = writeln!(out, "Since {since} ({last_run})");
        unexplained(&mut out, recent, style);
        reverted(&mut out, recent, style);
        commits(&mut out, recent, style);
        back_to_expected(&mut out, recent, style);
        drift_section(&mut out, recent, style, drift.is_empty());
    }
    if let Some(store) = &recent.store {
        let gap = if nothing { "" } else { "\n" };
        let _ = writeln!(out, "{gap}{}", store.describe(now));
    }
    out
}

/// Drift and failures of the fresh check (warnings left to `check`).
fn drift_now(recent: &Recent) -> Vec<&Finding> {
    recent
        .drift
        .iter()
        .flat_map(|r| r.zones.iter())
        .flat_map(|z| {
            z.hosts
                .iter()
                .flat_map(|h| &h.findings)
                .chain(&z.server_findings)
        })
        .filter(|f| f.severity != Severity::Warning)
        .collect()
}

/// Live changes no commit explains that are still served: the likely cause, on top.
fn unexplained(out: &mut String, recent: &Recent, style: Style) {
    let served: Vec<&LiveChange> = recent
        .unexplained
        .iter()
        .filter(|live| live.reverted.is_none())
        .collect();
    if served.is_empty() {
        return;
    }
    let now = recent.now;
    let _ = writeln!(
        out,
        "\n{}",
        paint(style.colour, "1;31", "LIVE CHANGES NO COMMIT EXPLAINS")
    );
    for live in served {
        let _ = writeln!(
            out,
            "  {:<10}  {}",
            ago(now, live.first_seen),
            live_line(live, style.colour)
        );
        let mut why = vec!["no commit explains it".to_string()];
        why.extend(live.notes.iter().cloned());
        if let Some((_, subject, time)) = &recent.last_commit {
            why.push(format!("last commit: '{subject}' {}", ago(now, *time)));
        }
        let _ = writeln!(out, "  {:<10}  {}", "", why.join("; "));
    }
}

/// Live changes no commit explained that every server has since gone back from: kept, so
/// the story is whole, but dimmed and below what is served now.
fn reverted(out: &mut String, recent: &Recent, style: Style) {
    let undone: Vec<&LiveChange> = recent
        .unexplained
        .iter()
        .filter(|live| live.reverted.is_some())
        .collect();
    if undone.is_empty() {
        return;
    }
    let now = recent.now;
    let dim = |text: &str| paint(style.colour, "2", text);
    let _ = writeln!(
        out,
        "\n{}",
        dim("LIVE CHANGES NO COMMIT EXPLAINED, SINCE REVERTED")
    );
    for live in undone.iter().take(SHOWN) {
        let when = live.reverted.map(|t| ago(now, t)).unwrap_or_default();
        let line = format!(
            "  {:<10}  {}; reverted {when}",
            ago(now, live.first_seen),
            live_line(live, false)
        );
        let _ = writeln!(out, "{}", dim(&line));
        if let Some(caches) = live.reverted.and_then(|at| caches_after(recent, live, at)) {
            let _ = writeln!(out, "  {:<10}  {caches}", "");
        }
    }
    more(out, undone.len());
}

/// After a fix: until when resolvers may serve the old answer, and what each resolver the
/// fresh check asked serves now (`1.1.1.1 fixed, 9.9.9.9 still old (212 s left)`).
fn caches_after(recent: &Recent, live: &LiveChange, fixed_at: i64) -> Option<String> {
    use crate::resolvers::Seen;
    let report = recent.drift.as_ref()?;
    let answers: Vec<&crate::resolvers::Answer> = report
        .zones
        .iter()
        .flat_map(|z| &z.resolvers)
        .filter(|a| a.name == live.name && a.rtype == live.rtype)
        .collect();
    let ttl = answers.first()?.ttl;
    let until = jiff::Timestamp::from_second(fixed_at + i64::from(ttl))
        .map(|t| t.strftime("%H:%M:%S UTC").to_string())
        .unwrap_or_default();
    let now: Vec<String> = answers
        .iter()
        .map(|a| match &a.seen {
            Seen::Expected => format!("{} fixed", a.resolver),
            Seen::Stale { ttl_left, .. } => format!("{} still old ({ttl_left} s left)", a.resolver),
            Seen::Negative { ttl_left, .. } => {
                format!("{} still negative ({ttl_left} s left)", a.resolver)
            }
            Seen::Failed { .. } => format!("{} did not answer", a.resolver),
        })
        .collect();
    Some(crate::escape::terminal(&format!(
        "resolvers may serve the old answer until {until} (TTL {ttl}); now: {}",
        now.join(", ")
    )))
}

/// Commits to expected-records in the window, by when they landed (the committer date), with
/// when they were written where that differs.
fn commits(out: &mut String, recent: &Recent, style: Style) {
    if recent.commits.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n{}",
        paint(style.colour, "1", "COMMITS TO expected-records")
    );
    for commit in &recent.commits {
        commit_lines(out, commit, recent.now);
    }
}

fn commit_lines(out: &mut String, commit: &CommitEntry, now: i64) {
    let status = match (commit.status, commit.live_since) {
        (CommitStatus::Live, Some(t)) => format!("live on all servers since {}", ago(now, t)),
        (CommitStatus::Live, None) => "live on all servers (since before the history began)".into(),
        (status, _) => status.as_str().to_string(),
    };
    let short = commit.hash.get(..8).unwrap_or(&commit.hash);
    let written = commit
        .authored
        .map(|t| format!(", written {}", ago(now, t)))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "  {:<10}  {short}  {}  ({}{written})  {status}",
        ago(now, commit.time),
        commit.subject,
        commit.author
    );
    for change in commit.changes.iter().take(SHOWN_CHANGES) {
        let _ = writeln!(out, "  {:<10}    {}", "", change.line());
    }
    if commit.changes.len() > SHOWN_CHANGES {
        let _ = writeln!(
            out,
            "  {:<10}    … {} more",
            "",
            commit.changes.len() - SHOWN_CHANGES
        );
    }
}

/// Live changes back to expected-records that no commit in the window explains (a recovery):
/// those a commit explains are told by its status.
fn back_to_expected(out: &mut String, recent: &Recent, style: Style) {
    let recovered: Vec<&LiveChange> = recent
        .explained
        .iter()
        .filter(|live| live.explained_by.as_deref() == Some("expected-records"))
        .collect();
    if recovered.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n{}",
        paint(style.colour, "1", "LIVE CHANGES BACK TO expected-records")
    );
    for live in recovered.iter().take(SHOWN) {
        let _ = writeln!(
            out,
            "  {:<10}  {}",
            ago(recent.now, live.first_seen),
            live_line(live, style.colour)
        );
        // A recovery is a fix: resolvers may still serve what it replaced.
        if let Some(caches) = caches_after(recent, live, live.last_seen.max(live.first_seen)) {
            let _ = writeln!(out, "  {:<10}  {caches}", "");
        }
    }
    more(out, recovered.len());
}

/// The fresh check's drift, as `check --quiet` tells it.
fn drift_section(out: &mut String, recent: &Recent, style: Style, none: bool) {
    let Some(report) = &recent.drift else {
        return;
    };
    let _ = writeln!(out, "\n{}", paint(style.colour, "1", "DRIFT NOW"));
    if none {
        let _ = writeln!(out, "  none: every server matches expected-records");
        return;
    }
    let quiet = Style {
        quiet: true,
        ..style
    };
    out.push_str(&super::human::render(report, quiet));
}

fn more(out: &mut String, total: usize) {
    if total > SHOWN {
        let _ = writeln!(out, "  {:<10}  … {} more", "", total - SHOWN);
    }
}

/// One live change: name, type, what happened to the values, where. A value that replaced
/// its near twin has the slip marked.
fn live_line(live: &LiveChange, colour: bool) -> String {
    let name = crate::diff::relative(&live.name, &live.zone);
    let marked = |value: &String| match crate::diff::resembled(
        value,
        live.before.iter().map(String::as_str),
    ) {
        Some(intended) => slip(intended, value, colour),
        None => value.clone(),
    };
    let added: Vec<&String> = live
        .values
        .iter()
        .filter(|v| !live.before.contains(v))
        .collect();
    let removed: Vec<&String> = live
        .before
        .iter()
        .filter(|v| !live.values.contains(v))
        .collect();
    let values = match (live.what, added.is_empty(), removed.is_empty()) {
        (LiveWhat::Disappeared, _, _) => format!("{} disappeared", live.before.join(", ")),
        (LiveWhat::Appeared, _, _) => format!("{} appeared", live.values.join(", ")),
        (_, false, true) => format!(
            "{} appeared (before: {})",
            join(added.into_iter().map(marked)),
            live.before.join(", ")
        ),
        (_, true, false) => format!(
            "{} disappeared (now: {})",
            join(removed.into_iter().cloned()),
            live.values.join(", ")
        ),
        _ => format!(
            "{} (was {})",
            join(live.values.iter().map(|v| if live.before.contains(v) {
                v.clone()
            } else {
                marked(v)
            })),
            live.before.join(", ")
        ),
    };
    format!(
        "{name} {} {values} on {}",
        live.rtype,
        live.servers.join(", ")
    )
}

fn join(values: impl Iterator<Item = String>) -> String {
    values.collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_that_replaced_a_near_twin_shows_the_slip() {
        let live = |what: LiveWhat, values: &[&str], before: &[&str]| LiveChange {
            first_seen: 0,
            zone: "bots.example.net.".into(),
            host: "bh17".into(),
            name: "bh17.bots.example.net.".into(),
            rtype: "A".into(),
            what,
            values: values.iter().map(|v| v.to_string()).collect(),
            before: before.iter().map(|v| v.to_string()).collect(),
            servers: vec!["ns1".into()],
            explained_by: None,
            notes: Vec::new(),
            reverted: None,
            last_run: 0,
            last_seen: 0,
        };
        assert_eq!(
            live_line(
                &live(LiveWhat::Changed, &["203.0.113.71"], &["203.0.113.17"]),
                false
            ),
            "bh17 A 203.0.113.[17→71] (was 203.0.113.17) on ns1"
        );
        assert_eq!(
            live_line(
                &live(
                    LiveWhat::Changed,
                    &["203.0.113.17", "203.0.113.18"],
                    &["203.0.113.17"]
                ),
                false
            ),
            "bh17 A 203.0.113.1[7→8] appeared (before: 203.0.113.17) on ns1"
        );
        assert_eq!(
            live_line(
                &live(LiveWhat::Changed, &["198.51.100.7"], &["203.0.113.17"]),
                false
            ),
            "bh17 A 198.51.100.7 (was 203.0.113.17) on ns1"
        );
    }
}
