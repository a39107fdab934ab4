//! Where trust anchors come from: the [`TrustSource`] trait, what one read of it yields, and how
//! its errors are classified as transient or permanent.

use std::fmt;
use std::path::PathBuf;

use rustls::pki_types::pem;

use crate::certificate::ReportedCertificate;

/// A place the cache reads trust anchors from.
///
/// [`PlatformSource`](crate::PlatformSource) is the real one. Tests and unusual deployments
/// implement this trait to inject their own; the cache calls [`load`](TrustSource::load) on a
/// worker thread (so that a deadline can be enforced), which is why a source is `Clone + Send`.
pub trait TrustSource: Clone + Send + Sync + 'static {
    /// Read the certificates once. Errors that leave part of the store readable are reported in
    /// [`SourceOutput::errors`] next to the certificates that did load.
    fn load(&self) -> SourceOutput;

    /// Where the certificates will come from, for reports and error messages.
    fn origin(&self) -> TrustOrigin;
}

/// What one read of a [`TrustSource`] produced: the certificates found and the errors met.
#[derive(Clone, Debug, Default)]
pub struct SourceOutput {
    /// Certificates, not yet parsed into trust anchors, each with where it came from.
    pub certs: Vec<ReportedCertificate>,
    /// Errors met while reading, each classified as transient or permanent.
    pub errors: Vec<SourceError>,
}

impl SourceOutput {
    /// An output with these certificates (DER, or [`ReportedCertificate`]s that say where each
    /// came from) and errors.
    pub fn new<C: Into<ReportedCertificate>>(
        certs: impl IntoIterator<Item = C>,
        errors: Vec<SourceError>,
    ) -> Self {
        Self {
            certs: certs.into_iter().map(Into::into).collect(),
            errors,
        }
    }
}

/// Whether trying again could help.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transience {
    /// A retry may succeed (macOS `errSecIO`, an interrupted read).
    Transient,
    /// A retry would meet the same error (a missing file, bad PEM).
    Permanent,
}

/// One error met while reading a trust source, already rendered (so it is `Clone`) and classified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceError {
    /// Whether a retry may help.
    pub transience: Transience,
    /// What was being done ("failed to read PEM from file", "failed to load admin trust settings").
    pub context: String,
    /// The file or directory involved, when there is one.
    pub path: Option<PathBuf>,
    /// The underlying error, rendered.
    pub message: String,
}

impl SourceError {
    /// A transient error.
    pub fn transient(context: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(Transience::Transient, context, message)
    }

    /// A permanent error.
    pub fn permanent(context: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(Transience::Permanent, context, message)
    }

    fn new(transience: Transience, context: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            transience,
            context: context.into(),
            path: None,
            message: message.into(),
        }
    }

    /// The same error, naming the path it concerns.
    pub fn with_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// An I/O error about `path`: transient only when interrupted, would-block or timed out.
    pub(crate) fn io(context: &str, err: &std::io::Error, path: &std::path::Path) -> Self {
        use std::io::ErrorKind as Io;
        let transience = match err.kind() {
            Io::Interrupted | Io::WouldBlock | Io::TimedOut => Transience::Transient,
            _ => Transience::Permanent,
        };
        Self::new(transience, context, err.to_string()).with_path(path)
    }

    /// A PEM error about `path`, spelled out for an operator.
    pub(crate) fn pem(err: &pem::Error, path: &std::path::Path) -> Self {
        match err {
            pem::Error::Io(err) => Self::io("failed to read PEM from file", err, path),
            _ => Self::permanent("failed to read PEM from file", describe_pem(err)).with_path(path),
        }
    }

    /// Whether a retry may help.
    pub fn is_transient(&self) -> bool {
        self.transience == Transience::Transient
    }
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.context)?;
        if let Some(path) = &self.path {
            write!(f, " ({})", path.display())?;
        }
        write!(f, ": {}", self.message)
    }
}

impl From<rustls_native_certs::Error> for SourceError {
    /// Classify an error of `rustls-native-certs`: OS-API errors are transient; I/O errors are
    /// transient only when interrupted, would-block or timed out; PEM errors and anything else are
    /// permanent. On macOS `errSecIO` (-36) is recognised precisely and named.
    fn from(err: rustls_native_certs::Error) -> Self {
        use rustls_native_certs::ErrorKind;
        let context = err.context;
        match &err.kind {
            ErrorKind::Io { inner, path } => Self::io(context, inner, path),
            ErrorKind::Os(inner) => {
                Self::transient(context, crate::platform::describe_os_error(inner.as_ref()))
            }
            ErrorKind::Pem(inner) => Self::permanent(context, describe_pem(inner)),
            _ => Self::permanent(context, err.to_string()),
        }
    }
}

