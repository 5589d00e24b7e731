//! Reading the history of expected-records with the `git` command-line tool.
//!
//! Every revision and path goes after `--end-of-options` or `--`, revisions given by users may
//! not start with `-`, and git runs with a fixed environment: no pager, no prompts, no fsmonitor
//! or hooks from the repository, so nothing in the zone directory is executed.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Errors from git.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// git could not be started.
    #[error("cannot run git: {0}")]
    Spawn(std::io::Error),
    /// git failed.
    #[error("git {args}: {stderr}")]
    Failed {
        /// The arguments.
        args: String,
        /// What it said.
        stderr: String,
    },
    /// A revision that could be read as an option.
    #[error("refused revision {0:?}: it starts with '-'")]
    BadRevision(String),
    /// The directory is not inside a git work tree.
    #[error("{0} is not inside a git repository")]
    NotARepository(PathBuf),
}

/// One commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Commit {
    /// Full hash.
    pub hash: String,
    /// Author name.
    pub author: String,
    /// Committer time (when it landed), seconds since 1970: what `--since` selects by.
    pub time: i64,
    /// Author time (when it was written), seconds since 1970.
    pub authored: i64,
    /// Subject line.
    pub subject: String,
}

/// A git work tree, and where the expected-records directory is inside it.
#[derive(Clone, Debug)]
pub struct Repo {
    root: PathBuf,
    /// The expected-records directory relative to the root (empty for the root itself).
    pub dir: PathBuf,
}

fn git(root: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.arg("-C")
        .arg(root)
        .args([
            "-c",
            "core.fsmonitor=false",
            "-c",
            "core.hooksPath=/dev/null",
        ])
        .args(["-c", "core.pager=cat", "-c", "diff.external=", "--no-pager"])
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_OPTIONAL_LOCKS", "0")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env("LC_ALL", "C");
    cmd
}

fn output(mut cmd: Command, args: &[&str]) -> Result<Vec<u8>, GitError> {
    let out = cmd.args(args).output().map_err(GitError::Spawn)?;
    if !out.status.success() {
        return Err(GitError::Failed {
            args: args.join(" "),
            stderr: crate::escape::terminal(String::from_utf8_lossy(&out.stderr).trim()),
        });
    }
    Ok(out.stdout)
}

/// Refuses a user-given revision that git could take for an option.
pub(crate) fn check_revision(rev: &str) -> Result<(), GitError> {
    if rev.starts_with('-') || rev.is_empty() {
        return Err(GitError::BadRevision(rev.to_string()));
    }
    Ok(())
}

impl Repo {
    /// The repository holding `dir`.
    pub fn find(dir: &Path) -> Result<Repo, GitError> {
        let dir = dir
            .canonicalize()
            .map_err(|_| GitError::NotARepository(dir.to_path_buf()))?;
        let out = output(git(&dir), &["rev-parse", "--show-toplevel"])
            .map_err(|_| GitError::NotARepository(dir.clone()))?;
        let root = PathBuf::from(String::from_utf8_lossy(&out).trim());
        let root = root.canonicalize().unwrap_or(root);
        let relative = dir
            .strip_prefix(&root)
            .unwrap_or(Path::new(""))
            .to_path_buf();
        Ok(Repo {
            root,
            dir: relative,
        })
    }

