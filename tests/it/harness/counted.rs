//! Every request perfgate starts is counted once, with its real time, and the count equals
//! what a server that counts received: for every fault path, for requests in flight at the
//! end of the run, for a server killed mid-run, and for 500 hanging connections. Failures are
//! timed in their own distribution; a run where nothing succeeded has no success latency.

use std::time::{Duration, Instant};

use perfgate::app::{measure, RunOptions};
use perfgate::client::Registry;
use perfgate::gate::{self, CompareOptions};
use perfgate::result::{Latency, RunResult};
use perfgate::scenario;

use crate::support::counting::CountingServer;
use crate::support::{assert_totals_add_up, run_yaml};

fn scenario(base: &str, path: &str, timeout: &str, vus: u32, duration: &str) -> String {
    format!(
        "name: counted\nkind: load\ntarget: {{ base_url: '{base}', timeout: {timeout} }}\nrequests:\n  - {{ name: get, path: '{path}' }}\nload:\n  stages:\n    - {{ concurrency: {vus}, duration: {duration} }}\n"
    )
}

fn run(s: &CountingServer, path: &str, timeout: &str, vus: u32, duration: &str) -> RunResult {
    run_yaml(
        &scenario(&s.url(), path, timeout, vus, duration),
        &Registry::with_builtins(),
    )
}

/// perfgate's count equals the server's, every request failed, all in `class`.
fn all_failed_as(r: &RunResult, s: &CountingServer, class: &str) {
    assert_totals_add_up(r);
    assert_eq!(
        r.totals.requests,
        // The server's count once its connection threads logged what they read (a request
        // that timed out may still sit in a socket buffer when the run returns).
        s.wait_for(r.totals.requests, Duration::from_secs(3)),
        "{:?}",
        r.totals
    );
    assert!(r.totals.requests > 0);
    assert_eq!(r.totals.ok, 0);
    let n = r
        .totals
        .errors_by_class
        .iter()
        .into_iter()
        .find(|(c, _)| *c == class)
        .map(|(_, n)| n);
    assert_eq!(n, Some(r.totals.errors), "{:?}", r.totals.errors_by_class);
    // Nothing succeeded: no success latency to judge (not a p95 of zeros made of failures),
    // no throughput; the failures are timed in their own distribution.
    assert_eq!(r.totals.latency_ms, Latency::default());
    assert_eq!(r.totals.throughput_rps, 0.0);
    assert!(r.totals.attempted_rps > 0.0);
    assert!(r.totals.failed_latency_ms.max > 0.0);
    assert!(r.totals.failed_by_class_ms.contains_key(class));
}

#[test]
fn a_closing_path_is_counted_once_per_request_as_reset() {
    let s = CountingServer::start();
    all_failed_as(&run(&s, "/close", "1s", 4, "500ms"), &s, "reset");
}

#[test]
fn a_reset_in_the_status_line_is_counted_as_reset() {
    let s = CountingServer::start();
    let r = run(&s, "/reset-head", "1s", 4, "500ms");
    all_failed_as(&r, &s, "reset");
    assert!(
        r.totals.status_codes.is_empty(),
        "{:?}",
        r.totals.status_codes
    );
}

#[test]
fn a_body_cut_short_is_a_reset_with_its_bytes_and_no_status() {
    let s = CountingServer::start();
    let r = run(&s, "/reset-body", "1s", 4, "500ms");
    all_failed_as(&r, &s, "reset");
    // The partial bodies are received bytes; the truncated 200 is not a "200".
    assert_eq!(r.totals.bytes_received, 13 * r.totals.requests);
    assert!(
        r.totals.status_codes.is_empty(),
        "{:?}",
        r.totals.status_codes
    );
}

#[test]
fn a_malformed_answer_is_a_protocol_error() {
    let s = CountingServer::start();
    all_failed_as(&run(&s, "/garbage", "1s", 4, "500ms"), &s, "protocol");
}

#[test]
fn a_failure_is_timed_from_the_start_of_its_request() {
    let s = CountingServer::start();
    let r = run(&s, "/slow-close/200", "2s", 2, "500ms");
    all_failed_as(&r, &s, "reset");
    assert!(
        r.totals.failed_latency_ms.min >= 199.0,
        "{:?}",
        r.totals.failed_latency_ms
    );
    assert!(r.totals.failed_by_class_ms["reset"].mean >= 199.0);
}

