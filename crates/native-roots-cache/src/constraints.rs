//! Whether a trust anchor's certificate says it is *not* a CA (basicConstraints `cA` FALSE), as
//! Debian's `ssl-cert-snakeoil.pem` does when a directory scan picks it up.
//!
//! Only the extensions are decoded (with `der`'s derived, zero-copy decoders); every other field is
//! passed over as an undecoded `AnyRef`. A full `x509_cert::Certificate` decode of the 145 roots of
//! a Linux store costs about as much as a third of the whole load; this costs a fraction of it.

use der::asn1::{AnyRef, ObjectIdentifier, OctetStringRef};
use der::{Decode, Encode, Sequence};
use x509_cert::ext::pkix::BasicConstraints;
use x509_cert::name::Name;

/// `Certificate`, with only what this check reads decoded.
#[derive(Sequence)]
struct Certificate<'a> {
    tbs: TbsCertificate<'a>,
    signature_algorithm: AnyRef<'a>,
    signature: AnyRef<'a>,
}

/// `TBSCertificate` (RFC 5280, 4.1), extensions decoded, the rest passed over.
#[derive(Sequence)]
struct TbsCertificate<'a> {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    version: Option<AnyRef<'a>>,
    serial_number: AnyRef<'a>,
    signature: AnyRef<'a>,
    issuer: AnyRef<'a>,
    validity: AnyRef<'a>,
    subject: AnyRef<'a>,
    subject_public_key_info: AnyRef<'a>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    issuer_unique_id: Option<AnyRef<'a>>,
    #[asn1(context_specific = "2", tag_mode = "IMPLICIT", optional = "true")]
    subject_unique_id: Option<AnyRef<'a>>,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
    extensions: Option<Vec<Extension<'a>>>,
}

#[derive(Sequence)]
struct Extension<'a> {
    extn_id: ObjectIdentifier,
    #[asn1(default = "Default::default")]
    critical: bool,
    extn_value: OctetStringRef<'a>,
}

/// `id-ce-basicConstraints`.
const BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");

/// The subject of `der` when its basicConstraints extension says `cA` is false; `None` when it
/// says true, has no such extension (old v1 roots) or cannot be decoded (webpki decides that).
pub(crate) fn non_ca_subject(der: &[u8]) -> Option<String> {
    let cert = Certificate::from_der(der).ok()?;
    let ext = cert
        .tbs
        .extensions
        .iter()
        .flatten()
        .find(|ext| ext.extn_id == BASIC_CONSTRAINTS)?;
    let constraints = BasicConstraints::from_der(ext.extn_value.as_bytes()).ok()?;
    if constraints.ca {
        return None;
    }
    let subject = cert.tbs.subject.to_der().ok()?;
    Some(Name::from_der(&subject).map_or_else(
        |_| "an undecodable subject".to_owned(),
        |name| name.to_string(),
    ))
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
            assert!(
                Certificate::from_der(der).is_ok(),
                "the lite decoder reads a real root"
            );
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
