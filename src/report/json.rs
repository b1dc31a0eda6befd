//! `result.json`: the run's result as pretty-printed JSON (`perfgate/result/v1`), the format
//! `compare`, `report` and baseline files read back.

use super::{ReportContext, ReportError, Reporter};
use crate::result::RunResult;

/// Renders `result.json`.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonReport;

impl Reporter for JsonReport {
    fn file_name(&self) -> &str {
        "result.json"
    }

    fn render(&self, result: &RunResult, _ctx: &ReportContext<'_>) -> Result<Vec<u8>, ReportError> {
        let mut bytes = serde_json::to_vec_pretty(result)?;
        bytes.push(b'\n');
        Ok(bytes)
    }
}
