//! The request timeout of one session: one timer, re-armed only when it fires before the
//! current request's deadline. A request costs a clock read, not a timer registration. Used
//! by HTTP sessions and by in-process calls alike.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use tokio::time::{Instant, Sleep};

pub(crate) struct Watchdog {
    sleep: Pin<Box<Sleep>>,
}

impl Watchdog {
    pub(crate) fn new(timeout: Duration) -> Self {
        Watchdog {
            sleep: Box::pin(tokio::time::sleep(timeout)),
        }
    }

    /// Runs `fut` until it completes (`Some`) or `deadline` passes (`None`).
    pub(crate) async fn guard<F: Future>(
        &mut self,
        deadline: Instant,
        fut: F,
    ) -> Option<F::Output> {
        let mut fut = std::pin::pin!(fut);
        if self.sleep.deadline() > deadline {
            self.sleep.as_mut().reset(deadline);
        }
        std::future::poll_fn(|cx| {
            if let Poll::Ready(v) = fut.as_mut().poll(cx) {
                return Poll::Ready(Some(v));
            }
            while self.sleep.as_mut().poll(cx).is_ready() {
                if Instant::now() >= deadline {
                    return Poll::Ready(None);
                }
                // Armed for an earlier request: move on to this one's deadline.
                self.sleep.as_mut().reset(deadline);
            }
            Poll::Pending
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_timer_serves_request_after_request() {
        let mut w = Watchdog::new(Duration::from_millis(50));
        let quick = w
            .guard(Instant::now() + Duration::from_millis(50), async { 1 })
            .await;
        assert_eq!(quick, Some(1));
        let start = Instant::now();
        let slow = w
            .guard(
                start + Duration::from_millis(50),
                tokio::time::sleep(Duration::from_secs(5)),
            )
            .await;
        assert_eq!(slow, None);
        let took = start.elapsed();
        assert!(
            took >= Duration::from_millis(50) && took < Duration::from_secs(2),
            "{took:?}"
        );
    }
}
