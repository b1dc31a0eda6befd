//! `perfgate run`: load the scenario, measure it (N times with `--repeat`), judge it against
//! its thresholds and baseline (measure and judge once more with `--confirm` when it regressed
//! or a regression was left inconclusive by a noisy machine), write the
//! reports, return the exit code.

use std::path::PathBuf;

use super::distributed::{DistributedArgs, Distribution};
use super::measure::measure_as_asked;
use super::{
    default_out, find_baseline, load_plan_for_run, output, strict_env_check, this_testbed,
    AppError, ExitCode,
};
use crate::client::Registry;
use crate::gate::noise::{worse_inconclusive, Noise};
use crate::gate::{self, Baseline, CompareOptions};
use crate::result::{MetricVerdict, RunResult, Verdict, SEGMENT_NOTE};
use crate::scenario::units::{TolMetric, TolValue};
use crate::scenario::{Model, Plan, ThresholdOrigin};

/// What `perfgate run` was asked to do.
#[derive(Debug, Clone, Default)]
pub(crate) struct RunArgs {
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
    /// A different machine than the baseline's, or another testbed's baseline, is an error
    /// (exit 2).
    pub strict_env: bool,
    /// The testbed of this run (`None`: `PERFGATE_TESTBED`, else derived from the machine).
    pub testbed: Option<String>,
    /// Rerun once when a regression is found or a noisy machine left one inconclusive; fail
    /// only if the rerun regresses.
    pub confirm: bool,
    /// Run the measurement N times and compare medians (overrides `baseline.repeat`).
    pub repeat: Option<u32>,
    /// Handle Ctrl-C / SIGTERM (the binary does; tests do not).
    pub handle_signals: bool,
    /// One generator of several: `--segment`, `--start-at`, `--run-id` as given.
    pub distributed: DistributedArgs,
    /// The same, resolved with the environment by [`run`] (what the measure step reads).
    pub distribution: Distribution,
}

/// Runs the scenario and returns the exit code.
pub(crate) fn run(args: &RunArgs, registry: &Registry) -> Result<ExitCode, AppError> {
    let (plan, base_url) = load_plan_for_run(&args.scenario, registry, args.base_url.as_deref())?;
    let distribution = resolve_distribution(&plan, args)?;
    let args = &RunArgs {
        base_url,
        distribution,
        ..args.clone()
    };
    let dir = args.out.clone().unwrap_or_else(|| default_out(&plan.name));
    // Checked before the load, so an unwritable --out does not lose the run (exit 2).
    output::check_writable(&dir)?;
    let testbed = this_testbed(args.testbed.as_deref())?;
    // A segment's numbers are a share of the load: thresholds and the baseline are judged
    // on the merged result (`perfgate merge`).
    let segment = args.distribution.is_segment();
    let baseline = if segment {
        None
    } else {
        baseline_for(&plan, args, &testbed)?
    };
    let thresholds = if segment {
        &[][..]
    } else {
        &plan.thresholds[..]
    };
    let segment_note =
        segment.then(|| format!("segment {} {SEGMENT_NOTE}", args.distribution.segment));
    let opts = CompareOptions::from_spec(&plan.baseline, &args.tolerances, args.strict)
        .on_testbed(Some(testbed));
    let opted_out = opted_out_warning(&plan);
    if let Some(w) = &opted_out {
        eprintln!("perfgate: warning: {w}");
    }
    let judge = || -> Result<RunResult, AppError> {
        let mut m = measure_as_asked(&plan, registry, args)?;
        m.warnings.extend(opted_out.clone());
        m.warnings.extend(segment_note.clone());
        Ok(gate::judge(m, thresholds, baseline.as_ref(), &opts))
    };
    let mut result = judge()?;
    if args.confirm && result.verdict != Verdict::Aborted {
        // Said even with --quiet: it explains why the run takes twice as long.
        if regressed(&result) {
            eprintln!("perfgate: regression found; rerunning once to confirm (--confirm)");
            result = confirmed(result, judge()?);
        } else if noisy(&result) {
            eprintln!(
                "perfgate: a regression measured on a noisy machine is inconclusive; \
                 rerunning once (--confirm)"
            );
            result = confirmed(result, judge()?);
        }
    }

    output::emit(
        &result,
        baseline.as_ref().map(|b: &Baseline| &b.result),
        &dir,
        args.no_report,
        args.verbose,
    )?;
    if args.strict_env {
        strict_env_check(&result, "this machine")?;
    }
    Ok(result.exit())
}

/// `--segment`, `--start-at` and `--run-id` with the environment. Waiting for an instant
/// happens once: not with `--repeat` or `--confirm`, whose later runs would start late.
fn resolve_distribution(plan: &Plan, args: &RunArgs) -> Result<Distribution, AppError> {
    let d = args
        .distributed
        .resolve(&plan.hash, |k| std::env::var(k).ok(), chrono::Utc::now())?;
    let repeat = args.repeat.unwrap_or(plan.baseline.repeat);
    if d.start_at.is_some() && (repeat > 1 || args.confirm) {
        return Err(AppError::Input(
            "--start-at starts one measurement at one instant; it cannot be combined with --repeat, `baseline.repeat` or --confirm"
                .into(),
        ));
    }
    if let Model::Closed { .. } = plan.load.model {
        let peak = plan.load.peak();
        if d.segment.share_of_level(peak) == 0.0 {
            return Err(AppError::Input(format!(
                "--segment {}: the scenario's {peak} virtual user(s) leave nothing to this \
                 generator\n  hint: run at most {peak} generator(s) of this scenario",
                d.segment
            )));
        }
    }
    Ok(d)
}

