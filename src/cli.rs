//! Command-line flags, and their translation into the plain configs the library takes.
//! This is the only place flags are interpreted.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use dns_audit::check::CheckConfig;
use dns_audit::config::{parse_zone_name, AxfrMode, ResolverSpec};
use dns_audit::observe::Nameserver;
use dns_audit::render::human::Style;
use dns_audit::render::Format;

/// Keeps a fleet's DNS honest: compares live authoritative answers with versioned zone files.
#[derive(Debug, Parser)]
#[command(name = "dns-audit", version, about, long_about = None)]
pub struct Cli {
    /// Colour in human output.
    #[arg(long, value_enum, default_value_t = ColourChoice::Auto, global = true)]
    pub color: ColourChoice,
    /// More: -v, one line per finding (even where many hosts share one) and what is asked of
    /// whom on stderr; -vv, every query too.
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Ask every authoritative server of every zone and compare with expected-records.
    ///
    /// Exit codes: 0 no drift, 1 drift, 2 bad usage/config/zone file, 3 incomplete (a server
    /// could not be asked, and no drift was seen on the rest).
    Check(CheckArgs),
    /// What changed lately: live changes no commit explains (on top), commits, drift now.
    ///
    /// Exit codes: 1 a live change no commit explains still served, or drift now; else as check
    /// (0 clean, 3 incomplete); 2 bad usage, config, zone file or history store.
    Recent(RecentArgs),
    /// Validate the zone files and flag changes that look like typos (pre-deploy, in CI).
    ///
    /// Exit codes: 0 clean (warnings allowed unless --strict), 1 findings, 2 bad usage or config.
    Lint(LintArgs),
    /// Print a zone as dns-audit reads it: one record per line, absolute names, TTLs in
    /// seconds, DNSSEC order (after $INCLUDE, $GENERATE, $TTL and relative names).
    ///
    /// Exit codes: 0 shown, 2 the file does not load (every error with file:line:column).
    Show(ShowArgs),
    /// Write a first expected-records zone file from what a server serves (by zone transfer,
    /// or name by name with --names), and name the server in dns-audit.toml.
    ///
    /// Exit codes: 0 written, 2 nothing written (the file exists without --force, the server
    /// refused or could not answer, bad flags).
    Import(ImportArgs),
    /// Replay the Bot-Host #17 incident on two loopback servers and audit them.
    Demo(DemoArgs),
    /// Print the shell completion script for SHELL (e.g. `dns-audit completions bash >
    /// /etc/bash_completion.d/dns-audit`).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff; `dns-audit man > dns-audit.1; man ./dns-audit.1`), or with
    /// --dir write every page: dns-audit(1) and one per subcommand (dns-audit-check(1), ...).
    Man {
        /// Write dns-audit.1 and dns-audit-SUBCOMMAND.1 here (e.g. /usr/local/share/man/man1).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// The completion script for `shell`, for both names (`dns-audit` and `audit`).
///
/// clap_complete 4.6's bash script spells a hyphenated program's states two ways (the loop
/// sets `dns__audit__subcmd__check`, the arms read `dns__subcmd__audit__subcmd__check`, clap
/// issue 6421), so nothing past the subcommand completed: the arms are spelled as the loop
/// spells them here.
pub fn completion_script(shell: clap_complete::Shell) -> Vec<u8> {
    let mut command = <Cli as clap::CommandFactory>::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "dns-audit", &mut script);
    let text = String::from_utf8_lossy(&script);
    let text = match shell {
        clap_complete::Shell::Bash => text
            .replace("dns__subcmd__audit__", "dns__audit__")
            .replace(" -o default dns-audit\n", " -o default dns-audit audit\n"),
        clap_complete::Shell::Zsh => {
            text.replacen("#compdef dns-audit\n", "#compdef dns-audit audit\n", 1)
        }
        _ => text.into_owned(),
    };
    text.into_bytes()
}

/// `import` flags.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The zone to import.
    #[arg(value_name = "ZONE")]
    pub zone: String,
    /// The authoritative server to read it from.
    #[arg(long, value_name = "[NAME=]HOST[:PORT]", value_parser = parse_nameserver)]
    pub server: Nameserver,
    /// Names to ask for one by one when the server refuses a transfer (one per line).
    #[arg(long, value_name = "FILE")]
    pub names: Option<PathBuf>,
    #[command(flatten)]
    pub dir: ExpectedDir,
    /// Replace an existing zone file.
    #[arg(long)]
    pub force: bool,
}

