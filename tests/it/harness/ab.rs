//! `perfgate ab` end to end, in-process: two loopback demo servers (or two registered
//! functions) with different latencies, tiny slices (200 ms × 3 pairs), the exit code and
//! what `result.json` says about both sides.

use std::path::Path;
use std::time::Duration;

use perfgate::app::{self, AbArgs, ExitCode};
use perfgate::client::demo::{DemoOptions, DemoServer};
use perfgate::client::Registry;
use perfgate::scenario::units::{TolMetric, TolValue};

use crate::support::{read_json, write};

const HTTP: &str = "name: ab-http\nkind: load\ntarget: { base_url: embedded }\nrequests:\n  - { name: list, path: /items }\nload:\n  stages:\n    - { concurrency: 2, duration: 1s }\n";

const CALLS: &str = "name: ab-calls\nkind: load\nrequests:\n  - { name: work, call: fast }\nload:\n  stages:\n    - { concurrency: 2, duration: 1s }\n";

fn server(latency_ms: u64) -> DemoServer {
    DemoServer::start(
        "127.0.0.1:0".parse().unwrap(),
        DemoOptions {
            latency: Duration::from_millis(latency_ms),
            ..DemoOptions::default()
        },
    )
    .unwrap()
}

/// Tiny slices: 3 pairs of 200 ms (50 ms warm-up each), a fixed seed, quiet, no HTML.
fn tiny(dir: &Path, yaml: &str) -> AbArgs {
    AbArgs {
        slice: Duration::from_millis(200),
        warmup: Duration::from_millis(50),
        pairs: 3,
        seed: Some(42),
        out: Some(dir.join("out")),
        threads: Some(2),
        quiet: true,
        no_report: true,
        ..AbArgs::new(write(dir, "ab.yaml", yaml))
    }
}

fn registry() -> Registry {
    let mut r = Registry::with_builtins();
    r.register("fast", |_| async {
        tokio::time::sleep(Duration::from_millis(2)).await;
        Ok(())
    });
    r.register("slow", |_| async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        Ok(())
    });
    r
}

fn metric<'a>(ab: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    ab["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric"] == name)
        .unwrap_or_else(|| panic!("no {name} in {ab}"))
}

#[test]
fn a_much_slower_b_fails_with_an_interval_beyond_the_tolerance() {
    let dir = tempfile::tempdir().unwrap();
    let (fast, slow) = (server(2), server(20));
    let mut args = tiny(dir.path(), HTTP);
    args.a = Some(fast.base_url());
    args.b = Some(slow.base_url());
    args.no_report = false;
    let code = app::ab(&args, &Registry::with_builtins()).unwrap();
    assert_eq!(code, ExitCode::Fail);

    let r = read_json(&dir.path().join("out/result.json"));
    assert_eq!(r["verdict"], "fail");
    assert_eq!(r["exit_code"], 1);
    let ab = &r["ab"];
    assert_eq!(ab["verdict"], "fail");
    assert_eq!(ab["seed"], 42);
    assert_eq!(ab["order"].as_array().unwrap().len(), 3);
    let p50 = metric(ab, "p50");
    assert_eq!(p50["verdict"], "regressed", "{p50}");
    assert!(
        p50["ci_low"].as_f64().unwrap() > 100.0,
        "B is several times slower: {p50}"
    );
    assert!(p50["b"].as_f64().unwrap() >= 20.0 && p50["a"].as_f64().unwrap() < 20.0);
    assert_eq!(metric(ab, "throughput")["verdict"], "regressed");
    // Both sides measured, each slice once: 3 of A, 3 of B, one A and one B per pair.
    let slices = ab["slices"].as_array().unwrap();
    assert_eq!(slices.len(), 6);
    for pair in 0..3 {
        let sides: Vec<&str> = slices
            .iter()
            .filter(|s| s["pair"] == pair)
            .map(|s| s["side"].as_str().unwrap())
            .collect();
        assert!(
            sides == ["a", "b"] || sides == ["b", "a"],
            "pair {pair}: {sides:?}"
        );
        let order = ab["order"][pair].as_str().unwrap();
        assert_eq!(sides.concat(), order, "slices ran in the drawn order");
    }
    assert!(slices.iter().all(|s| s["requests"].as_u64().unwrap() > 0));
    assert!(ab["a"]["totals"]["requests"].as_u64().unwrap() > 0);
    assert!(ab["b"]["target"]
        .as_str()
        .unwrap()
        .contains(&slow.base_url()[7..]));
    // The reason says what changed, by how much, with its interval.
    let reason = r["reasons"][0].as_str().unwrap();
    assert!(reason.starts_with("B p50 +"), "{reason}");
    assert!(reason.contains("% ["), "{reason}");
    // The summary and JUnit carry it too.
    let md = std::fs::read_to_string(dir.path().join("out/summary.md")).unwrap();
    assert!(md.contains("### A/B comparison: ❌ FAIL"), "{md}");
    let junit = std::fs::read_to_string(dir.path().join("out/junit.xml")).unwrap();
    assert!(
        junit.contains("classname=\"perfgate.ab-http.ab\" name=\"p50\""),
        "{junit}"
    );
    let html = std::fs::read_to_string(dir.path().join("out/report.html")).unwrap();
    assert!(html.contains("<h2>A/B comparison: <span class=\"v-fail\">FAIL</span></h2>"));
}

