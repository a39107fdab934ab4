//! A test binary re-run as a child, for what is per process: the environment variables a
//! process-wide store reads once, and that store's first load. The parent gives the child its
//! environment (`Command::env`), never its own (`set_var` is for a process with one thread).

use std::ffi::OsString;
use std::path::Path;
use std::time::Duration;

/// Set in every child [`spawn_runner`] starts.
const CHILD: &str = "TEST_PKI_CHILD";

/// How long a child of [`alone`] may run before it counts as a hang.
const CHILD_LIMIT: Duration = Duration::from_secs(60);
/// The same under Wine, five times longer: every file call of a Windows program goes through
/// Wine's server, so `writers::a_directory_filled_just_now_loads_in_one_call` (20,000 files
/// written, then read by the load) took about two minutes there on two busy cores, where it takes
/// seconds on Linux. A child that hangs still fails, later.
const CHILD_LIMIT_UNDER_WINE: Duration = Duration::from_secs(300);

/// The limit of a child of [`alone`] in this process.
fn child_limit() -> Duration {
    // Wine's loader sets WINECONFIGDIR (its prefix) in the environment of every program it runs;
    // Windows never does. `cargo xtask ci --only windows` runs the Windows tests under Wine.
    if cfg!(windows) && std::env::var_os("WINECONFIGDIR").is_some() {
        CHILD_LIMIT_UNDER_WINE
    } else {
        CHILD_LIMIT
    }
}

/// Run the calling test, `test`, alone in a child: `true` there, where its body is to run.
///
/// In the parent, `env` is given a fresh scratch directory and returns the variables to set (on top
/// of `SSL_CERT_FILE` and `SSL_CERT_DIR` removed), typically paths in that directory; the child
/// must pass within a minute, five under Wine (killed then, and failed as a hang), and the parent
/// gets `false`.
pub fn alone(test: &str, env: impl FnOnce(&Path) -> Vec<(&'static str, OsString)>) -> bool {
    if std::env::var_os(CHILD).is_some() {
        return true;
    }
    // A test's path (`module::name`) would put `:` in the directory's name, which separates
    // the directories of `SSL_CERT_DIR`.
    let dir = crate::scratch_dir(&test.replace("::", "-"));
    let env = env(&dir);
    let env: Vec<_> = env
        .iter()
        .map(|(key, value)| (*key, value.as_os_str()))
        .collect();
    let run = wait_bounded(spawn_runner(test, &env, false), child_limit());
    let run = run.unwrap_or_else(|hang| panic!("{test}: {hang}"));
    // The child's harness ran exactly this test, and it passed.
    let why = format!("{test}: {}\n{}\n{}", run.status, run.stdout, run.stderr);
    assert!(run.stdout.contains(" 1 passed;"), "{why}");
    false
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

/// Start this test binary again, running only the test `runner` (ignored or not), with
/// `SSL_CERT_FILE` and `SSL_CERT_DIR` removed and then `env` set: the child's process-wide cache
/// sees exactly the environment of its case. With `gated`, its stdin is a pipe the runner can
/// wait on, so that a parent can release many children at once by closing their stdin.
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
            "--include-ignored",
        ])
        .env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR")
        .env(CHILD, "1")
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

/// For a benchmark of the platform store: with `SSL_CERT_FILE` or `SSL_CERT_DIR` set (as this
/// shell may set them), run this program again as a child without them and end as it ends; with
/// neither set, return. The process-wide store reads them once, so they cannot be cleared later,
/// and clearing them in-process (`remove_var`) is for a process with one thread.
pub fn rerun_without_cert_variables() {
    if ["SSL_CERT_FILE", "SSL_CERT_DIR"]
        .iter()
        .all(|var| std::env::var_os(var).is_none())
    {
        return;
    }
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(std::env::args_os().skip(1))
        .env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR")
        .status()
        .unwrap();
    std::process::exit(status.code().unwrap_or(1));
}
