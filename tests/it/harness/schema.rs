//! The committed JSON Schemas (`scenarios/schema/`): every shipped scenario is valid against
//! the scenario schema, the schema accepts and refuses what perfgate accepts and refuses, and
//! the `result.json` files perfgate writes are valid against the result schema. (That the
//! committed files match the Rust types is a unit test in `src/schema.rs`.)

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{perfgate, write};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn committed(name: &str) -> jsonschema::Validator {
    let path = root().join("scenarios/schema").join(name);
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    jsonschema::meta::validate(&schema)
        .unwrap_or_else(|e| panic!("{} is not a valid JSON Schema: {e}", path.display()));
    jsonschema::draft7::new(&schema).unwrap()
}

/// The schema's complaints about `instance`, one line each (empty when valid).
fn complaints(v: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    v.iter_errors(instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

fn yaml(text: &str) -> Value {
    serde_yaml::from_str(text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

#[test]
fn every_shipped_scenario_is_valid_and_points_at_the_schema() {
    let v = committed("scenario.schema.json");
    let schema_file = root()
        .join("scenarios/schema/scenario.schema.json")
        .canonicalize()
        .unwrap();
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("yaml"))
        .collect();
    files.push(root().join("examples/pricing.yaml"));
    assert!(files.len() >= 7, "{files:?}");
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let errors = complaints(&v, &yaml(&text));
        assert!(errors.is_empty(), "{}: {errors:#?}", file.display());
        // The first line tells YAML editors where the schema is, relative to the file.
        let first = text.lines().next().unwrap_or_default();
        let target = first
            .strip_prefix("# yaml-language-server: $schema=")
            .unwrap_or_else(|| panic!("{}: no schema modeline: {first}", file.display()));
        let resolved = file.parent().unwrap().join(target).canonicalize();
        assert_eq!(
            resolved.ok().as_deref(),
            Some(schema_file.as_path()),
            "{}: the modeline does not point at the schema",
            file.display()
        );
    }
}

macro_rules! requests {
    () => {
        "requests:
  - name: list
    method: GET
    path: /items?page=1
    weight: 2
    expect: { status: [200] }
  - name: hash
    call: builtin.noop
"
    };
}

/// A scenario that perfgate accepts; each case below changes one thing in it.
const BASE: &str = concat!(
    "name: probe
kind: load
target:
  base_url: http://127.0.0.1:9
  timeout: 2s
  headers: { X-Team: perf }
",
    requests!(),
    "load:
  warmup: 1s
  stages:
    - { concurrency: 2, duration: 1s }
thresholds:
  - p95 < 250ms
baseline:
  tolerance: { p99: 15%, error_rate: 0.5pp }
  repeat: 1
"
);

const OPEN: &str = "load:
  model: open
  max_in_flight: 50
  stages:
    - { rate: 200/s, duration: 1s }
";

/// (what changes, replaced text, replacement, accepted by perfgate)
const CASES: &[(&str, &str, &str, bool)] = &[
    ("the base", "", "", true),
    ("lower-case method", "method: GET", "method: post", true),
    ("a numeric header value", "X-Team: perf", "X-Retries: 3", true),
    ("a fractional duration", "timeout: 2s", "timeout: 1.5s", true),
    ("a duration in us", "warmup: 1s", "warmup: 250us", true),
    ("several statuses", "status: [200]", "status: [200, 201]", true),
    ("every threshold form", "  - p95 < 250ms\n", "  - p95 < 250ms\n  - error_rate < 1%\n  - throughput > 500/s\n  - list.p99 <= 0.3s\n  - errors == 0\n  - requests >= 10\n", true),
    ("the embedded server", "base_url: http://127.0.0.1:9", "base_url: embedded\n  embedded: { latency: 5ms, jitter: 1ms, error_rate: 1% }", true),
    ("an empty optional section", "  headers: { X-Team: perf }\n", "  headers: {}\n  retry_idempotent:\n", true),
    ("the open model", "load:\n  warmup: 1s\n  stages:\n    - { concurrency: 2, duration: 1s }\n", OPEN, true),
    ("a closed preset", "  stages:\n    - { concurrency: 2, duration: 1s }\n", "  peak: 20\n  duration: 1m\n", true),
    ("${VAR} as the kind", "kind: load", "kind: ${KIND}", true),
    // `{` and `}` end a flow mapping: `${VAR}` goes in block style there.
    ("${VAR} as a number", "    - { concurrency: 2, duration: 1s }\n", "    - concurrency: ${USERS}\n      duration: 1s\n", true),
    ("${VAR} inside a value", "    - { concurrency: 2, duration: 1s }\n", "    - concurrency: 2\n      duration: ${SECS}s\n", true),
    ("${VAR:-default} in a threshold", "p95 < 250ms", "p95 < ${P95:-300ms}", false),
    ("${VAR} in the scenario name", "name: probe", "name: ${NAME}", false),
    ("an unknown top-level field", "thresholds:", "thresolds:", false),
    ("an unknown nested field", "timeout: 2s", "timout: 2s", false),
    ("an unknown kind", "kind: load", "kind: heavy", false),
    ("an unknown model", "  warmup: 1s\n", "  model: opened\n", false),
    ("a duration without unit", "timeout: 2s", "timeout: 2", false),
    ("a duration with an unknown unit", "duration: 1s }", "duration: 1sec }", false),
    ("an unknown method", "method: GET", "method: FETCH", false),
    ("weight 0", "weight: 2", "weight: 0", false),
    ("a weight too large", "weight: 2", "weight: 2000000", false),
    ("a quoted weight", "weight: 2", "weight: \"2\"", false),
    ("concurrency 0", "concurrency: 2", "concurrency: 0", false),
    ("a status that is not HTTP", "status: [200]", "status: [700]", false),
    ("no expected status", "status: [200]", "status: []", false),
    ("an unknown threshold metric", "p95 < 250ms", "p96 < 250ms", false),
    ("a threshold without comparison", "p95 < 250ms", "p95 250ms", false),
    ("an error rate without %", "p95 < 250ms", "error_rate < 1", false),
    ("a latency limit without unit", "p95 < 250ms", "p95 < 250", false),
    ("a throughput without /s", "p95 < 250ms", "throughput > 500", false),
    ("an unknown tolerance metric", "p99: 15%", "p98: 15%", false),
    ("percentage points on a latency", "p99: 15%", "p99: 0.5pp", false),
    ("repeat 21", "repeat: 1", "repeat: 21", false),
    ("an upper-case scenario name", "name: probe", "name: Probe", false),
    ("a request name with a dot", "name: list", "name: list.all", false),
    ("a path without /", "path: /items?page=1", "path: items", false),
    ("a base URL that is not HTTP", "http://127.0.0.1:9", "ftp://127.0.0.1:9", false),
    ("a request with path and call", "    call: builtin.noop\n", "    call: builtin.noop\n    path: /x\n", false),
    ("a request with neither", "    call: builtin.noop\n", "", false),
    ("a stage with concurrency and rate", "concurrency: 2,", "concurrency: 2, rate: 5/s,", false),
    ("a stage without level", "concurrency: 2, ", "", false),
    ("no requests", requests!(), "requests: []\n", false),
    ("a rate that is not a rate", "load:\n  warmup: 1s\n  stages:\n    - { concurrency: 2, duration: 1s }\n", "load:\n  model: open\n  stages:\n    - { rate: 200, duration: 1s }\n", false),
    ("stage scopes and budgets", "  - p95 < 250ms\n", "  - stage[0].p95 < 250ms\n  - p95: { target: 100ms, warn: 200ms, fail: 250ms, kpi: true }\n  - error_rate: { fail: 50%, abort: true, after: 2s }\n  - errors: { warn: 1, fail: 10 }\n", true),
    ("a named stage", "{ concurrency: 2, duration: 1s }", "{ concurrency: 2, duration: 1s, name: peak }", true),
    ("a stage threshold by name", "{ concurrency: 2, duration: 1s }\nthresholds:\n  - p95 < 250ms", "{ concurrency: 2, duration: 1s, name: peak }\nthresholds:\n  - stage:peak.p95 < 250ms", true),
    ("abort_when_unreachable off", "  timeout: 2s\n", "  timeout: 2s\n  abort_when_unreachable: off\n", true),
    ("abort_when_unreachable false", "  timeout: 2s\n", "  timeout: 2s\n  abort_when_unreachable: false\n", true),
    ("abort_when_unreachable 10s", "  timeout: 2s\n", "  timeout: 2s\n  abort_when_unreachable: 10s\n", true),
    ("abort_when_unreachable soon", "  timeout: 2s\n", "  timeout: 2s\n  abort_when_unreachable: soon\n", false),
    ("a budget without fail", "  - p95 < 250ms\n", "  - p95: { warn: 200ms }\n", false),
    ("a budget with an unknown field", "  - p95 < 250ms\n", "  - p95: { fail: 1s, wrn: 1ms }\n", false),
    ("a budget of an unknown metric", "  - p95 < 250ms\n", "  - p96: { fail: 1s }\n", false),
    ("a budget with two keys", "  - p95 < 250ms\n", "  - { p95: { fail: 1s }, p99: { fail: 1s } }\n", false),
    ("a budget's after without a unit", "  - p95 < 250ms\n", "  - p99: { fail: 1s, abort: true, after: 10 }\n", false),
];

/// The schema is only useful if it agrees with `perfgate validate`: a file it flags must be
/// refused, and a file perfgate accepts (with `${VAR}` unexpanded, as an editor sees it) must
/// not be flagged. Rules that span fields are perfgate's alone and not listed here.
#[test]
fn the_scenario_schema_accepts_and_refuses_what_perfgate_does() {
    let v = committed("scenario.schema.json");
    let env: BTreeMap<&str, &str> = [("KIND", "load"), ("USERS", "3"), ("SECS", "2")]
        .into_iter()
        .collect();
    let functions = ["builtin.noop"];
    let mut wrong = Vec::new();
    for (what, from, to, accepted) in CASES {
        let text = if from.is_empty() {
            BASE.to_string()
        } else {
            assert!(
                BASE.contains(from),
                "case `{what}`: `{from}` is not in the base"
            );
            BASE.replacen(from, to, 1)
        };
        let perfgate = perfgate::scenario::parse(&text, Path::new("case.yaml"), &functions, |n| {
            env.get(n).map(|s| s.to_string())
        });
        assert_eq!(
            perfgate.is_ok(),
            *accepted,
            "case `{what}`: perfgate said {:?}\n{text}",
            perfgate.err().map(|e| e.to_string())
        );
        let errors = complaints(&v, &yaml(&text));
        if errors.is_empty() != *accepted {
            wrong.push(format!("`{what}`: schema said {errors:?}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "the schema disagrees with perfgate on:\n{wrong:#?}"
    );
}

const SHORT: &str = "name: schema-probe
kind: load
requests:
  - { name: noop, call: builtin.noop, weight: 3 }
  - { name: fail, call: builtin.fail }
load:
  stages:
    - { concurrency: 2, duration: 300ms }
thresholds:
  - noop.p99 < 1s
  - error_rate < 1%
";

#[test]
fn result_json_of_a_run_and_of_a_comparison_is_valid_against_the_result_schema() {
    let v = committed("result.schema.json");
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(dir.path(), "probe.yaml", SHORT);
    let s = scenario.to_str().unwrap();
    // A short in-process run, twice (`--repeat`), with errors and a failed threshold.
    let out = perfgate(
        &[
            "run",
            s,
            "--quiet",
            "--threads",
            "1",
            "--no-report",
            "--no-baseline",
            "--repeat",
            "2",
            "--out",
            "run",
        ],
        dir.path(),
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = perfgate(
        &[
            "baseline",
            "refresh",
            s,
            "--from",
            "run/result.json",
            "--baseline",
            "b.json",
            "--force",
            "--quiet",
        ],
        dir.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = perfgate(
        &[
            "compare",
            "run/result.json",
            "--baseline",
            "b.json",
            "--out",
            "cmp",
        ],
        dir.path(),
    );
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for file in ["run/result.json", "cmp/result.json"] {
        let text = std::fs::read_to_string(dir.path().join(file)).unwrap();
        let result: Value = serde_json::from_str(&text).unwrap();
        assert!(
            result["totals"]["requests"].as_u64() > Some(0),
            "{file}: nothing ran"
        );
        assert!(
            result["totals"]["errors"].as_u64() > Some(0),
            "{file}: no error"
        );
        assert!(result["repeat"].is_object(), "{file}: no `repeat`");
        let errors = complaints(&v, &result);
        assert!(errors.is_empty(), "{file}: {errors:#?}");
    }
    let compared: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("cmp/result.json")).unwrap())
            .unwrap();
    assert!(compared["comparison"]["metrics"]
        .as_array()
        .is_some_and(|m| !m.is_empty()));
}
