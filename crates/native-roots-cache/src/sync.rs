//! The synchronisation primitives of [`RootsCache`](crate::RootsCache): std's and arc-swap's in
//! normal builds, loom's under `cfg(loom)`, so that the cache's state machine is model-checked
//! exactly as written (`RUSTFLAGS="--cfg loom" cargo test -p native-roots-cache --lib --release`).

#[cfg(not(loom))]
pub(crate) use std::sync::{
    Mutex, MutexGuard,
    atomic::{AtomicBool, AtomicU64, Ordering},
};

/// The published outcome: lock-free reads and atomic swaps.
#[cfg(not(loom))]
pub(crate) type Slot<T> = arc_swap::ArcSwapOption<T>;

#[cfg(loom)]
pub(crate) use loom::sync::{
    Mutex, MutexGuard,
    atomic::{AtomicBool, AtomicU64, Ordering},
};

/// arc-swap does not support loom; an `RwLock` has the same contract for the model.
#[cfg(loom)]
pub(crate) struct Slot<T>(loom::sync::RwLock<Option<std::sync::Arc<T>>>);

#[cfg(loom)]
impl<T> Slot<T> {
    pub(crate) fn const_empty() -> Self {
        Self(loom::sync::RwLock::new(None))
    }

    pub(crate) fn load_full(&self) -> Option<std::sync::Arc<T>> {
        self.0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn store(&self, value: Option<std::sync::Arc<T>>) {
        *self
            .0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = value;
    }
}
