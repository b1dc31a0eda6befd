//! Absolute thresholds (`p95 < 250ms`, `checkout.error_rate < 1%`, `throughput > 500/s`) held
//! against a run's summary metrics, and the run's overall verdict.

use crate::result::{
    Comparison, ComparisonVerdict, Measurement, MetricVerdict, Metrics, ThresholdResult, Verdict,
};
use crate::scenario::{Threshold, ThresholdMetric};

/// Holds every threshold against `result`: `result.totals` when unscoped, otherwise
/// `result.requests[scope]`.
///
/// A threshold that has nothing to judge fails rather than passing vacuously: `no_data` is
/// set, `observed` is 0 (JSON has no NaN; reports show "n/a") and the reason is appended to
/// its `expr`:
/// - scoped to a request name that did not run: `checkout.p95 < 200ms (request `checkout` did
///   not run)`;
/// - a latency threshold when no request succeeded (latency is that of successful responses):
///   `p95 < 200ms (no request succeeded)`;
/// - an error-rate threshold when no request completed, a dropped-rate threshold when no
///   arrival was due: `error_rate < 1% (no request completed)`.
///
/// Count and throughput thresholds are still judged on their zeros.
pub fn evaluate(thresholds: &[Threshold], result: &Measurement) -> Vec<ThresholdResult> {
    thresholds.iter().map(|t| evaluate_one(t, result)).collect()
}

fn evaluate_one(t: &Threshold, result: &Measurement) -> ThresholdResult {
    let unit = t.metric.unit().to_string();
    let metrics = match (&t.scope, t.stage) {
        (_, Some(i)) => result
            .stages
            .iter()
            .find(|s| s.index == i)
            .map(|s| &s.metrics),
        (None, None) => Some(&result.totals),
        (Some(name), None) => result.requests.get(name),
    };
    let base = ThresholdResult {
        expr: t.expr.clone(),
        observed: 0.0,
        limit: t.limit,
        pass: false,
        unit,
        metric: t.metric.name().to_string(),
        scope: t.scope.clone(),
        op: t.op.symbol().to_string(),
        no_data: false,
        stage: t.stage,
        warn: t.levels.warn,
        target: t.levels.target,
        warning: false,
        target_met: None,
        kpi: t.levels.kpi,
        abort: t.abort.is_some(),
    };
    let no_data = |reason: &str| ThresholdResult {
        expr: format!("{} ({reason})", t.expr),
        no_data: true,
        ..base.clone()
    };
    if t.metric.is_sut() {
        return match super::sut::observe(t.metric, &result.timeseries) {
            Ok(observed) => ThresholdResult {
                observed,
                pass: t.op.holds(observed, t.limit),
                ..base
            },
            Err(why) => no_data(why),
        };
    }
    let Some(metrics) = metrics else {
        return match t.stage {
            Some(i) => no_data(&format!("{} did not run", stage_label(t, i))),
            None => {
                let name = t.scope.as_deref().unwrap_or_default();
                no_data(&format!("request `{name}` did not run"))
            }
        };
    };
    if let Some(why) = missing_data(t.metric, metrics) {
        return no_data(why);
    }
    let observed = observe(t.metric, metrics);
    if !observed.is_finite() {
        return no_data("no value was measured");
    }
    let pass = t.op.holds(observed, t.limit);
    let (warning, target_met) = levels_reached(t, observed);
    ThresholdResult {
        observed,
        pass,
        warning: pass && warning,
        target_met,
        ..base
    }
}

/// Whether `observed` reached the budget's warn level, and whether it met its target. The
/// levels run toward the fail level: up for latency and errors, down for throughput and
/// requests. Reaching a level means being at it or past it.
fn levels_reached(t: &Threshold, observed: f64) -> (bool, Option<bool>) {
    let higher = t.metric.higher_is_better();
    let past = |level: f64| {
        if higher {
            observed <= level
        } else {
            observed >= level
        }
    };
    let met = |level: f64| {
        if higher {
            observed >= level
        } else {
            observed <= level
        }
    };
    (t.levels.warn.is_some_and(past), t.levels.target.map(met))
}

