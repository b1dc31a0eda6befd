//! The HTTP target. `http://` runs on the lean HTTP/1.1 client of `h1.rs`: one keep-alive
//! connection per worker, requests serialized once, answers parsed in place. `http://`
//! requests it does not cover (`CONNECT`, a scenario-set `Transfer-Encoding`) run on hyper's
//! HTTP/1.1 client connection, driven inside the worker's own task (no spawned connection
//! task). `https://` goes through reqwest with rustls, one client (and so one connection) per
//! worker. Bodies are read and discarded as they stream. Setting `PERFGATE_HTTP_CLIENT=hyper`
//! forces hyper for `http://` (to compare the two).
//!
//! **No request is sent twice without a trace.** When a reused keep-alive connection closes
//! before any answer, the request is an error of class `reset` ("keep-alive connection
//! closed by the server before the response"); the server may well have received it. Only
//! with `target.retry_idempotent: true`, and only for GET, HEAD and OPTIONS on `http://`,
//! is it sent once more on a new connection; the retry's [`Outcome`] carries the failed
//! first attempt ([`FirstAttempt`]), which the recorder counts as a request of its own,
//! and `retries` counts the retry. A retry that runs out of time still reports its first
//! attempt. On hyper a request found unsendable before one byte of it was written (the
//! idle connection had closed) goes out on a new connection: that is its first sending,
//! not a retry. hyper cannot tell a partial response head from none, so with
//! `retry_idempotent` on hyper a reused connection closed inside the head is retried too
//! (and counted). reqwest (`https://`) runs with its retry policy set to never; its
//! connection pool still re-dispatches a request that was never written to a pooled
//! connection found closed (hyper-util's `retry_canceled_requests`), which sends nothing
//! twice. `retry_idempotent` does not apply to `https://`.
//!
//! A failed outcome carries `status` only when the response head was complete and parsed,
//! and `bytes` counts the body bytes that arrived before the failure.
//!
//! The request timeout is one timer per session, re-armed only when it fires early, not a
//! timer registered and cancelled per request. It covers a request and its retry together.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Uri};
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::{self, Connection, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::classify::{classify_hyper, classify_io, classify_reqwest};
use super::h1::{self, Failure, H1Conn, Progress};
use super::watchdog::Watchdog;
use crate::metrics::{ErrorClass, FirstAttempt, Outcome};
use crate::scenario::{Expect, HttpRequest};

/// One request, prepared once for the whole run.
#[derive(Debug)]
pub struct Prepared {
    method: Method,
    /// Origin-form (`/path?query`) for hyper.
    uri: Uri,
    /// Absolute URL for reqwest.
    url: String,
    headers: HeaderMap,
    body: Bytes,
    /// The whole request as the lean client writes it.
    wire: Vec<u8>,
    expect_status: Option<Vec<u16>>,
    contains: Option<Vec<u8>>,
    /// `target.retry_idempotent` and an idempotent method (GET, HEAD, OPTIONS).
    retry: bool,
}

/// Where HTTP requests go, shared by all workers.
#[derive(Debug)]
pub struct HttpSpec {
    pub base: String,
    pub tls: bool,
    /// Resolved once at preflight.
    pub addr: SocketAddr,
    pub timeout: Duration,
    pub requests: Vec<Prepared>,
    /// `http://` on the lean client (`h1.rs`) rather than hyper.
    pub lean: bool,
}

impl HttpSpec {
    /// Prepares `reqs` against `base` (already resolved to `addr`). `retry_idempotent`:
    /// the scenario's `target.retry_idempotent`.
    pub fn new(
        base: &str,
        addr: SocketAddr,
        timeout: Duration,
        retry_idempotent: bool,
        reqs: &[(&HttpRequest, &Expect)],
    ) -> Result<Self, String> {
        let base_uri: Uri = base.parse().map_err(|e| format!("bad base URL: {e}"))?;
        let tls = base_uri.scheme_str() == Some("https");
        let authority = base_uri
            .authority()
            .map(|a| a.as_str().to_string())
            .ok_or("the base URL has no host")?;
        let prefix = base_uri.path().trim_end_matches('/').to_string();
        let mut requests = Vec::new();
        for (r, expect) in reqs {
            let path = format!("{prefix}{}", r.path);
            let mut headers = HeaderMap::new();
            headers.insert(
                http::header::HOST,
                HeaderValue::from_str(&authority).map_err(|e| e.to_string())?,
            );
            headers.insert(
                http::header::USER_AGENT,
                HeaderValue::from_static(concat!("perfgate/", env!("CARGO_PKG_VERSION"))),
            );
            for (n, v) in &r.headers {
                let name = HeaderName::from_bytes(n.as_bytes()).map_err(|e| e.to_string())?;
                let value = HeaderValue::from_str(v).map_err(|e| e.to_string())?;
                headers.insert(name, value);
            }
            // The body's length is framed by the client, from the body (validation refuses a
            // scenario-set Content-Length; this keeps every client in step regardless).
            headers.remove(http::header::CONTENT_LENGTH);
            let method = Method::from_bytes(r.method.as_bytes()).map_err(|e| e.to_string())?;
            let uri: Uri = path.parse().map_err(|e| format!("bad path {path}: {e}"))?;
            let body = r.body.clone().map(Bytes::from).unwrap_or_default();
            let target = uri.path_and_query().map_or("/", |p| p.as_str());
            let wire = h1::serialize(
                method.as_str(),
                target,
                headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes())),
                &body,
            );
            let retry =
                retry_idempotent && matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
            requests.push(Prepared {
                url: format!("{}://{authority}{path}", if tls { "https" } else { "http" }),
                method,
                uri,
                headers,
                body,
                wire,
                expect_status: expect.status.clone(),
                contains: expect.body_contains.as_ref().map(|s| s.as_bytes().to_vec()),
                retry,
            });
        }
        let lean = !tls
            && std::env::var_os("PERFGATE_HTTP_CLIENT").is_none_or(|v| v != "hyper")
            && requests.iter().all(|p| {
                p.method != Method::CONNECT
                    && !p.headers.contains_key(http::header::TRANSFER_ENCODING)
            });
        Ok(HttpSpec {
            base: base.to_string(),
            tls,
            addr,
            timeout,
            requests,
            lean,
        })
    }
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

