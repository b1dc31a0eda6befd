//! The worker loop: pick a request, send it, record it, repeat. One loop serves both load
//! models; what differs is injected as a [`Pacing`]: the closed model waits for its stage and
//! thinks between requests, the open model waits for its arrival slot and measures from the
//! slot's scheduled time (so a stalled server shows in the percentiles).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::schedule;
use super::schedule::Phase;
use super::segment::SegmentArrivals;
use super::stop::StopSignal;
use crate::client::Session;
use crate::metrics::{ErrorClass, Recorder};

/// Picks request indexes by weight with a per-worker xorshift generator: no shared state.
#[derive(Clone)]
pub(crate) struct Picker {
    cumulative: Arc<[u64]>,
    state: u64,
}

impl Picker {
    pub(crate) fn new(weights: &[u32], seed: u64) -> Self {
        let mut acc = 0u64;
        let cumulative: Vec<u64> = weights
            .iter()
            .map(|w| {
                acc += u64::from(*w).max(1);
                acc
            })
            .collect();
        Picker {
            cumulative: cumulative.into(),
            state: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
        }
    }

    #[inline]
    pub(crate) fn pick(&mut self) -> usize {
        if self.cumulative.len() <= 1 {
            return 0;
        }
        let mut x = self.state;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.state = x;
        let total = self.cumulative[self.cumulative.len() - 1];
        let r = x % total;
        self.cumulative.partition_point(|c| *c <= r)
    }
}

/// When a worker may send its next request, and from when its latency counts.
pub(super) enum Pacing {
    /// Virtual user `index`: active while the stage's level is above `index`.
    Closed {
        index: usize,
        think: Duration,
        phases: Arc<Vec<Phase>>,
    },
    /// Takes the next arrival slot from a shared counter.
    Open(Arc<OpenShared>),
}

/// What the open model's workers share: the arrival schedule and the slot counter.
pub(super) struct OpenShared {
    pub arrivals: SegmentArrivals,
    pub next_slot: AtomicU64,
    /// Workers running now; grows on demand up to `max_in_flight`.
    pub workers: AtomicUsize,
    pub max_in_flight: usize,
}

/// A worker later than this for its slot means every in-flight slot was busy.
const LATE: Duration = Duration::from_millis(10);

/// What a worker needs besides its session and pacing.
pub(super) struct WorkerCtx {
    pub start: Instant,
    pub end: Instant,
    pub stop: StopSignal,
}

/// The 1-second window (since the run's start) that `at` falls in.
#[inline]
pub(super) fn window_of(start: Instant, at: Instant) -> u32 {
    (at.saturating_duration_since(start).as_micros() / 1_000_000) as u32
}

/// What the worker should do next.
enum Next {
    /// Send now; latency counts from `from`.
    Send {
        from: Instant,
    },
    Stop,
}

/// First pause after a failed connect; it doubles while the target keeps refusing.
const BACKOFF_MIN: Duration = Duration::from_millis(1);
/// Longest pause between connects to a target that refuses them.
const BACKOFF_MAX: Duration = Duration::from_millis(250);

/// The pause after a failed connect, given the previous one (zero after a success).
fn next_backoff(previous: Duration) -> Duration {
    (previous * 2).clamp(BACKOFF_MIN, BACKOFF_MAX)
}

/// Sleeps until `until` unless the run stops first; `false` when it stopped.
async fn idle_until(ctx: &WorkerCtx, until: Instant) -> bool {
    tokio::select! {
        _ = tokio::time::sleep_until(until) => true,
        _ = ctx.stop.stopped() => false,
    }
}

