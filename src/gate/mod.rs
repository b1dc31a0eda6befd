//! The gate: everything that decides whether a run passes, and the only place a
//! [`RunResult`] is made. It owns absolute thresholds (`thresholds`), baseline files
//! (`baseline`: load, atomic save, refresh guard), the comparison against a baseline with
//! tolerances and a noise test (`compare`, `stats`), the verdict, and the sentences that say
//! why a run failed (`reasons`); a regression measured on a noisy machine is inconclusive
//! (`noise`). Reporters render what the
//! gate decided; they never decide anything themselves. The gate reads only the result model
//! (`result/`) and the scenario's thresholds and tolerances.
//!
//! The usual sequence, for a finished measurement: [`judge`] (thresholds, then the comparison
//! when a baseline is given, then the verdict and its reasons). A saved result compared with
//! a baseline afresh: `rejudge`. To refresh a baseline: [`check_refreshable`],
//! [`Baseline::from_result`], [`describe_change`], [`save_atomic`].

pub(crate) mod abort;
pub(crate) mod baseline;
pub(crate) mod compare;
pub(crate) mod noise;
pub(crate) mod paired;
pub(crate) mod pooled_tail;
pub(crate) mod power;
pub(crate) mod reasons;
pub(crate) mod stats;
pub(crate) mod sut;
pub(crate) mod testbed;
pub(crate) mod thresholds;

pub use baseline::{
    check_refreshable, default_path, describe_change, load, save_atomic, Baseline, BaselineError,
    Provenance, RefreshRefused, RunSummary, BASELINE_SCHEMA,
};
pub(crate) use baseline::{locate, testbed_path};
pub use compare::{compare, env_mismatch, CompareOptions};
pub use reasons::reasons;
pub(crate) use testbed::{derive_testbed, parse_testbed};
pub use thresholds::{evaluate, no_success, verdict};

use crate::result::{Comparison, Judgement, Measurement, RunResult, ThresholdResult};
use crate::scenario::Threshold;

/// Judges a measurement: evaluates `thresholds`, compares against `baseline` when one is
/// given, then decides the verdict (an aborted run is aborted, exit 3; a run in which no
/// request succeeded fails, whatever `thresholds` say) and says why it failed.
pub fn judge(
    m: Measurement,
    thresholds: &[Threshold],
    baseline: Option<&Baseline>,
    opts: &CompareOptions,
) -> RunResult {
    let thresholds = evaluate(thresholds, &m);
    let comparison = baseline.map(|b| compare_noise_aware(&m, b, opts));
    decide(m, thresholds, comparison, opts.strict)
}

/// Judges a saved result against `baseline` afresh (`perfgate compare`): its thresholds stay
/// as they were judged when it was made; the comparison, the verdict and the reasons are
/// redone.
pub(crate) fn rejudge(result: RunResult, baseline: &Baseline, opts: &CompareOptions) -> RunResult {
    let (m, judged) = result.into_parts();
    let comparison = compare_noise_aware(&m, baseline, opts);
    decide(m, judged.thresholds, Some(comparison), opts.strict)
}

/// [`compare`], then the regressions of a run on a noisy machine made inconclusive
/// ([`noise`]).
fn compare_noise_aware(m: &Measurement, baseline: &Baseline, opts: &CompareOptions) -> Comparison {
    let mut c = compare(m, baseline, opts);
    let in_process = m.scenario.target == "in-process";
    noise::downgrade(
        noise::Noise::of(&m.timeseries, in_process),
        &mut c,
        opts.strict,
    );
    c
}

