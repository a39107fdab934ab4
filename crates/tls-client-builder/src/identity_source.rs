//! [`IdentitySource`]: where a rotating client identity is read from (PEM files or a callback),
//! [`IdentityMaterial`]: what one read yields, and the checks a new identity passes.
//!
//! Guarantees: a read is the core's bounded read ([`ReloadGate`]): on a thread of its own,
//! abandoned past its timeout (no second one starts while it runs), a panic an error. Files are
//! read as the trust store reads its bundle (regular files only, never half a rewrite). An
//! identity is accepted only when every certificate of the chain parses, the leaf has not
//! expired, the crypto provider can use the key and the key matches the leaf.

use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use native_roots_cache::{ReloadGate, ReportedCertificate, SourceSignature};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;

use crate::identity_error::IdentityError;
use crate::pem::{self, OtherHalf};

/// The callback of [`IdentitySource::callback`].
type Callback = dyn Fn() -> Result<IdentityMaterial, Box<dyn StdError + Send + Sync>> + Send + Sync;

/// Where a [`RotatingIdentity`](crate::RotatingIdentity) reads its certificate chain and key:
/// two PEM files (or one file holding both), or a callback (a secrets manager, a vault agent);
/// each read bounded by a timeout.
///
/// ```
/// use std::time::Duration;
/// use tls_client_builder::{IdentityMaterial, IdentitySource};
///
/// let files = IdentitySource::files("/etc/my-app/client.crt", "/etc/my-app/client.key");
/// let vault = IdentitySource::callback(|| {
///     # let (chain_pem, key_pem) = (String::new(), String::new());
///     // let (chain_pem, key_pem) = my_vault_client.fetch("billing")?;
///     Ok(IdentityMaterial::from_pem(chain_pem, key_pem)?)
/// })
/// .with_timeout(Duration::from_secs(2));
/// ```
#[derive(Clone)]
pub struct IdentitySource {
    kind: Kind,
    timeout: Duration,
}

#[derive(Clone)]
enum Kind {
    Files { chain: PathBuf, key: PathBuf },
    Callback(Arc<Callback>),
}

impl IdentitySource {
    /// How long one read may take unless [`with_timeout`](Self::with_timeout) says otherwise.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

    /// Read the certificate chain (leaf first) from `chain` and the private key (PKCS#8, PKCS#1
    /// or SEC1) from `key`, both PEM. They may be the same file: certificates in the key file,
    /// and a key in the chain file, are skipped.
    ///
    /// A watcher follows both files through their symlinks (a Kubernetes Secret volume swaps a
    /// `..data` link), by a cheap `stat` signature.
    pub fn files(chain: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        Self {
            kind: Kind::Files {
                chain: chain.into(),
                key: key.into(),
            },
            timeout: Self::DEFAULT_TIMEOUT,
        }
    }

    /// Ask `callback` for the identity. It runs on a thread of its own, never on a handshake's
    /// path: at the first read, and then at each check ([`RotatingIdentity::check_for_changes`],
    /// or a watcher's poll, every reload interval), where an identity equal to the one in use
    /// changes nothing.
    ///
    /// A callback that errs, panics or blocks past the timeout leaves the identity in use as it
    /// is.
    ///
    /// [`RotatingIdentity::check_for_changes`]: crate::RotatingIdentity::check_for_changes
    pub fn callback<F>(callback: F) -> Self
    where
        F: Fn() -> Result<IdentityMaterial, Box<dyn StdError + Send + Sync>>
            + Send
            + Sync
            + 'static,
    {
        Self {
            kind: Kind::Callback(Arc::new(callback)),
            timeout: Self::DEFAULT_TIMEOUT,
        }
    }

    /// Give up on a read after `timeout` ([`DEFAULT_TIMEOUT`](Self::DEFAULT_TIMEOUT) by
    /// default). The abandoned read is not started again until it ends.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long one read may take.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The certificate and key files, or `None` for a callback.
    pub fn paths(&self) -> Option<(&Path, &Path)> {
        match &self.kind {
            Kind::Files { chain, key } => Some((chain, key)),
            Kind::Callback(_) => None,
        }
    }

