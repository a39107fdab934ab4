//! `cargo xtask`: the workspace's own tooling, run by the cargo that started it (`$CARGO`).
//!
//! `cargo xtask ci` is the gate a change must pass before it is sent: the same steps, in the same
//! order, as the CI workflow. Its only dependencies are serde and serde_json (for `cargo metadata`
//! and criterion's results), so it compiles in seconds.

mod bench;
mod bench_wine;
mod ci;
mod cmd;
mod criterion;
mod fresh_processes;
mod machine;
mod packages;
mod steps;
mod tools;
mod wine;
mod workspace;

use std::process::ExitCode;

/// The help text; the step list comes from [`steps::ALL`], the list `ci` runs.
fn usage() -> String {
    let width = steps::ALL
        .iter()
        .map(|step| step.name.len())
        .max()
        .unwrap_or(0);
    let steps: String = steps::ALL
        .iter()
        .map(|step| format!("          {:width$}  {}\n", step.name, step.about))
        .collect();
    format!(
        "\
usage: cargo xtask ci [--only STEP]... [--skip STEP]...
       cargo xtask bench [--quick | --report-only | --wine]
       cargo xtask fuzz [--quick]

ci      runs every check in this order and stops at the first failure:
{steps}        a step whose tool is missing (a rustup component, target or toolchain,
        nightly's miri, cargo-deny, Wine as root on Debian) installs it; if it
        cannot, it is skipped and says why
        --only STEP   run only this step (repeatable)
        --skip STEP   leave this step out (repeatable)
bench   runs the criterion benchmarks and the memory example, then writes BENCHMARKS.md
        --quick       shorter measurements (a few minutes on two cores)
        --report-only rewrite BENCHMARKS.md from the last run, measuring nothing
        --wine        only the first load of the Windows store under Wine, 31 fresh
                      processes each way, into its own section (which the others keep)
fuzz    runs libFuzzer on operator PEM for 10 minutes
        --quick       for 60 seconds
"
    )
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.split_first() {
        Some((command, rest)) if command == "ci" => match ci::Selection::parse(rest) {
            Ok(selection) => ci::run(&selection),
            Err(message) => usage_error(&message),
        },
        Some((command, rest)) if command == "bench" => match rest {
            [] => bench::run(bench::Mode::Full),
            [flag] if flag == "--quick" => bench::run(bench::Mode::Quick),
            [flag] if flag == "--report-only" => bench::run(bench::Mode::ReportOnly),
            [flag] if flag == "--wine" => bench_wine::run(),
            _ => usage_error("`bench` takes `--quick`, `--report-only` or `--wine`"),
        },
        Some((command, rest)) if command == "fuzz" => {
            let seconds = match rest {
                [] => 600,
                [quick] if quick == "--quick" => 60,
                _ => return usage_error("`fuzz` takes only `--quick`"),
            };
            match steps::fuzz::fuzz(seconds) {
                Ok(steps::Done::Skipped(why)) => {
                    eprintln!("fuzz: skipped: {why}");
                    ExitCode::FAILURE
                }
                Ok(_) => ExitCode::SUCCESS,
                Err(err) => {
                    eprintln!("error: {err}");
                    ExitCode::FAILURE
                }
            }
        }
        Some((help, _)) if matches!(help.as_str(), "help" | "-h" | "--help") => {
            print!("{}", usage());
            ExitCode::SUCCESS
        }
        Some((other, _)) => usage_error(&format!("unknown command `{other}`")),
        None => usage_error("no command given"),
    }
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("error: {message}\n\n{}", usage());
    ExitCode::from(2)
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    /// `cargo test` fails on unformatted code too, not only `cargo xtask ci`.
    #[test]
    fn workspace_is_formatted() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let status = Command::new(cargo)
            .args(["fmt", "--all", "--check"])
            .current_dir(crate::workspace::root())
            .status();
        match status {
            Ok(status) => assert!(
                status.success(),
                "run `cargo fmt --all` to fix the diff above"
            ),
            Err(err) => panic!("could not run `cargo fmt --all --check`: {err}"),
        }
    }
}
