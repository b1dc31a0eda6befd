//! Tests of the monitor: the `/proc` parsers on fixed text, the process tree, and the real
//! thing against a child process (this test binary re-executed as a helper) that holds a
//! known amount of memory.

use super::*;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};

const MB: u64 = 1024 * 1024;
const READY: &str = "perfgate-test-helper: ready";

/// Not a test: the helper process. Run by [`spawn_helper`] with `PERFGATE_TEST_ALLOC_MB`, it
/// holds that many MB (written, so resident), starts a child of its own holding
/// `PERFGATE_TEST_CHILD_MB` when set, prints the readiness line and lives until its stdin
/// closes (at most 30 s).
#[test]
#[ignore = "a helper process for the monitor tests, not a test"]
fn alloc_helper() {
    let Some(mb) = std::env::var("PERFGATE_TEST_ALLOC_MB")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    else {
        return;
    };
    let held = vec![7u8; mb * MB as usize];
    let child = std::env::var("PERFGATE_TEST_CHILD_MB")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map(|c| spawn_helper(c, None));
    std::thread::spawn(|| {
        std::thread::sleep(Duration::from_secs(30));
        std::process::exit(0);
    });
    println!("{READY}");
    let _ = std::io::stdout().flush();
    let mut sink = String::new();
    let _ = std::io::stdin().read_line(&mut sink);
    drop(child);
    std::hint::black_box(&held);
}

/// A helper process holding `mb` MB (and a child holding `child_mb`), once it said it is ready.
struct Helper(Child);

impl Drop for Helper {
    fn drop(&mut self) {
        drop(self.0.stdin.take());
        let _ = self.0.wait();
    }
}

