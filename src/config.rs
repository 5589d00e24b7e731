//! `expected-records/dns-audit.toml`: which servers to ask, how names group into hosts, what to
//! ignore and how hard to push the servers. Every key is optional; unknown keys are errors.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use hickory_proto::rr::{Name, RecordType};
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::model::canonical_name;
use crate::zonefile::ZoneLimits;

/// The file name of the config inside the expected-records directory.
pub const CONFIG_FILE: &str = "dns-audit.toml";

/// The message shape of alerts (`notify_format`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotifyFormat {
    /// Slack incoming webhook: `{"text": …}`.
    Slack,
    /// Discord webhook: `{"content": …}`, mentions disabled.
    Discord,
    /// The structured event (schema `dns-audit.alert/1`).
    #[default]
    Json,
}

/// A waiver from the config: a check at a name that is known to be right.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Waiver {
    /// Name relative to the zone (or absolute with a trailing dot); `*` for every name.
    pub name: String,
    /// The check id.
    pub check: String,
    /// Why it is fine (required).
    pub reason: String,
    /// Where its check is written in the config (line, column; 0 when unknown), for errors.
    pub at: (usize, usize),
}

/// How a TTL difference is judged.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum TtlPolicy {
    /// A TTL difference is drift (exit 1).
    #[default]
    Drift,
    /// A TTL difference is reported as a warning only.
    Warn,
    /// TTLs are not compared.
    Ignore,
}

/// A resolver to ask: the host's own configuration (`system`) or an address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(into = "String")]
pub enum ResolverSpec {
    /// What the host's resolver configuration names (`/etc/resolv.conf`).
    System,
    /// One resolver.
    Address(SocketAddr),
}

impl From<ResolverSpec> for String {
    fn from(spec: ResolverSpec) -> String {
        spec.to_string()
    }
}

impl std::fmt::Display for ResolverSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ResolverSpec::System => write!(f, "system"),
            ResolverSpec::Address(addr) if addr.port() == 53 => write!(f, "{}", addr.ip()),
            ResolverSpec::Address(addr) => write!(f, "{addr}"),
        }
    }
}

impl std::str::FromStr for ResolverSpec {
    type Err = String;

    /// `system`, `IP`, `IP:PORT`, `[IPv6]:PORT` or `IP@PORT`.
    fn from_str(text: &str) -> Result<Self, String> {
        if text.eq_ignore_ascii_case("system") {
            return Ok(ResolverSpec::System);
        }
        parse_server(text)
            .map(ResolverSpec::Address)
            .map_err(|why| {
                format!(
                    "bad resolver {text:?}: {why} (expected \"system\", IP, IP:PORT or IP@PORT)"
                )
            })
    }
}

/// `serials`: who raises a zone's SOA serial, for lint's serial-not-raised.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum SerialRule {
    /// Learned from the zone file's git history.
    #[default]
    Learn,
    /// Each change raises it.
    ByHand,
    /// Tooling raises it: lint does not ask for it.
    Managed,
}

/// `naming`: how a zone names its hosts, for lint's near-miss-name.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum NamingRule {
    /// Learned from the zone.
    #[default]
    Learn,
    /// Numbered series (`bh17`).
    Numbered,
    /// Words.
    Words,
}

/// Whether a zone is read by transfer (AXFR) or by per-name queries.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum AxfrMode {
    /// Try a transfer; where it is refused or fails, ask name by name.
    #[default]
    Auto,
    /// Transfer only; a refused transfer is a failure (exit 3).
    Always,
    /// Never transfer; ask name by name.
    Never,
}

/// Settings that may be given globally and overridden per zone.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawZoneSettings {
    nameservers: Option<Vec<String>>,
    host_depth: Option<usize>,
    ignore_types: Option<Vec<String>>,
    ignore_names: Option<Vec<String>>,
    ttl: Option<TtlPolicy>,
    axfr: Option<AxfrMode>,
    signature_warn_days: Option<u32>,
    serial_grace: Option<String>,
    tsig: Option<RawTsig>,
    include_root: Option<PathBuf>,
    include_server_root: Option<PathBuf>,
    serials: Option<SerialRule>,
    naming: Option<NamingRule>,
    resolvers: Option<Vec<String>>,
}

/// `[[waive]] name = "bh17" check = "address-reuse" reason = "…"`: the reason is required.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWaiver {
    name: String,
    check: String,
    reason: String,
}

/// `tsig = { name = "...", algorithm = "hmac-sha256", secret_file = "..." | secret_env = "..." }`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTsig {
    name: String,
    #[serde(default = "default_tsig_algorithm")]
    algorithm: String,
    secret_file: Option<PathBuf>,
    secret_env: Option<String>,
}

fn default_tsig_algorithm() -> String {
    "hmac-sha256".into()
}

