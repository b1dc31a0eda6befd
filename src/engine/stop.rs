//! Stopping a run: at its deadline, or early on a signal (Ctrl-C, SIGTERM). Workers read one
//! flag that is written once, so checking it costs nothing on the hot path.

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
