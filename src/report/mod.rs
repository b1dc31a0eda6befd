//! Every way a result leaves the process. Each format is one file behind [`Reporter`], which
//! returns bytes; where the bytes go (a file under the output folder) is decided here, once.

pub mod charts;
pub mod escape;
pub mod png;

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
    fn render(&self, result: &RunResult, ctx: &ReportContext<'_>) -> anyhow::Result<Vec<u8>>;
}

/// Writes each reporter's bytes to `dir/<file_name>`, creating `dir`. Returns the paths.
pub fn write_all(
    reporters: &[&dyn Reporter],
    result: &RunResult,
    ctx: &ReportContext<'_>,
    dir: &Path,
) -> anyhow::Result<Vec<PathBuf>> {
    use anyhow::Context;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut written = Vec::new();
    for r in reporters {
        let bytes = r
            .render(result, ctx)
            .with_context(|| format!("rendering {}", r.file_name()))?;
        let path = dir.join(r.file_name());
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}
