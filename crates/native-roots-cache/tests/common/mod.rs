//! Helpers shared by the integration tests: certificates from rcgen, bundles on disk, a clean
//! environment.
#![allow(dead_code, clippy::unwrap_used, unreachable_pub)]

use std::path::PathBuf;

/// A self-signed CA certificate named `name`, as PEM.
pub fn ca_pem(name: &str) -> String {
    TestCa::new(name).cert.pem()
}

/// A well-formed PEM block whose DER (`SEQUENCE { INTEGER 0 }`) is not a certificate.
pub const UNPARSABLE_CERT_PEM: &str =
    "-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----\n";

/// A fresh, empty directory private to this test process.
pub fn fresh_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("native-roots-cache-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Date `path`'s modification an hour back: a file nobody is writing, as opposed to one written
/// a moment ago (which the reader takes for one that may still be being rewritten).
pub fn settle(path: &std::path::Path) {
    let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(path)
        .and_then(|file| file.set_modified(hour_ago))
        .unwrap();
}

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

/// A CA certificate and its key, to issue leaves from.
pub struct TestCa {
    /// The self-signed CA certificate.
    pub cert: rcgen::Certificate,
    /// Its key.
    pub key: rcgen::KeyPair,
}

impl TestCa {
    /// A fresh self-signed CA named `name`.
    pub fn new(name: &str) -> Self {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let cert = params.self_signed(&key).unwrap();
        Self { cert, key }
    }

    /// A leaf certificate for `names` issued by this CA, and the leaf's key.
    pub fn issue(&self, names: &[&str]) -> (rcgen::Certificate, rcgen::KeyPair) {
        let key = rcgen::KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let params = rcgen::CertificateParams::new(names).unwrap();
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        (cert, key)
    }
}

/// A fresh directory (see [`fresh_dir`]) removed with everything in it when dropped.
pub struct ScratchDir(PathBuf);

/// A fresh, empty directory private to this test process, removed when the value is dropped.
pub fn scratch_dir(tag: &str) -> ScratchDir {
    ScratchDir(fresh_dir(tag))
}

impl std::ops::Deref for ScratchDir {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl AsRef<std::path::Path> for ScratchDir {
    fn as_ref(&self) -> &std::path::Path {
        &self.0
    }
}

impl AsRef<std::ffi::OsStr> for ScratchDir {
    fn as_ref(&self) -> &std::ffi::OsStr {
        self.0.as_os_str()
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
