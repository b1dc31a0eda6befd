//! Comparison against a baseline: tolerance directions, significance, inconclusive and strict,
//! scenario and environment differences, `--repeat` medians.

use perfgate::gate::{compare, verdict, CompareOptions};
use perfgate::result::fold::median_measurement;
use perfgate::result::{Comparison, ComparisonVerdict, MetricComparison, MetricVerdict, Verdict};
use perfgate::scenario::units::{TolMetric, TolValue};

use crate::support::shapes::{baseline_of, make_result, Shape};

fn run(base: Shape, current: Shape) -> Comparison {
    run_with(base, current, &CompareOptions::default())
}

fn run_with(base: Shape, current: Shape, opts: &CompareOptions) -> Comparison {
    let b = baseline_of(&make_result(&base.seed(11)));
    compare(&make_result(&current.seed(22)).measurement(), &b, opts)
}

fn metric<'a>(c: &'a Comparison, request: &str, name: &str) -> &'a MetricComparison {
    c.metrics
        .iter()
        .find(|m| m.request == request && m.metric == name)
        .unwrap_or_else(|| panic!("no {request}.{name} in {:#?}", c.metrics))
}

#[test]
fn slower_latency_regresses_and_fails() {
    let c = run(Shape::default(), Shape::default().latency(120.0));
    for req in ["_total", "api"] {
        for name in ["p50", "p90", "p95", "p99", "mean"] {
            let m = metric(&c, req, name);
            assert_eq!(m.verdict, MetricVerdict::Regressed, "{m:?}");
            assert!(m.change > 10.0 && m.change < 30.0, "{m:?}");
            assert!(m.p_value.unwrap() < 0.05);
            assert_eq!((m.unit.as_str(), m.tolerance.as_str()), ("ms", "10%"));
        }
    }
    assert_eq!(
        metric(&c, "api", "throughput").verdict,
        MetricVerdict::Unchanged
    );
    assert_eq!(c.verdict, ComparisonVerdict::Fail);
    assert!(!c.scenario_changed && c.env_mismatch.is_empty());
    assert!(c.method.contains("Mann-Whitney"));
}

#[test]
fn faster_latency_improves_and_never_fails() {
    let c = run(Shape::default(), Shape::default().latency(75.0));
    let m = metric(&c, "_total", "p95");
    assert_eq!(m.verdict, MetricVerdict::Improved);
    assert!(m.change < -10.0);
    assert!(c
        .metrics
        .iter()
        .all(|m| m.verdict != MetricVerdict::Regressed));
    assert_eq!(c.verdict, ComparisonVerdict::Pass);
}

#[test]
fn lower_throughput_regresses_higher_improves() {
    let c = run(Shape::default(), Shape::default().rps(75.0));
    let m = metric(&c, "_total", "throughput");
    assert_eq!(
        (m.verdict, m.unit.as_str()),
        (MetricVerdict::Regressed, "rps")
    );
    assert!(m.change < -10.0);
    assert_eq!(c.verdict, ComparisonVerdict::Fail);

    let c = run(Shape::default(), Shape::default().rps(130.0));
    assert_eq!(
        metric(&c, "_total", "throughput").verdict,
        MetricVerdict::Improved
    );
    assert_eq!(c.verdict, ComparisonVerdict::Pass);
}

#[test]
fn higher_error_rate_regresses_in_percentage_points() {
    let c = run(
        Shape::default().errors(0.001),
        Shape::default().errors(0.03),
    );
    let m = metric(&c, "api", "error_rate");
    assert_eq!(
        (m.verdict, m.unit.as_str()),
        (MetricVerdict::Regressed, "ratio")
    );
    assert!((m.change - 2.9).abs() < 1.0, "change in pp: {}", m.change);
    assert_eq!(m.tolerance, "0.5pp");
    assert_eq!(c.verdict, ComparisonVerdict::Fail);

    // +0.2pp is inside the default 0.5pp.
    let c = run(
        Shape::default().errors(0.001),
        Shape::default().errors(0.003),
    );
    assert_eq!(
        metric(&c, "api", "error_rate").verdict,
        MetricVerdict::Unchanged
    );

    // Fewer errors: improved, never a failure.
    let c = run(Shape::default().errors(0.03), Shape::default().errors(0.0));
    assert_eq!(
        metric(&c, "api", "error_rate").verdict,
        MetricVerdict::Improved
    );
    assert_eq!(c.verdict, ComparisonVerdict::Pass);
}

