//! `perfgate merge`: one result from several results of the same scenario that ran at the same
//! time on different load generators. Counts, throughput and bytes add up; latency of totals,
//! requests and stages comes from the summed HDR histograms, so it is exact; per-second
//! windows have no stored histogram, so their percentiles are the worst of the inputs.

use std::collections::BTreeMap;

use super::codec::{decode_histogram, merge_encoded};
use super::stage_key;
use crate::result::{
    ErrorCounts, ErrorSample, Latency, Metrics, RunResult, SeriesPoint, Verdict, Window, TOTAL_KEY,
};

/// Merges `runs`; they must be results of the same scenario (same name and file hash).
pub fn merge_results(runs: &[RunResult]) -> Result<RunResult, String> {
    let first = runs.first().ok_or("nothing to merge")?;
    for r in runs {
        if r.scenario.name != first.scenario.name || r.scenario.hash != first.scenario.hash {
            return Err(format!(
                "results of different scenarios cannot be merged: `{}` ({}) and `{}` ({})",
                first.scenario.name,
                short(&first.scenario.hash),
                r.scenario.name,
                short(&r.scenario.hash)
            ));
        }
    }
    let hist = |key: &str| {
        merge_encoded(
            runs.iter()
                .filter_map(|r| r.histograms.get(key).map(String::as_str)),
        )
    };
    let mut out = first.clone();
    out.totals = merge_metrics(
        &runs.iter().map(|r| &r.totals).collect::<Vec<_>>(),
        hist(TOTAL_KEY).as_deref(),
    );
    out.histograms.clear();
    if let Some(h) = hist(TOTAL_KEY) {
        out.histograms.insert(TOTAL_KEY.to_string(), h);
    }
    let names: std::collections::BTreeSet<&String> =
        runs.iter().flat_map(|r| r.requests.keys()).collect();
    out.requests = names
        .into_iter()
        .map(|name| {
            let ms: Vec<&Metrics> = runs.iter().filter_map(|r| r.requests.get(name)).collect();
            let h = hist(name);
            if let Some(h) = &h {
                out.histograms.insert(name.clone(), h.clone());
            }
            (name.clone(), merge_metrics(&ms, h.as_deref()))
        })
        .collect();
    for (i, stage) in out.stages.iter_mut().enumerate() {
        let ms: Vec<&Metrics> = runs
            .iter()
            .filter_map(|r| r.stages.get(i))
            .map(|s| &s.metrics)
            .collect();
        let h = hist(&stage_key(i));
        stage.metrics = merge_metrics(&ms, h.as_deref());
        stage.target = runs
            .iter()
            .filter_map(|r| r.stages.get(i))
            .map(|s| s.target)
            .sum();
        if let Some(h) = h {
            out.histograms.insert(stage_key(i), h);
        }
    }
    out.warmup = {
        let ms: Vec<&Metrics> = runs.iter().filter_map(|r| r.warmup.as_ref()).collect();
        (!ms.is_empty()).then(|| merge_metrics(&ms, None))
    };
    out.timeseries = merge_windows(runs);
    out.request_series = out
        .request_series
        .keys()
        .map(|k| {
            (
                k.clone(),
                merge_series(runs.iter().filter_map(|r| r.request_series.get(k))),
            )
        })
        .collect();
    out.error_samples = merge_error_samples(runs);
    out.started_at = runs
        .iter()
        .map(|r| r.started_at.clone())
        .min()
        .unwrap_or_default();
    out.duration_s = runs.iter().map(|r| r.duration_s).fold(0.0, f64::max);
    out.host.cpus = runs.iter().map(|r| r.host.cpus).sum();
    out.host.threads = runs.iter().map(|r| r.host.threads).sum();
    let aborted = runs.iter().any(|r| r.verdict == Verdict::Aborted);
    out.verdict = if aborted {
        Verdict::Aborted
    } else {
        Verdict::Pass
    };
    out.exit_code = if aborted { 3 } else { 0 };
    out.thresholds.clear();
    out.comparison = None;
    out.repeat = None;
    Ok(out)
}

/// The error samples of several runs, identical messages counted together.
pub fn merge_error_samples(runs: &[RunResult]) -> Vec<ErrorSample> {
    let mut samples: BTreeMap<(String, String, String), u64> = BTreeMap::new();
    for s in runs.iter().flat_map(|r| &r.error_samples) {
        *samples
            .entry((s.class.clone(), s.request.clone(), s.message.clone()))
            .or_default() += s.count;
    }
    samples
        .into_iter()
        .map(|((class, request, message), count)| ErrorSample {
            class,
            request,
            message,
            count,
        })
        .collect()
}

fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

fn add_errors(a: &mut ErrorCounts, b: &ErrorCounts) {
    a.connect += b.connect;
    a.timeout += b.timeout;
    a.reset += b.reset;
    a.tls += b.tls;
    a.protocol += b.protocol;
    a.http_4xx += b.http_4xx;
    a.http_5xx += b.http_5xx;
    a.check += b.check;
    a.function += b.function;
    a.interrupted += b.interrupted;
}

