//! The per-worker recorder: the hot path. Recording touches only this worker's memory: each
//! request is appended to a small buffer of 24-byte [`Event`]s, never to a histogram of the
//! worker's own (a full HDR histogram per virtual user cost ~100 KiB each, 1 GiB at 10,000
//! users). The worker hands the buffer to the aggregator as one [`Batch`] when its window
//! ends, before it goes idle, or when the buffer is full ([`EVENTS_PER_BATCH`]); the
//! aggregator folds the events into the window's stats and hands full-size buffers back
//! through an [`EventPool`], so a busy worker reuses its buffers instead of allocating.
//!
//! So that no window closes while a worker still holds data for it, each recorder publishes
//! the window it holds data for in one atomic ([`Holds`]), written only when that changes
//! (never per request). The recorder also knows the request in flight: a worker dropped in
//! the middle of one (an aborted run) records it as `interrupted`, with its real time.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc::UnboundedSender;
use tokio::time::Instant;

use super::event::{self, Event};
use super::stats::{Outcome, ReqStats};
use crate::result::ErrorClass;

/// Requests a recorder buffers before it hands them over within the same window: a busy
/// worker sends a batch every this many requests (6 KiB of events), an idle one at most one
/// per window it was active in.
pub(crate) const EVENTS_PER_BATCH: usize = 256;

/// Distinct error messages a recorder keeps per window, in all.
const MAX_SAMPLES: usize = 16;
/// Distinct error messages a recorder keeps per window and (request, class).
const MAX_SAMPLES_PER_KEY: usize = 3;

/// `holding` value of a recorder that holds no data.
const NOTHING: u32 = u32::MAX;

/// One sampled error message and how many times it occurred in the batch.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub request: usize,
    pub class: ErrorClass,
    pub message: String,
    pub count: u64,
}

/// One worker's data for one window (a worker may send several for the same window).
#[derive(Debug, Default)]
pub struct Batch {
    pub window: u32,
    /// The phase of the run's timeline (index of the engine's phases, the aggregator's
    /// spans) in which these requests started; `None`: attribute them by their window.
    pub phase: Option<u32>,
    /// The requests recorded, in the order they completed.
    pub events: Vec<Event>,
    /// Open model: arrivals dropped because `max_in_flight` was reached.
    pub dropped: u64,
    pub samples: Vec<Sample>,
}

impl Batch {
    /// An empty batch for `window`.
    pub fn new(window: u32) -> Self {
        Batch {
            window,
            ..Batch::default()
        }
    }

    /// Adds request `req` (an index into the scenario's requests) that took `latency_us`.
    pub fn record(&mut self, req: usize, latency_us: u64, o: &Outcome) {
        event::push(&mut self.events, req, latency_us, o);
    }

    /// The batch's requests as stats, `n` of them (indexed like the scenario's requests).
    pub(crate) fn stats(&self, n: usize) -> Vec<ReqStats> {
        event::fold(&self.events, n)
    }
}

/// The windows every recorder holds data for, read by the aggregator before it closes a
/// window. Registering takes a lock (once per worker); recording never does.
#[derive(Clone, Default)]
pub struct Holds(Arc<Mutex<Vec<Arc<AtomicU32>>>>);

impl Holds {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    fn register(&self) -> Arc<AtomicU32> {
        let slot = Arc::new(AtomicU32::new(NOTHING));
        if let Ok(mut v) = self.0.lock() {
            v.push(Arc::clone(&slot));
        }
        slot
    }

    /// The oldest window some recorder still holds data for.
    pub(crate) fn oldest(&self) -> Option<u32> {
        let v = self.0.lock().ok()?;
        v.iter()
            .map(|h| h.load(Ordering::Acquire))
            .filter(|w| *w != NOTHING)
            .min()
    }
}

/// Most buffers a pool keeps; beyond that, returned buffers are freed.
const POOL_CAP: usize = 256;

/// Full-size event buffers handed back by the aggregator, so that a busy worker's next batch
/// reuses one instead of allocating. Only buffers of `EVENTS_PER_BATCH` (256) or more are kept
/// (an idle worker's few events are a small allocation once per window); memory stays at a
/// few MiB at most, however many workers. Locked once per full batch, never per request.
#[derive(Clone, Default)]
pub struct EventPool(Arc<Mutex<Vec<Vec<Event>>>>);

