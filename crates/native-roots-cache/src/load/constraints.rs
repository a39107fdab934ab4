//! Whether a trust anchor's certificate says it is *not* a CA (basicConstraints `cA` FALSE), as
//! Debian's `ssl-cert-snakeoil.pem` does when a directory scan picks it up.
//!
//! Every anchor of every load is checked, so the check walks the certificate by its DER headers
//! (`der`'s `AnyRef`, no copy) to the extensions, finds basicConstraints by its identifier's
//! encoding at the start of each extension, and decodes that one extension only. A derived decode
//! of the whole `TBSCertificate` cost about 1.4 µs a certificate, a fifth of a Linux store's load
//! beyond rustls-native-certs'; this costs a fraction of it.

use der::asn1::{AnyRef, OctetStringRef};
use der::{Decode, Encode, Reader, Sequence, SliceReader, Tag, TagNumber, Tagged};
use x509_cert::ext::pkix::BasicConstraints;
use x509_cert::name::Name;

/// `Extension` (RFC 5280, 4.1), decoded for basicConstraints only.
#[derive(Sequence)]
struct Extension<'a> {
    extn_id: AnyRef<'a>,
    #[asn1(default = "Default::default")]
    critical: bool,
    extn_value: OctetStringRef<'a>,
}

/// How an extension whose identifier is `id-ce-basicConstraints` (2.5.29.19) starts: the OID's
/// tag, length and value, which DER encodes one way only.
const BASIC_CONSTRAINTS_ID: [u8; 5] = [0x06, 0x03, 0x55, 0x1D, 0x13];

/// The subject of `der` when its basicConstraints extension says `cA` is false; `None` when it
/// says true, has no such extension (old v1 roots) or cannot be decoded (webpki decides that).
pub(crate) fn non_ca_subject(der: &[u8]) -> Option<String> {
    let (subject, extensions) = subject_and_extensions(der)?;
    let mut extensions = SliceReader::new(extensions?.value()).ok()?;
    let constraints = loop {
        if extensions.is_finished() {
            return None;
        }
        let extension: AnyRef<'_> = extensions.decode().ok()?;
        if extension.value().starts_with(&BASIC_CONSTRAINTS_ID) {
            let extension: Extension<'_> = extension.decode_as().ok()?;
            break BasicConstraints::from_der(extension.extn_value.as_bytes()).ok()?;
        }
    };
    if constraints.ca {
        return None;
    }
    let subject = subject.to_der().ok()?;
    Some(Name::from_der(&subject).map_or_else(
        |_| "an undecodable subject".to_owned(),
        |name| name.to_string(),
    ))
}

/// The `subject` and the `[3]` extensions (the SEQUENCE inside) of a certificate's
/// `TBSCertificate`, found by walking its fields: `[0]` version, then serial number, signature,
/// issuer, validity, subject and subject public key info, then the optional `[1]`, `[2]` and `[3]`.
fn subject_and_extensions(der: &[u8]) -> Option<(AnyRef<'_>, Option<AnyRef<'_>>)> {
    /// The subject is the fifth field without a context tag.
    const SUBJECT: usize = 5;
    let certificate = AnyRef::from_der(der).ok()?;
    let tbs: AnyRef<'_> = SliceReader::new(certificate.value()).ok()?.decode().ok()?;
    let mut fields = SliceReader::new(tbs.value()).ok()?;
    let (mut untagged, mut subject) = (0, None);
    while !fields.is_finished() {
        let field: AnyRef<'_> = fields.decode().ok()?;
        match field.tag() {
            Tag::ContextSpecific { number, .. } if number == TagNumber::N3 => {
                return Some((subject?, Some(AnyRef::from_der(field.value()).ok()?)));
            }
            Tag::ContextSpecific { .. } => {}
            _ => {
                untagged += 1;
                if untagged == SUBJECT {
                    subject = Some(field);
                }
            }
        }
    }
    Some((subject?, None))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn mozilla_roots_are_cas() {
        for der in [
            &include_bytes!("../../testdata/root1.der")[..],
            include_bytes!("../../testdata/root2.der"),
            include_bytes!("../../testdata/root3.der"),
        ] {
            assert!(
                subject_and_extensions(der).is_some_and(|(_, ext)| ext.is_some()),
                "the walk reaches a real root's extensions"
            );
            assert_eq!(non_ca_subject(der), None);
        }
    }

    #[test]
    fn a_leaf_certificate_is_named() {
        let der = include_bytes!("../../testdata/leaf.der");
        assert_eq!(non_ca_subject(der).as_deref(), Some("CN=localhost"));
    }

    /// The walk agrees with x509-cert's full decode on certificates of every basicConstraints
    /// shape rcgen makes (CA with and without a path length, CA:FALSE, none at all).
    #[test]
    #[cfg_attr(miri, ignore = "key generation is too slow under Miri")]
    fn the_walk_agrees_with_a_full_decode() {
        use rcgen::{BasicConstraints as Bc, CertificateParams, IsCa, KeyPair};
        use x509_cert::ext::pkix::BasicConstraints as Full;
        let full = |der: &[u8]| -> Option<String> {
            let cert = x509_cert::Certificate::from_der(der).ok()?;
            let (_, ext) = cert.tbs_certificate.get::<Full>().ok()??;
            (!ext.ca).then(|| cert.tbs_certificate.subject.to_string())
        };
        let key = KeyPair::generate().unwrap();
        for is_ca in [
            IsCa::Ca(Bc::Unconstrained),
            IsCa::Ca(Bc::Constrained(0)),
            IsCa::ExplicitNoCa,
            IsCa::NoCa,
        ] {
            let mut params = CertificateParams::new(vec!["walk.test".to_owned()]).unwrap();
            params.is_ca = is_ca.clone();
            let der = params.self_signed(&key).unwrap().der().to_vec();
            assert_eq!(non_ca_subject(&der), full(&der), "{is_ca:?}");
        }
        for der in [
            &include_bytes!("../../testdata/root1.der")[..],
            include_bytes!("../../testdata/leaf.der"),
        ] {
            assert_eq!(non_ca_subject(der), full(der));
        }
    }

    #[test]
    fn garbage_is_left_to_webpki() {
        assert_eq!(non_ca_subject(b"\x30\x03\x02\x01\x00"), None);
    }
}
