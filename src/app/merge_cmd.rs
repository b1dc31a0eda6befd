//! `perfgate merge`: several results of one scenario, run at the same time from different load
//! generators, as one result — judged against the scenario's thresholds when its file is at
//! hand, and reported like any run. The same run twice, or runs that did not overlap in time,
//! are refused (exit 2) unless `--allow-disjoint`.

use std::path::{Path, PathBuf};

use super::{default_out, load_result, output, AppError, ExitCode};
use crate::client::Registry;
use crate::gate::{self, CompareOptions};
use crate::result::fold::{self, check_mergeable, MergeRefusal};
use crate::result::Measurement;
use crate::scenario::{self, Threshold};

#[derive(Debug, Clone, Default)]
pub(crate) struct MergeArgs {
    pub results: Vec<PathBuf>,
    /// Default: `reports/<scenario-name>-merged`.
    pub out: Option<PathBuf>,
    pub no_report: bool,
    /// Merge runs that did not overlap in time (the same run twice is still refused).
    pub allow_disjoint: bool,
}

pub(crate) fn merge(args: &MergeArgs, registry: &Registry) -> Result<ExitCode, AppError> {
    let runs = args
        .results
        .iter()
        .map(|p| load_result(p).map(|r| r.into_measurement()))
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
    let merged = fold::merge(&runs).map_err(|e| AppError::Input(e.to_string()))?;
    let thresholds = scenario_thresholds(&merged, registry);
    let merged = gate::judge(merged, &thresholds, None, &CompareOptions::default());
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| default_out(&format!("{}-merged", merged.scenario.name)));
    output::check_writable(&dir)?;
    output::emit(&merged, None, &dir, args.no_report, false)?;
    Ok(merged.exit())
}

/// The thresholds of the merged runs' scenario, when its file is at hand and still that
/// scenario; none otherwise.
fn scenario_thresholds(merged: &Measurement, registry: &Registry) -> Vec<Threshold> {
    let file = Path::new(&merged.scenario.file);
    match file.exists().then(|| scenario::load_with(file, registry)) {
        Some(Ok(plan)) if plan.name == merged.scenario.name => plan.thresholds,
        Some(Err(e)) => {
            eprintln!("perfgate: thresholds not checked, the scenario does not load: {e}");
            Vec::new()
        }
        _ => Vec::new(),
    }
}
