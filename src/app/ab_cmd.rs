//! `perfgate ab`: one scenario against two sides, A (the reference) and B (the change), in
//! randomized interleaved slices (`gate::paired::schedule`), so both see the same machine
//! noise. Each slice is a short measurement of the plan ([`measure`]) held at the scenario's
//! peak level; each side's slices fold into its totals (per-metric medians, the `--repeat`
//! fold); the paired comparison of B against A decides, with side B's thresholds. Writes the
//! same files as `run` (with side A overlaid in the charts) and returns the exit code.
//!
//! A side is a base URL (`--a`/`--b`), a registered function (`--a-call`/`--b-call`: every
//! `call:` request of the scenario calls it, with its own `params`), or both.

use std::path::PathBuf;
use std::time::Duration;

use super::measure::{measure, RunOptions, SignalWatch};
use super::{default_out, load_plan, output, AppError, ExitCode};
use crate::client::{preflight, Registry};
use crate::engine::StopSignal;
use crate::gate::pooled_tail::{self, Counts};
use crate::gate::{self, paired, CompareOptions};
use crate::result::fold::median_measurement;
use crate::result::histogram::decode_histogram;
use crate::result::{AbResult, AbSide, AbSlice, Measurement, Side, TOTAL_KEY};
use crate::scenario::units::{format_duration, TolMetric, TolValue};
use crate::scenario::{self, Action, Plan, Stage};

/// Default measured length of a slice.
pub(crate) const DEFAULT_SLICE: Duration = Duration::from_millis(1250);
/// Default discarded warm-up before each slice (a slice starts with fresh connections).
pub(crate) const DEFAULT_SLICE_WARMUP: Duration = Duration::from_millis(250);
/// Default pairs: 12 × 2 × 1.5 s = 36 s of load, so a comparison takes under 40 s. Twelve
/// pairs rather than seven longer ones: the p99 test is a vote of the pairs (a sign test),
/// which with 12 pairs can be significant with one pair against B (p = 0.3 %), while with 7
/// every pair must vote the same way (p = 0.8 %), so one noise burst would hide a regression.
pub(crate) const DEFAULT_PAIRS: usize = 12;

/// What `perfgate ab` was asked to do.
#[derive(Debug, Clone)]
pub(crate) struct AbArgs {
    pub(crate) scenario: PathBuf,
    /// Side A's base URL (the reference).
    pub(crate) a: Option<String>,
    /// Side B's base URL (the change under test).
    pub(crate) b: Option<String>,
    /// Side A's function: every `call:` request calls it.
    pub(crate) a_call: Option<String>,
    /// Side B's function.
    pub(crate) b_call: Option<String>,
    /// Measured length of each slice.
    pub(crate) slice: Duration,
    /// Discarded warm-up before each slice.
    pub(crate) warmup: Duration,
    /// Pairs of slices (one of each side per pair), at least 2.
    pub(crate) pairs: usize,
    /// Seed of the order in each pair; drawn from the clock (and printed) when absent.
    pub(crate) seed: Option<u64>,
    pub(crate) out: Option<PathBuf>,
    pub(crate) threads: Option<usize>,
    /// No progress lines (the seed is still printed).
    pub(crate) quiet: bool,
    pub(crate) no_report: bool,
    pub(crate) tolerances: Vec<(TolMetric, TolValue)>,
    /// Inconclusive metrics fail too.
    pub(crate) strict: bool,
    /// Handle Ctrl-C / SIGTERM (the binary does; tests do not): the first stops the slice
    /// that runs, and the comparison ends there, aborted (exit 3; the partial result is
    /// written when both sides have run a slice); the second exits at once.
    pub(crate) handle_signals: bool,
}

impl AbArgs {
    /// The defaults for `scenario`, with no side set yet.
    pub(crate) fn new(scenario: PathBuf) -> Self {
        AbArgs {
            scenario,
            a: None,
            b: None,
            a_call: None,
            b_call: None,
            slice: DEFAULT_SLICE,
            warmup: DEFAULT_SLICE_WARMUP,
            pairs: DEFAULT_PAIRS,
            seed: None,
            out: None,
            threads: None,
            quiet: false,
            no_report: false,
            tolerances: Vec::new(),
            strict: false,
            handle_signals: false,
        }
    }
}