/// A TSIG key for zone transfers. The secret is read from a file outside the expected-records
/// directory or from an environment variable, never from the reviewed zone files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TsigKey {
    /// Key name, as the server knows it.
    pub name: Name,
    /// HMAC algorithm name (`hmac-sha256`, `hmac-sha384`, `hmac-sha512`).
    pub algorithm: String,
    /// The shared secret (decoded from base64).
    pub secret: Vec<u8>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    timeout_ms: Option<u64>,
    retries: Option<u32>,
    concurrency: Option<usize>,
    max_zone_bytes: Option<u64>,
    max_zone_records: Option<usize>,
    max_zone_includes: Option<usize>,
    max_timeouts_in_a_row: Option<u32>,
    max_run_time: Option<String>,
    max_resolver_questions: Option<usize>,
    max_zone_include_bytes: Option<u64>,
    nameservers: Option<Vec<String>>,
    host_depth: Option<usize>,
    ignore_types: Option<Vec<String>>,
    ignore_names: Option<Vec<String>>,
    ttl: Option<TtlPolicy>,
    axfr: Option<AxfrMode>,
    signature_warn_days: Option<u32>,
    serial_grace: Option<String>,
    transfer_timeout_ms: Option<u64>,
    tsig: Option<RawTsig>,
    include_root: Option<PathBuf>,
    include_server_root: Option<PathBuf>,
    serials: Option<SerialRule>,
    naming: Option<NamingRule>,
    resolvers: Option<Vec<String>>,
    state: Option<PathBuf>,
    notify: Option<Vec<String>>,
    notify_format: Option<NotifyFormat>,
    notify_timeout_ms: Option<u64>,
    mass_change_share: Option<f64>,
    #[serde(default)]
    waive: Vec<RawWaiver>,
    #[serde(default)]
    zones: BTreeMap<String, RawZoneSettings>,
}

/// How queries are sent.
#[derive(Clone, Copy, Debug)]
pub struct QuerySettings {
    /// Time to wait for one answer.
    pub timeout: Duration,
    /// Further tries after a timeout, with exponential backoff.
    pub retries: u32,
    /// Queries in flight at once, per nameserver address.
    pub concurrency: usize,
    /// Time allowed for a whole zone transfer.
    pub transfer_timeout: Duration,
    /// Most records a zone transfer may bring (`max_zone_records`): a server that sends more
    /// is stopped, not read into memory.
    pub max_transfer_records: usize,
    /// Queries in a row that may time out before a server is asked nothing more in this run
    /// (`max_timeouts_in_a_row`): a server that answers the SOA and drops the rest would
    /// otherwise be waited on for every name.
    pub max_timeouts_in_a_row: u32,
    /// The longest a whole run may ask (`max_run_time`); what is not asked by then is unknown.
    pub max_run_time: Duration,
    /// When this run stops asking: its start plus `max_run_time` (set when a run starts).
    pub deadline: Option<std::time::Instant>,
    /// Most RRsets resolvers are asked about per zone when no history narrows it down
    /// (`max_resolver_questions`): every expected address, up to this many.
    pub max_resolver_questions: usize,
}

impl Default for QuerySettings {
    fn default() -> Self {
        QuerySettings {
            timeout: Duration::from_millis(1500),
            retries: 2,
            concurrency: 64,
            transfer_timeout: Duration::from_secs(60),
            max_transfer_records: ZoneLimits::default().max_records,
            max_timeouts_in_a_row: 100,
            max_run_time: Duration::from_secs(300),
            deadline: None,
            max_resolver_questions: 1_000,
        }
    }
}

/// A nameserver to ask: the name reports, metrics and webhooks give it, and its address.
/// Written `IP`, `IP:PORT`, `[IPv6]:PORT` or `NAME=` before any of them, on the command line
/// and in the config alike.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Nameserver {
    /// The NS name (relative to the zone when inside it), the `NAME=` it was given, or the
    /// address when given bare.
    pub label: String,
    /// Where queries go.
    pub addr: SocketAddr,
}

/// The settings in force for one zone.
#[derive(Clone, Debug)]
pub struct ZoneSettings {
    /// Servers to ask instead of the zone's NS records (empty: use the NS records), written
    /// `IP`, `IP:PORT`, `IP@PORT`, each optionally `NAME=` first, as `--nameserver` takes them.
    pub nameservers: Vec<Nameserver>,
    /// How many labels below the apex name a host (1: `bh17` for `panel.bh17.<zone>`).
    pub host_depth: usize,
    /// Types never compared.
    pub ignore_types: Vec<RecordType>,
    /// Name patterns never compared (`name`, `*.name`; relative to the zone unless ending in `.`).
    pub ignore_names: Vec<String>,
    /// How TTL differences count.
    pub ttl: TtlPolicy,
    /// Transfer or query.
    pub axfr: AxfrMode,
    /// Warn about RRSIGs that expire within this many days (0: never).
    pub signature_warn_days: u32,
    /// Seconds a server may stay on an older SOA serial than another server of the zone before
    /// that is drift; within it the server is "propagating" (warnings only).
    pub serial_grace: u64,
    /// Key to sign zone transfers with.
    pub tsig: Option<TsigKey>,
    /// Where the zone file's `$INCLUDE` paths resolve, relative to expected-records (None:
    /// expected-records itself).
    pub include_root: Option<PathBuf>,
    /// The directory on the production server that `include_root` stands for: an absolute
    /// `$INCLUDE` path below it is read from below `include_root`.
    pub include_server_root: Option<PathBuf>,
    /// Lint: who raises the serial.
    pub serials: SerialRule,
    /// Lint: how hosts are named.
    pub naming: NamingRule,
    /// Recursive resolvers asked what they serve of the names that matter (none: none asked).
    pub resolvers: Vec<ResolverSpec>,
}

