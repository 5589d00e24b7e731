//! `dns-audit recent` from end to end: a fresh check (unless offline, recorded like any run),
//! then what the history store and git say, joined by [`crate::recent`].

use std::path::PathBuf;

use hickory_proto::rr::Name;

use crate::check::check;
use crate::config::ResolverSpec;
use crate::expected::load_expected;
use crate::history::{store_path, History};
use crate::observe::Nameserver;
use crate::recent::{gather, Recent, RecentError, RecentQuery, Store};

/// What `recent` is asked, from its flags.
#[derive(Clone, Debug)]
pub struct RecentConfig {
    /// The expected-records directory.
    pub expected: PathBuf,
    /// Only these zones (all when empty).
    pub zones: Vec<Name>,
    /// Recursive resolvers to ask beside the config's.
    pub resolvers: Vec<ResolverSpec>,
    /// Servers to ask instead of the config's or the NS records'.
    pub nameservers: Vec<Nameserver>,
    /// The history store named on the command line.
    pub state: Option<PathBuf>,
    /// Read only git and the store (read-only): no fresh check.
    pub offline: bool,
    /// The window and the host.
    pub query: RecentQuery,
}

/// What `recent` found, and what it could not do on the way (said on stderr).
pub struct RecentRun {
    /// The report.
    pub recent: Recent,
    /// What could not be seen or kept: an unrecorded check, no git.
    pub notes: Vec<String>,
}

/// Runs `recent`. The store is opened read-only when offline (no file, lock or journal made),
/// so on-call can read the service user's store; a missing one is said, not created.
pub async fn run(config: &RecentConfig) -> Result<RecentRun, RecentError> {
    let mut expected = load_expected(&config.expected, &config.zones)?;
    expected.config.add_resolvers(&config.resolvers);
    let (path, named) = store_path(config.state.as_deref(), &expected.config)?;
    let mut notes = Vec::new();
    let (history, drift) = observe(config, &expected, &path, named, &mut notes).await?;
    if let Some(note) = history.as_ref().and_then(|h| h.read_note.clone()) {
        notes.push(note);
    }
    let store = match &history {
        Some(history) => {
            let (runs, first_run) = history.summary()?;
            Store {
                path: path.display().to_string(),
                exists: true,
                runs,
                first_run,
            }
        }
        None => Store {
            path: path.display().to_string(),
            exists: false,
            runs: 0,
            first_run: None,
        },
    };
    let repo = match crate::git::Repo::find(&config.expected) {
        Ok(repo) => Some(repo),
        Err(e) => {
            notes.push(format!("no commits shown: {e}"));
            None
        }
    };
    let mut recent = gather(&expected, history.as_ref(), repo.as_ref(), &config.query)?;
    recent.drift = drift;
    recent.store = Some(store);
    Ok(RecentRun { recent, notes })
}

/// The store and, unless offline, a fresh check recorded in it. A user who may not write the
/// store (on-call as another user than the cron) still gets the check, unrecorded, and the
/// store as the cron left it; `notes` says so.
async fn observe(
    config: &RecentConfig,
    expected: &crate::expected::Expected,
    path: &std::path::Path,
    named: bool,
    notes: &mut Vec<String>,
) -> Result<(Option<History>, Option<crate::report::Report>), RecentError> {
    Ok(if config.offline {
        (History::open_read_only(path)?, None)
    } else {
        match History::open_in(path, !named) {
            Ok(mut history) => {
                let (report, not_recorded) =
                    check(expected, &config.nameservers, Some(&mut history)).await;
                if let Some(e) = not_recorded {
                    notes.push(format!("this check was not recorded: {e}"));
                }
                (Some(history), Some(report))
            }
            // On-call as another user than the cron: check without recording, read the store.
            Err(e) if e.is_not_writable() => {
                let (report, _) = check(expected, &config.nameservers, None).await;
                notes.push(format!(
                    "this check was not recorded: this user may not write the store ({e}); \
                     the store was read as the recording user left it"
                ));
                (History::open_read_only(path)?, Some(report))
            }
            Err(e) => return Err(e.into()),
        }
    })
}