/// Why a reused keep-alive connection failed a request it may have delivered.
const KEEP_ALIVE_CLOSED: &str = "keep-alive connection closed by the server before the response";

/// One attempt at a request.
struct Attempt {
    outcome: Outcome,
    /// A reused keep-alive connection closed before one byte of answer: the one case
    /// `retry_idempotent` retries.
    closed_unanswered: bool,
}

impl Attempt {
    fn done(outcome: Outcome) -> Self {
        Attempt {
            outcome,
            closed_unanswered: false,
        }
    }
}

/// A worker's HTTP session: its own connection.
pub struct HttpSession {
    spec: Arc<HttpSpec>,
    lean: Option<H1Conn<TcpStream>>,
    conn: Option<Conn>,
    https: Option<reqwest::Client>,
    carry: Vec<u8>,
    watchdog: Option<Watchdog>,
    /// While a retry runs: the failed first attempt and when the retry started, so that a
    /// retry cut short by the timeout still reports it.
    first_attempt: Option<(Outcome, Instant)>,
    /// What has arrived of the answer in progress on hyper or reqwest (the lean client
    /// keeps its own), so that a timeout can say it.
    progress: Progress,
}

impl HttpSession {
    pub fn new(spec: Arc<HttpSpec>) -> Self {
        HttpSession {
            watchdog: None,
            spec,
            lean: None,
            conn: None,
            https: None,
            carry: Vec::new(),
            first_attempt: None,
            progress: Progress::default(),
        }
    }

    pub async fn execute(&mut self, idx: usize) -> Outcome {
        let timeout = self.spec.timeout;
        let spec = Arc::clone(&self.spec);
        let Some(req) = spec.requests.get(idx) else {
            return Outcome::error(ErrorClass::Protocol, "no such request");
        };
        let deadline = Instant::now() + timeout;
        self.first_attempt = None;
        self.progress = Progress::default();
        // Taken out while the exchange borrows the session; put back below.
        let mut watchdog = self
            .watchdog
            .take()
            .unwrap_or_else(|| Watchdog::new(timeout));
        let fut = async {
            if spec.tls {
                self.exchange_tls(req).await
            } else {
                self.exchange_http(req).await
            }
        };
        let outcome = watchdog.guard(deadline, fut).await;
        self.watchdog = Some(watchdog);
        match outcome {
            Some(o) => o,
            None => {
                // What arrived before the timeout: the status of a complete head, the bytes.
                let arrived = match &self.lean {
                    Some(conn) if spec.lean && !spec.tls => conn.progress(),
                    _ => self.progress,
                };
                // The connection is in an unknown state: start afresh next time.
                self.lean = None;
                self.conn = None;
                self.https = None;
                let mut timed_out = Outcome::error(
                    ErrorClass::Timeout,
                    format!("no complete answer within {timeout:?}"),
                );
                timed_out.status = arrived.status;
                timed_out.bytes = arrived.bytes;
                self.with_first_attempt(timed_out)
            }
        }
    }

