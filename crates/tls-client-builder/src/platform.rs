//! `Trust::Platform`: the platform verifier's decisions. Where the operating system verifies
//! (macOS, Windows, iOS, Android), one `rustls_platform_verifier::Verifier` per trust set; on
//! Linux and the BSDs, where the platform verifier is webpki over the native store read anew for
//! each verifier, webpki over the cached native roots with the platform verifier's rules
//! (`rustls-platform-verifier` 0.7 `src/verification/others.rs`): its empty-store rule lives in
//! the trust sets, its error mapping here.

use std::fmt;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, SignatureScheme};

/// Whether the operating system verifies each handshake (no native roots involved).
pub(crate) const OS_VERIFIES: bool =
    cfg!(any(target_vendor = "apple", windows, target_os = "android"));

/// webpki (over the native roots) answering as the platform verifier does on Linux: a
/// certificate whose extended key usage does not allow server authentication fails with
/// `CertificateError::Other` of an error reading "certificate had invalid extensions", not
/// webpki's `InvalidPurpose`.
#[derive(Debug)]
pub(crate) struct PlatformRules {
    inner: Arc<dyn ServerCertVerifier>,
}

impl PlatformRules {
    pub(crate) fn new(inner: Arc<dyn ServerCertVerifier>) -> Self {
        Self { inner }
    }
}

/// The platform verifier's error for a certificate not for server authentication.
#[derive(Debug)]
struct EkuError;

impl fmt::Display for EkuError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("certificate had invalid extensions")
    }
}

impl std::error::Error for EkuError {}

fn platform_error(err: rustls::Error) -> rustls::Error {
    match err {
        rustls::Error::InvalidCertificate(
            CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. },
        ) => rustls::Error::InvalidCertificate(CertificateError::Other(rustls::OtherError(
            Arc::new(EkuError),
        ))),
        err => err,
    }
}

impl ServerCertVerifier for PlatformRules {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            .map_err(platform_error)
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
