//! Number and label formatting shared by every reporter (terminal, HTML, Markdown, JUnit,
//! progress bar and chart axes): one place decides how a latency, a rate, a count, a ratio, a
//! change, a p-value or a tick label reads, so every report shows the same numbers the same
//! way: a unit that fits the value (µs below 1 ms), thousands separated, "n/a" where there is
//! no value. Plain text only; escaping is the caller's.

use crate::result::{
    AbMetric, AbResult, LevelUnit, LoadModel, MetricComparison, MetricVerdict, Metrics, RunResult,
    StageResult, ThresholdResult,
};

/// Column headers matching [`metric_cells`].
pub(crate) const METRIC_HEADERS: [&str; 8] = [
    "requests", "rps", "p50", "p90", "p95", "p99", "max", "err rate",
];

/// Headers of a comparison table, matching [`comparison_cells`].
pub(crate) const COMPARISON_HEADERS: [&str; 7] = [
    "metric",
    "baseline",
    "current",
    "change",
    "tolerance",
    "p-value",
    "verdict",
];

/// Headers of an A/B table, matching [`ab_cells`].
pub(crate) const AB_HEADERS: [&str; 7] = [
    "metric",
    "A",
    "B",
    "B vs A",
    "95% interval",
    "tolerance",
    "verdict",
];

/// What a value with no data reads as.
pub(crate) const NA: &str = "n/a";

/// A count with thousands separated: `12,345`.
pub(crate) fn count(n: u64) -> String {
    group(&n.to_string())
}

/// Inserts `,` every three digits of the integer part of a plain decimal number.
fn group(text: &str) -> String {
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text),
    };
    let (int, frac) = match digits.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (digits, None),
    };
    let mut grouped = String::with_capacity(text.len() + int.len() / 3);
    grouped.push_str(sign);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if let Some(f) = frac {
        grouped.push('.');
        grouped.push_str(f);
    }
    grouped
}

