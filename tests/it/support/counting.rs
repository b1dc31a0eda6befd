//! A loopback HTTP/1.1 server that counts every request it receives, with the instant it
//! arrived and its head, and misbehaves by path. Fault tests hold perfgate's counts against
//! this one's: what perfgate reports must equal what the server saw.
//!
//! Paths (the query string is ignored):
//! - `/ok`: 200 with a 2-byte body, keep-alive.
//! - `/slow/MS`: waits MS milliseconds, then answers like `/ok`.
//! - `/close`: reads the request and closes the connection without answering.
//! - `/flaky`: on each connection answers the first request and closes on the second, so a
//!   client that reuses connections meets a kept-alive connection closed before its answer.
//! - `/reset-head`: writes half a status line, then closes.
//! - `/reset-body`: promises 1000 body bytes, sends 13, then closes.
//! - `/garbage`: a malformed status line.
//! - `/slow-close/MS`: waits MS milliseconds, then closes the connection without answering.
//! - `/hang`: never answers (until the client closes or the server is dropped).
//! - `/status/CODE`: answers CODE with an empty body.
//! - `/fail-after/N`: answers like `/ok` to the first N requests of this path the server
//!   received, and 500 to every later one: a server that starts failing.
//!
//! Anything else answers 404.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub at: Instant,
    pub method: String,
    pub path: String,
    /// The request line and headers, as sent.
    pub head: String,
}

/// The counting server; stops (and closes every connection) when dropped.
pub struct CountingServer {
    pub addr: SocketAddr,
    log: Arc<Mutex<Vec<Received>>>,
    stop: Arc<AtomicBool>,
    /// When the listener was opened.
    pub started: Instant,
}

impl CountingServer {
    pub fn start() -> CountingServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let log = Arc::new(Mutex::new(Vec::new()));
        let (s, l) = (Arc::clone(&stop), Arc::clone(&log));
        thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        let (s2, l2) = (Arc::clone(&s), Arc::clone(&l));
                        thread::spawn(move || serve(conn, &l2, &s2));
                    }
                    Err(_) => thread::sleep(Duration::from_millis(1)),
                }
            }
        });
        CountingServer {
            addr,
            log,
            stop,
            started: Instant::now(),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Kills the server now: the listener closes (later connects are refused) and every
    /// connection is closed without answering what it has not answered yet.
    pub fn kill(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.log.lock().unwrap().clone()
    }

    /// The head (request line and headers) of every request received so far.
    pub fn heads(&self) -> Vec<String> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .map(|r| r.head.clone())
            .collect()
    }

    /// Requests received whose path starts with `prefix`.
    pub fn count(&self, prefix: &str) -> u64 {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.path.starts_with(prefix))
            .count() as u64
    }

    /// Waits until at least `n` requests were received, at most `limit`; returns how many
    /// were.
    pub fn wait_for(&self, n: u64, limit: Duration) -> u64 {
        let deadline = Instant::now() + limit;
        while self.count("/") < n && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(2));
        }
        self.count("/")
    }

    /// Requests received with `method` whose path starts with `prefix`.
    pub fn count_method(&self, method: &str, prefix: &str) -> u64 {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.method == method && r.path.starts_with(prefix))
            .count() as u64
    }

    /// Requests received in each whole second since `origin` (index = second).
    pub fn per_second(&self, origin: Instant) -> Vec<u64> {
        let mut out: Vec<u64> = Vec::new();
        for r in self.log.lock().unwrap().iter() {
            let s = r.at.saturating_duration_since(origin).as_secs() as usize;
            if out.len() <= s {
                out.resize(s + 1, 0);
            }
            out[s] += 1;
        }
        out
    }
}

impl Drop for CountingServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Reads one request (head and Content-Length body). `None` when the peer closed or the
/// server is stopping.
fn read_request(
    conn: &mut TcpStream,
    buf: &mut Vec<u8>,
    stop: &AtomicBool,
) -> Option<(String, String, String)> {
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            let length = head
                .lines()
                .find_map(|l| {
                    let (n, v) = l.split_once(':')?;
                    n.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())
                        .flatten()
                })
                .unwrap_or(0);
            while buf.len() < end + 4 + length {
                match conn.read(&mut chunk) {
                    Ok(0) => return None,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    Err(e) if would_block(&e) => {
                        if stop.load(Ordering::Relaxed) {
                            return None;
                        }
                    }
                    Err(_) => return None,
                }
            }
            buf.drain(..end + 4 + length);
            let mut first = head.lines().next().unwrap_or("").split(' ');
            let method = first.next().unwrap_or("").to_string();
            let path = first.next().unwrap_or("").to_string();
            return Some((method, path, head));
        }
        match conn.read(&mut chunk) {
            Ok(0) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if would_block(&e) => {
                if stop.load(Ordering::Relaxed) {
                    return None;
                }
            }
            Err(_) => return None,
        }
    }
}