impl ImportArgs {
    /// The plain config `import` takes.
    pub fn config(&self) -> Result<dns_audit::import::ImportConfig, String> {
        let zone =
            parse_zone_name(&self.zone).ok_or_else(|| format!("bad zone name {:?}", self.zone))?;
        Ok(dns_audit::import::ImportConfig {
            zone,
            server: self.server.clone(),
            names: self.names.clone(),
            expected: self.dir.path_or_new(),
            force: self.force,
        })
    }
}

/// `show` flags.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// A zone file, or the name of a zone in the expected-records directory.
    #[arg(value_name = "ZONEFILE|ZONE")]
    pub target: String,
    #[command(flatten)]
    pub dir: ExpectedDir,
    /// The zone's name, when the file is not named `<zone>.zone`.
    #[arg(long, value_name = "NAME")]
    pub origin: Option<String>,
    /// Where `$INCLUDE` paths resolve [default: the config's include_root for a file in
    /// expected-records, else the file's directory].
    #[arg(long, value_name = "DIR")]
    pub include_root: Option<PathBuf>,
}

impl ShowArgs {
    /// The plain config `show` takes.
    pub fn config(&self) -> Result<dns_audit::show::ShowConfig, String> {
        let origin = match &self.origin {
            Some(text) => {
                Some(parse_zone_name(text).ok_or_else(|| format!("bad zone name {text:?}"))?)
            }
            None => None,
        };
        Ok(dns_audit::show::ShowConfig {
            target: self.target.clone(),
            expected: self.dir.path_or_new(),
            origin,
            include_root: self.include_root.clone(),
        })
    }
}

/// `lint` flags.
#[derive(Debug, Args)]
pub struct LintArgs {
    #[command(flatten)]
    pub dir: ExpectedDir,
    /// Compare with the merge base of this revision and HEAD (e.g. origin/main).
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = LintFormatArg::Human)]
    pub format: LintFormatArg,
    /// Fail on warnings too.
    #[arg(long)]
    pub strict: bool,
    /// Allow a change of more than `mass_change_share` of a zone at once.
    #[arg(long)]
    pub allow_mass_change: bool,
    /// Also say how lint reads each zone (serials, naming) and from what evidence.
    #[arg(long)]
    pub explain: bool,
}

/// `lint --format` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LintFormatArg {
    /// For people.
    Human,
    /// Versioned JSON (dns-audit.lint/1).
    Json,
    /// GitHub Actions workflow commands (annotations on the pull request).
    Github,
    /// SARIF 2.1.0 for code scanning.
    Sarif,
}

/// `recent` flags.
#[derive(Debug, Args)]
pub struct RecentArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Window: an age (30m, 24h, 7d, 1h30m), a date (2026-11-29) or an RFC 3339 time.
    #[arg(long, default_value = "24h", value_name = "AGE|TIME")]
    pub since: String,
    /// Only this zone (repeatable).
    #[arg(long, value_name = "NAME")]
    pub zone: Vec<String>,
    /// Only this host (the label below the apex, e.g. bh17).
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,
    /// Also ask this recursive resolver (repeatable; adds to the config's `resolvers`): after a
    /// fix, whether it still serves the old answer.
    #[arg(long, value_name = "IP[:PORT]|system", value_parser = parse_resolver)]
    pub resolver: Vec<ResolverSpec>,
    /// Read only git and the history store; no fresh check.
    #[arg(long)]
    pub offline: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Human)]
    pub format: FormatArg,
}

