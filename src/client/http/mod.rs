//! The HTTP target: requests prepared once for the whole run ([`HttpSpec`]), and one
//! [`HttpSession`] per worker that sends them on one of three transports, picked once per
//! run and dispatched statically:
//!
//! - `lean.rs`: `http://` on the lean HTTP/1.1 client of `h1.rs`, the hot path: one
//!   keep-alive connection per worker, requests serialized once, answers parsed in place.
//! - `hyper.rs`: `http://` requests the lean client does not cover (`CONNECT`, a
//!   scenario-set `Transfer-Encoding`), or every `http://` request with
//!   `PERFGATE_HTTP_CLIENT=hyper` (to compare the two); why it stays is in its module doc.
//! - `tls.rs`: `https://` through reqwest with rustls, one client (and so one connection)
//!   per worker.
//!
//! Every transport hands its answer to `outcome.rs`, which streams and counts the body,
//! searches it for `expect.body_contains`, and judges the answer, once for all three.
//! Bodies are read and discarded as they stream. `classify.rs` gives transport errors
//! their class.
//!
//! **No request is sent twice without a trace.** When a reused keep-alive connection closes
//! before any answer, the request is an error of class `reset` ("keep-alive connection
//! closed by the server before the response"); the server may well have received it. Only
//! with `target.retry_idempotent: true`, and only for GET, HEAD and OPTIONS on `http://`,
//! is it sent once more on a new connection; the retry's [`Outcome`] carries the failed
//! first attempt ([`FirstAttempt`]), which the recorder counts as a request of its own,
//! and `retries` counts the retry. A retry that runs out of time still reports its first
//! attempt. What each transport may re-send on its own (nothing that was written) is in
//! its module doc. `retry_idempotent` does not apply to `https://`.
//!
//! A failed outcome carries `status` only when the response head was complete and parsed,
//! and `bytes` counts the body bytes that arrived before the failure.
//!
//! The request timeout is one timer per session ([`Watchdog`]), re-armed only when it fires
//! early, not a timer registered and cancelled per request. It covers a request and its
//! retry together.

mod classify;
mod h1;
mod hyper;
mod lean;
mod outcome;
mod tls;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use tokio::time::Instant;

use self::h1::Progress;
use self::hyper::Hyper;
use self::lean::Lean;
use self::tls::Tls;
use super::watchdog::Watchdog;
use crate::metrics::{ErrorClass, FirstAttempt, Outcome};
use crate::scenario::{Expect, HttpRequest};

/// Why a scenario's HTTP requests cannot be prepared. Validation refuses most of these
/// before; this is what is left for a plan built in code.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    /// The base URL does not parse.
    #[error("bad base URL: {0}")]
    BaseUrl(#[source] http::uri::InvalidUri),
    /// The base URL names no host.
    #[error("the base URL has no host")]
    NoHost,
    /// The base URL's host and port are not a valid `Host` header.
    #[error("bad Host header {authority:?}: {source}")]
    Host {
        authority: String,
        source: http::header::InvalidHeaderValue,
    },
    /// A header name is not a valid HTTP token.
    #[error("header name {name:?}: {source}")]
    HeaderName {
        name: String,
        source: http::header::InvalidHeaderName,
    },
    /// A header value holds a byte HTTP does not allow.
    #[error("header {name}: {source}")]
    HeaderValue {
        name: String,
        source: http::header::InvalidHeaderValue,
    },
    /// A method is not a valid HTTP token.
    #[error("method {method:?}: {source}")]
    Method {
        method: String,
        source: http::method::InvalidMethod,
    },
    /// A request path (after the base URL's prefix) is not a valid origin-form target.
    #[error("bad path {path}: {source}")]
    Path {
        path: String,
        source: http::uri::InvalidUri,
    },
}

/// One request, prepared once for the whole run.
#[derive(Debug)]
pub(crate) struct Prepared {
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
pub(crate) struct HttpSpec {
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
    pub(crate) fn new(
        base: &str,
        addr: SocketAddr,
        timeout: Duration,
        retry_idempotent: bool,
        reqs: &[(&HttpRequest, &Expect)],
    ) -> Result<Self, PrepareError> {
        let base_uri: Uri = base.parse().map_err(PrepareError::BaseUrl)?;
        let tls = base_uri.scheme_str() == Some("https");
        let authority = base_uri
            .authority()
            .map(|a| a.as_str().to_string())
            .ok_or(PrepareError::NoHost)?;
        let host = HeaderValue::from_str(&authority).map_err(|source| PrepareError::Host {
            authority: authority.clone(),
            source,
        })?;
        let prefix = base_uri.path().trim_end_matches('/').to_string();
        let mut requests = Vec::new();
        for (r, expect) in reqs {
            let path = format!("{prefix}{}", r.path);
            let mut headers = HeaderMap::new();
            headers.insert(http::header::HOST, host.clone());
            headers.insert(
                http::header::USER_AGENT,
                HeaderValue::from_static(concat!("perfgate/", env!("CARGO_PKG_VERSION"))),
            );
            for (n, v) in &r.headers {
                let name = HeaderName::from_bytes(n.as_bytes()).map_err(|source| {
                    PrepareError::HeaderName {
                        name: n.clone(),
                        source,
                    }
                })?;
                let value =
                    HeaderValue::from_str(v).map_err(|source| PrepareError::HeaderValue {
                        name: n.clone(),
                        source,
                    })?;
                headers.insert(name, value);
            }
            // The body's length is framed by the client, from the body (validation refuses a
            // scenario-set Content-Length; this keeps every client in step regardless).
            headers.remove(http::header::CONTENT_LENGTH);
            let method =
                Method::from_bytes(r.method.as_bytes()).map_err(|source| PrepareError::Method {
                    method: r.method.clone(),
                    source,
                })?;
            let uri: Uri = path.parse().map_err(|source| PrepareError::Path {
                path: path.clone(),
                source,
            })?;
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
            tls,
            addr,
            timeout,
            requests,
            lean,
        })
    }
}

