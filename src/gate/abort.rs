//! Abort on fail: the thresholds marked `abort: true` and `target.abort_when_unreachable`,
//! judged on each closed 1-second window while the run goes. The measure step feeds every
//! window to an [`AbortWatch`]; the first that breaks one gives an [`EarlyStop`], and the
//! run stops itself (`StopSignal::halt`), writes everything and fails (exit 1) with the
//! early stop as its first reason.
//!
//! What a window is judged on: its own p50, p90, p99, max (of its successful responses;
//! a window without one is not judged on latency), error rate, dropped rate and throughput;
//! `errors` and `dropped` are counted from the end of the warm-up (from the stage's start for
//! a stage threshold), since a count over the run can only grow. Warm-up windows are not
//! judged, and none before `after:` has passed since the warm-up ended. The unreachable
//! check counts consecutive windows (warm-up included) in which every request failed to
//! connect.

use std::time::Duration;

use super::reasons::value;
use crate::result::{EarlyStop, Window};
use crate::scenario::{Op, Threshold, ThresholdMetric};

/// Judges closed windows against the abort conditions of a plan.
pub(crate) struct AbortWatch {
    /// The `abort: true` thresholds, each with its running counts.
    watched: Vec<Watched>,
    /// Seconds of warm-up: windows before it are not judged.
    warmup_s: f64,
    /// `abort_when_unreachable` in whole windows, and the current streak of unreachable ones.
    unreachable: Option<(u32, Duration)>,
    streak: u32,
}

struct Watched {
    t: Threshold,
    after_s: f64,
    /// Errors and dropped arrivals counted so far (for `errors` and `dropped`).
    errors: u64,
    dropped: u64,
}

impl AbortWatch {
    /// The watch for `thresholds` (those with `abort`), a run with `warmup`, and
    /// `unreachable` (`None`: off). `None` when there is nothing to watch.
    pub(crate) fn new(
        thresholds: &[Threshold],
        warmup: Duration,
        unreachable: Option<Duration>,
    ) -> Option<AbortWatch> {
        let watched: Vec<Watched> = thresholds
            .iter()
            .filter_map(|t| {
                t.abort.map(|after| Watched {
                    t: t.clone(),
                    after_s: after.as_secs_f64(),
                    errors: 0,
                    dropped: 0,
                })
            })
            .collect();
        if watched.is_empty() && unreachable.is_none() {
            return None;
        }
        Some(AbortWatch {
            watched,
            warmup_s: warmup.as_secs_f64(),
            unreachable: unreachable.map(|d| ((d.as_secs_f64().ceil() as u32).max(1), d)),
            streak: 0,
        })
    }

    /// Judges one closed window; the first broken condition stops the run.
    pub(crate) fn observe(&mut self, w: &Window) -> Option<EarlyStop> {
        let at_s = w.t_s + 1.0;
        if let Some((windows, limit)) = self.unreachable {
            let refused = w.requests > 0 && w.errors_by_class.connect == w.requests;
            self.streak = if refused { self.streak + 1 } else { 0 };
            if self.streak >= windows {
                let cause = format!(
                    "abort_when_unreachable: {}",
                    crate::scenario::units::format_duration(limit)
                );
                return Some(EarlyStop {
                    at_s,
                    reason: format!(
                        "aborted at {}: no connection to the target could be made for {} s \
                         ({cause})",
                        seconds(at_s),
                        self.streak
                    ),
                    cause,
                });
            }
        }
        // Warm-up windows are not judged.
        w.stage?;
        for watched in &mut self.watched {
            if let Some(stop) = watched.observe(w, at_s, self.warmup_s) {
                return Some(stop);
            }
        }
        None
    }
}

impl Watched {
    fn observe(&mut self, w: &Window, at_s: f64, warmup_s: f64) -> Option<EarlyStop> {
        let t = &self.t;
        if t.stage.is_some_and(|i| w.stage != Some(i)) {
            return None;
        }
        self.errors += w.errors;
        self.dropped += w.dropped;
        // Not before the grace has passed since the warm-up ended.
        if w.t_s + 1e-9 < warmup_s + self.after_s {
            return None;
        }
        let observed = window_value(t.metric, w, self.errors, self.dropped)?;
        if t.op.holds(observed, t.limit) {
            return None;
        }
        let scope = match (t.stage, t.expr.strip_prefix("stage:")) {
            (Some(_), Some(rest)) => format!("stage {} ", rest.split('.').next().unwrap_or("")),
            (Some(i), None) => format!("stage {i} "),
            (None, _) => String::new(),
        };
        let unit = t.metric.unit();
        let so_far = if unit == "count" { " so far" } else { "" };
        Some(EarlyStop {
            at_s,
            cause: t.expr.clone(),
            reason: format!(
                "aborted at {}: {scope}{} {}{so_far} {} {} (abort: true)",
                seconds(at_s),
                t.metric.name(),
                value(observed, unit),
                broken(t.op),
                value(t.limit, unit)
            ),
        })
    }
}

