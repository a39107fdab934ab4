//! The crate's one PEM parser, for the upstream key builder's arguments and for client
//! identities, with problems that say which section was wrong; each caller names the argument or
//! the file in its own error.

use std::path::Path;

use rustls::pki_types::pem::{self, PemObject, SectionKind};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::BuildError;
use crate::identity_error::IdentityError;

/// What was wrong with a PEM text.
#[derive(Debug)]
pub(crate) struct PemProblem {
    /// The position of the offending section (0-based), when one is at fault.
    item: Option<usize>,
    /// The kind of block that was expected (`CERTIFICATE`, `PRIVATE KEY`).
    expected: &'static str,
    reason: String,
}

impl PemProblem {
    fn new(item: Option<usize>, expected: &'static str, reason: impl Into<String>) -> Self {
        Self {
            item,
            expected,
            reason: reason.into(),
        }
    }

    /// The problem of the builder's `argument`.
    pub(crate) fn in_argument(self, argument: &'static str) -> BuildError {
        BuildError::pem(argument, self.item, self.expected, self.reason)
    }

    /// The problem of an identity's file (`None`: PEM from a callback).
    pub(crate) fn in_identity(self, path: Option<&Path>) -> IdentityError {
        let reason = match self.item {
            Some(item) => format!("item #{item}: {}", self.reason),
            None => self.reason,
        };
        IdentityError::pem(path, self.expected, reason)
    }
}

/// Whether a text may also hold the other half of an identity (a chain and its key in one file):
/// skipped then, refused otherwise (a key pasted into a CA bundle is a mistake worth reporting).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum OtherHalf {
    Refused,
    Skipped,
}

/// Every `CERTIFICATE` section of `pem`, in order; a text without any is refused.
pub(crate) fn certificates(
    pem: &[u8],
    keys: OtherHalf,
) -> Result<Vec<CertificateDer<'static>>, PemProblem> {
    const EXPECTED: &str = "CERTIFICATE";
    let mut certs = Vec::new();
    for (item, section) in <(SectionKind, Vec<u8>)>::pem_slice_iter(pem).enumerate() {
        let (kind, der) =
            section.map_err(|err| PemProblem::new(Some(item), EXPECTED, reason(&err)))?;
        match kind {
            SectionKind::Certificate => certs.push(CertificateDer::from(der)),
            SectionKind::PrivateKey | SectionKind::RsaPrivateKey | SectionKind::EcPrivateKey
                if keys == OtherHalf::Skipped => {}
            _ => {
                return Err(PemProblem::new(
                    Some(item),
                    EXPECTED,
                    format!(
                        "found a {} block where certificates were expected",
                        label(kind)
                    ),
                ));
            }
        }
    }
    if certs.is_empty() {
        return Err(PemProblem::new(None, EXPECTED, "no certificate found"));
    }
    Ok(certs)
}

/// The one private key in `pem` (PKCS#8, PKCS#1 or SEC1).
pub(crate) fn private_key(
    pem: &[u8],
    certificates: OtherHalf,
) -> Result<PrivateKeyDer<'static>, PemProblem> {
    const EXPECTED: &str = "PRIVATE KEY";
    let mut key = None;
    for (item, section) in <(SectionKind, Vec<u8>)>::pem_slice_iter(pem).enumerate() {
        let (kind, der) =
            section.map_err(|err| PemProblem::new(Some(item), EXPECTED, reason(&err)))?;
        if kind == SectionKind::Certificate && certificates == OtherHalf::Skipped {
            continue;
        }
        let Some(parsed) = PrivateKeyDer::from_pem(kind, der) else {
            return Err(PemProblem::new(
                Some(item),
                EXPECTED,
                format!(
                    "found a {} block where a private key was expected",
                    label(kind)
                ),
            ));
        };
        if key.replace(parsed).is_some() {
            return Err(PemProblem::new(
                Some(item),
                EXPECTED,
                "a second private key",
            ));
        }
    }
    key.ok_or_else(|| {
        PemProblem::new(
            None,
            EXPECTED,
            "no private key found (PKCS#8 `PRIVATE KEY`, PKCS#1 `RSA PRIVATE KEY` or SEC1 \
             `EC PRIVATE KEY`)",
        )
    })
}

fn label(kind: SectionKind) -> &'static str {
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
fn reason(err: &pem::Error) -> String {
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
    use OtherHalf::{Refused, Skipped};

    const CERT: &str = "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n";
    const KEY: &str = "-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n";
    const CSR: &str =
        "-----BEGIN CERTIFICATE REQUEST-----\nMAA=\n-----END CERTIFICATE REQUEST-----\n";

    fn certs(pem: &str, keys: OtherHalf) -> Result<usize, BuildError> {
        certificates(pem.as_bytes(), keys)
            .map(|certs| certs.len())
            .map_err(|problem| problem.in_argument("extra_anchors_pem"))
    }

    #[test]
    fn certificates_in_order() {
        assert_eq!(certs(&format!("{CERT}{CERT}"), Refused).expect("two"), 2);
    }

    #[test]
    fn empty_bundle_is_named() {
        let text = certs("hello", Refused).expect_err("no certs").to_string();
        assert!(text.contains("extra_anchors_pem"), "{text}");
        assert!(text.contains("no certificate found"), "{text}");
    }

    #[test]
    fn truncated_section_names_item() {
        let err = certs(
            &format!("{CERT}-----BEGIN CERTIFICATE-----\nMAA=\n"),
            Refused,
        )
        .expect_err("truncated");
        assert!(
            matches!(err, BuildError::Pem { item: Some(1), .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("END CERTIFICATE"), "{err}");
    }

    #[test]
    fn key_in_certificate_bundle_is_refused_unless_skipped() {
        let err = certs(&format!("{CERT}{KEY}"), Refused).expect_err("key");
        assert!(
            matches!(err, BuildError::Pem { item: Some(1), .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("PRIVATE KEY block"), "{err}");
        // One text holding a chain and its key serves as both.
        let both = format!("{CERT}{KEY}{CERT}");
        assert_eq!(certs(&both, Skipped).expect("chain"), 2);
        assert!(private_key(both.as_bytes(), Skipped).is_ok());
    }

    #[test]
    fn certificate_is_not_a_key() {
        let err = private_key(CERT.as_bytes(), Refused)
            .expect_err("cert")
            .in_argument("client_identity_pem key");
        assert!(
            matches!(err, BuildError::Pem { item: Some(0), .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("client_identity_pem key"), "{err}");
    }

    #[test]
    fn one_key() {
        assert!(private_key(KEY.as_bytes(), Refused).is_ok());
        let two = private_key(format!("{KEY}{KEY}").as_bytes(), Skipped).expect_err("two");
        let err = two.in_identity(Some(Path::new("/k.pem"))).to_string();
        assert_eq!(err, "bad PEM in /k.pem: item #1: a second private key");
        assert!(private_key(b"", Refused).is_err());
        let csr = certificates(format!("{CERT}{CSR}").as_bytes(), Skipped).expect_err("csr");
        assert!(
            csr.in_identity(None)
                .to_string()
                .contains("CERTIFICATE REQUEST")
        );
    }
}
