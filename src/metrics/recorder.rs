//! The per-worker recorder: the hot path. Recording touches only this worker's memory; once
//! per 1-second window the worker hands its data to the aggregator as one [`Batch`].

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

pub struct Recorder {
    window: u32,
    stats: Vec<ReqStats>,
    dropped: u64,
    samples: Vec<(usize, ErrorClass, String)>,
    dirty: bool,
    tx: UnboundedSender<Batch>,
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
        }
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
        let fresh = (0..self.stats.len()).map(|_| ReqStats::new()).collect();
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
