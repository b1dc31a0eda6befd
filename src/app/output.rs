//! Where a judged result goes: the files under the output folder and the summary on stdout.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};

use super::AppError;
use crate::report::{self, ReportContext, ReportOptions, Reporter};
use crate::result::RunResult;

/// Writes `result.json`, `junit.xml`, `summary.md` and (unless `no_report`) `report.html` and
/// the PNG charts into `dir`. Returns the written paths.
pub(super) fn write_files(
    result: &RunResult,
    baseline: Option<&RunResult>,
    dir: &Path,
    no_report: bool,
) -> Result<Vec<PathBuf>, AppError> {
    let ctx = ReportContext { baseline };
    let opts = ReportOptions {
        html_and_png: !no_report,
    };
    report::write_standard(result, &ctx, dir, &opts)
        .map_err(|e| AppError::Run(format!("writing reports into {}: {e}", dir.display())))
}

/// Makes sure the reports can be written into `dir` before anything runs: it must be a
/// folder (created if missing) that accepts a new file. A problem is invalid input (exit 2),
/// found before the load rather than after it with everything lost.
pub(super) fn check_writable(dir: &Path) -> Result<(), AppError> {
    check_writable_hint(dir, "pass a writable folder with --out")
}

/// [`check_writable`] with the hint to print.
pub(super) fn check_writable_hint(dir: &Path, hint: &str) -> Result<(), AppError> {
    let hint = format!("\n  hint: {hint}");
    if dir.exists() && !dir.is_dir() {
        return Err(AppError::Input(format!(
            "{}: the output folder is an existing file, not a folder{hint}",
            dir.display()
        )));
    }
    std::fs::create_dir_all(dir).map_err(|e| {
        AppError::Input(format!(
            "{}: cannot create the output folder: {e}{hint}",
            dir.display()
        ))
    })?;
    check_file_creatable(dir).map_err(|e| {
        AppError::Input(format!(
            "{}: cannot write into the output folder: {e}{hint}",
            dir.display()
        ))
    })
}

/// Creates and removes a probe file in `dir`.
pub(super) fn check_file_creatable(dir: &Path) -> std::io::Result<()> {
    let probe = dir.join(format!(".perfgate-write-check-{}", std::process::id()));
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&probe)?;
    std::fs::remove_file(&probe)
}

/// Writes only `report.html` and the PNG charts (for `perfgate report`).
pub(super) fn write_visual(
    result: &RunResult,
    baseline: Option<&RunResult>,
    dir: &Path,
) -> Result<Vec<PathBuf>, AppError> {
    let ctx = ReportContext { baseline };
    let all = report::standard_reporters(&ReportOptions { html_and_png: true });
    let visual: Vec<&dyn Reporter> = all
        .iter()
        .map(|r| r.as_ref())
        .filter(|r| r.file_name().ends_with(".html") || r.file_name().ends_with(".png"))
        .collect();
    report::write_all(&visual, result, &ctx, dir)
        .map_err(|e| AppError::Run(format!("writing reports into {}: {e}", dir.display())))
}

/// Prints the terminal summary (in color on a terminal); `verbose` lists unchanged compared
/// metrics too.
pub(super) fn print_summary(result: &RunResult, verbose: bool) {
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let opts = report::terminal::TerminalReport { color, verbose };
    print!("{}", report::terminal::render_terminal(result, opts));
}

/// Writes the files into `dir` and prints the summary; the folder is named first, so the
/// summary's last line (the first reason of a run that did not pass) is the output's last.
pub(super) fn emit(
    result: &RunResult,
    baseline: Option<&RunResult>,
    dir: &Path,
    no_report: bool,
    verbose: bool,
) -> Result<Vec<PathBuf>, AppError> {
    let written = write_files(result, baseline, dir, no_report)?;
    println!("reports: {}", dir.display());
    print_summary(result, verbose);
    Ok(written)
}

/// Prints the summary, and writes the files when a folder is given.
pub(super) fn emit_to(
    result: &RunResult,
    baseline: Option<&RunResult>,
    dir: Option<&Path>,
    no_report: bool,
    verbose: bool,
) -> Result<Vec<PathBuf>, AppError> {
    match dir {
        Some(d) => emit(result, baseline, d, no_report, verbose),
        None => {
            print_summary(result, verbose);
            Ok(Vec::new())
        }
    }
}