/// ``stage `peak` `` (from `stage:peak.p99`) or `stage[2]`, as the threshold names it.
fn stage_label(t: &Threshold, i: usize) -> String {
    match t.expr.strip_prefix("stage:") {
        Some(rest) => format!("stage `{}`", rest.split('.').next().unwrap_or_default()),
        None => format!("stage[{i}]"),
    }
}

/// Why `metric` has no value in `m`, if it has none.
pub(crate) fn missing_data(metric: ThresholdMetric, m: &Metrics) -> Option<&'static str> {
    use ThresholdMetric as T;
    match metric {
        _ if metric.is_latency() && m.ok == 0 => Some("no request succeeded"),
        T::ErrorRate if m.requests == 0 => Some("no request completed"),
        T::DroppedRate if m.requests + m.dropped == 0 => Some("no arrival was due"),
        _ => None,
    }
}

/// The observed value of `metric` in its threshold unit.
pub(crate) fn observe(metric: ThresholdMetric, m: &Metrics) -> f64 {
    let l = &m.latency_ms;
    match metric {
        ThresholdMetric::Min => l.min,
        ThresholdMetric::Mean => l.mean,
        ThresholdMetric::P50 => l.p50,
        ThresholdMetric::P90 => l.p90,
        ThresholdMetric::P95 => l.p95,
        ThresholdMetric::P99 => l.p99,
        ThresholdMetric::P999 => l.p999,
        ThresholdMetric::Max => l.max,
        ThresholdMetric::ErrorRate => m.error_rate,
        ThresholdMetric::Errors => m.errors as f64,
        ThresholdMetric::Throughput => m.throughput_rps,
        ThresholdMetric::Requests => m.requests as f64,
        ThresholdMetric::Dropped => m.dropped as f64,
        ThresholdMetric::DroppedRate => dropped_rate(m),
        // Not in the summary metrics: judged on the windows (`gate::sut`).
        ThresholdMetric::SutRss | ThresholdMetric::SutRssGrowth | ThresholdMetric::SutCpu => {
            f64::NAN
        }
    }
}

/// dropped / (requests + dropped), from the counts (the definition of `Metrics::dropped_rate`,
/// so results written before that field was filled are judged the same way).
pub(crate) fn dropped_rate(m: &Metrics) -> f64 {
    let due = m.requests + m.dropped;
    if due == 0 {
        0.0
    } else {
        m.dropped as f64 / due as f64
    }
}

/// True when no request succeeded in `totals`: such a run never passes, whatever its
/// thresholds say (the no-success guard).
pub fn no_success(totals: &Metrics) -> bool {
    totals.ok == 0
}

