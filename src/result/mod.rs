//! The run's result as plain data: what `result.json` holds ([`RunResult`] and the types in
//! it), what a baseline file extends, what the gate reads and what every report renders.
//! Nothing here runs or judges anything. To read a result:
//!
//! ```no_run
//! let text = std::fs::read_to_string("reports/smoke/result.json")?;
//! let result: perfgate::result::RunResult = serde_json::from_str(&text)?;
//! println!("{}: p99 {} ms", result.verdict, result.totals.latency_ms.p99);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A result of `perfgate ab` also holds [`RunResult::ab`] ([`AbResult`]: both sides and the
//! paired comparison of B against A).
//!
//! Keys follow `perfgate/result/v1` ([`RESULT_SCHEMA`]; `scenarios/schema/result.schema.json`
//! in the repository is its JSON Schema): keys are added, never renamed.
//!
//! Inside the crate, the same module also holds a `Measurement` (what a run measured, nothing
//! judged: the measure step's product, which the gate turns into a `RunResult`), the stored
//! form of a latency histogram (`histogram`) and every way several results become one
//! (`fold`: `merge` of generators, `--repeat` medians), so the gate and the reports read only
//! this module.

pub mod ab;
pub(crate) mod bytes;
mod comparison;
mod distributed;
#[doc(hidden)]
pub mod fold;
pub(crate) mod histogram;
mod measurement;
mod vocabulary;

pub use ab::{AbMetric, AbResult, AbSide, AbSlice, Side};
pub use comparison::{Comparison, ComparisonVerdict, MetricComparison, MetricVerdict};
pub(crate) use distributed::{hostname, SEGMENT_NOTE};
pub use distributed::{GeneratorHealth, SegmentInfo};
pub(crate) use measurement::Judgement;
#[doc(hidden)]
pub use measurement::Measurement;
pub use vocabulary::{ErrorClass, Kind, LevelUnit, LoadModel, Verdict};

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Schema tag written into every `result.json`.
pub const RESULT_SCHEMA: &str = "perfgate/result/v1";

/// Name under which the all-requests aggregate appears in per-request maps
/// (`histograms`, `request_series`).
pub const TOTAL_KEY: &str = "_total";

/// Key of stage `i`'s histogram in [`RunResult::histograms`].
pub fn stage_key(i: usize) -> String {
    format!("_stage/{i}")
}

/// A new run id: the start time (UTC, to the microsecond), the process id and a counter, so
/// two runs of one process or of two processes never share one.
pub(crate) fn new_run_id(started: chrono::DateTime<chrono::Utc>) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    format!(
        "{}-{:x}-{}",
        started.format("%Y%m%dT%H%M%S%.6fZ"),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// The whole result of one run, judged: what `result.json` holds (`perfgate/result/v1`). In
/// the library only the gate makes one (`gate::judge`, from a [`Measurement`]); otherwise it is
/// read from a file.
#[derive(schemars::JsonSchema, Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunResult {
    /// `perfgate/result/v1`: keys are added, never renamed.
    pub schema: String,
    /// The program that wrote the result.
    pub tool: ToolInfo,
    /// The scenario that ran: name, kind, file and its hash, target, load model.
    pub scenario: ScenarioInfo,
    /// The machine the run was measured on.
    pub host: HostInfo,
    /// RFC 3339 timestamp of the start of the measured run (after preflight).
    pub started_at: String,
    /// Wall-clock length of the run, warm-up included.
    pub duration_s: f64,
    /// `pass`, `fail` (a gate failed) or `aborted` (the run did not complete).
    pub verdict: Verdict,
    /// The process's exit code: 0 pass, 1 a gate failed, 3 the run could not complete.
    pub exit_code: i32,
    /// Every request outside the warm-up.
    pub totals: Metrics,
    /// The warm-up phase, recorded separately; never part of totals or gates.
    #[serde(default)]
    pub warmup: Option<Metrics>,
    /// Per request name, outside the warm-up.
    pub requests: BTreeMap<String, Metrics>,
    /// One entry per stage of the load shape, in order, outside the warm-up.
    pub stages: Vec<StageResult>,
    /// One point per 1-second window, warm-up included (marked by `stage: null`).
    pub timeseries: Vec<Window>,
    /// Per request name (and `_total`, all requests) per-second points outside the warm-up: the
    /// run-to-run variation the baseline noise test needs.
    #[serde(default)]
    pub request_series: BTreeMap<String, Vec<SeriesPoint>>,
    /// HDR V2 serialized latency histograms (µs), base64, per request name and `_total`
    /// (all requests).
    #[serde(default)]
    pub histograms: BTreeMap<String, String>,
    /// A few error messages per class and request, for people reading the report.
    #[serde(default)]
    pub error_samples: Vec<ErrorSample>,
    /// One line per failed gate, most important first ("no request succeeded",
    /// "list-items p99 412 ms > limit 300 ms"). Empty when the run passed.
    #[serde(default)]
    pub reasons: Vec<String>,
    /// Things a person should know about how the run went that are not gates: the file
    /// descriptor limit was hit, the target was unreachable for N s, a retry policy is on.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Identifies one run (shared by the segments of a distributed run); `merge` refuses
    /// the same run twice.
    #[serde(default)]
    pub run_id: String,
    /// Every threshold of the scenario, judged.
    pub thresholds: Vec<ThresholdResult>,
    /// The comparison with the baseline; `null` when none was made.
    pub comparison: Option<Comparison>,
    /// Set when `--repeat N` ran the measurement several times: the medians are in `totals`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat: Option<RepeatInfo>,
    /// Set by `perfgate ab`: both sides and the paired comparison of B against A (the rest of
    /// the result is side B's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ab: Option<AbResult>,
    /// Set when the run stopped itself before its end: an `abort: true` threshold broke on a
    /// closed window, or the target refused every connection for `abort_when_unreachable`.
    /// Such a run fails (exit 1); its numbers cover what ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_early: Option<EarlyStop>,
    /// Set when the run was one generator's share of the load (`run --segment I/N`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<SegmentInfo>,
    /// A merged result (`perfgate merge`): each generator's requests, errors, dropped
    /// arrivals and CPU saturation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub generators: Vec<GeneratorHealth>,
}