impl ZoneSettings {
    /// How the zone file's `$INCLUDE` paths resolve, for expected-records directory `dir`.
    pub(crate) fn includes(&self, dir: &Path) -> crate::zonefile::Includes {
        crate::zonefile::Includes {
            root: match &self.include_root {
                Some(root) => dir.join(root),
                None => dir.to_path_buf(),
            },
            server_root: self.include_server_root.clone(),
        }
    }

    /// Whether `name` (canonical) in zone `origin` is excluded from comparison.
    pub(crate) fn ignores_name(&self, origin: &Name, name: &Name) -> bool {
        self.ignore_names
            .iter()
            .any(|pattern| name_matches(origin, name, pattern))
    }

    /// The `ignore_names` entries that match no name of `zone`: they can hide only names a
    /// transfer shows beyond the zone file, and may be a typo or a host long gone.
    pub(crate) fn unused_ignores<'a>(&'a self, zone: &crate::model::Zone) -> Vec<&'a str> {
        self.ignore_names
            .iter()
            .filter(|pattern| {
                !zone
                    .iter()
                    .any(|(name, _)| name_matches(&zone.origin, name, pattern))
            })
            .map(String::as_str)
            .collect()
    }
}

/// The whole configuration, resolved.
#[derive(Clone, Debug)]
pub struct Config {
    /// Query behaviour.
    pub query: QuerySettings,
    /// Limits on zone files.
    pub limits: ZoneLimits,
    /// The history store (None: the platform default).
    pub state: Option<PathBuf>,
    /// Alert targets (webhook URLs, or `env:VAR` naming a variable that holds one).
    pub notify: Vec<String>,
    /// Alert message shape.
    pub notify_format: NotifyFormat,
    /// Time allowed for one alert delivery.
    pub notify_timeout: Duration,
    /// Lint: share of a zone's RRsets that may change or go at once.
    pub mass_change_share: f64,
    /// Lint findings known to be right.
    pub waivers: Vec<Waiver>,
    defaults: ZoneSettings,
    zones: BTreeMap<Name, ZoneSettings>,
    /// Where each `[zones."…"]` table is written (file, line, column).
    zone_tables: BTreeMap<Name, (PathBuf, usize, usize)>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            query: QuerySettings::default(),
            limits: ZoneLimits::default(),
            state: None,
            notify: Vec::new(),
            notify_format: NotifyFormat::Json,
            notify_timeout: Duration::from_secs(5),
            mass_change_share: 0.3,
            waivers: Vec::new(),
            defaults: ZoneSettings {
                nameservers: Vec::new(),
                host_depth: 1,
                ignore_types: Vec::new(),
                ignore_names: Vec::new(),
                ttl: TtlPolicy::Drift,
                axfr: AxfrMode::Auto,
                signature_warn_days: 7,
                serial_grace: 3600,
                tsig: None,
                include_root: None,
                include_server_root: None,
                serials: SerialRule::Learn,
                naming: NamingRule::Learn,
                resolvers: Vec::new(),
            },
            zones: BTreeMap::new(),
            zone_tables: BTreeMap::new(),
        }
    }
}

