//! The `http://` transport on hyper's HTTP/1.1 client connection, driven inside the worker's
//! own task (no spawned connection task), for what the lean client does not cover.
//!
//! **Why it stays beside the lean client.** It carries the `http://` requests `h1.rs`
//! deliberately does not frame: `CONNECT`, and a scenario that sets `Transfer-Encoding`
//! itself (the lean client writes every body with a Content-Length). Dropping it would
//! turn those scenarios, valid today, into validation errors, or grow request framing into
//! the hot-path client. It is the reference the lean client is checked against:
//! `PERFGATE_HTTP_CLIENT=hyper` runs any scenario on it for an A/B comparison, and the
//! session tests run every keep-alive, retry and timeout case on both. It costs no
//! dependency (hyper serves the demo server, and reqwest is built on it), and hyper's
//! HTTP/2 client is the way to HTTP/2 (issue 10). It is never the default for a scenario
//! the lean client can run.
//!
//! A request found unsendable before one byte of it was written (the idle connection had
//! closed) goes out on a new connection: that is its first sending, not a retry. hyper
//! cannot tell a partial response head from none, so with `retry_idempotent` a reused
//! connection closed inside the head is retried too (and counted).

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, Connection, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::classify::{classify_hyper, classify_io, error_chain};
use super::h1::Progress;
use super::outcome::{read_body, BodySource, Chunk};
use super::{Attempt, Attempts, Prepared, KEEP_ALIVE_CLOSED};
use crate::metrics::{ErrorClass, Outcome};

/// One worker's hyper connection, opened on first use and after any failure.
#[derive(Default)]
pub(super) struct Hyper {
    conn: Option<Conn>,
    /// What has arrived of the answer in progress, so that a timeout can say it.
    progress: Progress,
}

struct Conn {
    sender: SendRequest<Full<Bytes>>,
    conn: Connection<TokioIo<TcpStream>, Full<Bytes>>,
    done: bool,
    /// A request went out on it: it is a reused connection from now on.
    used: bool,
}

impl Conn {
    /// Polls `f` while driving the connection in the same task. `None` when the connection
    /// ended before `f` was ready.
    async fn drive_poll<T>(
        &mut self,
        mut f: impl FnMut(&mut SendRequest<Full<Bytes>>, &mut Context<'_>) -> Poll<T>,
    ) -> Option<T> {
        std::future::poll_fn(|cx| {
            if !self.done && Pin::new(&mut self.conn).poll(cx).is_ready() {
                self.done = true;
            }
            match f(&mut self.sender, cx) {
                Poll::Ready(v) => Poll::Ready(Some(v)),
                Poll::Pending if self.done => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            }
        })
        .await
    }

    async fn drive<F: Future + Unpin>(&mut self, mut fut: F) -> Option<F::Output> {
        self.drive_poll(|_, cx| Pin::new(&mut fut).poll(cx)).await
    }
}

/// A hyper response body, read while driving its connection.
struct HyperBody<'a> {
    conn: &'a mut Conn,
    body: Incoming,
    /// Reading failed: the connection is not usable again.
    broken: bool,
}

impl BodySource for HyperBody<'_> {
    type Data = Bytes;

    async fn next_chunk(&mut self) -> Chunk<Bytes> {
        loop {
            match self.conn.drive(self.body.frame()).await {
                // Trailers are not body bytes.
                Some(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        return Chunk::Data(data);
                    }
                }
                Some(None) => return Chunk::End,
                Some(Some(Err(e))) => {
                    self.broken = true;
                    return Chunk::Failed(hyper_error(&e));
                }
                None => {
                    self.broken = true;
                    return Chunk::Failed(Outcome::error(
                        ErrorClass::Reset,
                        "connection closed mid-body",
                    ));
                }
            }
        }
    }
}

impl Hyper {
    pub(super) fn progress(&self) -> Progress {
        self.progress
    }

    /// Drops the connection (its state is unknown after a timeout).
    pub(super) fn reset(&mut self) {
        self.conn = None;
    }