#[test]
fn pure_noise_is_not_flagged_in_ten_runs() {
    for seed in 0..10 {
        let b = baseline_of(&make_result(&Shape::default().seed(100 + seed)));
        let cur = make_result(&Shape::default().seed(200 + seed));
        let c = compare(&cur.measurement(), &b, &CompareOptions::default());
        assert_eq!(c.verdict, ComparisonVerdict::Pass, "seed {seed}: {c:#?}");
        assert!(
            c.metrics
                .iter()
                .all(|m| matches!(m.verdict, MetricVerdict::Unchanged)),
            "seed {seed}"
        );
    }
}

#[test]
fn noisy_shift_past_a_tight_tolerance_is_not_called_a_regression_without_evidence() {
    // A 0.5% tolerance with ±10% noise and a tiny 1% shift: past tolerance only by luck, and the
    // windows say it is noise.
    let mut opts = CompareOptions::default();
    opts.tolerances
        .insert(TolMetric::P95, TolValue::Percent(0.5));
    let mut regressed = 0;
    for seed in 0..10 {
        let b = baseline_of(&make_result(&Shape::default().seed(300 + seed)));
        let cur = make_result(&Shape::default().latency(101.0).seed(400 + seed));
        let c = compare(&cur.measurement(), &b, &opts);
        if metric(&c, "_total", "p95").verdict == MetricVerdict::Regressed {
            regressed += 1;
        }
    }
    assert!(regressed <= 2, "{regressed}/10 flagged");
}

#[test]
fn large_change_with_two_windows_is_inconclusive() {
    let base = Shape::default().windows(2);
    let cur = Shape::default().windows(2).latency(150.0);
    let c = run(base.clone(), cur.clone());
    let m = metric(&c, "_total", "p95");
    assert_eq!(m.verdict, MetricVerdict::Inconclusive);
    assert_eq!(m.p_value, None);
    assert!(m.change > 30.0);
    assert_eq!(c.verdict, ComparisonVerdict::Pass);

    let strict = CompareOptions {
        strict: true,
        ..Default::default()
    };
    let c = run_with(base, cur, &strict);
    assert_eq!(c.verdict, ComparisonVerdict::Fail);
}

#[test]
fn strict_in_verdict_fails_inconclusive_comparisons() {
    let b = baseline_of(&make_result(&Shape::default().windows(2)));
    let cur = make_result(&Shape::default().windows(2).latency(150.0).seed(5));
    let cur = cur.measurement();
    let c = compare(&cur, &b, &CompareOptions::default());
    assert_eq!(verdict(&cur, &[], Some(&c), false), Verdict::Pass);
    assert_eq!(verdict(&cur, &[], Some(&c), true), Verdict::Fail);
}

#[test]
fn tolerances_from_options_apply() {
    let mut opts = CompareOptions::default();
    for m in TolMetric::ALL {
        opts.tolerances.insert(m, TolValue::Percent(30.0));
    }
    let c = run_with(Shape::default(), Shape::default().latency(120.0), &opts);
    assert!(c
        .metrics
        .iter()
        .all(|m| m.verdict == MetricVerdict::Unchanged));
    assert_eq!(metric(&c, "_total", "p99").tolerance, "30%");
    assert_eq!(c.verdict, ComparisonVerdict::Pass);
}

#[test]
fn scenario_change_env_mismatch_and_request_notes() {
    let base = make_result(&Shape::default().requests(&["api", "old"]).seed(1));
    let mut b = baseline_of(&base);
    b.provenance.host.cpu_model = "Other CPU".into();
    b.provenance.host.cpus = 16;
    b.provenance.host.os = "macos".into();
    b.provenance.perfgate_version = "0.0.9".into();
    let mut cur = make_result(&Shape::default().requests(&["api", "new"]).seed(2));
    cur.scenario.hash = "hash-2".into();
    let c = compare(&cur.measurement(), &b, &CompareOptions::default());
    assert!(c.scenario_changed);
    let env = c.env_mismatch.join("\n");
    assert!(env.contains("CPU model differs: baseline `Other CPU`, this run `Test CPU @ 3.0GHz`"));
    assert!(env.contains("CPU count differs: baseline 16, this run 2"));
    assert!(env.contains("OS/arch differs: baseline macos/x86_64, this run linux/x86_64"));
    assert!(env.contains("perfgate version differs: baseline 0.0.9"));
    let notes = c.notes.join("\n");
    assert!(notes.contains("`old` is only in the baseline"), "{notes}");
    assert!(notes.contains("`new` is new since the baseline"), "{notes}");
    assert!(c
        .metrics
        .iter()
        .all(|m| m.request != "old" && m.request != "new"));
    assert!(c.metrics.iter().any(|m| m.request == "api"));
}

