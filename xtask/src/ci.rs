//! The `ci` runner: which steps run, in what order, how each is reported, and the summary table.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::steps::{self, Done, Step};
use crate::{machine, workspace};

/// About what a whole run writes under `target/` from a clean clone here (14 GiB: the host, the
/// cross targets, Wine, Miri, loom, the minimal versions), with a margin.
const A_RUN_WRITES: u64 = 16 << 30;

/// Below this, a failed step may have failed for want of space rather than of its own doing.
const NEARLY_FULL: u64 = 1 << 30;

/// The steps picked with `--only` and `--skip`.
pub(crate) struct Selection {
    only: Vec<String>,
    skip: Vec<String>,
}

impl Selection {
    pub(crate) fn parse(args: &[String]) -> Result<Self, String> {
        let mut selection = Self {
            only: Vec::new(),
            skip: Vec::new(),
        };
        let mut args = args.iter();
        while let Some(flag) = args.next() {
            let list = match flag.as_str() {
                "--only" => &mut selection.only,
                "--skip" => &mut selection.skip,
                other => return Err(format!("unknown argument `{other}`")),
            };
            let name = args
                .next()
                .ok_or_else(|| format!("`{flag}` needs a step name"))?;
            if !steps::ALL.iter().any(|step| step.name == name) {
                return Err(format!("unknown step `{name}`"));
            }
            list.push(name.clone());
        }
        Ok(selection)
    }

    /// Why `step` does not run, or `None` when it does.
    fn excluded(&self, step: &str) -> Option<&'static str> {
        if self.skip.iter().any(|name| name == step) {
            Some("--skip")
        } else if !self.only.is_empty() && !self.only.iter().any(|name| name == step) {
            Some("not in --only")
        } else {
            None
        }
    }
}

enum Outcome {
    Done(Done),
    Failed(String),
    Excluded(&'static str),
    NotRun,
}

struct Row {
    step: &'static str,
    result: Outcome,
    time: Option<Duration>,
}

pub(crate) fn run(selection: &Selection) -> ExitCode {
    if let Some(free) = free_space().filter(|free| *free < A_RUN_WRITES) {
        eprintln!(
            "warning: {} free on the disk of {}; a run from a clean clone writes about 14 GiB \
             there, and a step that runs out of space fails with errors that look like its own",
            gib(free),
            workspace::target_dir().display()
        );
    }
    let mut rows = Vec::new();
    let mut failed = None;
    for step in steps::ALL {
        if let Some(why) = selection.excluded(step.name) {
            rows.push(Row {
                step: step.name,
                result: Outcome::Excluded(why),
                time: None,
            });
            continue;
        }
        if failed.is_some() {
            rows.push(Row {
                step: step.name,
                result: Outcome::NotRun,
                time: None,
            });
            continue;
        }
        let (result, time) = run_step(step);
        if let Outcome::Failed(message) = &result {
            failed = Some((step.name, message.clone()));
        }
        rows.push(Row {
            step: step.name,
            result,
            time: Some(time),
        });
    }
    print_summary(&rows);
    match failed {
        None => ExitCode::SUCCESS,
        Some((step, message)) => {
            eprintln!("\nerror: step `{step}` failed: {message}");
            if let Some(free) = free_space().filter(|free| *free < NEARLY_FULL) {
                eprintln!(
                    "note: only {} is free on the disk of {}: the step may have failed for want \
                     of space; free some (old target directories, clones) and run it again",
                    gib(free),
                    workspace::target_dir().display()
                );
            }
            eprintln!("rerun it alone with: {}", rerun(step));
            ExitCode::FAILURE
        }
    }
}

fn run_step(step: &Step) -> (Outcome, Duration) {
    println!("\n==== {} ({}) ====", step.name, step.about);
    println!("     rerun alone: {}", rerun(step.name));
    let started = Instant::now();
    let result = match (step.run)() {
        Ok(done) => Outcome::Done(done),
        Err(message) => Outcome::Failed(message),
    };
    let time = started.elapsed();
    println!(
        "==== {}: {} in {} ====",
        step.name,
        describe(&result),
        seconds(time)
    );
    (result, time)
}

/// Free space where the steps write, or where that will be once cargo creates it.
fn free_space() -> Option<u64> {
    let target = workspace::target_dir();
    let probe = if target.exists() {
        target.as_path()
    } else {
        workspace::root()
    };
    machine::free_bytes(probe)
}

fn gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / f64::from(1u32 << 30))
}

fn rerun(step: &str) -> String {
    format!("cargo xtask ci --only {step}")
}

fn describe(result: &Outcome) -> String {
    match result {
        Outcome::Done(Done::Passed) => "passed".to_owned(),
        Outcome::Done(Done::Partly(why)) => format!("passed, except: {why}"),
        Outcome::Done(Done::Skipped(why)) => format!("skipped: {why}"),
        Outcome::Failed(_) => "FAILED".to_owned(),
        Outcome::Excluded(why) => format!("skipped: {why}"),
        Outcome::NotRun => "not run (an earlier step failed)".to_owned(),
    }
}

fn print_summary(rows: &[Row]) {
    let width = rows.iter().map(|row| row.step.len()).max().unwrap_or(0);
    println!("\n==== summary ====");
    println!("{:width$}  {:>8}  result", "step", "time");
    for row in rows {
        let time = row.time.map(seconds).unwrap_or_default();
        println!(
            "{:width$}  {:>8}  {}",
            row.step,
            time,
            describe(&row.result)
        );
    }
    let total: Duration = rows.iter().filter_map(|row| row.time).sum();
    println!("{:width$}  {:>8}", "total", seconds(total));
}

fn seconds(time: Duration) -> String {
    format!("{:.1}s", time.as_secs_f64())
}