impl EarlyStop {
    /// The first of the runs' early stops (by time), if any stopped early: what a fold of
    /// runs (merge, `--repeat`) says stopped it.
    pub(crate) fn first_of<'a>(
        stops: impl Iterator<Item = Option<&'a EarlyStop>>,
    ) -> Option<EarlyStop> {
        stops
            .flatten()
            .min_by(|a, b| a.at_s.total_cmp(&b.at_s))
            .cloned()
    }
}

/// Why a run stopped itself before its end (not a signal: that is `verdict: aborted`).
#[derive(schemars::JsonSchema, Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EarlyStop {
    /// Seconds since the start of the run (warm-up included) at the end of the window that
    /// decided it.
    pub at_s: f64,
    /// What stopped it: the threshold as written (`error_rate < 50%`) or
    /// `abort_when_unreachable: 5s`.
    pub cause: String,
    /// The sentence, the run's first reason: `aborted at 12 s: error_rate 100 % ≥ 50 %
    /// (abort: true)`.
    pub reason: String,
}

/// The program that wrote a result.
#[derive(schemars::JsonSchema, Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ToolInfo {
    /// Always `perfgate`.
    pub name: String,
    /// The perfgate version (`CARGO_PKG_VERSION`).
    pub version: String,
}

impl Default for ToolInfo {
    fn default() -> Self {
        ToolInfo {
            name: "perfgate".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

/// The scenario a result was measured with.
#[derive(schemars::JsonSchema, Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScenarioInfo {
    /// The scenario's `name`.
    pub name: String,
    /// smoke | load | stress | spike | soak
    pub kind: Kind,
    /// The path of the scenario file.
    pub file: String,
    /// sha256 of the scenario file's text as written (before `${VAR}` interpolation), without
    /// a first-line `# yaml-language-server:` modeline.
    pub hash: String,
    /// The scenario's `description`, if it has one.
    #[serde(default)]
    pub description: Option<String>,
    /// The base URL (secrets redacted), `embedded`, or `in-process`.
    #[serde(default)]
    pub target: String,
    /// closed | open (`""` in results written before it was recorded)
    #[serde(default)]
    pub model: LoadModel,
}

/// The machine a result was measured on (compared against a baseline's: a different
/// machine is named in `comparison.env_mismatch`).
#[derive(schemars::JsonSchema, Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct HostInfo {
    /// Operating system (`linux`, `macos`, ...).
    pub os: String,
    /// CPU architecture (`x86_64`, `aarch64`, ...).
    pub arch: String,
    /// Logical CPUs available to the process.
    pub cpus: usize,
    /// The CPU's model name, or `unknown`.
    pub cpu_model: String,
    /// Worker threads of the runtime that produced the result.
    #[serde(default)]
    pub threads: usize,
    /// The machine's host name (several in a merged result, joined by `+`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
}

impl HostInfo {
    /// Describes the machine this process runs on.
    pub(crate) fn current(threads: usize) -> Self {
        HostInfo {
            os: std::env::consts::OS.to_string(),
            arch: std::env::consts::ARCH.to_string(),
            cpus: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            cpu_model: cpu_model(),
            threads,
            name: hostname(),
        }
    }
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".to_string())
}

/// Summary metrics of a set of requests.
#[derive(schemars::JsonSchema, Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Metrics {
    /// Requests that completed (ok + errors). Dropped arrivals are not requests.
    pub requests: u64,
    /// Requests that succeeded (status accepted and every `expect` check met).
    pub ok: u64,
    /// Requests that failed, whatever the class (see `errors_by_class`).
    pub errors: u64,
    /// Open model only: arrivals not sent because `max_in_flight` was reached.
    #[serde(default)]
    pub dropped: u64,
    /// dropped / (requests + dropped): the share of intended arrivals never sent, 0..1.
    #[serde(default)]
    pub dropped_rate: f64,
    /// Requests re-sent under `target.retry_idempotent` (each retry is also a request).
    #[serde(default)]
    pub retries: u64,
    /// errors / requests, 0..1.
    pub error_rate: f64,
    /// Successful responses per second.
    pub throughput_rps: f64,
    /// Requests (successful or not) per second.
    #[serde(default)]
    pub attempted_rps: f64,
    /// Latency of successful responses: what thresholds and baselines judge. All zeros when
    /// no request succeeded (gates then say "n/a" and fail).
    pub latency_ms: Latency,
    /// Time to failure of failed requests (all classes together).
    #[serde(default)]
    pub failed_latency_ms: Latency,
    /// Time to failure per error class (classes that occurred).
    #[serde(default)]
    pub failed_by_class_ms: BTreeMap<String, ClassTime>,
    /// Failed requests per error class.
    pub errors_by_class: ErrorCounts,
    /// Responses per HTTP status code (`"200"`, `"503"`, ...); empty for in-process calls.
    pub status_codes: BTreeMap<String, u64>,
    /// Bytes of response received.
    pub bytes_received: u64,
}

