//! The aggregator: merges worker batches into 1-second windows as they close, and into the
//! warm-up, per-stage and total accumulators. Only a few windows are open at once; a closed
//! window keeps a summary, not a histogram, so memory is flat in the run's length.
//!
//! A request belongs to the window in which it completed. The engine closes a window only
//! once no worker holds data for it (see [`super::Holds`]); a batch that still arrives for a
//! closed window (a worker preempted at the wrong moment) is added to that window's counts,
//! never folded into a later second.

use std::collections::BTreeMap;

use super::recorder::{Batch, EventPool};
use super::stats::ReqStats;
use crate::result::histogram::encode_histogram;
use crate::result::{
    stage_key, ErrorClass, ErrorSample, LevelUnit, Metrics, SeriesPoint, StageResult, Window,
    TOTAL_KEY,
};

/// Distinct messages kept per (request, class) for the report.
const SAMPLES_PER_KEY: usize = 3;

/// What the aggregator needs of the run's timeline, as plain data: a span of seconds and what
/// its windows count towards, the warm-up (`stage: None`) or one stage, at which level. The
/// engine's schedule makes these from its phases.
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    pub start_s: f64,
    pub end_s: f64,
    pub stage: Option<usize>,
    /// Virtual users or arrivals per second.
    pub level: f64,
    /// The level at `start_s`, from which a ramp to `level` starts.
    pub from_level: f64,
    /// How long that ramp lasts, seconds (0: a step).
    pub ramp_s: f64,
}

/// The level `into` seconds into a phase that ramps from `from` to `to` over `ramp_s`.
pub fn ramp_level(from: f64, to: f64, ramp_s: f64, into: f64) -> f64 {
    if ramp_s <= 0.0 || into >= ramp_s {
        to
    } else {
        from + (to - from) * (into.max(0.0) / ramp_s)
    }
}

impl Span {
    /// The scheduled level in the middle of the window starting at `t` (a ramp's level
    /// there; the span's level for a step).
    fn level_mid(&self, t: f64) -> f64 {
        let mid = (t + 0.5).min(self.end_s);
        ramp_level(self.from_level, self.level, self.ramp_s, mid - self.start_s)
    }
}

/// Everything the metrics stage hands on, in the result's own types.
#[derive(Debug, Clone, Default)]
pub struct MetricsOutput {
    pub totals: Metrics,
    pub warmup: Option<Metrics>,
    pub requests: BTreeMap<String, Metrics>,
    pub stages: Vec<StageResult>,
    pub timeseries: Vec<Window>,
    pub request_series: BTreeMap<String, Vec<SeriesPoint>>,
    pub histograms: BTreeMap<String, String>,
    pub error_samples: Vec<ErrorSample>,
}

#[derive(Default)]
struct Acc {
    stats: Vec<ReqStats>,
    dropped: u64,
}

impl Acc {
    fn new(n: usize) -> Self {
        Acc {
            stats: (0..n).map(|_| ReqStats::new()).collect(),
            dropped: 0,
        }
    }

    fn add(&mut self, stats: &[ReqStats], dropped: u64) {
        for (a, b) in self.stats.iter_mut().zip(stats) {
            a.merge(b);
        }
        self.dropped += dropped;
    }

    fn total(&self) -> ReqStats {
        let mut t = ReqStats::new();
        for s in &self.stats {
            t.merge(s);
        }
        t
    }
}

pub struct Aggregator {
    names: Vec<String>,
    spans: Vec<Span>,
    unit: LevelUnit,
    /// Open windows, each split by the phase its requests started in (see [`Batch::phase`]).
    open: BTreeMap<u32, Vec<(Option<u32>, Acc)>>,
    /// Windows below this are closed.
    next_to_close: u32,
    windows: Vec<Window>,
    series: Vec<Vec<SeriesPoint>>,
    stages: Vec<Acc>,
    warmup: Acc,
    samples: BTreeMap<(usize, ErrorClass), Vec<(String, u64)>>,
    /// Where absorbed batches' event buffers go back to, emptied, for the workers' next ones.
    pool: Option<EventPool>,
    late_batches: u64,
}

impl Aggregator {
    /// `spans` in time order; `unit` is that of their levels.
    pub fn new(names: Vec<String>, spans: Vec<Span>, unit: LevelUnit) -> Self {
        let n = names.len();
        let stage_count = spans.iter().filter(|p| p.stage.is_some()).count();
        Aggregator {
            series: vec![Vec::new(); n + 1],
            stages: (0..stage_count).map(|_| Acc::new(n)).collect(),
            warmup: Acc::new(n),
            names,
            spans,
            unit,
            open: BTreeMap::new(),
            next_to_close: 0,
            windows: Vec::new(),
            samples: BTreeMap::new(),
            pool: None,
            late_batches: 0,
        }
    }

