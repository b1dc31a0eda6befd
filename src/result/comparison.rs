//! The comparison of a run against its baseline, as data: what `result.json` holds under
//! `comparison`, what the terminal, HTML, JUnit and Markdown reports render. The gate computes
//! it (`gate/`); nothing here decides anything.

use serde::{Deserialize, Serialize};

/// A run compared with its baseline, metric by metric.
#[derive(schemars::JsonSchema, Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Comparison {
    /// Path of the baseline file compared against.
    pub baseline_file: String,
    /// When the baseline was taken (RFC 3339).
    pub baseline_created_at: String,
    /// `fail` when any metric regressed or had no data (or, with `--strict`, was
    /// inconclusive).
    pub verdict: ComparisonVerdict,
    /// The statistical test used, in words, e.g. "Mann-Whitney U over 1 s windows, α = 0.05".
    pub method: String,
    /// True when the scenario file changed since the baseline was taken.
    pub scenario_changed: bool,
    /// Differences between the machine that took the baseline and this one, in words.
    pub env_mismatch: Vec<String>,
    /// Anything else a reader must know (e.g. "regression confirmed by a rerun").
    pub notes: Vec<String>,
    /// One entry per compared request and metric.
    pub metrics: Vec<MetricComparison>,
}

/// The comparison's answer.
#[derive(schemars::JsonSchema, Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ComparisonVerdict {
    /// No metric regressed.
    Pass,
    /// A metric regressed or had no data (or, with `--strict`, was inconclusive).
    Fail,
}

/// One metric of one request, against the baseline.
#[derive(schemars::JsonSchema, Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MetricComparison {
    /// Request name, or `_total` for all requests.
    pub request: String,
    /// `p50`, `p90`, `p95`, `p99`, `mean`, `throughput` or `error_rate`.
    pub metric: String,
    /// Unit of `baseline` and `current`: `ms`, `rps` or `ratio`.
    #[schemars(extend("enum" = ["ms", "rps", "ratio"]))]
    pub unit: String,
    /// The baseline's value.
    pub baseline: f64,
    /// This run's value.
    pub current: f64,
    /// Relative change in percent ((current - baseline) / baseline * 100); for error rate, the
    /// change in percentage points.
    pub change: f64,
    /// The tolerance as written, e.g. `10%` or `0.5pp`.
    pub tolerance: String,
    /// p-value of the significance test, when one was run.
    pub p_value: Option<f64>,
    /// What the change means.
    pub verdict: MetricVerdict,
}

/// criterion-style per-metric answer.
#[derive(schemars::JsonSchema, Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MetricVerdict {
    /// Past tolerance in the bad direction and statistically significant.
    Regressed,
    /// Past tolerance in the good direction and significant.
    Improved,
    /// Within tolerance.
    Unchanged,
    /// Past tolerance but not significant given the runs' own noise.
    Inconclusive,
    /// Nothing to compare: a latency metric on a side with no successful response. It fails
    /// the comparison (a gate on missing data never passes); `current` is then 0 and means
    /// nothing.
    #[serde(rename = "no_data")]
    NoData,
}

impl MetricVerdict {
    /// The word `result.json` uses.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricVerdict::Regressed => "regressed",
            MetricVerdict::Improved => "improved",
            MetricVerdict::Unchanged => "unchanged",
            MetricVerdict::Inconclusive => "inconclusive",
            MetricVerdict::NoData => "no_data",
        }
    }
}
