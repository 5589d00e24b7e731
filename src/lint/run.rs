//! Loading what `lint` compares: the zone files as they stand (every parse error becomes a
//! finding) and, with a base revision, the same files read from git objects at the merge base.

use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::error::Error;
use crate::git::Repo;
use crate::model::Zone;
use crate::zonefile::{load_zone, load_zone_bytes, zone_name_for_file};

use super::conventions::{Conventions, SerialEvidence, HISTORY_DEPTH};
use super::Check;
use super::{
    lint_zone_in, parse_findings, Level, LintFinding, LintReport, LintSettings, Neighbours,
};

/// What to lint.
#[derive(Clone, Debug)]
pub struct LintConfig {
    /// The expected-records directory.
    pub expected: PathBuf,
    /// Compare against the merge base of this revision and HEAD.
    pub base: Option<String>,
    /// Allow a mass change.
    pub allow_mass_change: bool,
}

/// A zone file read for lint: the proposed version and the history up to the base.
struct Proposed {
    path: PathBuf,
    origin: hickory_proto::rr::Name,
    loaded: crate::zonefile::LoadedZone,
    /// Earlier versions, oldest first, the base last (empty without a base).
    history: Vec<Zone>,
    serials: SerialEvidence,
    /// What went wrong reading the history (the file is then judged on its own).
    findings: Vec<LintFinding>,
}

/// Lints every zone file of the directory: reads them all (and their histories), learns the
/// conventions (a file with a short history borrows the directory's), then judges each.
pub fn run(config: &LintConfig) -> Result<LintReport, Error> {
    let dir = &config.expected;
    crate::expected::check_dir(dir)?;
    let mut settings_file = Config::load(dir)?;
    unknown_waivers(dir, &settings_file)?;
    settings_file.limits.record_lines = true;
    let repo_and_base = match &config.base {
        Some(rev) => {
            let repo = Repo::find(dir)?;
            let base = repo.merge_base(rev)?;
            Some((repo, base))
        }
        None => None,
    };
    let files = zone_files(dir)?;
    let zones: Vec<_> = files.iter().filter_map(|p| zone_name_for_file(p)).collect();
    settings_file.check_zone_tables(&zones, dir)?;
    let settings = LintSettings {
        mass_change_share: settings_file.mass_change_share,
        allow_mass_change: config.allow_mass_change,
        waivers: settings_file.waivers.clone(),
    };
    let mut findings = unread_files(dir);
    let mut proposed = Vec::new();
    for path in files {
        match read(dir, &path, &settings_file, repo_and_base.as_ref()) {
            Ok(zone) => proposed.push(zone),
            Err(found) => findings.extend(found),
        }
    }
    for zone in &mut proposed {
        findings.append(&mut zone.findings);
    }
    let conventions = judge(dir, &proposed, (&settings_file, &settings), &mut findings);
    let base = repo_and_base.as_ref().map(|(_, rev)| rev.clone());
    let mut report = LintReport::new(base, findings, &settings.waivers);
    report.conventions = conventions;
    report.root = match &repo_and_base {
        Some((repo, _)) => Some(repo.root().to_path_buf()),
        None => Repo::find(dir).ok().map(|repo| repo.root().to_path_buf()),
    };
    let cwd = std::env::current_dir().ok();
    shown_relative(&mut report.findings, report.root.as_deref(), cwd.as_deref());
    Ok(report)
}

/// Every finding's file as CI and people need it, whatever form `--expected` was given in:
/// relative to the repository's top level (GitHub attaches an annotation to a pull request's
/// file only by that path; SARIF's URIs are relative to it), else to the current directory.
/// A file outside the repository is named by its absolute path; one that cannot be found (a
/// zone only the base has) as given.
fn shown_relative(findings: &mut [LintFinding], root: Option<&Path>, cwd: Option<&Path>) {
    let cwd = cwd.and_then(|c| c.canonicalize().ok());
    let mut shown: std::collections::HashMap<String, String> = Default::default();
    for finding in findings {
        if finding.file.is_empty() {
            continue;
        }
        let file = std::mem::take(&mut finding.file);
        finding.file = shown
            .entry(file)
            .or_insert_with_key(|file| relative_to(file, root, cwd.as_deref()))
            .clone();
    }
}

