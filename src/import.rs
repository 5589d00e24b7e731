//! The `import` job: a first expected-records from what a server serves, as `octodns-dump` and
//! DNSControl's `get-zones` onboard users. The zone is read by transfer (TSIG as for `check`),
//! or, where transfers are refused, name by name from a list; it is written as one canonical
//! zone file (stable, so a re-import is a clean git diff), checked by loading it back, and the
//! config is told which server it came from. Nothing existing is overwritten without `force`.

use std::path::{Path, PathBuf};

use hickory_proto::rr::{Name, RecordType};

use crate::config::Config;
use crate::error::Error;
use crate::model::{canonical_name, name_of_key, present_name, Rdata, Served, Zone};
use crate::observe::Nameserver;
use crate::transport::Server;
use crate::zonefile::{load_zone_bytes, ZoneLimits};

/// What to import.
#[derive(Clone, Debug)]
pub struct ImportConfig {
    /// The zone.
    pub zone: Name,
    /// The server to read it from.
    pub server: Nameserver,
    /// A file of names (one per line, relative to the zone or absolute) to ask for one by one
    /// when the server refuses a transfer.
    pub names: Option<PathBuf>,
    /// The expected-records directory to write into (created if missing).
    pub expected: PathBuf,
    /// Replace an existing zone file.
    pub force: bool,
}

/// What an import wrote.
#[derive(Clone, Debug)]
pub struct Imported {
    /// The zone file written.
    pub zone_file: PathBuf,
    /// Records in it.
    pub records: usize,
    /// How the zone was read: "zone transfer" or "queries for N names".
    pub method: String,
    /// Why the transfer was not used, when it was not.
    pub transfer_failure: Option<String>,
    /// What was done to the config (written, extended, or left as it was and why).
    pub config_note: String,
}

/// Types asked for each listed name when the zone cannot be transferred.
const QUERY_TYPES: [RecordType; 11] = [
    RecordType::SOA,
    RecordType::NS,
    RecordType::A,
    RecordType::AAAA,
    RecordType::CNAME,
    RecordType::MX,
    RecordType::TXT,
    RecordType::SRV,
    RecordType::CAA,
    RecordType::PTR,
    RecordType::DS,
];

/// Reads the zone from the server and writes `<zone>.zone` (and the config) into `expected`.
pub async fn import(config: &ImportConfig) -> Result<Imported, Error> {
    let origin = canonical_name(&config.zone);
    let file_name = crate::zonefile::file_name_for_zone(&origin);
    let zone_file = config.expected.join(&file_name);
    if zone_file.exists() && !config.force {
        return Err(Error::Usage(format!(
            "{} exists: pass --force to replace it",
            zone_file.display()
        )));
    }
    let settings = if config.expected.is_dir() {
        Config::load(&config.expected)?
    } else {
        Config::default()
    };
    let (zone, method, transfer_failure) = read_served(config, &origin, &settings).await?;
    if zone.rrset(&origin, RecordType::SOA).is_none() {
        return Err(Error::Usage(format!(
            "{} served no SOA for {}: it is not authoritative for the zone",
            config.server.addr,
            present_name(&origin)
        )));
    }
    let header = format!(
        "{} as served by {} ({}), imported by dns-audit.\nReview it, then commit: from now on this file is what the servers must serve.",
        present_name(&origin),
        config.server.addr,
        method
    );
    let text = zone_file_text(&zone, &header, Path::new(&file_name))?;
    std::fs::create_dir_all(&config.expected).map_err(|source| Error::Io {
        path: config.expected.clone(),
        source,
    })?;
    write_atomically(&zone_file, text.as_bytes())?;
    let refused = transfer_failure.is_some();
    let config_note = name_the_server(&config.expected, &origin, &config.server, refused)?;
    Ok(Imported {
        zone_file,
        records: zone.record_count(),
        method,
        transfer_failure,
        config_note,
    })
}