/// The verdict over what was held against `m`, and the reasons it failed.
pub fn decide(
    m: Measurement,
    thresholds: Vec<ThresholdResult>,
    comparison: Option<Comparison>,
    strict: bool,
) -> RunResult {
    let mut m = m;
    // The power statement reaches every report, JUnit and the summary included; one judged
    // before (a saved result compared again) is replaced.
    m.warnings
        .retain(|w| !w.starts_with(compare::UNDERPOWERED_PREFIX));
    if let Some(line) = comparison.as_ref().and_then(|c| c.underpowered.as_ref()) {
        m.warnings.push(line.clone());
    }
    let verdict = verdict(&m, &thresholds, comparison.as_ref(), strict);
    // A budget's warn level reached: a warning everywhere, never the exit code; one judged
    // before is replaced.
    m.warnings
        .retain(|w| !w.starts_with(reasons::WARN_LEVEL_PREFIX));
    let mut r = RunResult::judged(
        m,
        Judgement {
            verdict,
            thresholds,
            comparison,
            reasons: Vec::new(),
        },
    );
    r.reasons = reasons(&r, strict);
    let warned: Vec<String> = r
        .thresholds
        .iter()
        .filter_map(|t| reasons::warn_sentence(t, &r))
        .collect();
    r.warnings.extend(warned);
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::ExitCode;
    use crate::result::{Kind, LoadModel, Metrics, ScenarioInfo, Verdict};
    use crate::scenario::{Op, ThresholdMetric};

    fn measurement(ok: u64, p95: f64) -> Measurement {
        let mut totals = Metrics {
            requests: 100,
            ok,
            errors: 100 - ok,
            ..Metrics::default()
        };
        totals.latency_ms.p95 = p95;
        Measurement {
            tool: Default::default(),
            scenario: ScenarioInfo {
                name: "s".into(),
                kind: Kind::Load,
                file: "s.yaml".into(),
                hash: "h".into(),
                description: None,
                target: "in-process".into(),
                model: LoadModel::Closed,
            },
            host: Default::default(),
            started_at: "2026-01-01T00:00:00Z".into(),
            duration_s: 1.0,
            aborted: false,
            totals,
            warmup: None,
            requests: Default::default(),
            stages: Vec::new(),
            timeseries: Vec::new(),
            request_series: Default::default(),
            histograms: Default::default(),
            error_samples: Vec::new(),
            warnings: Vec::new(),
            run_id: "r1".into(),
            repeat: None,
            stopped_early: None,
            segment: None,
            generators: Vec::new(),
        }
    }

    fn p95_below(limit: f64) -> Threshold {
        Threshold::new(
            format!("p95 < {limit}ms"),
            None,
            ThresholdMetric::P95,
            Op::Lt,
            limit,
        )
    }

    fn judged(m: Measurement, limit: f64) -> RunResult {
        judge(m, &[p95_below(limit)], None, &CompareOptions::default())
    }

    #[test]
    fn a_failing_threshold_judges_to_fail_and_exit_1() {
        let r = judged(measurement(100, 250.0), 200.0);
        assert_eq!(r.verdict, Verdict::Fail);
        assert_eq!(r.exit_code, 1);
        assert_eq!(r.exit(), ExitCode::Fail);
        assert!(!r.thresholds[0].pass);
        assert_eq!(r.reasons.len(), 1, "{:?}", r.reasons);
        assert!(r.reasons[0].contains("p95"), "{:?}", r.reasons);
    }

    #[test]
    fn a_passing_measurement_judges_to_pass_and_exit_0() {
        let r = judged(measurement(100, 150.0), 200.0);
        assert_eq!((r.verdict, r.exit_code), (Verdict::Pass, 0));
        assert!(r.reasons.is_empty());
        assert_eq!(r.schema, crate::result::RESULT_SCHEMA);
        assert_eq!(r.run_id, "r1");
    }

    #[test]
    fn an_aborted_measurement_judges_to_exit_3_whatever_the_thresholds() {
        let mut m = measurement(100, 150.0);
        m.aborted = true;
        let r = judged(m, 200.0);
        assert_eq!((r.verdict, r.exit_code), (Verdict::Aborted, 3));
        assert_eq!(r.exit(), ExitCode::Run);
        assert!(r.reasons[0].starts_with("aborted"), "{:?}", r.reasons);
    }

    #[test]
    fn an_early_stop_is_the_first_reason_and_a_warn_level_a_warning() {
        let mut m = measurement(100, 210.0);
        let mut budget = p95_below(250.0);
        budget.levels.warn = Some(200.0);
        let r = judge(
            m.clone(),
            &[budget.clone()],
            None,
            &CompareOptions::default(),
        );
        assert_eq!((r.verdict, r.exit_code), (Verdict::Pass, 0));
        assert_eq!(
            r.warnings,
            ["warn level reached: p95 210 ms ≥ 200 ms (fails at 250 ms)"]
        );
        // Judged again, the warning is not repeated.
        let again = decide(
            r.clone().into_measurement(),
            r.thresholds.clone(),
            None,
            false,
        );
        assert_eq!(again.warnings, r.warnings);

        m.stopped_early = Some(crate::result::EarlyStop {
            at_s: 12.0,
            cause: "error_rate < 50%".into(),
            reason: "aborted at 12 s: error_rate 100 % ≥ 50 % (abort: true)".into(),
        });
        let r = judge(m, &[budget], None, &CompareOptions::default());
        assert_eq!((r.verdict, r.exit_code), (Verdict::Fail, 1));
        assert_eq!(
            r.reasons[0],
            "aborted at 12 s: error_rate 100 % ≥ 50 % (abort: true)"
        );
        assert_eq!(r.clone().into_measurement().stopped_early, r.stopped_early);
    }

    #[test]
    fn no_success_fails_without_thresholds() {
        let r = judge(measurement(0, 0.0), &[], None, &CompareOptions::default());
        assert_eq!((r.verdict, r.exit_code), (Verdict::Fail, 1));
    }

    #[test]
    fn a_judged_result_gives_its_measurement_back() {
        let m = measurement(100, 150.0);
        let r = judged(m.clone(), 200.0);
        assert_eq!(r.clone().into_measurement(), m);
        // Judged again, it says the same.
        assert_eq!(judged(r.clone().into_measurement(), 200.0), r);
    }

    /// Every key of `old` is in `new` with the same value (`new` may have keys added since).
    fn assert_keeps(old: &serde_json::Value, new: &serde_json::Value, at: &str) {
        use serde_json::Value;
        match (old, new) {
            (Value::Object(o), Value::Object(n)) => {
                for (k, v) in o {
                    let w = n.get(k).unwrap_or_else(|| panic!("{at}.{k} is gone"));
                    assert_keeps(v, w, &format!("{at}.{k}"));
                }
            }
            (Value::Array(o), Value::Array(n)) => {
                assert_eq!(o.len(), n.len(), "{at}");
                for (i, (v, w)) in o.iter().zip(n).enumerate() {
                    assert_keeps(v, w, &format!("{at}[{i}]"));
                }
            }
            _ => assert_eq!(old, new, "{at}"),
        }
    }

    /// Results written by the previous format (the committed baselines) still load, write
    /// back every key with the same value (every enum as the same string), and judge again
    /// to the verdict, exit code and reasons they hold.
    #[test]
    fn committed_baselines_load_write_back_and_rejudge_the_same() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("baselines");
        let mut seen = 0;
        // `baselines/<scenario>/<testbed>.json`, and any single-file `baselines/<name>.json`.
        let mut files = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                for inner in std::fs::read_dir(&path).unwrap() {
                    files.push(inner.unwrap().path());
                }
            } else {
                files.push(path);
            }
        }
        for path in files {
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            seen += 1;
            let text = std::fs::read_to_string(&path).unwrap();
            let file: serde_json::Value = serde_json::from_str(&text).unwrap();
            let b = load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let written = serde_json::to_value(&b.result).unwrap();
            assert_keeps(&file["result"], &written, &path.display().to_string());

            let (m, j) = b.result.clone().into_parts();
            let again = decide(m, j.thresholds, j.comparison, false);
            assert_eq!(again, b.result, "{}", path.display());
        }
        assert!(seen >= 5, "{seen} baselines in {}", dir.display());
    }
}
