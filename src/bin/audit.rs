//! `audit`: dns-audit under the name on-call types (`audit recent`, `audit check`). Installed
//! beside `dns-audit` by `cargo install`; it runs that program with the same arguments.

use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let program = std::env::current_exe()
        .ok()
        .and_then(|me| {
            Some(
                me.parent()?
                    .join(format!("dns-audit{}", std::env::consts::EXE_SUFFIX)),
            )
        })
        .filter(|path| path.exists())
        .unwrap_or_else(|| "dns-audit".into());
    let mut command = Command::new(&program);
    command.args(std::env::args_os().skip(1));
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let error = command.exec();
        eprintln!("audit: cannot run {}: {error}", program.display());
        ExitCode::from(2)
    }
    #[cfg(not(unix))]
    match command.status() {
        Ok(status) => ExitCode::from(u8::try_from(status.code().unwrap_or(2)).unwrap_or(2)),
        Err(error) => {
            eprintln!("audit: cannot run {}: {error}", program.display());
            ExitCode::from(2)
        }
    }
}