fn would_block(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

fn serve(mut conn: TcpStream, log: &Mutex<Vec<Received>>, stop: &AtomicBool) {
    let _ = conn.set_read_timeout(Some(Duration::from_millis(50)));
    let _ = conn.set_nodelay(true);
    let mut buf = Vec::new();
    let mut on_this_conn = 0u32;
    while let Some((method, path, head)) = read_request(&mut conn, &mut buf, stop) {
        if stop.load(Ordering::Relaxed) {
            return; // killed: a request read now is neither logged nor answered
        }
        // `/fail-after/N` needs its place among the requests of its path, counted with the
        // push itself: two connections counting apart could both see the same total.
        let nth_fail_after = {
            let mut log = log.lock().unwrap();
            log.push(Received {
                at: Instant::now(),
                method,
                path: path.clone(),
                head,
            });
            if path.starts_with("/fail-after/") {
                log.iter()
                    .filter(|r| r.path.starts_with("/fail-after/"))
                    .count()
            } else {
                0
            }
        };
        on_this_conn += 1;
        let path = path.split('?').next().unwrap_or("").to_string();
        let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        let written = match path.as_str() {
            "/ok" => conn.write_all(ok),
            "/close" => return,
            "/flaky" if on_this_conn >= 2 => return,
            "/flaky" => conn.write_all(ok),
            "/reset-head" => {
                let _ = conn.write_all(b"HTTP/1.1 20");
                let _ = conn.shutdown(Shutdown::Both);
                return;
            }
            "/reset-body" => {
                let _ =
                    conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly a little");
                let _ = conn.shutdown(Shutdown::Both);
                return;
            }
            "/garbage" => {
                let _ = conn.write_all(b"HTTP/1.1 two hundred OK\r\nContent-Length: 0\r\n\r\n");
                return;
            }
            "/hang" => {
                // Reads (and ignores) until the client gives up or the server stops.
                let mut sink = [0u8; 512];
                while !stop.load(Ordering::Relaxed) {
                    match conn.read(&mut sink) {
                        Ok(0) => return,
                        Ok(_) => {}
                        Err(e) if would_block(&e) => {}
                        Err(_) => return,
                    }
                }
                return;
            }
            p if p.starts_with("/fail-after/") => {
                let n = p["/fail-after/".len()..].parse::<usize>().unwrap_or(0);
                if nth_fail_after <= n {
                    conn.write_all(ok)
                } else {
                    conn.write_all(
                        b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n",
                    )
                }
            }
            p if p.starts_with("/slow-close/") => {
                let ms = p["/slow-close/".len()..].parse::<u64>().unwrap_or(0);
                thread::sleep(Duration::from_millis(ms));
                return;
            }
            p if p.starts_with("/slow/") => {
                let ms = p["/slow/".len()..].parse::<u64>().unwrap_or(0);
                let until = Instant::now() + Duration::from_millis(ms);
                while Instant::now() < until {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    thread::sleep(Duration::from_millis(1).min(until - Instant::now()));
                }
                conn.write_all(ok)
            }
            p if p.starts_with("/status/") => {
                let code = p["/status/".len()..].parse::<u16>().unwrap_or(500);
                conn.write_all(format!("HTTP/1.1 {code} X\r\nContent-Length: 0\r\n\r\n").as_bytes())
            }
            _ => conn.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"),
        };
        if written.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::support::run_yaml;
    use perfgate::client::Registry;

    /// The baseline for every fault test: on a healthy path perfgate's count, the server's
    /// count and the per-path split agree exactly.
    #[test]
    fn a_healthy_path_is_counted_exactly_once() {
        let s = CountingServer::start();
        let r = run_yaml(
            &format!(
                "name: count\nkind: load\ntarget: {{ base_url: '{}', timeout: 1s }}\nrequests:\n  - {{ name: ok, path: /ok }}\n  - {{ name: slow, path: /slow/3 }}\nload:\n  stages:\n    - {{ concurrency: 4, duration: 600ms }}\n",
                s.url()
            ),
            &Registry::with_builtins(),
        );
        let warmup = r.warmup.as_ref().map_or(0, |w| w.requests);
        assert_eq!(r.totals.requests + warmup, s.count("/"), "{:?}", r.totals);
        assert_eq!(r.requests["ok"].requests, s.count_method("GET", "/ok"));
        assert_eq!(r.requests["slow"].requests, s.count("/slow/"));
        assert_eq!(r.totals.errors, 0);
        let _ = (s.received(), s.per_second(s.started), s.addr);
    }
}
