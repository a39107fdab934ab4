//! Trust sets: one `Arc<RootCertStore>` and one `Arc<WebPkiServerVerifier>` per trust choice and
//! set of extra anchors, shared by every config that uses them.
//!
//! Guarantees: concurrent builders of one trust set wait on one build; a set that reads the
//! cache's native roots is rebuilt once after their generation advances, and is never tagged
//! with a generation newer than its store (the generation is read before the store); the native
//! store's `Arc` goes to the verifier unchanged when there are no extra anchors (no deep copy).

use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use native_roots_cache::NativeRootsError;
use rustls::RootCertStore;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::CertificateDer;

use crate::error::BuildError;
use crate::hasher::BuildPrehashed;
use crate::issuer_check::{CheckingVerifier, IssuerCheck};
use crate::revocation::Revocation;
use crate::roots::NativeRoots;
use crate::settings::Trust;
use crate::upstream::UpstreamTls;

/// Where a config's trust anchors came from: shown by
/// [`BuiltConfig::provenance`](crate::BuiltConfig::provenance) so that a fallback is never
/// silent.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TrustProvenance {
    /// The cache's native roots (the system store by default) at `generation`, plus extra
    /// anchors.
    #[non_exhaustive]
    Native {
        /// The generation of the native roots the config was built from.
        generation: u64,
        /// Anchors in the native roots.
        anchors: usize,
        /// Extra anchors added from the upstream key.
        extra_anchors: usize,
        /// Whether the native roots are the process-wide system store
        /// (`RootsCache::global()`), so that `Display` calls them that.
        process_roots: bool,
    },
    /// The bundled Mozilla roots (`webpki-roots`), asked for explicitly, plus extra anchors.
    #[non_exhaustive]
    WebpkiRoots {
        /// Anchors in the bundle.
        anchors: usize,
        /// Extra anchors added from the upstream key.
        extra_anchors: usize,
    },
    /// The bundled Mozilla roots because the native roots failed to load
    /// (`Trust::NativeWithWebpkiFallback`), plus extra anchors.
    #[non_exhaustive]
    WebpkiFallback {
        /// Why the native roots could not be used, as they returned it.
        native_error: NativeRootsError,
        /// Anchors in the bundle.
        anchors: usize,
        /// Extra anchors added from the upstream key.
        extra_anchors: usize,
        /// Whether the native roots that failed are the process-wide system store
        /// (`RootsCache::global()`), so that `Display` calls them that.
        process_roots: bool,
    },
    /// Only the upstream key's extra anchors.
    #[non_exhaustive]
    AnchorsOnly {
        /// Extra anchors added from the upstream key.
        extra_anchors: usize,
    },
    /// The platform verifier's decisions (`Trust::Platform`), plus extra anchors.
    #[cfg(feature = "platform-verifier")]
    #[cfg_attr(docsrs, doc(cfg(feature = "platform-verifier")))]
    #[non_exhaustive]
    Platform {
        /// Whether the operating system verifies each handshake (macOS, Windows, iOS, Android);
        /// otherwise webpki over the cache's native roots with the platform verifier's rules.
        os_verifier: bool,
        /// The generation of the native roots the config was built from (0 where the operating
        /// system verifies).
        generation: u64,
        /// Anchors from the native roots (0 where the operating system verifies, or when the
        /// native roots failed and the extra anchors stand in).
        anchors: usize,
        /// Extra anchors added from the upstream key.
        extra_anchors: usize,
        /// Why the native roots could not be used, when the extra anchors stand in for them (the
        /// platform verifier's rule: a store that fails or yields nothing is accepted when extra
        /// anchors exist).
        native_error: Option<NativeRootsError>,
        /// Whether the native roots are the process-wide system store
        /// (`RootsCache::global()`), so that `Display` calls them that.
        process_roots: bool,
    },
}

impl TrustProvenance {
    /// Whether the config trusts the bundled roots because the native roots failed.
    pub fn is_fallback(&self) -> bool {
        matches!(self, Self::WebpkiFallback { .. })
    }

    fn extra_anchors(&self) -> usize {
        match self {
            Self::Native { extra_anchors, .. }
            | Self::WebpkiRoots { extra_anchors, .. }
            | Self::WebpkiFallback { extra_anchors, .. }
            | Self::AnchorsOnly { extra_anchors } => *extra_anchors,
            #[cfg(feature = "platform-verifier")]
            Self::Platform { extra_anchors, .. } => *extra_anchors,
        }
    }
}