/// `v` with three significant digits at most (no fewer than 0 decimals), e.g. `123`, `12.3`,
/// `1.23`.
fn sig3(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// A latency given in ms, in the unit that fits it: `850µs`, `12.3ms`, `1.23s`; `0ms` for
/// zero, "n/a" when not finite.
pub(crate) fn ms(v: f64) -> String {
    if !v.is_finite() {
        return NA.into();
    }
    if v == 0.0 {
        "0ms".into()
    } else if v.abs() >= 1000.0 {
        format!("{}s", group(&sig3(v / 1000.0)))
    } else if v.abs() >= 1.0 {
        format!("{}ms", sig3(v))
    } else {
        format!("{}µs", sig3(v * 1000.0))
    }
}

/// A rate per second: `1,234/s`, `12.5/s`.
pub(crate) fn rps(v: f64) -> String {
    if !v.is_finite() {
        return NA.into();
    }
    if v >= 100.0 {
        format!("{}/s", group(&format!("{v:.0}")))
    } else {
        format!("{v:.1}/s")
    }
}

/// A plain number for an axis tick or a bar label: no trailing ".0", thousands separated, at
/// most two decimals (`160000.0` → `160,000`, `2.50` → `2.5`, `0.126` → `0.13`); small
/// values keep two significant digits (`0.0042` → `0.0042`).
pub(crate) fn number(v: f64) -> String {
    if !v.is_finite() {
        return String::new();
    }
    let decimals = if v.abs() >= 100.0 || v == v.trunc() {
        0
    } else if v.abs() >= 10.0 {
        1
    } else if v.abs() >= 0.01 {
        2
    } else {
        // Two significant digits.
        (2 - v.abs().log10().floor() as i64).clamp(2, 12) as usize - 1
    };
    let text = format!("{v:.decimals$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    };
    group(&text)
}

/// How a latency axis reads: in µs when its top is below 1 ms, in s from 10 s, else in ms.
/// The data stays in ms; only the labels scale.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct LatencyAxis {
    /// Multiplies a value in ms into the axis unit.
    pub factor: f64,
    /// `µs`, `ms` or `s`.
    pub unit: &'static str,
}

impl LatencyAxis {
    /// The unit for an axis whose top is `max_ms`.
    pub(crate) fn for_max(max_ms: f64) -> Self {
        if max_ms < 1.0 {
            LatencyAxis {
                factor: 1000.0,
                unit: "µs",
            }
        } else if max_ms >= 10_000.0 {
            LatencyAxis {
                factor: 0.001,
                unit: "s",
            }
        } else {
            LatencyAxis {
                factor: 1.0,
                unit: "ms",
            }
        }
    }

    /// A tick label of a value in ms, in the axis unit (without the unit).
    pub(crate) fn tick(&self, v_ms: f64) -> String {
        number(v_ms * self.factor)
    }
}

/// A 0..1 ratio as a percentage.
pub(crate) fn pct(ratio: f64) -> String {
    if !ratio.is_finite() {
        return NA.into();
    }
    let p = ratio * 100.0;
    if p == 0.0 {
        "0%".into()
    } else if p < 0.01 {
        format!("{p:.4}%")
    } else if p < 1.0 {
        format!("{p:.3}%")
    } else {
        format!("{p:.2}%")
    }
}

/// A value in a threshold's or comparison's unit: `ms`, `ratio`, `rps`, `count` (else plain).
pub(crate) fn with_unit(v: f64, unit: &str) -> String {
    match unit {
        "ms" => ms(v),
        "ratio" => pct(v),
        "rps" => rps(v),
        "count" if v.is_finite() => group(&format!("{v:.0}")),
        "bytes" if v.is_finite() => bytes(v),
        "pct" if v.is_finite() => format!("{v:.1} %"),
        _ if v.is_finite() => format!("{v:.3}"),
        _ => NA.into(),
    }
}

pub(crate) use crate::result::bytes::bytes;

/// A comparison's change: percent, or percentage points for an error rate (`ratio`).
pub(crate) fn change(m: &MetricComparison) -> String {
    signed_change(m.change, &m.unit)
}

/// A signed change in percent, or in percentage points when `unit` is `ratio`.
pub(crate) fn signed_change(v: f64, unit: &str) -> String {
    if !v.is_finite() {
        return NA.into();
    }
    let suffix = if unit == "ratio" { "pp" } else { "%" };
    if v.abs() >= 100.0 {
        let sign = if v > 0.0 { "+" } else { "" };
        format!("{sign}{}{suffix}", group(&format!("{v:.0}")))
    } else {
        format!("{v:+.1}{suffix}")
    }
}

pub(crate) fn p_value(p: Option<f64>) -> String {
    match p {
        Some(p) if p.is_finite() && p < 0.001 => "<0.001".into(),
        Some(p) if p.is_finite() => format!("{p:.3}"),
        _ => NA.into(),
    }
}

/// A wall-clock length: `42.0s`, `3m 05s`, `1h 00m 00s`.
pub(crate) fn duration(s: f64) -> String {
    if !s.is_finite() || s < 0.0 {
        return NA.into();
    }
    if s < 60.0 {
        return format!("{s:.1}s");
    }
    let total = s.round() as u64;
    let (h, m, sec) = (total / 3600, (total % 3600) / 60, total % 60);
    if h > 0 {
        format!("{h}h {m:02}m {sec:02}s")
    } else {
        format!("{m}m {sec:02}s")
    }
}

/// The level a stage held, e.g. `1 VU`, `50 VUs` or `200 req/s`.
pub(crate) fn level(stage: &StageResult) -> String {
    level_in(stage.target, stage.unit)
}

/// A load level `v` in `unit`, e.g. `1 VU`, `50 VUs`, `200 req/s`.
pub(crate) fn level_in(v: f64, unit: LevelUnit) -> String {
    match unit {
        LevelUnit::Vus => level_of(v, "VUs"),
        LevelUnit::Rps => level_of(v, "req/s"),
    }
}

/// A load level `v` in a unit of the caller's words (`VUs` is singular for 1), e.g. `1 VU`,
/// `12.5 arrivals/s`.
pub(crate) fn level_of(v: f64, unit: &str) -> String {
    let n = if v.fract() == 0.0 && v.abs() < 1e15 {
        group(&format!("{v:.0}"))
    } else {
        format!("{v:.1}")
    };
    match unit {
        "VUs" if v == 1.0 => format!("{n} VU"),
        other => format!("{n} {other}"),
    }
}

/// Cells for [`METRIC_HEADERS`]. Latency is that of successful responses: "n/a" when none
/// succeeded.
pub(crate) fn metric_cells(m: &Metrics) -> [String; 8] {
    let l = &m.latency_ms;
    let lat = |v: f64| if m.ok == 0 { NA.to_string() } else { ms(v) };
    [
        count(m.requests),
        rps(m.throughput_rps),
        lat(l.p50),
        lat(l.p90),
        lat(l.p95),
        lat(l.p99),
        lat(l.max),
        pct(m.error_rate),
    ]
}

/// `machine: steal max 12 %, generator CPU max 95 % (saturated 3 s)` over the measured
/// windows (warm-up left out); `None` when the machine was not sampled.
pub(crate) fn machine(r: &RunResult) -> Option<String> {
    let ws: Vec<_> = r
        .timeseries
        .iter()
        .filter(|w| w.stage.is_some() && w.steal_pct.is_some())
        .collect();
    if ws.is_empty() {
        return None;
    }
    let max = |f: fn(&crate::result::Window) -> Option<f64>| {
        ws.iter().filter_map(|w| f(w)).fold(0.0, f64::max)
    };
    let saturated = ws.iter().filter(|w| w.saturated == Some(true)).count();
    let mut s = format!(
        "machine: steal max {:.0} %, generator CPU max {:.0} %",
        max(|w| w.steal_pct),
        max(|w| w.generator_cpu_pct)
    );
    if saturated > 0 {
        s.push_str(&format!(" (saturated {saturated} s)"));
    }
    Some(s)
}

/// The watched system under test over the measured windows, in one line: its memory at the
/// first and last sampled second, the change and the peak, its mean and highest CPU
/// (`monitor:`); `None` when it was not watched.
pub(crate) fn sut(r: &RunResult) -> Option<String> {
    let ws: Vec<_> = r.timeseries.iter().filter(|w| w.stage.is_some()).collect();
    let rss: Vec<f64> = ws
        .iter()
        .filter_map(|w| w.sut_rss_bytes)
        .map(|b| b as f64)
        .collect();
    let (first, last) = (*rss.first()?, *rss.last()?);
    let peak = rss.iter().copied().fold(0.0, f64::max);
    let growth = if first > 0.0 {
        format!("{}, ", signed_change((last / first - 1.0) * 100.0, "%"))
    } else {
        String::new()
    };
    let mut s = format!(
        "system under test: RSS {} → {} ({growth}peak {})",
        bytes(first),
        bytes(last),
        bytes(peak)
    );
    let cpu: Vec<f64> = ws.iter().filter_map(|w| w.sut_cpu_pct).collect();
    if !cpu.is_empty() {
        let mean = cpu.iter().sum::<f64>() / cpu.len() as f64;
        let max = cpu.iter().copied().fold(0.0, f64::max);
        s.push_str(&format!(", CPU mean {mean:.0} %, max {max:.0} %"));
    }
    Some(s)
}

/// True when a run's tables get a `dropped` column: the open model (where arrivals can be
/// dropped), or any run that dropped some.
pub(crate) fn shows_dropped(r: &RunResult) -> bool {
    r.scenario.model == LoadModel::Open || r.totals.dropped > 0
}

/// [`METRIC_HEADERS`], with `dropped` after `requests` when `dropped` is set.
pub(crate) fn metric_headers(dropped: bool) -> Vec<&'static str> {
    let mut h = METRIC_HEADERS.to_vec();
    if dropped {
        h.insert(1, "dropped");
    }
    h
}

