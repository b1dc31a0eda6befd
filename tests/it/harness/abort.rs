//! Abort on fail (issue 9): a run whose `abort: true` threshold breaks on a closed window, or
//! whose target (reachable at preflight) then refuses every connection, stops itself, writes
//! everything and fails (exit 1) with what stopped it as its first reason. Held against
//! loopback servers that start failing; that the run ended early is read from its windows
//! and counts, not from a clock.

use std::path::Path;
use std::time::Duration;

use perfgate::client::Registry;
use perfgate::result::Verdict;
use perfgate::scenario;

use crate::support::counting::CountingServer;
use crate::support::{
    assert_totals_add_up, read_json, run_yaml, spawn_ready, wait_exit, write, Stream, RUNNING,
};

/// A 20-second closed run of 2 users on `path` of `url`, with `thresholds` (YAML lines).
fn scenario(url: &str, path: &str, extra_target: &str, thresholds: &str) -> String {
    format!(
        "name: abort\nkind: load\ntarget:\n  base_url: {url}\n{extra_target}requests:\n  - {{ name: get, path: {path} }}\nload:\n  think_time: 5ms\n  stages:\n    - {{ concurrency: 2, duration: 20s, name: steady }}\nthresholds:\n{thresholds}"
    )
}

#[test]
fn a_broken_abort_threshold_stops_the_run_and_fails_it_with_the_reason() {
    let s = CountingServer::start();
    let yaml = scenario(
        &s.url(),
        "/fail-after/200",
        "",
        "  - error_rate: { fail: 50%, abort: true }\n  - p99: { warn: 1us, fail: 5s }\n",
    );
    let r = run_yaml(&yaml, &Registry::with_builtins());
    assert_totals_add_up(&r);
    // It stopped a second or so after the server began failing: a few windows of the 20.
    assert!(r.timeseries.len() <= 8, "{} windows", r.timeseries.len());
    assert!(r.duration_s < 19.0, "ran {} s", r.duration_s);
    let stop = r.stopped_early.as_ref().expect("stopped early");
    assert_eq!(stop.cause, "error_rate < 50%");
    assert_eq!((r.verdict, r.exit_code), (Verdict::Fail, 1));
    assert_eq!(r.reasons[0], stop.reason);
    assert!(
        r.reasons[0].starts_with("aborted at ") && r.reasons[0].ends_with("≥ 50 % (abort: true)"),
        "{}",
        r.reasons[0]
    );
    // Everything that ran was counted: the server's 200 answers are the run's successes,
    // and the window that stopped it is in the time series.
    assert_eq!(r.totals.ok, 200);
    assert!(r.totals.errors_by_class.http_5xx > 0);
    let last_judged = r
        .timeseries
        .iter()
        .find(|w| (w.t_s + 1.0 - stop.at_s).abs() < 1e-9)
        .expect("the deciding window");
    assert!(last_judged.errors * 2 >= last_judged.requests);
    // The stage carries its name, and the budget's warn level is a warning, not a reason.
    assert_eq!(r.stages[0].name.as_deref(), Some("steady"));
    assert!(r.thresholds[1].warning && r.thresholds[1].pass);
    assert!(r
        .warnings
        .iter()
        .any(|w| w.starts_with("warn level reached: p99")));
}

#[test]
fn a_target_that_goes_away_stops_the_run_with_exit_1_and_its_result() {
    let s = CountingServer::start();
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "abort.yaml",
        &scenario(
            &s.url(),
            "/ok",
            "  abort_when_unreachable: 1s\n",
            "  - error_rate < 100%\n",
        ),
    );
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_perfgate"));
    // `--no-report`: the HTML and PNG reports (seconds in a debug build) are written the same
    // way for every failed run; `result.json` is what is checked here.
    cmd.args(["run", file.to_str().unwrap(), "--quiet", "--no-report"])
        .current_dir(dir.path());
    let (mut child, _) = spawn_ready(&mut cmd, Stream::Stderr, RUNNING);
    // Once it has answered some requests, the server goes away: every connect is refused.
    s.wait_for(50, Duration::from_secs(10));
    s.kill();
    let (code, _) = wait_exit(&mut child, Duration::from_secs(15));
    assert_eq!(code, Some(1));
    let v = read_json(&dir.path().join("reports/abort/result.json"));
    assert_eq!(v["verdict"], "fail");
    assert_eq!(v["stopped_early"]["cause"], "abort_when_unreachable: 1s");
    let reason = v["reasons"][0].as_str().unwrap();
    assert!(
        reason.starts_with("aborted at ") && reason.contains("no connection"),
        "{reason}"
    );
    let windows = v["timeseries"].as_array().unwrap().len();
    assert!(windows < 15, "{windows} windows of a 20 s run");
    assert!(v["totals"]["errors_by_class"]["connect"].as_u64().unwrap() > 0);
}

#[test]
fn abort_when_unreachable_defaults_to_5s_and_can_be_turned_off() {
    let plan = |extra: &str| {
        let yaml = scenario("http://127.0.0.1:9", "/x", extra, "  - p99 < 1s\n");
        scenario::parse(&yaml, Path::new("s.yaml"), &[], |_| None)
    };
    let secs = |p: scenario::Plan| p.abort_when_unreachable.map(|d| d.as_secs());
    assert_eq!(secs(plan("").unwrap()), Some(5));
    assert_eq!(
        secs(plan("  abort_when_unreachable: 10s\n").unwrap()),
        Some(10)
    );
    assert_eq!(
        secs(plan("  abort_when_unreachable: false\n").unwrap()),
        None
    );
    assert_eq!(secs(plan("  abort_when_unreachable: off\n").unwrap()), None);
    let e = plan("  abort_when_unreachable: soon\n").unwrap_err();
    assert_eq!(e.field, "target.abort_when_unreachable");
    assert_eq!(e.line, 5, "{e}");
    let e = plan("  abort_when_unreachable: 200ms\n").unwrap_err();
    assert!(e.message.contains("at least `1s`"), "{e}");
}