/// One side, ready to measure: its plans (the warm-up and the slice), its base URL, and what
/// it is.
struct SidePlan {
    /// The warm-up before each slice, measured apart and discarded (`None` for no warm-up).
    /// Apart, because a run's own warm-up is counted in whole 1-second windows.
    warm: Option<Plan>,
    plan: Plan,
    base_url: Option<String>,
    label: String,
}

/// Runs the A/B comparison and returns the exit code.
pub(crate) fn ab(args: &AbArgs, registry: &Registry) -> Result<ExitCode, AppError> {
    if args.pairs < 2 {
        return Err(AppError::Input(
            "--pairs must be at least 2: the paired test needs two pairs to see the noise".into(),
        ));
    }
    if args.slice.is_zero() {
        return Err(AppError::Input("--slice must be longer than 0 s".into()));
    }
    if let Some((m, _)) = args
        .tolerances
        .iter()
        .find(|(m, _)| !paired::AB_METRICS.iter().any(|(c, _, _)| c == m))
    {
        return Err(AppError::Input(format!(
            "--tolerance {m}: perfgate ab compares p50, p99, throughput and error_rate only"
        )));
    }
    let plan = load_plan(&args.scenario, registry)?;
    let a = side_plan(
        &plan,
        Side::A,
        args.a.as_deref(),
        args.a_call.as_deref(),
        args,
        registry,
    )?;
    let b = side_plan(
        &plan,
        Side::B,
        args.b.as_deref(),
        args.b_call.as_deref(),
        args,
        registry,
    )?;
    let dir = args.out.clone().unwrap_or_else(|| default_out(&plan.name));
    output::check_writable(&dir)?;
    preflight_sides(&[(Side::A, &a), (Side::B, &b)], plan.target.timeout)?;

    let seed = args.seed.unwrap_or_else(clock_seed);
    // Printed even with --quiet: the seed is what repeats this comparison's order.
    eprintln!(
        "perfgate: A/B of {}: {} pairs of {} slices ({} warm-up each), seed {seed} (--seed {seed} repeats the order)",
        plan.name,
        args.pairs,
        format_duration(args.slice),
        format_duration(args.warmup)
    );
    let slots = paired::schedule(args.pairs, seed, args.slice, args.warmup);
    let Slices {
        measured,
        table: slices,
        tails,
        interrupted,
    } = run_slices(&slots, [&a, &b], args, registry)?;

    let fold = |side: Side| -> Result<Measurement, AppError> {
        let runs: Vec<Measurement> = measured
            .iter()
            .filter(|(s, _)| *s == side)
            .map(|(_, m)| m.clone())
            .collect();
        let mut m = median_measurement(&runs).ok_or_else(|| {
            AppError::Run(format!(
                "interrupted before side {} ran a slice; nothing to compare",
                side.name()
            ))
        })?;
        // The slices are listed under `ab`; this is not a `--repeat` run.
        m.repeat = None;
        Ok(m)
    };
    let (a_m, mut b_m) = (fold(Side::A)?, fold(Side::B)?);
    // A comparison cut short by a signal is aborted (exit 3), whatever its pairs say.
    b_m.aborted |= interrupted;
    let opts = CompareOptions::from_spec(&plan.baseline, &args.tolerances, args.strict);
    let metrics =
        paired::compare_slices(&slices, &tails, seed, |m| ab_tolerance(m, &args.tolerances));
    let verdict = paired::ab_verdict(&metrics, args.strict);
    let (reasons, notes) = paired::reasons_and_notes(&metrics, args.strict);
    let ab = AbResult {
        method: format!(
            "randomized interleaved slices (Abedi & Brecht, ICPE 2017); paired t on per-pair \
             log ratios B/A for p50 and throughput (error rate: differences in points), 95 % \
             t interval; p99 pooled over each side's slices, 95 % paired-bootstrap interval \
             ({} resamples of whole pairs); {} pairs",
            pooled_tail::RESAMPLES,
            args.pairs
        ),
        seed,
        pairs: args.pairs,
        slice_s: args.slice.as_secs_f64(),
        warmup_s: args.warmup.as_secs_f64(),
        order: paired::pair_orders(args.pairs, seed)
            .iter()
            .map(|o| if o[0] == Side::A { "ab" } else { "ba" }.to_string())
            .collect(),
        a: AbSide {
            target: a.label.clone(),
            totals: a_m.totals.clone(),
        },
        b: AbSide {
            target: b.label.clone(),
            totals: b_m.totals.clone(),
        },
        verdict,
        strict: args.strict,
        metrics,
        notes,
        slices,
    };
    let no_thresholds = CompareOptions::from_spec(&plan.baseline, &[], false);
    let a_result = gate::judge(a_m, &[], None, &no_thresholds);
    // Stage thresholds judge the scenario's load shape, which `ab` replaces by its slices.
    let whole_run: Vec<_> = plan
        .thresholds
        .iter()
        .filter(|t| t.stage.is_none())
        .cloned()
        .collect();
    let result = gate::judge(b_m, &whole_run, None, &opts);
    let result = paired::apply(result, ab, reasons);
    // Not verbose: the A/B table lists every metric, and there is no baseline comparison.
    output::emit(&result, Some(&a_result), &dir, args.no_report, false)?;
    Ok(result.exit())
}

