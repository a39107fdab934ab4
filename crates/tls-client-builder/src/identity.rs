//! [`RotatingIdentity`]: an mTLS client identity replaced while configs use it, and the resolver
//! through which they read it. Guarantees: a handshake reads it with one lock-free load (never a
//! file nor the callback); a new identity is swapped in whole, only after every check of
//! [`IdentitySource`]; a refused one changes nothing (logged at `warn`, kept as
//! [`last_error`](RotatingIdentity::last_error)). Files are debounced by the core's [`ReloadGate`].

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, TryLockError};
use std::time::{Duration, SystemTime};

use arc_swap::{ArcSwap, ArcSwapOption};
use native_roots_cache::{Look, ReloadGate, SourceSignature, Watched};
use rustls::SignatureScheme;
use rustls::client::ResolvesClientCert;
use rustls::crypto::CryptoProvider;
use rustls::sign::CertifiedKey;

use crate::error::Chain;
use crate::identity_error::IdentityError;
use crate::identity_source::{CheckedIdentity, Found, IdentitySource, read};
use crate::identity_stats::{IdentityCounters, IdentityStats};
use crate::opaque::Opaque;
use crate::utc::Utc;

/// An mTLS client identity (certificate chain and key) read from an [`IdentitySource`], that
/// can rotate under the configs that present it.
///
/// An upstream key names it by a stable key rather than by its bytes
/// ([`UpstreamTlsBuilder::rotating_client_identity`](crate::UpstreamTlsBuilder::rotating_client_identity)),
/// so a rotation changes neither the upstream key nor its `ClientConfig`: the config's
/// client-certificate resolver reads the identity in use at each handshake. A rotation empties
/// the session store of every config presenting the identity, so that no resumed session
/// presents the old one.
///
/// Clones share one identity. Two upstream keys are equal only when they hold clones of the same
/// `RotatingIdentity`: a new one, even with the same name and files, is a new key (so that no
/// config keeps reading an identity that nobody follows any more).
///
/// The crate documentation shows one, followed by the trust store's
/// [`Watcher`](native_roots_cache::Watcher) (this type is [`Watched`]).
#[derive(Clone)]
pub struct RotatingIdentity {
    inner: Arc<dyn Opaque<Inner>>,
}

struct Inner {
    /// Process-unique: with the name, the upstream key's key.
    id: u64,
    name: String,
    source: IdentitySource,
    provider: Arc<CryptoProvider>,
    in_use: ArcSwap<CheckedIdentity>,
    /// Advanced after each swap; session stores compare it with the value they were filled at.
    rotations: AtomicU64,
    /// The core's gate: the debounce, the read that outlived its timeout, the throttle of looks
    /// started by refused handshakes, the expiry warnings given. One check runs at a time.
    checks: Mutex<ReloadGate>,
    /// Apart from `checks`, which a read holds up to its timeout: a health check never waits.
    last_error: ArcSwapOption<IdentityError>,
    /// Refused reloads by reason, looks started by refused handshakes, the warning window.
    counters: IdentityCounters,
}

