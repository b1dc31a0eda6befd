//! The serde model of a scenario file: exactly what a user may write, nothing more
//! (unknown fields are errors). Values keep their written form (`"30s"`, `"200/s"`); they are
//! checked and converted into a [`super::Plan`] by `validate.rs`.
//!
//! The doc comments of the fields are the editor's hover text: they go into the committed
//! JSON Schema (`scenarios/schema/scenario.schema.json`, see `schema.rs`). The `#[schemars]`
//! attributes state the real rule where the serde type is looser (a duration is a `String`
//! here, a string with a unit in the schema).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use super::schema::{
    BaseUrl, Duration, DurationOrOff, Flag, HeaderValue, Method, OrVar, Peak, Percent, Rate,
    RequestName, ScenarioName, StageName, ThresholdEntry, Tolerances, UrlPath, Whole,
};

/// A perfgate scenario: what to send, how much load, and the gates that decide pass or fail.
/// `${VAR}` and `${VAR:-default}` work in any value.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Scenario")]
pub(super) struct RawScenario {
    /// The scenario's name: lowercase letters, digits, `-` and `_`. It names the output folder
    /// (`reports/<name>/`) and the default baselines (`baselines/<name>/<testbed>.json`).
    #[schemars(with = "ScenarioName")]
    pub name: String,
    /// The kind of test. Without `load.stages`, the kind's preset turns `load.peak` and
    /// `load.duration` into stages (`perfgate validate --explain` prints them).
    #[schemars(with = "OrVar<RawKind>")]
    pub kind: RawKind,
    /// Free text shown in the reports.
    #[serde(default)]
    pub description: Option<String>,
    /// Where HTTP requests go and how they are sent. Not needed when every request is a `call`.
    #[serde(default)]
    pub target: Option<RawTarget>,
    /// The request mix: each entry is an HTTP request (`path`) or an in-process call (`call`),
    /// picked in proportion to its `weight`. At least one.
    #[schemars(length(min = 1))]
    pub requests: Vec<RawRequest>,
    /// The load shape: the model (closed or open), a warm-up, and `stages` or the kind's
    /// preset (`peak` and `duration`). A smoke run may leave it out (1 user for 10s).
    #[serde(default)]
    pub load: Option<RawLoad>,
    /// Gates on the measured run, `[SCOPE.]METRIC OP VALUE` each, e.g. `p95 < 250ms`,
    /// `error_rate < 1%`, `throughput > 500/s`, `list-items.p99 < 300ms`,
    /// `stage:peak.p99 < 300ms`; or a budget with levels, `p95: { target: 150ms, warn: 200ms,
    /// fail: 250ms, kpi: true }`, which may stop the run early (`abort: true`, `after: 10s`).
    /// A failed threshold fails the run (exit 1); a warning never does. Left out, the kind's
    /// default thresholds apply; `[]` opts out of every threshold (a run with no successful
    /// request still fails).
    #[serde(default)]
    #[schemars(with = "Option<Vec<ThresholdEntry>>")]
    pub thresholds: Option<Vec<RawThreshold>>,
    /// The baseline this run is compared with (noise-aware; a regression fails the run).
    #[serde(default)]
    pub baseline: Option<RawBaseline>,
    /// The processes of the system under test to watch: each second their resident memory
    /// and CPU use (child processes included) go into the time series, the report, the
    /// `sut.*` thresholds and the baseline. Each entry names a `pid`, a `pid_file` or a
    /// `process` name. With only in-process calls and no `monitor:`, perfgate watches its own
    /// process.
    #[serde(default)]
    pub monitor: Option<Vec<RawMonitor>>,
}

/// One process (tree) of the system under test to watch.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Monitor")]
#[schemars(extend("oneOf" = [
    { "required": ["pid"] }, { "required": ["pid_file"] }, { "required": ["process"] }
]))]
pub(super) struct RawMonitor {
    /// A process id, e.g. `${SERVER_PID}`.
    #[serde(default)]
    #[schemars(with = "Option<OrVar<Whole<1, 4_194_304>>>")]
    pub pid: Option<i64>,
    /// A file holding the process id, read when the run starts.
    #[serde(default)]
    pub pid_file: Option<String>,
    /// Every running process with this name (as `ps -e` shows it, or its command's file
    /// name).
    #[serde(default)]
    pub process: Option<String>,
}

/// One entry of `thresholds`: the short form (a string) or a budget (a one-key map whose
/// fields `threshold.rs` checks, so a mistake is named precisely).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum RawThreshold {
    /// `p95 < 250ms`.
    Expr(String),
    /// `p95: { target: 150ms, warn: 200ms, fail: 250ms }`.
    Budget(BTreeMap<String, BTreeMap<String, serde_yaml::Value>>),
}

