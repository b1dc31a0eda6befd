//! Every bad scenario gets one clear message with file, line, column and field, and exit 2.

use std::path::Path;

use perfgate::scenario::{self, BaseUrl, Kind, Model, ScenarioError};

const FUNCS: &[&str] = &["builtin.noop", "builtin.sha256", "builtin.sleep"];

fn parse_env(yaml: &str, env: &[(&str, &str)]) -> Result<scenario::Plan, ScenarioError> {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    scenario::parse(yaml, Path::new("s.yaml"), FUNCS, move |k| {
        env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    })
}

fn err(yaml: &str) -> ScenarioError {
    parse_env(yaml, &[]).expect_err("should be rejected")
}

const GOOD: &str = "name: ok
kind: load
target:
  base_url: http://127.0.0.1:9
requests:
  - name: list
    path: /items
load:
  stages:
    - { concurrency: 2, duration: 1s }
";

fn with(replace: &str, by: &str) -> String {
    assert!(GOOD.contains(replace), "{replace}");
    GOOD.replace(replace, by)
}

#[test]
fn the_reference_scenario_is_valid() {
    let p = parse_env(GOOD, &[]).unwrap();
    assert_eq!(p.kind, Kind::Load);
    assert_eq!(
        p.target.base_url,
        Some(BaseUrl::Url("http://127.0.0.1:9".into()))
    );
    assert_eq!(p.load.stages[0].level, 2.0);
}

#[test]
fn malformed_yaml_points_at_the_line() {
    let e = err("name: x\nkind: load\nrequests:\n  - name: a\n   path: /x\n");
    assert_eq!(e.file, Path::new("s.yaml"));
    assert!(e.line >= 4 && e.line <= 5, "{e}");
    assert!(e.column > 0, "{e}");
}

#[test]
fn wrong_type_names_the_field() {
    let e = err(&with("concurrency: 2", "concurrency: ten"));
    assert_eq!(e.line, 10, "{e}");
    assert!(e.field.starts_with("load.stages[0]"), "{e}");
    assert!(e.message.contains("expected a whole number"), "{e}");
    assert!(!e.message.contains("i64"), "{e}");
}

#[test]
fn unknown_field_suggests_the_right_one() {
    let e = err(&format!("{GOOD}treshold:\n  - p95 < 1s\n"));
    assert_eq!((e.line, e.column), (11, 1), "{e}");
    assert_eq!(e.field, "treshold");
    assert!(
        e.hint
            .as_deref()
            .unwrap_or("")
            .contains("did you mean `thresholds`"),
        "{e}"
    );
    let e = err(&with("    path: /items", "    pth: /items"));
    assert_eq!(e.field, "requests[0].pth", "{e}");
    assert!(e.hint.unwrap().contains("`path`"));
}

#[test]
fn zero_and_negative_concurrency_are_refused_where_written() {
    for bad in ["0", "-3"] {
        let e = err(&with("concurrency: 2", &format!("concurrency: {bad}")));
        assert_eq!((e.line, e.column), (10, 9), "{e}");
        assert_eq!(e.field, "load.stages[0].concurrency");
        assert!(e.message.contains("out of range"), "{e}");
    }
}

#[test]
fn empty_stages_are_refused() {
    let e = err(&with(
        "  stages:\n    - { concurrency: 2, duration: 1s }\n",
        "  stages: []\n",
    ));
    assert_eq!(e.field, "load.stages");
    assert_eq!(e.line, 9, "{e}");
    assert!(e.message.contains("empty"), "{e}");
}

#[test]
fn unknown_function_suggests_a_registered_one() {
    let e = err(&with("    path: /items", "    call: builtin.sha265"));
    assert_eq!(e.field, "requests[0].call");
    assert_eq!((e.line, e.column), (7, 5), "{e}");
    assert!(e.hint.unwrap().contains("did you mean `builtin.sha256`"));
}