/// What one [`RotatingIdentity::check_for_changes`] found and did.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum IdentityCheck {
    /// The files look as they did when the identity in use was read, or the callback answered it.
    Unchanged,
    /// The files changed since the last look: the change must hold still until the next check
    /// before it is read; or a read found a file still being written (never read half-way).
    Pending,
    /// A new identity passed every check and is in use; the session stores of the configs
    /// presenting it are emptied.
    Rotated,
    /// The new identity was refused (the error names the file); the identity in use stays.
    Failed(IdentityError),
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl RotatingIdentity {
    /// Read the identity from `source` now, with the crypto provider of the crate features
    /// (`aws-lc-rs` if enabled, else `ring`) loading its key.
    ///
    /// `name` names it in logs, errors and the upstream key's `Display` (such as the upstream or
    /// the certificate's purpose).
    ///
    /// # Errors
    /// The [`IdentityError`] of the first read: there is no identity to keep using yet.
    #[cfg(any(feature = "ring", feature = "aws-lc-rs"))]
    #[cfg_attr(docsrs, doc(cfg(any(feature = "ring", feature = "aws-lc-rs"))))]
    pub fn new(name: impl Into<String>, source: IdentitySource) -> Result<Self, IdentityError> {
        Self::with_provider(name, source, crate::provider::feature_provider())
    }

    /// Read the identity from `source` now, with `provider` loading its key.
    ///
    /// # Errors
    /// The [`IdentityError`] of the first read: there is no identity to keep using yet.
    pub fn with_provider(
        name: impl Into<String>,
        source: IdentitySource,
        provider: Arc<CryptoProvider>,
    ) -> Result<Self, IdentityError> {
        let name = name.into();
        let mut checks = ReloadGate::new("client-identity-read");
        let signature = source.signature();
        let first = match read(&source, &provider, &mut checks) {
            Ok(Found::Whole(first)) => Ok(first),
            // No identity to keep using yet: a file being written fails the first read.
            Ok(Found::BeingWritten(path, why)) => Err(IdentityError::read(&path, why)),
            Err(err) => Err(err),
        }
        .inspect_err(|err| {
            log::warn!(
                "client identity `{name}` from {source}: {}; {}",
                Chain(err),
                err.advice()
            );
        })?;
        checks.loaded(signature, true);
        log::info!(
            "client identity `{name}` from {source}: valid until {}",
            Utc(first.not_after)
        );
        let inner: Arc<dyn Opaque<Inner>> = Arc::new(Inner {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            name,
            source,
            provider,
            in_use: ArcSwap::from_pointee(first),
            rotations: AtomicU64::new(0),
            checks: Mutex::new(checks),
            last_error: ArcSwapOption::empty(),
            counters: IdentityCounters::new(),
        });
        let identity = Self { inner };
        // The gauge now; the warnings at the first look, once the window is set.
        crate::meter::identity_expiry(identity.name(), identity.not_after());
        Ok(identity)
    }

    /// The same identity, warned of when it comes within `ahead` of its end (7 days by default)
    /// and once more when it expires: a `warn` each, once per identity swapped in, at a look (a
    /// check, such as a watcher's poll, a reload, or [`stats`](Self::stats) unless a check is
    /// under way: that check looks as it ends).
    #[must_use]
    pub fn with_expiry_warning(self, ahead: Duration) -> Self {
        self.inner().counters.set_window(ahead);
        self
    }

    /// Rotations, refused reloads by reason and the end of validity of the identity in use.
    /// With the `metrics` feature, it also sets the facade's days-to-expiry gauge (as each check
    /// does).
    pub fn stats(&self) -> IdentityStats {
        // The warnings are kept with the checks: a health check never waits for one under way.
        self.look_at_expiry(self.try_lock_checks().as_deref_mut());
        self.inner()
            .counters
            .snapshot(self.rotations(), self.not_after())
    }

    /// Set the facade's gauge and, with the checks held (`gate`), give the expiry warning due.
    fn look_at_expiry(&self, gate: Option<&mut ReloadGate>) {
        let inner = self.inner();
        inner
            .counters
            .look(&inner.name, &inner.source, self.not_after(), gate);
    }

    fn inner(&self) -> &Inner {
        self.inner.as_ref().get()
    }

    /// The name given at construction.
    pub fn name(&self) -> &str {
        &self.inner().name
    }

    /// Where the identity is read from.
    pub fn source(&self) -> &IdentitySource {
        &self.inner().source
    }

    /// The end of the validity of the leaf certificate in use, for monitoring: alert well before
    /// it, since an expired replacement is refused and the identity in use then stays until it
    /// expires.
    pub fn not_after(&self) -> SystemTime {
        self.inner().in_use.load().not_after
    }

    /// The identity in use, as a handshake presents it.
    pub fn certified_key(&self) -> Arc<CertifiedKey> {
        Arc::clone(&self.inner().in_use.load().key)
    }

    /// How many times a new identity was swapped in.
    pub fn rotations(&self) -> u64 {
        self.inner().rotations.load(Ordering::Acquire)
    }

    /// Why the last read or check failed, until one succeeds: what a health check reports.
    pub fn last_error(&self) -> Option<IdentityError> {
        self.inner().last_error.load().as_deref().cloned()
    }

    /// Read the source now, without waiting for a change to hold still, and swap in what it
    /// yields if that differs from the identity in use and passes every check.
    ///
    /// Returns whether the identity rotated (`false` when the source yields the identity in use,
    /// or a file is still being written: a later check reads it).
    ///
    /// # Errors
    /// The [`IdentityError`] of the read or of a check (the identity in use stays, and the
    /// failure is logged at `warn`).
    pub fn reload(&self) -> Result<bool, IdentityError> {
        match self.look(When::Always) {
            IdentityCheck::Rotated => Ok(true),
            IdentityCheck::Unchanged | IdentityCheck::Pending => Ok(false),
            IdentityCheck::Failed(err) => Err(err),
        }
    }

    /// Look whether the identity changed, and rotate to it if so: one poll of what a
    /// [`Watcher`](native_roots_cache::Watcher) started on it does on its timer, for callers with
    /// a scheduler of their own.
    ///
    /// For files this costs a `stat` of each (through symlinks); a change is read once it held
    /// across two calls, and a change that failed is not read again until the files change
    /// again. A callback is called at every check.
    pub fn check_for_changes(&self) -> IdentityCheck {
        self.look(When::Held)
    }

    /// Tell the identity that a handshake presenting it failed with `err`. When the server
    /// refused the certificate (an alert such as `bad_certificate`, `certificate_revoked`,
    /// `certificate_expired`, `unknown_ca`, `access_denied` or `certificate_required`), this
    /// starts one look at the source on a thread of its own, without delaying the caller: files
    /// that changed since the identity in use was read are read at once (with the torn-read
    /// rules, not after a second look), and a callback is called. So a renewed identity already
    /// on disk is presented from the next handshake, without waiting for a watcher's poll.
    ///
    /// At most one look a second per identity, and none while a check runs
    /// ([`IdentityStats::refusal_checks`] counts them); an unchanged pair costs a `stat` of each
    /// file. Returns whether a look started. It is the caller's to call (rustls tells a client of
    /// the server's alert only through the error): not calling it turns this off.
    pub fn handshake_failed(&self, err: &rustls::Error) -> bool {
        use rustls::AlertDescription as Alert;
        let refused = matches!(
            err,
            rustls::Error::AlertReceived(
                Alert::BadCertificate
                    | Alert::UnsupportedCertificate
                    | Alert::CertificateRevoked
                    | Alert::CertificateExpired
                    | Alert::CertificateUnknown
                    | Alert::UnknownCA
                    | Alert::AccessDenied
                    | Alert::CertificateRequired
            )
        );
        if !refused {
            return false;
        }
        // A check holding the gate is a look already under way.
        let Some(mut gate) = self.try_lock_checks() else {
            return false;
        };
        if !gate.try_look() {
            return false;
        }
        drop(gate);
        self.inner().counters.refusal_check_started();
        let identity = self.clone();
        let spawned = std::thread::Builder::new()
            .name("client-identity-check".into())
            .spawn(move || identity.check_now());
        if let Err(err) = spawned {
            log::debug!("no thread to look at a refused client identity: {err}");
        }
        true
    }

    /// Look at the source now and read it if it changed since the identity in use (or the last
    /// refused one) was read, without waiting for the change to hold across a second look; a
    /// callback is called. For a caller with a reason to think the identity is out of date.
    pub fn check_now(&self) -> IdentityCheck {
        self.look(When::Unseen)
    }

    /// One check: a look at the files, a read when `when` says, then the expiry warning due.
    fn look(&self, when: When) -> IdentityCheck {
        let inner = self.inner();
        let mut gate = inner.checks.lock().unwrap_or_else(PoisonError::into_inner);
        let signature = inner.source.signature();
        let check = match (&signature, when) {
            (Some(now), When::Held) => match gate.observe(now.clone()) {
                Look::Changed => self.read_and_swap(&mut gate, signature),
                Look::Pending => IdentityCheck::Pending,
                Look::Unchanged => IdentityCheck::Unchanged,
            },
            (Some(now), When::Unseen) if gate.seen(now) => IdentityCheck::Unchanged,
            _ => self.read_and_swap(&mut gate, signature),
        };
        self.look_at_expiry(Some(&mut gate));
        check
    }

    /// The resolver a config presents this identity through.
    pub(crate) fn resolver(&self) -> Arc<dyn ResolvesClientCert> {
        Arc::new(IdentityResolver(self.clone()))
    }

    /// The checks' gate, unless a check holds it.
    fn try_lock_checks(&self) -> Option<MutexGuard<'_, ReloadGate>> {
        match self.inner().checks.try_lock() {
            Ok(gate) => Some(gate),
            Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        }
    }

    /// Read the source and swap in a new identity; `signature` is the files' look taken before
    /// the read.
    fn read_and_swap(
        &self,
        gate: &mut ReloadGate,
        signature: Option<SourceSignature>,
    ) -> IdentityCheck {
        let inner = self.inner();
        let new = match read(&inner.source, &inner.provider, gate) {
            Ok(Found::Whole(new)) => new,
            // Neither in use nor refused: the next look sees another signature, or the same one
            // held, and reads it again.
            Ok(Found::BeingWritten(path, why)) => {
                log::debug!(
                    "client identity `{}`: {} is being written ({why}); read again later",
                    inner.name,
                    path.display()
                );
                return IdentityCheck::Pending;
            }
            Err(err) => {
                gate.loaded(signature, false);
                inner.counters.rejected(&inner.name, &err);
                log::warn!(
                    "client identity `{}` from {}: {}; keeping the identity in use (valid until \
                     {}); {}",
                    inner.name,
                    inner.source,
                    Chain(&err),
                    Utc(inner.in_use.load().not_after),
                    err.advice()
                );
                inner.last_error.store(Some(Arc::new(err.clone())));
                return IdentityCheck::Failed(err);
            }
        };
        gate.loaded(signature, true);
        inner.last_error.store(None);
        if new.same_as(&inner.in_use.load()) {
            return IdentityCheck::Unchanged;
        }
        let not_after = new.not_after;
        inner.in_use.store(Arc::new(new));
        // After the swap: a session store that sees the new count is filled by handshakes that
        // may already present the new identity, never the reverse.
        let rotations = inner.rotations.fetch_add(1, Ordering::AcqRel) + 1;
        crate::meter::identity_rotated(&inner.name);
        log::info!(
            "client identity `{}` rotated (rotation {rotations}): valid until {}",
            inner.name,
            Utc(not_after)
        );
        IdentityCheck::Rotated
    }
}

