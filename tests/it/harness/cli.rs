//! The binary: exit codes, `result.json` keys, graceful stop on a signal.

use std::time::Duration;

use crate::support::counting::CountingServer;
use perfgate::client::Registry;

use crate::support::{
    perfgate, perfgate_running, run_yaml, signal, spawn_ready, wait_exit, write, Stream,
};

const PASSING: &str = "name: gate
kind: load
target: { base_url: embedded }
requests:
  - { name: list, path: /items }
load:
  stages:
    - { concurrency: 2, duration: 600ms }
thresholds:
  - p99 < 5s
  - error_rate < 1%
";

#[test]
fn exit_0_when_every_threshold_passes_and_result_json_has_the_v1_keys() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "gate.yaml", PASSING);
    let out = perfgate(
        &["run", path.to_str().unwrap(), "--quiet", "--threads", "1"],
        dir.path(),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(dir.path().join("reports/gate/result.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["schema"], "perfgate/result/v1");
    for key in [
        "tool",
        "scenario",
        "started_at",
        "duration_s",
        "verdict",
        "exit_code",
        "totals",
        "requests",
        "stages",
        "timeseries",
        "thresholds",
        "comparison",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    for key in ["name", "version"] {
        assert!(v["tool"].get(key).is_some());
    }
    for key in ["name", "kind", "file", "hash"] {
        assert!(v["scenario"].get(key).is_some());
    }
    let m = &v["totals"];
    for key in [
        "requests",
        "ok",
        "errors",
        "error_rate",
        "throughput_rps",
        "latency_ms",
        "errors_by_class",
        "status_codes",
        "bytes_received",
    ] {
        assert!(m.get(key).is_some(), "totals.{key}");
    }
    for key in ["min", "mean", "p50", "p90", "p95", "p99", "p999", "max"] {
        assert!(m["latency_ms"].get(key).is_some(), "latency_ms.{key}");
    }
    for key in [
        "connect", "timeout", "reset", "tls", "protocol", "http_4xx", "http_5xx", "check",
        "function",
    ] {
        assert!(
            m["errors_by_class"].get(key).is_some(),
            "errors_by_class.{key}"
        );
    }
    for key in [
        "t_s",
        "requests",
        "errors",
        "throughput_rps",
        "p50_ms",
        "p90_ms",
        "p99_ms",
        "max_ms",
        "active",
    ] {
        assert!(v["timeseries"][0].get(key).is_some(), "timeseries.{key}");
    }
    for key in ["index", "target", "start_s", "end_s", "metrics"] {
        assert!(v["stages"][0].get(key).is_some(), "stages.{key}");
    }
    for key in ["expr", "observed", "limit", "pass"] {
        assert!(v["thresholds"][0].get(key).is_some(), "thresholds.{key}");
    }
    assert_eq!(v["verdict"], "pass");
    assert_eq!(v["exit_code"], 0);
    assert_eq!(v["host"]["threads"], 1);
}

#[test]
fn exit_1_when_a_threshold_fails() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "gate.yaml",
        &PASSING.replace("p99 < 5s", "p99 < 1us"),
    );
    let out = perfgate(
        &["run", path.to_str().unwrap(), "--quiet", "--out", "o"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("o/result.json")).unwrap())
            .unwrap();
    assert_eq!(v["verdict"], "fail");
    assert_eq!(v["thresholds"][0]["pass"], false);
}

#[test]
fn bad_command_lines_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(perfgate(&["run"], dir.path()).status.code(), Some(2));
    assert_eq!(perfgate(&["frobnicate"], dir.path()).status.code(), Some(2));
    assert_eq!(
        perfgate(&["run", "x.yaml", "--threads", "0"], dir.path())
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        perfgate(&["run", "x.yaml", "--tolerance", "p98=1%"], dir.path())
            .status
            .code(),
        Some(2)
    );
    let help = perfgate(&["--help"], dir.path());
    assert_eq!(help.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&help.stdout).contains("Exit codes"));
}

#[test]
fn sigint_stops_within_a_second_and_writes_an_aborted_result() {
    let server = CountingServer::start();
    let dir = tempfile::tempdir().unwrap();
    let long = PASSING
        .replace("600ms", "30s")
        .replace("embedded", &server.url())
        .replace("/items", "/ok");
    let path = write(dir.path(), "long.yaml", &long);
    let mut child = perfgate_running(&["run", path.to_str().unwrap(), "--quiet"], dir.path());
    // The load is under way once the server has seen a request.
    assert!(
        server.wait_for(1, Duration::from_secs(10)) > 0,
        "no request arrived"
    );
    signal(&child, "-INT");
    let (code, _) = wait_exit(&mut child, Duration::from_secs(10));
    assert_eq!(code, Some(3));
    let result = dir.path().join("reports/gate/result.json");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(result).unwrap()).unwrap();
    assert_eq!(v["verdict"], "aborted");
    assert_eq!(v["exit_code"], 3);
    assert!(v["totals"]["requests"].as_u64().unwrap() > 0);
    assert!(v["duration_s"].as_f64().unwrap() < 29.0);
}

