//! `dns-audit recent`: what changed lately, in git and in live DNS, newest first, with every live
//! change that no commit explains on top.
//!
//! `gather` reads the history store and git; [`build`] is the pure part that joins them.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use hickory_proto::rr::RecordType;
use serde::Serialize;

use crate::diff::{diff_zones, relative, Op, RecordChange};
use crate::expected::Expected;
use crate::git::{Commit, Repo};
use crate::history::{Change, History};
use crate::model::{host_of, present_name, Zone};
use crate::report::Report;
use crate::zonefile::{load_zone_bytes, zone_name_for_file};

/// Why `recent` could not show what changed.
#[derive(Debug, thiserror::Error)]
pub enum RecentError {
    /// The expected-records directory or its config.
    #[error(transparent)]
    Input(#[from] crate::error::Error),
    /// The history store.
    #[error(transparent)]
    History(#[from] crate::history::HistoryError),
    /// git, once a repository was found.
    #[error(transparent)]
    Git(#[from] crate::git::GitError),
}

/// Schema tag of `recent --format json`.
pub const SCHEMA: &str = "dns-audit.recent/1";

/// What to look at.
#[derive(Clone, Debug)]
pub struct RecentQuery {
    /// Start of the window, seconds since 1970.
    pub since: i64,
    /// Now, seconds since 1970.
    pub now: i64,
    /// Only this host (label below the apex), if given.
    pub host: Option<String>,
}

/// An RRset that changed on one or more servers.
#[derive(Clone, Debug, Serialize)]
pub struct LiveChange {
    /// First seen, seconds since 1970.
    pub first_seen: i64,
    /// Zone apex.
    pub zone: String,
    /// Host.
    pub host: String,
    /// Owner name.
    pub name: String,
    /// Type.
    #[serde(rename = "type")]
    pub rtype: String,
    /// What happened to the RRset.
    pub what: LiveWhat,
    /// Values now.
    pub values: Vec<String>,
    /// Values before.
    pub before: Vec<String>,
    /// Servers it was seen on.
    pub servers: Vec<String>,
    /// The commit that explains it, if any.
    pub explained_by: Option<String>,
    /// Why it looks suspicious (e.g. "203.0.113.18 is bh18's address").
    pub notes: Vec<String>,
    /// When every server it was seen on went back to what it replaced (a revert), seconds
    /// since 1970; absent while it is still served. Additive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reverted: Option<i64>,
    /// The last run that saw a server make this same change (a flip made twice is one entry):
    /// runs order what one second does not.
    #[serde(skip)]
    pub last_run: i64,
    /// When that last run started.
    #[serde(skip)]
    pub last_seen: i64,
}

/// What happened to an RRset on its servers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LiveWhat {
    /// It was not served before.
    Appeared,
    /// Its values changed.
    Changed,
    /// It is no longer served.
    Disappeared,
}

/// Whether what a commit made expected is served.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum CommitStatus {
    /// On every server.
    #[serde(rename = "live")]
    Live,
    /// On some servers.
    #[serde(rename = "partly live")]
    PartlyLive,
    /// On none.
    #[serde(rename = "not yet live")]
    NotYetLive,
    /// No history tells.
    #[serde(rename = "unknown")]
    Unknown,
}

impl CommitStatus {
    /// As JSON and people read it.
    pub fn as_str(self) -> &'static str {
        match self {
            CommitStatus::Live => "live",
            CommitStatus::PartlyLive => "partly live",
            CommitStatus::NotYetLive => "not yet live",
            CommitStatus::Unknown => "unknown",
        }
    }
}

/// A commit to expected-records with its record-level changes.
#[derive(Clone, Debug, Serialize)]
pub struct CommitEntry {
    /// Full hash.
    pub hash: String,
    /// Author.
    pub author: String,
    /// Committer time (when it landed), seconds since 1970: what the window selects by.
    pub time: i64,
    /// Author time, where it differs from the committer time (a rebased or cherry-picked
    /// commit). Additive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authored: Option<i64>,
    /// Subject.
    pub subject: String,
    /// RRsets it changed.
    pub changes: Vec<RecordChange>,
    /// Whether it is served: on every server, some, none, or unknown (no history).
    pub status: CommitStatus,
    /// Since when it is live on every server.
    pub live_since: Option<i64>,
}

