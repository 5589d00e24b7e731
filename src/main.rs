//! The `dns-audit` binary: flags in, library calls, output and exit code out.

// No unwrap or expect outside tests: a panic is never the answer to a bad zone file, packet or
// store (clippy.toml lets tests unwrap).
#![warn(clippy::unwrap_used, clippy::expect_used)]

mod cli;
mod manual;

use std::process::ExitCode;

use clap::Parser;
use dns_audit::check::{self, Started};
use dns_audit::exit;
use dns_audit::render::{self, human::Style, Format};
use dns_audit::report::Report;

use crate::cli::{
    CheckArgs, Cli, Command, DemoArgs, ImportArgs, LintArgs, LintFormatArg, RecentArgs, ShowArgs,
};

fn main() -> ExitCode {
    let cli = Cli::parse();
    logs(cli.verbose);
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
    if matches!(cli.command, Command::Check(_) | Command::Recent(_)) {
        runtime.spawn(stop_on_signals());
    }
    let result = match &cli.command {
        Command::Check(args) => run_check(&cli, args, &runtime),
        Command::Recent(args) => run_recent(&cli, args, &runtime),
        Command::Lint(args) => run_lint(&cli, args),
        Command::Show(args) => run_show(args),
        Command::Import(args) => run_import(args, &runtime),
        Command::Demo(args) => run_demo(&cli, args, &runtime),
        Command::Completions { shell } => run_completions(*shell),
        Command::Man { dir } => run_man(dir.as_deref()),
    };
    match result {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(error) => fail(&error.to_string()),
    }
}

/// SIGINT or SIGTERM stops the asking: the run ends with what it has (the rest unknown, exit
/// 3) and still writes its report, metrics file and store, and says it was stopped. A second
/// signal ends the process at once.
async fn stop_on_signals() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        return;
    };
    let name = tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    };
    dns_audit::transport::stop_asking(format!("the run was stopped by {name}"));
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    std::process::exit(130);
}

/// A subcommand's exit code, or why it could not run (exit 2).
type Outcome = Result<i32, Box<dyn std::error::Error>>;

/// A progress line on stderr while a run takes longer than a second (servers asked, queries
/// sent, transfer records read): only on a terminal, never in pipes, CI logs, JSON or
/// `--quiet` output.
struct ProgressLine {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ProgressLine {
    fn start(wanted: bool) -> ProgressLine {
        use std::io::IsTerminal;
        use std::sync::atomic::{AtomicBool, Ordering};
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let ci = std::env::var_os("CI").is_some() || std::env::var_os("GITHUB_ACTIONS").is_some();
        if !wanted || ci || !std::io::stderr().is_terminal() {
            return ProgressLine { stop, thread: None };
        }
        let flag = std::sync::Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let tick = std::time::Duration::from_millis(100);
            for _ in 0..10 {
                if flag.load(Ordering::Relaxed) {
                    return;
                }
                std::thread::sleep(tick);
            }
            // A spinner draws on stderr, and only when it is a terminal.
            let bar = indicatif::ProgressBar::new_spinner();
            while !flag.load(Ordering::Relaxed) {
                let (servers, queries, records) = dns_audit::progress::snapshot();
                bar.set_message(format!(
                    "asking: {servers} servers, {queries} queries, {records} transfer records read"
                ));
                bar.tick();
                std::thread::sleep(tick);
            }
            bar.finish_and_clear();
        });
        ProgressLine {
            stop,
            thread: Some(thread),
        }
    }

    fn stop(self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(thread) = self.thread {
            let _ = thread.join();
        }
    }
}

/// `-v`: what is asked of whom, on stderr; `-vv`: every query too. Off by default.
fn logs(verbose: u8) {
    use std::io::IsTerminal;
    let level = match verbose {
        0 => return,
        1 => tracing::Level::INFO,
        _ => tracing::Level::DEBUG,
    };
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .init();
}

