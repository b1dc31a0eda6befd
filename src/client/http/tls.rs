//! The `https://` transport: reqwest with rustls, one client (and so one connection) per
//! worker, HTTP/1.1 only, redirects not followed. Bodies stream through the shared
//! [`read_body`].
//!
//! reqwest runs with its retry policy set to never; its connection pool still
//! re-dispatches a request that was never written to a pooled connection found closed
//! (hyper-util's `retry_canceled_requests`), which sends nothing twice.
//! `retry_idempotent` does not apply here.

use bytes::Bytes;

use super::classify::{classify_reqwest, error_chain};
use super::h1::Progress;
use super::outcome::{read_body, BodySource, Chunk};
use super::Prepared;
use crate::metrics::{ErrorClass, Outcome};

/// One worker's reqwest client, built on first use and after a timeout.
#[derive(Default)]
pub(super) struct Tls {
    client: Option<reqwest::Client>,
    /// What has arrived of the answer in progress, so that a timeout can say it.
    progress: Progress,
}

/// A reqwest response body.
struct ReqwestBody(reqwest::Response);

impl BodySource for ReqwestBody {
    type Data = Bytes;

    async fn next_chunk(&mut self) -> Chunk<Bytes> {
        match self.0.chunk().await {
            Ok(Some(data)) => Chunk::Data(data),
            Ok(None) => Chunk::End,
            Err(e) => Chunk::Failed(Outcome::error(classify_reqwest(&e), error_chain(&e))),
        }
    }
}

impl Tls {
    pub(super) fn progress(&self) -> Progress {
        self.progress
    }

    /// Drops the client and its connection (their state is unknown after a timeout).
    pub(super) fn reset(&mut self) {
        self.client = None;
    }

    /// One request (never retried by perfgate). `timeout` also bounds the connect.
    pub(super) async fn exchange(
        &mut self,
        timeout: std::time::Duration,
        p: &Prepared,
        carry: &mut Vec<u8>,
    ) -> Outcome {
        self.progress = Progress::default();
        if self.client.is_none() {
            let client = reqwest::Client::builder()
                .connect_timeout(timeout)
                .pool_max_idle_per_host(1)
                .http1_only()
                .redirect(reqwest::redirect::Policy::none())
                // No re-send of a request that was written (see the module doc).
                .retry(reqwest::retry::never())
                .build();
            match client {
                Ok(c) => self.client = Some(c),
                Err(e) => return Outcome::error(ErrorClass::Tls, format!("TLS client: {e}")),
            }
        }
        let Some(client) = self.client.as_ref() else {
            return Outcome::error(ErrorClass::Tls, "no TLS client");
        };
        let req = client
            .request(p.method.clone(), &p.url)
            .headers(p.headers.clone())
            .body(p.body.clone());
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => return Outcome::error(classify_reqwest(&e), error_chain(&e)),
        };
        let status = resp.status().as_u16();
        let reason = resp.status().canonical_reason();
        read_body(
            &mut ReqwestBody(resp),
            status,
            reason,
            p,
            carry,
            &mut self.progress,
        )
        .await
    }
}