/// The zone as the server serves it, by transfer, else by queries for `--names`: (zone, how it
/// was read, why the transfer failed).
async fn read_served(
    config: &ImportConfig,
    origin: &Name,
    settings: &Config,
) -> Result<(Zone, String, Option<String>), Error> {
    let server = Server::new(config.server.addr, settings.query);
    let tsig = settings.zone(origin).tsig.as_ref();
    let transfer = server
        .transfer(origin, settings.query.transfer_timeout, tsig)
        .await;
    match transfer {
        Ok(records) => Ok((
            from_records(origin, records),
            "zone transfer".to_string(),
            None,
        )),
        Err(failure) => {
            let Some(names) = &config.names else {
                return Err(Error::Usage(format!(
                    "the zone transfer from {} failed ({failure}): allow transfers to this host, or give --names FILE to read the listed names by queries",
                    config.server.addr
                )));
            };
            let names = read_names(names, origin)?;
            let zone = by_queries(&server, origin, &names).await?;
            let method = format!("queries for {} names", names.len());
            Ok((zone, method, Some(failure.to_string())))
        }
    }
}

/// `zone` as a zone file under `header`, checked to read back as exactly what was served.
fn zone_file_text(zone: &Zone, header: &str, file_name: &Path) -> Result<String, Error> {
    let text = crate::render::zone::zone_file(zone, header);
    let limits = ZoneLimits {
        max_records: usize::MAX,
        max_bytes: u64::MAX,
        record_lines: false,
        ..ZoneLimits::default()
    };
    let again =
        load_zone_bytes(file_name, text.as_bytes(), &zone.origin, limits).map_err(Error::Zone)?;
    if crate::render::zone::listing(&again.zone) != crate::render::zone::listing(zone) {
        return Err(Error::Usage(
            "the written zone file does not read back as the served zone; please report it".into(),
        ));
    }
    Ok(text)
}

/// The zone from a transfer's records (the closing SOA is the opening one again).
fn from_records(origin: &Name, served: Served) -> Zone {
    let mut zone = Zone::new(origin);
    let mut sets = served.into_sets();
    while let Some((key, rtype, set)) = sets.next_set() {
        let owner = name_of_key(&key);
        if !origin.zone_of(&owner) {
            continue;
        }
        for rdata in set.rdatas {
            zone.insert(&owner, rtype, set.ttl, rdata);
        }
    }
    zone
}

/// The names of a `--names` file: one per line, `#` or `;` comments, relative to the zone
/// unless they end with a dot; the apex is always asked.
fn read_names(path: &Path, origin: &Name) -> Result<Vec<Name>, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut names = vec![origin.clone()];
    for (index, line) in text.lines().enumerate() {
        let word = line.split(['#', ';']).next().unwrap_or_default().trim();
        if word.is_empty() {
            continue;
        }
        let name = if word == "@" {
            Ok(origin.clone())
        } else if word.ends_with('.') {
            Name::from_ascii(word)
        } else {
            Name::from_ascii(word).and_then(|n| n.append_domain(origin))
        };
        let name = name.map_err(|e| Error::Config {
            path: path.to_path_buf(),
            line: index + 1,
            column: 1,
            message: format!("bad name {word:?}: {e}"),
        })?;
        let name = canonical_name(&name);
        if !origin.zone_of(&name) {
            return Err(Error::Config {
                path: path.to_path_buf(),
                line: index + 1,
                column: 1,
                message: format!("{word} is outside the zone {}", present_name(origin)),
            });
        }
        if !names.contains(&name) {
            names.push(name);
        }
    }
    Ok(names)
}

/// The most names an import by queries asks, listed ones and the in-zone targets they lead to.
const MAX_IMPORT_NAMES: usize = 100_000;

