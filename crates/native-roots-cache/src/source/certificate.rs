//! [`ReportedCertificate`]: one certificate as a load met it (its DER and where it came from), so
//! that an operator can find the culprit of a skipped certificate or check an anchor's expiry.
//!
//! Nothing is decoded while the store loads: the facts (subject, SHA-256, validity) are computed
//! when asked for, so the first load pays only for keeping the DER it already read.

use std::fmt;
use std::path::PathBuf;
use std::time::SystemTime;

use der::Decode;
use rustls::pki_types::CertificateDer;
use sha2::{Digest, Sha256};

/// Where one certificate came from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CertificateLocation {
    /// A PEM file: the bundle, or an entry of a directory, as the reader opened it.
    File(PathBuf),
    /// The platform's own store (the macOS Security framework, the Windows `ROOT` store), which
    /// does not say which keychain or store each certificate came from.
    PlatformStore,
    /// A place a custom [`TrustSource`](crate::TrustSource) describes in its own words.
    Custom(String),
    /// The source did not say.
    Unspecified,
}

impl fmt::Display for CertificateLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(path) => write!(f, "{}", path.display()),
            Self::PlatformStore => f.write_str("the platform store"),
            Self::Custom(place) => f.write_str(place),
            Self::Unspecified => f.write_str("an unspecified place"),
        }
    }
}

/// A certificate as a load met it: its DER and its [`CertificateLocation`], with its facts
/// decoded on demand.
///
/// ```
/// use native_roots_cache::{CertificateLocation, ReportedCertificate};
/// # let der = rustls::pki_types::CertificateDer::from(&include_bytes!("../../testdata/root1.der")[..]);
/// let cert = ReportedCertificate::new(der, CertificateLocation::Custom("my vault".into()));
/// assert_eq!(cert.sha256_hex().len(), 64);
/// assert!(cert.subject().is_some());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReportedCertificate {
    /// The certificate as the source returned it.
    pub der: CertificateDer<'static>,
    /// Where it came from.
    pub location: CertificateLocation,
}

impl ReportedCertificate {
    /// A certificate found at `location`.
    pub fn new(der: CertificateDer<'static>, location: CertificateLocation) -> Self {
        Self { der, location }
    }

    /// The SHA-256 of the whole DER certificate, as `openssl x509 -fingerprint -sha256` prints.
    pub fn sha256(&self) -> [u8; 32] {
        Sha256::digest(self.der.as_ref()).into()
    }

    /// [`sha256`](Self::sha256) as 64 lowercase hex digits.
    pub fn sha256_hex(&self) -> String {
        use fmt::Write;
        self.sha256()
            .iter()
            .fold(String::with_capacity(64), |mut hex, byte| {
                let _ = write!(hex, "{byte:02x}");
                hex
            })
    }

    /// The subject as an RFC 4514 string, or `None` when the DER is not an X.509 certificate.
    pub fn subject(&self) -> Option<String> {
        Some(self.decode()?.tbs_certificate.subject.to_string())
    }

    /// The end of the validity period, or `None` when the DER is not an X.509 certificate.
    pub fn not_after(&self) -> Option<SystemTime> {
        Some(
            self.decode()?
                .tbs_certificate
                .validity
                .not_after
                .to_system_time(),
        )
    }

    /// The start of the validity period, or `None` when the DER is not an X.509 certificate.
    pub fn not_before(&self) -> Option<SystemTime> {
        Some(
            self.decode()?
                .tbs_certificate
                .validity
                .not_before
                .to_system_time(),
        )
    }

    fn decode(&self) -> Option<x509_cert::Certificate> {
        x509_cert::Certificate::from_der(self.der.as_ref()).ok()
    }
}

impl From<CertificateDer<'static>> for ReportedCertificate {
    /// A certificate whose source did not say where it came from.
    fn from(der: CertificateDer<'static>) -> Self {
        Self::new(der, CertificateLocation::Unspecified)
    }
}

impl fmt::Display for ReportedCertificate {
    /// `subject (sha256 prefix…) from location`, the way a log line names a certificate.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let subject = self
            .subject()
            .unwrap_or_else(|| "an undecodable certificate".to_owned());
        let sha = self.sha256_hex();
        write!(
            f,
            "{subject} (SHA-256 {}…) from {}",
            &sha[..16],
            self.location
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn root1() -> ReportedCertificate {
        ReportedCertificate::new(
            CertificateDer::from(&include_bytes!("../../testdata/root1.der")[..]),
            CertificateLocation::File("/etc/ssl/certs/root1.pem".into()),
        )
    }

    #[test]
    fn facts_of_a_real_root() {
        let cert = root1();
        let subject = cert.subject().unwrap_or_default();
        assert!(subject.contains("CN="), "{subject}");
        let (from, until) = (
            cert.not_before().unwrap_or(UNIX_EPOCH),
            cert.not_after().unwrap_or(UNIX_EPOCH),
        );
        // A root is valid for years, and after 2000.
        assert!(until > from + Duration::from_secs(365 * 86_400));
        assert!(from > UNIX_EPOCH + Duration::from_secs(30 * 365 * 86_400));
        let hex = cert.sha256_hex();
        assert_eq!(hex.len(), 64);
        assert!(
            hex.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert_eq!(hex[..2], format!("{:02x}", cert.sha256()[0]));
        assert!(cert.to_string().contains("/etc/ssl/certs/root1.pem"));
    }

    #[test]
    fn sha256_of_known_bytes() {
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        let cert = ReportedCertificate::from(CertificateDer::from(&b"abc"[..]));
        assert_eq!(
            cert.sha256_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(cert.subject(), None);
        assert_eq!(cert.not_after(), None);
        assert_eq!(cert.location, CertificateLocation::Unspecified);
        assert!(cert.to_string().starts_with("an undecodable certificate"));
    }
}
