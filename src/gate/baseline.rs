//! Baseline files (`perfgate/baseline/v1`): what they hold, where they live, loading with typed
//! errors, atomic saving, the refresh guard and the "what changed" lines of a refresh.
//!
//! A baseline is the [`RunResult`] of the runs it came from — summary metrics per request and
//! `_total` (medians over the runs), HDR histograms (merged), per-second `request_series` for
//! the noise test (every run's windows) — plus each run's own summary ([`RunSummary`], so the
//! baseline knows its run-to-run spread) and provenance: perfgate version, scenario name and
//! hash, git commit, host, testbed, creation time.
//!
//! Files live at `baselines/<scenario>/<testbed>.json`, one per testbed; a single
//! `baselines/<scenario>.json` written before testbeds still loads (`locate`).

use super::reasons::value;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use std::collections::BTreeMap;

use super::testbed::derive_testbed;
use crate::result::{HostInfo, Measurement, Metrics, RunResult, Verdict, TOTAL_KEY};
use crate::scenario::BaselineSpec;

/// Schema tag of a baseline file.
pub const BASELINE_SCHEMA: &str = "perfgate/baseline/v1";

/// A stored baseline.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Baseline {
    pub schema: String,
    pub provenance: Provenance,
    /// The run the baseline was taken from (its `comparison` cleared); for several runs, their
    /// fold: per-metric medians, merged histograms, every run's windows.
    pub result: RunResult,
    /// Each run's own summary, in the order they ran; empty in a baseline written before
    /// several runs were kept (it then counts as one run).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runs: Vec<RunSummary>,
    /// Where the baseline was loaded from; set by [`load`], never written.
    #[serde(skip)]
    pub path: Option<PathBuf>,
}

/// Where a baseline came from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Provenance {
    /// RFC 3339 time the baseline was written.
    pub created_at: String,
    pub perfgate_version: String,
    pub scenario_name: String,
    /// sha256 of the scenario file when the baseline was taken.
    pub scenario_hash: String,
    /// `git rev-parse HEAD` of the working directory, when it is a git checkout.
    #[serde(default)]
    pub git_commit: Option<String>,
    /// The machine that ran the measurement.
    pub host: HostInfo,
    /// The testbed the baseline belongs to; absent in older files, where it is derived from
    /// `host` (`Baseline::testbed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub testbed: Option<String>,
}

/// One run of a baseline: its summary metrics, `_total` and per request.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunSummary {
    pub started_at: String,
    pub totals: Metrics,
    pub requests: BTreeMap<String, Metrics>,
}

impl RunSummary {
    /// The summary of one measured run.
    pub(crate) fn of(m: &Measurement) -> RunSummary {
        RunSummary {
            started_at: m.started_at.clone(),
            totals: m.totals.clone(),
            requests: m.requests.clone(),
        }
    }

    /// The metrics of request `name` (or `_total`) in this run.
    pub(crate) fn metrics(&self, name: &str) -> Option<&Metrics> {
        if name == TOTAL_KEY {
            Some(&self.totals)
        } else {
            self.requests.get(name)
        }
    }
}

impl Provenance {
    /// Provenance of `result` taken now: the result's tool, scenario and host, the current
    /// git commit (if any) and the current time.
    pub(crate) fn capture(result: &RunResult) -> Provenance {
        Provenance {
            created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            perfgate_version: result.tool.version.clone(),
            scenario_name: result.scenario.name.clone(),
            scenario_hash: result.scenario.hash.clone(),
            git_commit: git_commit(),
            host: result.host.clone(),
            testbed: Some(derive_testbed(&result.host)),
        }
    }
}

impl Baseline {
    /// A baseline of `result` with the given provenance.
    pub fn new(result: &RunResult, provenance: Provenance) -> Baseline {
        let mut result = result.clone();
        result.comparison = None;
        Baseline {
            schema: BASELINE_SCHEMA.to_string(),
            provenance,
            result,
            runs: Vec::new(),
            path: None,
        }
    }

    /// A baseline of several runs: `result` is their fold (judged), `runs` each one.
    pub fn with_runs(mut self, runs: &[Measurement]) -> Baseline {
        self.runs = runs.iter().map(RunSummary::of).collect();
        self
    }

    /// The testbed this baseline belongs to: the one it was written for, or (older files)
    /// the one its host derives to.
    pub(crate) fn testbed(&self) -> String {
        self.provenance
            .testbed
            .clone()
            .unwrap_or_else(|| derive_testbed(&self.provenance.host))
    }

