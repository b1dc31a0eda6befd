//! The top layer: the commands as library functions, and the measure step. Each command
//! takes plain options (no clap types) and returns an [`ExitCode`] or an `AppError` that
//! carries its own. `cli.rs` only maps arguments here, so tests and user binaries drive
//! exactly what the command line drives. This is the only layer that knows every stage:
//! scenario → `measure` (engine, client, metrics) → `gate::judge` → reports.

mod ab_cmd;
mod baseline_cmd;
mod compare_cmd;
mod demo_cmd;
mod distributed;
pub(crate) mod fdlimit;
mod measure;
mod merge_cmd;
mod output;
mod run_cmd;

use std::path::{Path, PathBuf};

pub(crate) use ab_cmd::{ab, AbArgs};
pub(crate) use baseline_cmd::{refresh, RefreshArgs};
pub(crate) use compare_cmd::{compare, report, CompareArgs, ReportArgs};
pub(crate) use demo_cmd::{demo_server, DemoServerArgs};
pub(crate) use distributed::DistributedArgs;
pub use distributed::LateStart;
pub use measure::{measure, RunError, RunOptions};
pub(crate) use merge_cmd::{merge, MergeArgs};
pub(crate) use run_cmd::{run, RunArgs};

use crate::client::Registry;
pub(crate) use crate::exit::ExitCode;
use crate::gate::{self, Baseline, BaselineError};
use crate::result::RunResult;
use crate::scenario::{self, Plan, ScenarioError};

/// A command that could not do its job; the message is one clear paragraph.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AppError {
    #[error("{0}")]
    Scenario(#[from] ScenarioError),
    #[error("{0}")]
    Baseline(#[from] BaselineError),
    /// Other invalid input (exit 2).
    #[error("{0}")]
    Input(String),
    /// The run could not complete (exit 3).
    #[error("{0}")]
    Run(String),
}

impl AppError {
    pub(crate) fn exit_code(&self) -> ExitCode {
        match self {
            AppError::Run(_) => ExitCode::Run,
            _ => ExitCode::Input,
        }
    }
}

/// Loads a scenario with the registry's function names.
pub(crate) fn load_plan(path: &Path, registry: &Registry) -> Result<Plan, AppError> {
    Ok(scenario::load_with(path, registry)?)
}

/// Loads the plan of a run and applies `--base-url` to it (checked like `target.base_url`,
/// exit 2 before any load). Returns the plan and the URL to pass on.
pub(crate) fn load_plan_for_run(
    path: &Path,
    registry: &Registry,
    base_url: Option<&str>,
) -> Result<(Plan, Option<String>), AppError> {
    let mut plan = load_plan(path, registry)?;
    let url = match base_url {
        None => None,
        Some(u) => Some(scenario::apply_base_url(&mut plan, u).map_err(|p| {
            AppError::Input(format!("--base-url: {}\n  hint: {}", p.message, p.hint))
        })?),
    };
    Ok((plan, url))
}

/// Loads a `result.json`, refusing anything that is not one.
pub(crate) fn load_result(path: &Path) -> Result<RunResult, AppError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        AppError::Input(format!(
            "{}: cannot read the result file: {e}",
            path.display()
        ))
    })?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        let message = scenario::diag::plain_words(&e.to_string());
        AppError::Input(format!(
            "{}:{}:{}: not a valid result.json: {message}",
            path.display(),
            e.line(),
            e.column()
        ))
    })?;
    match value.get("schema").and_then(|s| s.as_str()) {
        Some(crate::result::RESULT_SCHEMA) => {}
        Some(other) => {
            return Err(AppError::Input(format!(
                "{}: schema `{other}` is not `{}`{}",
                path.display(),
                crate::result::RESULT_SCHEMA,
                if other.starts_with("perfgate/baseline") {
                    " (this is a baseline file; pass it with --baseline)"
                } else {
                    ""
                }
            )))
        }
        None => {
            return Err(AppError::Input(format!(
                "{}: no `schema` key; this is not a perfgate result.json",
                path.display()
            )))
        }
    }
    serde_json::from_value(value).map_err(|e| {
        let message = scenario::diag::plain_words(&e.to_string());
        AppError::Input(format!(
            "{}: not a valid result.json: {message}",
            path.display()
        ))
    })
}

