//! The run's timeline: the warm-up and the stages as [`Phase`]s in seconds, the level in
//! force at any moment (closed model), and the arrival times of the open model.
//!
//! A stage may ramp: its level moves linearly from the level before it (the previous
//! stage's or the warm-up's; 0 for the run's first phase) to its own over its first
//! `ramp_s` seconds, then holds. [`Phase::level_at`] is the one place a level is computed:
//! the closed model's virtual users, the open model's arrival rate and the windows' `active`
//! level all read it.

use crate::metrics::{ramp_level, Span};
use crate::scenario::LoadPlan;

/// Lets a level computed from a ramp count as reached despite floating-point rounding.
const EPS: f64 = 1e-9;

/// A span of the run's timeline: the warm-up (`stage: None`) or one stage.
#[derive(Debug, Clone, PartialEq)]
pub struct Phase {
    pub start_s: f64,
    pub end_s: f64,
    pub stage: Option<usize>,
    /// Virtual users or arrivals per second, once any ramp is over.
    pub level: f64,
    /// The level at `start_s`, from which a ramp starts (equal to `level` without one).
    pub from_level: f64,
    /// How long the ramp from `from_level` to `level` lasts (0: a step).
    pub ramp_s: f64,
}

impl Phase {
    /// What the aggregator needs of this phase.
    pub fn span(&self) -> Span {
        Span {
            start_s: self.start_s,
            end_s: self.end_s,
            stage: self.stage,
            level: self.level,
            from_level: self.from_level,
            ramp_s: self.ramp_s,
        }
    }

    /// The level at `t` seconds since the run's start (`t` within this phase): along the
    /// ramp, then `level`.
    pub fn level_at(&self, t: f64) -> f64 {
        ramp_level(self.from_level, self.level, self.ramp_s, t - self.start_s)
    }
}

/// Phases in time order: the warm-up (when set) at the first stage's level, then each stage.
pub fn phases(load: &LoadPlan) -> Vec<Phase> {
    let mut out = Vec::new();
    let mut t = 0.0;
    let mut before = 0.0;
    if !load.warmup.is_zero() {
        let level = load.stages.first().map(|s| s.level).unwrap_or(0.0);
        let end = load.warmup.as_secs_f64();
        out.push(Phase {
            start_s: 0.0,
            end_s: end,
            stage: None,
            level,
            from_level: level,
            ramp_s: 0.0,
        });
        t = end;
        before = level;
    }
    for (i, s) in load.stages.iter().enumerate() {
        let end = t + s.duration.as_secs_f64();
        let ramp_s = s.ramp.as_secs_f64().min(s.duration.as_secs_f64());
        out.push(Phase {
            start_s: t,
            end_s: end,
            stage: Some(i),
            level: s.level,
            from_level: if ramp_s > 0.0 { before } else { s.level },
            ramp_s,
        });
        t = end;
        before = s.level;
    }
    out
}

/// The index of the phase in force at `t` seconds (`None` after the end).
#[inline]
pub(crate) fn phase_at(phases: &[Phase], t: f64) -> Option<usize> {
    phases.iter().position(|p| t >= p.start_s && t < p.end_s)
}

/// The level in force at `t` seconds (0 after the end).
#[cfg(test)]
pub(crate) fn level_at(phases: &[Phase], t: f64) -> f64 {
    phase_at(phases, t).map_or(0.0, |i| phases[i].level_at(t))
}

/// Closed model: the phase in force at `t` when virtual user `worker` (from 0) is active
/// then, i.e. when the level has reached `worker + 1`; `None` when it is not.
#[inline]
pub(crate) fn active_in(phases: &[Phase], worker: usize, t: f64) -> Option<usize> {
    let i = phase_at(phases, t)?;
    (phases[i].level_at(t) + EPS >= worker as f64 + 1.0).then_some(i)
}

/// The first moment at or after `t` at which virtual user `worker` is active, or `None`
/// when it never is again. Along a rising ramp, that is when the ramp reaches `worker + 1`.
pub(crate) fn next_active(phases: &[Phase], worker: usize, t: f64) -> Option<f64> {
    let need = worker as f64 + 1.0;
    for p in phases.iter().filter(|p| p.end_s > t) {
        let t0 = p.start_s.max(t);
        if p.level_at(t0) + EPS >= need {
            return Some(t0);
        }
        let ramp_end = p.start_s + p.ramp_s;
        if p.level + EPS >= need && p.level > p.from_level {
            // Rising: solve from + (level - from) · x / ramp = need.
            let x = (need - p.from_level) / (p.level - p.from_level) * p.ramp_s;
            let at = (p.start_s + x).clamp(t0, ramp_end.min(p.end_s));
            if at < p.end_s {
                return Some(at);
            }
        }
    }
    None
}

