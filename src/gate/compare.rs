//! The comparison of a run against its baseline: per request and metric, the change, the
//! tolerance it is held against (direction-aware), the baseline runs' own spread, the
//! significance test over per-second windows, the smallest detectable change, and the
//! tri-state verdict; plus the testbed, scenario and environment differences.

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::baseline::{Baseline, RunSummary};
use super::power::{run_margin, window_power};
use super::stats::{self, Significance, DEFAULT_ALPHA};
use super::testbed::derive_testbed;
use crate::result::{
    Comparison, ComparisonVerdict, Measurement, MetricComparison, MetricVerdict, Metrics,
    SeriesPoint, TOTAL_KEY,
};
use crate::scenario::units::{TolMetric, TolValue};
use crate::scenario::BaselineSpec;

/// How to compare.
#[derive(Debug, Clone, PartialEq)]
pub struct CompareOptions {
    /// Tolerance per metric, already merged (scenario ← command line); a metric not named
    /// takes `TolMetric::default_tolerance`.
    pub tolerances: BTreeMap<TolMetric, TolValue>,
    /// Inconclusive metrics fail the comparison too.
    pub strict: bool,
    /// Significance level of the noise test.
    pub alpha: f64,
    /// The testbed of the run being judged (`--testbed`, `PERFGATE_TESTBED`); `None`: derived
    /// from the run's host.
    pub testbed: Option<String>,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            tolerances: BTreeMap::new(),
            strict: false,
            alpha: DEFAULT_ALPHA,
            testbed: None,
        }
    }
}

impl CompareOptions {
    /// The scenario's tolerances overridden by the command line's (`--tolerance p99=15%`).
    pub(crate) fn from_spec(
        spec: &BaselineSpec,
        overrides: &[(TolMetric, TolValue)],
        strict: bool,
    ) -> Self {
        let mut tolerances = spec.tolerance.clone();
        tolerances.extend(overrides.iter().copied());
        CompareOptions {
            tolerances,
            strict,
            alpha: DEFAULT_ALPHA,
            testbed: None,
        }
    }

    /// The same options for a run on `testbed` (`None`: derived from the run's host).
    pub fn on_testbed(mut self, testbed: Option<String>) -> Self {
        self.testbed = testbed;
        self
    }

    /// The tolerance in force for `m`.
    pub(crate) fn tolerance(&self, m: TolMetric) -> TolValue {
        self.tolerances
            .get(&m)
            .copied()
            .unwrap_or_else(|| m.default_tolerance())
    }
}

/// One compared metric: where its summary and per-window values come from, and which way is bad.
struct MetricDef {
    tol: TolMetric,
    unit: &'static str,
    /// True for latency and error rate; false for throughput.
    higher_is_bad: bool,
    summary: fn(&Metrics) -> f64,
    window: fn(&SeriesPoint) -> Option<f64>,
}

fn latency(p: &SeriesPoint, v: f64) -> Option<f64> {
    (p.requests > 0).then_some(v)
}

const METRICS: [MetricDef; 7] = [
    MetricDef {
        tol: TolMetric::P50,
        unit: "ms",
        higher_is_bad: true,
        summary: |m| m.latency_ms.p50,
        window: |p| latency(p, p.p50_ms),
    },
    MetricDef {
        tol: TolMetric::P90,
        unit: "ms",
        higher_is_bad: true,
        summary: |m| m.latency_ms.p90,
        window: |p| latency(p, p.p90_ms),
    },
    MetricDef {
        tol: TolMetric::P95,
        unit: "ms",
        higher_is_bad: true,
        summary: |m| m.latency_ms.p95,
        window: |p| latency(p, p.p95_ms),
    },
    MetricDef {
        tol: TolMetric::P99,
        unit: "ms",
        higher_is_bad: true,
        summary: |m| m.latency_ms.p99,
        window: |p| latency(p, p.p99_ms),
    },
    MetricDef {
        tol: TolMetric::Mean,
        unit: "ms",
        higher_is_bad: true,
        summary: |m| m.latency_ms.mean,
        window: |p| latency(p, p.mean_ms),
    },
    MetricDef {
        tol: TolMetric::Throughput,
        unit: "rps",
        higher_is_bad: false,
        summary: |m| m.throughput_rps,
        window: |p| Some(p.throughput_rps),
    },
    MetricDef {
        tol: TolMetric::ErrorRate,
        unit: "ratio",
        higher_is_bad: true,
        summary: |m| m.error_rate,
        window: |p| (p.requests > 0).then(|| p.errors as f64 / p.requests as f64),
    },
];

