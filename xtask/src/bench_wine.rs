//! `cargo xtask bench --wine`: the first load of the Windows store under Wine, ours
//! (`native_roots()`) against rustls-native-certs (`load_native_certs` into a `RootCertStore`),
//! each in fresh processes of the `first-load` example built for `x86_64-pc-windows-gnu`, with a
//! process that loads nothing beside them (what Wine takes to start one). Written to a section of
//! its own in BENCHMARKS.md, which `cargo xtask bench` keeps as it is.
//!
//! Wine is not Windows: this is how our code and rustls-native-certs fare against Wine's
//! implementation of the Windows API. The workflow's Windows job measures Windows.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::cmd::Cmd;
use crate::fresh_processes::{self, WAYS, spread};
use crate::machine;
use crate::wine::{self, TARGET, Unavailable, Wine};
use crate::workspace;

/// Every section this command writes starts so (the Wine's major version follows).
const HEADING: &str = "## Windows API under Wine";
/// Fresh processes of each way: an odd count, so the median is one of them.
const RUNS: usize = 31;
pub(crate) fn run() -> ExitCode {
    match measure() {
        Ok(path) => {
            println!("\nwrote the Wine section of {}", path.display());
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn measure() -> Result<PathBuf, String> {
    let wine = match wine::start()? {
        Ok(wine) => wine,
        Err(Unavailable(why)) => return Err(format!("Wine cannot run here: {why}")),
    };
    Cmd::cargo()
        .args(&["build", "--locked", "--release", "-p", "native-roots-cache"])
        .args(&["--example", "first-load", "--target", TARGET])
        .run()?;
    let exe = Wine::target_dir("release").join("examples/first-load.exe");
    let way = |name: &str| wine.program(&exe).arg(name);
    let log = workspace::target_dir().join("wine").join("first-load.log");
    let anchors = fresh_processes::same_anchors(way, &log)?;
    let load = machine::settle();
    // The uncounted first round also has Wine map its DLLs into the page cache.
    let times = fresh_processes::time_in_turn(way, RUNS)?;
    let ratios = fresh_processes::pair_ratios(&times);
    let section = render(&wine, anchors, &load, &times, &ratios);
    print!("\n{section}");
    let path = workspace::root().join("BENCHMARKS.md");
    let old = fs::read_to_string(&path).unwrap_or_else(|_| "# Benchmarks\n".to_owned());
    fs::write(&path, with_section(&old, &section))
        .map_err(|err| format!("{}: {err}", path.display()))?;
    Ok(path)
}

fn render(
    wine: &Wine,
    anchors: usize,
    load: &str,
    times: &[Vec<f64>; 3],
    ratios: &[f64],
) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "{HEADING} {} (not Windows)\n", wine.major());
    let _ = writeln!(
        md,
        "Written by `cargo xtask bench --wine` on {}: the first load of the Windows certificate \
         store in a fresh process, the `first-load` example built for {TARGET} in release and \
         run under Wine, {RUNS} processes of each way taken in turn. Wine answers \
         `CertOpenSystemStore(\"ROOT\")` from the host's CA files and builds that store anew in \
         each process. Each figure is the wall time of a whole process, from its start to its \
         exit, with Wine's server kept running between them. This is Wine's implementation of \
         the Windows API on Linux, not Windows: the workflow's `platform figures \
         (windows-latest)` job measures Windows.\n",
        machine::today()
    );
    let shim = if wine.shim {
        ", with the `ProcessPrng` shim (xtask/wine/process_prng.c)"
    } else {
        ""
    };
    let _ = writeln!(md, "| | |\n| --- | --- |");
    let _ = writeln!(md, "| cpu | {} |", machine::cpu());
    let _ = writeln!(md, "| load average | {load} |");
    let _ = writeln!(md, "| Wine | {}{shim} |", wine.version);
    let _ = writeln!(md, "| anchors | {anchors}, both ways |\n");
    let _ = writeln!(
        md,
        "| process | median | min – max |\n| --- | ---: | ---: |"
    );
    for ((_, what), times) in WAYS.iter().zip(times) {
        let (median, min, max) = spread(times);
        let _ = writeln!(md, "| {what} | {median:.0} ms | {min:.0} – {max:.0} ms |");
    }
    let (median, min, max) = spread(ratios);
    let _ = writeln!(
        md,
        "\nOurs against rustls-native-certs, pair by pair: {median:.2}× (median; {min:.2}× – \
         {max:.2}×)."
    );
    md
}

/// `doc` with its Wine section replaced by `section`, or `section` added at its end.
fn with_section(doc: &str, section: &str) -> String {
    let section = section.trim_end_matches('\n');
    match find_section(doc) {
        Some((start, end)) if end < doc.len() => {
            format!("{}{section}\n\n{}", &doc[..start], &doc[end..])
        }
        Some((start, _)) => format!("{}{section}\n", &doc[..start]),
        None => format!("{}\n\n{section}\n", doc.trim_end_matches('\n')),
    }
}

/// `report` (a BENCHMARKS.md just rendered) with the Wine section of the file at `path` added
/// at its end, if the file has one.
pub(crate) fn keep_section(path: &Path, report: String) -> String {
    let Ok(old) = fs::read_to_string(path) else {
        return report;
    };
    match find_section(&old) {
        Some((start, end)) => with_section(&report, &old[start..end]),
        None => report,
    }
}

/// Where the Wine section is: from its heading to the next heading of its level, or the end.
fn find_section(doc: &str) -> Option<(usize, usize)> {
    let start = if doc.starts_with(HEADING) {
        0
    } else {
        doc.find(&format!("\n{HEADING}"))? + 1
    };
    let end = doc[start + HEADING.len()..]
        .find("\n## ")
        .map_or(doc.len(), |i| start + HEADING.len() + i + 1);
    Some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECTION: &str = "## Windows API under Wine 8 (not Windows)\n\nfigures\n";

    #[test]
    fn the_section_is_added_then_replaced_in_place() {
        let doc = "# Benchmarks\n\n## Machine\n\nrows\n";
        let added = with_section(doc, SECTION);
        assert_eq!(added, format!("{doc}\n{SECTION}"));
        let newer = SECTION.replace("figures", "newer figures");
        assert_eq!(with_section(&added, &newer), format!("{doc}\n{newer}"));
        let middle = format!("# B\n\n{SECTION}\n## After\n\nmore\n");
        assert_eq!(
            with_section(&middle, &newer),
            format!("# B\n\n{newer}\n## After\n\nmore\n")
        );
    }

    #[test]
    fn a_full_report_keeps_the_section() {
        let dir = workspace::target_dir().join("xtask-test-bench-wine");
        fs::create_dir_all(&dir).expect("a scratch directory");
        let path = dir.join("BENCHMARKS.md");
        fs::write(&path, format!("# Benchmarks\n\nold\n\n{SECTION}")).expect("written");
        let report = "# Benchmarks\n\nnew\n".to_owned();
        assert_eq!(
            keep_section(&path, report),
            format!("# Benchmarks\n\nnew\n\n{SECTION}")
        );
        fs::write(&path, "# Benchmarks\n\nold\n").expect("written");
        let report = "# Benchmarks\n\nnew\n".to_owned();
        assert_eq!(keep_section(&path, report.clone()), report);
    }
}
