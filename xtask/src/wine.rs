//! Wine, made ready to run what cargo builds for `x86_64-pc-windows-gnu`: the `windows` step's
//! tests and `cargo xtask bench --wine`'s figure.
//!
//! - Installed where it can be: the rustup target, and on a Debian-like Linux as root
//!   `apt-get install -y wine64 gcc-mingw-w64-x86-64` (ring's build script needs the mingw
//!   compiler, and so does the shim below). Elsewhere a missing piece is a skip with its reason.
//! - A prefix of its own, `target/wine/prefix` (never the user's `~/.wine`), made again when the
//!   installed Wine changes.
//! - `bcryptprimitives.dll` from `xtask/wine/process_prng.c` only when this Wine has none of its
//!   own (the source says why it exists).
//! - Wine's server started persistent with the prefix's services, their output going nowhere, and
//!   stopped when the [`Wine`] value is dropped: a test that captures a child's output must not
//!   find a Wine service holding its pipe open, and nothing is left running after the step.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cmd::Cmd;
use crate::{tools, workspace};

/// The Windows target Wine runs: the one whose C code (ring) the mingw compiler builds.
pub(crate) const TARGET: &str = "x86_64-pc-windows-gnu";
/// The runner cargo uses for that target's tests and `cargo run`.
const RUNNER_VAR: &str = "CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER";
const MINGW_GCC: &str = "x86_64-w64-mingw32-gcc";
/// Debian's packages of both (Wine 8.0 and mingw gcc 12 on Debian 12).
const APT_PACKAGES: [&str; 2] = ["wine64", "gcc-mingw-w64-x86-64"];
const SHIM_SOURCE: &str = "xtask/wine/process_prng.c";
/// In the prefix: the Wine that made it, and whether the DLL in `system32` is the shim.
const MADE_BY: &str = "xtask-wine-version";
const SHIM_MARKER: &str = "xtask-process-prng-shim";
/// Making a prefix takes ~15 s on two cores; this bounds a Wine that hangs.
const BOOT_LIMIT: Duration = Duration::from_secs(300);

/// Wine with its prefix ready and its server running; the server stops when this is dropped.
pub(crate) struct Wine {
    prefix: PathBuf,
    /// As `wine --version` says it: `wine-8.0 (Debian 8.0~repack-4)`.
    pub(crate) version: String,
    /// Whether the prefix has our `ProcessPrng` shim (this Wine has no `bcryptprimitives.dll`).
    pub(crate) shim: bool,
}

/// Why Wine cannot run here: the step is skipped with this reason.
pub(crate) struct Unavailable(pub(crate) String);

/// Get everything Wine needs, make the prefix and start the server. `Ok(Err(_))`: not possible on
/// this machine (a skip); `Err(_)`: a failure (a shim that does not build, a prefix Wine cannot
/// make).
pub(crate) fn start() -> Result<Result<Wine, Unavailable>, String> {
    if !cfg!(target_os = "linux") {
        return Ok(Err(Unavailable(
            "the Windows tests run under Wine on Linux only (on Windows, the `test` step runs \
             them natively)"
                .to_owned(),
        )));
    }
    // Wine first: where it cannot be had, the target is not worth downloading.
    if let Err(why) = ensure_installed() {
        return Ok(Err(Unavailable(why)));
    }
    if let Some((target, why)) = tools::ensure_targets(&[TARGET]).pop() {
        return Ok(Err(Unavailable(format!(
            "no rustup target {target}: {why}"
        ))));
    }
    let version = plain("wine")
        .arg("--version")
        .read()
        .map_err(|err| format!("Wine is installed but does not run: {err}"))?
        .trim()
        .to_owned();
    let prefix = workspace::target_dir().join("wine").join("prefix");
    let mut wine = Wine {
        prefix,
        version,
        shim: false,
    };
    wine.make_prefix()?;
    Ok(Ok(wine))
}

/// `program` with Wine's quiet settings but no prefix: for `--version`.
fn plain(program: &str) -> Cmd {
    Cmd::new(program, program).env("WINEDEBUG", "-all")
}

