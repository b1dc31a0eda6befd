//! The threshold forms of issue 9 through the scenario parser: stage scopes and budgets are
//! read into the plan, and every mistake in them is located (file:line:column, the field) with
//! a hint, exit 2 from the CLI.

use std::path::Path;

use perfgate::scenario::{self, ScenarioError};

use crate::support::{perfgate, write};

const HEAD: &str = "name: t
kind: load
requests:
  - { name: list, call: builtin.noop }
load:
  stages:
    - { concurrency: 1, duration: 1s }
    - { concurrency: 2, duration: 1s, name: peak }
thresholds:
";

fn parse(thresholds: &str) -> Result<scenario::Plan, ScenarioError> {
    parse_env(thresholds, &[])
}

fn parse_env(thresholds: &str, env: &[(&str, &str)]) -> Result<scenario::Plan, ScenarioError> {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    scenario::parse(
        &format!("{HEAD}{thresholds}"),
        Path::new("s.yaml"),
        &["builtin.noop"],
        move |k| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()),
    )
}

#[test]
fn stage_scopes_and_budgets_reach_the_plan() {
    let p = parse(
        "  - stage[0].p99 < 300ms\n  - stage:peak.p95: { warn: 200ms, fail: 250ms, kpi: true }\n  - error_rate: { fail: 50%, abort: true, after: 2s }\n",
    )
    .unwrap();
    assert_eq!(p.stage_names, [None, Some("peak".to_string())]);
    let [a, b, c] = &p.thresholds[..] else {
        panic!("{:?}", p.thresholds)
    };
    assert_eq!((a.stage, a.limit), (Some(0), 300.0));
    assert_eq!(
        (b.stage, b.limit, b.levels.warn),
        (Some(1), 250.0, Some(200.0))
    );
    assert!(b.levels.kpi);
    assert_eq!(b.expr, "stage:peak.p95 < 250ms");
    assert_eq!(c.abort.map(|d| d.as_secs()), Some(2));
}

#[test]
fn a_stage_that_does_not_exist_is_located_with_a_hint() {
    let e = parse("  - p99 < 1s\n  - stage[2].p99 < 300ms\n").unwrap_err();
    assert_eq!((e.line, e.field.as_str()), (11, "thresholds[1]"), "{e}");
    assert!(e.column > 0);
    assert!(e.message.contains("no stage[2]"), "{e}");
    assert!(e.hint.unwrap().contains("stage[1] (`stage:peak`)"));
    let e = parse("  - stage:top.error_rate < 1%\n").unwrap_err();
    assert_eq!((e.line, e.field.as_str()), (10, "thresholds[0]"), "{e}");
    assert!(e.message.contains("no stage is named `top`"), "{e}");
}

#[test]
fn a_bad_budget_names_its_field() {
    let e = parse("  - p95: { warn: 300ms, fail: 250ms }\n").unwrap_err();
    assert_eq!(e.field, "thresholds[0].p95.warn", "{e}");
    assert_eq!(e.line, 10, "{e}");
    let e = parse("  - p95: { fail: 250ms, abrot: true }\n").unwrap_err();
    assert_eq!(e.field, "thresholds[0].p95.abrot", "{e}");
    assert!(e.hint.unwrap().contains("did you mean `abort`?"));
    let e = parse("  - p95: { fail: 1s }\n    p99: { fail: 1s }\n").unwrap_err();
    assert!(e.message.contains("one key"), "{e}");
    let e = parse("  - p95: 250ms\n").unwrap_err();
    assert_eq!(e.line, 10, "{e}");
    // Names and limits may not come from the environment, in a budget either.
    let e = parse_env("  - p95: { fail: ${LIMIT} }\n", &[("LIMIT", "300ms")]).unwrap_err();
    assert!(e.message.contains("cannot use `${"), "{e}");
    assert_eq!(e.line, 10, "{e}");
}

#[test]
fn the_cli_refuses_a_missing_stage_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "s.yaml",
        &format!("{HEAD}  - stage:spike.p99 < 300ms\n"),
    );
    let out = perfgate(&["validate", path.to_str().unwrap()], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("s.yaml:10:"), "{err}");
    assert!(err.contains("no stage is named `spike`"), "{err}");
}
