//! The HTTP target. `http://` runs on the lean HTTP/1.1 client of `h1.rs`: one keep-alive
//! connection per worker, requests serialized once, answers parsed in place. `http://`
//! requests it does not cover (`CONNECT`, a scenario-set `Transfer-Encoding`) run on hyper's
//! HTTP/1.1 client connection, driven inside the worker's own task (no spawned connection
//! task). `https://` goes through reqwest with rustls, one client (and so one connection) per
//! worker. Bodies are read and discarded as they stream. Setting `PERFGATE_HTTP_CLIENT=hyper`
//! forces hyper for `http://` (to compare the two).
//!
//! The request timeout is one timer per session, re-armed only when it fires early, not a
//! timer registered and cancelled per request.

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
use super::h1::{self, Failure, H1Conn};
use super::watchdog::Watchdog;
use crate::metrics::{ErrorClass, Outcome};
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
    /// Prepares `reqs` against `base` (already resolved to `addr`).
    pub fn new(
        base: &str,
        addr: SocketAddr,
        timeout: Duration,
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
            requests.push(Prepared {
                url: format!("{}://{authority}{path}", if tls { "https" } else { "http" }),
                method,
                uri,
                headers,
                body,
                wire,
                expect_status: expect.status.clone(),
                contains: expect.body_contains.as_ref().map(|s| s.as_bytes().to_vec()),
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

/// A worker's HTTP session: its own connection.
pub struct HttpSession {
    spec: Arc<HttpSpec>,
    lean: Option<H1Conn<TcpStream>>,
    conn: Option<Conn>,
    https: Option<reqwest::Client>,
    carry: Vec<u8>,
    watchdog: Option<Watchdog>,
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
        }
    }

    pub async fn execute(&mut self, idx: usize) -> Outcome {
        let timeout = self.spec.timeout;
        let spec = Arc::clone(&self.spec);
        let Some(req) = spec.requests.get(idx) else {
            return Outcome::error(ErrorClass::Protocol, "no such request");
        };
        let deadline = Instant::now() + timeout;
        // Taken out while the exchange borrows the session; put back below.
        let mut watchdog = self
            .watchdog
            .take()
            .unwrap_or_else(|| Watchdog::new(timeout));
        let fut = async {
            if spec.tls {
                self.exchange_tls(req).await
            } else if spec.lean {
                self.exchange_lean(req).await
            } else {
                self.exchange(req).await
            }
        };
        let outcome = watchdog.run(deadline, fut).await;
        self.watchdog = Some(watchdog);
        match outcome {
            Some(o) => o,
            None => {
                // The connection is in an unknown state: start afresh next time.
                self.lean = None;
                self.conn = None;
                self.https = None;
                Outcome::error(
                    ErrorClass::Timeout,
                    format!("no complete answer within {timeout:?}"),
                )
            }
        }
    }

    /// One exchange on the lean client. A kept-alive connection that the server closed
    /// while idle (not one byte of answer) is replaced once, as browsers do.
    async fn exchange_lean(&mut self, p: &Prepared) -> Outcome {
        let head = p.method == Method::HEAD;
        let mut retried = false;
        loop {
            let reused = self.lean.is_some();
            if !reused {
                match TcpStream::connect(self.spec.addr).await {
                    Ok(stream) => {
                        let _ = stream.set_nodelay(true);
                        self.lean = Some(H1Conn::new(stream));
                    }
                    Err(e) => {
                        return Outcome::error(
                            classify_io(&e).unwrap_or(ErrorClass::Connect),
                            format!("connect {}: {e}", self.spec.addr),
                        )
                    }
                }
            }
            let Some(conn) = self.lean.as_mut() else {
                return Outcome::error(ErrorClass::Connect, "no connection");
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
            let result = conn.exchange(&p.wire, head, &mut sink).await;
            let outcome = match result {
                Ok(a) => {
                    let o = judge(a.status, Some(conn.reason()), a.bytes, found, p);
                    if !a.keep_alive {
                        self.lean = None;
                    }
                    return o;
                }
                Err(Failure::ClosedBeforeAnswer { nothing: true }) if reused && !retried => {
                    self.lean = None;
                    retried = true;
                    continue;
                }
                Err(Failure::ClosedBeforeAnswer { .. }) => {
                    Outcome::error(ErrorClass::Reset, "connection closed before the response")
                }
                Err(Failure::ClosedMidBody { status, bytes }) => {
                    let mut o = Outcome::error(ErrorClass::Reset, "connection closed mid-body");
                    o.status = status;
                    o.bytes = bytes;
                    o
                }
                Err(Failure::Protocol {
                    message,
                    status,
                    bytes,
                }) => {
                    let mut o = Outcome::error(ErrorClass::Protocol, message);
                    o.status = status;
                    o.bytes = bytes;
                    o
                }
                Err(Failure::Io(e)) => Outcome::error(
                    classify_io(&e).unwrap_or(ErrorClass::Reset),
                    format!("connection error: {e}"),
                ),
            };
            self.lean = None;
            return outcome;
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
            });
        }
        Ok(())
    }

    async fn exchange(&mut self, p: &Prepared) -> Outcome {
        if let Err(o) = self.connect().await {
            return o;
        }
        let Some(conn) = self.conn.as_mut() else {
            return Outcome::error(ErrorClass::Connect, "no connection");
        };
        let carry = &mut self.carry;
        // Wait until the connection can take a request (the previous exchange is finished).
        match conn.drive_poll(|sender, cx| sender.poll_ready(cx)).await {
            Some(Ok(())) => {}
            Some(Err(e)) => {
                self.conn = None;
                return hyper_error(&e);
            }
            None => {
                self.conn = None;
                return Outcome::error(ErrorClass::Reset, "connection closed by the server");
            }
        }
        let mut req = Request::new(Full::new(p.body.clone()));
        *req.method_mut() = p.method.clone();
        *req.uri_mut() = p.uri.clone();
        *req.headers_mut() = p.headers.clone();
        let send = conn.sender.send_request(req);
        let resp = match conn.drive(Box::pin(send)).await {
            Some(Ok(r)) => r,
            Some(Err(e)) => {
                self.conn = None;
                return hyper_error(&e);
            }
            None => {
                self.conn = None;
                return Outcome::error(ErrorClass::Reset, "connection closed before the response");
            }
        };
        let status = resp.status().as_u16();
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
        let reason = resp.status().canonical_reason().map(str::to_string);
        let mut bytes = 0u64;
        let mut found = p.contains.is_none();
        self.carry.clear();
        loop {
            match resp.chunk().await {
                Ok(Some(data)) => {
                    bytes += data.len() as u64;
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
    use super::*;

    #[test]
    fn search_finds_needles_split_across_chunks() {
        let mut carry = Vec::new();
        assert!(!search(&mut carry, b"{\"i", b"\"id\""));
        assert!(search(&mut carry, b"d\": 3}", b"\"id\""));
        let mut carry = Vec::new();
        assert!(!search(&mut carry, b"abc", b"zz"));
        assert!(carry.len() <= 1);
    }
}
