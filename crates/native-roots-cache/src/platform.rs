//! The real trust store: `SSL_CERT_FILE`/`SSL_CERT_DIR` or the platform's own (OpenSSL's files on
//! Linux and the BSDs, read by [`files`](crate::files); the Security framework and the Windows
//! store through `rustls-native-certs`), and the platform-specific naming of OS errors (macOS
//! `errSecIO` is recognised by its status code, not by its message).

use std::env;
use std::error::Error as StdError;
use std::path::PathBuf;

use crate::files::PemPaths;
use crate::source::{SourceOutput, TrustOrigin, TrustSource};

/// The operating system's trust store, read the way `rustls-native-certs` reads it.
///
/// # Environment variables
/// | variable | effect |
/// | --- | --- |
/// | `SSL_CERT_FILE` | a PEM bundle to read *instead of* the platform store |
/// | `SSL_CERT_DIR` | directories of PEM files (separated by `:`, `;` on Windows) to read *instead of* the platform store |
///
/// When either is set, the platform store is not consulted at all (empty entries of `SSL_CERT_DIR`
/// are ignored). Where this differs from `rustls_native_certs::load_native_certs`:
/// - an `SSL_CERT_FILE` that is a FIFO, socket or device (including `/dev/null`) is not opened,
///   since reading it could block forever; it is recorded as an error naming the path;
/// - an `SSL_CERT_FILE` that is set but empty, or holds no PEM certificate, is recorded as an
///   error naming it instead of passing silently (with no other source, the load then fails
///   with a message that says so);
/// - every error names the file it concerns (rustls-native-certs drops the path of PEM errors).
///
/// On Linux and the BSDs the platform store is the bundle and directory `openssl-probe` finds,
/// read with the same rules; on macOS and Windows it is read through `rustls-native-certs`.
#[derive(Clone, Copy, Debug, Default)]
pub struct PlatformSource;

const ENV_CERT_FILE: &str = "SSL_CERT_FILE";
const ENV_CERT_DIR: &str = "SSL_CERT_DIR";

impl TrustSource for PlatformSource {
    fn load(&self) -> SourceOutput {
        match env_paths() {
            Some(paths) => paths.load(),
            None => load_platform_store(),
        }
    }

    fn origin(&self) -> TrustOrigin {
        match env_paths() {
            Some(PemPaths { file, dirs, .. }) => TrustOrigin::Environment { file, dirs },
            None => TrustOrigin::PlatformStore,
        }
    }
}

/// `SSL_CERT_FILE` and `SSL_CERT_DIR`, when at least one of them is set.
fn env_paths() -> Option<PemPaths> {
    let file = env::var_os(ENV_CERT_FILE).map(PathBuf::from);
    let dirs: Vec<PathBuf> = env::var_os(ENV_CERT_DIR)
        .map(|dirs| {
            env::split_paths(&dirs)
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        })
        .unwrap_or_default();
    (file.is_some() || !dirs.is_empty()).then_some(PemPaths {
        file,
        dirs,
        file_name: ENV_CERT_FILE,
    })
}

#[cfg(all(unix, not(target_os = "macos")))]
fn load_platform_store() -> SourceOutput {
    let probe = openssl_probe::probe();
    PemPaths {
        file: probe.cert_file,
        dirs: probe.cert_dir,
        file_name: "the system CA bundle",
    }
    .load()
}

#[cfg(not(all(unix, not(target_os = "macos"))))]
fn load_platform_store() -> SourceOutput {
    let result = rustls_native_certs::load_native_certs();
    SourceOutput::new(
        result.certs.into_iter().map(|der| {
            crate::ReportedCertificate::new(der, crate::CertificateLocation::PlatformStore)
        }),
        result
            .errors
            .into_iter()
            .map(crate::SourceError::from)
            .collect(),
    )
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