#[test]
fn timeouts_shorter_than_the_run_are_all_counted() {
    let s = CountingServer::start();
    let r = run(&s, "/hang", "300ms", 2, "700ms");
    all_failed_as(&r, &s, "timeout");
    // Each user waited out up to three timeouts (fewer when the machine is busy): the last
    // one ends after the run's end, and is counted.
    assert!((2..=6).contains(&r.totals.requests), "{:?}", r.totals);
    assert!(r.totals.failed_latency_ms.min >= 299.0);
}

#[test]
fn a_timeout_longer_than_the_run_still_yields_its_timeouts() {
    let s = CountingServer::start();
    let started = Instant::now();
    let r = run(&s, "/hang", "1200ms", 4, "400ms");
    all_failed_as(&r, &s, "timeout");
    assert_eq!(r.totals.requests, 4);
    assert!(r.totals.failed_latency_ms.min >= 1_199.0);
    // They finished in the window where they timed out, past the stage (at level 0).
    let last = r.timeseries.last().unwrap();
    assert_eq!((last.t_s, last.requests, last.active), (1.0, 4, 0.0));
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[test]
fn five_hundred_hanging_connections_are_each_counted() {
    let s = CountingServer::start();
    // The timeout outlasts a SYN retransmit (1 s), for connects the listener's backlog
    // (128) could not take at once: every request then reaches the server.
    let r = run(&s, "/hang", "1500ms", 500, "400ms");
    all_failed_as(&r, &s, "timeout");
    assert_eq!(r.totals.requests, 500);
}

#[test]
fn a_server_killed_mid_run_is_counted_and_not_hammered() {
    let s = CountingServer::start();
    let yaml = scenario(&s.url(), "/ok", "1s", 4, "1500ms");
    let runner = std::thread::spawn(move || run_yaml(&yaml, &Registry::with_builtins()));
    // Kill it once it has answered a few hundred requests.
    s.wait_for(300, Duration::from_secs(5));
    s.kill();
    let r = runner.join().unwrap();
    assert_totals_add_up(&r);
    let received = s.count("/");
    let e = &r.totals.errors_by_class;
    // Every answer perfgate counted was a request the server received; the requests cut by
    // the kill are resets, the ones after it connect errors.
    assert!(
        r.totals.ok <= received && received <= r.totals.ok + 4,
        "ok {} received {received}",
        r.totals.ok
    );
    assert_eq!(r.totals.errors, e.connect + e.reset, "{e:?}");
    assert!(e.connect > 0);
    // Four users backing off (1 ms doubling to 250 ms) for about a second: a few dozen
    // connects, not tens of thousands.
    assert!(e.connect <= 80, "connect storm: {}", e.connect);
    assert!(
        r.warnings
            .iter()
            .any(|w| w.starts_with("target unreachable for") && w.contains("refused")),
        "{:?}",
        r.warnings
    );
}

#[test]
fn an_abort_counts_what_is_still_in_flight_as_interrupted() {
    let s = CountingServer::start();
    let yaml = scenario(&s.url(), "/hang", "10s", 4, "8s");
    let plan = scenario::parse(
        &yaml,
        std::path::Path::new("t.yaml"),
        &Registry::with_builtins().names(),
        |_| None,
    )
    .unwrap();
    let opts = RunOptions {
        threads: Some(2),
        ..RunOptions::default()
    };
    let stop = opts.stop.clone();
    let runner = std::thread::spawn(move || measure(&plan, &Registry::with_builtins(), opts));
    s.wait_for(4, Duration::from_secs(5));
    let aborted = Instant::now();
    stop.abort();
    let m = runner.join().unwrap().unwrap();
    let took = aborted.elapsed();
    assert!(m.aborted);
    let r = gate::judge(m, &[], None, &CompareOptions::default());
    assert!(took < Duration::from_secs(1), "{took:?}");
    assert_totals_add_up(&r);
    assert_eq!(r.totals.requests, s.count("/"));
    assert_eq!(r.totals.errors_by_class.interrupted, 4, "{:?}", r.totals);
    assert_eq!(r.totals.dropped, 0);
    assert!(r.totals.failed_by_class_ms["interrupted"].max >= 400.0);
}
