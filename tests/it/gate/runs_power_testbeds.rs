//! Issue 8, items 1–3: baselines of several runs (the run as the unit of replication), the
//! power statement, and testbeds — on seeded synthetic runs.

use perfgate::gate::{self, compare, Baseline, CompareOptions};
use perfgate::result::fold::median_measurement;
use perfgate::result::{Comparison, ComparisonVerdict, Measurement, MetricVerdict, Verdict};

use crate::support::results::Rng;
use crate::support::shapes::{baseline_of, make_result, Shape};

/// A baseline of one run per shape, as `baseline refresh --runs N` takes it: the fold of the
/// runs (medians, every window) and each run's summary.
fn baseline(shapes: &[Shape]) -> Baseline {
    let runs: Vec<Measurement> = shapes
        .iter()
        .map(|s| make_result(s).measurement())
        .collect();
    let folded = median_measurement(&runs).expect("runs");
    let result = gate::judge(folded, &[], None, &CompareOptions::default());
    baseline_of(&result).with_runs(&runs)
}

/// Three runs of `windows` seconds around `latencies` ms.
fn runs(latencies: [f64; 3], windows: usize, seed: u64) -> Vec<Shape> {
    latencies
        .iter()
        .enumerate()
        .map(|(i, &l)| {
            Shape::default()
                .latency(l)
                .windows(windows)
                .seed(seed * 10 + i as u64)
        })
        .collect()
}

fn against(b: &Baseline, current: Shape, opts: &CompareOptions) -> Comparison {
    compare(&make_result(&current).measurement(), b, opts)
}

fn verdict_of(c: &Comparison, request: &str, metric: &str) -> MetricVerdict {
    c.metrics
        .iter()
        .find(|m| m.request == request && m.metric == metric)
        .unwrap_or_else(|| panic!("no {request}.{metric}"))
        .verdict
}

fn regressed(c: &Comparison) -> Vec<String> {
    c.metrics
        .iter()
        .filter(|m| m.verdict == MetricVerdict::Regressed)
        .map(|m| format!("{}.{} {:+.1}%", m.request, m.metric, m.change))
        .collect()
}

#[test]
fn a_a_over_many_seeds_never_fails() {
    // Each run (baseline and current) drifts by up to ±5 % as a whole, windows by ±10 %.
    let mut rng = Rng::new(8);
    for seed in 1..=25 {
        let mut run_level = || rng.noisy(100.0, 0.05);
        let b = baseline(&runs([run_level(), run_level(), run_level()], 15, seed));
        let current = Shape::default()
            .latency(run_level())
            .windows(15)
            .seed(1000 + seed);
        let c = against(&b, current, &CompareOptions::default());
        assert_eq!(
            c.verdict,
            ComparisonVerdict::Pass,
            "seed {seed}: {:?}",
            regressed(&c)
        );
        assert_eq!(c.baseline_runs, 3);
    }
}

#[test]
fn a_shifted_median_fails() {
    for seed in 1..=5 {
        let b = baseline(&runs([100.0, 101.0, 99.0], 15, seed));
        let c = against(
            &b,
            Shape::default().latency(125.0).windows(15).seed(500 + seed),
            &CompareOptions::default(),
        );
        assert_eq!(c.verdict, ComparisonVerdict::Fail, "seed {seed}");
        assert_eq!(verdict_of(&c, "_total", "p50"), MetricVerdict::Regressed);
    }
}

#[test]
fn a_shifted_tail_alone_fails() {
    // p99 +40 %, the median where it was.
    let b = baseline(&runs([100.0, 101.0, 99.0], 15, 3));
    let c = against(
        &b,
        Shape::default().tail(2.8).windows(15).seed(77),
        &CompareOptions::default(),
    );
    assert_eq!(verdict_of(&c, "_total", "p99"), MetricVerdict::Regressed);
    assert_eq!(verdict_of(&c, "_total", "p50"), MetricVerdict::Unchanged);
    assert_eq!(c.verdict, ComparisonVerdict::Fail);
}

#[test]
fn one_slow_run_among_the_baselines_runs_is_not_a_false_alarm() {
    // One baseline run saw a noisy neighbour (+25 %). A new run as slow as that one is within
    // what the baseline's runs vary by: not a regression (it would be against one run).
    let b = baseline(&runs([100.0, 100.0, 125.0], 15, 4));
    let current = Shape::default().latency(120.0).windows(15).seed(44);
    let c = against(&b, current.clone(), &CompareOptions::default());
    assert!(regressed(&c).is_empty(), "{:?}", regressed(&c));
    assert_eq!(c.verdict, ComparisonVerdict::Pass);
    assert_ne!(verdict_of(&c, "_total", "p50"), MetricVerdict::Regressed);
    // A normal run is not a regression either (the median ignores the slow run).
    let c = against(
        &b,
        Shape::default().windows(15).seed(45),
        &CompareOptions::default(),
    );
    assert_eq!(c.verdict, ComparisonVerdict::Pass);
    // The same new run against three steady runs is one.
    let steady = baseline(&runs([100.0, 100.0, 100.0], 15, 4));
    let c = against(&steady, current, &CompareOptions::default());
    assert_eq!(verdict_of(&c, "_total", "p50"), MetricVerdict::Regressed);
    // And far past the slow run, it is caught despite it.
    let c = against(
        &b,
        Shape::default().latency(180.0).windows(15).seed(46),
        &CompareOptions::default(),
    );
    assert_eq!(verdict_of(&c, "_total", "p50"), MetricVerdict::Regressed);
}