/// The verdict of a measurement over what was held against it: aborted when the run was
/// aborted; fail when it stopped itself early (`abort: true`), when no request succeeded, any threshold failed or the comparison failed;
/// pass otherwise. With `strict`, an inconclusive metric or an underpowered comparison fails
/// the run too, whatever options the comparison was computed with. An informational
/// comparison (another testbed's baseline) never fails it.
pub fn verdict(
    m: &Measurement,
    thresholds: &[ThresholdResult],
    comparison: Option<&Comparison>,
    strict: bool,
) -> Verdict {
    if m.aborted {
        return Verdict::Aborted;
    }
    // The run stopped itself on a broken `abort: true` threshold or an unreachable target.
    if m.stopped_early.is_some() {
        return Verdict::Fail;
    }
    let threshold_failed = thresholds.iter().any(|t| !t.pass);
    // A comparison with another testbed's baseline is informational: it never fails.
    let comparison_failed = comparison.is_some_and(|c| {
        !c.informational
            && (c.verdict == ComparisonVerdict::Fail
                || (strict && c.underpowered.is_some())
                || c.metrics.iter().any(|m| {
                    m.verdict == MetricVerdict::NoData
                        || (strict && m.verdict == MetricVerdict::Inconclusive)
                }))
    });
    if no_success(&m.totals) || threshold_failed || comparison_failed {
        Verdict::Fail
    } else {
        Verdict::Pass
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::RunResult;
    use crate::scenario::Op;

    fn result() -> Measurement {
        let mut totals = Metrics {
            requests: 1000,
            ok: 990,
            errors: 10,
            error_rate: 0.01,
            throughput_rps: 500.0,
            ..Default::default()
        };
        totals.latency_ms.p95 = 180.0;
        totals.latency_ms.p99 = 250.0;
        let mut list = totals.clone();
        list.latency_ms.p99 = 320.0;
        let r: RunResult = serde_json::from_value(serde_json::json!({
            "schema": "perfgate/result/v1",
            "tool": {"name": "perfgate", "version": "0.1.0"},
            "scenario": {"name": "s", "kind": "load", "file": "s.yaml", "hash": "h"},
            "host": {"os": "linux", "arch": "x86_64", "cpus": 2, "cpu_model": "x"},
            "started_at": "2026-01-01T00:00:00Z", "duration_s": 10.0,
            "verdict": "pass", "exit_code": 0,
            "totals": serde_json::to_value(Metrics::default()).unwrap(),
            "requests": {}, "stages": [], "timeseries": [],
            "thresholds": [], "comparison": null
        }))
        .unwrap();
        let mut r = r.into_measurement();
        r.totals = totals;
        r.requests.insert("list-items".into(), list);
        r
    }

    fn th(
        expr: &str,
        scope: Option<&str>,
        metric: ThresholdMetric,
        op: Op,
        limit: f64,
    ) -> Threshold {
        Threshold::new(expr, scope.map(Into::into), metric, op, limit)
    }

    #[test]
    fn unscoped_and_scoped_thresholds() {
        let r = result();
        let out = evaluate(
            &[
                th("p95 < 200ms", None, ThresholdMetric::P95, Op::Lt, 200.0),
                th(
                    "list-items.p99 < 300ms",
                    Some("list-items"),
                    ThresholdMetric::P99,
                    Op::Lt,
                    300.0,
                ),
                th(
                    "error_rate < 1%",
                    None,
                    ThresholdMetric::ErrorRate,
                    Op::Lt,
                    0.01,
                ),
                th(
                    "throughput > 400/s",
                    None,
                    ThresholdMetric::Throughput,
                    Op::Gt,
                    400.0,
                ),
            ],
            &r,
        );
        assert!(out[0].pass && out[0].observed == 180.0 && out[0].unit == "ms");
        assert!(!out[1].pass && out[1].observed == 320.0);
        assert!(
            !out[2].pass && out[2].unit == "ratio",
            "0.01 < 0.01 is false"
        );
        assert!(out[3].pass && out[3].unit == "rps");
    }

    #[test]
    fn scope_that_did_not_run_fails_with_reason() {
        let out = evaluate(
            &[th(
                "checkout.errors < 5",
                Some("checkout"),
                ThresholdMetric::Errors,
                Op::Lt,
                5.0,
            )],
            &result(),
        );
        assert!(!out[0].pass);
        assert_eq!(out[0].observed, 0.0);
        assert!(
            out[0].expr.contains("`checkout` did not run"),
            "{}",
            out[0].expr
        );
    }

    #[test]
    fn no_requests_fails_latency_but_judges_counts() {
        let mut r = result();
        r.totals = Metrics::default();
        let out = evaluate(
            &[
                th("p95 < 200ms", None, ThresholdMetric::P95, Op::Lt, 200.0),
                th("requests > 0", None, ThresholdMetric::Requests, Op::Gt, 0.0),
                th("errors <= 0", None, ThresholdMetric::Errors, Op::Le, 0.0),
            ],
            &r,
        );
        assert!(!out[0].pass && out[0].no_data);
        assert!(
            out[0].expr.contains("no request succeeded"),
            "{}",
            out[0].expr
        );
        assert!(!out[1].pass && out[1].expr == "requests > 0");
        assert!(out[2].pass);
    }

    #[test]
    fn verdicts() {
        let mut r = result();
        assert_eq!(verdict(&r, &[], None, false), Verdict::Pass);
        let failed = evaluate(
            &[th("p95 < 100ms", None, ThresholdMetric::P95, Op::Lt, 100.0)],
            &r,
        );
        assert_eq!(verdict(&r, &failed, None, false), Verdict::Fail);
        r.aborted = true;
        assert_eq!(verdict(&r, &failed, None, false), Verdict::Aborted);
        r.aborted = false;
        r.totals.ok = 0;
        assert_eq!(verdict(&r, &[], None, false), Verdict::Fail);
    }

    #[test]
    fn stage_thresholds_judge_their_stage_and_fail_when_it_did_not_run() {
        let mut r = result();
        let mut peak = r.totals.clone();
        peak.latency_ms.p99 = 900.0;
        r.stages = vec![crate::result::StageResult {
            index: 0,
            name: Some("peak".into()),
            target: 10.0,
            unit: crate::result::LevelUnit::Vus,
            start_s: 0.0,
            end_s: 10.0,
            metrics: peak,
            sut_cpu_pct: None,
            sut_rss_bytes: None,
        }];
        let mut on_peak = th(
            "stage:peak.p99 < 300ms",
            None,
            ThresholdMetric::P99,
            Op::Lt,
            300.0,
        );
        on_peak.stage = Some(0);
        let mut later = th(
            "stage[1].p99 < 300ms",
            None,
            ThresholdMetric::P99,
            Op::Lt,
            300.0,
        );
        later.stage = Some(1);
        let out = evaluate(&[on_peak, later], &r);
        assert!(!out[0].pass && out[0].observed == 900.0 && out[0].stage == Some(0));
        assert!(!out[1].pass && out[1].no_data);
        assert!(
            out[1].expr.ends_with("(stage[1] did not run)"),
            "{}",
            out[1].expr
        );
    }

    #[test]
    fn a_budget_warns_at_its_warn_level_and_reports_its_target() {
        let r = result(); // p95 180 ms, throughput 500/s
        let budget = |warn: f64, target: f64| {
            let mut t = th("p95 < 250ms", None, ThresholdMetric::P95, Op::Lt, 250.0);
            t.levels = crate::scenario::Levels {
                target: Some(target),
                warn: Some(warn),
                kpi: true,
            };
            t
        };
        let out = evaluate(&[budget(180.0, 150.0), budget(200.0, 180.0)], &r);
        assert!(out[0].pass && out[0].warning, "at the warn level warns");
        assert_eq!((out[0].target_met, out[0].kpi), (Some(false), true));
        assert!(out[1].pass && !out[1].warning);
        assert_eq!(out[1].target_met, Some(true));
        // A failed budget is a failure, not a warning.
        let out = evaluate(
            &[budget(100.0, 50.0)].map(|mut t| {
                t.limit = 150.0;
                t
            }),
            &r,
        );
        assert!(!out[0].pass && !out[0].warning);
        // Throughput: lower is worse.
        let mut tp = th(
            "throughput > 100/s",
            None,
            ThresholdMetric::Throughput,
            Op::Gt,
            100.0,
        );
        tp.levels.warn = Some(600.0);
        let out = evaluate(&[tp], &r);
        assert!(out[0].pass && out[0].warning);
        // A warning never changes the verdict.
        assert_eq!(verdict(&r, &out, None, false), Verdict::Pass);
    }

    #[test]
    fn a_run_that_stopped_itself_fails_whatever_its_thresholds_say() {
        let mut r = result();
        r.stopped_early = Some(crate::result::EarlyStop {
            at_s: 3.0,
            cause: "error_rate < 50%".into(),
            reason: "aborted at 3 s: error_rate 100 % ≥ 50 % (abort: true)".into(),
        });
        assert_eq!(verdict(&r, &[], None, false), Verdict::Fail);
        r.aborted = true;
        assert_eq!(verdict(&r, &[], None, false), Verdict::Aborted);
    }
}