    /// The repository's top directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn pathspec(&self) -> String {
        let dir = self.dir.display().to_string();
        if dir.is_empty() {
            ".".into()
        } else {
            dir
        }
    }

    /// Commits touching the expected-records directory since `since` (seconds since 1970),
    /// newest first.
    pub(crate) fn commits_since(&self, since: i64) -> Result<Vec<Commit>, GitError> {
        let since = format!("--since=@{since}");
        let spec = self.pathspec();
        let out = output(git(&self.root), &["log", &since, LOG_FORMAT, "--", &spec])?;
        Ok(parse_log(&String::from_utf8_lossy(&out)))
    }

    /// The most recent commit touching the directory, if any.
    pub(crate) fn last_commit(&self) -> Result<Option<Commit>, GitError> {
        let spec = self.pathspec();
        let out = output(git(&self.root), &["log", "-1", LOG_FORMAT, "--", &spec])?;
        Ok(parse_log(&String::from_utf8_lossy(&out)).into_iter().next())
    }

    /// The merge base of `rev` and HEAD: what a pull request is compared against.
    pub(crate) fn merge_base(&self, rev: &str) -> Result<String, GitError> {
        check_revision(rev)?;
        let out = output(
            git(&self.root),
            &["merge-base", "--end-of-options", rev, "HEAD"],
        )?;
        Ok(String::from_utf8_lossy(&out).trim().to_string())
    }

    /// Zone files (`*.zone` directly in the directory) a commit changed, as paths relative to the
    /// directory.
    pub(crate) fn changed_zone_files(&self, hash: &str) -> Result<Vec<PathBuf>, GitError> {
        check_revision(hash)?;
        let spec = self.pathspec();
        let out = output(
            git(&self.root),
            &[
                "diff-tree",
                "--no-commit-id",
                "--name-only",
                "-r",
                "--root",
                "--end-of-options",
                hash,
                "--",
                &spec,
            ],
        )?;
        let text = String::from_utf8_lossy(&out);
        Ok(text
            .lines()
            .map(PathBuf::from)
            .filter_map(|p| p.strip_prefix(&self.dir).ok().map(Path::to_path_buf))
            .filter(|p| p.components().count() == 1 && p.extension().is_some_and(|e| e == "zone"))
            .collect())
    }

    /// The revision compared: HEAD's short hash, and whether expected-records differs from it
    /// in the work tree (an uncommitted or untracked edit makes drift nobody committed).
    pub fn revision(&self) -> Result<(String, bool), GitError> {
        let head = output(git(&self.root), &["rev-parse", "--short=12", "HEAD"])?;
        let head = String::from_utf8_lossy(&head).trim().to_string();
        let mut dir = self.dir.display().to_string();
        if dir.is_empty() {
            dir = ".".into();
        }
        let status = output(
            git(&self.root),
            &["status", "--porcelain", "--untracked-files=all", "--", &dir],
        )?;
        Ok((head, !status.is_empty()))
    }

    /// A file of the directory as it was at `rev`, read from git objects (never the work tree).
    /// None when it did not exist there; a symlink (mode 120000) is refused.
    pub(crate) fn read_at(&self, rev: &str, file: &Path) -> Result<Option<Vec<u8>>, GitError> {
        check_revision(rev)?;
        let path = self.dir.join(file).display().to_string();
        let listing = output(
            git(&self.root),
            &["ls-tree", "--end-of-options", rev, "--", &path],
        )?;
        let listing = String::from_utf8_lossy(&listing);
        let Some(entry) = listing.lines().next() else {
            return Ok(None);
        };
        if entry.starts_with("120000") {
            return Err(GitError::Failed {
                args: format!("ls-tree {rev} -- {path}"),
                stderr: "refused: the file is a symlink in git".into(),
            });
        }
        let object = entry
            .split_whitespace()
            .nth(2)
            .unwrap_or_default()
            .to_string();
        check_revision(&object)?;
        output(git(&self.root), &["cat-file", "blob", &object]).map(Some)
    }

    /// The versions of a file of the directory in the commits that changed it, up to and
    /// including `rev`: at most `limit`, oldest first (the last is the version at `rev`). One
    /// `git log` and one `git cat-file --batch`, however long the history; versions git cannot
    /// give are left out (they only teach lint a repository's habits).
    pub(crate) fn history_of(
        &self,
        rev: &str,
        file: &Path,
        limit: usize,
    ) -> Result<Vec<Vec<u8>>, GitError> {
        check_revision(rev)?;
        let path = self.dir.join(file).display().to_string();
        let count = format!("-n{limit}");
        let out = output(
            git(&self.root),
            &[
                "log",
                &count,
                "--format=%H",
                "--end-of-options",
                rev,
                "--",
                &path,
            ],
        )?;
        let specs: String = String::from_utf8_lossy(&out)
            .lines()
            .rev()
            .map(|hash| format!("{hash}:{path}\n"))
            .collect();
        let mut child = git(&self.root)
            .args(["cat-file", "--batch"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(GitError::Spawn)?;
        // Fed from a thread: a pipe holds less than a long history's answers.
        let mut stdin = child.stdin.take();
        let feeder = std::thread::spawn(move || {
            use std::io::Write;
            if let Some(stdin) = stdin.as_mut() {
                let _ = stdin.write_all(specs.as_bytes());
            }
        });
        let out = child.wait_with_output().map_err(GitError::Spawn)?;
        let _ = feeder.join();
        Ok(batch_blobs(&out.stdout))
    }
}

/// The blobs of `git cat-file --batch` output (`<oid> blob <size>\n<content>\n` each; a
/// `missing` line or another type is skipped).
fn batch_blobs(mut out: &[u8]) -> Vec<Vec<u8>> {
    let mut blobs = Vec::new();
    while let Some(end) = out.iter().position(|b| *b == b'\n') {
        let header = String::from_utf8_lossy(&out[..end]).to_string();
        out = &out[end + 1..];
        let mut parts = header.split(' ');
        let (Some(_), Some(kind), Some(size)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let Ok(size) = size.parse::<usize>() else {
            continue;
        };
        let Some(content) = out.get(..size) else {
            break;
        };
        if kind == "blob" {
            blobs.push(content.to_vec());
        }
        out = out.get(size + 1..).unwrap_or_default();
    }
    blobs
}

/// Hash, author, committer time, author time, subject.
const LOG_FORMAT: &str = "--format=%H%x1f%an%x1f%ct%x1f%at%x1f%s%x1e";

fn parse_log(text: &str) -> Vec<Commit> {
    text.split('\x1e')
        .filter_map(|entry| {
            let mut fields = entry.trim_start_matches('\n').split('\x1f');
            let hash = fields.next()?.trim().to_string();
            if hash.is_empty() {
                return None;
            }
            Some(Commit {
                hash,
                author: crate::escape::terminal(fields.next()?),
                time: fields.next()?.trim().parse().ok()?,
                authored: fields.next()?.trim().parse().ok()?,
                subject: crate::escape::terminal(fields.next()?.trim_end_matches('\n')),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_output_is_split_into_blobs() {
        let out = b"aaaa blob 3\nab\n\nbbbb missing\ncccc tree 2\nxy\ndddd blob 0\n\n";
        assert_eq!(batch_blobs(out), vec![b"ab\n".to_vec(), Vec::new()]);
    }

    #[test]
    fn revisions_that_look_like_options_are_refused() {
        assert!(check_revision("--output=/tmp/x").is_err());
        assert!(check_revision("").is_err());
        assert!(check_revision("origin/main").is_ok());
    }

    #[test]
    fn log_lines_parse_and_escape() {
        let text =
            "abc\x1fAl\x1bice\x1f1700000000\x1f1690000000\x1fadd bh18\n\x1e\ndef\x1fBob\x1f1600000000\x1f1600000000\x1fx\x1e\n";
        let commits = parse_log(text);
        assert_eq!(commits.len(), 2);
        assert_eq!(commits[0].author, "Al\\027ice");
        assert_eq!(commits[0].subject, "add bh18");
        assert_eq!(commits[1].time, 1_600_000_000);
        assert_eq!(commits[0].authored, 1_690_000_000);
    }
}
