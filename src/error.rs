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
    /// git failed on a repository that exists (a base revision that is not there, …).
    #[error(transparent)]
    Git(#[from] crate::git::GitError),
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

/// Errors shown per file on a terminal; the rest are counted (`lint --format json` keeps all).
pub const SHOWN_PER_FILE: usize = 50;

impl fmt::Display for ZoneErrors<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut lines = Vec::new();
        let mut at = 0;
        while at < self.0.len() {
            let file = &self.0[at].file;
            let same = self.0[at..].iter().take_while(|e| &e.file == file).count();
            for err in &self.0[at..at + same.min(SHOWN_PER_FILE)] {
                lines.push(err.to_string());
            }
            if same > SHOWN_PER_FILE {
                let more = same - SHOWN_PER_FILE;
                let file = crate::escape::terminal(&file.display().to_string());
                lines.push(format!(
                    "{file}: and {more} more errors in this file ({same} in all)"
                ));
            }
            at += same;
        }
        write!(f, "{}", lines.join("\n"))
    }
}
