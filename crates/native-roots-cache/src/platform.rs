//! The real trust store, read through `rustls-native-certs`, and the platform-specific naming of
//! its errors (macOS `errSecIO` is recognised by its status code, not by its message).

use std::env;
use std::error::Error as StdError;
use std::path::PathBuf;

use crate::source::{SourceError, SourceOutput, TrustOrigin, TrustSource};

/// The operating system's trust store, as `rustls-native-certs` reads it.
///
/// # Environment variables
/// | variable | effect |
/// | --- | --- |
/// | `SSL_CERT_FILE` | a PEM bundle to read *instead of* the platform store |
/// | `SSL_CERT_DIR` | directories of PEM files (separated by `:`, `;` on Windows) to read *instead of* the platform store |
///
/// When either is set, the platform store is not consulted at all. Two deliberate differences
/// from `rustls_native_certs::load_native_certs`:
/// - an **empty** `SSL_CERT_FILE` counts as unset, as Go's crypto/x509 treats it and as empty
///   entries of `SSL_CERT_DIR` already are (an empty value is a cleared variable, not a file);
/// - an `SSL_CERT_FILE` that is a FIFO, socket or device (including `/dev/null`) is not opened:
///   reading it could block forever. The report records it as a permanent error.
#[derive(Clone, Copy, Debug, Default)]
pub struct PlatformSource;

const ENV_CERT_FILE: &str = "SSL_CERT_FILE";
const ENV_CERT_DIR: &str = "SSL_CERT_DIR";

impl TrustSource for PlatformSource {
    fn load(&self) -> SourceOutput {
        match EnvPaths::from_env() {
            Some(paths) => paths.load(),
            None => from_native(rustls_native_certs::load_native_certs()),
        }
    }

    fn origin(&self) -> TrustOrigin {
        match EnvPaths::from_env() {
            Some(EnvPaths { file, dirs }) => TrustOrigin::Environment { file, dirs },
            None => TrustOrigin::PlatformStore,
        }
    }
}

/// `SSL_CERT_FILE` and `SSL_CERT_DIR`, when at least one of them names something.
struct EnvPaths {
    file: Option<PathBuf>,
    dirs: Vec<PathBuf>,
}

impl EnvPaths {
    fn from_env() -> Option<Self> {
        let file = env::var_os(ENV_CERT_FILE)
            .filter(|file| !file.is_empty())
            .map(PathBuf::from);
        let dirs: Vec<PathBuf> = env::var_os(ENV_CERT_DIR)
            .map(|dirs| {
                env::split_paths(&dirs)
                    .filter(|p| !p.as_os_str().is_empty())
                    .collect()
            })
            .unwrap_or_default();
        (file.is_some() || !dirs.is_empty()).then_some(Self { file, dirs })
    }

    fn load(&self) -> SourceOutput {
        let mut out = SourceOutput::default();
        if let Some(file) = &self.file {
            match not_a_regular_file(file) {
                Some(refused) => out.errors.push(refused),
                None => absorb(
                    &mut out,
                    rustls_native_certs::load_certs_from_paths(Some(file), None),
                ),
            }
        }
        for dir in &self.dirs {
            absorb(
                &mut out,
                rustls_native_certs::load_certs_from_paths(None, Some(dir)),
            );
        }
        // A certificate found in several places is one anchor.
        out.certs
            .sort_unstable_by(|a, b| a.as_ref().cmp(b.as_ref()));
        out.certs.dedup();
        out
    }
}

fn from_native(result: rustls_native_certs::CertificateResult) -> SourceOutput {
    let mut out = SourceOutput::default();
    absorb(&mut out, result);
    out
}

fn absorb(out: &mut SourceOutput, result: rustls_native_certs::CertificateResult) {
    out.certs.extend(result.certs);
    out.errors
        .extend(result.errors.into_iter().map(SourceError::from));
}

/// A permanent error when `path` exists but is a FIFO, socket or device, which must not be opened.
#[cfg(unix)]
fn not_a_regular_file(path: &std::path::Path) -> Option<SourceError> {
    use std::os::unix::fs::FileTypeExt;
    let kind = std::fs::metadata(path).ok()?.file_type();
    let what = if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else {
        return None;
    };
    Some(
        SourceError::permanent(
            "SSL_CERT_FILE is not a regular file",
            format!("it is {what}, which is not opened because reading it could block forever; point SSL_CERT_FILE at a PEM bundle"),
        )
        .with_path(path),
    )
}

#[cfg(not(unix))]
fn not_a_regular_file(_path: &std::path::Path) -> Option<SourceError> {
    None
}

#[cfg(target_os = "macos")]
pub(crate) const STORE_NAME: &str =
    "the macOS Security framework (user, admin and system trust settings)";
#[cfg(windows)]
pub(crate) const STORE_NAME: &str = "the Windows certificate store (ROOT)";
#[cfg(not(any(target_os = "macos", windows)))]
pub(crate) const STORE_NAME: &str = "the system CA bundle and directory found by openssl-probe";

/// `errSecIO`: the Security framework's "I/O error", which Apple documents as recoverable.
#[cfg(target_os = "macos")]
pub(crate) const ERR_SEC_IO: i32 = -36;

/// Render an OS-API error, naming `errSecIO` on macOS.
pub(crate) fn describe_os_error(err: &(dyn StdError + Send + Sync + 'static)) -> String {
    #[cfg(target_os = "macos")]
    if let Some(sec) = err.downcast_ref::<security_framework::base::Error>() {
        if sec.code() == ERR_SEC_IO {
            return format!(
                "errSecIO ({ERR_SEC_IO}): the keychain was busy, typically because another \
                 thread or process read it at the same time ({sec})"
            );
        }
        return format!("Security framework error {}: {sec}", sec.code());
    }
    err.to_string()
}

#[cfg(all(test, target_os = "macos"))]
mod macos_tests {
    use super::*;

    #[test]
    fn err_sec_io_is_named() {
        let err: Box<dyn StdError + Send + Sync> =
            Box::new(security_framework::base::Error::from_code(ERR_SEC_IO));
        assert!(describe_os_error(err.as_ref()).starts_with("errSecIO (-36)"));
    }
}
