//! Baseline files: atomic save, load errors by kind (with the path in the message), the
//! refresh guard and the description of a refresh.

use std::fs;
use std::path::Path;

use perfgate::gate::{
    check_refreshable, describe_change, load, save_atomic, Baseline, BaselineError, BASELINE_SCHEMA,
};
use perfgate::result::{ThresholdResult, Verdict};

use crate::support::shapes::{baseline_of, make_result, Shape};

fn sample() -> Baseline {
    baseline_of(&make_result(&Shape::default().requests(&["api", "login"])))
}

fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn save_then_load_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("baselines/nested/checkout.json");
    let b = sample();
    save_atomic(&path, &b).unwrap();
    let loaded = load(&path).unwrap();
    assert_eq!(loaded.path.as_deref(), Some(path.as_path()));
    assert_eq!(loaded.schema, BASELINE_SCHEMA);
    assert_eq!(loaded.provenance, b.provenance);
    // serde_json parses floats to within one ulp (no `float_roundtrip` feature), so compare
    // what matters exactly and the floats closely.
    let (l, o) = (&loaded.result, &b.result);
    assert!(l.histograms == o.histograms && l.requests.len() == o.requests.len());
    assert_eq!(l.totals.requests, o.totals.requests);
    assert!((l.totals.latency_ms.p95 - o.totals.latency_ms.p95).abs() < 1e-9);
    assert_eq!(
        l.request_series["_total"].len(),
        o.request_series["_total"].len()
    );
    assert_eq!(entries(path.parent().unwrap()), vec!["checkout.json"]);
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains("\"perfgate/baseline/v1\"") && text.contains("\"histograms\""));
}

#[test]
fn saving_over_an_existing_baseline_replaces_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.json");
    save_atomic(&path, &sample()).unwrap();
    let mut newer = sample();
    newer.provenance.created_at = "2026-02-02T00:00:00Z".into();
    save_atomic(&path, &newer).unwrap();
    assert_eq!(
        load(&path).unwrap().provenance.created_at,
        "2026-02-02T00:00:00Z"
    );
    assert_eq!(entries(dir.path()), vec!["b.json"]);
}

#[test]
fn failed_save_leaves_existing_file_untouched_and_no_temp() {
    let dir = tempfile::tempdir().unwrap();
    // The target is a non-empty directory, so the final rename fails (for root too).
    let path = dir.path().join("b.json");
    fs::create_dir(&path).unwrap();
    fs::write(path.join("keep"), "x").unwrap();
    let err = save_atomic(&path, &sample()).unwrap_err();
    assert!(matches!(err, BaselineError::Write { .. }), "{err:?}");
    assert!(err.to_string().contains(&path.display().to_string()));
    assert_eq!(entries(dir.path()), vec!["b.json"]);
    assert_eq!(fs::read_to_string(path.join("keep")).unwrap(), "x");
}

#[cfg(unix)]
#[test]
fn failed_save_in_read_only_directory_keeps_old_baseline() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let ro = dir.path().join("ro");
    fs::create_dir(&ro).unwrap();
    let path = ro.join("b.json");
    save_atomic(&path, &sample()).unwrap();
    let before = fs::read(&path).unwrap();
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o555)).unwrap();
    // Root ignores directory permissions: then there is nothing to test here.
    let probe = ro.join("probe");
    if fs::write(&probe, "").is_ok() {
        let _ = fs::remove_file(&probe);
        fs::set_permissions(&ro, fs::Permissions::from_mode(0o755)).unwrap();
        return;
    }
    let mut newer = sample();
    newer.provenance.created_at = "2027-01-01T00:00:00Z".into();
    let err = save_atomic(&path, &newer).unwrap_err();
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o755)).unwrap();
    assert!(matches!(err, BaselineError::Write { .. }));
    assert_eq!(fs::read(&path).unwrap(), before);
    assert_eq!(entries(&ro), vec!["b.json"]);
}

fn load_err(path: &Path) -> BaselineError {
    let err = load(path).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains(&path.display().to_string()),
        "no path in: {msg}"
    );
    assert_eq!(err.path(), path);
    err
}

#[test]
fn missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let err = load_err(&dir.path().join("nope.json"));
    assert!(matches!(err, BaselineError::Missing { .. }));
    assert!(err.to_string().contains("baseline refresh"));
}

#[test]
fn unreadable_path() {
    let dir = tempfile::tempdir().unwrap();
    let err = load_err(dir.path());
    assert!(matches!(err, BaselineError::Unreadable { .. }), "{err:?}");
}

