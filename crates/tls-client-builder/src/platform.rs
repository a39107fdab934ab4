//! `Trust::Platform`: the platform verifier's decisions. Where the operating system verifies
//! (macOS, Windows, iOS, Android), one `rustls_platform_verifier::Verifier` per trust set; on
//! Linux and the BSDs, where the platform verifier is webpki over the native store read anew for
//! each verifier, webpki over the cached native roots with the platform verifier's rules
//! (`rustls-platform-verifier` 0.7 `src/verification/others.rs`): its empty-store rule lives in
//! the trust sets, its error mapping here (applied by the trust set's `CheckingVerifier`).

use std::fmt;
use std::sync::Arc;

use rustls::CertificateError;
#[cfg(any(target_vendor = "apple", windows, target_os = "android"))]
use rustls::{client::danger::ServerCertVerifier, pki_types::CertificateDer};

/// The platform verifier's error for a certificate not for server authentication.
#[derive(Debug)]
struct EkuError;

impl fmt::Display for EkuError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("certificate had invalid extensions")
    }
}

impl std::error::Error for EkuError {}

/// webpki's error as the platform verifier gives it on Linux: a certificate whose extended key
/// usage does not allow server authentication fails with `CertificateError::Other` of an error
/// reading "certificate had invalid extensions", not webpki's `InvalidPurpose`.
pub(crate) fn platform_error(err: rustls::Error) -> rustls::Error {
    match err {
        rustls::Error::InvalidCertificate(
            CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. },
        ) => rustls::Error::InvalidCertificate(CertificateError::Other(rustls::OtherError(
            Arc::new(EkuError),
        ))),
        err => err,
    }
}

/// The operating system's verifier for a trust set: `extra` anchors added where the platform
/// verifier takes them (not on Android).
#[cfg(any(target_vendor = "apple", windows, target_os = "android"))]
pub(crate) fn os_verifier(
    provider: Arc<rustls::crypto::CryptoProvider>,
    extra: &[CertificateDer<'static>],
) -> Result<Arc<dyn ServerCertVerifier>, crate::error::BuildError> {
    use crate::error::BuildError;
    use rustls_platform_verifier::Verifier;

    #[cfg(target_os = "android")]
    let verifier = if extra.is_empty() {
        Verifier::new(provider)
    } else {
        Err(rustls::Error::General(
            "rustls-platform-verifier takes no extra anchors on Android".into(),
        ))
    };
    #[cfg(not(target_os = "android"))]
    let verifier = Verifier::new_with_extra_roots(extra.iter().cloned(), provider);
    match verifier {
        Ok(verifier) => Ok(Arc::new(verifier)),
        Err(err) => Err(BuildError::platform_verifier(err)),
    }
}
