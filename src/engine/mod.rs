//! The engine: turns the plan's load shape into a timeline and drives a [`Target`] with tokio
//! tasks, one per virtual user (closed model) or per in-flight arrival (open model), until the
//! deadline or a stop signal. It hands batches to the metrics aggregator and returns what it
//! measured. It knows nothing of reports.

pub mod schedule;
pub mod stop;
mod worker;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::time::Instant;

pub use stop::StopSignal;
pub use worker::Picker;

use crate::metrics::{Aggregator, MetricsOutput, Recorder, StatsPool};
use crate::result::Window;
use crate::scenario::{LoadPlan, Model};
use crate::target::Target;
use worker::{OpenShared, Pacing, WorkerCtx};

/// How long workers get to finish their request once the run ends, before they are cut off.
const GRACE: Duration = Duration::from_millis(200);

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

    let started_at = chrono::Utc::now();
    let start = Instant::now();
    let end = start + total;
    let ctx = Arc::new(WorkerCtx {
        start,
        end,
        stop: stop.clone(),
    });
    let n = names.len();
    let mut handles = Vec::new();
    // Open model: one more worker, sharing the arrival schedule; it asks for another through
    // `grow_tx` when it finds every in-flight slot busy.
    let spawn_open = |id: usize, shared: &Arc<OpenShared>, grow_tx: &UnboundedSender<()>| {
        shared.workers.fetch_add(1, Ordering::Relaxed);
        let grow_tx = grow_tx.clone();
        tokio::spawn(worker::run(
            target.session(),
            Pacing::Open(Arc::clone(shared)),
            Picker::new(&weights, id as u64 + 1),
            Recorder::with_pool(n, tx.clone(), pool.clone()),
            Arc::clone(&ctx),
            move || {
                let _ = grow_tx.send(());
            },
        ))
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
                let fut = worker::run(
                    target.session(),
                    pacing,
                    Picker::new(&weights, i as u64 + 1),
                    Recorder::with_pool(n, tx.clone(), pool.clone()),
                    Arc::clone(&ctx),
                    || {},
                );
                handles.push(tokio::spawn(fut));
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
                handles.push(spawn_open(i, &shared, &grow_tx));
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
    let mut tick =
        tokio::time::interval_at(start + Duration::from_millis(1050), Duration::from_secs(1));
    let mut next_id = handles.len();
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
            _ = tick.tick() => close_ready(&mut aggregator, start, &mut on_window),
            Some(()) = grow => {
                if let Some((shared, grow_tx)) = &open {
                    if shared.workers.load(Ordering::Relaxed) < shared.max_in_flight {
                        handles.push(spawn_open(next_id, shared, grow_tx));
                        next_id += 1;
                    }
                }
            }
        }
    }
    drop(open);
    drop(tx);
    stop.stop();
    let elapsed = start.elapsed().min(total);

    // Let in-flight requests finish briefly, then cut the rest off. A worker's recorder
    // flushes when its task ends or is dropped, so nothing recorded is lost.
    let deadline = Instant::now() + GRACE;
    for mut h in handles {
        if tokio::time::timeout_at(deadline, &mut h).await.is_err() {
            h.abort();
            let _ = h.await;
        }
    }
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

/// Closes windows that every worker has had a full second to report.
fn close_ready(agg: &mut Aggregator, start: Instant, hook: &mut Option<WindowHook>) {
    let now_w = start.elapsed().as_secs() as u32;
    let closed = agg.close_until(now_w.saturating_sub(1));
    if let Some(h) = hook.as_mut() {
        for w in closed {
            h(w);
        }
    }
}
