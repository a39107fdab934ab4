//! Helpers of the integration tests: the crate's shared test support (fixture roots, a scripted
//! source, rcgen CAs, scratch files), plus what only integration tests need (a clean environment,
//! child processes).
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

#[path = "../../src/test_support.rs"]
mod shared;
#[allow(unused_imports)]
pub use shared::*;

/// Forget the machine's `SSL_CERT_FILE`/`SSL_CERT_DIR`: each test sets exactly what it means.
/// Call it first, before any other thread exists in the test binary.
pub fn clear_cert_env() {
    std::env::remove_var("SSL_CERT_FILE");
    std::env::remove_var("SSL_CERT_DIR");
}

/// How a re-executed copy of this test binary ended and what it printed.
pub struct ChildRun {
    /// Its exit status.
    pub status: std::process::ExitStatus,
    /// Everything it wrote to stdout.
    pub stdout: String,
    /// Everything it wrote to stderr.
    pub stderr: String,
}

/// Start this test binary again, running only the test `runner`, with `SSL_CERT_FILE` and
/// `SSL_CERT_DIR` removed and then `env` set: the child's process-wide cache sees exactly the
/// environment of its case. With `gated`, its stdin is a pipe the runner can wait on, so that a
/// parent can release many children at once by closing their stdin.
pub fn spawn_runner(
    runner: &str,
    env: &[(&str, &std::ffi::OsStr)],
    gated: bool,
) -> std::process::Child {
    use std::process::{Command, Stdio};
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            runner,
            "--exact",
            "--nocapture",
            "--test-threads=1",
            "--quiet",
        ])
        .env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR")
        .stdin(if gated { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    command.spawn().unwrap()
}

/// Wait for `child` at most `limit`; a child still running then is killed and reported as a hang.
///
/// Its output is drained on two threads while it runs, so a chatty child cannot block on a full
/// pipe.
pub fn wait_bounded(
    mut child: std::process::Child,
    limit: std::time::Duration,
) -> Result<ChildRun, String> {
    use std::io::Read;
    fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<String> {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            String::from_utf8_lossy(&bytes).into_owned()
        })
    }
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "child {} still running after {limit:?}: a hang; killed it.\nstdout:\n{}\nstderr:\n{}",
                child.id(),
                stdout.join().unwrap_or_default(),
                stderr.join().unwrap_or_default(),
            ));
        }
        // A poll interval, not a correctness wait: the outcome is read from the exit status.
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    Ok(ChildRun {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    })
}
