//! `perfgate merge`: several results of one scenario, run at the same time from different load
//! generators, as one result, judged exactly as `run` judges one generator's: the scenario's
//! thresholds, the baseline comparison, the reasons, the reports and the exit code (so the
//! merge is the CI gate of a distributed run). The same file twice, the same run or segment
//! twice, segments of different runs, a missing segment (unless `--partial`) and runs that
//! did not overlap in time (unless `--allow-disjoint`) are refused (exit 2).

use std::path::{Path, PathBuf};

use super::{
    asked_testbed, default_out, find_baseline, load_result, output, strict_env_check, AppError,
    ExitCode,
};
use crate::client::Registry;
use crate::gate::{self, Baseline, CompareOptions};
use crate::result::fold::{self, check_mergeable, MergeChecks, MergeRefusal};
use crate::result::Measurement;
use crate::scenario::units::{TolMetric, TolValue};
use crate::scenario::{self, Plan};

#[derive(Debug, Clone, Default)]
pub(crate) struct MergeArgs {
    pub results: Vec<PathBuf>,
    /// Default: `reports/<scenario-name>-merged`.
    pub out: Option<PathBuf>,
    pub no_report: bool,
    /// Merge runs that did not overlap in time (the same run twice is still refused).
    pub allow_disjoint: bool,
    /// Merge the segments at hand when some are missing (the result says which).
    pub partial: bool,
    /// The scenario to judge with (default: the file the results name).
    pub scenario: Option<PathBuf>,
    pub no_baseline: bool,
    pub baseline: Option<PathBuf>,
    pub tolerances: Vec<(TolMetric, TolValue)>,
    pub strict: bool,
    pub strict_env: bool,
    /// The testbed of the merged run (`None`: `PERFGATE_TESTBED`, else derived from the
    /// first generator's machine).
    pub testbed: Option<String>,
    /// List unchanged compared metrics too.
    pub verbose: bool,
}

pub(crate) fn merge(args: &MergeArgs, registry: &Registry) -> Result<ExitCode, AppError> {
    let files = result_files(&args.results)?;
    refuse_same_file(&files)?;
    let runs = files
        .iter()
        .map(|p| load_result(p).map(|r| r.into_measurement()))
        .collect::<Result<Vec<_>, _>>()?;
    let checks = MergeChecks {
        allow_disjoint: args.allow_disjoint,
        partial: args.partial,
    };
    let findings = check_mergeable(&runs, checks).map_err(|e| refusal(e, &files))?;
    let mut merged = fold::merge(&runs).map_err(|e| AppError::Input(e.to_string()))?;
    merged.warnings.extend(findings.note());
    let plan = scenario_of(&merged, args.scenario.as_deref(), registry)?;
    if plan.is_none() {
        merged.warnings.push(format!(
            "thresholds and baseline not judged: the scenario file `{}` is not here \
             (pass it with --scenario FILE)",
            merged.scenario.file
        ));
    }
    let testbed = match asked_testbed(args.testbed.as_deref())? {
        Some(t) => t,
        None => gate::derive_testbed(&runs[0].host),
    };
    let baseline = baseline_for(plan.as_ref(), args, &testbed)?;
    let (thresholds, spec) = match &plan {
        Some(p) => (p.thresholds.clone(), p.baseline.clone()),
        None => Default::default(),
    };
    let opts =
        CompareOptions::from_spec(&spec, &args.tolerances, args.strict).on_testbed(Some(testbed));
    let merged = gate::judge(merged, &thresholds, baseline.as_ref(), &opts);
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| default_out(&format!("{}-merged", merged.scenario.name)));
    output::check_writable(&dir)?;
    output::emit(
        &merged,
        baseline.as_ref().map(|b: &Baseline| &b.result),
        &dir,
        args.no_report,
        args.verbose,
    )?;
    if args.strict_env {
        strict_env_check(&merged, "the generators")?;
    }
    Ok(merged.exit())
}

