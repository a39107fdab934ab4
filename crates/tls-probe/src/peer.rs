//! The server's chain as the probe shows it, and which trusted anchor it ends at.

use native_roots_cache::{CertificateLocation, ReportedCertificate};
use rustls::pki_types::CertificateDer;
use serde::Serialize;

use crate::facts::CertificateFacts;
use crate::x509;

/// One certificate of the server's chain.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct PeerCertificate {
    /// Its place in the chain as sent, the leaf being 0.
    #[serde(skip)]
    pub(crate) position: usize,
    #[serde(flatten)]
    pub(crate) certificate: CertificateFacts,
    /// RFC 4514; `None` if the certificate does not decode.
    pub(crate) issuer: Option<String>,
    /// Subject alternative names: `DNS:…`, `IP:…`.
    pub(crate) names: Vec<String>,
}

/// Describe the chain the server sent, leaf first.
pub(crate) fn describe_chain(chain: &[CertificateDer<'static>]) -> Vec<PeerCertificate> {
    chain
        .iter()
        .enumerate()
        .map(|(position, der)| {
            let decoded = x509::issuer_and_names(der);
            let reported =
                ReportedCertificate::new(der.clone(), CertificateLocation::Custom("peer".into()));
            PeerCertificate {
                position,
                certificate: CertificateFacts::of(&reported),
                issuer: decoded.issuer,
                names: decoded.names,
            }
        })
        .collect()
}

/// The anchors the chain can end at: the last certificate itself when it is an anchor, else
/// every anchor whose subject is the last certificate's issuer (several when a CA was re-issued
/// under the same name). Only the verifier knows which one it used; this is the operator's best
/// lead.
pub(crate) fn chain_anchors(
    chain: &[PeerCertificate],
    anchors: &[ReportedCertificate],
) -> Vec<CertificateFacts> {
    let Some(last) = chain.last() else {
        return Vec::new();
    };
    // The server may send the anchor itself as the last certificate.
    let mut found: Vec<&ReportedCertificate> = anchors
        .iter()
        .filter(|anchor| anchor.sha256_hex() == last.certificate.sha256)
        .collect();
    if found.is_empty() {
        if let Some(issuer) = &last.issuer {
            found = anchors
                .iter()
                .filter(|anchor| anchor.subject().as_deref() == Some(issuer.as_str()))
                .collect();
        }
    }
    // The same certificate can be both a system anchor and a --ca anchor.
    let mut facts: Vec<CertificateFacts> = Vec::new();
    for anchor in found {
        let anchor = CertificateFacts::of(anchor);
        if !facts.iter().any(|f| f.sha256 == anchor.sha256) {
            facts.push(anchor);
        }
    }
    facts
}
