//! One criterion result, read from the two files criterion writes for it under
//! `<group>/<bench>/new/`: `benchmark.json` (its id) and `estimates.json` (its statistics).

use std::fs;
use std::path::Path;

use serde::Deserialize;
use serde::de::DeserializeOwned;

/// A benchmark's median time and the confidence interval of that median, in nanoseconds.
pub(crate) struct Figure {
    pub(crate) median: f64,
    pub(crate) low: f64,
    pub(crate) high: f64,
}

/// The part of `benchmark.json` used here.
#[derive(Deserialize)]
struct Benchmark {
    /// `group/function`, as criterion prints it.
    full_id: String,
}

/// The part of `estimates.json` used here (it also holds the mean, the slope, and so on).
#[derive(Deserialize)]
struct Estimates {
    median: Estimate,
}

#[derive(Deserialize)]
struct Estimate {
    point_estimate: f64,
    confidence_interval: ConfidenceInterval,
}

#[derive(Deserialize)]
struct ConfidenceInterval {
    lower_bound: f64,
    upper_bound: f64,
}

/// The full id and the median of the result in `dir` (a `new/` directory).
pub(crate) fn read(dir: &Path) -> Result<(String, Figure), String> {
    let benchmark: Benchmark = read_json(&dir.join("benchmark.json"))?;
    let estimates: Estimates = read_json(&dir.join("estimates.json"))?;
    Ok((benchmark.full_id, figure(estimates)))
}

fn figure(estimates: Estimates) -> Figure {
    let median = estimates.median;
    Figure {
        median: median.point_estimate,
        low: median.confidence_interval.lower_bound,
        high: median.confidence_interval.upper_bound,
    }
}

fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, String> {
    let text = fs::read_to_string(path).map_err(|err| format!("{}: {err}", path.display()))?;
    serde_json::from_str(&text).map_err(|err| format!("{}: {err}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_criterion_shapes() {
        let bench: Benchmark = serde_json::from_str(
            r#"{"group_id":"cached_read","function_id":"Arc::clone \"x\" (baseline)","value_str":null,"throughput":null,"full_id":"a\u002fb","directory_name":"a/b","title":"a/b"}"#,
        )
        .expect("a benchmark.json");
        assert_eq!(bench.full_id, "a/b");
        let estimates: Estimates = serde_json::from_str(
            r#"{"mean":{"confidence_interval":{"confidence_level":0.95,"lower_bound":8.0,"upper_bound":10.0},"point_estimate":9.0,"standard_error":0.1},
                "median":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1.5,"upper_bound":2.5e1},"point_estimate":2.0,"standard_error":0.2},
                "median_abs_dev":{"confidence_interval":{"confidence_level":0.95,"lower_bound":0.1,"upper_bound":0.3},"point_estimate":0.2,"standard_error":0.01},
                "slope":null,"std_dev":{"confidence_interval":{"confidence_level":0.95,"lower_bound":0.1,"upper_bound":0.3},"point_estimate":0.2,"standard_error":0.01}}"#,
        )
        .expect("an estimates.json");
        let figure = figure(estimates);
        assert_eq!((figure.median, figure.low, figure.high), (2.0, 1.5, 25.0));
    }
}