    /// How many runs the baseline holds (an older file counts as one).
    pub(crate) fn run_count(&self) -> usize {
        self.runs.len().max(1)
    }

    /// A baseline of `result` with provenance captured now ([`Provenance::capture`]).
    pub fn from_result(result: &RunResult) -> Baseline {
        Baseline::new(result, Provenance::capture(result))
    }
}

/// `git rev-parse HEAD`, or `None` when git is missing or this is not a checkout.
pub(crate) fn git_commit() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

const REFRESH_HINT: &str = "run `perfgate baseline refresh <scenario>` to create it again";

/// Why a baseline could not be loaded or saved. Every message names the file and what to do.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("no baseline at {}: run `perfgate baseline refresh <scenario>` to create one", path.display())]
    Missing { path: PathBuf },
    #[error("cannot read baseline {}: {source}; check that it is a readable file", path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("baseline {} is truncated (the JSON ends early, line {line}, column {column}); restore it from version control or {REFRESH_HINT}", path.display())]
    Truncated {
        path: PathBuf,
        line: usize,
        column: usize,
    },
    #[error("baseline {} is not a valid baseline file (line {line}, column {column}: {message}); restore it from version control or {REFRESH_HINT}", path.display())]
    Corrupt {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("baseline {} has schema `{found}`, expected `{BASELINE_SCHEMA}`; {hint}", path.display())]
    WrongSchema {
        path: PathBuf,
        found: String,
        hint: String,
    },
    #[error("cannot write baseline {}: {source}; the previous file, if any, is unchanged", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl BaselineError {
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            BaselineError::Missing { path }
            | BaselineError::Unreadable { path, .. }
            | BaselineError::Truncated { path, .. }
            | BaselineError::Corrupt { path, .. }
            | BaselineError::WrongSchema { path, .. }
            | BaselineError::Write { path, .. } => path,
        }
    }
}

/// Loads the baseline at `path`, telling apart a missing file, an unreadable one, truncated or
/// corrupt JSON, and a file of another schema (or version).
pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
    let text = fs::read_to_string(path).map_err(|source| {
        if source.kind() == io::ErrorKind::NotFound {
            BaselineError::Missing {
                path: path.to_path_buf(),
            }
        } else {
            BaselineError::Unreadable {
                path: path.to_path_buf(),
                source,
            }
        }
    })?;
    let json_error = |e: serde_json::Error| {
        if e.is_eof() {
            BaselineError::Truncated {
                path: path.to_path_buf(),
                line: e.line(),
                column: e.column(),
            }
        } else {
            BaselineError::Corrupt {
                path: path.to_path_buf(),
                line: e.line(),
                column: e.column(),
                message: strip_position(&e.to_string()),
            }
        }
    };
    // First as untyped JSON, so that a file of another schema is named as such rather than
    // reported as a missing field.
    let value: serde_json::Value = serde_json::from_str(&text).map_err(json_error)?;
    let found = value.get("schema").and_then(|s| s.as_str());
    if found != Some(BASELINE_SCHEMA) {
        let hint = match found {
            Some(s) if s.starts_with("perfgate/result/") => {
                "this is a run's result.json, not a baseline; create a baseline with `perfgate baseline refresh <scenario>`".to_string()
            }
            Some(s) if s.starts_with("perfgate/baseline/") => {
                format!("it was written by another perfgate version; {REFRESH_HINT}")
            }
            _ => format!("it is not a perfgate baseline; {REFRESH_HINT}"),
        };
        return Err(BaselineError::WrongSchema {
            path: path.to_path_buf(),
            found: found.unwrap_or("(none)").to_string(),
            hint,
        });
    }
    // Typed, from the text again so that errors carry a line and column.
    let mut baseline: Baseline = serde_json::from_str(&text).map_err(json_error)?;
    baseline.path = Some(path.to_path_buf());
    Ok(baseline)
}

/// serde_json appends " at line L column C"; the error message says it once already.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

/// Writes `baseline` to `path` atomically: the JSON goes to a temporary file in the same
/// directory, is flushed to disk, then renamed over `path`. A failure at any step leaves the
/// previous file untouched and removes the temporary file. Creates the parent directory.
pub fn save_atomic(path: &Path, baseline: &Baseline) -> Result<(), BaselineError> {
    write_atomic(path, |f| {
        serde_json::to_writer_pretty(&mut *f, baseline).map_err(io::Error::other)?;
        f.write_all(b"\n")
    })
    .map_err(|source| BaselineError::Write {
        path: path.to_path_buf(),
        source,
    })
}

fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut fs::File) -> io::Result<()>,
) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir)?;
    let file_name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path has no file name"))?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let tmp = dir.join(format!(
        ".{}.{}-{nanos}.tmp",
        file_name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        write(&mut f)?;
        f.flush()?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
        return result;
    }
    // Make the rename itself durable where the platform allows it.
    if let Ok(d) = fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Where a scenario's baseline for `testbed` is written: `baseline.file` when the scenario
/// sets it, otherwise `baselines/<name>/<testbed>.json`.
pub(crate) fn testbed_path(scenario_name: &str, spec: &BaselineSpec, testbed: &str) -> PathBuf {
    if let Some(f) = &spec.file {
        return f.clone();
    }
    PathBuf::from("baselines")
        .join(safe_name(scenario_name))
        .join(format!("{testbed}.json"))
}

/// Which baseline file a run on `testbed` compares with: the scenario's `baseline.file` when
/// set; else `baselines/<name>/<testbed>.json` when it exists; else the single-file
/// `baselines/<name>.json` of older versions, then another testbed's file (by name), when
/// one exists (the comparison then says whether it is informational); else the testbed's own
/// path, which is missing.
pub(crate) fn locate(scenario_name: &str, spec: &BaselineSpec, testbed: &str) -> PathBuf {
    let own = testbed_path(scenario_name, spec, testbed);
    if spec.file.is_some() || own.exists() {
        return own;
    }
    let legacy = default_path(scenario_name, spec);
    if legacy.is_file() {
        return legacy;
    }
    let dir = PathBuf::from("baselines").join(safe_name(scenario_name));
    let mut others: Vec<PathBuf> = fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json") && p.is_file())
                .collect()
        })
        .unwrap_or_default();
    others.sort();
    others.into_iter().next().unwrap_or(own)
}

/// The single-file baseline path of older versions: `baseline.file` when the scenario sets
/// it, otherwise `baselines/<name>.json` (characters other than letters, digits, `.`, `_`,
/// `-` become `-`).
pub fn default_path(scenario_name: &str, spec: &BaselineSpec) -> PathBuf {
    if let Some(f) = &spec.file {
        return f.clone();
    }
    PathBuf::from("baselines").join(format!("{}.json", safe_name(scenario_name)))
}

fn safe_name(scenario_name: &str) -> String {
    let safe: String = scenario_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let safe = safe.trim_start_matches('.');
    if safe.is_empty() {
        "baseline".to_string()
    } else {
        safe.to_string()
    }
}

/// Why a result may not become the baseline.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("refusing to store this run as the baseline: {}; pass --force to store it anyway", reasons.join("; "))]
pub struct RefreshRefused {
    pub reasons: Vec<String>,
}

/// A baseline is refreshed only from a run that completed, completed requests and passed its
/// thresholds, unless `force`.
pub fn check_refreshable(result: &RunResult, force: bool) -> Result<(), RefreshRefused> {
    if force {
        return Ok(());
    }
    let mut reasons = Vec::new();
    if result.verdict == Verdict::Aborted {
        reasons.push("the run was aborted".to_string());
    }
    if result.totals.requests == 0 {
        reasons.push("the run completed no requests".to_string());
    }
    let failed: Vec<&str> = result
        .thresholds
        .iter()
        .filter(|t| !t.pass)
        .map(|t| t.expr.as_str())
        .collect();
    if !failed.is_empty() {
        reasons.push(format!("thresholds failed: {}", failed.join(", ")));
    }
    if reasons.is_empty() {
        Ok(())
    } else {
        Err(RefreshRefused { reasons })
    }
}

