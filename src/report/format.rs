//! Number and label formatting shared by the text formats (terminal, HTML, Markdown, JUnit):
//! one place decides how a latency, a rate, a ratio, a change or a p-value reads, so every
//! report shows the same numbers the same way. Plain text only; escaping is the caller's.

use crate::result::{
    MetricComparison, MetricVerdict, Metrics, RunResult, StageResult, ThresholdResult,
};

/// Column headers matching [`metric_cells`].
pub const METRIC_HEADERS: [&str; 8] = [
    "requests", "rps", "p50", "p90", "p95", "p99", "max", "err rate",
];

/// Headers of a comparison table, matching [`comparison_cells`].
pub const COMPARISON_HEADERS: [&str; 7] = [
    "metric",
    "baseline",
    "current",
    "change",
    "tolerance",
    "p-value",
    "verdict",
];

/// A latency in ms with a precision that suits its size.
pub fn ms(v: f64) -> String {
    if !v.is_finite() {
        return "-".into();
    }
    if v >= 1000.0 {
        format!("{:.2}s", v / 1000.0)
    } else if v >= 100.0 {
        format!("{v:.0}ms")
    } else if v >= 10.0 {
        format!("{v:.1}ms")
    } else {
        format!("{v:.2}ms")
    }
}

/// A rate per second.
pub fn rps(v: f64) -> String {
    if !v.is_finite() {
        return "-".into();
    }
    if v >= 100.0 {
        format!("{v:.0}/s")
    } else {
        format!("{v:.1}/s")
    }
}

/// A 0..1 ratio as a percentage.
pub fn pct(ratio: f64) -> String {
    if !ratio.is_finite() {
        return "-".into();
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
pub fn with_unit(v: f64, unit: &str) -> String {
    match unit {
        "ms" => ms(v),
        "ratio" => pct(v),
        "rps" => rps(v),
        "count" if v.is_finite() => format!("{v:.0}"),
        _ if v.is_finite() => format!("{v:.3}"),
        _ => "-".into(),
    }
}

/// A comparison's change: percent, or percentage points for an error rate (`ratio`).
pub fn change(m: &MetricComparison) -> String {
    if !m.change.is_finite() {
        return "-".into();
    }
    let suffix = if m.unit == "ratio" { "pp" } else { "%" };
    format!("{:+.1}{suffix}", m.change)
}

pub fn p_value(p: Option<f64>) -> String {
    match p {
        Some(p) if p.is_finite() && p < 0.001 => "<0.001".into(),
        Some(p) if p.is_finite() => format!("{p:.3}"),
        _ => "-".into(),
    }
}

/// A wall-clock length: `42.0s`, `3m 05s`, `1h 00m 00s`.
pub fn duration(s: f64) -> String {
    if !s.is_finite() || s < 0.0 {
        return "-".into();
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

/// The level a stage held, e.g. `50 vus` or `200 rps`.
pub fn level(stage: &StageResult) -> String {
    let unit = if stage.unit.is_empty() {
        "vus"
    } else {
        &stage.unit
    };
    if stage.target.fract() == 0.0 && stage.target.abs() < 1e15 {
        format!("{:.0} {unit}", stage.target)
    } else {
        format!("{:.1} {unit}", stage.target)
    }
}

/// Cells for [`METRIC_HEADERS`]. Latency is that of successful responses: "n/a" when none
/// succeeded.
pub fn metric_cells(m: &Metrics) -> [String; 8] {
    let l = &m.latency_ms;
    let lat = |v: f64| if m.ok == 0 { NA.to_string() } else { ms(v) };
    [
        m.requests.to_string(),
        rps(m.throughput_rps),
        lat(l.p50),
        lat(l.p90),
        lat(l.p95),
        lat(l.p99),
        lat(l.max),
        pct(m.error_rate),
    ]
}

/// What a value with no data reads as.
pub const NA: &str = "n/a";

/// True when a run's tables get a `dropped` column: the open model (where arrivals can be
/// dropped), or any run that dropped some.
pub fn shows_dropped(r: &RunResult) -> bool {
    r.scenario.model == "open" || r.totals.dropped > 0
}

/// [`METRIC_HEADERS`], with `dropped` after `requests` when `dropped` is set.
pub fn metric_headers(dropped: bool) -> Vec<&'static str> {
    let mut h = METRIC_HEADERS.to_vec();
    if dropped {
        h.insert(1, "dropped");
    }
    h
}

/// [`metric_cells`], with the count of dropped arrivals after `requests` when `dropped` is
/// set (the share is in the totals line: tables stay within 100 columns).
pub fn metric_row(m: &Metrics, dropped: bool) -> Vec<String> {
    let mut cells = metric_cells(m).to_vec();
    if dropped {
        cells.insert(1, m.dropped.to_string());
    }
    cells
}

/// `745 (75.25%)`, or `0`.
pub fn dropped_cell(m: &Metrics) -> String {
    if m.dropped == 0 {
        "0".into()
    } else {
        format!("{} ({})", m.dropped, pct(dropped_rate(m)))
    }
}

/// dropped / (requests + dropped), from the counts.
pub fn dropped_rate(m: &Metrics) -> f64 {
    crate::gate::thresholds::dropped_rate(m)
}

/// Mean and max time to failure of one error class, e.g. `5.00s mean, 5.01s max`; `-` when
/// the result does not have it.
pub fn time_to_failure(m: &Metrics, class: &str) -> String {
    match m.failed_by_class_ms.get(class) {
        Some(t) => format!("{} mean, {} max", ms(t.mean), ms(t.max)),
        None => "-".into(),
    }
}

/// What the retries of `target.retry_idempotent` were, in a sentence.
pub fn retries_sentence(m: &Metrics) -> String {
    format!(
        "retries: {} (target.retry_idempotent: each retry is a request; each failed first \
         attempt, an error)",
        m.retries
    )
}

/// A threshold's observed value, or "n/a" when it had nothing to judge.
pub fn threshold_observed(t: &ThresholdResult) -> String {
    if t.no_data {
        NA.into()
    } else {
        with_unit(t.observed, &t.unit)
    }
}

/// Cells for [`COMPARISON_HEADERS`], the metric named `request.metric`.
pub fn comparison_cells(m: &MetricComparison) -> [String; 7] {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(ms(1.234), "1.23ms");
        assert_eq!(ms(1234.0), "1.23s");
        assert_eq!(rps(1234.4), "1234/s");
        assert_eq!(pct(0.0032), "0.320%");
        assert_eq!(duration(3725.0), "1h 02m 05s");
        assert_eq!(p_value(Some(0.0001)), "<0.001");
        assert_eq!(ms(f64::NAN), "-");
    }
}
