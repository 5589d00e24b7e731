//! The `dns-audit` binary: flags in, library calls, output and exit code out.

mod cli;

use std::process::ExitCode;

use clap::Parser;
use dns_audit::check::check;
use dns_audit::expected::load_expected;
use dns_audit::history::{History, HistoryError};
use dns_audit::lock::{lock_path, RunLock};
use dns_audit::render::{self, human::Style, Format};
use dns_audit::report::{Report, EXIT_USAGE};

use crate::cli::{
    CheckArgs, Cli, Command, DemoArgs, ImportArgs, LintArgs, LintFormatArg, RecentArgs, ShowArgs,
};

/// Exit code: another check holds the run lock (nothing was audited).
const EXIT_LOCKED: i32 = 4;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // One thread: an audit is sending and parsing packets, and handing each answer to another
    // thread cost more than it saved (the root zone by queries: 306 ms on two threads, 258 ms
    // on one, with the server on the other core).
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return fail(&format!("cannot start the async runtime: {e}")),
    };
    let result = match &cli.command {
        Command::Check(args) => run_check(&cli, args, &runtime),
        Command::Recent(args) => run_recent(&cli, args, &runtime),
        Command::Lint(args) => run_lint(&cli, args),
        Command::Show(args) => run_show(args),
        Command::Import(args) => run_import(args, &runtime),
        Command::Demo(args) => run_demo(&cli, args, &runtime),
    };
    match result {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(message) => fail(&message),
    }
}

/// `check`, and its metrics when it could not audit (exit 2 or 4): a run that audits writes
/// its own.
fn run_check(
    cli: &Cli,
    args: &CheckArgs,
    runtime: &tokio::runtime::Runtime,
) -> Result<i32, String> {
    let result = audit(cli, args, runtime);
    let failed = match &result {
        Err(_) => Some(EXIT_USAGE),
        Ok(code) if *code == EXIT_LOCKED => Some(EXIT_LOCKED),
        Ok(_) => None,
    };
    if let (Some(code), Some(path)) = (failed, &args.metrics_file) {
        let now = jiff::Timestamp::now().as_second();
        let text = render::prometheus::render_failed_run(code, now);
        if let Err(e) = dns_audit::files::write_atomically(path, text.as_bytes()) {
            eprintln!("dns-audit: metrics not written to {}: {e}", path.display());
        }
    }
    result
}

