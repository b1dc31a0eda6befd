//! Fixture results for the report tests and the report benchmark: a realistic stress-like run,
//! a one-hour soak, a degenerate empty run, and a hostile one whose strings try to break out
//! of markup; and what every built result shares (seeded noise, histogram encoding, the
//! blank result). Deterministic: no clock, no randomness beyond a seeded generator. Kept free
//! of other test modules: `benches/report.rs` mounts this file alone.

#![allow(dead_code)]

use std::collections::BTreeMap;

use base64::Engine as _;
use hdrhistogram::serialization::{Serializer, V2Serializer};
use hdrhistogram::Histogram;
use perfgate::result::*;

pub const XSS_SCRIPT: &str = "<script>alert(1)</script>";
pub const XSS_ATTR: &str = "\"><img src=x onerror=alert(1)>";

/// xorshift64*: deterministic noise for every built result (no `rand` dependency).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).max(1))
    }
    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
    /// `c` with uniform relative noise ±`rel`.
    pub fn noisy(&mut self, c: f64, rel: f64) -> f64 {
        c * (1.0 + rel * (2.0 * self.f64() - 1.0))
    }
}

/// A histogram as `result.json` stores it: base64 of its HDR V2 serialization.
pub fn encode(h: &Histogram<u64>) -> String {
    let mut bytes = Vec::new();
    V2Serializer::new()
        .serialize(h, &mut bytes)
        .expect("serialize");
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A base64 HDR V2 histogram (µs) of `n` latencies around `median_ms` with a long tail.
pub fn histogram_b64(n: usize, median_ms: f64, seed: u64) -> String {
    let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
    let mut rng = Rng::new(seed);
    for _ in 0..n {
        let u = rng.f64().max(1e-9);
        // Pareto-ish tail: most near the median, a few far out.
        let ms = median_ms * (0.5 + u) / (1.0 - u * 0.98).powf(0.7);
        h.record((ms * 1000.0).max(1.0) as u64).unwrap();
    }
    encode(&h)
}

pub fn metrics(requests: u64, errors: u64, rps: f64, p50: f64) -> Metrics {
    Metrics {
        requests,
        ok: requests - errors,
        errors,
        dropped: 0,
        error_rate: if requests == 0 {
            0.0
        } else {
            errors as f64 / requests as f64
        },
        throughput_rps: rps,
        latency_ms: Latency {
            min: p50 * 0.3,
            mean: p50 * 1.2,
            p50,
            p90: p50 * 1.8,
            p95: p50 * 2.2,
            p99: p50 * 3.5,
            p999: p50 * 6.0,
            max: p50 * 9.0,
            stdev: p50 * 0.4,
        },
        errors_by_class: ErrorCounts {
            timeout: errors / 3,
            http_5xx: errors - errors / 3,
            ..ErrorCounts::default()
        },
        status_codes: BTreeMap::from([("200".to_string(), requests - errors)]),
        bytes_received: requests * 512,
        attempted_rps: rps,
        ..Metrics::default()
    }
}

fn window(t: f64, stage: Option<usize>, active: f64, rps: f64, p50: f64, errors: u64) -> Window {
    Window {
        t_s: t,
        requests: rps as u64,
        errors,
        throughput_rps: rps,
        attempted_rps: rps,
        p50_ms: p50,
        p90_ms: p50 * 1.8,
        p99_ms: p50 * 3.5,
        max_ms: p50 * 9.0,
        active,
        stage,
        dropped: 0,
        errors_by_class: ErrorCounts {
            timeout: errors / 3,
            http_5xx: errors - errors / 3,
            ..ErrorCounts::default()
        },
        ..Window::default()
    }
}

fn mc(
    request: &str,
    metric: &str,
    base: f64,
    cur: f64,
    p: Option<f64>,
    v: MetricVerdict,
) -> MetricComparison {
    MetricComparison {
        request: request.into(),
        metric: metric.into(),
        unit: if metric == "throughput" { "rps" } else { "ms" }.into(),
        baseline: base,
        current: cur,
        change: (cur - base) / base * 100.0,
        tolerance: "10%".into(),
        p_value: p,
        verdict: v,
        detectable: None,
    }
}

/// 3 stages (stress-like: 10, 50, 100 vus), 3 s warm-up, 30 windows, 2 request names, errors
/// of 2 classes, one passing and one failing threshold, a comparison with all four verdicts.
pub fn realistic() -> RunResult {
    let mut r = realistic_unjudged();
    // What the gate says about it: a threshold failed and a metric regressed.
    r.reasons = perfgate::gate::reasons(&r, false);
    r
}

fn realistic_unjudged() -> RunResult {
    let levels: [f64; 3] = [10.0, 50.0, 100.0];
    let mut timeseries = Vec::new();
    for t in 0..33 {
        let (stage, active) = if t < 3 {
            (None, 10.0)
        } else {
            let s = ((t - 3) / 10) as usize;
            (Some(s), levels[s])
        };
        let lvl: f64 = active;
        let rps = (lvl * 20.0).min(1400.0) + (t % 4) as f64 * 10.0;
        let p50 = if lvl > 60.0 { 45.0 } else { 8.0 + lvl * 0.1 } + (t % 3) as f64;
        let errors = if lvl > 60.0 {
            6 + (t % 5) as u64
        } else {
            (t % 7 == 0) as u64
        };
        let mut w = window(t as f64, stage, active, rps, p50, errors);
        // The watched server (`monitor:`): memory creeping up, CPU following the load.
        w.sut_rss_bytes = Some((180 << 20) + t as u64 * (1 << 19));
        w.sut_cpu_pct = Some((lvl * 0.6).min(75.0) + (t % 3) as f64);
        timeseries.push(w);
    }
    let stages = levels
        .iter()
        .enumerate()
        .map(|(i, &lvl)| StageResult {
            index: i,
            name: None,
            target: lvl,
            unit: LevelUnit::Vus,
            start_s: 3.0 + 10.0 * i as f64,
            end_s: 13.0 + 10.0 * i as f64,
            metrics: metrics(
                (lvl * 200.0).min(14000.0) as u64,
                if lvl > 60.0 { 80 } else { 2 },
                (lvl * 20.0).min(1400.0),
                if lvl > 60.0 { 45.0 } else { 8.0 + lvl * 0.1 },
            ),
            sut_cpu_pct: Some((lvl * 0.6).min(75.0) + 1.0),
            sut_rss_bytes: Some((180 << 20) + (12 + 10 * i as u64) * (1 << 19)),
        })
        .collect();
    let mut requests = BTreeMap::new();
    requests.insert("list-items".to_string(), metrics(20000, 60, 666.0, 12.0));
    requests.insert("get-item".to_string(), metrics(6000, 24, 200.0, 6.5));
    let mut histograms = BTreeMap::new();
    histograms.insert(TOTAL_KEY.to_string(), histogram_b64(20000, 11.0, 1));
    histograms.insert("list-items".to_string(), histogram_b64(15000, 12.0, 2));
    histograms.insert("get-item".to_string(), histogram_b64(5000, 6.5, 3));
    RunResult {
        schema: RESULT_SCHEMA.into(),
        tool: ToolInfo::default(),
        scenario: ScenarioInfo {
            name: "checkout-stress".into(),
            kind: Kind::Stress,
            file: "scenarios/checkout.yaml".into(),
            hash: "abc123".into(),
            description: Some("Stress the checkout API".into()),
            target: "http://127.0.0.1:8080".into(),
            model: LoadModel::Closed,
        },
        host: HostInfo {
            os: "linux".into(),
            arch: "x86_64".into(),
            cpus: 2,
            cpu_model: "Test CPU @ 3.0GHz".into(),
            threads: 2,
            ..HostInfo::default()
        },
        started_at: "2026-11-22T10:00:00Z".into(),
        duration_s: 33.0,
        verdict: Verdict::Fail,
        exit_code: 1,
        totals: metrics(26000, 84, 866.0, 11.0),
        warmup: Some(metrics(600, 0, 200.0, 9.0)),
        requests,
        stages,
        timeseries,
        request_series: BTreeMap::new(),
        histograms,
        error_samples: vec![
            ErrorSample {
                class: ErrorClass::Timeout,
                request: "list-items".into(),
                message: "request timed out after 5s".into(),
                count: 28,
            },
            ErrorSample {
                class: ErrorClass::Http5xx,
                request: "get-item".into(),
                message: "HTTP 503 Service Unavailable".into(),
                count: 56,
            },
        ],
        reasons: Vec::new(),
        warnings: Vec::new(),
        run_id: String::new(),
        thresholds: vec![
            ThresholdResult {
                expr: "list-items.p99 < 300ms".into(),
                observed: 42.0,
                limit: 300.0,
                pass: true,
                unit: "ms".into(),
                metric: "p99".into(),
                scope: Some("list-items".into()),
                op: "<".into(),
                no_data: false,
                ..Default::default()
            },
            ThresholdResult {
                expr: "error_rate < 0.1%".into(),
                observed: 0.0032,
                limit: 0.001,
                pass: false,
                unit: "ratio".into(),
                metric: "error_rate".into(),
                scope: None,
                op: "<".into(),
                no_data: false,
                ..Default::default()
            },
        ],
        comparison: Some(Comparison {
            baseline_file: "baselines/checkout-stress.json".into(),
            baseline_created_at: "2026-11-01T09:00:00Z".into(),
            verdict: ComparisonVerdict::Fail,
            method: "Mann-Whitney U over 1 s windows, α = 0.05".into(),
            scenario_changed: true,
            env_mismatch: vec!["cpus: baseline 4, current 2".into()],
            notes: vec!["regression confirmed by a rerun".into()],
            testbed: String::new(),
            baseline_testbed: String::new(),
            informational: false,
            baseline_runs: 1,
            underpowered: None,
            metrics: vec![
                mc(
                    "_total",
                    "p99",
                    30.0,
                    40.0,
                    Some(0.001),
                    MetricVerdict::Regressed,
                ),
                mc(
                    "_total",
                    "p50",
                    12.0,
                    10.0,
                    Some(0.01),
                    MetricVerdict::Improved,
                ),
                mc(
                    "list-items",
                    "p95",
                    20.0,
                    20.5,
                    None,
                    MetricVerdict::Unchanged,
                ),
                mc(
                    "get-item",
                    "throughput",
                    200.0,
                    180.0,
                    Some(0.2),
                    MetricVerdict::Inconclusive,
                ),
            ],
        }),
        repeat: None,
        ab: None,
        stopped_early: None,
        segment: None,
        generators: Vec::new(),
    }
}

/// The baseline's own result, for the distribution overlay.
pub fn baseline() -> RunResult {
    let mut b = realistic();
    b.histograms
        .insert(TOTAL_KEY.to_string(), histogram_b64(20000, 9.0, 7));
    b.comparison = None;
    b.verdict = Verdict::Pass;
    b
}

/// A one-hour soak: 3,600 windows at 50 vus, one stage.
pub fn soak() -> RunResult {
    let mut r = realistic();
    r.scenario.name = "api-soak".into();
    r.scenario.kind = Kind::Soak;
    r.timeseries = (0..3600)
        .map(|t| {
            let stage = if t < 30 { None } else { Some(0) };
            window(
                t as f64,
                stage,
                50.0,
                1000.0 + (t % 17) as f64,
                10.0 + (t % 11) as f64,
                (t % 97 == 0) as u64,
            )
        })
        .collect();
    r.stages = vec![StageResult {
        index: 0,
        name: None,
        target: 50.0,
        unit: LevelUnit::Vus,
        start_s: 30.0,
        end_s: 3600.0,
        metrics: metrics(3_570_000, 37, 1000.0, 14.0),
        sut_cpu_pct: None,
        sut_rss_bytes: None,
    }];
    r.duration_s = 3600.0;
    r
}

/// Nothing recorded: no windows, no stages, no histograms, no requests; the run was aborted.
/// Also the blank every other built result starts from.
pub fn empty() -> RunResult {
    RunResult {
        schema: RESULT_SCHEMA.into(),
        tool: ToolInfo::default(),
        scenario: ScenarioInfo {
            name: String::new(),
            kind: Kind::Smoke,
            file: String::new(),
            hash: String::new(),
            description: None,
            target: String::new(),
            model: LoadModel::default(),
        },
        host: HostInfo::default(),
        started_at: String::new(),
        duration_s: 0.0,
        verdict: Verdict::Aborted,
        exit_code: 3,
        totals: Metrics::default(),
        warmup: None,
        requests: BTreeMap::new(),
        stages: Vec::new(),
        timeseries: Vec::new(),
        request_series: BTreeMap::new(),
        histograms: BTreeMap::new(),
        error_samples: Vec::new(),
        reasons: Vec::new(),
        warnings: Vec::new(),
        run_id: String::new(),
        thresholds: Vec::new(),
        comparison: None,
        repeat: None,
        ab: None,
        stopped_early: None,
        segment: None,
        generators: Vec::new(),
    }
}

/// One window, all-zero latency, a histogram that does not decode.
pub fn single_window() -> RunResult {
    let mut r = empty();
    r.verdict = Verdict::Pass;
    r.timeseries = vec![window(0.0, Some(0), 1.0, 0.0, 0.0, 0)];
    r.stages = vec![StageResult {
        index: 0,
        name: None,
        target: 1.0,
        unit: LevelUnit::Rps,
        start_s: 0.0,
        end_s: 1.0,
        metrics: Metrics::default(),
        sut_cpu_pct: None,
        sut_rss_bytes: None,
    }];
    r.histograms
        .insert(TOTAL_KEY.to_string(), "not base64!".into());
    r
}

/// The realistic run with hostile strings everywhere a scenario, environment or server can
/// put text.
pub fn hostile() -> RunResult {
    let mut r = realistic();
    r.scenario.name = XSS_SCRIPT.into();
    r.scenario.target = XSS_ATTR.into();
    r.scenario.description = Some(XSS_SCRIPT.into());
    r.host.cpu_model = XSS_ATTR.into();
    let m = r.requests.remove("list-items").unwrap();
    r.requests.insert(XSS_SCRIPT.into(), m.clone());
    r.requests.insert(XSS_ATTR.into(), m);
    r.error_samples[0].message = XSS_SCRIPT.into();
    r.error_samples[1].message = XSS_ATTR.into();
    r.error_samples[1].request = XSS_SCRIPT.into();
    r.thresholds[0].expr = XSS_SCRIPT.into();
    r.thresholds[1].expr = XSS_ATTR.into();
    if let Some(c) = r.comparison.as_mut() {
        c.metrics[0].request = XSS_SCRIPT.into();
        c.metrics[1].metric = XSS_ATTR.into();
        c.notes.push(XSS_SCRIPT.into());
        c.env_mismatch.push(XSS_ATTR.into());
        c.baseline_file = XSS_ATTR.into();
    }
    r
}

/// An open-model run that dropped most arrivals, had requests interrupted by an abort-free
/// timeout class mix, retried some, and whose `get-item` never succeeded: a no-data latency
/// threshold and a no-data compared metric. Reasons filled by the gate.
pub fn overloaded() -> RunResult {
    let mut r = realistic_unjudged();
    r.scenario.name = "overloaded".into();
    r.scenario.model = LoadModel::Open;
    for s in &mut r.stages {
        s.unit = LevelUnit::Rps;
    }
    for (i, w) in r.timeseries.iter_mut().enumerate() {
        w.dropped = if i >= 10 { 40 } else { 0 };
    }
    let t = &mut r.totals;
    t.dropped = 745;
    t.retries = 3;
    t.errors_by_class.interrupted = 2;
    t.errors += 2;
    t.requests += 2;
    t.failed_by_class_ms.insert(
        "timeout".into(),
        ClassTime {
            mean: 5000.0,
            max: 5012.0,
        },
    );
    let get = r.requests.get_mut("get-item").unwrap();
    get.ok = 0;
    get.errors = get.requests;
    r.thresholds = vec![
        ThresholdResult {
            expr: "get-item.p95 < 50ms (no request succeeded)".into(),
            observed: 0.0,
            limit: 50.0,
            pass: false,
            unit: "ms".into(),
            metric: "p95".into(),
            scope: Some("get-item".into()),
            op: "<".into(),
            no_data: true,
            ..Default::default()
        },
        ThresholdResult {
            expr: "dropped_rate < 1%".into(),
            observed: 745.0 / (745.0 + r.totals.requests as f64),
            limit: 0.01,
            pass: false,
            unit: "ratio".into(),
            metric: "dropped_rate".into(),
            scope: None,
            op: "<".into(),
            no_data: false,
            ..Default::default()
        },
    ];
    if let Some(c) = r.comparison.as_mut() {
        c.metrics.push(MetricComparison {
            current: 0.0,
            verdict: MetricVerdict::NoData,
            p_value: None,
            ..mc("get-item", "p99", 35.0, 0.0, None, MetricVerdict::NoData)
        });
    }
    r.reasons = perfgate::gate::reasons(&r, false);
    r
}
