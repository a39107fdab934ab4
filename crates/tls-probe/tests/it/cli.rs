//! The command line itself: help, usage errors, the selftest, and the default run.

use std::process::Command;

use crate::common::{BIN, Ca, json, probe, run, scratch_dir, stdout};

#[test]
fn selftest_completes_a_loopback_handshake() {
    let dir = scratch_dir("selftest");
    let bundle = dir.write("bundle.pem", &Ca::new("Some Root").pem());
    let output = run(probe(&bundle).args(["selftest", "--json"]));
    assert_eq!(output.status.code(), Some(0));
    let report = json(&output);
    assert_eq!(report["ok"], true);
    assert_eq!(report["alpn"], "h2");
    assert_eq!(report["anchor"][0]["subject"], "CN=tls-probe selftest CA");
}

#[test]
fn no_subcommand_runs_store_then_selftest() {
    let dir = scratch_dir("default");
    let bundle = dir.write("bundle.pem", &Ca::new("Default Root").pem());
    let output = run(&mut probe(&bundle));
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    let store = text.find("trust store: 1 anchor").expect("the store");
    let selftest = text.find("as localhost: verified").expect("the selftest");
    assert!(store < selftest);
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["connect"][..],
        &["connect", "no-port"],
        &["connect", "example.com:443", "--tls12", "--tls13"],
        &["connect", "example.com:443", "--client-cert", "c.pem"],
        &["connect", "example.com:443", "--timeout", "0"],
        &["connect", "example.com:443", "--server-name", "bad name!"],
        &["store", "--expiring-within", "soon"],
        &["connect", "example.com:443", "--crl"],
        &["connect", "example.com:443", "--crl-from-store=yes"],
        &["watch", "--interval", "0"],
        &["watch", "--crl"],
        &["frobnicate"],
    ] {
        let output = run(Command::new(BIN).args(args));
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.starts_with("error: "), "{args:?}");
    }
}

#[test]
fn every_subcommand_has_help_with_an_example_and_the_exit_codes() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    for subcommand in [
        None,
        Some("store"),
        Some("connect"),
        Some("watch"),
        Some("selftest"),
    ] {
        let output = run(Command::new(BIN).args(subcommand).arg("--help"));
        assert_eq!(output.status.code(), Some(0));
        let help = stdout(&output);
        let example = format!("Examples:\n  tls-probe {}", subcommand.unwrap_or(""));
        assert!(help.contains(example.trim_end()), "{subcommand:?}");
        assert!(help.contains("Exit codes:\n  "), "{subcommand:?}");
        if subcommand.is_none() {
            // The README shows the same block.
            let codes = &help[help.find("Exit codes:").expect("codes")..];
            assert!(readme.contains(codes.trim_end()), "README.md has:\n{codes}");
        }
    }
}
