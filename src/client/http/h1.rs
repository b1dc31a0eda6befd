//! The lean HTTP/1.1 keep-alive client behind plain `http://` targets: the hot path.
//!
//! A request is serialized once for the whole run ([`serialize`]) and written with one
//! `write`; the response head is parsed with `httparse` out of a buffer the connection reuses;
//! Content-Length, chunked and until-close bodies are read and handed to a sink as they
//! stream, never collected. Per request there is no allocation, channel message, task
//! wake-up or timer registration. What this client does not cover (TLS, `CONNECT`, a
//! scenario that sets `Transfer-Encoding` itself) stays on hyper/reqwest (`hyper.rs`, `tls.rs`).
//!
//! One call of [`H1Conn::exchange`] writes the request exactly once: this module never
//! re-sends. A failed exchange says what arrived before it failed ([`Failure`]): the status
//! only once the whole response head was parsed, the body bytes received so far, and whether
//! not one byte of the answer came (what tells a kept-alive connection the server had
//! already closed). Whether to retry is the caller's decision, and its retry is counted.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};

/// Read buffer a connection starts with: small answers (most) never need more, and ten
/// thousand idle connections stay small.
const MIN_BUF: usize = 2 * 1024;
/// Read buffer a connection grows to while answers fill it (large bodies take fewer reads);
/// only a response head grows it further, up to [`MAX_HEAD`].
const BUF: usize = 16 * 1024;
/// Largest response head accepted.
const MAX_HEAD: usize = 64 * 1024;
/// Most response headers accepted.
const MAX_HEADERS: usize = 64;

/// Why an exchange failed, in terms the caller maps onto error classes. `status` is the
/// answer's status when its head was complete and parsed, otherwise 0; `bytes` are the body
/// bytes received before the failure.
#[derive(Debug)]
pub(super) enum Failure {
    /// Reading or writing failed. `nothing` when not one byte of the response had arrived.
    Io {
        error: io::Error,
        status: u16,
        bytes: u64,
        nothing: bool,
    },
    /// The connection ended before a complete response head. `nothing` when not one byte
    /// of the response arrived (a kept-alive connection the server had already closed).
    ClosedBeforeAnswer { nothing: bool },
    /// The connection ended inside the body.
    ClosedMidBody { status: u16, bytes: u64 },
    /// The answer is not valid HTTP/1.1.
    Protocol {
        message: String,
        status: u16,
        bytes: u64,
    },
}

/// A complete answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Answer {
    pub status: u16,
    /// Body bytes (after chunked decoding).
    pub bytes: u64,
    /// Whether the connection may carry the next request.
    pub keep_alive: bool,
}

/// What has arrived of the answer in progress: its status once its head was parsed (else
/// 0), and the body bytes so far. Kept on the connection so that a caller whose timeout
/// cut the exchange short can still say what arrived.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Progress {
    pub status: u16,
    pub bytes: u64,
}

/// How the body is delimited (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    None,
    Length(u64),
    Chunked,
    UntilClose,
}

/// One keep-alive connection and its reusable read buffer.
pub(super) struct H1Conn<S> {
    stream: S,
    buf: Vec<u8>,
    /// Unconsumed bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    reason: String,
    /// Brought up to date before every await inside an exchange, and at its end.
    progress: Progress,
}

impl<S: AsyncRead + AsyncWrite + Unpin> H1Conn<S> {
    pub(super) fn new(stream: S) -> Self {
        H1Conn {
            stream,
            buf: vec![0; MIN_BUF],
            start: 0,
            end: 0,
            reason: String::new(),
            progress: Progress::default(),
        }
    }

    /// The reason phrase of the last answer's status line.
    pub(super) fn reason(&self) -> &str {
        &self.reason
    }

    /// What has arrived of the current (or last) answer.
    pub(super) fn progress(&self) -> Progress {
        self.progress
    }

