//! The engine: turns the plan's load shape into a timeline ([`schedule`]) and drives a
//! [`Target`] with tokio tasks ([`drive`]), one per virtual user (closed model) or per
//! in-flight arrival (open model), until the deadline or a stop signal. It hands batches to
//! the metrics aggregator and returns what it measured. It knows nothing of reports or gates.
//!
//! At the deadline no worker starts another request, and the requests in flight are awaited
//! (each is bounded by the target's timeout) and recorded where they finish: they are the
//! run's tail. On an abort (or a halt: the run stopped itself), workers get `ABORT_GRACE`;
//! whatever is still in flight then is cut off and counted as `interrupted`. A window closes only when its second is over (plus
//! a little slack) and no worker still holds data for it.

#[cfg(test)]
mod footprint_tests;
pub mod schedule;
pub mod segment;
#[cfg(test)]
mod segment_sim_tests;
#[cfg(test)]
mod sim_tests;
pub(crate) mod stop;
mod worker;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::task::JoinSet;
use tokio::time::{Instant, Interval};

pub use segment::{Segment, SegmentError};
pub use stop::StopSignal;
pub(crate) use worker::Picker;

use crate::client::Target;
use crate::metrics::{Aggregator, Batch, EventPool, Holds, MetricsOutput, Recorder};
use crate::result::{LevelUnit, Window};
use crate::scenario::{LoadPlan, Model};
use schedule::Phase;
use segment::SegmentArrivals;
use worker::{OpenShared, Pacing, WorkerCtx};

/// How long workers get to finish their request after an abort, before they are cut off.
pub(crate) const ABORT_GRACE: Duration = Duration::from_millis(500);
/// How long after its second a window may close: covers a worker between reading the clock
/// and publishing the window it now holds.
const CLOSE_SLACK: Duration = Duration::from_millis(100);
/// Open model: workers started at once; more are started on demand, up to `max_in_flight`.
const OPEN_INITIAL_WORKERS: usize = 16;

/// What the engine measured.
pub struct EngineOutput {
    pub metrics: MetricsOutput,
    pub elapsed: Duration,
    pub aborted: bool,
    pub started_at: chrono::DateTime<chrono::Utc>,
}

/// Called with each closed 1-second window, for live progress.
pub(crate) type WindowHook = Box<dyn FnMut(&Window) + Send>;

/// Drives `load` against `target`. `names` and `weights` describe the scenario's requests
/// (by index). Stops at the end of the last stage, or early when `stop` is aborted.
///
/// Three steps: start the workers; until the deadline, feed the aggregator (and grow the
/// open model's pool); then let the requests in flight finish (cut off after
/// `ABORT_GRACE` on an abort) and close the last windows.
pub async fn drive<T: Target>(
    target: Arc<T>,
    names: Vec<String>,
    weights: Vec<u32>,
    load: &LoadPlan,
    stop: StopSignal,
    on_window: Option<WindowHook>,
) -> EngineOutput {
    drive_segment(
        target,
        names,
        weights,
        load,
        Segment::WHOLE,
        stop,
        on_window,
    )
    .await
}

/// [`drive`] for generator `segment` of several: it runs its share of every stage's
/// virtual users or arrivals ([`segment`]), and its windows and stages record that share.
pub async fn drive_segment<T: Target>(
    target: Arc<T>,
    names: Vec<String>,
    weights: Vec<u32>,
    load: &LoadPlan,
    segment: Segment,
    stop: StopSignal,
    on_window: Option<WindowHook>,
) -> EngineOutput {
    let phases = schedule::phases(load);
    let total = load.total_duration();
    let unit = match load.model {
        Model::Closed { .. } => LevelUnit::Vus,
        Model::Open { .. } => LevelUnit::Rps,
    };
    let spans = segment_spans(&phases, load, segment);
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let started_at = chrono::Utc::now();
    let start = Instant::now();
    let mut feed = Feed::new(
        Aggregator::new(names.clone(), spans, unit),
        rx,
        start,
        on_window,
    );
    let mut workers = Workers {
        target,
        weights,
        ctx: Arc::new(WorkerCtx {
            start,
            end: start + total,
            stop: stop.clone(),
        }),
        tx,
        pool: feed.pool.clone(),
        holds: feed.holds.clone(),
        names: names.len(),
        tasks: JoinSet::new(),
        open: None,
        segment,
    };
    let mut grow_rx = match load.model {
        Model::Closed { think_time } => {
            let vus = segment.share_of_level(load.peak()) as usize;
            workers.spawn_closed(vus, think_time, &phases);
            None
        }
        Model::Open { max_in_flight } => {
            Some(workers.spawn_open(&phases, segment.share_of_cap(max_in_flight)))
        }
    };

    feed.until_deadline(&mut workers, grow_rx.as_mut(), start + total, &stop)
        .await;
    workers.open = None;
    drop(grow_rx);
    let elapsed = start.elapsed().min(total);
    // No new request from here on; those in flight finish (each within its timeout).
    stop.stop();
    let Workers { tasks, tx, .. } = workers;
    feed.wind_down(tasks, &stop).await;
    drop(tx);
    EngineOutput {
        metrics: feed.finish(elapsed).await,
        elapsed,
        aborted: stop.is_aborted(),
        started_at,
    }
}

