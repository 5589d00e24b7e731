//! The `show` job: a zone as dns-audit reads it, after `$INCLUDE`, `$GENERATE`, `$TTL` and
//! relative names, for a person to check and for the differential test against BIND.

use std::path::{Path, PathBuf};

use hickory_proto::rr::Name;

use crate::config::{parse_zone_name, Config};
use crate::error::Error;
use crate::model::present_name;
use crate::zonefile::{file_name_for_zone, load_zone, zone_name_for_file, Includes, LoadedZone};

/// What to show.
#[derive(Clone, Debug)]
pub struct ShowConfig {
    /// A zone file's path, or the name of a zone in `expected`.
    pub target: String,
    /// The expected-records directory (config and zone files).
    pub expected: PathBuf,
    /// The zone's name, for a file whose name does not say it (`<zone>.zone`).
    pub origin: Option<Name>,
    /// Where the file's `$INCLUDE` paths resolve (default: the config's, for a file in
    /// expected-records; else the file's directory).
    pub include_root: Option<PathBuf>,
}

/// Loads the zone `config` names, with the limits and include settings that apply to it.
pub fn load(config: &ShowConfig) -> Result<LoadedZone, Error> {
    let as_path = Path::new(&config.target);
    if as_path.is_file() {
        return load_file(config, as_path);
    }
    let origin = parse_zone_name(&config.target).ok_or_else(|| {
        Error::Usage(format!(
            "{:?} is neither a file nor a zone name",
            config.target
        ))
    })?;
    let path = config.expected.join(file_name_for_zone(&origin));
    if !path.is_file() {
        return Err(Error::Usage(format!(
            "no file {} for the zone {}: give a zone file's path, or --expected DIR",
            path.display(),
            present_name(&origin)
        )));
    }
    load_file(
        &ShowConfig {
            origin: Some(origin),
            ..config.clone()
        },
        &path,
    )
}

fn load_file(config: &ShowConfig, path: &Path) -> Result<LoadedZone, Error> {
    let origin = match config.origin.clone().or_else(|| zone_name_for_file(path)) {
        Some(origin) => origin,
        None => {
            return Err(Error::Usage(format!(
                "{}: the file name does not name the zone (<zone>.zone): give --origin NAME",
                path.display()
            )))
        }
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let in_expected = match (dir.canonicalize(), config.expected.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    let settings = if in_expected {
        Config::load(&config.expected)?
    } else {
        Config::default()
    };
    let mut includes = if in_expected {
        settings.zone(&origin).includes(dir)
    } else {
        Includes::within(dir)
    };
    if let Some(root) = &config.include_root {
        includes.root = root.clone();
    }
    load_zone(dir, &includes, path, &origin, settings.limits).map_err(Error::Zone)
}