impl RecentArgs {
    /// The flags as the library takes them; `now` anchors --since.
    pub fn config(&self, now: i64) -> Result<dns_audit::recent_command::RecentConfig, String> {
        let since = dns_audit::config::parse_since(&self.since, now).ok_or_else(|| {
            format!(
                "bad --since {:?}: expected {}",
                self.since,
                dns_audit::config::SINCE_FORMS
            )
        })?;
        let zones = self
            .zone
            .iter()
            .map(|z| parse_zone_name(z).ok_or_else(|| format!("bad zone name {z:?}")))
            .collect::<Result<_, _>>()?;
        Ok(dns_audit::recent_command::RecentConfig {
            expected: self.source.dir.path()?,
            zones,
            resolvers: self.resolver.clone(),
            nameservers: self.source.nameserver.clone(),
            state: self.source.state.clone(),
            offline: self.offline,
            query: dns_audit::recent::RecentQuery {
                since,
                now,
                host: self.host.clone(),
            },
        })
    }
}

/// `--expected DIR`, as every subcommand that reads or writes expected-records takes it.
#[derive(Debug, Args)]
pub struct ExpectedDir {
    /// The expected-records directory (zone files and dns-audit.toml) [default: found as git
    /// finds its repository: ./expected-records or a parent's, up to the repository root; or
    /// the current directory when it holds dns-audit.toml]
    #[arg(long = "expected", value_name = "DIR", env = "DNS_AUDIT_EXPECTED")]
    pub given: Option<PathBuf>,
}

impl ExpectedDir {
    /// The directory: as given, else discovered from the current directory.
    pub fn path(&self) -> Result<PathBuf, String> {
        match &self.given {
            Some(dir) => Ok(dir.clone()),
            None => {
                let here = std::env::current_dir()
                    .map_err(|e| format!("cannot read the current directory: {e}"))?;
                dns_audit::expected::discover(&here).map_err(|e| e.to_string())
            }
        }
    }

    /// For writing (import): as given, else the one discovered, else `./expected-records`.
    pub fn path_or_new(&self) -> PathBuf {
        self.path()
            .unwrap_or_else(|_| PathBuf::from(dns_audit::expected::DIR_NAME))
    }
}

/// Flags every subcommand that reads expected-records shares.
#[derive(Debug, Args)]
pub struct SourceArgs {
    #[command(flatten)]
    pub dir: ExpectedDir,
    /// Ask this server instead of the config's or the NS records' (repeatable).
    #[arg(long, value_name = "[NAME=]HOST[:PORT]", value_parser = parse_nameserver)]
    pub nameserver: Vec<Nameserver>,
    /// The history store [default: the config's `state`, else $XDG_STATE_HOME/dns-audit/history.sqlite].
    #[arg(long, value_name = "PATH", env = "DNS_AUDIT_STATE")]
    pub state: Option<PathBuf>,
}

