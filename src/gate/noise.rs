//! Regressions measured on a noisy machine. The measure step samples CPU steal and the
//! generator's own CPU use each second (`metrics::machine`, stored in the windows); when a
//! meaningful share of the run's measured windows was noisy, a regression found in it is
//! *inconclusive*, not a regression: the run cannot tell a slower target from a slower
//! machine. The comparison then says so in a note ("p99 +40.0 %, during 12 % CPU steal:
//! inconclusive, rerun"), `--strict` fails on it like on any inconclusive metric, and
//! `--confirm` reruns.
//!
//! The rule: a measured (non-warm-up) window is noisy when steal was at least
//! [`STEAL_PCT`] % or the generator was saturated (≥ 90 % of the CPUs it may use; not counted
//! for in-process targets, whose functions run on those CPUs by design); the run is noisy
//! when at least [`NOISY_SHARE`] of its sampled measured windows (and at least one) were.
//! Noise explains a stretched tail, not a doubled median: a p50 or mean more than
//! [`CENTRE_LIMIT_PCT`] % worse (throughput halved) stays a regression on any machine.

use crate::result::{
    Comparison, ComparisonVerdict, MetricComparison, MetricVerdict, RunResult, Window,
};

/// CPU steal (percent of the machine's CPU time) from which a window is noisy.
pub(crate) const STEAL_PCT: f64 = 5.0;

/// The share of measured windows that makes a run noisy.
pub(crate) const NOISY_SHARE: f64 = 0.10;

/// A change of the run's centre (p50, mean: +100 %; throughput: −50 %) past which noise is
/// not an explanation: a neighbour can stretch a tail, it does not double a median.
pub(crate) const CENTRE_LIMIT_PCT: f64 = 100.0;

/// True when noise could have made `m` as bad as it is: every tail metric (and the error
/// rate); the centre only up to [`CENTRE_LIMIT_PCT`].
fn explainable(m: &MetricComparison) -> bool {
    match m.metric.as_str() {
        "p50" | "mean" => m.change <= CENTRE_LIMIT_PCT,
        "throughput" => m.change >= -CENTRE_LIMIT_PCT / 2.0,
        _ => true,
    }
}

/// How noisy the machine was during a run's measured windows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Noise {
    /// Measured windows with a machine sample.
    pub sampled: usize,
    /// Of those, windows with steal ≥ [`STEAL_PCT`].
    pub steal_windows: usize,
    /// The highest steal of a measured window, percent.
    pub max_steal: f64,
    /// Of those, windows with the generator saturated (counted only when it matters).
    pub saturated_windows: usize,
}

impl Noise {
    /// The noise of `windows` (warm-up left out); `None` when none was sampled (no `/proc`,
    /// or a result written before the machine was sampled). `in_process`: the target runs
    /// inside perfgate, so its saturation is not noise.
    pub(crate) fn of(windows: &[Window], in_process: bool) -> Option<Noise> {
        let sampled: Vec<&Window> = windows
            .iter()
            .filter(|w| w.stage.is_some() && w.steal_pct.is_some())
            .collect();
        if sampled.is_empty() {
            return None;
        }
        let steal = |w: &Window| w.steal_pct.unwrap_or(0.0);
        Some(Noise {
            sampled: sampled.len(),
            steal_windows: sampled.iter().filter(|w| steal(w) >= STEAL_PCT).count(),
            max_steal: sampled.iter().map(|w| steal(w)).fold(0.0, f64::max),
            saturated_windows: if in_process {
                0
            } else {
                sampled.iter().filter(|w| w.saturated == Some(true)).count()
            },
        })
    }

    /// The noise of a judged result's run.
    pub(crate) fn of_result(r: &RunResult) -> Option<Noise> {
        Noise::of(&r.timeseries, r.scenario.target == "in-process")
    }

    /// Windows that were noisy for either reason.
    fn noisy_windows(&self) -> usize {
        self.steal_windows.max(self.saturated_windows)
    }

    /// True when enough of the run was noisy to doubt a regression found in it.
    pub(crate) fn is_noisy(&self) -> bool {
        let needed = (self.sampled as f64 * NOISY_SHARE).ceil().max(1.0) as usize;
        self.noisy_windows() >= needed
    }

    /// `during 12 % CPU steal`, `with the generator saturated 3 of 20 s`, or both.
    pub(crate) fn during(&self) -> String {
        let needed = (self.sampled as f64 * NOISY_SHARE).ceil().max(1.0) as usize;
        let steal = (self.steal_windows >= needed)
            .then(|| format!("during {:.0} % CPU steal", self.max_steal));
        let saturated = (self.saturated_windows >= needed).then(|| {
            format!(
                "with the generator saturated {} of {} s",
                self.saturated_windows, self.sampled
            )
        });
        match (steal, saturated) {
            (Some(a), Some(b)) => format!("{a} and {b}"),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => String::new(),
        }
    }
}

/// True when `m` changed past its tolerance the bad way but the comparison could not call it
/// a regression (the metrics whose sentence names the noise).
pub(crate) fn worse_inconclusive(m: &MetricComparison) -> bool {
    let worse = if m.metric == "throughput" {
        -m.change
    } else {
        m.change
    };
    m.verdict == MetricVerdict::Inconclusive && worse > 0.0
}

