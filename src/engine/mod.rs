//! The engine: turns the plan's load shape into a timeline and drives a [`Target`] with tokio
//! tasks, one per virtual user (closed model) or per in-flight arrival (open model), until the
//! deadline or a stop signal. It hands batches to the metrics aggregator and returns what it
//! measured. It knows nothing of reports.
//!
//! At the deadline no worker starts another request, and the requests in flight are awaited
//! (each is bounded by the target's timeout) and recorded where they finish: they are the
//! run's tail. On an abort, workers get [`ABORT_GRACE`]; whatever is still in flight then is
//! cut off and counted as `interrupted`. A window closes only when its second is over (plus
//! a little slack) and no worker still holds data for it.

pub mod schedule;
#[cfg(test)]
mod sim_tests;
pub mod stop;
mod worker;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::task::JoinSet;
use tokio::time::Instant;

pub use stop::StopSignal;
pub use worker::Picker;

use crate::client::Target;
use crate::metrics::{Aggregator, Batch, Holds, MetricsOutput, Recorder, StatsPool};
use crate::result::Window;
use crate::scenario::{LoadPlan, Model};
use worker::{OpenShared, Pacing, WorkerCtx};

/// How long workers get to finish their request after an abort, before they are cut off.
pub const ABORT_GRACE: Duration = Duration::from_millis(500);
/// How long after its second a window may close: covers a worker between reading the clock
/// and publishing the window it now holds.
const CLOSE_SLACK: Duration = Duration::from_millis(100);

/// What the engine measured.
pub struct EngineOutput {
    pub metrics: MetricsOutput,
    pub elapsed: Duration,
    pub aborted: bool,
    pub started_at: chrono::DateTime<chrono::Utc>,
}

/// Called with each closed 1-second window, for live progress.
pub type WindowHook = Box<dyn FnMut(&Window) + Send>;

