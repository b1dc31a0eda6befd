//! A failing server is data: each fault is counted in its class, the run continues to its end
//! and the totals add up. Secrets a server echoes back are redacted.

use perfgate::app::{measure, RunOptions};
use perfgate::client::demo::{DemoOptions, DemoServer};
use perfgate::client::Registry;
use perfgate::gate::{self, CompareOptions};
use perfgate::result::RunResult;
use perfgate::scenario;

use crate::support::raw::{Fault, RawServer};
use crate::support::{assert_totals_add_up, perfgate, run_yaml, write};

fn against(base: &str, timeout: &str) -> RunResult {
    run_yaml(
        &format!(
            "name: fault\nkind: load\ntarget: {{ base_url: '{base}', timeout: {timeout} }}\nrequests:\n  - {{ name: get, path: /x }}\nload:\n  stages:\n    - {{ concurrency: 2, duration: 700ms }}\n"
        ),
        &Registry::with_builtins(),
    )
}

fn only_class(r: &RunResult, class: &str) {
    assert_totals_add_up(r);
    assert!(r.totals.errors > 0, "no errors at all");
    let counts = r.totals.errors_by_class.iter();
    for (name, n) in counts {
        if name == class {
            assert_eq!(
                n, r.totals.errors,
                "{class}: {:?}",
                r.totals.errors_by_class
            );
        }
    }
    assert_eq!(r.totals.ok, 0);
    // The run went on to its end.
    assert_eq!(r.stages.len(), 1);
    assert!(r.duration_s >= 0.69, "{}", r.duration_s);
}

#[test]
fn a_server_that_hangs_gives_timeouts() {
    let s = RawServer::start(Fault::Hang);
    let r = against(&s.url(), "200ms");
    only_class(&r, "timeout");
    // Each worker waited out about three timeouts.
    assert!(
        r.totals.errors >= 2 && r.totals.errors <= 8,
        "{}",
        r.totals.errors
    );
    assert!(r.totals.failed_latency_ms.min >= 199.0);
}

#[test]
fn a_server_that_closes_gives_resets() {
    let s = RawServer::start(Fault::Close);
    only_class(&against(&s.url(), "1s"), "reset");
}

#[test]
fn a_truncated_body_is_a_reset() {
    let s = RawServer::start(Fault::TruncatedBody);
    let r = against(&s.url(), "1s");
    only_class(&r, "reset");
    assert!(r.totals.bytes_received > 0);
}

#[test]
fn a_malformed_status_line_is_a_protocol_error() {
    let s = RawServer::start(Fault::Garbage);
    only_class(&against(&s.url(), "1s"), "protocol");
}

#[test]
fn a_server_that_goes_away_gives_connect_errors() {
    let s = RawServer::start(Fault::RefuseAfterPreflight);
    let r = against(&s.url(), "1s");
    assert_totals_add_up(&r);
    let e = &r.totals.errors_by_class;
    // Connections already queued when the listener closed are reset (one per worker at
    // most); every later attempt is refused.
    assert!(e.reset <= 2, "{e:?}");
    assert_eq!(e.connect + e.reset, r.totals.errors, "{e:?}");
    assert!(e.connect > e.reset, "{e:?}");
    assert_eq!(r.totals.ok, 0);
}

#[test]
fn https_to_a_plain_http_server_is_a_tls_error() {
    let server = DemoServer::start("127.0.0.1:0".parse().unwrap(), DemoOptions::default()).unwrap();
    let url = format!("https://{}", server.addr());
    only_class(&against(&url, "1s"), "tls");
}

#[test]
fn an_unreachable_target_fails_preflight_with_exit_3() {
    // A port nobody listens on: bind, read the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "down.yaml",
        &format!("name: down\nkind: smoke\ntarget: {{ base_url: 'http://127.0.0.1:{port}' }}\nrequests:\n  - {{ name: get, path: / }}\n"),
    );
    let out = perfgate(&["run", path.to_str().unwrap(), "--quiet"], dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("unreachable"), "{stderr}");
    assert_eq!(
        stderr
            .lines()
            .filter(|l| l.starts_with("perfgate:"))
            .count(),
        1,
        "one clear line: {stderr}"
    );
    assert!(!dir.path().join("reports/down/result.json").exists());
}

#[test]
fn secrets_echoed_by_the_server_are_redacted() {
    let s = RawServer::start(Fault::EchoAuth);
    let yaml = format!(
        "name: secret\nkind: load\ntarget:\n  base_url: '{}'\n  headers: {{ Authorization: 'Bearer ${{API_TOKEN}}' }}\nrequests:\n  - {{ name: get, path: /x }}\nload:\n  stages:\n    - {{ concurrency: 1, duration: 300ms }}\n",
        s.url()
    );
    let names = Registry::with_builtins();
    let plan = scenario::parse(
        &yaml,
        std::path::Path::new("secret.yaml"),
        &names.names(),
        |k| (k == "API_TOKEN").then(|| "tok-9f8e7d".to_string()),
    )
    .unwrap();
    let m = measure(&plan, &names, RunOptions::default()).unwrap();
    let r = gate::judge(m, &plan.thresholds, None, &CompareOptions::default());
    assert!(r.totals.errors_by_class.http_5xx > 0);
    let json = serde_json::to_string(&r).unwrap();
    assert!(
        !json.contains("tok-9f8e7d"),
        "secret leaked into the result"
    );
    assert!(
        r.error_samples
            .iter()
            .any(|s| s.message.contains("Bearer ***")),
        "{:?}",
        r.error_samples
    );
}

#[test]
fn hostile_strings_from_the_scenario_and_the_server_reach_the_html_escaped() {
    let s = RawServer::start(Fault::EchoAuth);
    let dir = tempfile::tempdir().unwrap();
    let yaml = format!(
        "name: hostile
kind: load
description: '<script>alert(1)</script> \"><img src=x onerror=alert(1)>'
target:
  base_url: '{}'
  headers: {{ Authorization: '\"><img src=x onerror=alert(1)>' }}
requests:
  - {{ name: '<script>alert(1)</script>', path: /x }}
load:
  stages:
    - {{ concurrency: 1, duration: 300ms }}
",
        s.url()
    );
    let path = write(dir.path(), "hostile.yaml", &yaml);
    let out = perfgate(
        &["run", path.to_str().unwrap(), "--quiet", "--no-baseline"],
        dir.path(),
    );
    // Every answer is a 503: no request succeeded, so the run fails (exit 1), reports written.
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(dir.path().join("reports/hostile/report.html")).unwrap();
    // The server echoed the header into its error message: it is in the report, escaped.
    let r: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("reports/hostile/result.json")).unwrap(),
    )
    .unwrap();
    assert!(r["error_samples"][0]["message"]
        .as_str()
        .unwrap()
        .contains("onerror=alert(1)"));
    for raw in [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "\"><img",
    ] {
        assert!(!html.contains(raw), "unescaped {raw} in report.html");
    }
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    let junit = std::fs::read_to_string(dir.path().join("reports/hostile/junit.xml")).unwrap();
    assert!(!junit.contains("<script>"));
}