impl EventPool {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// An empty buffer for a full batch: a recycled one when there is one.
    pub(crate) fn take(&self) -> Vec<Event> {
        let reused = self.0.lock().ok().and_then(|mut p| p.pop());
        reused.unwrap_or_else(|| Vec::with_capacity(EVENTS_PER_BATCH))
    }

    /// Empties `events` and keeps it for [`EventPool::take`] when it is full-size.
    pub(crate) fn give(&self, mut events: Vec<Event>) {
        if events.capacity() < EVENTS_PER_BATCH {
            return;
        }
        events.clear();
        if let Ok(mut p) = self.0.lock() {
            if p.len() < POOL_CAP {
                p.push(events);
            }
        }
    }

    /// Buffers held now.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.0.lock().map(|p| p.len()).unwrap_or(0)
    }
}

/// One worker's recorder: its current window's events and counters, and what it takes to
/// hand them over.
pub struct Recorder {
    /// The scenario's requests: an event for an index beyond is not recorded.
    requests: usize,
    /// The data held, for `batch.window`.
    batch: Batch,
    dirty: bool,
    tx: UnboundedSender<Batch>,
    pool: Option<EventPool>,
    /// Published window this recorder holds data for (`NOTHING` when clean).
    holding: Option<Arc<AtomicU32>>,
    /// The run's start, for the window of an interrupted request.
    origin: Option<Instant>,
    /// The request in flight: (request index, when its latency started).
    in_flight: Option<(usize, Instant)>,
}

impl Recorder {
    pub(crate) fn new(requests: usize, tx: UnboundedSender<Batch>) -> Self {
        Recorder {
            requests,
            batch: Batch::new(0),
            dirty: false,
            tx,
            pool: None,
            holding: None,
            origin: None,
            in_flight: None,
        }
    }

    /// A recorder that takes the buffers for its full batches from `pool`.
    pub(crate) fn with_pool(requests: usize, tx: UnboundedSender<Batch>, pool: EventPool) -> Self {
        let mut rec = Recorder::new(requests, tx);
        rec.pool = Some(pool);
        rec
    }

    /// Publishes the window this recorder holds data for in `holds`, and takes `origin` (the
    /// run's start) to place an interrupted request in its window.
    pub(crate) fn watched(mut self, holds: &Holds, origin: Instant) -> Self {
        self.holding = Some(holds.register());
        self.origin = Some(origin);
        self
    }

    #[inline]
    fn enter(&mut self, window: u32) {
        if window != self.batch.window {
            self.flush();
            self.batch.window = window;
        }
        if !self.dirty {
            self.dirty = true;
            if let Some(h) = &self.holding {
                h.store(window, Ordering::Release);
            }
        }
    }

    /// Notes the phase of the run's timeline (the warm-up or a stage) in which the next
    /// requests start, so each is counted in the stage it started in even when the stage
    /// changes within a second. A change hands over what is held first: a batch holds one
    /// phase. Costs a comparison per request; a flush once per phase change.
    #[inline]
    pub(crate) fn set_phase(&mut self, phase: u32) {
        if self.batch.phase != Some(phase) {
            self.flush();
            self.batch.phase = Some(phase);
        }
    }

    /// Notes that request `req` is being sent, its latency counting from `from`.
    #[inline]
    pub(crate) fn begin(&mut self, req: usize, from: Instant) {
        self.in_flight = Some((req, from));
    }

    /// Records one completed request in `window` (seconds since the run's start).
    #[inline]
    pub(crate) fn record(&mut self, req: usize, window: u32, latency_us: u64, o: &Outcome) {
        self.in_flight = None;
        if req >= self.requests {
            return;
        }
        self.enter(window);
        self.batch.record(req, latency_us, o);
        if let Some(first) = &o.retry_of {
            self.sample(req, &first.outcome);
        }
        self.sample(req, o);
        if self.batch.events.len() >= EVENTS_PER_BATCH {
            self.flush();
        }
    }

    /// Counts an error's message: each sampled (request, class, message) keeps its count.
    #[inline]
    fn sample(&mut self, req: usize, o: &Outcome) {
        let (Some(class), Some(msg)) = (o.error, &o.message) else {
            return;
        };
        let samples = &mut self.batch.samples;
        let mut same_key = 0;
        for s in samples.iter_mut() {
            if s.request == req && s.class == class {
                if s.message == msg.as_ref() {
                    s.count += 1;
                    return;
                }
                same_key += 1;
            }
        }
        if samples.len() < MAX_SAMPLES && same_key < MAX_SAMPLES_PER_KEY {
            samples.push(Sample {
                request: req,
                class,
                message: msg.to_string(),
                count: 1,
            });
        }
    }