/// Smallest baseline value used as the denominator of a relative change (1 µs, 0.001/s), so a
/// baseline of 0 gives a large but finite change.
const REL_FLOOR: f64 = 1e-3;

/// Compares `current` with `baseline`: `_total` and every request name present in both, for
/// p50, p90, p95, p99, mean, throughput and error rate.
///
/// A metric is `unchanged` within its tolerance; past it, it is `regressed` (bad direction) or
/// `improved` (good direction) only when the per-second windows differ significantly
/// (Mann–Whitney U, p < `alpha`) in the same direction and, for a regression, the change
/// also lies beyond what the baseline's runs vary by (worst run + half the range); `inconclusive`
/// otherwise (including when either side has fewer than 3 windows). A latency metric with no
/// successful response on either side is `no_data`: it has no value, and it fails (a gate on
/// missing data never passes). Each metric states the smallest change it could have detected
/// (`detectable`); when no `_total` metric can detect its tolerance, `underpowered` says so
/// in one line.
///
/// The comparison fails when any metric regressed or had no data, or with `strict` when any
/// is inconclusive or the comparison is underpowered; never when the baseline belongs to
/// another testbed than this run's (`informational`).
pub fn compare(current: &Measurement, baseline: &Baseline, opts: &CompareOptions) -> Comparison {
    let base = &baseline.result.measurement();
    let (names, mut notes) = compared_names(base, current);
    let testbed = opts
        .testbed
        .clone()
        .unwrap_or_else(|| derive_testbed(&current.host));
    let baseline_testbed = baseline.testbed();
    let informational = testbed != baseline_testbed;
    if informational {
        notes.insert(
            0,
            format!(
                "no baseline for testbed {testbed}: comparing with {baseline_testbed}, informational"
            ),
        );
    }
    let mut pending = Vec::new();
    for name in names {
        compare_request(
            name,
            base,
            &baseline.runs,
            current,
            opts,
            &mut pending,
            &mut notes,
        );
    }
    compare_sut(base, current, opts, &mut pending, &mut notes);
    let judged = judge_all(pending, opts.alpha);
    let underpowered = underpowered_line(&judged);
    if let Some(line) = &underpowered {
        notes.push(line.clone());
    } else if let Some(line) = partly_underpowered(&judged) {
        notes.push(line);
    }
    let metrics: Vec<MetricComparison> = judged.into_iter().map(|j| j.m).collect();
    notes.extend(context_notes(base, current));
    if baseline.runs.len() <= 1 {
        notes.push(
            "the baseline holds one run, so its run-to-run spread is unknown and only the window \
             test guards against noise; `perfgate baseline refresh` now records several runs"
                .to_string(),
        );
    }

    let failed = !informational
        && (metrics.iter().any(|m| {
            matches!(m.verdict, MetricVerdict::Regressed | MetricVerdict::NoData)
                || (opts.strict && m.verdict == MetricVerdict::Inconclusive)
        }) || (opts.strict && underpowered.is_some()));
    Comparison {
        baseline_file: baseline
            .path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        baseline_created_at: baseline.provenance.created_at.clone(),
        verdict: if failed {
            ComparisonVerdict::Fail
        } else {
            ComparisonVerdict::Pass
        },
        method: format!(
            "two-sided Mann-Whitney U over 1 s windows (tie- and continuity-corrected), \
             p-values Holm-adjusted across the compared metrics, α = {}; \
             a metric regresses only when past its tolerance, significant, and beyond the \
             baseline's {} runs' spread (worst run + half the range)",
            opts.alpha,
            baseline.run_count()
        ),
        scenario_changed: baseline.provenance.scenario_hash != current.scenario.hash,
        env_mismatch: env_mismatch(baseline, current),
        notes,
        metrics,
        testbed,
        baseline_testbed,
        informational,
        baseline_runs: baseline.run_count(),
        underpowered,
    }
}

