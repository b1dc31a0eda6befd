//! `perfgate merge`: one measurement from several measurements of the same scenario that ran
//! at the same time on different load generators. Counts, throughput and bytes add up;
//! latency of totals, requests and stages comes from the summed HDR histograms, so it is
//! exact; per-second windows have no stored histogram, so their percentiles are the worst of
//! the inputs (see [`super::sum`]).
//!
//! Merging is only honest for runs that happened at the same time: [`check_mergeable`]
//! refuses the same run twice (same `run_id`) and runs that did not overlap in time. A merged
//! result's `run_id` lists the ids of the runs in it, joined by `+`.
//!
//! The segments of one distributed run (`run --segment I/N`) share a run id: they merge when
//! they are all of that run id, each segment once, all `N` of them (or, asked for, only some:
//! [`MergeChecks::partial`]). Windows are added up by wall-clock second, each run's shifted
//! by how much later than the earliest it started, and each generator's health is kept in
//! the merged result.

use std::collections::{BTreeMap, BTreeSet};

use super::sum;
use crate::result::histogram::merge_encoded;
use crate::result::{
    stage_key, GeneratorHealth, Measurement, Metrics, SegmentInfo, StageResult, TOTAL_KEY,
};

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
    #[error("results of different runs cannot be merged as segments: run {first} has run id `{first_id}`, run {other} has `{other_id}`")]
    MixedRunIds {
        first: usize,
        first_id: String,
        other: usize,
        other_id: String,
    },
    #[error("segment {segment} is given twice (results {first} and {second}); each segment is merged once")]
    SameSegment {
        segment: String,
        first: usize,
        second: usize,
    },
    #[error("run {first} is segment {first_seg} and run {other} is segment {other_seg}: they split the load differently")]
    MixedSegmentCounts {
        first: usize,
        first_seg: String,
        other: usize,
        other_seg: String,
    },
    #[error("run {index} ran no segment while others did: merge the segments of one run")]
    NotASegment { index: usize },
    #[error("{} of {count} missing", missing_list(.missing))]
    MissingSegments { missing: Vec<u32>, count: u32 },
}

fn missing_list(missing: &[u32]) -> String {
    let names: Vec<String> = missing.iter().map(|m| m.to_string()).collect();
    match names.len() {
        1 => format!("segment {}", names[0]),
        _ => format!("segments {}", names.join(", ")),
    }
}

/// What [`check_mergeable`] lets through.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MergeChecks {
    /// Runs that did not overlap in time (the same run twice is still refused).
    pub allow_disjoint: bool,
    /// Some segments of a distributed run may be missing.
    pub partial: bool,
}

/// What [`check_mergeable`] found: the segments of a distributed run that are missing
/// (allowed by [`MergeChecks::partial`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergeFindings {
    /// Missing segments (1-based) and how many the run had.
    pub missing: Option<(Vec<u32>, u32)>,
}

impl MergeFindings {
    /// The note a partial merge carries.
    pub fn note(&self) -> Option<String> {
        let (missing, count) = self.missing.as_ref()?;
        let have = *count as usize - missing.len();
        Some(format!(
            "partial merge (--partial): {} of {count} missing; the merged load is {have}/{count} of the scenario's",
            missing_list(missing)
        ))
    }
}

/// The ids of the runs inside `r` (one for a plain run, several for a merged one).
fn run_ids(r: &Measurement) -> Vec<&str> {
    r.run_id
        .split(RUN_ID_SEPARATOR)
        .filter(|s| !s.is_empty())
        .collect()
}

/// Checks that `runs` (numbered from 1 in messages, in the order given) are distinct runs
/// of one scenario that overlapped in time (unless `allow_disjoint`); segments of a
/// distributed run must be of one run id, each once, and all there (unless `partial`).
pub fn check_mergeable(
    runs: &[Measurement],
    checks: MergeChecks,
) -> Result<MergeFindings, MergeRefusal> {
    same_scenario(runs)?;
    // A run with `--start-at` alone records segment 1/1: the whole load, not a segment.
    let findings = if runs.iter().any(is_segment) {
        segments(runs, checks.partial)?
    } else {
        distinct_runs(runs)?;
        MergeFindings::default()
    };
    if !checks.allow_disjoint {
        overlapping(runs)?;
    }
    Ok(findings)
}

/// True when `r` ran part of the load (`--segment I/N` with N > 1).
fn is_segment(r: &Measurement) -> bool {
    r.segment.as_ref().is_some_and(|s| s.count > 1)
}