/// `check` flags.
#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Audit only this zone (repeatable; default: every zone file).
    #[arg(long, value_name = "NAME")]
    pub zone: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormatArg::Human)]
    pub format: CheckFormatArg,
    /// Also write the metrics (Prometheus textfile format) to this file, atomically.
    #[arg(long, value_name = "PATH")]
    pub metrics_file: Option<PathBuf>,
    /// POST an alert to this webhook when a zone's state changes (repeatable; adds to the config's).
    #[arg(long, value_name = "URL", value_parser = parse_notify)]
    pub notify: Vec<String>,
    /// Alert message shape [default: the config's, else json].
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub notify_format: Option<NotifyFormatArg>,
    /// Pull-request safety: ask only the nameservers that dns-audit.toml names at the merge base
    /// of REV and HEAD (and --nameserver ones). Default under GitHub Actions pull requests:
    /// origin/$GITHUB_BASE_REF.
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,
    /// When another check holds the lock, wait for it instead of exiting with code 4.
    #[arg(long)]
    pub wait: bool,
    /// Print nothing when all is well; only the findings otherwise.
    #[arg(long, short)]
    pub quiet: bool,
    /// Do not record this run in the history store.
    #[arg(long)]
    pub no_record: bool,
    /// Forget history older than this (30d, 12w, …) after recording [default: keep everything].
    #[arg(long, value_name = "AGE", value_parser = parse_keep, conflicts_with = "no_record")]
    pub keep: Option<i64>,
    /// Print the queries the audit would send (NAME TYPE per line, dnsperf's format) and exit.
    #[arg(long)]
    pub plan: bool,
    /// Read zones by transfer (AXFR): auto falls back to queries where refused [default: the config's, else auto].
    #[arg(long, value_enum, value_name = "MODE")]
    pub axfr: Option<AxfrArg>,
    /// Wait this long for one answer (e.g. 500ms, 2s) [default: the config's timeout_ms, else 1.5 s].
    #[arg(long, value_name = "TIME", value_parser = parse_timeout)]
    pub timeout: Option<std::time::Duration>,
    /// Further tries after a timeout, with backoff (0 to 10) [default: the config's, else 2].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=10))]
    pub retries: Option<u32>,
    /// Also ask this recursive resolver what it serves of the names that drift or were fixed
    /// within their TTL: IP, IP:PORT, IP@PORT or "system" (repeatable; adds to the config's `resolvers`).
    #[arg(long, value_name = "IP[:PORT]|system", value_parser = parse_resolver)]
    pub resolver: Vec<ResolverSpec>,
}

fn parse_resolver(text: &str) -> Result<ResolverSpec, String> {
    text.parse()
}

/// `--axfr` values.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum AxfrArg {
    /// Transfer where allowed, else ask name by name.
    Auto,
    /// Transfer only; a refused transfer is a failure.
    Always,
    /// Ask name by name.
    Never,
}

/// `demo` flags.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Output format of the audit.
    #[arg(long, value_enum, default_value_t = FormatArg::Human)]
    pub format: FormatArg,
}

/// `check --format` values.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum CheckFormatArg {
    /// For people.
    Human,
    /// Versioned JSON (docs/json-schema.md).
    Json,
    /// Prometheus text format (node_exporter textfile collector).
    Prometheus,
}

/// `--notify-format` values.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum NotifyFormatArg {
    /// Slack incoming webhook.
    Slack,
    /// Discord webhook.
    Discord,
    /// The structured event.
    Json,
}

impl NotifyFormatArg {
    /// The library's format.
    pub fn format(self) -> dns_audit::notify::NotifyFormat {
        match self {
            NotifyFormatArg::Slack => dns_audit::notify::NotifyFormat::Slack,
            NotifyFormatArg::Discord => dns_audit::notify::NotifyFormat::Discord,
            NotifyFormatArg::Json => dns_audit::notify::NotifyFormat::Json,
        }
    }
}

impl CheckFormatArg {
    /// The renderer's format.
    pub fn format(self) -> Format {
        match self {
            CheckFormatArg::Human => Format::Human,
            CheckFormatArg::Json => Format::Json,
            CheckFormatArg::Prometheus => Format::Prometheus,
        }
    }
}

/// `--format` values.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum FormatArg {
    /// For people.
    Human,
    /// Versioned JSON (docs/json-schema.md).
    Json,
}

/// `--color` values.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ColourChoice {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// `[NAME=]IP[:PORT]`, `IP@PORT`, or a host name (with a port the same ways), resolved once
/// through hickory-resolver with the system's configuration (`localhost`, a name from
/// /etc/hosts); of its addresses the first IPv4 one is asked, else the first.
fn parse_nameserver(text: &str) -> Result<Nameserver, String> {
    let by_address = text.parse::<Nameserver>();
    let (label, rest) = match text.split_once('=') {
        Some((label, rest)) if !label.is_empty() => (Some(label), rest),
        _ => (None, text),
    };
    let (host, port) = dns_audit::config::split_port(rest)?;
    if by_address.is_ok() || host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[') {
        return by_address;
    }
    // The one resolver path (hickory-resolver, the system's configuration and hosts file),
    // on a runtime of its own: flags are read before the audit's runtime starts.
    let resolved = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("bad nameserver {text:?}: cannot resolve {host:?}: {e}"))?
        .block_on(dns_audit::resolvers::addresses_of(host, Default::default()))
        .map_err(|e| format!("bad nameserver {text:?}: cannot resolve {host:?}: {e}"))?;
    let ip = resolved
        .into_iter()
        .min_by_key(std::net::IpAddr::is_ipv6)
        .ok_or_else(|| format!("bad nameserver {text:?}: {host:?} has no address"))?;
    let addr = std::net::SocketAddr::new(ip, port);
    Ok(Nameserver {
        label: label.unwrap_or(host).to_string(),
        addr,
    })
}

