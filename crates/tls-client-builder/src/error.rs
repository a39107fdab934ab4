//! [`BuildError`]: why a fingerprint or its `ClientConfig` could not be built.
//!
//! Every variant is `Clone` because a failed build is cached next to successful ones: the same
//! fingerprint gets the same error back without rebuilding. Sources that are not `Clone` (rustls
//! and PEM errors) are rendered to strings when the error is made.

use native_roots_cache::NativeRootsError;

/// Why an [`UpstreamTls`](crate::UpstreamTls) or its `ClientConfig` could not be built.
///
/// Each message names the part of the fingerprint at fault and what the operator can do.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// PEM given to the fingerprint builder could not be used.
    #[error(
        "bad PEM in {argument}{}: {reason}; pass PEM text with at least one \
         `-----BEGIN {expected}-----` block",
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
        /// What the parser said.
        reason: String,
    },

    /// An extra trust anchor is not a certificate webpki can use as an anchor.
    #[error(
        "extra trust anchor #{index} ({der_len} bytes of DER) is unusable: {reason}; pass the \
         CA's X.509 certificate (PEM or DER)"
    )]
    #[non_exhaustive]
    ExtraAnchor {
        /// Its position among the fingerprint's extra anchors (0-based).
        index: usize,
        /// Its DER length in bytes.
        der_len: usize,
        /// What webpki said.
        reason: String,
    },

    /// The trust set has no anchors at all (`Trust::AnchorsOnly` without extra anchors).
    #[error(
        "the trust set has no anchors: Trust::AnchorsOnly needs at least one extra anchor \
         (extra_anchors_pem or extra_anchor_der); use Trust::Native to trust the system store"
    )]
    NoAnchors,

    /// The system trust store could not be loaded. The error is the one `native_roots()` returns,
    /// unchanged.
    #[error("the fingerprint trusts the system store, which failed to load: {0}")]
    NativeRoots(#[source] NativeRootsError),

    /// The client identity (mTLS chain and key) was rejected by rustls or the crypto provider.
    #[error(
        "the client identity was rejected: {reason}; check that the key matches the chain's \
         first certificate and is an RSA, ECDSA or Ed25519 key the crypto provider supports"
    )]
    #[non_exhaustive]
    ClientIdentity {
        /// What rustls said.
        reason: String,
    },

    /// The crypto provider cannot serve the fingerprint's protocol versions.
    #[error(
        "the crypto provider cannot do {versions}: {reason}; choose other versions or another \
         provider"
    )]
    #[non_exhaustive]
    Versions {
        /// The versions asked for.
        versions: String,
        /// What rustls said.
        reason: String,
    },

    /// The server-certificate verifier could not be built for the trust set.
    #[error("the certificate verifier for {trust} could not be built: {reason}")]
    #[non_exhaustive]
    Verifier {
        /// The trust set, as described in the fingerprint.
        trust: String,
        /// What rustls said.
        reason: String,
    },

    /// No crypto provider was chosen: the crate was built without the `ring` and `aws-lc-rs`
    /// features and no process-wide default provider is installed.
    #[error(
        "no crypto provider: enable the `ring` or `aws-lc-rs` feature of tls-client-builder, \
         install a process default with CryptoProvider::install_default, or use \
         ClientConfigCache::with_provider"
    )]
    NoProvider,
}

impl BuildError {
    /// The system store's error when the build failed because of it, exactly as
    /// `native_roots()` returned it.
    pub fn native_roots_error(&self) -> Option<&NativeRootsError> {
        match self {
            Self::NativeRoots(err) => Some(err),
            _ => None,
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
}