/// The whole answer of `recent`.
#[derive(Clone, Debug, Serialize)]
pub struct Recent {
    /// Schema tag.
    pub schema: &'static str,
    /// Window start.
    pub since: i64,
    /// Now.
    pub now: i64,
    /// When the last recorded run started.
    pub last_run: Option<i64>,
    /// Live changes no commit explains, newest first.
    pub unexplained: Vec<LiveChange>,
    /// Live changes a commit explains, newest first.
    pub explained: Vec<LiveChange>,
    /// Commits in the window, newest first.
    pub commits: Vec<CommitEntry>,
    /// The last commit to expected-records (even before the window).
    pub last_commit: Option<(String, String, i64)>,
    /// A fresh check, unless offline.
    pub drift: Option<Report>,
    /// The history store read.
    pub store: Option<Store>,
}

/// The history store `recent` read: live changes are only as good as what it holds.
#[derive(Clone, Debug, Serialize)]
pub struct Store {
    /// Where it is.
    pub path: String,
    /// Whether there is one there.
    pub exists: bool,
    /// Runs it holds.
    pub runs: u64,
    /// When the first of them started.
    pub first_run: Option<i64>,
}

impl Store {
    /// One line for people: which store, how much it holds, and what that means.
    pub(crate) fn describe(&self, now: i64) -> String {
        let path = crate::escape::terminal(&self.path);
        if !self.exists {
            return format!(
                "history: no store at {path}: live changes cannot be shown (point --state, DNS_AUDIT_STATE or `state` in dns-audit.toml at the store cron's checks write)"
            );
        }
        let first = self.first_run.map_or_else(String::new, |t| {
            let when = jiff::Timestamp::from_second(t)
                .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_default();
            format!(" since {when} ({})", ago(now, t))
        });
        match self.runs {
            0 | 1 => format!(
                "history: {path} holds {} run{first}: live changes cannot be shown yet (a change needs an earlier run to differ from); is this the store cron writes?",
                self.runs
            ),
            runs => format!("history: {path}, {runs} runs{first}"),
        }
    }
}

/// Reads history and git and joins them. Errors of git (no repository) leave commits empty.
pub(crate) fn gather(
    expected: &Expected,
    history: Option<&History>,
    repo: Option<&Repo>,
    query: &RecentQuery,
) -> Result<Recent, RecentError> {
    let changes = match history {
        Some(history) => history.changes_since(query.since)?,
        None => Vec::new(),
    };
    let last_run = match history {
        Some(history) => history.last_run()?,
        None => None,
    };
    let mut commits = Vec::new();
    let mut last_commit = None;
    if let Some(repo) = repo {
        for commit in repo.commits_since(query.since)? {
            let changes = commit_changes(expected, repo, &commit)?;
            commits.push((commit, changes));
        }
        last_commit = repo.last_commit()?.map(|c| (c.hash, c.subject, c.time));
    }
    let mut recent = build(expected, &changes, commits, query);
    recent.last_run = last_run;
    recent.last_commit = last_commit;
    if let Some(history) = history {
        let mut servers = BTreeMap::new();
        for entry in &mut recent.commits {
            live_status(history, &mut servers, entry)?;
        }
    }
    Ok(recent)
}

/// The record-level changes of one commit, zone file by zone file (read from git objects).
fn commit_changes(
    expected: &Expected,
    repo: &Repo,
    commit: &Commit,
) -> Result<Vec<RecordChange>, crate::git::GitError> {
    let mut out = Vec::new();
    let parent = format!("{}^", commit.hash);
    for file in repo.changed_zone_files(&commit.hash)? {
        let Some(origin) = zone_name_for_file(&file) else {
            continue;
        };
        let load = |rev: &str| -> Option<Zone> {
            let bytes = repo.read_at(rev, &file).ok().flatten()?;
            load_zone_bytes(&file, &bytes, &origin, expected.config.limits)
                .ok()
                .map(|z| z.zone)
        };
        let empty = Zone::new(&origin);
        let old = load(&parent).unwrap_or_else(|| empty.clone());
        let new = load(&commit.hash).unwrap_or(empty);
        let depth = expected.config.zone(&origin).host_depth;
        out.extend(diff_zones(&old, &new, depth));
    }
    Ok(out)
}

