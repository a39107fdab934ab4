//! `cargo xtask`: the workspace's own tooling, run by the cargo that started it (`$CARGO`).
//!
//! `cargo xtask ci` is the gate a change must pass before it is sent: the same steps, in the same
//! order, as the CI workflow. It needs nothing beyond std, so it compiles in seconds.

mod ci;
mod cmd;
mod steps;
mod tools;
mod workspace;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask ci [--only STEP]... [--skip STEP]...

Runs every check in order and stops at the first failure:
  fmt clippy test doc cross msrv deny miri examples

  --only STEP   run only this step (repeatable)
  --skip STEP   leave this step out (repeatable)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.split_first() {
        Some((command, rest)) if command == "ci" => match ci::Selection::parse(rest) {
            Ok(selection) => ci::run(&selection),
            Err(message) => usage_error(&message),
        },
        Some((help, _)) if matches!(help.as_str(), "help" | "-h" | "--help") => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some((other, _)) => usage_error(&format!("unknown command `{other}`")),
        None => usage_error("no command given"),
    }
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("error: {message}\n\n{USAGE}");
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