/// The zone from authoritative answers for every type of [`QUERY_TYPES`] at every name, and at
/// every name inside the zone that an answer points at (an NS, MX, SRV or CNAME target: the
/// zone would not be whole without it). A name or type the server cannot answer stops the
/// import: a partial zone would be taken for the truth.
async fn by_queries(server: &Server, origin: &Name, names: &[Name]) -> Result<Zone, Error> {
    let mut zone = Zone::new(origin);
    let mut asked: std::collections::HashSet<Name> = names.iter().cloned().collect();
    let mut queue: Vec<Name> = names.to_vec();
    let mut next = 0;
    while let Some(name) = queue.get(next).cloned() {
        next += 1;
        for target in ask_name(server, &mut zone, &name).await? {
            if origin.zone_of(&target) && asked.insert(target.clone()) {
                if queue.len() >= MAX_IMPORT_NAMES {
                    return Err(Error::Usage(format!(
                        "more than {MAX_IMPORT_NAMES} names to ask (listed, and the in-zone targets they lead to): nothing was written"
                    )));
                }
                queue.push(target);
            }
        }
    }
    Ok(zone)
}

/// Every type of [`QUERY_TYPES`] at `name`, into `zone`; the names its records point at.
async fn ask_name(server: &Server, zone: &mut Zone, name: &Name) -> Result<Vec<Name>, Error> {
    let mut targets = Vec::new();
    for rtype in QUERY_TYPES {
        let answer = server.query(name, rtype).await.map_err(|failure| {
            Error::Usage(format!(
                "{} {rtype}: {failure}: nothing was written",
                present_name(name)
            ))
        })?;
        if !answer.metadata.authoritative {
            return Err(Error::Usage(format!(
                "{} answered {} {rtype} without authority: it does not serve the zone",
                server.addr(),
                present_name(name)
            )));
        }
        for record in &answer.answers {
            let owner = canonical_name(&record.name);
            if owner != *name || record.record_type() != rtype {
                continue;
            }
            targets.extend(crate::model::target_of(&record.data).map(|t| canonical_name(&t)));
            if let Some(rdata) = Rdata::from_hickory(&record.data) {
                zone.insert(&owner, rtype, record.ttl, rdata);
            }
        }
    }
    Ok(targets)
}

/// Writes `bytes` to `path` whole or not at all (see [`crate::files::write_atomically`]).
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    crate::files::write_atomically(path, bytes).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Names the server in the config, under the name it was given (`NAME=`): a new config is
/// written; an existing one gains a table for the zone only if it has none (appended, nothing
/// of it changed). Where the transfer was `refused`, the table says `axfr = "never"`, so cron
/// does not try (and warn) on every run.
fn name_the_server(
    expected: &Path,
    origin: &Name,
    server: &Nameserver,
    refused: bool,
) -> Result<String, Error> {
    let path = expected.join(crate::config::CONFIG_FILE);
    let zone = present_name(origin);
    let written = match server.label == server.addr.to_string() {
        true => server.addr.to_string(),
        false => format!("{}={}", server.label, server.addr),
    };
    let axfr = match refused {
        true => "axfr = \"never\"   # the server refused the zone transfer at import\n",
        false => "",
    };
    let table = format!("[zones.\"{zone}\"]\nnameservers = [{written:?}]\n{axfr}");
    let existing = match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(source) => return Err(Error::Io { path, source }),
    };
    let Some(text) = existing else {
        let text = format!(
            "# dns-audit configuration (keys: see the README). Written by `dns-audit import`.\n\n{table}"
        );
        write_atomically(&path, text.as_bytes())?;
        return Ok(format!("wrote {}", path.display()));
    };
    let parsed: toml::Value = toml::from_str(&text).map_err(|e| Error::Config {
        path: path.clone(),
        line: 0,
        column: 0,
        message: e.message().to_string(),
    })?;
    let has_table = parsed
        .get("zones")
        .and_then(|zones| zones.as_table())
        .is_some_and(|zones| {
            zones
                .keys()
                .any(|k| crate::config::parse_zone_name(k).as_ref() == Some(origin))
        });
    if has_table {
        return Ok(format!(
            "left {} as it was: it has a table for {zone} (check its nameservers)",
            path.display()
        ));
    }
    let mut text = text;
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push('\n');
    text.push_str(&table);
    write_atomically(&path, text.as_bytes())?;
    Ok(format!("added [zones.\"{zone}\"] to {}", path.display()))
}
