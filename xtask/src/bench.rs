//! `cargo xtask bench [--quick]`: every criterion benchmark and the memory example, then
//! `BENCHMARKS.md` with the machine, each figure's median and spread, its ratio to the baseline
//! measured in the same run, and the issue's targets read off the table (never asserted by a test).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::cmd::Cmd;
use crate::criterion::{self, Figure};
use crate::machine::{cpu, settle, today};
use crate::{bench_wine, fresh_processes, packages, workspace};

const BENCHES: [(&str, &str); 4] = [
    ("native-roots-cache", "trust_store"),
    ("tls-client-builder", "configs"),
    ("tls-client-builder", "revocation"),
    ("client-recipes", "reqwest_clients"),
];
/// The memory example, as `cargo build` and `cargo run` take it.
const MEMORY_EXAMPLE: [&str; 6] = [
    "--locked",
    "--release",
    "-p",
    "tls-client-builder",
    "--example",
    "config-memory",
];
/// The `first-load` example, timed in fresh processes.
const FIRST_LOAD_EXAMPLE: [&str; 6] = [
    "--locked",
    "--release",
    "-p",
    "native-roots-cache",
    "--example",
    "first-load",
];
/// Where the fresh processes' figures are kept, and how many of each way a full run takes.
const FRESH: &str = "first_load_processes.txt";
const FRESH_RUNS: usize = 31;
/// Their group in the report, and each way's name there (the baseline's as the tables expect).
const FRESH_GROUP: &str = "first_load_in_fresh_processes";
const FRESH_NAMES: [&str; 3] = [
    "native_roots(), whole process",
    "load_native_certs + RootCertStore, whole process (baseline)",
    "a process that loads nothing",
];
/// Quick mode: enough samples for a median, in a few minutes on two cores.
const QUICK_CRITERION: [&str; 4] = ["--warm-up-time", "1", "--measurement-time", "2"];

/// How `cargo xtask bench` was asked to run.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Full,
    Quick,
    /// Rewrite BENCHMARKS.md from the last run's results, measuring nothing.
    ReportOnly,
}

