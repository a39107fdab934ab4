//! Follow the process-wide trust store and print each published change:
//!
//! ```text
//! cargo run -p native-roots-cache --example watch -- [SECONDS]
//! ```
//!
//! Runs for SECONDS (default 1), printing the store at start, then one line per published change
//! (the library's `info` log line names the anchors added and removed). Try it with
//! `SSL_CERT_FILE` pointing at a bundle you edit meanwhile.

use std::time::{Duration, Instant};

use native_roots_cache::{RootsCache, Watcher};

fn main() -> std::io::Result<()> {
    let seconds: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let until = Instant::now() + Duration::from_secs(seconds);
    let roots = RootsCache::global();
    let watching = Watcher::new()
        .with_poll_interval(Duration::from_millis(500))
        .start(roots)?;
    let mut seen = 0;
    while let Some(left) = until.checked_duration_since(Instant::now()) {
        let Some(generation) = roots.wait_for_generation(seen, left) else {
            break;
        };
        if let Some(report) = roots.report() {
            println!("generation {generation}: {report}");
        }
        seen = generation;
    }
    if RootsCache::global().generation() == 0 {
        if let Some(report) = roots.report() {
            println!("no store published: {report}");
        }
    }
    watching.stop();
    Ok(())
}
