//! The serde model of a scenario file: exactly what a user may write, nothing more
//! (unknown fields are errors). Values keep their written form (`"30s"`, `"200/s"`); they are
//! checked and converted into a [`super::Plan`] by `validate.rs`.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub name: String,
    pub kind: RawKind,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub target: Option<RawTarget>,
    pub requests: Vec<RawRequest>,
    #[serde(default)]
    pub load: Option<RawLoad>,
    /// `None` when the file has no `thresholds:` key (the kind's defaults apply); `Some([])`
    /// opts out of every threshold.
    #[serde(default)]
    pub thresholds: Option<Vec<String>>,
    #[serde(default)]
    pub baseline: Option<RawBaseline>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RawKind {
    Smoke,
    Load,
    Stress,
    Spike,
    Soak,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTarget {
    #[serde(default)]
    pub base_url: Option<String>,
    #[serde(default)]
    pub timeout: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Retry a GET/HEAD/OPTIONS once when a reused connection closes before any answer.
    #[serde(default)]
    pub retry_idempotent: Option<bool>,
    /// Options of the embedded demo server (with `base_url: embedded`).
    #[serde(default)]
    pub embedded: Option<RawEmbedded>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEmbedded {
    #[serde(default)]
    pub latency: Option<String>,
    #[serde(default)]
    pub jitter: Option<String>,
    #[serde(default)]
    pub error_rate: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRequest {
    pub name: String,
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub weight: Option<i64>,
    #[serde(default)]
    pub expect: Option<RawExpect>,
    #[serde(default)]
    pub call: Option<String>,
    #[serde(default)]
    pub params: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExpect {
    #[serde(default)]
    pub status: Option<Vec<i64>>,
    #[serde(default)]
    pub body_contains: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RawModel {
    Closed,
    Open,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLoad {
    #[serde(default)]
    pub model: Option<RawModel>,
    #[serde(default)]
    pub think_time: Option<String>,
    #[serde(default)]
    pub warmup: Option<String>,
    #[serde(default)]
    pub stages: Option<Vec<RawStage>>,
    /// Preset peak: virtual users (closed) or a rate such as `200/s` (open).
    #[serde(default)]
    pub peak: Option<serde_json::Value>,
    #[serde(default)]
    pub duration: Option<String>,
    #[serde(default)]
    pub max_in_flight: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStage {
    #[serde(default)]
    pub concurrency: Option<i64>,
    #[serde(default)]
    pub rate: Option<String>,
    pub duration: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBaseline {
    #[serde(default)]
    pub file: Option<String>,
    #[serde(default)]
    pub tolerance: BTreeMap<String, String>,
    #[serde(default)]
    pub repeat: Option<i64>,
}
