//! Execution segments: generator `I` of `N` (`run --segment I/N`) runs its exact share of
//! the load, so that `N` generators started together apply the scenario's load once.
//!
//! The load is striped, as k6's execution segments are: virtual user `v` of the whole run
//! (closed model) and arrival `n` of the whole schedule (open model) belong to segment
//! `v mod N + 1` (`n mod N + 1`). Nothing here rewrites the schedule: a segment maps its own
//! workers and arrival slots onto the whole run's, and the whole run's level function decides
//! as it does for one generator. So at every moment the segments' shares sum exactly to the
//! scenario's level, differ by at most one virtual user (one arrival), the first segments
//! taking the remainder (10 VUs over 3 generators are 4 + 3 + 3), and the segments' arrival
//! times interleave to the single generator's schedule instead of bunching.

use std::fmt;

use super::schedule::Arrivals;

/// Generator `index` (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Segment {
    index: u32,
    count: u32,
}

/// A segment that cannot be: `0/N`, `I/N` with `I > N`, or not `I/N` at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SegmentError {
    /// Not of the form `I/N`.
    #[error("`{0}` is not a segment; write I/N, e.g. 2/4 (generator 2 of 4)")]
    Syntax(String),
    /// `I` is 0 or above `N`, or `N` is 0.
    #[error("segment {index}/{count} does not exist: I goes from 1 to N")]
    OutOfRange {
        /// The generator asked for.
        index: u64,
        /// The number of generators.
        count: u64,
    },
}

impl Segment {
    /// The whole run: one generator.
    pub const WHOLE: Segment = Segment { index: 1, count: 1 };

    /// Generator `index` (from 1) of `count`.
    pub fn new(index: u64, count: u64) -> Result<Segment, SegmentError> {
        let bad = SegmentError::OutOfRange { index, count };
        if count == 0 || index == 0 || index > count {
            return Err(bad);
        }
        Ok(Segment {
            index: u32::try_from(index).map_err(|_| bad.clone())?,
            count: u32::try_from(count).map_err(|_| bad)?,
        })
    }

    /// Parses `I/N`.
    pub fn parse(s: &str) -> Result<Segment, SegmentError> {
        let syntax = || SegmentError::Syntax(s.to_string());
        let (i, n) = s.trim().split_once('/').ok_or_else(syntax)?;
        let i: u64 = i.trim().parse().map_err(|_| syntax())?;
        let n: u64 = n.trim().parse().map_err(|_| syntax())?;
        Segment::new(i, n)
    }

    /// This generator, from 1.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// How many generators share the load.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// True for the whole run (`1/1`).
    pub fn is_whole(&self) -> bool {
        self.count == 1
    }

    fn offset(&self) -> u64 {
        u64::from(self.index - 1)
    }

    fn n(&self) -> u64 {
        u64::from(self.count)
    }

    /// The whole run's virtual user that this segment's worker `local` plays.
    pub(crate) fn global_vu(&self, local: usize) -> usize {
        local * self.count as usize + (self.index - 1) as usize
    }

    /// How many of the whole run's first `whole` virtual users (or arrival slots) are this
    /// segment's.
    pub(crate) fn of_first(&self, whole: u64) -> u64 {
        (whole + self.n() - 1 - self.offset()) / self.n()
    }

    /// This segment's virtual users while the whole run's level is `level`: those of the whole
    /// run's users `v < level` that are this segment's (a worker is active while the level
    /// is above its index).
    pub(crate) fn share_of_level(&self, level: f64) -> f64 {
        if level.is_nan() || level <= 0.0 {
            return 0.0;
        }
        self.of_first(level.ceil() as u64) as f64
    }

    /// This segment's cap on requests in flight (open model): its share of the scenario's,
    /// at least one.
    pub(crate) fn share_of_cap(&self, cap: u32) -> u32 {
        (self.of_first(u64::from(cap)) as u32).max(1)
    }

    /// The whole schedule's arrival slot that this segment's slot `local` is.
    #[inline]
    pub(crate) fn slot(&self, local: u64) -> u64 {
        local * self.n() + self.offset()
    }
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Default for Segment {
    fn default() -> Self {
        Segment::WHOLE
    }
}

/// Open model: the arrival times of one segment, every `N`th arrival of the whole schedule.
#[derive(Debug, Clone)]
pub(crate) struct SegmentArrivals {
    all: Arrivals,
    segment: Segment,
}

impl SegmentArrivals {
    pub(crate) fn new(all: Arrivals, segment: Segment) -> Self {
        SegmentArrivals { all, segment }
    }

    /// Seconds from the start at which this segment's arrival `slot` is due; `None` past its
    /// last one.
    #[cfg(test)]
    pub(crate) fn time_of(&self, slot: u64) -> Option<f64> {
        self.all.time_of(self.segment.slot(slot))
    }

    /// When this segment's arrival `slot` is due and the index of its phase; `None` past its
    /// last one.
    #[inline]
    pub(crate) fn due(&self, slot: u64) -> Option<(f64, usize)> {
        self.all.due(self.segment.slot(slot))
    }

