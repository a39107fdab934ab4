//! Which certificate of a chain a CRL revoked, when and why. rustls' `Revoked` names none of
//! it, so the probe looks each certificate's serial up in the CRLs the handshake applied, read
//! back from their files.

use std::path::{Path, PathBuf};

use native_roots_cache::ReloadGate;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer};
use serde::Serialize;
use tls_client_builder::Crls;
use webpki::{BorrowedCertRevocationList, CertRevocationList, EndEntityCert, RevocationReason};

use crate::date;
use crate::peer::PeerCertificate;

/// A certificate of the chain and the CRL entry that revokes it.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct RevokedCertificate {
    /// Its place in the chain as sent, the leaf being 0.
    pub(crate) position: usize,
    /// RFC 4514; `None` if the certificate does not decode.
    pub(crate) subject: Option<String>,
    /// Its serial number in hexadecimal, as OpenSSL prints it (`openssl x509 -serial`).
    pub(crate) serial: String,
    /// When its issuer revoked it, RFC 3339 (UTC).
    pub(crate) revocation_date: String,
    /// The CRL entry's reason code by its RFC 5280 name (`keyCompromise`); `None` when the
    /// entry has none.
    pub(crate) reason: Option<&'static str>,
    /// The file of the CRL that lists it.
    pub(crate) crl_file: String,
    /// That CRL's issuer (the certificate's issuer), RFC 4514.
    pub(crate) crl_issuer: Option<String>,
}

/// The first certificate of `chain` (leaf first) that a CRL of `crls` revokes, read back from
/// the CRLs' files; `None` if none lists one (the files changed since the handshake). `peers`
/// describe `chain`, certificate by certificate.
pub(crate) fn find(
    chain: &[CertificateDer<'_>],
    peers: &[PeerCertificate],
    crls: &Crls,
) -> Option<RevokedCertificate> {
    let mut files: Vec<PathBuf> = Vec::new();
    for info in crls.crls() {
        if info.skipped.is_none() && !files.contains(&info.path) {
            files.push(info.path);
        }
    }
    let lists: Vec<(&Path, CertificateRevocationListDer<'static>)> = files
        .iter()
        .flat_map(|file| {
            crls_in(file)
                .into_iter()
                .map(move |der| (file.as_path(), der))
        })
        .collect();
    let parsed: Vec<(&Path, CertRevocationList<'_>)> = lists
        .iter()
        .filter_map(|(file, der)| {
            let list = BorrowedCertRevocationList::from_der(der).ok()?;
            Some((*file, CertRevocationList::from(list)))
        })
        .collect();
    for (position, der) in chain.iter().enumerate() {
        let Ok(cert) = EndEntityCert::try_from(der) else {
            continue;
        };
        for (file, list) in &parsed {
            if list.issuer() != cert.issuer() {
                continue;
            }
            if let Ok(Some(entry)) = list.find_serial(cert.serial()) {
                let peer = peers.get(position);
                return Some(RevokedCertificate {
                    position,
                    subject: peer.and_then(|peer| peer.certificate.subject.clone()),
                    serial: serial_hex(entry.serial_number),
                    revocation_date: date::rfc3339(date::from_unix(entry.revocation_date)),
                    reason: entry.reason_code.map(reason_name),
                    crl_file: file.display().to_string(),
                    crl_issuer: peer.and_then(|peer| peer.issuer.clone()),
                });
            }
        }
    }
    None
}

/// The CRLs of `file` as the library reads them: PEM `X509 CRL` sections, or one DER CRL.
fn crls_in(file: &Path) -> Vec<CertificateRevocationListDer<'static>> {
    let Ok(bytes) = ReloadGate::read_file(file) else {
        return Vec::new();
    };
    // DER starts with a SEQUENCE (0x30); anything else with a BEGIN line is PEM.
    if !bytes.starts_with(&[0x30]) && bytes.windows(10).any(|w| w == b"-----BEGIN") {
        CertificateRevocationListDer::pem_slice_iter(&bytes)
            .filter_map(Result::ok)
            .collect()
    } else {
        vec![CertificateRevocationListDer::from(bytes)]
    }
}

/// A DER INTEGER's content as OpenSSL prints a serial: uppercase hexadecimal, without the
/// leading zero byte that keeps a positive number's top bit clear.
fn serial_hex(serial: &[u8]) -> String {
    let serial = match serial {
        [0, rest @ ..] if !rest.is_empty() => rest,
        all => all,
    };
    serial.iter().map(|byte| format!("{byte:02X}")).collect()
}

/// RFC 5280's name of a reason code (section 5.3.1).
fn reason_name(reason: RevocationReason) -> &'static str {
    match reason {
        RevocationReason::Unspecified => "unspecified",
        RevocationReason::KeyCompromise => "keyCompromise",
        RevocationReason::CaCompromise => "cACompromise",
        RevocationReason::AffiliationChanged => "affiliationChanged",
        RevocationReason::Superseded => "superseded",
        RevocationReason::CessationOfOperation => "cessationOfOperation",
        RevocationReason::CertificateHold => "certificateHold",
        RevocationReason::RemoveFromCrl => "removeFromCRL",
        RevocationReason::PrivilegeWithdrawn => "privilegeWithdrawn",
        RevocationReason::AaCompromise => "aACompromise",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_print_as_openssl_prints_them() {
        assert_eq!(serial_hex(&[0x2a]), "2A");
        assert_eq!(serial_hex(&[0x00, 0x80, 0x01]), "8001");
        assert_eq!(serial_hex(&[0x00]), "00");
        assert_eq!(serial_hex(&[0x01, 0x00]), "0100");
    }

    #[test]
    fn every_reason_has_its_rfc_5280_name() {
        let names: Vec<&str> = RevocationReason::iter().map(reason_name).collect();
        assert_eq!(names.len(), 10);
        assert!(names.contains(&"keyCompromise") && names.contains(&"aACompromise"));
    }
}
