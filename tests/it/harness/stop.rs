//! Stop within a second under any load: the binary, signalled once it says the load has
//! started, exits 3 within a second with a partial `result.json`, whether its workers call
//! in-process functions that never wait or hundreds of them hit the file descriptor limit.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::support::write;

/// Spawns `sh -c SCRIPT` (which execs perfgate) and returns once perfgate said on stderr that
/// the load is running.
fn spawn_running(script: &str, cwd: &Path) -> Child {
    let mut child = Command::new("sh")
        .args(["-c", script])
        .current_dir(cwd)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.starts_with("perfgate: running") {
                let _ = tx.send(());
            }
        }
    });
    if rx.recv_timeout(Duration::from_secs(20)).is_err() {
        let _ = child.kill();
        panic!("perfgate never said it was running");
    }
    child
}

/// Sends SIGINT, waits for the exit; returns its code and how long it took.
fn interrupt(child: &mut Child) -> (Option<i32>, Duration) {
    assert!(Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    let sent = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return (s.code(), sent.elapsed());
        }
        if sent.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("did not stop within 10 s");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn result(dir: &Path, name: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join(format!("reports/{name}/result.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn perfgate() -> &'static str {
    env!("CARGO_BIN_EXE_perfgate")
}

#[test]
fn sigint_stops_a_run_of_calls_that_never_wait_within_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "noop.yaml",
        "name: noop\nkind: load\nrequests:\n  - { name: noop, call: builtin.noop }\nload:\n  stages:\n    - { concurrency: 4, duration: 8s }\n",
    );
    let mut child = spawn_running(
        &format!(
            "exec '{}' run '{}' --quiet --no-report --threads 1",
            perfgate(),
            path.display()
        ),
        dir.path(),
    );
    // Let the load run on its one thread for a moment.
    std::thread::sleep(Duration::from_millis(1000));
    let (code, took) = interrupt(&mut child);
    assert_eq!(code, Some(3));
    assert!(took < Duration::from_secs(1), "took {took:?}");
    let v = result(dir.path(), "noop");
    assert_eq!(v["verdict"], "aborted");
    let t = &v["totals"];
    assert!(t["requests"].as_u64().unwrap() > 0);
    assert_eq!(
        t["requests"].as_u64(),
        Some(t["ok"].as_u64().unwrap() + t["errors"].as_u64().unwrap())
    );
    assert!(v["duration_s"].as_f64().unwrap() < 7.0);
}

#[test]
fn sigint_stops_500_users_out_of_file_descriptors_within_a_second() {
    // A listener that never accepts: the first connections wait in its backlog with their
    // request unanswered, the rest cannot even open a socket under `ulimit -n 64`.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "fds.yaml",
        &format!(
            "name: fds\nkind: load\ntarget: {{ base_url: 'http://{addr}', timeout: 5s }}\nrequests:\n  - {{ name: get, path: /x }}\nload:\n  stages:\n    - {{ concurrency: 500, duration: 8s }}\n"
        ),
    );
    let mut child = spawn_running(
        &format!(
            "ulimit -n 64 && exec '{}' run '{}' --quiet --no-report",
            perfgate(),
            path.display()
        ),
        dir.path(),
    );
    std::thread::sleep(Duration::from_millis(1000));
    let (code, took) = interrupt(&mut child);
    drop(listener);
    assert_eq!(code, Some(3));
    assert!(took < Duration::from_secs(1), "took {took:?}");
    let v = result(dir.path(), "fds");
    assert_eq!(v["verdict"], "aborted");
    let t = &v["totals"];
    let classes = &t["errors_by_class"];
    let n = |k: &str| classes[k].as_u64().unwrap();
    assert_eq!(t["requests"].as_u64(), Some(t["errors"].as_u64().unwrap()));
    // Requests waiting on the listener were cut off after the grace period: interrupted.
    assert!(n("interrupted") > 0, "{classes}");
    // Failed socket()/connect() calls are counted as connect errors, with backoff: a few
    // per user and second, not hundreds of thousands.
    assert!(n("connect") > 0, "{classes}");
    assert!(n("connect") < 20_000, "{classes}");
    let warnings = v["warnings"].as_array().unwrap();
    assert!(
        warnings.iter().any(|w| {
            let w = w.as_str().unwrap_or_default();
            w.contains("file descriptor limit") && w.contains("64")
        }),
        "{warnings:?}"
    );
}
