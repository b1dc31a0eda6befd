//! The run's timeline: the warm-up and the stages as [`Phase`]s in seconds, the level in
//! force at any moment (closed model), and the arrival times of the open model.

use crate::metrics::Span;
use crate::scenario::LoadPlan;

/// A span of the run's timeline: the warm-up (`stage: None`) or one stage.
#[derive(Debug, Clone, PartialEq)]
pub struct Phase {
    pub start_s: f64,
    pub end_s: f64,
    pub stage: Option<usize>,
    /// Virtual users or arrivals per second.
    pub level: f64,
}

impl Phase {
    /// What the aggregator needs of this phase.
    pub fn span(&self) -> Span {
        Span {
            start_s: self.start_s,
            end_s: self.end_s,
            stage: self.stage,
            level: self.level,
        }
    }
}

/// Phases in time order: the warm-up (when set) at the first stage's level, then each stage.
pub fn phases(load: &LoadPlan) -> Vec<Phase> {
    let mut out = Vec::new();
    let mut t = 0.0;
    if !load.warmup.is_zero() {
        let level = load.stages.first().map(|s| s.level).unwrap_or(0.0);
        let end = load.warmup.as_secs_f64();
        out.push(Phase {
            start_s: 0.0,
            end_s: end,
            stage: None,
            level,
        });
        t = end;
    }
    for (i, s) in load.stages.iter().enumerate() {
        let end = t + s.duration.as_secs_f64();
        out.push(Phase {
            start_s: t,
            end_s: end,
            stage: Some(i),
            level: s.level,
        });
        t = end;
    }
    out
}

/// The level in force at `t` seconds (0 after the end).
pub(crate) fn level_at(phases: &[Phase], t: f64) -> f64 {
    phases
        .iter()
        .find(|p| t >= p.start_s && t < p.end_s)
        .map(|p| p.level)
        .unwrap_or(0.0)
}

/// The first moment after `t` at which the level exceeds `worker` (so worker `worker` is
/// active), or `None` when it never does again.
pub(crate) fn next_active(phases: &[Phase], worker: usize, t: f64) -> Option<f64> {
    phases
        .iter()
        .filter(|p| p.end_s > t && p.level > worker as f64)
        .map(|p| p.start_s.max(t))
        .next()
}

/// Open model: arrival `n` of the run happens at [`Arrivals::time_of`]`(n)` seconds.
#[derive(Debug, Clone)]
pub(crate) struct Arrivals {
    segs: Vec<Seg>,
}

#[derive(Debug, Clone)]
struct Seg {
    start_s: f64,
    rate: f64,
    first: u64,
    count: u64,
}

impl Arrivals {
    pub(crate) fn new(phases: &[Phase]) -> Self {
        let mut segs = Vec::new();
        let mut first = 0;
        for p in phases {
            let count = ((p.end_s - p.start_s) * p.level).floor().max(0.0) as u64;
            segs.push(Seg {
                start_s: p.start_s,
                rate: p.level,
                first,
                count,
            });
            first += count;
        }
        Arrivals { segs }
    }

    /// Seconds from the start at which arrival `slot` is due; `None` past the last one.
    pub(crate) fn time_of(&self, slot: u64) -> Option<f64> {
        self.segs
            .iter()
            .find(|s| slot >= s.first && slot < s.first + s.count)
            .map(|s| s.start_s + (slot - s.first) as f64 / s.rate)
    }

    /// The first arrival slot and the number of arrivals of each phase, in order.
    pub(crate) fn phase_slots(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.segs.iter().map(|s| (s.first, s.count))
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
                },
                Stage {
                    level: 4.0,
                    duration: Duration::from_secs(1),
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
            },
            Phase {
                start_s: 1.0,
                end_s: 2.0,
                stage: Some(1),
                level: 100.0,
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
}
