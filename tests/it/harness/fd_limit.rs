//! The file-descriptor limit: the binary raises its soft limit to the hard limit at start, so
//! a run that needs more descriptors than the soft limit allows still runs cleanly; a run that
//! cannot fit under the hard limit is refused before the load (exit 2) with the numbers, at
//! the field that sets the load.

use std::process::{Command, Output};

use crate::support::{read_json, write};

/// Runs `perfgate ARGS` under `sh -c 'ulimit ...; exec perfgate ...'`.
fn perfgate_with_limit(ulimit: &str, args: &str, cwd: &std::path::Path) -> Output {
    Command::new("sh")
        .args([
            "-c",
            &format!(
                "{ulimit} && exec '{}' {args}",
                env!("CARGO_BIN_EXE_perfgate")
            ),
        ])
        .current_dir(cwd)
        .output()
        .unwrap()
}

/// The hard open-files limit the tests run under.
fn hard_limit() -> Option<u64> {
    let out = Command::new("sh")
        .args(["-c", "ulimit -Hn"])
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

#[test]
fn users_beyond_the_hard_limit_are_refused_before_the_run_with_the_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "many.yaml",
        "name: many\nkind: load\ntarget: { base_url: embedded }\nrequests:\n  - { name: get, path: /items/7 }\nload:\n  stages:\n    - { concurrency: 10, duration: 1s }\n    - { concurrency: 2000, duration: 1s }\n",
    );
    let out = perfgate_with_limit(
        "ulimit -n 512",
        &format!("run '{}' --quiet --no-report", path.display()),
        dir.path(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{}:9:9: load.stages[1].concurrency: 2000 virtual users need 4064 open files",
            path.display()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("may open 512"), "{stderr}");
    assert!(stderr.contains("at most 224 fit here"), "{stderr}");
    // Refused before the load: nothing was run, nothing written.
    assert!(!stderr.contains("perfgate: running"), "{stderr}");
    assert!(!dir.path().join("reports/many/result.json").exists());
}

#[test]
fn a_soft_limit_below_the_need_is_raised_to_the_hard_limit() {
    if hard_limit().is_some_and(|h| h < 400) {
        eprintln!("skipped: the hard open-files limit is below 400");
        return;
    }
    // 100 users on the embedded server need 264 descriptors; the soft limit allows 64.
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "hundred.yaml",
        "name: hundred\nkind: load\ntarget: { base_url: embedded }\nrequests:\n  - { name: get, path: /items/7 }\nload:\n  stages:\n    - { concurrency: 100, duration: 500ms }\n",
    );
    let out = perfgate_with_limit(
        "ulimit -Sn 64",
        &format!("run '{}' --quiet --no-report --no-baseline", path.display()),
        dir.path(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let v = read_json(&dir.path().join("reports/hundred/result.json"));
    let t = &v["totals"];
    assert_eq!(out.status.code(), Some(0), "{stderr}\n{t}");
    assert!(t["requests"].as_u64().unwrap() >= 100, "{t}");
    assert_eq!(t["errors"].as_u64(), Some(0), "{t}");
    assert_eq!(
        v["warnings"].as_array().map(Vec::len),
        Some(0),
        "{}",
        v["warnings"]
    );
}