#[test]
fn comparison_serializes_without_non_finite_numbers() {
    // A baseline of zeros (nothing ran) must not produce NaN or infinity in result.json.
    let b = baseline_of(&make_result(&Shape::default().rps(0.0)));
    let cur = make_result(&Shape::default());
    let c = compare(&cur.measurement(), &b, &CompareOptions::default());
    let json = serde_json::to_string(&c).unwrap();
    let back: Comparison = serde_json::from_str(&json).unwrap();
    assert_eq!(back.metrics.len(), c.metrics.len());
    assert!(c.metrics.iter().all(|m| m.change.is_finite()));
}

#[test]
fn repeat_takes_medians_and_keeps_every_window() {
    let runs: Vec<_> = [90.0, 130.0, 100.0]
        .iter()
        .enumerate()
        .map(|(i, &ms)| make_result(&Shape::default().latency(ms).seed(i as u64 + 1)).measurement())
        .collect();
    let m = median_measurement(&runs).unwrap();
    let p95s: Vec<f64> = runs.iter().map(|r| r.totals.latency_ms.p95).collect();
    let mut sorted = p95s.clone();
    sorted.sort_by(f64::total_cmp);
    assert_eq!(m.totals.latency_ms.p95, sorted[1]);
    assert_eq!(m.requests["api"].latency_ms.p95, {
        let mut v: Vec<f64> = runs
            .iter()
            .map(|r| r.requests["api"].latency_ms.p95)
            .collect();
        v.sort_by(f64::total_cmp);
        v[1]
    });
    assert_eq!(m.request_series["_total"].len(), 90);
    assert_eq!(m.request_series["_total"][30].t_s, 30.0);
    assert_eq!(m.duration_s, 90.0);
    let info = m.repeat.as_ref().unwrap();
    assert_eq!((info.runs, info.totals.len()), (3, 3));
    assert!(median_measurement(&[]).is_none());

    let b = baseline_of(&make_result(&Shape::default().seed(9)));
    let c = compare(&m, &b, &CompareOptions::default());
    assert!(c.notes.iter().any(|n| n.contains("medians of 3 runs")));
}

#[test]
fn total_falls_back_to_timeseries_without_request_series() {
    use perfgate::result::Window;
    let to_windows = |r: &mut perfgate::result::RunResult| {
        r.timeseries = r.request_series["_total"]
            .iter()
            .map(|p| Window {
                t_s: p.t_s,
                requests: p.requests,
                errors: p.errors,
                throughput_rps: p.throughput_rps,
                p50_ms: p.p50_ms,
                p90_ms: p.p90_ms,
                p99_ms: p.p99_ms,
                max_ms: p.p99_ms * 1.5,
                active: 10.0,
                stage: Some(0),
                ..Default::default()
            })
            .collect();
        r.request_series.clear();
    };
    let mut base = make_result(&Shape::default().seed(1));
    let mut cur = make_result(&Shape::default().latency(125.0).seed(2));
    to_windows(&mut base);
    to_windows(&mut cur);
    let c = compare(
        &cur.measurement(),
        &baseline_of(&base),
        &CompareOptions::default(),
    );
    // p50 and p99 are in the windows; p95 and mean are not, so they cannot be confirmed.
    assert_eq!(
        metric(&c, "_total", "p99").verdict,
        MetricVerdict::Regressed
    );
    assert_eq!(
        metric(&c, "_total", "p95").verdict,
        MetricVerdict::Inconclusive
    );
    assert_eq!(
        metric(&c, "api", "p99").verdict,
        MetricVerdict::Inconclusive
    );
    assert!(c
        .notes
        .iter()
        .any(|n| n.contains("api: baseline has no per-second series")));
    assert_eq!(c.verdict, ComparisonVerdict::Fail);
}