/// Latency summary in milliseconds (recorded in µs).
#[derive(schemars::JsonSchema, Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Latency {
    /// Fastest.
    pub min: f64,
    /// Arithmetic mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Slowest.
    pub max: f64,
    /// Standard deviation.
    #[serde(default)]
    pub stdev: f64,
}

/// Time to failure of one error class, in milliseconds.
#[derive(schemars::JsonSchema, Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct ClassTime {
    /// Mean time to failure.
    pub mean: f64,
    /// Longest time to failure.
    pub max: f64,
}

/// Counts per error class; every class is always present in JSON.
#[derive(schemars::JsonSchema, Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct ErrorCounts {
    /// The connection could not be made.
    pub connect: u64,
    /// No complete answer within the request timeout.
    pub timeout: u64,
    /// The connection was reset or closed mid-request.
    pub reset: u64,
    /// The TLS handshake or session failed.
    pub tls: u64,
    /// The answer was not valid HTTP.
    pub protocol: u64,
    /// HTTP 4xx answers.
    pub http_4xx: u64,
    /// HTTP 5xx answers.
    pub http_5xx: u64,
    /// Answers that did not meet `expect`.
    pub check: u64,
    /// In-process calls that returned an error or panicked.
    pub function: u64,
    /// Still in flight when an aborted run's grace period ended.
    #[serde(default)]
    pub interrupted: u64,
}

