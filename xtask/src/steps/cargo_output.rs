//! What cargo said, read for a step: the cause of a failed run, in a few lines for the summary
//! (the gate's output is long and may be cut before the end, so a step names the cause in its
//! error), and the packages that `cargo update` moved.

/// Where the cause of a failed run lies, as far as its output tells.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Cause {
    /// A download or an index update failed: not the code's doing, worth one more try.
    Network(String),
    /// Anything else, with the output's `error` lines (the first few).
    Other(String),
}

/// The most `error` lines a cause quotes; the log has the rest.
const MOST: usize = 8;

/// The cause of a failed run, from its output (standard output and error, interleaved).
pub(super) fn cause(output: &str) -> Cause {
    let mut errors: Vec<&str> = Vec::new();
    let mut lines = output.lines().map(str::trim_end).peekable();
    while let Some(line) = lines.next() {
        if !line.starts_with("error") {
            continue;
        }
        // rustc's `error[E0425]: ...` is followed by ` --> file:line:col`: where it is.
        match lines.peek() {
            Some(next) if next.trim_start().starts_with("--> ") => {
                errors.push(line);
                errors.push(next.trim_start());
                lines.next();
            }
            _ => errors.push(line),
        }
    }
    let text = if errors.is_empty() {
        "no `error` line in its output".to_owned()
    } else {
        let shown = errors.len().min(MOST);
        let mut text = errors[..shown].join("\n    ");
        if errors.len() > shown {
            text.push_str(&format!("\n    ({} more lines)", errors.len() - shown));
        }
        text
    };
    let network = [
        "failed to download",
        "spurious network error",
        "Unable to update registry",
        "failed to query replaced source",
        "failed to fetch",
    ];
    if network.iter().any(|said| output.contains(said)) {
        Cause::Network(text)
    } else {
        Cause::Other(text)
    }
}

/// A package that `cargo update` moved to a newer version than the lock file held.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Moved {
    pub(super) name: String,
    /// The version the lock file held, without its `v`.
    pub(super) from: String,
    /// The version it moved to, without its `v`.
    pub(super) to: String,
}

impl std::fmt::Display for Moved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} -> {}", self.name, self.from, self.to)
    }
}

/// The packages that `cargo update` moved to a newer version (`Updating NAME vOLD -> vNEW`,
/// perhaps followed by `(available: vNEWEST)`); downgrades and additions are not listed.
pub(super) fn moved_up(update_output: &str) -> Vec<Moved> {
    update_output
        .lines()
        .filter_map(|line| {
            let words: Vec<&str> = line.trim().strip_prefix("Updating ")?.split(' ').collect();
            match words[..] {
                [name, from, "->", to, ..] => Some(Moved {
                    name: name.to_owned(),
                    from: from.strip_prefix('v')?.to_owned(),
                    to: to.strip_prefix('v')?.to_owned(),
                }),
                _ => None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_compile_error_is_quoted_with_where_it_is() {
        let output = "   Compiling cc v1.12.0\n\
                      error[E0599]: no method named `foo` found for struct `Build`\n  \
                        --> src/build.rs:10:5\n   |\n\
                      error: could not compile `aws-lc-sys` (build script) due to 1 previous error\n";
        assert_eq!(
            cause(output),
            Cause::Other(
                "error[E0599]: no method named `foo` found for struct `Build`\n    \
                 --> src/build.rs:10:5\n    \
                 error: could not compile `aws-lc-sys` (build script) due to 1 previous error"
                    .to_owned()
            )
        );
    }

    #[test]
    fn a_failed_download_is_a_network_cause() {
        let output = "  Downloading crates ...\n\
                      error: failed to download from `https://static.crates.io/crates/cc/1.12.0/download`\n";
        assert!(matches!(cause(output), Cause::Network(text) if text.contains("cc/1.12.0")));
    }

    #[test]
    fn many_errors_are_cut_and_counted() {
        let output: String = (0..20).map(|n| format!("error: number {n}\n")).collect();
        let Cause::Other(text) = cause(&output) else {
            panic!("not a network cause")
        };
        assert!(
            text.contains("number 7") && !text.contains("number 8"),
            "{text}"
        );
        assert!(text.ends_with("(12 more lines)"), "{text}");
    }

    #[test]
    fn no_error_line_is_said() {
        assert_eq!(
            cause("warning: unused\n"),
            Cause::Other("no `error` line in its output".to_owned())
        );
    }

    #[test]
    fn only_upgrades_are_listed() {
        let output = "    Updating crates.io index\n     Locking 69 packages\n\
                      Downgrading arc-swap v1.9.5 -> v1.7.0 (available: v1.9.5)\n    \
                      Updating cc v1.11.3 -> v1.12.0\n      Adding libm v0.2.16\n    \
                      Updating time v0.3.41 -> v0.3.44 (available: v0.3.55)\n";
        let moved = moved_up(output);
        let shown: Vec<String> = moved.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["cc 1.11.3 -> 1.12.0", "time 0.3.41 -> 0.3.44"]);
        assert_eq!(
            moved[0],
            Moved {
                name: "cc".to_owned(),
                from: "1.11.3".to_owned(),
                to: "1.12.0".to_owned()
            }
        );
    }
}