/// Whether every server now serves what the commit made expected, and since when. A state a
/// server's first recorded run saw (its baseline) had been there for an unknown time.
fn live_status(
    history: &History,
    servers_of: &mut BTreeMap<String, Vec<String>>,
    entry: &mut CommitEntry,
) -> Result<(), crate::history::HistoryError> {
    let mut live = 0;
    let mut total = 0;
    let mut since: Option<i64> = None;
    let mut since_unknown = false;
    // SOA serials are not recorded as changes (they move with every deploy).
    for change in entry.changes.iter().filter(|c| c.rtype != "SOA") {
        if !servers_of.contains_key(&change.zone) {
            servers_of.insert(change.zone.clone(), history.servers(&change.zone)?);
        }
        let servers = &servers_of[&change.zone];
        if servers.is_empty() {
            continue;
        }
        let states = history.latest(&change.zone, &change.name, &change.rtype)?;
        for server in servers {
            total += 1;
            let state = states.iter().find(|state| state.server == *server);
            let matches = match state {
                Some(state) => {
                    let ok = if change.op == Op::Removed {
                        !state.present
                    } else {
                        state.present && state.values == change.after
                    };
                    if ok {
                        since = Some(since.map_or(state.since, |s: i64| s.max(state.since)));
                        since_unknown |= state.baseline;
                    }
                    ok
                }
                // Never served there: live only if the change removed it.
                None => change.op == Op::Removed,
            };
            if matches {
                live += 1;
            }
        }
    }
    entry.status = match (live, total) {
        (_, 0) => CommitStatus::Unknown,
        (l, t) if l == t => CommitStatus::Live,
        (0, _) => CommitStatus::NotYetLive,
        _ => CommitStatus::PartlyLive,
    };
    // A state first seen by a server's first run was there before its history began: since
    // when is not known (a fresh store would otherwise call every commit "live since 0 s ago").
    // Told by the baseline mark, not by comparing times: two runs in one second are apart.
    entry.live_since = match since {
        Some(t) if live == total && total > 0 && !since_unknown => Some(t),
        _ => None,
    };
    Ok(())
}

/// Marks each change that every server it was seen on later undid with when; returns the
/// indexes of those undoing changes. A change is undone when a later one puts the RRset back to
/// what it was before it, directly (one step: `+.145`, then `-.145`) or across a chain of
/// changes that followed each other (`+.145`, `-.144`, then the redeploy back to `.144`): each
/// change of the chain is then reverted at the redeploy. Changes come newest first, so the
/// newest change claims its undoing first.
fn pair_reverts(changes: &mut [LiveChange]) -> BTreeSet<usize> {
    // Only changes of the same RRset can undo each other: looked for within its group.
    let mut groups: HashMap<(&str, &str, &str), Vec<usize>> = HashMap::new();
    for (at, live) in changes.iter().enumerate() {
        let key = (live.zone.as_str(), live.name.as_str(), live.rtype.as_str());
        groups.entry(key).or_default().push(at);
    }
    let groups: Vec<Vec<usize>> = groups.into_values().filter(|g| g.len() > 1).collect();
    let mut reverts = BTreeSet::new();
    for group in &groups {
        for &at in group {
            if changes[at].explained_by.is_some() || changes[at].reverted.is_some() {
                continue;
            }
            let undone = &changes[at];
            let undoing = group.iter().find_map(|&other| {
                let later = &changes[other];
                let candidate = other != at
                    && !reverts.contains(&other)
                    // A change undone itself is a live change of its own, not the undoing
                    // of an older one (drift, fix, drift again, fix again).
                    && later.reverted.is_none()
                    && later.last_run > undone.last_run
                    && later.before == undone.values;
                if !candidate {
                    return None;
                }
                let chain = chain_back_to(changes, group, at, &reverts, &later.values)?;
                let servers_covered = chain
                    .iter()
                    .all(|&c| changes[c].servers.iter().all(|s| later.servers.contains(s)));
                servers_covered.then_some((other, later.last_seen, chain))
            });
            if let Some((other, when, chain)) = undoing {
                for undone in chain {
                    changes[undone].reverted = Some(when);
                }
                reverts.insert(other);
            }
        }
    }
    reverts
}