/// `p99 +40.0 %, during 12 % CPU steal: inconclusive, rerun`.
pub(crate) fn sentence(who: &str, m: &MetricComparison, change: &str, noise: &Noise) -> String {
    format!(
        "{who}{} {change}, {}: inconclusive, rerun",
        m.metric,
        noise.during()
    )
}

/// Turns the regressions of a noisy run into inconclusive metrics, with a note each, and
/// decides the comparison's verdict again (`strict`: inconclusive fails).
pub(crate) fn downgrade(noise: Option<Noise>, c: &mut Comparison, strict: bool) {
    let Some(noise) = noise.filter(Noise::is_noisy) else {
        return;
    };
    for m in &mut c.metrics {
        if m.verdict == MetricVerdict::Regressed && explainable(m) {
            m.verdict = MetricVerdict::Inconclusive;
            let who = if m.request == crate::result::TOTAL_KEY {
                String::new()
            } else {
                format!("{} ", m.request)
            };
            let change = if m.unit == "ratio" {
                format!("{:+.1} pp", m.change)
            } else {
                format!("{:+.1} %", m.change)
            };
            c.notes.push(format!(
                "{} (past tolerance and significant, but the machine was noisy; --confirm reruns)",
                sentence(&who, m, &change, &noise)
            ));
        }
    }
    let failed = c.metrics.iter().any(|m| {
        matches!(m.verdict, MetricVerdict::Regressed | MetricVerdict::NoData)
            || (strict && m.verdict == MetricVerdict::Inconclusive)
    });
    c.verdict = if failed {
        ComparisonVerdict::Fail
    } else {
        ComparisonVerdict::Pass
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` measured windows, the first `noisy` of them with `steal` % steal.
    fn windows(n: usize, noisy: usize, steal: f64) -> Vec<Window> {
        (0..n)
            .map(|i| Window {
                t_s: i as f64,
                stage: Some(0),
                steal_pct: Some(if i < noisy { steal } else { 0.5 }),
                generator_cpu_pct: Some(30.0),
                saturated: Some(false),
                ..Window::default()
            })
            .collect()
    }

    #[test]
    fn a_tenth_of_the_run_with_steal_makes_it_noisy() {
        let n = Noise::of(&windows(20, 2, 12.0), false).unwrap();
        assert!(n.is_noisy());
        assert_eq!(n.during(), "during 12 % CPU steal");
        assert!(!Noise::of(&windows(20, 1, 12.0), false).unwrap().is_noisy());
        // Steal under the threshold is not noise.
        assert!(!Noise::of(&windows(20, 20, 4.9), false).unwrap().is_noisy());
    }

    #[test]
    fn the_warm_up_and_unsampled_windows_do_not_count() {
        let mut ws = windows(10, 3, 20.0);
        for w in &mut ws[..3] {
            w.stage = None;
        }
        assert!(!Noise::of(&ws, false).unwrap().is_noisy());
        for w in &mut ws {
            w.steal_pct = None;
        }
        assert_eq!(Noise::of(&ws, false), None);
    }

    #[test]
    fn noise_does_not_explain_a_doubled_median() {
        let noise = Noise::of(&windows(10, 2, 20.0), false);
        let metric = |metric: &str, change: f64| MetricComparison {
            request: crate::result::TOTAL_KEY.into(),
            metric: metric.into(),
            unit: "ms".into(),
            baseline: 10.0,
            current: 10.0 * (1.0 + change / 100.0),
            change,
            tolerance: "10%".into(),
            p_value: Some(0.001),
            verdict: MetricVerdict::Regressed,
            detectable: None,
        };
        let mut c = Comparison {
            baseline_file: "b.json".into(),
            baseline_created_at: "2026-01-01T00:00:00Z".into(),
            verdict: ComparisonVerdict::Fail,
            method: "m".into(),
            scenario_changed: false,
            env_mismatch: vec![],
            notes: vec![],
            metrics: vec![
                metric("p50", 400.0),
                metric("p99", 400.0),
                metric("mean", 40.0),
                metric("throughput", -80.0),
            ],
            testbed: String::new(),
            baseline_testbed: String::new(),
            informational: false,
            baseline_runs: 1,
            underpowered: None,
        };
        downgrade(noise, &mut c, false);
        let verdicts: Vec<MetricVerdict> = c.metrics.iter().map(|m| m.verdict).collect();
        assert_eq!(
            verdicts,
            [
                MetricVerdict::Regressed,
                MetricVerdict::Inconclusive,
                MetricVerdict::Inconclusive,
                MetricVerdict::Regressed
            ]
        );
        assert_eq!(c.verdict, ComparisonVerdict::Fail);
        assert_eq!(c.notes.len(), 2);
    }

    #[test]
    fn saturation_counts_except_for_in_process_targets() {
        let mut ws = windows(10, 0, 0.0);
        for w in &mut ws[..4] {
            w.saturated = Some(true);
        }
        let n = Noise::of(&ws, false).unwrap();
        assert!(n.is_noisy());
        assert_eq!(n.during(), "with the generator saturated 4 of 10 s");
        assert!(!Noise::of(&ws, true).unwrap().is_noisy());
    }
}
