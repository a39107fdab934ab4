//! The real trust store: `SSL_CERT_FILE`/`SSL_CERT_DIR` or the platform's own (OpenSSL's files on
//! Linux and the BSDs, read by [`files`](crate::source::files); the Security framework and the Windows
//! store through `rustls-native-certs`, whose OS errors are classified by their code).

use std::env;
use std::error::Error as StdError;
use std::path::PathBuf;

#[cfg(not(all(unix, not(target_os = "macos"))))]
use crate::source::certificate::{CertificateLocation, ReportedCertificate};
use crate::source::files::{Bundle, PemFiles};
use crate::source::os_error;
#[cfg(not(all(unix, not(target_os = "macos"))))]
use crate::source::pem_error;
use crate::source::signature::SourceSignature;
use crate::source::{SourceError, SourceOutput, Transience, TrustOrigin, TrustSource};

/// The operating system's trust store, read the way `rustls-native-certs` reads it.
///
/// # Environment variables
/// `SSL_CERT_FILE` and `SSL_CERT_DIR`, read on every load as the
/// [crate docs](crate#environment-variables) describe, with the reader of [`PemFiles`].
///
/// On Linux and the BSDs the platform store is the bundle and directory `openssl-probe` finds,
/// read with the same rules; on macOS and Windows it is read through `rustls-native-certs`.
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub struct PlatformSource;

impl PlatformSource {
    /// The operating system's trust store (or the files the environment variables name).
    pub const fn new() -> Self {
        Self
    }

    /// The files this source reads now, as OpenSSL finds them: `SSL_CERT_FILE` and
    /// `SSL_CERT_DIR` when either is set; otherwise, on Linux and the BSDs, the system bundle and
    /// directory; `None` where the platform store is the operating system's API (macOS, Windows),
    /// which has no files. For a reader of what else those files hold, such as the CRLs OpenSSL
    /// keeps beside the certificates (`X509 CRL` sections in the bundle, `HASH.rN` files in the
    /// directory).
    pub fn files(&self) -> Option<PemFiles> {
        env_files().or_else(system_files_if_any)
    }
}

#[cfg(all(unix, not(target_os = "macos")))]
fn system_files_if_any() -> Option<PemFiles> {
    Some(system_files())
}

#[cfg(not(all(unix, not(target_os = "macos"))))]
fn system_files_if_any() -> Option<PemFiles> {
    None
}

const ENV_CERT_FILE: &str = "SSL_CERT_FILE";
const ENV_CERT_DIR: &str = "SSL_CERT_DIR";

impl TrustSource for PlatformSource {
    fn load(&self) -> SourceOutput {
        match env_files() {
            Some(files) => files.read(),
            None => load_platform_store(),
        }
    }

    fn signature(&self) -> Option<SourceSignature> {
        match env_files() {
            Some(files) => files.signature(),
            None => platform_signature(),
        }
    }

    fn origin(&self) -> TrustOrigin {
        match env_files() {
            Some(files) => TrustOrigin::Environment {
                file: files.file().map(Into::into),
                dirs: files.dirs().to_vec(),
            },
            None => TrustOrigin::PlatformStore,
        }
    }
}

/// `SSL_CERT_FILE` and `SSL_CERT_DIR`, when at least one of them is set.
fn env_files() -> Option<PemFiles> {
    let file = env::var_os(ENV_CERT_FILE).map(PathBuf::from);
    let dirs: Vec<PathBuf> = env::var_os(ENV_CERT_DIR)
        .map(|dirs| {
            env::split_paths(&dirs)
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        })
        .unwrap_or_default();
    if file.is_none() && dirs.is_empty() {
        return None;
    }
    let mut files = PemFiles::new().bundle_is(Bundle::SslCertFile);
    if let Some(file) = file {
        files = files.with_file(file);
    }
    Some(dirs.into_iter().fold(files, PemFiles::with_dir))
}

/// The system bundle and directory openssl-probe finds.
#[cfg(all(unix, not(target_os = "macos")))]
fn system_files() -> PemFiles {
    let probe = openssl_probe::probe();
    let mut files = PemFiles::new().bundle_is(Bundle::System);
    if let Some(file) = probe.cert_file {
        files = files.with_file(file);
    }
    probe.cert_dir.into_iter().fold(files, PemFiles::with_dir)
}

#[cfg(all(unix, not(target_os = "macos")))]
fn load_platform_store() -> SourceOutput {
    system_files().read()
}

#[cfg(all(unix, not(target_os = "macos")))]
fn platform_signature() -> Option<SourceSignature> {
    system_files().signature()
}

/// The Security framework and the Windows store offer no cheap signature: a watcher reloads them
/// on a timer.
#[cfg(not(all(unix, not(target_os = "macos"))))]
fn platform_signature() -> Option<SourceSignature> {
    None
}

#[cfg(not(all(unix, not(target_os = "macos"))))]
fn load_platform_store() -> SourceOutput {
    let result = rustls_native_certs::load_native_certs();
    SourceOutput::new(
        result
            .certs
            .into_iter()
            .map(|der| ReportedCertificate::new(der, CertificateLocation::PlatformStore)),
        result
            .errors
            .into_iter()
            .map(from_native_certs_error)
            .collect(),
    )
}

