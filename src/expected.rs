//! The versioned truth, loaded: `dns-audit.toml` and every zone file of expected-records,
//! and what git says of the directory.

use std::path::{Path, PathBuf};

use hickory_proto::rr::Name;

use crate::config::Config;
use crate::error::Error;
use crate::model::present_name;
use crate::zonefile::{load_zone, zone_name_for_file, LoadedZone, ZoneError};

/// The directory's usual name.
pub const DIR_NAME: &str = "expected-records";

/// Finds expected-records as git finds its repository: `start` itself when it holds a
/// `dns-audit.toml`, else `expected-records/` in it or in a parent, up to the repository root
/// (the first directory holding `.git`) or the file system root. The error says where it
/// looked and what to pass.
pub fn discover(start: &Path) -> Result<PathBuf, NotFound> {
    if start.join(crate::config::CONFIG_FILE).is_file() {
        return Ok(start.to_path_buf());
    }
    let mut looked = Vec::new();
    for dir in start.ancestors() {
        let candidate = dir.join(DIR_NAME);
        if candidate.is_dir() {
            return Ok(candidate);
        }
        looked.push(candidate);
        if dir.join(".git").exists() {
            break;
        }
    }
    Err(NotFound {
        start: start.to_path_buf(),
        looked,
    })
}

/// No expected-records directory was given and [`discover`] found none.
#[derive(Debug, thiserror::Error)]
#[error("{}", self.message())]
pub struct NotFound {
    /// Where the search started (the current directory).
    pub start: PathBuf,
    /// Every directory looked for, nearest first.
    pub looked: Vec<PathBuf>,
}

impl NotFound {
    fn message(&self) -> String {
        let looked: Vec<String> = self
            .looked
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        crate::escape::terminal(&format!(
            "no expected-records directory: looked for {} (and {} in {}); pass --expected DIR or set DNS_AUDIT_EXPECTED",
            looked.join(", "),
            crate::config::CONFIG_FILE,
            self.start.display()
        ))
    }
}

/// The versioned truth: config and zones.
#[derive(Clone, Debug)]
pub struct Expected {
    /// The directory they came from.
    pub dir: PathBuf,
    /// Its `dns-audit.toml`.
    pub config: Config,
    /// Its zones, in name order.
    pub zones: Vec<LoadedZone>,
    /// When set, only these addresses (and `--nameserver` ones) may be asked: the servers the
    /// base branch's config names, so a pull request cannot point CI's traffic elsewhere.
    pub allowed_servers: Option<std::collections::BTreeSet<std::net::SocketAddr>>,
    /// `*.zone` files that name no zone, each with why: not audited, and said on every run.
    pub unread: Vec<String>,
}

/// Loads `dir`: the config and every `<zone>.zone` (only those in `only`, when given). Errors of
/// all files are collected and returned together.
pub(crate) fn load_expected(dir: &Path, only: &[Name]) -> Result<Expected, Error> {
    check_dir(dir)?;
    let config = Config::load(dir)?;
    let files = zone_files(dir, only, &config)?;
    let mut zones = Vec::new();
    let mut errors: Vec<ZoneError> = Vec::new();
    for (origin, path) in files {
        let includes = config.zone(&origin).includes(dir);
        match load_zone(dir, &includes, &path, &origin, config.limits) {
            Ok(zone) => zones.push(zone),
            Err(mut errs) => errors.append(&mut errs),
        }
    }
    if !errors.is_empty() {
        return Err(Error::Zone(errors));
    }
    Ok(Expected {
        dir: dir.to_path_buf(),
        config,
        zones,
        allowed_servers: None,
        unread: unread_zone_files(dir)
            .into_iter()
            .map(|(_, why)| why)
            .collect(),
    })
}