    /// Hands every absorbed batch's event buffer back to `pool` (see [`EventPool`]).
    pub(crate) fn recycle_into(&mut self, pool: EventPool) {
        self.pool = Some(pool);
    }

    /// Takes one worker batch. A batch for a window already closed is added to that
    /// window's counts (its percentiles stay as they were), never to a later second.
    pub fn absorb(&mut self, b: Batch) {
        for sample in &b.samples {
            let list = self
                .samples
                .entry((sample.request, sample.class))
                .or_default();
            if let Some((_, c)) = list.iter_mut().find(|(m, _)| *m == sample.message) {
                *c += sample.count;
            } else if list.len() < SAMPLES_PER_KEY {
                list.push((sample.message.clone(), sample.count));
            }
        }
        let n = self.names.len();
        if b.window < self.next_to_close {
            self.amend(b.window, b.phase, &b.stats(n), b.dropped);
        } else {
            let parts = self.open.entry(b.window).or_default();
            let i = match parts.iter().position(|(p, _)| *p == b.phase) {
                Some(i) => i,
                None => {
                    parts.push((b.phase, Acc::new(n)));
                    parts.len() - 1
                }
            };
            let acc = &mut parts[i].1;
            for e in &b.events {
                if let Some(s) = acc.stats.get_mut(e.request()) {
                    e.fold_into(s);
                }
            }
            acc.dropped += b.dropped;
        }
        if let Some(pool) = &self.pool {
            pool.give(b.events);
        }
    }

    /// Adds late data to closed window `w`: its counts, its stage (or the warm-up) and its
    /// series points.
    fn amend(&mut self, w: u32, phase: Option<u32>, stats: &[ReqStats], dropped: u64) {
        self.late_batches += 1;
        let (window_stage, _, len) = self.window_shape(w);
        let mut total = ReqStats::new();
        for s in stats {
            total.merge(s);
        }
        if let Some(win) = self.windows.get_mut(w as usize) {
            win.requests += total.requests();
            win.errors += total.error_count();
            win.throughput_rps += total.ok as f64 / len;
            win.attempted_rps += total.requests() as f64 / len;
            win.dropped += dropped;
            win.errors_by_class.add(&total.error_counts());
        }
        match self.stage_of(phase, window_stage) {
            Some(i) => {
                if let Some(acc) = self.stages.get_mut(i) {
                    acc.add(stats, dropped);
                }
            }
            None => self.warmup.add(stats, dropped),
        }
        // The series follow the windows (a window of the warm-up has no point).
        if window_stage.is_some() {
            let points = stats.iter().chain(std::iter::once(&total));
            for (series, s) in self.series.iter_mut().zip(points) {
                if let Some(p) = series.iter_mut().rev().find(|p| p.t_s == w as f64) {
                    p.requests += s.requests();
                    p.errors += s.error_count();
                    p.throughput_rps += s.ok as f64 / len;
                }
            }
        }
    }

    /// The stage (or `None`, the warm-up) requests of `phase` count towards; requests with
    /// no phase count towards their window's.
    fn stage_of(&self, phase: Option<u32>, window_stage: Option<usize>) -> Option<usize> {
        match phase {
            Some(p) => self.spans.get(p as usize).and_then(|s| s.stage),
            None => window_stage,
        }
    }

    /// Batches that arrived after their window had closed (for tests and diagnostics).
    #[cfg(test)]
    pub(crate) fn late_batches(&self) -> u64 {
        self.late_batches
    }

    /// Windows below this one are closed.
    #[cfg(test)]
    pub(crate) fn next_to_close(&self) -> u32 {
        self.next_to_close
    }

    /// The stage, the scheduled level and the length in seconds of window `w`. Windows after
    /// the last stage (requests in flight at the end, finishing up to their timeout) count
    /// towards the last stage, at level 0.
    fn window_shape(&self, w: u32) -> (Option<usize>, f64, f64) {
        let t = w as f64;
        let end = self.end_s();
        match self.span_at(t) {
            Some(p) if t >= end => (p.stage, 0.0, 1.0),
            Some(p) => (p.stage, p.level_mid(t), (end - t).clamp(0.0, 1.0)),
            None => (None, 0.0, 1.0),
        }
    }

    fn span_at(&self, t: f64) -> Option<&Span> {
        self.spans
            .iter()
            .find(|p| t >= p.start_s && t < p.end_s)
            .or_else(|| self.spans.last().filter(|p| t >= p.end_s))
    }

