//! `monitor:` end to end (issue 9): a real server process is watched while it is under load;
//! its memory and CPU land in the windows and stages and are judged by `sut.*` thresholds;
//! in-process targets watch perfgate itself; a process that is not there is a warning and a
//! failed `sut.*` threshold, never a crash or silent zeros.

use std::time::Duration;

use perfgate::client::Registry;
use perfgate::result::Verdict;

use crate::support::{run_yaml, spawn_ready, wait_exit, Stream};

const MB: u64 = 1 << 20;

#[test]
fn a_watched_server_s_memory_and_cpu_are_in_the_windows_stages_and_thresholds() {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_perfgate"));
    cmd.args(["demo-server", "--addr", "127.0.0.1:0"]);
    let (mut child, line) = spawn_ready(&mut cmd, Stream::Stdout, "demo server listening on ");
    let url = line["demo server listening on ".len()..].trim().to_string();
    let pid = child.id();
    let r = run_yaml(
        &format!(
            "name: watched\nkind: load\ntarget: {{ base_url: '{url}' }}\n\
             requests:\n  - {{ name: list, path: /items }}\n\
             load:\n  stages:\n    - {{ concurrency: 2, duration: 1500ms }}\n\
             monitor:\n  - pid: {pid}\n\
             thresholds:\n  - sut.rss < 1GB\n  - sut.cpu <= 100%\n  - sut.rss_growth < 100%\n  - sut.rss < 1KB\n"
        ),
        &Registry::with_builtins(),
    );
    let _ = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status();
    let _ = wait_exit(&mut child, Duration::from_secs(10));
    assert!(r.totals.requests > 0);
    // One whole second measured: one sample, of a real process (a few MB at least).
    let rss = r.timeseries[0].sut_rss_bytes.expect("window 0 sampled");
    assert!((MB..1024 * MB).contains(&rss), "{rss}");
    assert!(r.timeseries[0].sut_cpu_pct.is_some());
    assert_eq!(r.stages[0].sut_rss_bytes.map(|b| b >= rss), Some(true));
    assert!(r.stages[0].sut_cpu_pct.is_some());
    let passed: Vec<bool> = r.thresholds.iter().map(|t| t.pass).collect();
    assert_eq!(passed, [true, true, true, false], "{:?}", r.thresholds);
    assert_eq!(r.thresholds[0].unit, "bytes");
    assert_eq!(r.verdict, Verdict::Fail);
    assert!(
        r.reasons
            .iter()
            .any(|l| l.contains("sut.rss") && l.contains("MB")),
        "{:?}",
        r.reasons
    );
    assert!(
        r.warnings.iter().all(|w| !w.contains("monitor")),
        "{:?}",
        r.warnings
    );
}

#[test]
fn an_in_process_target_watches_perfgate_itself() {
    let r = run_yaml(
        "name: inproc\nkind: load\nrequests:\n  - { name: hash, call: builtin.noop }\n\
         load:\n  stages:\n    - { concurrency: 1, duration: 1200ms }\nthresholds:\n  - sut.rss < 4GB\n",
        &Registry::with_builtins(),
    );
    assert!(r.timeseries[0].sut_rss_bytes.is_some_and(|b| b > MB));
    assert!(r.thresholds[0].pass, "{:?}", r.thresholds);
}

#[test]
fn a_process_that_is_not_there_is_a_warning_and_a_failed_gate_not_a_crash() {
    let r = run_yaml(
        // Pid 4194304 is above Linux's largest pid: never running.
        "name: gone\nkind: load\nrequests:\n  - { name: hash, call: builtin.noop }\n\
         load:\n  stages:\n    - { concurrency: 1, duration: 300ms }\n\
         monitor:\n  - pid: 4194304\nthresholds:\n  - sut.rss < 4GB\n",
        &Registry::with_builtins(),
    );
    assert!(r.totals.requests > 0, "the run went on");
    assert!(r.timeseries.iter().all(|w| w.sut_rss_bytes.is_none()));
    let w = r
        .warnings
        .iter()
        .find(|w| w.contains("monitor of pid 4194304 stopped"));
    assert!(
        w.is_some_and(|w| w.contains("is not running")),
        "{:?}",
        r.warnings
    );
    assert!(!r.thresholds[0].pass && r.thresholds[0].no_data);
    assert_eq!(r.verdict, Verdict::Fail);
}
