//! The validated plan: what a scenario file means once it has been parsed, interpolated,
//! checked and expanded from its preset. Nothing downstream of `scenario/` sees serde types.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use super::secrets::Secrets;
use super::units::{TolMetric, TolValue};

pub use crate::result::Kind;

#[derive(Debug, Clone)]
pub struct Plan {
    pub name: String,
    pub kind: Kind,
    pub description: Option<String>,
    /// The scenario file as given on the command line.
    pub file: PathBuf,
    /// sha256 (hex) of the file's text before interpolation.
    pub hash: String,
    pub target: TargetSpec,
    pub requests: Vec<RequestSpec>,
    pub load: LoadPlan,
    /// What the run is judged on: the scenario's own thresholds, or the kind's defaults
    /// (see [`ThresholdOrigin`]).
    pub thresholds: Vec<Threshold>,
    /// Where `thresholds` came from.
    pub threshold_origin: ThresholdOrigin,
    pub baseline: BaselineSpec,
    /// Values that came from the environment: never printed or written.
    pub secrets: Secrets,
    /// The name of each of `load.stages` (by index): its `name:`, or the preset's (`peak`,
    /// `spike`, `recovery`, ...). Stage thresholds (`stage:peak.p99 < 300ms`) use them.
    pub stage_names: Vec<Option<String>>,
    /// Stop the run (and fail it) when the target refuses every connection for this long,
    /// after it answered the preflight (`target.abort_when_unreachable`, default 5 s);
    /// `None` when turned off. HTTP only.
    pub abort_when_unreachable: Option<Duration>,
    /// The system under test's processes to watch (`monitor:`), as written.
    pub monitor: Vec<MonitorTarget>,
}

impl Plan {
    /// True when any request goes over HTTP (and so needs a reachable `base_url`).
    pub(crate) fn uses_http(&self) -> bool {
        self.requests
            .iter()
            .any(|r| matches!(r.action, Action::Http(_)))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum BaseUrl {
    /// Start the built-in demo server on an ephemeral loopback port.
    Embedded,
    Url(String),
}

#[derive(Debug, Clone)]
pub struct TargetSpec {
    pub base_url: Option<BaseUrl>,
    /// Per request; the connect timeout too.
    pub timeout: Duration,
    pub headers: Vec<(String, String)>,
    /// `retry_idempotent`: a GET, HEAD or OPTIONS whose reused keep-alive connection closes
    /// before any answer is sent once more on a new connection; both attempts are counted.
    /// Off by default: perfgate never re-sends a request on its own.
    pub retry_idempotent: bool,
    /// How the embedded demo server behaves (only with `base_url: embedded`).
    pub embedded: EmbeddedSpec,
}

/// Options of the embedded demo server.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct EmbeddedSpec {
    /// Added to every answer.
    pub latency: Duration,
    /// Uniform ± around `latency`.
    pub jitter: Duration,
    /// Fraction (0..1) of answers replaced by a 500.
    pub error_rate: f64,
}

#[derive(Debug, Clone)]
pub struct RequestSpec {
    pub name: String,
    pub weight: u32,
    pub action: Action,
    pub expect: Expect,
}

#[derive(Debug, Clone)]
pub enum Action {
    Http(HttpRequest),
    Call(CallSpec),
}

#[derive(Debug, Clone)]
pub struct HttpRequest {
    pub method: String,
    /// Path and query, starting with `/`.
    pub path: String,
    /// Request headers (the target's headers first, then the request's own).
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
}

#[derive(Debug, Clone)]
pub struct CallSpec {
    /// Registry name, e.g. `builtin.sha256`.
    pub function: String,
    pub params: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Default)]
pub struct Expect {
    /// Allowed status codes; when absent, 1xx–3xx are ok.
    pub status: Option<Vec<u16>>,
    pub body_contains: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Model {
    /// Virtual users looping: send, await, record, think, repeat.
    Closed { think_time: Duration },
    /// Arrivals on a fixed schedule; latency from the scheduled start.
    Open { max_in_flight: u32 },
}

#[derive(Debug, Clone)]
pub struct LoadPlan {
    pub model: Model,
    /// Run at the first stage's level before the measured stages; excluded from totals.
    pub warmup: Duration,
    pub stages: Vec<Stage>,
    /// True when the stages came from the kind's preset rather than the file.
    pub from_preset: bool,
}

impl LoadPlan {
    pub(crate) fn total_duration(&self) -> Duration {
        self.warmup + self.stages.iter().map(|s| s.duration).sum::<Duration>()
    }