/// `_total` and the request names present on both sides; a note for each name on one side
/// only.
fn compared_names<'a>(base: &'a Measurement, current: &Measurement) -> (Vec<&'a str>, Vec<String>) {
    let mut notes = Vec::new();
    let mut names: Vec<&str> = vec![TOTAL_KEY];
    for name in base.requests.keys() {
        if current.requests.contains_key(name) {
            names.push(name);
        } else {
            notes.push(format!(
                "request `{name}` is only in the baseline: not compared"
            ));
        }
    }
    for name in current.requests.keys() {
        if !base.requests.contains_key(name) {
            notes.push(format!(
                "request `{name}` is new since the baseline: not compared"
            ));
        }
    }
    (names, notes)
}

/// Every metric of request `name` (or `_total`), before the verdicts; notes a side without a
/// per-second series and a baseline of 0.
fn compare_request(
    name: &str,
    base: &Measurement,
    runs: &[RunSummary],
    current: &Measurement,
    opts: &CompareOptions,
    pending: &mut Vec<Pending>,
    notes: &mut Vec<String>,
) {
    let (Some(bm), Some(cm)) = (summary(base, name), summary(current, name)) else {
        return;
    };
    let bs = series(base, name);
    let cs = series(current, name);
    for (side, s) in [("baseline", &bs), ("this run", &cs)] {
        if s.is_empty() {
            notes.push(format!(
                "{name}: {side} has no per-second series, so changes past tolerance are inconclusive"
            ));
        }
    }
    for def in &METRICS {
        let run_values: Vec<f64> = runs
            .iter()
            .filter_map(|r| r.metrics(name))
            .map(def.summary)
            .collect();
        let margin = run_margin(
            &run_values,
            def.higher_is_bad,
            def.tol == TolMetric::ErrorRate,
        );
        let mut m = compare_metric(def, name, bm, cm, &bs, &cs, opts);
        m.margin = margin;
        if !m.no_data
            && def.tol != TolMetric::ErrorRate
            && (def.summary)(bm) == 0.0
            && m.m.current != 0.0
        {
            notes.push(format!(
                "{name} {}: the baseline is 0, so the change is relative to {REL_FLOOR} {}",
                def.tol, def.unit
            ));
        }
        pending.push(m);
    }
}

/// What a reader of the comparison must know about the two sides: medians of several runs,
/// another scenario.
fn context_notes(base: &Measurement, current: &Measurement) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(r) = &current.repeat {
        notes.push(format!("this run's values are medians of {} runs", r.runs));
    }
    if let Some(r) = &base.repeat {
        notes.push(format!(
            "the baseline's values are medians of {} runs",
            r.runs
        ));
    }
    if base.scenario.name != current.scenario.name {
        notes.push(format!(
            "the baseline was taken from scenario `{}`, this run is `{}`",
            base.scenario.name, current.scenario.name
        ));
    }
    notes
}

/// A compared metric before its verdict: the verdict needs every metric's p-value (Holm).
struct Pending {
    m: MetricComparison,
    /// Change in the bad direction (negative: better), and the tolerance it is held against.
    worse: f64,
    limit: f64,
    /// Whether the windows moved the bad way (`None`: not tested).
    windows_worse: Option<bool>,
    /// A latency metric with no successful response on either side: nothing to compare.
    no_data: bool,
    /// The baseline runs' allowance ([`run_margin`]); `None` for a one-run baseline.
    margin: Option<f64>,
    /// The window values of each side, for the power statement.
    bw: Vec<f64>,
    cw: Vec<f64>,
    /// Turns a difference of window values into the unit of `change`.
    per_unit: f64,
}

/// A metric with its verdict, and what its power statement needs.
struct Judged {
    m: MetricComparison,
    limit: f64,
    /// Current windows needed to detect the tolerance (`None`: no run length would).
    needed: Option<usize>,
    margin: Option<f64>,
    current_windows: usize,
}

/// Holm's step-down adjustment: the i-th smallest of m p-values is multiplied by (m - i),
/// made monotone, capped at 1. It keeps the chance of any false "significant" among all the
/// metrics of a comparison at α, where testing each at α would not (21 tests at 0.05 make
/// one false hit likely on every run).
pub(crate) fn holm(p: &[Option<f64>]) -> Vec<Option<f64>> {
    let mut idx: Vec<usize> = (0..p.len()).filter(|&i| p[i].is_some()).collect();
    idx.sort_by(|&a, &b| p[a].unwrap_or(1.0).total_cmp(&p[b].unwrap_or(1.0)));
    let m = idx.len();
    let mut out = vec![None; p.len()];
    let mut running: f64 = 0.0;
    for (rank, &i) in idx.iter().enumerate() {
        let adj = (p[i].unwrap_or(1.0) * (m - rank) as f64).min(1.0);
        running = running.max(adj);
        out[i] = Some(running);
    }
    out
}