    /// The cheap signature of the files (each looked at through its symlinks), or `None` for a
    /// callback, which has none: a check then calls it.
    pub(crate) fn signature(&self) -> Option<SourceSignature> {
        let (chain, key) = self.paths()?;
        Some(SourceSignature::of_paths([chain, key], []))
    }
}

/// `files(chain.pem, key.pem)` or `callback`, for logs.
impl fmt::Display for IdentitySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Files { chain, key } if chain == key => write!(f, "file {}", chain.display()),
            Kind::Files { chain, key } => {
                write!(f, "files {} and {}", chain.display(), key.display())
            }
            Kind::Callback(_) => f.write_str("a callback"),
        }
    }
}

impl fmt::Debug for IdentitySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("IdentitySource");
        match &self.kind {
            Kind::Files { chain, key } => debug.field("chain", chain).field("key", key),
            Kind::Callback(_) => debug.field("callback", &"<fn>"),
        };
        debug.field("timeout", &self.timeout).finish()
    }
}

/// A certificate chain (leaf first) and its private key, as a callback returns them.
pub struct IdentityMaterial {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl IdentityMaterial {
    /// A chain (DER, leaf first) and its key. Checked when the identity is read.
    pub fn new(chain: Vec<CertificateDer<'static>>, key: PrivateKeyDer<'static>) -> Self {
        Self { chain, key }
    }

    /// The certificates of `chain_pem` (leaf first) and the one private key of `key_pem`
    /// (PKCS#8, PKCS#1 or SEC1). As with files, a key in the chain text and certificates in the
    /// key text are skipped, so one text holding both can be passed twice.
    ///
    /// # Errors
    /// [`IdentityError::Pem`] when a text holds no item of its kind, a truncated or undecodable
    /// section, a block of another kind, or more than one key.
    pub fn from_pem(
        chain_pem: impl AsRef<[u8]>,
        key_pem: impl AsRef<[u8]>,
    ) -> Result<Self, IdentityError> {
        Self::parse(chain_pem.as_ref(), key_pem.as_ref(), None, None)
    }

    /// Both texts parsed, their problems naming their files (`None`: not from a file).
    fn parse(
        chain_pem: &[u8],
        key_pem: &[u8],
        chain: Option<&Path>,
        key: Option<&Path>,
    ) -> Result<Self, IdentityError> {
        Ok(Self {
            chain: pem::certificates(chain_pem, OtherHalf::Skipped)
                .map_err(|problem| problem.in_identity(chain))?,
            key: pem::private_key(key_pem, OtherHalf::Skipped)
                .map_err(|problem| problem.in_identity(key))?,
        })
    }

    /// The certificate chain, leaf first.
    pub fn chain(&self) -> &[CertificateDer<'static>] {
        &self.chain
    }
}

impl Clone for IdentityMaterial {
    fn clone(&self) -> Self {
        Self {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
        }
    }
}

impl fmt::Debug for IdentityMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityMaterial")
            .field("chain_len", &self.chain.len())
            .field("key", &"<redacted>")
            .finish()
    }
}

/// An identity that passed every check, ready to be swapped in.
pub(crate) struct CheckedIdentity {
    /// The chain and the key loaded by the provider.
    pub(crate) key: Arc<CertifiedKey>,
    pub(crate) not_after: SystemTime,
    /// The key as read, to compare.
    key_der: PrivateKeyDer<'static>,
}

impl CheckedIdentity {
    /// Whether `other` holds the same chain and key (a touched file, a callback answering the
    /// same): no rotation then.
    pub(crate) fn same_as(&self, other: &Self) -> bool {
        self.key.cert == other.key.cert && self.key_der == other.key_der
    }
}

