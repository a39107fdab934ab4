//! [`BuildError`]: why an upstream key or its `ClientConfig` could not be built, and the one place
//! each kind is made (one constructor per kind). An error holds the facts of its failure and
//! renders its `Display`, its `source()` and its advice from them; nothing is logged where it is
//! made: the code that handles a failure no caller will see logs it (a [`ConfigHandle`] that keeps
//! its config after a failed rebuild), and every other failure is returned to its caller.
//!
//! [`ConfigHandle`]: crate::ConfigHandle
//!
//! Every variant is `Clone` because a failed build is cached next to successful ones: the same
//! upstream key gets the same error back without rebuilding. The typed sources are `Clone` too
//! (`rustls::Error`, `rustls::client::VerifierBuilderError`, `NativeRootsError`) and are kept as
//! they are; only the PEM parser's error is kept as text: its `Display` shows the bytes of a
//! marker line as a list of numbers, and it may hold an `io::Error`.

use std::error::Error as StdError;
use std::fmt;

use native_roots_cache::NativeRootsError;
use rustls::client::VerifierBuilderError;

use crate::settings::{TlsVersions, Trust};

/// Why an [`UpstreamTls`](crate::UpstreamTls) or its `ClientConfig` could not be built.
///
/// `Display` is one short lowercase line naming the part of the upstream key at fault; the cause
/// is the [`source`](std::error::Error::source) (a `rustls::Error`, a
/// `rustls::client::VerifierBuilderError` or a `NativeRootsError`), so print the chain. What the
/// operator can do is [`advice`](BuildError::advice) (each variant's docs say it too). The crate
/// logs nothing when it returns one: log it where you handle it, with its causes and advice.
///
/// Equality compares the sources as rustls does (a `rustls::Error::Other` never equals
/// anything), and a `VerifierBuilderError`, which has no `PartialEq`, by its text.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// PEM given to the upstream key builder could not be used: no block of the expected kind, a
    /// truncated or undecodable section, or a block of another kind (a key in a CA bundle).
    ///
    /// Pass PEM text with at least one `-----BEGIN {expected}-----` block, and nothing else
    /// where certificates are expected.
    #[error(
        "bad PEM in `{argument}`{}: {reason}",
        item.map(|i| format!(" (item #{i})")).unwrap_or_default()
    )]
    #[non_exhaustive]
    Pem {
        /// The builder argument that held the PEM (`extra_anchors_pem`, `client_identity_pem
        /// chain`, `client_identity_pem key`).
        argument: &'static str,
        /// The position of the offending PEM section among the sections read, when one is at
        /// fault (0-based).
        item: Option<usize>,
        /// The kind of block that was expected (`CERTIFICATE`, `PRIVATE KEY`).
        expected: &'static str,
        /// What was wrong, in words (the parser's error may hold an `io::Error`, which is not
        /// `Clone`).
        reason: String,
    },

    /// An extra trust anchor is not a certificate webpki can use as an anchor.
    ///
    /// Pass the CA's X.509 certificate (PEM or DER), not a leaf's key or a CSR.
    #[error("extra trust anchor #{index} is unusable")]
    #[non_exhaustive]
    ExtraAnchor {
        /// Its position among the upstream key's extra anchors (0-based).
        index: usize,
        /// Its DER length in bytes.
        der_len: usize,
        /// What rustls said.
        #[source]
        source: rustls::Error,
    },

    /// The trust set has no anchors at all: `Trust::AnchorsOnly` without extra anchors.
    ///
    /// Add at least one with `extra_anchors_pem` or `extra_anchor_der`, or use `Trust::Native`
    /// to trust the cache's native roots (the system store by default).
    #[error("no trust anchors: `Trust::AnchorsOnly` without extra anchors")]
    NoAnchors,

    /// The cache's native roots (the system trust store by default, or the roots given to
    /// [`ClientConfigCache::with_roots`](crate::ClientConfigCache::with_roots)) could not be
    /// loaded; the source is the [`NativeRootsError`] they returned, unchanged, which names
    /// where they were read.
    ///
    /// Its message says what failed and what to do. The error is cached by the roots until a
    /// refresh succeeds; entries that failed with it are rebuilt once a refresh publishes a
    /// store. `Trust::AnchorsOnly` (and, with the `webpki-roots` feature,
    /// `Trust::NativeWithWebpkiFallback`) do not need the native roots.
    #[error("the trust store failed to load")]
    NativeRoots(#[source] NativeRootsError),

    /// The client identity (mTLS chain and key) was rejected by rustls or the crypto provider.
    ///
    /// Check that the key matches the chain's first certificate and is an RSA, ECDSA or Ed25519
    /// key the crypto provider supports.
    #[error("the client identity was rejected")]
    #[non_exhaustive]
    ClientIdentity {
        /// What rustls said.
        #[source]
        source: rustls::Error,
    },

    /// The crypto provider cannot serve the upstream key's protocol versions (it has no cipher
    /// suite for them).
    ///
    /// Choose other versions, or a provider with suites for these.
    #[error("the crypto provider cannot do {versions}")]
    #[non_exhaustive]
    Versions {
        /// The versions asked for.
        versions: TlsVersions,
        /// What rustls said.
        #[source]
        source: rustls::Error,
    },

    /// The server-certificate verifier could not be built for the trust set.
    ///
    /// Check the trust set's anchors (and, with `Trust::Native`, the native roots').
    #[error("the certificate verifier for {trust} could not be built")]
    #[non_exhaustive]
    Verifier {
        /// The trust choice of the upstream key.
        trust: Trust,
        /// What rustls said.
        #[source]
        source: VerifierBuilderError,
    },

    /// Revocation checking was asked of `Trust::Platform` where the operating system verifies
    /// each handshake (macOS, Windows, iOS, Android): it checks revocation itself, with its own
    /// sources, and takes no CRLs from us.
    #[error("{trust} checks revocation itself on this operating system: it takes no CRLs")]
    #[non_exhaustive]
    RevocationByTheOs {
        /// The trust choice of the upstream key.
        trust: Trust,
    },

    /// No crypto provider was chosen: the crate was built without the `ring` and `aws-lc-rs`
    /// features and no process-wide default provider is installed.
    ///
    /// Enable the `ring` or `aws-lc-rs` feature, install a process default with
    /// `CryptoProvider::install_default`, or use
    /// [`ClientConfigCache::with_provider`](crate::ClientConfigCache::with_provider).
    #[error("no crypto provider")]
    NoProvider,

    /// The operating system's verifier (`Trust::Platform` on macOS, Windows, iOS and Android)
    /// could not be built.
    ///
    /// Check the extra anchors (on Android, the platform verifier takes none), or use
    /// `Trust::Native`.
    #[cfg(feature = "platform-verifier")]
    #[cfg_attr(docsrs, doc(cfg(feature = "platform-verifier")))]
    #[error("the platform verifier could not be built")]
    #[non_exhaustive]
    PlatformVerifier {
        /// What the platform verifier said.
        #[source]
        source: rustls::Error,
    },
}

