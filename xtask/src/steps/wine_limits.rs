//! What Wine cannot do, named: the tests that meet a known limitation of Wine, each with the
//! limitation and the exact error it shows there, and the reading of `cargo test`'s output that
//! holds every failure against this list. A listed test that fails with its error is a named skip;
//! a listed test that fails otherwise, any other failure, a test binary that dies without a
//! verdict, or a listed test that no longer runs, fails the step.

use crate::cmd::Logged;

/// A test Wine cannot run, and why.
pub(super) struct Limit {
    pub(super) which: Which,
    /// What Wine does not do, in a sentence.
    pub(super) limitation: &'static str,
    /// The errors this limitation shows as, each as the parts a test's failure output must all
    /// hold, word for word, for the failure to count as this limitation.
    pub(super) errors: &'static [&'static [&'static str]],
}

/// The tests a limitation is met by.
pub(super) enum Which {
    /// One test: its package, its binary as cargo names it in its `Running` line
    /// (`tests/it/main.rs`), and its path in that binary as libtest prints it.
    Test {
        package: &'static str,
        binary: &'static str,
        name: &'static str,
    },
    /// Any test, for a limitation that any test doing one thing can meet by chance; its errors
    /// then say where the thing is done.
    Any,
}

/// A test that failed with one of its limitation's errors.
pub(super) struct Skip {
    pub(super) limit: &'static Limit,
    pub(super) package: String,
    pub(super) binary: String,
    pub(super) test: String,
    /// The error its output held.
    pub(super) matched: &'static [&'static str],
}

/// rustls-platform-verifier's `Verifier::new_with_extra_roots`, which `Trust::Platform` builds on
/// Windows (always, with or without extra anchors), makes a chain engine with an exclusive root
/// store. Wine 8's `CertCreateCertificateChainEngine` takes only the sizes of its older
/// `CERT_CHAIN_ENGINE_CONFIG` (which end before `dwExclusiveFlags`) and answers any other with
/// E_INVALIDARG, so no `Trust::Platform` config can be built under Wine 8 and no verdict of it
/// is reached (Wine's CERT_E_REVOCATION_FAILURE for `Verifier::new()` is never met either).
/// Debian 12's own repositories have no newer Wine.
const EXCLUSIVE_ROOT: &str = "Wine 8's chain engine takes no exclusive root store \
     (CertCreateCertificateChainEngine answers E_INVALIDARG, 0x80070057), which \
     rustls-platform-verifier's Verifier::new_with_extra_roots builds for Trust::Platform";

#[rustfmt::skip]
pub(super) const LIMITS: &[Limit] = &[
    Limit {
        which: Which::Test {
            package: "native-roots-cache",
            binary: "tests/it/main.rs",
            name: "writers::a_directory_filled_just_now_loads_in_one_call",
        },
        limitation: "Wine's file calls go through its server (0.7 to 1.5 ms a file here, against \
            microseconds on Linux): the test writes 20,000 files (over a minute) and the load \
            reads them for longer than the writer window the test stands on, so the files written \
            last have gone quiet when the read reaches them and one attempt settles all (1, not \
            2); on a busier machine the two reads do not fit the load's 30 s deadline",
        errors: &[
            &["(500 certificates, 0 skipped as unparsable, 0 errors) after 1 attempt in"],
            &["facts: Deadline { deadline: 30s"],
        ],
    },
    Limit {
        which: Which::Test {
            package: "tls-client-builder",
            binary: "tests/platform_parity.rs",
            name: "the_platform_verifiers_verdicts_and_errors",
        },
        limitation: EXCLUSIVE_ROOT,
        errors: &[&["General(\"Invalid parameter. (os error -2147024809)\")"]],
    },
    Limit {
        which: Which::Test {
            package: "tls-probe",
            binary: "tests/it/main.rs",
            name: "connect::trust_platform_verifies_as_the_platform_verifier",
        },
        limitation: EXCLUSIVE_ROOT,
        errors: &[&["\"the platform verifier could not be built\",\"caused_by\":[\"unexpected error: \
            Invalid parameter. (os error -2147024809)\"]"]],
    },
    // Any test that replaces a file (test-pki's replace_file, a write then a rename) while a
    // watcher or a reloading child has it open meets this when the two coincide: with Wine's slow
    // file calls, in most runs for one of tls-probe's watch tests, now and then for the others.
    Limit {
        which: Which::Any,
        limitation: "Wine 8 has no POSIX-semantics rename: a rename over a file that another \
            handle holds open (a watcher reading it) fails with ERROR_ACCESS_DENIED, where \
            std::fs::rename on Windows 10 and later retries with FileRenameInfoEx and \
            FILE_RENAME_FLAG_POSIX_SEMANTICS and replaces it",
        errors: &[&[
            "panicked at crates/test-pki/src/files.rs:",
            "called `Result::unwrap()` on an `Err` value: Os { code: 5, kind: PermissionDenied, \
                message: \"Access denied.\" }",
        ]],
    },
    // Any test that starts processes: seen once in about ten runs of tests/cross_process.rs,
    // which starts 32 at once, ten times over, never on Linux.
    Limit {
        which: Which::Any,
        limitation: "Wine 8 now and then fails to start a process: CreateProcess answers \
            ERROR_INTERNAL_ERROR (1359), the new process having died while Wine set it up",
        errors: &[&["Os { code: 1359, kind: Uncategorized, message: \"Internal error.\" }"]],
    },
];

