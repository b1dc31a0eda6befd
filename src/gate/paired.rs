//! The statistics of `perfgate ab`: the randomized interleaved schedule of slices (which side
//! runs first in each pair, drawn from a seeded generator; where each slice starts, warms up
//! and is measured) and the paired test on the per-pair differences of log metrics, with a
//! confidence interval for the ratio B/A held against a tolerance (tri-state: regressed /
//! unchanged / inconclusive, or improved). p99 is compared from pooled requests instead
//! (`gate::pooled_tail`).
//!
//! The design follows randomized multiple interleaved trials (Abedi & Brecht, ICPE 2017):
//! both sides see the same machine noise, because their slices alternate in random order,
//! and each pair of slices is one replicate.

use std::time::Duration;

use super::pooled_tail::{compare_tail, judge_tail, min_tail_pairs, Counts};
use crate::exit::ExitCode;
use crate::result::{
    AbMetric, AbResult, AbSlice, ComparisonVerdict, MetricVerdict, RunResult, Side, Verdict,
};
use crate::scenario::units::{TolMetric, TolValue};

/// One slice of the schedule: a short measurement of the plan against one side.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Slot {
    /// Position in the whole schedule, from 0.
    pub(crate) index: usize,
    /// The pair it belongs to, from 0.
    pub(crate) pair: usize,
    pub(crate) side: Side,
    /// Planned start, from the start of the comparison.
    pub(crate) start: Duration,
    /// Planned start of the measured part (after the discarded warm-up).
    pub(crate) measured_from: Duration,
    /// Planned end.
    pub(crate) end: Duration,
}

/// A small seeded generator (splitmix64): the order of each pair follows from the seed alone,
/// so a printed seed reproduces a comparison's schedule.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix(u64);

impl SplitMix {
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// The order of each of `pairs` pairs, drawn from `seed`: `[A, B]` or `[B, A]`.
pub(crate) fn pair_orders(pairs: usize, seed: u64) -> Vec<[Side; 2]> {
    let mut rng = SplitMix::new(seed);
    (0..pairs)
        .map(|_| {
            if rng.next_u64() >> 63 == 0 {
                [Side::A, Side::B]
            } else {
                [Side::B, Side::A]
            }
        })
        .collect()
}

/// The whole schedule: `pairs` pairs of slices, each slice `warmup` (discarded) then `slice`
/// (measured), back to back, the order within each pair from `seed`. Both sides get `pairs`
/// slices each, and no two slices overlap.
pub(crate) fn schedule(pairs: usize, seed: u64, slice: Duration, warmup: Duration) -> Vec<Slot> {
    let step = slice + warmup;
    pair_orders(pairs, seed)
        .into_iter()
        .enumerate()
        .flat_map(|(pair, order)| {
            order.into_iter().enumerate().map(move |(i, side)| {
                let index = pair * 2 + i;
                let start = step * index as u32;
                Slot {
                    index,
                    pair,
                    side,
                    start,
                    measured_from: start + warmup,
                    end: start + step,
                }
            })
        })
        .collect()
}

/// Which way of a metric is worse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Worse {
    /// Latency: B higher than A is worse. Compared as log ratios.
    Higher,
    /// Throughput: B lower than A is worse. Compared as log ratios.
    Lower,
    /// Error rate: B higher is worse, compared as differences in percentage points (a rate
    /// of 0 has no logarithm).
    HigherPoints,
}

/// The paired estimate of one metric: the mean per-pair difference and its 95 % confidence
/// interval, on the metric's natural scale (a ratio B/A, or points for the error rate).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PairedEstimate {
    /// Pairs with data on both sides.
    pub(crate) pairs: usize,
    /// B/A (geometric mean of the per-pair ratios), or B − A in points.
    pub(crate) estimate: f64,
    pub(crate) ci_low: f64,
    pub(crate) ci_high: f64,
}

