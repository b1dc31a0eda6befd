//! `perfgate merge`: several results of one scenario, run at the same time from different load
//! generators, as one result — judged against the scenario's thresholds when its file is at
//! hand, and reported like any run. The same run twice, or runs that did not overlap in time,
//! are refused (exit 2) unless `--allow-disjoint`.

use std::path::{Path, PathBuf};

use super::{default_out, load_result, output, AppError};
use crate::client::Registry;
use crate::gate::{self, CompareOptions};
use crate::metrics::{check_mergeable, merge_results, MergeRefusal};
use crate::scenario;

#[derive(Debug, Clone, Default)]
pub struct MergeArgs {
    pub results: Vec<PathBuf>,
    /// Default: reports/<scenario-name>-merged.
    pub out: Option<PathBuf>,
    pub no_report: bool,
    /// Merge runs that did not overlap in time (the same run twice is still refused).
    pub allow_disjoint: bool,
}

pub fn merge(args: &MergeArgs, registry: &Registry) -> Result<i32, AppError> {
    let runs = args
        .results
        .iter()
        .map(|p| load_result(p))
        .collect::<Result<Vec<_>, _>>()?;
    check_mergeable(&runs, args.allow_disjoint).map_err(|e| {
        AppError::Input(match e {
            MergeRefusal::DifferentScenarios(m) => m,
            MergeRefusal::Disjoint { .. } => format!(
                "cannot merge: {e}\n  hint: merge results of generators that ran at the same time, or pass --allow-disjoint"
            ),
            _ => format!("cannot merge: {e}"),
        })
    })?;
    let mut merged = merge_results(&runs).map_err(AppError::Input)?;
    let file = Path::new(&merged.scenario.file);
    let thresholds = match file.exists().then(|| scenario::load_with(file, registry)) {
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
    output::check_writable(&dir)?;
    output::emit(&merged, None, &dir, args.no_report, false)?;
    Ok(merged.exit_code)
}
