//! A [`Measurement`]: everything a run measured and nothing judged. The measure step (and
//! every fold of runs: `merge`, `--repeat` medians) produces one; the gate turns it into a
//! [`RunResult`] (`gate::judge`), the only way the library makes one. A `RunResult` read
//! from a file gives its measurement back with [`RunResult::into_measurement`], to be judged
//! afresh.

use std::collections::BTreeMap;

use super::{
    Comparison, EarlyStop, ErrorSample, GeneratorHealth, HostInfo, Metrics, RepeatInfo, RunResult,
    ScenarioInfo, SegmentInfo, SeriesPoint, StageResult, ThresholdResult, ToolInfo, Verdict,
    Window, RESULT_SCHEMA,
};
use crate::exit::ExitCode;

/// What a run measured: the fields of `result.json` other than the judgement (verdict, exit
/// code, thresholds, comparison, reasons). Field meanings are those of [`RunResult`].
#[doc(hidden)]
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    pub tool: ToolInfo,
    pub scenario: ScenarioInfo,
    pub host: HostInfo,
    pub started_at: String,
    pub duration_s: f64,
    /// The run was stopped before its end (a signal): its numbers are partial, and it judges
    /// to `aborted` (exit 3) whatever the gates say.
    pub aborted: bool,
    pub totals: Metrics,
    pub warmup: Option<Metrics>,
    pub requests: BTreeMap<String, Metrics>,
    pub stages: Vec<StageResult>,
    pub timeseries: Vec<Window>,
    pub request_series: BTreeMap<String, Vec<SeriesPoint>>,
    pub histograms: BTreeMap<String, String>,
    pub error_samples: Vec<ErrorSample>,
    pub warnings: Vec<String>,
    pub run_id: String,
    pub repeat: Option<RepeatInfo>,
    /// The run stopped itself before its end (`abort: true`, `abort_when_unreachable`): it
    /// judges to `fail` (exit 1) whatever its thresholds say.
    pub stopped_early: Option<EarlyStop>,
    pub segment: Option<SegmentInfo>,
    pub generators: Vec<GeneratorHealth>,
}

/// What the gate decided about a [`Measurement`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Judgement {
    pub verdict: Verdict,
    pub thresholds: Vec<ThresholdResult>,
    pub comparison: Option<Comparison>,
    pub reasons: Vec<String>,
}

impl RunResult {
    /// A measurement with its judgement: what `gate::judge` returns. The exit code follows
    /// from the verdict. Both sides are taken apart field by field, so a field added to one
    /// and not the other does not compile.
    pub(crate) fn judged(m: Measurement, j: Judgement) -> RunResult {
        let Measurement {
            tool,
            scenario,
            host,
            started_at,
            duration_s,
            aborted: _,
            totals,
            warmup,
            requests,
            stages,
            timeseries,
            request_series,
            histograms,
            error_samples,
            warnings,
            run_id,
            repeat,
            stopped_early,
            segment,
            generators,
        } = m;
        let Judgement {
            verdict,
            thresholds,
            comparison,
            reasons,
        } = j;
        RunResult {
            schema: RESULT_SCHEMA.to_string(),
            tool,
            scenario,
            host,
            started_at,
            duration_s,
            verdict,
            exit_code: ExitCode::of(verdict).code(),
            totals,
            warmup,
            requests,
            stages,
            timeseries,
            request_series,
            histograms,
            error_samples,
            reasons,
            warnings,
            run_id,
            thresholds,
            comparison,
            repeat,
            ab: None,
            stopped_early,
            segment,
            generators,
        }
    }

    /// The measurement inside this result, its judgement dropped (an aborted verdict stays
    /// as [`Measurement::aborted`]).
    #[doc(hidden)]
    pub fn into_measurement(self) -> Measurement {
        self.into_parts().0
    }

    /// The measurement and the judgement of this result.
    pub(crate) fn into_parts(self) -> (Measurement, Judgement) {
        let RunResult {
            schema: _,
            tool,
            scenario,
            host,
            started_at,
            duration_s,
            verdict,
            exit_code: _,
            totals,
            warmup,
            requests,
            stages,
            timeseries,
            request_series,
            histograms,
            error_samples,
            reasons,
            warnings,
            run_id,
            thresholds,
            comparison,
            repeat,
            ab: _,
            stopped_early,
            segment,
            generators,
        } = self;
        let m = Measurement {
            tool,
            scenario,
            host,
            started_at,
            duration_s,
            aborted: verdict == Verdict::Aborted,
            totals,
            warmup,
            requests,
            stages,
            timeseries,
            request_series,
            histograms,
            error_samples,
            warnings,
            run_id,
            repeat,
            stopped_early,
            segment,
            generators,
        };
        let j = Judgement {
            verdict,
            thresholds,
            comparison,
            reasons,
        };
        (m, j)
    }

    /// A copy of the measurement inside this result.
    #[doc(hidden)]
    pub fn measurement(&self) -> Measurement {
        self.clone().into_measurement()
    }

    /// The exit code this result stands for.
    pub fn exit(&self) -> ExitCode {
        ExitCode::of(self.verdict)
    }
}