impl fmt::Display for TrustProvenance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Native {
                generation,
                anchors,
                process_roots,
                ..
            } => write!(
                f,
                "{} generation {generation} ({anchors} anchors)",
                store_name(*process_roots)
            )?,
            Self::WebpkiRoots { anchors, .. } => write!(f, "webpki-roots ({anchors} anchors)")?,
            Self::WebpkiFallback {
                native_error,
                anchors,
                process_roots,
                ..
            } => write!(
                f,
                "webpki-roots FALLBACK ({anchors} anchors) because the {} failed: {native_error}",
                store_name(*process_roots)
            )?,
            Self::AnchorsOnly { extra_anchors } => {
                return write!(f, "extra anchors only ({extra_anchors})");
            }
            #[cfg(feature = "platform-verifier")]
            Self::Platform {
                os_verifier: true, ..
            } => {
                f.write_str("the platform verifier (the operating system decides each handshake)")?
            }
            #[cfg(feature = "platform-verifier")]
            Self::Platform {
                native_error: Some(native_error),
                process_roots,
                ..
            } => write!(
                f,
                "the platform verifier's rules over extra anchors only: the {} failed \
                 ({native_error})",
                store_name(*process_roots)
            )?,
            #[cfg(feature = "platform-verifier")]
            Self::Platform {
                generation,
                anchors,
                process_roots,
                ..
            } => write!(
                f,
                "the platform verifier's rules over {} generation {generation} ({anchors} \
                 anchors)",
                store_name(*process_roots)
            )?,
        }
        match self.extra_anchors() {
            0 => Ok(()),
            n => write!(f, " + {n} extra anchor(s)"),
        }
    }
}

/// What messages call the native roots: "system store" only when they are the process-wide store
/// (`RootsCache::global()`); roots given with `with_roots` (PEM files, a source or
/// a policy of the caller's) are "native roots", and their error names where they were read.
fn store_name(process_roots: bool) -> &'static str {
    if process_roots {
        "system store"
    } else {
        "native roots"
    }
}

/// A built trust set.
pub(crate) struct TrustEntry {
    pub(crate) verifier: Arc<dyn ServerCertVerifier>,
    pub(crate) provenance: TrustProvenance,
}

/// A trust set's build, waited on by every concurrent builder; tagged with the native roots'
/// generation read before the store.
struct TrustSlot {
    generation: u64,
    entry: OnceLock<Result<Arc<TrustEntry>, BuildError>>,
}

/// Trust choice, extra anchors and revocation: the part of an upstream key that decides the
/// verifier.
#[derive(Clone)]
struct TrustKey {
    hash: u64,
    trust: Trust,
    anchors: Arc<[CertificateDer<'static>]>,
    revocation: Option<Revocation>,
}

impl TrustKey {
    fn of(upstream: &UpstreamTls) -> Self {
        Self {
            hash: upstream.trust_hash(),
            trust: upstream.trust(),
            anchors: Arc::clone(upstream.extra_anchors_arc()),
            revocation: upstream.revocation().cloned(),
        }
    }
}

impl PartialEq for TrustKey {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash
            && self.trust == other.trust
            && (Arc::ptr_eq(&self.anchors, &other.anchors) || self.anchors == other.anchors)
            && self.revocation == other.revocation
    }
}

impl Eq for TrustKey {}

impl Hash for TrustKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

/// The trust sets of one cache, with their counters.
pub(crate) struct TrustSets {
    provider: Arc<CryptoProvider>,
    roots: Arc<dyn NativeRoots>,
    /// Looks at `roots` when a handshake meets an unknown issuer.
    issuer_check: Arc<IssuerCheck>,
    sets: Mutex<HashMap<TrustKey, Arc<TrustSlot>, BuildPrehashed>>,
    store_loads: AtomicU64,
    fallbacks: AtomicU64,
    #[cfg(feature = "webpki-roots")]
    warned_fallback: std::sync::atomic::AtomicBool,
}

impl TrustSets {
    pub(crate) fn new(provider: Arc<CryptoProvider>, roots: Arc<dyn NativeRoots>) -> Self {
        Self {
            provider,
            issuer_check: Arc::new(IssuerCheck::new(Arc::clone(&roots))),
            roots,
            sets: Mutex::default(),
            store_loads: AtomicU64::new(0),
            fallbacks: AtomicU64::new(0),
            #[cfg(feature = "webpki-roots")]
            warned_fallback: std::sync::atomic::AtomicBool::new(false),
        }
    }

    pub(crate) fn provider(&self) -> &Arc<CryptoProvider> {
        &self.provider
    }

    /// The native roots trust sets are built from.
    pub(crate) fn roots(&self) -> &dyn NativeRoots {
        &*self.roots
    }

