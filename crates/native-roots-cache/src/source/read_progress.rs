//! What a loader thread is reading right now, so that a load that misses its deadline can name the
//! file it is stuck in, and the cache can refuse to start a second loader while one is stuck.
//!
//! The worker hands each load a [`Progress`] and marks its thread with it; the PEM reader notes
//! every path it opens through [`reading`]. A custom source that reads no files leaves it empty.

// std's primitives, not the loom shim's: progress is read only once a load missed its deadline,
// and loom models no deadlines (the load runs inline under loom).
#![allow(clippy::disallowed_types)]

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// One load's progress, shared between its loader thread and the callers waiting on it.
#[derive(Debug, Default)]
pub(crate) struct Progress {
    path: Mutex<Option<PathBuf>>,
    finished: AtomicBool,
}

impl Progress {
    /// The path the loader opened last, if it opened any.
    pub(crate) fn path(&self) -> Option<PathBuf> {
        self.path
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Whether the loader thread has returned (with a result or a panic).
    pub(crate) fn finished(&self) -> bool {
        self.finished.load(Ordering::Acquire)
    }

    fn note(&self, path: &Path) {
        let mut current = self.path.lock().unwrap_or_else(PoisonError::into_inner);
        match current.as_mut() {
            Some(current) => {
                current.clear();
                current.push(path);
            }
            None => *current = Some(path.to_owned()),
        }
    }
}

std::thread_local! {
    static CURRENT: RefCell<Option<Arc<Progress>>> = const { RefCell::new(None) };
}

/// Marks the current thread as running the load that `progress` follows; when dropped (the
/// load returned or unwound), the load is marked finished.
pub(crate) struct Tracking(Arc<Progress>);

impl Tracking {
    pub(crate) fn start(progress: Arc<Progress>) -> Self {
        let _ = CURRENT.try_with(|current| *current.borrow_mut() = Some(Arc::clone(&progress)));
        Self(progress)
    }
}

impl Drop for Tracking {
    fn drop(&mut self) {
        let _ = CURRENT.try_with(|current| current.borrow_mut().take());
        self.0.finished.store(true, Ordering::Release);
    }
}

/// Record that the current thread is about to open `path` (a no-op outside a tracked load).
pub(crate) fn reading(path: &Path) {
    let _ = CURRENT.try_with(|current| {
        if let Some(progress) = current.borrow().as_ref() {
            progress.note(path);
        }
    });
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_tracked_thread_records_its_last_path_and_its_end() {
        let progress = Arc::new(Progress::default());
        reading(Path::new("/untracked")); // no load on this thread yet: ignored
        assert_eq!(progress.path(), None);
        {
            let _tracking = Tracking::start(Arc::clone(&progress));
            reading(Path::new("/etc/ssl/a.pem"));
            reading(Path::new("/etc/ssl/b.pem"));
            assert!(!progress.finished());
        }
        assert_eq!(
            progress.path().as_deref(),
            Some(Path::new("/etc/ssl/b.pem"))
        );
        assert!(progress.finished());
        reading(Path::new("/after")); // the mark is gone with the guard
        assert_eq!(
            progress.path().as_deref(),
            Some(Path::new("/etc/ssl/b.pem"))
        );
    }
}