/// One failed test and the output libtest printed for it.
struct Failure {
    binary: String,
    test: String,
    output: String,
}

/// What one `cargo test -p PACKAGE` run said, read from its output.
#[derive(Default)]
struct Reading {
    /// `(binary, test)` of every test libtest gave a verdict.
    ran: Vec<(String, String)>,
    failures: Vec<Failure>,
    /// A binary cargo says failed without a failed test: it died (or a line we do not know).
    unexplained: Vec<String>,
}

/// What the list made of one run: the skips it matched, and the listed tests that passed.
pub(super) struct Judged {
    pub(super) skipped: Vec<Skip>,
    pub(super) passed_anyway: Vec<&'static str>,
    /// `(binary, test)` of every test that ran.
    ran: Vec<(String, String)>,
}

/// Hold the output of `cargo test -p package --no-fail-fast` against [`LIMITS`].
pub(super) fn judge(package: &str, run: &Logged) -> Result<Judged, String> {
    judge_output(package, run.status.success(), &run.output, LIMITS)
}

/// Hold the output of one test run again alone (see [`Skip::again`]) against [`LIMITS`]: its
/// skip if it failed with a listed error again, `None` if it passed.
pub(super) fn judge_again(skip: &Skip, run: &Logged) -> Result<Option<Skip>, String> {
    if run.status.success() {
        return Ok(None);
    }
    let reading = read(&run.output);
    let mut judged = judge_reading(&skip.package, false, &reading, LIMITS)?;
    match judged.skipped.pop() {
        Some(again) if again.test == skip.test => Ok(Some(again)),
        _ => Err(format!(
            "{} ({}) of {}, run again alone, failed with no test failed",
            skip.test, skip.binary, skip.package
        )),
    }
}

impl Skip {
    /// Whether the limitation it met is one any test meets by chance: worth a second run.
    pub(super) fn by_chance(&self) -> bool {
        matches!(self.limit.which, Which::Any)
    }

    /// The arguments of `cargo test -p PACKAGE` that run this test alone, for its binary as
    /// cargo named it (`tests/it/main.rs`: `--test it`); `None` for a doctest.
    pub(super) fn again(&self) -> Option<Vec<String>> {
        let target = match self.binary.as_str() {
            "unittests src/lib.rs" => vec!["--lib".to_owned()],
            binary if binary.starts_with("unittests src/") => vec!["--bins".to_owned()],
            binary => {
                let path = binary.strip_prefix("tests/")?;
                let name = path
                    .strip_suffix("/main.rs")
                    .or_else(|| path.strip_suffix(".rs"))?;
                vec!["--test".to_owned(), name.to_owned()]
            }
        };
        let exact = ["--", "--exact", self.test.as_str()].map(str::to_owned);
        Some(target.into_iter().chain(exact).collect())
    }
}

impl Limit {
    /// Whether this limitation is one the failure of `test` in `binary` of `package` can meet.
    fn covers(&self, package: &str, binary: &str, test: &str) -> bool {
        match self.which {
            Which::Test {
                package: p,
                binary: b,
                name,
            } => p == package && b == binary && name == test,
            Which::Any => true,
        }
    }