/// Runs `load` against `target`. `names` and `weights` describe the scenario's requests (by
/// index). Stops at the end of the last stage, or early when `stop` is aborted.
pub async fn run<T: Target>(
    target: Arc<T>,
    names: Vec<String>,
    weights: Vec<u32>,
    load: &LoadPlan,
    stop: StopSignal,
    mut on_window: Option<WindowHook>,
) -> EngineOutput {
    let phases = schedule::phases(load);
    let total = load.total_duration();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let unit = match load.model {
        Model::Closed { .. } => "vus",
        Model::Open { .. } => "rps",
    };
    let mut aggregator = Aggregator::new(names.clone(), phases.clone(), unit);
    let pool = StatsPool::new();
    aggregator.recycle_into(pool.clone());
    let holds = Holds::new();

    let started_at = chrono::Utc::now();
    let start = Instant::now();
    let end = start + total;
    let ctx = Arc::new(WorkerCtx {
        start,
        end,
        stop: stop.clone(),
    });
    let n = names.len();
    let recorder = || Recorder::with_pool(n, tx.clone(), pool.clone()).watched(&holds, start);
    let mut tasks = JoinSet::new();
    // Open model: one more worker, sharing the arrival schedule; it asks for another through
    // `grow_tx` when it finds every in-flight slot busy.
    let spawn_open = |tasks: &mut JoinSet<()>,
                      id: usize,
                      shared: &Arc<OpenShared>,
                      grow_tx: &UnboundedSender<()>| {
        shared.workers.fetch_add(1, Ordering::Relaxed);
        let grow_tx = grow_tx.clone();
        tasks.spawn(worker::run(
            target.session(),
            Pacing::Open(Arc::clone(shared)),
            Picker::new(&weights, id as u64 + 1),
            recorder(),
            Arc::clone(&ctx),
            move || {
                let _ = grow_tx.send(());
            },
        ));
    };
    let mut open: Option<(Arc<OpenShared>, UnboundedSender<()>)> = None;
    let mut grow_rx: Option<UnboundedReceiver<()>> = None;

    match load.model {
        Model::Closed { think_time } => {
            let vus = load.peak().ceil() as usize;
            let phases = Arc::new(phases.clone());
            for i in 0..vus {
                let pacing = Pacing::Closed {
                    index: i,
                    think: think_time,
                    phases: Arc::clone(&phases),
                };
                tasks.spawn(worker::run(
                    target.session(),
                    pacing,
                    Picker::new(&weights, i as u64 + 1),
                    recorder(),
                    Arc::clone(&ctx),
                    || {},
                ));
            }
        }
        Model::Open { max_in_flight } => {
            let shared = Arc::new(OpenShared {
                arrivals: schedule::Arrivals::new(&phases),
                next_slot: AtomicU64::new(0),
                workers: AtomicUsize::new(0),
                max_in_flight: max_in_flight as usize,
            });
            // Workers beyond the first few are started on demand, up to max_in_flight.
            let (grow_tx, rx_grow) = tokio::sync::mpsc::unbounded_channel::<()>();
            for i in 0..(max_in_flight as usize).min(16) {
                spawn_open(&mut tasks, i, &shared, &grow_tx);
            }
            open = Some((shared, grow_tx));
            grow_rx = Some(rx_grow);
        }
    }

    // Feed the aggregator and close windows until the deadline (or a stop); in the open
    // model, also grow the worker pool when asked.
    let run_until = async {
        tokio::select! {
            _ = tokio::time::sleep_until(end) => {}
            _ = stop.stopped() => {}
        }
    };
    tokio::pin!(run_until);
    let mut tick = tokio::time::interval_at(
        start + Duration::from_secs(1) + CLOSE_SLACK,
        Duration::from_secs(1),
    );
    let mut next_id = tasks.len();
    loop {
        let grow = async {
            match grow_rx.as_mut() {
                Some(r) => r.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = &mut run_until => break,
            Some(b) = rx.recv() => aggregator.absorb(b),
            _ = tick.tick() => close_ready(&mut aggregator, &mut rx, &holds, start, &mut on_window),
            Some(()) = grow => {
                if let Some((shared, grow_tx)) = &open {
                    if shared.workers.load(Ordering::Relaxed) < shared.max_in_flight {
                        spawn_open(&mut tasks, next_id, shared, grow_tx);
                        next_id += 1;
                    }
                }
            }
        }
    }
    drop(open);
    drop(grow_rx);
    let elapsed = start.elapsed().min(total);
    // No new request from here on; those in flight finish (each within its timeout).
    stop.stop();

    // Wait for the workers, still closing windows as they complete. An abort (now or while
    // waiting) leaves them ABORT_GRACE, then cuts off the rest: a worker dropped mid-request
    // records it as `interrupted`, and every recorder flushes when dropped.
    let mut cut_at = stop.is_aborted().then(|| Instant::now() + ABORT_GRACE);
    loop {
        let cut = async {
            match cut_at {
                Some(t) => tokio::time::sleep_until(t).await,
                None => std::future::pending().await,
            }
        };
        let aborted = async {
            match cut_at {
                None => stop.aborted().await,
                Some(_) => std::future::pending().await,
            }
        };
        tokio::select! {
            joined = tasks.join_next() => {
                if joined.is_none() {
                    break;
                }
            }
            Some(b) = rx.recv() => aggregator.absorb(b),
            _ = tick.tick() => close_ready(&mut aggregator, &mut rx, &holds, start, &mut on_window),
            _ = aborted => cut_at = Some(Instant::now() + ABORT_GRACE),
            _ = cut => {
                tasks.abort_all();
                while tasks.join_next().await.is_some() {}
                break;
            }
        }
    }
    drop(tx);
    while let Some(b) = rx.recv().await {
        aggregator.absorb(b);
    }
    let metrics = aggregator.finish(elapsed.as_secs_f64());
    if let Some(hook) = on_window.as_mut() {
        if let Some(w) = metrics.timeseries.last() {
            hook(w);
        }
    }
    EngineOutput {
        metrics,
        elapsed,
        aborted: stop.is_aborted(),
        started_at,
    }
}

/// Closes the windows whose second is over (plus [`CLOSE_SLACK`]) and for which no worker
/// holds data any more. Holdings are read before the queue is drained: a worker clears its
/// holding only after sending its batch, so that batch is in the queue by then.
fn close_ready(
    agg: &mut Aggregator,
    rx: &mut UnboundedReceiver<Batch>,
    holds: &Holds,
    start: Instant,
    hook: &mut Option<WindowHook>,
) {
    let oldest_held = holds.oldest();
    while let Ok(b) = rx.try_recv() {
        agg.absorb(b);
    }
    let over = start.elapsed().saturating_sub(CLOSE_SLACK).as_secs() as u32;
    let until = oldest_held.map_or(over, |w| w.min(over));
    let closed = agg.close_until(until);
    if let Some(h) = hook.as_mut() {
        for w in closed {
            h(w);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{Outcome, Phase};

    #[test]
    fn a_window_waits_for_the_worker_that_holds_data_for_it() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let phases = vec![Phase {
            start_s: 0.0,
            end_s: 10.0,
            stage: Some(0),
            level: 1.0,
        }];
        let mut agg = Aggregator::new(vec!["x".into()], phases, "vus");
        let holds = Holds::new();
        // Three seconds into the run: windows 0 and 1 are over.
        let start = Instant::now() - Duration::from_secs(3);
        let mut busy = Recorder::new(1, tx.clone()).watched(&holds, start);
        let mut quick = Recorder::new(1, tx).watched(&holds, start);
        busy.record(0, 0, 100, &Outcome::ok(200, 0));
        quick.record(0, 0, 100, &Outcome::ok(200, 0));
        quick.record(0, 1, 100, &Outcome::ok(200, 0));
        let mut hook = None;
        close_ready(&mut agg, &mut rx, &holds, start, &mut hook);
        // `busy` still holds window 0: nothing closes, whatever the clock says.
        assert_eq!(agg.next_to_close(), 0);
        busy.flush_before(2);
        quick.flush_before(2);
        close_ready(&mut agg, &mut rx, &holds, start, &mut hook);
        assert_eq!(agg.next_to_close(), 2);
        assert_eq!(agg.late_batches(), 0);
        let out = agg.finish(3.0);
        assert_eq!(out.timeseries[0].requests, 2);
        assert_eq!(out.timeseries[1].requests, 1);
    }
}
