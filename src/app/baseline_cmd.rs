//! `perfgate baseline refresh`: run the scenario several times (default 3, `--runs N`; or
//! take an existing result as one run), refuse runs that were aborted or failed their
//! thresholds unless forced, write the baseline of this testbed atomically
//! (`baselines/<scenario>/<testbed>.json`) and say what changed. The only way a baseline
//! changes.

use std::path::PathBuf;

use super::measure::measure_as_asked;
use super::{load_plan_for_run, load_result, output, this_testbed, AppError, ExitCode, RunArgs};
use crate::client::Registry;
use crate::gate::{self, Baseline, CompareOptions, Provenance};
use crate::result::fold::median_measurement;
use crate::result::{Measurement, Verdict};

/// Runs a baseline records when neither `--runs` nor `--repeat` says otherwise.
pub(super) const DEFAULT_RUNS: u32 = 3;

#[derive(Debug, Clone, Default)]
pub(crate) struct RefreshArgs {
    pub scenario: PathBuf,
    /// Take this result instead of running.
    pub from: Option<PathBuf>,
    pub force: bool,
    /// Write here instead of the scenario's baseline path.
    pub baseline: Option<PathBuf>,
    /// Runs to record (default `DEFAULT_RUNS`, 3; or `--repeat`, or the scenario's
    /// `baseline.repeat` when larger).
    pub runs: Option<u32>,
    /// The testbed the baseline is for (`None`: `PERFGATE_TESTBED`, else this machine's).
    pub testbed: Option<String>,
    pub base_url: Option<String>,
    pub threads: Option<usize>,
    pub quiet: bool,
    pub repeat: Option<u32>,
    pub handle_signals: bool,
}

pub(crate) fn refresh(args: &RefreshArgs, registry: &Registry) -> Result<ExitCode, AppError> {
    let (plan, base_url) = load_plan_for_run(&args.scenario, registry, args.base_url.as_deref())?;
    let testbed = this_testbed(args.testbed.as_deref())?;
    let path = args
        .baseline
        .clone()
        .unwrap_or_else(|| gate::testbed_path(&plan.name, &plan.baseline, &testbed));
    check_baseline_writable(&path)?;
    let runs: Vec<Measurement> = match &args.from {
        Some(p) => {
            let r = load_result(p)?;
            if r.scenario.name != plan.name {
                return Err(AppError::Input(format!(
                    "{}: this result is for scenario `{}`, not `{}`",
                    p.display(),
                    r.scenario.name,
                    plan.name
                )));
            }
            let r = r.into_measurement();
            if r.aborted && !args.force {
                return Err(AppError::Input(format!(
                    "{}: the run was aborted; a baseline needs a complete run\n  hint: rerun it, or pass --force",
                    p.display()
                )));
            }
            vec![r]
        }
        None => {
            let n = args
                .runs
                .or(args.repeat)
                .unwrap_or(DEFAULT_RUNS.max(plan.baseline.repeat))
                .max(1);
            let run_args = RunArgs {
                scenario: args.scenario.clone(),
                base_url: base_url.clone(),
                threads: args.threads,
                quiet: args.quiet,
                repeat: Some(1),
                handle_signals: args.handle_signals,
                no_baseline: true,
                ..RunArgs::default()
            };
            let mut runs = Vec::new();
            for i in 0..n {
                if n > 1 && !args.quiet {
                    eprintln!("perfgate: baseline run {}/{n}", i + 1);
                }
                let m = measure_as_asked(&plan, registry, &run_args)?;
                let aborted = m.aborted;
                runs.push(m);
                if aborted {
                    break;
                }
            }
            runs
        }
    };
    let measured = if runs.len() == 1 || runs.iter().any(|m| m.aborted) {
        runs.last().cloned()
    } else {
        median_measurement(&runs)
    }
    .ok_or_else(|| AppError::Run("no run completed".into()))?;
    let result = gate::judge(measured, &plan.thresholds, None, &CompareOptions::default());
    if result.verdict == Verdict::Aborted && !args.force {
        eprintln!("perfgate: the run was aborted; the baseline was not changed");
        return Ok(ExitCode::Run);
    }
    if let Err(refused) = gate::check_refreshable(&result, args.force) {
        eprintln!("perfgate: {refused}; the baseline was not changed (--force takes it anyway)");
        return Ok(if args.from.is_some() {
            ExitCode::Input
        } else {
            ExitCode::Fail
        });
    }
    // A corrupt old baseline is replaced (that is what refresh is for), but said.
    let old = match gate::load(&path) {
        Ok(b) => Some(b),
        Err(gate::BaselineError::Missing { .. }) => None,
        Err(e) => {
            eprintln!("perfgate: the old baseline is unusable and will be replaced: {e}");
            None
        }
    };
    let provenance = Provenance {
        testbed: Some(testbed),
        ..Provenance::capture(&result)
    };
    let new = Baseline::new(&result, provenance).with_runs(&runs);
    gate::save_atomic(&path, &new)?;
    println!("baseline written: {}", path.display());
    for line in gate::describe_change(old.as_ref(), &new) {
        println!("  {line}");
    }
    Ok(ExitCode::Pass)
}

/// The baseline file must be writable before the run: not a folder, in a folder that
/// accepts a new file (exit 2 otherwise).
fn check_baseline_writable(path: &std::path::Path) -> Result<(), AppError> {
    if path.is_dir() {
        return Err(AppError::Input(format!(
            "{}: the baseline path is a folder\n  hint: pass a file with --baseline",
            path.display()
        )));
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    output::check_writable_hint(&dir, "pass a writable path with --baseline")
        .map_err(|e| AppError::Input(format!("cannot write the baseline {}: {e}", path.display())))
}
