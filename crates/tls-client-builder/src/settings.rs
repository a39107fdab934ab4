//! The settings of an upstream key that are plain choices: which trust anchors, which protocol
//! versions, whether sessions resume. Vocabulary shared by the upstream key, the trust sets and the
//! errors; it imports nothing of the crate.

use std::fmt;

/// Which trust anchors verify the upstream's certificate, besides any extra anchors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Trust {
    /// The cache's native roots, plus the extra anchors: the operating system's store, loaded
    /// once per process by `native_roots_cache::native_roots()`, unless the cache was given other
    /// roots ([`ClientConfigCache::with_roots`](crate::ClientConfigCache::with_roots)).
    Native,
    /// Only the upstream key's extra anchors: a private PKI, or a test that must not depend on the
    /// machine's store.
    AnchorsOnly,
    /// The Mozilla roots bundled in the `webpki-roots` crate, plus the extra anchors.
    #[cfg(feature = "webpki-roots")]
    #[cfg_attr(docsrs, doc(cfg(feature = "webpki-roots")))]
    WebpkiRoots,
    /// The cache's native roots (see [`Native`](Self::Native)); when they fail to load, the
    /// bundled Mozilla roots instead.
    /// The fallback is logged at `warn`, counted in
    /// [`CacheStats::fallbacks`](crate::CacheStats::fallbacks) and shown by
    /// [`BuiltConfig::provenance`](crate::BuiltConfig::provenance). Extra anchors are added in
    /// both cases.
    #[cfg(feature = "webpki-roots")]
    #[cfg_attr(docsrs, doc(cfg(feature = "webpki-roots")))]
    NativeWithWebpkiFallback,
    /// The platform verifier's decisions (`rustls-platform-verifier`, reqwest 0.13's default
    /// TLS trust), plus the extra anchors, with its verdicts and errors on every OS:
    /// - on Linux and the BSDs, webpki over the cache's native roots, as the platform verifier
    ///   does there, but loaded once per process, followed by a watcher and rebuilt after a
    ///   change exactly as for [`Native`](Self::Native); with its rules: native roots that
    ///   failed or hold nothing are accepted when extra anchors exist, and a certificate not for
    ///   server authentication fails with its error;
    /// - on macOS, Windows, iOS and Android, one `rustls_platform_verifier::Verifier` per trust
    ///   set (crypto provider and extra anchors), shared by every config of it: the operating
    ///   system evaluates each handshake, honouring its own trust settings (distrust, partial
    ///   trust, enterprise policy, revocation) and following their changes as it makes them, so
    ///   nothing here is rebuilt. On Android, call
    ///   `rustls_platform_verifier::android::init_with_env` (or `init_with_refs`) once before the
    ///   first handshake: the platform verifier panics at a handshake without it and offers no
    ///   way to tell beforehand; and it takes no extra anchors there (a [`BuildError`] says so).
    ///
    /// [`BuildError`]: crate::BuildError
    #[cfg(feature = "platform-verifier")]
    #[cfg_attr(docsrs, doc(cfg(feature = "platform-verifier")))]
    Platform,
}

impl Trust {
    /// Whether this trust choice reads the cache's native roots (and so is rebuilt when their
    /// generation advances).
    pub fn uses_native(self) -> bool {
        match self {
            Self::Native => true,
            Self::AnchorsOnly => false,
            #[cfg(feature = "webpki-roots")]
            Self::WebpkiRoots => false,
            #[cfg(feature = "webpki-roots")]
            Self::NativeWithWebpkiFallback => true,
            #[cfg(feature = "platform-verifier")]
            Self::Platform => !OS_VERIFIES,
        }
    }
}

/// Whether the operating system verifies each handshake of `Trust::Platform` (macOS, Windows,
/// iOS, Android), so that no native roots are involved.
#[cfg(feature = "platform-verifier")]
const OS_VERIFIES: bool = cfg!(any(target_vendor = "apple", windows, target_os = "android"));

impl fmt::Display for Trust {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Native => "the native roots",
            Self::AnchorsOnly => "extra anchors only",
            #[cfg(feature = "webpki-roots")]
            Self::WebpkiRoots => "webpki-roots",
            #[cfg(feature = "webpki-roots")]
            Self::NativeWithWebpkiFallback => "the native roots, falling back to webpki-roots",
            #[cfg(feature = "platform-verifier")]
            Self::Platform => "the platform verifier",
        })
    }
}

/// The TLS protocol versions offered to the upstream.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TlsVersions {
    /// TLS 1.3 and TLS 1.2 (rustls' default).
    #[default]
    Tls12And13,
    /// TLS 1.3 only.
    Tls13Only,
    /// TLS 1.2 only.
    Tls12Only,
}

impl TlsVersions {
    pub(crate) fn rustls(self) -> &'static [&'static rustls::SupportedProtocolVersion] {
        static TLS13: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS13];
        static TLS12: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS12];
        match self {
            Self::Tls12And13 => rustls::ALL_VERSIONS,
            Self::Tls13Only => &TLS13,
            Self::Tls12Only => &TLS12,
        }
    }
}

impl fmt::Display for TlsVersions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Tls12And13 => "TLS 1.2 and 1.3",
            Self::Tls13Only => "TLS 1.3 only",
            Self::Tls12Only => "TLS 1.2 only",
        })
    }
}

/// Whether and how sessions are remembered for resumption.
///
/// Each config gets its own session store (a session resumed under other trust settings would
/// skip their verification): a config rebuilt after a trust change gets a new one, and a
/// rotating client identity empties it when it rotates. It allocates only when the first session
/// is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SessionResumption {
    /// Remember up to `sessions` TLS 1.3 tickets (about `sessions / 8` servers), as rustls'
    /// `ClientSessionMemoryCache::new(sessions)` does.
    InMemory {
        /// The size given to `ClientSessionMemoryCache::new`.
        sessions: usize,
    },
    /// Never resume: every connection is a full handshake.
    Off,
}

impl SessionResumption {
    /// rustls' default: an in-memory store of 256 sessions.
    pub const DEFAULT: Self = Self::InMemory { sessions: 256 };
}

impl Default for SessionResumption {
    fn default() -> Self {
        Self::DEFAULT
    }
}
