//! A JSON object writer: enough for one flat-ish report, with correct string escaping.

use std::fmt::Write;

/// A JSON object under construction.
pub(crate) struct Object {
    body: String,
}

impl Object {
    pub(crate) fn new() -> Self {
        Self {
            body: String::new(),
        }
    }

    fn key(&mut self, key: &str) {
        if !self.body.is_empty() {
            self.body.push(',');
        }
        escape_into(&mut self.body, key);
        self.body.push(':');
    }

    pub(crate) fn str(&mut self, key: &str, value: &str) {
        self.key(key);
        escape_into(&mut self.body, value);
    }

    pub(crate) fn opt_str(&mut self, key: &str, value: Option<&str>) {
        match value {
            Some(value) => self.str(key, value),
            None => self.null(key),
        }
    }

    pub(crate) fn num(&mut self, key: &str, value: u64) {
        self.key(key);
        let _ = write!(self.body, "{value}");
    }

    pub(crate) fn float(&mut self, key: &str, value: f64) {
        self.key(key);
        if value.is_finite() {
            let _ = write!(self.body, "{value:.3}");
        } else {
            self.body.push_str("null");
        }
    }

    pub(crate) fn bool(&mut self, key: &str, value: bool) {
        self.key(key);
        self.body.push_str(if value { "true" } else { "false" });
    }

    pub(crate) fn null(&mut self, key: &str) {
        self.key(key);
        self.body.push_str("null");
    }

    pub(crate) fn strs(&mut self, key: &str, values: impl Iterator<Item = String>) {
        self.key(key);
        self.body.push('[');
        for (i, value) in values.enumerate() {
            if i > 0 {
                self.body.push(',');
            }
            escape_into(&mut self.body, &value);
        }
        self.body.push(']');
    }

    pub(crate) fn object(&mut self, key: &str, value: Object) {
        self.key(key);
        self.body.push_str(&value.finish());
    }

    pub(crate) fn objects(&mut self, key: &str, values: impl Iterator<Item = Object>) {
        self.key(key);
        self.body.push('[');
        for (i, value) in values.enumerate() {
            if i > 0 {
                self.body.push(',');
            }
            self.body.push_str(&value.finish());
        }
        self.body.push(']');
    }

    pub(crate) fn finish(self) -> String {
        format!("{{{}}}", self.body)
    }
}

fn escape_into(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}
