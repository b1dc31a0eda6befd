//! `perfgate merge`: one measurement from several measurements of the same scenario that ran
//! at the same time on different load generators. Counts, throughput and bytes add up;
//! latency of totals, requests and stages comes from the summed HDR histograms, so it is
//! exact; per-second windows have no stored histogram, so their percentiles are the worst of
//! the inputs (see [`super::sum`]).
//!
//! Merging is only honest for runs that happened at the same time: [`check_mergeable`]
//! refuses the same run twice (same `run_id`) and runs that did not overlap in time. A merged
//! result's `run_id` lists the ids of the runs in it, joined by `+`.

use std::collections::{BTreeMap, BTreeSet};

use super::sum;
use crate::result::histogram::merge_encoded;
use crate::result::{stage_key, Measurement, Metrics, StageResult, TOTAL_KEY};

/// Separates the ids in a merged result's `run_id`.
pub const RUN_ID_SEPARATOR: char = '+';

/// Why runs cannot be merged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeRefusal {
    #[error("nothing to merge")]
    Nothing,
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
fn run_ids(r: &Measurement) -> Vec<&str> {
    r.run_id
        .split(RUN_ID_SEPARATOR)
        .filter(|s| !s.is_empty())
        .collect()
}

/// Checks that `runs` (numbered from 1 in messages, in the order given) are distinct runs
/// of one scenario that overlapped in time (unless `allow_disjoint`).
pub fn check_mergeable(runs: &[Measurement], allow_disjoint: bool) -> Result<(), MergeRefusal> {
    same_scenario(runs)?;
    distinct_runs(runs)?;
    if allow_disjoint {
        return Ok(());
    }
    overlapping(runs)
}

/// No run is given twice: by run id, or (results written before run ids existed) by the
/// same start and counts.
fn distinct_runs(runs: &[Measurement]) -> Result<(), MergeRefusal> {
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
    Ok(())
}

/// Some moment lies within every run: the latest start is before the earliest end.
fn overlapping(runs: &[Measurement]) -> Result<(), MergeRefusal> {
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
fn same_scenario(runs: &[Measurement]) -> Result<(), MergeRefusal> {
    let Some(first) = runs.first() else {
        return Ok(());
    };
    for r in runs {
        if r.scenario.name != first.scenario.name || r.scenario.hash != first.scenario.hash {
            return Err(MergeRefusal::DifferentScenarios(format!(
                "results of different scenarios cannot be merged: `{}` ({}) and `{}` ({})",
                first.scenario.name,
                short(&first.scenario.hash),
                r.scenario.name,
                short(&r.scenario.hash)
            )));
        }
    }
    Ok(())
}

fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

/// Merges `runs`, measurements of the same scenario (same name and file hash) by generators
/// that ran at the same time (see [`check_mergeable`]). The result is a measurement: judge
/// it afresh. It is aborted if any run was.
pub fn merge(runs: &[Measurement]) -> Result<Measurement, MergeRefusal> {
    let first = runs.first().ok_or(MergeRefusal::Nothing)?;
    same_scenario(runs)?;
    let mut out = first.clone();
    let mut folded = Folded::new(runs);
    out.totals = folded.metrics(TOTAL_KEY, runs.iter().map(|r| &r.totals));
    out.requests = folded.requests();
    out.stages = folded.stages(&first.stages);
    out.histograms = folded.histograms;
    out.warmup = {
        let ms: Vec<&Metrics> = runs.iter().filter_map(|r| r.warmup.as_ref()).collect();
        (!ms.is_empty()).then(|| sum::metrics(&ms, None))
    };
    out.timeseries = sum::windows(&runs.iter().map(|r| &r.timeseries[..]).collect::<Vec<_>>());
    out.request_series = first
        .request_series
        .keys()
        .map(|k| {
            let all = runs.iter().filter_map(|r| r.request_series.get(k));
            (k.clone(), sum::series(all))
        })
        .collect();
    out.error_samples = super::merge_error_samples(runs);
    out.warnings = super::merge_warnings(runs);
    out.started_at = runs
        .iter()
        .map(|r| r.started_at.clone())
        .min()
        .unwrap_or_default();
    out.duration_s = runs.iter().map(|r| r.duration_s).fold(0.0, f64::max);
    out.host.cpus = runs.iter().map(|r| r.host.cpus).sum();
    out.host.threads = runs.iter().map(|r| r.host.threads).sum();
    out.aborted = runs.iter().any(|r| r.aborted);
    out.run_id = runs
        .iter()
        .flat_map(run_ids)
        .collect::<Vec<_>>()
        .join(&RUN_ID_SEPARATOR.to_string());
    out.repeat = None;
    Ok(out)
}

/// The summed metrics of several runs, name by name, with the summed histograms that give
/// their latency collected on the way.
struct Folded<'a> {
    runs: &'a [Measurement],
    histograms: BTreeMap<String, String>,
}

