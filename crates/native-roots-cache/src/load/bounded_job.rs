//! The bounded read: one job at a time on a thread of its own, bounded by a deadline, so that a
//! job that panics becomes an error and a job that never returns meets its deadline instead of
//! blocking its caller. A job past its deadline is left to finish on its own, and no second one
//! starts while it runs. The trust store's loads and a client identity's reads both run here.
//! (Under `cfg(loom)` the job runs inline: loom models no timeouts.)

use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::source::read_progress::{Progress, Tracking};

/// Why a bounded read did not finish: only failures (what a look at the files found, the
/// normal outcomes, is a [`Look`](crate::Look)).
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Unread {
    /// A previous read missed its deadline and still runs: no second one was started.
    #[error("a previous read is still running past its deadline")]
    StillRunning {
        /// The file that read opened last, if it opened any.
        stuck_in: Option<PathBuf>,
    },
    /// The read did not finish within its deadline; it is left to finish on its own.
    #[error("the read did not finish within its deadline")]
    Deadline {
        /// The file it opened last, if it opened any.
        stuck_in: Option<PathBuf>,
    },
    /// The read panicked; the panic's message.
    #[error("the read panicked: {0}")]
    Panicked(String),
    /// No thread could be started for the read.
    #[error("cannot start a thread for the read")]
    NotStarted(#[source] Arc<io::Error>),
}

/// Run `job` on a thread named `thread`, waiting for it at most `deadline`. `stuck` holds the
/// progress of a job that missed its deadline: while it runs, this returns at once.
pub(crate) fn run<T: Send + 'static>(
    stuck: &mut Option<Arc<Progress>>,
    thread: &str,
    deadline: Duration,
    job: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Unread> {
    if let Some(progress) = stuck.as_ref() {
        if !progress.finished() {
            return Err(Unread::StillRunning {
                stuck_in: progress.path(),
            });
        }
        *stuck = None;
    }
    let progress = Arc::new(Progress::default());
    let tracked = Arc::clone(&progress);
    let job = move || {
        let _tracking = Tracking::start(tracked);
        catch_unwind(AssertUnwindSafe(job)).map_err(|panic| panic_message(panic.as_ref()))
    };
    #[cfg(loom)]
    {
        let _ = (thread, deadline, progress);
        job().map_err(Unread::Panicked)
    }
    #[cfg(not(loom))]
    {
        use std::sync::mpsc;
        let (tx, rx) = mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name(thread.into())
            // The receiver is gone only if the caller gave up at the deadline.
            .spawn(move || drop(tx.send(job())))
            .map_err(|err| Unread::NotStarted(Arc::new(err)))?;
        match rx.recv_timeout(deadline) {
            Ok(outcome) => outcome.map_err(Unread::Panicked),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let stuck_in = progress.path();
                *stuck = Some(progress);
                Err(Unread::Deadline { stuck_in })
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(Unread::Panicked(
                "the reader thread ended without a result".to_owned(),
            )),
        }
    }
}

/// What a panic said, for errors and logs.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::mpsc;

    use super::*;

    #[test]
    #[cfg_attr(miri, ignore = "threads left running past the test")]
    fn a_job_past_its_deadline_blocks_the_next_until_it_ends() {
        let mut stuck = None;
        let (release, released) = mpsc::channel::<()>();
        let late = run(
            &mut stuck,
            "test-read",
            Duration::from_millis(10),
            move || {
                released.recv().unwrap();
            },
        );
        assert!(
            matches!(late, Err(Unread::Deadline { stuck_in: None })),
            "{late:?}"
        );
        // While it runs, no second job starts.
        let second = run(&mut stuck, "test-read", Duration::from_secs(30), || 2);
        assert!(
            matches!(second, Err(Unread::StillRunning { .. })),
            "{second:?}"
        );
        release.send(()).unwrap();
        while stuck.as_ref().is_some_and(|progress| !progress.finished()) {
            std::thread::yield_now();
        }
        assert_eq!(
            run(&mut stuck, "test-read", Duration::from_secs(30), || 3).unwrap(),
            3
        );
        let panicked = run(&mut stuck, "test-read", Duration::from_secs(30), || {
            panic!("boom")
        });
        assert!(matches!(&panicked, Err(Unread::Panicked(message)) if message == "boom"));
    }
}