/// The two-sided 95 % quantile of Student's t with `df` degrees of freedom: a table up to 30,
/// the Cornish–Fisher expansion beyond (within 0.001 there).
pub(crate) fn t975(df: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    if (1..=30).contains(&df) {
        return TABLE[df - 1];
    }
    let z: f64 = 1.959_964;
    let n = df.max(1) as f64;
    z + (z.powi(3) + z) / (4.0 * n)
        + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * n * n)
}

/// Mean and 95 % t interval of `d` (at least two values), as (mean, low, high).
fn t_interval(d: &[f64]) -> Option<(f64, f64, f64)> {
    let n = d.len();
    if n < 2 {
        return None;
    }
    let mean = d.iter().sum::<f64>() / n as f64;
    let var = d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let half = t975(n - 1) * (var / n as f64).sqrt();
    Some((mean, mean - half, mean + half))
}

/// The paired estimate of B against A from per-pair values `(a, b)`. Pairs where either side
/// has no usable value (a latency or throughput of 0: no successful response) are left out;
/// `None` when fewer than two pairs remain.
pub(crate) fn paired(values: &[(f64, f64)], worse: Worse) -> Option<PairedEstimate> {
    let d: Vec<f64> = match worse {
        Worse::Higher | Worse::Lower => values
            .iter()
            .filter(|(a, b)| *a > 0.0 && *b > 0.0 && a.is_finite() && b.is_finite())
            .map(|(a, b)| b.ln() - a.ln())
            .collect(),
        Worse::HigherPoints => values
            .iter()
            .filter(|(a, b)| a.is_finite() && b.is_finite())
            .map(|(a, b)| (b - a) * 100.0)
            .collect(),
    };
    let (mean, low, high) = t_interval(&d)?;
    Some(match worse {
        Worse::HigherPoints => PairedEstimate {
            pairs: d.len(),
            estimate: mean,
            ci_low: low,
            ci_high: high,
        },
        _ => PairedEstimate {
            pairs: d.len(),
            estimate: mean.exp(),
            ci_low: low.exp(),
            ci_high: high.exp(),
        },
    })
}

/// Judges an estimate against a tolerance (a fraction for ratios, e.g. 0.10; points for the
/// error rate): regressed when the whole interval lies beyond the tolerance on the worse side;
/// improved when it lies beyond it on the better side; unchanged when it lies within the
/// tolerance on the worse side; inconclusive when it straddles the tolerance.
pub(crate) fn judge(e: &PairedEstimate, worse: Worse, tolerance: f64) -> MetricVerdict {
    // Badness on a scale where larger is worse, and the limit on that scale.
    let (low, high, limit) = match worse {
        Worse::Higher => (e.ci_low.ln(), e.ci_high.ln(), (1.0 + tolerance).ln()),
        Worse::Lower => (
            -e.ci_high.ln(),
            -e.ci_low.ln(),
            -(1.0 - tolerance.min(0.99)).ln(),
        ),
        Worse::HigherPoints => (e.ci_low, e.ci_high, tolerance),
    };
    if low > limit {
        MetricVerdict::Regressed
    } else if high < -limit {
        MetricVerdict::Improved
    } else if high <= limit {
        MetricVerdict::Unchanged
    } else {
        MetricVerdict::Inconclusive
    }
}

/// The metrics `perfgate ab` compares, how each is read from a slice, and which way is worse.
pub(crate) const AB_METRICS: [(TolMetric, &str, Worse); 4] = [
    (TolMetric::P50, "ms", Worse::Higher),
    (TolMetric::P99, "ms", Worse::Higher),
    (TolMetric::Throughput, "rps", Worse::Lower),
    (TolMetric::ErrorRate, "ratio", Worse::HigherPoints),
];

fn slice_value(s: &AbSlice, m: TolMetric) -> f64 {
    match m {
        TolMetric::P50 => s.p50_ms,
        TolMetric::P99 => s.p99_ms,
        TolMetric::Throughput => s.throughput_rps,
        _ => s.error_rate,
    }
}