#[test]
fn bad_durations_rates_and_thresholds_are_located() {
    let e = err(&with("duration: 1s", "duration: 1sec"));
    assert_eq!(e.field, "load.stages[0].duration", "{e}");
    assert!(e.message.contains("unknown unit"), "{e}");

    let open = with(
        "  stages:\n    - { concurrency: 2, duration: 1s }\n",
        "  model: open\n  stages:\n    - { rate: 200/d, duration: 1s }\n",
    );
    let e = err(&open);
    assert_eq!(e.field, "load.stages[0].rate", "{e}");
    assert_eq!(e.line, 11, "{e}");

    let e = err(&format!("{GOOD}thresholds:\n  - p95 < 250\n  - p99 > \n"));
    assert_eq!(e.field, "thresholds[0]", "{e}");
    assert_eq!((e.line, e.column), (12, 5), "{e}");
    assert!(e.message.contains("no unit"), "{e}");

    let e = err(&format!(
        "{GOOD}thresholds:\n  - p95 < 1s\n  - lst.p99 < 1s\n"
    ));
    assert_eq!(e.field, "thresholds[1]", "{e}");
    assert!(e.hint.unwrap().contains("did you mean `list`"));
}

#[test]
fn missing_environment_variable_is_located_and_defaults_work() {
    let yaml = with("http://127.0.0.1:9", "${TARGET_URL}");
    let e = parse_env(&yaml, &[]).unwrap_err();
    assert_eq!((e.line, e.column), (4, 13), "{e}");
    assert!(e.message.contains("TARGET_URL"), "{e}");
    assert!(e.hint.unwrap().contains("${TARGET_URL:-value}"));

    let p = parse_env(
        &with("http://127.0.0.1:9", "${TARGET_URL:-http://127.0.0.1:7}"),
        &[],
    )
    .unwrap();
    assert_eq!(
        p.target.base_url,
        Some(BaseUrl::Url("http://127.0.0.1:7".into()))
    );
}

#[test]
fn values_from_the_environment_are_secrets_in_diagnostics() {
    let yaml = with("concurrency: 2", "concurrency: ${USERS}");
    let e = parse_env(&yaml, &[("USERS", "lots-of-s3cret")]).unwrap_err();
    assert!(!e.to_string().contains("lots-of-s3cret"), "{e}");
}

#[test]
fn presets_expand_by_kind() {
    let y = "name: p\nkind: stress\nrequests:\n  - { name: n, call: builtin.noop }\nload:\n  peak: 10\n  duration: 60s\n";
    let p = parse_env(y, &[]).unwrap();
    let levels: Vec<f64> = p.load.stages.iter().map(|s| s.level).collect();
    assert_eq!(levels, vec![5.0, 10.0, 15.0, 20.0, 25.0, 30.0]);
    assert!(p.load.from_preset);

    let smoke = "name: s\nkind: smoke\nrequests:\n  - { name: n, call: builtin.noop }\n";
    let p = parse_env(smoke, &[]).unwrap();
    assert_eq!(p.load.stages.len(), 1);
    assert_eq!(p.load.stages[0].level, 1.0);
    assert!(
        p.thresholds.iter().any(|t| t.expr == "errors == 0"),
        "smoke fails on any error by default"
    );

    let open = "name: o\nkind: soak\nrequests:\n  - { name: n, call: builtin.noop }\nload:\n  model: open\n  peak: 200/s\n  duration: 1m\n";
    let p = parse_env(open, &[]).unwrap();
    assert_eq!(
        p.load.model,
        Model::Open {
            max_in_flight: 1000
        }
    );
    assert_eq!(p.load.stages[0].level, 200.0);

    let e = err("name: l\nkind: load\nrequests:\n  - { name: n, call: builtin.noop }\nload:\n  duration: 1m\n");
    assert!(e.message.contains("needs `peak`"), "{e}");
}

#[test]
fn model_mismatches_and_one_of_fields() {
    let e = err(&with("concurrency: 2", "rate: 10/s"));
    assert_eq!(e.field, "load.stages[0].rate");
    assert!(e.hint.unwrap().contains("model: open"));
    let e = err(&with(
        "    path: /items",
        "    path: /items\n    call: builtin.noop",
    ));
    assert!(e.message.contains("not both"), "{e}");
    let e = err(&with("    path: /items", "    weight: 2"));
    assert!(e.message.contains("neither `path` nor `call`"), "{e}");
    let e = err(&with("name: ok", "name: Bad Name"));
    assert_eq!(e.field, "name");
    let e = err(&with(
        "  base_url: http://127.0.0.1:9",
        "  base_url: ftp://x",
    ));
    assert_eq!(e.field, "target.base_url");
    let e = err(&with(
        "  base_url: http://127.0.0.1:9",
        "  base_url: http://127.0.0.1:9\n  embedded: { latency: 2ms }",
    ));
    assert_eq!(e.field, "target.embedded");
    assert!(e.message.contains("base_url: embedded"), "{e}");
}