fn judge_all(pending: Vec<Pending>, alpha: f64) -> Vec<Judged> {
    // Metrics without data take no part in the p-value adjustment.
    let raw: Vec<Option<f64>> = pending
        .iter()
        .map(|p| if p.no_data { None } else { p.m.p_value })
        .collect();
    let tested = raw.iter().flatten().count().max(1);
    let adjusted = holm(&raw);
    pending
        .into_iter()
        .zip(adjusted)
        .map(|(p, adj)| {
            let significant = adj.is_some_and(|v| v < alpha);
            let beyond_runs = p.margin.is_none_or(|m| p.worse > m);
            let verdict = if p.no_data {
                MetricVerdict::NoData
            } else if p.worse.abs() <= p.limit {
                MetricVerdict::Unchanged
            } else {
                match (significant, p.windows_worse) {
                    // The windows must have moved the same way as the summary, and a
                    // regression must lie outside what the baseline's runs vary by.
                    (true, Some(true)) if p.worse > 0.0 && beyond_runs => MetricVerdict::Regressed,
                    (true, Some(false)) if p.worse < 0.0 => MetricVerdict::Improved,
                    _ => MetricVerdict::Inconclusive,
                }
            };
            let power = window_power(&p.bw, &p.cw, p.per_unit, alpha / tested as f64, p.limit);
            let margin = p.margin.unwrap_or(0.0);
            let detectable = if p.no_data {
                None
            } else {
                power.detectable.map(|d| finite(d.max(margin)))
            };
            Judged {
                m: MetricComparison {
                    p_value: adj,
                    verdict,
                    detectable,
                    ..p.m
                },
                limit: p.limit,
                needed: power.needed,
                margin: p.margin,
                current_windows: p.cw.iter().filter(|v| v.is_finite()).count(),
            }
        })
        .collect()
}

/// How the one-line power statement starts.
pub(crate) const UNDERPOWERED_PREFIX: &str = "baseline comparison cannot fail: ";

/// True when the metric cannot detect a change as large as its tolerance.
fn weak(j: &Judged) -> bool {
    j.m.verdict != MetricVerdict::NoData && j.m.detectable.is_none_or(|d| d > j.limit)
}

/// The one line saying the comparison cannot fail, when no `_total` metric can detect its
/// tolerance: how many windows this run had and what would be needed.
fn underpowered_line(judged: &[Judged]) -> Option<String> {
    let total: Vec<&Judged> = judged
        .iter()
        .filter(|j| j.m.request == TOTAL_KEY && j.m.verdict != MetricVerdict::NoData)
        .collect();
    if total.is_empty() || !total.iter().all(|j| weak(j)) {
        return None;
    }
    let windows = total.iter().map(|j| j.current_windows).max().unwrap_or(0);
    // The metric that needs the shortest run to become able to fail.
    let best = total
        .iter()
        .filter(|j| j.margin.is_none_or(|m| m <= j.limit))
        .filter_map(|j| j.needed.map(|n| (n, *j)))
        .min_by_key(|(n, _)| *n);
    let need = match best {
        Some((n, j)) => format!(
            "needs ≈ {} s to detect {} ({})",
            n.max(windows + 1),
            j.m.tolerance,
            j.m.metric
        ),
        None if total.iter().any(|j| j.margin.is_some_and(|m| m > j.limit)) => {
            "the baseline's runs vary by more than the tolerances".to_string()
        }
        None => "the baseline has too few windows; refresh it with longer runs".to_string(),
    };
    Some(format!("{UNDERPOWERED_PREFIX}{windows} windows, {need}"))
}

/// A note naming the `_total` metrics that cannot detect their tolerance, when some can.
fn partly_underpowered(judged: &[Judged]) -> Option<String> {
    let weak: Vec<String> = judged
        .iter()
        .filter(|j| j.m.request == TOTAL_KEY && weak(j))
        .map(|j| match j.m.detectable {
            Some(d) => format!(
                "{} could detect ≥ {d:.0} {} (tolerance {})",
                j.m.metric,
                if j.m.metric == "error_rate" {
                    "pp"
                } else {
                    "%"
                },
                j.m.tolerance
            ),
            None => format!("{} could detect no change", j.m.metric),
        })
        .collect();
    (!weak.is_empty()).then(|| format!("low power: {}", weak.join("; ")))
}