/// Open model: arrival `n` of the run happens at [`Arrivals::time_of`]`(n)` seconds.
#[derive(Debug, Clone)]
pub(crate) struct Arrivals {
    segs: Vec<Seg>,
    /// Each phase's first arrival slot and number of arrivals, in order.
    phase_slots: Vec<(u64, u64)>,
}

/// A stretch of arrivals: at a rate rising (or falling) linearly from `rate` by `slope`
/// per second, from `start_s`, in phase `phase`.
#[derive(Debug, Clone)]
struct Seg {
    start_s: f64,
    rate: f64,
    /// Change of the rate per second (0 for a constant rate).
    slope: f64,
    first: u64,
    count: u64,
    phase: usize,
}

impl Seg {
    /// Seconds after `start_s` at which the `k`-th arrival of this stretch is due: where
    /// the arrivals so far, rate·x + slope·x²/2, reach `k`.
    fn offset_of(&self, k: u64) -> f64 {
        let k = k as f64;
        if k == 0.0 {
            return 0.0;
        }
        if self.slope == 0.0 {
            return k / self.rate;
        }
        // x = 2k / (r + sqrt(r² + 2·slope·k)): the stable root of slope/2·x² + r·x − k = 0.
        let disc = (self.rate * self.rate + 2.0 * self.slope * k).max(0.0);
        2.0 * k / (self.rate + disc.sqrt())
    }
}

impl Arrivals {
    pub(crate) fn new(phases: &[Phase]) -> Self {
        let mut segs = Vec::new();
        let mut phase_slots = Vec::with_capacity(phases.len());
        let mut first = 0;
        for (i, p) in phases.iter().enumerate() {
            let phase_first = first;
            let len = p.end_s - p.start_s;
            let ramp = p.ramp_s.min(len);
            let mut push = |start_s: f64, secs: f64, rate: f64, slope: f64| {
                // Arrivals over the stretch: the area under the rate.
                let count = ((rate + slope * secs / 2.0) * secs).floor().max(0.0) as u64;
                if count > 0 && (rate > 0.0 || slope > 0.0) {
                    segs.push(Seg {
                        start_s,
                        rate,
                        slope,
                        first,
                        count,
                        phase: i,
                    });
                    first += count;
                }
            };
            if ramp > 0.0 {
                push(
                    p.start_s,
                    ramp,
                    p.from_level,
                    (p.level - p.from_level) / ramp,
                );
            }
            if len > ramp {
                push(p.start_s + ramp, len - ramp, p.level, 0.0);
            }
            phase_slots.push((phase_first, first - phase_first));
        }
        Arrivals { segs, phase_slots }
    }

    /// Seconds from the start at which arrival `slot` is due; `None` past the last one.
    #[cfg(test)]
    pub(crate) fn time_of(&self, slot: u64) -> Option<f64> {
        self.due(slot).map(|(t, _)| t)
    }

    /// When arrival `slot` is due and the index of its phase; `None` past the last one.
    #[inline]
    pub(crate) fn due(&self, slot: u64) -> Option<(f64, usize)> {
        self.segs
            .iter()
            .find(|s| slot >= s.first && slot < s.first + s.count)
            .map(|s| (s.start_s + s.offset_of(slot - s.first), s.phase))
    }

    /// The first arrival slot and the number of arrivals of each phase, in order.
    pub(crate) fn phase_slots(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.phase_slots.iter().copied()
    }

    #[cfg(test)]
    pub(crate) fn total(&self) -> u64 {
        self.segs.last().map(|s| s.first + s.count).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Model, Stage};
    use std::time::Duration;

    fn load() -> LoadPlan {
        LoadPlan {
            model: Model::Closed {
                think_time: Duration::ZERO,
            },
            warmup: Duration::from_secs(1),
            stages: vec![
                Stage {
                    level: 2.0,
                    duration: Duration::from_secs(2),
                    ramp: Duration::ZERO,
                },
                Stage {
                    level: 4.0,
                    duration: Duration::from_secs(1),
                    ramp: Duration::ZERO,
                },
            ],
            from_preset: false,
        }
    }

    #[test]
    fn phases_start_with_the_warmup_at_the_first_level() {
        let p = phases(&load());
        assert_eq!(p.len(), 3);
        assert_eq!((p[0].stage, p[0].level, p[0].end_s), (None, 2.0, 1.0));
        assert_eq!((p[2].stage, p[2].start_s, p[2].end_s), (Some(1), 3.0, 4.0));
        assert_eq!(level_at(&p, 3.5), 4.0);
        assert_eq!(level_at(&p, 9.0), 0.0);
    }