    /// Reads more bytes into the buffer; `Ok(0)` at the end of the stream.
    async fn fill(&mut self) -> io::Result<usize> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.end == self.buf.len() {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            } else {
                let grown = (self.buf.len() * 2).min(MAX_HEAD.max(BUF));
                self.buf.resize(grown, 0);
            }
        }
        let n = self.stream.read(&mut self.buf[self.end..]).await?;
        self.end += n;
        if self.end == self.buf.len() && self.buf.len() < BUF {
            // The answer filled the room it had: it needs more than a small buffer.
            self.buf.resize((self.buf.len() * 2).min(BUF), 0);
        }
        Ok(n)
    }

    /// Writes `request` (complete, pre-serialized bytes) and reads the answer. `head`: the
    /// request was a HEAD, so the answer has no body. `sink` sees every body byte in order.
    pub(super) async fn exchange(
        &mut self,
        request: &[u8],
        head: bool,
        sink: &mut impl FnMut(&[u8]),
    ) -> Result<Answer, Failure> {
        self.progress = Progress::default();
        let mut received = self.start != self.end;
        if let Err(e) = self.stream.write_all(request).await {
            return Err(io_failure(e, 0, 0, !received));
        }
        let (status, framing, mut keep_alive) = loop {
            match parse_head(&self.buf[self.start..self.end], head, &mut self.reason) {
                Ok(Some((len, status, framing, keep_alive))) => {
                    self.start += len;
                    // Interim answers (100 Continue, 103 Early Hints) precede the real one.
                    if (100..200).contains(&status) && status != 101 {
                        continue;
                    }
                    self.progress.status = status;
                    break (status, framing, keep_alive);
                }
                Ok(None) => {
                    if self.end - self.start >= MAX_HEAD {
                        return Err(protocol("the response head is too large", 0, 0));
                    }
                    match self.fill().await {
                        Ok(0) => return Err(Failure::ClosedBeforeAnswer { nothing: !received }),
                        Ok(_) => received = true,
                        Err(e) => return Err(io_failure(e, 0, 0, !received)),
                    }
                }
                Err(message) => return Err(protocol(message, 0, 0)),
            }
        };
        let mut bytes = 0u64;
        match framing {
            Framing::None => {}
            Framing::Length(mut left) => loop {
                let take = ((self.end - self.start) as u64).min(left) as usize;
                if take > 0 {
                    sink(&self.buf[self.start..self.start + take]);
                    self.start += take;
                    left -= take as u64;
                    bytes += take as u64;
                }
                if left == 0 {
                    break;
                }
                self.progress.bytes = bytes;
                match self.fill().await {
                    Ok(0) => return Err(Failure::ClosedMidBody { status, bytes }),
                    Ok(_) => {}
                    Err(e) => return Err(io_failure(e, status, bytes, false)),
                }
            },
            Framing::Chunked => {
                let mut dec = Chunked::default();
                loop {
                    let input = &self.buf[self.start..self.end];
                    let (used, done) = dec
                        .feed(input, &mut |d| {
                            bytes += d.len() as u64;
                            sink(d);
                        })
                        .map_err(|m| protocol(m, status, bytes))?;
                    self.start += used;
                    if done {
                        break;
                    }
                    self.progress.bytes = bytes;
                    match self.fill().await {
                        Ok(0) => return Err(Failure::ClosedMidBody { status, bytes }),
                        Ok(_) => {}
                        Err(e) => return Err(io_failure(e, status, bytes, false)),
                    }
                }
            }
            Framing::UntilClose => {
                keep_alive = false;
                loop {
                    if self.end > self.start {
                        sink(&self.buf[self.start..self.end]);
                        bytes += (self.end - self.start) as u64;
                        self.start = self.end;
                    }
                    self.progress.bytes = bytes;
                    match self.fill().await {
                        Ok(0) => break,
                        Ok(_) => {}
                        Err(e) => return Err(io_failure(e, status, bytes, false)),
                    }
                }
            }
        }
        self.progress.bytes = bytes;
        Ok(Answer {
            status,
            bytes,
            keep_alive,
        })
    }
}

