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
    /// The testbed this run belongs to (`--testbed`, `PERFGATE_TESTBED`, or derived from the
    /// machine, e.g. `intel-xeon-8272cl-2cpu-linux`); empty in results written before testbeds.
    #[serde(default)]
    pub testbed: String,
    /// The testbed the baseline was taken on.
    #[serde(default)]
    pub baseline_testbed: String,
    /// True when the baseline belongs to another testbed: the comparison is shown but never
    /// fails the run (`--strict-env` makes it an error instead).
    #[serde(default)]
    pub informational: bool,
    /// How many runs the baseline holds (1 for a baseline taken before several runs were kept).
    #[serde(default)]
    pub baseline_runs: usize,
    /// Set when the comparison cannot detect a change as large as its tolerances, in one line
    /// ("baseline comparison cannot fail: 5 windows, needs ≈ 12 s to detect 10 %"); every
    /// report shows it, and `--strict` fails the run on it.
    #[serde(default)]
    pub underpowered: Option<String>,
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
    /// `p50`, `p90`, `p95`, `p99`, `mean`, `throughput` or `error_rate`; for request `_sut`
    /// (the system under test watched by `monitor:`), `sut.rss` or `sut.cpu`.
    pub metric: String,
    /// Unit of `baseline` and `current`: `ms`, `rps`, `ratio`, `bytes` (`sut.rss`) or `pct`
    /// (`sut.cpu`, percent of the machine).
    #[schemars(extend("enum" = ["ms", "rps", "ratio", "bytes", "pct"]))]
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
    /// The smallest change (same unit as `change`, in the bad direction) this comparison
    /// could have called a regression with this sample: the larger of what the window test
    /// detects with 80 % power and the baseline runs' own spread. `null` when no change of
    /// any size could be detected (too few windows) or when not computed (older results).
    #[serde(default)]
    pub detectable: Option<f64>,
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