    /// This segment's arrival rate in each phase of the whole schedule: the scenario's rate
    /// times the segment's share of the phase's arrivals (exact: the segments' rates sum to
    /// the scenario's).
    pub(crate) fn rates(&self, levels: &[f64]) -> Vec<f64> {
        if self.segment.is_whole() {
            return levels.to_vec();
        }
        self.all
            .phase_slots()
            .zip(levels)
            .map(|((first, count), level)| {
                if count == 0 {
                    return level / self.segment.count as f64;
                }
                let mine = self.segment.of_first(first + count) - self.segment.of_first(first);
                level * mine as f64 / count as f64
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::schedule::Phase;

    fn all(n: u32) -> impl Iterator<Item = Segment> {
        (1..=n).map(move |i| Segment::new(u64::from(i), u64::from(n)).unwrap())
    }

    #[test]
    fn segments_parse_and_refuse_what_cannot_be() {
        assert_eq!(Segment::parse("2/4").unwrap(), Segment::new(2, 4).unwrap());
        assert_eq!(Segment::parse(" 1 / 1 ").unwrap(), Segment::WHOLE);
        assert_eq!(Segment::parse("3/4").unwrap().to_string(), "3/4");
        for bad in ["0/4", "5/4", "1/0"] {
            assert!(
                matches!(Segment::parse(bad), Err(SegmentError::OutOfRange { .. })),
                "{bad}"
            );
        }
        for bad in ["2", "a/4", "2/4/1", "-1/4", ""] {
            assert!(
                matches!(Segment::parse(bad), Err(SegmentError::Syntax(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn ten_users_over_three_generators_are_four_three_three() {
        let shares: Vec<f64> = all(3).map(|s| s.share_of_level(10.0)).collect();
        assert_eq!(shares, [4.0, 3.0, 3.0]);
        // The users each runs are the whole run's, striped.
        let s2 = Segment::new(2, 3).unwrap();
        assert_eq!(
            (0..3).map(|i| s2.global_vu(i)).collect::<Vec<_>>(),
            [1, 4, 7]
        );
    }

    /// For many levels and generator counts, the shares sum to the level exactly and differ
    /// by at most one user; the users they play are each of the whole run's once.
    #[test]
    fn closed_shares_sum_exactly_and_differ_by_at_most_one() {
        for n in 1..=17u32 {
            for level in 0..=250u32 {
                let shares: Vec<f64> = all(n).map(|s| s.share_of_level(level as f64)).collect();
                assert_eq!(shares.iter().sum::<f64>(), level as f64, "{level} over {n}");
                let (lo, hi) = shares
                    .iter()
                    .fold((f64::MAX, 0.0f64), |(lo, hi), s| (lo.min(*s), hi.max(*s)));
                assert!(hi - lo <= 1.0, "{level} over {n}: {shares:?}");
                let mut vus: Vec<usize> = all(n)
                    .flat_map(|s| {
                        (0..s.share_of_level(level as f64) as usize).map(move |i| s.global_vu(i))
                    })
                    .collect();
                vus.sort_unstable();
                assert_eq!(vus, (0..level as usize).collect::<Vec<_>>());
            }
        }
        // A level between whole numbers (a ramp) has the active users of the whole run.
        let shares: f64 = all(4).map(|s| s.share_of_level(6.5)).sum();
        assert_eq!(shares, 7.0);
        assert_eq!(Segment::new(3, 4).unwrap().share_of_cap(2), 1);
    }

    fn phases(levels: &[(f64, f64)]) -> Vec<Phase> {
        let mut t = 0.0;
        levels
            .iter()
            .enumerate()
            .map(|(i, (secs, level))| {
                let p = Phase {
                    start_s: t,
                    end_s: t + secs,
                    stage: Some(i),
                    level: *level,
                    from_level: *level,
                    ramp_s: 0.0,
                };
                t += secs;
                p
            })
            .collect()
    }

    #[test]
    fn a_rate_of_100_over_three_generators_is_33_4_33_3_33_3() {
        let p = phases(&[(10.0, 100.0)]);
        let rates: Vec<f64> = all(3)
            .map(|s| SegmentArrivals::new(Arrivals::new(&p), s).rates(&[100.0])[0])
            .collect();
        assert_eq!(rates, [33.4, 33.3, 33.3]);
    }

    /// Open model: for many rates and generator counts, each segment's arrivals per phase
    /// differ by at most one, and all segments' arrival times together are exactly the
    /// single generator's schedule, interleaved (segment `n mod N` takes arrival `n`).
    #[test]
    fn open_arrivals_of_the_segments_interleave_to_the_single_schedule() {
        for n in 1..=9u32 {
            for rate in [1.0, 7.0, 10.0, 33.0, 100.0, 250.5] {
                let p = phases(&[(2.0, rate), (1.0, rate * 3.0), (1.5, 0.5)]);
                let whole = Arrivals::new(&p);
                let single: Vec<f64> = (0..).map_while(|i| whole.time_of(i)).collect();
                let segs: Vec<Vec<f64>> = all(n)
                    .map(|s| {
                        let a = SegmentArrivals::new(whole.clone(), s);
                        (0..).map_while(|i| a.time_of(i)).collect()
                    })
                    .collect();
                let counts: Vec<usize> = segs.iter().map(Vec::len).collect();
                assert_eq!(counts.iter().sum::<usize>(), single.len());
                assert!(counts.iter().max().unwrap() - counts.iter().min().unwrap() <= 1);
                // Interleaved: taking one arrival from each segment in turn is the schedule.
                let mut merged: Vec<f64> = Vec::new();
                for i in 0..counts[0] {
                    merged.extend(segs.iter().filter_map(|s| s.get(i)));
                }
                assert_eq!(merged, single, "{rate}/s over {n}");
                // The rates per phase add up to the scenario's.
                let levels: Vec<f64> = p.iter().map(|x| x.level).collect();
                let sums = all(n).fold(vec![0.0; levels.len()], |mut acc, s| {
                    let r = SegmentArrivals::new(whole.clone(), s).rates(&levels);
                    acc.iter_mut().zip(r).for_each(|(a, r)| *a += r);
                    acc
                });
                for (sum, level) in sums.iter().zip(&levels) {
                    assert!((sum - level).abs() < 1e-9, "{sums:?} vs {levels:?}");
                }
            }
        }
    }
}