    /// The same, shared.
    pub(crate) fn roots_arc(&self) -> &Arc<dyn NativeRoots> {
        &self.roots
    }

    /// Build from `roots` from now on, forgetting every trust set built from the previous ones.
    pub(crate) fn set_roots(&mut self, roots: Arc<dyn NativeRoots>) {
        let check = IssuerCheck::new(Arc::clone(&roots));
        check.set_enabled(self.issuer_check.enabled());
        self.issuer_check = Arc::new(check);
        self.roots = roots;
        self.sets
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// The looks at the native roots that unknown issuers start.
    pub(crate) fn issuer_check(&self) -> &IssuerCheck {
        &self.issuer_check
    }

    /// Times a store was obtained from the native roots to build a verifier.
    pub(crate) fn store_loads(&self) -> u64 {
        self.store_loads.load(Ordering::Relaxed)
    }

    /// Trust sets built from webpki-roots because the native roots failed.
    pub(crate) fn fallbacks(&self) -> u64 {
        self.fallbacks.load(Ordering::Relaxed)
    }

    /// The trust set of `upstream`, built at `generation` or later.
    pub(crate) fn get(
        &self,
        upstream: &UpstreamTls,
        generation: u64,
    ) -> Result<Arc<TrustEntry>, BuildError> {
        let follows = upstream.follows_changes();
        let key = TrustKey::of(upstream);
        let slot = {
            let mut sets = self.sets.lock().unwrap_or_else(PoisonError::into_inner);
            match sets.get(&key) {
                Some(slot) if !follows || slot.generation >= generation => Arc::clone(slot),
                _ => {
                    let slot = Arc::new(TrustSlot {
                        generation,
                        entry: OnceLock::new(),
                    });
                    sets.insert(key, Arc::clone(&slot));
                    slot
                }
            }
        };
        slot.entry
            .get_or_init(|| self.build(upstream, slot.generation).map(Arc::new))
            .clone()
    }

    /// Forget trust sets that no config uses any more.
    pub(crate) fn prune(&self) {
        let mut sets = self.sets.lock().unwrap_or_else(PoisonError::into_inner);
        sets.retain(|_, slot| match slot.entry.get() {
            Some(Ok(entry)) => Arc::strong_count(&entry.verifier) > 1,
            // An error or a build in progress costs nothing to keep.
            _ => true,
        });
    }

    /// The native roots as a trust set's base, counted as a trust-store load.
    fn native(
        &self,
        roots: Arc<RootCertStore>,
        generation: u64,
        extra_anchors: usize,
    ) -> (Option<Arc<RootCertStore>>, TrustProvenance) {
        self.store_loads.fetch_add(1, Ordering::Relaxed);
        let provenance = TrustProvenance::Native {
            generation,
            anchors: roots.len(),
            extra_anchors,
            process_roots: self.roots.is_process_roots(),
        };
        (Some(roots), provenance)
    }

    fn build(&self, upstream: &UpstreamTls, generation: u64) -> Result<TrustEntry, BuildError> {
        let extra = upstream.extra_anchors();
        // The slot's generation adds the CRLs' to the native roots'; provenance names the roots'.
        let generation = match upstream.revocation() {
            Some(_) => self.roots.generation(),
            None => generation,
        };
        #[cfg(all(
            feature = "platform-verifier",
            any(target_vendor = "apple", windows, target_os = "android")
        ))]
        if upstream.trust() == Trust::Platform {
            if upstream.revocation().is_some() {
                return Err(BuildError::revocation_by_the_os(upstream.trust()));
            }
            return Ok(TrustEntry {
                verifier: crate::platform::os_verifier(Arc::clone(&self.provider), extra)?,
                provenance: TrustProvenance::Platform {
                    os_verifier: true,
                    generation: 0,
                    anchors: 0,
                    extra_anchors: extra.len(),
                    native_error: None,
                    process_roots: self.roots.is_process_roots(),
                },
            });
        }
        let (base, provenance) = match upstream.trust() {
            Trust::Native => {
                let roots = self.roots.roots().map_err(BuildError::native_roots)?;
                self.native(roots, generation, extra.len())
            }
            Trust::AnchorsOnly => (
                None,
                TrustProvenance::AnchorsOnly {
                    extra_anchors: extra.len(),
                },
            ),
            #[cfg(feature = "webpki-roots")]
            Trust::WebpkiRoots => {
                let roots = webpki::bundled_roots();
                let provenance = TrustProvenance::WebpkiRoots {
                    anchors: roots.len(),
                    extra_anchors: extra.len(),
                };
                (Some(roots), provenance)
            }
            #[cfg(feature = "webpki-roots")]
            Trust::NativeWithWebpkiFallback => match self.roots.roots() {
                Ok(roots) => self.native(roots, generation, extra.len()),
                Err(native_error) => {
                    self.fallbacks.fetch_add(1, Ordering::Relaxed);
                    let process_roots = self.roots.is_process_roots();
                    if !self.warned_fallback.swap(true, Ordering::Relaxed) {
                        log::warn!(
                            "the {} failed to load; configs that allow it use the bundled \
                             webpki-roots instead: {native_error}",
                            store_name(process_roots)
                        );
                    }
                    let roots = webpki::bundled_roots();
                    let provenance = TrustProvenance::WebpkiFallback {
                        native_error,
                        anchors: roots.len(),
                        extra_anchors: extra.len(),
                        process_roots,
                    };
                    (Some(roots), provenance)
                }
            },
            #[cfg(feature = "platform-verifier")]
            Trust::Platform => self.platform(generation, extra.len())?,
        };
        let roots = with_extra_anchors(base, extra)?;
        let webpki: Arc<dyn ServerCertVerifier> = match upstream.revocation() {
            Some(revocation) => crate::crl::verifier(revocation, roots, &self.provider, upstream),
            None => WebPkiServerVerifier::builder_with_provider(roots, Arc::clone(&self.provider))
                .build()
                .map(|webpki| webpki as Arc<dyn ServerCertVerifier>),
        }
        .map_err(|err| BuildError::verifier(upstream.trust(), err))?;
        // Only the native roots can learn a new CA while the process runs.
        let verifier: Arc<dyn ServerCertVerifier> = match provenance {
            TrustProvenance::Native { .. } => Arc::new(CheckingVerifier::new(
                webpki,
                Arc::clone(&self.issuer_check),
            )),
            #[cfg(feature = "platform-verifier")]
            TrustProvenance::Platform { .. } => Arc::new(
                CheckingVerifier::new(webpki, Arc::clone(&self.issuer_check))
                    .with_errors(crate::platform::platform_error),
            ),
            _ => webpki,
        };
        Ok(TrustEntry {
            verifier,
            provenance,
        })
    }
}