fn spawn_helper(mb: u64, child_mb: Option<u64>) -> Helper {
    let exe = std::env::current_exe().expect("the test binary");
    let mut cmd = Command::new(exe);
    cmd.args([
        "--exact",
        "metrics::monitor::tests::alloc_helper",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env("PERFGATE_TEST_ALLOC_MB", mb.to_string())
    .env_remove("PERFGATE_TEST_CHILD_MB")
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::null());
    if let Some(c) = child_mb {
        cmd.env("PERFGATE_TEST_CHILD_MB", c.to_string());
    }
    let mut child = cmd.spawn().expect("spawn the helper");
    let out = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(out).lines();
    loop {
        match lines.next() {
            Some(Ok(l)) if l.contains(READY) => break,
            Some(Ok(_)) => continue,
            _ => panic!("the helper ended before it was ready"),
        }
    }
    Helper(child)
}

#[test]
fn stat_and_status_are_read_from_proc_text() {
    let stat = "4242 (my (odd) server) S 17 4242 4242 0 -1 4194304 100 0 0 0 300 60 0 0 20 0 9";
    assert_eq!(parse_stat(stat), Some((17, 360)));
    assert_eq!(parse_stat("42 (x) S"), None);
    let status = "Name:\tserver\nVmPeak:\t  9000 kB\nVmRSS:\t  2048 kB\nThreads:\t4\n";
    assert_eq!(parse_rss(status), 2048 * 1024);
    // A zombie has no VmRSS line: no memory, not an error.
    assert_eq!(parse_rss("Name:\tz\nState:\tZ (zombie)\n"), 0);
}

#[test]
fn the_tree_holds_the_root_and_its_descendants_and_cpu_is_a_share_of_the_machine() {
    let r = |ppid, ticks, mb| ProcReading {
        ppid,
        ticks,
        rss_bytes: mb * MB,
    };
    let all: BTreeMap<u32, ProcReading> = [
        (1, r(0, 0, 1)),
        (10, r(1, 100, 50)),
        (11, r(10, 40, 20)),
        (12, r(11, 10, 5)),
        (20, r(1, 999, 900)),
    ]
    .into();
    let tree = tree_of(&all, &[10]);
    assert_eq!(tree.keys().copied().collect::<Vec<_>>(), vec![10, 11, 12]);
    let before: BTreeMap<u32, ProcReading> = [(10, r(1, 60, 50)), (11, r(10, 30, 20))].into();
    // Over 400 machine ticks: 40 + 10 + 10 (12 is new: all its ticks) = 60 → 15 %.
    let s = sample(&before, &tree, 400).unwrap();
    assert_eq!(s.rss_bytes, 75 * MB);
    assert_eq!(s.cpu_pct, 15.0);
    assert!(sample(&before, &tree, 0).is_none());
}

#[test]
fn a_process_holding_known_memory_is_measured_with_its_children() {
    let helper = spawn_helper(64, Some(32));
    let root = Path::new("/proc");
    let pids = resolve(root, &[MonitorTarget::Pid(helper.0.id())]).unwrap();
    let tree = read_tree(root, &pids);
    assert_eq!(tree.len(), 2, "the helper and its child: {tree:?}");
    let rss = tree.values().map(|r| r.rss_bytes).sum::<u64>();
    // 96 MB held, plus two test binaries' own memory (well under 100 MB each).
    assert!(rss >= 96 * MB, "rss {} MB", rss / MB);
    assert!(rss < 296 * MB, "rss {} MB", rss / MB);
    // Without the child's memory, the root alone is under 64 MB + its own.
    let alone = tree[&helper.0.id()].rss_bytes;
    assert!((64 * MB..164 * MB).contains(&alone), "{} MB", alone / MB);
}

#[test]
fn targets_that_name_no_process_say_why() {
    let root = Path::new("/proc");
    // Pid 0 is never a process in /proc.
    let e = resolve(root, &[MonitorTarget::Pid(0)]).unwrap_err();
    assert_eq!(e, "process 0 is not running");
    let e = resolve(root, &[MonitorTarget::Process("no-such-proc-xyz".into())]).unwrap_err();
    assert!(
        e.contains("no running process is named `no-such-proc-xyz`"),
        "{e}"
    );
    let dir = std::env::temp_dir().join(format!("perfgate-pidfile-{}", std::process::id()));
    std::fs::write(&dir, "not a pid\n").unwrap();
    let e = resolve(root, &[MonitorTarget::PidFile(dir.clone())]).unwrap_err();
    assert!(e.contains("does not hold a process id"), "{e}");
    std::fs::write(&dir, format!("{}\n", std::process::id())).unwrap();
    assert_eq!(
        resolve(root, &[MonitorTarget::PidFile(dir.clone())]).unwrap(),
        vec![std::process::id()]
    );
    let _ = std::fs::remove_file(&dir);
    // A monitor that cannot start returns at once with its reason and no sample.
    let out = Monitor::start(vec![MonitorTarget::Pid(0)]).finish();
    assert!(out.samples.is_empty());
    assert_eq!(out.stopped.as_deref(), Some("process 0 is not running"));
}

#[test]
fn a_process_that_exits_stops_the_monitor_with_a_reason() {
    let helper = spawn_helper(8, None);
    let pid = helper.0.id();
    let monitor = Monitor::start(vec![MonitorTarget::Pid(pid)]);
    drop(helper);
    let out = monitor.finish_when_stopped(Duration::from_secs(5));
    let why = out.stopped.expect("stopped");
    assert!(
        why.starts_with(&format!("process {pid} exited after")),
        "{why}"
    );
    let w = stopped_warning(&[MonitorTarget::Pid(pid)], &why, out.samples.len());
    assert!(w.starts_with(&format!(
        "monitor of pid {pid} stopped: process {pid} exited"
    )));
}

#[test]
fn samples_go_to_windows_and_stages_take_mean_cpu_and_peak_memory() {
    let s = |mb, cpu| {
        Some(SutSample {
            rss_bytes: mb * MB,
            cpu_pct: cpu,
        })
    };
    let mut ws: Vec<Window> = (0..4)
        .map(|i| Window {
            t_s: i as f64,
            stage: if i == 0 { None } else { Some(0) },
            ..Window::default()
        })
        .collect();
    annotate(&mut ws, &[s(10, 90.0), s(20, 10.04), None]);
    assert_eq!(ws[1].sut_cpu_pct, Some(10.0));
    assert_eq!(ws[2].sut_rss_bytes, None);
    assert_eq!(ws[3].sut_cpu_pct, None);
    let mut stages = vec![StageResult {
        index: 0,
        name: None,
        target: 1.0,
        unit: crate::result::LevelUnit::Vus,
        start_s: 1.0,
        end_s: 4.0,
        metrics: crate::result::Metrics::default(),
        sut_cpu_pct: None,
        sut_rss_bytes: None,
    }];
    annotate_stages(&mut stages, &ws);
    // The warm-up's window (90 %) is not the stage's.
    assert_eq!(stages[0].sut_cpu_pct, Some(10.0));
    assert_eq!(stages[0].sut_rss_bytes, Some(20 * MB));
}
