//! The `check` job: load expected records, observe every server of every zone, compare, judge.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

use hickory_proto::rr::Name;

use crate::compare::compare_zone;
use crate::config::AxfrMode;
use crate::config::NotifyFormat;
use crate::error::Error;
use crate::expected::{allowed_at, load_expected, revision_of, Expected};
use crate::history::{store_path, History, HistoryError, RunSummary, ZoneObservations};
use crate::lock::{lock_path, RunLock};
use crate::model::present_name;
use crate::observe::{nameservers, observe_zone, plan, Nameserver, ServerView, Transfers};
use crate::report::{Finding, Kind, Report, ZoneReport};

mod chain;
mod resolver_view;

pub use resolver_view::finding as resolver_finding;

/// Everything `check` needs, as resolved from flags, environment and files.
#[derive(Clone, Debug, Default)]
pub struct CheckConfig {
    /// The expected-records directory.
    pub expected: PathBuf,
    /// Zones to audit (empty: all).
    pub zones: Vec<Name>,
    /// Addresses that replace every zone's nameservers (empty: none).
    pub nameservers: Vec<Nameserver>,
    /// Transfer mode forced on every zone (None: the config's).
    pub axfr: Option<AxfrMode>,
    /// Ask only the servers the config names at this revision's merge base (CI on a pull
    /// request), besides `nameservers`.
    pub base: Option<String>,
    /// Record the run in the history store (alerts need it).
    pub record: bool,
    /// The history store (None: the config's `state`, else the default place).
    pub state: Option<PathBuf>,
    /// Wait for a run that holds the lock instead of not starting.
    pub wait: bool,
    /// Alert webhooks, besides the config's.
    pub notify: Vec<String>,
    /// Alert message shape (None: the config's).
    pub notify_format: Option<NotifyFormat>,
    /// Forget history older than this many seconds.
    pub keep: Option<i64>,
    /// Wait this long for one answer (None: the config's).
    pub timeout: Option<std::time::Duration>,
    /// Further tries after a timeout (None: the config's).
    pub retries: Option<u32>,
    /// Recursive resolvers asked about every zone, besides the config's.
    pub resolvers: Vec<crate::config::ResolverSpec>,
}

/// How a run began.
pub enum Started {
    /// Another run holds the store's lock (this lock file): nothing was audited.
    Locked(PathBuf),
    /// The audit ran.
    Ran(Box<Run>),
}

/// A finished audit, with the store it was recorded in (locked until the run is dropped).
pub struct Run {
    /// The report (`not_recorded` says why the store could not take it).
    pub report: Report,
    /// What could not be done around the audit, for stderr (alerts, the store, pruning).
    pub notes: Vec<String>,
    history: Option<History>,
    _lock: Option<RunLock>,
    alerts: Vec<String>,
    notify_format: NotifyFormat,
    notify_timeout: std::time::Duration,
    keep: Option<i64>,
}

/// expected-records as this run reads it: the files, with the command line's transfer mode,
/// timeout and retries over the config's.
pub fn load(config: &CheckConfig) -> Result<Expected, Error> {
    let mut expected = load_expected(&config.expected, &config.zones)?;
    crate::lint::run::unknown_waivers(&expected.dir, &expected.config)?;
    overrule(&mut expected.config, config);
    Ok(expected)
}

/// The command line's transfer mode, timeout, retries and resolvers over the config's.
fn overrule(settings: &mut crate::config::Config, config: &CheckConfig) {
    if let Some(mode) = config.axfr {
        settings.force_axfr(mode);
    }
    if let Some(timeout) = config.timeout {
        settings.query.timeout = timeout;
    }
    if let Some(retries) = config.retries {
        settings.query.retries = retries;
    }
    settings.add_resolvers(&config.resolvers);
}

/// Starts the zone transfers whose servers are known before the zone files are read: those
/// of `--nameserver`, else the config's `nameservers` (not under `--base`, where the base
/// branch's config says which may be asked). A setting or file that does not read starts
/// none: loading says what is wrong. Nor while another run holds the store's lock: this one
/// is about to wait or to stop, and should not have asked anything.
fn start_transfers(config: &CheckConfig) -> Transfers {
    let transfers = Transfers::default();
    let Ok(mut settings) = crate::config::Config::load(&config.expected) else {
        return transfers;
    };
    overrule(&mut settings, config);
    if config.record && !lock_is_free(config, &settings) {
        return transfers;
    }
    let Ok(zones) = crate::expected::zone_names(&config.expected, &config.zones, &settings) else {
        return transfers;
    };
    for origin in zones {
        let zone = settings.zone(&origin);
        if zone.axfr == AxfrMode::Never {
            continue;
        }
        let servers: Vec<std::net::SocketAddr> = match &config.nameservers[..] {
            [] if config.base.is_some() => continue,
            [] => zone.nameservers.iter().map(|s| s.addr).collect(),
            overrides => overrides.iter().map(|s| s.addr).collect(),
        };
        for addr in servers {
            transfers.start(origin.clone(), addr, settings.query, zone.tsig.clone());
        }
    }
    transfers
}