    /// Counts an arrival that was not sent because every in-flight slot was busy.
    pub(crate) fn dropped(&mut self, window: u32) {
        self.enter(window);
        self.batch.dropped += 1;
    }

    /// Hands the held data to the aggregator when it belongs to a window before `window`:
    /// called before an idle wait, so that no window waits for a worker that is idle.
    #[inline]
    pub(crate) fn flush_before(&mut self, window: u32) {
        if self.dirty && self.batch.window < window {
            self.flush();
        }
    }

    /// Hands the held data to the aggregator (no-op when empty). The next buffer is a
    /// full-size one from the pool when this one filled up, else an empty one that grows
    /// with the few events an idle worker records.
    pub(crate) fn flush(&mut self) {
        if !self.dirty {
            return;
        }
        let fresh = match &self.pool {
            Some(pool) if self.batch.events.len() >= EVENTS_PER_BATCH => pool.take(),
            _ => Vec::new(),
        };
        let batch = Batch {
            window: self.batch.window,
            phase: self.batch.phase,
            events: std::mem::replace(&mut self.batch.events, fresh),
            dropped: std::mem::take(&mut self.batch.dropped),
            samples: std::mem::take(&mut self.batch.samples),
        };
        self.dirty = false;
        // The aggregator outlives every worker; if it is gone the run is over anyway.
        let _ = self.tx.send(batch);
        // Cleared after the send: an aggregator that sees nothing held finds the batch queued.
        if let Some(h) = &self.holding {
            h.store(NOTHING, Ordering::Release);
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        // Dropped mid-request (an aborted run cut the worker off): the request is counted,
        // as interrupted, with the time it had been running.
        if let Some((req, from)) = self.in_flight.take() {
            let now = Instant::now();
            let window = self
                .origin
                .map(|o| (now.saturating_duration_since(o).as_micros() / 1_000_000) as u32)
                .unwrap_or(self.batch.window);
            let o = Outcome::error(
                ErrorClass::Interrupted,
                Cow::Borrowed("still in flight when the run was aborted"),
            );
            let us = now.saturating_duration_since(from).as_micros() as u64;
            self.record(req, window, us, &o);
        }
        self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_worker_hands_over_full_buffers_and_reuses_them() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let pool = EventPool::new();
        let holds = Holds::new();
        let mut rec = Recorder::with_pool(2, tx, pool.clone()).watched(&holds, Instant::now());
        let n = EVENTS_PER_BATCH * 2 + 3;
        let record = |rec: &mut Recorder, from: usize, to: usize| {
            for i in from..to {
                rec.record(i % 2, 0, 100 + i as u64, &Outcome::ok(200, 5));
            }
        };
        record(&mut rec, 0, EVENTS_PER_BATCH);
        // A full batch of window 0 went out: nothing is held until the next request.
        let first = rx.try_recv().expect("a full buffer is handed over");
        assert_eq!((first.window, first.events.len()), (0, EVENTS_PER_BATCH));
        assert_eq!(holds.oldest(), None);
        let events = first.events.clone();
        pool.give(first.events);
        assert_eq!(pool.len(), 1);
        record(&mut rec, EVENTS_PER_BATCH, n);
        assert_eq!(holds.oldest(), Some(0));
        // The next full buffer went out, and its successor came from the pool.
        let second = rx.try_recv().expect("the second full buffer");
        assert_eq!(second.events.len(), EVENTS_PER_BATCH);
        assert_eq!(pool.len(), 0);
        rec.record(0, 1, 100, &Outcome::ok(200, 5));
        let rest = rx
            .try_recv()
            .expect("window 0 handed over when window 1 began");
        assert_eq!((rest.window, rest.events.len()), (0, 3));
        assert_eq!(rest.events.capacity(), EVENTS_PER_BATCH);
        // Every request is in exactly one batch, with its own time.
        let first = Batch {
            events,
            ..Batch::new(0)
        };
        let stats = [first.stats(2), second.stats(2), rest.stats(2)];
        let total: u64 = stats.iter().flatten().map(ReqStats::requests).sum();
        assert_eq!(total, n as u64);
        let max = stats.iter().flatten().map(|s| s.hist.max()).max();
        assert_eq!(max, Some(100 + n as u64 - 1));
        // Small batches are not pooled; full ones are, up to the cap.
        pool.give(Vec::with_capacity(4));
        assert_eq!(pool.len(), 0);
        pool.give(rest.events);
        assert_eq!(pool.len(), 1);
    }

    #[test]
    fn the_held_window_is_published_until_its_batch_is_sent() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let holds = Holds::new();
        let mut a = Recorder::new(1, tx.clone()).watched(&holds, Instant::now());
        let mut b = Recorder::new(1, tx).watched(&holds, Instant::now());
        assert_eq!(holds.oldest(), None);
        a.record(0, 3, 100, &Outcome::ok(200, 0));
        b.record(0, 4, 100, &Outcome::ok(200, 0));
        assert_eq!(holds.oldest(), Some(3));
        // Going idle past window 3 hands it over; nothing of window 3 is held any more.
        a.flush_before(4);
        assert_eq!(holds.oldest(), Some(4));
        assert_eq!(rx.try_recv().map(|b| b.window).ok(), Some(3));
        // Not before its own window: b keeps window 4 while it is still current.
        b.flush_before(4);
        assert_eq!(holds.oldest(), Some(4));
        b.record(0, 5, 100, &Outcome::ok(200, 0));
        assert_eq!(holds.oldest(), Some(5));
        drop(b);
        assert_eq!(holds.oldest(), None);
    }

