//! The `dns-audit` binary: flags in, library call, report out, exit code.

mod cli;

use std::process::ExitCode;

use clap::Parser;
use dns_audit::check::{check, load_expected};
use dns_audit::history::History;
use dns_audit::render::{self, human::Style, Format};
use dns_audit::report::{Report, EXIT_USAGE};

use crate::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return fail(&format!("cannot start the async runtime: {e}")),
    };
    let code = match &cli.command {
        Command::Check(args) => {
            let config = match args.config() {
                Ok(config) => config,
                Err(e) => return fail(&e),
            };
            let mut expected = match load_expected(&config.expected, &config.zones) {
                Ok(expected) => expected,
                Err(e) => return fail(&e.to_string()),
            };
            if let Some(mode) = config.axfr {
                expected.config.force_axfr(mode);
            }
            if args.plan {
                print!("{}", dns_audit::check::query_plan(&expected));
                return ExitCode::SUCCESS;
            }
            let mut history = None;
            if !args.no_record {
                match open_history(&args.source.state, &expected.config) {
                    Ok(opened) => history = Some(opened),
                    Err(e) => return fail(&e),
                }
            }
            let (report, not_recorded) =
                runtime.block_on(check(&expected, &config.nameservers, history.as_mut()));
            print_report(&report, args.format.format(), cli.style(args.quiet));
            if let Some(e) = not_recorded {
                eprintln!("dns-audit: this run was not recorded: {e}");
            }
            if let (Some(history), Some(keep)) = (history.as_mut(), args.keep) {
                let cutoff = jiff::Timestamp::now().as_second() - keep;
                if let Err(e) = history.prune(cutoff) {
                    eprintln!("dns-audit: old history not pruned: {e}");
                }
            }
            report.exit_code
        }
        Command::Recent(args) => match recent(&cli, args, &runtime) {
            Ok(code) => code,
            Err(e) => return fail(&e),
        },
        Command::Demo(args) => {
            let run = match runtime.block_on(dns_audit::demo::run()) {
                Ok(run) => run,
                Err(e) => return fail(&e),
            };
            let format = args.format.format();
            if format == Format::Human {
                let servers: Vec<String> = run
                    .servers
                    .iter()
                    .map(|s| format!("{}={}", s.label, s.addr))
                    .collect();
                println!("dns-audit demo: the example fleet (expected-records/bots.example.net.zone) is served");
                println!("on two loopback servers. A check ran while all was well; then, while bh18 was being");
                println!("set up, an A record with bh18's address (203.0.113.18) landed on bh17 by hand.\n");
                println!(
                    "$ dns-audit check --nameserver {}\n",
                    servers.join(" --nameserver ")
                );
                print_report(&run.report, format, cli.style(false));
                println!("\n$ dns-audit recent --offline\n");
                print!(
                    "{}",
                    dns_audit::recent::render_human(&run.recent, cli.style(false))
                );
            } else {
                print_report(&run.report, format, cli.style(false));
            }
            if run.mismatch.is_empty() {
                if format == Format::Human {
                    println!("\ndemo: OK, check and recent found exactly the replayed incident (check exits {}).", run.report.exit_code);
                }
                0
            } else {
                for problem in &run.mismatch {
                    eprintln!("demo: FAILED: {problem}");
                }
                1
            }
        }
    };
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// `recent`: a fresh check (unless offline, recorded like any run), then history and git.
fn recent(
    cli: &Cli,
    args: &cli::RecentArgs,
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
    let expected = load_expected(&args.source.expected, &zones).map_err(|e| e.to_string())?;
    let mut history = open_history(&args.source.state, &expected.config)?;
    let drift = if args.offline {
        None
    } else {
        let (report, not_recorded) = runtime.block_on(check(
            &expected,
            &args.source.nameserver,
            Some(&mut history),
        ));
        if let Some(e) = not_recorded {
            eprintln!("dns-audit: this check was not recorded: {e}");
        }
        Some(report)
    };
    let repo = match dns_audit::git::Repo::find(&args.source.expected) {
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
    let mut recent = dns_audit::recent::gather(&expected, Some(&history), repo.as_ref(), &query)?;
    recent.drift = drift;
    match args.format.format() {
        Format::Human => print!(
            "{}",
            dns_audit::recent::render_human(&recent, cli.style(false))
        ),
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&recent).map_err(|e| e.to_string())?
        ),
    }
    // Exit like check: 1 when something needs a look (unexplained change or drift).
    let drift_code = recent.drift.as_ref().map_or(0, |r| r.exit_code);
    Ok(if !recent.unexplained.is_empty() {
        1
    } else {
        drift_code
    })
}

/// Opens the history store: `--state`, else the config's `state`, else the platform default.
fn open_history(
    flag: &Option<std::path::PathBuf>,
    config: &dns_audit::config::Config,
) -> Result<History, String> {
    let path = flag
        .clone()
        .or_else(|| config.state.clone())
        .or_else(dns_audit::history::default_path)
        .ok_or("no place for the history store: set --state, `state` in the config, or HOME")?;
    History::open(&path).map_err(|e| e.to_string())
}

fn print_report(report: &Report, format: Format, style: Style) {
    let text = match format {
        Format::Human => render::human::render(report, style),
        Format::Json => render::json::render(report),
    };
    print!("{text}");
}

fn fail(message: &str) -> ExitCode {
    eprintln!("dns-audit: {message}");
    ExitCode::from(EXIT_USAGE as u8)
}