#[test]
fn a_against_a_passes() {
    let dir = tempfile::tempdir().unwrap();
    let one = server(5);
    let mut args = tiny(dir.path(), HTTP);
    args.a = Some(one.base_url());
    args.b = Some(one.base_url());
    // 200 ms slices hold about 80 requests: their p99 is their maximum, which one scheduler
    // hiccup moves; the tail gets a wide tolerance here, the median keeps the default.
    args.tolerances = vec![(TolMetric::P99, TolValue::Percent(100.0))];
    let code = app::ab(&args, &Registry::with_builtins()).unwrap();
    let r = read_json(&dir.path().join("out/result.json"));
    assert_eq!(code, ExitCode::Pass, "{}", r["reasons"]);
    assert_ne!(metric(&r["ab"], "p50")["verdict"], "regressed");
}

#[test]
fn two_registered_functions_are_compared_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = tiny(dir.path(), CALLS);
    args.a_call = Some("fast".into());
    args.b_call = Some("slow".into());
    let code = app::ab(&args, &registry()).unwrap();
    assert_eq!(code, ExitCode::Fail);
    let r = read_json(&dir.path().join("out/result.json"));
    assert_eq!(r["ab"]["a"]["target"], "call:fast");
    assert_eq!(r["ab"]["b"]["target"], "call:slow");
    assert_eq!(
        metric(&r["ab"], "p50")["verdict"],
        "regressed",
        "{}",
        r["ab"]
    );

    // The other way round, B is faster: no regression.
    args.a_call = Some("slow".into());
    args.b_call = Some("fast".into());
    assert_eq!(app::ab(&args, &registry()).unwrap(), ExitCode::Pass);
    let r = read_json(&dir.path().join("out/result.json"));
    assert_eq!(metric(&r["ab"], "p50")["verdict"], "improved");
}

#[test]
fn an_unreachable_side_stops_before_any_load() {
    let dir = tempfile::tempdir().unwrap();
    let up = server(0);
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let mut args = tiny(dir.path(), HTTP);
    args.a = Some(up.base_url());
    args.b = Some(closed);
    let e = app::ab(&args, &Registry::with_builtins()).unwrap_err();
    assert_eq!(e.exit_code(), ExitCode::Run);
    assert!(e.to_string().starts_with("side B: "), "{e}");
    assert!(!dir.path().join("out/result.json").exists());
}

#[test]
fn sides_that_do_not_fit_the_scenario_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = tiny(dir.path(), CALLS);
    args.a_call = Some("fast".into());
    args.b_call = Some("nope".into());
    let e = app::ab(&args, &registry()).unwrap_err();
    assert_eq!(e.exit_code(), ExitCode::Input);
    assert!(
        e.to_string().contains("--b-call: no function `nope`"),
        "{e}"
    );

    let mut args = tiny(dir.path(), CALLS);
    args.a_call = Some("fast".into());
    args.b_call = Some("slow".into());
    args.tolerances = vec![(TolMetric::P90, TolValue::Percent(5.0))];
    let e = app::ab(&args, &registry()).unwrap_err();
    assert_eq!(e.exit_code(), ExitCode::Input);
    assert!(
        e.to_string()
            .starts_with("--tolerance p90: perfgate ab compares p50"),
        "{e}"
    );

    let mut args = tiny(dir.path(), CALLS);
    args.a = Some("http://127.0.0.1:9".into());
    args.b = Some("http://127.0.0.1:9".into());
    let e = app::ab(&args, &registry()).unwrap_err();
    assert_eq!(e.exit_code(), ExitCode::Input);
    assert!(e.to_string().contains("sends no HTTP request"), "{e}");
}
