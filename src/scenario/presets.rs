//! Presets: how a kind plus `peak` and `duration` becomes stages, when a scenario gives no
//! `stages` of its own. The shapes are documented in README.md; `perfgate validate --explain`
//! prints the result.
//!
//! | kind   | shape (P = peak, D = duration)                                          |
//! |--------|-------------------------------------------------------------------------|
//! | smoke  | 1 virtual user (or 1/s) for D (default 10s); any error fails            |
//! | load   | 25%, 50%, 75% of P for 10% of D each, then P for the remaining 70%      |
//! | stress | 50%, 100%, …, 300% of P, D/6 each, each reached over a tenth of its step |
//! | spike  | 10% of P for 30% of D, P for 20%, then 10% for the last 50% (recovery)  |
//! | soak   | P for the whole D                                                       |
//!
//! Default thresholds, applied when a scenario lists none ([`default_thresholds`]); a
//! scenario's own list replaces them, `thresholds: []` opts out:
//!
//! | kind               | closed model        | open model adds        |
//! |--------------------|---------------------|------------------------|
//! | smoke              | `errors == 0`       | `dropped_rate < 1%`    |
//! | load, spike, soak  | `error_rate < 1%`   | `dropped_rate < 1%`    |
//! | stress             | `error_rate < 1%` on each stage up to `peak` | `dropped_rate < 1%` on the same stages |
//!
//! A stress run goes to 300 % of its peak on purpose, past the target's capacity: errors and
//! dropped arrivals at the stages past `peak` are what it measures, not a failure. So its
//! defaults judge only the stages up to the one named `peak` (the preset names its second
//! `peak`; written stages may name one): `stage:NAME.error_rate < 1%` on each (and
//! `dropped_rate < 1%` in the open model, [`stress_stage_thresholds`]). Beyond them it is
//! judged by the no-success guard (which holds for every kind, whatever the scenario says)
//! and by the thresholds the scenario writes.
//!
//! Preset stages are named ([`stage_names`]) so thresholds can pick one: load `step-25`,
//! `step-50`, `step-75`, `peak`; stress `step-50`, `peak`, `step-150` … `step-300`; spike
//! `base`, `spike`, `recovery`; soak `peak`; smoke `smoke`.

use std::time::Duration;

use super::plan::{Kind, Model, Op, Stage, Threshold, ThresholdMetric};

/// The thresholds a `kind` run under `model` is judged on when its scenario lists none.
pub(crate) fn default_thresholds(kind: Kind, model: Model) -> Vec<Threshold> {
    let t = |expr: &str, metric, op, limit| Threshold::new(expr, None, metric, op, limit);
    let mut out = match kind {
        Kind::Smoke => vec![t("errors == 0", ThresholdMetric::Errors, Op::Le, 0.0)],
        Kind::Load | Kind::Spike | Kind::Soak => vec![t(
            "error_rate < 1%",
            ThresholdMetric::ErrorRate,
            Op::Lt,
            0.01,
        )],
        Kind::Stress => Vec::new(),
    };
    if kind != Kind::Stress && matches!(model, Model::Open { .. }) {
        out.push(t(
            "dropped_rate < 1%",
            ThresholdMetric::DroppedRate,
            Op::Lt,
            0.01,
        ));
    }
    out
}

/// The names of a `kind` preset's `n` stages (none when the shape has another count).
pub(crate) fn stage_names(kind: Kind, n: usize) -> Vec<Option<String>> {
    let names: &[&str] = match kind {
        Kind::Smoke => &["smoke"],
        Kind::Load => &["step-25", "step-50", "step-75", "peak"],
        Kind::Stress => &[
            "step-50", "peak", "step-150", "step-200", "step-250", "step-300",
        ],
        Kind::Spike => &["base", "spike", "recovery"],
        Kind::Soak => &["peak"],
    };
    if names.len() == n {
        names.iter().map(|s| Some(s.to_string())).collect()
    } else {
        vec![None; n]
    }
}

