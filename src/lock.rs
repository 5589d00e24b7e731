//! The run lock: a file next to the history store, held while a `check` runs, so scheduled runs
//! do not pile up behind a slow one.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

/// A held lock; released when dropped (or when the process ends, however it ends).
#[derive(Debug)]
pub struct RunLock {
    _file: File,
    /// The lock file, when this run made it (none was there before).
    made: Option<PathBuf>,
}

/// The lock file for a history store: `<store>.lock`.
pub fn lock_path(store: &Path) -> PathBuf {
    let mut name = store.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

impl RunLock {
    /// Takes the lock. Without `wait`, returns `Ok(None)` at once when another run holds it.
    pub fn acquire(path: &Path, wait: bool) -> std::io::Result<Option<RunLock>> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let made = (!path.exists()).then(|| path.to_path_buf());
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)?;
        if wait {
            file.lock()?;
            return Ok(Some(RunLock { _file: file, made }));
        }
        match file.try_lock() {
            Ok(()) => Ok(Some(RunLock { _file: file, made })),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(e)) => Err(e),
        }
    }
}

impl RunLock {
    /// Releases the lock and takes away its file if this run made it: beside a store found
    /// damaged, nothing of this run is left.
    pub fn release_leaving_nothing(self) {
        let made = self.made.clone();
        drop(self);
        if let Some(path) = made {
            let _ = std::fs::remove_file(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_turned_away_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let path = lock_path(&dir.path().join("history.sqlite"));
        let first = RunLock::acquire(&path, false).unwrap();
        assert!(first.is_some());
        assert!(RunLock::acquire(&path, false).unwrap().is_none());
        drop(first);
        assert!(RunLock::acquire(&path, false).unwrap().is_some());
    }
}