/// An error of `rustls-native-certs`, classified: I/O errors as the PEM reader classifies them,
/// OS-API errors by their code (see [`os_api_error`]), PEM errors and anything else permanent.
#[cfg(not(all(unix, not(target_os = "macos"))))]
fn from_native_certs_error(err: rustls_native_certs::Error) -> SourceError {
    use rustls_native_certs::ErrorKind;
    let context = err.context;
    match &err.kind {
        ErrorKind::Io { inner, path } => os_error::io_error(context, inner, path),
        ErrorKind::Os(inner) => os_api_error(context, inner.as_ref()),
        ErrorKind::Pem(inner) => SourceError::permanent(context, pem_error::describe_pem(inner)),
        _ => SourceError::permanent(context, err.to_string()),
    }
}

/// An OS-API error (the Security framework's `OSStatus` on macOS, a Windows error code), permanent
/// unless its code is known to be temporary. Its context names the keychain domain it concerns
/// ("failed to load admin trust settings"); for one certificate's trust settings,
/// rustls-native-certs does not say which certificate, and the message says so.
#[cfg_attr(all(unix, not(target_os = "macos")), allow(dead_code))]
fn os_api_error(context: &str, err: &(dyn StdError + Send + Sync + 'static)) -> SourceError {
    let detail = err.to_string();
    let described =
        os_code(err).map(|(code, class)| (class, os_error::describe(class, code, &detail)));
    let (transience, mut message) = match &described {
        Some((class, message)) => (class.transience, message.clone()),
        None => (Transience::Permanent, detail),
    };
    if context == "certificate not trusted" {
        message.push_str(
            "; it concerns one certificate of the keychain, which rustls-native-certs does not name",
        );
    }
    let err = match transience {
        Transience::Transient => SourceError::transient(context, message),
        Transience::Permanent => SourceError::permanent(context, message),
    };
    err.with_advice(described.and_then(|(class, _)| class.advice))
}

/// The code of an OS-API error and its class, when the error carries one.
#[cfg_attr(all(unix, not(target_os = "macos")), allow(dead_code))]
fn os_code(err: &(dyn StdError + Send + Sync + 'static)) -> Option<(i32, os_error::OsErrorClass)> {
    #[cfg(target_os = "macos")]
    if let Some(sec) = err.downcast_ref::<security_framework::base::Error>() {
        return Some((sec.code(), os_error::classify_os_status(sec.code())));
    }
    let code = err.downcast_ref::<std::io::Error>()?.raw_os_error()?;
    Some((code, os_error::classify_raw_io(code)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_os_error_without_a_known_code_is_permanent() {
        let err: Box<dyn StdError + Send + Sync> = "keychain unhappy".into();
        let err = os_api_error("failed to load admin trust settings", err.as_ref());
        assert!(!err.is_transient());
        assert_eq!(
            err.to_string(),
            "failed to load admin trust settings: keychain unhappy"
        );
    }

    #[test]
    fn an_os_error_with_a_temporary_code_is_transient() {
        // ERROR_TOO_MANY_OPEN_FILES on Windows, EMFILE elsewhere: both 4 and 24 are listed.
        let code = if cfg!(windows) { 4 } else { 24 };
        let err: Box<dyn StdError + Send + Sync> =
            Box::new(std::io::Error::from_raw_os_error(code));
        let err = os_api_error(
            "failed to open current user certificate store",
            err.as_ref(),
        );
        assert!(err.is_transient(), "{err}");
    }
}

#[cfg(all(test, target_os = "macos"))]
mod macos_tests {
    use super::*;
    use security_framework::base::Error as SecError;

    fn convert(code: i32, context: &'static str) -> SourceError {
        from_native_certs_error(rustls_native_certs::Error {
            context,
            kind: rustls_native_certs::ErrorKind::Os(Box::new(SecError::from_code(code))),
        })
    }

    #[test]
    fn err_sec_io_is_transient_and_named() {
        let err = convert(os_error::ERR_SEC_IO, "failed to load user trust settings");
        assert!(err.is_transient());
        assert!(err.message.starts_with("errSecIO (-36)"), "{err}");
    }

    #[test]
    fn corrupted_trust_settings_are_permanent_and_say_what_to_do() {
        let err = convert(
            os_error::ERR_SEC_INVALID_TRUST_SETTINGS,
            "failed to load admin trust settings",
        );
        assert!(!err.is_transient());
        assert!(err.to_string().contains("admin trust settings"), "{err}");
        assert!(
            err.advice()
                .is_some_and(|advice| advice.contains("Keychain Access")),
            "{err}"
        );
        let one = convert(
            os_error::ERR_SEC_INVALID_TRUST_SETTINGS,
            "certificate not trusted",
        );
        assert!(!one.is_transient());
        assert!(one.message.contains("does not name"), "{one}");
    }
}