fn io_failure(error: io::Error, status: u16, bytes: u64, nothing: bool) -> Failure {
    Failure::Io {
        error,
        status,
        bytes,
        nothing,
    }
}

fn protocol(message: impl Into<String>, status: u16, bytes: u64) -> Failure {
    Failure::Protocol {
        message: message.into(),
        status,
        bytes,
    }
}

/// Parses a response head at the start of `input`: `Ok(None)` while incomplete, otherwise
/// (head length, status, framing, keep-alive). The reason phrase goes into `reason`.
fn parse_head(
    input: &[u8],
    head_request: bool,
    reason: &mut String,
) -> Result<Option<(usize, u16, Framing, bool)>, String> {
    if input.is_empty() {
        return Ok(None);
    }
    // Left uninitialized: httparse writes only the headers it finds.
    let mut headers =
        [const { std::mem::MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut []);
    let parsed = httparse::ParserConfig::default().parse_response_with_uninit_headers(
        &mut resp,
        input,
        &mut headers,
    );
    let len = match parsed {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(format!("invalid HTTP response: {e}")),
    };
    let status = resp.code.unwrap_or(0);
    reason.clear();
    reason.push_str(resp.reason.unwrap_or(""));
    let http11 = resp.version == Some(1);
    let mut keep_alive = http11;
    let mut length: Option<u64> = None;
    let mut chunked = false;
    let mut transfer_encoding = false;
    for h in resp.headers.iter() {
        if h.name.eq_ignore_ascii_case("content-length") {
            let v = std::str::from_utf8(h.value)
                .ok()
                .map(str::trim)
                .and_then(|s| s.parse::<u64>().ok())
                .ok_or("invalid Content-Length")?;
            if length.is_some_and(|l| l != v) {
                return Err("conflicting Content-Length headers".into());
            }
            length = Some(v);
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            transfer_encoding = true;
            // Only the last coding decides whether the body is chunked.
            chunked = h
                .value
                .rsplit(|b| *b == b',')
                .next()
                .is_some_and(|last| last.trim_ascii().eq_ignore_ascii_case(b"chunked"));
        } else if h.name.eq_ignore_ascii_case("connection") {
            for token in h.value.split(|b| *b == b',').map(<[u8]>::trim_ascii) {
                if token.eq_ignore_ascii_case(b"close") {
                    keep_alive = false;
                } else if token.eq_ignore_ascii_case(b"keep-alive") && !http11 {
                    keep_alive = true;
                }
            }
        }
    }
    let framing = if head_request || (100..200).contains(&status) || status == 204 || status == 304
    {
        Framing::None
    } else if transfer_encoding {
        if chunked {
            Framing::Chunked
        } else {
            Framing::UntilClose
        }
    } else {
        match length {
            Some(0) => Framing::None,
            Some(n) => Framing::Length(n),
            None => Framing::UntilClose,
        }
    };
    Ok(Some((len, status, framing, keep_alive)))
}

/// Incremental decoder of a chunked body; input may be split anywhere.
#[derive(Debug, Default)]
struct Chunked {
    state: ChunkState,
    size: u64,
    digits: u8,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    #[default]
    Size,
    /// After the size: whitespace or `;extensions` up to CR.
    SizeTail,
    SizeLf,
    Data,
    DataCr,
    DataLf,
    /// At the start of a trailer line (or of the final empty line).
    TrailerStart,
    /// Inside a trailer field line.
    TrailerLine,
    EndLf,
    Done,
}

impl Chunked {
    /// Consumes `input`, handing chunk data to `out`. Returns (bytes used, done).
    fn feed(&mut self, input: &[u8], out: &mut impl FnMut(&[u8])) -> Result<(usize, bool), String> {
        use ChunkState::*;
        let mut i = 0;
        while i < input.len() && self.state != Done {
            if self.state == Data {
                let take = ((input.len() - i) as u64).min(self.size) as usize;
                out(&input[i..i + take]);
                i += take;
                self.size -= take as u64;
                if self.size == 0 {
                    self.state = DataCr;
                }
                continue;
            }
            let b = input[i];
            i += 1;
            self.state = match (self.state, b) {
                (Size, b) if b.is_ascii_hexdigit() => {
                    self.digits += 1;
                    if self.digits > 15 {
                        return Err("chunk size too large".into());
                    }
                    self.size = self.size * 16 + u64::from((b as char).to_digit(16).unwrap_or(0));
                    Size
                }
                (Size, b' ' | b'\t' | b';') if self.digits > 0 => SizeTail,
                (Size, b'\r') if self.digits > 0 => SizeLf,
                (SizeTail, b'\r') => SizeLf,
                (SizeTail, b'\n') => return Err("bare LF in chunk size line".into()),
                (SizeTail, _) => SizeTail,
                (SizeLf, b'\n') => {
                    self.digits = 0;
                    if self.size == 0 {
                        TrailerStart
                    } else {
                        Data
                    }
                }
                (DataCr, b'\r') => DataLf,
                (DataLf, b'\n') => Size,
                (TrailerStart, b'\r') => EndLf,
                (TrailerStart, b'\n') => return Err("bare LF in chunked trailer".into()),
                (TrailerLine, b'\n') => TrailerStart,
                (TrailerStart | TrailerLine, _) => TrailerLine,
                (EndLf, b'\n') => Done,
                (state, b) => {
                    return Err(format!(
                        "invalid chunked encoding: byte {:?} in {state:?}",
                        b as char
                    ))
                }
            };
        }
        Ok((i, self.state == Done))
    }
}

/// The request as it goes on the wire: request line, `headers` (Host first), then the
/// framing this function owns: a Content-Length of `body` when there is a body (or the
/// method usually carries one), then the body. A `Content-Length` among `headers` is left
/// out, so the request is framed exactly once and always by its real length (validation
/// refuses such a header; this keeps the connection in step even if one slips through).
pub(super) fn serialize<'a>(
    method: &str,
    target: &str,
    headers: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    body: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(128 + body.len());
    out.extend_from_slice(method.as_bytes());
    out.push(b' ');
    out.extend_from_slice(target.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    for (name, value) in headers {
        if name.eq_ignore_ascii_case("content-length") {
            continue;
        }
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    if !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH") {
        out.extend_from_slice(format!("content-length: {}\r\n", body.len()).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

#[cfg(test)]
mod tests {
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use tokio::io::ReadBuf;

    use super::*;

    /// A server that answers with `chunks`, one per read, then ends the stream (or fails
    /// with `end_error`). A write fails with `write_error` when set.
    struct Script {
        chunks: std::collections::VecDeque<Vec<u8>>,
        written: Vec<u8>,
        end_error: Option<io::ErrorKind>,
        write_error: Option<io::ErrorKind>,
        /// Once the chunks are out, stall instead of ending the stream.
        stall: bool,
    }

    impl Script {
        fn new(chunks: &[&[u8]]) -> Self {
            Script {
                chunks: chunks.iter().map(|c| c.to_vec()).collect(),
                written: Vec::new(),
                end_error: None,
                write_error: None,
                stall: false,
            }
        }

        /// Like [`Script::new`], but the stream ends with a reset instead of an EOF.
        fn reset_after(chunks: &[&[u8]]) -> Self {
            Script {
                end_error: Some(io::ErrorKind::ConnectionReset),
                ..Script::new(chunks)
            }
        }
    }

    impl AsyncRead for Script {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            if let Some(mut c) = self.chunks.pop_front() {
                let n = c.len().min(buf.remaining());
                buf.put_slice(&c[..n]);
                if n < c.len() {
                    self.chunks.push_front(c.split_off(n));
                }
            } else if let Some(kind) = self.end_error {
                return Poll::Ready(Err(io::Error::new(kind, "reset by the script")));
            } else if self.stall {
                return Poll::Pending;
            }
            Poll::Ready(Ok(()))
        }
    }

    impl AsyncWrite for Script {
        fn poll_write(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            b: &[u8],
        ) -> Poll<io::Result<usize>> {
            if let Some(kind) = self.write_error {
                return Poll::Ready(Err(io::Error::new(kind, "write refused by the script")));
            }
            self.written.extend_from_slice(b);
            Poll::Ready(Ok(b.len()))
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    async fn run(chunks: &[&[u8]]) -> (Result<Answer, Failure>, Vec<u8>) {
        run_on(Script::new(chunks)).await
    }

    async fn run_on(script: Script) -> (Result<Answer, Failure>, Vec<u8>) {
        let mut conn = H1Conn::new(script);
        let mut body = Vec::new();
        let r = conn
            .exchange(b"GET / HTTP/1.1\r\n\r\n", false, &mut |d| {
                body.extend_from_slice(d)
            })
            .await;
        (r, body)
    }

    #[tokio::test]
    async fn the_read_buffer_stays_small_until_an_answer_fills_it() {
        let small = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec();
        let body = vec![b'x'; 40 * 1024];
        let mut big = b"HTTP/1.1 200 OK\r\nContent-Length: 40960\r\n\r\n".to_vec();
        big.extend_from_slice(&body);
        // Three small answers, then a large body that arrives as fast as it can be read.
        let mut script = Script::new(&[&small, &small, &small]);
        script.chunks.push_back(big);
        let mut conn = H1Conn::new(script);
        let get = b"GET / HTTP/1.1\r\n\r\n";
        for _ in 0..3 {
            let a = conn.exchange(get, false, &mut |_| {}).await;
            assert_eq!(a.map(|a| a.bytes).ok(), Some(2));
            assert_eq!(conn.buf.len(), MIN_BUF);
        }
        let mut got = 0;
        let a = conn.exchange(get, false, &mut |d| got += d.len()).await;
        assert_eq!(a.map(|a| a.bytes).ok(), Some(40 * 1024));
        assert_eq!(got, 40 * 1024);
        assert_eq!(conn.buf.len(), BUF);
    }

    #[tokio::test]
    async fn content_length_body_across_reads() {
        let (r, body) = run(&[
            b"HTTP/1.1 200 OK\r\nConte",
            b"nt-Length: 11\r\n\r\nhello",
            b" world",
        ])
        .await;
        let a = r.unwrap();
        assert_eq!((a.status, a.bytes, a.keep_alive), (200, 11, true));
        assert_eq!(body, b"hello world");
    }

    #[tokio::test]
    async fn chunked_body_split_everywhere() {
        let wire: &[u8] =
            b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\n";
        // Every split point, one byte per read at the extreme.
        for cut in 1..wire.len() {
            let (r, body) = run(&[&wire[..cut], &wire[cut..]]).await;
            let a = r.unwrap_or_else(|e| panic!("cut {cut}: {e:?}"));
            assert_eq!((a.status, a.bytes), (201, 11), "cut {cut}");
            assert_eq!(body, b"hello world", "cut {cut}");
        }
        let bytes: Vec<&[u8]> = wire.chunks(1).collect();
        let (r, body) = run(&bytes).await;
        assert_eq!(r.unwrap().bytes, 11);
        assert_eq!(body, b"hello world");
    }

    #[tokio::test]
    async fn keeps_the_connection_across_answers() {
        let mut conn = H1Conn::new(Script::new(&[
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 404 Not Found\r\n",
            b"Content-Length: 0\r\n\r\n",
        ]));
        let mut sink = |_: &[u8]| {};
        let a = conn.exchange(b"x", false, &mut sink).await.unwrap();
        assert_eq!((a.status, a.bytes), (200, 2));
        let b = conn.exchange(b"y", false, &mut sink).await.unwrap();
        assert_eq!((b.status, b.bytes), (404, 0));
        assert_eq!(conn.reason(), "Not Found");
        assert_eq!(conn.stream.written, b"xy");
    }

    #[tokio::test]
    async fn malformed_status_line_is_protocol() {
        let (r, _) = run(&[b"HTTP/1.1 two hundred OK\r\nContent-Length: 0\r\n\r\n"]).await;
        assert!(matches!(r, Err(Failure::Protocol { .. })), "{r:?}");
        let (r, _) = run(&[b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"]).await;
        assert!(matches!(r, Err(Failure::Protocol { .. })), "{r:?}");
        let (r, _) = run(&[b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"]).await;
        assert!(
            matches!(r, Err(Failure::Protocol { status: 200, .. })),
            "{r:?}"
        );
    }

    #[tokio::test]
    async fn close_mid_body_is_reported_with_what_arrived() {
        let (r, _) = run(&[b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly a little"]).await;
        assert!(
            matches!(
                r,
                Err(Failure::ClosedMidBody {
                    status: 200,
                    bytes: 13
                })
            ),
            "{r:?}"
        );
        let (r, _) = run(&[b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"]).await;
        assert!(
            matches!(r, Err(Failure::ClosedMidBody { bytes: 2, .. })),
            "{r:?}"
        );
    }

    #[tokio::test]
    async fn close_before_or_inside_the_head() {
        let (r, _) = run(&[]).await;
        assert!(
            matches!(r, Err(Failure::ClosedBeforeAnswer { nothing: true })),
            "{r:?}"
        );
        let (r, _) = run(&[b"HTTP/1.1 200"]).await;
        assert!(
            matches!(r, Err(Failure::ClosedBeforeAnswer { nothing: false })),
            "{r:?}"
        );
    }

    #[tokio::test]
    async fn until_close_bodies_interim_answers_and_bodyless_statuses() {
        let (r, body) = run(&[b"HTTP/1.0 200 OK\r\n\r\nabc", b"def"]).await;
        assert_eq!(
            r.unwrap(),
            Answer {
                status: 200,
                bytes: 6,
                keep_alive: false
            }
        );
        assert_eq!(body, b"abcdef");
        let (r, _) = run(&[b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"]).await;
        assert_eq!(
            r.unwrap(),
            Answer {
                status: 204,
                bytes: 0,
                keep_alive: true
            }
        );
        let (r, _) =
            run(&[b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n!"]).await;
        assert!(!r.unwrap().keep_alive);
    }

    #[tokio::test]
    async fn oversized_heads_are_refused() {
        let mut big = b"HTTP/1.1 200 OK\r\nX: ".to_vec();
        big.resize(MAX_HEAD + 10, b'a');
        let (r, _) = run(&[&big]).await;
        assert!(matches!(r, Err(Failure::Protocol { .. })), "{r:?}");
    }

    #[test]
    fn serializes_once_with_a_length_when_needed() {
        let get = serialize("GET", "/a?b=1", [("host", &b"h:1"[..])], b"");
        assert_eq!(get, b"GET /a?b=1 HTTP/1.1\r\nhost: h:1\r\n\r\n");
        let post = serialize("POST", "/", [("host", &b"h"[..])], b"{}");
        assert_eq!(
            post,
            b"POST / HTTP/1.1\r\nhost: h\r\ncontent-length: 2\r\n\r\n{}"
        );
    }

    #[tokio::test]
    async fn a_reset_mid_body_keeps_the_status_and_the_bytes_that_arrived() {
        let cases: [(&[u8], u64); 3] = [
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly a little",
                13,
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n9\r\nab",
                7,
            ),
            (b"HTTP/1.0 200 OK\r\n\r\nuntil close", 11),
        ];
        for (wire, want) in cases {
            let (r, body) = run_on(Script::reset_after(&[wire])).await;
            match r {
                Err(Failure::Io {
                    error,
                    status,
                    bytes,
                    nothing,
                }) => {
                    assert_eq!(error.kind(), io::ErrorKind::ConnectionReset);
                    assert_eq!((status, bytes, nothing), (200, want, false));
                    assert_eq!(body.len() as u64, want);
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn a_reset_before_or_inside_the_head_has_no_status() {
        let (r, _) = run_on(Script::reset_after(&[])).await;
        assert!(
            matches!(
                r,
                Err(Failure::Io {
                    status: 0,
                    bytes: 0,
                    nothing: true,
                    ..
                })
            ),
            "{r:?}"
        );
        let (r, _) = run_on(Script::reset_after(&[b"HTTP/1.1 200 OK\r\nContent-Le"])).await;
        assert!(
            matches!(
                r,
                Err(Failure::Io {
                    status: 0,
                    bytes: 0,
                    nothing: false,
                    ..
                })
            ),
            "{r:?}"
        );
        let mut script = Script::new(&[b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"]);
        script.write_error = Some(io::ErrorKind::BrokenPipe);
        let (r, _) = run_on(script).await;
        assert!(
            matches!(r, Err(Failure::Io { nothing: true, .. })),
            "a failed write received nothing: {r:?}"
        );
    }

    #[tokio::test]
    async fn a_bad_chunk_after_some_data_keeps_the_bytes() {
        let (r, _) =
            run(&[b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\n"])
                .await;
        assert!(
            matches!(
                r,
                Err(Failure::Protocol {
                    status: 200,
                    bytes: 3,
                    ..
                })
            ),
            "{r:?}"
        );
    }

    #[tokio::test]
    async fn one_exchange_writes_the_request_once() {
        // The answer never comes: the exchange fails, and the request went out exactly once.
        let mut conn = H1Conn::new(Script::new(&[]));
        let r = conn
            .exchange(b"GET / HTTP/1.1\r\n\r\n", false, &mut |_| {})
            .await;
        assert!(matches!(
            r,
            Err(Failure::ClosedBeforeAnswer { nothing: true })
        ));
        assert_eq!(conn.stream.written, b"GET / HTTP/1.1\r\n\r\n");
    }

    #[test]
    fn a_post_with_a_body_is_framed_exactly_once() {
        // A stray Content-Length (refused at validation) must not frame the request twice
        // or with the wrong length.
        let wire = serialize(
            "POST",
            "/items",
            [
                ("host", &b"h"[..]),
                ("Content-Length", &b"99"[..]),
                ("content-type", &b"application/json"[..]),
            ],
            b"{\"a\":1}",
        );
        let text = String::from_utf8(wire).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let lengths: Vec<&str> = head
            .lines()
            .filter_map(|l| l.split_once(':'))
            .filter(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map(|(_, v)| v.trim())
            .collect();
        assert_eq!(lengths, ["7"], "{head}");
        assert_eq!(body, "{\"a\":1}");
        assert!(!head.to_ascii_lowercase().contains("transfer-encoding"));
    }

    #[tokio::test]
    async fn an_exchange_cut_short_leaves_what_arrived_in_its_progress() {
        let cases: [(&[&[u8]], Progress); 4] = [
            (&[], Progress::default()),
            (&[b"HTTP/1.1 200 OK\r\nContent-"], Progress::default()),
            (
                &[b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc", b"de"],
                Progress {
                    status: 200,
                    bytes: 5,
                },
            ),
            (
                &[b"HTTP/1.1 503 Busy\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n"],
                Progress {
                    status: 503,
                    bytes: 4,
                },
            ),
        ];
        for (chunks, want) in cases {
            let mut script = Script::new(chunks);
            script.stall = true;
            let mut conn = H1Conn::new(script);
            let mut sink = |_: &[u8]| {};
            let cut = tokio::time::timeout(
                std::time::Duration::from_millis(20),
                conn.exchange(b"GET / HTTP/1.1\r\n\r\n", false, &mut sink),
            )
            .await;
            assert!(cut.is_err(), "the exchange stalls");
            assert_eq!(conn.progress(), want);
        }
        // A completed exchange leaves its own figures, and the next one starts from zero.
        let mut conn = H1Conn::new(Script::new(&[
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        ]));
        let mut sink = |_: &[u8]| {};
        conn.exchange(b"x", false, &mut sink).await.unwrap();
        assert_eq!(
            conn.progress(),
            Progress {
                status: 200,
                bytes: 2
            }
        );
        let _ = conn.exchange(b"y", false, &mut sink).await;
        assert_eq!(conn.progress(), Progress::default());
    }
}