impl Config {
    /// Reads `dir/dns-audit.toml`; a missing file means all defaults.
    pub fn load(dir: &Path) -> Result<Config, Error> {
        let path = dir.join(CONFIG_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => Config::parse(&path, &text),
                Err(e) => {
                    // TOML is UTF-8: the first octet that is not, at its place.
                    let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
                    let text = String::from_utf8_lossy(valid);
                    let (line, column) = line_column(&text, text.len());
                    Err(config_error(
                        &path,
                        line,
                        column,
                        "not UTF-8 text here (a TOML file must be UTF-8)",
                    ))
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(e) => Err(Error::Io { path, source: e }),
        }
    }

    /// Parses config text; errors name `path:line:column`.
    pub fn parse(path: &Path, text: &str) -> Result<Config, Error> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let (line, column) = e
                .span()
                .map(|span| line_column(text, span.start))
                .unwrap_or((0, 0));
            config_error(path, line, column, e.message())
        })?;
        let source = Source { path, text };
        let mut config = Config {
            query: query_settings(&source, &raw)?,
            state: raw.state.clone(),
            ..Config::default()
        };
        if let Some(bytes) = raw.max_zone_bytes {
            config.limits.max_bytes = bytes;
        }
        if let Some(records) = raw.max_zone_records {
            config.limits.max_records = records;
            config.query.max_transfer_records = records;
        }
        if let Some(includes) = raw.max_zone_includes {
            config.limits.max_includes = includes;
        }
        if let Some(bytes) = raw.max_zone_include_bytes {
            config.limits.max_include_bytes = bytes;
        }
        config.alert_settings(&source, &raw)?;
        config.lint_settings(&source, &raw)?;
        // Not `#[serde(flatten)]`: it would lose the position of unknown keys.
        let defaults = RawZoneSettings {
            nameservers: raw.nameservers,
            host_depth: raw.host_depth,
            ignore_types: raw.ignore_types,
            ignore_names: raw.ignore_names,
            ttl: raw.ttl,
            axfr: raw.axfr,
            signature_warn_days: raw.signature_warn_days,
            serial_grace: raw.serial_grace,
            tsig: raw.tsig,
            include_root: raw.include_root,
            include_server_root: raw.include_server_root,
            serials: raw.serials,
            naming: raw.naming,
            resolvers: raw.resolvers,
        };
        config.defaults = resolve(path, text, &config.defaults, &defaults)?;
        for (zone, settings) in &raw.zones {
            let (line, column) = find_line(text, zone);
            let name = parse_zone_name(zone).ok_or_else(|| {
                config_error(path, line, column, format!("bad zone name {zone:?}"))
            })?;
            let resolved = resolve(path, text, &config.defaults, settings)?;
            config
                .zone_tables
                .insert(name.clone(), (path.to_path_buf(), line, column));
            config.zones.insert(name, resolved);
        }
        Ok(config)
    }

    /// `notify`, `notify_format`, `notify_timeout_ms`: webhooks must be http(s) URLs.
    fn alert_settings(&mut self, source: &Source<'_>, raw: &RawConfig) -> Result<(), Error> {
        self.notify = raw.notify.clone().unwrap_or_default();
        for target in &self.notify {
            if let Err(why) = check_notify_target(target) {
                return Err(source.error_at(target, why));
            }
        }
        if let Some(format) = raw.notify_format {
            self.notify_format = format;
        }
        if let Some(ms) = raw.notify_timeout_ms {
            self.notify_timeout =
                bounded_ms(source, "notify_timeout_ms", ms, MAX_NOTIFY_TIMEOUT_MS)?;
        }
        Ok(())
    }

    /// `mass_change_share` (a share, 0 to 1) and `[[waive]]` (each with a reason).
    fn lint_settings(&mut self, source: &Source<'_>, raw: &RawConfig) -> Result<(), Error> {
        if let Some(share) = raw.mass_change_share {
            if !(0.0..=1.0).contains(&share) {
                let message = "mass_change_share must be between 0 and 1";
                return Err(source.error_at("mass_change_share", message.into()));
            }
            self.mass_change_share = share;
        }
        for waiver in &raw.waive {
            if waiver.reason.trim().is_empty() {
                return Err(source.error_at(&waiver.name, "a waiver needs a reason".into()));
            }
            self.waivers.push(Waiver {
                name: waiver.name.clone(),
                check: waiver.check.clone(),
                reason: waiver.reason.clone(),
                at: find_line(source.text, &format!("{:?}", waiver.check)),
            });
        }
        Ok(())
    }

    /// Adds resolvers (the command line's) to every zone's, once each.
    pub(crate) fn add_resolvers(&mut self, resolvers: &[ResolverSpec]) {
        for settings in std::iter::once(&mut self.defaults).chain(self.zones.values_mut()) {
            for resolver in resolvers {
                if !settings.resolvers.contains(resolver) {
                    settings.resolvers.push(resolver.clone());
                }
            }
        }
    }

    /// An error for a `[zones."…"]` table that names none of `zones` (the zones that have a
    /// zone file): its settings would be dropped without a word. It says which zone it may mean.
    pub(crate) fn check_zone_tables(&self, zones: &[Name], dir: &Path) -> Result<(), Error> {
        for (name, (path, line, column)) in &self.zone_tables {
            if zones.contains(name) {
                continue;
            }
            let shown = crate::model::present_name(name);
            let near = zones
                .iter()
                .map(crate::model::present_name)
                .min_by_key(|z| crate::typo::distance(z, &shown))
                .filter(|z| crate::typo::distance(z, &shown) <= 3)
                .map(|z| format!(": did you mean {z}?"))
                .unwrap_or_default();
            return Err(config_error(
                path,
                *line,
                *column,
                format!(
                    "[zones.\"{}\"] names a zone with no zone file in {} (expected {}zone), so its settings would be used nowhere{near}",
                    shown.trim_end_matches('.'),
                    dir.display(),
                    shown
                ),
            ));
        }
        Ok(())
    }

    /// The settings for zone `origin`.
    pub fn zone(&self, origin: &Name) -> &ZoneSettings {
        self.zones.get(origin).unwrap_or(&self.defaults)
    }

    /// Every nameserver address the config names, for any zone.
    pub(crate) fn all_nameservers(&self) -> std::collections::BTreeSet<SocketAddr> {
        self.defaults
            .nameservers
            .iter()
            .chain(self.zones.values().flat_map(|z| &z.nameservers))
            .map(|server| server.addr)
            .collect()
    }

    /// Forces one transfer mode on every zone (the `--axfr` flag).
    pub(crate) fn force_axfr(&mut self, mode: AxfrMode) {
        self.defaults.axfr = mode;
        for settings in self.zones.values_mut() {
            settings.axfr = mode;
        }
    }
}