    /// Closes every window below `until` and returns the newly closed ones.
    pub fn close_until(&mut self, until: u32) -> &[Window] {
        let first_new = self.windows.len();
        while self.next_to_close < until {
            let w = self.next_to_close;
            let parts = self.open.remove(&w).unwrap_or_default();
            self.close_window(w, parts);
            self.next_to_close += 1;
        }
        &self.windows[first_new..]
    }

    fn close_window(&mut self, w: u32, parts: Vec<(Option<u32>, Acc)>) {
        let t = w as f64;
        let (stage, level, len) = self.window_shape(w);
        let len = if len <= 0.0 { 1.0 } else { len };
        // The window's own numbers: every phase's requests together (merged only when the
        // window holds more than one phase, i.e. at a stage boundary).
        let merged;
        let acc: &Acc = match parts.as_slice() {
            [(_, only)] => only,
            _ => {
                let mut a = Acc::new(self.names.len());
                for (_, p) in &parts {
                    a.add(&p.stats, p.dropped);
                }
                merged = a;
                &merged
            }
        };
        let total = acc.total();
        let errs = total.error_counts();
        self.windows.push(Window {
            t_s: t,
            requests: total.requests(),
            errors: total.error_count(),
            throughput_rps: total.ok as f64 / len,
            attempted_rps: total.requests() as f64 / len,
            p50_ms: total.latency_ms(0.50),
            p90_ms: total.latency_ms(0.90),
            p99_ms: total.latency_ms(0.99),
            max_ms: if total.hist.is_empty() {
                0.0
            } else {
                total.hist.max() as f64 / 1e3
            },
            active: level,
            stage,
            dropped: acc.dropped,
            errors_by_class: errs,
            // The machine's samples are added by the measure step (`metrics::machine`).
            ..Window::default()
        });
        // Each request counts towards the stage it started in (its batch's phase).
        for (phase, part) in &parts {
            match self.stage_of(*phase, stage) {
                Some(i) => {
                    if let Some(s) = self.stages.get_mut(i) {
                        s.add(&part.stats, part.dropped);
                    }
                }
                None => self.warmup.add(&part.stats, part.dropped),
            }
        }
        if stage.is_some() {
            let points = acc.stats.iter().chain(std::iter::once(&total));
            for (series, s) in self.series.iter_mut().zip(points) {
                series.push(point(t, s, len));
            }
        }
    }

    fn end_s(&self) -> f64 {
        self.spans.last().map(|p| p.end_s).unwrap_or(0.0)
    }

    /// Closes every remaining window of a run that lasted `elapsed_s` and builds the output.
    /// For a run stopped early, stages are cut at `elapsed_s` and stages never reached are left
    /// out.
    pub(crate) fn finish(mut self, elapsed_s: f64) -> MetricsOutput {
        let last = self.open.keys().next_back().map(|w| w + 1).unwrap_or(0);
        let until = (elapsed_s.ceil() as u32).max(last);
        self.close_until(until);

        let mut out = MetricsOutput::default();
        let n = self.names.len();
        let mut totals = Acc::new(n);
        let mut measured_s = 0.0;
        for p in &self.spans {
            let Some(i) = p.stage else { continue };
            if p.start_s >= elapsed_s && i > 0 {
                continue;
            }
            let end = p.end_s.min(elapsed_s.max(p.start_s));
            let secs = end - p.start_s;
            measured_s += secs;
            let acc = &self.stages[i];
            totals.add(&acc.stats, acc.dropped);
            let stage_total = acc.total();
            out.stages.push(StageResult {
                index: i,
                name: None,
                target: p.level,
                unit: self.unit,
                start_s: p.start_s,
                end_s: end,
                metrics: stage_total.summary(secs, acc.dropped),
                // Added by the measure step when the system under test is watched.
                sut_cpu_pct: None,
                sut_rss_bytes: None,
            });
            out.histograms.insert(stage_key(i), encode(&stage_total));
        }
        let total = totals.total();
        out.totals = total.summary(measured_s, totals.dropped);
        for (name, s) in self.names.iter().zip(&totals.stats) {
            out.requests.insert(name.clone(), s.summary(measured_s, 0));
            out.histograms.insert(name.clone(), encode(s));
        }
        out.histograms.insert(TOTAL_KEY.to_string(), encode(&total));
        if let Some(w) = self.spans.iter().find(|p| p.stage.is_none()) {
            let wt = self.warmup.total();
            let secs = (w.end_s.min(elapsed_s) - w.start_s).max(0.0);
            out.warmup = Some(wt.summary(secs, self.warmup.dropped));
        }
        for (i, series) in self.series.into_iter().enumerate() {
            let key = self
                .names
                .get(i)
                .cloned()
                .unwrap_or_else(|| TOTAL_KEY.to_string());
            out.request_series.insert(key, series);
        }
        out.timeseries = self.windows;
        out.error_samples = self
            .samples
            .into_iter()
            .flat_map(|((req, class), list)| {
                let request = self.names.get(req).cloned().unwrap_or_default();
                list.into_iter().map(move |(message, count)| ErrorSample {
                    class,
                    request: request.clone(),
                    message,
                    count,
                })
            })
            .collect();
        out
    }
}