/// The changes that led, one after the other, from `state` to what change `last` left (its
/// own index first): each one's `before` is the previous one's values, none explained by a
/// commit, none an undoing already counted. None when the chain does not reach `state`.
/// Bounded by the group: a change is taken at most once.
fn chain_back_to(
    changes: &[LiveChange],
    group: &[usize],
    last: usize,
    reverts: &BTreeSet<usize>,
    state: &[String],
) -> Option<Vec<usize>> {
    let mut chain = vec![last];
    let mut current = last;
    while changes[current].before != state {
        let step = &changes[current];
        let previous = group.iter().copied().find(|&p| {
            let earlier = &changes[p];
            !chain.contains(&p)
                && !reverts.contains(&p)
                && earlier.explained_by.is_none()
                && earlier.reverted.is_none()
                && earlier.last_run < step.last_run
                && earlier.values == step.before
        })?;
        chain.push(previous);
        current = previous;
    }
    Some(chain)
}

impl Recent {
    /// 1 while a live change no commit explains is still served, or drift is found now; else
    /// the fresh check's code (0 without one).
    pub fn exit_code(&self) -> i32 {
        let unexplained_served = self.unexplained.iter().any(|l| l.reverted.is_none());
        let drift = self
            .drift
            .as_ref()
            .map_or(crate::exit::CLEAN, |r| r.exit_code);
        if unexplained_served {
            crate::exit::DRIFT
        } else {
            drift
        }
    }
}

/// Joins live changes with commits. Pure.
pub fn build(
    expected: &Expected,
    changes: &[Change],
    commits: Vec<(Commit, Vec<RecordChange>)>,
    query: &RecentQuery,
) -> Recent {
    let mut live_changes = group_live_changes(expected, changes, query);
    for live in &mut live_changes {
        live.explained_by = explanation(expected, &commits, live);
    }
    let reverts = pair_reverts(&mut live_changes);
    let mut explained = Vec::new();
    let mut unexplained = Vec::new();
    let mut owners = ValueOwners::new();
    for (index, mut live) in live_changes.into_iter().enumerate() {
        // A revert is told on the change it undid, never as a change of its own (nor folded
        // into a commit that happens to hold the same values).
        if reverts.contains(&index) {
            continue;
        }
        if live.explained_by.is_some() {
            explained.push(live);
        } else {
            live.notes = suspicions(expected, &mut owners, &live);
            unexplained.push(live);
        }
    }
    let newest = |a: &LiveChange, b: &LiveChange| b.first_seen.cmp(&a.first_seen);
    explained.sort_by(newest);
    unexplained.sort_by(newest);
    Recent {
        schema: SCHEMA,
        since: query.since,
        now: query.now,
        last_run: None,
        unexplained,
        explained,
        commits: commit_entries(commits, query),
        last_commit: None,
        drift: None,
        store: None,
    }
}

