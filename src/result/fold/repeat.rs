//! `--repeat N`: folding several runs of one scenario into one measurement whose summary
//! metrics are per-metric medians and whose per-second series hold every run's windows, so
//! the noise test sees all of them.

use std::collections::BTreeSet;

use crate::result::histogram::merge_encoded;
use crate::result::{ClassTime, ErrorCounts, Latency, Measurement, Metrics, RepeatInfo};

/// Folds `runs` (in the order they ran) into one measurement, or `None` when `runs` is empty.
///
/// - `totals`, each request's, and each stage's metrics: per-metric medians across the runs
///   that have them (counts rounded to whole numbers);
/// - `timeseries` and `request_series`: concatenated, each run's `t_s` shifted by the
///   durations of the runs before it; `duration_s` is the sum;
/// - `histograms`: merged (summed) per name; a histogram that does not decode keeps the first
///   run's;
/// - `error_samples`: merged, counts summed; `warnings`: each once;
/// - `aborted` if any run was;
/// - `repeat`: the number of runs and each run's totals.
///
/// It is a measurement: the gate judges the folded result afresh.
pub fn median_measurement(runs: &[Measurement]) -> Option<Measurement> {
    let first = runs.first()?;
    let mut out = first.clone();

    out.totals = median_metrics(&runs.iter().map(|r| &r.totals).collect::<Vec<_>>());
    let names: BTreeSet<&String> = runs.iter().flat_map(|r| r.requests.keys()).collect();
    out.requests = names
        .into_iter()
        .map(|name| {
            let ms: Vec<&Metrics> = runs.iter().filter_map(|r| r.requests.get(name)).collect();
            (name.clone(), median_metrics(&ms))
        })
        .collect();
    for stage in &mut out.stages {
        let ms: Vec<&Metrics> = runs
            .iter()
            .filter_map(|r| r.stages.iter().find(|s| s.index == stage.index))
            .map(|s| &s.metrics)
            .collect();
        stage.metrics = median_metrics(&ms);
    }

    out.timeseries.clear();
    out.request_series.clear();
    let mut offset = 0.0;
    for r in runs {
        out.timeseries.extend(r.timeseries.iter().map(|w| {
            let mut w = w.clone();
            w.t_s += offset;
            w
        }));
        for (name, points) in &r.request_series {
            out.request_series
                .entry(name.clone())
                .or_default()
                .extend(points.iter().map(|p| {
                    let mut p = p.clone();
                    p.t_s += offset;
                    p
                }));
        }
        offset += r.duration_s;
    }
    out.duration_s = offset;

    for (name, encoded) in out.histograms.iter_mut() {
        let all: Vec<&str> = runs
            .iter()
            .filter_map(|r| r.histograms.get(name).map(String::as_str))
            .collect();
        if let Some(merged) = merge_histograms(&all) {
            *encoded = merged;
        }
    }
    for r in &runs[1..] {
        for (name, h) in &r.histograms {
            if !out.histograms.contains_key(name) {
                out.histograms.insert(name.clone(), h.clone());
            }
        }
    }

    out.error_samples = super::merge_error_samples(runs);
    out.warnings = super::merge_warnings(runs);
    out.aborted = runs.iter().any(|r| r.aborted);
    out.stopped_early =
        crate::result::EarlyStop::first_of(runs.iter().map(|r| r.stopped_early.as_ref()));
    out.repeat = Some(RepeatInfo {
        runs: runs.len(),
        totals: runs.iter().map(|r| r.totals.clone()).collect(),
    });
    Some(out)
}