fn compare_metric(
    def: &MetricDef,
    name: &str,
    bm: &Metrics,
    cm: &Metrics,
    bs: &[SeriesPoint],
    cs: &[SeriesPoint],
    opts: &CompareOptions,
) -> Pending {
    // Latency is that of successful responses: with none on a side there is no value.
    let no_data = def.unit == "ms" && (bm.ok == 0 || cm.ok == 0);
    let sides = Sides {
        b: (def.summary)(bm),
        c: (def.summary)(cm),
        bw: bs.iter().filter_map(def.window).collect(),
        cw: cs.iter().filter_map(def.window).collect(),
    };
    pending_of(
        def.tol,
        def.unit,
        def.higher_is_bad,
        no_data,
        name,
        sides,
        opts,
    )
}

/// One compared metric's two sides: the summaries and the per-second values.
struct Sides {
    b: f64,
    c: f64,
    bw: Vec<f64>,
    cw: Vec<f64>,
}

/// The system under test's memory and CPU (`monitor:`, compared as request [`SUT_KEY`])
/// when both sides watched it; a note when only this run did.
fn compare_sut(
    base: &Measurement,
    current: &Measurement,
    opts: &CompareOptions,
    pending: &mut Vec<Pending>,
    notes: &mut Vec<String>,
) {
    let (Some(bs), Some(cs)) = (
        super::sut::windows(&base.timeseries),
        super::sut::windows(&current.timeseries),
    ) else {
        if super::sut::windows(&current.timeseries).is_some() {
            notes.push(
                "the baseline has no sample of the system under test: its memory and CPU are \
                 not compared (`perfgate baseline refresh` records them)"
                    .to_string(),
            );
        }
        return;
    };
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    for (tol, unit, b, c) in [
        (TolMetric::SutRss, "bytes", bs.rss, cs.rss),
        (TolMetric::SutCpu, "pct", bs.cpu, cs.cpu),
    ] {
        if b.is_empty() || c.is_empty() {
            continue;
        }
        let sides = Sides {
            b: mean(&b),
            c: mean(&c),
            bw: b,
            cw: c,
        };
        pending.push(pending_of(tol, unit, true, false, SUT_KEY, sides, opts));
    }
}

/// The request name under which the system under test's metrics are compared.
pub(crate) const SUT_KEY: &str = "_sut";

fn pending_of(
    tol: TolMetric,
    unit: &str,
    higher_is_bad: bool,
    no_data: bool,
    name: &str,
    sides: Sides,
    opts: &CompareOptions,
) -> Pending {
    let Sides { b, c, bw, cw } = sides;
    let b = finite(b);
    let c = finite(c);
    let tolerance = opts.tolerance(tol);
    let limit = match tolerance {
        TolValue::Percent(v) | TolValue::Points(v) => v.abs(),
    };
    let change = if tol == TolMetric::ErrorRate {
        (c - b) * 100.0
    } else {
        (c - b) / b.abs().max(REL_FLOOR) * 100.0
    };
    let change = finite(change);
    let worse = if higher_is_bad { change } else { -change };

    let per_unit = if tol == TolMetric::ErrorRate {
        100.0
    } else {
        100.0 / b.abs().max(REL_FLOOR)
    };
    let sig = stats::mann_whitney(&bw, &cw);
    let windows_worse = match sig {
        Significance::Tested(t) => Some(if higher_is_bad { t.z > 0.0 } else { t.z < 0.0 }),
        _ => None,
    };
    Pending {
        m: MetricComparison {
            request: name.to_string(),
            metric: tol.name().to_string(),
            unit: unit.to_string(),
            baseline: b,
            current: c,
            change,
            tolerance: tolerance.to_string(),
            p_value: sig.p_value(),
            verdict: MetricVerdict::Unchanged,
            detectable: None,
        },
        worse,
        limit,
        windows_worse,
        no_data,
        margin: None,
        bw,
        cw,
        per_unit,
    }
}

fn finite(v: f64) -> f64 {
    if v.is_finite() {
        v
    } else {
        0.0
    }
}

