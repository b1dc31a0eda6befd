//! Issue 7, the verdict tells the truth: a run in which no request succeeded fails and says so
//! in every output; a latency gate with no successful response is "n/a" and fails; dropped
//! arrivals fail the open model's default threshold and show in every output; every kind has
//! its default thresholds, replaced by the scenario's own and opted out of with
//! `thresholds: []` (with a warning, the no-success guard still holding).
//!
//! Every run is the real binary against a loopback server (or in-process functions) for well
//! under a second of load.

use crate::support::counting::CountingServer;
use crate::support::{perfgate, read_json, write};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    json: serde_json::Value,
    dir: tempfile::TempDir,
}

impl Run {
    fn file(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join("out").join(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    fn reasons(&self) -> Vec<String> {
        self.json["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap().to_string())
            .collect()
    }

    fn last_stdout_line(&self) -> &str {
        self.stdout
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
    }
}

/// Runs `yaml` with the binary into `<tmp>/out`, without a baseline.
fn run(yaml: &str) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "s.yaml", yaml);
    let out = perfgate(
        &[
            "run",
            path.to_str().unwrap(),
            "--quiet",
            "--no-baseline",
            "--out",
            "out",
        ],
        dir.path(),
    );
    let json = read_json(&dir.path().join("out/result.json"));
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        json,
        dir,
    }
}

/// `text` as HTML and XML attributes carry it.
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The part of report.html above the first section: the header, visible without scrolling.
fn html_header(html: &str) -> &str {
    let end = html.find("</header>").expect("report.html has a header");
    &html[..end]
}

#[test]
fn a_run_in_which_every_request_fails_exits_1_and_says_why_in_every_output() {
    let server = CountingServer::start();
    let r = run(&format!(
        "name: dead
kind: load
target: {{ base_url: '{}', timeout: 1s }}
requests:
  - {{ name: close, path: /close }}
load:
  stages:
    - {{ concurrency: 2, duration: 400ms }}
thresholds:
  - p95 < 50ms
",
        server.url()
    ));
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.json["verdict"], "fail");
    assert_eq!(r.json["totals"]["ok"], 0);
    assert!(r.json["totals"]["requests"].as_u64().unwrap() > 0);
    // The service was reached, and it closed on every request it received.
    let received = server.received();
    assert!(!received.is_empty());
    assert!(received
        .iter()
        .all(|q| q.method == "GET" && q.path == "/close"));

    // result.json: the guard first, then the latency gate that had nothing to judge.
    let reasons = r.reasons();
    assert!(
        reasons[0].starts_with("no request succeeded"),
        "{reasons:?}"
    );
    assert_eq!(reasons[1], "p95 n/a: no request succeeded (limit < 50 ms)");
    let th = &r.json["thresholds"][0];
    assert_eq!(th["pass"], false);
    assert_eq!(th["no_data"], true);

    // Terminal: the first reason is the last line; the threshold reads n/a.
    assert!(
        r.last_stdout_line().contains(&reasons[0]),
        "last line: {}",
        r.last_stdout_line()
    );
    let th_line = r
        .stdout
        .lines()
        .find(|l| l.contains("p95 < 50ms"))
        .expect("threshold row");
    assert!(
        th_line.contains("n/a") && th_line.contains("FAIL"),
        "{th_line}"
    );

    // summary.md: the first line.
    let md = r.file("summary.md");
    assert!(md.lines().next().unwrap().contains(&reasons[0]), "{md}");

    // junit.xml: the failure message of the verdict test case.
    let junit = r.file("junit.xml");
    assert!(
        junit.contains(&format!("<failure message=\"{}\"", escaped(&reasons[0]))),
        "{junit}"
    );

    // report.html: under the badge, in the header.
    let html = r.file("report.html");
    assert!(html_header(&html).contains(&escaped(&reasons[0])));
}