    #[test]
    fn a_worker_dropped_mid_request_records_it_as_interrupted() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let origin = Instant::now();
        let mut rec = Recorder::new(2, tx).watched(&Holds::new(), origin);
        rec.begin(1, origin);
        rec.record(1, 0, 100, &Outcome::ok(200, 0));
        rec.begin(0, origin);
        drop(rec);
        let b = rx.try_recv().expect("flushed on drop");
        let stats = b.stats(2);
        assert_eq!(stats[1].ok, 1);
        assert_eq!(stats[0].errors[ErrorClass::Interrupted as usize], 1);
        assert_eq!(stats[0].requests(), 1);
        assert_eq!(b.samples[0].class, ErrorClass::Interrupted);
        // A worker that finished its request is not charged an interrupted one.
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut rec = Recorder::new(1, tx).watched(&Holds::new(), origin);
        rec.begin(0, origin);
        rec.record(0, 0, 100, &Outcome::ok(200, 0));
        drop(rec);
        assert_eq!(rx.try_recv().map(|b| b.events.len()).ok(), Some(1));
    }

    #[test]
    fn a_new_phase_hands_over_the_window_so_far_and_batches_carry_their_phase() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut rec = Recorder::new(1, tx);
        rec.set_phase(0);
        rec.record(0, 0, 100, &Outcome::ok(200, 0));
        rec.set_phase(0);
        rec.record(0, 0, 100, &Outcome::ok(200, 0));
        assert!(rx.try_recv().is_err(), "the same phase keeps collecting");
        rec.set_phase(1);
        let b = rx.try_recv().expect("phase 0 handed over");
        assert_eq!(
            (b.window, b.phase, b.stats(1)[0].requests()),
            (0, Some(0), 2)
        );
        rec.record(0, 0, 100, &Outcome::ok(200, 0));
        drop(rec);
        let b = rx.try_recv().unwrap();
        assert_eq!(
            (b.window, b.phase, b.stats(1)[0].requests()),
            (0, Some(1), 1)
        );
    }

    #[test]
    fn sampled_messages_count_every_occurrence() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut rec = Recorder::new(1, tx);
        for i in 0..10 {
            let msg = if i % 5 == 0 { "rare" } else { "common" };
            rec.record(0, 0, 100, &Outcome::error(ErrorClass::Reset, msg));
        }
        for i in 0..5 {
            rec.record(
                0,
                0,
                100,
                &Outcome::error(ErrorClass::Timeout, format!("t{i}")),
            );
        }
        drop(rec);
        let b = rx.try_recv().unwrap();
        let count = |m: &str| b.samples.iter().find(|s| s.message == m).map(|s| s.count);
        assert_eq!(count("common"), Some(8));
        assert_eq!(count("rare"), Some(2));
        // At most a few distinct messages per (request, class).
        let timeouts = b.samples.iter().filter(|s| s.class == ErrorClass::Timeout);
        assert_eq!(timeouts.count(), MAX_SAMPLES_PER_KEY);
    }
}