/// Why a reused keep-alive connection failed a request it may have delivered.
const KEEP_ALIVE_CLOSED: &str = "keep-alive connection closed by the server before the response";

/// One attempt at an `http://` request.
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

/// An `http://` transport (`lean.rs`, `hyper.rs`): one attempt at a request, which the
/// session may retry.
trait Attempts {
    fn attempt(
        &mut self,
        addr: SocketAddr,
        p: &Prepared,
        carry: &mut Vec<u8>,
    ) -> impl Future<Output = Attempt> + Send;
}

/// The transport a session sends on, picked once from the spec. (hyper's connection state
/// is large and off the hot path: boxed, so the lean variant stays small.)
enum Transport {
    Lean(Lean),
    Hyper(Box<Hyper>),
    Tls(Tls),
}

impl Transport {
    fn for_spec(spec: &HttpSpec) -> Self {
        if spec.tls {
            Transport::Tls(Tls::default())
        } else if spec.lean {
            Transport::Lean(Lean::default())
        } else {
            Transport::Hyper(Box::default())
        }
    }

    /// What has arrived of the answer in progress.
    fn progress(&self) -> Progress {
        match self {
            Transport::Lean(t) => t.progress(),
            Transport::Hyper(t) => t.progress(),
            Transport::Tls(t) => t.progress(),
        }
    }

    /// Drops the connection: after a timeout its state is unknown.
    fn reset(&mut self) {
        match self {
            Transport::Lean(t) => t.reset(),
            Transport::Hyper(t) => t.reset(),
            Transport::Tls(t) => t.reset(),
        }
    }
}

/// While a retry runs: the failed first attempt and when the retry started, so that a retry
/// cut short by the timeout still reports it.
type Pending = Option<(Outcome, Instant)>;

/// A worker's HTTP session: its own connection.
pub(crate) struct HttpSession {
    spec: Arc<HttpSpec>,
    transport: Transport,
    /// The body search's buffer, reused across requests.
    carry: Vec<u8>,
    /// Made on the first request.
    watchdog: Option<Watchdog>,
    first_attempt: Pending,
}

impl HttpSession {
    pub(crate) fn new(spec: Arc<HttpSpec>) -> Self {
        HttpSession {
            transport: Transport::for_spec(&spec),
            spec,
            carry: Vec::new(),
            watchdog: None,
            first_attempt: None,
        }
    }

    pub(crate) async fn execute(&mut self, idx: usize) -> Outcome {
        let HttpSession {
            spec,
            transport,
            carry,
            watchdog,
            first_attempt,
        } = self;
        let timeout = spec.timeout;
        let Some(req) = spec.requests.get(idx) else {
            return Outcome::error(ErrorClass::Protocol, "no such request");
        };
        let deadline = Instant::now() + timeout;
        *first_attempt = None;
        let watchdog = watchdog.get_or_insert_with(|| Watchdog::new(timeout));
        let exchange = async {
            match transport {
                Transport::Lean(t) => retrying(t, spec.addr, req, carry, first_attempt).await,
                Transport::Hyper(t) => {
                    retrying(&mut **t, spec.addr, req, carry, first_attempt).await
                }
                Transport::Tls(t) => t.exchange(timeout, req, carry).await,
            }
        };
        match watchdog.guard(deadline, exchange).await {
            Some(o) => o,
            None => {
                // What arrived before the timeout: the status of a complete head, the bytes.
                let arrived = transport.progress();
                // The connection is in an unknown state: start afresh next time.
                transport.reset();
                let mut timed_out = Outcome::error(
                    ErrorClass::Timeout,
                    format!("no complete answer within {timeout:?}"),
                );
                timed_out.status = arrived.status;
                timed_out.bytes = arrived.bytes;
                with_first_attempt(first_attempt, timed_out)
            }
        }
    }
}

/// One `http://` request: one attempt, and with `retry_idempotent` one counted retry when a
/// reused connection closed before any answer.
async fn retrying(
    transport: &mut impl Attempts,
    addr: SocketAddr,
    p: &Prepared,
    carry: &mut Vec<u8>,
    first_attempt: &mut Pending,
) -> Outcome {
    let first = transport.attempt(addr, p, carry).await;
    if !(p.retry && first.closed_unanswered) {
        return first.outcome;
    }
    *first_attempt = Some((first.outcome, Instant::now()));
    let retry = transport.attempt(addr, p, carry).await.outcome;
    with_first_attempt(first_attempt, retry)
}

/// Attaches the failed first attempt, when `retry` is a retry.
fn with_first_attempt(first_attempt: &mut Pending, mut retry: Outcome) -> Outcome {
    if let Some((first, started)) = first_attempt.take() {
        let retry_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        retry.retry_of = Some(Box::new(FirstAttempt {
            outcome: first,
            retry_us,
        }));
    }
    retry
}

#[cfg(test)]
mod tests;