/// The value of `metric` in one window (`None`: the window has none to judge).
fn window_value(metric: ThresholdMetric, w: &Window, errors: u64, dropped: u64) -> Option<f64> {
    use ThresholdMetric as T;
    let ok = w.requests.saturating_sub(w.errors);
    let latency = |v: f64| (ok > 0).then_some(v);
    match metric {
        T::P50 => latency(w.p50_ms),
        T::P90 => latency(w.p90_ms),
        T::P99 => latency(w.p99_ms),
        T::Max => latency(w.max_ms),
        T::ErrorRate => (w.requests > 0).then(|| w.errors as f64 / w.requests as f64),
        T::DroppedRate => {
            let due = w.requests + w.dropped;
            (due > 0).then(|| w.dropped as f64 / due as f64)
        }
        T::Throughput => Some(w.throughput_rps),
        T::Errors => Some(errors as f64),
        T::Dropped => Some(dropped as f64),
        // Refused at validation (`threshold::window_metric`).
        _ => None,
    }
}

/// The relation that breaks `op`: `≥` for `<`, and so on.
fn broken(op: Op) -> &'static str {
    match op {
        Op::Lt => "≥",
        Op::Le => ">",
        Op::Gt => "≤",
        Op::Ge => "<",
    }
}

/// `12 s`.
fn seconds(s: f64) -> String {
    format!("{s:.0} s")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::ErrorCounts;
    use crate::scenario::Levels;

    fn window(t_s: f64, stage: Option<usize>, requests: u64, errors: u64) -> Window {
        Window {
            t_s,
            requests,
            errors,
            stage,
            throughput_rps: (requests - errors) as f64,
            p99_ms: 10.0,
            ..Window::default()
        }
    }

    fn abort(expr: &str, metric: ThresholdMetric, op: Op, limit: f64, after: u64) -> Threshold {
        let mut t = Threshold::new(expr, None, metric, op, limit);
        t.levels = Levels::default();
        t.abort = Some(Duration::from_secs(after));
        t
    }

    #[test]
    fn the_first_window_that_breaks_it_stops_the_run_with_a_reason() {
        let t = abort(
            "error_rate < 50%",
            ThresholdMetric::ErrorRate,
            Op::Lt,
            0.5,
            0,
        );
        let mut w = AbortWatch::new(&[t], Duration::ZERO, None).unwrap();
        assert!(w.observe(&window(0.0, Some(0), 100, 10)).is_none());
        assert!(w.observe(&window(1.0, Some(0), 0, 0)).is_none(), "no data");
        let stop = w.observe(&window(11.0, Some(0), 40, 40)).unwrap();
        assert_eq!(stop.at_s, 12.0);
        assert_eq!(stop.cause, "error_rate < 50%");
        assert_eq!(
            stop.reason,
            "aborted at 12 s: error_rate 100 % ≥ 50 % (abort: true)"
        );
    }

    #[test]
    fn warm_up_and_the_grace_are_not_judged() {
        let t = abort(
            "error_rate < 50%",
            ThresholdMetric::ErrorRate,
            Op::Lt,
            0.5,
            3,
        );
        let mut w = AbortWatch::new(&[t], Duration::from_secs(2), None).unwrap();
        assert!(w.observe(&window(0.0, None, 10, 10)).is_none(), "warm-up");
        assert!(w.observe(&window(2.0, Some(0), 10, 10)).is_none(), "grace");
        assert!(w.observe(&window(4.0, Some(0), 10, 10)).is_none(), "grace");
        assert!(w.observe(&window(5.0, Some(0), 10, 10)).is_some());
    }

    #[test]
    fn counts_add_up_and_stage_thresholds_judge_their_stage_only() {
        let mut errors = abort("errors < 5", ThresholdMetric::Errors, Op::Lt, 5.0, 0);
        errors.stage = Some(1);
        errors.expr = "stage:peak.errors < 5".into();
        let mut w = AbortWatch::new(&[errors], Duration::ZERO, None).unwrap();
        assert!(
            w.observe(&window(0.0, Some(0), 10, 10)).is_none(),
            "stage 0"
        );
        assert!(w.observe(&window(1.0, Some(1), 10, 3)).is_none());
        let stop = w.observe(&window(2.0, Some(1), 10, 2)).unwrap();
        assert_eq!(
            stop.reason,
            "aborted at 3 s: stage peak errors 5 so far ≥ 5 (abort: true)"
        );
    }

    #[test]
    fn a_target_that_refuses_every_connection_stops_the_run() {
        let mut w = AbortWatch::new(&[], Duration::ZERO, Some(Duration::from_secs(2))).unwrap();
        let refused = |t_s: f64, n: u64| Window {
            t_s,
            requests: n,
            errors: n,
            errors_by_class: ErrorCounts {
                connect: n,
                ..ErrorCounts::default()
            },
            ..Window::default()
        };
        assert!(w.observe(&refused(0.0, 5)).is_none());
        // A window with one answer breaks the streak.
        assert!(w.observe(&window(1.0, Some(0), 5, 0)).is_none());
        assert!(w.observe(&refused(2.0, 5)).is_none());
        let stop = w.observe(&refused(3.0, 5)).unwrap();
        assert_eq!(stop.cause, "abort_when_unreachable: 2s");
        assert!(
            stop.reason.starts_with("aborted at 4 s: no connection"),
            "{}",
            stop.reason
        );
        // Nothing to watch: no watch.
        assert!(AbortWatch::new(&[], Duration::ZERO, None).is_none());
    }
}
