//! **Layer 1, where anchors come from**: the [`TrustSource`] trait and its vocabulary (what a
//! source returns, its errors, its origins, its certificates and signatures), the PEM-file reader
//! with its torn-read rules, the platform store and the classes of OS errors. It uses nothing of
//! the crate above it.
//!
//! Where trust anchors come from: the [`TrustSource`] trait, what one read of it yields, and how
//! its errors are classified as transient or permanent.

pub(crate) mod certificate;
pub(crate) mod files;
pub(crate) mod os_error;
pub(crate) mod pem_error;
pub(crate) mod pem_sections;
pub(crate) mod platform;
pub(crate) mod read_progress;
pub(crate) mod settled;
pub(crate) mod signature;

use std::fmt;
use std::path::PathBuf;
use std::time::SystemTime;

use crate::source::certificate::ReportedCertificate;
use crate::source::signature::SourceSignature;

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

    /// A cheap signature of what [`load`](TrustSource::load) would read (file metadata, no
    /// parse), so that a [`Watcher`](crate::Watcher) reloads only after a change. `None` (the
    /// default) when there is no cheap way to tell: the watcher then reloads in full on its
    /// reload interval.
    fn signature(&self) -> Option<SourceSignature> {
        None
    }
}

/// What one read of a [`TrustSource`] produced: the certificates found and the errors met.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct SourceOutput {
    /// Certificates, not yet parsed into trust anchors, each with where it came from.
    pub certs: Vec<ReportedCertificate>,
    /// Errors met while reading, each classified as transient or permanent.
    pub errors: Vec<SourceError>,
    /// The signature of what this read saw, for a source that looks at its files anyway: the
    /// cache records it with the load, so that a [`Watcher`](crate::Watcher) started later, or a
    /// cached failure waiting for its files to change, compares against exactly what was read.
    /// When `None`, the cache takes [`TrustSource::signature`] before each read while a watcher
    /// runs.
    pub signature: Option<SourceSignature>,
    /// Files this read found cut short or empty, whatever their age: a reload that would
    /// replace a good store holds until they are whole.
    pub(crate) incomplete: Vec<IncompleteFile>,
}

/// A file a read found incomplete: what a writer that truncates, then writes, leaves behind
/// when it stalls. Recorded at any age; young, the same file is also a torn read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum IncompleteFile {
    /// Its last PEM section has no END line.
    CutShort(PathBuf),
    /// Its size is 0.
    Empty(PathBuf),
}

impl IncompleteFile {
    pub(crate) fn path(&self) -> &std::path::Path {
        match self {
            Self::CutShort(path) | Self::Empty(path) => path,
        }
    }
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
            signature: None,
            incomplete: Vec::new(),
        }
    }
}

/// Whether trying again could help.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Transience {
    /// A retry may succeed (macOS `errSecIO`, an interrupted read).
    Transient,
    /// A retry would meet the same error (a missing file, bad PEM).
    Permanent,
}