/// The workers of a run and what it takes to start another.
struct Workers<T> {
    target: Arc<T>,
    weights: Vec<u32>,
    ctx: Arc<WorkerCtx>,
    tx: UnboundedSender<Batch>,
    pool: EventPool,
    holds: Holds,
    /// Request names (by index).
    names: usize,
    tasks: JoinSet<()>,
    /// Open model: the shared arrival schedule and the channel on which a worker asks for
    /// another when it finds every in-flight slot busy.
    open: Option<(Arc<OpenShared>, UnboundedSender<()>)>,
    /// The share of the load these workers run.
    segment: Segment,
}

impl<T: Target> Workers<T> {
    fn recorder(&self) -> Recorder {
        Recorder::with_pool(self.names, self.tx.clone(), self.pool.clone())
            .watched(&self.holds, self.ctx.start)
    }

    /// Closed model: one worker per virtual user of the peak; each follows the phases.
    fn spawn_closed(&mut self, vus: usize, think: Duration, phases: &[Phase]) {
        let phases = Arc::new(phases.to_vec());
        for local in 0..vus {
            // The whole run's user this worker plays: it follows that user's stages.
            let i = self.segment.global_vu(local);
            let pacing = Pacing::Closed {
                index: i,
                think,
                phases: Arc::clone(&phases),
            };
            self.tasks.spawn(worker::work(
                self.target.session(),
                pacing,
                Picker::new(&self.weights, i as u64 + 1),
                self.recorder(),
                Arc::clone(&self.ctx),
                || {},
            ));
        }
    }

    /// Open model: the first few workers over one shared arrival schedule; returns where
    /// their requests for more arrive.
    fn spawn_open(&mut self, phases: &[Phase], max_in_flight: u32) -> UnboundedReceiver<()> {
        let shared = Arc::new(OpenShared {
            arrivals: SegmentArrivals::new(schedule::Arrivals::new(phases), self.segment),
            next_slot: AtomicU64::new(0),
            workers: AtomicUsize::new(0),
            max_in_flight: max_in_flight as usize,
        });
        let (grow_tx, grow_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
        self.open = Some((shared, grow_tx));
        for _ in 0..(max_in_flight as usize).min(OPEN_INITIAL_WORKERS) {
            self.grow();
        }
        grow_rx
    }

    /// Open model: one more worker, unless `max_in_flight` are running.
    fn grow(&mut self) {
        let Some((shared, grow_tx)) = &self.open else {
            return;
        };
        if shared.workers.load(Ordering::Relaxed) >= shared.max_in_flight {
            return;
        }
        shared.workers.fetch_add(1, Ordering::Relaxed);
        let id = self.tasks.len();
        let grow_tx = grow_tx.clone();
        let pacing = Pacing::Open(Arc::clone(shared));
        let recorder = self.recorder();
        self.tasks.spawn(worker::work(
            self.target.session(),
            pacing,
            Picker::new(&self.weights, id as u64 + 1),
            recorder,
            Arc::clone(&self.ctx),
            move || {
                let _ = grow_tx.send(());
            },
        ));
    }
}

/// What the aggregator records of each phase: its level for this segment (its share of the
/// virtual users, or of the arrivals).
fn segment_spans(phases: &[Phase], load: &LoadPlan, segment: Segment) -> Vec<crate::metrics::Span> {
    let levels: Vec<f64> = match load.model {
        _ if segment.is_whole() => phases.iter().map(|p| p.level).collect(),
        Model::Closed { .. } => phases
            .iter()
            .map(|p| segment.share_of_level(p.level))
            .collect(),
        Model::Open { .. } => {
            let all: Vec<f64> = phases.iter().map(|p| p.level).collect();
            SegmentArrivals::new(schedule::Arrivals::new(phases), segment).rates(&all)
        }
    };
    // A ramp's starting level is scaled like its level: the segment's share of it.
    let from = |p: &Phase, level: f64| match load.model {
        _ if segment.is_whole() => p.from_level,
        Model::Closed { .. } => segment.share_of_level(p.from_level),
        Model::Open { .. } if p.level > 0.0 => p.from_level * level / p.level,
        Model::Open { .. } => p.from_level / segment.count() as f64,
    };
    phases
        .iter()
        .zip(levels)
        .map(|(p, level)| crate::metrics::Span {
            level,
            from_level: from(p, level),
            ..p.span()
        })
        .collect()
}

/// The aggregator's side of a run: takes the workers' batches and closes each window once
/// its second is over and no worker holds data for it.
struct Feed {
    aggregator: Aggregator,
    rx: UnboundedReceiver<Batch>,
    holds: Holds,
    pool: EventPool,
    start: Instant,
    tick: Interval,
    on_window: Option<WindowHook>,
}

impl Feed {
    fn new(
        mut aggregator: Aggregator,
        rx: UnboundedReceiver<Batch>,
        start: Instant,
        on_window: Option<WindowHook>,
    ) -> Self {
        let pool = EventPool::new();
        aggregator.recycle_into(pool.clone());
        Feed {
            aggregator,
            rx,
            holds: Holds::new(),
            pool,
            start,
            tick: tokio::time::interval_at(
                start + Duration::from_secs(1) + CLOSE_SLACK,
                Duration::from_secs(1),
            ),
            on_window,
        }
    }

