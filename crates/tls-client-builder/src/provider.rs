//! Which crypto provider a cache uses when the caller does not pass one.

use std::sync::Arc;

use rustls::crypto::CryptoProvider;

/// The provider chosen by the crate features: `aws-lc-rs` when that feature is on (it is an
/// explicit opt-in, while `ring` is merely the default feature), else `ring`. One shared `Arc`
/// per process.
#[cfg(any(feature = "ring", feature = "aws-lc-rs"))]
pub(crate) fn feature_provider() -> Arc<CryptoProvider> {
    use std::sync::OnceLock;

    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    Arc::clone(PROVIDER.get_or_init(|| {
        #[cfg(feature = "aws-lc-rs")]
        let provider = rustls::crypto::aws_lc_rs::default_provider();
        #[cfg(not(feature = "aws-lc-rs"))]
        let provider = rustls::crypto::ring::default_provider();
        Arc::new(provider)
    }))
}

/// The process-wide default provider, if the application installed one.
pub(crate) fn process_default() -> Option<Arc<CryptoProvider>> {
    CryptoProvider::get_default().map(Arc::clone)
}
