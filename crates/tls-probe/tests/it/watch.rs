//! `tls-probe watch`: the store at start, then a line when the bundle gains a CA.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use crate::common::{Ca, probe, scratch_dir};

/// Kills the child however the test ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `tls-probe watch --json --interval 1` on `bundle`, and the JSON lines it prints, one at a
/// time (each within a minute).
fn watch(bundle: &Path) -> (Killed, impl Fn() -> serde_json::Value) {
    let mut child = Killed(
        probe(bundle)
            .args(["watch", "--json", "--interval", "1"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("tls-probe watch starts"),
    );
    let stdout = child.0.stdout.take().expect("stdout");
    let (lines, received) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let next = move || -> serde_json::Value {
        let line = received
            .recv_timeout(Duration::from_secs(60))
            .expect("a line within a minute")
            .expect("readable");
        println!("{line}");
        serde_json::from_str(&line).expect("each line is one JSON object")
    };
    (child, next)
}

#[test]
fn a_line_per_published_change() {
    let dir = scratch_dir("watch");
    let (first, second) = (Ca::new("First Root"), Ca::new("Second Root"));
    let bundle = dir.write("bundle.pem", &first.pem());
    let (_child, next) = watch(&bundle);

    let start = next();
    assert_eq!(start["event"], "loaded");
    assert_eq!(start["anchors"], 1);
    assert_eq!(start["store_in_use"], true);
    let generation = start["generation"].as_u64().expect("generation");

    dir.write("bundle.pem", &[first.pem(), second.pem()].concat());
    let change = next();
    assert_eq!(change["event"], "changed");
    assert_eq!(change["generation"].as_u64(), Some(generation + 1));
    assert_eq!(change["anchors"], 2);
    let added = change["added"].as_array().expect("added");
    assert_eq!(added.len(), 1);
    assert_eq!(added[0]["subject"], second.subject("Second Root").as_str());
    assert_eq!(added[0]["sha256"].as_str().map(str::len), Some(64));
    assert_eq!(change["removed"].as_array().map(Vec::len), Some(0));
}

/// A bad bundle written under a running watch is a `failed` line (a consumer of
/// `watch --json >> changes.jsonl` hears of it), the store in use staying; the fixed bundle is a
/// `changed` line.
#[test]
fn a_failed_reload_is_a_line_too() {
    let dir = scratch_dir("watch-failed");
    let (first, second) = (Ca::new("First Root"), Ca::new("Second Root"));
    let bundle = dir.write("bundle.pem", &first.pem());
    let (_child, next) = watch(&bundle);
    let start = next();
    assert_eq!(start["event"], "loaded");
    let generation = start["generation"].as_u64().expect("generation");
    let counters = &start["counters"];
    assert_eq!(counters["loads"], 1);
    assert_eq!(counters["changes"], 0);
    assert_eq!(counters["rejected"]["no_anchors"], 0);
    assert!(counters["last_change"].is_string(), "{counters}");

    dir.write("bundle.pem", "an operator pasted the wrong file\n");
    let failed = next();
    assert_eq!(failed["event"], "failed");
    assert_eq!(failed["store_in_use"], true);
    assert_eq!(failed["anchors"], 1, "the store in use stays");
    assert_eq!(failed["generation"].as_u64(), Some(generation));
    let error = &failed["error"];
    assert_eq!(error["kind"], "NoAnchors");
    let message = error["message"].as_str().expect("message");
    assert!(message.contains("bundle.pem"), "{message}");
    assert!(!error["hint"].as_str().expect("hint").is_empty());
    let counters = &failed["counters"];
    assert!(
        counters["rejected"]["no_anchors"].as_u64() >= Some(1),
        "{counters}"
    );
    assert_eq!(counters["changes"], 0);

    dir.write("bundle.pem", &[first.pem(), second.pem()].concat());
    let change = next();
    assert_eq!(change["event"], "changed");
    assert_eq!(change["anchors"], 2);
    assert_eq!(change["error"], serde_json::Value::Null);
    let counters = &change["counters"];
    assert_eq!(counters["changes"], 1);
    assert!(counters["loads"].as_u64() >= Some(3), "{counters}");
    assert_eq!(counters["expired_anchors"], 0);
    assert!(counters["next_expiry"].is_string(), "{counters}");
}