    /// Attaches the failed first attempt, when `retry` is a retry.
    fn with_first_attempt(&mut self, mut retry: Outcome) -> Outcome {
        if let Some((first, started)) = self.first_attempt.take() {
            let retry_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
            retry.retry_of = Some(Box::new(FirstAttempt {
                outcome: first,
                retry_us,
            }));
        }
        retry
    }

    /// One `http://` request: one attempt, and with `retry_idempotent` one counted retry
    /// when a reused connection closed before any answer.
    async fn exchange_http(&mut self, p: &Prepared) -> Outcome {
        let first = self.attempt(p).await;
        if !(p.retry && first.closed_unanswered) {
            return first.outcome;
        }
        self.first_attempt = Some((first.outcome, Instant::now()));
        let retry = self.attempt(p).await.outcome;
        self.with_first_attempt(retry)
    }

    async fn attempt(&mut self, p: &Prepared) -> Attempt {
        self.progress = Progress::default();
        if self.spec.lean {
            self.attempt_lean(p).await
        } else {
            self.attempt_hyper(p).await
        }
    }

    /// One exchange on the lean client: the request is written once.
    async fn attempt_lean(&mut self, p: &Prepared) -> Attempt {
        let head = p.method == Method::HEAD;
        let reused = self.lean.is_some();
        if !reused {
            match TcpStream::connect(self.spec.addr).await {
                Ok(stream) => {
                    let _ = stream.set_nodelay(true);
                    self.lean = Some(H1Conn::new(stream));
                }
                Err(e) => {
                    return Attempt::done(Outcome::error(
                        classify_io(&e).unwrap_or(ErrorClass::Connect),
                        format!("connect {}: {e}", self.spec.addr),
                    ))
                }
            }
        }
        let Some(conn) = self.lean.as_mut() else {
            return Attempt::done(Outcome::error(ErrorClass::Connect, "no connection"));
        };
        let needle = p.contains.as_deref().unwrap_or_default();
        let mut found = p.contains.is_none();
        let carry = &mut self.carry;
        carry.clear();
        let mut sink = |data: &[u8]| {
            if !found {
                found = search(carry, data, needle);
            }
        };
        match conn.exchange(&p.wire, head, &mut sink).await {
            Ok(a) => {
                let o = judge(a.status, Some(conn.reason()), a.bytes, found, p);
                if !a.keep_alive {
                    self.lean = None;
                }
                Attempt::done(o)
            }
            Err(f) => {
                self.lean = None;
                lean_failure(f, reused)
            }
        }
    }

