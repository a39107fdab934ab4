//! Reload on the first unknown issuer: the verifier of configs that trust the native roots, which,
//! when a server's chain ends at an issuer those roots lack, has their files looked at once for a
//! change ([`NativeRoots::check_now`]), so that a CA rolled out a moment ago is trusted at the next
//! lookup instead of at the next poll (or never, without a watcher).
//!
//! Guarantees: the failing handshake is not delayed (the look runs on a thread of its own) and
//! fails as it would have; at most one look starts per [`MIN_INTERVAL`] per cache, however many
//! handshakes fail; every other verdict is webpki's, unchanged.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, SignatureScheme};

use crate::roots::NativeRoots;

/// The least time between two looks started by unknown issuers, per cache.
pub(crate) const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// A cache's looks at its native roots on unknown issuers: the rate limit and the count.
pub(crate) struct IssuerCheck {
    roots: Arc<dyn NativeRoots>,
    enabled: AtomicBool,
    last: Mutex<Option<Instant>>,
    started: AtomicU64,
}

impl IssuerCheck {
    pub(crate) fn new(roots: Arc<dyn NativeRoots>) -> Self {
        Self {
            roots,
            enabled: AtomicBool::new(true),
            last: Mutex::new(None),
            started: AtomicU64::new(0),
        }
    }

    pub(crate) fn set_enabled(&self, enabled: bool) {
        self.enabled.store(enabled, Ordering::Relaxed);
    }

    pub(crate) fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    /// How many looks unknown issuers started.
    pub(crate) fn started(&self) -> u64 {
        self.started.load(Ordering::Relaxed)
    }

    /// A handshake met an unknown issuer: start a look unless one started within
    /// [`MIN_INTERVAL`] (or the checks are off).
    fn unknown_issuer(&self) {
        if !self.enabled.load(Ordering::Relaxed) {
            return;
        }
        {
            let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
            if last.is_some_and(|at| at.elapsed() < MIN_INTERVAL) {
                return;
            }
            *last = Some(Instant::now());
        }
        self.started.fetch_add(1, Ordering::Relaxed);
        crate::meter::unknown_issuer_check();
        let roots = Arc::clone(&self.roots);
        let spawned = std::thread::Builder::new()
            .name("unknown-issuer-check".into())
            .spawn(move || roots.check_now());
        if let Err(err) = spawned {
            log::debug!("no thread to look at the trust store after an unknown issuer: {err}");
        }
    }
}

/// webpki's verifier over the native roots, starting an [`IssuerCheck`] look when it answers
/// `UnknownIssuer`, its errors given as a trust's rules give them (`Trust::Platform`'s).
#[derive(Debug)]
pub(crate) struct CheckingVerifier {
    inner: Arc<dyn ServerCertVerifier>,
    check: Arc<IssuerCheck>,
    error: fn(rustls::Error) -> rustls::Error,
}

impl CheckingVerifier {
    pub(crate) fn new(inner: Arc<dyn ServerCertVerifier>, check: Arc<IssuerCheck>) -> Self {
        Self {
            inner,
            check,
            error: std::convert::identity,
        }
    }

    /// The same, answering with `error(e)` where webpki answers `e`.
    #[cfg(feature = "platform-verifier")]
    pub(crate) fn with_errors(mut self, error: fn(rustls::Error) -> rustls::Error) -> Self {
        self.error = error;
        self
    }
}

impl std::fmt::Debug for IssuerCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuerCheck")
            .field("enabled", &self.enabled.load(Ordering::Relaxed))
            .field("started", &self.started())
            .finish_non_exhaustive()
    }
}

impl ServerCertVerifier for CheckingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verdict = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        if let Err(rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)) = &verdict {
            self.check.unknown_issuer();
        }
        verdict.map_err(self.error)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }

    fn root_hint_subjects(&self) -> Option<&[DistinguishedName]> {
        self.inner.root_hint_subjects()
    }
}
