//! [`LoadReport`]: what one load found, skipped and met, for operators and dashboards.

use std::fmt;
use std::time::Duration;

use crate::source::certificate::ReportedCertificate;
use crate::source::{SourceError, TrustOrigin};

/// What a load of the trust store found, skipped and met.
///
/// A load can half-succeed: a bad file or an unparsable certificate does not throw away the good
/// anchors, but it is recorded here (and logged) so that it never passes silently.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoadReport {
    /// Where the certificates came from.
    pub origin: TrustOrigin,
    /// Certificates the source returned in the last attempt (before parsing).
    pub certificates: usize,
    /// Trust anchors added to the store.
    pub anchors: usize,
    /// The certificate of each anchor added, in the order the source returned them, with where
    /// it came from. The report keeps their DER (about 1.4 KB each) so that subjects, SHA-256
    /// and expiry can be decoded when asked for, not during the load.
    pub anchor_certificates: Vec<ReportedCertificate>,
    /// Certificates that webpki could not turn into trust anchors, and why.
    pub skipped: Vec<NotedCertificate>,
    /// Anchors whose certificate says it is not a CA (basicConstraints CA:FALSE), such as
    /// Debian's `ssl-cert-snakeoil.pem` picked up by a scan of `/etc/ssl/certs`: kept because the
    /// policy does not drop them (see [`LoadPolicy::with_drop_non_ca_anchors`]).
    ///
    /// [`LoadPolicy::with_drop_non_ca_anchors`]: crate::LoadPolicy::with_drop_non_ca_anchors
    pub non_ca_anchors: Vec<NotedCertificate>,
    /// Errors the source reported in the last attempt, each with its path where it has one.
    pub errors: Vec<SourceError>,
    /// Attempts made, the first included.
    pub attempts: u32,
    /// Wall time of the whole load, backoffs included.
    pub elapsed: Duration,
}

impl LoadReport {
    pub(crate) fn empty(origin: TrustOrigin) -> Self {
        Self {
            origin,
            certificates: 0,
            anchors: 0,
            anchor_certificates: Vec::new(),
            skipped: Vec::new(),
            non_ca_anchors: Vec::new(),
            errors: Vec::new(),
            attempts: 0,
            elapsed: Duration::ZERO,
        }
    }
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} trust anchors from {} ({} certificates, {} skipped as unparsable, {} errors) \
             after {} attempt{} in {:.1?}",
            self.anchors,
            self.origin,
            self.certificates,
            self.skipped.len(),
            self.errors.len(),
            self.attempts,
            if self.attempts == 1 { "" } else { "s" },
            self.elapsed,
        )
    }
}

/// A certificate a load took note of: one it skipped (it could not be a trust anchor), or an
/// anchor it kept with a warning (it says it is not a CA); its position, the certificate, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct NotedCertificate {
    /// Its position among the certificates the source returned.
    pub index: usize,
    /// The certificate and where it came from: its subject, SHA-256 and expiry where they can be
    /// decoded.
    pub certificate: ReportedCertificate,
    /// Why it was skipped, or what is wrong with it as an anchor.
    pub reason: String,
}

impl NotedCertificate {
    pub(crate) fn new(index: usize, certificate: ReportedCertificate, reason: String) -> Self {
        Self {
            index,
            certificate,
            reason,
        }
    }
}

impl fmt::Display for NotedCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "certificate #{} ({} bytes of DER, {}): {}",
            self.index,
            self.certificate.der.as_ref().len(),
            self.certificate,
            self.reason
        )
    }
}
