//! The `http://` transport on the lean HTTP/1.1 client of `h1.rs`: the hot path. One
//! keep-alive connection per worker, the request written from the bytes serialized once at
//! preparation, the body streamed into the shared [`BodyScan`]. Nothing here allocates or
//! registers a timer per request.
//!
//! A failed exchange is mapped onto an error class here ([`failure`]); a reused connection
//! closed before one byte of answer is reported as such, for the session to retry when
//! `retry_idempotent` allows it.

use std::net::SocketAddr;

use http::Method;
use tokio::net::TcpStream;

use super::classify::classify_io;
use super::h1::{Failure, H1Conn, Progress};
use super::outcome::{arrived, BodyScan};
use super::{Attempt, Attempts, Prepared, KEEP_ALIVE_CLOSED};
use crate::metrics::{ErrorClass, Outcome};

/// One worker's lean connection, opened on first use and after any failure.
#[derive(Default)]
pub(super) struct Lean {
    conn: Option<H1Conn<TcpStream>>,
}

impl Lean {
    /// What has arrived of the answer in progress (zeros without a connection).
    pub(super) fn progress(&self) -> Progress {
        self.conn.as_ref().map(H1Conn::progress).unwrap_or_default()
    }

    /// Drops the connection (its state is unknown after a timeout).
    pub(super) fn reset(&mut self) {
        self.conn = None;
    }
}

impl Attempts for Lean {
    /// One exchange: the request is written once.
    async fn attempt(&mut self, addr: SocketAddr, p: &Prepared, carry: &mut Vec<u8>) -> Attempt {
        let head = p.method == Method::HEAD;
        let reused = self.conn.is_some();
        if !reused {
            match TcpStream::connect(addr).await {
                Ok(stream) => {
                    let _ = stream.set_nodelay(true);
                    self.conn = Some(H1Conn::new(stream));
                }
                Err(e) => {
                    return Attempt::done(Outcome::error(
                        classify_io(&e).unwrap_or(ErrorClass::Connect),
                        format!("connect {addr}: {e}"),
                    ))
                }
            }
        }
        let Some(conn) = self.conn.as_mut() else {
            return Attempt::done(Outcome::error(ErrorClass::Connect, "no connection"));
        };
        let mut scan = BodyScan::new(p, carry);
        let mut sink = |data: &[u8]| scan.feed(data);
        match conn.exchange(&p.wire, head, &mut sink).await {
            Ok(a) => {
                let o = scan.judge(a.status, Some(conn.reason()), a.bytes, p);
                if !a.keep_alive {
                    self.conn = None;
                }
                Attempt::done(o)
            }
            Err(f) => {
                self.conn = None;
                failure(f, reused)
            }
        }
    }
}

/// The outcome of a failed lean exchange. `reused`: the connection had carried an earlier
/// request, so a close before any answer is the keep-alive case `retry_idempotent` covers.
fn failure(f: Failure, reused: bool) -> Attempt {
    match f {
        Failure::ClosedBeforeAnswer { nothing: true } if reused => Attempt {
            outcome: Outcome::error(ErrorClass::Reset, KEEP_ALIVE_CLOSED),
            closed_unanswered: true,
        },
        Failure::ClosedBeforeAnswer { nothing: true } => Attempt::done(Outcome::error(
            ErrorClass::Reset,
            "connection closed before the response",
        )),
        Failure::ClosedBeforeAnswer { nothing: false } => Attempt::done(Outcome::error(
            ErrorClass::Reset,
            "connection closed inside the response head",
        )),
        Failure::ClosedMidBody { status, bytes } => Attempt::done(arrived(
            Outcome::error(ErrorClass::Reset, "connection closed mid-body"),
            status,
            bytes,
        )),
        Failure::Protocol {
            message,
            status,
            bytes,
        } => Attempt::done(arrived(
            Outcome::error(ErrorClass::Protocol, message),
            status,
            bytes,
        )),
        Failure::Io {
            error,
            status,
            bytes,
            nothing,
        } => {
            let class = classify_io(&error).unwrap_or(ErrorClass::Reset);
            let closed_unanswered = reused && nothing && class == ErrorClass::Reset;
            let message = if closed_unanswered {
                format!("{KEEP_ALIVE_CLOSED}: {error}")
            } else {
                format!("connection error: {error}")
            };
            Attempt {
                outcome: arrived(Outcome::error(class, message), status, bytes),
                closed_unanswered,
            }
        }
    }
}