#[test]
fn open_model_overload_fails_the_default_dropped_rate_and_shows_dropped_everywhere() {
    // One call in flight at a time, each 100 ms, against 100 arrivals a second: about nine in
    // ten arrivals find no free slot.
    let r = run("name: overload
kind: load
requests:
  - { name: slow, call: builtin.sleep, params: { ms: 100 } }
load:
  model: open
  max_in_flight: 1
  stages:
    - { rate: 100/s, duration: 600ms }
");
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let dropped = r.json["totals"]["dropped"].as_u64().unwrap();
    assert!(dropped > 10, "dropped {dropped}");

    // The defaults of an open-model load run, the dropped one failing.
    let exprs: Vec<&str> = r.json["thresholds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["expr"].as_str().unwrap())
        .collect();
    assert_eq!(exprs, ["error_rate < 1%", "dropped_rate < 1%"]);
    assert_eq!(r.json["thresholds"][1]["pass"], false);
    let reasons = r.reasons();
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert!(reasons[0].starts_with("dropped "), "{reasons:?}");
    assert!(
        reasons[0].contains(&format!("{dropped} of ")),
        "{reasons:?}"
    );

    // Terminal: in the header line and the tables; the reason is the last line.
    let line = r
        .stdout
        .lines()
        .find(|l| l.starts_with("dropped: "))
        .unwrap();
    assert!(line.contains(&format!("{dropped} (")), "{line}");
    assert!(
        r.stdout.contains("│ dropped "),
        "a dropped column:\n{}",
        r.stdout
    );
    assert!(r.last_stdout_line().contains(&reasons[0]));

    let html = r.file("report.html");
    let header = html_header(&html);
    assert!(header.contains("dropped <strong>"), "{header}");
    assert!(header.contains(&escaped(&reasons[0])), "{header}");
    assert!(html.contains("<th>dropped</th>"));
    // The throughput chart draws the dropped arrivals.
    assert!(html.contains("dropped arrivals (right axis)"));

    let md = r.file("summary.md");
    assert!(md.lines().next().unwrap().contains(&reasons[0]));
    assert!(md.contains(&format!("dropped **{dropped} (")), "{md}");

    let junit = r.file("junit.xml");
    assert!(
        junit.contains(&format!("<failure message=\"{}\"", escaped(&reasons[0]))),
        "{junit}"
    );
    assert!(junit.contains(&format!("dropped {dropped} (")), "{junit}");
    assert!(junit.contains("name=\"dropped_rate &lt; 1%\""), "{junit}");
}

/// A scenario of `kind` against `server`: one request in two answers 500.
fn half_failing(kind: &str, server: &CountingServer, thresholds: &str) -> String {
    format!(
        "name: half
kind: {kind}
target: {{ base_url: '{}' }}
requests:
  - {{ name: ok, path: /ok }}
  - {{ name: bad, path: /status/500 }}
load:
  stages:
    - {{ concurrency: 2, duration: 300ms }}
{thresholds}",
        server.url()
    )
}

#[test]
fn default_thresholds_judge_a_scenario_that_lists_none() {
    let server = CountingServer::start();

    let load = run(&half_failing("load", &server, ""));
    assert_eq!(load.code, 1, "{}", load.stdout);
    let reasons = load.reasons();
    assert!(
        reasons.len() == 1
            && reasons[0].starts_with("error_rate ")
            && reasons[0].ends_with("> limit 1 %"),
        "{reasons:?}"
    );

    let smoke = run(&half_failing("smoke", &server, ""));
    assert_eq!(smoke.code, 1);
    assert_eq!(smoke.json["thresholds"][0]["expr"], "errors == 0");
    assert!(
        smoke.reasons()[0].starts_with("errors "),
        "{:?}",
        smoke.reasons()
    );

    // A stress run goes past capacity on purpose: no default threshold, only the guard.
    let stress = run(&half_failing("stress", &server, ""));
    assert_eq!(stress.code, 0, "{}", stress.stdout);
    assert!(stress.json["thresholds"].as_array().unwrap().is_empty());
    assert!(stress.reasons().is_empty());

    // The scenario's own list replaces the defaults.
    let own = run(&half_failing(
        "load",
        &server,
        "thresholds:\n  - error_rate < 90%\n",
    ));
    assert_eq!(own.code, 0, "{}", own.stdout);
    assert_eq!(own.json["thresholds"].as_array().unwrap().len(), 1);
}

#[test]
fn thresholds_opt_out_warns_and_the_no_success_guard_still_holds() {
    let server = CountingServer::start();
    let r = run(&half_failing("load", &server, "thresholds: []\n"));
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(
        r.stderr.contains("`thresholds: []` opts out"),
        "{}",
        r.stderr
    );
    let warnings = r.json["warnings"].as_array().unwrap();
    assert!(warnings
        .iter()
        .any(|w| w.as_str().unwrap().contains("no-success guard")));
    assert!(r.stdout.contains("warning: `thresholds: []` opts out"));

    let dead = run("name: dead
kind: load
requests:
  - { name: f, call: builtin.fail }
load:
  stages:
    - { concurrency: 1, duration: 200ms }
thresholds: []
");
    assert_eq!(dead.code, 1, "{}", dead.stdout);
    assert!(dead.reasons()[0].starts_with("no request succeeded"));
}

#[test]
fn validate_explain_prints_the_thresholds_that_will_judge_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let explain = |name: &str, yaml: &str| {
        let path = write(dir.path(), name, yaml);
        let out = perfgate(
            &["validate", "--explain", path.to_str().unwrap()],
            dir.path(),
        );
        assert_eq!(out.status.code(), Some(0));
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let base =
        "requests:\n  - { name: n, call: builtin.noop }\nload:\n  peak: 10\n  duration: 10s\n";
    let open = "requests:\n  - { name: n, call: builtin.noop }\nload:\n  model: open\n  peak: 10/s\n  duration: 10s\n";
    let (out, _) = explain("soak.yaml", &format!("name: s\nkind: soak\n{open}"));
    assert!(
        out.contains("threshold error_rate < 1% (default for soak"),
        "{out}"
    );
    assert!(
        out.contains("threshold dropped_rate < 1% (default for soak"),
        "{out}"
    );
    assert!(out.contains("no request succeeded fails"), "{out}");

    let (out, _) = explain(
        "smoke.yaml",
        "name: s\nkind: smoke\nrequests:\n  - { name: n, call: builtin.noop }\n",
    );
    assert!(
        out.contains("threshold errors == 0 (default for smoke"),
        "{out}"
    );

    // A stress run's defaults judge the stages up to `peak`, not those past it.
    let (out, _) = explain("stress.yaml", &format!("name: s\nkind: stress\n{base}"));
    assert!(
        out.contains("threshold stage:step-50.error_rate < 1% (default for stress")
            && out.contains("threshold stage:peak.error_rate < 1% (default for stress"),
        "{out}"
    );
    assert!(
        out.contains("(stage:peak)") && !out.contains("stage:step-150.error_rate"),
        "{out}"
    );

    let (out, _) = explain(
        "budget.yaml",
        &format!("name: s\nkind: load\n{base}thresholds:\n  - p95: {{ target: 150ms, warn: 200ms, fail: 250ms, kpi: true }}\n  - error_rate: {{ fail: 50%, abort: true, after: 10s }}\n"),
    );
    assert!(
        out.contains("threshold p95 < 250ms (warn 200ms, target 150ms, KPI)\n"),
        "{out}"
    );
    assert!(
        out.contains("threshold error_rate < 50% (abort: true, judged per second after 10s)\n"),
        "{out}"
    );

    let (out, _) = explain(
        "own.yaml",
        &format!("name: s\nkind: load\n{base}thresholds:\n  - p99 < 1s\n"),
    );
    assert!(out.contains("threshold p99 < 1s\n"), "{out}");
    assert!(!out.contains("default for"), "{out}");

    let (out, err) = explain(
        "none.yaml",
        &format!("name: s\nkind: load\n{base}thresholds: []\n"),
    );
    assert!(out.contains("opts out of the default thresholds"), "{out}");
    assert!(err.contains("opts out"), "{err}");
}
