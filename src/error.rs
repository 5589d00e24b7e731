//! Errors that stop a run before or instead of an audit (exit code 2).

use std::fmt;
use std::path::PathBuf;

use crate::zonefile::ZoneError;

/// What went wrong, with the place to look.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The config file is malformed.
    #[error("{}", config_message(path, *line, *column, message))]
    Config {
        /// The config file.
        path: PathBuf,
        /// 1-based line, 0 when unknown.
        line: usize,
        /// 1-based column, 0 when unknown.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// One or more zone files are malformed; every error is listed.
    #[error("{}", ZoneErrors(.0))]
    Zone(Vec<ZoneError>),
    /// A file or directory could not be read.
    #[error("{}: {source}", crate::escape::terminal(&path.display().to_string()))]
    Io {
        /// What was being read.
        path: PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
    /// The command line or its combination with the files makes no sense.
    #[error("{0}")]
    Usage(String),
}

fn config_message(path: &std::path::Path, line: usize, column: usize, message: &str) -> String {
    let path = crate::escape::terminal(&path.display().to_string());
    let message = crate::escape::terminal(message.trim_end());
    match (line, column) {
        (0, _) => format!("{path}: {message}"),
        (line, 0) => format!("{path}:{line}: {message}"),
        (line, column) => format!("{path}:{line}:{column}: {message}"),
    }
}

struct ZoneErrors<'a>(&'a [ZoneError]);

impl fmt::Display for ZoneErrors<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, err) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{err}")?;
        }
        Ok(())
    }
}