/// `raw`'s settings over `base`'s, each checked, an error at the line and column of what
/// was written. A flat list: one setting a line.
fn resolve(
    path: &Path,
    text: &str,
    base: &ZoneSettings,
    raw: &RawZoneSettings,
) -> Result<ZoneSettings, Error> {
    let error_at = |written: &str, message: String| error_at(path, text, written, message);
    let mut out = base.clone();
    if let Some(servers) = &raw.nameservers {
        out.nameservers = each(servers, |s| {
            let (label, addr) = match s.split_once('=') {
                Some((label, addr)) if !label.trim().is_empty() => (Some(label.trim()), addr),
                _ => (None, s.as_str()),
            };
            let addr = parse_server(addr).map_err(|why| {
                error_at(
                    s,
                    format!(
                        "bad nameserver address {s:?}: {why} (expected [NAME=]IP, IP:PORT or IP@PORT)"
                    ),
                )
            })?;
            let label = label.map_or_else(|| addr.to_string(), str::to_string);
            Ok::<_, Error>(Nameserver { label, addr })
        })?;
    }
    if let Some(depth) = raw.host_depth {
        out.host_depth = depth.max(1);
    }
    if let Some(types) = &raw.ignore_types {
        out.ignore_types = each(types, |t| {
            let parsed = t.to_ascii_uppercase().parse::<RecordType>();
            parsed.map_err(|_| error_at(t, format!("unknown record type {t:?}")))
        })?;
    }
    if let Some(names) = &raw.ignore_names {
        out.ignore_names = names.iter().map(|n| n.to_ascii_lowercase()).collect();
    }
    out.ttl = raw.ttl.unwrap_or(out.ttl);
    out.axfr = raw.axfr.unwrap_or(out.axfr);
    out.signature_warn_days = raw.signature_warn_days.unwrap_or(out.signature_warn_days);
    out.serials = raw.serials.unwrap_or(out.serials);
    out.naming = raw.naming.unwrap_or(out.naming);
    if let Some(grace) = &raw.serial_grace {
        let seconds = parse_age(grace).ok_or_else(|| {
            error_at(
                grace,
                format!("bad serial_grace {grace:?}: use an age such as \"30m\", \"1h\" or \"0s\""),
            )
        })?;
        out.serial_grace = u64::try_from(seconds).unwrap_or(0);
    }
    if let Some(tsig) = &raw.tsig {
        out.tsig = Some(tsig_key(path, text, tsig)?);
    }
    if let Some(root) = &raw.include_root {
        out.include_root = Some(root.clone());
    }
    if let Some(resolvers) = &raw.resolvers {
        out.resolvers = each(resolvers, |r| {
            r.parse::<ResolverSpec>().map_err(|why| error_at(r, why))
        })?;
    }
    if let Some(server) = &raw.include_server_root {
        if !server.is_absolute() {
            let message = format!(
                "include_server_root {:?} must be an absolute path (the directory on the server, e.g. \"/srv/dns\")",
                server.display().to_string()
            );
            return Err(error_at("include_server_root", message));
        }
        out.include_server_root = Some(server.clone());
    }
    Ok(out)
}

/// Each of `written`, parsed; the first error.
fn each<T, U, E>(written: &[T], parse: impl Fn(&T) -> Result<U, E>) -> Result<Vec<U>, E> {
    written.iter().map(parse).collect()
}

fn tsig_key(path: &Path, text: &str, raw: &RawTsig) -> Result<TsigKey, Error> {
    let at = |written: &str, message: String| error_at(path, text, written, message);
    let mut name = Name::from_ascii(&raw.name)
        .map_err(|e| at(&raw.name, format!("bad TSIG key name {:?}: {e}", raw.name)))?;
    name.set_fqdn(true);
    let algorithm = raw.algorithm.to_ascii_lowercase();
    if !matches!(
        algorithm.as_str(),
        "hmac-sha256" | "hmac-sha384" | "hmac-sha512"
    ) {
        return Err(at(
            &raw.algorithm,
            format!(
                "unsupported TSIG algorithm {:?}: use hmac-sha256, hmac-sha384 or hmac-sha512",
                raw.algorithm
            ),
        ));
    }
    let encoded = tsig_secret(path, raw, at)?;
    let secret = data_encoding::BASE64
        .decode(encoded.trim().as_bytes())
        .map_err(|e| at(&raw.name, format!("TSIG secret is not base64: {e}")))?;
    Ok(TsigKey {
        name,
        algorithm,
        secret,
    })
}

