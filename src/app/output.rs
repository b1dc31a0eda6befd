//! Where a judged result goes: the files under the output folder and the summary on stdout.

use std::path::{Path, PathBuf};

use super::AppError;
use crate::report::ReportContext;
use crate::result::RunResult;

/// Writes `result.json` and the other report files (HTML and PNG unless `no_report`) into
/// `dir`. Returns the written paths.
pub fn write_files(
    result: &RunResult,
    baseline: Option<&RunResult>,
    dir: &Path,
    no_report: bool,
) -> Result<Vec<PathBuf>, AppError> {
    let ctx = ReportContext { baseline };
    let _ = (&ctx, no_report);
    std::fs::create_dir_all(dir)
        .map_err(|e| AppError::Run(format!("cannot create {}: {e}", dir.display())))?;
    let path = dir.join("result.json");
    let bytes = serde_json::to_vec_pretty(result)
        .map_err(|e| AppError::Run(format!("cannot encode the result: {e}")))?;
    std::fs::write(&path, bytes)
        .map_err(|e| AppError::Run(format!("cannot write {}: {e}", path.display())))?;
    Ok(vec![path])
}

/// Prints the terminal summary.
pub fn print_summary(result: &RunResult) {
    println!(
        "{} {} — {} requests, {:.0} req/s, p99 {:.2} ms, errors {}",
        result.scenario.name,
        result.verdict.as_str(),
        result.totals.requests,
        result.totals.throughput_rps,
        result.totals.latency_ms.p99,
        result.totals.errors
    );
}

/// Writes the files into `dir` and prints the summary.
pub fn emit(
    result: &RunResult,
    baseline: Option<&RunResult>,
    dir: &Path,
    no_report: bool,
) -> Result<Vec<PathBuf>, AppError> {
    let written = write_files(result, baseline, dir, no_report)?;
    print_summary(result);
    Ok(written)
}

/// Prints the summary, and writes the files when a folder is given.
pub fn emit_to(
    result: &RunResult,
    baseline: Option<&RunResult>,
    dir: Option<&Path>,
    no_report: bool,
) -> Result<Vec<PathBuf>, AppError> {
    match dir {
        Some(d) => emit(result, baseline, d, no_report),
        None => {
            print_summary(result);
            Ok(Vec::new())
        }
    }
}