/// The kind of test.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(rename = "Kind")]
pub(super) enum RawKind {
    /// Does it work at all: 1 user (1/s open) for `duration` (default `10s`); any error fails
    /// (the implicit threshold `errors == 0`).
    Smoke,
    /// The expected traffic: 25%, 50%, 75% of `peak` for 10% of `duration` each, then `peak`.
    Load,
    /// Past the expected load, to find the knee: 50%, 100%, 150%, 200%, 250%, 300% of `peak`,
    /// `duration`/6 each.
    Stress,
    /// A sudden burst and the recovery: 10% of `peak` for 30% of `duration`, `peak` for 20%,
    /// 10% for the last 50%.
    Spike,
    /// `peak` for the whole `duration`: a long steady run, to catch leaks and drift.
    Soak,
}

/// Where HTTP requests go and how they are sent.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Target")]
pub(super) struct RawTarget {
    /// `http://host:port` (a trailing `/` is dropped), or `embedded` for the built-in demo
    /// server on an ephemeral loopback port. Needed by HTTP requests; `--target` overrides it.
    #[serde(default)]
    #[schemars(with = "Option<OrVar<BaseUrl>>")]
    pub base_url: Option<String>,
    /// Per request, and for connecting; a request that takes longer is an error of class
    /// `timeout`. Default `5s`.
    #[serde(default)]
    #[schemars(with = "Option<OrVar<Duration>>")]
    pub timeout: Option<String>,
    /// Headers sent with every HTTP request; a request's own `headers` override them by name.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, HeaderValue>")]
    pub headers: BTreeMap<String, String>,
    /// Retry a GET/HEAD/OPTIONS once when a reused connection closes before any answer (both
    /// attempts are counted, the retry in `retries`). Default `false`: nothing is re-sent.
    #[serde(default)]
    #[schemars(with = "Option<OrVar<Flag>>")]
    pub retry_idempotent: Option<bool>,
    /// Options of the embedded demo server (with `base_url: embedded` only).
    #[serde(default)]
    pub embedded: Option<RawEmbedded>,
    /// Stop the run, and fail it, when the target (which answered the preflight) refuses
    /// every connection for this long. Default `5s`; `false` or `off` turns it off.
    #[serde(default)]
    #[schemars(with = "Option<OrVar<DurationOrOff>>")]
    pub abort_when_unreachable: Option<serde_yaml::Value>,
}

/// How the embedded demo server behaves (with `base_url: embedded`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Embedded")]
pub(super) struct RawEmbedded {
    /// Added to every answer, e.g. `5ms`. Default `0s`.
    #[serde(default)]
    #[schemars(with = "Option<OrVar<Duration>>")]
    pub latency: Option<String>,
    /// A uniform ± around `latency`, e.g. `1ms`. Default `0s`.
    #[serde(default)]
    #[schemars(with = "Option<OrVar<Duration>>")]
    pub jitter: Option<String>,
    /// The share of answers replaced by a 500, e.g. `1%`. Default `0%`.
    #[serde(default)]
    #[schemars(with = "Option<OrVar<Percent>>")]
    pub error_rate: Option<String>,
}

/// One entry of the request mix: an HTTP request (`path`) or an in-process call (`call`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Request")]
#[schemars(extend("oneOf" = [{ "required": ["path"] }, { "required": ["call"] }]))]
pub(super) struct RawRequest {
    /// Unique, without spaces or `.`: reports, per-request thresholds (`NAME.p99 < 300ms`)
    /// and baselines use it.
    #[schemars(with = "RequestName")]
    pub name: String,
    /// HTTP only: the method, in any letter case. Default `GET`.
    #[serde(default)]
    #[schemars(with = "Option<OrVar<Method>>")]
    pub method: Option<String>,
    /// HTTP: the path and query, starting with `/`, appended to `target.base_url`.
    #[serde(default)]
    #[schemars(with = "Option<OrVar<UrlPath>>")]
    pub path: Option<String>,
    /// HTTP only: headers of this request, on top of `target.headers` (same name: this wins).
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, HeaderValue>")]
    pub headers: BTreeMap<String, String>,
    /// HTTP only: the request body, sent as written (set `Content-Type` in `headers`).
    #[serde(default)]
    pub body: Option<String>,
    /// The request's relative share of the mix, 1 to 1000000. Default 1.
    #[serde(default)]
    #[schemars(with = "Option<OrVar<Whole<1, 1_000_000>>>")]
    pub weight: Option<i64>,
    /// HTTP only: what a correct answer looks like. A mismatch is an error of class `check`.
    /// Without it, 1xx–3xx is ok, 4xx is class `http_4xx` and 5xx `http_5xx`.
    #[serde(default)]
    pub expect: Option<RawExpect>,
    /// In-process: the name of a registered async function, e.g. `builtin.noop`,
    /// `builtin.sleep`, `builtin.sha256`, `builtin.fail`, `builtin.panic`, or one your own
    /// binary registers. It fails by returning an error (class `function`).
    #[serde(default)]
    pub call: Option<String>,
    /// In-process only: parameters handed to the function, e.g. `{ size: 4096 }`.
    #[serde(default)]
    pub params: BTreeMap<String, serde_json::Value>,
}