pub(crate) fn run(mode: Mode) -> ExitCode {
    match measure(mode) {
        Ok(path) => {
            println!("\nwrote {}", path.display());
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn measure(mode: Mode) -> Result<PathBuf, String> {
    let home = workspace::target_dir().join("bench-report");
    if mode != Mode::ReportOnly {
        run_benchmarks(&home, mode == Mode::Quick)?;
    }
    let read = |name: &str| fs::read_to_string(home.join(name));
    let memory = read("memory.txt").map_err(|err| {
        format!("no results of a previous run ({err}): run `cargo xtask bench --quick` first")
    })?;
    let quick = read("mode.txt").is_ok_and(|m| m.trim() == "quick");
    let figures = collect(&home)?;
    let loads = read("reload_storm/trust_store_loads")
        .ok()
        .and_then(|text| text.trim().parse::<u64>().ok());
    let load = read("load.txt").unwrap_or_else(|_| "not recorded".to_owned());
    let reqwest_reads =
        read("reqwest_0_13_client/store_reads").unwrap_or_else(|_| "not measured\n".to_owned());
    let crl_memory = read("crl_parse/memory.txt").unwrap_or_else(|_| "not measured\n".to_owned());
    let report = render(
        quick,
        &figures,
        &memory,
        loads,
        &load,
        &[&reqwest_reads, &crl_memory],
    );
    let path = workspace::root().join("BENCHMARKS.md");
    // The Wine figure is measured by `bench --wine` alone: kept as it was.
    let report = bench_wine::keep_section(&path, report);
    fs::write(&path, report).map_err(|err| format!("{}: {err}", path.display()))?;
    Ok(path)
}

/// Run every benchmark and the memory example, leaving their results under `home`.
fn run_benchmarks(home: &Path, quick: bool) -> Result<(), String> {
    // Criterion's results go to a directory of their own, emptied first, so that a renamed
    // benchmark never leaves a stale figure in the report.
    let _ = fs::remove_dir_all(home);
    fs::create_dir_all(home).map_err(|err| format!("{}: {err}", home.display()))?;
    let home_str = home.to_string_lossy();
    // Build everything first, then let the machine settle: figures taken beside a build are not
    // figures.
    for (package, bench) in BENCHES {
        Cmd::cargo()
            .args(&[
                "bench", "--locked", "--no-run", "-p", package, "--bench", bench,
            ])
            .run()?;
    }
    Cmd::cargo().args(&["build"]).args(&MEMORY_EXAMPLE).run()?;
    Cmd::cargo()
        .args(&["build"])
        .args(&FIRST_LOAD_EXAMPLE)
        .run()?;
    let load = settle();
    fs::write(home.join("load.txt"), &load).map_err(|err| format!("{}: {err}", home.display()))?;
    for (package, bench) in BENCHES {
        let mut cmd = Cmd::cargo()
            .env("CRITERION_HOME", &home_str)
            .args(&["bench", "--locked", "-p", package, "--bench", bench, "--"]);
        if quick {
            cmd = cmd.args(&QUICK_CRITERION);
        }
        cmd.run()?;
    }
    let configs = if quick { "2000" } else { "10000" };
    let memory =
        Cmd::cargo()
            .args(&["run"])
            .args(&MEMORY_EXAMPLE)
            .args(&["--", "--configs", configs]);
    println!("$ {memory}\n(each way in its own process; this takes a while)");
    let memory = memory.read()?;
    print!("{memory}");
    let write = |name: &str, text: &str| {
        fs::write(home.join(name), text).map_err(|err| format!("{}: {err}", home.display()))
    };
    write("memory.txt", &memory)?;
    write(FRESH, &fresh_processes(home, quick)?)?;
    write("mode.txt", if quick { "quick" } else { "full" })
}

/// The first load of this machine's store in fresh processes, ours against rustls-native-certs
/// and a process that loads nothing, as lines of `way median low high` (nanoseconds, the
/// median's interval), for [`collect`].
fn fresh_processes(home: &Path, quick: bool) -> Result<String, String> {
    let exe = workspace::target_dir().join("release/examples/first-load");
    let way = |name: &str| {
        Cmd::new(&exe, "first-load")
            .arg(name)
            .env_remove("SSL_CERT_FILE")
            .env_remove("SSL_CERT_DIR")
    };
    let anchors = fresh_processes::same_anchors(way, &home.join("first-load.log"))?;
    let times = fresh_processes::time_in_turn(way, if quick { 11 } else { FRESH_RUNS })?;
    let mut lines = String::new();
    for ((name, _), times) in fresh_processes::WAYS.iter().zip(&times) {
        let (median, low, high) = fresh_processes::median_with_interval(times);
        let _ = writeln!(
            lines,
            "{name} {} {} {}",
            median * 1e6,
            low * 1e6,
            high * 1e6
        );
    }
    let (ratio, least, most) = fresh_processes::spread(&fresh_processes::pair_ratios(&times));
    println!(
        "{anchors} anchors both ways; ours/baseline pair by pair: {ratio:.2}× ({least:.2}× – {most:.2}×)"
    );
    Ok(lines)
}

/// Every `<group>/<bench>/new/` under `home`, keyed by criterion's full id.
fn collect(home: &Path) -> Result<BTreeMap<String, Figure>, String> {
    let mut figures = BTreeMap::new();
    let mut dirs = vec![home.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if !path.is_dir() {
                continue;
            }
            if path.file_name().is_some_and(|name| name == "new") {
                let (id, figure) = criterion::read(&path)?;
                figures.insert(id, figure);
            } else {
                dirs.push(path);
            }
        }
    }
    if figures.is_empty() {
        return Err(format!("no criterion results under {}", home.display()));
    }
    // The fresh processes' figures, when this run took them.
    let fresh = fs::read_to_string(home.join(FRESH)).unwrap_or_default();
    for (line, name) in fresh.lines().zip(FRESH_NAMES) {
        if let [_, median, low, high] = line.split_whitespace().collect::<Vec<_>>()[..] {
            let parse = |value: &str| {
                value
                    .parse::<f64>()
                    .map_err(|err| format!("{FRESH}: {err}"))
            };
            let (median, low, high) = (parse(median)?, parse(low)?, parse(high)?);
            figures.insert(
                format!("{FRESH_GROUP}/{name}"),
                Figure { median, low, high },
            );
        }
    }
    Ok(figures)
}

/// A target of the issue, read off the measured figures.
struct Target {
    what: &'static str,
    goal: &'static str,
    measured: String,
    met: Option<bool>,
}

fn ratio_target(
    figures: &BTreeMap<String, Figure>,
    what: &'static str,
    goal: &'static str,
    (numerator, denominator): (&str, &str),
    met: impl Fn(f64) -> bool,
) -> Target {
    let ratio = figures
        .get(numerator)
        .zip(figures.get(denominator))
        .map(|(n, d)| n.median / d.median);
    Target {
        what,
        goal,
        measured: ratio.map_or_else(|| "not measured".to_owned(), |r| format!("{r:.2}×")),
        met: ratio.map(met),
    }
}

/// The trust store's first load, and what following it costs (issue 12 §4, issue 13 §3, issue 16 §5).
fn live_trust_targets(figures: &BTreeMap<String, Figure>) -> Vec<Target> {
    let first_load = "trust_store_load/RootsCache first load";
    let latency = figures
        .get("live_trust/detection latency, 50 ms poll")
        .map(|f| f.median / 1e6);
    vec![
        ratio_target(
            figures,
            "first `RootsCache` load (per-certificate diagnostics, torn-read checks, signature) vs `load_native_certs` + `RootCertStore`",
            "≤ 1.0×",
            (
                first_load,
                "trust_store_load/load_native_certs + RootCertStore (baseline)",
            ),
            |r| r <= 1.0,
        ),
        ratio_target(
            figures,
            "the same in fresh processes, whole process (median of 31 each way, taken in turn)",
            "≤ 1.0×",
            (
                &format!("{FRESH_GROUP}/{}", FRESH_NAMES[0]),
                &format!("{FRESH_GROUP}/{}", FRESH_NAMES[1]),
            ),
            |r| r <= 1.0,
        ),
        ratio_target(
            figures,
            "a poll that finds no change vs a full load (the system store)",
            "≤ 0.05× (5 %)",
            ("live_trust/check_for_changes, nothing changed", first_load),
            |r| r <= 0.05,
        ),
        Target {
            what: "detection latency of a file change, 50 ms poll",
            goal: "≤ one interval plus the debounce (100 ms) plus the read",
            measured: latency.map_or_else(|| "not measured".to_owned(), |ms| format!("{ms:.1} ms")),
            // The read of a one-certificate bundle takes well under 20 ms.
            met: latency.map(|ms| ms <= 120.0),
        },
    ]
}

fn targets(
    figures: &BTreeMap<String, Figure>,
    memory: &BTreeMap<String, f64>,
    loads: Option<u64>,
) -> Vec<Target> {
    let hit = "config_per_upstream/(e) ClientConfigCache::get hit";
    let miss = "config_per_upstream/(f) ClientConfigCache::get miss";
    let mut all = vec![
        ratio_target(
            figures,
            "cached `native_roots()` vs a bare `Arc` clone",
            "≤ 1.5×",
            (
                "cached_read/native_roots()",
                "cached_read/Arc::clone (baseline)",
            ),
            |r| r <= 1.5,
        ),
        ratio_target(
            figures,
            "borrowed read, 2 threads at once vs 1 thread",
            "≤ 1.5× (flat)",
            (
                "cached_read_2_threads/borrow_roots (borrowed)",
                "cached_read/borrow_roots (borrowed)",
            ),
            |r| r <= 1.5,
        ),
        ratio_target(
            figures,
            "`get` hit vs a bare `Arc<ClientConfig>` clone",
            "≤ 2×",
            (
                hit,
                "config_per_upstream/Arc<ClientConfig>::clone (hit baseline)",
            ),
            |r| r <= 2.0,
        ),
        ratio_target(
            figures,
            "`get` hit, 2 threads on different upstream keys (64 each) vs 1 thread doing the same",
            "≤ 1.3× (flat)",
            (
                "hit_2_threads/get, different upstream keys",
                "hit_2_threads/get, one thread's upstream keys, that thread alone",
            ),
            |r| r <= 1.3,
        ),
        ratio_target(
            figures,
            "`get` miss vs a config built by hand with a shared verifier",
            "≤ 2×",
            (miss, "config_per_upstream/(d) shared verifier"),
            |r| r <= 2.0,
        ),
        ratio_target(
            figures,
            "`get` miss vs the same, every config kept alive",
            "≤ 2×",
            (
                miss,
                "config_per_upstream/(d) shared verifier, every config kept (miss baseline)",
            ),
            |r| r <= 2.0,
        ),
        ratio_target(
            figures,
            "reloading the store per config vs a `get` miss",
            "≥ 1,000×",
            (
                "config_per_upstream/(a) reload the store per config (baseline)",
                miss,
            ),
            |r| r >= 1000.0,
        ),
    ];
    all.extend(live_trust_targets(figures));
    all.push(ratio_target(
        figures,
        "reading a 600,000-serial CRL and applying it to a trust set vs webpki's own parse of it",
        "≤ 1.2×",
        (
            "crl_parse/Crls::new, then a trust set applying it",
            "crl_parse/webpki OwnedCertRevocationList::from_der (baseline)",
        ),
        |r| r <= 1.2,
    ));
    all.push(ratio_target(
        figures,
        "a full handshake applying a 100,000-serial CRL vs the same trust without CRLs",
        "≤ 1.1×",
        (
            "crl_handshake/full handshake, a 100,000-serial CRL applied",
            "crl_handshake/full handshake, no CRL (baseline)",
        ),
        |r| r <= 1.1,
    ));
    all.push(ratio_target(
        figures,
        "a reqwest 0.13 client built the default way (the platform verifier reads the store) vs from the cache (`Trust::Platform`)",
        "≥ 500×",
        (
            "reqwest_0_13_client/default build(), platform verifier (baseline)",
            "reqwest_0_13_client/from the cache (Trust::Platform)",
        ),
        |r| r >= 500.0,
    ));
    all.push(ratio_target(
        figures,
        "`ConfigHandle::config()` vs a bare `Arc<ClientConfig>` clone, 1 thread",
        "≤ 1.5×",
        (
            "config_per_upstream/(g) ConfigHandle::config",
            "config_per_upstream/Arc<ClientConfig>::clone (hit baseline)",
        ),
        |r| r <= 1.5,
    ));
    all.push(ratio_target(
        figures,
        "`ConfigHandle::config()` from 2 threads on one handle vs a bare clone of one `Arc` from 2 threads",
        "≤ 1.5×",
        (
            "hit_2_threads/ConfigHandle::config, one handle",
            "hit_2_threads/Arc::clone, same config (baseline)",
        ),
        |r| r <= 1.5,
    ));
    let idle = memory.get("cache-idle").copied();
    all.push(Target {
        what: "resident memory per idle cached config",
        goal: "≤ 2 KiB",
        measured: idle.map_or_else(
            || "not measured".to_owned(),
            |b| format!("{:.2} KiB", b / 1024.0),
        ),
        met: idle.map(|b| b <= 2048.0),
    });
    all.push(Target {
        what: "trust-store loads in the whole benchmark process, storms included",
        goal: "1",
        measured: loads.map_or_else(|| "not measured".to_owned(), |l| l.to_string()),
        met: loads.map(|l| l == 1),
    });
    all
}

fn render(
    quick: bool,
    figures: &BTreeMap<String, Figure>,
    memory_out: &str,
    loads: Option<u64>,
    load: &str,
    [reqwest_reads, crl_memory]: &[&str; 2],
) -> String {
    let memory: BTreeMap<String, f64> = memory_out
        .lines()
        .filter_map(
            |line| match line.split_whitespace().collect::<Vec<_>>()[..] {
                ["memory", way, _, bytes] => Some((way.to_owned(), bytes.parse().ok()?)),
                _ => None,
            },
        )
        .collect();
    let mut md = String::new();
    let _ = writeln!(md, "# Benchmarks\n");
    let _ = writeln!(
        md,
        "Written by `cargo xtask bench{}` on {}; rerun it to regenerate this file. Each figure is \
         criterion's median with the 95 % confidence interval of that median. These machines are \
         shared and noisy, so read the ratios: each compares medians measured in the same run.\n",
        if quick { " --quick" } else { "" },
        today()
    );
    let _ = writeln!(md, "## Machine\n\n| | |\n| --- | --- |");
    for (what, value) in machine(quick, load) {
        let _ = writeln!(md, "| {what} | {value} |");
    }
    let _ = writeln!(
        md,
        "\n## Targets\n\n| target | goal | measured | met |\n| --- | --- | --- | --- |"
    );
    for t in targets(figures, &memory, loads) {
        let met = match t.met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "not measured",
        };
        let _ = writeln!(md, "| {} | {} | {} | {met} |", t.what, t.goal, t.measured);
    }
    let mut groups: BTreeMap<&str, Vec<(&str, &Figure)>> = BTreeMap::new();
    for (id, figure) in figures {
        let (group, name) = id.split_once('/').unwrap_or((id.as_str(), ""));
        groups.entry(group).or_default().push((name, figure));
    }
    for (group, benches) in &groups {
        let baseline = benches
            .iter()
            .find(|(name, _)| name.ends_with("(baseline)"));
        let _ = writeln!(
            md,
            "\n## `{group}`\n\n| benchmark | median | 95 % CI | vs baseline |\n| --- | ---: | ---: | ---: |"
        );
        for (name, f) in benches {
            let ratio = match baseline {
                Some((base, _)) if base == name => "baseline".to_owned(),
                Some((_, b)) => ratio(f.median / b.median),
                None => String::new(),
            };
            let _ = writeln!(
                md,
                "| {name} | {} | {} – {} | {ratio} |",
                duration(f.median),
                duration(f.low),
                duration(f.high)
            );
        }
    }
    let _ = writeln!(
        md,
        "\n## Resident memory per config\n\nFrom `cargo run --release -p tls-client-builder --example config-memory`: each way in its own process, `VmRSS` before and after building and holding the configs.\n\n| way | configs | per config |\n| --- | ---: | ---: |"
    );
    for line in memory_out.lines() {
        if let ["memory", way, n, bytes] = line.split_whitespace().collect::<Vec<_>>()[..] {
            let kib = bytes
                .parse::<f64>()
                .map_or_else(|_| bytes.to_owned(), |b| format!("{:.2} KiB", b / 1024.0));
            let _ = writeln!(md, "| {way} | {n} | {kib} |");
        }
    }
    let _ = writeln!(
        md,
        "\n## Trust-store reads per reqwest 0.13 client\n\nFrom `cargo bench -p client-recipes --bench reqwest_clients`: 200 clients built each way after criterion's run, the bytes the process read (`/proc/self/io`) counted in units of one full load of the store as the platform verifier does it.\n\n```text\n{}```",
        reqwest_reads
    );
    let _ = writeln!(
        md,
        "\n## Memory a parsed CRL holds\n\nFrom `cargo bench -p tls-client-builder --bench revocation`: the resident memory webpki's parse of the 600,000-serial CRL adds (`VmRSS` before and after), per serial. A trust set that applies a CRL holds one such copy, shared by all its configs.\n\n```text\n{}```",
        crl_memory
    );
    md
}

/// A ratio readable at any size: `1.449×`, or `1/2925` for a small fraction.
fn ratio(r: f64) -> String {
    if r >= 0.01 {
        format!("{r:.3}×")
    } else {
        format!("1/{:.0}", 1.0 / r)
    }
}

fn duration(ns: f64) -> String {
    match ns {
        ns if ns >= 1e6 => format!("{:.2} ms", ns / 1e6),
        ns if ns >= 1e3 => format!("{:.2} µs", ns / 1e3),
        ns => format!("{ns:.1} ns"),
    }
}

fn machine(quick: bool, load: &str) -> Vec<(&'static str, String)> {
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease")
        .map_or_else(|_| String::new(), |r| r.trim().to_owned());
    let rustc = Cmd::new("rustc", "rustc")
        .arg("-V")
        .read()
        .map_or_else(|e| e, |v| v.trim().to_owned());
    let locked = packages::locked_versions().unwrap_or_else(|err| {
        eprintln!("warning: crate versions left out of the report: {err}");
        BTreeMap::new()
    });
    let versions: Vec<String> = [
        "rustls",
        "rustls-native-certs",
        "rustls-webpki",
        "arc-swap",
        "criterion",
    ]
    .iter()
    .map(|name| {
        let versions = locked
            .get(*name)
            .map_or("?".to_owned(), |v| v.join(" and "));
        format!("{name} {versions}")
    })
    .collect();
    vec![
        ("cpu", cpu()),
        ("os", format!("{} {kernel}", std::env::consts::OS)),
        ("load average", load.to_owned()),
        ("compiler", rustc),
        ("crates", versions.join(", ")),
        (
            "trust store",
            "the platform store (`SSL_CERT_*` cleared by each benchmark)".to_owned(),
        ),
        (
            "mode",
            if quick {
                format!("quick: criterion {}", QUICK_CRITERION.join(" "))
            } else {
                "full: criterion defaults".to_owned()
            },
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_ratios_are_fractions() {
        assert_eq!(ratio(1.449), "1.449×");
        assert_eq!(ratio(0.000_341_9), "1/2925");
    }

    #[test]
    fn durations_pick_their_unit() {
        assert_eq!(duration(17.04), "17.0 ns");
        assert_eq!(duration(2_150.0), "2.15 µs");
        assert_eq!(duration(1_760_000.0), "1.76 ms");
    }

    #[test]
    fn a_ratio_target_is_met_or_missed_by_its_rule() {
        let mut figures = BTreeMap::new();
        figures.insert(
            "g/a".to_owned(),
            Figure {
                median: 30.0,
                low: 29.0,
                high: 31.0,
            },
        );
        figures.insert(
            "g/b (baseline)".to_owned(),
            Figure {
                median: 10.0,
                low: 9.0,
                high: 11.0,
            },
        );
        let t = ratio_target(
            &figures,
            "a vs b",
            "≤ 3×",
            ("g/a", "g/b (baseline)"),
            |r| r <= 3.0,
        );
        assert_eq!((t.measured.as_str(), t.met), ("3.00×", Some(true)));
        let t = ratio_target(
            &figures,
            "missing",
            "≤ 3×",
            ("g/x", "g/b (baseline)"),
            |r| r <= 3.0,
        );
        assert_eq!((t.measured.as_str(), t.met), ("not measured", None));
    }
}
