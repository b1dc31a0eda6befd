//! What a request is sent to (the client side of a run; named `client` so that no tool
//! mistakes it for Cargo's `target/` build folder). The engine drives any [`Target`]: each worker gets its own
//! [`Session`] (its own connection) and asks it to execute request `i` of the scenario.
//! [`PlanTarget`] is the real one: HTTP (`http/`: one file per transport over one shared
//! outcome routine) and in-process functions (`function.rs`) mixed as the scenario says.
//! `demo.rs` is the embedded demo server.
//! `target.timeout` bounds every request, in-process calls included (`watchdog.rs`: one timer
//! per session, not one per call).

pub mod demo;
mod function;
mod http;
mod watchdog;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub(crate) use function::BoundCall;
pub use function::{CallContext, FnResult, ParamError, Registry};
pub(crate) use http::PrepareError;
pub(crate) use http::{HttpSession, HttpSpec};

use crate::metrics::Outcome;
use crate::scenario::{Action, Plan};

/// Something the engine can load. Shared by all workers.
pub trait Target: Send + Sync + 'static {
    type Session: Session;
    /// A fresh session for one worker (connections are opened lazily).
    fn session(&self) -> Self::Session;
}

/// One worker's view of the target.
pub trait Session: Send + 'static {
    /// Executes request `request` (an index into the scenario's requests).
    fn execute(&mut self, request: usize) -> impl Future<Output = Outcome> + Send;
}

/// A scenario's requests, ready to run: HTTP requests against one base URL and bound
/// in-process calls.
pub struct PlanTarget {
    actions: Vec<Prepared>,
    http: Option<Arc<HttpSpec>>,
    /// `target.timeout`, also for in-process calls.
    timeout: Duration,
}

#[derive(Clone)]
enum Prepared {
    Http(usize),
    Call(BoundCall),
}

/// Why a target cannot be used: the run does not start (exit code 3).
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// The base URL's host has no address.
    #[error("cannot resolve {host}: {reason}")]
    Resolve { host: String, reason: String },
    /// The host accepts no TCP connection (refused, or not within `target.timeout`).
    #[error("{url} is unreachable: {reason}")]
    Unreachable { url: String, reason: String },
    /// The base URL does not parse.
    #[error("bad base URL {url}: {source}")]
    BaseUrl {
        url: String,
        source: ::http::uri::InvalidUri,
    },
    /// The plan has HTTP requests and no base URL.
    #[error("HTTP requests need a base URL")]
    NoBaseUrl,
    /// A `call` names a function the registry does not hold.
    #[error("no function `{0}`")]
    NoFunction(String),
    /// An HTTP request cannot be prepared.
    #[error(transparent)]
    Request(#[from] PrepareError),
}

impl PlanTarget {
    /// Prepares `plan`'s requests against `base_url` (the resolved base, after `embedded` and
    /// `--base-url` were applied). Resolves the host and checks that it accepts a TCP
    /// connection: an unreachable target fails here, in one line, before any load.
    pub async fn prepare(
        plan: &Plan,
        base_url: Option<&str>,
        registry: &Registry,
    ) -> Result<Self, TargetError> {
        let mut http_reqs = Vec::new();
        let mut actions = Vec::new();
        for r in &plan.requests {
            match &r.action {
                Action::Http(h) => {
                    actions.push(Prepared::Http(http_reqs.len()));
                    http_reqs.push((h, &r.expect));
                }
                Action::Call(c) => {
                    let call =
                        BoundCall::new(registry, &c.function, CallContext::new(c.params.clone()))
                            .ok_or_else(|| TargetError::NoFunction(c.function.clone()))?;
                    actions.push(Prepared::Call(call));
                }
            }
        }
        let http = if http_reqs.is_empty() {
            None
        } else {
            let base = base_url.ok_or(TargetError::NoBaseUrl)?;
            let addr = preflight(base, plan.target.timeout).await?;
            let spec = HttpSpec::new(
                base,
                addr,
                plan.target.timeout,
                plan.target.retry_idempotent,
                &http_reqs,
            )?;
            Some(Arc::new(spec))
        };
        Ok(PlanTarget {
            actions,
            http,
            timeout: plan.target.timeout,
        })
    }
}

/// Resolves `base`'s host and opens (and closes) one TCP connection to it.
pub(crate) async fn preflight(base: &str, timeout: Duration) -> Result<SocketAddr, TargetError> {
    let uri: ::http::Uri = base.parse().map_err(|source| TargetError::BaseUrl {
        url: base.to_string(),
        source,
    })?;
    let host = uri
        .host()
        .unwrap_or_default()
        .trim_matches(|c| c == '[' || c == ']')
        .to_string();
    let port = uri
        .port_u16()
        .unwrap_or(if uri.scheme_str() == Some("https") {
            443
        } else {
            80
        });
    let addr = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(|e| TargetError::Resolve {
            host: host.clone(),
            reason: e.to_string(),
        })?
        .next()
        .ok_or_else(|| TargetError::Resolve {
            host: host.clone(),
            reason: "no address".into(),
        })?;
    match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(addr)).await {
        Ok(Ok(_)) => Ok(addr),
        Ok(Err(e)) => Err(TargetError::Unreachable {
            url: base.to_string(),
            reason: e.to_string(),
        }),
        Err(_) => Err(TargetError::Unreachable {
            url: base.to_string(),
            reason: format!("no TCP connection within {timeout:?}"),
        }),
    }
}

impl Target for PlanTarget {
    type Session = PlanSession;

    fn session(&self) -> PlanSession {
        PlanSession {
            actions: self.actions.clone(),
            http: self.http.as_ref().map(|s| HttpSession::new(Arc::clone(s))),
            timeout: self.timeout,
            watchdog: None,
        }
    }
}

pub struct PlanSession {
    actions: Vec<Prepared>,
    http: Option<HttpSession>,
    timeout: Duration,
    /// The in-process calls' timer, made on the first call.
    watchdog: Option<watchdog::Watchdog>,
}

impl Session for PlanSession {
    async fn execute(&mut self, request: usize) -> Outcome {
        match self.actions.get(request) {
            Some(Prepared::Http(i)) => match self.http.as_mut() {
                Some(h) => h.execute(*i).await,
                None => Outcome::error(crate::metrics::ErrorClass::Connect, "no HTTP target"),
            },
            Some(Prepared::Call(c)) => {
                let timeout = self.timeout;
                let deadline = tokio::time::Instant::now() + timeout;
                let dog = self
                    .watchdog
                    .get_or_insert_with(|| watchdog::Watchdog::new(timeout));
                match dog.guard(deadline, c.call()).await {
                    Some(o) => o,
                    None => Outcome::error(
                        crate::metrics::ErrorClass::Timeout,
                        format!("no result within {timeout:?}"),
                    ),
                }
            }
            None => Outcome::error(crate::metrics::ErrorClass::Function, "no such request"),
        }
    }
}