/// What one read of the source found.
pub(crate) enum Found {
    /// An identity that passed every check.
    Whole(CheckedIdentity),
    /// A file changed during the read, or is empty and was written just now: it is being
    /// written (the core's torn read, and why). Neither usable nor refused: read it again later.
    BeingWritten(PathBuf, io::Error),
}

/// Read `source` once and check what it yields, with `reads`' bounded read (see the module docs).
pub(crate) fn read(
    source: &IdentitySource,
    provider: &Arc<CryptoProvider>,
    reads: &mut ReloadGate,
) -> Result<Found, IdentityError> {
    let (kind, provider, timeout) = (source.kind.clone(), Arc::clone(provider), source.timeout);
    reads
        .run(timeout, move || read_once(&kind, &provider))
        .map_err(|source| IdentityError::Unfinished { timeout, source })?
}

fn read_once(kind: &Kind, provider: &CryptoProvider) -> Result<Found, IdentityError> {
    let (material, chain, key) = match kind {
        Kind::Files { chain, key } => {
            let read = |path: &PathBuf| ReloadGate::read_file(path).map_err(|e| (path.clone(), e));
            let (chain_pem, key_pem) = match read(chain).and_then(|pem| Ok((pem, read(key)?))) {
                Ok(pems) => pems,
                // The core's torn read.
                Err((path, err)) if err.kind() == io::ErrorKind::Interrupted => {
                    return Ok(Found::BeingWritten(path, err));
                }
                Err((path, err)) => return Err(IdentityError::read(&path, err)),
            };
            let (chain, key) = (Some(chain.as_path()), Some(key.as_path()));
            (
                IdentityMaterial::parse(&chain_pem, &key_pem, chain, key)?,
                chain,
                key,
            )
        }
        Kind::Callback(callback) => {
            let material =
                callback().map_err(|err| IdentityError::Callback { source: err.into() })?;
            (material, None, None)
        }
    };
    check(material, chain, key, provider).map(Found::Whole)
}

/// The checks of the module docs, in the order an operator would fix them.
fn check(
    material: IdentityMaterial,
    chain_path: Option<&Path>,
    key_path: Option<&Path>,
    provider: &CryptoProvider,
) -> Result<CheckedIdentity, IdentityError> {
    let mut leaf_not_after = None;
    for (index, der) in material.chain.iter().enumerate() {
        let not_after = ReportedCertificate::from(der.clone())
            .not_after()
            .ok_or_else(|| IdentityError::certificate(chain_path, index))?;
        leaf_not_after.get_or_insert(not_after);
    }
    let Some(not_after) = leaf_not_after else {
        return Err(IdentityError::pem(
            chain_path,
            "CERTIFICATE",
            "no certificate found".to_owned(),
        ));
    };
    let owned = |path: Option<&Path>| path.map(Path::to_owned);
    if not_after <= SystemTime::now() {
        let path = owned(chain_path);
        return Err(IdentityError::Expired { path, not_after });
    }
    // rustls loads the key and compares it with the leaf's, unless the provider's key cannot say
    // its public key (a hardware key): nothing to compare then.
    let key = CertifiedKey::from_der(material.chain, material.key.clone_key(), provider).map_err(
        |err| match err {
            rustls::Error::InconsistentKeys(_) => IdentityError::KeyMismatch {
                chain: owned(chain_path),
                key: owned(key_path),
                source: Arc::new(err),
            },
            // webpki could not parse the leaf that x509 decoding accepted.
            rustls::Error::InvalidCertificate(_) => IdentityError::certificate(chain_path, 0),
            // What the provider said of the key (rustls' error is open to new variants).
            _ => IdentityError::Key {
                path: owned(key_path),
                source: Arc::new(err),
            },
        },
    )?;
    Ok(CheckedIdentity {
        key: Arc::new(key),
        not_after,
        key_der: material.key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CERT: &str = "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n";
    const KEY: &str = "-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n";

    #[test]
    fn debug_redacts_the_key() {
        let material = IdentityMaterial::from_pem(CERT, KEY).expect("parses");
        assert!(format!("{material:?}").contains("<redacted>"));
    }
}
