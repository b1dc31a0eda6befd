//! Stopping a run: at its deadline, early on a signal (Ctrl-C, SIGTERM), or early because
//! the run decided it (an `abort: true` threshold broke: [`StopSignal::halt`]). Workers read
//! one flag that is written once, so checking it costs nothing on the hot path.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;

use tokio::sync::Notify;

/// Shared by the engine, its workers and whoever may abort the run.
#[derive(Clone, Default)]
pub struct StopSignal {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    stopping: AtomicBool,
    aborted: AtomicBool,
    halted: AtomicBool,
    signals: AtomicU8,
    notify: Notify,
}

impl StopSignal {
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the run to stop early; the result will say `aborted`.
    pub fn abort(&self) {
        self.inner.aborted.store(true, Ordering::SeqCst);
        self.stop();
    }

    /// Ends the run now because it decided so (not a signal: the result is judged, not
    /// `aborted`): no new request starts, and those in flight get the abort's grace before
    /// they are cut off, so the run ends within about a second whatever the target does.
    pub(crate) fn halt(&self) {
        self.inner.halted.store(true, Ordering::SeqCst);
        self.stop();
    }

    /// True once [`StopSignal::halt`] was called.
    pub(crate) fn is_halted(&self) -> bool {
        self.inner.halted.load(Ordering::SeqCst)
    }

    /// Ends the run normally (its deadline passed).
    pub(crate) fn stop(&self) {
        self.inner.stopping.store(true, Ordering::SeqCst);
        self.inner.notify.notify_waiters();
        self.inner.notify.notify_one();
    }

    #[inline]
    pub(crate) fn is_stopping(&self) -> bool {
        self.inner.stopping.load(Ordering::Relaxed)
    }

    pub(crate) fn is_aborted(&self) -> bool {
        self.inner.aborted.load(Ordering::SeqCst)
    }

    /// Counts a signal; returns how many have arrived (the second one exits at once).
    pub(crate) fn count_signal(&self) -> u8 {
        self.inner.signals.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Resolves once the run is aborted.
    pub(crate) async fn aborted(&self) {
        loop {
            let notified = self.inner.notify.notified();
            if self.is_aborted() {
                return;
            }
            notified.await;
        }
    }

    /// Resolves once the run is asked to stop.
    pub(crate) async fn stopped(&self) {
        loop {
            let notified = self.inner.notify.notified();
            if self.is_stopping() {
                return;
            }
            notified.await;
        }
    }
}
