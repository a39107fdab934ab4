//! Reading the store and publishing the outcome: the first load, a refresh (which replaces a
//! cached outcome, or keeps a good store when the new read fails or finds a file cut short),
//! and the signature of what was read.

use std::sync::{Arc, PoisonError};
use std::time::Instant;

use rustls::RootCertStore;

use crate::cache::Published;
use crate::cache::RootsCache;
use crate::cache::changes::{Refresh, anchor_changes, describe_changes, held_back, same_anchors};
use crate::cache::memo::NEXT_EPOCH;
use crate::load::error::{NativeRootsError, NativeRootsErrorKind};
use crate::load::report::LoadReport;
use crate::load::run;
use crate::source::{IncompleteFile, TrustSource};
use crate::sync::Ordering;

impl<S: TrustSource> RootsCache<S> {
    /// Read the trust store again and publish it if its anchors changed.
    ///
    /// This is the only way a cached outcome is ever replaced. On success with an unchanged anchor
    /// set, the published `Arc` and generation stay; with a changed one, the new store is
    /// published atomically and the generation advances. On failure a previously published store
    /// stays in place (and the error is returned); a previously cached error is replaced.
    ///
    /// # Errors
    /// The new load's [`NativeRootsError`], or [`Reentrant`](crate::NativeRootsErrorKind::Reentrant) when
    /// called from inside this cache's own source.
    pub fn refresh(&self) -> Result<Refresh, NativeRootsError> {
        self.reject_reentry()?;
        let _serialised = self
            .load_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let previous = self.current.load_full();
        // With a good store in use, a file being written is waited for the reload wait only: the
        // caller hears at once which file it is, and the store in use stays.
        let serving = previous.as_ref().is_some_and(|p| p.roots.is_ok());
        let mut loaded = self.run_load(serving);
        // Publishes are serialised by `load_lock`, so the mirror is exact here.
        let previous_generation = self.generation.load(Ordering::Acquire);
        let previous_roots = previous.as_ref().and_then(|p| p.roots.as_ref().ok());
        // A reload that found a file incomplete does not replace a good store, whether the cut
        // cost it some anchors or all of them.
        let replaceable = match &loaded.roots {
            Ok(_) => true,
            Err(err) => err.kind() == NativeRootsErrorKind::NoAnchors,
        };
        let good = previous.as_ref().filter(|_| previous_roots.is_some());
        if let (Some(previous), true) = (good, replaceable) {
            if let Some(file) = held_back(&previous.report, &loaded.incomplete) {
                let what = match file {
                    IncompleteFile::CutShort(_) => "is cut short: its last section has no END line",
                    IncompleteFile::Empty(_) => {
                        "is empty, though the store in use has anchors from it"
                    }
                };
                loaded.roots = Err(NativeRootsError::incomplete_file(
                    &loaded.report.origin,
                    loaded.report.attempts,
                    file.path(),
                    what,
                ));
            }
        }
        self.record_signature(&mut loaded);
        match loaded.roots {
            Ok(new) => {
                if let Some(failed) = self.lock_streak().succeeded() {
                    log::info!(
                        "trust store reloads recovered after {failed} failed polls: {}",
                        loaded.report
                    );
                }
                if let Some(old) = previous_roots.filter(|old| same_anchors(old, &new)) {
                    log::info!(
                        "trust store refreshed, anchors unchanged: {}",
                        loaded.report
                    );
                    self.publish(Ok(Arc::clone(old)), loaded.report, previous_generation);
                    return Ok(Refresh {
                        roots: Arc::clone(old),
                        changed: false,
                        generation: previous_generation,
                        added: Vec::new(),
                        removed: Vec::new(),
                    });
                }
                let generation = previous_generation + 1;
                let (added, removed) = match previous.as_ref().filter(|p| p.roots.is_ok()) {
                    Some(previous) => anchor_changes(&previous.report, &loaded.report),
                    None => (Vec::new(), Vec::new()),
                };
                log::info!(
                    "trust store changed, generation {generation}: {}{}",
                    loaded.report,
                    describe_changes(&added, &removed)
                );
                // After a failed first load, the first store published is not a change.
                self.counters
                    .published(&loaded.report.origin, previous_roots.is_some());
                self.publish(Ok(Arc::clone(&new)), loaded.report, generation);
                Ok(Refresh {
                    roots: new,
                    changed: true,
                    generation,
                    added,
                    removed,
                })
            }
            Err(err) => {
                self.counters.rejected(&loaded.report.origin, err.kind());
                let err = match previous_roots {
                    Some(_) => err.kept_store(),
                    None => err,
                };
                if previous_roots.is_some() {
                    if self.lock_streak().failed(&err) {
                        log::warn!(
                            "trust store refresh failed, keeping the previous store (reported \
                             once while it repeats): {}",
                            err.explained()
                        );
                    } else {
                        log::debug!("trust store refresh failed again: {err}");
                    }
                } else {
                    // It replaces the cached outcome: the new verdict, logged once.
                    log::error!("trust store load failed: {}", err.explained());
                    self.publish(Err(err.clone()), loaded.report, previous_generation);
                }
                Err(err)
            }
        }
    }

    #[cold]
    pub(super) fn first_load(&self) -> Result<Arc<RootCertStore>, NativeRootsError> {
        self.reject_reentry()?;
        let _serialised = self
            .load_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // Another caller may have finished the load while this one waited for the lock.
        if let Some(published) = self.current.load_full() {
            return published.roots.clone();
        }
        let mut loaded = self.run_load(false);
        self.record_signature(&mut loaded);
        match &loaded.roots {
            Ok(_) => self.counters.published(&loaded.report.origin, false),
            Err(err) => self.counters.rejected(&loaded.report.origin, err.kind()),
        }
        if let Err(err) = &loaded.roots {
            // The verdict every caller will get, logged once with its advice.
            log::error!("trust store load failed: {}", err.explained());
        }
        let generation = u64::from(loaded.roots.is_ok());
        self.publish(loaded.roots.clone(), loaded.report, generation);
        loaded.roots
    }

    pub(super) fn publish(
        &self,
        roots: Result<Arc<RootCertStore>, NativeRootsError>,
        report: LoadReport,
        generation: u64,
    ) {
        self.current.store(Some(Arc::new(Published {
            roots,
            report: Arc::new(report),
            at: Instant::now(),
        })));
        self.epoch.store(
            NEXT_EPOCH.fetch_add(1, Ordering::Relaxed),
            Ordering::Release,
        );
        self.generation.store(generation, Ordering::Release);
        self.notifier.notify();
    }

    /// Read the source once (with retries), on a worker thread bounded by the deadline; with a
    /// good store `serving`, files being written are waited for the policy's reload wait only.
    pub(super) fn run_load(&self, serving: bool) -> run::Loaded {
        let settle_for = if serving {
            self.policy.reload_wait()
        } else {
            self.policy.deadline()
        };
        self.counters.load_started();
        let loaded = run::run(
            &self.source,
            &self.sleep,
            &self.policy,
            self.id(),
            &self.stuck,
            self.watching.load(Ordering::Relaxed),
            settle_for,
        );
        self.counters.load_finished(&loaded.report.origin);
        loaded
    }

    /// Remember which files the outcome of `loaded` was read from: a watcher started later
    /// compares against them (an unchanged store is not read again), and so does a cached
    /// failure waiting for its files to change.
    pub(super) fn record_signature(&self, loaded: &mut run::Loaded) {
        let ok = loaded.roots.is_ok();
        self.lock_debounce().loaded(loaded.signature.take(), ok);
    }
}