    async fn connect(&mut self) -> Result<(), Outcome> {
        if self
            .conn
            .as_ref()
            .is_some_and(|c| c.done || c.sender.is_closed())
        {
            self.conn = None;
        }
        if self.conn.is_none() {
            let stream = TcpStream::connect(self.spec.addr).await.map_err(|e| {
                Outcome::error(
                    classify_io(&e).unwrap_or(ErrorClass::Connect),
                    format!("connect {}: {e}", self.spec.addr),
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

    /// One exchange on hyper. A request that hyper hands back unwritten (its idle
    /// connection had closed) goes out once on a new connection: nothing was sent yet.
    async fn attempt_hyper(&mut self, p: &Prepared) -> Attempt {
        let mut fresh_again = false;
        loop {
            if let Err(o) = self.connect().await {
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
            return Attempt::done(self.read_hyper_body(resp, p).await);
        }
    }

    /// Reads (and discards) a hyper response's body and judges the answer.
    async fn read_hyper_body(
        &mut self,
        resp: http::Response<hyper::body::Incoming>,
        p: &Prepared,
    ) -> Outcome {
        let Some(conn) = self.conn.as_mut() else {
            return Outcome::error(ErrorClass::Reset, "no connection");
        };
        let carry = &mut self.carry;
        let status = resp.status().as_u16();
        self.progress.status = status;
        let reason = resp
            .extensions()
            .get::<hyper::ext::ReasonPhrase>()
            .map(|r| String::from_utf8_lossy(r.as_bytes()).into_owned());
        let mut body = resp.into_body();
        let mut bytes = 0u64;
        let mut found = p.contains.is_none();
        carry.clear();
        loop {
            let frame = conn.drive(body.frame()).await;
            match frame {
                Some(Some(Ok(f))) => {
                    if let Some(data) = f.data_ref() {
                        bytes += data.len() as u64;
                        self.progress.bytes = bytes;
                        if !found {
                            found = search(carry, data, p.contains.as_deref().unwrap_or_default());
                        }
                    }
                }
                Some(None) => break,
                Some(Some(Err(e))) => {
                    self.conn = None;
                    let mut o = hyper_error(&e);
                    o.status = status;
                    o.bytes = bytes;
                    return o;
                }
                None => {
                    self.conn = None;
                    let mut o = Outcome::error(ErrorClass::Reset, "connection closed mid-body");
                    o.status = status;
                    o.bytes = bytes;
                    return o;
                }
            }
        }
        judge(status, reason.as_deref(), bytes, found, p)
    }

    async fn exchange_tls(&mut self, p: &Prepared) -> Outcome {
        if self.https.is_none() {
            let client = reqwest::Client::builder()
                .connect_timeout(self.spec.timeout)
                .pool_max_idle_per_host(1)
                .http1_only()
                .redirect(reqwest::redirect::Policy::none())
                // No re-send of a request that was written (see the module doc).
                .retry(reqwest::retry::never())
                .build();
            match client {
                Ok(c) => self.https = Some(c),
                Err(e) => return Outcome::error(ErrorClass::Tls, format!("TLS client: {e}")),
            }
        }
        let Some(client) = self.https.as_ref() else {
            return Outcome::error(ErrorClass::Tls, "no TLS client");
        };
        let req = client
            .request(p.method.clone(), &p.url)
            .headers(p.headers.clone())
            .body(p.body.clone());
        let mut resp = match req.send().await {
            Ok(r) => r,
            Err(e) => return Outcome::error(classify_reqwest(&e), error_chain(&e)),
        };
        let status = resp.status().as_u16();
        self.progress.status = status;
        let reason = resp.status().canonical_reason().map(str::to_string);
        let mut bytes = 0u64;
        let mut found = p.contains.is_none();
        self.carry.clear();
        loop {
            match resp.chunk().await {
                Ok(Some(data)) => {
                    bytes += data.len() as u64;
                    self.progress.bytes = bytes;
                    if !found {
                        found = search(
                            &mut self.carry,
                            &data,
                            p.contains.as_deref().unwrap_or_default(),
                        );
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    let mut o = Outcome::error(classify_reqwest(&e), error_chain(&e));
                    o.status = status;
                    o.bytes = bytes;
                    return o;
                }
            }
        }
        judge(status, reason.as_deref(), bytes, found, p)
    }
}

/// The outcome of a failed lean exchange. `reused`: the connection had carried an earlier
/// request, so a close before any answer is the keep-alive case `retry_idempotent` covers.
fn lean_failure(f: Failure, reused: bool) -> Attempt {
    let with = |mut o: Outcome, status: u16, bytes: u64| {
        o.status = status;
        o.bytes = bytes;
        o
    };
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
        Failure::ClosedMidBody { status, bytes } => Attempt::done(with(
            Outcome::error(ErrorClass::Reset, "connection closed mid-body"),
            status,
            bytes,
        )),
        Failure::Protocol {
            message,
            status,
            bytes,
        } => Attempt::done(with(
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
                outcome: with(Outcome::error(class, message), status, bytes),
                closed_unanswered,
            }
        }
    }
}

fn hyper_error(e: &hyper::Error) -> Outcome {
    Outcome::error(classify_hyper(e), error_chain(e))
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        let t = inner.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        src = inner.source();
    }
    s
}

/// Decides the outcome of a complete answer.
fn judge(status: u16, reason: Option<&str>, bytes: u64, found: bool, p: &Prepared) -> Outcome {
    let described = || match reason {
        Some(r) if !r.is_empty() => format!("{status} {r}"),
        _ => status.to_string(),
    };
    let class = match &p.expect_status {
        Some(allowed) if !allowed.contains(&status) => Some((
            ErrorClass::Check,
            format!("status {}, expected {allowed:?}", described()),
        )),
        Some(_) => None,
        None if (400..500).contains(&status) => {
            Some((ErrorClass::Http4xx, format!("HTTP {}", described())))
        }
        None if status >= 500 => Some((ErrorClass::Http5xx, format!("HTTP {}", described()))),
        None => None,
    };
    let class = class.or_else(|| {
        (!found).then(|| {
            let needle =
                String::from_utf8_lossy(p.contains.as_deref().unwrap_or_default()).into_owned();
            (
                ErrorClass::Check,
                format!("body does not contain {needle:?}"),
            )
        })
    });
    match class {
        None => Outcome::ok(status, bytes),
        Some((c, m)) => Outcome {
            status,
            bytes,
            error: Some(c),
            message: Some(m.into()),
            retry_of: None,
        },
    }
}

/// Streaming substring search: `carry` holds the tail of earlier chunks.
fn search(carry: &mut Vec<u8>, chunk: &[u8], needle: &[u8]) -> bool {
    if needle.is_empty() {
        return true;
    }
    carry.extend_from_slice(chunk);
    if carry.windows(needle.len()).any(|w| w == needle) {
        return true;
    }
    let keep = needle.len() - 1;
    if carry.len() > keep {
        carry.drain(..carry.len() - keep);
    }
    false
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::TcpListener;

    use super::*;

    /// What a scripted server does with one request on a connection.
    #[derive(Debug, Clone, Copy)]
    enum Act {
        Answer,
        /// Reads the request and closes without answering.
        Close,
        /// Reads the request and never answers.
        Hang,
        /// Sends a head promising 100 bytes and 10 of them, then stalls.
        HalfBody,
    }

    /// A loopback server: connection `i` follows `script[i]` request by request (the last
    /// script repeats). Returns its address and the count of requests it received.
    async fn scripted(script: Vec<Vec<Act>>) -> (SocketAddr, Arc<AtomicU64>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(AtomicU64::new(0));
        let count = Arc::clone(&received);
        tokio::spawn(async move {
            for i in 0.. {
                let Ok((mut conn, _)) = listener.accept().await else {
                    return;
                };
                let acts = script[i.min(script.len() - 1)].clone();
                let count = Arc::clone(&count);
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    for act in acts {
                        // One request: a head, and a body of its Content-Length.
                        let mut chunk = [0u8; 1024];
                        let end = loop {
                            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                                break end + 4;
                            }
                            match conn.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                        };
                        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                        let length: usize = head
                            .split("content-length:")
                            .nth(1)
                            .and_then(|v| v.lines().next()?.trim().parse().ok())
                            .unwrap_or(0);
                        while buf.len() < end + length {
                            match conn.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                        }
                        buf.drain(..end + length);
                        count.fetch_add(1, Ordering::SeqCst);
                        match act {
                            Act::Answer => {
                                let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
                                if conn.write_all(ok).await.is_err() {
                                    return;
                                }
                            }
                            Act::Close => return,
                            Act::Hang => {
                                tokio::time::sleep(Duration::from_secs(3600)).await;
                                return;
                            }
                            Act::HalfBody => {
                                let head = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n";
                                let _ = conn.write_all(head).await;
                                let _ = conn.write_all(b"0123456789").await;
                                tokio::time::sleep(Duration::from_secs(3600)).await;
                                return;
                            }
                        }
                    }
                });
            }
        });
        (addr, received)
    }

    /// A session on `addr` with one request `method /x`; `lean` picks the client.
    fn session(
        addr: SocketAddr,
        method: &str,
        retry_idempotent: bool,
        lean: bool,
        timeout: Duration,
    ) -> HttpSession {
        let req = HttpRequest {
            method: method.into(),
            path: "/x".into(),
            headers: Vec::new(),
            body: (method == "POST").then(|| "{}".into()),
        };
        let expect = Expect {
            status: None,
            body_contains: None,
        };
        let base = format!("http://{addr}");
        let mut spec =
            HttpSpec::new(&base, addr, timeout, retry_idempotent, &[(&req, &expect)]).unwrap();
        spec.lean = lean;
        HttpSession::new(Arc::new(spec))
    }

    fn is_keep_alive_reset(o: &Outcome) -> bool {
        o.error == Some(ErrorClass::Reset)
            && o.status == 0
            && o.message
                .as_deref()
                .is_some_and(|m| m.starts_with(KEEP_ALIVE_CLOSED))
    }

    #[tokio::test]
    async fn a_kept_alive_connection_closed_before_the_answer_is_a_reset_never_a_resend() {
        for lean in [true, false] {
            for (method, retry) in [("GET", false), ("POST", false), ("POST", true)] {
                let (addr, received) = scripted(vec![vec![Act::Answer, Act::Close]]).await;
                let mut s = session(addr, method, retry, lean, Duration::from_secs(5));
                let first = s.execute(0).await;
                assert_eq!((first.error, first.status), (None, 200));
                let second = s.execute(0).await;
                let case = format!("lean {lean}, {method}, retry_idempotent {retry}");
                assert!(is_keep_alive_reset(&second), "{case}: {second:?}");
                assert!(second.retry_of.is_none(), "{case}");
                assert_eq!(received.load(Ordering::SeqCst), 2, "{case}");
            }
        }
    }

    #[tokio::test]
    async fn retry_idempotent_sends_a_get_once_more_and_reports_the_first_attempt() {
        for lean in [true, false] {
            let (addr, received) =
                scripted(vec![vec![Act::Answer, Act::Close], vec![Act::Answer]]).await;
            let mut s = session(addr, "GET", true, lean, Duration::from_secs(5));
            assert_eq!(s.execute(0).await.error, None);
            let retried = s.execute(0).await;
            assert_eq!((retried.error, retried.status), (None, 200), "lean {lean}");
            let first = retried
                .retry_of
                .as_ref()
                .expect("the first attempt is reported");
            assert!(is_keep_alive_reset(&first.outcome), "{:?}", first.outcome);
            assert!(first.outcome.retry_of.is_none());
            // Three requests reached the server: the answered one, the lost one, the retry.
            assert_eq!(received.load(Ordering::SeqCst), 3, "lean {lean}");
        }
    }

    #[tokio::test]
    async fn a_retry_cut_by_the_timeout_still_reports_its_first_attempt() {
        for lean in [true, false] {
            let (addr, received) =
                scripted(vec![vec![Act::Answer, Act::Close], vec![Act::Hang]]).await;
            let mut s = session(addr, "GET", true, lean, Duration::from_millis(300));
            assert_eq!(s.execute(0).await.error, None);
            let timed_out = s.execute(0).await;
            assert_eq!(timed_out.error, Some(ErrorClass::Timeout), "lean {lean}");
            let first = timed_out.retry_of.as_ref().expect("first attempt kept");
            assert!(is_keep_alive_reset(&first.outcome), "{:?}", first.outcome);
            assert_eq!(received.load(Ordering::SeqCst), 3, "lean {lean}");
            // The next request starts clean: no stale first attempt rides along.
            let next = s.execute(0).await;
            assert!(next.retry_of.is_none(), "lean {lean}: {next:?}");
        }
    }

    #[tokio::test]
    async fn a_fresh_connection_closed_before_the_answer_is_not_retried() {
        let (addr, received) = scripted(vec![vec![Act::Close]]).await;
        let mut s = session(addr, "GET", true, true, Duration::from_secs(5));
        let o = s.execute(0).await;
        assert_eq!(o.error, Some(ErrorClass::Reset));
        assert!(!is_keep_alive_reset(&o) && o.retry_of.is_none(), "{o:?}");
        assert_eq!(received.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn search_finds_needles_split_across_chunks() {
        let mut carry = Vec::new();
        assert!(!search(&mut carry, b"{\"i", b"\"id\""));
        assert!(search(&mut carry, b"d\": 3}", b"\"id\""));
        let mut carry = Vec::new();
        assert!(!search(&mut carry, b"abc", b"zz"));
        assert!(carry.len() <= 1);
    }

    #[tokio::test]
    async fn a_timeout_mid_body_keeps_the_status_and_the_bytes_that_arrived() {
        for lean in [true, false] {
            let (addr, received) = scripted(vec![vec![Act::HalfBody]]).await;
            let mut s = session(addr, "GET", false, lean, Duration::from_millis(200));
            let o = s.execute(0).await;
            assert_eq!(o.error, Some(ErrorClass::Timeout), "lean {lean}");
            assert_eq!((o.status, o.bytes), (200, 10), "lean {lean}");
            assert_eq!(received.load(Ordering::SeqCst), 1);
        }
        // Before any answer there is no status to report.
        let (addr, _) = scripted(vec![vec![Act::Hang]]).await;
        let mut s = session(addr, "GET", false, true, Duration::from_millis(100));
        let o = s.execute(0).await;
        assert_eq!(
            (o.error, o.status, o.bytes),
            (Some(ErrorClass::Timeout), 0, 0)
        );
    }
}