/// The result files named: a file as given; a folder gives its `result.json` and those of
/// its subfolders (`segment-1/result.json`, ...), so a shared volume can be merged without a
/// shell to expand a pattern. At least two are needed.
fn result_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, AppError> {
    let mut out = Vec::new();
    for p in paths {
        if !p.is_dir() {
            out.push(p.clone());
            continue;
        }
        let mut found: Vec<PathBuf> = std::fs::read_dir(p)
            .map_err(|e| AppError::Input(format!("{}: cannot read the folder: {e}", p.display())))?
            .filter_map(|e| e.ok().map(|e| e.path().join("result.json")))
            .chain(std::iter::once(p.join("result.json")))
            .filter(|f| f.is_file())
            .collect();
        if found.is_empty() {
            return Err(AppError::Input(format!(
                "{}: no result.json in this folder or its subfolders",
                p.display()
            )));
        }
        found.sort();
        out.extend(found);
    }
    if out.len() < 2 {
        return Err(AppError::Input(format!(
            "merging needs at least two results; found {}",
            out.iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(out)
}

/// The same file named twice (however it is spelled) is one generator counted twice.
fn refuse_same_file(paths: &[PathBuf]) -> Result<(), AppError> {
    let key = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    for (i, p) in paths.iter().enumerate() {
        if let Some(q) = paths[..i].iter().find(|q| key(q) == key(p)) {
            return Err(AppError::Input(format!(
                "cannot merge: {} and {} are the same file; each generator's result is merged once",
                q.display(),
                p.display()
            )));
        }
    }
    Ok(())
}

/// A refusal as the user reads it: the files named, and what to do.
fn refusal(e: MergeRefusal, files: &[PathBuf]) -> AppError {
    let file = |n: usize| {
        files
            .get(n.wrapping_sub(1))
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    };
    AppError::Input(match &e {
        MergeRefusal::DifferentScenarios(m) => m.clone(),
        MergeRefusal::Disjoint { .. } => format!(
            "cannot merge: {e}\n  hint: merge results of generators that ran at the same time (--start-at), or pass --allow-disjoint"
        ),
        MergeRefusal::MixedRunIds { first, other, .. } => format!(
            "cannot merge: {e} ({} and {})\n  hint: start the generators of one run with the same --start-at (or --run-id)",
            file(*first),
            file(*other)
        ),
        MergeRefusal::SameSegment { first, second, .. } => format!(
            "cannot merge: {e} ({} and {})",
            file(*first),
            file(*second)
        ),
        MergeRefusal::NotASegment { index } => format!(
            "cannot merge: {e} ({} is not a segment: a merged result, or a run without \
             --segment)",
            file(*index)
        ),
        MergeRefusal::MissingSegments { .. } => format!(
            "cannot merge: {e}\n  hint: pass every generator's result.json, or --partial to merge those at hand (the result says which are missing)"
        ),
        _ => format!("cannot merge: {e}"),
    })
}

/// The scenario to judge the merged run with: `--scenario` (which must be the one that
/// ran), else the file the results name when it is here and still that scenario.
fn scenario_of(
    merged: &Measurement,
    explicit: Option<&Path>,
    registry: &Registry,
) -> Result<Option<Plan>, AppError> {
    if let Some(path) = explicit {
        let plan = scenario::load_with(path, registry)?;
        if plan.name != merged.scenario.name || plan.hash != merged.scenario.hash {
            return Err(AppError::Input(format!(
                "--scenario {}: this is not the scenario the generators ran (`{}`, hash {}); \
                 its thresholds would judge another test",
                path.display(),
                merged.scenario.name,
                merged
                    .scenario
                    .hash
                    .get(..12)
                    .unwrap_or(&merged.scenario.hash)
            )));
        }
        return Ok(Some(plan));
    }
    let file = Path::new(&merged.scenario.file);
    match file.exists().then(|| scenario::load_with(file, registry)) {
        Some(Ok(plan)) if plan.name == merged.scenario.name => Ok(Some(plan)),
        Some(Err(e)) => {
            eprintln!("perfgate: thresholds not checked, the scenario does not load: {e}");
            Ok(None)
        }
        _ => Ok(None),
    }
}

/// The baseline of the merged run, as `run` finds one: `--baseline`, else the scenario's
/// for the testbed; none with `--no-baseline`.
fn baseline_for(
    plan: Option<&Plan>,
    args: &MergeArgs,
    testbed: &str,
) -> Result<Option<Baseline>, AppError> {
    if args.no_baseline {
        return Ok(None);
    }
    let Some(plan) = plan else {
        return match &args.baseline {
            Some(p) => Ok(Some(gate::load(p)?)),
            None => Ok(None),
        };
    };
    let default = gate::locate(&plan.name, &plan.baseline, testbed);
    find_baseline(args.baseline.as_deref(), default, &plan.name)
}