    /// The highest level of any stage (virtual users or arrivals per second).
    pub(crate) fn peak(&self) -> f64 {
        self.stages.iter().map(|s| s.level).fold(0.0, f64::max)
    }
}

/// One step of the load shape: hold `level` for `duration`, reached linearly over its first
/// `ramp` from the level before it (a step when `ramp` is zero).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stage {
    /// Virtual users (closed model, a whole number ≥ 1) or arrivals per second (open model).
    pub level: f64,
    pub duration: Duration,
    /// Within `duration`: how long the level takes to move from the previous level to
    /// `level` (0: a step).
    pub ramp: Duration,
}

/// Where a plan's thresholds came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThresholdOrigin {
    /// The scenario lists its own (they replace the defaults).
    Scenario,
    /// The scenario lists none: the kind's defaults apply (`presets::default_thresholds`).
    Defaults,
    /// `thresholds: []`: no threshold at all (only the no-success guard judges the run).
    OptedOut,
}

/// A threshold such as `p95 < 250ms` or `list-items.p99 < 300ms`.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    /// As written in the file.
    pub expr: String,
    /// Request name, or `None` for all requests.
    pub scope: Option<String>,
    pub metric: ThresholdMetric,
    pub op: Op,
    /// In the metric's unit: ms for latency, a fraction for error_rate, per second for
    /// throughput, a count for errors.
    pub limit: f64,
    /// Judged on one stage only (`stage[2].p99`, `stage:peak.p99`): its index.
    pub stage: Option<usize>,
    /// The budget's other levels (`p95: { target: 150ms, warn: 200ms, fail: 250ms }`) and
    /// whether it is a KPI; all empty for the short form.
    pub levels: Levels,
    /// `abort: true`: judged on every closed 1-second window too, and the run stops (and
    /// fails) at the first window that breaks it, not before this grace (`after:`) has
    /// passed since the warm-up ended.
    pub abort: Option<Duration>,
}

impl Threshold {
    /// A short-form threshold (`p95 < 250ms`): fail level only, on every stage, no abort.
    pub fn new(
        expr: impl Into<String>,
        scope: Option<String>,
        metric: ThresholdMetric,
        op: Op,
        limit: f64,
    ) -> Threshold {
        Threshold {
            expr: expr.into(),
            scope,
            metric,
            op,
            limit,
            stage: None,
            levels: Levels::default(),
            abort: None,
        }
    }
}

/// A budget's levels beside its fail level (`limit`), in the metric's unit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Levels {
    /// The objective: reported (met or not), never a failure.
    pub target: Option<f64>,
    /// Reaching it is a warning: shown in every report, the exit code unchanged.
    pub warn: Option<f64>,
    /// `kpi: true`: a row of the KPI table (target, warn, fail, observed).
    pub kpi: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThresholdMetric {
    Min,
    Mean,
    P50,
    P90,
    P95,
    P99,
    P999,
    Max,
    ErrorRate,
    Errors,
    Throughput,
    Requests,
    /// Open model: arrivals not sent because `max_in_flight` was reached.
    Dropped,
    /// Open model: dropped / (requests + dropped), 0..1.
    DroppedRate,
    /// `sut.rss`: the watched system under test's peak resident memory, bytes.
    SutRss,
    /// `sut.rss_growth`: its memory in the last measured window over the first, minus 1.
    SutRssGrowth,
    /// `sut.cpu`: its mean CPU use over the measured windows, a fraction of the machine.
    SutCpu,
}

