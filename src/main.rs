//! The `dns-audit` binary: flags in, library call, report out, exit code.

mod cli;

use std::process::ExitCode;

use clap::Parser;
use dns_audit::check::{check, load_expected};
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
            let report = runtime.block_on(check(&expected, &config.nameservers));
            print_report(&report, args.format.format(), cli.style(args.quiet));
            report.exit_code
        }
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
                println!("on two loopback servers with the Bot-Host #17 incident replayed: while bh18 was set up,");
                println!("an A record with bh18's address (203.0.113.18) landed on bh17.\n");
                println!(
                    "$ dns-audit check --nameserver {}\n",
                    servers.join(" --nameserver ")
                );
            }
            print_report(&run.report, format, cli.style(false));
            if run.mismatch.is_empty() {
                if format == Format::Human {
                    println!("\ndemo: OK, the audit found exactly the replayed incident (check exits {}).", run.report.exit_code);
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
