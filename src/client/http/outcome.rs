//! How an answer becomes an [`Outcome`], written once for every transport: the body streams
//! through a [`BodyScan`] (never collected; `expect.body_contains` is searched for across
//! chunk boundaries), the bytes are counted, and the complete answer is judged against
//! `expect.status` (without one, a 4xx or 5xx is an error). A failure mid-body keeps the
//! status of the complete head and the bytes that arrived.
//!
//! The lean client pushes its body into [`BodyScan::feed`] from inside `h1.rs` and counts
//! the bytes itself; hyper and reqwest pull theirs through [`read_body`] over a
//! [`BodySource`].

use std::future::Future;

use super::h1::Progress;
use super::Prepared;
use crate::metrics::{ErrorClass, Outcome};

/// The `body_contains` search over a body that arrives in chunks.
pub(super) struct BodyScan<'a> {
    needle: &'a [u8],
    found: bool,
    /// The tail of earlier chunks (a needle may straddle two), reused across requests.
    carry: &'a mut Vec<u8>,
}

impl<'a> BodyScan<'a> {
    /// A scan for `p`'s needle; `carry` is the session's reusable buffer.
    pub(super) fn new(p: &'a Prepared, carry: &'a mut Vec<u8>) -> Self {
        carry.clear();
        BodyScan {
            needle: p.contains.as_deref().unwrap_or_default(),
            found: p.contains.is_none(),
            carry,
        }
    }

    /// The next chunk of the body, in order.
    #[inline]
    pub(super) fn feed(&mut self, data: &[u8]) {
        if !self.found {
            self.found = search(self.carry, data, self.needle);
        }
    }

    /// The outcome of the complete answer: `bytes` body bytes, with status line `status`
    /// and `reason`.
    pub(super) fn judge(
        &self,
        status: u16,
        reason: Option<&str>,
        bytes: u64,
        p: &Prepared,
    ) -> Outcome {
        judge(status, reason, bytes, self.found, p)
    }
}

/// One step of reading a body.
pub(super) enum Chunk<D> {
    Data(D),
    /// The body is complete.
    End,
    /// Reading failed; `status` and `bytes` are filled in by [`read_body`].
    Failed(Outcome),
}

/// A response body a transport pulls chunk by chunk.
pub(super) trait BodySource {
    type Data: AsRef<[u8]>;
    fn next_chunk(&mut self) -> impl Future<Output = Chunk<Self::Data>> + Send;
}

/// Reads (and discards) `body`, the answer to `p` with status line `status` and `reason`,
/// and judges it. `progress` is kept up to date, so that a timeout can say what arrived.
pub(super) async fn read_body(
    body: &mut impl BodySource,
    status: u16,
    reason: Option<&str>,
    p: &Prepared,
    carry: &mut Vec<u8>,
    progress: &mut Progress,
) -> Outcome {
    progress.status = status;
    let mut scan = BodyScan::new(p, carry);
    let mut bytes = 0u64;
    loop {
        match body.next_chunk().await {
            Chunk::Data(data) => {
                let data = data.as_ref();
                bytes += data.len() as u64;
                progress.bytes = bytes;
                scan.feed(data);
            }
            Chunk::End => return scan.judge(status, reason, bytes, p),
            Chunk::Failed(o) => return arrived(o, status, bytes),
        }
    }
}

/// `failed` with what arrived before the failure: the status of a complete head, the bytes.
pub(super) fn arrived(mut failed: Outcome, status: u16, bytes: u64) -> Outcome {
    failed.status = status;
    failed.bytes = bytes;
    failed
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
    use std::collections::VecDeque;
    use std::time::Duration;

    use super::super::HttpSpec;
    use super::*;
    use crate::scenario::{Expect, HttpRequest};

    /// A body that arrives as `chunks`, then ends or fails.
    struct Scripted {
        chunks: VecDeque<&'static [u8]>,
        fails: bool,
    }

    impl BodySource for Scripted {
        type Data = &'static [u8];

        async fn next_chunk(&mut self) -> Chunk<&'static [u8]> {
            match self.chunks.pop_front() {
                Some(c) => Chunk::Data(c),
                None if self.fails => Chunk::Failed(Outcome::error(ErrorClass::Reset, "cut")),
                None => Chunk::End,
            }
        }
    }

    /// What `read_body` makes of `chunks` answering a GET that expects `status` and `contains`.
    async fn read(
        status: u16,
        chunks: &[&'static [u8]],
        fails: bool,
        expect_status: Option<Vec<u16>>,
        contains: Option<&str>,
    ) -> (Outcome, Progress) {
        let req = HttpRequest {
            method: "GET".into(),
            path: "/".into(),
            headers: Vec::new(),
            body: None,
        };
        let expect = Expect {
            status: expect_status,
            body_contains: contains.map(str::to_string),
        };
        let addr = "127.0.0.1:9".parse().unwrap();
        let spec = HttpSpec::new(
            "http://127.0.0.1:9",
            addr,
            Duration::from_secs(1),
            false,
            &[(&req, &expect)],
        )
        .unwrap();
        let mut body = Scripted {
            chunks: chunks.iter().copied().collect(),
            fails,
        };
        let mut carry = b"stale".to_vec();
        let mut progress = Progress::default();
        let o = read_body(
            &mut body,
            status,
            Some("Reason"),
            &spec.requests[0],
            &mut carry,
            &mut progress,
        )
        .await;
        (o, progress)
    }

    #[tokio::test]
    async fn a_streamed_body_is_counted_searched_and_judged_once() {
        let parts: &[&'static [u8]] = &[b"{\"i", b"d\": 3}"];
        let (o, progress) = read(200, parts, false, None, Some("\"id\"")).await;
        assert_eq!((o.error, o.status, o.bytes), (None, 200, 9));
        assert_eq!(
            progress,
            Progress {
                status: 200,
                bytes: 9
            }
        );

        let (o, _) = read(200, parts, false, None, Some("name")).await;
        assert_eq!((o.error, o.bytes), (Some(ErrorClass::Check), 9));
        assert_eq!(o.message.as_deref(), Some("body does not contain \"name\""));

        let (o, _) = read(503, &[b"busy"], false, None, None).await;
        assert_eq!(o.error, Some(ErrorClass::Http5xx));
        assert_eq!(o.message.as_deref(), Some("HTTP 503 Reason"));

        // An expected status list replaces the 4xx/5xx rule, both ways.
        let (o, _) = read(404, &[], false, Some(vec![404]), None).await;
        assert_eq!(o.error, None);
        let (o, _) = read(200, &[], false, Some(vec![201]), None).await;
        assert_eq!(o.error, Some(ErrorClass::Check));
        assert_eq!(
            o.message.as_deref(),
            Some("status 200 Reason, expected [201]")
        );
    }

    #[tokio::test]
    async fn a_body_cut_short_keeps_the_status_and_the_bytes_that_arrived() {
        let (o, progress) = read(200, &[b"0123", b"456"], true, None, Some("zz")).await;
        assert_eq!(
            (o.error, o.status, o.bytes),
            (Some(ErrorClass::Reset), 200, 7)
        );
        assert_eq!(o.message.as_deref(), Some("cut"));
        assert_eq!(
            progress,
            Progress {
                status: 200,
                bytes: 7
            }
        );
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
}