impl ThresholdMetric {
    pub(crate) const ALL: [(&'static str, ThresholdMetric); 17] = [
        ("min", ThresholdMetric::Min),
        ("mean", ThresholdMetric::Mean),
        ("p50", ThresholdMetric::P50),
        ("p90", ThresholdMetric::P90),
        ("p95", ThresholdMetric::P95),
        ("p99", ThresholdMetric::P99),
        ("p999", ThresholdMetric::P999),
        ("max", ThresholdMetric::Max),
        ("error_rate", ThresholdMetric::ErrorRate),
        ("errors", ThresholdMetric::Errors),
        ("throughput", ThresholdMetric::Throughput),
        ("requests", ThresholdMetric::Requests),
        ("dropped", ThresholdMetric::Dropped),
        ("dropped_rate", ThresholdMetric::DroppedRate),
        ("sut.rss", ThresholdMetric::SutRss),
        ("sut.rss_growth", ThresholdMetric::SutRssGrowth),
        ("sut.cpu", ThresholdMetric::SutCpu),
    ];

    /// The name as written in a threshold (`p95`, `error_rate`, `dropped_rate`).
    pub(crate) fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, m)| *m == self)
            .map(|(n, _)| *n)
            .unwrap_or("?")
    }

    /// True for the latency metrics (min … max): judged on successful responses only.
    pub(crate) fn is_latency(self) -> bool {
        self.unit() == "ms"
    }

    /// True when more is better (`throughput`, `requests`): a budget's levels then fall
    /// (target ≥ warn ≥ fail) and its fail level reads `>`; otherwise they rise and it reads `<`.
    pub(crate) fn higher_is_better(self) -> bool {
        matches!(
            self,
            ThresholdMetric::Throughput | ThresholdMetric::Requests
        )
    }

    /// True for the metrics of the watched system under test (`sut.*`, from `monitor:`).
    pub(crate) fn is_sut(self) -> bool {
        matches!(
            self,
            ThresholdMetric::SutRss | ThresholdMetric::SutRssGrowth | ThresholdMetric::SutCpu
        )
    }

    /// `ms`, `ratio`, `rps`, `count` or `bytes`.
    pub(crate) fn unit(self) -> &'static str {
        match self {
            ThresholdMetric::SutRss => "bytes",
            ThresholdMetric::ErrorRate
            | ThresholdMetric::DroppedRate
            | ThresholdMetric::SutRssGrowth
            | ThresholdMetric::SutCpu => "ratio",
            ThresholdMetric::Throughput => "rps",
            ThresholdMetric::Errors | ThresholdMetric::Requests | ThresholdMetric::Dropped => {
                "count"
            }
            _ => "ms",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    pub(crate) fn holds(self, observed: f64, limit: f64) -> bool {
        match self {
            Op::Lt => observed < limit,
            Op::Le => observed <= limit,
            Op::Gt => observed > limit,
            Op::Ge => observed >= limit,
        }
    }

    pub(crate) fn symbol(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }
}

/// The `baseline:` section of a scenario.
#[derive(Debug, Clone, Default)]
pub struct BaselineSpec {
    /// One baseline file for every testbed; default `baselines/<name>/<testbed>.json`.
    pub file: Option<PathBuf>,
    /// Tolerances the file sets; metrics it does not name take `TolMetric::default_tolerance`.
    pub tolerance: BTreeMap<TolMetric, TolValue>,
    /// Run the measurement this many times and compare medians (≥ 1).
    pub repeat: u32,
}

/// A process of the system under test to watch (`monitor:`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MonitorTarget {
    /// A process id.
    Pid(u32),
    /// A file holding a process id (read when the run starts).
    PidFile(PathBuf),
    /// Every process whose name (`/proc/PID/comm`, or the file name of its command) is this.
    Process(String),
    /// perfgate's own process (in-process targets).
    Own,
}

impl MonitorTarget {
    /// How a report names it: `pid 42`, `pid file run/app.pid`, `process app`.
    pub(crate) fn label(&self) -> String {
        match self {
            MonitorTarget::Pid(p) => format!("pid {p}"),
            MonitorTarget::PidFile(f) => format!("pid file {}", f.display()),
            MonitorTarget::Process(n) => format!("process {n}"),
            MonitorTarget::Own => "perfgate's own process (in-process target)".to_string(),
        }
    }
}