/// Fails unless `dir` is a directory, saying which path and what was expected there (the
/// system's "No such file or directory" alone names neither).
pub(crate) fn check_dir(dir: &Path) -> Result<(), Error> {
    let why = match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => return Ok(()),
        Ok(_) => "not a directory".to_string(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => "no such directory".to_string(),
        Err(e) => e.to_string(),
    };
    Err(Error::Usage(format!(
        "{}: {why}: --expected (or DNS_AUDIT_EXPECTED) names the expected-records directory, which holds the <zone>.zone files and dns-audit.toml",
        crate::escape::terminal(&dir.display().to_string())
    )))
}

/// Each `*.zone` file of `dir` that names no zone, with why it is not read, in name order:
/// check says them on every run, lint makes each an error.
pub(crate) fn unread_zone_files(dir: &Path) -> Vec<(PathBuf, String)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut unread: Vec<(PathBuf, String)> = entries
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            let why = crate::zonefile::unreadable_zone_file_name(&path)?;
            Some((path, why))
        })
        .collect();
    unread.sort();
    unread
}

/// The zones of `dir`'s zone files (those of `only`, when given), in name order, as
/// [`load_expected`] will load them.
pub(crate) fn zone_names(dir: &Path, only: &[Name], config: &Config) -> Result<Vec<Name>, Error> {
    let files = zone_files(dir, only, config)?;
    Ok(files.into_iter().map(|(origin, _)| origin).collect())
}

/// The zone files of `dir` (those of `only`, when given), sorted by zone; the config's zone
/// tables checked against every file there. A zone of `only` without a file, or no zone file
/// at all, is an error.
fn zone_files(dir: &Path, only: &[Name], config: &Config) -> Result<Vec<(Name, PathBuf)>, Error> {
    let entries = std::fs::read_dir(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut files: Vec<(Name, PathBuf)> = Vec::new();
    let mut all_zones: Vec<Name> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = entry.path();
        if let Some(origin) = zone_name_for_file(&path) {
            all_zones.push(origin.clone());
            if only.is_empty() || only.contains(&origin) {
                files.push((origin, path));
            }
        }
    }
    config.check_zone_tables(&all_zones, dir)?;
    files.sort();
    for wanted in only {
        if !files.iter().any(|(origin, _)| origin == wanted) {
            return Err(Error::Usage(format!(
                "no zone file for {} in {} (expected a file named {}zone)",
                present_name(wanted),
                dir.display(),
                if wanted.is_root() {
                    "root.".to_string()
                } else {
                    present_name(wanted)
                }
            )));
        }
    }
    if files.is_empty() {
        return Err(Error::Usage(format!(
            "no zone files (<zone>.zone) in {}",
            dir.display()
        )));
    }
    Ok(files)
}

/// What `dir` holds, as a revision for the report: the commit, with "with uncommitted changes to
/// expected-records" when the work tree differs from it, or "not in git".
pub(crate) fn revision_of(dir: &Path) -> String {
    match crate::git::Repo::find(dir).and_then(|repo| repo.revision()) {
        Ok((head, false)) => format!("commit {head}"),
        Ok((head, true)) => format!("commit {head} with uncommitted changes to expected-records"),
        Err(_) => "not in git".to_string(),
    }
}

/// The nameserver addresses `dns-audit.toml` names at the merge base of `rev` and HEAD, read
/// from git objects. A base without the file allows none (only `--nameserver` addresses).
pub(crate) fn allowed_at(
    dir: &Path,
    rev: &str,
) -> Result<std::collections::BTreeSet<std::net::SocketAddr>, Error> {
    let repo = crate::git::Repo::find(dir)?;
    let base = repo.merge_base(rev)?;
    let file = Path::new(crate::config::CONFIG_FILE);
    match repo.read_at(&base, file)? {
        None => Ok(Default::default()),
        Some(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let shown = PathBuf::from(format!("{rev}:{}", crate::config::CONFIG_FILE));
            Config::parse(&shown, &text).map(|config| config.all_nameservers())
        }
    }
}