/// [`metric_cells`], with the count of dropped arrivals after `requests` when `dropped` is
/// set (the share is in the totals line: tables stay within 100 columns).
pub(crate) fn metric_row(m: &Metrics, dropped: bool) -> Vec<String> {
    let mut cells = metric_cells(m).to_vec();
    if dropped {
        cells.insert(1, count(m.dropped));
    }
    cells
}

/// `745 (75.25%)`, or `0`.
pub(crate) fn dropped_cell(m: &Metrics) -> String {
    if m.dropped == 0 {
        "0".into()
    } else {
        format!("{} ({})", count(m.dropped), pct(dropped_rate(m)))
    }
}

/// dropped / (requests + dropped), from the counts.
pub(crate) fn dropped_rate(m: &Metrics) -> f64 {
    crate::gate::thresholds::dropped_rate(m)
}

/// Mean and max time to failure of one error class, e.g. `5.00s mean, 5.01s max`; "n/a"
/// when the result does not have it.
pub(crate) fn time_to_failure(m: &Metrics, class: &str) -> String {
    match m.failed_by_class_ms.get(class) {
        Some(t) => format!("{} mean, {} max", ms(t.mean), ms(t.max)),
        None => NA.into(),
    }
}

/// What the retries of `target.retry_idempotent` were, in a sentence.
pub(crate) fn retries_sentence(m: &Metrics) -> String {
    format!(
        "retries: {} (target.retry_idempotent: each retry is a request; each failed first \
         attempt, an error)",
        count(m.retries)
    )
}

/// A threshold's observed value, or "n/a" when it had nothing to judge.
pub(crate) fn threshold_observed(t: &ThresholdResult) -> String {
    if t.no_data {
        NA.into()
    } else {
        with_unit(t.observed, &t.unit)
    }
}