fn have(program: &str) -> bool {
    plain(program).arg("--version").read().is_ok()
}

/// Wine and the mingw compiler, installed with apt-get when missing and this is a Debian-like
/// system run as root.
fn ensure_installed() -> Result<(), String> {
    let missing_now = || -> String {
        let missing: Vec<&str> = ["wine", "wineserver", MINGW_GCC]
            .into_iter()
            .filter(|program| !have(program))
            .collect();
        missing.join(", ")
    };
    let missing = missing_now();
    if missing.is_empty() {
        return Ok(());
    }
    let by_hand = format!(
        "{missing} not found: install Wine and the mingw-w64 compiler (Debian and Ubuntu: \
         `apt-get install wine64 gcc-mingw-w64-x86-64`)"
    );
    if Cmd::new("apt-get", "apt-get")
        .arg("--version")
        .read()
        .is_err()
    {
        return Err(format!("{by_hand}; this system has no apt-get"));
    }
    let root = Cmd::new("id", "id")
        .arg("-u")
        .read()
        .is_ok_and(|uid| uid.trim() == "0");
    if !root {
        return Err(format!("{by_hand}; apt-get needs root"));
    }
    let install = Cmd::new("apt-get", "apt-get")
        .env("DEBIAN_FRONTEND", "noninteractive")
        .args(&["install", "-y"])
        .args(&APT_PACKAGES);
    if install.run().is_err() {
        // A fresh system may have no package lists yet.
        let update = Cmd::new("apt-get", "apt-get").arg("update").run();
        if let Err(err) = update.and_then(|()| install.run()) {
            return Err(format!("{by_hand}; {err}"));
        }
    }
    match missing_now() {
        still if still.is_empty() => Ok(()),
        still => Err(format!(
            "{still} not found after `{install}`: is the directory of Wine's programs on PATH?"
        )),
    }
}

impl Wine {
    /// `program` run with this prefix, quiet, with no Mono or Gecko installer (nothing here needs
    /// .NET or MSHTML, and Wine would offer to download them).
    pub(crate) fn cmd(&self, program: &str) -> Cmd {
        self.with_env(Cmd::new(program, program))
    }

    /// `cargo` with Wine as the runner of the Windows target, and without `SSL_CERT_FILE` and
    /// `SSL_CERT_DIR`: the platform store is the Windows store, as on a Windows machine where
    /// they are unset (the tests that set them do so themselves).
    pub(crate) fn cargo(&self) -> Cmd {
        self.with_env(Cmd::cargo())
            .env(RUNNER_VAR, "wine")
            .env_remove("SSL_CERT_FILE")
            .env_remove("SSL_CERT_DIR")
    }

    /// A Windows program built by cargo (`path` as cargo put it), run under Wine without
    /// `SSL_CERT_FILE` and `SSL_CERT_DIR`.
    pub(crate) fn program(&self, path: &Path) -> Cmd {
        self.cmd("wine")
            .arg(&workspace::shown(path))
            .env_remove("SSL_CERT_FILE")
            .env_remove("SSL_CERT_DIR")
    }

    fn with_env(&self, cmd: Cmd) -> Cmd {
        cmd.env("WINEPREFIX", &self.prefix.to_string_lossy())
            .env("WINEDEBUG", "-all")
            .env("WINEDLLOVERRIDES", "mscoree,mshtml=")
    }

    /// The major version, for labels: `8` of `wine-8.0 (Debian 8.0~repack-4)`.
    pub(crate) fn major(&self) -> &str {
        let number = self.version.strip_prefix("wine-").unwrap_or(&self.version);
        number.split(['.', ' ']).next().unwrap_or(number)
    }

    /// Where cargo puts what it builds for the Windows target in `profile` (`debug`, `release`).
    pub(crate) fn target_dir(profile: &str) -> PathBuf {
        workspace::target_dir().join(TARGET).join(profile)
    }

    fn log(&self, name: &str) -> PathBuf {
        self.prefix.with_file_name(name)
    }