#[test]
fn cli_reports_bad_files_with_exit_2_and_no_panic() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("malformed.yaml", "name: x\nkind: [\n".to_string()),
        ("zero.yaml", with("concurrency: 2", "concurrency: 0")),
        ("unknown.yaml", format!("{GOOD}thresholdz: []\n")),
        ("kind.yaml", with("kind: load", "kind: lod")),
    ];
    for (name, text) in &cases {
        let path = crate::support::write(dir.path(), name, text);
        let out = crate::support::perfgate(&["run", path.to_str().unwrap()], dir.path());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains(&format!("{name}:")), "{name}: {stderr}");
        assert!(
            !stderr.contains("panicked") && !stderr.contains("backtrace"),
            "{stderr}"
        );
        let out = crate::support::perfgate(&["validate", path.to_str().unwrap()], dir.path());
        assert_eq!(out.status.code(), Some(2), "{name}");
    }
    let e = crate::support::perfgate(&["validate", "kind.yaml"], dir.path());
    assert!(String::from_utf8_lossy(&e.stderr).contains("did you mean `load`"));
    let missing = crate::support::perfgate(&["run", "does-not-exist.yaml"], dir.path());
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("does-not-exist.yaml: cannot read"));
}

#[test]
fn ramps_are_read_and_a_ramp_longer_than_its_stage_is_refused() {
    let p = parse_env(&with("duration: 1s }", "duration: 30s, ramp: 10s }"), &[]).unwrap();
    assert_eq!(p.load.stages[0].ramp, std::time::Duration::from_secs(10));
    let e = err(&with("duration: 1s }", "duration: 1s, ramp: 2s }"));
    assert_eq!(e.field, "load.stages[0].ramp");
    assert_eq!(e.line, 10, "{e}");
    assert!(e.message.contains("longer than the stage"), "{e}");
    assert!(e.hint.as_deref().is_some_and(|h| h.contains("ramp: 10s")));
    let e = err(&with("duration: 1s }", "duration: 1s, ramp: soon }"));
    assert_eq!(e.field, "load.stages[0].ramp");
}

#[test]
fn monitor_entries_name_exactly_one_process() {
    let p = parse_env(
        &format!("{GOOD}monitor:\n  - pid: 42\n  - pid_file: run/app.pid\n  - process: app\n"),
        &[],
    )
    .unwrap();
    assert_eq!(
        p.monitor,
        [
            scenario::MonitorTarget::Pid(42),
            scenario::MonitorTarget::PidFile("run/app.pid".into()),
            scenario::MonitorTarget::Process("app".into()),
        ]
    );
    let e = err(&format!(
        "{GOOD}monitor:\n  - {{ pid: 42, process: app }}\n"
    ));
    assert_eq!((e.field.as_str(), e.line), ("monitor[0]", 12), "{e}");
    assert!(e.message.contains("exactly one of"), "{e}");
    let e = err(&format!("{GOOD}monitor:\n  - pid: 0\n"));
    assert_eq!(e.field, "monitor[0].pid");
    // A `sut.*` threshold on an HTTP target that nobody watches is refused where written.
    let e = err(&format!(
        "{GOOD}thresholds:\n  - p99 < 1s\n  - sut.rss < 500MB\n"
    ));
    assert_eq!((e.field.as_str(), e.line), ("thresholds[1]", 13), "{e}");
    assert!(e.message.contains("nothing watches it"), "{e}");
    assert!(e.hint.as_deref().is_some_and(|h| h.contains("monitor:")));
    let e = err(&format!("{GOOD}monitor:\n  - pdi: 3\n"));
    assert!(e.message.contains("pdi") || e.hint.is_some(), "{e}");
}
