//! The one fixture tree of the integration tests. Here: scenario files in temp dirs, the
//! binary, and in-process runs of a scenario. Beside it:
//!
//! - `raw`: raw TCP servers that misbehave in exactly one way.
//! - `counting`: a loopback HTTP/1.1 server that logs every request it receives.
//! - `results`: fixture results for the report tests (and the report benchmark), and the
//!   primitives every built result shares: seeded noise, histogram encoding, a blank result.
//! - `shapes`: results built from a load shape (N windows of seeded noise) for the gate tests.

#![allow(dead_code)]

pub mod counting;
pub mod raw;
pub mod results;
pub mod shapes;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use perfgate::client::Registry;
use perfgate::result::RunResult;
use perfgate::runner::{run_plan, RunOptions};
use perfgate::scenario;

pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

pub fn perfgate(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_perfgate"))
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap()
}

/// Parses `yaml` (no environment) and runs it in-process.
pub fn run_yaml(yaml: &str, registry: &Registry) -> RunResult {
    let names = registry.names();
    let plan = scenario::parse(yaml, Path::new("test.yaml"), &names, |_| None)
        .unwrap_or_else(|e| panic!("{e}"));
    run_plan(
        &plan,
        registry,
        RunOptions {
            threads: Some(2),
            ..RunOptions::default()
        },
    )
    .unwrap()
}

/// `requests == ok + errors`, at every level.
pub fn assert_totals_add_up(r: &RunResult) {
    let t = &r.totals;
    assert_eq!(t.requests, t.ok + t.errors, "totals");
    assert_eq!(t.errors, t.errors_by_class.total(), "classes");
    for (name, m) in &r.requests {
        assert_eq!(m.requests, m.ok + m.errors, "request {name}");
    }
    let by_stage: u64 = r.stages.iter().map(|s| s.metrics.requests).sum();
    assert_eq!(by_stage, t.requests, "stages add up to totals");
}
