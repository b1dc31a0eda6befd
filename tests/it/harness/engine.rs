//! Both load models and both target kinds, end to end in-process. The engine's timing (exact
//! counts, stage boundaries, open-model arrivals, drops and pool growth, the end-of-run rule,
//! an abort, in-process calls cut at the timeout) is tested under a paused clock in
//! `src/engine/sim_tests.rs`; these runs use real time and real servers, so they assert only
//! what load on the machine cannot change.

use perfgate::client::demo::{DemoOptions, DemoServer};
use perfgate::client::Registry;
use perfgate::result::TOTAL_KEY;

use crate::support::{assert_totals_add_up, run_yaml};

#[test]
fn closed_model_against_the_embedded_server() {
    let r = run_yaml(
        "name: closed
kind: load
target: { base_url: embedded }
requests:
  - { name: list, path: /items, weight: 3, expect: { status: [200], body_contains: '\"id\"' } }
  - { name: create, method: POST, path: /items, body: '{}', expect: { status: [201] } }
load:
  warmup: 300ms
  stages:
    - { concurrency: 2, duration: 500ms }
    - { concurrency: 4, duration: 500ms }
",
        &Registry::with_builtins(),
    );
    assert_totals_add_up(&r);
    assert!(r.totals.requests > 10);
    assert_eq!(r.totals.errors, 0, "{:?}", r.error_samples);
    assert_eq!(r.stages.len(), 2);
    assert_eq!((r.stages[0].target, r.stages[1].target), (2.0, 4.0));
    assert_eq!(r.stages[0].unit.name(), "vus");
    // The warm-up is measured but kept out of the totals.
    assert!(r.warmup.as_ref().is_some_and(|w| w.requests > 0));
    assert!(r.requests["list"].requests > r.requests["create"].requests);
    assert_eq!(
        r.requests["create"].status_codes.get("201"),
        Some(&r.requests["create"].requests)
    );
    assert!(r.totals.bytes_received > 0);
    assert!(r.totals.latency_ms.p50 > 0.0 && r.totals.latency_ms.p50 <= r.totals.latency_ms.p99);
    assert!(!r.timeseries.is_empty() && r.timeseries[0].stage.is_none());
    assert!(!r.request_series[TOTAL_KEY].is_empty());
    assert!(!r.histograms["list"].is_empty());
    assert_eq!(r.scenario.target, "embedded");
}

#[test]
fn open_model_sends_the_scheduled_arrivals() {
    let r = run_yaml(
        "name: open
kind: soak
target: { base_url: embedded }
requests:
  - { name: list, path: /items }
load:
  model: open
  stages:
    - { rate: 100/s, duration: 1s }
",
        &Registry::with_builtins(),
    );
    assert_totals_add_up(&r);
    // 100 arrivals are scheduled: the last ones, still in flight at the end, are awaited.
    assert_eq!(r.totals.requests, 100);
    assert_eq!(r.totals.dropped, 0);
    assert_eq!(r.totals.dropped_rate, 0.0);
    assert_eq!(r.stages[0].unit.name(), "rps");
    assert_eq!(r.scenario.model.name(), "open");
}

#[test]
fn in_process_functions_and_a_user_registered_one() {
    let mut reg = Registry::with_builtins();
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let c = calls.clone();
    reg.register("pricing.quote", move |ctx| {
        let c = c.clone();
        async move {
            c.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let qty = ctx.u64_param("qty", 1)?;
            if qty == 0 {
                return Err("qty must be positive".into());
            }
            Ok(())
        }
    });
    let r = run_yaml(
        "name: inproc
kind: load
requests:
  - { name: quote, call: pricing.quote, params: { qty: 3 }, weight: 2 }
  - { name: hash, call: builtin.sha256, params: { size: 1024 } }
  - { name: boom, call: builtin.panic }
  - { name: bad-quote, call: pricing.quote, params: { qty: 0 } }
load:
  stages:
    - { concurrency: 2, duration: 500ms }
",
        &reg,
    );
    assert_totals_add_up(&r);
    assert_eq!(r.scenario.target, "in-process");
    assert_eq!(r.requests["quote"].errors, 0);
    assert!(r.requests["hash"].ok > 0);
    // A panic is an error of class `function`, not a crash.
    assert_eq!(r.requests["boom"].errors, r.requests["boom"].requests);
    assert_eq!(
        r.requests["boom"].errors_by_class.function,
        r.requests["boom"].requests
    );
    assert!(r.requests["bad-quote"].errors_by_class.function > 0);
    assert!(r
        .error_samples
        .iter()
        .any(|s| s.message.contains("qty must be positive")));
    assert!(r
        .error_samples
        .iter()
        .any(|s| s.message.contains("panicked")));
    let quote_calls = r.requests["quote"].requests + r.requests["bad-quote"].requests;
    assert!(calls.load(std::sync::atomic::Ordering::Relaxed) >= quote_calls);
}