impl BuildError {
    /// The native roots' error when the build failed because of it, exactly as they returned it.
    pub fn native_roots_error(&self) -> Option<&NativeRootsError> {
        match self {
            Self::NativeRoots(err) => Some(err),
            _ => None,
        }
    }

    /// What an operator can do about it, in a few lowercase words without a final period: the end
    /// of a log line about the error, or a tool's hint.
    pub fn advice(&self) -> &'static str {
        match self {
            Self::Pem {
                expected: "PRIVATE KEY",
                ..
            } => {
                "pass PEM text with exactly one private key (`PRIVATE KEY`, `RSA PRIVATE KEY` \
                 or `EC PRIVATE KEY`)"
            }
            Self::Pem { .. } => {
                "pass PEM text with at least one `-----BEGIN CERTIFICATE-----` block and \
                 nothing else"
            }
            Self::ExtraAnchor { .. } => "pass the CA's X.509 certificate (PEM or DER)",
            Self::NoAnchors => {
                "add an anchor with `extra_anchors_pem` or `extra_anchor_der`, or use \
                 `Trust::Native`"
            }
            Self::NativeRoots(_) => {
                "fix the trust store as its error says, then refresh the native roots; \
                 `Trust::AnchorsOnly` does not need it"
            }
            Self::ClientIdentity { .. } => {
                "check that the key matches the chain's first certificate and is an RSA, ECDSA \
                 or Ed25519 key the crypto provider supports"
            }
            Self::Versions { .. } => {
                "choose other versions, or a provider with cipher suites for them"
            }
            Self::Verifier { .. } => "check the anchors and the CRLs of the trust set",
            Self::RevocationByTheOs { .. } => {
                "leave revocation to the operating system (drop `revocation` from the upstream \
                 key), or use `Trust::Native` to apply your CRLs"
            }
            Self::NoProvider => {
                "enable the `ring` or `aws-lc-rs` feature of tls-client-builder, install a \
                 process default with `CryptoProvider::install_default`, or use \
                 `ClientConfigCache::with_provider`"
            }
            #[cfg(feature = "platform-verifier")]
            Self::PlatformVerifier { .. } => {
                "check the extra anchors (on Android the platform verifier takes none), or use \
                 `Trust::Native`"
            }
        }
    }

    pub(crate) fn pem(
        argument: &'static str,
        item: Option<usize>,
        expected: &'static str,
        reason: impl Into<String>,
    ) -> Self {
        Self::Pem {
            argument,
            item,
            expected,
            reason: reason.into(),
        }
    }

    pub(crate) fn extra_anchor(index: usize, der_len: usize, source: rustls::Error) -> Self {
        Self::ExtraAnchor {
            index,
            der_len,
            source,
        }
    }

    pub(crate) fn no_anchors() -> Self {
        Self::NoAnchors
    }

    pub(crate) fn native_roots(source: NativeRootsError) -> Self {
        Self::NativeRoots(source)
    }

    pub(crate) fn client_identity(source: rustls::Error) -> Self {
        Self::ClientIdentity { source }
    }

    pub(crate) fn versions(versions: TlsVersions, source: rustls::Error) -> Self {
        Self::Versions { versions, source }
    }

    #[cfg_attr(
        not(all(
            feature = "platform-verifier",
            any(target_vendor = "apple", windows, target_os = "android")
        )),
        allow(dead_code)
    )]
    pub(crate) fn revocation_by_the_os(trust: Trust) -> Self {
        Self::RevocationByTheOs { trust }
    }

    pub(crate) fn verifier(trust: Trust, source: VerifierBuilderError) -> Self {
        Self::Verifier { trust, source }
    }

    #[cfg(all(
        feature = "platform-verifier",
        any(target_vendor = "apple", windows, target_os = "android")
    ))]
    pub(crate) fn platform_verifier(source: rustls::Error) -> Self {
        Self::PlatformVerifier { source }
    }

    pub(crate) fn no_provider() -> Self {
        Self::NoProvider
    }
}

