//! Absolute thresholds (`p95 < 250ms`, `checkout.error_rate < 1%`, `throughput > 500/s`) held
//! against a run's summary metrics, and the run's overall verdict and exit code.

use crate::result::{MetricVerdict, Metrics, RunResult, ThresholdResult, Verdict};
use crate::scenario::{Threshold, ThresholdMetric};

/// Exit code of a run whose every gate passed.
pub const EXIT_PASS: i32 = 0;
/// Exit code of a run that completed but failed a threshold or regressed against its baseline.
pub const EXIT_FAIL: i32 = 1;
/// Exit code of a run that could not complete.
pub const EXIT_ABORTED: i32 = 3;

/// Holds every threshold against `result`: `result.totals` when unscoped, otherwise
/// `result.requests[scope]`.
///
/// A threshold that has nothing to judge fails rather than passing vacuously, with the reason
/// appended to its `expr` and `observed` set to 0 (JSON has no NaN):
/// - scoped to a request name that did not run: `checkout.p95 < 200ms (request `checkout` did
///   not run)`;
/// - a latency or error-rate threshold when no request completed: `p95 < 200ms (no request
///   completed)`. Count and throughput thresholds are still judged on their zeros.
pub fn evaluate(thresholds: &[Threshold], result: &RunResult) -> Vec<ThresholdResult> {
    thresholds.iter().map(|t| evaluate_one(t, result)).collect()
}

fn evaluate_one(t: &Threshold, result: &RunResult) -> ThresholdResult {
    let unit = t.metric.unit().to_string();
    let metrics = match &t.scope {
        None => Some(&result.totals),
        Some(name) => result.requests.get(name),
    };
    let no_data = |reason: String| ThresholdResult {
        expr: format!("{} ({reason})", t.expr),
        observed: 0.0,
        limit: t.limit,
        pass: false,
        unit: unit.clone(),
    };
    let Some(metrics) = metrics else {
        let name = t.scope.as_deref().unwrap_or_default();
        return no_data(format!("request `{name}` did not run"));
    };
    if metrics.requests == 0 && needs_requests(t.metric) {
        return no_data("no request completed".to_string());
    }
    let observed = observe(t.metric, metrics);
    if !observed.is_finite() {
        return no_data("no value was measured".to_string());
    }
    ThresholdResult {
        expr: t.expr.clone(),
        observed,
        limit: t.limit,
        pass: t.op.holds(observed, t.limit),
        unit,
    }
}

/// True for metrics that mean nothing without at least one completed request.
fn needs_requests(m: ThresholdMetric) -> bool {
    !matches!(
        m,
        ThresholdMetric::Errors | ThresholdMetric::Requests | ThresholdMetric::Throughput
    )
}

/// The observed value of `metric` in its threshold unit.
pub fn observe(metric: ThresholdMetric, m: &Metrics) -> f64 {
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
    }
}

/// The run's verdict and exit code from what is already in `result`: `result.verdict ==
/// Aborted` (set by the engine) → (aborted, 3); any failed threshold or a comparison verdict
/// of fail → (fail, 1); otherwise (pass, 0). With `strict`, an inconclusive metric in the
/// comparison fails the run too, whatever options the comparison was computed with.
pub fn verdict(result: &RunResult, strict: bool) -> (Verdict, i32) {
    if result.verdict == Verdict::Aborted {
        return (Verdict::Aborted, EXIT_ABORTED);
    }
    let threshold_failed = result.thresholds.iter().any(|t| !t.pass);
    let comparison_failed = result.comparison.as_ref().is_some_and(|c| {
        c.verdict == crate::result::ComparisonVerdict::Fail
            || (strict
                && c.metrics
                    .iter()
                    .any(|m| m.verdict == MetricVerdict::Inconclusive))
    });
    if threshold_failed || comparison_failed {
        (Verdict::Fail, EXIT_FAIL)
    } else {
        (Verdict::Pass, EXIT_PASS)
    }
}

/// Sets `result.verdict` and `result.exit_code` from [`verdict`].
pub fn apply_verdict(result: &mut RunResult, strict: bool) {
    let (v, code) = verdict(result, strict);
    result.verdict = v;
    result.exit_code = code;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Op;

    fn result() -> RunResult {
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
        let mut r: RunResult = serde_json::from_value(serde_json::json!({
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
        Threshold {
            expr: expr.into(),
            scope: scope.map(Into::into),
            metric,
            op,
            limit,
        }
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
        assert!(!out[0].pass && out[0].expr.contains("no request completed"));
        assert!(!out[1].pass && out[1].expr == "requests > 0");
        assert!(out[2].pass);
    }

    #[test]
    fn verdicts_and_exit_codes() {
        let mut r = result();
        assert_eq!(verdict(&r, false), (Verdict::Pass, 0));
        r.thresholds = evaluate(
            &[th("p95 < 100ms", None, ThresholdMetric::P95, Op::Lt, 100.0)],
            &r,
        );
        assert_eq!(verdict(&r, false), (Verdict::Fail, 1));
        r.verdict = Verdict::Aborted;
        assert_eq!(verdict(&r, false), (Verdict::Aborted, 3));
        apply_verdict(&mut r, false);
        assert_eq!((r.verdict, r.exit_code), (Verdict::Aborted, 3));
    }
}