/// When a check reads the source (a callback, which has no signature to look at: always).
#[derive(Clone, Copy)]
enum When {
    /// Once a change of the files held still across two looks.
    Held,
    /// Once the files differ from those of the identity in use, or of the last refused one.
    Unseen,
    Always,
}

impl PartialEq for RotatingIdentity {
    fn eq(&self, other: &Self) -> bool {
        // Ids are process-unique: equal ids are clones of one identity.
        self.inner().id == other.inner().id
    }
}

impl Eq for RotatingIdentity {}

impl Hash for RotatingIdentity {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.inner().id.hash(state);
        self.inner().name.hash(state);
    }
}

impl fmt::Debug for RotatingIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RotatingIdentity")
            .field("name", &self.inner().name)
            .field("source", &self.inner().source)
            .field("not_after", &self.not_after())
            .field("rotations", &self.rotations())
            .finish_non_exhaustive()
    }
}

/// A [`Watcher`](native_roots_cache::Watcher) polls [`RotatingIdentity::check_for_changes`] (which
/// logs its own failures): every poll interval for files, every reload interval for a callback.
impl Watched for RotatingIdentity {
    type Check = IdentityCheck;

    fn has_signature(&self) -> bool {
        self.source().paths().is_some()
    }

    fn poll(&self) -> IdentityCheck {
        self.check_for_changes()
    }
}

/// Presents the identity in use at each handshake.
#[derive(Debug)]
struct IdentityResolver(RotatingIdentity);

impl ResolvesClientCert for IdentityResolver {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        Some(self.0.certified_key())
    }

    fn has_certs(&self) -> bool {
        true
    }
}
