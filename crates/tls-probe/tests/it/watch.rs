//! `tls-probe watch`: the store at start, then a line when the bundle gains a CA; with `--crl`,
//! the same for the CRLs.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, SystemTime};

use crate::common::{Ca, probe, run, scratch_dir};

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
    watch_with(bundle, &[])
}

/// [`watch`], with `extra` arguments.
fn watch_with(bundle: &Path, extra: &[&OsStr]) -> (Killed, impl Fn() -> serde_json::Value + use<>) {
    let mut child = Killed(
        probe(bundle)
            .args(["watch", "--json", "--interval", "1"])
            .args(extra)
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

/// `--crl DIR`: the set read at start, a line when a CRL is added (the count of CRLs and of the
/// serials they revoke), a `failed` line when a CRL is cut short (the set in use stays), and a
/// line when it is whole again.
#[test]
fn crl_lines_follow_the_crl_set() {
    let dir = scratch_dir("watch-crls");
    let bundle = dir.write("bundle.pem", &Ca::new("Watched Root").pem());
    let crls = dir.join("crls.d");
    std::fs::create_dir(&crls).expect("crls.d");
    let next_update = SystemTime::now() + Duration::from_secs(86_400);
    let (first, second) = (Ca::new("First CA"), Ca::new("Second CA"));
    test_pki::replace_file(&crls.join("first.crl"), first.crl(1, &[7], next_update).pem);
    let (_child, next) = watch_with(&bundle, &["--crl".as_ref(), crls.as_os_str()]);

    let store = next();
    assert_eq!(store["event"], "loaded");
    assert_eq!(store["source"], "trust_store");
    let start = next();
    assert_eq!(start["event"], "loaded");
    assert_eq!(start["source"], "crls");
    assert_eq!(start["generation"], 1);
    assert_eq!(start["crls"], 1);
    assert_eq!(start["revoked"], 1);
    assert_eq!(start["skipped"], 0);
    assert_eq!(start["expired"], 0);
    assert_eq!(start["rejected_reloads"], 0);
    assert!(
        start["next_update"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    assert_eq!(start["error"], serde_json::Value::Null);
    let origin = start["origin"].as_str().expect("origin");
    assert!(origin.contains(&crls.display().to_string()), "{origin}");

    let second_crl = second.crl(1, &[1, 2], next_update).pem;
    test_pki::replace_file(&crls.join("second.crl"), &second_crl);
    let changed = next();
    assert_eq!(changed["event"], "changed");
    assert_eq!(changed["source"], "crls");
    assert_eq!(changed["generation"], 2);
    assert_eq!(changed["crls"], 2);
    assert_eq!(changed["revoked"], 3);

    test_pki::replace_file(
        &crls.join("second.crl"),
        &second_crl[..second_crl.len() / 2],
    );
    let failed = next();
    assert_eq!(failed["event"], "failed");
    assert_eq!(failed["source"], "crls");
    assert_eq!(failed["generation"], 2, "the set in use stays");
    assert_eq!(failed["crls"], 2);
    assert_eq!(failed["revoked"], 3);
    let error = &failed["error"];
    assert_eq!(error["kind"], "CutShort");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("second.crl") && m.contains("cut short")),
        "{error}"
    );
    assert!(!error["hint"].as_str().expect("hint").is_empty());
    assert_eq!(failed["rejected_reloads"], 1);

    let third = second.crl(2, &[1, 2, 3], next_update).pem;
    test_pki::replace_file(&crls.join("second.crl"), third);
    let whole = next();
    assert_eq!(whole["event"], "changed");
    assert_eq!(whole["generation"], 3);
    assert_eq!(whole["revoked"], 4);
    assert_eq!(whole["error"], serde_json::Value::Null);
}

/// The text lines, and a `--crl` that cannot be read at start (exit 2, on stderr).
#[test]
fn crl_lines_in_text_and_an_unreadable_crl() {
    let dir = scratch_dir("watch-crls-text");
    let bundle = dir.write("bundle.pem", &Ca::new("Watched Root").pem());
    let missing = dir.join("missing.crl");
    let output = run(probe(&bundle).args(["watch", "--crl"]).arg(&missing));
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let expected = format!(
        "tls-probe: error: --crl {}: cannot read CRLs",
        missing.display()
    );
    assert!(stderr.starts_with(&expected), "{stderr}");

    let ca = Ca::new("Text CA");
    let next_update = SystemTime::now() + Duration::from_secs(86_400);
    let crl = dir.write("ca.crl", &ca.crl(1, &[5, 6], next_update).pem);
    let mut child = Killed(
        probe(&bundle)
            .args(["watch", "--interval", "1", "--crl"])
            .arg(&crl)
            .stdout(Stdio::piped())
            .spawn()
            .expect("tls-probe watch starts"),
    );
    let mut lines = BufReader::new(child.0.stdout.take().expect("stdout")).lines();
    let mut line = || lines.next().expect("a line").expect("readable");
    let store = line();
    assert!(store.contains(" generation 1: 1 anchor from "), "{store}");
    let crls = line();
    assert!(
        crls.ends_with(&format!(
            " CRLs generation 1: 1 CRL revoking 2 certificates from files {} (at start)",
            crl.display()
        )),
        "{crls}"
    );
}
