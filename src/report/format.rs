//! Number and label formatting shared by the text formats (terminal, HTML, Markdown, JUnit):
//! one place decides how a latency, a rate, a ratio, a change or a p-value reads, so every
//! report shows the same numbers the same way. Plain text only; escaping is the caller's.

use crate::result::{MetricComparison, Metrics, StageResult};

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

/// Cells for [`METRIC_HEADERS`].
pub fn metric_cells(m: &Metrics) -> [String; 8] {
    let l = &m.latency_ms;
    [
        m.requests.to_string(),
        rps(m.throughput_rps),
        ms(l.p50),
        ms(l.p90),
        ms(l.p95),
        ms(l.p99),
        ms(l.max),
        pct(m.error_rate),
    ]
}

/// Cells for [`COMPARISON_HEADERS`], the metric named `request.metric`.
pub fn comparison_cells(m: &MetricComparison) -> [String; 7] {
    [
        format!("{}.{}", m.request, m.metric),
        with_unit(m.baseline, &m.unit),
        with_unit(m.current, &m.unit),
        change(m),
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
