//! The embedded demo server (hyper): makes every shipped scenario runnable with nothing else,
//! and gives tests a real HTTP peer on an ephemeral loopback port. Latency, jitter and a
//! random error rate are configurable.
//!
//! Routes: `GET /health`, `GET /items`, `POST /items` (201, `{"id":N}`), `GET /items/{id}`,
//! `GET /slow?ms=N`, `GET /fail` (500), `GET /status/{code}`, `GET /bytes/{n}` (streams n
//! bytes), `GET /unauthorized` (401 whose reason phrase repeats the `Authorization` header,
//! as careless servers do).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{combinators::BoxBody, BodyExt as _, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// How the demo server behaves.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Added to every answer (but `/health`).
    pub latency: Duration,
    /// Uniform ± jitter around `latency`.
    pub jitter: Duration,
    /// Fraction (0..1) of answers replaced by a 500.
    pub error_rate: f64,
    pub seed: u64,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            latency: Duration::ZERO,
            jitter: Duration::ZERO,
            error_rate: 0.0,
            seed: 0x5eed,
        }
    }
}

struct State {
    opts: DemoOptions,
    counter: AtomicU64,
    ids: AtomicU64,
}

impl State {
    /// A uniform number in [0, 1), from a counter through splitmix64.
    fn uniform(&self) -> f64 {
        let mut z = self.opts.seed.wrapping_add(
            self.counter
                .fetch_add(1, Ordering::Relaxed)
                .wrapping_mul(0x9E37_79B9_7F4A_7C15),
        );
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

type Body = BoxBody<Bytes, Infallible>;

fn full(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    let mut r = Response::new(Full::new(body.into()).boxed());
    *r.status_mut() = status;
    r
}

const ITEMS: &str = r#"[{"id":1,"name":"alpha","price":10},{"id":2,"name":"beta","price":12},{"id":3,"name":"gamma","price":7},{"id":4,"name":"delta","price":31},{"id":5,"name":"epsilon","price":3}]"#;

async fn handle(req: Request<Incoming>, state: Arc<State>) -> Result<Response<Body>, Infallible> {
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    if path == "/health" {
        return Ok(full(StatusCode::OK, "ok"));
    }
    let o = &state.opts;
    if !o.latency.is_zero() || !o.jitter.is_zero() {
        let j = o.jitter.as_secs_f64() * (2.0 * state.uniform() - 1.0);
        let d = (o.latency.as_secs_f64() + j).max(0.0);
        tokio::time::sleep(Duration::from_secs_f64(d)).await;
    }
    if o.error_rate > 0.0 && state.uniform() < o.error_rate {
        return Ok(full(StatusCode::INTERNAL_SERVER_ERROR, "injected error"));
    }
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let resp = match (req.method(), segs.as_slice()) {
        (&Method::GET, ["items"]) => json(StatusCode::OK, ITEMS),
        (&Method::POST, ["items"]) => {
            // Read (and discard) the request body.
            let _ = req.into_body().collect().await;
            let id = state.ids.fetch_add(1, Ordering::Relaxed) + 1;
            json(
                StatusCode::CREATED,
                format!(r#"{{"id":{id},"created":true}}"#),
            )
        }
        (&Method::GET, ["items", id]) => match id.parse::<u64>() {
            Ok(n) => json(StatusCode::OK, format!(r#"{{"id":{n},"name":"item-{n}"}}"#)),
            Err(_) => full(StatusCode::NOT_FOUND, "no such item"),
        },
        (&Method::GET, ["slow"]) => {
            let ms = param(&query, "ms").unwrap_or(200).min(60_000);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            full(StatusCode::OK, "slow")
        }
        (&Method::GET, ["fail"]) => full(StatusCode::INTERNAL_SERVER_ERROR, "failure, as asked"),
        (&Method::GET, ["status", code]) => match code
            .parse::<u16>()
            .ok()
            .and_then(|c| StatusCode::from_u16(c).ok())
        {
            Some(s) => full(s, "status, as asked"),
            None => full(StatusCode::BAD_REQUEST, "bad status code"),
        },
        (&Method::GET, ["bytes", n]) => match n.parse::<u64>() {
            Ok(n) if n <= 1 << 30 => stream_bytes(n),
            _ => full(StatusCode::BAD_REQUEST, "at most 1 GiB"),
        },
        (&Method::GET, ["unauthorized"]) => {
            let auth = req
                .headers()
                .get(http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("none")
                .to_string();
            let mut r = full(StatusCode::UNAUTHORIZED, format!("token {auth} refused"));
            if let Ok(reason) =
                hyper::ext::ReasonPhrase::try_from(format!("Bad token {auth}").into_bytes())
            {
                r.extensions_mut().insert(reason);
            }
            r
        }
        _ => full(StatusCode::NOT_FOUND, "not found"),
    };
    Ok(resp)
}

fn json(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    let mut r = full(status, body);
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    r
}

fn param(query: &str, name: &str) -> Option<u64> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .and_then(|(_, v)| v.parse().ok())
}

/// A body of `n` bytes produced 64 KiB at a time, never held whole.
fn stream_bytes(n: u64) -> Response<Body> {
    static CHUNK: [u8; 65536] = [b'x'; 65536];
    let stream = futures_util::stream::unfold(n, |left| async move {
        if left == 0 {
            return None;
        }
        let k = left.min(CHUNK.len() as u64);
        let frame = Frame::data(Bytes::from_static(&CHUNK[..k as usize]));
        Some((Ok::<_, Infallible>(frame), left - k))
    });
    let mut r = Response::new(StreamBody::new(stream).boxed());
    r.headers_mut()
        .insert(http::header::CONTENT_LENGTH, http::HeaderValue::from(n));
    r
}

/// Serves on `listener` until `stop` resolves.
pub(crate) async fn serve(
    listener: TcpListener,
    opts: DemoOptions,
    stop: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let state = Arc::new(State {
        opts,
        counter: AtomicU64::new(0),
        ids: AtomicU64::new(0),
    });
    tokio::pin!(stop);
    loop {
        let (stream, _) = tokio::select! {
            r = listener.accept() => match r {
                Ok(s) => s,
                // Out of file descriptors and the like: keep serving.
                Err(_) => { tokio::time::sleep(Duration::from_millis(5)).await; continue; }
            },
            _ = &mut stop => return Ok(()),
        };
        let _ = stream.set_nodelay(true);
        let state = Arc::clone(&state);
        tokio::spawn(async move {
            let svc = service_fn(move |req| handle(req, Arc::clone(&state)));
            let _ = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

/// A demo server on its own thread and runtime, so it does not share the load generator's
/// workers. Stops when dropped.
pub struct DemoServer {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl DemoServer {
    /// Starts on `addr` (use port 0 for an ephemeral port).
    pub fn start(addr: SocketAddr, opts: DemoOptions) -> std::io::Result<Self> {
        let std_listener = std::net::TcpListener::bind(addr)?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let thread = std::thread::Builder::new()
            .name("perfgate-demo".into())
            .spawn(move || {
                rt.block_on(async move {
                    if let Ok(listener) = TcpListener::from_std(std_listener) {
                        let _ = serve(listener, opts, async {
                            let _ = rx.await;
                        })
                        .await;
                    }
                });
            })?;
        Ok(DemoServer {
            addr,
            stop: Some(tx),
            thread: Some(thread),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
