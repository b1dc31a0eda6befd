//! Several load generators (issue 11): four processes, each `run --segment i/4` with one
//! `--start-at`, against one demo server, merged and judged by `perfgate merge`, compared
//! with one process running the whole load; what `merge` refuses; a generator that starts
//! too late.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use base64::Engine as _;

use crate::support::{perfgate, read_json, signal, spawn_ready, wait_exit, write, Stream};

/// 400 arrivals/s for 2 s (open model: the schedule, not the server, sets the count), 20 ms
/// per answer so latency is the server's and not the loopback's noise. Judged on the whole
/// load: one segment (100/s) alone would fail `throughput > 350/s`.
fn scenario(url: &str) -> String {
    format!(
        "name: spread
kind: load
target: {{ base_url: '{url}' }}
requests:
  - {{ name: list, path: /items }}
load:
  model: open
  max_in_flight: 256
  stages:
    - {{ rate: 400/s, duration: 2s }}
thresholds:
  - throughput > 350/s
  - error_rate < 1%
"
    )
}

fn generator(scenario: &Path, cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_perfgate"))
        .arg("run")
        .arg(scenario)
        .args(["--quiet", "--no-report", "--threads", "1"])
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn four_generators_merge_into_the_result_of_one_and_merge_is_the_gate() {
    let mut demo = Command::new(env!("CARGO_BIN_EXE_perfgate"));
    demo.args(["demo-server", "--addr", "127.0.0.1:0", "--latency", "20ms"]);
    let (mut server, line) = spawn_ready(&mut demo, Stream::Stdout, "demo server listening on ");
    let url = line["demo server listening on ".len()..].trim().to_string();
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "spread.yaml", &scenario(&url));

    // One generator with the whole load.
    let single = generator(&file, dir.path(), &["--out", "single"]);
    assert_eq!(single.status.code(), Some(0), "{}", stderr(&single));

    // Four, started apart, beginning together at one instant.
    let start = (chrono::Utc::now() + chrono::Duration::seconds(3))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let runs: Vec<_> = (1..=4)
        .map(|i| {
            let (file, cwd, start) = (file.clone(), dir.path().to_path_buf(), start.clone());
            std::thread::spawn(move || {
                let seg = format!("{i}/4");
                let out = format!("segs/seg{i}");
                generator(
                    &file,
                    &cwd,
                    &["--segment", &seg, "--start-at", &start, "--out", &out],
                )
            })
        })
        .collect();
    for (i, r) in runs.into_iter().enumerate() {
        let out = r.join().unwrap();
        // A segment is not judged on its own (100/s would fail the throughput threshold).
        assert_eq!(
            out.status.code(),
            Some(0),
            "segment {}: {}",
            i + 1,
            stderr(&out)
        );
        assert!(
            stderr(&out).contains("perfgate: waiting "),
            "{}",
            stderr(&out)
        );
    }
    signal(&server, "-INT");
    wait_exit(&mut server, Duration::from_secs(10));

    let seg1 = read_json(&dir.path().join("segs/seg1/result.json"));
    assert_eq!(seg1["segment"]["index"], 1);
    assert_eq!(seg1["segment"]["count"], 4);
    assert_eq!(seg1["segment"]["start_at"], start.as_str());
    assert!(!seg1["host"]["name"].as_str().unwrap().is_empty());
    assert_eq!(seg1["stages"][0]["target"], 100.0, "its share of 400/s");

    let segs: Vec<String> = (1..=4)
        .map(|i| format!("segs/seg{i}/result.json"))
        .collect();
    let mut args = vec!["merge"];
    args.extend(segs.iter().map(String::as_str));
    args.extend(["--out", "merged", "--no-report", "--no-baseline"]);
    let merged = perfgate(&args, dir.path());
    assert_eq!(merged.status.code(), Some(0), "{}", stderr(&merged));
    let m = read_json(&dir.path().join("merged/result.json"));
    let s = read_json(&dir.path().join("single/result.json"));

    // The same load: totals within 1 %, the stage's level the scenario's.
    let total = |v: &serde_json::Value| v["totals"]["requests"].as_f64().unwrap();
    assert!(
        (total(&m) - total(&s)).abs() <= 0.01 * total(&s),
        "merged {} vs single {}",
        total(&m),
        total(&s)
    );
    assert_eq!(m["stages"][0]["target"], 400.0);
    assert_eq!(m["run_id"], seg1["run_id"], "the segments' shared run id");
    assert_eq!(m["generators"].as_array().unwrap().len(), 4);
    assert_eq!(m["generators"][3]["segment"], "4/4");

    // Second by second: no doubled or missing second.
    let seconds = |v: &serde_json::Value| -> Vec<(f64, f64)> {
        v["timeseries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| (w["t_s"].as_f64().unwrap(), w["requests"].as_f64().unwrap()))
            .collect()
    };
    let (ms, ss) = (seconds(&m), seconds(&s));
    assert!(
        ms.iter().enumerate().all(|(i, (t, _))| *t == i as f64),
        "{ms:?}"
    );
    assert!(ms.len().abs_diff(ss.len()) <= 1, "{ms:?} vs {ss:?}");
    // (Requests count in the second they complete, so a generator that lags on a busy
    // machine moves a few into the next second: a doubled second would be twice the single
    // run's, a missing one nothing.)
    for i in 0..2 {
        let (merged, single) = (ms[i].1, ss[i].1);
        assert!(
            merged > 0.6 * single && merged < 1.4 * single,
            "second {i}: merged {merged}, single {single} ({ms:?} vs {ss:?})"
        );
    }

    // The latency of an unsaturated server is the same whoever measures it.
    let lat = |v: &serde_json::Value, q: &str| v["totals"]["latency_ms"][q].as_f64().unwrap();
    // Exactly the percentiles of all four generators' latencies together: the histograms add.
    let mut all: Option<hdrhistogram::Histogram<u64>> = None;
    for seg in &segs {
        let h = read_json(&dir.path().join(seg))["histograms"]["_total"].clone();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(h.as_str().unwrap())
            .unwrap();
        let mut h: hdrhistogram::Histogram<u64> = hdrhistogram::serialization::Deserializer::new()
            .deserialize(&mut bytes.as_slice())
            .unwrap();
        h.auto(true);
        match &mut all {
            None => all = Some(h),
            Some(a) => a.add(&h).unwrap(),
        }
    }
    let all = all.unwrap();
    for (q, key) in [(0.5, "p50"), (0.99, "p99")] {
        assert_eq!(lat(&m, key), all.value_at_quantile(q) as f64 / 1e3, "{key}");
    }
    assert_eq!(all.len(), m["totals"]["ok"].as_u64().unwrap());

    // And close to one generator's measurement of the same load: the medians within 15 %.
    // (The p99 of two runs on a shared machine differs by whatever else ran then; it is
    // printed, not compared.)
    let lats = format!(
        "merged p50 {} p99 {}, single p50 {} p99 {}",
        lat(&m, "p50"),
        lat(&m, "p99"),
        lat(&s, "p50"),
        lat(&s, "p99")
    );
    eprintln!("{lats}");
    assert!(
        (lat(&m, "p50") - lat(&s, "p50")).abs() <= 0.15 * lat(&s, "p50"),
        "{lats}"
    );

    // A folder stands for the results in its subfolders (a shared volume, no shell).
    let by_folder = perfgate(
        &[
            "merge",
            "segs",
            "--out",
            "by-folder",
            "--no-report",
            "--no-baseline",
        ],
        dir.path(),
    );
    assert_eq!(by_folder.status.code(), Some(0), "{}", stderr(&by_folder));
    let f = read_json(&dir.path().join("by-folder/result.json"));
    assert_eq!(f["totals"], m["totals"]);

    // Judged like a run: three generators of four are 300/s, under the threshold: exit 1.
    let partial = perfgate(
        &[
            "merge",
            &segs[0],
            &segs[1],
            &segs[2],
            "--partial",
            "--out",
            "partial",
            "--no-report",
            "--no-baseline",
        ],
        dir.path(),
    );
    assert_eq!(partial.status.code(), Some(1), "{}", stderr(&partial));
    let p = read_json(&dir.path().join("partial/result.json"));
    assert!(
        p["reasons"][0].as_str().unwrap().contains("throughput"),
        "{p:?}"
    );
    assert!(
        p["warnings"].to_string().contains("segment 4 of 4 missing"),
        "{}",
        p["warnings"]
    );

    refusals(dir.path(), &segs);
}

/// `merge` refuses a file twice, a segment twice, a missing segment, segments of another
/// run and results of another scenario (exit 2, saying which).
fn refusals(dir: &Path, segs: &[String]) {
    let refused = |args: &[&str], says: &str| {
        let mut all = vec!["merge"];
        all.extend(args);
        all.extend(["--out", "refused", "--no-report"]);
        let out = perfgate(&all, dir);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
    };
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    refused(&[s[0], s[1], s[2], s[3], s[0]], "are the same file");
    let copy = dir.join("copy.json");
    std::fs::copy(dir.join(s[1]), &copy).unwrap();
    refused(
        &[s[0], s[1], s[2], s[3], "copy.json"],
        "segment 2/4 is given twice",
    );
    refused(&[s[0], s[1], s[3]], "segment 3 of 4 missing");
    let edited = |name: &str, key: &str, sub: Option<&str>, value: &str| {
        let mut v = read_json(&dir.join(s[2]));
        match sub {
            Some(sub) => v[key][sub] = value.into(),
            None => v[key] = value.into(),
        }
        std::fs::write(dir.join(name), v.to_string()).unwrap();
    };
    edited("other-run.json", "run_id", None, "another-run");
    refused(&[s[0], s[1], "other-run.json", s[3]], "different runs");
    edited("other-hash.json", "scenario", Some("hash"), "0000");
    refused(
        &[s[0], s[1], "other-hash.json", s[3]],
        "different scenarios",
    );
}

#[test]
fn a_generator_that_reaches_the_start_too_late_does_not_run() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "late.yaml",
        "name: late\nkind: smoke\ntarget: { base_url: embedded }\nrequests:\n  - { name: list, path: /items }\nload:\n  stages:\n    - { concurrency: 1, duration: 200ms }\n",
    );
    let past = (chrono::Utc::now() - chrono::Duration::seconds(5))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let out = generator(
        &file,
        dir.path(),
        &["--segment", "1/2", "--start-at", &past],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(" s after --start-at "),
        "{}",
        stderr(&out)
    );
    assert!(!dir.path().join("reports/late/result.json").exists());

    // Bad input is exit 2, with the flag named.
    let out = generator(&file, dir.path(), &["--segment", "3/2"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--segment: segment 3/2 does not exist"),
        "{}",
        stderr(&out)
    );
    let out = generator(&file, dir.path(), &["--start-at", "soon"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--start-at:"), "{}", stderr(&out));
}

/// `scripts/distributed-local.sh`: the same choreography from a shell, its exit code the
/// merge's.
#[test]
fn the_local_script_runs_n_generators_and_merges_them() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "two.yaml",
        "name: two\nkind: load\ntarget: { base_url: embedded }\nrequests:\n  - { name: list, path: /items }\nload:\n  stages:\n    - { concurrency: 2, duration: 500ms }\nthresholds:\n  - error_rate < 1%\n",
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/distributed-local.sh");
    let out = Command::new("bash")
        .arg(script)
        .args(["2", file.to_str().unwrap(), "--threads", "1"])
        .env("PERFGATE", env!("CARGO_BIN_EXE_perfgate"))
        .env("OUT", "dist")
        .env("START_IN", "2")
        .env("MERGE_FLAGS", "--no-baseline --no-report")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let m = read_json(&dir.path().join("dist/merged/result.json"));
    assert_eq!(m["generators"].as_array().unwrap().len(), 2);
    assert_eq!(m["stages"][0]["target"], 2.0, "1 + 1 virtual users");
    assert_eq!(m["thresholds"][0]["pass"], true);
}

/// A generator waiting for `--start-at` says so (its readiness line) and can be stopped while
/// it waits: exit 3, an aborted result, no load sent.
#[test]
fn a_generator_waiting_for_the_start_says_so_and_stops_on_a_signal() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "wait.yaml",
        "name: wait\nkind: smoke\ntarget: { base_url: embedded }\nrequests:\n  - { name: list, path: /items }\nload:\n  stages:\n    - { concurrency: 1, duration: 200ms }\n",
    );
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_perfgate"));
    cmd.args(["run", file.to_str().unwrap(), "--quiet", "--no-report"])
        .args([
            "--segment",
            "1/1",
            "--start-at",
            "+60s",
            "--run-id",
            "waiting-1",
        ])
        .current_dir(dir.path());
    let (mut child, line) = spawn_ready(&mut cmd, Stream::Stderr, "perfgate: waiting ");
    assert!(line.contains(" s for --start-at "), "{line}");
    signal(&child, "-TERM");
    assert_eq!(wait_exit(&mut child, Duration::from_secs(10)).0, Some(3));
    let r = read_json(&dir.path().join("reports/wait/result.json"));
    assert_eq!(r["verdict"], "aborted");
    assert_eq!(r["run_id"], "waiting-1");
    assert_eq!(r["totals"]["requests"], 0);
}