impl ErrorCounts {
    /// (class name, count) for every class, in the documented order.
    pub fn iter(&self) -> [(&'static str, u64); 10] {
        [
            ("connect", self.connect),
            ("timeout", self.timeout),
            ("reset", self.reset),
            ("tls", self.tls),
            ("protocol", self.protocol),
            ("http_4xx", self.http_4xx),
            ("http_5xx", self.http_5xx),
            ("check", self.check),
            ("function", self.function),
            ("interrupted", self.interrupted),
        ]
    }

    /// All failed requests, every class together.
    pub fn total(&self) -> u64 {
        self.iter().iter().map(|(_, n)| n).sum()
    }

    /// Adds `other`'s counts, class by class.
    pub fn add(&mut self, other: &ErrorCounts) {
        let ErrorCounts {
            connect,
            timeout,
            reset,
            tls,
            protocol,
            http_4xx,
            http_5xx,
            check,
            function,
            interrupted,
        } = other;
        self.connect += connect;
        self.timeout += timeout;
        self.reset += reset;
        self.tls += tls;
        self.protocol += protocol;
        self.http_4xx += http_4xx;
        self.http_5xx += http_5xx;
        self.check += check;
        self.function += function;
        self.interrupted += interrupted;
    }

    /// The count of `class`.
    pub fn of(&self, class: ErrorClass) -> u64 {
        self.iter()[class.index()].1
    }
}

/// One stage of the load shape, as measured.
#[derive(schemars::JsonSchema, Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StageResult {
    /// Position in the scenario's stages, from 0.
    pub index: usize,
    /// The stage's `name:` (or its preset's name: `peak`, `spike`, ...); absent without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The level held during the stage: virtual users (closed) or arrivals per second (open).
    pub target: f64,
    /// `vus` or `rps`.
    pub unit: LevelUnit,
    /// Seconds since the start of the run at which the stage began.
    pub start_s: f64,
    /// Seconds since the start of the run at which the stage ended.
    pub end_s: f64,
    /// Everything measured during the stage.
    pub metrics: Metrics,
    /// The system under test's mean CPU use over the stage's windows, percent of the
    /// machine's CPUs (`monitor:`); absent when it was not watched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sut_cpu_pct: Option<f64>,
    /// The system under test's peak resident memory over the stage's windows, bytes
    /// (`monitor:`); absent when it was not watched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sut_rss_bytes: Option<u64>,
}

/// One 1-second window of the whole run.
#[derive(schemars::JsonSchema, Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Window {
    /// Seconds since the start of the run (warm-up included) at the window's start.
    pub t_s: f64,
    /// Requests completed in the window.
    pub requests: u64,
    /// Failed requests in the window.
    pub errors: u64,
    /// Successful responses per second.
    pub throughput_rps: f64,
    /// Requests (successful or not) per second.
    #[serde(default)]
    pub attempted_rps: f64,
    /// Median latency of the window's successful responses (ms).
    pub p50_ms: f64,
    /// 90th percentile latency (ms).
    pub p90_ms: f64,
    /// 99th percentile latency (ms).
    pub p99_ms: f64,
    /// Slowest successful response (ms).
    pub max_ms: f64,
    /// Virtual users (closed) or the arrival rate (open) scheduled in this window.
    pub active: f64,
    /// Stage index, or `null` during the warm-up.
    #[serde(default)]
    pub stage: Option<usize>,
    /// Open model only: arrivals not sent in the window (`max_in_flight` reached).
    #[serde(default)]
    pub dropped: u64,
    /// Failed requests of the window per error class.
    #[serde(default)]
    pub errors_by_class: ErrorCounts,
    /// Share of the machine's CPU time stolen by the hypervisor in this second, percent;
    /// `null` where `/proc` could not be read (and in results written before it was sampled).
    #[serde(default)]
    pub steal_pct: Option<f64>,
    /// Share of the machine's CPU time not idle in this second, percent (every process).
    #[serde(default)]
    pub cpu_busy_pct: Option<f64>,
    /// perfgate's own CPU use in this second, percent of the CPUs it may use.
    #[serde(default)]
    pub generator_cpu_pct: Option<f64>,
    /// perfgate used at least 90 % of the CPUs it may use: it may have measured itself.
    #[serde(default)]
    pub saturated: Option<bool>,
    /// Resident memory of the watched system under test (`monitor:`, its child processes
    /// included) at the end of this second, bytes; absent when it was not watched or could
    /// not be read (the run's warnings say why).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sut_rss_bytes: Option<u64>,
    /// CPU use of the watched system under test in this second, percent of the machine's
    /// CPUs; absent when it was not watched or could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sut_cpu_pct: Option<f64>,
}