/// `500ms`, `2s`, `1m`, or a number of milliseconds.
fn parse_timeout(text: &str) -> Result<std::time::Duration, String> {
    let millis = match text.strip_suffix("ms") {
        Some(ms) => ms.parse::<u64>().ok(),
        None => text.parse::<u64>().ok().or_else(|| {
            dns_audit::config::parse_age(text)
                .and_then(|s| u64::try_from(s).ok()?.checked_mul(1000))
        }),
    };
    let max = dns_audit::config::MAX_TIMEOUT_MS;
    millis
        .filter(|ms| (1..=max).contains(ms))
        .map(std::time::Duration::from_millis)
        .ok_or_else(|| {
            format!("bad timeout {text:?}: expected e.g. 500ms, 2s (above 0, at most {max}ms)")
        })
}

fn parse_notify(text: &str) -> Result<String, String> {
    dns_audit::config::check_notify_target(text).map(|()| text.to_string())
}

fn parse_keep(text: &str) -> Result<i64, String> {
    dns_audit::config::parse_age(text)
        .ok_or_else(|| format!("bad age {text:?}: expected e.g. 90d, 12w, 24h"))
}

impl FormatArg {
    /// The renderer's format.
    pub fn format(self) -> Format {
        match self {
            FormatArg::Human => Format::Human,
            FormatArg::Json => Format::Json,
        }
    }
}

impl Cli {
    /// The human layout for stdout.
    pub fn style(&self, quiet: bool) -> Style {
        let colour = match self.color {
            ColourChoice::Always => true,
            ColourChoice::Never => false,
            // As the conventions have it (anstyle-query reads them): NO_COLOR wins, then
            // CLICOLOR_FORCE, then CLICOLOR=0; else only on a terminal whose TERM is not dumb.
            ColourChoice::Auto => {
                !anstyle_query::no_color()
                    && (anstyle_query::clicolor_force()
                        || (anstyle_query::clicolor() != Some(false)
                            && std::io::stdout().is_terminal()
                            && anstyle_query::term_supports_color()))
            }
        };
        Style {
            colour,
            quiet,
            expand: false,
        }
    }
}

impl CheckArgs {
    /// The check config these flags ask for.
    pub fn config(&self) -> Result<CheckConfig, String> {
        let zones = self
            .zone
            .iter()
            .map(|z| parse_zone_name(z).ok_or_else(|| format!("bad zone name {z:?}")))
            .collect::<Result<_, _>>()?;
        // On a GitHub pull request, the base branch's servers only, unless --base says.
        let base = self.base.clone().or_else(|| {
            std::env::var("GITHUB_BASE_REF")
                .ok()
                .filter(|r| !r.is_empty())
                .map(|r| format!("origin/{r}"))
        });
        Ok(CheckConfig {
            expected: self.source.dir.path()?,
            zones,
            nameservers: self.source.nameserver.clone(),
            axfr: self.axfr.map(|mode| match mode {
                AxfrArg::Auto => AxfrMode::Auto,
                AxfrArg::Always => AxfrMode::Always,
                AxfrArg::Never => AxfrMode::Never,
            }),
            base,
            record: !self.no_record,
            state: self.source.state.clone(),
            wait: self.wait,
            notify: self.notify.clone(),
            notify_format: self.notify_format.map(NotifyFormatArg::format),
            keep: self.keep,
            timeout: self.timeout,
            retries: self.retries,
            resolvers: self.resolver.clone(),
        })
    }
}
