//! The gate: everything that decides whether a run passes. It owns absolute thresholds
//! ([`thresholds`]), baseline files ([`baseline`]: load, atomic save, refresh guard), the
//! comparison against a baseline with tolerances and a noise test ([`compare`](mod@compare), [`stats`]),
//! folding `--repeat N` runs into medians ([`repeat`]), and the verdict with its exit code.
//! Reporters render what the gate decided; they never decide anything themselves.
//!
//! The usual sequence, for a finished run: [`judge`] (thresholds, then the comparison when a
//! baseline is given, then the verdict). To refresh a baseline: [`check_refreshable`],
//! [`Baseline::from_result`], [`describe_change`], [`save_atomic`].

pub mod baseline;
pub mod compare;
pub mod reasons;
pub mod repeat;
pub mod stats;
pub mod thresholds;

pub use baseline::{
    check_refreshable, default_path, describe_change, load, save_atomic, Baseline, BaselineError,
    Provenance, RefreshRefused, BASELINE_SCHEMA,
};
pub use compare::{compare, env_mismatch, CompareOptions};
pub use reasons::reasons;
pub use repeat::median_result;
pub use stats::{mann_whitney, MannWhitney, Significance, DEFAULT_ALPHA};
pub use thresholds::{
    apply_verdict, evaluate, no_success, verdict, EXIT_ABORTED, EXIT_FAIL, EXIT_PASS,
};

use crate::result::RunResult;
use crate::scenario::Threshold;

/// Judges a finished run in place: evaluates `thresholds`, compares against `baseline` when
/// one is given, then sets `verdict`, `exit_code` and `reasons` (an aborted run stays
/// aborted, exit 3; a run in which no request succeeded fails, whatever `thresholds` say).
pub fn judge(
    result: &mut RunResult,
    thresholds: &[Threshold],
    baseline: Option<&Baseline>,
    opts: &CompareOptions,
) {
    result.thresholds = evaluate(thresholds, result);
    result.comparison = baseline.map(|b| compare(result, b, opts));
    apply_verdict(result, opts.strict);
}
