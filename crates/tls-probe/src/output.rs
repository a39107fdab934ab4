//! Writing to stdout without panicking when the reader has gone (`tls-probe store | head`).

use std::fmt::Display;
use std::io::{self, Write};

use serde::Serialize;

/// Print `value`'s text form.
pub(crate) fn text(value: &impl Display) {
    let _gone = write(&value.to_string());
}

/// Print `value` as one line of JSON.
pub(crate) fn json(value: &impl Serialize) {
    let _gone = json_line(value);
}

/// Print `value` as one line of JSON; an error when stdout is closed.
pub(crate) fn json_line(value: &impl Serialize) -> io::Result<()> {
    let mut line = serde_json::to_string(value).map_err(io::Error::other)?;
    line.push('\n');
    write(&line)
}

/// Print `text` as it is; an error when stdout is closed.
pub(crate) fn write(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// `1 anchor`, `2 anchors`.
pub(crate) fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// An error and every `source()` under it, joined with `: `, as an operator reads it (the
/// libraries keep each `Display` short and carry the cause as a source).
pub(crate) fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