/// `check`, and its metrics when it could not audit (exit 2 or 4): a run that audits writes
/// its own.
fn run_check(cli: &Cli, args: &CheckArgs, runtime: &tokio::runtime::Runtime) -> Outcome {
    let result = audit(cli, args, runtime);
    let failed = match &result {
        Err(_) => Some(exit::USAGE),
        Ok(code) if *code == exit::LOCKED => Some(exit::LOCKED),
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

fn audit(cli: &Cli, args: &CheckArgs, runtime: &tokio::runtime::Runtime) -> Outcome {
    let config = args.config()?;
    if args.plan {
        let expected = check::load(&config)?;
        let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
        let written = check::write_query_plan(&expected, &mut out);
        // The process ends here: freeing a zone of millions of records one by one would take
        // longer than the system takes to reclaim it whole.
        std::mem::forget(expected);
        return match written {
            // A reader that has seen enough (`| head`) is not an error.
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
            _ => Ok(exit::CLEAN),
        };
    }
    let human = args.format.format() == Format::Human;
    let line = ProgressLine::start(human && !args.quiet && cli.verbose == 0);
    let started = runtime.block_on(check::run(&config));
    line.stop();
    let mut run = match started? {
        Started::Locked(lock) => {
            eprintln!(
                "dns-audit: another check is still running (lock {}); not starting a second one",
                lock.display()
            );
            return Ok(exit::LOCKED);
        }
        Started::Ran(run) => run,
    };
    let report = &run.report;
    let mut style = cli.style(args.quiet);
    style.expand = cli.verbose > 0;
    print_report(report, args.format.format(), style, report.started());
    if let Some(path) = &args.metrics_file {
        let text = render::prometheus::render(report, report.started());
        if let Err(e) = dns_audit::files::write_atomically(path, text.as_bytes()) {
            eprintln!("dns-audit: metrics not written to {}: {e}", path.display());
        }
    }
    for note in &run.notes {
        eprintln!("dns-audit: {note}");
    }
    for note in run.finish() {
        eprintln!("dns-audit: {note}");
    }
    if let Some(why) = dns_audit::transport::stopped() {
        eprintln!("dns-audit: stopped: {why}; what was not asked is unknown, never matching");
    }
    Ok(run.report.exit_code)
}

/// `recent`: a fresh check (unless offline, recorded like any run), then history and git.
fn run_recent(cli: &Cli, args: &RecentArgs, runtime: &tokio::runtime::Runtime) -> Outcome {
    let config = args.config(jiff::Timestamp::now().as_second())?;
    let run = runtime.block_on(dns_audit::recent_command::run(&config))?;
    for note in &run.notes {
        eprintln!("dns-audit: {note}");
    }
    match args.format.format() {
        Format::Json => println!("{}", serde_json::to_string_pretty(&run.recent)?),
        _ => print!(
            "{}",
            dns_audit::render::recent::human(&run.recent, cli.style(false))
        ),
    }
    Ok(run.recent.exit_code())
}

fn run_lint(cli: &Cli, args: &LintArgs) -> Outcome {
    let config = dns_audit::lint::run::LintConfig {
        expected: args.dir.path()?,
        base: args.base.clone(),
        allow_mass_change: args.allow_mass_change,
    };
    let report = dns_audit::lint::run::run(&config)?;
    let text = match args.format {
        LintFormatArg::Human => render::lint::human(&report, cli.style(false).colour, args.explain),
        LintFormatArg::Json => render::lint::json(&report),
        LintFormatArg::Github => render::lint::github(&report),
        LintFormatArg::Sarif => render::lint::sarif(&report),
    };
    print!("{text}");
    Ok(report.exit_code(args.strict))
}

fn run_show(args: &ShowArgs) -> Outcome {
    let loaded = dns_audit::show::load(&args.config()?)?;
    print!("{}", render::zone::listing(&loaded.zone));
    Ok(exit::CLEAN)
}

fn run_import(args: &ImportArgs, runtime: &tokio::runtime::Runtime) -> Outcome {
    let config = args.config()?;
    let imported = runtime.block_on(dns_audit::import::import(&config))?;
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
    Ok(exit::CLEAN)
}

fn run_demo(cli: &Cli, args: &DemoArgs, runtime: &tokio::runtime::Runtime) -> Outcome {
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
        if let Some(resolver) = run.resolver {
            println!(
                "\nThen bh17's stray A was removed from ns1 and ns2. A caching resolver in front of ns1\n\
                 had answered a user while it was there; asked now (check --resolver {resolver}):\n"
            );
            for finding in &run.resolver_view {
                println!("  {}: {}", finding.kind.label(), finding.why);
            }
        }
    } else {
        print_report(&run.report, format, style, 0);
    }
    if !run.mismatch.is_empty() {
        for problem in &run.mismatch {
            eprintln!("demo: FAILED: {problem}");
        }
        return Ok(exit::DRIFT);
    }
    if format == Format::Human {
        println!(
            "\ndemo: OK, check and recent found exactly the replayed incident (check exits {}), and the\nresolver view found the cached stray A after the fix.",
            run.report.exit_code
        );
    }
    Ok(exit::CLEAN)
}

/// The completion script, generated from the flags themselves.
fn run_completions(shell: clap_complete::Shell) -> Outcome {
    use std::io::Write;
    std::io::stdout().write_all(&cli::completion_script(shell))?;
    Ok(exit::CLEAN)
}

/// The manual pages, generated from the flags and their help: the main page on stdout, or
/// every page written into `dir`.
fn run_man(dir: Option<&std::path::Path>) -> Outcome {
    use std::io::Write;
    let command = <Cli as clap::CommandFactory>::command();
    let pages = manual::pages(command).map_err(|e| format!("cannot render the manual: {e}"))?;
    let Some(dir) = dir else {
        std::io::stdout().write_all(&pages[0].1)?;
        return Ok(exit::CLEAN);
    };
    for (name, page) in &pages {
        let path = dir.join(name);
        std::fs::write(&path, page).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    println!("{} manual pages written to {}", pages.len(), dir.display());
    Ok(exit::CLEAN)
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
    ExitCode::from(exit::USAGE as u8)
}
