//! `perfgate compare` (a saved result against a baseline, without running) and
//! `perfgate report` (regenerate the report files from a saved result).

use std::path::{Path, PathBuf};

use super::{
    asked_testbed, find_baseline, load_result, output, strict_env_check, AppError, ExitCode,
};
use crate::client::Registry;
use crate::gate::{self, CompareOptions};
use crate::result::Verdict;
use crate::scenario::units::{TolMetric, TolValue};
use crate::scenario::{self, BaselineSpec};

#[derive(Debug, Clone, Default)]
pub(crate) struct CompareArgs {
    pub result: PathBuf,
    pub baseline: Option<PathBuf>,
    pub tolerances: Vec<(TolMetric, TolValue)>,
    pub strict: bool,
    pub strict_env: bool,
    /// The testbed of the result (`None`: `PERFGATE_TESTBED`, else derived from the result's
    /// host).
    pub testbed: Option<String>,
    /// Also write the report files here.
    pub out: Option<PathBuf>,
    /// List unchanged compared metrics too.
    pub verbose: bool,
}

/// Compares and returns the exit code: 0 no regression, 1 regression, 2 bad input.
pub(crate) fn compare(args: &CompareArgs, registry: &Registry) -> Result<ExitCode, AppError> {
    let result = load_result(&args.result)?;
    if let Some(dir) = &args.out {
        output::check_writable(dir)?;
    }
    if result.verdict == Verdict::Aborted {
        return Err(AppError::Input(format!(
            "{}: the run was aborted; its numbers are partial and not compared",
            args.result.display()
        )));
    }
    // The scenario's own `baseline:` section (tolerances, file) when its file is still there.
    let spec = scenario_spec(&result.scenario.file, &result.scenario.name, registry);
    // The testbed asked for; else the one the result was judged on; else its host's.
    let judged_on = result
        .comparison
        .as_ref()
        .map(|c| c.testbed.clone())
        .filter(|t| !t.is_empty());
    let testbed = asked_testbed(args.testbed.as_deref())?
        .or(judged_on)
        .unwrap_or_else(|| gate::derive_testbed(&result.host));
    let default = gate::locate(&result.scenario.name, &spec, &testbed);
    let explicit = args.baseline.as_deref();
    let baseline = find_baseline(explicit, default.clone(), &result.scenario.name)?.ok_or_else(|| {
        AppError::Input(format!(
            "no baseline at {}\n  hint: pass one with --baseline FILE, or take one with `perfgate baseline refresh`",
            default.display()
        ))
    })?;
    let opts =
        CompareOptions::from_spec(&spec, &args.tolerances, args.strict).on_testbed(Some(testbed));
    // Thresholds were judged when the result was made; keep them, redo the comparison.
    let result = gate::rejudge(result, &baseline, &opts);
    let dir = args.out.clone();
    output::emit_to(
        &result,
        Some(&baseline.result),
        dir.as_deref(),
        dir.is_none(),
        args.verbose,
    )?;
    if args.strict_env {
        strict_env_check(&result, "this result's machine")?;
    }
    Ok(result.exit())
}

fn scenario_spec(file: &str, name: &str, registry: &Registry) -> BaselineSpec {
    let path = Path::new(file);
    if !path.exists() {
        return BaselineSpec::default();
    }
    match scenario::load_with(path, registry) {
        Ok(plan) if plan.name == name => plan.baseline,
        Ok(_) => BaselineSpec::default(),
        Err(e) => {
            eprintln!("perfgate: not using the scenario's tolerances: {e}");
            BaselineSpec::default()
        }
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct ReportArgs {
    pub result: PathBuf,
    pub baseline: Option<PathBuf>,
    pub out: Option<PathBuf>,
}

/// Regenerates the HTML and PNG reports (and the rest) from a saved result.
pub(crate) fn report(args: &ReportArgs) -> Result<ExitCode, AppError> {
    let result = load_result(&args.result)?;
    let baseline = match &args.baseline {
        Some(p) => Some(gate::load(p)?.result),
        None => None,
    };
    let dir = args.out.clone().unwrap_or_else(|| {
        args.result
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    });
    output::check_writable(&dir)?;
    let written = output::write_visual(&result, baseline.as_ref(), &dir)?;
    for p in written {
        println!("wrote {}", p.display());
    }
    Ok(ExitCode::Pass)
}
