//! [`Opaque`]: shared state kept behind a `dyn`, for the values upstream keys hold by identity
//! (a rotating client identity, a set of CRLs). Keys hash and compare only an immutable id, but
//! clippy's `mutable_key_type` looks through an `Arc` (not through a `dyn`) into the state's locks
//! and would flag every user's `HashMap<UpstreamTls, _>`.

/// A value reached through a `dyn`.
pub(crate) trait Opaque<T>: Send + Sync {
    fn get(&self) -> &T;
}

impl<T: Send + Sync> Opaque<T> for T {
    fn get(&self) -> &T {
        self
    }
}
