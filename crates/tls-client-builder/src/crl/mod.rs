//! Revocation's inputs: [`Crls`], a set of certificate revocation lists read from a
//! [`CrlSource`] with the trust store's file rules and followed like it (one more value a
//! [`Watcher`](native_roots_cache::Watcher) follows, through the core's [`ReloadGate`]).
//!
//! Guarantees: a set is read whole and swapped in whole; a read that fails, or meets a CRL cut
//! short, keeps the last good set (warned once while it repeats); a changed set advances the
//! generation, which rebuilds the trust sets that apply it; a CRL past its next update is warned
//! of once. Reads run on a thread of their own, bounded by a timeout, never on a handshake.

mod der;
mod error;
mod info;
mod signatures;
mod source;
mod verifier;

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use arc_swap::{ArcSwap, ArcSwapOption};
use native_roots_cache::{Look, ReloadGate, Watched};

use crate::opaque::Opaque;

pub use error::CrlError;
pub use info::CrlInfo;
pub use source::CrlSource;
pub(crate) use source::SharedRead;
use source::{CrlRead, Found, read};

pub(crate) use verifier::verifier;

/// How long one read of the CRLs may take.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A set of certificate revocation lists, read from a [`CrlSource`] once and shared by every
/// trust set that applies it ([`Revocation`](crate::Revocation)), followed like the trust store.
///
/// Clones share one set. Give it to a [`Watcher`](native_roots_cache::Watcher) (it is
/// [`Watched`]) and a CRL added, replaced or removed on disk is in force within one poll plus
/// the debounce, with no call from the application:
///
/// ```no_run
/// use std::sync::Arc;
/// use native_roots_cache::Watcher;
/// use tls_client_builder::{CrlSource, Crls};
///
/// let crls = Crls::new(CrlSource::new().with_dir("/etc/my-app/crls.d"))?;
/// let _watching = Watcher::new().start(crls.clone()); // stops when dropped
/// # Ok::<(), tls_client_builder::CrlError>(())
/// ```
#[derive(Clone)]
pub struct Crls {
    inner: Arc<dyn Opaque<Inner>>,
}

struct Inner {
    /// Process-unique: what an upstream key compares.
    id: u64,
    source: CrlSource,
    in_use: ArcSwap<CrlRead>,
    /// 1 for the first set, advanced by each set swapped in.
    generation: AtomicU64,
    /// The debounce and the bounded read; one check at a time.
    gate: Mutex<ReloadGate>,
    last_error: ArcSwapOption<CrlError>,
    /// Whether reloads keep failing, so that a failure is warned of once while it repeats.
    failing: AtomicBool,
    /// Reloads refused, the last good set kept.
    rejected: AtomicU64,
    /// The CRLs (by file and this update) already warned of as past their next update.
    warned_expired: Mutex<Vec<(std::path::PathBuf, Option<SystemTime>)>>,
}

/// The CRLs in use, counted ([`Crls::stats`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CrlStats {
    /// The set's generation: 1 for the first, advanced by each changed set.
    pub generation: u64,
    /// CRLs in use.
    pub crls: usize,
    /// Certificates they revoke.
    pub revoked: usize,
    /// CRLs in use past their next update (each also warned of once).
    pub expired: usize,
    /// The earliest next update among them: when a fresher CRL is due.
    pub next_update: Option<SystemTime>,
    /// Files skipped with the reason (see [`Crls::crls`]).
    pub skipped: usize,
    /// Reloads refused, the last good set kept (each streak warned of once).
    pub rejected_reloads: u64,
}

