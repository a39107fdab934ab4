//! How `watch` learns of a change: the library's own poll of the process-wide store
//! (`check_native_roots`), once per interval. File stores (`SSL_CERT_FILE`, `SSL_CERT_DIR`, the
//! system CA files on Linux) are compared by signature (a `stat` pass) and read only once a change
//! has held across two polls; the macOS and Windows stores are read in full at every poll.

use std::thread;
use std::time::Duration;

use native_roots_cache::{ChangeCheck, NativeRootsError, RootsCache};

/// Wait for the next published change of the process-wide store and return its generation; a
/// failed reload returns its error (the last good store stays published).
pub(super) fn next_change(interval: Duration) -> Result<u64, NativeRootsError> {
    loop {
        thread::sleep(interval);
        match RootsCache::global().check_for_changes() {
            ChangeCheck::Reloaded(refresh) if refresh.changed => return Ok(refresh.generation),
            ChangeCheck::Failed(err) => return Err(err),
            _ => {}
        }
    }
}