/// An error and every [`source`](StdError::source) under it, joined with `: `, for log lines (a
/// `Display` alone leaves the cause out).
pub(crate) struct Chain<'a>(pub(crate) &'a (dyn StdError + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

impl PartialEq for BuildError {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (
                Self::Pem {
                    argument,
                    item,
                    expected,
                    reason,
                },
                Self::Pem {
                    argument: other_argument,
                    item: other_item,
                    expected: other_expected,
                    reason: other_reason,
                },
            ) => {
                argument == other_argument
                    && item == other_item
                    && expected == other_expected
                    && reason == other_reason
            }
            (
                Self::ExtraAnchor {
                    index,
                    der_len,
                    source,
                },
                Self::ExtraAnchor {
                    index: other_index,
                    der_len: other_der_len,
                    source: other_source,
                },
            ) => index == other_index && der_len == other_der_len && source == other_source,
            (Self::NoAnchors, Self::NoAnchors) | (Self::NoProvider, Self::NoProvider) => true,
            (Self::NativeRoots(source), Self::NativeRoots(other_source)) => source == other_source,
            (
                Self::ClientIdentity { source },
                Self::ClientIdentity {
                    source: other_source,
                },
            ) => source == other_source,
            (
                Self::Versions { versions, source },
                Self::Versions {
                    versions: other_versions,
                    source: other_source,
                },
            ) => versions == other_versions && source == other_source,
            (
                Self::Verifier { trust, source },
                Self::Verifier {
                    trust: other_trust,
                    source: other_source,
                },
            ) => trust == other_trust && source.to_string() == other_source.to_string(),
            #[cfg(feature = "platform-verifier")]
            (
                Self::PlatformVerifier { source },
                Self::PlatformVerifier {
                    source: other_source,
                },
            ) => source == other_source,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn display_is_short_and_the_cause_is_the_source() {
        let source = rustls::Error::General("bad anchor".into());
        let err = BuildError::extra_anchor(2, 5, source.clone());
        assert_eq!(err.to_string(), "extra trust anchor #2 is unusable");
        let found = err.source().and_then(|s| s.downcast_ref::<rustls::Error>());
        assert_eq!(found, Some(&source));
    }

    #[test]
    fn verifier_errors_compare_by_their_text() {
        let a = BuildError::verifier(Trust::Native, VerifierBuilderError::NoRootAnchors);
        assert_eq!(a, a.clone());
        assert!(
            a.source()
                .and_then(|s| s.downcast_ref::<VerifierBuilderError>())
                .is_some()
        );
        assert_ne!(
            a,
            BuildError::verifier(Trust::AnchorsOnly, VerifierBuilderError::NoRootAnchors)
        );
    }
}