    /// Until `end` (or a stop): absorbs batches, closes windows, and grows the open model's
    /// pool when a worker asks.
    async fn until_deadline<T: Target>(
        &mut self,
        workers: &mut Workers<T>,
        mut grow_rx: Option<&mut UnboundedReceiver<()>>,
        end: Instant,
        stop: &StopSignal,
    ) {
        let run_until = async {
            tokio::select! {
                _ = tokio::time::sleep_until(end) => {}
                _ = stop.stopped() => {}
            }
        };
        tokio::pin!(run_until);
        loop {
            let grow = async {
                match grow_rx.as_mut() {
                    Some(r) => r.recv().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = &mut run_until => break,
                Some(b) = self.rx.recv() => self.aggregator.absorb(b),
                _ = self.tick.tick() => self.close_ready(),
                Some(()) = grow => workers.grow(),
            }
        }
    }

    /// Waits for the workers, still closing windows as they complete. An abort (now or while
    /// waiting) leaves them [`ABORT_GRACE`], then cuts off the rest: a worker dropped
    /// mid-request records it as `interrupted`, and every recorder flushes when dropped.
    async fn wind_down(&mut self, mut tasks: JoinSet<()>, stop: &StopSignal) {
        // A halted run (it stopped itself) is cut off like an aborted one.
        let mut cut_at =
            (stop.is_aborted() || stop.is_halted()).then(|| Instant::now() + ABORT_GRACE);
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
                Some(b) = self.rx.recv() => self.aggregator.absorb(b),
                _ = self.tick.tick() => self.close_ready(),
                _ = aborted => cut_at = Some(Instant::now() + ABORT_GRACE),
                _ = cut => {
                    tasks.abort_all();
                    while tasks.join_next().await.is_some() {}
                    break;
                }
            }
        }
    }

    /// Takes the last batches (every sender is gone), closes the remaining windows and
    /// builds the output; the last window goes to the hook too.
    async fn finish(mut self, elapsed: Duration) -> MetricsOutput {
        while let Some(b) = self.rx.recv().await {
            self.aggregator.absorb(b);
        }
        let metrics = self.aggregator.finish(elapsed.as_secs_f64());
        if let Some(hook) = self.on_window.as_mut() {
            if let Some(w) = metrics.timeseries.last() {
                hook(w);
            }
        }
        metrics
    }

    fn close_ready(&mut self) {
        close_ready(
            &mut self.aggregator,
            &mut self.rx,
            &self.holds,
            self.start,
            &mut self.on_window,
        );
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
    use crate::metrics::{Outcome, Span};

    #[test]
    fn a_window_waits_for_the_worker_that_holds_data_for_it() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let spans = vec![Span {
            start_s: 0.0,
            end_s: 10.0,
            stage: Some(0),
            level: 1.0,
            from_level: 1.0,
            ramp_s: 0.0,
        }];
        let mut agg = Aggregator::new(vec!["x".into()], spans, LevelUnit::Vus);
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