/// `file` relative to `root` (a repository), else to `cwd`, with `/` between its parts.
fn relative_to(file: &str, root: Option<&Path>, cwd: Option<&Path>) -> String {
    let Ok(absolute) = Path::new(file).canonicalize() else {
        return file.to_string();
    };
    let Some(base) = root.or(cwd) else {
        return file.to_string();
    };
    match absolute.strip_prefix(base) {
        Ok(inside) => inside
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/"),
        Err(_) if root.is_some() => absolute.display().to_string(),
        Err(_) => file.to_string(),
    }
}

/// Judges each proposed zone beside the others (its neighbours' names and addresses), with
/// the conventions learned from its history; returns what was learned of each.
fn judge(
    dir: &Path,
    proposed: &[Proposed],
    (settings_file, settings): (&Config, &LintSettings),
    findings: &mut Vec<LintFinding>,
) -> Vec<Conventions> {
    let all: Vec<SerialEvidence> = proposed.iter().map(|p| p.serials).collect();
    let current: Vec<&Zone> = proposed.iter().map(|p| &p.loaded.zone).collect();
    let bases: Vec<&Zone> = proposed.iter().filter_map(|p| p.history.last()).collect();
    let neighbours = Neighbours {
        current: &current,
        base: &bases,
    };
    let mut conventions = Vec::new();
    for zone in proposed {
        findings.extend(unused_ignores(dir, settings_file, &zone.loaded.zone));
        let zone_settings = settings_file.zone(&zone.origin);
        let host_depth = zone_settings.host_depth;
        let base = zone.history.last();
        let learned = Conventions::learn(
            &zone.loaded.zone,
            base,
            (zone_settings.serials, zone.serials.or_pooled(&all)),
            zone_settings.naming,
            host_depth,
        );
        let shown = zone.path.display().to_string();
        findings.extend(lint_zone_in(
            &zone.loaded,
            &shown,
            base,
            settings,
            (&learned, &neighbours),
            host_depth,
        ));
        conventions.push(learned);
    }
    conventions
}

/// The zone files of the directory, sorted.
fn zone_files(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| zone_name_for_file(path).is_some())
        .collect();
    files.sort();
    Ok(files)
}

/// A `[[waive]]` whose check is no lint check waives nothing, silently: in a tool built to
/// catch typos, an error at its place, with the check it may have meant.
pub(crate) fn unknown_waivers(dir: &Path, config: &Config) -> Result<(), Error> {
    let known = || super::Check::ALL.iter().map(|check| check.id());
    let Some(waiver) = config
        .waivers
        .iter()
        .find(|w| !known().any(|id| id == w.check))
    else {
        return Ok(());
    };
    let meant = known()
        .min_by_key(|id| crate::typo::distance(id, &waiver.check))
        .filter(|id| crate::typo::distance(id, &waiver.check) <= 3)
        .map_or_else(String::new, |id| format!("; did you mean {id}?"));
    Err(Error::Config {
        path: dir.join(crate::config::CONFIG_FILE),
        line: waiver.at.0,
        column: waiver.at.1,
        message: format!(
            "[[waive]] check {}: no lint check has that name, so it waives nothing{meant} (`dns-audit lint --explain` lists them)",
            crate::escape::terminal(&format!("{:?}", waiver.check))
        ),
    })
}

/// A parse error for each `*.zone` file whose name is no zone name: CI never passes a file
/// it did not read.
fn unread_files(dir: &Path) -> Vec<LintFinding> {
    let errors: Vec<_> = crate::expected::unread_zone_files(dir)
        .into_iter()
        .map(|(file, message)| crate::zonefile::ZoneError {
            file,
            line: 0,
            column: 0,
            message,
        })
        .collect();
    parse_findings(&errors)
}

/// One zone file as proposed, with its history at the base; its parse errors as findings when
/// it does not load. A base git cannot give is a finding of the file, then judged on its own.
fn read(
    dir: &Path,
    path: &Path,
    config: &Config,
    repo_and_base: Option<&(Repo, String)>,
) -> Result<Proposed, Vec<LintFinding>> {
    let origin = zone_name_for_file(path).ok_or_else(Vec::new)?;
    let zone_settings = config.zone(&origin);
    let includes = zone_settings.includes(dir);
    let loaded = load_zone(dir, &includes, path, &origin, config.limits)
        .map_err(|errors| parse_findings(&errors))?;
    // Out-of-zone data BIND ignores with a warning: a warning here too, at its line.
    let mut findings: Vec<LintFinding> = parse_findings(&loaded.ignored)
        .into_iter()
        .map(|finding| LintFinding {
            level: Level::Warning,
            check: Check::OutOfZone,
            ..finding
        })
        .collect();
    let history = match repo_and_base {
        Some((repo, rev)) => base_history(repo, rev, path, &origin, config).unwrap_or_else(|why| {
            findings.push(LintFinding {
                level: Level::Error,
                check: Check::Base,
                file: path.display().to_string(),
                line: 0,
                column: 0,
                zone: crate::model::present_name(&origin),
                name: String::new(),
                rtype: String::new(),
                message: format!("the base version cannot be compared: {why}"),
                resembles: None,
                slip: None,
                waived: None,
            });
            Vec::new()
        }),
        None => Vec::new(),
    };
    let serials = SerialEvidence::of(&history, zone_settings.host_depth);
    Ok(Proposed {
        path: path.to_path_buf(),
        origin,
        loaded,
        history,
        serials,
        findings,
    })
}