/// Runs until the run ends or stops. `grow` is called when the open model needs another
/// worker.
///
/// Every request started is recorded once, in the window in which it completed, with the
/// time from its start (its scheduled start in the open model) to its outcome. When the run
/// ends, the request in flight is finished (bounded by the target's timeout), not cut off;
/// when the worker is dropped (an aborted run), the recorder counts it as `interrupted`.
/// Before any idle wait that crosses into a later window, the worker hands over what it
/// holds, so no window waits for an idle worker.
pub(super) async fn work<S: Session>(
    mut session: S,
    mut pacing: Pacing,
    mut picker: Picker,
    mut rec: Recorder,
    ctx: Arc<WorkerCtx>,
    grow: impl Fn(),
) {
    // Closed model without think time: the previous request's end is the next one's start,
    // which saves a clock read per request.
    let mut last_done: Option<Instant> = None;
    let mut backoff = Duration::ZERO;
    loop {
        if ctx.stop.is_stopping() {
            break;
        }
        let next = match &mut pacing {
            Pacing::Closed { index, phases, .. } => {
                let now = last_done.take().unwrap_or_else(Instant::now);
                let t = now.saturating_duration_since(ctx.start).as_secs_f64();
                if let Some(phase) = schedule::active_in(phases, *index, t) {
                    rec.set_phase(phase as u32);
                    Next::Send { from: now }
                } else {
                    match schedule::next_active(phases, *index, t) {
                        Some(at) => {
                            rec.flush();
                            // Never a wake-up in the past: along a ramp, rounding may put
                            // the crossing a hair before `t`.
                            let at = at.max(t + 1e-6);
                            let wake = ctx.start + Duration::from_secs_f64(at);
                            if !idle_until(&ctx, wake.min(ctx.end)).await {
                                break;
                            }
                            continue;
                        }
                        None => Next::Stop,
                    }
                }
            }
            Pacing::Open(shared) => {
                let slot = shared.next_slot.fetch_add(1, Ordering::Relaxed);
                match shared.arrivals.due(slot) {
                    None => Next::Stop,
                    Some((t, phase)) => {
                        rec.set_phase(phase as u32);
                        let due = ctx.start + Duration::from_secs_f64(t);
                        let now = Instant::now();
                        if now > due + LATE {
                            // Nobody was free at the due time.
                            if shared.workers.load(Ordering::Relaxed) < shared.max_in_flight {
                                grow();
                                Next::Send { from: due }
                            } else {
                                rec.dropped(window_of(ctx.start, now));
                                continue;
                            }
                        } else if due > now {
                            // Idle before the slot: the server delayed nothing, and any
                            // lateness of the wake-up is the timer's (1 ms granularity).
                            rec.flush_before(window_of(ctx.start, due));
                            if !idle_until(&ctx, due).await {
                                break;
                            }
                            Next::Send {
                                from: Instant::now(),
                            }
                        } else {
                            // Busy past the slot: latency counts from when it was due, so a
                            // slow server cannot hide behind the generator (coordinated
                            // omission).
                            Next::Send { from: due }
                        }
                    }
                }
            }
        };
        let Next::Send { from } = next else { break };
        let req = picker.pick();
        rec.begin(req, from);
        let outcome = session.execute(req).await;
        let done = Instant::now();
        let latency = done.saturating_duration_since(from).as_micros() as u64;
        rec.record(req, window_of(ctx.start, done), latency, &outcome);
        if outcome.error == Some(ErrorClass::Connect) {
            // A target that refuses connections is counted, not hammered: pause, longer
            // while it keeps refusing (this also keeps a worker whose connects fail at once,
            // e.g. out of file descriptors, from spinning).
            backoff = next_backoff(backoff);
            let wake = done + backoff;
            rec.flush_before(window_of(ctx.start, wake));
            if !idle_until(&ctx, wake).await {
                break;
            }
            continue;
        }
        backoff = Duration::ZERO;
        if let Pacing::Closed { think, .. } = &pacing {
            if think.is_zero() {
                last_done = Some(done);
            } else {
                let wake = done + *think;
                rec.flush_before(window_of(ctx.start, wake));
                if !idle_until(&ctx, wake).await {
                    break;
                }
            }
        }
        // Calls that complete without waiting (in-process functions, failures found at
        // once) would otherwise never give the runtime back: yield when the task's
        // cooperative budget is spent, so timers, the aggregator and stop keep running.
        tokio::task::consume_budget().await;
    }
    rec.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picker_follows_weights() {
        let mut p = Picker::new(&[4, 1], 7);
        let mut counts = [0u32; 2];
        for _ in 0..50_000 {
            counts[p.pick()] += 1;
        }
        let share = counts[0] as f64 / 50_000.0;
        assert!((share - 0.8).abs() < 0.02, "share {share}");
        let mut one = Picker::new(&[3], 1);
        assert_eq!(one.pick(), 0);
    }

    #[test]
    fn connect_backoff_doubles_up_to_a_cap_well_under_a_second() {
        let mut b = Duration::ZERO;
        let mut seen = Vec::new();
        for _ in 0..12 {
            b = next_backoff(b);
            seen.push(b.as_millis());
        }
        assert_eq!(&seen[..4], &[1, 2, 4, 8]);
        assert_eq!(*seen.last().unwrap(), 250);
    }
}