/// [`load`], on another thread while transfers are under way, so that this one receives them
/// meanwhile.
async fn load_beside(config: &CheckConfig, transfers: &Transfers) -> Result<Expected, Error> {
    if transfers.is_empty() {
        return load(config);
    }
    let owned = config.clone();
    let loading = tokio::task::spawn_blocking(move || load(&owned));
    loading.await.map_err(|e| {
        Error::Usage(format!(
            "loading the zone files failed: {e}; please report it"
        ))
    })?
}

/// Whether the run lock of the store is free now (it is taken for real after loading).
/// Nothing is made here: not the store's directory (one that does not exist is an error,
/// said after loading), nor a lock file (none is written beside a file that turns out not to
/// be a store); where there is none, no run holds it.
fn lock_is_free(config: &CheckConfig, settings: &crate::config::Config) -> bool {
    let Ok((store, _)) = store_path(config.state.as_deref(), settings) else {
        return false;
    };
    let lock = lock_path(&store);
    if !lock
        .parent()
        .is_some_and(|dir| dir.as_os_str().is_empty() || dir.is_dir())
    {
        return false;
    }
    !lock.exists() || matches!(RunLock::acquire(&lock, false), Ok(Some(_)))
}

/// Loads expected-records, opens and locks the history store, audits and records. A store
/// that cannot be used never hides the audit: it runs unrecorded and says so.
pub async fn run(config: &CheckConfig) -> Result<Started, CheckError> {
    let clock = Instant::now();
    let transfers = start_transfers(config);
    let mut expected = load_beside(config, &transfers).await?;
    // The run's time limit counts from its start, loading included.
    let query = &mut expected.config.query;
    query.deadline = Some(clock + query.max_run_time);
    if let Some(rev) = &config.base {
        let allowed = allowed_at(&config.expected, rev)?;
        expected.allowed_servers = Some(allowed);
    }
    let mut notes = input_notes(&expected);
    let alerts = alert_targets(&expected, config);
    let (mut history, mut lock, mut unrecorded) = if config.record {
        match open_store(config, &expected)? {
            Opened::Locked(path) => return Ok(Started::Locked(path)),
            Opened::Store(history, lock) => (Some(history), Some(lock), None),
            Opened::Unusable(why) => (None, None, Some(why)),
        }
    } else {
        if !alerts.is_empty() {
            notes.push("alerts need the history store (it remembers what was sent); none sent with --no-record".into());
        }
        (None, None, None)
    };
    let load_ms = clock.elapsed().as_millis() as u64;
    let (mut report, not_recorded) =
        audit(&expected, &config.nameservers, history.as_mut(), &transfers).await;
    // The summary's time is the whole run, loading included.
    report.load_ms = Some(load_ms);
    report.revision = Some(revision_of(&config.expected));
    report.duration_ms = clock.elapsed().as_millis() as u64;
    if let Some(e) = not_recorded {
        unrecorded = Some(not_taken(e, &mut lock));
    }
    report.not_recorded = unrecorded.clone();
    if let Some(why) = unrecorded {
        notes.push(format!("this run was not recorded: {why}"));
        if !alerts.is_empty() {
            notes.push(
                "alerts not sent: they need the history store (it remembers what was sent)".into(),
            );
        }
    }
    Ok(Started::Ran(Box::new(Run {
        report,
        notes,
        history,
        _lock: lock,
        alerts,
        notify_format: config
            .notify_format
            .unwrap_or(expected.config.notify_format),
        notify_timeout: expected.config.notify_timeout,
        keep: config.keep,
    })))
}

/// Why the store did not take the run, for the user. A store found damaged inside keeps
/// nothing of this run beside it: the lock file this run made goes too.
fn not_taken(e: HistoryError, lock: &mut Option<RunLock>) -> String {
    if let (HistoryError::Foreign { .. }, Some(held)) = (&e, lock.take()) {
        held.release_leaving_nothing();
    }
    format!("{e}. Run with --no-record to skip the store")
}

