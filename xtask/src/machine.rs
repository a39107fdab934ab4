//! What the machine is, and whether it is quiet enough to measure: shared by the benchmarks'
//! report and the Wine figure.

use std::fs;

/// The 1-minute load average, from `/proc/loadavg` where there is one.
pub(crate) fn load_average() -> Option<f64> {
    fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Waits up to 3 minutes for the 1-minute load average to fall below 0.3 (it decays
/// for a minute or two after a build), and says what it was when measuring started.
pub(crate) fn settle() -> String {
    const QUIET_LOAD: f64 = 0.3;
    let start = std::time::Instant::now();
    loop {
        let Some(load) = load_average() else {
            return "not known on this system".to_owned();
        };
        if load < QUIET_LOAD {
            return format!("{load:.2} (1 minute) when measuring started");
        }
        if start.elapsed() >= std::time::Duration::from_secs(180) {
            eprintln!(
                "warning: the load average is still {load:.2} after 3 minutes: something else \
                 runs here, and its figures will show it"
            );
            return format!("{load:.2} (1 minute) when measuring started: **not quiet**");
        }
        println!("load average {load:.2}: waiting for the machine to settle");
        std::thread::sleep(std::time::Duration::from_secs(10));
    }
}

/// The processor's model and the cores this process may use.
pub(crate) fn cpu() -> String {
    let model = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, model)| model.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    format!("{model}, {cores} cores available")
}

/// Today's UTC date, from the system clock (days-to-civil, as in Howard Hinnant's algorithm).
pub(crate) fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0) + 719_468;
    let era = days.div_euclid(146_097);
    let doe = days.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// Bytes free (to this user) on the filesystem holding `path`, from POSIX `df -Pk`; `None` where
/// there is no `df` or its answer does not parse.
pub(crate) fn free_bytes(path: &std::path::Path) -> Option<u64> {
    let output = std::process::Command::new("df")
        .arg("-Pk")
        .arg(path)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    available_in_df(&String::from_utf8_lossy(&output.stdout))
}

/// The `Available` column (KiB) of the one filesystem in `df -Pk`'s answer, in bytes.
fn available_in_df(answer: &str) -> Option<u64> {
    let line = answer.lines().nth(1)?;
    let kib: u64 = line.split_whitespace().nth(3)?.parse().ok()?;
    Some(kib.saturating_mul(1024))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn df_says_what_is_available() {
        let answer = "Filesystem     1024-blocks     Used Available Capacity Mounted on\n\
                      /dev/vda         264091588 40548508  54288120      43% /\n";
        assert_eq!(available_in_df(answer), Some(54_288_120 * 1024));
        assert_eq!(available_in_df("Filesystem 1024-blocks\n"), None);
        assert_eq!(available_in_df(""), None);
    }
}