/// What the slices measured: each slice's measurement with its side, the per-slice numbers
/// for `ab.slices`, each slice's successful latencies (for the pooled p99, in the order of
/// `table`), and whether a signal cut the schedule short.
struct Slices {
    measured: Vec<(Side, Measurement)>,
    table: Vec<AbSlice>,
    tails: Vec<Counts>,
    interrupted: bool,
}

/// Runs the slices of `slots` in order against `sides` (A, B), each after its warm-up; stops
/// at the first slice a signal interrupts.
fn run_slices(
    slots: &[paired::Slot],
    sides: [&SidePlan; 2],
    args: &AbArgs,
    registry: &Registry,
) -> Result<Slices, AppError> {
    let mut out = Slices {
        measured: Vec::new(),
        table: Vec::new(),
        tails: Vec::new(),
        interrupted: false,
    };
    for slot in slots {
        let side = sides[usize::from(slot.side == Side::B)];
        if !args.quiet {
            eprintln!(
                "perfgate: pair {}/{}: {}",
                slot.pair + 1,
                args.pairs,
                slot.side.name()
            );
        }
        let failed = |e| AppError::Run(format!("side {}: {e}", slot.side.name()));
        if let Some(warm) = &side.warm {
            if measure_watched(warm, side, args, registry)
                .map_err(failed)?
                .aborted
            {
                // Interrupted during the warm-up: the slice is not run.
                out.interrupted = true;
                break;
            }
        }
        let m = measure_watched(&side.plan, side, args, registry).map_err(failed)?;
        // A histogram that does not decode leaves the slice without latencies: its pair is
        // left out of the pooled p99 (and with fewer than two pairs, p99 has no data).
        out.tails.push(
            m.histograms
                .get(TOTAL_KEY)
                .and_then(|h| decode_histogram(h).ok())
                .map(|h| pooled_tail::counts(&h))
                .unwrap_or_default(),
        );
        let t = &m.totals;
        out.table.push(AbSlice {
            index: slot.index,
            pair: slot.pair,
            side: slot.side,
            started_at: m.started_at.clone(),
            requests: t.requests,
            p50_ms: t.latency_ms.p50,
            p99_ms: t.latency_ms.p99,
            throughput_rps: t.throughput_rps,
            error_rate: t.error_rate,
        });
        out.interrupted = m.aborted;
        out.measured.push((slot.side, m));
        if out.interrupted {
            break;
        }
    }
    Ok(out)
}

/// Measures `plan` against `side` once. A stop signal serves one run (the engine ends it at
/// the deadline), so each run gets its own, watched for Ctrl-C / SIGTERM while it runs.
fn measure_watched(
    plan: &Plan,
    side: &SidePlan,
    args: &AbArgs,
    registry: &Registry,
) -> Result<Measurement, super::RunError> {
    let stop = StopSignal::new();
    let _signals = args
        .handle_signals
        .then(|| SignalWatch::start(stop.clone()));
    let opts = RunOptions {
        threads: args.threads,
        base_url: side.base_url.clone(),
        stop,
        ..RunOptions::default()
    };
    measure(plan, registry, opts)
}