/// A per-second point of one request name, for the noise-aware comparison.
#[derive(schemars::JsonSchema, Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct SeriesPoint {
    /// Seconds since the start of the run at the window's start.
    pub t_s: f64,
    /// Requests of this name completed in the window.
    pub requests: u64,
    /// Failed requests of this name in the window.
    pub errors: u64,
    /// Successful responses per second.
    pub throughput_rps: f64,
    /// Mean latency of successful responses (ms).
    pub mean_ms: f64,
    /// Median latency (ms).
    pub p50_ms: f64,
    /// 90th percentile latency (ms).
    pub p90_ms: f64,
    /// 95th percentile latency (ms).
    pub p95_ms: f64,
    /// 99th percentile latency (ms).
    pub p99_ms: f64,
}

/// A failed request's message, kept as an example of its error class.
#[derive(schemars::JsonSchema, Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ErrorSample {
    /// The error class.
    pub class: ErrorClass,
    /// The request name.
    pub request: String,
    /// Redacted message; HTML-escaped only when rendered.
    pub message: String,
    /// How many failures of this request and class carried this message.
    pub count: u64,
}

/// One threshold of the scenario, judged.
#[derive(schemars::JsonSchema, Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct ThresholdResult {
    /// The threshold as written, e.g. `list-items.p99 < 300ms`.
    pub expr: String,
    /// Observed value in the threshold's unit (ms, fraction 0..1, or per second).
    pub observed: f64,
    /// The threshold's limit, in the unit of `observed`.
    pub limit: f64,
    /// True when the threshold held.
    pub pass: bool,
    /// Unit of `observed` and `limit`: `ms`, `ratio`, `rps` or `count`.
    #[serde(default)]
    #[schemars(extend("enum" = ["ms", "ratio", "rps", "count", "bytes"]))]
    pub unit: String,
    /// The metric judged (`p99`, `error_rate`, `dropped_rate`, ...); empty in results written
    /// before it was recorded.
    #[serde(default)]
    pub metric: String,
    /// The request name the threshold is scoped to, `null` for all requests.
    #[serde(default)]
    pub scope: Option<String>,
    /// The comparison as written: `<`, `<=`, `>` or `>=` (`==` reads as `<=`).
    #[serde(default)]
    pub op: String,
    /// True when there was nothing to judge (no successful response for a latency metric, no
    /// request for a rate, a scope that did not run): `observed` is then 0 and means nothing,
    /// reports show "n/a", and the threshold fails.
    #[serde(default)]
    pub no_data: bool,
    /// The stage the threshold is scoped to (`stage[2].p99`, `stage:peak.p99`): its index in
    /// `stages`; absent for the whole run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<usize>,
    /// A budget's warn level, in the unit of `observed`; absent without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warn: Option<f64>,
    /// A budget's target level, in the unit of `observed`; absent without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<f64>,
    /// True when the threshold passed but `observed` reached the warn level: shown as a
    /// warning everywhere, the exit code unchanged.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub warning: bool,
    /// True when the budget's target was met; absent without a target or without data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_met: Option<bool>,
    /// `kpi: true`: a row of the report's KPI table.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub kpi: bool,
    /// `abort: true`: the threshold was also judged on every closed window while the run went.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub abort: bool,
}

/// What `--repeat N` ran.
#[derive(schemars::JsonSchema, Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RepeatInfo {
    /// How many measurements ran.
    pub runs: usize,
    /// Each run's totals, in order; `totals` holds their per-metric medians.
    pub totals: Vec<Metrics>,
}

/// An empty, passing result of `duration_s` seconds, as read from `result.json`: the
/// fixture the unit tests of the gate and the reports build on.
#[cfg(test)]
pub(crate) fn empty_result(duration_s: f64) -> RunResult {
    serde_json::from_value(serde_json::json!({
        "schema": "perfgate/result/v1",
        "tool": {"name": "perfgate", "version": "0.1.0"},
        "scenario": {"name": "s", "kind": "load", "file": "s.yaml", "hash": "h"},
        "host": {"os": "linux", "arch": "x86_64", "cpus": 2, "cpu_model": "x"},
        "started_at": "2026-01-01T00:00:00Z", "duration_s": duration_s,
        "verdict": "pass", "exit_code": 0,
        "totals": serde_json::to_value(Metrics::default()).expect("metrics serialize"),
        "requests": {}, "stages": [], "timeseries": [],
        "thresholds": [], "comparison": null
    }))
    .expect("the empty result parses")
}