/// What one [`Crls::check_for_changes`] found and did.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum CrlCheck {
    /// The files look as they did when the set in use was read, or they hold the same CRLs.
    Unchanged,
    /// The files changed since the last look: read once the change holds still; or a file is
    /// still being written.
    Pending,
    /// A changed set is in use: its generation advanced, and the configs that apply it are
    /// rebuilt at their next lookup.
    Reloaded,
    /// The new read was refused (the error names the file); the set in use stays.
    Failed(CrlError),
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl Crls {
    /// Read the CRLs of `source` now.
    ///
    /// # Errors
    /// The [`CrlError`] of the first read: there is no set to keep using yet. A file still being
    /// written is read again once it holds still (up to the read's timeout).
    pub fn new(source: CrlSource) -> Result<Self, CrlError> {
        let mut gate = ReloadGate::new("crl-read");
        let signature = source.signature();
        let started = std::time::Instant::now();
        let first = loop {
            match read(&source, &mut gate, READ_TIMEOUT)? {
                Found::Whole(first) => break first,
                // Nothing to keep using yet: wait for the writer, as a first load does.
                Found::BeingWritten(_) if started.elapsed() < READ_TIMEOUT => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Found::BeingWritten(path) => {
                    return Err(CrlError::CutShort { path });
                }
            }
        };
        gate.loaded(Some(signature), true);
        let inner: Arc<dyn Opaque<Inner>> = Arc::new(Inner {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            source,
            in_use: ArcSwap::from_pointee(first),
            generation: AtomicU64::new(1),
            gate: Mutex::new(gate),
            last_error: ArcSwapOption::empty(),
            failing: AtomicBool::new(false),
            rejected: AtomicU64::new(0),
            warned_expired: Mutex::new(Vec::new()),
        });
        let crls = Self { inner };
        log::info!(
            "CRLs from {}: {}",
            crls.inner().source,
            Summary(&crls.current())
        );
        crls.warn_of_expiry();
        Ok(crls)
    }

    fn inner(&self) -> &Inner {
        self.inner.as_ref().get()
    }

    /// Where the CRLs are read from.
    pub fn source(&self) -> &CrlSource {
        &self.inner().source
    }

    /// 1 for the first set, advancing each time a changed set is swapped in: the trust sets
    /// that apply it compare it to know when to rebuild.
    pub fn generation(&self) -> u64 {
        self.inner().generation.load(Ordering::Acquire)
    }

    /// The CRLs in use, then the files skipped with the reason.
    pub fn crls(&self) -> Vec<CrlInfo> {
        let current = self.current();
        current
            .crls
            .iter()
            .map(|crl| crl.info.clone())
            .chain(current.skipped.iter().cloned())
            .collect()
    }

    /// The CRLs in use, counted: what a health check or a scrape reads. With the `metrics`
    /// feature, each call (and each check) also sets the facade's gauges.
    pub fn stats(&self) -> CrlStats {
        let now = SystemTime::now();
        let current = self.current();
        let in_use = current.crls.iter().map(|crl| &crl.info);
        let stats = CrlStats {
            generation: self.generation(),
            crls: current.crls.len(),
            revoked: in_use.clone().map(|info| info.revoked).sum(),
            expired: in_use.clone().filter(|info| info.expired_at(now)).count(),
            next_update: in_use.filter_map(|info| info.next_update).min(),
            skipped: current.skipped.len(),
            rejected_reloads: self.inner().rejected.load(Ordering::Relaxed),
        };
        crate::meter::crls(&self.inner().source.to_string(), stats.crls, stats.expired);
        stats
    }

    /// Why the last read failed, until one succeeds: what a health check reports.
    pub fn last_error(&self) -> Option<CrlError> {
        self.inner().last_error.load().as_deref().cloned()
    }

    /// Look whether the CRL files changed, and read them if so: one poll of what a
    /// [`Watcher`](native_roots_cache::Watcher) does on its timer. Costs a `stat` of each path
    /// when nothing changed; a change is read once it held across two calls, and a change that
    /// failed is not read again until the files change again.
    pub fn check_for_changes(&self) -> CrlCheck {
        let check = self.look(true);
        self.warn_of_expiry();
        #[cfg(feature = "metrics")]
        let _ = self.stats();
        check
    }

    /// Read the CRLs now, without waiting for a change to hold still, and swap in what they
    /// hold if it differs from the set in use.
    ///
    /// # Errors
    /// The [`CrlError`] of the read (the set in use stays).
    pub fn reload(&self) -> Result<bool, CrlError> {
        match self.look(false) {
            CrlCheck::Reloaded => Ok(true),
            CrlCheck::Failed(err) => Err(err),
            CrlCheck::Unchanged | CrlCheck::Pending => Ok(false),
        }
    }

    /// The set in use, shared.
    pub(crate) fn current(&self) -> SharedRead {
        self.inner().in_use.load_full()
    }

    /// What an upstream key compares: clones of one `Crls` are equal.
    pub(crate) fn id(&self) -> u64 {
        self.inner().id
    }

    fn look(&self, debounced: bool) -> CrlCheck {
        let inner = self.inner();
        let mut gate = inner.gate.lock().unwrap_or_else(PoisonError::into_inner);
        let signature = inner.source.signature();
        if debounced {
            match gate.observe(signature.clone()) {
                Look::Changed => {}
                Look::Pending => return CrlCheck::Pending,
                Look::Unchanged => return CrlCheck::Unchanged,
            }
        }
        let new = match read(&inner.source, &mut gate, READ_TIMEOUT) {
            Ok(Found::Whole(new)) => new,
            Ok(Found::BeingWritten(path)) => {
                log::debug!(
                    "CRLs: {} is being written; read again later",
                    path.display()
                );
                return CrlCheck::Pending;
            }
            Err(err) => {
                gate.loaded(Some(signature), false);
                inner.rejected.fetch_add(1, Ordering::Relaxed);
                crate::meter::crl_rejected(&inner.source.to_string());
                if !inner.failing.swap(true, Ordering::Relaxed) {
                    log::warn!(
                        "CRLs from {}: {}; keeping the {} in use (reported once while it \
                         repeats); {}",
                        inner.source,
                        crate::error::Chain(&err),
                        Summary(&self.current()),
                        err.advice()
                    );
                }
                inner.last_error.store(Some(Arc::new(err.clone())));
                return CrlCheck::Failed(err);
            }
        };
        gate.loaded(Some(signature), true);
        inner.last_error.store(None);
        if inner.failing.swap(false, Ordering::Relaxed) {
            log::info!("CRLs from {}: reads recovered", inner.source);
        }
        if new.same_crls(&self.current()) {
            return CrlCheck::Unchanged;
        }
        let summary = Summary(&new).to_string();
        inner.in_use.store(Arc::new(new));
        let generation = inner.generation.fetch_add(1, Ordering::AcqRel) + 1;
        log::info!(
            "CRLs from {} changed, generation {generation}: {summary}",
            inner.source
        );
        CrlCheck::Reloaded
    }

    /// Warn once of each CRL in use past its next update.
    fn warn_of_expiry(&self) {
        let now = SystemTime::now();
        let current = self.current();
        let mut warned = self
            .inner()
            .warned_expired
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for crl in current.crls.iter().filter(|crl| crl.info.expired_at(now)) {
            let key = (crl.info.path.clone(), crl.info.this_update);
            if !warned.contains(&key) {
                log::warn!(
                    "CRL past its next update: {}; it still revokes what it lists (unless the \
                     revocation settings enforce expiry): fetch its issuer's newer CRL",
                    crl.info
                );
                warned.push(key);
            }
        }
    }
}