fn audit(cli: &Cli, args: &CheckArgs, runtime: &tokio::runtime::Runtime) -> Result<i32, String> {
    let clock = std::time::Instant::now();
    let config = args.config()?;
    let mut expected = load_expected(&config.expected, &config.zones).map_err(|e| e.to_string())?;
    if let Some(mode) = config.axfr {
        expected.config.force_axfr(mode);
    }
    if args.plan {
        print!("{}", dns_audit::check::query_plan(&expected));
        return Ok(0);
    }
    let base = args.base.clone().or_else(|| {
        std::env::var("GITHUB_BASE_REF")
            .ok()
            .filter(|r| !r.is_empty())
            .map(|r| format!("origin/{r}"))
    });
    if let Some(rev) = base {
        expected.allowed_servers = Some(dns_audit::expected::allowed_at(&config.expected, &rev)?);
    }
    let targets: Vec<String> = expected
        .config
        .notify
        .iter()
        .chain(&args.notify)
        .cloned()
        .collect();
    let mut history = None;
    let mut _lock = None;
    let mut unrecorded: Option<String> = None;
    if args.no_record {
        if !targets.is_empty() {
            eprintln!("dns-audit: alerts need the history store (it remembers what was sent); none sent with --no-record");
        }
    } else {
        let (path, explicit) = history_path(&args.source.state, &expected.config)?;
        // The store is opened (and checked to be ours) before the lock is taken beside it:
        // nothing is written next to a file that is not a dns-audit store. A store that cannot
        // be used never hides the audit: the run goes on unrecorded and says so.
        match History::open_in(&path, !explicit) {
            Ok(store) => {
                let lock = lock_path(&path);
                match RunLock::acquire(&lock, args.wait)
                    .map_err(|e| format!("{}: {e}", lock.display()))?
                {
                    Some(held) => _lock = Some(held),
                    None => {
                        eprintln!(
                            "dns-audit: another check is still running (lock {}); not starting a second one",
                            lock.display()
                        );
                        return Ok(EXIT_LOCKED);
                    }
                }
                history = Some(store);
            }
            Err(e @ HistoryError::Io { .. }) if explicit => {
                return Err(format!(
                    "{e} (give --state a file in an existing directory)"
                ))
            }
            Err(e) => {
                unrecorded = Some(format!(
                    "{e}. Move the file aside (a new store is made in its place) or run with --no-record"
                ));
            }
        }
    }
    let load_ms = clock.elapsed().as_millis() as u64;
    let (mut report, not_recorded) =
        runtime.block_on(check(&expected, &config.nameservers, history.as_mut()));
    // The summary's time is the whole run, loading included.
    report.load_ms = Some(load_ms);
    report.revision = Some(dns_audit::expected::revision_of(&config.expected));
    report.duration_ms = clock.elapsed().as_millis() as u64;
    if let Some(e) = not_recorded {
        unrecorded = Some(format!("{e}. Run with --no-record to skip the store"));
    }
    report.not_recorded = unrecorded.clone();
    let started = report
        .started_at
        .parse::<jiff::Timestamp>()
        .map(|t| t.as_second())
        .unwrap_or_default();
    let mut style = cli.style(args.quiet);
    style.expand = args.verbose;
    print_report(&report, args.format.format(), style, started);
    if let Some(path) = &args.metrics_file {
        let text = render::prometheus::render(&report, started);
        if let Err(e) = dns_audit::files::write_atomically(path, text.as_bytes()) {
            eprintln!("dns-audit: metrics not written to {}: {e}", path.display());
        }
    }
    if let Some(why) = &unrecorded {
        eprintln!("dns-audit: this run was not recorded: {why}");
        if !targets.is_empty() {
            eprintln!("dns-audit: alerts not sent: they need the history store (it remembers what was sent)");
        }
    }
    if let Some(history) = history.as_mut() {
        if !targets.is_empty() {
            let format = args
                .notify_format
                .map_or(expected.config.notify_format, |f| f.format());
            let timeout = expected.config.notify_timeout;
            for failure in
                dns_audit::notify::send_alerts(&report, history, &targets, format, timeout)
            {
                eprintln!("dns-audit: {failure}");
            }
        }
        if let Some(keep) = args.keep {
            if let Err(e) = history.prune(started - keep) {
                eprintln!("dns-audit: old history not pruned: {e}");
            }
        }
    }
    Ok(report.exit_code)
}

/// `recent`: a fresh check (unless offline, recorded like any run), then history and git.
fn run_recent(
    cli: &Cli,
    args: &RecentArgs,
    runtime: &tokio::runtime::Runtime,
) -> Result<i32, String> {
    let now = jiff::Timestamp::now().as_second();
    let since = dns_audit::config::parse_since(&args.since, now).ok_or_else(|| {
        format!(
            "bad --since {:?}: expected 30m, 24h, 7d or an RFC 3339 time",
            args.since
        )
    })?;
    let zones = args.zones()?;
    let expected = load_expected(&args.source.dir.expected, &zones).map_err(|e| e.to_string())?;
    let (path, explicit) = history_path(&args.source.state, &expected.config)?;
    // --offline only reads: the store is opened read-only (no file, lock or journal made), so
    // on-call can read the service user's store; a missing one is said, not created.
    let (history, drift) = if args.offline {
        let history = History::open_read_only(&path).map_err(|e| e.to_string())?;
        (history, None)
    } else {
        let mut history = History::open_in(&path, !explicit).map_err(|e| e.to_string())?;
        let (report, not_recorded) = runtime.block_on(check(
            &expected,
            &args.source.nameserver,
            Some(&mut history),
        ));
        if let Some(e) = not_recorded {
            eprintln!("dns-audit: this check was not recorded: {e}");
        }
        (Some(history), Some(report))
    };
    let store = match &history {
        Some(history) => {
            let (runs, first_run) = history.summary().map_err(|e| e.to_string())?;
            dns_audit::recent::Store {
                path: path.display().to_string(),
                exists: true,
                runs,
                first_run,
            }
        }
        None => dns_audit::recent::Store {
            path: path.display().to_string(),
            exists: false,
            runs: 0,
            first_run: None,
        },
    };
    let repo = match dns_audit::git::Repo::find(&args.source.dir.expected) {
        Ok(repo) => Some(repo),
        Err(e) => {
            eprintln!("dns-audit: no commits shown: {e}");
            None
        }
    };
    let query = dns_audit::recent::RecentQuery {
        since,
        now,
        host: args.host.clone(),
    };
    let mut recent = dns_audit::recent::gather(&expected, history.as_ref(), repo.as_ref(), &query)?;
    recent.drift = drift;
    recent.store = Some(store);
    match args.format.format() {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&recent).map_err(|e| e.to_string())?
        ),
        _ => print!(
            "{}",
            dns_audit::render::recent::human(&recent, cli.style(false))
        ),
    }
    Ok(recent.exit_code())
}

