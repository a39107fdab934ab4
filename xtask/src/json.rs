//! Just enough JSON reading for criterion's `benchmark.json` and `estimates.json`: a string or a
//! number under a key, found by position (the xtask stays free of dependencies).

/// The string value of the first `"key":` in `text`.
pub(crate) fn string(text: &str, key: &str) -> Option<String> {
    let rest = after_key(text, key)?.strip_prefix('"')?;
    let mut value = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(value),
            '\\' => match chars.next()? {
                'n' => value.push('\n'),
                't' => value.push('\t'),
                'u' => {
                    let hex: String = chars.by_ref().take(4).collect();
                    value.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                }
                other => value.push(other),
            },
            c => value.push(c),
        }
    }
    None
}

/// The number value of the first `"key":` in `text`.
pub(crate) fn number(text: &str, key: &str) -> Option<f64> {
    let rest = after_key(text, key)?;
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || "+-.eE".contains(c)))
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// The text after `"key":` and any spaces; nested objects are searched in document order.
pub(crate) fn after_key<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let needle = format!("\"{key}\"");
    let at = text.find(&needle)? + needle.len();
    Some(text[at..].trim_start().strip_prefix(':')?.trim_start())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_criterion_shapes() {
        let bench = r#"{"group_id":"cached_read","function_id":"Arc::clone \"x\" (baseline)","full_id":"a\u002fb"}"#;
        assert_eq!(
            string(bench, "function_id").as_deref(),
            Some("Arc::clone \"x\" (baseline)")
        );
        assert_eq!(string(bench, "full_id").as_deref(), Some("a/b"));
        let estimates = r#"{"mean":{"point_estimate":9.0},"median":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1.5,"upper_bound":2.5e1},"point_estimate":2.0}}"#;
        let median = after_key(estimates, "median").expect("a median");
        assert_eq!(number(median, "lower_bound"), Some(1.5));
        assert_eq!(number(median, "upper_bound"), Some(25.0));
        assert_eq!(number(median, "point_estimate"), Some(2.0));
        assert_eq!(number(estimates, "missing"), None);
    }
}