    async fn connect(&mut self, addr: SocketAddr) -> Result<(), Outcome> {
        if self
            .conn
            .as_ref()
            .is_some_and(|c| c.done || c.sender.is_closed())
        {
            self.conn = None;
        }
        if self.conn.is_none() {
            let stream = TcpStream::connect(addr).await.map_err(|e| {
                Outcome::error(
                    classify_io(&e).unwrap_or(ErrorClass::Connect),
                    format!("connect {addr}: {e}"),
                )
            })?;
            let _ = stream.set_nodelay(true);
            let (sender, conn) = http1::handshake(TokioIo::new(stream))
                .await
                .map_err(|e| Outcome::error(ErrorClass::Connect, format!("handshake: {e}")))?;
            self.conn = Some(Conn {
                sender,
                conn,
                done: false,
                used: false,
            });
        }
        Ok(())
    }
}

impl Attempts for Hyper {
    /// One exchange. A request that hyper hands back unwritten (its idle connection had
    /// closed) goes out once on a new connection: nothing was sent yet.
    async fn attempt(&mut self, addr: SocketAddr, p: &Prepared, carry: &mut Vec<u8>) -> Attempt {
        self.progress = Progress::default();
        let mut fresh_again = false;
        loop {
            if let Err(o) = self.connect(addr).await {
                return Attempt::done(o);
            }
            let Some(conn) = self.conn.as_mut() else {
                return Attempt::done(Outcome::error(ErrorClass::Connect, "no connection"));
            };
            let reused = conn.used;
            // Wait until the connection can take a request (the previous exchange is
            // finished). Nothing of this request is written yet.
            let ready = conn.drive_poll(|sender, cx| sender.poll_ready(cx)).await;
            if !matches!(ready, Some(Ok(()))) {
                self.conn = None;
                if !fresh_again {
                    fresh_again = true;
                    continue;
                }
                return Attempt::done(match ready {
                    Some(Err(e)) => hyper_error(&e),
                    _ => Outcome::error(ErrorClass::Reset, "connection closed by the server"),
                });
            }
            let mut req = Request::new(Full::new(p.body.clone()));
            *req.method_mut() = p.method.clone();
            *req.uri_mut() = p.uri.clone();
            *req.headers_mut() = p.headers.clone();
            conn.used = true;
            let send = conn.sender.try_send_request(req);
            let resp = match conn.drive(Box::pin(send)).await {
                Some(Ok(r)) => r,
                Some(Err(mut e)) => {
                    self.conn = None;
                    if e.take_message().is_some() && !fresh_again {
                        fresh_again = true;
                        continue;
                    }
                    let e = e.into_error();
                    let closed_unanswered = reused && classify_hyper(&e) == ErrorClass::Reset;
                    let mut outcome = hyper_error(&e);
                    if closed_unanswered {
                        outcome.message = Some(format!("{KEEP_ALIVE_CLOSED}: {e}").into());
                    }
                    return Attempt {
                        outcome,
                        closed_unanswered,
                    };
                }
                None => {
                    self.conn = None;
                    let message = if reused {
                        KEEP_ALIVE_CLOSED
                    } else {
                        "connection closed before the response"
                    };
                    return Attempt {
                        outcome: Outcome::error(ErrorClass::Reset, message),
                        closed_unanswered: reused,
                    };
                }
            };
            let status = resp.status().as_u16();
            let reason = resp
                .extensions()
                .get::<hyper::ext::ReasonPhrase>()
                .map(|r| String::from_utf8_lossy(r.as_bytes()).into_owned());
            let mut body = HyperBody {
                conn,
                body: resp.into_body(),
                broken: false,
            };
            let outcome = read_body(
                &mut body,
                status,
                reason.as_deref(),
                p,
                carry,
                &mut self.progress,
            )
            .await;
            if body.broken {
                self.conn = None;
            }
            return Attempt::done(outcome);
        }
    }
}

fn hyper_error(e: &hyper::Error) -> Outcome {
    Outcome::error(classify_hyper(e), error_chain(e))
}