/// Which baseline to compare with: an explicit `--baseline` must exist; the default one may
/// be absent (then there is nothing to compare). A baseline for another scenario is refused.
pub(crate) fn find_baseline(
    explicit: Option<&Path>,
    default: PathBuf,
    scenario_name: &str,
) -> Result<Option<Baseline>, AppError> {
    let (path, required) = match explicit {
        Some(p) => (p.to_path_buf(), true),
        None => (default, false),
    };
    match gate::load(&path) {
        Ok(b) => {
            if b.provenance.scenario_name != scenario_name {
                return Err(AppError::Input(format!(
                    "{}: this baseline is for scenario `{}`, not `{scenario_name}`\n  hint: pass the right file with --baseline, or refresh it with `perfgate baseline refresh`",
                    path.display(),
                    b.provenance.scenario_name
                )));
            }
            Ok(Some(b))
        }
        Err(BaselineError::Missing { .. }) if !required => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The testbed asked for: `--testbed`, else `PERFGATE_TESTBED` (checked: it names a file),
/// else `None` (derived from the machine by the caller).
pub(crate) fn asked_testbed(flag: Option<&str>) -> Result<Option<String>, AppError> {
    if let Some(t) = flag {
        return Ok(Some(t.to_string()));
    }
    match std::env::var("PERFGATE_TESTBED") {
        Ok(v) if !v.trim().is_empty() => gate::parse_testbed(v.trim())
            .map(Some)
            .map_err(|e| AppError::Input(format!("PERFGATE_TESTBED: {e}"))),
        _ => Ok(None),
    }
}

/// The testbed of a run on this machine: the one asked for, else derived from this host.
pub(crate) fn this_testbed(flag: Option<&str>) -> Result<String, AppError> {
    Ok(asked_testbed(flag)?
        .unwrap_or_else(|| gate::derive_testbed(&crate::result::HostInfo::current(0))))
}

/// `--strict-env`: a machine different from the baseline's, or a baseline of another
/// testbed, is an error (exit 2) rather than a note or an informational comparison.
pub(crate) fn strict_env_check(result: &RunResult, whose: &str) -> Result<(), AppError> {
    let Some(c) = &result.comparison else {
        return Ok(());
    };
    if c.informational {
        return Err(AppError::Input(format!(
            "--strict-env: no baseline for testbed {} ({whose}); the baseline is for {}\n  hint: take one with `perfgate baseline refresh` on this testbed, or name the testbed with --testbed",
            c.testbed, c.baseline_testbed
        )));
    }
    if !c.env_mismatch.is_empty() {
        return Err(AppError::Input(format!(
            "--strict-env: {whose} differs from the baseline's: {}",
            c.env_mismatch.join("; ")
        )));
    }
    Ok(())
}

/// The default output folder of a scenario: `reports/<name>`.
pub(crate) fn default_out(name: &str) -> PathBuf {
    Path::new("reports").join(name)
}

/// `perfgate validate`: checks each file; prints `ok` or the diagnostic. Exit 0 or 2.
pub(crate) fn validate(paths: &[PathBuf], explain: bool, registry: &Registry) -> ExitCode {
    let mut code = ExitCode::Pass;
    for p in paths {
        match load_plan(p, registry) {
            Ok(plan) => {
                println!(
                    "ok: {} ({}, {} stage(s), {})",
                    p.display(),
                    plan.kind.name(),
                    plan.load.stages.len(),
                    scenario::units::format_duration(plan.load.total_duration())
                );
                if let Some(w) = run_cmd::opted_out_warning(&plan) {
                    eprintln!("warning: {}: {w}", p.display());
                }
                if explain {
                    print!("{}", scenario::explain(&plan));
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                code = ExitCode::Input;
            }
        }
    }
    code
}