/// What a correct HTTP answer looks like.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Expect")]
pub(super) struct RawExpect {
    /// The statuses that count as ok, e.g. `[200, 201]`; any other is an error of class `check`.
    #[serde(default)]
    #[schemars(with = "Option<Vec<OrVar<Whole<100, 599>>>>", length(min = 1))]
    pub status: Option<Vec<i64>>,
    /// Text the body must contain (searched as the body streams); a miss is class `check`.
    #[serde(default)]
    pub body_contains: Option<String>,
}

/// How load is generated.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(rename = "Model")]
pub(super) enum RawModel {
    /// Virtual users: each sends a request, waits for the answer (and `think_time`), repeats.
    /// Stages set `concurrency`.
    Closed,
    /// An arrival rate independent of the answers; latency counts from each request's
    /// scheduled start. Stages set `rate`.
    Open,
}

/// The load shape.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Load")]
pub(super) struct RawLoad {
    /// `closed` (virtual users, the default) or `open` (an arrival rate).
    #[serde(default)]
    #[schemars(with = "Option<OrVar<RawModel>>")]
    pub model: Option<RawModel>,
    /// Closed model only: a user's pause between an answer and its next request. Default `0s`.
    #[serde(default)]
    #[schemars(with = "Option<OrVar<Duration>>")]
    pub think_time: Option<String>,
    /// Run at the first stage's level for this long first; recorded separately and excluded
    /// from totals, thresholds and baselines. Default `0s`.
    #[serde(default)]
    #[schemars(with = "Option<OrVar<Duration>>")]
    pub warmup: Option<String>,
    /// Explicit steps, each holding its level for its duration: `concurrency` (closed model)
    /// or `rate` (open model). Instead of `peak` and `duration`.
    #[serde(default)]
    #[schemars(length(min = 1))]
    pub stages: Option<Vec<RawStage>>,
    /// Preset peak: virtual users (closed) or a rate such as `200/s` (open).
    #[serde(default)]
    #[schemars(with = "Option<Peak>")]
    pub peak: Option<serde_json::Value>,
    /// Preset length, at least `100ms`: the kind's preset spreads its stages over it (a smoke
    /// run defaults to `10s`).
    #[serde(default)]
    #[schemars(with = "Option<OrVar<Duration>>")]
    pub duration: Option<String>,
    /// Open model only: at most this many requests in flight, 1 to 100000 (default 1000);
    /// an arrival beyond it is dropped and counted in `dropped`, never sent late.
    #[serde(default)]
    #[schemars(with = "Option<OrVar<Whole<1, 100_000>>>")]
    pub max_in_flight: Option<i64>,
}

/// One step of the load: a level held for a duration.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Stage")]
#[schemars(extend("oneOf" = [{ "required": ["concurrency"] }, { "required": ["rate"] }]))]
pub(super) struct RawStage {
    /// Closed model: virtual users, 1 to 100000.
    #[serde(default)]
    #[schemars(with = "Option<OrVar<Whole<1, 100_000>>>")]
    pub concurrency: Option<i64>,
    /// Open model: arrivals per second, minute or hour, e.g. `200/s`.
    #[serde(default)]
    #[schemars(with = "Option<OrVar<Rate>>")]
    pub rate: Option<String>,
    /// How long the stage holds its level, at least `100ms`.
    #[schemars(with = "OrVar<Duration>")]
    pub duration: String,
    /// A name for stage thresholds (`stage:peak.p99 < 300ms`) and the reports: unique,
    /// without spaces or `.`.
    #[serde(default)]
    #[schemars(with = "Option<StageName>")]
    pub name: Option<String>,
    /// Reach the level linearly over this first part of `duration`, from the level before
    /// the stage (the previous stage's, the warm-up's, or 0 for the first), e.g.
    /// `{ concurrency: 50, duration: 30s, ramp: 10s }`. Default `0s`: a step.
    #[serde(default)]
    #[schemars(with = "Option<OrVar<Duration>>")]
    pub ramp: Option<String>,
}

/// The baseline this run is compared with.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Baseline")]
pub(super) struct RawBaseline {
    /// One baseline file for every testbed. Default: `baselines/<name>/<testbed>.json`, one
    /// file per testbed, written by `perfgate baseline refresh`.
    #[serde(default)]
    pub file: Option<String>,
    /// Per metric, how far it may move before it counts as a change: `p50`, `p90`, `p95`,
    /// `p99`, `mean`, `throughput` take a percentage (`10%`, the default); `error_rate` takes
    /// percentage points (`0.5pp`, the default).
    #[serde(default)]
    #[schemars(with = "Tolerances")]
    pub tolerance: BTreeMap<String, String>,
    /// Run the measurement this many times (1 to 20) and compare the medians. Default 1.
    #[serde(default)]
    #[schemars(with = "Option<OrVar<Whole<1, 20>>>")]
    pub repeat: Option<i64>,
}