    /// The listed test of `package`, if this names one.
    fn named_in(&self, package: &str) -> Option<(&'static str, &'static str)> {
        match self.which {
            Which::Test {
                package: p,
                binary,
                name,
            } if p == package => Some((binary, name)),
            _ => None,
        }
    }
}

fn judge_output(
    package: &str,
    success: bool,
    output: &str,
    limits: &'static [Limit],
) -> Result<Judged, String> {
    judge_reading(package, success, &read(output), limits).and_then(|judged| {
        // The whole suite ran: every test the list names must have.
        let mut problems = Vec::new();
        let mut passed_anyway = Vec::new();
        for (binary, test) in limits.iter().filter_map(|l| l.named_in(package)) {
            let ran = judged.ran.iter().any(|(b, t)| b == binary && t == test);
            let failed = judged
                .skipped
                .iter()
                .any(|s| s.binary == binary && s.test == test);
            if !ran {
                problems.push(format!(
                    "the Wine skip list names {test} in {binary} of {package}, which did not run: \
                     update LIMITS in xtask/src/steps/wine_limits.rs"
                ));
            } else if !failed {
                passed_anyway.push(test);
            }
        }
        if problems.is_empty() {
            Ok(Judged {
                passed_anyway,
                ..judged
            })
        } else {
            Err(format!(
                "under Wine, {package}:\n  {}",
                problems.join("\n  ")
            ))
        }
    })
}

fn judge_reading(
    package: &str,
    success: bool,
    reading: &Reading,
    limits: &'static [Limit],
) -> Result<Judged, String> {
    let mut problems = reading.unexplained.clone();
    let mut skipped = Vec::new();
    for failure in &reading.failures {
        let covering = || {
            limits
                .iter()
                .filter(|l| l.covers(package, &failure.binary, &failure.test))
        };
        let matched = covering().find_map(|limit| {
            let error = limit
                .errors
                .iter()
                .find(|parts| parts.iter().all(|part| failure.output.contains(part)))?;
            Some((limit, *error))
        });
        match matched {
            Some((limit, matched)) => skipped.push(Skip {
                limit,
                package: package.to_owned(),
                binary: failure.binary.clone(),
                test: failure.test.clone(),
                matched,
            }),
            None => {
                let named = covering().any(|l| matches!(l.which, Which::Test { .. }));
                let not_with = if named {
                    ", but not with its Wine error"
                } else {
                    ""
                };
                problems.push(format!(
                    "{} ({}) failed{not_with}: {}",
                    failure.test,
                    failure.binary,
                    first_panic(&failure.output)
                ));
            }
        }
    }
    if !success && reading.failures.is_empty() && problems.is_empty() {
        problems.push("cargo test failed before any test failed (see the output above)".into());
    }
    if !problems.is_empty() {
        return Err(format!(
            "under Wine, {package}:\n  {}",
            problems.join("\n  ")
        ));
    }
    Ok(Judged {
        skipped,
        passed_anyway: Vec::new(),
        ran: reading.ran.clone(),
    })
}