/// Cells for [`COMPARISON_HEADERS`], the metric named `request.metric`.
pub(crate) fn comparison_cells(m: &MetricComparison) -> [String; 7] {
    let no_data = m.verdict == MetricVerdict::NoData;
    [
        format!("{}.{}", m.request, m.metric),
        if no_data && m.baseline == 0.0 {
            NA.into()
        } else {
            with_unit(m.baseline, &m.unit)
        },
        if no_data && m.current == 0.0 {
            NA.into()
        } else {
            with_unit(m.current, &m.unit)
        },
        if no_data { NA.into() } else { change(m) },
        m.tolerance.clone(),
        p_value(m.p_value),
        m.verdict.as_str().to_string(),
    ]
}

/// Cells for [`AB_HEADERS`]: B's change against A with its 95 % interval.
pub(crate) fn ab_cells(m: &AbMetric) -> [String; 7] {
    let no_data = m.verdict == MetricVerdict::NoData;
    let value = |v: f64| {
        if no_data && v == 0.0 {
            NA.into()
        } else {
            with_unit(v, &m.unit)
        }
    };
    [
        m.metric.clone(),
        value(m.a),
        value(m.b),
        if no_data {
            NA.into()
        } else {
            signed_change(m.change, &m.unit)
        },
        if no_data {
            NA.into()
        } else {
            format!(
                "[{}, {}]",
                signed_change(m.ci_low, &m.unit),
                signed_change(m.ci_high, &m.unit)
            )
        },
        m.tolerance.clone(),
        m.verdict.as_str().to_string(),
    ]
}

/// The line under an A/B table's title: the pairs, slices and seed.
pub(crate) fn ab_design(ab: &AbResult) -> String {
    format!(
        "{} pairs of {} slices ({} warm-up each, discarded), order per pair from seed {}",
        ab.pairs,
        duration(ab.slice_s),
        duration(ab.warmup_s),
        ab.seed
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(ms(1.234), "1.23ms");
        assert_eq!(ms(1234.0), "1.23s");
        assert_eq!(rps(1234.4), "1,234/s");
        assert_eq!(pct(0.0032), "0.320%");
        assert_eq!(duration(3725.0), "1h 02m 05s");
        assert_eq!(p_value(Some(0.0001)), "<0.001");
        assert_eq!(ms(f64::NAN), NA);
        assert_eq!(pct(f64::NAN), NA);
    }

    #[test]
    fn latencies_below_a_millisecond_read_in_microseconds() {
        assert_eq!(ms(0.0042), "4.20µs");
        assert_eq!(ms(0.037), "37.0µs");
        assert_eq!(ms(0.85), "850µs");
        assert_eq!(ms(0.0), "0ms");
        assert_eq!(ms(999.4), "999ms");
    }

    #[test]
    fn counts_are_thousands_separated() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(1234567), "1,234,567");
        assert_eq!(with_unit(12345.0, "count"), "12,345");
        assert_eq!(with_unit(500.0 * 1024.0 * 1024.0, "bytes"), "500 MB");
    }

    #[test]
    fn numbers_have_no_trailing_zeros_and_group_thousands() {
        assert_eq!(number(160000.0), "160,000");
        assert_eq!(number(8.0), "8");
        assert_eq!(number(2.5), "2.5");
        assert_eq!(number(0.126), "0.13");
        assert_eq!(number(12.26), "12.3");
        assert_eq!(number(1234.6), "1,235");
        assert_eq!(number(-2000.0), "-2,000");
        assert_eq!(number(0.0), "0");
        assert_eq!(number(0.0042), "0.0042");
    }

    #[test]
    fn latency_axes_pick_a_unit_that_fits() {
        let a = LatencyAxis::for_max(0.037);
        assert_eq!((a.unit, a.tick(0.025)), ("µs", "25".to_string()));
        let a = LatencyAxis::for_max(250.0);
        assert_eq!((a.unit, a.tick(120.0)), ("ms", "120".to_string()));
        let a = LatencyAxis::for_max(30_000.0);
        assert_eq!((a.unit, a.tick(15_000.0)), ("s", "15".to_string()));
    }

    #[test]
    fn levels_say_vu_in_the_singular() {
        assert_eq!(level_in(1.0, LevelUnit::Vus), "1 VU");
        assert_eq!(level_in(50.0, LevelUnit::Vus), "50 VUs");
        assert_eq!(level_of(1.0, "VUs"), "1 VU");
        assert_eq!(level_in(200.0, LevelUnit::Rps), "200 req/s");
        assert_eq!(level_of(12.5, "arrivals/s"), "12.5 arrivals/s");
    }
}
