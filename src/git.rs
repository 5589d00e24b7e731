//! Reading the history of expected-records with the `git` command-line tool.
//!
//! Every revision and path goes after `--end-of-options` or `--`, revisions given by users may
//! not start with `-`, and git runs with a fixed environment: no pager, no prompts, no fsmonitor,
//! hooks or signature checks from the repository. Only plumbing that never reads the work tree
//! through git runs: local edits are found by hashing the files as they are
//! (`hash-object --no-filters`), so no filter, diff driver or textconv a repository (or the
//! runner's global config) names is ever executed. git's own ownership check stays on: a
//! repository another user owns is refused, and said so.

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
    #[error("refused revision {}: it starts with '-'", crate::escape::terminal(&format!("{:?}", .0)))]
    BadRevision(String),
    /// The directory is not inside a git work tree.
    #[error("{0} is not inside a git repository")]
    NotARepository(PathBuf),
    /// git refuses a repository another user owns ("dubious ownership"): its config could run
    /// commands as this user. Not bypassed; the user is told how to trust it.
    #[error(
        "git refuses the repository at {root}: it belongs to another user, and git does not read a \
         repository it was not told to trust (its config could run commands as you); git said: \
         {said}; if you trust it, run once as this user: git config --global --add safe.directory {root}"
    )]
    NotTrusted {
        /// The repository's top directory, as git names it.
        root: String,
        /// git's own words, escaped.
        said: String,
    },
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
            "-c",
            "log.showSignature=false",
            "-c",
            "core.untrackedCache=false",
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
    succeeded(out, args)
}

/// git's standard output, or what it said when it failed (both escaped: `args` may hold a
/// user's revision).
fn succeeded(out: std::process::Output, args: &[&str]) -> Result<Vec<u8>, GitError> {
    if !out.status.success() {
        return Err(GitError::Failed {
            args: crate::escape::terminal(&args.join(" ")),
            stderr: crate::escape::terminal(String::from_utf8_lossy(&out.stderr).trim()),
        });
    }
    Ok(out.stdout)
}

/// Runs git with `input` on its standard input (fed from a thread: a pipe holds less than a
/// long answer).
fn output_fed(mut cmd: Command, args: &[&str], input: Vec<u8>) -> Result<Vec<u8>, GitError> {
    use std::process::Stdio;
    let mut child = cmd
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(GitError::Spawn)?;
    let mut stdin = child.stdin.take();
    let feeder = std::thread::spawn(move || {
        use std::io::Write;
        if let Some(stdin) = stdin.as_mut() {
            let _ = stdin.write_all(&input);
        }
    });
    let out = child.wait_with_output().map_err(GitError::Spawn)?;
    let _ = feeder.join();
    succeeded(out, args)
}

/// The blob id git gives `bytes` (a symlink's target), with no filter.
fn hash_bytes(root: &Path, bytes: &[u8]) -> Result<String, GitError> {
    let out = output_fed(
        git(root),
        &["hash-object", "--no-filters", "--stdin"],
        bytes.to_vec(),
    )?;
    Ok(String::from_utf8_lossy(&out).trim().to_string())
}

/// [`GitError::NotTrusted`] from git's "dubious ownership" message (which names the
/// repository as `at '<path>'`), else naming `dir`.
fn not_trusted(stderr: &str, dir: &Path) -> GitError {
    let root = stderr
        .split_once("at '")
        .and_then(|(_, rest)| rest.split_once('\''))
        .map(|(root, _)| root.to_string())
        .unwrap_or_else(|| crate::escape::terminal(&dir.display().to_string()));
    let said = stderr.lines().next().unwrap_or_default().trim();
    GitError::NotTrusted {
        root,
        said: said.strip_prefix("fatal: ").unwrap_or(said).to_string(),
    }
}

/// One entry of `git ls-files --stage -z`.
#[derive(Debug, PartialEq, Eq)]
struct IndexEntry {
    mode: String,
    object: String,
    path: String,
}