/// Lines describing what a refresh changes: provenance, requests added or removed, and p50,
/// p95, p99, throughput and (when it moved) error rate of `_total` and each request,
/// old → new with the relative change (percentage points for the error rate).
pub fn describe_change(old: Option<&Baseline>, new: &Baseline) -> Vec<String> {
    let mut lines = vec![format!(
        "testbed {}: {} run{} (values are medians over the runs)",
        new.testbed(),
        new.run_count(),
        if new.run_count() == 1 { "" } else { "s" }
    )];
    let Some(old) = old else {
        lines.push(format!(
            "new baseline for scenario `{}`",
            new.provenance.scenario_name
        ));
        for (name, m) in named_metrics(&new.result) {
            lines.push(format!(
                "{name}: p50 {}, p95 {}, p99 {}, throughput {}, error rate {}",
                value(m.latency_ms.p50, "ms"),
                value(m.latency_ms.p95, "ms"),
                value(m.latency_ms.p99, "ms"),
                value(m.throughput_rps, "rps"),
                value(m.error_rate, "ratio")
            ));
        }
        return lines;
    };
    let (op, np) = (&old.provenance, &new.provenance);
    if op.scenario_hash != np.scenario_hash {
        lines.push("scenario file changed since the previous baseline".to_string());
    }
    if op.perfgate_version != np.perfgate_version {
        lines.push(format!(
            "perfgate {} → {}",
            op.perfgate_version, np.perfgate_version
        ));
    }
    if op.host.cpu_model != np.host.cpu_model || op.host.cpus != np.host.cpus {
        lines.push(format!(
            "host {} ({} CPUs) → {} ({} CPUs)",
            op.host.cpu_model, op.host.cpus, np.host.cpu_model, np.host.cpus
        ));
    }
    let old_named = named_metrics(&old.result);
    let new_named = named_metrics(&new.result);
    for (name, _) in &old_named {
        if !new_named.iter().any(|(n, _)| n == name) {
            lines.push(format!("{name}: removed"));
        }
    }
    for (name, nm) in &new_named {
        let Some((_, om)) = old_named.iter().find(|(n, _)| n == name) else {
            lines.push(format!("{name}: added"));
            continue;
        };
        let pairs = [
            ("p50", om.latency_ms.p50, nm.latency_ms.p50),
            ("p95", om.latency_ms.p95, nm.latency_ms.p95),
            ("p99", om.latency_ms.p99, nm.latency_ms.p99),
        ];
        for (label, o, n) in pairs {
            lines.push(format!(
                "{name} {label}: {} → {} ({})",
                value(o, "ms"),
                value(n, "ms"),
                pct(o, n)
            ));
        }
        lines.push(format!(
            "{name} throughput: {} → {} ({})",
            value(om.throughput_rps, "rps"),
            value(nm.throughput_rps, "rps"),
            pct(om.throughput_rps, nm.throughput_rps)
        ));
        if om.error_rate == nm.error_rate {
            continue;
        }
        lines.push(format!(
            "{name} error rate: {:.2}% → {:.2}% ({:+.2}pp)",
            om.error_rate * 100.0,
            nm.error_rate * 100.0,
            (nm.error_rate - om.error_rate) * 100.0
        ));
    }
    lines
}

/// `_total` first, then each request by name.
fn named_metrics(r: &RunResult) -> Vec<(&str, &Metrics)> {
    std::iter::once((TOTAL_KEY, &r.totals))
        .chain(r.requests.iter().map(|(k, v)| (k.as_str(), v)))
        .collect()
}

fn pct(old: f64, new: f64) -> String {
    if old == 0.0 {
        if new == 0.0 {
            "no change".to_string()
        } else {
            "was 0".to_string()
        }
    } else {
        format!("{:+.1}%", (new - old) / old * 100.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_path_uses_name_or_file() {
        let spec = BaselineSpec::default();
        assert_eq!(
            default_path("api", &spec),
            PathBuf::from("baselines/api.json")
        );
        assert_eq!(
            default_path("../a b/c", &spec),
            PathBuf::from("baselines/-a-b-c.json")
        );
        let spec = BaselineSpec {
            file: Some(PathBuf::from("perf/base.json")),
            ..Default::default()
        };
        assert_eq!(default_path("api", &spec), PathBuf::from("perf/base.json"));
    }

    #[test]
    fn failed_write_leaves_old_file_and_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.json");
        fs::write(&path, "old").unwrap();
        let err = write_atomic(&path, |f| {
            f.write_all(b"{\"half\": ")?;
            Err(io::Error::other("disk full"))
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "disk full");
        assert_eq!(fs::read_to_string(&path).unwrap(), "old");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn write_creates_parent_dirs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/c.json");
        write_atomic(&path, |f| f.write_all(b"{}")).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "{}");
    }

    #[test]
    fn position_is_said_once() {
        assert_eq!(
            strip_position("expected value at line 1 column 2"),
            "expected value"
        );
    }
}
