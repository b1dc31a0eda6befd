//! The result of `perfgate ab` as data: what `result.json` holds under `ab` — both sides'
//! totals, the schedule of slices that measured them (seed, order per pair), and the paired
//! comparison of B against A per metric with its confidence interval and verdict. The gate
//! computes it (`gate/paired.rs`, `app/ab_cmd.rs`); reports render it; nothing here decides.

use serde::{Deserialize, Serialize};

use super::{ComparisonVerdict, MetricVerdict, Metrics};

/// One side of an A/B comparison.
#[derive(schemars::JsonSchema, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// The reference (e.g. `main`).
    A,
    /// The change under test.
    B,
}

impl Side {
    /// `A` or `B`.
    pub fn name(self) -> &'static str {
        match self {
            Side::A => "A",
            Side::B => "B",
        }
    }
}

/// The A/B comparison of a `perfgate ab` run (`ab` in `result.json`). The result's own
/// `totals`, `timeseries` and thresholds are side B's (the change under test).
#[derive(schemars::JsonSchema, Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AbResult {
    /// The design and the test, in words.
    pub method: String,
    /// Seed of the order of each pair (`--seed` repeats it).
    pub seed: u64,
    /// Pairs run (each one slice of A and one of B).
    pub pairs: usize,
    /// Measured length of each slice, in seconds.
    pub slice_s: f64,
    /// Warm-up before each slice, discarded, in seconds.
    pub warmup_s: f64,
    /// Which side ran first in each pair: `ab` or `ba`.
    pub order: Vec<String>,
    /// Side A: the reference.
    pub a: AbSide,
    /// Side B: the change under test.
    pub b: AbSide,
    /// `fail` when a metric regressed or had no data (or, with `--strict`, was inconclusive).
    pub verdict: ComparisonVerdict,
    /// Inconclusive metrics fail the run (`--strict`).
    pub strict: bool,
    /// B against A, per metric.
    pub metrics: Vec<AbMetric>,
    /// What a reader must know beyond the table (e.g. an inconclusive metric, dropped pairs).
    #[serde(default)]
    pub notes: Vec<String>,
    /// Every slice, in the order it ran.
    pub slices: Vec<AbSlice>,
}

/// What one side was and what it measured.
#[derive(schemars::JsonSchema, Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AbSide {
    /// Where its requests went: a URL (secrets redacted) and/or `call:<function>`.
    pub target: String,
    /// Per-metric medians over its slices.
    pub totals: Metrics,
}

/// One slice: a short measurement of the plan against one side.
#[derive(schemars::JsonSchema, Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AbSlice {
    /// Position in the schedule, from 0.
    pub index: usize,
    /// The pair it belongs to, from 0.
    pub pair: usize,
    /// The side it measured.
    pub side: Side,
    /// RFC 3339 start of its measured run (after preflight).
    pub started_at: String,
    /// Requests completed in the slice.
    pub requests: u64,
    /// Median latency of its successful responses (0: none succeeded).
    pub p50_ms: f64,
    /// 99th percentile latency of its successful responses (0: none succeeded).
    pub p99_ms: f64,
    /// Successful responses per second.
    pub throughput_rps: f64,
    /// Errors / requests, 0..1.
    pub error_rate: f64,
}

/// B against A for one metric.
#[derive(schemars::JsonSchema, Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AbMetric {
    /// `p50`, `p99`, `throughput` or `error_rate`.
    pub metric: String,
    /// Unit of `a` and `b`: `ms`, `rps` or `ratio`.
    #[schemars(extend("enum" = ["ms", "rps", "ratio"]))]
    pub unit: String,
    /// Median over A's slices (p99: the p99 of all A's slices' requests pooled).
    pub a: f64,
    /// Median over B's slices (p99: the p99 of all B's slices' requests pooled).
    pub b: f64,
    /// The estimate of B's change: percent (from the geometric mean of the per-pair ratios
    /// B/A; p99: the ratio of the pooled p99s), or percentage points for the error rate. 0
    /// when `no_data`.
    pub change: f64,
    /// The lower end of the 95 % confidence interval of `change`, same unit (p99: a paired
    /// bootstrap over the pairs).
    pub ci_low: f64,
    /// The upper end of that interval.
    pub ci_high: f64,
    /// The tolerance as written, e.g. `10%` or `0.5pp`.
    pub tolerance: String,
    /// Pairs with data on both sides.
    pub pairs: usize,
    /// B against A, held against the tolerance.
    pub verdict: MetricVerdict,
    /// p99 only: the exact one-sided p-value of the vote of the pairs that B's tail is heavier
    /// (a sign test; see `method`). Absent for the other metrics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_value: Option<f64>,
}
