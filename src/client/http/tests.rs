//! The session's keep-alive, retry and timeout contract, checked on the lean client and on
//! hyper alike against a scripted loopback server.

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
        let (addr, received) = scripted(vec![vec![Act::Answer, Act::Close], vec![Act::Hang]]).await;
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