/// The entries of `git ls-files --stage -z` (`<mode> <object> <stage>\t<path>\0` each).
fn index_entries(listing: &[u8]) -> Vec<IndexEntry> {
    listing
        .split(|b| *b == 0)
        .filter_map(|entry| {
            let entry = String::from_utf8_lossy(entry);
            let (meta, path) = entry.split_once('\t')?;
            let mut meta = meta.split(' ');
            Some(IndexEntry {
                mode: meta.next()?.to_string(),
                object: meta.next()?.to_string(),
                path: path.to_string(),
            })
        })
        .collect()
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
        let out = output(git(&dir), &["rev-parse", "--show-toplevel"]).map_err(|e| match e {
            GitError::Failed { stderr, .. } if stderr.contains("dubious ownership") => {
                not_trusted(&stderr, &dir)
            }
            _ => GitError::NotARepository(dir.clone()),
        })?;
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
        Ok((head, self.differs_from_head()?))
    }

    /// Whether the directory differs from HEAD: a staged change (index against HEAD's tree, no
    /// work tree read), an untracked file, or a tracked file whose bytes as they are hash to
    /// another blob than the index holds. `git status` would run the repository's filters on
    /// the work tree (`filter.*.clean`, `.process`); this runs none. A file a filter rewrites
    /// on commit (git-lfs, CRLF) therefore counts as changed: said, never executed.
    fn differs_from_head(&self) -> Result<bool, GitError> {
        let spec = self.pathspec();
        let staged = output(
            git(&self.root),
            &[
                "diff-index",
                "--cached",
                "--name-only",
                "--no-ext-diff",
                "--no-textconv",
                "HEAD",
                "--",
                &spec,
            ],
        )?;
        let untracked = output(
            git(&self.root),
            &[
                "ls-files",
                "--others",
                "--exclude-standard",
                "-z",
                "--",
                &spec,
            ],
        )?;
        if !staged.is_empty() || !untracked.is_empty() {
            return Ok(true);
        }
        self.tracked_files_differ(&spec)
    }

    /// Whether a tracked file of `spec` differs from its index entry: its bytes, as they are,
    /// hashed with no filter (one `hash-object` for all files), or a symlink's target.
    fn tracked_files_differ(&self, spec: &str) -> Result<bool, GitError> {
        let listing = output(git(&self.root), &["ls-files", "--stage", "-z", "--", spec])?;
        let entries = index_entries(&listing);
        let mut files = Vec::new();
        for entry in &entries {
            let on_disk = self.root.join(&entry.path);
            let kind = std::fs::symlink_metadata(&on_disk).map(|m| m.file_type());
            match entry.mode.as_str() {
                "160000" => continue, // a submodule: its own repository
                "120000" => match std::fs::read_link(&on_disk) {
                    Ok(target)
                        if hash_bytes(&self.root, target.as_os_str().as_encoded_bytes())?
                            == entry.object =>
                    {
                        continue
                    }
                    _ => return Ok(true),
                },
                _ if !kind.is_ok_and(|k| k.is_file()) || entry.path.contains('\n') => {
                    return Ok(true)
                }
                _ => files.push(entry),
            }
        }
        if files.is_empty() {
            return Ok(false);
        }
        let paths: String = files.iter().map(|e| format!("{}\n", e.path)).collect();
        let hashes = output_fed(
            git(&self.root),
            &["hash-object", "--no-filters", "--stdin-paths"],
            paths.into_bytes(),
        )?;
        let hashes = String::from_utf8_lossy(&hashes);
        let mut hashes = hashes.lines();
        Ok(!files
            .iter()
            .all(|entry| hashes.next() == Some(entry.object.as_str())))
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
        let out = output_fed(
            git(&self.root),
            &["cat-file", "--batch"],
            specs.into_bytes(),
        )?;
        Ok(batch_blobs(&out))
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
    fn index_listing_is_split_into_entries() {
        let listing = b"100644 abc 0\tx/a.zone\x00120000 def 0\tx/link\x00";
        let entries = index_entries(listing);
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].mode, "100644");
        assert_eq!(entries[0].object, "abc");
        assert_eq!(entries[1].path, "x/link");
    }

    #[test]
    fn dubious_ownership_names_the_repository() {
        let said = "fatal: detected dubious ownership in repository at '/srv/dns'\nTo add an exception for this directory, call:\n\n\tgit config --global --add safe.directory /srv/dns";
        let e = not_trusted(said, Path::new("/srv/dns/expected-records"));
        let text = e.to_string();
        assert!(text.contains("safe.directory /srv/dns"), "{text}");
        assert!(
            text.contains("detected dubious ownership in repository at '/srv/dns'"),
            "{text}"
        );
    }

    #[test]
    fn what_git_is_asked_is_escaped_in_its_error() {
        let error = output(
            git(Path::new("/")),
            &["rev-parse", "--end-of-options", "x\x1b[2J\nfake"],
        )
        .unwrap_err()
        .to_string();
        assert!(
            !error.contains('\x1b') && !error.contains('\n'),
            "{error:?}"
        );
        assert!(error.contains("x\\027[2J\\010fake"), "{error:?}");
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