/// Side `side`'s plans: the scenario pointed at `url` and/or `call`, shaped as the warm-up and
/// as one slice (the scenario's peak level for each one's length).
fn side_plan(
    plan: &Plan,
    side: Side,
    url: Option<&str>,
    call: Option<&str>,
    args: &AbArgs,
    registry: &Registry,
) -> Result<SidePlan, AppError> {
    let flag = |s: &str| format!("--{}{s}", side.name().to_lowercase());
    if url.is_none() && call.is_none() {
        return Err(AppError::Input(format!(
            "side {} is not set\n  hint: give {} URL (and {} NAME for in-process functions)",
            side.name(),
            flag(""),
            flag("-call")
        )));
    }
    let mut plan = plan.clone();
    let mut label = Vec::new();
    if let Some(u) = url {
        if !plan.uses_http() {
            return Err(AppError::Input(format!(
                "{}: scenario `{}` sends no HTTP request\n  hint: compare functions with --a-call and --b-call",
                flag(""),
                plan.name
            )));
        }
        let redacted = scenario::apply_base_url(&mut plan, u).map_err(|p| {
            AppError::Input(format!("{}: {}\n  hint: {}", flag(""), p.message, p.hint))
        })?;
        label.push(redacted);
    }
    if let Some(name) = call {
        if !registry.names().contains(&name) {
            return Err(AppError::Input(format!(
                "{}: no function `{name}` is registered\n  hint: registered functions: {}",
                flag("-call"),
                registry.names().join(", ")
            )));
        }
        let mut calls = 0;
        for r in &mut plan.requests {
            if let Action::Call(c) = &mut r.action {
                c.function = name.to_string();
                calls += 1;
            }
        }
        if calls == 0 {
            return Err(AppError::Input(format!(
                "{}: scenario `{}` has no `call:` request to point at `{name}`",
                flag("-call"),
                plan.name
            )));
        }
        label.push(format!("call:{name}"));
    }
    let base_url = url.map(|u| u.trim_end_matches('/').to_string());
    let shaped = |length: Duration| {
        let mut p = plan.clone();
        p.load.warmup = Duration::ZERO;
        p.load.stages = vec![Stage {
            level: plan.load.peak(),
            duration: length,
            ramp: Duration::ZERO,
        }];
        p.stage_names = vec![None];
        p.thresholds.retain(|t| t.stage.is_none());
        p
    };
    Ok(SidePlan {
        warm: (!args.warmup.is_zero()).then(|| shaped(args.warmup)),
        plan: shaped(args.slice),
        base_url,
        label: label.join(" "),
    })
}

/// Checks before any load that every HTTP side accepts a connection (exit 3 otherwise).
fn preflight_sides(sides: &[(Side, &SidePlan)], timeout: Duration) -> Result<(), AppError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| AppError::Run(format!("cannot start the runtime: {e}")))?;
    for (side, s) in sides {
        if let Some(url) = &s.base_url {
            rt.block_on(preflight(url, timeout))
                .map_err(|e| AppError::Run(format!("side {}: {e}", side.name())))?;
        }
    }
    Ok(())
}

/// A seed from the clock, small enough to read and type back.
fn clock_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64 % 1_000_000_000)
        .unwrap_or(1)
}

/// The tolerance A/B holds B's change against: `--tolerance` when given, else [`AB_TOLERANCE`]
/// for latency and throughput (the error rate keeps its usual default in points). The
/// scenario's `baseline.tolerance` is for a stored baseline taken at another time, which must
/// absorb run-to-run drift; interleaved pairs cancel that drift, so the paired interval is
/// narrow (about ±1.5 % for p50 at 7 pairs of 2 s) and a tighter tolerance still never
/// fails A against A while catching a +10 % B.
fn ab_tolerance(m: TolMetric, overrides: &[(TolMetric, TolValue)]) -> TolValue {
    if let Some((_, v)) = overrides.iter().rev().find(|(o, _)| *o == m) {
        return *v;
    }
    match m {
        TolMetric::ErrorRate => m.default_tolerance(),
        _ => TolValue::Percent(AB_TOLERANCE),
    }
}

/// The default A/B tolerance for latency and throughput, in percent.
const AB_TOLERANCE: f64 = 5.0;

#[cfg(test)]
mod tolerance_tests {
    use super::*;

    #[test]
    fn ab_tolerates_5_percent_unless_told_otherwise() {
        assert_eq!(ab_tolerance(TolMetric::P50, &[]), TolValue::Percent(5.0));
        assert_eq!(
            ab_tolerance(TolMetric::Throughput, &[]),
            TolValue::Percent(5.0)
        );
        assert_eq!(
            ab_tolerance(TolMetric::ErrorRate, &[]),
            TolMetric::ErrorRate.default_tolerance()
        );
        let given = [(TolMetric::P99, TolValue::Percent(20.0))];
        assert_eq!(
            ab_tolerance(TolMetric::P99, &given),
            TolValue::Percent(20.0)
        );
        assert_eq!(ab_tolerance(TolMetric::P50, &given), TolValue::Percent(5.0));
    }
}
