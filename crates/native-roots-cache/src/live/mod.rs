//! **Layer 4, live trust**: the [`Watcher`](crate::Watcher) thread, what it follows
//! ([`Watched`](crate::Watched)), and the [`ReloadGate`](crate::ReloadGate) that offers the
//! cache's debounce, bounded read and settled file read to a value of a crate above. It uses the
//! layers below.

pub(crate) mod reload_gate;
pub(crate) mod watched;
pub(crate) mod watcher;
