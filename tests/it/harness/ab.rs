//! `perfgate ab` end to end, in-process: two loopback demo servers (or two registered
//! functions) with different latencies, tiny slices (200 ms × 3 pairs), the exit code and
//! what `result.json` says about both sides.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use perfgate::cli::main_from;
use perfgate::client::demo::{DemoOptions, DemoServer};
use perfgate::Registry;

use crate::support::{perfgate, read_json, write};

const HTTP: &str = "name: ab-http\nkind: load\ntarget: { base_url: embedded }\nrequests:\n  - { name: list, path: /items }\nload:\n  stages:\n    - { concurrency: 2, duration: 1s }\n";

const CALLS: &str = "name: ab-calls\nkind: load\nrequests:\n  - { name: work, call: builtin.sleep, params: { ms: 1 } }\nload:\n  stages:\n    - { concurrency: 2, duration: 1s }\n";

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

/// `perfgate ab` of `yaml` with tiny slices (3 pairs of 200 ms, 50 ms warm-up each), a fixed
/// seed, quiet, into `dir/out`, then `sides` and `more` flags; run in-process with `registry`.
fn ab(dir: &Path, yaml: &str, sides: &[&str], more: &[&str], registry: Registry) -> ExitCode {
    let path = write(dir, "ab.yaml", yaml);
    let out: PathBuf = dir.join("out");
    let mut args: Vec<String> = ["perfgate", "ab"].map(String::from).to_vec();
    args.push(path.display().to_string());
    args.extend(sides.iter().map(|s| s.to_string()));
    for a in [
        "--slice",
        "200ms",
        "--slice-warmup",
        "50ms",
        "--pairs",
        "3",
        "--seed",
        "42",
        "--threads",
        "2",
        "-q",
    ] {
        args.push(a.to_string());
    }
    args.extend(["--out".to_string(), out.display().to_string()]);
    args.extend(more.iter().map(|s| s.to_string()));
    main_from(args, registry)
}

fn registry() -> Registry {
    let mut r = Registry::with_builtins();
    r.register("fast", |_| async {
        tokio::time::sleep(Duration::from_millis(2)).await;
        Ok(())
    });
    // Far slower than a starved timer makes `fast` (a 2 ms sleep measured 10–25 ms on a
    // machine with a load of 16), so the verdict does not depend on a quiet machine.
    r.register("slow", |_| async {
        tokio::time::sleep(Duration::from_millis(80)).await;
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
    let code = ab(
        dir.path(),
        HTTP,
        &["--a", &fast.base_url(), "--b", &slow.base_url()],
        &[],
        Registry::with_builtins(),
    );
    assert_eq!(code, ExitCode::from(1));

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
    // The summary, JUnit and HTML carry it too.
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
    // 200 ms slices hold about 80 requests: their p99 is their maximum, which one scheduler
    // hiccup moves; the tail gets a wide tolerance here, the median keeps the default.
    let code = ab(
        dir.path(),
        HTTP,
        &["--a", &one.base_url(), "--b", &one.base_url()],
        &["--no-report", "--tolerance", "p99=100%"],
        Registry::with_builtins(),
    );
    let r = read_json(&dir.path().join("out/result.json"));
    assert_eq!(code, ExitCode::SUCCESS, "{}", r["reasons"]);
    assert_ne!(metric(&r["ab"], "p50")["verdict"], "regressed");
}

#[test]
fn two_registered_functions_are_compared_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let sides = ["--a-call", "fast", "--b-call", "slow"];
    let code = ab(dir.path(), CALLS, &sides, &["--no-report"], registry());
    assert_eq!(code, ExitCode::from(1));
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
    let sides = ["--a-call", "slow", "--b-call", "fast"];
    let code = ab(dir.path(), CALLS, &sides, &["--no-report"], registry());
    assert_eq!(code, ExitCode::SUCCESS);
    let r = read_json(&dir.path().join("out/result.json"));
    assert_eq!(metric(&r["ab"], "p50")["verdict"], "improved");
}

/// The binary's exit code and stderr for `perfgate ab ARGS` in `dir`.
fn ab_binary(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let out = perfgate(&[&["ab"], args].concat(), dir);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn an_unreachable_side_stops_before_any_load() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "ab.yaml", HTTP);
    let up = server(0);
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let (code, err) = ab_binary(
        dir.path(),
        &[
            path.to_str().unwrap(),
            "--a",
            &up.base_url(),
            "--b",
            &closed,
        ],
    );
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains("perfgate: side B: "), "{err}");
    assert!(!dir.path().join("reports/ab-http/result.json").exists());
}

#[test]
fn sides_and_tolerances_that_do_not_fit_the_scenario_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let calls = write(dir.path(), "calls.yaml", CALLS);
    let calls = calls.to_str().unwrap();
    let sleep = ["--a-call", "builtin.sleep"];
    let (code, err) = ab_binary(
        dir.path(),
        &[&[calls][..], &sleep, &["--b-call", "nope"]].concat(),
    );
    assert_eq!(code, Some(2));
    assert!(err.contains("--b-call: no function `nope`"), "{err}");

    let url = "http://127.0.0.1:9";
    let (code, err) = ab_binary(dir.path(), &[calls, "--a", url, "--b", url]);
    assert_eq!(code, Some(2));
    assert!(err.contains("sends no HTTP request"), "{err}");

    let (code, err) = ab_binary(
        dir.path(),
        &[
            &[calls][..],
            &sleep,
            &["--b-call", "builtin.sleep", "--tolerance", "p90=5%"],
        ]
        .concat(),
    );
    assert_eq!(code, Some(2));
    assert!(
        err.contains("--tolerance p90: perfgate ab compares p50"),
        "{err}"
    );
}