    #[test]
    fn workers_above_the_level_wait_for_their_stage() {
        let p = phases(&load());
        assert_eq!(next_active(&p, 3, 0.5), Some(3.0));
        assert_eq!(next_active(&p, 0, 0.5), Some(0.5));
        assert_eq!(next_active(&p, 9, 0.5), None);
    }

    #[test]
    fn arrivals_follow_each_stage_rate() {
        let p = vec![
            Phase {
                start_s: 0.0,
                end_s: 1.0,
                stage: Some(0),
                level: 10.0,
                from_level: 10.0,
                ramp_s: 0.0,
            },
            Phase {
                start_s: 1.0,
                end_s: 2.0,
                stage: Some(1),
                level: 100.0,
                from_level: 100.0,
                ramp_s: 0.0,
            },
        ];
        let a = Arrivals::new(&p);
        assert_eq!(a.total(), 110);
        assert_eq!(a.time_of(0), Some(0.0));
        assert_eq!(a.time_of(5), Some(0.5));
        assert_eq!(a.time_of(10), Some(1.0));
        assert_eq!(a.time_of(60), Some(1.5));
        assert_eq!(a.time_of(110), None);
    }

    fn ramped(from: f64, to: f64, ramp_s: f64, len: f64) -> Vec<Phase> {
        vec![Phase {
            start_s: 0.0,
            end_s: len,
            stage: Some(0),
            level: to,
            from_level: from,
            ramp_s,
        }]
    }

    #[test]
    fn a_ramp_reaches_its_level_linearly_then_holds() {
        let mut l = load();
        l.warmup = Duration::ZERO;
        l.stages[1].ramp = Duration::from_millis(500);
        let p = phases(&l);
        // The first stage steps (no ramp); the second ramps from 2 to 4 over 0.5 s.
        assert_eq!((p[0].from_level, p[0].ramp_s), (2.0, 0.0));
        assert_eq!((p[1].from_level, p[1].level, p[1].ramp_s), (2.0, 4.0, 0.5));
        assert_eq!(level_at(&p, 2.0), 2.0);
        assert_eq!(level_at(&p, 2.25), 3.0);
        assert_eq!(level_at(&p, 2.5), 4.0);
        // User 2 (the third) joins when the ramp reaches 3, user 3 when it reaches 4.
        assert_eq!(next_active(&p, 2, 0.0), Some(2.25));
        assert_eq!(next_active(&p, 3, 0.0), Some(2.5));
        assert_eq!(active_in(&p, 2, 2.2), None);
        assert_eq!(active_in(&p, 2, 2.25), Some(1));
        assert_eq!(next_active(&p, 4, 0.0), None);
    }

    #[test]
    fn a_first_stage_ramps_up_from_zero_users() {
        // 0 → 50 users over 10 s: user i joins at (i + 1) / 5 s.
        let p = ramped(0.0, 50.0, 10.0, 30.0);
        let users = |t: f64| (0..60).filter(|&i| active_in(&p, i, t).is_some()).count();
        assert_eq!(users(0.0), 0);
        assert_eq!(users(1.0), 5);
        assert_eq!(users(1.1), 5);
        assert_eq!(users(5.0), 25);
        assert_eq!(users(10.0), 50);
        assert_eq!(users(29.9), 50);
        for i in [0usize, 7, 49] {
            let at = next_active(&p, i, 0.0).unwrap();
            assert!((at - (i as f64 + 1.0) / 5.0).abs() < 1e-9, "{i}: {at}");
            assert!(active_in(&p, i, at).is_some(), "{i} active when it wakes");
        }
    }

    #[test]
    fn a_rate_ramp_spreads_its_arrivals_under_a_rising_rate() {
        // 0 → 100/s over 2 s, then 100/s for 1 s: 100 + 100 arrivals.
        let a = Arrivals::new(&ramped(0.0, 100.0, 2.0, 3.0));
        assert_eq!(a.total(), 200);
        // Arrivals so far at x seconds into the ramp: 25·x².
        let t = |n| a.time_of(n).unwrap();
        assert_eq!(t(0), 0.0);
        assert!((t(25) - 1.0).abs() < 1e-9, "{}", t(25));
        assert!((t(99) - (99.0f64 / 25.0).sqrt()).abs() < 1e-9);
        assert_eq!(t(100), 2.0);
        assert!((t(150) - 2.5).abs() < 1e-9);
        // Times never go backwards.
        assert!((1..200).all(|n| t(n) >= t(n - 1)));
        assert_eq!(a.due(150).map(|(_, p)| p), Some(0));
        // A falling ramp: 100/s → 0 over 2 s, 100 arrivals, the last near the end.
        let down = Arrivals::new(&ramped(100.0, 0.0, 2.0, 2.0));
        assert_eq!(down.total(), 100);
        assert!(down.time_of(99).unwrap() < 2.0);
    }
}
