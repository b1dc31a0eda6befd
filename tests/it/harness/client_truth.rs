//! The HTTP client tells the truth (issue 7): against a server that counts what it receives,
//! perfgate's request count equals the server's for paths that close kept-alive connections
//! before answering. Nothing is re-sent behind the user's back; with
//! `target.retry_idempotent: true` a GET is retried once and both attempts are counted, and a
//! POST is still never retried.

use std::process::Command;

use perfgate::client::Registry;
use perfgate::result::RunResult;

use crate::support::counting::CountingServer;
use crate::support::{assert_totals_add_up, run_yaml, write};

/// The message of a request lost on a reused keep-alive connection.
const KEEP_ALIVE: &str = "keep-alive connection closed by the server before the response";

/// (name, method, path) of each request in the mix.
type Mix = &'static [(&'static str, &'static str, &'static str)];

const GET_MIX: Mix = &[
    ("ok", "GET", "/ok"),
    ("flaky", "GET", "/flaky"),
    ("close", "GET", "/close"),
];

const POST_MIX: Mix = &[
    ("ok", "POST", "/ok"),
    ("flaky", "POST", "/flaky"),
    ("close", "POST", "/close"),
];

/// GETs and POSTs to the same closing paths, side by side.
const BOTH_MIX: Mix = &[
    ("get-ok", "GET", "/ok"),
    ("get-flaky", "GET", "/flaky"),
    ("get-close", "GET", "/close"),
    ("post-flaky", "POST", "/flaky"),
    ("post-close", "POST", "/close"),
];

fn scenario(url: &str, mix: Mix, retry_idempotent: bool) -> String {
    let mut y = format!(
        "name: truth\nkind: load\ntarget: {{ base_url: '{url}', timeout: 1s, retry_idempotent: {retry_idempotent} }}\nrequests:\n"
    );
    for (name, method, path) in mix {
        let body = if *method == "POST" {
            ", body: '{\"a\":1}'"
        } else {
            ""
        };
        y.push_str(&format!(
            "  - {{ name: {name}, method: {method}, path: {path}{body} }}\n"
        ));
    }
    y.push_str("load:\n  stages:\n    - { concurrency: 4, duration: 600ms }\n");
    y
}

/// Requests the server received with this method and path.
fn received(s: &CountingServer, method: &str, path: &str) -> u64 {
    s.received()
        .iter()
        .filter(|r| r.method == method && r.path == path)
        .count() as u64
}

/// perfgate's count equals the server's, per request name and in total; every error is a
/// `reset`, and the lost requests on reused connections say so.
fn assert_counts_match(r: &RunResult, s: &CountingServer, mix: Mix) {
    assert_totals_add_up(r);
    assert!(r.warmup.is_none(), "no warm-up in these scenarios");
    for (name, method, path) in mix {
        let m = &r.requests[*name];
        assert_eq!(
            m.requests,
            received(s, method, path),
            "{name} ({method} {path}): perfgate {m:?}"
        );
    }
    assert_eq!(r.totals.requests, s.received().len() as u64);
    assert!(r.totals.errors > 0);
    assert_eq!(
        r.totals.errors_by_class.reset, r.totals.errors,
        "{:?}",
        r.totals.errors_by_class
    );
    assert!(
        r.error_samples
            .iter()
            .any(|e| e.class.name() == "reset" && e.message.starts_with(KEEP_ALIVE)),
        "{:#?}",
        r.error_samples
    );
}

#[test]
fn a_post_mix_to_closing_paths_is_counted_exactly_as_the_server_received_it() {
    let s = CountingServer::start();
    let r = run_yaml(
        &scenario(&s.url(), POST_MIX, false),
        &Registry::with_builtins(),
    );
    assert_counts_match(&r, &s, POST_MIX);
    assert_eq!(r.totals.retries, 0);
    assert_eq!(r.requests["close"].ok, 0);
    assert!(r.requests["ok"].ok > 0);
}