fn summary<'a>(r: &'a Measurement, name: &str) -> Option<&'a Metrics> {
    if name == TOTAL_KEY {
        Some(&r.totals)
    } else {
        r.requests.get(name)
    }
}

/// The per-second points of `name`. For `_total` without a series (results written before
/// `request_series` existed), the measured windows of `timeseries` stand in; they carry no
/// p95 or mean, which the test then ignores (NaN).
fn series<'a>(r: &'a Measurement, name: &str) -> Cow<'a, [SeriesPoint]> {
    if let Some(s) = r.request_series.get(name) {
        return Cow::Borrowed(s);
    }
    if name != TOTAL_KEY {
        return Cow::Owned(Vec::new());
    }
    Cow::Owned(
        r.timeseries
            .iter()
            .filter(|w| w.stage.is_some())
            .map(|w| SeriesPoint {
                t_s: w.t_s,
                requests: w.requests,
                errors: w.errors,
                throughput_rps: w.throughput_rps,
                mean_ms: f64::NAN,
                p50_ms: w.p50_ms,
                p90_ms: w.p90_ms,
                p95_ms: f64::NAN,
                p99_ms: w.p99_ms,
            })
            .collect(),
    )
}

/// Differences between the machine and tool that took the baseline and this run, in words.
pub fn env_mismatch(baseline: &Baseline, current: &Measurement) -> Vec<String> {
    let (b, c) = (&baseline.provenance.host, &current.host);
    let mut out = Vec::new();
    if b.cpu_model != c.cpu_model {
        out.push(format!(
            "CPU model differs: baseline `{}`, this run `{}`",
            b.cpu_model, c.cpu_model
        ));
    }
    if b.cpus != c.cpus {
        out.push(format!(
            "CPU count differs: baseline {}, this run {}",
            b.cpus, c.cpus
        ));
    }
    if b.os != c.os || b.arch != c.arch {
        out.push(format!(
            "OS/arch differs: baseline {}/{}, this run {}/{}",
            b.os, b.arch, c.os, c.arch
        ));
    }
    if b.threads != 0 && c.threads != 0 && b.threads != c.threads {
        out.push(format!(
            "worker threads differ: baseline {}, this run {}",
            b.threads, c.threads
        ));
    }
    if baseline.provenance.perfgate_version != current.tool.version {
        out.push(format!(
            "perfgate version differs: baseline {}, this run {}",
            baseline.provenance.perfgate_version, current.tool.version
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_tolerances_override_the_scenario() {
        let mut spec = BaselineSpec::default();
        spec.tolerance
            .insert(TolMetric::P99, TolValue::Percent(20.0));
        spec.tolerance
            .insert(TolMetric::P95, TolValue::Percent(15.0));
        let opts =
            CompareOptions::from_spec(&spec, &[(TolMetric::P99, TolValue::Percent(5.0))], true);
        assert_eq!(opts.tolerance(TolMetric::P99), TolValue::Percent(5.0));
        assert_eq!(opts.tolerance(TolMetric::P95), TolValue::Percent(15.0));
        assert_eq!(opts.tolerance(TolMetric::ErrorRate), TolValue::Points(0.5));
        assert!(opts.strict && opts.alpha == DEFAULT_ALPHA);
    }

    #[test]
    fn every_tolerance_metric_is_compared() {
        for m in TolMetric::ALL {
            let sut = matches!(m, TolMetric::SutRss | TolMetric::SutCpu);
            assert!(
                sut || METRICS.iter().any(|d| d.tol == m),
                "{m} is not compared"
            );
        }
    }

    #[test]
    fn holm_adjusts_step_down_and_keeps_order() {
        let adj = holm(&[Some(0.01), None, Some(0.04), Some(0.03)]);
        // m = 3: 0.01×3 = 0.03, 0.03×2 = 0.06, 0.04×1 = 0.04 → monotone 0.06.
        assert_eq!(adj[1], None);
        assert!((adj[0].unwrap() - 0.03).abs() < 1e-12);
        assert!((adj[3].unwrap() - 0.06).abs() < 1e-12);
        assert!((adj[2].unwrap() - 0.06).abs() < 1e-12);
        assert_eq!(holm(&[Some(0.9), Some(0.8)]), vec![Some(1.0), Some(1.0)]);
        assert!(holm(&[]).is_empty());
    }
}
