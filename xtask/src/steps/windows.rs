//! The Windows code run, not only compiled: the test suites of the core, the builder and
//! tls-probe built for `x86_64-pc-windows-gnu` and run under Wine (installed and set up by
//! [`crate::wine`]), the real store's ignored tests among them, then `tls-probe store` and
//! `tls-probe selftest` against the Windows store. Every failure is held against the list of what
//! Wine cannot do ([`super::wine_limits`]): a listed one is a named skip, any other fails. A test
//! that met a limitation any test can meet by chance runs once more, alone, and a pass counts.
//!
//! Wine is not Windows: a pass says our code ran through an implementation of the Win32 API
//! (Wine fills the `ROOT` store from the host's CA files), not that Windows answers the same.

use std::path::PathBuf;
use std::time::Duration;

use super::wine_limits::{self, Skip};
use super::{Done, StepResult};
use crate::cmd::Logged;
use crate::wine::{self, TARGET, Unavailable, Wine};

const PACKAGES: [&str; 3] = ["native-roots-cache", "tls-client-builder", "tls-probe"];
/// A package's suite takes 30 s to 4 minutes under Wine on two cores; a hang is cut off here.
const SUITE_LIMIT: Duration = Duration::from_secs(600);
/// `tls-probe store` or `selftest`: under a second.
const PROGRAM_LIMIT: Duration = Duration::from_secs(120);

pub(super) fn run() -> StepResult {
    let wine = match wine::start()? {
        Ok(wine) => wine,
        Err(Unavailable(why)) => return Ok(Done::Skipped(why)),
    };
    let shim = if wine.shim {
        "with the ProcessPrng shim"
    } else {
        "with its own bcryptprimitives.dll"
    };
    println!("{}, {shim}", wine.version);
    let mut skipped = Vec::new();
    // Each package on its own, as the `test` step builds them: together, their features would be
    // unified (and each test binary built twice).
    for package in PACKAGES {
        let built = wine
            .cargo()
            .args(&["test", "--locked", "--no-run", "-p", package])
            .args(&["--target", TARGET])
            .run_logged(&log(&format!("build-{package}")), SUITE_LIMIT)?;
        passed(&built, &format!("the Windows build of {package}'s tests"))?;
        // The host's clippy sees only the host's `cfg`s, and the `cross` step lints libraries
        // only: code behind `cfg(windows)` in tests, benches and examples is linted here.
        wine.cargo()
            .args(&["clippy", "--locked", "--all-targets", "-p", package])
            .args(&["--target", TARGET, "--", "-D", "warnings"])
            .run()?;
        let run = wine
            .cargo()
            .args(&["test", "--locked", "--no-fail-fast", "-p", package])
            .args(&["--target", TARGET])
            .run_logged(&log(&format!("test-{package}")), SUITE_LIMIT)?;
        let judged = wine_limits::judge(package, &run)?;
        for test in judged.passed_anyway {
            println!(
                "note: {test} passed under {}, though listed as a Wine limitation: if it keeps \
                 passing, remove it from xtask/src/steps/wine_limits.rs",
                wine.version
            );
        }
        for skip in judged.skipped {
            if let Some(skip) = again_if_by_chance(&wine, skip)? {
                skipped.push(skip);
            }
        }
    }

    // The Windows store itself: `native_roots()` from `CertOpenSystemStore("ROOT")` in a child
    // without SSL_CERT_*, and eight processes loading it at once.
    let real_store = wine
        .cargo()
        .args(&["test", "--locked", "-p", "native-roots-cache"])
        .args(&[
            "--target",
            TARGET,
            "--test",
            "real_store",
            "--",
            "--ignored",
        ])
        .run_logged(&log("test-real-store"), SUITE_LIMIT)?;
    passed(&real_store, "the real store's tests")?;

    let probe = Wine::target_dir("debug").join("tls-probe.exe");
    let store = wine
        .program(&probe)
        .arg("store")
        .run_logged(&log("tls-probe-store"), PROGRAM_LIMIT)?;
    passed(&store, "`tls-probe store`")?;
    let named = "from the Windows certificate store";
    if !store.output.contains(named) {
        return Err(format!(
            "`tls-probe store` under Wine did not say `{named}`"
        ));
    }
    let selftest = wine
        .program(&probe)
        .arg("selftest")
        .run_logged(&log("tls-probe-selftest"), PROGRAM_LIMIT)?;
    passed(&selftest, "`tls-probe selftest`")?;

    if skipped.is_empty() {
        return Ok(Done::Passed);
    }
    let list = named_skips(&skipped);
    println!("\nnot run under {}, named:\n{list}", wine.version);
    Ok(Done::Partly(format!(
        "{} tests meet known limits of {} (named skips):\n{list}",
        skipped.len(),
        wine.version
    )))
}

/// A test that met a limitation any test can meet by chance (a rename that coincided with a
/// watcher's read) runs once more, alone: a pass then counts. `None`: it passed.
fn again_if_by_chance(wine: &Wine, skip: Skip) -> Result<Option<Skip>, String> {
    let Some(args) = skip.again().filter(|_| skip.by_chance()) else {
        return Ok(Some(skip));
    };
    println!(
        "\n{} met a Wine limitation by chance ({}): once more, alone",
        skip.test,
        skip.matched.join(" … ")
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = wine
        .cargo()
        .args(&["test", "--locked", "-p", &skip.package, "--target", TARGET])
        .args(&args)
        .run_logged(&log(&format!("test-{}-again", skip.package)), SUITE_LIMIT)?;
    let again = wine_limits::judge_again(&skip, &run)?;
    if again.is_none() {
        println!("{} passed when run again", skip.test);
    }
    Ok(again)
}

fn log(name: &str) -> PathBuf {
    crate::workspace::target_dir()
        .join("wine")
        .join(format!("{name}.log"))
}

fn passed(run: &Logged, what: &str) -> Result<(), String> {
    if run.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed under Wine ({}): see the output above",
            run.status
        ))
    }
}

/// The skips, indented to sit under the summary's table.
fn named_skips(skipped: &[Skip]) -> String {
    skipped
        .iter()
        .map(|skip| {
            format!(
                "        - {} {} `{}`\n          Wine: {}\n          matched: `{}`",
                skip.package,
                skip.binary,
                skip.test,
                skip.limit.limitation,
                skip.matched.join("` … `")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}
