//! The one fixture tree of the integration tests. Here: scenario files in temp dirs, the
//! binary, and in-process runs of a scenario. Beside it:
//!
//! - `raw`: raw TCP servers that misbehave in exactly one way.
//! - `counting`: a loopback HTTP/1.1 server that logs every request it receives.
//! - `results`: fixture results for the report tests (and the report benchmark), and the
//!   primitives every built result shares: seeded noise, histogram encoding, a blank result.
//! - `shapes`: results built from a load shape (N windows of seeded noise) for the gate tests.

#![allow(dead_code)]

pub mod counting;
pub mod raw;
pub mod results;
pub mod shapes;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use perfgate::app::{measure, RunOptions};
use perfgate::client::Registry;
use perfgate::gate::{self, CompareOptions};
use perfgate::result::RunResult;
use perfgate::scenario;

pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

pub fn perfgate(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_perfgate"))
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap()
}

/// A JSON file (a `result.json`, a baseline), parsed; panics naming the file.
pub fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The line perfgate writes on stderr once its signal handlers are in place and the load
/// starts.
pub const RUNNING: &str = "perfgate: running";

/// Spawns `cmd` with its stdout and stderr piped, and returns once a line of `stream`
/// (stdout or stderr) starts with `ready`: a child is waited for by what it says, never by a
/// fixed sleep. Lines keep being read (and dropped) on a thread, so the child never blocks
/// on a full pipe. Panics after 20 s without that line.
pub fn spawn_ready(cmd: &mut Command, stream: Stream, ready: &str) -> (Child, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (watched, other): (Box<dyn Read + Send>, Box<dyn Read + Send>) = match stream {
        Stream::Stdout => (
            Box::new(child.stdout.take().unwrap()),
            Box::new(child.stderr.take().unwrap()),
        ),
        Stream::Stderr => (
            Box::new(child.stderr.take().unwrap()),
            Box::new(child.stdout.take().unwrap()),
        ),
    };
    std::thread::spawn(move || std::io::copy(&mut { other }, &mut std::io::sink()));
    let (tx, rx) = mpsc::channel();
    let prefix = ready.to_string();
    std::thread::spawn(move || {
        let mut said = Vec::new();
        for line in BufReader::new(watched).lines().map_while(Result::ok) {
            if line.starts_with(&prefix) {
                let _ = tx.send(Ok(line));
            } else if said.len() < 20 {
                said.push(line);
            }
        }
        let _ = tx.send(Err(said.join("\n")));
    });
    match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(Ok(line)) => (child, line),
        Ok(Err(said)) => {
            let _ = child.kill();
            panic!("the child ended its output without `{ready}…`: {said}");
        }
        Err(_) => {
            let _ = child.kill();
            panic!("the child did not say `{ready}…` within 20 s");
        }
    }
}

/// Which output of a child to watch.
#[derive(Clone, Copy, Debug)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Spawns `perfgate ARGS` in `cwd` and returns once it said the load is running.
pub fn perfgate_running(args: &[&str], cwd: &Path) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_perfgate"));
    cmd.args(args).current_dir(cwd);
    spawn_ready(&mut cmd, Stream::Stderr, RUNNING).0
}

/// Sends signal `sig` (`-INT`, `-TERM`) to `child`.
pub fn signal(child: &Child, sig: &str) {
    assert!(Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap()
        .success());
}

/// Waits for `child` to exit, at most `limit` (then kills it and panics); returns its exit
/// code and how long the wait took.
pub fn wait_exit(child: &mut Child, limit: Duration) -> (Option<i32>, Duration) {
    let since = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return (s.code(), since.elapsed());
        }
        if since.elapsed() > limit {
            let _ = child.kill();
            panic!("the child did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Parses `yaml` (no environment) and runs it in-process.
pub fn run_yaml(yaml: &str, registry: &Registry) -> RunResult {
    let names = registry.names();
    let plan = scenario::parse(yaml, Path::new("test.yaml"), &names, |_| None)
        .unwrap_or_else(|e| panic!("{e}"));
    let m = measure(
        &plan,
        registry,
        RunOptions {
            threads: Some(2),
            ..RunOptions::default()
        },
    )
    .unwrap();
    gate::judge(m, &plan.thresholds, None, &CompareOptions::default())
}

/// `requests == ok + errors`, at every level.
pub fn assert_totals_add_up(r: &RunResult) {
    let t = &r.totals;
    assert_eq!(t.requests, t.ok + t.errors, "totals");
    assert_eq!(t.errors, t.errors_by_class.total(), "classes");
    for (name, m) in &r.requests {
        assert_eq!(m.requests, m.ok + m.errors, "request {name}");
    }
    let by_stage: u64 = r.stages.iter().map(|s| s.metrics.requests).sum();
    assert_eq!(by_stage, t.requests, "stages add up to totals");
}
