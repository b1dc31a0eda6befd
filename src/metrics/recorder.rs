//! The per-worker recorder: the hot path. Recording touches only this worker's memory; once
//! per 1-second window the worker hands its data to the aggregator as one [`Batch`], and
//! takes emptied stats for the next window from a [`StatsPool`] the aggregator refills.

use std::sync::{Arc, Mutex};

use tokio::sync::mpsc::UnboundedSender;

use super::stats::{ErrorClass, Outcome, ReqStats};

/// Error messages kept per window and worker, at most one per (request, class).
const MAX_SAMPLES: usize = 16;

/// One worker's data for one window.
#[derive(Debug)]
pub struct Batch {
    pub window: u32,
    /// Indexed like the scenario's requests.
    pub stats: Vec<ReqStats>,
    /// Open model: arrivals dropped because `max_in_flight` was reached.
    pub dropped: u64,
    /// (request index, class, message)
    pub samples: Vec<(usize, ErrorClass, String)>,
}

/// Most stats sets a pool keeps; beyond that, returned sets are freed.
const POOL_CAP: usize = 4096;

/// Emptied per-window stats handed back by the aggregator, so a worker's next window reuses
/// histograms that have already grown to size instead of allocating (and resizing) new ones
/// every second. Memory stays at about one set per worker, however long the run. Locked once
/// per window and worker, never per request.
#[derive(Clone, Default)]
pub struct StatsPool(Arc<Mutex<Vec<Vec<ReqStats>>>>);

impl StatsPool {
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty set of `n` stats: a recycled one when there is one.
    pub fn take(&self, n: usize) -> Vec<ReqStats> {
        let reused = self.0.lock().ok().and_then(|mut p| p.pop());
        match reused {
            Some(s) if s.len() == n => s,
            _ => (0..n).map(|_| ReqStats::new()).collect(),
        }
    }

    /// Empties `stats` and keeps them for [`StatsPool::take`].
    pub fn give(&self, mut stats: Vec<ReqStats>) {
        stats.iter_mut().for_each(ReqStats::reset);
        if let Ok(mut p) = self.0.lock() {
            if p.len() < POOL_CAP {
                p.push(stats);
            }
        }
    }

    /// Sets held now.
    pub fn len(&self) -> usize {
        self.0.lock().map(|p| p.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

pub struct Recorder {
    window: u32,
    stats: Vec<ReqStats>,
    dropped: u64,
    samples: Vec<(usize, ErrorClass, String)>,
    dirty: bool,
    tx: UnboundedSender<Batch>,
    pool: Option<StatsPool>,
}

impl Recorder {
    pub fn new(requests: usize, tx: UnboundedSender<Batch>) -> Self {
        Recorder {
            window: 0,
            stats: (0..requests).map(|_| ReqStats::new()).collect(),
            dropped: 0,
            samples: Vec::new(),
            dirty: false,
            tx,
            pool: None,
        }
    }

    /// A recorder that takes each window's fresh stats from `pool`.
    pub fn with_pool(requests: usize, tx: UnboundedSender<Batch>, pool: StatsPool) -> Self {
        let mut rec = Recorder::new(requests, tx);
        rec.pool = Some(pool);
        rec
    }

    #[inline]
    fn enter(&mut self, window: u32) {
        if window != self.window {
            self.flush();
            self.window = window;
        }
        self.dirty = true;
    }

    /// Records one completed request in `window` (seconds since the run's start).
    #[inline]
    pub fn record(&mut self, req: usize, window: u32, latency_us: u64, o: &Outcome) {
        self.enter(window);
        if let Some(s) = self.stats.get_mut(req) {
            s.record(latency_us, o);
        }
        if let (Some(class), Some(msg)) = (o.error, &o.message) {
            if self.samples.len() < MAX_SAMPLES
                && !self
                    .samples
                    .iter()
                    .any(|(r, c, _)| *r == req && *c == class)
            {
                self.samples.push((req, class, msg.to_string()));
            }
        }
    }

    /// Counts an arrival that was not sent because every in-flight slot was busy.
    pub fn dropped(&mut self, window: u32) {
        self.enter(window);
        self.dropped += 1;
    }

    /// Hands the current window's data to the aggregator (no-op when empty).
    pub fn flush(&mut self) {
        if !self.dirty {
            return;
        }
        let n = self.stats.len();
        let fresh = match &self.pool {
            Some(pool) => pool.take(n),
            None => (0..n).map(|_| ReqStats::new()).collect(),
        };
        let batch = Batch {
            window: self.window,
            stats: std::mem::replace(&mut self.stats, fresh),
            dropped: std::mem::take(&mut self.dropped),
            samples: std::mem::take(&mut self.samples),
        };
        self.dirty = false;
        // The aggregator outlives every worker; if it is gone the run is over anyway.
        let _ = self.tx.send(batch);
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pooled_stats_come_back_empty_and_are_reused() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let pool = StatsPool::new();
        let mut rec = Recorder::with_pool(2, tx, pool.clone());
        rec.record(1, 0, 40_000, &Outcome::ok(200, 5));
        rec.record(1, 1, 100, &Outcome::ok(200, 5));
        let first = rx.try_recv().expect("window 0 flushed");
        assert_eq!((first.window, first.stats[1].requests()), (0, 1));
        let grown = first.stats[1].hist.high();
        pool.give(first.stats);
        assert_eq!(pool.len(), 1);
        rec.record(1, 2, 100, &Outcome::ok(200, 5));
        // Window 1 went out; window 2 records into the recycled (emptied, already grown) set.
        let second = rx.try_recv().expect("window 1 flushed");
        assert_eq!(second.stats[1].requests(), 1);
        assert!(pool.is_empty());
        assert_eq!(rec.stats[1].requests(), 1);
        assert!(rec.stats[1].hist.high() >= grown);
    }
}
