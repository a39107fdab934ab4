//! [`IdentityError`]: why a client identity (a certificate chain and its key) could not be read
//! or was refused, and the one place each kind is made. Every variant names where the identity
//! came from and is `Clone`: it is kept as the identity's last error, for monitoring.

use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use native_roots_cache::Unread;

use crate::utc::Utc;

/// Why a [`RotatingIdentity`](crate::RotatingIdentity) could not read a new identity, or refused
/// it. The identity in use, if any, stays in use.
///
/// `Display` is one short lowercase line naming the file (or the callback) at fault; the cause,
/// when there is one, is the [`source`](std::error::Error::source): an `Arc<io::Error>`, an
/// `Arc<rustls::Error>` or the callback's `Arc<dyn Error>` (the `Arc`s keep it `Clone`; downcast to
/// them). What the operator can do is [`advice`](IdentityError::advice), which the `warn` line
/// logged for a refused identity ends with.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// A file could not be read (missing, unreadable, not a regular file, or over 64 MiB), or,
    /// at the first read only, was being written (a source of kind `Interrupted`): later, that is
    /// a pending change ([`IdentityCheck::Pending`](crate::IdentityCheck::Pending)), not a
    /// failure. A deleted file keeps the identity in use; putting it back is noticed like any
    /// other change.
    #[error("cannot read {}", .path.display())]
    #[non_exhaustive]
    Read {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: Arc<io::Error>,
    },

    /// The PEM text holds no block of the expected kind, a truncated or undecodable section, a
    /// block of an unexpected kind, or more than one key.
    #[error("bad PEM in {}: {reason}", Origin(.path.as_deref()))]
    #[non_exhaustive]
    Pem {
        /// The file, or `None` for PEM from the callback.
        path: Option<PathBuf>,
        /// The kind of block that was expected (`CERTIFICATE`, `PRIVATE KEY`).
        expected: &'static str,
        /// What was wrong, in words.
        reason: String,
    },

    /// A certificate of the chain is not an X.509 certificate.
    #[error("certificate #{index} in {} does not parse", Origin(.path.as_deref()))]
    #[non_exhaustive]
    Certificate {
        /// The chain's file, or `None` for the callback's.
        path: Option<PathBuf>,
        /// Its position in the chain (0 is the leaf).
        index: usize,
    },

    /// The leaf certificate's validity ended; until it is renewed the last good identity stays
    /// in use.
    #[error(
        "the certificate in {} expired at {}",
        Origin(.path.as_deref()),
        Utc(*.not_after)
    )]
    #[non_exhaustive]
    Expired {
        /// The chain's file, or `None` for the callback's.
        path: Option<PathBuf>,
        /// The end of the leaf's validity.
        not_after: SystemTime,
    },

    /// The crypto provider cannot use the private key (an unsupported algorithm or a damaged
    /// key).
    #[error("the private key in {} is unusable", Origin(.path.as_deref()))]
    #[non_exhaustive]
    Key {
        /// The key's file, or `None` for the callback's.
        path: Option<PathBuf>,
        /// What rustls said.
        #[source]
        source: Arc<rustls::Error>,
    },

    /// The private key is not the key of the leaf certificate (checked with rustls'
    /// `CertifiedKey::keys_match`): usually one of the two files was replaced, the other not yet.
    #[error(
        "the private key in {} does not match the certificate in {}",
        Origin(.key.as_deref()),
        Origin(.chain.as_deref())
    )]
    #[non_exhaustive]
    KeyMismatch {
        /// The chain's file, or `None`.
        chain: Option<PathBuf>,
        /// The key's file, or `None`.
        key: Option<PathBuf>,
        /// What rustls said.
        #[source]
        source: Arc<rustls::Error>,
    },

    /// The identity callback returned an error.
    #[error("the identity callback failed")]
    #[non_exhaustive]
    Callback {
        /// The callback's error.
        #[source]
        source: Arc<dyn StdError + Send + Sync>,
    },

    /// Reading the identity did not finish: it ran past its timeout (a blocked callback, a file
    /// on a dead network mount) or an abandoned read still runs (no second one starts until it
    /// ends), it panicked (the callback, most likely), or no thread could be started for it. The
    /// source is the core's [`Unread`], which says which.
    #[error("reading the identity did not finish (timeout {timeout:?})")]
    #[non_exhaustive]
    Unfinished {
        /// The timeout of the [`IdentitySource`](crate::IdentitySource).
        timeout: Duration,
        /// What became of the read.
        #[source]
        source: Unread,
    },
}

impl IdentityError {
    pub(crate) fn read(path: &Path, source: io::Error) -> Self {
        Self::Read {
            path: path.to_owned(),
            source: Arc::new(source),
        }
    }

    pub(crate) fn pem(path: Option<&Path>, expected: &'static str, reason: String) -> Self {
        Self::Pem {
            path: path.map(Path::to_owned),
            expected,
            reason,
        }
    }

    pub(crate) fn certificate(path: Option<&Path>, index: usize) -> Self {
        Self::Certificate {
            path: path.map(Path::to_owned),
            index,
        }
    }

    /// What an operator can do about it, in a few lowercase words without a final period: the
    /// end of the `warn` line logged when an identity is refused, and a tool's hint.
    pub fn advice(&self) -> &'static str {
        match self {
            // Only a first read fails so: later, a file being written is a pending change.
            Self::Read { source, .. } if source.kind() == io::ErrorKind::Interrupted => {
                "it was being written; read it again once it holds still"
            }
            Self::Read { .. } => "check the path and its permissions",
            Self::Pem { .. } | Self::Certificate { .. } => {
                "write the certificate chain (leaf first) and one private key as PEM"
            }
            Self::Expired { .. } => "renew the certificate",
            Self::Key { .. } => "use an RSA, ECDSA or Ed25519 key the crypto provider supports",
            Self::KeyMismatch { .. } => {
                "write the key and the certificate of the same pair; if one file was replaced \
                 before the other, the next check picks up both"
            }
            Self::Callback { .. }
            | Self::Unfinished {
                source: Unread::Panicked(_),
                ..
            } => "fix the identity callback",
            Self::Unfinished {
                source: Unread::NotStarted(_),
                ..
            } => "the process is out of threads or memory",
            Self::Unfinished { .. } => {
                "the callback (or a file read) is blocked; it is not started again until it ends"
            }
        }
    }
}

/// `path` shown, or "the callback's identity" when the identity did not come from a file (a
/// callback, or [`IdentityMaterial::from_pem`](crate::IdentityMaterial::from_pem)).
struct Origin<'a>(Option<&'a Path>);

impl fmt::Display for Origin<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(path) => write!(f, "{}", path.display()),
            None => f.write_str("the callback's identity"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The messages of files are pinned by tests/it/identity_faults.rs.
    #[test]
    fn a_callback_identity_is_named() {
        let in_memory = IdentityError::certificate(None, 1);
        assert_eq!(
            in_memory.to_string(),
            "certificate #1 in the callback's identity does not parse"
        );
    }
}
