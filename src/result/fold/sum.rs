//! Adding up what several load generators measured at the same moments: summary metrics
//! (latency exact from summed histograms when there are any, otherwise the worst of the
//! inputs), 1-second windows and per-second series points. Used by [`super::merge`].

use std::collections::BTreeMap;

use crate::result::histogram::decode_histogram;
use crate::result::{ClassTime, ErrorCounts, Latency, Metrics, SeriesPoint, Window};

/// Sums metrics. Latency of successful responses comes from `hist` when given (exact), else
/// it is the worst of the inputs; time to failure (no histogram is stored for it) is the
/// worst of the inputs, its mean weighted by their error counts.
pub(super) fn metrics(ms: &[&Metrics], hist: Option<&str>) -> Metrics {
    let mut m = Metrics::default();
    for x in ms {
        m.requests += x.requests;
        m.ok += x.ok;
        m.errors += x.errors;
        m.dropped += x.dropped;
        m.retries += x.retries;
        m.throughput_rps += x.throughput_rps;
        m.attempted_rps += x.attempted_rps;
        m.bytes_received += x.bytes_received;
        m.errors_by_class.add(&x.errors_by_class);
        for (code, n) in &x.status_codes {
            *m.status_codes.entry(code.clone()).or_default() += n;
        }
    }
    m.error_rate = ratio(m.errors, m.requests);
    m.dropped_rate = ratio(m.dropped, m.requests + m.dropped);
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
        None => worst(ms.iter().map(|m| (&m.latency_ms, m.ok))),
    };
    m.failed_latency_ms = worst(ms.iter().map(|m| (&m.failed_latency_ms, m.errors)));
    m.failed_by_class_ms = failed_by_class(ms);
    m
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// The worst of several latency summaries, each with the number of values behind it (inputs
/// with none take no part): the smallest min, the largest percentiles and max, the mean
/// weighted by the counts.
fn worst<'a>(ls: impl Iterator<Item = (&'a Latency, u64)>) -> Latency {
    let ls: Vec<(&Latency, u64)> = ls.filter(|(_, n)| *n > 0).collect();
    let max = |f: fn(&Latency) -> f64| ls.iter().map(|(l, _)| f(l)).fold(0.0, f64::max);
    let total: u64 = ls.iter().map(|(_, n)| n).sum();
    Latency {
        min: ls
            .iter()
            .map(|(l, _)| l.min)
            .reduce(f64::min)
            .unwrap_or(0.0),
        mean: if total == 0 {
            0.0
        } else {
            ls.iter().map(|(l, n)| l.mean * *n as f64).sum::<f64>() / total as f64
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

/// Time to failure per class: the mean weighted by each input's count of that class, the
/// largest max.
fn failed_by_class(ms: &[&Metrics]) -> BTreeMap<String, ClassTime> {
    let mut acc: BTreeMap<String, (f64, u64, f64)> = BTreeMap::new();
    for m in ms {
        for (class, t) in &m.failed_by_class_ms {
            let n = class_count(&m.errors_by_class, class).max(1);
            let e = acc.entry(class.clone()).or_insert((0.0, 0, 0.0));
            e.0 += t.mean * n as f64;
            e.1 += n;
            e.2 = e.2.max(t.max);
        }
    }
    acc.into_iter()
        .map(|(class, (sum, n, max))| {
            let mean = if n == 0 { 0.0 } else { sum / n as f64 };
            (class, ClassTime { mean, max })
        })
        .collect()
}

fn class_count(c: &ErrorCounts, class: &str) -> u64 {
    c.iter()
        .iter()
        .find(|(name, _)| *name == class)
        .map_or(0, |(_, n)| *n)
}

/// The windows of every run at the same wall-clock second, added up: a run that started
/// `offset` seconds after the earliest has its window `i` at second `i + offset`. Counts and
/// rates sum, percentiles and the machine's noise (steal, generator CPU, saturation) are the
/// worst.
pub(super) fn windows(runs: &[(&[Window], usize)]) -> Vec<Window> {
    let len = runs.iter().map(|(r, off)| r.len() + off).max().unwrap_or(0);
    (0..len)
        .map(|i| {
            let ws: Vec<&Window> = runs
                .iter()
                .filter_map(|(r, off)| i.checked_sub(*off).and_then(|j| r.get(j)))
                .collect();
            let sum = |f: fn(&Window) -> f64| ws.iter().map(|w| f(w)).sum::<f64>();
            let max = |f: fn(&Window) -> f64| ws.iter().map(|w| f(w)).fold(0.0, f64::max);
            let mut w = ws.first().map(|w| (*w).clone()).unwrap_or_default();
            w.t_s = i as f64;
            w.requests = ws.iter().map(|w| w.requests).sum();
            w.errors = ws.iter().map(|w| w.errors).sum();
            w.dropped = ws.iter().map(|w| w.dropped).sum();
            w.throughput_rps = sum(|w| w.throughput_rps);
            w.attempted_rps = sum(|w| w.attempted_rps);
            w.active = sum(|w| w.active);
            w.p50_ms = max(|w| w.p50_ms);
            w.p90_ms = max(|w| w.p90_ms);
            w.p99_ms = max(|w| w.p99_ms);
            w.max_ms = max(|w| w.max_ms);
            w.errors_by_class = ErrorCounts::default();
            for x in &ws {
                w.errors_by_class.add(&x.errors_by_class);
            }
            // The machine: the noisiest of the runs (null only when no run sampled it).
            let worst =
                |f: fn(&Window) -> Option<f64>| ws.iter().filter_map(|w| f(w)).reduce(f64::max);
            w.steal_pct = worst(|w| w.steal_pct);
            w.cpu_busy_pct = worst(|w| w.cpu_busy_pct);
            w.generator_cpu_pct = worst(|w| w.generator_cpu_pct);
            w.saturated = ws.iter().filter_map(|w| w.saturated).reduce(|a, b| a || b);
            w
        })
        .collect()
}

/// The points of every run's series of one request at the same wall-clock second (shifted by
/// each run's `offset`, as in [`windows`]), added up: counts and rates sum, the mean is
/// weighted by requests, percentiles are the worst.
pub(super) fn series<'a>(
    series: impl Iterator<Item = (&'a Vec<SeriesPoint>, usize)>,
) -> Vec<SeriesPoint> {
    let all: Vec<(&Vec<SeriesPoint>, usize)> = series.collect();
    let len = all.iter().map(|(s, off)| s.len() + off).max().unwrap_or(0);
    let t0 = all
        .iter()
        .filter_map(|(s, off)| s.first().map(|p| p.t_s - *off as f64))
        .reduce(f64::min)
        .unwrap_or(0.0);
    (0..len)
        .map(|i| {
            let ps: Vec<&SeriesPoint> = all
                .iter()
                .filter_map(|(s, off)| i.checked_sub(*off).and_then(|j| s.get(j)))
                .collect();
            let total: u64 = ps.iter().map(|p| p.requests).sum();
            let maxf = |f: fn(&SeriesPoint) -> f64| ps.iter().map(|p| f(p)).fold(0.0, f64::max);
            SeriesPoint {
                t_s: t0 + i as f64,
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
