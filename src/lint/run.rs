//! Loading what `lint` compares: the zone files as they stand (every parse error becomes a
//! finding) and, with a base revision, the same files read from git objects at the merge base.

use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::error::Error;
use crate::git::Repo;
use crate::model::Zone;
use crate::zonefile::{load_zone, load_zone_bytes, zone_name_for_file};

use super::{lint_zone, parse_findings, Level, LintFinding, LintReport, LintSettings};

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

/// Lints every zone file of the directory.
pub fn run(config: &LintConfig) -> Result<LintReport, Error> {
    let dir = &config.expected;
    let mut settings_file = Config::load(dir)?;
    settings_file.limits.record_lines = true;
    let repo_and_base = match &config.base {
        Some(rev) => {
            let repo = Repo::find(dir).map_err(|e| Error::Usage(e.to_string()))?;
            let base = repo
                .merge_base(rev)
                .map_err(|e| Error::Usage(e.to_string()))?;
            Some((repo, base))
        }
        None => None,
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|source| Error::Io {
            path: dir.clone(),
            source,
        })?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| zone_name_for_file(path).is_some())
        .collect();
    files.sort();
    let zones: Vec<_> = files.iter().filter_map(|p| zone_name_for_file(p)).collect();
    settings_file.check_zone_tables(&zones, dir)?;
    let settings = LintSettings {
        mass_change_share: settings_file.mass_change_share,
        allow_mass_change: config.allow_mass_change,
        waivers: settings_file.waivers.clone(),
    };
    let mut findings = Vec::new();
    for path in files {
        let Some(origin) = zone_name_for_file(&path) else {
            continue;
        };
        let shown = path.display().to_string();
        let includes = settings_file.zone(&origin).includes(dir);
        let loaded = match load_zone(dir, &includes, &path, &origin, settings_file.limits) {
            Ok(loaded) => loaded,
            Err(errors) => {
                findings.extend(parse_findings(&errors));
                continue;
            }
        };
        let base_zone = match &repo_and_base {
            Some((repo, rev)) => match base_version(repo, rev, &path, &origin, &settings_file) {
                Ok(zone) => zone,
                Err(why) => {
                    findings.push(LintFinding {
                        level: Level::Error,
                        check: "base",
                        file: shown.clone(),
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
                    None
                }
            },
            None => None,
        };
        findings.extend(unused_ignores(dir, &settings_file, &loaded.zone));
        let host_depth = settings_file.zone(&origin).host_depth;
        findings.extend(lint_zone(
            &loaded,
            &shown,
            base_zone.as_ref(),
            &settings,
            host_depth,
        ));
    }
    let base = repo_and_base.map(|(_, rev)| rev);
    Ok(LintReport::new(base, findings, &settings.waivers))
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
                check: "unused-ignore",
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

/// The zone as it was at `rev`, read from git objects: an empty zone when the file is new; None
/// when that version does not parse (only validity is checked then); an error when git refuses
/// it (a symlink in the tree) or fails.
fn base_version(
    repo: &Repo,
    rev: &str,
    path: &Path,
    origin: &hickory_proto::rr::Name,
    config: &Config,
) -> Result<Option<Zone>, String> {
    let Some(file) = path.file_name().map(PathBuf::from) else {
        return Ok(None);
    };
    match repo.read_at(rev, &file).map_err(|e| e.to_string())? {
        Some(bytes) => Ok(load_zone_bytes(&file, &bytes, origin, config.limits)
            .ok()
            .map(|loaded| loaded.zone)),
        None => Ok(Some(Zone::new(origin))),
    }
}
