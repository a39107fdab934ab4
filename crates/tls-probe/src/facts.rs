//! One certificate as the probe shows it: the library's facts about it (subject, SHA-256,
//! validity, where it came from), rendered once for text and JSON.

use std::time::SystemTime;

use native_roots_cache::{CertificateLocation, ReportedCertificate, TrustOrigin};
use serde::Serialize;

use crate::date;

/// What the probe says about a certificate.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct CertificateFacts {
    /// RFC 4514; `None` if the certificate does not decode.
    pub(crate) subject: Option<String>,
    /// Of the whole DER certificate, lowercase hex.
    pub(crate) sha256: String,
    /// RFC 3339, UTC.
    pub(crate) not_before: Option<String>,
    /// RFC 3339, UTC.
    pub(crate) not_after: Option<String>,
    /// The file it was read from, the platform store's name, or `peer`.
    pub(crate) location: String,
    #[serde(skip)]
    pub(crate) expires: Option<SystemTime>,
}

impl CertificateFacts {
    pub(crate) fn of(cert: &ReportedCertificate) -> Self {
        Self::from_origin(cert, None)
    }

    /// The facts of a certificate a load of `origin` met. The platform store's certificates say
    /// only that they came from it; `origin` names it ("the Windows certificate store (ROOT)").
    pub(crate) fn from_origin(cert: &ReportedCertificate, origin: Option<&TrustOrigin>) -> Self {
        let location = match (&cert.location, origin) {
            (CertificateLocation::PlatformStore, Some(origin @ TrustOrigin::PlatformStore)) => {
                origin.to_string()
            }
            (location, _) => location.to_string(),
        };
        let expires = cert.not_after();
        Self {
            subject: cert.subject(),
            sha256: cert.sha256_hex(),
            not_before: cert.not_before().map(date::rfc3339),
            not_after: expires.map(date::rfc3339),
            location,
            expires,
        }
    }

    /// The subject, or a placeholder that says why there is none.
    pub(crate) fn subject_text(&self) -> &str {
        self.subject.as_deref().unwrap_or("(subject undecodable)")
    }

    /// The not-after date (no time of day), or `-`.
    pub(crate) fn expiry_date(&self) -> String {
        self.expires.map_or_else(|| "-".to_owned(), date::date)
    }
}
