//! How `watch` learns of a change: for now, a refresh of the process-wide store every interval.
//! A watcher in native-roots-cache will replace this file; nothing else in `watch` knows how a
//! change is noticed.

use std::thread;
use std::time::Duration;

use native_roots_cache::{refresh_native_roots, NativeRootsError};

/// Wait for the next published change of the process-wide store and return its generation; a
/// failed reload returns its error (the last good store stays published).
pub(super) fn next_change(interval: Duration) -> Result<u64, NativeRootsError> {
    loop {
        thread::sleep(interval);
        let refresh = refresh_native_roots()?;
        if refresh.changed {
            return Ok(refresh.generation);
        }
    }
}