#[test]
fn summary_and_windows_disagreeing_is_inconclusive() {
    // The summary p95 says +50 %, but the windows moved the other way.
    let b = baseline_of(&make_result(&Shape::default().seed(1)));
    let mut cur = make_result(&Shape::default().latency(80.0).seed(2));
    cur.totals.latency_ms.p95 = b.result.totals.latency_ms.p95 * 1.5;
    let c = compare(&cur.measurement(), &b, &CompareOptions::default());
    let m = metric(&c, "_total", "p95");
    assert!(m.change > 40.0 && m.p_value.unwrap() < 0.05);
    assert_eq!(m.verdict, MetricVerdict::Inconclusive);
}

#[test]
fn a_run_with_no_successful_response_cannot_pass_the_latency_comparison() {
    let b = baseline_of(&make_result(&Shape::default().seed(11)));
    let mut cur = make_result(&Shape::default().seed(22));
    // Every request failed: its latency numbers describe no successful response.
    for m in std::iter::once(&mut cur.totals).chain(cur.requests.values_mut()) {
        m.errors = m.requests;
        m.ok = 0;
        m.error_rate = 1.0;
    }
    let c = compare(&cur.measurement(), &b, &CompareOptions::default());
    for req in ["_total", "api"] {
        for name in ["p50", "p90", "p95", "p99", "mean"] {
            let m = metric(&c, req, name);
            assert_eq!(m.verdict, MetricVerdict::NoData, "{m:?}");
            assert_eq!(m.p_value, None);
        }
    }
    assert_eq!(c.verdict, ComparisonVerdict::Fail);
    let cur = perfgate::gate::decide(cur.into_measurement(), Vec::new(), Some(c), false);
    assert_eq!(cur.exit_code, 1);
    assert!(cur.reasons[0].starts_with("no request succeeded"));
    let p50 = cur
        .reasons
        .iter()
        .find(|r| r.starts_with("p50 "))
        .unwrap_or_else(|| panic!("{:?}", cur.reasons));
    assert!(
        p50.starts_with("p50 n/a vs baseline: no successful response in this run (baseline "),
        "{p50}"
    );
}

/// A result of `shape` whose watched server held about `mb` MB and used about `cpu` % CPU
/// each second (a little seeded spread).
fn with_sut(shape: Shape, mb: f64, cpu: f64) -> perfgate::result::RunResult {
    let mut r = make_result(&shape);
    r.timeseries = (0..r.request_series["_total"].len())
        .map(|i| {
            let jitter = ((i * 7919) % 13) as f64 / 13.0 - 0.5;
            perfgate::result::Window {
                t_s: i as f64,
                stage: Some(0),
                sut_rss_bytes: Some(((mb + jitter) * 1048576.0) as u64),
                sut_cpu_pct: Some(cpu + jitter * 2.0),
                ..Default::default()
            }
        })
        .collect();
    r
}

#[test]
fn a_server_that_doubles_its_memory_regresses_like_a_slower_p99() {
    let b = baseline_of(&with_sut(Shape::default().seed(11), 200.0, 40.0));
    let c = compare(
        &with_sut(Shape::default().seed(22), 400.0, 41.0).measurement(),
        &b,
        &CompareOptions::default(),
    );
    let rss = metric(&c, "_sut", "sut.rss");
    assert_eq!(rss.verdict, MetricVerdict::Regressed, "{rss:?}");
    assert!((rss.change - 100.0).abs() < 2.0, "{rss:?}");
    assert_eq!(
        (rss.unit.as_str(), rss.tolerance.as_str()),
        ("bytes", "10%")
    );
    let cpu = metric(&c, "_sut", "sut.cpu");
    assert_eq!(cpu.verdict, MetricVerdict::Unchanged, "{cpu:?}");
    assert_eq!(cpu.tolerance, "20%");
    assert_eq!(c.verdict, ComparisonVerdict::Fail);
    // Same server, same memory: nothing to say.
    let same = compare(
        &with_sut(Shape::default().seed(22), 200.0, 40.0).measurement(),
        &b,
        &CompareOptions::default(),
    );
    assert_eq!(
        metric(&same, "_sut", "sut.rss").verdict,
        MetricVerdict::Unchanged
    );
    assert_eq!(same.verdict, ComparisonVerdict::Pass);
    // A baseline taken before the monitor: not compared, and the comparison says so.
    let old = baseline_of(&make_result(&Shape::default().seed(11)));
    let c = compare(
        &with_sut(Shape::default().seed(22), 400.0, 40.0).measurement(),
        &old,
        &CompareOptions::default(),
    );
    assert!(c.metrics.iter().all(|m| m.request != "_sut"));
    assert!(c
        .notes
        .iter()
        .any(|n| n.contains("no sample of the system under test")));
}