/// One error met while reading a trust source, already rendered (so it is `Clone`) and classified.
///
/// `Display` is one line: the context, the path when there is one, then the message. It has no
/// [`source`](std::error::Error::source) of its own: the underlying error is the `message`. What
/// an operator can do about it, when the crate knows something specific (a corrupted trust
/// setting, no file descriptor left), is [`advice`](Self::advice), never part of the message.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SourceError {
    /// Whether a retry may help ([`is_transient`](Self::is_transient)).
    pub(crate) transience: Transience,
    /// What was being done ("failed to read PEM from file", "failed to load admin trust settings").
    pub context: String,
    /// The file or directory involved, when there is one.
    pub path: Option<PathBuf>,
    /// The underlying error, rendered.
    pub message: String,
    /// For a torn read: when the file will have been quiet long enough to be read as it is, so
    /// that the load waits for the writer instead of spending its retries inside the window.
    pub(crate) settles_at: Option<SystemTime>,
    /// What an operator can do about it, when something specific is known.
    advice: Option<&'static str>,
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
            settles_at: None,
            advice: None,
        }
    }

    /// A torn read of `path` (a file being rewritten): transient, and worth reading again once
    /// the file has been quiet until `settles_at`.
    pub(crate) fn torn(path: impl Into<PathBuf>, why: &str, settles_at: SystemTime) -> Self {
        let mut err = Self::transient("torn read (the file is being rewritten?)", why);
        err.settles_at = Some(settles_at);
        err.with_path(path)
    }

    /// The same error, naming the path it concerns.
    pub fn with_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// The same error, with what an operator can do about it.
    pub(crate) fn with_advice(mut self, advice: Option<&'static str>) -> Self {
        self.advice = advice;
        self
    }

    /// What an operator can do about it, when the crate knows something specific (such as
    /// resetting a certificate's corrupted trust settings in Keychain Access); `None` otherwise.
    pub fn advice(&self) -> Option<&str> {
        self.advice
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

impl std::error::Error for SourceError {}

/// What [`TrustOrigin::PlatformStore`] is on this platform, in words.
#[cfg(target_os = "macos")]
const PLATFORM_STORE_NAME: &str =
    "the macOS Security framework (user, admin and system trust settings)";
#[cfg(windows)]
const PLATFORM_STORE_NAME: &str = "the Windows certificate store (ROOT)";
#[cfg(not(any(target_os = "macos", windows)))]
const PLATFORM_STORE_NAME: &str = "the system CA bundle and directory found by openssl-probe";

/// What separates the directories of `SSL_CERT_DIR` when an origin is shown: `;` on Windows,
/// `:` elsewhere, as `std::env::split_paths` reads them.
const DIR_LIST_SEPARATOR: &str = if cfg!(windows) { ";" } else { ":" };

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
    /// A [`PemFiles`](crate::PemFiles) source: a bundle and directories the application named.
    PemFiles {
        /// The bundle, if one was set.
        file: Option<PathBuf>,
        /// The directories.
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
                    parts.push(format!("SSL_CERT_DIR={}", dirs.join(DIR_LIST_SEPARATOR)));
                }
                f.write_str(&parts.join(", "))
            }
            Self::PemFiles { file, dirs } => {
                f.write_str("PEM files")?;
                let mut sep = " ";
                if let Some(file) = file {
                    write!(f, "{sep}{}", file.display())?;
                    sep = ", ";
                }
                for dir in dirs {
                    write!(f, "{sep}{}{}", dir.display(), std::path::MAIN_SEPARATOR)?;
                    sep = ", ";
                }
                Ok(())
            }
            Self::PlatformStore => f.write_str(PLATFORM_STORE_NAME),
            Self::Custom(description) => f.write_str(description),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(not(windows))]
    fn origin_names_the_environment_variables() {
        let origin = TrustOrigin::Environment {
            file: Some("/a.pem".into()),
            dirs: vec!["/d1".into(), "/d2".into()],
        };
        assert_eq!(
            origin.to_string(),
            "SSL_CERT_FILE=/a.pem, SSL_CERT_DIR=/d1:/d2"
        );
        let files = TrustOrigin::PemFiles {
            file: None,
            dirs: vec!["/d1".into()],
        };
        assert_eq!(files.to_string(), "PEM files /d1/");
    }

    /// On Windows, `;` separates the directories (a drive letter's `:` does not).
    #[test]
    #[cfg(windows)]
    fn origin_names_the_environment_variables() {
        let origin = TrustOrigin::Environment {
            file: Some(r"C:\a.pem".into()),
            dirs: vec![r"C:\d1".into(), r"D:\d2".into()],
        };
        assert_eq!(
            origin.to_string(),
            r"SSL_CERT_FILE=C:\a.pem, SSL_CERT_DIR=C:\d1;D:\d2"
        );
        let files = TrustOrigin::PemFiles {
            file: None,
            dirs: vec![r"C:\d1".into()],
        };
        assert_eq!(files.to_string(), r"PEM files C:\d1\");
    }
}