#[test]
fn an_old_single_run_baseline_still_gates_with_a_note() {
    let b = baseline_of(&make_result(&Shape::default().seed(11)));
    assert!(b.runs.is_empty() && b.provenance.testbed.is_none());
    let c = against(
        &b,
        Shape::default().latency(130.0).seed(12),
        &CompareOptions::default(),
    );
    assert_eq!(c.baseline_runs, 1);
    assert!(!c.informational, "its testbed is derived from its host");
    assert!(
        c.notes.iter().any(|n| n.contains("holds one run")),
        "{:?}",
        c.notes
    );
    assert_eq!(c.verdict, ComparisonVerdict::Fail);
}

#[test]
fn every_metric_states_what_it_could_detect() {
    // Three 15 s runs against a 15 s run, ±10 % uniform window noise (σ ≈ 5.8 %): the p50
    // window test detects (z(1 − 0.05/2m) + z(0.8)) · √(π/3) · σ · √(1/45 + 1/15) with m = 14
    // tested metrics ≈ 3.8 · 1.02 · 5.8 % · 0.30 ≈ 6.6 % (sampled σ differs a little); the
    // runs' spread (±1 %) is smaller.
    let b = baseline(&runs([100.0, 101.0, 99.0], 15, 5));
    let c = against(
        &b,
        Shape::default().windows(15).seed(55),
        &CompareOptions::default(),
    );
    let p50 = c
        .metrics
        .iter()
        .find(|m| m.request == "_total" && m.metric == "p50")
        .unwrap();
    let d = p50.detectable.expect("detectable");
    assert!((5.0..8.5).contains(&d), "{d}");
    assert!(c.underpowered.is_none(), "{:?}", c.underpowered);
}

#[test]
fn a_comparison_that_cannot_fail_says_so_and_strict_fails_it() {
    // A 5 s run against a one-run 5 s baseline: with 14 metrics tested, 5 windows a side can
    // never reach significance (complete separation gives p ≈ 0.012, × 14 > 0.05).
    let b = baseline_of(&make_result(&Shape::default().windows(5).seed(1)));
    let m = make_result(&Shape::default().latency(200.0).windows(5).seed(2)).measurement();
    let c = compare(&m, &b, &CompareOptions::default());
    let line = c.underpowered.clone().expect("underpowered");
    assert!(
        line.starts_with("baseline comparison cannot fail: 5 windows, needs ≈ "),
        "{line}"
    );
    assert!(line.contains("s to detect 10%"), "{line}");
    assert!(c.notes.contains(&line));
    assert!(c.metrics.iter().all(|m| m.detectable.is_none()));
    // Not strict: a +100 % run passes (nothing could be detected), and says why in its
    // warnings, which every report shows.
    let r = gate::judge(m.clone(), &[], Some(&b), &CompareOptions::default());
    assert_eq!(r.verdict, Verdict::Pass);
    assert_eq!(r.warnings, vec![line.clone()]);
    // Strict: a failure, with the line as its reason.
    let strict = CompareOptions {
        strict: true,
        ..CompareOptions::default()
    };
    let r = gate::judge(m, &[], Some(&b), &strict);
    assert_eq!(r.verdict, Verdict::Fail);
    assert!(
        r.reasons.iter().any(|x| x.contains(&line)),
        "{:?}",
        r.reasons
    );
}

#[test]
fn a_five_second_run_catches_fifty_percent_against_a_three_run_baseline() {
    let b = baseline(&runs([100.0, 101.0, 99.0], 5, 6));
    let c = against(
        &b,
        Shape::default().latency(150.0).windows(5).seed(66),
        &CompareOptions::default(),
    );
    assert_eq!(verdict_of(&c, "_total", "p50"), MetricVerdict::Regressed);
    assert_eq!(c.verdict, ComparisonVerdict::Fail);
}

#[test]
fn another_testbeds_baseline_is_informational() {
    let mut b = baseline(&runs([100.0, 101.0, 99.0], 15, 7));
    b.provenance.testbed = Some("intel-xeon-2".into());
    let slow = make_result(&Shape::default().latency(150.0).windows(15).seed(70)).measurement();
    let opts = CompareOptions::default().on_testbed(Some("amd-epyc-2".into()));
    let r = gate::judge(slow.clone(), &[], Some(&b), &opts);
    let c = r.comparison.as_ref().unwrap();
    assert!(c.informational);
    assert_eq!(
        c.notes[0],
        "no baseline for testbed amd-epyc-2: comparing with intel-xeon-2, informational"
    );
    // The regression is shown but does not fail the run, even with --strict.
    assert_eq!(verdict_of(c, "_total", "p50"), MetricVerdict::Regressed);
    assert_eq!(c.verdict, ComparisonVerdict::Pass);
    assert_eq!(r.verdict, Verdict::Pass);
    assert!(r.reasons.is_empty(), "{:?}", r.reasons);
    let strict = CompareOptions {
        strict: true,
        ..opts.clone()
    };
    assert_eq!(
        gate::judge(slow.clone(), &[], Some(&b), &strict).verdict,
        Verdict::Pass
    );
    // On its own testbed, the same run fails.
    let own = CompareOptions::default().on_testbed(Some("intel-xeon-2".into()));
    let r = gate::judge(slow.clone(), &[], Some(&b), &own);
    assert!(!r.comparison.as_ref().unwrap().informational);
    assert_eq!(r.verdict, Verdict::Fail);
    // Without a name, the testbed is derived from each side's host: same host, same testbed.
    b.provenance.testbed = None;
    let r = gate::judge(slow, &[], Some(&b), &CompareOptions::default());
    let c = r.comparison.as_ref().unwrap();
    assert_eq!(c.testbed, "test-2cpu-linux");
    assert_eq!(c.baseline_testbed, c.testbed);
    assert_eq!(r.verdict, Verdict::Fail);
}
