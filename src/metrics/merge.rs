//! `perfgate merge`: one result from several results of the same scenario that ran at the same
//! time on different load generators. Counts, throughput and bytes add up; latency of totals,
//! requests and stages comes from the summed HDR histograms, so it is exact; per-second
//! windows have no stored histogram, so their percentiles are the worst of the inputs.
//!
//! Merging is only honest for runs that happened at the same time: [`check_mergeable`]
//! refuses the same run twice (same `run_id`) and runs that did not overlap in time. A merged
//! result's `run_id` lists the ids of the runs in it, joined by `+`.

use std::collections::BTreeMap;

use super::codec::{decode_histogram, merge_encoded};
use super::stage_key;
use crate::result::{
    ErrorCounts, ErrorSample, Latency, Metrics, RunResult, SeriesPoint, Verdict, Window, TOTAL_KEY,
};

/// Separates the ids in a merged result's `run_id`.
pub const RUN_ID_SEPARATOR: char = '+';

/// A new run id: the start time (UTC, to the microsecond), the process id and a counter, so
/// two runs of one process or of two processes never share one.
pub fn new_run_id(started: chrono::DateTime<chrono::Utc>) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    format!(
        "{}-{:x}-{}",
        started.format("%Y%m%dT%H%M%S%.6fZ"),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Why runs cannot be merged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeRefusal {
    #[error("run `{id}` is given twice ({first} and {second}); each run is merged once")]
    SameRun {
        id: String,
        first: usize,
        second: usize,
    },
    #[error("the runs did not overlap in time: {detail}; merging them would add up rates of different moments")]
    Disjoint { detail: String },
    #[error("cannot tell when run {index} happened (started_at `{started_at}`)")]
    NoTime { index: usize, started_at: String },
    #[error("{0}")]
    DifferentScenarios(String),
}

/// The ids of the runs inside `r` (one for a plain run, several for a merged one).
fn run_ids(r: &RunResult) -> Vec<&str> {
    r.run_id
        .split(RUN_ID_SEPARATOR)
        .filter(|s| !s.is_empty())
        .collect()
}

/// Checks that `runs` (numbered from 1 in messages, in the order given) are distinct runs
/// that overlapped in time (unless `allow_disjoint`).
pub fn check_mergeable(runs: &[RunResult], allow_disjoint: bool) -> Result<(), MergeRefusal> {
    same_scenario(runs).map_err(MergeRefusal::DifferentScenarios)?;
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, r) in runs.iter().enumerate() {
        for id in run_ids(r) {
            if let Some(first) = seen.insert(id, i + 1) {
                return Err(MergeRefusal::SameRun {
                    id: id.to_string(),
                    first,
                    second: i + 1,
                });
            }
        }
        // Results written before run ids existed: the same start and counts is the same run.
        if r.run_id.is_empty() {
            if let Some(j) = runs[..i].iter().position(|o| {
                o.run_id.is_empty() && o.started_at == r.started_at && o.totals == r.totals
            }) {
                return Err(MergeRefusal::SameRun {
                    id: format!("started {}", r.started_at),
                    first: j + 1,
                    second: i + 1,
                });
            }
        }
    }
    if allow_disjoint {
        return Ok(());
    }
    let mut spans = Vec::new();
    for (i, r) in runs.iter().enumerate() {
        let start = chrono::DateTime::parse_from_rfc3339(&r.started_at).map_err(|_| {
            MergeRefusal::NoTime {
                index: i + 1,
                started_at: r.started_at.clone(),
            }
        })?;
        let start = start.timestamp_micros() as f64 / 1e6;
        spans.push((i + 1, start, start + r.duration_s.max(0.0)));
    }
    let latest_start = spans.iter().max_by(|a, b| a.1.total_cmp(&b.1));
    let earliest_end = spans.iter().min_by(|a, b| a.2.total_cmp(&b.2));
    if let (Some(ls), Some(ee)) = (latest_start, earliest_end) {
        if ls.1 >= ee.2 {
            return Err(MergeRefusal::Disjoint {
                detail: format!(
                    "run {} ended {:.1} s before run {} started",
                    ee.0,
                    ls.1 - ee.2,
                    ls.0
                ),
            });
        }
    }
    Ok(())
}

/// Every run must be of the same scenario (same name and file hash).
fn same_scenario(runs: &[RunResult]) -> Result<(), String> {
    let Some(first) = runs.first() else {
        return Ok(());
    };
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
    Ok(())
}

/// Merges `runs`; they must be results of the same scenario (same name and file hash).
pub fn merge_results(runs: &[RunResult]) -> Result<RunResult, String> {
    let first = runs.first().ok_or("nothing to merge")?;
    same_scenario(runs)?;
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
    out.run_id = runs
        .iter()
        .flat_map(run_ids)
        .collect::<Vec<_>>()
        .join(&RUN_ID_SEPARATOR.to_string());
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