/// The TSIG secret as written in its file or variable (never in the config, never in
/// expected-records, which is reviewed and published like code).
fn tsig_secret(
    path: &Path,
    raw: &RawTsig,
    at: impl Fn(&str, String) -> Error,
) -> Result<String, Error> {
    match (&raw.secret_file, &raw.secret_env) {
        (Some(file), None) => {
            let unreadable = |e: std::io::Error| {
                at(
                    "secret_file",
                    format!("cannot read TSIG secret {}: {e}", file.display()),
                )
            };
            let zone_dir = path.parent().and_then(|d| d.canonicalize().ok());
            let real = file.canonicalize().map_err(unreadable)?;
            if zone_dir.is_some_and(|dir| real.starts_with(dir)) {
                return Err(at(
                    "secret_file",
                    "refused: the TSIG secret must not live in the expected-records directory (it is reviewed and published like code)".into(),
                ));
            }
            std::fs::read_to_string(&real).map_err(unreadable)
        }
        (None, Some(var)) => std::env::var(var).map_err(|_| {
            at(
                var,
                format!("environment variable {var} (TSIG secret) is not set"),
            )
        }),
        _ => Err(at(
            &raw.name,
            "a TSIG key needs exactly one of secret_file or secret_env".into(),
        )),
    }
}

/// A config error at the line and column where `written` first appears in `text`.
fn error_at(path: &Path, text: &str, written: &str, message: String) -> Error {
    let (line, column) = find_line(text, written);
    config_error(path, line, column, message)
}

/// Parses an age such as `30m`, `24h`, `7d` (also `s` and `w`) into seconds.
pub fn parse_age(text: &str) -> Option<i64> {
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    let mut total: i64 = 0;
    // One or more number-unit pairs, largest first or not: 1h30m, 2w, 90s.
    while !rest.is_empty() {
        let split = rest.find(|c: char| !c.is_ascii_digit())?;
        let (number, after) = rest.split_at(split);
        let number: i64 = number.parse().ok()?;
        let unit_len = after
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        let unit = match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            "w" => 604_800,
            _ => return None,
        };
        total = total.checked_add(number.checked_mul(unit)?)?;
        rest = next;
    }
    Some(total)
}

/// What `--since` takes, for its error message.
pub const SINCE_FORMS: &str =
    "an age (30m, 24h, 7d, 2w, 1h30m), a date (2026-11-29, midnight UTC) or an RFC 3339 time (2026-11-29T03:00:00Z)";

/// Parses `--since`: an age before `now` (units s, m, h, d, w, combined as in `1h30m`), a date
/// (midnight UTC), or an RFC 3339 time. Seconds since 1970.
pub fn parse_since(text: &str, now: i64) -> Option<i64> {
    if let Some(age) = parse_age(text) {
        return Some(now - age);
    }
    if let Ok(time) = text.parse::<jiff::Timestamp>() {
        return Some(time.as_second());
    }
    let date = text.trim().parse::<jiff::civil::Date>().ok()?;
    let midnight = date.to_zoned(jiff::tz::TimeZone::UTC).ok()?;
    Some(midnight.timestamp().as_second())
}

/// Parses a server address: `IP`, `IP:PORT`, `[IPv6]:PORT` or kdig's `IP@PORT` (port 53 when
/// not given). The error names the part that is wrong.
pub(crate) fn parse_server(text: &str) -> Result<SocketAddr, String> {
    let text = text.trim();
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let (host, port) = split_port(text)?;
    let ip = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<std::net::IpAddr>()
        .map_err(|_| format!("{host:?} is not an IP address"))?;
    Ok(SocketAddr::new(ip, port))
}

/// `host` and port of `host@port`, `host:port` (one colon: not an IPv6 address) or `[v6]:port`;
/// port 53 when none is given.
pub fn split_port(text: &str) -> Result<(&str, u16), String> {
    let port = |p: &str| {
        p.parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| format!("port {p:?} is not a port (1 to 65535)"))
    };
    if let Some((host, p)) = text.rsplit_once('@') {
        return Ok((host, port(p)?));
    }
    if let Some(rest) = text.strip_prefix('[') {
        return match rest.split_once("]:") {
            Some((host, p)) => Ok((host, port(p)?)),
            None => Ok((text, 53)),
        };
    }
    match text.split_once(':') {
        Some((host, p)) if !p.contains(':') => Ok((host, port(p)?)),
        _ => Ok((text, 53)),
    }
}

/// The config file being read, for errors at a place in it.
struct Source<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Source<'_> {
    /// An error at the line where `key` is set.
    fn error_at_key(&self, key: &str, message: String) -> Error {
        let (line, column) = key_place(self.text, key);
        config_error(self.path, line, column, message)
    }

    /// An error at the first place `needle` is written.
    fn error_at(&self, needle: &str, message: String) -> Error {
        let (line, column) = find_line(self.text, needle);
        config_error(self.path, line, column, message)
    }
}