#[test]
fn truncated_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.json");
    save_atomic(&path, &sample()).unwrap();
    let text = fs::read_to_string(&path).unwrap();
    fs::write(&path, &text[..text.len() / 2]).unwrap();
    let err = load_err(&path);
    assert!(matches!(err, BaselineError::Truncated { .. }), "{err:?}");
    assert!(err.to_string().contains("truncated"));

    fs::write(&path, "").unwrap();
    assert!(matches!(load_err(&path), BaselineError::Truncated { .. }));
}

#[test]
fn corrupt_json() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.json");
    fs::write(&path, "{\"schema\": \"perfgate/baseline/v1\",\n  oops }").unwrap();
    let err = load_err(&path);
    let BaselineError::Corrupt { line, .. } = err else {
        panic!("{err:?}")
    };
    assert_eq!(line, 2);

    // Valid JSON, right schema, wrong shape.
    fs::write(
        &path,
        "{\"schema\": \"perfgate/baseline/v1\", \"result\": 5}",
    )
    .unwrap();
    let err = load_err(&path);
    assert!(matches!(err, BaselineError::Corrupt { .. }), "{err:?}");
}

#[test]
fn wrong_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.json");
    let result = make_result(&Shape::default());
    fs::write(&path, serde_json::to_string(&result).unwrap()).unwrap();
    let err = load_err(&path);
    assert!(matches!(err, BaselineError::WrongSchema { .. }), "{err:?}");
    assert!(err.to_string().contains("result.json, not a baseline"));

    fs::write(&path, "{\"schema\": \"perfgate/baseline/v2\"}").unwrap();
    let err = load_err(&path);
    assert!(err.to_string().contains("`perfgate/baseline/v2`"), "{err}");

    fs::write(&path, "[1, 2]").unwrap();
    assert!(matches!(load_err(&path), BaselineError::WrongSchema { .. }));
}

#[test]
fn refresh_refuses_aborted_and_failed_runs_unless_forced() {
    let good = make_result(&Shape::default());
    assert!(check_refreshable(&good, false).is_ok());

    let mut aborted = good.clone();
    aborted.verdict = Verdict::Aborted;
    let err = check_refreshable(&aborted, false).unwrap_err();
    assert!(err.to_string().contains("aborted") && err.to_string().contains("--force"));
    assert!(check_refreshable(&aborted, true).is_ok());

    let mut failed = good.clone();
    failed.thresholds.push(ThresholdResult {
        expr: "p95 < 1ms".into(),
        observed: 170.0,
        limit: 1.0,
        pass: false,
        unit: "ms".into(),
        metric: "p95".into(),
        scope: None,
        op: "<".into(),
        no_data: false,
        ..Default::default()
    });
    let err = check_refreshable(&failed, false).unwrap_err();
    assert!(err.to_string().contains("p95 < 1ms"), "{err}");
    assert!(check_refreshable(&failed, true).is_ok());

    let empty = make_result(&Shape::default().rps(0.0));
    assert!(check_refreshable(&empty, false).is_err());
}

#[test]
fn describe_change_lists_old_to_new() {
    let new = sample();
    let first = describe_change(None, &new);
    assert!(
        first[0].contains("testbed test-3-0ghz") || first[0].starts_with("testbed "),
        "{first:?}"
    );
    assert!(first[1].contains("new baseline"));
    assert!(first.iter().any(|l| l.starts_with("_total: p50")));
    assert!(first.iter().any(|l| l.starts_with("login: p50")));

    let old = baseline_of(&make_result(
        &Shape::default()
            .requests(&["api", "gone"])
            .latency(80.0)
            .errors(0.01),
    ));
    let lines = describe_change(Some(&old), &new);
    let text = lines.join("\n");
    assert!(
        text.contains("gone: removed") && text.contains("login: added"),
        "{text}"
    );
    let p95 = lines.iter().find(|l| l.starts_with("_total p95:")).unwrap();
    assert!(p95.contains(" ms → ") && p95.contains("%"), "{p95}");
    assert!(text.contains("_total throughput:"), "{text}");
    let err = lines
        .iter()
        .find(|l| l.starts_with("api error rate:"))
        .unwrap();
    assert!(err.contains("pp)"), "{err}");
}

#[test]
fn from_result_captures_provenance() {
    let r = make_result(&Shape::default());
    let b = Baseline::from_result(&r);
    assert_eq!(b.schema, BASELINE_SCHEMA);
    assert_eq!(b.provenance.scenario_hash, "hash-1");
    assert_eq!(b.provenance.host.cpu_model, "Test CPU @ 3.0GHz");
    assert!(chrono::DateTime::parse_from_rfc3339(&b.provenance.created_at).is_ok());
    assert!(b.result.comparison.is_none());
}
