//! The gate from the command line: refresh, compare, run with a baseline, JUnit and Markdown,
//! and every bad input leaving the baseline untouched.

use std::path::Path;

use crate::support::{perfgate, read_json as json, write};

fn scenario(latency: &str, secs: u32) -> String {
    format!(
        "name: gated
kind: load
target:
  base_url: embedded
  embedded: {{ latency: {latency} }}
requests:
  - {{ name: list, path: /items }}
load:
  stages:
    - {{ concurrency: 2, duration: {secs}s }}
thresholds:
  - error_rate < 1%
"
    )
}

/// The one baseline file `baseline refresh` wrote for scenario `gated`, on this machine's
/// testbed: `baselines/gated/<testbed>.json`.
fn the_baseline(dir: &Path) -> std::path::PathBuf {
    let files: Vec<_> = std::fs::read_dir(dir.join("baselines/gated"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files[0].clone()
}

fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = perfgate(args, dir);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn refresh_then_a_slower_service_is_caught_and_confirmed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Eight 1-second windows a side: a Holm-adjusted p-value below 0.05 even if one window
    // of either run stalls (the test suite runs many servers at once).
    write(d, "s.yaml", &scenario("4ms", 8));
    let (code, out, err) = run(
        d,
        &["baseline", "refresh", "s.yaml", "--quiet", "--runs", "1"],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("baseline written: baselines/gated/"), "{out}");
    let b = json(&the_baseline(d));
    assert_eq!(b["schema"], "perfgate/baseline/v1");
    assert!(b["result"]["histograms"]["_total"]
        .as_str()
        .is_some_and(|h| !h.is_empty()));

    // The same service, five times slower: a regression, confirmed by the rerun.
    write(d, "s.yaml", &scenario("20ms", 8));
    let summary = d.join("step-summary.md");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_perfgate"))
        .args(["run", "s.yaml", "--quiet", "--confirm", "--no-report"])
        .current_dir(d)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stderr.contains("rerunning once to confirm"), "{stderr}");
    assert!(stdout.contains("regressed"), "{stdout}");
    let r = json(&d.join("reports/gated/result.json"));
    let c = &r["comparison"];
    assert_eq!(c["verdict"], "fail");
    assert_eq!(
        c["scenario_changed"], true,
        "the scenario file changed since the baseline"
    );
    assert!(c["notes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n.as_str().unwrap().contains("confirmed by a rerun")));
    let p50 = c["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["request"] == "_total" && m["metric"] == "p50")
        .unwrap();
    assert_eq!(p50["verdict"], "regressed");
    assert!(p50["change"].as_f64().unwrap() > 50.0);
    assert!(p50["p_value"].as_f64().unwrap() < 0.05);
    // CI files: JUnit with the failure and its numbers, Markdown, the step summary.
    let junit = std::fs::read_to_string(d.join("reports/gated/junit.xml")).unwrap();
    assert!(
        junit.contains("<failure") && junit.contains("_total.p50"),
        "{junit}"
    );
    let md = std::fs::read_to_string(d.join("reports/gated/summary.md")).unwrap();
    assert!(md.contains("regressed"), "{md}");
    assert_eq!(
        std::fs::read_to_string(&summary).unwrap(),
        format!("{md}\n"),
        "appended once, newline-separated"
    );
    // --no-report: no HTML or PNG.
    assert!(!d.join("reports/gated/report.html").exists());

    // `compare` reaches the same verdict from the saved files, without running.
    let (code, out, _) = run(d, &["compare", "reports/gated/result.json"]);
    assert_eq!(code, 1, "{out}");
    // A tolerance on the command line above every observed change lets the change through.
    let widest = c["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["change"].as_f64().unwrap().abs())
        .fold(0.0, f64::max);
    let loose: Vec<String> = ["p50", "p90", "p95", "p99", "mean", "throughput"]
        .iter()
        .flat_map(|m| {
            [
                "--tolerance".to_string(),
                format!("{m}={:.0}%", widest.ceil() + 1.0),
            ]
        })
        .collect();
    let mut args = vec!["compare", "reports/gated/result.json"];
    args.extend(loose.iter().map(String::as_str));
    let (code, out, err) = run(d, &args);
    assert_eq!(code, 0, "{out}{err}");

    // `report` regenerates the HTML and PNG from the saved result.
    let (code, out, err) = run(
        d,
        &[
            "report",
            "reports/gated/result.json",
            "--baseline",
            the_baseline(d).to_str().unwrap(),
            "--out",
            "again",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    for f in [
        "report.html",
        "latency.png",
        "throughput.png",
        "distribution.png",
        "stages.png",
        "machine.png",
        "sut.png",
    ] {
        assert!(d.join("again").join(f).exists(), "{f}");
    }
}

#[test]
fn refresh_refuses_a_failing_run_and_keeps_the_old_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "s.yaml", &scenario("1ms", 1));
    // By default a baseline records three runs, each with its own summary.
    assert_eq!(run(d, &["baseline", "refresh", "s.yaml", "--quiet"]).0, 0);
    let runs = json(&the_baseline(d))["runs"].as_array().unwrap().len();
    assert_eq!(runs, 3);
    let before = std::fs::read(the_baseline(d)).unwrap();
    write(
        d,
        "s.yaml",
        &scenario("1ms", 1).replace("error_rate < 1%", "p50 < 1us"),
    );
    let (code, _, err) = run(
        d,
        &["baseline", "refresh", "s.yaml", "--quiet", "--runs", "1"],
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("not changed"), "{err}");
    assert_eq!(std::fs::read(the_baseline(d)).unwrap(), before);
    let (code, out, err) = run(
        d,
        &[
            "baseline", "refresh", "s.yaml", "--quiet", "--force", "--runs", "1",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert_ne!(std::fs::read(the_baseline(d)).unwrap(), before);
    // No temporary files are left beside it.
    let names: Vec<_> = std::fs::read_dir(d.join("baselines"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
}

#[test]
fn bad_baselines_and_results_exit_2_and_touch_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "s.yaml", &scenario("1ms", 1));
    assert_eq!(
        run(
            d,
            &["run", "s.yaml", "--quiet", "--no-report", "--no-baseline"]
        )
        .0,
        0
    );
    let result = "reports/gated/result.json";

    // An explicit baseline that does not exist.
    let (code, _, err) = run(d, &["compare", result, "--baseline", "nope.json"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("nope.json"), "{err}");
    let (code, _, err) = run(d, &["run", "s.yaml", "--quiet", "--baseline", "nope.json"]);
    assert_eq!(code, 2, "{err}");

    // Corrupt, truncated, wrong schema, another scenario's: exit 2, file untouched.
    std::fs::create_dir_all(d.join("baselines")).unwrap();
    let cases = [
        ("corrupt.json", "{ this is not json".to_string()),
        (
            "truncated.json",
            "{\"schema\": \"perfgate/baseline/v1\", \"provenance\": {".to_string(),
        ),
        (
            "future.json",
            "{\"schema\": \"perfgate/baseline/v9\"}".to_string(),
        ),
    ];
    for (name, text) in &cases {
        let p = write(&d.join("baselines"), name, text);
        let arg = format!("baselines/{name}");
        let (code, _, err) = run(d, &["compare", result, "--baseline", &arg]);
        assert_eq!(code, 2, "{name}: {err}");
        assert!(err.contains(name), "{name}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        let (code, _, _) = run(
            d,
            &[
                "run",
                "s.yaml",
                "--quiet",
                "--no-report",
                "--baseline",
                &arg,
            ],
        );
        assert_eq!(code, 2, "{name}");
        assert_eq!(
            &std::fs::read_to_string(&p).unwrap(),
            text,
            "{name} was modified"
        );
    }
    assert_eq!(
        run(
            d,
            &[
                "baseline",
                "refresh",
                "s.yaml",
                "--quiet",
                "--baseline",
                "baselines/other.json"
            ]
        )
        .0,
        0
    );
    let other = std::fs::read_to_string(d.join("baselines/other.json"))
        .unwrap()
        .replace(
            "\"scenario_name\": \"gated\"",
            "\"scenario_name\": \"someone-else\"",
        );
    write(&d.join("baselines"), "other.json", &other);
    let (code, _, err) = run(
        d,
        &["compare", result, "--baseline", "baselines/other.json"],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("someone-else"), "{err}");

    // A result of an aborted run, a file that is not a result, a bad tolerance.
    let aborted = std::fs::read_to_string(d.join(result))
        .unwrap()
        .replace("\"verdict\": \"pass\"", "\"verdict\": \"aborted\"");
    write(d, "aborted.json", &aborted);
    let (code, _, err) = run(
        d,
        &[
            "compare",
            "aborted.json",
            "--baseline",
            "baselines/gated.json",
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("aborted"), "{err}");
    let (code, _, err) = run(
        d,
        &["baseline", "refresh", "s.yaml", "--from", "aborted.json"],
    );
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = run(d, &["compare", "baselines/corrupt.json"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = run(d, &["compare", result, "--tolerance", "p77=5%"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("p77"), "{err}");
    let (code, _, err) = run(d, &["compare", result, "--tolerance", "p99=lots"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn strict_env_turns_a_different_machine_into_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "s.yaml", &scenario("1ms", 1));
    assert_eq!(
        run(
            d,
            &["baseline", "refresh", "s.yaml", "--quiet", "--runs", "1"]
        )
        .0,
        0
    );
    assert_eq!(
        run(
            d,
            &["run", "s.yaml", "--quiet", "--no-report", "--no-baseline"]
        )
        .0,
        0
    );
    // The baseline as if taken on another machine of the same testbed.
    let b = std::fs::read_to_string(the_baseline(d)).unwrap();
    let v: serde_json::Value = serde_json::from_str(&b).unwrap();
    let model = v["provenance"]["host"]["cpu_model"]
        .as_str()
        .unwrap()
        .to_string();
    let other = b.replace(
        &format!("\"cpu_model\": \"{model}\""),
        "\"cpu_model\": \"Some Other CPU 9000\"",
    );
    write(d, "other-host.json", &other);
    let (code, out, err) = run(
        d,
        &[
            "compare",
            "reports/gated/result.json",
            "--baseline",
            "other-host.json",
        ],
    );
    assert_ne!(code, 2, "{out}{err}");
    assert!(
        out.contains("Some Other CPU 9000"),
        "the mismatch is shown beside the verdict: {out}"
    );
    let (code, _, err) = run(
        d,
        &[
            "compare",
            "reports/gated/result.json",
            "--baseline",
            "other-host.json",
            "--strict-env",
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--strict-env"), "{err}");

    // A baseline of another testbed: shown, informational, never failing; --strict-env
    // makes it an error.
    let testbed = v["provenance"]["testbed"].as_str().unwrap().to_string();
    let other_bed = b.replace(
        &format!("\"testbed\": \"{testbed}\""),
        "\"testbed\": \"other-bed\"",
    );
    assert_ne!(other_bed, b);
    write(d, "other-bed.json", &other_bed);
    let compare = [
        "compare",
        "reports/gated/result.json",
        "--baseline",
        "other-bed.json",
    ];
    let (code, out, err) = run(d, &compare);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!(
            "no baseline for testbed {testbed}: comparing with other-bed, informational"
        )),
        "{out}"
    );
    let (code, _, err) = run(d, &[&compare[..], &["--strict-env"]].concat());
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no baseline for testbed"), "{err}");
    // Named as the baseline's testbed, the comparison gates again.
    let (code, out, err) = run(d, &[&compare[..], &["--testbed", "other-bed"]].concat());
    assert_eq!(code, 0, "{out}{err}");
    assert!(!out.contains("informational"), "{out}");
    let (code, _, err) = run(d, &[&compare[..], &["--testbed", "Bad Name"]].concat());
    assert_eq!(code, 2, "{err}");
}

#[test]
fn repeat_runs_the_measurement_n_times_and_keeps_the_medians() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "s.yaml", &scenario("1ms", 1));
    let (code, out, err) = run(
        d,
        &[
            "run",
            "s.yaml",
            "--quiet",
            "--no-report",
            "--no-baseline",
            "--repeat",
            "3",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    let r = json(&d.join("reports/gated/result.json"));
    let runs = r["repeat"]["totals"].as_array().unwrap();
    assert_eq!(r["repeat"]["runs"], 3);
    assert_eq!(runs.len(), 3);
    let mut p50: Vec<f64> = runs
        .iter()
        .map(|t| t["latency_ms"]["p50"].as_f64().unwrap())
        .collect();
    p50.sort_by(f64::total_cmp);
    assert_eq!(
        r["totals"]["latency_ms"]["p50"].as_f64().unwrap(),
        p50[1],
        "the median run's p50"
    );
}

#[test]
fn an_old_single_file_baseline_is_still_found_and_the_testbed_file_wins() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "s.yaml", &scenario("1ms", 1));
    let refresh = ["baseline", "refresh", "s.yaml", "--quiet", "--runs", "1"];
    // Written where versions before testbeds wrote it.
    let (code, out, err) = run(
        d,
        &[&refresh[..], &["--baseline", "baselines/gated.json"]].concat(),
    );
    assert_eq!(code, 0, "{out}{err}");
    let judged = ["run", "s.yaml", "--quiet", "--no-report"];
    let (code, out, err) = run(d, &judged);
    assert_eq!(code, 0, "{out}{err}");
    let c = json(&d.join("reports/gated/result.json"))["comparison"].clone();
    assert_eq!(c["baseline_file"], "baselines/gated.json");
    assert_eq!(c["informational"], false, "same machine, same testbed");
    // Once this testbed has its own file, that one is used.
    assert_eq!(run(d, &refresh).0, 0);
    assert_eq!(run(d, &judged).0, 0);
    let c = json(&d.join("reports/gated/result.json"))["comparison"].clone();
    let file = c["baseline_file"].as_str().unwrap();
    assert!(file.starts_with("baselines/gated/"), "{file}");
    assert_eq!(c["baseline_testbed"], c["testbed"]);
}