/// `timeout_ms`, `retries`, `concurrency`, `transfer_timeout_ms`: none may make the audit
/// wait forever or never start.
fn query_settings(source: &Source<'_>, raw: &RawConfig) -> Result<QuerySettings, Error> {
    let mut query = QuerySettings::default();
    if let Some(ms) = raw.timeout_ms {
        query.timeout = bounded_ms(source, "timeout_ms", ms, MAX_TIMEOUT_MS)?;
    }
    if let Some(retries) = raw.retries {
        if retries > MAX_RETRIES {
            return Err(source.error_at_key(
                "retries",
                format!("retries = {retries} is over {MAX_RETRIES}: with exponential backoff more tries would take hours"),
            ));
        }
        query.retries = retries;
    }
    if let Some(concurrency) = raw.concurrency {
        if !(1..=MAX_CONCURRENCY).contains(&concurrency) {
            return Err(source.error_at_key(
                "concurrency",
                format!("concurrency = {concurrency}: expected 1 to {MAX_CONCURRENCY} queries in flight per server (more only makes a server drop them)"),
            ));
        }
        query.concurrency = concurrency;
    }
    if let Some(ms) = raw.transfer_timeout_ms {
        query.transfer_timeout =
            bounded_ms(source, "transfer_timeout_ms", ms, MAX_TRANSFER_TIMEOUT_MS)?;
    }
    if let Some(count) = raw.max_timeouts_in_a_row {
        if count == 0 {
            return Err(source.error_at_key(
                "max_timeouts_in_a_row",
                "max_timeouts_in_a_row must be above 0".into(),
            ));
        }
        query.max_timeouts_in_a_row = count;
    }
    if let Some(text) = &raw.max_run_time {
        let seconds = parse_age(text)
            .and_then(|s| u64::try_from(s).ok())
            .filter(|s| (1..=MAX_RUN_TIME_S).contains(s))
            .ok_or_else(|| {
                source.error_at(
                    text,
                    format!("max_run_time = {text:?}: expected a time such as \"5m\" or \"90s\", at most 1 day"),
                )
            })?;
        query.max_run_time = Duration::from_secs(seconds);
    }
    if let Some(count) = raw.max_resolver_questions {
        if !(1..=100_000).contains(&count) {
            return Err(source.error_at_key(
                "max_resolver_questions",
                format!("max_resolver_questions = {count}: expected 1 to 100000"),
            ));
        }
        query.max_resolver_questions = count;
    }
    Ok(query)
}

/// A setting in milliseconds, above 0 and at most `max`: no setting may make an audit wait
/// for ever (or overflow a timer).
fn bounded_ms(source: &Source<'_>, key: &str, ms: u64, max: u64) -> Result<Duration, Error> {
    if !(1..=max).contains(&ms) {
        return Err(source.error_at_key(
            key,
            format!("{key} = {ms}: expected 1 to {max} (milliseconds)"),
        ));
    }
    Ok(Duration::from_millis(ms))
}

/// The longest wait for one answer: a minute (`timeout_ms`, `--timeout`).
pub const MAX_TIMEOUT_MS: u64 = 60_000;
/// The longest zone transfer: an hour (`transfer_timeout_ms`).
const MAX_TRANSFER_TIMEOUT_MS: u64 = 3_600_000;
/// The most queries in flight per server address (`concurrency`).
const MAX_CONCURRENCY: usize = 1_024;
/// The longest run: a day (`max_run_time`).
const MAX_RUN_TIME_S: u64 = 86_400;
/// The longest wait for a webhook: a minute (`notify_timeout_ms`).
const MAX_NOTIFY_TIMEOUT_MS: u64 = 60_000;

/// Parses a zone name as written by a user (`bots.example.net`, `.` for the root).
pub fn parse_zone_name(text: &str) -> Option<Name> {
    if text == "." || text.eq_ignore_ascii_case("root") {
        return Some(Name::root());
    }
    let mut name = Name::from_ascii(text).ok()?;
    name.set_fqdn(true);
    Some(canonical_name(&name))
}

fn name_matches(origin: &Name, name: &Name, pattern: &str) -> bool {
    let absolute = |relative: &str| -> Option<Name> {
        if relative.ends_with('.') {
            Name::from_ascii(relative).ok()
        } else if relative == "@" {
            Some(origin.clone())
        } else {
            Name::from_ascii(relative).ok()?.append_domain(origin).ok()
        }
    };
    match pattern.strip_prefix("*.") {
        Some(rest) => absolute(rest)
            .map(|base| base.zone_of(name) && base.num_labels() < name.num_labels())
            .unwrap_or(false),
        None => absolute(pattern)
            .map(|n| canonical_name(&n) == *name)
            .unwrap_or(false),
    }
}