/// A stress run's default thresholds: the kind's gates on each stage up to the one named
/// `peak`, not on those deliberately past it. None for other kinds, or without a `peak`.
pub(crate) fn stress_stage_thresholds(
    kind: Kind,
    model: Model,
    names: &[Option<String>],
) -> Vec<Threshold> {
    let Some(peak) = names.iter().position(|n| n.as_deref() == Some("peak")) else {
        return Vec::new();
    };
    if kind != Kind::Stress {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (i, name) in names.iter().enumerate().take(peak + 1) {
        let scope = match name {
            Some(n) => format!("stage:{n}"),
            None => format!("stage[{i}]"),
        };
        let mut gate = |metric: &str, m: ThresholdMetric| {
            let mut t = Threshold::new(format!("{scope}.{metric} < 1%"), None, m, Op::Lt, 0.01);
            t.stage = Some(i);
            out.push(t);
        };
        gate("error_rate", ThresholdMetric::ErrorRate);
        if matches!(model, Model::Open { .. }) {
            gate("dropped_rate", ThresholdMetric::DroppedRate);
        }
    }
    out
}

/// Default duration of a smoke run when the file gives none.
pub(crate) const SMOKE_DEFAULT: Duration = Duration::from_secs(10);

/// Stages for `kind` at `peak` (virtual users when `whole` is true, otherwise a rate) over
/// `duration`. Levels of virtual users are rounded and never below 1.
pub(crate) fn stages(kind: Kind, peak: f64, duration: Duration, whole: bool) -> Vec<Stage> {
    let shape: &[(f64, f64)] = match kind {
        Kind::Smoke => &[(0.0, 1.0)],
        Kind::Load => &[(0.25, 0.1), (0.5, 0.1), (0.75, 0.1), (1.0, 0.7)],
        Kind::Stress => &[
            (0.5, 1.0 / 6.0),
            (1.0, 1.0 / 6.0),
            (1.5, 1.0 / 6.0),
            (2.0, 1.0 / 6.0),
            (2.5, 1.0 / 6.0),
            (3.0, 1.0 / 6.0),
        ],
        Kind::Spike => &[(0.1, 0.3), (1.0, 0.2), (0.1, 0.5)],
        Kind::Soak => &[(1.0, 1.0)],
    };
    let total_ms = duration.as_millis() as f64;
    let mut out = Vec::with_capacity(shape.len());
    let mut used_ms = 0u64;
    for (i, (frac_level, frac_time)) in shape.iter().enumerate() {
        let level = if kind == Kind::Smoke {
            1.0
        } else if whole {
            (peak * frac_level).round().max(1.0)
        } else {
            (peak * frac_level).max(0.001)
        };
        // The last stage takes whatever rounding left, so the stages add up to `duration`.
        let ms = if i + 1 == shape.len() {
            (total_ms as u64).saturating_sub(used_ms)
        } else {
            (total_ms * frac_time).round() as u64
        };
        used_ms += ms;
        // Stress steps reach their level over a short ramp (a tenth of the step), so each
        // level is approached as traffic grows rather than as a wall of new users; the other
        // shapes are steps (a spike is a step on purpose).
        let ramp = if kind == Kind::Stress {
            Duration::from_millis(ms / 10)
        } else {
            Duration::ZERO
        };
        out.push(Stage {
            level,
            duration: Duration::from_millis(ms),
            ramp,
        });
    }
    out.retain(|s| !s.duration.is_zero());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn levels(v: &[Stage]) -> Vec<f64> {
        v.iter().map(|s| s.level).collect()
    }

    #[test]
    fn load_steps_up_then_holds() {
        let s = stages(Kind::Load, 100.0, Duration::from_secs(100), true);
        assert_eq!(levels(&s), vec![25.0, 50.0, 75.0, 100.0]);
        assert_eq!(s[3].duration, Duration::from_secs(70));
    }

    #[test]
    fn stress_goes_past_peak_to_300_percent() {
        let s = stages(Kind::Stress, 10.0, Duration::from_secs(60), true);
        assert_eq!(levels(&s), vec![5.0, 10.0, 15.0, 20.0, 25.0, 30.0]);
        let total: Duration = s.iter().map(|s| s.duration).sum();
        assert_eq!(total, Duration::from_secs(60));
        // Each step ramps from the previous one over a tenth of its 10 s.
        assert!(s.iter().all(|s| s.ramp == Duration::from_secs(1)));
        let spike = stages(Kind::Spike, 10.0, Duration::from_secs(60), true);
        assert!(spike.iter().all(|s| s.ramp.is_zero()), "a spike is a step");
    }

    #[test]
    fn spike_jumps_and_recovers() {
        let s = stages(Kind::Spike, 50.0, Duration::from_secs(30), true);
        assert_eq!(levels(&s), vec![5.0, 50.0, 5.0]);
    }

    #[test]
    fn smoke_is_one_user_and_soak_is_flat() {
        assert_eq!(
            levels(&stages(Kind::Smoke, 40.0, SMOKE_DEFAULT, true)),
            vec![1.0]
        );
        let s = stages(Kind::Soak, 8.0, Duration::from_secs(3600), true);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].duration, Duration::from_secs(3600));
    }

    #[test]
    fn small_peaks_never_round_to_zero_users() {
        let s = stages(Kind::Spike, 2.0, Duration::from_secs(10), true);
        assert!(s.iter().all(|s| s.level >= 1.0));
    }

    #[test]
    fn default_thresholds_per_kind_and_model() {
        let closed = Model::Closed {
            think_time: Duration::ZERO,
        };
        let open = Model::Open { max_in_flight: 10 };
        let exprs = |k, m| -> Vec<String> {
            default_thresholds(k, m)
                .into_iter()
                .map(|t| t.expr)
                .collect()
        };
        assert_eq!(exprs(Kind::Smoke, closed), ["errors == 0"]);
        for k in [Kind::Load, Kind::Spike, Kind::Soak] {
            assert_eq!(exprs(k, closed), ["error_rate < 1%"]);
            assert_eq!(exprs(k, open), ["error_rate < 1%", "dropped_rate < 1%"]);
        }
        assert_eq!(
            exprs(Kind::Smoke, open),
            ["errors == 0", "dropped_rate < 1%"]
        );
        assert!(exprs(Kind::Stress, closed).is_empty());
        assert!(exprs(Kind::Stress, open).is_empty());
        // The defaults say what the grammar would parse from the same text.
        for k in Kind::ALL {
            for t in default_thresholds(k, open) {
                assert_eq!(super::super::threshold::parse(&t.expr, &[]).unwrap(), t);
            }
        }
    }

    #[test]
    fn open_model_levels_are_rates() {
        let s = stages(Kind::Load, 200.0, Duration::from_secs(10), false);
        assert_eq!(levels(&s), vec![50.0, 100.0, 150.0, 200.0]);
    }

    #[test]
    fn stress_defaults_judge_the_stages_up_to_peak_only() {
        let closed = Model::Closed {
            think_time: Duration::ZERO,
        };
        let names = stage_names(Kind::Stress, 6);
        assert_eq!(names[1].as_deref(), Some("peak"));
        let t = stress_stage_thresholds(Kind::Stress, closed, &names);
        let exprs: Vec<&str> = t.iter().map(|t| t.expr.as_str()).collect();
        assert_eq!(
            exprs,
            [
                "stage:step-50.error_rate < 1%",
                "stage:peak.error_rate < 1%"
            ]
        );
        assert_eq!(t[1].stage, Some(1));
        let open = Model::Open { max_in_flight: 10 };
        assert_eq!(stress_stage_thresholds(Kind::Stress, open, &names).len(), 4);
        // Without a stage named `peak`, or for another kind: none.
        assert!(stress_stage_thresholds(Kind::Stress, closed, &[None, None]).is_empty());
        assert!(
            stress_stage_thresholds(Kind::Load, closed, &stage_names(Kind::Load, 4)).is_empty()
        );
        // A preset of another length has no names.
        assert_eq!(stage_names(Kind::Spike, 2), [None, None]);
        assert_eq!(
            stage_names(Kind::Spike, 3),
            [
                Some("base".into()),
                Some("spike".into()),
                Some("recovery".into())
            ]
        );
    }
}