fn point(t: f64, s: &ReqStats, len: f64) -> SeriesPoint {
    SeriesPoint {
        t_s: t,
        requests: s.requests(),
        errors: s.error_count(),
        throughput_rps: s.ok as f64 / len,
        mean_ms: if s.hist.is_empty() {
            0.0
        } else {
            s.hist.mean() / 1e3
        },
        p50_ms: s.latency_ms(0.50),
        p90_ms: s.latency_ms(0.90),
        p95_ms: s.latency_ms(0.95),
        p99_ms: s.latency_ms(0.99),
    }
}

fn encode(s: &ReqStats) -> String {
    encode_histogram(&s.hist)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{Outcome, Recorder};

    fn spans() -> Vec<Span> {
        vec![
            Span {
                start_s: 0.0,
                end_s: 1.0,
                stage: None,
                level: 2.0,
                from_level: 2.0,
                ramp_s: 0.0,
            },
            Span {
                start_s: 1.0,
                end_s: 3.0,
                stage: Some(0),
                level: 2.0,
                from_level: 2.0,
                ramp_s: 0.0,
            },
            Span {
                start_s: 3.0,
                end_s: 4.0,
                stage: Some(1),
                level: 5.0,
                from_level: 5.0,
                ramp_s: 0.0,
            },
        ]
    }

    #[test]
    fn batches_become_windows_stages_and_totals() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut a = Recorder::new(2, tx.clone());
        let mut b = Recorder::new(2, tx);
        for w in 0..4u32 {
            for _ in 0..10 {
                a.record(0, w, 1_000 * (w as u64 + 1), &Outcome::ok(200, 5));
                b.record(1, w, 500, &Outcome::ok(200, 5));
            }
        }
        b.record(1, 3, 700, &Outcome::error(ErrorClass::Http5xx, "boom"));
        drop(a);
        drop(b);
        let mut agg = Aggregator::new(vec!["x".into(), "y".into()], spans(), LevelUnit::Vus);
        while let Ok(batch) = rx.try_recv() {
            agg.absorb(batch);
        }
        let out = agg.finish(4.0);
        assert_eq!(out.timeseries.len(), 4);
        assert_eq!(out.timeseries[0].stage, None);
        assert_eq!(out.timeseries[3].stage, Some(1));
        assert_eq!(out.timeseries[3].active, 5.0);
        assert_eq!(out.timeseries[1].requests, 20);
        // Warm-up is excluded from totals.
        assert_eq!(out.warmup.as_ref().map(|m| m.requests), Some(20));
        assert_eq!(out.totals.requests, 61);
        assert_eq!(out.totals.requests, out.totals.ok + out.totals.errors);
        assert_eq!(out.totals.errors_by_class.http_5xx, 1);
        assert_eq!(out.stages.len(), 2);
        assert_eq!(out.stages[0].metrics.requests, 40);
        assert_eq!(out.stages[1].metrics.requests, 21);
        // Throughput counts successes; attempted counts every request.
        assert!((out.totals.throughput_rps - 60.0 / 3.0).abs() < 1e-9);
        assert!((out.totals.attempted_rps - 61.0 / 3.0).abs() < 1e-9);
        assert_eq!(out.requests["x"].requests, 30);
        assert_eq!(out.request_series["x"].len(), 3);
        assert_eq!(out.request_series[TOTAL_KEY].len(), 3);
        assert_eq!(out.error_samples.len(), 1);
        assert_eq!(out.error_samples[0].message, "boom");
        assert!(!out.histograms[TOTAL_KEY].is_empty());
        let sum: u64 = out
            .timeseries
            .iter()
            .filter(|w| w.stage.is_some())
            .map(|w| w.requests)
            .sum();
        assert_eq!(sum, out.totals.requests);
    }

    #[test]
    fn a_late_batch_stays_in_its_own_second() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut agg = Aggregator::new(vec!["x".into()], spans(), LevelUnit::Vus);
        let mut early = Recorder::new(1, tx.clone());
        early.record(0, 1, 100, &Outcome::ok(200, 0));
        drop(early);
        agg.absorb(rx.try_recv().unwrap());
        agg.close_until(2);
        let mut r = Recorder::new(1, tx);
        r.record(0, 1, 100, &Outcome::ok(200, 0));
        r.record(0, 1, 100, &Outcome::error(ErrorClass::Reset, "x"));
        drop(r);
        agg.absorb(rx.try_recv().unwrap());
        assert_eq!(agg.late_batches(), 1);
        let out = agg.finish(4.0);
        assert_eq!(out.timeseries[1].requests, 3);
        assert_eq!(out.timeseries[1].errors_by_class.reset, 1);
        assert_eq!(out.timeseries[1].throughput_rps, 2.0);
        assert_eq!(out.timeseries[1].attempted_rps, 3.0);
        assert_eq!(out.timeseries[2].requests, 0);
        assert_eq!(out.request_series["x"][0].requests, 3);
        assert_eq!(out.stages[0].metrics.requests, 3);
        assert_eq!(out.totals.requests, 3);
    }

    #[test]
    fn requests_finishing_after_the_end_count_in_the_last_stage_at_level_0() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut agg = Aggregator::new(vec!["x".into()], spans(), LevelUnit::Vus);
        let mut r = Recorder::new(1, tx);
        r.record(0, 6, 5_000_000, &Outcome::error(ErrorClass::Timeout, "t"));
        drop(r);
        agg.absorb(rx.try_recv().unwrap());
        let out = agg.finish(4.0);
        assert_eq!(out.timeseries.len(), 7);
        assert_eq!(out.timeseries[6].requests, 1);
        assert_eq!(out.timeseries[6].active, 0.0);
        assert_eq!(out.timeseries[6].stage, Some(1));
        assert_eq!(out.stages[1].metrics.errors_by_class.timeout, 1);
        assert_eq!(out.totals.requests, 1);
        assert_eq!(out.totals.latency_ms.p50, 0.0);
        assert!(out.totals.failed_latency_ms.p50 >= 4_990.0);
    }

    #[test]
    fn error_sample_counts_are_occurrences_across_batches() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut agg = Aggregator::new(vec!["x".into()], spans(), LevelUnit::Vus);
        let mut r = Recorder::new(1, tx);
        for w in 1..3 {
            for _ in 0..7 {
                r.record(0, w, 100, &Outcome::error(ErrorClass::Reset, "closed"));
            }
        }
        drop(r);
        while let Ok(b) = rx.try_recv() {
            agg.absorb(b);
        }
        let out = agg.finish(4.0);
        assert_eq!(out.error_samples.len(), 1);
        assert_eq!(out.error_samples[0].count, 14);
    }

    #[test]
    fn requests_count_towards_the_stage_they_started_in_even_late() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut agg = Aggregator::new(vec!["x".into()], spans(), LevelUnit::Vus);
        let mut r = Recorder::new(1, tx);
        // Window 2 lies in stage 0 (1–3 s); 4 requests of it started in stage 1's phase (2)…
        r.set_phase(1);
        r.record(0, 2, 100, &Outcome::ok(200, 0));
        r.set_phase(2);
        for _ in 0..4 {
            r.record(0, 2, 100, &Outcome::ok(200, 0));
        }
        // …and one of the warm-up's (phase 0) arrives after window 0 closed.
        r.set_phase(0);
        r.record(0, 0, 100, &Outcome::ok(200, 0));
        drop(r);
        let batches: Vec<Batch> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
        let (late, early): (Vec<Batch>, Vec<Batch>) =
            batches.into_iter().partition(|b| b.window == 0);
        for b in early {
            agg.absorb(b);
        }
        agg.close_until(3);
        for b in late {
            agg.absorb(b);
        }
        let out = agg.finish(4.0);
        assert_eq!(out.timeseries[2].requests, 5);
        assert_eq!(out.timeseries[0].requests, 1);
        assert_eq!(
            out.stages
                .iter()
                .map(|s| s.metrics.requests)
                .collect::<Vec<_>>(),
            [1, 4]
        );
        assert_eq!(out.warmup.map(|w| w.requests), Some(1));
    }

    #[test]
    fn an_aborted_run_cuts_stages() {
        let agg = Aggregator::new(vec!["x".into()], spans(), LevelUnit::Vus);
        let out = agg.finish(2.5);
        assert_eq!(out.stages.len(), 1);
        assert_eq!(out.stages[0].end_s, 2.5);
        assert_eq!(out.timeseries.len(), 3);
    }
}