/// Sums base64 HDR histograms (any serialized format in, V2 out); `None` if any fails to
/// decode.
fn merge_histograms(encoded: &[&str]) -> Option<String> {
    merge_encoded(encoded.iter().copied())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn med<T>(items: &[T], f: impl Fn(&T) -> f64) -> f64 {
    median(items.iter().map(f).collect())
}

fn med_u<T>(items: &[T], f: impl Fn(&T) -> u64) -> u64 {
    med(items, |x| f(x) as f64).round() as u64
}

/// Per-metric medians of `ms` (each field on its own).
pub fn median_metrics(ms: &[&Metrics]) -> Metrics {
    let lat = |l: fn(&Metrics) -> &Latency| median_latency(ms, l);
    let class = |f: fn(&ErrorCounts) -> u64| med_u(ms, |m| f(&m.errors_by_class));
    let codes: BTreeSet<&String> = ms.iter().flat_map(|m| m.status_codes.keys()).collect();
    // Time to failure per class: medians over the runs in which the class occurred.
    let classes: BTreeSet<&String> = ms
        .iter()
        .flat_map(|m| m.failed_by_class_ms.keys())
        .collect();
    Metrics {
        requests: med_u(ms, |m| m.requests),
        ok: med_u(ms, |m| m.ok),
        errors: med_u(ms, |m| m.errors),
        dropped: med_u(ms, |m| m.dropped),
        error_rate: med(ms, |m| m.error_rate),
        throughput_rps: med(ms, |m| m.throughput_rps),
        latency_ms: lat(|m| &m.latency_ms),
        errors_by_class: ErrorCounts {
            connect: class(|c| c.connect),
            timeout: class(|c| c.timeout),
            reset: class(|c| c.reset),
            tls: class(|c| c.tls),
            protocol: class(|c| c.protocol),
            http_4xx: class(|c| c.http_4xx),
            http_5xx: class(|c| c.http_5xx),
            check: class(|c| c.check),
            function: class(|c| c.function),
            interrupted: class(|c| c.interrupted),
        },
        status_codes: codes
            .into_iter()
            .map(|code| {
                let n = med_u(ms, |m| m.status_codes.get(code).copied().unwrap_or(0));
                (code.clone(), n)
            })
            .collect(),
        bytes_received: med_u(ms, |m| m.bytes_received),
        dropped_rate: med(ms, |m| m.dropped_rate),
        retries: med_u(ms, |m| m.retries),
        attempted_rps: med(ms, |m| m.attempted_rps),
        failed_latency_ms: lat(|m| &m.failed_latency_ms),
        failed_by_class_ms: classes
            .into_iter()
            .map(|class| {
                let ts: Vec<&ClassTime> = ms
                    .iter()
                    .filter_map(|m| m.failed_by_class_ms.get(class))
                    .collect();
                let t = ClassTime {
                    mean: med(&ts, |t| t.mean),
                    max: med(&ts, |t| t.max),
                };
                (class.clone(), t)
            })
            .collect(),
    }
}

/// Per-field medians of one latency summary of each of `ms`.
fn median_latency(ms: &[&Metrics], l: fn(&Metrics) -> &Latency) -> Latency {
    let f = |f: fn(&Latency) -> f64| med(ms, |m| f(l(m)));
    Latency {
        min: f(|l| l.min),
        mean: f(|l| l.mean),
        p50: f(|l| l.p50),
        p90: f(|l| l.p90),
        p95: f(|l| l.p95),
        p99: f(|l| l.p99),
        p999: f(|l| l.p999),
        max: f(|l| l.max),
        stdev: f(|l| l.stdev),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_odd_even_and_empty() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(vec![]), 0.0);
        assert_eq!(median(vec![f64::NAN, 1.0]), 1.0);
    }

    #[test]
    fn median_metrics_per_field() {
        let mk = |p95: f64, req: u64, code: Option<u64>| {
            let mut m = Metrics {
                requests: req,
                ..Default::default()
            };
            m.latency_ms.p95 = p95;
            if let Some(n) = code {
                m.status_codes.insert("500".into(), n);
            }
            m
        };
        let (a, b, c) = (
            mk(10.0, 100, Some(3)),
            mk(30.0, 90, None),
            mk(20.0, 300, Some(1)),
        );
        let m = median_metrics(&[&a, &b, &c]);
        assert_eq!(m.latency_ms.p95, 20.0);
        assert_eq!(m.requests, 100);
        assert_eq!(m.status_codes["500"], 1);
    }

    #[test]
    fn medians_keep_time_to_failure() {
        let mk = |mean: f64, max: f64| {
            let mut m = Metrics::default();
            m.failed_latency_ms.mean = mean;
            m.failed_latency_ms.max = max;
            m.failed_by_class_ms
                .insert("reset".into(), ClassTime { mean, max });
            m
        };
        let (a, b, c) = (mk(10.0, 50.0), mk(30.0, 90.0), mk(20.0, 70.0));
        let m = median_metrics(&[&a, &b, &c]);
        assert_eq!(
            (m.failed_latency_ms.mean, m.failed_latency_ms.max),
            (20.0, 70.0)
        );
        let reset = &m.failed_by_class_ms["reset"];
        assert_eq!((reset.mean, reset.max), (20.0, 70.0));
    }

    #[test]
    fn histograms_merge_by_summing() {
        use crate::result::histogram::{decode_histogram, encode_histogram};
        let enc = |vals: &[u64]| {
            let mut h = hdrhistogram::Histogram::<u64>::new(3).unwrap();
            for v in vals {
                h.record(*v).unwrap();
            }
            encode_histogram(&h)
        };
        let (a, b) = (enc(&[100, 200]), enc(&[1_000_000]));
        let merged = merge_histograms(&[&a, &b]).unwrap();
        let h = decode_histogram(&merged).unwrap();
        assert_eq!(h.len(), 3);
        assert!(h.max() >= 999_000);
        assert!(merge_histograms(&[&a, "not base64!"]).is_none());
    }
}