/// Read libtest's pretty output as cargo prints it: `Running BINARY (PATH)` and `Doc-tests
/// CRATE` start a binary; `test NAME ... VERDICT` gives a verdict; `---- NAME stdout ----` starts
/// a failed test's output, which runs to the next such line or the end of its binary (a test's
/// output may hold a child's whole libtest output, so nothing else inside it is read).
fn read(output: &str) -> Reading {
    let mut reading = Reading::default();
    let mut binary = String::new();
    let mut failed_here = 0;
    let mut section: Option<Failure> = None;
    let close = |section: &mut Option<Failure>, reading: &mut Reading| {
        if let Some(failure) = section.take() {
            reading.failures.push(failure);
        }
    };
    for line in output.lines() {
        let trimmed = line.trim_start();
        let new_binary = trimmed
            .strip_prefix("Running ")
            .and_then(|rest| rest.split_once(" ("))
            .map(|(name, _)| name.to_owned())
            .or_else(|| {
                trimmed
                    .strip_prefix("Doc-tests ")
                    .map(|c| format!("doctests {c}"))
            });
        if let Some(name) = new_binary {
            close(&mut section, &mut reading);
            binary = name;
            failed_here = 0;
            continue;
        }
        if line.starts_with("error: test failed") || line.starts_with("error: doctest failed") {
            close(&mut section, &mut reading);
            if failed_here == 0 {
                reading
                    .unexplained
                    .push(format!("{binary} failed without a failed test: {line}"));
            }
            continue;
        }
        if let Some(test) = line
            .strip_prefix("---- ")
            .and_then(|rest| rest.strip_suffix(" stdout ----"))
        {
            close(&mut section, &mut reading);
            section = Some(Failure {
                binary: binary.clone(),
                test: test.to_owned(),
                output: String::new(),
            });
            continue;
        }
        if let Some(failure) = &mut section {
            failure.output.push_str(line);
            failure.output.push('\n');
            continue;
        }
        if let Some((test, verdict)) = line
            .strip_prefix("test ")
            .and_then(|rest| rest.rsplit_once(" ... "))
        {
            reading.ran.push((binary.clone(), test.to_owned()));
            if verdict == "FAILED" {
                failed_here += 1;
            }
            continue;
        }
        if line.starts_with("error") && !is_tally(line) {
            reading.unexplained.push(format!("{binary}: {line}"));
        }
    }
    close(&mut section, &mut reading);
    reading
}

/// cargo's closing `error: 2 targets failed:` (followed by the list of their reruns).
fn is_tally(line: &str) -> bool {
    line.strip_prefix("error: ")
        .and_then(|rest| rest.split_once(' '))
        .is_some_and(|(count, rest)| {
            count.parse::<u32>().is_ok() && rest.starts_with("target") && rest.ends_with("failed:")
        })
}

