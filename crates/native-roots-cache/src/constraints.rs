//! Whether a trust anchor's certificate says it is *not* a CA (basicConstraints `cA` FALSE), as
//! Debian's `ssl-cert-snakeoil.pem` does when a directory scan picks it up.

use x509_cert::der::oid::AssociatedOid;
use x509_cert::der::Decode;
use x509_cert::ext::pkix::BasicConstraints;
use x509_cert::Certificate;

/// The subject of `der` when its basicConstraints extension says `cA` is false; `None` when it
/// says true, has no such extension (old v1 roots) or cannot be decoded (webpki decides that).
pub(crate) fn non_ca_subject(der: &[u8]) -> Option<String> {
    let cert = Certificate::from_der(der).ok()?;
    let tbs = &cert.tbs_certificate;
    let ext = tbs
        .extensions
        .iter()
        .flatten()
        .find(|ext| ext.extn_id == BasicConstraints::OID)?;
    let constraints = BasicConstraints::from_der(ext.extn_value.as_bytes()).ok()?;
    (!constraints.ca).then(|| tbs.subject.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mozilla_roots_are_cas() {
        for der in [
            &include_bytes!("../testdata/root1.der")[..],
            include_bytes!("../testdata/root2.der"),
            include_bytes!("../testdata/root3.der"),
        ] {
            assert_eq!(non_ca_subject(der), None);
        }
    }

    #[test]
    fn a_leaf_certificate_is_named() {
        let der = include_bytes!("../testdata/leaf.der");
        assert_eq!(non_ca_subject(der).as_deref(), Some("CN=localhost"));
    }

    #[test]
    fn garbage_is_left_to_webpki() {
        assert_eq!(non_ca_subject(b"\x30\x03\x02\x01\x00"), None);
    }
}