#[test]
fn http_error_classes_and_checks() {
    let server = DemoServer::start("127.0.0.1:0".parse().unwrap(), DemoOptions::default()).unwrap();
    let r = run_yaml(
        &format!(
            "name: classes
kind: load
target: {{ base_url: '{}' }}
requests:
  - {{ name: missing, path: /status/404 }}
  - {{ name: failing, path: /fail }}
  - {{ name: wrong-status, path: /items, expect: {{ status: [201] }} }}
  - {{ name: wrong-body, path: /items, expect: {{ body_contains: 'nope' }} }}
  - {{ name: fine, path: /items }}
load:
  stages:
    - {{ concurrency: 2, duration: 500ms }}
",
            server.base_url()
        ),
        &Registry::with_builtins(),
    );
    assert_totals_add_up(&r);
    let q = |n: &str| &r.requests[n];
    assert_eq!(q("missing").errors_by_class.http_4xx, q("missing").requests);
    assert_eq!(q("failing").errors_by_class.http_5xx, q("failing").requests);
    assert_eq!(
        q("wrong-status").errors_by_class.check,
        q("wrong-status").requests
    );
    assert_eq!(
        q("wrong-body").errors_by_class.check,
        q("wrong-body").requests
    );
    assert_eq!(q("fine").errors, 0);
    assert!(q("fine").requests > 0);
    assert!(r
        .error_samples
        .iter()
        .any(|s| s.class.name() == "check" && s.message.contains("expected [201]")));
}

#[test]
fn a_huge_body_is_streamed_and_counted() {
    let r = run_yaml(
        "name: huge
kind: load
target: { base_url: embedded, timeout: 5s }
requests:
  - { name: big, path: /bytes/52428800 }
load:
  stages:
    - { concurrency: 1, duration: 1s }
",
        &Registry::with_builtins(),
    );
    assert_totals_add_up(&r);
    assert_eq!(r.totals.errors, 0, "{:?}", r.error_samples);
    assert!(r.totals.requests >= 1);
    assert_eq!(r.totals.bytes_received, r.totals.requests * 52_428_800);
}

#[test]
fn the_embedded_server_takes_its_latency_from_the_scenario() {
    let r = run_yaml(
        "name: slowish
kind: load
target:
  base_url: embedded
  embedded: { latency: 20ms, error_rate: 0% }
requests:
  - { name: list, path: /items }
load:
  stages:
    - { concurrency: 2, duration: 400ms }
",
        &Registry::with_builtins(),
    );
    assert_totals_add_up(&r);
    assert!(r.totals.latency_ms.min >= 20.0, "{:?}", r.totals.latency_ms);
    // Two users, about 20 ms each: at most 2 × 400 / 20 = 40 requests.
    assert!(r.totals.requests <= 40, "{}", r.totals.requests);
}

#[test]
fn demo_server_injects_errors_at_the_asked_rate() {
    let server = DemoServer::start(
        "127.0.0.1:0".parse().unwrap(),
        DemoOptions {
            error_rate: 0.5,
            ..DemoOptions::default()
        },
    )
    .unwrap();
    let r = run_yaml(
        &format!(
            "name: flaky\nkind: load\ntarget: {{ base_url: '{}' }}\nrequests:\n  - {{ name: list, path: /items }}\nload:\n  stages:\n    - {{ concurrency: 2, duration: 500ms }}\n",
            server.base_url()
        ),
        &Registry::with_builtins(),
    );
    assert_totals_add_up(&r);
    assert!(
        (0.35..0.65).contains(&r.totals.error_rate),
        "{}",
        r.totals.error_rate
    );
    assert_eq!(r.totals.errors, r.totals.errors_by_class.http_5xx);
}