impl<'a> Folded<'a> {
    fn new(runs: &'a [Measurement]) -> Self {
        Folded {
            runs,
            histograms: BTreeMap::new(),
        }
    }

    /// Sums `ms` with the summed histogram stored under `key` (kept for the merged result).
    fn metrics<'m>(&mut self, key: &str, ms: impl Iterator<Item = &'m Metrics>) -> Metrics {
        let hist = merge_encoded(
            self.runs
                .iter()
                .filter_map(|r| r.histograms.get(key).map(String::as_str)),
        );
        let ms: Vec<&Metrics> = ms.collect();
        let m = sum::metrics(&ms, hist.as_deref());
        if let Some(h) = hist {
            self.histograms.insert(key.to_string(), h);
        }
        m
    }

    /// Every request name of any run, summed over the runs that have it.
    fn requests(&mut self) -> BTreeMap<String, Metrics> {
        let runs = self.runs;
        let names: BTreeSet<&String> = runs.iter().flat_map(|r| r.requests.keys()).collect();
        names
            .into_iter()
            .map(|name| {
                let m = self.metrics(name, runs.iter().filter_map(|r| r.requests.get(name)));
                (name.clone(), m)
            })
            .collect()
    }

    /// The stages of the first run, each summed by position over the runs; the level is the
    /// sum of the generators' levels.
    fn stages(&mut self, shape: &[StageResult]) -> Vec<StageResult> {
        let runs = self.runs;
        shape
            .iter()
            .enumerate()
            .map(|(i, stage)| {
                let of_runs = || runs.iter().filter_map(|r| r.stages.get(i));
                StageResult {
                    metrics: self.metrics(&stage_key(i), of_runs().map(|s| &s.metrics)),
                    target: of_runs().map(|s| s.target).sum(),
                    ..stage.clone()
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::{ClassTime, ErrorCounts, Kind, Latency, LoadModel, ScenarioInfo, Window};

    fn metrics(ok: u64, failed: u64, failed_mean: f64, failed_max: f64) -> Metrics {
        let requests = ok + failed;
        let mut m = Metrics {
            requests,
            ok,
            errors: failed,
            dropped: failed / 2,
            retries: failed / 4,
            attempted_rps: requests as f64 / 10.0,
            throughput_rps: ok as f64 / 10.0,
            errors_by_class: ErrorCounts {
                timeout: failed / 2,
                interrupted: failed - failed / 2,
                ..ErrorCounts::default()
            },
            failed_latency_ms: Latency {
                min: failed_mean / 2.0,
                mean: failed_mean,
                p50: failed_mean,
                p99: failed_max,
                max: failed_max,
                ..Latency::default()
            },
            ..Metrics::default()
        };
        m.failed_by_class_ms.insert(
            "timeout".into(),
            ClassTime {
                mean: failed_max,
                max: failed_max,
            },
        );
        m.failed_by_class_ms.insert(
            "interrupted".into(),
            ClassTime {
                mean: failed_mean,
                max: failed_mean * 2.0,
            },
        );
        m
    }

    fn run(id: &str, totals: Metrics) -> Measurement {
        Measurement {
            tool: Default::default(),
            scenario: ScenarioInfo {
                name: "s".into(),
                kind: Kind::Load,
                file: "s.yaml".into(),
                hash: "h".into(),
                description: None,
                target: "embedded".into(),
                model: LoadModel::Open,
            },
            host: Default::default(),
            started_at: "2026-01-01T00:00:00.000Z".into(),
            duration_s: 10.0,
            aborted: false,
            timeseries: vec![Window {
                requests: totals.requests,
                attempted_rps: totals.attempted_rps,
                errors_by_class: totals.errors_by_class.clone(),
                ..Window::default()
            }],
            requests: [("get".to_string(), totals.clone())].into(),
            totals,
            warmup: None,
            stages: Vec::new(),
            request_series: Default::default(),
            histograms: Default::default(),
            error_samples: Vec::new(),
            warnings: vec![format!("warning of {id}"), "shared".into()],
            run_id: id.into(),
            repeat: None,
            segment: None,
            generators: Vec::new(),
        }
    }

    /// Every field of the metrics folds: counts add up, rates follow from the sums, time to
    /// failure is the worst with the mean weighted by the failures.
    #[test]
    fn merging_two_runs_keeps_every_metric() {
        let a = run("a", metrics(90, 8, 100.0, 400.0));
        let b = run("b", metrics(70, 24, 20.0, 900.0));
        check_mergeable(&[a.clone(), b.clone()], false).unwrap();
        let m = merge(&[a, b]).unwrap();
        for t in [&m.totals, &m.requests["get"]] {
            assert_eq!((t.requests, t.ok, t.errors), (192, 160, 32));
            assert_eq!((t.dropped, t.retries), (4 + 12, 2 + 6));
            assert!((t.dropped_rate - 16.0 / 208.0).abs() < 1e-12);
            assert!((t.error_rate - 32.0 / 192.0).abs() < 1e-12);
            assert!((t.attempted_rps - 19.2).abs() < 1e-9);
            assert!((t.throughput_rps - 16.0).abs() < 1e-9);
            assert_eq!(t.errors_by_class.timeout, 4 + 12);
            assert_eq!(t.errors_by_class.interrupted, 4 + 12);
            let f = &t.failed_latency_ms;
            assert_eq!((f.min, f.p99, f.max), (10.0, 900.0, 900.0));
            assert!((f.mean - (100.0 * 8.0 + 20.0 * 24.0) / 32.0).abs() < 1e-9);
            let timeout = &t.failed_by_class_ms["timeout"];
            assert!((timeout.mean - (400.0 * 4.0 + 900.0 * 12.0) / 16.0).abs() < 1e-9);
            assert_eq!(timeout.max, 900.0);
            let interrupted = &t.failed_by_class_ms["interrupted"];
            assert!((interrupted.mean - (100.0 * 4.0 + 20.0 * 12.0) / 16.0).abs() < 1e-9);
            assert_eq!(interrupted.max, 200.0);
        }
        let w = &m.timeseries[0];
        assert_eq!(w.requests, 192);
        assert!((w.attempted_rps - 19.2).abs() < 1e-9);
        assert_eq!(w.errors_by_class.interrupted, 16);
        assert_eq!(m.run_id, "a+b");
        assert_eq!(m.warnings, ["warning of a", "shared", "warning of b"]);
        assert!(!m.aborted);
    }

    #[test]
    fn an_aborted_run_makes_the_merge_aborted_and_the_same_run_is_refused() {
        let a = run("a", metrics(90, 8, 100.0, 400.0));
        let mut b = run("b", metrics(70, 24, 20.0, 900.0));
        b.aborted = true;
        assert!(merge(&[a.clone(), b]).unwrap().aborted);
        assert!(matches!(
            check_mergeable(&[a.clone(), a], false),
            Err(MergeRefusal::SameRun { .. })
        ));
        assert_eq!(merge(&[]), Err(MergeRefusal::Nothing));
    }
}