/// Where alerts go: the config's targets, then the command line's.
fn alert_targets(expected: &Expected, config: &CheckConfig) -> Vec<String> {
    let configured = expected.config.notify.iter();
    configured.chain(&config.notify).cloned().collect()
}

/// The `*.zone` files that name no zone (never skipped silently), the records BIND would
/// ignore (outside the zone), then the `ignore_names`
/// entries that match no name of their zone file and no waiver covers, as
/// lint says them (file:line:column): said on every run, like every setting the audit cannot
/// use, until fixed or waived.
fn input_notes(expected: &Expected) -> Vec<String> {
    let waivers = &expected.config.waivers;
    let mut notes = expected.unread.clone();
    for loaded in &expected.zones {
        notes.extend(loaded.ignored.iter().map(|e| {
            let note = format!(
                "{}:{}:{}: warning: {}",
                e.file.display(),
                e.line,
                e.column,
                e.message
            );
            crate::escape::terminal(&note)
        }));
        let unused =
            crate::lint::run::unused_ignores(&expected.dir, &expected.config, &loaded.zone);
        notes.extend(
            unused
                .iter()
                .filter(|f| !waivers.iter().any(|w| crate::lint::waiver_matches(w, f)))
                .map(|f| {
                    let note = format!("{}:{}:{}: {}", f.file, f.line, f.column, f.message);
                    crate::escape::terminal(&note)
                }),
        );
    }
    notes
}