/// The segments of one distributed run: one run id, one way of splitting the load, each
/// segment once, none missing unless `partial`.
fn segments(runs: &[Measurement], partial: bool) -> Result<MergeFindings, MergeRefusal> {
    let mut first: Option<(usize, &Measurement, &SegmentInfo)> = None;
    let mut seen: BTreeMap<u32, usize> = BTreeMap::new();
    for (i, r) in runs.iter().enumerate() {
        let n = i + 1;
        let s = r
            .segment
            .as_ref()
            .filter(|_| is_segment(r))
            .ok_or(MergeRefusal::NotASegment { index: n })?;
        let seg = |s: &SegmentInfo| format!("{}/{}", s.index, s.count);
        let (f, fr, fs) = *first.get_or_insert((n, r, s));
        if r.run_id != fr.run_id {
            return Err(MergeRefusal::MixedRunIds {
                first: f,
                first_id: fr.run_id.clone(),
                other: n,
                other_id: r.run_id.clone(),
            });
        }
        if s.count != fs.count {
            return Err(MergeRefusal::MixedSegmentCounts {
                first: f,
                first_seg: seg(fs),
                other: n,
                other_seg: seg(s),
            });
        }
        if let Some(before) = seen.insert(s.index, n) {
            return Err(MergeRefusal::SameSegment {
                segment: seg(s),
                first: before,
                second: n,
            });
        }
    }
    let count = first.map_or(0, |(_, _, s)| s.count);
    let missing: Vec<u32> = (1..=count).filter(|i| !seen.contains_key(i)).collect();
    if missing.is_empty() {
        return Ok(MergeFindings::default());
    }
    if !partial {
        return Err(MergeRefusal::MissingSegments { missing, count });
    }
    Ok(MergeFindings {
        missing: Some((missing, count)),
    })
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
    let offsets = start_offsets(runs);
    out.timeseries = sum::windows(
        &runs
            .iter()
            .zip(&offsets)
            .map(|(r, off)| (&r.timeseries[..], *off))
            .collect::<Vec<_>>(),
    );
    out.request_series = first
        .request_series
        .keys()
        .map(|k| {
            let all = runs
                .iter()
                .zip(&offsets)
                .filter_map(|(r, off)| r.request_series.get(k).map(|s| (s, *off)));
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
    out.duration_s = runs
        .iter()
        .zip(&offsets)
        .map(|(r, off)| r.duration_s + *off as f64)
        .fold(0.0, f64::max);
    out.host.cpus = runs.iter().map(|r| r.host.cpus).sum();
    out.host.threads = runs.iter().map(|r| r.host.threads).sum();
    out.host.name = distinct(
        runs.iter()
            .flat_map(|r| r.host.name.split(RUN_ID_SEPARATOR)),
    );
    out.aborted = runs.iter().any(|r| r.aborted);
    out.stopped_early =
        crate::result::EarlyStop::first_of(runs.iter().map(|r| r.stopped_early.as_ref()));
    // The segments of one run share its id; runs merged without segments list theirs.
    out.run_id = distinct(runs.iter().flat_map(run_ids));
    out.repeat = None;
    out.segment = None;
    out.generators = runs.iter().enumerate().flat_map(generators).collect();
    Ok(out)
}

/// The non-empty `parts`, each once in the order first seen, joined by `+`.
fn distinct<'a>(parts: impl Iterator<Item = &'a str>) -> String {
    let mut out: Vec<&str> = Vec::new();
    for p in parts.filter(|p| !p.is_empty()) {
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out.join(&RUN_ID_SEPARATOR.to_string())
}

/// The generators inside run `i`: its own when it is a merged result, else itself.
fn generators((i, r): (usize, &Measurement)) -> Vec<GeneratorHealth> {
    if !r.generators.is_empty() {
        return r.generators.clone();
    }
    let segment = match &r.segment {
        Some(s) if s.count > 1 => format!("{}/{}", s.index, s.count),
        _ => format!("#{}", i + 1),
    };
    vec![GeneratorHealth::of(
        segment,
        r.host.name.clone(),
        r.started_at.clone(),
        &r.totals,
        &r.timeseries,
    )]
}

/// How many whole seconds after the earliest run each run started (by `started_at`, rounded
/// to the nearest second), so their windows add up by wall-clock second. A start that cannot
/// be read counts as the earliest.
fn start_offsets(runs: &[Measurement]) -> Vec<usize> {
    let starts: Vec<Option<i64>> = runs
        .iter()
        .map(|r| {
            chrono::DateTime::parse_from_rfc3339(&r.started_at)
                .ok()
                .map(|t| t.timestamp_millis())
        })
        .collect();
    let earliest = starts.iter().flatten().min().copied().unwrap_or(0);
    starts
        .iter()
        .map(|s| s.map_or(0, |s| ((s - earliest) as f64 / 1000.0).round() as usize))
        .collect()
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
            stopped_early: None,
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
        check_mergeable(&[a.clone(), b.clone()], MergeChecks::default()).unwrap();
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
            check_mergeable(&[a.clone(), a], MergeChecks::default()),
            Err(MergeRefusal::SameRun { .. })
        ));
        assert_eq!(merge(&[]), Err(MergeRefusal::Nothing));
    }

    /// Segment `i` of `n` of run `id`, started `delay_ms` after the first, with 10 requests
    /// in each of its 3 windows.
    fn segment(id: &str, i: u32, n: u32, delay_ms: i64) -> Measurement {
        let mut m = run(id, metrics(30, 0, 0.0, 0.0));
        m.segment = Some(SegmentInfo {
            index: i,
            count: n,
            start_at: None,
        });
        let start = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap()
            + chrono::Duration::milliseconds(delay_ms);
        m.started_at = start.to_rfc3339();
        m.duration_s = 3.0;
        m.host.name = format!("gen-{i}");
        m.timeseries = (0..3)
            .map(|t| Window {
                t_s: t as f64,
                requests: 10,
                generator_cpu_pct: Some(40.0 + f64::from(i)),
                saturated: Some(i == 2 && t == 1),
                ..Window::default()
            })
            .collect();
        m
    }

    fn refusal(runs: &[Measurement]) -> MergeRefusal {
        check_mergeable(runs, MergeChecks::default()).unwrap_err()
    }

    #[test]
    fn segments_of_one_run_merge_once_each_and_all_of_them() {
        let all = [
            segment("r", 1, 3, 0),
            segment("r", 2, 3, 0),
            segment("r", 3, 3, 0),
        ];
        assert_eq!(
            check_mergeable(&all, MergeChecks::default()),
            Ok(MergeFindings::default())
        );
        let m = merge(&all).unwrap();
        assert_eq!(m.run_id, "r", "the segments' shared id, once");
        assert_eq!(m.host.name, "gen-1+gen-2+gen-3");
        assert_eq!(m.totals.requests, 90);
        let health: Vec<(&str, u64, u32)> = m
            .generators
            .iter()
            .map(|g| (g.segment.as_str(), g.requests, g.saturated_s))
            .collect();
        assert_eq!(health, [("1/3", 30, 0), ("2/3", 30, 1), ("3/3", 30, 0)]);
        assert_eq!(m.generators[2].peak_cpu_pct, Some(43.0));
        assert_eq!(m.generators[1].host, "gen-2");

        // Duplicates, a missing segment, another run's segment, another split of the load.
        let twice = [
            segment("r", 1, 3, 0),
            segment("r", 2, 3, 0),
            segment("r", 2, 3, 0),
        ];
        assert!(matches!(
            refusal(&twice),
            MergeRefusal::SameSegment {
                first: 2,
                second: 3,
                ..
            }
        ));
        let missing = [segment("r", 1, 3, 0), segment("r", 3, 3, 0)];
        let e = refusal(&missing);
        assert_eq!(e.to_string(), "segment 2 of 3 missing");
        let mixed = [segment("r", 1, 2, 0), segment("s", 2, 2, 0)];
        assert!(matches!(refusal(&mixed), MergeRefusal::MixedRunIds { .. }));
        let split = [segment("r", 1, 2, 0), segment("r", 2, 3, 0)];
        assert!(matches!(
            refusal(&split),
            MergeRefusal::MixedSegmentCounts { .. }
        ));
        let mut other = segment("r", 2, 2, 0);
        other.scenario.hash = "changed".into();
        assert!(matches!(
            refusal(&[segment("r", 1, 2, 0), other]),
            MergeRefusal::DifferentScenarios(_)
        ));
        // Two generators of the whole load started together (`--start-at`, segment 1/1)
        // merge as runs: distinct run ids add up, the same one is refused.
        let whole = |id: &str| {
            let mut w = segment(id, 1, 1, 0);
            w.run_id = id.into();
            w
        };
        assert!(check_mergeable(&[whole("x"), whole("y")], MergeChecks::default()).is_ok());
        assert!(matches!(
            refusal(&[whole("x"), whole("x")]),
            MergeRefusal::SameRun { .. }
        ));
        let plain = run("r", metrics(1, 0, 0.0, 0.0));
        assert!(matches!(
            refusal(&[segment("r", 1, 2, 0), plain]),
            MergeRefusal::NotASegment { index: 2 }
        ));

        // --partial merges what is there and says what is not.
        let partial = MergeChecks {
            partial: true,
            ..MergeChecks::default()
        };
        let found = check_mergeable(&missing, partial).unwrap();
        assert_eq!(
            found.note().unwrap(),
            "partial merge (--partial): segment 2 of 3 missing; the merged load is 2/3 of the \
             scenario's"
        );
    }

    /// A generator that started two seconds later has its windows added to the seconds in
    /// which they happened, not to the first ones: no second is doubled or missing.
    #[test]
    fn windows_add_up_by_wall_clock_second() {
        let a = segment("r", 1, 2, 0);
        let b = segment("r", 2, 2, 2_100);
        let m = merge(&[a, b]).unwrap();
        let per_second: Vec<(f64, u64)> =
            m.timeseries.iter().map(|w| (w.t_s, w.requests)).collect();
        assert_eq!(
            per_second,
            [(0.0, 10), (1.0, 10), (2.0, 20), (3.0, 10), (4.0, 10)]
        );
        assert_eq!(m.duration_s, 5.0);
        // Generators started together (within half a second) line up second by second.
        let m = merge(&[segment("r", 1, 2, 0), segment("r", 2, 2, 300)]).unwrap();
        let counts: Vec<u64> = m.timeseries.iter().map(|w| w.requests).collect();
        assert_eq!(counts, [20, 20, 20]);
    }
}