/// The panic's first line and the line after it (the message), for the step's error.
fn first_panic(output: &str) -> String {
    let mut lines = output.lines().skip_while(|l| !l.contains("panicked at"));
    let at = lines.next().unwrap_or("no panic in its output");
    let message = lines.next().unwrap_or("");
    format!("{} {}", at.trim(), message.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: &[Limit] = &[
        Limit {
            which: Which::Test {
                package: "p",
                binary: "tests/it/main.rs",
                name: "m::slow",
            },
            limitation: "Wine is slow",
            errors: &[&["kind: Deadline"], &["took too long"]],
        },
        Limit {
            which: Which::Any,
            limitation: "Wine refuses a rename",
            errors: &[&["panicked at helpers.rs:", "Access denied"]],
        },
    ];

    /// A run of cargo test with one binary where `m::slow` failed with `error` in its output,
    /// and `m::fine` passed.
    fn run_with(error: &str) -> String {
        format!(
            "   Compiling p v0.1.0\n\
             \x20    Running unittests src/lib.rs (target/x/debug/deps/p-1.exe)\n\n\
             running 1 test\ntest unit ... ok\n\n\
             test result: ok. 1 passed; 0 failed\n\n\
             \x20    Running tests/it/main.rs (target/x/debug/deps/it-2.exe)\n\n\
             running 2 tests\ntest m::fine ... ok\ntest m::slow ... FAILED\n\n\
             failures:\n\n---- m::slow stdout ----\n\
             thread 'm::slow' panicked at tests/it/m.rs:3:4:\n{error}\n\
             child stdout:\nfailures:\ntest m::other ... FAILED\nerror: from the child\n\n\
             failures:\n    m::slow\n\ntest result: FAILED. 1 passed; 1 failed\n\n\
             error: test failed, to rerun pass `-p p --test it`\n\
             \x20  Doc-tests p\n\nrunning 0 tests\n\n\
             error: 1 target failed:\n    `-p p --test it`\n"
        )
    }

    #[test]
    fn a_listed_failure_with_one_of_its_errors_is_a_named_skip() {
        let run = run_with("NativeRootsError { kind: Deadline }");
        let judged = judge_output("p", false, &run, LIST).expect("a named skip");
        let [skip] = &judged.skipped[..] else {
            panic!("one skip")
        };
        assert_eq!(
            (skip.test.as_str(), skip.matched),
            ("m::slow", &["kind: Deadline"][..])
        );
        assert!(judged.passed_anyway.is_empty());
        let run = run_with("it took too long");
        let judged = judge_output("p", false, &run, LIST).expect("a named skip");
        assert_eq!(judged.skipped[0].matched, ["took too long"]);
    }

    #[test]
    fn a_listed_failure_with_another_error_fails() {
        let run = run_with("assertion `left == right` failed");
        let err = judge_output("p", false, &run, LIST)
            .err()
            .expect("a failure");
        assert!(
            err.contains("m::slow (tests/it/main.rs) failed, but not with its Wine error"),
            "{err}"
        );
        assert!(
            err.contains("panicked at tests/it/m.rs:3:4: assertion"),
            "{err}"
        );
    }

    #[test]
    fn an_unlisted_failure_fails() {
        let run = run_with("kind: Deadline");
        let err = judge_output("q", false, &run, LIST)
            .err()
            .expect("a failure");
        assert!(
            err.contains("m::slow (tests/it/main.rs) failed: thread"),
            "{err}"
        );
    }

    #[test]
    fn any_test_meets_a_limit_of_any_test_only_with_every_part_of_its_error() {
        let run = run_with("at helpers.rs: Access denied").replace("m::slow", "m::other");
        let err = judge_output("q", false, &run, LIST)
            .err()
            .expect("a failure");
        assert!(
            err.contains("m::other (tests/it/main.rs) failed: thread"),
            "{err}"
        );
        let run =
            run_with("panicked at helpers.rs:9:1:\nAccess denied").replace("m::slow", "m::other");
        let judged = judge_output("q", false, &run, LIST).expect("a named skip");
        assert_eq!(judged.skipped[0].test, "m::other");
        assert_eq!(judged.skipped[0].limit.limitation, "Wine refuses a rename");
    }

    #[test]
    fn a_binary_that_dies_without_a_verdict_fails() {
        let run = "     Running tests/it/main.rs (target/x/debug/deps/it-2.exe)\n\
                   test m::slow ... ok\n\
                   error: test failed, to rerun pass `-p p --test it`\n\n\
                   Caused by:\n  process didn't exit successfully: (exit code: 0xc0000135)\n";
        let err = judge_output("p", false, run, LIST)
            .err()
            .expect("a failure");
        assert!(
            err.contains("tests/it/main.rs failed without a failed test"),
            "{err}"
        );
    }

    #[test]
    fn a_build_error_fails() {
        let run = "error[E0425]: cannot find value `x` in this scope\n";
        let err = judge_output("q", false, run, LIST)
            .err()
            .expect("a failure");
        assert!(err.contains("error[E0425]"), "{err}");
    }

    #[test]
    fn a_listed_test_that_passes_is_said_and_one_that_is_gone_fails() {
        let run = "     Running tests/it/main.rs (target/x/debug/deps/it-2.exe)\n\
                   test m::slow ... ok\n\ntest result: ok. 1 passed; 0 failed\n";
        let judged = judge_output("p", true, run, LIST).expect("passes");
        assert_eq!(judged.passed_anyway, ["m::slow"]);
        let gone = run.replace("m::slow", "m::renamed");
        let err = judge_output("p", true, &gone, LIST)
            .err()
            .expect("a failure");
        assert!(err.contains("the Wine skip list names m::slow"), "{err}");
    }

    #[test]
    fn a_test_met_by_chance_is_run_again_alone() {
        let run = run_with("panicked at helpers.rs:9:1:\nAccess denied");
        let judged = judge_output("p", false, &run, LIST).expect("a named skip");
        let skip = &judged.skipped[0];
        assert!(skip.by_chance());
        let again = skip.again().expect("a test binary");
        assert_eq!(again, ["--test", "it", "--", "--exact", "m::slow"]);
        let unit = Skip {
            binary: "unittests src/lib.rs".to_owned(),
            ..judged.skipped.into_iter().next().expect("one")
        };
        assert_eq!(unit.again().expect("the lib")[0], "--lib");
    }

    #[test]
    fn the_tally_is_not_an_error_of_its_own() {
        assert!(is_tally("error: 2 targets failed:"));
        assert!(is_tally("error: 1 target failed:"));
        assert!(!is_tally(
            "error: could not compile `p` (lib) due to 1 previous error"
        ));
    }
}