/// The median of `v` (0 when empty).
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Compares B against A over `slices` (each pair's A and B slice matched by `pair`), one row
/// per compared metric, each judged against `tolerance(metric)`. p50, throughput and the error
/// rate are paired per pair ([`paired`]); p99 is pooled: each side's p99 over all the
/// successful latencies of its slices (`tails`, one entry per slice in the order of `slices`),
/// with a paired-bootstrap interval seeded with `seed` ([`pooled_tail`]). A metric with fewer
/// than two pairs holding data on both sides (no successful response in a slice) is `no_data`.
pub(crate) fn compare_slices(
    slices: &[AbSlice],
    tails: &[Counts],
    seed: u64,
    tolerance: impl Fn(TolMetric) -> TolValue,
) -> Vec<AbMetric> {
    let pairs = slices.iter().map(|s| s.pair + 1).max().unwrap_or(0);
    let of = |side: Side, pair: usize| slices.iter().find(|s| s.side == side && s.pair == pair);
    let none = Counts::new();
    let tail_of = |side: Side, pair: usize| {
        slices
            .iter()
            .position(|s| s.side == side && s.pair == pair)
            .and_then(|i| tails.get(i))
            .unwrap_or(&none)
    };
    let tail_pairs: Vec<(&Counts, &Counts)> = (0..pairs)
        .filter(|&p| of(Side::A, p).is_some() && of(Side::B, p).is_some())
        .map(|p| (tail_of(Side::A, p), tail_of(Side::B, p)))
        .collect();
    AB_METRICS
        .iter()
        .map(|&(metric, unit, worse)| {
            let values: Vec<(f64, f64)> = (0..pairs)
                .filter_map(|p| Some((of(Side::A, p)?, of(Side::B, p)?)))
                .map(|(a, b)| (slice_value(a, metric), slice_value(b, metric)))
                .collect();
            let side_median = |side: Side| {
                median(
                    slices
                        .iter()
                        .filter(|s| s.side == side)
                        .map(|s| slice_value(s, metric))
                        .collect(),
                )
            };
            let tol = tolerance(metric);
            let tol_value = match tol {
                TolValue::Percent(p) => p / 100.0,
                TolValue::Points(p) => p,
            };
            let mut row = AbMetric {
                metric: metric.name().to_string(),
                unit: unit.to_string(),
                a: side_median(Side::A),
                b: side_median(Side::B),
                change: 0.0,
                ci_low: 0.0,
                ci_high: 0.0,
                tolerance: tol.to_string(),
                pairs: 0,
                verdict: MetricVerdict::NoData,
                p_value: None,
            };
            let mut tail_verdict = None;
            let estimate = if metric == TolMetric::P99 {
                compare_tail(&tail_pairs, 0.99, seed).map(|t| {
                    // The pooled p99s themselves, in ms: what the estimate is the ratio of.
                    (row.a, row.b) = (t.a_us as f64 / 1e3, t.b_us as f64 / 1e3);
                    tail_verdict = Some(judge_tail(&t, tol_value));
                    row.p_value = Some(t.p_heavier);
                    t.estimate
                })
            } else {
                paired(&values, worse)
            };
            if let Some(e) = estimate {
                let pct = |x: f64| (x - 1.0) * 100.0;
                (row.change, row.ci_low, row.ci_high) = match worse {
                    Worse::HigherPoints => (e.estimate, e.ci_low, e.ci_high),
                    _ => (pct(e.estimate), pct(e.ci_low), pct(e.ci_high)),
                };
                row.pairs = e.pairs;
                row.verdict = tail_verdict.unwrap_or_else(|| judge(&e, worse, tol_value));
            }
            row
        })
        .collect()
}

/// How B's change of one metric reads: `B p50 +11.8 % [+9.6 %, +14.1 %]`.
pub(crate) fn describe(m: &AbMetric) -> String {
    if m.verdict == MetricVerdict::NoData {
        return format!(
            "B {}: no data (fewer than 2 pairs with a successful response on both sides)",
            m.metric
        );
    }
    let u = if m.unit == "ratio" { " pp" } else { " %" };
    format!(
        "B {} {:+.1}{u} [{:+.1}{u}, {:+.1}{u}]",
        m.metric, m.change, m.ci_low, m.ci_high
    )
}

/// The A/B comparison's verdict: fail when a metric regressed or had no data, or (strict) was
/// inconclusive.
pub(crate) fn ab_verdict(metrics: &[AbMetric], strict: bool) -> ComparisonVerdict {
    let fails = |v: MetricVerdict| {
        matches!(v, MetricVerdict::Regressed | MetricVerdict::NoData)
            || (strict && v == MetricVerdict::Inconclusive)
    };
    if metrics.iter().any(|m| fails(m.verdict)) {
        ComparisonVerdict::Fail
    } else {
        ComparisonVerdict::Pass
    }
}

/// A p-value as a percentage that keeps its first significant digit: `1.9 %`, `0.02 %`.
fn pct(p: f64) -> String {
    let x = p * 100.0;
    if x >= 1.0 {
        format!("{x:.1} %")
    } else if x >= 0.1 {
        format!("{x:.2} %")
    } else {
        format!("{x:.3} %")
    }
}

/// What to say about each metric that was not plainly unchanged: the reasons that fail the
/// run (first), and notes for the rest.
pub(crate) fn reasons_and_notes(metrics: &[AbMetric], strict: bool) -> (Vec<String>, Vec<String>) {
    let mut reasons = Vec::new();
    let mut notes = Vec::new();
    for m in metrics {
        if m.p_value.is_some() && m.pairs < min_tail_pairs() {
            notes.push(format!(
                "{} cannot regress with {} pairs: the vote of the pairs needs at least {} to be \
                 significant (--pairs)",
                m.metric,
                m.pairs,
                min_tail_pairs()
            ));
        }
        let d = describe(m);
        match m.verdict {
            MetricVerdict::Regressed => reasons.push(format!(
                "{d} against A: beyond the {} tolerance over {} pairs{} (A/B)",
                m.tolerance,
                m.pairs,
                m.p_value
                    .map(|p| format!(
                        ", B's tail heavier in the vote of the pairs (p = {})",
                        pct(p)
                    ))
                    .unwrap_or_default()
            )),
            MetricVerdict::Inconclusive if m.p_value.is_some() => {
                let s = format!(
                    "{d} against A: inconclusive at the {} tolerance (the vote of the pairs for \
                     a heavier tail of B: p = {}{})",
                    m.tolerance,
                    pct(m.p_value.unwrap_or(1.0)),
                    if strict { "" } else { "; --strict fails it" }
                );
                if strict {
                    reasons.push(s);
                } else {
                    notes.push(s);
                }
            }
            MetricVerdict::NoData => reasons.push(format!("{d} (A/B)")),
            MetricVerdict::Inconclusive => {
                let s = format!(
                    "{d} against A straddles the {} tolerance: inconclusive (more pairs narrow \
                     the interval{})",
                    m.tolerance,
                    if strict { "" } else { "; --strict fails it" }
                );
                if strict {
                    reasons.push(s);
                } else {
                    notes.push(s);
                }
            }
            MetricVerdict::Improved => notes.push(format!(
                "{d} against A: better beyond the {} tolerance",
                m.tolerance
            )),
            MetricVerdict::Unchanged => {}
        }
    }
    (reasons, notes)
}

/// Adds the A/B comparison to side B's judged result: a failed comparison fails a run that
/// would have passed, and its reasons come first.
pub(crate) fn apply(mut r: RunResult, ab: AbResult, reasons: Vec<String>) -> RunResult {
    if ab.verdict == ComparisonVerdict::Fail && r.verdict == Verdict::Pass {
        r.verdict = Verdict::Fail;
    }
    if r.verdict != Verdict::Aborted {
        let mut all = reasons;
        all.append(&mut r.reasons);
        r.reasons = all;
    }
    r.exit_code = ExitCode::of(r.verdict).code();
    r.ab = Some(ab);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Per-pair values: each pair shares one noise factor (both sides see the same machine),
    /// and each slice adds its own small noise. `b_factor` is B's true ratio.
    fn pairs(
        seed: u64,
        n: usize,
        center: f64,
        b_factor: f64,
        shared: f64,
        own: f64,
    ) -> Vec<(f64, f64)> {
        let mut rng = SplitMix::new(seed);
        let mut u = move || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0;
        (0..n)
            .map(|_| {
                let machine = 1.0 + shared * u();
                let a = center * machine * (1.0 + own * u());
                let b = center * b_factor * machine * (1.0 + own * u());
                (a, b)
            })
            .collect()
    }

    #[test]
    fn each_pair_order_follows_from_the_seed() {
        let a = pair_orders(50, 7);
        assert_eq!(a, pair_orders(50, 7), "same seed, same orders");
        assert_ne!(a, pair_orders(50, 8), "another seed, other orders");
        let ab = a.iter().filter(|o| o[0] == Side::A).count();
        assert!(
            (15..=35).contains(&ab),
            "both orders are drawn: {ab} of 50 start with A"
        );
        assert!(
            a.iter().all(|o| o[0] != o[1]),
            "each pair has one slice of each side"
        );
    }

    #[test]
    fn slices_are_back_to_back_never_overlap_and_are_shared_equally() {
        let slice = Duration::from_millis(2000);
        let warmup = Duration::from_millis(500);
        let s = schedule(7, 42, slice, warmup);
        assert_eq!(s.len(), 14);
        assert_eq!(s.iter().filter(|x| x.side == Side::A).count(), 7);
        assert_eq!(s.iter().filter(|x| x.side == Side::B).count(), 7);
        for (i, x) in s.iter().enumerate() {
            assert_eq!(x.index, i, "each slice has its own place, counted once");
            assert_eq!(x.pair, i / 2);
            assert_eq!(x.measured_from - x.start, warmup);
            assert_eq!(x.end - x.measured_from, slice);
        }
        for w in s.windows(2) {
            assert_eq!(
                w[0].end, w[1].start,
                "slices follow each other without overlap"
            );
        }
        assert_eq!(s[0].start, Duration::ZERO);
        assert_eq!(s[13].end, Duration::from_millis(35_000), "7 pairs of 2.5 s");
        let orders = pair_orders(7, 42);
        for x in &s {
            assert_eq!(x.side, orders[x.pair][x.index % 2]);
        }
    }

    #[test]
    fn t_quantiles_are_right() {
        assert!((t975(1) - 12.706).abs() < 1e-3);
        assert!((t975(6) - 2.447).abs() < 1e-3);
        assert!((t975(40) - 2.021).abs() < 2e-3);
        assert!((t975(120) - 1.980).abs() < 2e-3);
    }

    #[test]
    fn a_against_a_is_not_a_regression() {
        let mut covers = 0;
        for seed in 0..200 {
            let v = pairs(seed, 7, 10.0, 1.0, 0.3, 0.03);
            let e = paired(&v, Worse::Higher).unwrap();
            let verdict = judge(&e, Worse::Higher, 0.10);
            assert!(
                matches!(
                    verdict,
                    MetricVerdict::Unchanged | MetricVerdict::Inconclusive
                ),
                "seed {seed}: {e:?} {verdict:?}"
            );
            covers += usize::from(e.ci_low <= 1.0 && 1.0 <= e.ci_high);
        }
        // A 95 % interval holds the true ratio (1) about 190 times in 200.
        assert!(covers >= 180, "{covers} of 200 intervals hold 1");
    }

    #[test]
    fn a_twenty_percent_slower_b_fails_with_the_interval_excluding_no_change() {
        for seed in 0..50 {
            // The machine's noise (±30 % per pair) is shared by both slices of a pair.
            let v = pairs(seed, 7, 10.0, 1.2, 0.3, 0.03);
            let e = paired(&v, Worse::Higher).unwrap();
            assert!(
                e.ci_low > 1.0,
                "seed {seed}: the interval excludes no change: {e:?}"
            );
            assert!((e.estimate - 1.2).abs() < 0.05, "{e:?}");
            assert_eq!(
                judge(&e, Worse::Higher, 0.10),
                MetricVerdict::Regressed,
                "seed {seed}"
            );
        }
    }

    #[test]
    fn a_tail_only_shift_is_caught_on_p99_and_not_on_p50() {
        for seed in 0..50 {
            let p50 = pairs(seed, 7, 5.0, 1.0, 0.2, 0.02);
            let p99 = pairs(seed + 1000, 7, 20.0, 1.3, 0.4, 0.05);
            let e50 = paired(&p50, Worse::Higher).unwrap();
            let e99 = paired(&p99, Worse::Higher).unwrap();
            assert_eq!(
                judge(&e50, Worse::Higher, 0.10),
                MetricVerdict::Unchanged,
                "{e50:?}"
            );
            assert_eq!(
                judge(&e99, Worse::Higher, 0.10),
                MetricVerdict::Regressed,
                "{e99:?}"
            );
        }
    }

    #[test]
    fn a_lower_throughput_regresses_and_a_higher_one_improves() {
        let v = pairs(3, 7, 1000.0, 0.7, 0.2, 0.02);
        let e = paired(&v, Worse::Lower).unwrap();
        assert_eq!(
            judge(&e, Worse::Lower, 0.10),
            MetricVerdict::Regressed,
            "{e:?}"
        );
        let v = pairs(3, 7, 1000.0, 1.4, 0.2, 0.02);
        let e = paired(&v, Worse::Lower).unwrap();
        assert_eq!(
            judge(&e, Worse::Lower, 0.10),
            MetricVerdict::Improved,
            "{e:?}"
        );
    }

    #[test]
    fn a_change_within_the_noise_straddles_the_tolerance_and_is_inconclusive() {
        // +10 % with per-slice noise of ±40 % over 3 pairs: the interval is wide.
        let v = pairs(11, 3, 10.0, 1.1, 0.1, 0.4);
        let e = paired(&v, Worse::Higher).unwrap();
        assert!(e.ci_low < 1.1 && e.ci_high > 1.1, "{e:?}");
        assert_eq!(judge(&e, Worse::Higher, 0.10), MetricVerdict::Inconclusive);
    }

    #[test]
    fn error_rates_compare_in_points_and_zero_rates_are_unchanged() {
        let e = paired(&[(0.0, 0.0); 5], Worse::HigherPoints).unwrap();
        assert_eq!((e.estimate, e.ci_low, e.ci_high), (0.0, 0.0, 0.0));
        assert_eq!(
            judge(&e, Worse::HigherPoints, 0.5),
            MetricVerdict::Unchanged
        );
        let v = [(0.0, 0.05), (0.001, 0.052), (0.0, 0.049), (0.002, 0.051)];
        let e = paired(&v, Worse::HigherPoints).unwrap();
        assert_eq!(
            judge(&e, Worse::HigherPoints, 0.5),
            MetricVerdict::Regressed,
            "{e:?}"
        );
    }

    fn slice(pair: usize, side: Side, p50: f64, p99: f64) -> AbSlice {
        AbSlice {
            index: pair * 2 + usize::from(side == Side::B),
            pair,
            side,
            started_at: String::new(),
            requests: 100,
            p50_ms: p50,
            p99_ms: p99,
            throughput_rps: 1000.0 / p50,
            error_rate: 0.0,
        }
    }

    /// Each slice's latencies: 98 requests at its p50, 2 at its p99 (none without a success).
    fn tails(slices: &[AbSlice]) -> Vec<Counts> {
        slices
            .iter()
            .map(|s| match s.p50_ms > 0.0 {
                true => vec![((s.p50_ms * 1e3) as u64, 98), ((s.p99_ms * 1e3) as u64, 2)],
                false => Vec::new(),
            })
            .collect()
    }

    #[test]
    fn slices_compare_pair_by_pair_and_say_why() {
        let mut slices = Vec::new();
        for (p, noise) in [1.0, 1.3, 0.9, 1.1, 1.2, 0.95, 1.05]
            .into_iter()
            .enumerate()
        {
            slices.push(slice(p, Side::A, 10.0 * noise, 40.0 * noise));
            slices.push(slice(p, Side::B, 10.05 * noise, 60.0 * noise));
        }
        let rows = compare_slices(&slices, &tails(&slices), 1, |m| m.default_tolerance());
        let row = |name: &str| rows.iter().find(|r| r.metric == name).unwrap();
        assert_eq!(row("p50").verdict, MetricVerdict::Unchanged);
        assert_eq!(row("p99").verdict, MetricVerdict::Regressed);
        assert!((row("p99").change - 50.0).abs() < 1e-6, "{:?}", row("p99"));
        assert!(
            (row("p99").a - 42.0).abs() < 1e-9,
            "A's p99 over all its slices' requests: {:?}",
            row("p99")
        );
        assert_eq!(row("throughput").verdict, MetricVerdict::Unchanged);
        assert_eq!(row("error_rate").verdict, MetricVerdict::Unchanged);
        assert_eq!(ab_verdict(&rows, false), ComparisonVerdict::Fail);
        let (reasons, _) = reasons_and_notes(&rows, false);
        assert_eq!(reasons.len(), 1);
        assert!(
            reasons[0].starts_with("B p99 +50.0 % [+50.0 %, +50.0 %] against A: beyond the 10%"),
            "{reasons:?}"
        );
        // Seven pairs, all voting for a heavier tail of B: p = 1/128.
        assert!(
            reasons[0].ends_with("vote of the pairs (p = 0.78 %) (A/B)"),
            "{reasons:?}"
        );
        assert_eq!(row("p99").p_value, Some(1.0 / 128.0));
        assert_eq!(row("p50").p_value, None);
    }

    #[test]
    fn strict_turns_an_inconclusive_metric_into_a_failure() {
        let mut slices = Vec::new();
        for (p, (a, b)) in [(10.0, 9.0), (10.0, 14.0), (10.0, 12.0)]
            .into_iter()
            .enumerate()
        {
            slices.push(slice(p, Side::A, a, 40.0));
            slices.push(slice(p, Side::B, b, 40.0));
        }
        let rows = compare_slices(&slices, &tails(&slices), 1, |m| m.default_tolerance());
        assert_eq!(
            rows[0].verdict,
            MetricVerdict::Inconclusive,
            "{:?}",
            rows[0]
        );
        assert_eq!(ab_verdict(&rows, false), ComparisonVerdict::Pass);
        let (reasons, notes) = reasons_and_notes(&rows, false);
        assert!(
            reasons.is_empty() && notes[0].contains("--strict fails it"),
            "{notes:?}"
        );
        assert!(
            notes.iter().any(|n| n
                == "p99 cannot regress with 3 pairs: the vote of the pairs needs at least 7 to \
                    be significant (--pairs)"),
            "{notes:?}"
        );
        assert_eq!(ab_verdict(&rows, true), ComparisonVerdict::Fail);
        let (reasons, _) = reasons_and_notes(&rows, true);
        assert!(
            reasons[0].contains("straddles the 10% tolerance"),
            "{reasons:?}"
        );
    }

    #[test]
    fn a_metric_without_successful_responses_has_no_data_and_fails() {
        let mut slices = Vec::new();
        for p in 0..3 {
            slices.push(slice(p, Side::A, 10.0, 40.0));
            slices.push(slice(p, Side::B, 0.0, 0.0));
        }
        let rows = compare_slices(&slices, &tails(&slices), 1, |m| m.default_tolerance());
        assert_eq!(rows[0].verdict, MetricVerdict::NoData);
        assert_eq!(ab_verdict(&rows, false), ComparisonVerdict::Fail);
    }

    #[test]
    fn pairs_without_data_are_left_out_and_too_few_give_nothing() {
        assert!(paired(&[(1.0, 2.0)], Worse::Higher).is_none());
        assert!(paired(&[(1.0, 2.0), (0.0, 2.0)], Worse::Higher).is_none());
        let e = paired(&[(1.0, 2.0), (0.0, 2.0), (2.0, 4.0)], Worse::Higher).unwrap();
        assert_eq!(e.pairs, 2);
        assert!((e.estimate - 2.0).abs() < 1e-12);
    }
}
