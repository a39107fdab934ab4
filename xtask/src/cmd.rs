//! A command that prints itself exactly as a user would type it to rerun it, then runs with the
//! terminal attached, and turns a non-zero exit into an error message that names it.

use std::ffi::OsString;
use std::fmt;
use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::workspace;

#[derive(Clone)]
pub(crate) struct Cmd {
    program: OsString,
    /// What the user types instead of `program` (`cargo`, not the full path in `$CARGO`).
    shown_as: String,
    args: Vec<String>,
    envs: Vec<(String, String)>,
    /// Variables removed from the environment it inherits.
    removed: Vec<String>,
}

/// How a command run with [`Cmd::run_logged`] ended, and all it printed.
pub(crate) struct Logged {
    pub(crate) status: ExitStatus,
    /// Its standard output and standard error, interleaved as written.
    pub(crate) output: String,
}

impl Cmd {
    pub(crate) fn new(program: impl Into<OsString>, shown_as: &str) -> Self {
        Self {
            program: program.into(),
            shown_as: shown_as.to_owned(),
            args: Vec::new(),
            envs: Vec::new(),
            removed: Vec::new(),
        }
    }

    /// The cargo that started the xtask, so that every step uses the same toolchain.
    pub(crate) fn cargo() -> Self {
        Self::new(
            std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()),
            "cargo",
        )
    }

    /// `cargo +TOOLCHAIN`: through the rustup proxy on `PATH`, because `$CARGO` is the binary of
    /// one toolchain and does not understand `+TOOLCHAIN`.
    pub(crate) fn cargo_with(toolchain: &str) -> Self {
        Self::new("cargo", "cargo").arg(&format!("+{toolchain}"))
    }

    pub(crate) fn arg(mut self, arg: &str) -> Self {
        self.args.push(arg.to_owned());
        self
    }

    pub(crate) fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(|arg| (*arg).to_owned()));
        self
    }

    pub(crate) fn env(mut self, key: &str, value: &str) -> Self {
        self.envs.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Remove `key` from the environment the command inherits.
    pub(crate) fn env_remove(mut self, key: &str) -> Self {
        self.removed.push(key.to_owned());
        self
    }

    fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command.args(&self.args).current_dir(workspace::root());
        for key in &self.removed {
            command.env_remove(key);
        }
        command.envs(self.envs.iter().map(|(key, value)| (key, value)));
        command
    }

    /// Print the command, run it with the terminal attached, and fail if it fails.
    pub(crate) fn run(&self) -> Result<(), String> {
        println!("$ {self}");
        match self.command().status() {
            Ok(status) if status.success() => Ok(()),
            Ok(status) => Err(format!("`{self}` exited with {status}")),
            Err(err) => Err(format!("could not start `{self}`: {err}")),
        }
    }

    /// Like [`Cmd::run`], but kill the command and fail once `limit` has passed.
    pub(crate) fn run_for_at_most(&self, limit: Duration) -> Result<(), String> {
        println!("$ {self}");
        let mut child = self
            .command()
            .spawn()
            .map_err(|err| format!("could not start `{self}`: {err}"))?;
        let started = Instant::now();
        loop {
            match child.try_wait() {
                Ok(Some(status)) if status.success() => return Ok(()),
                Ok(Some(status)) => return Err(format!("`{self}` exited with {status}")),
                Ok(None) if started.elapsed() < limit => thread::sleep(Duration::from_millis(200)),
                Ok(None) => {
                    // Already exited is the only way this kill can fail; either way it is over.
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!(
                        "`{self}` did not finish within {}s",
                        limit.as_secs()
                    ));
                }
                Err(err) => return Err(format!("could not wait for `{self}`: {err}")),
            }
        }
    }

    /// Print the command and run it with its standard output and error written to `log` and
    /// copied to the terminal as they come; kill it and fail once `limit` has passed. A non-zero
    /// exit is not an error here: the caller reads the output to judge it.
    ///
    /// A file, not a pipe: a program that outlives the command (Wine's services, started by the
    /// first Windows program) may keep its output open, and a pipe would then never end.
    pub(crate) fn run_logged(&self, log: &Path, limit: Duration) -> Result<Logged, String> {
        println!("$ {self}");
        println!("  (the output is also in {})", workspace::shown(log));
        let shown = |err: std::io::Error| format!("{}: {err}", log.display());
        let file = File::create(log).map_err(shown)?;
        let mut child = self
            .command()
            .stdin(Stdio::null())
            .stdout(file.try_clone().map_err(shown)?)
            .stderr(file)
            .spawn()
            .map_err(|err| format!("could not start `{self}`: {err}"))?;
        let mut reader = File::open(log).map_err(shown)?;
        let mut output = Vec::new();
        let mut copy = |output: &mut Vec<u8>| {
            let start = output.len();
            // A read error only stops the copy to the terminal; the log file keeps everything.
            let _ = reader.read_to_end(output);
            let mut terminal = std::io::stdout().lock();
            let _ = terminal.write_all(&output[start..]);
            let _ = terminal.flush();
        };
        let started = Instant::now();
        let status = loop {
            copy(&mut output);
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if started.elapsed() < limit => thread::sleep(Duration::from_millis(200)),
                Ok(None) => {
                    // Already exited is the only way this kill can fail; either way it is over.
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!(
                        "`{self}` did not finish within {}s (its output: {})",
                        limit.as_secs(),
                        workspace::shown(log)
                    ));
                }
                Err(err) => return Err(format!("could not wait for `{self}`: {err}")),
            }
        };
        copy(&mut output);
        Ok(Logged {
            status,
            output: String::from_utf8_lossy(&output).into_owned(),
        })
    }

    /// Run it once with no input or output and return how long it took, from its start to its
    /// exit, and how it ended: a figure of a whole process.
    pub(crate) fn time(&self) -> Result<(Duration, ExitStatus), String> {
        let mut command = self.command();
        command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let started = Instant::now();
        let status = command
            .status()
            .map_err(|err| format!("could not start `{self}`: {err}"))?;
        Ok((started.elapsed(), status))
    }

    /// Run it silently and return its standard output, for questions such as "is it installed?";
    /// on failure, the error is its first `error` line on standard error.
    pub(crate) fn read(&self) -> Result<String, String> {
        let output = self
            .command()
            .stdin(Stdio::null())
            .output()
            .map_err(|err| format!("could not start `{self}`: {err}"))?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        } else {
            let stderr = String::from_utf8_lossy(&output.stderr);
            // The error itself, not the progress lines (`info: ...`) before it.
            let mut lines = stderr
                .lines()
                .map(str::trim)
                .filter(|line| !line.is_empty());
            let reason = lines
                .clone()
                .find(|line| line.starts_with("error"))
                .or_else(|| lines.next())
                .unwrap_or("no output");
            Err(format!(
                "`{self}` exited with {}: {}",
                output.status,
                reason.trim()
            ))
        }
    }
}

impl fmt::Display for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.removed.is_empty() {
            f.write_str("env")?;
            for key in &self.removed {
                write!(f, " -u {key}")?;
            }
            f.write_str(" ")?;
        }
        for (key, value) in &self.envs {
            write!(f, "{key}={} ", quoted(value))?;
        }
        f.write_str(&self.shown_as)?;
        for arg in &self.args {
            write!(f, " {}", quoted(arg))?;
        }
        Ok(())
    }
}

fn quoted(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_+=./:@,".contains(c))
    {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}
