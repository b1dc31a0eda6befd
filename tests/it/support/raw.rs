//! Raw TCP servers on 127.0.0.1:0 that misbehave in exactly one way (hang, close, garbage,
//! a truncated body, refusing after the preflight, echoing credentials).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

/// How a raw server misbehaves.
#[derive(Clone, Copy, Debug)]
pub enum Fault {
    /// Reads the request and never answers.
    Hang,
    /// Reads the request and closes the connection without answering.
    Close,
    /// Answers with a malformed status line.
    Garbage,
    /// Answers with headers, then closes mid-body (Content-Length promises more).
    TruncatedBody,
    /// Accepts the first connection (the preflight) and then stops listening.
    RefuseAfterPreflight,
    /// Answers 200 with a reason phrase and body that repeat the request's Authorization.
    EchoAuth,
}

/// A raw TCP server on 127.0.0.1:0; stops when dropped.
pub struct RawServer {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl RawServer {
    pub fn start(fault: Fault) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let s = Arc::clone(&stop);
        thread::spawn(move || {
            let mut accepted = 0;
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        accepted += 1;
                        if matches!(fault, Fault::RefuseAfterPreflight) {
                            drop(conn);
                            if accepted == 1 {
                                return; // the listener closes: later connects are refused
                            }
                            continue;
                        }
                        let s2 = Arc::clone(&s);
                        thread::spawn(move || serve(conn, fault, s2));
                    }
                    Err(_) => thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        RawServer { addr, stop }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn read_request(conn: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    conn.set_read_timeout(Some(Duration::from_millis(100)))
        .ok()?;
    loop {
        match conn.read(&mut chunk) {
            Ok(0) => return None,
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                if buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    return Some(String::from_utf8_lossy(&buf).into_owned());
                }
            }
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                continue
            }
            Err(_) => return None,
        }
    }
}

fn serve(mut conn: TcpStream, fault: Fault, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::Relaxed) {
        let Some(req) = read_request(&mut conn) else {
            return;
        };
        match fault {
            Fault::Hang => {
                while !stop.load(Ordering::Relaxed) {
                    thread::sleep(Duration::from_millis(20));
                }
                return;
            }
            Fault::Close => return,
            Fault::Garbage => {
                let _ = conn.write_all(b"HTTP/1.1 two hundred OK\r\nContent-Length: 0\r\n\r\n");
                return;
            }
            Fault::TruncatedBody => {
                let _ =
                    conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly a little");
                return;
            }
            Fault::RefuseAfterPreflight => return,
            Fault::EchoAuth => {
                let auth = req
                    .lines()
                    .find_map(|l| {
                        l.strip_prefix("authorization: ")
                            .or_else(|| l.strip_prefix("Authorization: "))
                    })
                    .unwrap_or("")
                    .to_string();
                let body = format!("token {auth} rejected");
                let resp = format!(
                    "HTTP/1.1 503 Bad token {auth}\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                if conn.write_all(resp.as_bytes()).is_err() {
                    return;
                }
            }
        }
    }
}