    /// Make the prefix if it is missing or was made by another Wine, start the server, and put
    /// the shim in place if this Wine needs it.
    fn make_prefix(&mut self) -> Result<(), String> {
        // A server of this prefix left by an interrupted run would hold the old prefix and refuse
        // a new server.
        self.stop_server();
        let made_by = fs::read_to_string(self.prefix.join(MADE_BY)).ok();
        let fresh = made_by.as_deref() != Some(self.version.as_str());
        if fresh && self.prefix.exists() {
            println!(
                "removing {} (made by {}, not {})",
                workspace::shown(&self.prefix),
                made_by.as_deref().unwrap_or("an unfinished run"),
                self.version
            );
            fs::remove_dir_all(&self.prefix)
                .map_err(|err| format!("could not remove {}: {err}", self.prefix.display()))?;
        }
        fs::create_dir_all(&self.prefix)
            .map_err(|err| format!("could not create {}: {err}", self.prefix.display()))?;
        // Persistent until `wineserver -k` on drop: one server for every program of the step,
        // instead of one started (and its services booted) for each test binary.
        let server = self
            .cmd("wineserver")
            .arg("-p")
            .run_logged(&self.log("wineserver.log"), BOOT_LIMIT)?;
        if !server.status.success() {
            return Err(format!("`wineserver -p` exited with {}", server.status));
        }
        // Makes the prefix (or updates it, if Wine's files changed) and starts its services, with
        // their output in a file.
        let mut boot = self.cmd("wineboot");
        if fresh {
            boot = boot.arg("--init");
        }
        let boot = boot.run_logged(&self.log("wineboot.log"), BOOT_LIMIT)?;
        if !boot.status.success() {
            return Err(format!("`wineboot` exited with {}", boot.status));
        }
        let system32 = self.prefix.join("drive_c/windows/system32");
        let dll = system32.join("bcryptprimitives.dll");
        let ours = self.prefix.join(SHIM_MARKER).exists();
        if dll.exists() && !ours {
            println!("{} has its own bcryptprimitives.dll: no shim", self.version);
        } else {
            self.install_shim(&dll)?;
        }
        if fresh {
            fs::write(self.prefix.join(MADE_BY), &self.version)
                .map_err(|err| format!("{}: {err}", self.prefix.display()))?;
        }
        Ok(())
    }

    /// Build the shim with the mingw compiler (always: it takes a second, and so it never lags
    /// behind its source) and copy it into the prefix's `system32`.
    fn install_shim(&mut self, dll: &Path) -> Result<(), String> {
        println!(
            "{} has no bcryptprimitives.dll, which Rust's standard library needs: the shim \
             from {SHIM_SOURCE}",
            self.version
        );
        let built = self.log("bcryptprimitives.dll");
        let source = workspace::root().join(SHIM_SOURCE);
        Cmd::new(MINGW_GCC, MINGW_GCC)
            .args(&["-shared", "-O2", "-s", "-o"])
            .arg(&workspace::shown(&built))
            .arg(&workspace::shown(&source))
            .arg("-ladvapi32")
            .run()?;
        fs::copy(&built, dll)
            .map_err(|err| format!("could not copy the shim to {}: {err}", dll.display()))?;
        fs::write(self.prefix.join(SHIM_MARKER), "")
            .map_err(|err| format!("{}: {err}", self.prefix.display()))?;
        self.shim = true;
        Ok(())
    }
}

impl Wine {
    /// Stop this prefix's server, and with it every Windows program of the prefix still running
    /// (a test binary left behind by a timeout, the prefix's services). None running is fine.
    fn stop_server(&self) {
        let stop = self
            .cmd("wineserver")
            .arg("-k")
            .run_logged(&self.log("wineserver-stop.log"), Duration::from_secs(60));
        if let Err(err) = stop {
            eprintln!("warning: Wine's server may still run: {err}");
        }
    }
}

impl Drop for Wine {
    fn drop(&mut self) {
        self.stop_server();
    }
}
