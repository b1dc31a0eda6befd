//! Builds `RunResult`s in code: N one-second windows per request with seeded noise, summary
//! metrics derived from the windows, and HDR histograms.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use perfgate::result::{
    HostInfo, Kind, LoadModel, Metrics, RunResult, ScenarioInfo, SeriesPoint, Verdict, TOTAL_KEY,
};

use super::results::{self, encode, Rng};

/// What a synthetic run looks like.
#[derive(Clone)]
pub struct Shape {
    pub windows: usize,
    /// Centre of the per-window p50, in ms; p90/p95/p99/mean are fixed multiples of it.
    pub latency_ms: f64,
    /// Per request name.
    pub rps: f64,
    /// Probability that a request fails.
    pub error_rate: f64,
    /// Relative per-window noise, e.g. 0.1 for ±10 %.
    pub noise: f64,
    pub seed: u64,
    pub requests: Vec<&'static str>,
    /// p99 as a multiple of p50 (2.0 unless a tail is shifted on its own).
    pub p99_factor: f64,
}

impl Default for Shape {
    fn default() -> Self {
        Shape {
            windows: 30,
            latency_ms: 100.0,
            rps: 100.0,
            error_rate: 0.0,
            noise: 0.1,
            seed: 1,
            requests: vec!["api"],
            p99_factor: 2.0,
        }
    }
}

impl Shape {
    pub fn latency(mut self, ms: f64) -> Self {
        self.latency_ms = ms;
        self
    }
    pub fn rps(mut self, rps: f64) -> Self {
        self.rps = rps;
        self
    }
    pub fn errors(mut self, rate: f64) -> Self {
        self.error_rate = rate;
        self
    }
    pub fn windows(mut self, n: usize) -> Self {
        self.windows = n;
        self
    }
    pub fn seed(mut self, s: u64) -> Self {
        self.seed = s;
        self
    }
    /// p99 at `factor` × p50, the median unchanged.
    pub fn tail(mut self, factor: f64) -> Self {
        self.p99_factor = factor;
        self
    }
    pub fn requests(mut self, names: &[&'static str]) -> Self {
        self.requests = names.to_vec();
        self
    }
}

fn point(rng: &mut Rng, s: &Shape, i: usize) -> SeriesPoint {
    let c = rng.noisy(s.latency_ms, s.noise);
    let rps = rng.noisy(s.rps, s.noise).round();
    let requests = rps as u64;
    let errors = (0..requests).filter(|_| rng.f64() < s.error_rate).count() as u64;
    SeriesPoint {
        t_s: i as f64,
        requests,
        errors,
        throughput_rps: rps,
        mean_ms: c * 1.1,
        p50_ms: c,
        p90_ms: c * 1.5,
        p95_ms: c * 1.7,
        p99_ms: c * s.p99_factor,
    }
}

fn mean(v: impl Iterator<Item = f64>) -> f64 {
    let v: Vec<f64> = v.collect();
    if v.is_empty() {
        0.0
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

/// Summary metrics of a series: window means for latency and throughput, counted errors.
pub fn summarize(series: &[SeriesPoint]) -> Metrics {
    let requests: u64 = series.iter().map(|p| p.requests).sum();
    let errors: u64 = series.iter().map(|p| p.errors).sum();
    let mut m = Metrics {
        requests,
        ok: requests - errors,
        errors,
        error_rate: if requests == 0 {
            0.0
        } else {
            errors as f64 / requests as f64
        },
        throughput_rps: mean(series.iter().map(|p| p.throughput_rps)),
        ..Default::default()
    };
    let l = &mut m.latency_ms;
    l.p50 = mean(series.iter().map(|p| p.p50_ms));
    l.p90 = mean(series.iter().map(|p| p.p90_ms));
    l.p95 = mean(series.iter().map(|p| p.p95_ms));
    l.p99 = mean(series.iter().map(|p| p.p99_ms));
    l.mean = mean(series.iter().map(|p| p.mean_ms));
    l.min = l.p50 * 0.5;
    l.max = l.p99 * 1.5;
    l.p999 = l.p99 * 1.2;
    m.errors_by_class.http_5xx = errors;
    m
}

fn histogram(series: &[SeriesPoint]) -> String {
    let mut h = Histogram::<u64>::new(3).expect("histogram");
    h.auto(true);
    for p in series {
        for v in [p.p50_ms, p.p90_ms, p.p99_ms] {
            h.record_n((v * 1000.0) as u64, p.requests / 3 + 1)
                .expect("record");
        }
    }
    encode(&h)
}

/// A completed run of scenario `checkout` with the given shape.
pub fn make_result(shape: &Shape) -> RunResult {
    let mut rng = Rng::new(shape.seed);
    let mut request_series: BTreeMap<String, Vec<SeriesPoint>> = BTreeMap::new();
    for name in &shape.requests {
        let s: Vec<SeriesPoint> = (0..shape.windows)
            .map(|i| point(&mut rng, shape, i))
            .collect();
        request_series.insert(name.to_string(), s);
    }
    let total: Vec<SeriesPoint> = (0..shape.windows)
        .map(|i| {
            let ps: Vec<&SeriesPoint> = request_series.values().map(|s| &s[i]).collect();
            let avg = |f: fn(&SeriesPoint) -> f64| mean(ps.iter().map(|p| f(p)));
            SeriesPoint {
                t_s: i as f64,
                requests: ps.iter().map(|p| p.requests).sum(),
                errors: ps.iter().map(|p| p.errors).sum(),
                throughput_rps: ps.iter().map(|p| p.throughput_rps).sum(),
                mean_ms: avg(|p| p.mean_ms),
                p50_ms: avg(|p| p.p50_ms),
                p90_ms: avg(|p| p.p90_ms),
                p95_ms: avg(|p| p.p95_ms),
                p99_ms: avg(|p| p.p99_ms),
            }
        })
        .collect();
    request_series.insert(TOTAL_KEY.to_string(), total);

    let requests = shape
        .requests
        .iter()
        .map(|n| (n.to_string(), summarize(&request_series[*n])))
        .collect();
    let histograms = request_series
        .iter()
        .map(|(n, s)| (n.clone(), histogram(s)))
        .collect();
    RunResult {
        scenario: ScenarioInfo {
            name: "checkout".into(),
            kind: Kind::Load,
            file: "scenarios/checkout.yaml".into(),
            hash: "hash-1".into(),
            description: None,
            target: "embedded".into(),
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
        started_at: "2026-01-01T00:00:00Z".into(),
        duration_s: shape.windows as f64,
        verdict: Verdict::Pass,
        exit_code: 0,
        totals: summarize(&request_series[TOTAL_KEY]),
        requests,
        request_series,
        histograms,
        ..results::empty()
    }
}

/// A baseline of `result` with fixed provenance.
pub fn baseline_of(result: &RunResult) -> perfgate::gate::Baseline {
    perfgate::gate::Baseline::new(
        result,
        perfgate::gate::Provenance {
            created_at: "2026-01-01T00:00:00Z".into(),
            perfgate_version: result.tool.version.clone(),
            scenario_name: result.scenario.name.clone(),
            scenario_hash: result.scenario.hash.clone(),
            git_commit: Some("0123abc".into()),
            host: result.host.clone(),
            testbed: None,
        },
    )
}