impl fmt::Debug for Crls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Crls")
            .field("source", &self.inner().source)
            .field("generation", &self.generation())
            .field("crls", &self.current().crls.len())
            .finish_non_exhaustive()
    }
}

impl PartialEq for Crls {
    fn eq(&self, other: &Self) -> bool {
        self.id() == other.id()
    }
}

impl Eq for Crls {}

impl std::hash::Hash for Crls {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.id().hash(state);
    }
}

/// A [`Watcher`](native_roots_cache::Watcher) polls [`Crls::check_for_changes`] (which logs its
/// own failures) every poll interval.
impl Watched for Crls {
    type Check = CrlCheck;

    fn has_signature(&self) -> bool {
        true
    }

    fn poll(&self) -> CrlCheck {
        self.check_for_changes()
    }
}

/// `N CRLs revoking M certificates (K files skipped)`, for logs.
struct Summary<'a>(&'a CrlRead);

impl fmt::Display for Summary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let revoked: usize = self.0.crls.iter().map(|crl| crl.info.revoked).sum();
        write!(
            f,
            "{} CRL(s) revoking {revoked} certificate(s)",
            self.0.crls.len()
        )?;
        if !self.0.skipped.is_empty() {
            write!(f, " ({} file(s) skipped)", self.0.skipped.len())?;
        }
        Ok(())
    }
}
