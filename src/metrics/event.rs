//! One recorded request as a fixed 24-byte [`Event`]: what a worker's recorder buffers between
//! hand-overs instead of a histogram of its own. The aggregator folds events into the window's
//! [`ReqStats`] with the same `record` every other path uses, so a virtual user costs a few
//! events of memory rather than a full HDR histogram (tens of KiB) and its window stats.

use super::stats::{Outcome, ReqStats, MAX_LATENCY_US};
use crate::result::ErrorClass;

/// One request as recorded: index, time, status, bytes, error class, retry flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    bytes: u64,
    /// µs, clamped to the histograms' range (1 h fits in a u32).
    latency_us: u32,
    req: u32,
    status: u16,
    /// `ErrorClass` index + 1; 0: no error.
    class: u8,
    /// This request was the retry of a failed first attempt (the event before it).
    retry: bool,
}

impl Event {
    fn of(req: usize, latency_us: u64, o: &Outcome, retry: bool) -> Self {
        Event {
            bytes: o.bytes,
            latency_us: latency_us.min(MAX_LATENCY_US) as u32,
            req: u32::try_from(req).unwrap_or(u32::MAX),
            status: o.status,
            class: o.error.map_or(0, |c| c.index() as u8 + 1),
            retry,
        }
    }

    /// The request's index among the scenario's requests.
    #[inline]
    pub(crate) fn request(&self) -> usize {
        self.req as usize
    }

    /// Adds this request to `stats`: exactly what `ReqStats::record` of its outcome adds.
    #[inline]
    pub(crate) fn fold_into(&self, stats: &mut ReqStats) {
        let o = Outcome {
            status: self.status,
            bytes: self.bytes,
            error: match self.class {
                0 => None,
                c => ErrorClass::ALL.get(usize::from(c) - 1).copied(),
            },
            message: None,
            retry_of: None,
        };
        if self.retry {
            stats.retries += 1;
        }
        stats.record_one(u64::from(self.latency_us), &o);
    }
}

/// Appends request `req` that took `latency_us` with outcome `o`. A retried request is two
/// events, its failed first attempt and the retry, timed as `ReqStats::record` times them.
#[inline]
pub(crate) fn push(events: &mut Vec<Event>, req: usize, latency_us: u64, o: &Outcome) {
    push_one(events, req, latency_us, o, false);
}

fn push_one(events: &mut Vec<Event>, req: usize, latency_us: u64, o: &Outcome, retry: bool) {
    if let Some(first) = &o.retry_of {
        push_one(
            events,
            req,
            latency_us.saturating_sub(first.retry_us),
            &first.outcome,
            false,
        );
        events.push(Event::of(req, first.retry_us, o, true));
        return;
    }
    events.push(Event::of(req, latency_us, o, retry));
}

/// Folds `events` into a fresh set of `n` stats (indexed like the scenario's requests);
/// events for an index beyond `n` are ignored.
pub(crate) fn fold(events: &[Event], n: usize) -> Vec<ReqStats> {
    let mut stats: Vec<ReqStats> = (0..n).map(|_| ReqStats::new()).collect();
    for e in events {
        if let Some(s) = stats.get_mut(e.request()) {
            e.fold_into(s);
        }
    }
    stats
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::FirstAttempt;

    /// Folding events gives the same stats as recording the outcomes directly.
    #[test]
    fn folded_events_equal_recorded_outcomes() {
        let mut e503 = Outcome::error(ErrorClass::Http5xx, "HTTP 503");
        e503.status = 503;
        e503.bytes = 9;
        let mut retried = Outcome::ok(200, 4);
        retried.retry_of = Some(Box::new(FirstAttempt {
            outcome: Outcome::error(ErrorClass::Reset, "closed"),
            retry_us: 700,
        }));
        let mut cut = Outcome::error(ErrorClass::Timeout, "slow");
        cut.status = 200;
        cut.bytes = 3;
        let cases: [(u64, &Outcome); 5] = [
            (1_200, &Outcome::ok(200, 12)),
            (0, &Outcome::ok(204, 0)),
            (35_000, &e503),
            (2_000, &retried),
            (u64::MAX, &cut),
        ];
        let mut direct = ReqStats::new();
        let mut events = Vec::new();
        for (us, o) in cases {
            direct.record(us, o);
            push(&mut events, 0, us, o);
        }
        assert_eq!(events.len(), 6, "the retry is two events");
        let folded = fold(&events, 1).remove(0);
        assert_eq!(folded.summary(1.0, 0), direct.summary(1.0, 0));
        assert_eq!(folded.hist, direct.hist);
        assert_eq!(folded.failed, direct.failed);
        assert_eq!(std::mem::size_of::<Event>(), 24);
    }

    #[test]
    fn events_beyond_the_scenario_requests_are_ignored() {
        let mut events = Vec::new();
        push(&mut events, 5, 100, &Outcome::ok(200, 0));
        push(&mut events, 1, 100, &Outcome::ok(200, 0));
        let stats = fold(&events, 2);
        assert_eq!((stats[0].requests(), stats[1].requests()), (0, 1));
    }
}