/// Why `check` could not audit (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// expected-records, the config, or the base revision's config.
    #[error(transparent)]
    Input(#[from] Error),
    /// The history store named cannot be placed or made.
    #[error(transparent)]
    Store(#[from] HistoryError),
    /// The named store's directory does not exist.
    #[error("{0} (give --state a file in an existing directory)")]
    StoreDirectory(HistoryError),
    /// The run lock beside the store could not be taken.
    #[error("{}: {source}", crate::escape::terminal(&path.display().to_string()))]
    Lock {
        /// The lock file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The history store of a run, as it could be opened.
enum Opened {
    Store(History, RunLock),
    Locked(PathBuf),
    Unusable(String),
}

/// Opens the store, and checks it is ours, before taking the lock beside it: nothing is
/// written next to a file that is not a dns-audit store.
fn open_store(config: &CheckConfig, expected: &Expected) -> Result<Opened, CheckError> {
    let (path, named) = store_path(config.state.as_deref(), &expected.config)?;
    match History::open_in(&path, !named) {
        Ok(store) => {
            let lock = lock_path(&path);
            match RunLock::acquire(&lock, config.wait) {
                Ok(Some(held)) => Ok(Opened::Store(store, held)),
                Ok(None) => Ok(Opened::Locked(lock)),
                Err(source) => Err(CheckError::Lock { path: lock, source }),
            }
        }
        Err(e @ HistoryError::Io { .. }) if named => Err(CheckError::StoreDirectory(e)),
        Err(e) => Ok(Opened::Unusable(format!("{e}. {}", e.advice()))),
    }
}

impl Run {
    /// After the report is out: alerts on changes of state, then pruning. Returns what could
    /// not be done.
    pub fn finish(&mut self) -> Vec<String> {
        let mut notes = Vec::new();
        let Some(history) = self.history.as_mut() else {
            return notes;
        };
        notes.extend(history.read_note.take());
        if !self.alerts.is_empty() {
            notes.extend(crate::notify::send_alerts(
                &self.report,
                history,
                &self.alerts,
                self.notify_format,
                self.notify_timeout,
            ));
        }
        if let Some(keep) = self.keep {
            if let Err(e) = history.prune(self.report.started() - keep) {
                notes.push(format!("old history not pruned: {e}"));
            }
        }
        notes
    }
}

/// Writes the queries an audit by queries sends, one `NAME TYPE` line each (dnsperf's input
/// format): per zone, the SOA, then every distinct question of the plan (glue is read from its
/// delegation's NS referral, signatures from the answers they come with).
pub fn write_query_plan(expected: &Expected, out: &mut impl std::io::Write) -> std::io::Result<()> {
    let mut line = String::new();
    for loaded in &expected.zones {
        let zone = &loaded.zone;
        let plan = plan(zone, expected.config.zone(&zone.origin));
        // Questions come name by name: each name is written out once.
        let mut last: Option<(&hickory_proto::rr::Name, String)> = None;
        for question in crate::observe::questions(zone, &plan).0 {
            let shown = match &last {
                Some((name, shown)) if std::ptr::eq(*name, question.name) => shown,
                _ => &last.insert((question.name, present_name(question.name))).1,
            };
            line.clear();
            line.push_str(shown);
            line.push(' ');
            line.push_str(<&str>::from(question.rtype));
            line.push('\n');
            out.write_all(line.as_bytes())?;
        }
    }
    out.flush()
}

/// Audits every zone of `expected` on its servers (or on `overrides`). With a `history`, what
/// every server answered is recorded there as changes, in one transaction after the audit; a
/// failure to record is returned beside the report, which stands on its own.
pub async fn check(
    expected: &Expected,
    overrides: &[Nameserver],
    history: Option<&mut History>,
) -> (Report, Option<HistoryError>) {
    audit(expected, overrides, history, &Transfers::default()).await
}

/// [`check`], taking the zone transfers already started in `transfers`.
async fn audit(
    expected: &Expected,
    overrides: &[Nameserver],
    history: Option<&mut History>,
    transfers: &Transfers,
) -> (Report, Option<HistoryError>) {
    let started = jiff::Timestamp::now();
    let clock = Instant::now();
    // Every server of every zone stops being asked at the same moment (`max_run_time`).
    let mut query = expected.config.query;
    query.deadline = query.deadline.or(Some(clock + query.max_run_time));
    let mut reports: Vec<ZoneReport> = Vec::new();
    let mut observed = Vec::new();
    let mut links = Vec::new();
    for loaded in &expected.zones {
        let zone = &loaded.zone;
        let plan = plan(zone, expected.config.zone(&zone.origin));
        let (report, views) = audit_zone(
            expected,
            (zone, &plan),
            overrides,
            (history.as_deref(), transfers),
            (started, query),
        )
        .await;
        reports.push(report);
        links.push((zone, chain::Links::of(zone, &plan, &views)));
        if history.is_some() {
            observed.push((zone, plan, views));
        }
    }
    chain::check_links(&links, &mut reports);
    let duration_ms = u64::try_from(clock.elapsed().as_millis()).unwrap_or(u64::MAX);
    let report = Report::new(started.to_string(), duration_ms, reports);
    let failure = history.and_then(|history| {
        let run = RunSummary::of(&report, started.as_second());
        let zones: Vec<ZoneObservations<'_, '_>> = observed
            .iter()
            .map(|(zone, plan, views)| ZoneObservations {
                expected: zone,
                plan,
                views,
            })
            .collect();
        history.record(&run, &zones).err()
    });
    (report, failure)
}

/// One zone: its servers (those the base branch allows), what each serves, the comparison,
/// and since when each finding has been served.
async fn audit_zone<'z>(
    expected: &Expected,
    (zone, plan): (&'z crate::model::Zone, &[crate::observe::Probe<'z>]),
    overrides: &[Nameserver],
    (history, transfers): (Option<&History>, &Transfers),
    (started, query): (jiff::Timestamp, crate::config::QuerySettings),
) -> (ZoneReport, Vec<ServerView>) {
    let settings = expected.config.zone(&zone.origin);
    let now = u64::try_from(started.as_second()).unwrap_or(0);
    // Without a readable history every serial is new: propagation is assumed to have just
    // begun (a warning), never drift.
    let serials = history
        .and_then(|h| h.serials(&present_name(&zone.origin)).ok())
        .unwrap_or_default();
    let servers = match nameservers(zone, settings, overrides).await {
        Ok(servers) => servers,
        Err(why) => {
            let mut report = compare_zone(zone, settings, plan, &[], now, &serials);
            report.server_findings.push(no_servers(zone, why));
            return (report, Vec::new());
        }
    };
    let (servers, refused): (Vec<_>, Vec<_>) = servers.into_iter().partition(|s| {
        expected
            .allowed_servers
            .as_ref()
            .is_none_or(|allowed| allowed.contains(&s.addr) || overrides.contains(s))
    });
    let views = if servers.is_empty() {
        Vec::new()
    } else {
        observe_zone(zone, plan, servers, (query, settings), transfers).await
    };
    let mut report = compare_zone(zone, settings, plan, &views, now, &serials);
    let file = expected
        .dir
        .join(crate::zonefile::file_name_for_zone(&zone.origin));
    report.zone_file = Some(file.display().to_string());
    if let Some(history) = history {
        let addresses: HashMap<&str, String> = views
            .iter()
            .map(|v| (v.server.label.as_str(), v.server.addr.to_string()))
            .collect();
        annotate_since(history, &mut report, &addresses, started.as_second());
    }
    if !settings.resolvers.is_empty() {
        let at = (zone, plan, views.as_slice());
        ask_resolvers(at, expected, &mut report, history, started.as_second()).await;
    }
    for server in refused {
        report.server_findings.push(not_allowed(zone, &server));
    }
    if views.is_empty() && report.server_findings.is_empty() {
        report
            .server_findings
            .push(no_servers(zone, "no nameserver addresses found".into()));
    }
    (report, views)
}

/// The resolver view: what the zone's resolvers serve of the names that drift or changed
/// lately, as findings on the zone.
async fn ask_resolvers<'z>(
    (zone, plan, views): (
        &'z crate::model::Zone,
        &[crate::observe::Probe<'z>],
        &[ServerView],
    ),
    expected: &Expected,
    report: &mut ZoneReport,
    history: Option<&History>,
    now: i64,
) {
    let settings = expected.config.zone(&zone.origin);
    let limit = expected.config.query.max_resolver_questions;
    let (questions, scope) = resolver_view::questions(
        (zone, settings.host_depth),
        (plan, views),
        report,
        (history, limit),
        now,
    );
    report.resolver_scope = scope;
    if questions.is_empty() {
        return;
    }
    let answers =
        crate::resolvers::ask(&settings.resolvers, &questions, expected.config.query).await;
    let served: Vec<(String, String, Vec<String>)> = report
        .hosts
        .iter()
        .flat_map(|h| &h.findings)
        .filter(|f| f.severity == crate::report::Severity::Drift && !f.seen.is_empty())
        .map(|f| (f.name.clone(), f.rtype.clone(), f.seen.clone()))
        .collect();
    report.server_findings.extend(
        answers
            .iter()
            .filter_map(|answer| resolver_view::finding(answer, &served)),
    );
    report.resolvers = answers;
}

/// A server the base branch's config does not name, not asked (CI on a pull request).
fn not_allowed(zone: &crate::model::Zone, server: &Nameserver) -> Finding {
    let mut finding = no_servers(
        zone,
        format!(
            "{} ({}) is not among the nameservers the base branch's config allows: not asked",
            server.label, server.addr
        ),
    );
    finding.kind = Kind::NotAllowed;
    finding.servers = vec![crate::escape::terminal(&server.label)];
    finding
}

/// Findings looked up in the history at most, per zone: a mass failure stays fast.
const SINCE_LOOKUPS: usize = 1000;

/// Fills in since when the servers of each finding about data have served what it reports:
/// the earliest time one of them started to (a state no earlier run saw is new now).
/// `addresses` gives each server name of the report its address, which the history is keyed by.
fn annotate_since(
    history: &History,
    report: &mut ZoneReport,
    addresses: &HashMap<&str, String>,
    now: i64,
) {
    let about_data = |kind: Kind| {
        matches!(
            kind,
            Kind::MissingRrset | Kind::WrongValue | Kind::ExtraType | Kind::UnexpectedName
        )
    };
    let findings = report.hosts.iter_mut().flat_map(|host| &mut host.findings);
    for finding in findings.filter(|f| about_data(f.kind)).take(SINCE_LOOKUPS) {
        let Ok(states) = history.latest(&report.zone, &finding.name, &finding.rtype) else {
            continue;
        };
        let present = finding.kind != Kind::MissingRrset;
        let since = finding
            .servers
            .iter()
            .map(|server| {
                states
                    .iter()
                    .find(|s| {
                        // Rows of an older store are keyed by name until this run moves them.
                        let same = addresses.get(server.as_str()) == Some(&s.address)
                            || s.address == *server;
                        same && s.present == present && (!present || s.values == finding.seen)
                    })
                    .map_or(now, |s| s.since)
            })
            .min();
        finding.since = since.and_then(crate::report::timestamp);
    }
}

fn no_servers(zone: &crate::model::Zone, why: String) -> Finding {
    let why = crate::escape::terminal(&why);
    let mut finding = crate::compare::server_finding(zone, Kind::Unreachable, "", why);
    finding.servers.clear();
    finding.rtype = "NS".into();
    finding
}