/// The per-server rows of one change of one RRset (the same state before and after) as one
/// live change, with every server it was seen on.
fn group_live_changes(
    expected: &Expected,
    changes: &[Change],
    query: &RecentQuery,
) -> Vec<LiveChange> {
    type Key = (String, String, String, bool, Vec<String>, Vec<String>);
    let mut groups: BTreeMap<Key, LiveChange> = BTreeMap::new();
    for change in changes {
        if zone_of(expected, &change.zone).is_none() {
            continue;
        }
        let key = (
            change.zone.clone(),
            change.name.clone(),
            change.rtype.clone(),
            change.present,
            change.values.clone(),
            change.before.clone(),
        );
        let entry = groups.entry(key).or_insert_with(|| LiveChange {
            first_seen: change.at,
            zone: change.zone.clone(),
            host: host_for(expected, &change.zone, &change.name),
            name: change.name.clone(),
            rtype: change.rtype.clone(),
            what: if !change.present {
                LiveWhat::Disappeared
            } else if change.before.is_empty() {
                LiveWhat::Appeared
            } else {
                LiveWhat::Changed
            },
            values: change.values.clone(),
            before: change.before.clone(),
            servers: Vec::new(),
            explained_by: None,
            notes: Vec::new(),
            reverted: None,
            last_run: change.run,
            last_seen: change.at,
        });
        entry.first_seen = entry.first_seen.min(change.at);
        if change.run >= entry.last_run {
            entry.last_run = change.run;
            entry.last_seen = change.at;
        }
        if !entry.servers.contains(&change.server) {
            entry.servers.push(change.server.clone());
        }
    }
    groups
        .into_values()
        .filter(|live| query.host.as_ref().is_none_or(|h| *h == live.host))
        .map(|mut live| {
            live.servers.sort();
            live
        })
        .collect()
}

/// What explains a live change: a commit in the window that made those values expected, or
/// expected-records as it is now (a deploy of an older commit, a recovery).
fn explanation(
    expected: &Expected,
    commits: &[(Commit, Vec<RecordChange>)],
    live: &LiveChange,
) -> Option<String> {
    commits
        .iter()
        .find(|(_, changes)| {
            changes.iter().any(|c| {
                c.zone == live.zone
                    && c.name == live.name
                    && c.rtype == live.rtype
                    && c.after == live.values
            })
        })
        .map(|(commit, _)| commit.hash.clone())
        .or_else(|| matches_expected(expected, live).then(|| "expected-records".to_string()))
}

/// The commits of the window, narrowed to `--host`.
fn commit_entries(
    commits: Vec<(Commit, Vec<RecordChange>)>,
    query: &RecentQuery,
) -> Vec<CommitEntry> {
    commits
        .into_iter()
        .map(|(commit, changes)| CommitEntry {
            hash: commit.hash,
            author: commit.author,
            time: commit.time,
            authored: (commit.authored != commit.time).then_some(commit.authored),
            subject: commit.subject,
            changes: changes
                .into_iter()
                .filter(|c| query.host.as_ref().is_none_or(|h| *h == c.host))
                .collect(),
            status: CommitStatus::Unknown,
            live_since: None,
        })
        .filter(|c| query.host.is_none() || !c.changes.is_empty())
        .collect()
}

fn zone_of<'e>(expected: &'e Expected, zone: &str) -> Option<&'e Zone> {
    expected
        .zones
        .iter()
        .map(|z| &z.zone)
        .find(|z| present_name(&z.origin) == zone)
}

fn host_for(expected: &Expected, zone: &str, name: &str) -> String {
    let Some(z) = zone_of(expected, zone) else {
        return relative(name, zone);
    };
    match hickory_proto::rr::Name::from_ascii(name) {
        Ok(n) => host_of(&z.origin, &n, expected.config.zone(&z.origin).host_depth),
        Err(_) => relative(name, zone),
    }
}

/// Whether the live state is what expected-records holds now (a deploy, a revert, a recovery).
fn matches_expected(expected: &Expected, live: &LiveChange) -> bool {
    let Some(zone) = zone_of(expected, &live.zone) else {
        return false;
    };
    let Ok(rtype) = live.rtype.parse::<RecordType>() else {
        return false;
    };
    let set = hickory_proto::rr::Name::from_ascii(&live.name)
        .ok()
        .and_then(|n| zone.rrset(&n, rtype));
    match set {
        Some(set) => live.what != LiveWhat::Disappeared && set.shown(rtype) == live.values,
        None => live.what == LiveWhat::Disappeared,
    }
}

