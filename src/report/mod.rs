//! Every way a result leaves the process. Each format is one file behind [`Reporter`], which
//! returns bytes; where the bytes go (a file under the output folder) is decided here, once.

mod budgets;
pub mod charts;
mod error;
pub mod escape;
pub(crate) mod format;
mod generators;
mod glyphs;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
mod operations;
pub mod png;
pub(crate) mod progress;
pub(crate) mod sections;
pub mod terminal;

pub(crate) use error::ReportError;

use std::path::{Path, PathBuf};

use crate::result::RunResult;

/// What a reporter may read besides the result itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReportContext<'a> {
    /// The baseline's own result, when the run was compared against one (for overlays).
    pub baseline: Option<&'a RunResult>,
}

/// One output format.
pub trait Reporter {
    /// File name inside the output folder, e.g. `report.html`.
    fn file_name(&self) -> &str;
    /// Renders the result into the file's bytes.
    fn render(&self, result: &RunResult, ctx: &ReportContext<'_>) -> Result<Vec<u8>, ReportError>;
}

/// Writes each reporter's bytes to `dir/<file_name>`, creating `dir`. Each file is written
/// atomically: into a temporary file in the same folder, then renamed over the old one, so a
/// reader never sees half a file. Returns the paths.
pub fn write_all(
    reporters: &[&dyn Reporter],
    result: &RunResult,
    ctx: &ReportContext<'_>,
    dir: &Path,
) -> Result<Vec<PathBuf>, ReportError> {
    std::fs::create_dir_all(dir).map_err(|e| ReportError::io("creating", dir, e))?;
    let mut written = Vec::new();
    for r in reporters {
        let bytes = r.render(result, ctx).map_err(|e| ReportError::Render {
            file: r.file_name().to_string(),
            source: Box::new(e),
        })?;
        let path = dir.join(r.file_name());
        write_atomic(&path, &bytes).map_err(|e| ReportError::io("writing", &path, e))?;
        written.push(path);
    }
    Ok(written)
}

/// Writes `bytes` to a temporary file beside `path` (same folder, so the rename is atomic)
/// and renames it to `path`; the temporary file is removed if anything fails.
fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(
        ".{name}.{}-{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let attempt = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if attempt.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    attempt
}

/// Removes the standard report files in `dir` that this run did not write (`written`), so a
/// rerun with `--no-report` leaves no stale `report.html` beside a new `result.json`. Only the
/// file names perfgate writes are touched; anything else in the folder stays.
fn remove_stale(dir: &Path, written: &[PathBuf]) -> std::io::Result<()> {
    for r in standard_reporters(&ReportOptions { html_and_png: true }) {
        let path = dir.join(r.file_name());
        if written.contains(&path) || !path.is_file() {
            continue;
        }
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Which of the standard files to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportOptions {
    /// Write `report.html` and the PNG charts (off for `--no-report`).
    pub html_and_png: bool,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions { html_and_png: true }
    }
}

/// The reporters of a run's output folder: `result.json`, `report.html`, the four PNG charts,
/// `junit.xml` and `summary.md` (HTML and PNG only when `opts.html_and_png`).
pub fn standard_reporters(opts: &ReportOptions) -> Vec<Box<dyn Reporter>> {
    let mut out: Vec<Box<dyn Reporter>> = vec![Box::new(json::JsonReport)];
    if opts.html_and_png {
        out.push(Box::new(html::HtmlReport));
        for p in png::PngChart::all() {
            out.push(Box::new(p));
        }
    }
    out.push(Box::new(junit::JunitReport));
    out.push(Box::new(markdown::MarkdownReport));
    out
}

/// Writes the standard files into `dir` (created if needed), removes the standard files of a
/// previous run that this one does not write, and appends the Markdown summary
/// to GitHub's job summary when `GITHUB_STEP_SUMMARY` is set. Returns the written paths.
pub fn write_standard(
    result: &RunResult,
    ctx: &ReportContext<'_>,
    dir: &Path,
    opts: &ReportOptions,
) -> Result<Vec<PathBuf>, ReportError> {
    let reporters = standard_reporters(opts);
    let refs: Vec<&dyn Reporter> = reporters.iter().map(|r| r.as_ref()).collect();
    let written = write_all(&refs, result, ctx, dir)?;
    remove_stale(dir, &written)
        .map_err(|e| ReportError::io("removing the previous run's reports in", dir, e))?;
    // The job summary is a convenience: failing to append to it must not fail the run.
    if let Err(e) =
        markdown::append_github_step_summary(markdown::render_markdown(result).as_bytes())
    {
        eprintln!("perfgate: could not append to GITHUB_STEP_SUMMARY: {e}");
    }
    Ok(written)
}
