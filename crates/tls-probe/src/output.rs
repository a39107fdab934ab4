//! Writing to stdout without panicking when the reader has gone (`tls-probe store | head`).

use std::error::Error;
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

/// Each `source()` under `err`, outermost first: the causes an operator reads under its one-line
/// `Display` (the libraries keep each `Display` short and carry the cause as a source).
pub(crate) fn causes(err: &(dyn Error + 'static)) -> Vec<String> {
    std::iter::successors(err.source(), |&cause| cause.source())
        .map(ToString::to_string)
        .collect()
}

/// An error taken apart (its one-line `message`, its [`causes`], its `hint`) as a warning or a
/// failure line prints it: the message, then a `  caused by: ...` line for each cause and a
/// `  hint: ...` line for `hint`.
pub(crate) fn explained_lines(message: &str, causes: &[String], hint: Option<&str>) -> String {
    let mut text = message.to_owned();
    for cause in causes {
        text.push_str("\n  caused by: ");
        text.push_str(cause);
    }
    if let Some(hint) = hint {
        text.push_str("\n  hint: ");
        text.push_str(hint);
    }
    text
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tls_client_builder::{ClientConfigCache, Trust, UpstreamTls};

    use super::*;

    #[test]
    fn an_error_is_its_line_then_its_causes_then_the_hint() {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let unusable_anchor = UpstreamTls::builder(Trust::AnchorsOnly)
            .extra_anchor_der(vec![0x30, 0x03, 0x02, 0x01, 0x00])
            .build();
        let err = ClientConfigCache::with_provider(provider)
            .get(&unusable_anchor)
            .expect_err("the anchor is unusable");
        let cause = err.source().map(ToString::to_string).unwrap_or_default();
        assert_eq!(causes(&err), std::slice::from_ref(&cause));
        assert_eq!(
            explained_lines(&err.to_string(), &causes(&err), Some(err.advice())),
            format!(
                "extra trust anchor #0 is unusable\n  caused by: {cause}\n  hint: {}",
                err.advice()
            )
        );
    }
}