#[test]
fn a_get_mix_to_closing_paths_is_never_resent_by_default() {
    let s = CountingServer::start();
    let r = run_yaml(
        &scenario(&s.url(), GET_MIX, false),
        &Registry::with_builtins(),
    );
    assert_counts_match(&r, &s, GET_MIX);
    assert_eq!(r.totals.retries, 0);
    assert!(
        r.warnings.iter().all(|w| !w.contains("retry")),
        "{:?}",
        r.warnings
    );
    // /flaky closes every reused connection: without a retry each of those is an error.
    assert!(r.requests["flaky"].errors > 0);
}

#[test]
fn retry_idempotent_retries_gets_once_counts_both_attempts_and_never_retries_a_post() {
    let s = CountingServer::start();
    let r = run_yaml(
        &scenario(&s.url(), BOTH_MIX, true),
        &Registry::with_builtins(),
    );
    // The server's count includes every retry: perfgate counts first attempts and retries.
    assert_counts_match(&r, &s, BOTH_MIX);
    assert!(r.requests["get-flaky"].retries > 0, "{:?}", r.requests);
    assert!(r.requests["get-close"].retries > 0, "{:?}", r.requests);
    for post in ["post-flaky", "post-close"] {
        assert_eq!(r.requests[post].retries, 0, "{post} was retried");
    }
    let retries: u64 = r.requests.values().map(|m| m.retries).sum();
    assert_eq!(r.totals.retries, retries);
    // Every output says the retry policy was on, and how often it acted.
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("retry_idempotent is on")
                && w.contains(&format!("{retries} retries"))),
        "{:?}",
        r.warnings
    );
    // A retried GET /flaky goes out on a fresh connection, where /flaky answers: the
    // retry succeeded and its failed first attempt is still an error.
    let flaky = &r.requests["get-flaky"];
    assert!(flaky.ok > 0 && flaky.errors > 0, "{flaky:?}");
}

#[test]
fn the_hyper_client_counts_the_same_as_the_server() {
    let s = CountingServer::start();
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "truth.yaml",
        &scenario(&s.url(), BOTH_MIX, false),
    );
    let out = Command::new(env!("CARGO_BIN_EXE_perfgate"))
        .args(["run", path.to_str().unwrap(), "--quiet", "--threads", "1"])
        .args(["--out", "o"])
        .env("PERFGATE_HTTP_CLIENT", "hyper")
        .current_dir(dir.path())
        .output()
        .unwrap();
    // Errors may fail a default gate (exit 1); the run itself must complete.
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(dir.path().join("o/result.json")).unwrap();
    let r: RunResult = serde_json::from_str(&text).unwrap();
    assert_counts_match(&r, &s, BOTH_MIX);
    assert_eq!(r.totals.retries, 0);
}

#[test]
fn a_truncated_answer_keeps_its_bytes_and_a_truncated_head_has_no_status() {
    let s = CountingServer::start();
    let mix: Mix = &[
        ("body", "GET", "/reset-body"),
        ("head", "GET", "/reset-head"),
    ];
    let r = run_yaml(&scenario(&s.url(), mix, false), &Registry::with_builtins());
    assert_counts_match_without_keep_alive(&r, &s, mix);
    // /reset-body sends 13 of 1000 promised body bytes: every one that arrived is counted.
    let body = &r.requests["body"];
    assert!(body.requests > 0);
    assert_eq!(body.bytes_received, 13 * body.requests, "{body:?}");
    // /reset-head sends half a status line: no status, no bytes.
    let head = &r.requests["head"];
    assert!(head.requests > 0);
    assert!(head.status_codes.is_empty(), "{head:?}");
    assert_eq!(head.bytes_received, 0);
    assert!(
        r.error_samples
            .iter()
            .any(|e| e.request == "head" && e.message.contains("inside the response head")),
        "{:#?}",
        r.error_samples
    );
}

/// Like [`assert_counts_match`], for paths that close every connection (nothing is reused).
fn assert_counts_match_without_keep_alive(r: &RunResult, s: &CountingServer, mix: Mix) {
    assert_totals_add_up(r);
    for (name, method, path) in mix {
        assert_eq!(
            r.requests[*name].requests,
            received(s, method, path),
            "{name}"
        );
    }
    assert_eq!(r.totals.requests, s.received().len() as u64);
    assert_eq!(r.totals.ok, 0);
    assert_eq!(r.totals.errors_by_class.reset, r.totals.errors);
}