/// A PEM error in words, with its markers as text rather than byte lists.
fn describe_pem(err: &pem::Error) -> String {
    match err {
        pem::Error::MissingSectionEnd { end_marker } => format!(
            "a section has no \"-----END {}-----\" line (truncated file?)",
            String::from_utf8_lossy(end_marker)
        ),
        pem::Error::IllegalSectionStart { line } => format!(
            "malformed section start line: {:?}",
            String::from_utf8_lossy(line)
        ),
        pem::Error::Base64Decode(what) => format!("invalid base64 in a section: {what}"),
        other => other.to_string(),
    }
}

/// Where a load's anchors came from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TrustOrigin {
    /// `SSL_CERT_FILE` and/or `SSL_CERT_DIR` were set, so only they were read.
    Environment {
        /// The value of `SSL_CERT_FILE`, if set.
        file: Option<PathBuf>,
        /// The directories listed in `SSL_CERT_DIR`, if set.
        dirs: Vec<PathBuf>,
    },
    /// The platform store: the Security framework on macOS, the system store on Windows, the
    /// OpenSSL/NSS bundle and directory found by `openssl-probe` elsewhere.
    PlatformStore,
    /// A source supplied by the application, described in its own words.
    Custom(String),
}

impl fmt::Display for TrustOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Environment { file, dirs } => {
                let mut parts = Vec::new();
                if let Some(file) = file {
                    parts.push(format!("SSL_CERT_FILE={}", file.display()));
                }
                if !dirs.is_empty() {
                    let dirs: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
                    parts.push(format!("SSL_CERT_DIR={}", dirs.join(":")));
                }
                f.write_str(&parts.join(", "))
            }
            Self::PlatformStore => f.write_str(crate::platform::STORE_NAME),
            Self::Custom(description) => f.write_str(description),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    fn io_err(kind: io::ErrorKind) -> rustls_native_certs::Error {
        rustls_native_certs::Error {
            context: "failed to read PEM from file",
            kind: rustls_native_certs::ErrorKind::Io {
                inner: io::Error::new(kind, "boom"),
                path: PathBuf::from("/etc/ssl/cert.pem"),
            },
        }
    }

    #[test]
    fn io_errors_are_transient_only_when_retrying_can_help() {
        for kind in [
            io::ErrorKind::Interrupted,
            io::ErrorKind::WouldBlock,
            io::ErrorKind::TimedOut,
        ] {
            assert!(SourceError::from(io_err(kind)).is_transient(), "{kind:?}");
        }
        for kind in [
            io::ErrorKind::NotFound,
            io::ErrorKind::PermissionDenied,
            io::ErrorKind::InvalidData,
        ] {
            let err = SourceError::from(io_err(kind));
            assert!(!err.is_transient(), "{kind:?}");
            assert_eq!(
                err.path.as_deref(),
                Some(std::path::Path::new("/etc/ssl/cert.pem"))
            );
        }
    }

    #[test]
    fn os_errors_are_transient_and_pem_errors_permanent() {
        let os = rustls_native_certs::Error {
            context: "failed to load admin trust settings",
            kind: rustls_native_certs::ErrorKind::Os("keychain unhappy".into()),
        };
        let os = SourceError::from(os);
        assert!(os.is_transient());
        assert!(os.to_string().contains("keychain unhappy"));

        let pem = rustls_native_certs::Error {
            context: "failed to read PEM from file",
            kind: rustls_native_certs::ErrorKind::Pem(
                rustls::pki_types::pem::Error::MissingSectionEnd {
                    end_marker: b"CERTIFICATE".to_vec(),
                },
            ),
        };
        assert!(!SourceError::from(pem).is_transient());
    }

    #[test]
    fn origin_names_the_environment_variables() {
        let origin = TrustOrigin::Environment {
            file: Some("/a.pem".into()),
            dirs: vec!["/d1".into(), "/d2".into()],
        };
        assert_eq!(
            origin.to_string(),
            "SSL_CERT_FILE=/a.pem, SSL_CERT_DIR=/d1:/d2"
        );
    }
}
