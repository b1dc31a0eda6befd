//! `perfgate run`: load the scenario, run it (N times with `--repeat`), judge it against its
//! thresholds and baseline (rerun once with `--confirm`), write the reports, return the exit
//! code.

use std::path::PathBuf;

use super::{default_out, find_baseline, is_aborted, load_plan_for_run, output, AppError};
use crate::client::Registry;
use crate::gate::{self, Baseline, CompareOptions};
use crate::result::{MetricVerdict, RunResult};
use crate::runner::{self, RunOptions};
use crate::scenario::units::{TolMetric, TolValue};
use crate::scenario::{Model, Plan, ThresholdOrigin};

/// What `perfgate run` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct RunArgs {
    pub scenario: PathBuf,
    pub out: Option<PathBuf>,
    pub base_url: Option<String>,
    pub threads: Option<usize>,
    /// No live progress.
    pub quiet: bool,
    /// List unchanged compared metrics too.
    pub verbose: bool,
    /// Only `result.json`, JUnit and Markdown: no HTML or PNG.
    pub no_report: bool,
    pub no_baseline: bool,
    pub baseline: Option<PathBuf>,
    pub tolerances: Vec<(TolMetric, TolValue)>,
    /// Inconclusive metrics fail too.
    pub strict: bool,
    /// A different machine than the baseline's is an error (exit 2).
    pub strict_env: bool,
    /// Rerun once when a regression is found; fail only if the rerun agrees.
    pub confirm: bool,
    /// Run the measurement N times and compare medians (overrides `baseline.repeat`).
    pub repeat: Option<u32>,
    /// Handle Ctrl-C / SIGTERM (the binary does; tests do not).
    pub handle_signals: bool,
}

/// Runs the scenario and returns the exit code.
pub fn run(args: &RunArgs, registry: &Registry) -> Result<i32, AppError> {
    let (plan, base_url) = load_plan_for_run(&args.scenario, registry, args.base_url.as_deref())?;
    let args = &RunArgs {
        base_url,
        ..args.clone()
    };
    // Checked before the load, so an unwritable --out does not lose the run (exit 2).
    output::check_writable(&args.out.clone().unwrap_or_else(|| default_out(&plan.name)))?;
    let baseline = if args.no_baseline {
        None
    } else {
        let default = gate::default_path(&plan.name, &plan.baseline);
        find_baseline(args.baseline.as_deref(), default, &plan.name)?
    };
    if baseline.is_none() && !args.no_baseline && !args.quiet {
        eprintln!(
            "perfgate: no baseline for `{}` yet; `perfgate baseline refresh {}` takes one",
            plan.name,
            args.scenario.display()
        );
    }
    let opts = CompareOptions::from_spec(&plan.baseline, &args.tolerances, args.strict);
    let repeat = args.repeat.unwrap_or(plan.baseline.repeat).max(1);

    let opted_out = opted_out_warning(&plan);
    if let Some(w) = &opted_out {
        eprintln!("perfgate: warning: {w}");
    }
    let mut result = measure(&plan, registry, args, repeat)?;
    result.warnings.extend(opted_out.clone());
    gate::judge(&mut result, &plan.thresholds, baseline.as_ref(), &opts);

    if args.confirm && regressed(&result) && !is_aborted(&result) {
        // Said even with --quiet: it explains why the run takes twice as long.
        eprintln!("perfgate: regression found; rerunning once to confirm (--confirm)");
        let first = result;
        let mut rerun = measure(&plan, registry, args, repeat)?;
        rerun.warnings.extend(opted_out.clone());
        gate::judge(&mut rerun, &plan.thresholds, baseline.as_ref(), &opts);
        let confirmed = regressed(&rerun);
        if let Some(c) = rerun.comparison.as_mut() {
            c.notes.push(if confirmed {
                "--confirm: the regression was confirmed by a rerun".to_string()
            } else {
                format!(
                    "--confirm: the first run regressed ({}), the rerun did not; passing",
                    regressed_metrics(&first).join(", ")
                )
            });
        }
        result = rerun;
    }

    let strict_env_failed = args.strict_env
        && result
            .comparison
            .as_ref()
            .is_some_and(|c| !c.env_mismatch.is_empty());

    let dir = args.out.clone().unwrap_or_else(|| default_out(&plan.name));
    output::emit(
        &result,
        baseline.as_ref().map(|b: &Baseline| &b.result),
        &dir,
        args.no_report,
        args.verbose,
    )?;
    if strict_env_failed {
        let lines = result
            .comparison
            .as_ref()
            .map(|c| c.env_mismatch.join("; "))
            .unwrap_or_default();
        return Err(AppError::Input(format!(
            "--strict-env: this machine differs from the baseline's: {lines}"
        )));
    }
    Ok(result.exit_code)
}

/// The warning of a scenario that opts out of every threshold (`thresholds: []`).
pub(crate) fn opted_out_warning(plan: &Plan) -> Option<String> {
    (plan.threshold_origin == ThresholdOrigin::OptedOut).then(|| {
        format!(
            "`thresholds: []` opts out of the default thresholds for a {} run; \
             only the no-success guard judges this run",
            plan.kind.name()
        )
    })
}

/// Runs the plan as `args` say (`--repeat` or the scenario's `baseline.repeat`), unjudged.
pub(crate) fn measure_plan(
    plan: &Plan,
    registry: &Registry,
    args: &RunArgs,
) -> Result<RunResult, AppError> {
    let repeat = args.repeat.unwrap_or(plan.baseline.repeat).max(1);
    measure(plan, registry, args, repeat)
}

/// Runs the plan `repeat` times (stopping early if one is aborted) and folds the runs into
/// medians.
fn measure(
    plan: &Plan,
    registry: &Registry,
    args: &RunArgs,
    repeat: u32,
) -> Result<RunResult, AppError> {
    let mut runs = Vec::new();
    for i in 0..repeat {
        if repeat > 1 && !args.quiet {
            eprintln!("perfgate: run {}/{repeat}", i + 1);
        }
        let (bar, hook) = crate::report::progress::progress(
            plan.load.total_duration(),
            plan.load.stages.len(),
            match plan.load.model {
                Model::Closed { .. } => "VUs",
                Model::Open { .. } => "arrivals/s",
            },
            !args.quiet,
        );
        let opts = RunOptions {
            threads: args.threads,
            base_url: args.base_url.clone(),
            handle_signals: args.handle_signals,
            on_window: Some(hook),
            ..RunOptions::default()
        };
        let r = runner::run_plan(plan, registry, opts).map_err(|e| AppError::Run(e.to_string()));
        bar.finish_and_clear();
        let r = r?;
        let aborted = is_aborted(&r);
        runs.push(r);
        if aborted {
            break;
        }
    }
    if runs.len() == 1 || runs.last().is_some_and(is_aborted) {
        return runs
            .pop()
            .ok_or_else(|| AppError::Run("no run completed".into()));
    }
    gate::median_result(&runs).ok_or_else(|| AppError::Run("no run completed".into()))
}

fn regressed(r: &RunResult) -> bool {
    !regressed_metrics(r).is_empty()
}

fn regressed_metrics(r: &RunResult) -> Vec<String> {
    r.comparison
        .as_ref()
        .map(|c| {
            c.metrics
                .iter()
                .filter(|m| m.verdict == MetricVerdict::Regressed)
                .map(|m| format!("{}.{}", m.request, m.metric))
                .collect()
        })
        .unwrap_or_default()
}