impl TrustSets {
    /// The base of a `Trust::Platform` set served from the native roots, with the platform
    /// verifier's rule for a store that fails or yields nothing: accepted when extra anchors
    /// exist.
    #[cfg(feature = "platform-verifier")]
    fn platform(
        &self,
        generation: u64,
        extra_anchors: usize,
    ) -> Result<(Option<Arc<RootCertStore>>, TrustProvenance), BuildError> {
        let process_roots = self.roots.is_process_roots();
        let platform = |anchors, native_error| TrustProvenance::Platform {
            os_verifier: false,
            generation,
            anchors,
            extra_anchors,
            native_error,
            process_roots,
        };
        match self.roots.roots() {
            Ok(roots) => {
                self.store_loads.fetch_add(1, Ordering::Relaxed);
                let provenance = platform(roots.len(), None);
                Ok((Some(roots), provenance))
            }
            Err(native_error) if extra_anchors > 0 => {
                log::info!(
                    "the platform verifier's rules: the extra anchors stand in for the {}, \
                     which failed: {native_error}",
                    store_name(process_roots)
                );
                Ok((None, platform(0, Some(native_error))))
            }
            Err(native_error) => Err(BuildError::native_roots(native_error)),
        }
    }
}

/// `base` unchanged when there are no extra anchors; otherwise one copy of it with them added.
fn with_extra_anchors(
    base: Option<Arc<RootCertStore>>,
    extra: &[CertificateDer<'static>],
) -> Result<Arc<RootCertStore>, BuildError> {
    if extra.is_empty() {
        return base.ok_or_else(BuildError::no_anchors);
    }
    let mut roots = base.map_or_else(RootCertStore::empty, |base| (*base).clone());
    for (index, der) in extra.iter().enumerate() {
        roots
            .add(der.clone())
            .map_err(|err| BuildError::extra_anchor(index, der.len(), err))?;
    }
    Ok(Arc::new(roots))
}

#[cfg(feature = "webpki-roots")]
mod webpki {
    use std::sync::{Arc, OnceLock};

    use rustls::RootCertStore;

    /// The bundled Mozilla roots as one shared store.
    pub(super) fn bundled_roots() -> Arc<RootCertStore> {
        static ROOTS: OnceLock<Arc<RootCertStore>> = OnceLock::new();
        Arc::clone(ROOTS.get_or_init(|| {
            Arc::new(RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            })
        }))
    }
}