fn run_lint(cli: &Cli, args: &LintArgs) -> Result<i32, String> {
    let config = dns_audit::lint::run::LintConfig {
        expected: args.dir.expected.clone(),
        base: args.base.clone(),
        allow_mass_change: args.allow_mass_change,
    };
    let report = dns_audit::lint::run::run(&config).map_err(|e| e.to_string())?;
    let text = match args.format {
        LintFormatArg::Human => render::lint::human(&report, cli.style(false).colour),
        LintFormatArg::Json => render::lint::json(&report),
        LintFormatArg::Github => render::lint::github(&report),
        LintFormatArg::Sarif => render::lint::sarif(&report),
    };
    print!("{text}");
    Ok(report.exit_code(args.strict))
}

fn run_show(args: &ShowArgs) -> Result<i32, String> {
    let loaded = dns_audit::show::load(&args.config()?).map_err(|e| e.to_string())?;
    print!("{}", render::zone::listing(&loaded.zone));
    Ok(0)
}

fn run_import(args: &ImportArgs, runtime: &tokio::runtime::Runtime) -> Result<i32, String> {
    let config = args.config()?;
    let imported = runtime
        .block_on(dns_audit::import::import(&config))
        .map_err(|e| e.to_string())?;
    if let Some(why) = &imported.transfer_failure {
        eprintln!(
            "dns-audit: the zone transfer failed ({why}); read by queries instead: names not in --names are not in the file"
        );
    }
    println!(
        "wrote {} ({} records, by {} from {})",
        imported.zone_file.display(),
        imported.records,
        imported.method,
        config.server.addr
    );
    println!("{}", imported.config_note);
    Ok(0)
}

fn run_demo(cli: &Cli, args: &DemoArgs, runtime: &tokio::runtime::Runtime) -> Result<i32, String> {
    let run = runtime.block_on(dns_audit::demo::run())?;
    let format = args.format.format();
    let style = cli.style(false);
    if format == Format::Human {
        let servers: Vec<String> = run
            .servers
            .iter()
            .map(|s| format!("{}={}", s.label, s.addr))
            .collect();
        println!(
            "dns-audit demo: the example fleet (expected-records/bots.example.net.zone) is served"
        );
        println!(
            "on two loopback servers. A check ran while all was well; then, while bh18 was being"
        );
        println!(
            "set up, an A record with bh18's address (203.0.113.18) landed on bh17 by hand.\n"
        );
        println!(
            "$ dns-audit check --nameserver {}\n",
            servers.join(" --nameserver ")
        );
        print_report(&run.report, format, style, 0);
        println!("\n$ dns-audit recent --offline\n");
        print!("{}", dns_audit::render::recent::human(&run.recent, style));
    } else {
        print_report(&run.report, format, style, 0);
    }
    if !run.mismatch.is_empty() {
        for problem in &run.mismatch {
            eprintln!("demo: FAILED: {problem}");
        }
        return Ok(1);
    }
    if format == Format::Human {
        println!(
            "\ndemo: OK, check and recent found exactly the replayed incident (check exits {}).",
            run.report.exit_code
        );
    }
    Ok(0)
}

/// The history store: `--state` (or DNS_AUDIT_STATE), else the config's `state`, else the
/// platform default; and whether it was named (then its directory must exist).
fn history_path(
    flag: &Option<std::path::PathBuf>,
    config: &dns_audit::config::Config,
) -> Result<(std::path::PathBuf, bool), String> {
    if let Some(path) = flag.clone().or_else(|| config.state.clone()) {
        return Ok((path, true));
    }
    dns_audit::history::default_path()
        .map(|path| (path, false))
        .ok_or_else(|| {
            "no place for the history store: set --state, `state` in the config, or HOME".into()
        })
}

fn print_report(report: &Report, format: Format, style: Style, started: i64) {
    let text = match format {
        Format::Human => render::human::render(report, style),
        Format::Json => render::json::render(report),
        Format::Prometheus => render::prometheus::render(report, started),
    };
    print!("{text}");
}

fn fail(message: &str) -> ExitCode {
    eprintln!("dns-audit: {message}");
    ExitCode::from(EXIT_USAGE as u8)
}
