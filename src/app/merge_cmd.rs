//! `perfgate merge`: several results of one scenario, run at the same time from different load
//! generators, as one result — judged against the scenario's thresholds when its file is at
//! hand, and reported like any run.

use std::path::{Path, PathBuf};

use super::{default_out, load_result, output, AppError};
use crate::gate::{self, CompareOptions};
use crate::metrics::merge_results;
use crate::scenario;
use crate::target::Registry;

#[derive(Debug, Clone, Default)]
pub struct MergeArgs {
    pub results: Vec<PathBuf>,
    /// Default: reports/<scenario-name>-merged.
    pub out: Option<PathBuf>,
    pub no_report: bool,
}

pub fn merge(args: &MergeArgs, registry: &Registry) -> Result<i32, AppError> {
    let runs = args
        .results
        .iter()
        .map(|p| load_result(p))
        .collect::<Result<Vec<_>, _>>()?;
    let mut merged = merge_results(&runs).map_err(AppError::Input)?;
    let file = Path::new(&merged.scenario.file);
    let thresholds = match file
        .exists()
        .then(|| scenario::load(file, &registry.names()))
    {
        Some(Ok(plan)) if plan.name == merged.scenario.name => plan.thresholds,
        Some(Err(e)) => {
            eprintln!("perfgate: thresholds not checked, the scenario does not load: {e}");
            Vec::new()
        }
        _ => Vec::new(),
    };
    gate::judge(&mut merged, &thresholds, None, &CompareOptions::default());
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| default_out(&format!("{}-merged", merged.scenario.name)));
    output::emit(&merged, None, &dir, args.no_report, false)?;
    Ok(merged.exit_code)
}