/// Sums metrics; latency from `hist` when given (exact), else the worst of the inputs.
fn merge_metrics(ms: &[&Metrics], hist: Option<&str>) -> Metrics {
    let mut m = Metrics::default();
    for x in ms {
        m.requests += x.requests;
        m.ok += x.ok;
        m.errors += x.errors;
        m.dropped += x.dropped;
        m.throughput_rps += x.throughput_rps;
        m.attempted_rps += x.attempted_rps;
        m.retries += x.retries;
        m.bytes_received += x.bytes_received;
        add_errors(&mut m.errors_by_class, &x.errors_by_class);
        for (code, n) in &x.status_codes {
            *m.status_codes.entry(code.clone()).or_default() += n;
        }
    }
    m.error_rate = if m.requests == 0 {
        0.0
    } else {
        m.errors as f64 / m.requests as f64
    };
    m.latency_ms = match hist
        .and_then(|h| decode_histogram(h).ok())
        .filter(|h| !h.is_empty())
    {
        Some(h) => {
            let q = |q: f64| h.value_at_quantile(q) as f64 / 1e3;
            Latency {
                min: h.min() as f64 / 1e3,
                mean: h.mean() / 1e3,
                p50: q(0.5),
                p90: q(0.9),
                p95: q(0.95),
                p99: q(0.99),
                p999: q(0.999),
                max: h.max() as f64 / 1e3,
                stdev: h.stdev() / 1e3,
            }
        }
        None => worst(ms),
    };
    m
}

fn worst(ms: &[&Metrics]) -> Latency {
    let max = |f: fn(&Latency) -> f64| ms.iter().map(|m| f(&m.latency_ms)).fold(0.0, f64::max);
    let total: u64 = ms.iter().map(|m| m.requests).sum();
    Latency {
        min: ms
            .iter()
            .map(|m| m.latency_ms.min)
            .fold(f64::INFINITY, f64::min)
            .min(max(|l| l.min)),
        mean: if total == 0 {
            0.0
        } else {
            ms.iter()
                .map(|m| m.latency_ms.mean * m.requests as f64)
                .sum::<f64>()
                / total as f64
        },
        p50: max(|l| l.p50),
        p90: max(|l| l.p90),
        p95: max(|l| l.p95),
        p99: max(|l| l.p99),
        p999: max(|l| l.p999),
        max: max(|l| l.max),
        stdev: max(|l| l.stdev),
    }
}

fn merge_windows(runs: &[RunResult]) -> Vec<Window> {
    let len = runs.iter().map(|r| r.timeseries.len()).max().unwrap_or(0);
    (0..len)
        .map(|i| {
            let ws: Vec<&Window> = runs.iter().filter_map(|r| r.timeseries.get(i)).collect();
            let mut w = ws.first().map(|w| (*w).clone()).unwrap_or_default();
            w.requests = ws.iter().map(|w| w.requests).sum();
            w.errors = ws.iter().map(|w| w.errors).sum();
            w.dropped = ws.iter().map(|w| w.dropped).sum();
            w.throughput_rps = ws.iter().map(|w| w.throughput_rps).sum();
            w.active = ws.iter().map(|w| w.active).sum();
            w.p50_ms = ws.iter().map(|w| w.p50_ms).fold(0.0, f64::max);
            w.p90_ms = ws.iter().map(|w| w.p90_ms).fold(0.0, f64::max);
            w.p99_ms = ws.iter().map(|w| w.p99_ms).fold(0.0, f64::max);
            w.max_ms = ws.iter().map(|w| w.max_ms).fold(0.0, f64::max);
            w.errors_by_class = ErrorCounts::default();
            for x in &ws {
                add_errors(&mut w.errors_by_class, &x.errors_by_class);
            }
            w
        })
        .collect()
}

fn merge_series<'a>(series: impl Iterator<Item = &'a Vec<SeriesPoint>>) -> Vec<SeriesPoint> {
    let all: Vec<&Vec<SeriesPoint>> = series.collect();
    let len = all.iter().map(|s| s.len()).max().unwrap_or(0);
    (0..len)
        .map(|i| {
            let ps: Vec<&SeriesPoint> = all.iter().filter_map(|s| s.get(i)).collect();
            let total: u64 = ps.iter().map(|p| p.requests).sum();
            let maxf = |f: fn(&SeriesPoint) -> f64| ps.iter().map(|p| f(p)).fold(0.0, f64::max);
            SeriesPoint {
                t_s: ps.first().map(|p| p.t_s).unwrap_or(i as f64),
                requests: total,
                errors: ps.iter().map(|p| p.errors).sum(),
                throughput_rps: ps.iter().map(|p| p.throughput_rps).sum(),
                mean_ms: if total == 0 {
                    0.0
                } else {
                    ps.iter()
                        .map(|p| p.mean_ms * p.requests as f64)
                        .sum::<f64>()
                        / total as f64
                },
                p50_ms: maxf(|p| p.p50_ms),
                p90_ms: maxf(|p| p.p90_ms),
                p95_ms: maxf(|p| p.p95_ms),
                p99_ms: maxf(|p| p.p99_ms),
            }
        })
        .collect()
}