/// unused-ignore: an `ignore_names` entry that matches no name of the zone file, with the name
/// it may have meant. An entry that hides only names a transfer shows (ACME challenges come
/// and go) is meant: a waiver says so, and quiets `check` too.
pub(crate) fn unused_ignores(dir: &Path, config: &Config, zone: &Zone) -> Vec<LintFinding> {
    let unused = config.zone(&zone.origin).unused_ignores(zone);
    if unused.is_empty() {
        // The usual case: nothing to place, so neither the file nor the names are read.
        return Vec::new();
    }
    let file = dir.join(crate::config::CONFIG_FILE);
    let text = std::fs::read_to_string(&file).unwrap_or_default();
    let shown_zone = crate::model::present_name(&zone.origin);
    let names: Vec<String> = zone
        .iter()
        .map(|(name, _)| crate::diff::relative(&crate::model::present_name(name), &shown_zone))
        .collect();
    unused
        .into_iter()
        .map(|pattern| {
            // At the entry itself, inside its quotes.
            let (line, column) = match crate::config::find_line(&text, &format!("\"{pattern}\"")) {
                (0, _) => (0, 0),
                (line, column) => (line, column + 1),
            };
            let meant = names
                .iter()
                .map(|n| (crate::typo::distance(n, pattern), n))
                .filter(|(d, _)| *d <= 2)
                .min_by_key(|(d, _)| *d)
                .map(|(_, n)| format!(" (did you mean {n}?)"))
                .unwrap_or_default();
            let name = if pattern.ends_with('.') || shown_zone == "." {
                pattern.to_string()
            } else if pattern == "@" {
                shown_zone.clone()
            } else {
                format!("{pattern}.{shown_zone}")
            };
            LintFinding {
                level: Level::Warning,
                check: Check::UnusedIgnore,
                file: file.display().to_string(),
                line,
                column,
                zone: shown_zone.clone(),
                name: name.to_ascii_lowercase(),
                rtype: String::new(),
                message: format!(
                    "ignore_names entry \"{pattern}\" matches no name in the zone file{meant}: it can only hide names a transfer shows beyond it"
                ),
                resembles: None,
                slip: None,
                waived: None,
            }
        })
        .collect()
}

/// The zone's versions up to `rev`, read from git objects, oldest first: the last is the base
/// (an empty zone when the file is new there). Versions that do not parse are left out; when
/// the base itself does not parse, nothing is returned (only validity is checked then). An
/// error when git refuses the file (a symlink in the tree) or fails.
fn base_history(
    repo: &Repo,
    rev: &str,
    path: &Path,
    origin: &hickory_proto::rr::Name,
    config: &Config,
) -> Result<Vec<Zone>, String> {
    let Some(file) = path.file_name().map(PathBuf::from) else {
        return Ok(Vec::new());
    };
    let load = |bytes: &[u8]| {
        load_zone_bytes(&file, bytes, origin, config.limits)
            .ok()
            .map(|loaded| loaded.zone)
    };
    let Some(bytes) = repo.read_at(rev, &file).map_err(|e| e.to_string())? else {
        return Ok(vec![Zone::new(origin)]);
    };
    let Some(base) = load(&bytes) else {
        return Ok(Vec::new());
    };
    // The history only teaches conventions: a version git cannot give is left out.
    let mut earlier = repo
        .history_of(rev, &file, HISTORY_DEPTH)
        .unwrap_or_default();
    // The newest version in the log is the base itself.
    if earlier.last() == Some(&bytes) {
        earlier.pop();
    }
    let mut versions: Vec<Zone> = earlier.iter().filter_map(|bytes| load(bytes)).collect();
    versions.push(base);
    Ok(versions)
}