#[test]
fn merge_adds_up_results_from_several_generators() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "gate.yaml", PASSING);
    let p = path.to_str().unwrap();
    for out in ["a", "b"] {
        assert_eq!(
            perfgate(
                &["run", p, "--quiet", "--no-report", "--out", out],
                dir.path()
            )
            .status
            .code(),
            Some(0)
        );
    }
    let out = perfgate(
        &[
            "merge",
            "a/result.json",
            "b/result.json",
            "--out",
            "m",
            "--no-report",
            // The two runs above ran one after the other, not at the same time.
            "--allow-disjoint",
        ],
        dir.path(),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read = |f: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(dir.path().join(f)).unwrap()).unwrap()
    };
    let (a, b, m) = (
        read("a/result.json"),
        read("b/result.json"),
        read("m/result.json"),
    );
    let n = |v: &serde_json::Value, k: &str| v["totals"][k].as_u64().unwrap();
    assert_eq!(n(&m, "requests"), n(&a, "requests") + n(&b, "requests"));
    assert_eq!(n(&m, "requests"), n(&m, "ok") + n(&m, "errors"));
    assert_eq!(m["stages"][0]["target"], 4.0, "2 + 2 virtual users");
    assert_eq!(
        m["thresholds"].as_array().unwrap().len(),
        2,
        "judged against the scenario"
    );
    let p99 = |v: &serde_json::Value| v["totals"]["latency_ms"]["max"].as_f64().unwrap();
    assert!(
        (p99(&m) - p99(&a).max(p99(&b))).abs() < 0.01 * p99(&m),
        "max comes from the merged histogram"
    );

    // A result of another scenario cannot be merged in.
    let other = write(
        dir.path(),
        "other.yaml",
        &PASSING.replace("name: gate", "name: other"),
    );
    perfgate(
        &[
            "run",
            other.to_str().unwrap(),
            "--quiet",
            "--no-report",
            "--out",
            "c",
        ],
        dir.path(),
    );
    let out = perfgate(&["merge", "a/result.json", "c/result.json"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("different scenarios"));
}

#[test]
fn sigterm_stops_gracefully_and_a_second_signal_exits_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "long.yaml", &PASSING.replace("600ms", "30s"));
    let args = ["run", path.to_str().unwrap(), "--quiet"];
    let ten_s = Duration::from_secs(10);

    // Signalled once it said the load is running (its handlers are in place by then).
    let mut child = perfgate_running(&args, dir.path());
    signal(&child, "-TERM");
    assert_eq!(wait_exit(&mut child, ten_s).0, Some(3));
    let result = dir.path().join("reports/gate/result.json");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&result).unwrap()).unwrap();
    assert_eq!(v["verdict"], "aborted");

    // Two interrupts in a row: the second one exits at once, still with code 3.
    std::fs::remove_file(&result).unwrap();
    let mut child = perfgate_running(&args, dir.path());
    signal(&child, "-INT");
    signal(&child, "-INT");
    assert_eq!(wait_exit(&mut child, ten_s).0, Some(3));
}

#[test]
fn demo_server_says_where_it_listens_serves_a_run_and_exits_0_on_sigint() {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_perfgate"));
    cmd.args(["demo-server", "--addr", "127.0.0.1:0"]);
    let (mut child, line) = spawn_ready(&mut cmd, Stream::Stdout, "demo server listening on ");
    let url = line["demo server listening on ".len()..].trim().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");
    let r = run_yaml(
        &format!(
            "name: demo\nkind: load\ntarget: {{ base_url: '{url}' }}\nrequests:\n  - {{ name: list, path: /items }}\nload:\n  stages:\n    - {{ concurrency: 1, duration: 200ms }}\n"
        ),
        &Registry::with_builtins(),
    );
    assert!(r.totals.requests > 0);
    assert_eq!(r.totals.errors, 0, "{:?}", r.error_samples);
    signal(&child, "-INT");
    assert_eq!(wait_exit(&mut child, Duration::from_secs(10)).0, Some(0));
}