/// The baseline to compare with, unless `--no-baseline`; says how to take one when there is
/// none yet.
fn baseline_for(plan: &Plan, args: &RunArgs, testbed: &str) -> Result<Option<Baseline>, AppError> {
    if args.no_baseline {
        return Ok(None);
    }
    let default = gate::locate(&plan.name, &plan.baseline, testbed);
    let baseline = find_baseline(args.baseline.as_deref(), default, &plan.name)?;
    if baseline.is_none() && !args.quiet {
        eprintln!(
            "perfgate: no baseline for `{}` on testbed {testbed} yet; `perfgate baseline refresh {}` takes one",
            plan.name,
            args.scenario.display()
        );
    }
    Ok(baseline)
}

/// `--confirm`: the rerun's result decides, with a note saying whether it agreed with the
/// first run.
fn confirmed(first: RunResult, mut rerun: RunResult) -> RunResult {
    let agreed = regressed(&rerun);
    let first_noisy = !regressed(&first);
    let rerun_noisy = noisy(&rerun);
    if let Some(c) = rerun.comparison.as_mut() {
        c.notes.push(if agreed && first_noisy {
            "--confirm: the first run was on a noisy machine; the rerun regressed".to_string()
        } else if agreed {
            "--confirm: the regression was confirmed by a rerun".to_string()
        } else if first_noisy && rerun_noisy {
            "--confirm: the machine was noisy in both runs; still inconclusive".to_string()
        } else if first_noisy {
            "--confirm: the first run was on a noisy machine; the rerun did not regress".to_string()
        } else {
            format!(
                "--confirm: the first run regressed ({}), the rerun did not; passing",
                regressed_metrics(&first).join(", ")
            )
        });
    }
    rerun
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

/// A metric worse past its tolerance that the gate left inconclusive because the machine was
/// noisy during the run (`gate::noise`).
fn noisy(r: &RunResult) -> bool {
    Noise::of_result(r).is_some_and(|n| n.is_noisy())
        && r.comparison
            .as_ref()
            .is_some_and(|c| c.metrics.iter().any(worse_inconclusive))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::{Comparison, ComparisonVerdict, MetricComparison, Window, TOTAL_KEY};

    /// A run whose p99 is 40 % worse, `verdict` as the gate left it, with `steal` % CPU
    /// steal in 3 of its 20 measured seconds.
    fn result(verdict: MetricVerdict, steal: f64) -> RunResult {
        let mut r: RunResult = serde_json::from_value(serde_json::json!({
            "schema": "perfgate/result/v1",
            "tool": {"name": "perfgate", "version": "0.1.0"},
            "scenario": {"name": "s", "kind": "load", "file": "s.yaml", "hash": "h",
                         "target": "http://127.0.0.1:1"},
            "host": {"os": "linux", "arch": "x86_64", "cpus": 2, "cpu_model": "x"},
            "started_at": "2026-01-01T00:00:00Z", "duration_s": 20.0,
            "verdict": "pass", "exit_code": 0,
            "totals": serde_json::to_value(crate::result::Metrics::default()).unwrap(),
            "requests": {}, "stages": [], "timeseries": [],
            "thresholds": [], "comparison": null
        }))
        .unwrap();
        r.timeseries = (0..20)
            .map(|i| Window {
                t_s: i as f64,
                stage: Some(0),
                steal_pct: Some(if i < 3 { steal } else { 0.0 }),
                saturated: Some(false),
                ..Window::default()
            })
            .collect();
        r.comparison = Some(Comparison {
            baseline_file: "b.json".into(),
            baseline_created_at: "2026-01-01T00:00:00Z".into(),
            verdict: ComparisonVerdict::Pass,
            method: "m".into(),
            scenario_changed: false,
            env_mismatch: vec![],
            notes: vec![],
            metrics: vec![MetricComparison {
                request: TOTAL_KEY.into(),
                metric: "p99".into(),
                unit: "ms".into(),
                baseline: 10.0,
                current: 14.0,
                change: 40.0,
                tolerance: "10%".into(),
                p_value: Some(0.001),
                verdict,
                detectable: None,
            }],
            testbed: String::new(),
            baseline_testbed: String::new(),
            informational: false,
            baseline_runs: 1,
            underpowered: None,
        });
        r
    }

    #[test]
    fn confirm_reruns_a_regression_left_inconclusive_by_a_noisy_machine() {
        assert!(noisy(&result(MetricVerdict::Inconclusive, 12.0)));
        // A quiet machine, or nothing worse past tolerance: no rerun for noise.
        assert!(!noisy(&result(MetricVerdict::Inconclusive, 1.0)));
        assert!(!noisy(&result(MetricVerdict::Unchanged, 12.0)));
        // The rerun decides and says what happened.
        let first = result(MetricVerdict::Inconclusive, 12.0);
        let caught = confirmed(first.clone(), result(MetricVerdict::Regressed, 0.0));
        assert_eq!(
            caught.comparison.unwrap().notes,
            ["--confirm: the first run was on a noisy machine; the rerun regressed"]
        );
        let again = confirmed(first, result(MetricVerdict::Inconclusive, 12.0));
        assert_eq!(
            again.comparison.unwrap().notes,
            ["--confirm: the machine was noisy in both runs; still inconclusive"]
        );
    }
}
