//! PEM decoding for the upstream key builder, with errors that say which argument and which
//! section was wrong.

use rustls::pki_types::pem::{self, PemObject, SectionKind};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::BuildError;

/// Every `CERTIFICATE` section of `pem`, in order.
///
/// Sections of other kinds are an error (a key pasted into a CA bundle is a mistake worth
/// reporting), and so is a bundle without any certificate.
pub(crate) fn certificates(
    argument: &'static str,
    pem: &[u8],
) -> Result<Vec<CertificateDer<'static>>, BuildError> {
    const EXPECTED: &str = "CERTIFICATE";
    let mut certs = Vec::new();
    for (item, section) in <(SectionKind, Vec<u8>)>::pem_slice_iter(pem).enumerate() {
        match section {
            Ok((SectionKind::Certificate, der)) => certs.push(CertificateDer::from(der)),
            Ok((kind, _)) => {
                return Err(BuildError::pem(
                    argument,
                    Some(item),
                    EXPECTED,
                    format!(
                        "found a {} block where certificates were expected",
                        label(kind)
                    ),
                ))
            }
            Err(err) => {
                return Err(BuildError::pem(
                    argument,
                    Some(item),
                    EXPECTED,
                    reason(&err),
                ))
            }
        }
    }
    if certs.is_empty() {
        return Err(BuildError::pem(
            argument,
            None,
            EXPECTED,
            "no certificate found",
        ));
    }
    Ok(certs)
}

/// The one private key in `pem` (PKCS#8, PKCS#1 or SEC1).
pub(crate) fn private_key(
    argument: &'static str,
    pem: &[u8],
) -> Result<PrivateKeyDer<'static>, BuildError> {
    const EXPECTED: &str = "PRIVATE KEY";
    let mut key = None;
    for (item, section) in <(SectionKind, Vec<u8>)>::pem_slice_iter(pem).enumerate() {
        let (kind, der) =
            section.map_err(|err| BuildError::pem(argument, Some(item), EXPECTED, reason(&err)))?;
        let Some(parsed) = PrivateKeyDer::from_pem(kind, der) else {
            return Err(BuildError::pem(
                argument,
                Some(item),
                EXPECTED,
                format!(
                    "found a {} block where a private key was expected",
                    label(kind)
                ),
            ));
        };
        if key.is_some() {
            return Err(BuildError::pem(
                argument,
                Some(item),
                EXPECTED,
                "more than one private key",
            ));
        }
        key = Some(parsed);
    }
    key.ok_or_else(|| {
        BuildError::pem(
            argument,
            None,
            EXPECTED,
            "no private key found (PKCS#8 `PRIVATE KEY`, PKCS#1 `RSA PRIVATE KEY` or SEC1 \
             `EC PRIVATE KEY`)",
        )
    })
}

pub(crate) fn label(kind: SectionKind) -> &'static str {
    match kind {
        SectionKind::Certificate => "CERTIFICATE",
        SectionKind::PublicKey => "PUBLIC KEY",
        SectionKind::RsaPrivateKey => "RSA PRIVATE KEY",
        SectionKind::PrivateKey => "PRIVATE KEY",
        SectionKind::EcPrivateKey => "EC PRIVATE KEY",
        SectionKind::Crl => "X509 CRL",
        SectionKind::Csr => "CERTIFICATE REQUEST",
        SectionKind::EchConfigList => "ECHCONFIG",
        _ => "non-certificate",
    }
}

/// The parser's reason, with byte strings shown as text.
pub(crate) fn reason(err: &pem::Error) -> String {
    match err {
        pem::Error::MissingSectionEnd { end_marker } => format!(
            "truncated: missing the `-----END {}-----` line",
            String::from_utf8_lossy(end_marker)
        ),
        pem::Error::IllegalSectionStart { line } => {
            format!("malformed BEGIN line `{}`", String::from_utf8_lossy(line))
        }
        pem::Error::Base64Decode(detail) => format!("the base64 body does not decode ({detail})"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CERT: &str = "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n";
    const KEY: &str = "-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n";

    #[test]
    fn certificates_in_order() {
        let pem = format!("{CERT}{CERT}");
        let certs = certificates("extra_anchors_pem", pem.as_bytes()).expect("two certs");
        assert_eq!(certs.len(), 2);
    }

    #[test]
    fn empty_bundle_is_named() {
        let err = certificates("extra_anchors_pem", b"hello").expect_err("no certs");
        let text = err.to_string();
        assert!(text.contains("extra_anchors_pem"), "{text}");
        assert!(text.contains("no certificate found"), "{text}");
    }

    #[test]
    fn truncated_section_names_item() {
        let pem = format!("{CERT}-----BEGIN CERTIFICATE-----\nMAA=\n");
        let err = certificates("extra_anchors_pem", pem.as_bytes()).expect_err("truncated");
        assert!(
            matches!(err, BuildError::Pem { item: Some(1), .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("END CERTIFICATE"), "{err}");
    }

    #[test]
    fn key_in_certificate_bundle_is_refused() {
        let pem = format!("{CERT}{KEY}");
        let err = certificates("extra_anchors_pem", pem.as_bytes()).expect_err("key");
        assert!(
            matches!(err, BuildError::Pem { item: Some(1), .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("PRIVATE KEY block"), "{err}");
    }

    #[test]
    fn certificate_is_not_a_key() {
        let err = private_key("client_identity_pem key", CERT.as_bytes()).expect_err("cert");
        assert!(
            matches!(err, BuildError::Pem { item: Some(0), .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("client_identity_pem key"), "{err}");
    }

    #[test]
    fn one_key() {
        assert!(private_key("k", KEY.as_bytes()).is_ok());
        let two = format!("{KEY}{KEY}");
        assert!(private_key("k", two.as_bytes()).is_err());
        assert!(private_key("k", b"").is_err());
    }
}
