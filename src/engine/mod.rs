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
            let (grow_tx, mut grow_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
            let initial = (max_in_flight as usize).min(16);
            let spawn_open = |id: usize| {
                shared.workers.fetch_add(1, Ordering::Relaxed);
                let grow_tx = grow_tx.clone();
                tokio::spawn(worker::run(
                    target.session(),
                    Pacing::Open(Arc::clone(&shared)),
                    Picker::new(&weights, id as u64 + 1),
                    Recorder::with_pool(n, tx.clone(), pool.clone()),
                    Arc::clone(&ctx),
                    move || {
                        let _ = grow_tx.send(());
                    },
                ))
            };
            for i in 0..initial {
                handles.push(spawn_open(i));
            }
            let mut id = initial;
            let run_until = async {
                tokio::select! {
                    _ = tokio::time::sleep_until(end) => {}
                    _ = stop.stopped() => {}
                }
            };
            tokio::pin!(run_until);
            // Drain the aggregator and grow the pool while the run lasts.
            loop {
                tokio::select! {
                    _ = &mut run_until => break,
                    Some(()) = grow_rx.recv() => {
                        if shared.workers.load(Ordering::Relaxed) < shared.max_in_flight {
                            handles.push(spawn_open(id));
                            id += 1;
                        }
                    }
                    Some(b) = rx.recv() => aggregator.absorb(b),
                    _ = tokio::time::sleep(Duration::from_millis(100)) => {
                        close_ready(&mut aggregator, start, &mut on_window);
                    }
                }
            }
        }
    }
    drop(tx);

    // Closed model (and the open model's tail): feed the aggregator until the deadline.
    let run_until = async {
        tokio::select! {
            _ = tokio::time::sleep_until(end) => {}
            _ = stop.stopped() => {}
        }
    };
    tokio::pin!(run_until);
    let mut tick =
        tokio::time::interval_at(start + Duration::from_millis(1050), Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = &mut run_until => break,
            Some(b) = rx.recv() => aggregator.absorb(b),
            _ = tick.tick() => close_ready(&mut aggregator, start, &mut on_window),
        }
    }
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