/// Which names of a zone hold each value of one type: (zone, type) -> value -> owner names.
type ValueOwners = HashMap<(String, RecordType), HashMap<String, Vec<String>>>;

/// Why an unexplained change looks like a mistake: a value that belongs to another host.
fn suspicions(expected: &Expected, owners: &mut ValueOwners, live: &LiveChange) -> Vec<String> {
    let Some(zone) = zone_of(expected, &live.zone) else {
        return Vec::new();
    };
    let Ok(rtype) = live.rtype.parse::<RecordType>() else {
        return Vec::new();
    };
    let by_value = owners.entry((live.zone.clone(), rtype)).or_insert_with(|| {
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for (name, sets) in zone.iter() {
            for value in sets
                .get(&rtype)
                .map(|set| set.shown(rtype))
                .unwrap_or_default()
            {
                map.entry(value).or_default().push(present_name(name));
            }
        }
        map
    });
    let what = if matches!(rtype, RecordType::A | RecordType::AAAA) {
        "address"
    } else {
        "value"
    };
    live.values
        .iter()
        .filter(|v| !live.before.contains(v))
        .filter_map(|value| {
            let owner = by_value
                .get(value)?
                .iter()
                .find(|owner| **owner != live.name)?;
            Some(format!(
                "{value} is {}'s {what}",
                relative(owner, &live.zone)
            ))
        })
        .collect()
}

/// "4 min ago", "2 h ago", "3 d ago".
pub fn ago(now: i64, then: i64) -> String {
    format!("{} ago", crate::report::age(now - then))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A live change of bh44 A from `before` to `values`, last seen by run `run`.
    fn bh44(run: i64, before: &[&str], values: &[&str]) -> LiveChange {
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        LiveChange {
            first_seen: run * 60,
            zone: "bots.example.net.".into(),
            host: "bh44".into(),
            name: "bh44.bots.example.net.".into(),
            rtype: "A".into(),
            what: LiveWhat::Changed,
            values: strings(values),
            before: strings(before),
            servers: vec!["ns1".into(), "ns2".into()],
            explained_by: None,
            notes: Vec::new(),
            reverted: None,
            last_run: run,
            last_seen: run * 60,
        }
    }

    #[test]
    fn a_fix_after_two_steps_reverts_both() {
        // Newest first: the redeploy, the deleted .144, the added .145.
        let mut changes = vec![
            bh44(4, &[".145"], &[".144"]),
            bh44(3, &[".144", ".145"], &[".145"]),
            bh44(2, &[".144"], &[".144", ".145"]),
        ];
        let reverts = pair_reverts(&mut changes);
        assert_eq!(reverts, BTreeSet::from([0]), "the redeploy is the undoing");
        assert_eq!(changes[1].reverted, Some(240));
        assert_eq!(changes[2].reverted, Some(240));
    }

    #[test]
    fn a_chain_that_does_not_return_is_still_served() {
        // Added .145, then .144 deleted: bh44 serves .145 alone, nothing undone.
        let mut changes = vec![
            bh44(3, &[".144", ".145"], &[".145"]),
            bh44(2, &[".144"], &[".144", ".145"]),
        ];
        assert!(pair_reverts(&mut changes).is_empty());
        assert!(changes.iter().all(|c| c.reverted.is_none()));
        // And back to .144 only on ns1: not undone on ns2, so not reverted.
        let mut partial = bh44(4, &[".145"], &[".144"]);
        partial.servers = vec!["ns1".into()];
        changes.insert(0, partial);
        assert!(pair_reverts(&mut changes).is_empty());
    }

    #[test]
    fn ages_read_at_a_glance() {
        assert_eq!(ago(1000, 1000 - 240), "4 min ago");
        assert_eq!(ago(100_000, 100_000 - 7200), "2 h ago");
        assert_eq!(ago(1_000_000, 1_000_000 - 3 * 86_400), "3 d ago");
        assert_eq!(ago(10, 20), "0 s ago");
    }
}