fn config_error(path: &Path, line: usize, column: usize, message: impl Into<String>) -> Error {
    Error::Config {
        path: PathBuf::from(path),
        line,
        column,
        message: message.into(),
    }
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, column)
}

/// Line and column of the first occurrence of a value, for errors found after parsing.
/// The most further tries after a timeout.
const MAX_RETRIES: u32 = 10;

/// Why an alert target cannot be used: only http(s) URLs and `env:VAR` are.
pub fn check_notify_target(target: &str) -> Result<(), String> {
    if let Some(var) = target.strip_prefix("env:") {
        return if var.is_empty() {
            Err("notify target \"env:\" names no environment variable".into())
        } else {
            Ok(())
        };
    }
    let rest = target
        .strip_prefix("https://")
        .or_else(|| target.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.starts_with('/') => Ok(()),
        _ => Err(format!(
            "notify target {target:?} is not an http(s) URL or env:VARIABLE: alerts could never be delivered"
        )),
    }
}

/// Line and column of a top-level `key = …` (not of the word inside a comment or a value).
fn key_place(text: &str, key: &str) -> (usize, usize) {
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix(key) {
            if rest.trim_start().starts_with('=') {
                return (index + 1, line.len() - trimmed.len() + 1);
            }
        }
    }
    (0, 0)
}

/// 1-based line and column of the first `needle` in `text`; (0, 0) when absent.
pub(crate) fn find_line(text: &str, needle: &str) -> (usize, usize) {
    text.find(needle)
        .map(|offset| line_column(text, offset))
        .unwrap_or((0, 0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn a_config_that_is_not_utf8_is_an_error_at_its_place() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(CONFIG_FILE), b"retries = 1\n# caf\xe9\n").unwrap();
        let error = Config::load(dir.path()).unwrap_err().to_string();
        assert!(error.contains("dns-audit.toml:2:6:"), "{error}");
        assert!(error.contains("not UTF-8"), "{error}");
    }

    #[test]
    fn zones_override_defaults() {
        let text = r#"
timeout_ms = 500
ignore_types = ["rrsig"]
[zones."bots.example.net"]
nameservers = ["127.0.0.1:5300", "::1", "ns1=127.0.0.1:15301"]
ttl = "warn"
"#;
        let config = Config::parse(Path::new("c.toml"), text).unwrap();
        let zone = config.zone(&Name::from_str("bots.example.net.").unwrap());
        assert_eq!(zone.nameservers.len(), 3);
        assert_eq!(zone.nameservers[1].addr.port(), 53);
        assert_eq!(zone.nameservers[0].label, "127.0.0.1:5300");
        // Named as --nameserver names them: reports, metrics and webhooks say ns1.
        assert_eq!(zone.nameservers[2].label, "ns1");
        assert_eq!(zone.nameservers[2].addr.port(), 15301);
        assert_eq!(zone.ttl, TtlPolicy::Warn);
        assert_eq!(zone.ignore_types, vec![RecordType::RRSIG]);
        assert_eq!(config.query.timeout, Duration::from_millis(500));
    }

    #[test]
    fn errors_carry_line_and_column() {
        let text = "timeout_ms = 500\nbogus_key = 1\n";
        let err = Config::parse(Path::new("c.toml"), text)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("c.toml:2:1:"), "{err}");
        let text = "[zones.\"x.net\"]\nnameservers = [\"not-an-ip\"]\n";
        let err = Config::parse(Path::new("c.toml"), text)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("c.toml:2:17:"), "{err}");
    }

    #[test]
    fn ages_and_times_parse() {
        assert_eq!(parse_age("30m"), Some(1800));
        assert_eq!(parse_age("7d"), Some(604_800));
        assert_eq!(parse_age("7x"), None);
        assert_eq!(parse_age("d"), None);
        assert_eq!(parse_since("24h", 100_000), Some(13_600));
        assert_eq!(parse_since("2026-11-24T12:00:00Z", 0), Some(1_795_521_600));
        assert_eq!(parse_since("yesterday", 0), None);
        assert_eq!(parse_age("1h30m"), Some(5400));
        assert_eq!(parse_age("2w"), Some(1_209_600));
        assert_eq!(parse_age("1h30"), None, "a number needs its unit");
        assert_eq!(parse_age("30x5m"), None);
        assert_eq!(parse_since("2026-11-24", 0), Some(1_795_478_400));
        assert_eq!(parse_since("2026-13-01", 0), None);
    }

    #[test]
    fn ignore_patterns_match_names_and_subtrees() {
        let origin = Name::from_str("z.net.").unwrap();
        let name = |s: &str| Name::from_str(s).unwrap();
        assert!(name_matches(&origin, &name("_acme.bh1.z.net."), "*.bh1"));
        assert!(!name_matches(&origin, &name("bh1.z.net."), "*.bh1"));
        assert!(name_matches(
            &origin,
            &name("bh1.z.net."),
            "BH1".to_lowercase().as_str()
        ));
        assert!(name_matches(&origin, &name("z.net."), "@"));
    }
}
