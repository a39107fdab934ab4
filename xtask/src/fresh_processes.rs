//! The first load in fresh processes, timed from outside: the `first-load` example of
//! native-roots-cache run as `ours` (`native_roots()`), `baseline` (rustls-native-certs'
//! `load_native_certs` into a `RootCertStore`) and `none` (a process that loads nothing: what
//! starting one costs), each many times, taken in turn. Used by `cargo xtask bench` (this
//! machine's store) and `cargo xtask bench --wine` (the Windows store under Wine).

use std::path::Path;
use std::time::Duration;

use crate::cmd::Cmd;

/// The three processes, in the order of the tables: the argument and what it does.
pub(crate) const WAYS: [(&str, &str); 3] = [
    ("ours", "`first-load ours`: `native_roots()`"),
    (
        "baseline",
        "`first-load baseline`: `load_native_certs` into a `RootCertStore`",
    ),
    (
        "none",
        "a process that loads nothing (`first-load` refusing an unknown argument)",
    ),
];
const PROGRAM_LIMIT: Duration = Duration::from_secs(60);

/// The anchors both ways load (`first-load` prints `145 anchors`); an error when they differ,
/// since the comparison would then mean nothing. `way(name)` is the command of one way; each
/// run's output goes to `log`.
pub(crate) fn same_anchors(way: impl Fn(&str) -> Cmd, log: &Path) -> Result<usize, String> {
    let ours = anchors(&way("ours"), log)?;
    let baseline = anchors(&way("baseline"), log)?;
    if ours != baseline {
        return Err(format!(
            "ours loaded {ours} anchors and rustls-native-certs {baseline}"
        ));
    }
    Ok(ours)
}

fn anchors(way: &Cmd, log: &Path) -> Result<usize, String> {
    let run = way.run_logged(log, PROGRAM_LIMIT)?;
    if !run.status.success() {
        return Err(format!("`{way}` exited with {}", run.status));
    }
    run.output
        .lines()
        .find_map(|line| line.strip_suffix(" anchors")?.trim().parse().ok())
        .ok_or_else(|| format!("`{way}` did not say how many anchors it loaded"))
}

/// The wall time of `runs` processes of each way, in milliseconds, in the order of [`WAYS`].
/// One round of each is run first and not counted (it maps the files into the page cache); each
/// round starts with a different way, so that none always follows the same one.
pub(crate) fn time_in_turn(
    way: impl Fn(&str) -> Cmd,
    runs: usize,
) -> Result<[Vec<f64>; 3], String> {
    println!(
        "{runs} fresh processes of each way, in turn: {}",
        WAYS.map(|(name, _)| name).join(", ")
    );
    let mut times: [Vec<f64>; 3] = Default::default();
    for round in 0..=runs {
        for k in 0..WAYS.len() {
            let i = (round + k) % WAYS.len();
            let (time, status) = way(WAYS[i].0).time()?;
            let expected = if WAYS[i].0 == "none" { 2 } else { 0 };
            if status.code() != Some(expected) {
                return Err(format!("`{}` exited with {status}", way(WAYS[i].0)));
            }
            if round > 0 {
                times[i].push(time.as_secs_f64() * 1e3);
            }
        }
    }
    Ok(times)
}

/// Ours over the baseline, pair by pair (the processes of one round ran side by side in time).
pub(crate) fn pair_ratios(times: &[Vec<f64>; 3]) -> Vec<f64> {
    times[0].iter().zip(&times[1]).map(|(o, b)| o / b).collect()
}

/// Median (the upper one of an even count), least and greatest.
pub(crate) fn spread(values: &[f64]) -> (f64, f64, f64) {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.as_slice() {
        [] => (f64::NAN, f64::NAN, f64::NAN),
        [first, .., last] => (sorted[sorted.len() / 2], *first, *last),
        [only] => (*only, *only, *only),
    }
}

/// The median and a distribution-free confidence interval of it of at least 95 % (the order
/// statistics whose ranks a binomial(n, ½) leaves with 2.5 % on each side; for 31 values, the
/// 10th and the 22nd). With fewer than 6 values there is none: least and greatest.
pub(crate) fn median_with_interval(values: &[f64]) -> (f64, f64, f64) {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let (median, least, greatest) = spread(values);
    if n < 6 {
        return (median, least, greatest);
    }
    // The largest k with P(Binomial(n, ½) < k) ≤ 2.5 %: the interval is the k-th value from
    // each end (1-based).
    let mut below = 0.0;
    let mut k = 0;
    let mut term = 0.5f64.powi(n as i32);
    for i in 0..n {
        if below + term > 0.025 {
            break;
        }
        below += term;
        k = i + 1;
        term *= (n - i) as f64 / (i + 1) as f64;
    }
    let k = k.max(1);
    (median, sorted[k - 1], sorted[n - k])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_median_is_one_of_the_values() {
        assert_eq!(spread(&[3.0, 1.0, 2.0]), (2.0, 1.0, 3.0));
        assert_eq!(spread(&[4.0, 1.0]), (4.0, 1.0, 4.0));
    }

    #[test]
    fn the_interval_of_31_values_is_the_10th_and_22nd() {
        let values: Vec<f64> = (1..=31).rev().map(f64::from).collect();
        assert_eq!(median_with_interval(&values), (16.0, 10.0, 22.0));
        let few = [5.0, 1.0, 3.0];
        assert_eq!(median_with_interval(&few), (3.0, 1.0, 5.0));
    }

    #[test]
    fn ratios_are_taken_pair_by_pair() {
        let times = [vec![2.0, 3.0], vec![4.0, 3.0], vec![1.0, 1.0]];
        assert_eq!(pair_ratios(&times), [0.5, 1.0]);
    }
}
