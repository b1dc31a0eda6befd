//! Thresholds on a whole run (unscoped and scoped) and the verdict that `judge` writes.

use perfgate::gate::{evaluate, judge, CompareOptions};
use perfgate::result::Verdict;
use perfgate::scenario::{Op, Threshold, ThresholdMetric};

use crate::support::shapes::{baseline_of, make_result, Shape};

fn th(expr: &str, scope: Option<&str>, metric: ThresholdMetric, op: Op, limit: f64) -> Threshold {
    Threshold::new(expr, scope.map(Into::into), metric, op, limit)
}

#[test]
fn scoped_and_unscoped_thresholds() {
    let r = make_result(&Shape::default().requests(&["fast", "slow"]).errors(0.02));
    let mut slow_only = r.clone();
    slow_only.requests.get_mut("slow").unwrap().latency_ms.p99 = 900.0;
    let out = evaluate(
        &[
            th("p95 < 250ms", None, ThresholdMetric::P95, Op::Lt, 250.0),
            th(
                "slow.p99 < 300ms",
                Some("slow"),
                ThresholdMetric::P99,
                Op::Lt,
                300.0,
            ),
            th(
                "fast.p99 < 300ms",
                Some("fast"),
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
                "throughput >= 150/s",
                None,
                ThresholdMetric::Throughput,
                Op::Ge,
                150.0,
            ),
            th(
                "requests > 1000",
                None,
                ThresholdMetric::Requests,
                Op::Gt,
                1000.0,
            ),
            th(
                "nope.p95 < 1s",
                Some("nope"),
                ThresholdMetric::P95,
                Op::Lt,
                1000.0,
            ),
        ],
        &slow_only.measurement(),
    );
    let pass: Vec<bool> = out.iter().map(|t| t.pass).collect();
    assert_eq!(pass, [true, false, true, false, true, true, false]);
    assert_eq!(out[1].observed, 900.0);
    assert!((out[3].observed - 0.02).abs() < 0.01 && out[3].unit == "ratio");
    assert_eq!(out[4].unit, "rps");
    assert_eq!(out[5].unit, "count");
    assert!(out[6].expr.contains("request `nope` did not run"));
    assert!(serde_json::to_string(&out).is_ok());
}

#[test]
fn judge_sets_thresholds_comparison_and_exit_code() {
    let b = baseline_of(&make_result(&Shape::default().seed(3)));
    let opts = CompareOptions::default();

    let ok = make_result(&Shape::default().seed(4));
    let ok = judge(
        ok.into_measurement(),
        &[th("p95 < 250ms", None, ThresholdMetric::P95, Op::Lt, 250.0)],
        Some(&b),
        &opts,
    );
    assert_eq!((ok.verdict, ok.exit_code), (Verdict::Pass, 0));
    assert!(ok.comparison.is_some() && ok.thresholds.len() == 1);

    let slow = make_result(&Shape::default().latency(125.0).seed(4));
    let slow = judge(slow.into_measurement(), &[], Some(&b), &opts);
    assert_eq!((slow.verdict, slow.exit_code), (Verdict::Fail, 1));

    let breached = make_result(&Shape::default().seed(4));
    let breached = judge(
        breached.into_measurement(),
        &[th("p95 < 100ms", None, ThresholdMetric::P95, Op::Lt, 100.0)],
        None,
        &opts,
    );
    assert_eq!((breached.verdict, breached.exit_code), (Verdict::Fail, 1));
    assert!(breached.comparison.is_none());

    let mut aborted = make_result(&Shape::default().latency(125.0).seed(4));
    aborted.verdict = Verdict::Aborted;
    let aborted = judge(aborted.into_measurement(), &[], Some(&b), &opts);
    assert_eq!((aborted.verdict, aborted.exit_code), (Verdict::Aborted, 3));
}

#[test]
fn dropped_thresholds_and_the_no_success_guard() {
    let mut r = make_result(&Shape::default());
    r.totals.dropped = r.totals.requests; // half the arrivals were never sent
    let out = evaluate(
        &[
            th("dropped == 0", None, ThresholdMetric::Dropped, Op::Le, 0.0),
            th(
                "dropped_rate < 1%",
                None,
                ThresholdMetric::DroppedRate,
                Op::Lt,
                0.01,
            ),
            th(
                "dropped_rate < 60%",
                None,
                ThresholdMetric::DroppedRate,
                Op::Lt,
                0.6,
            ),
        ],
        &r.measurement(),
    );
    assert!(!out[0].pass && out[0].observed == r.totals.requests as f64);
    assert!(!out[1].pass && (out[1].observed - 0.5).abs() < 1e-9);
    assert_eq!(out[1].unit, "ratio");
    assert!(out[2].pass);

    // No threshold at all, nothing succeeded: the guard fails the run.
    let mut dead = make_result(&Shape::default());
    dead.totals.ok = 0;
    dead.totals.errors = dead.totals.requests;
    let dead = judge(
        dead.into_measurement(),
        &[],
        None,
        &CompareOptions::default(),
    );
    assert_eq!((dead.verdict, dead.exit_code), (Verdict::Fail, 1));
    assert!(
        dead.reasons[0].starts_with("no request succeeded"),
        "{:?}",
        dead.reasons
    );

    // A latency threshold on a request that never succeeded: n/a, and it fails.
    let mut r = make_result(&Shape::default().requests(&["ok", "dead"]));
    let d = r.requests.get_mut("dead").unwrap();
    d.ok = 0;
    d.errors = d.requests;
    let r = judge(
        r.into_measurement(),
        &[th(
            "dead.p99 < 1s",
            Some("dead"),
            ThresholdMetric::P99,
            Op::Lt,
            1000.0,
        )],
        None,
        &CompareOptions::default(),
    );
    let t = &r.thresholds[0];
    assert!(
        !t.pass && t.no_data && t.expr.contains("no request succeeded"),
        "{t:?}"
    );
    assert_eq!(
        r.reasons,
        ["dead p99 n/a: no request succeeded (limit < 1 s)"]
    );
}
