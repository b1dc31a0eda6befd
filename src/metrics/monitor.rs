//! The system under test, watched: once a second, on a thread of its own (never on the hot
//! path), the resident memory and CPU use of the processes named by the scenario's `monitor:`
//! (a pid, a pid file, or a process name matched in `/proc`), their descendants included.
//! For in-process targets the watched process is perfgate itself.
//!
//! CPU is a share of the machine's CPUs (all of them, as `/proc/stat` counts them), percent,
//! like `cpu_busy_pct`; resident memory is the sum of `VmRSS` over the process tree.
//!
//! Where `/proc` cannot be read, a pid is gone or no process has the name, the run goes on:
//! the windows keep `null` from then on and [`MonitorOutput::stopped`] says why, once, so a
//! report never shows silent zeros and a `sut.*` threshold on missing data fails.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::machine::CpuTimes;
use crate::result::{StageResult, Window};
pub(crate) use crate::scenario::MonitorTarget;

/// The watched processes over one second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct SutSample {
    /// Resident memory of every watched process and its descendants, bytes.
    pub rss_bytes: u64,
    /// Their CPU use over the second, percent of the machine's CPUs.
    pub cpu_pct: f64,
}

/// What the monitor saw: one sample per whole second since it started (`None` where nothing
/// could be read), and why it stopped early, if it did.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct MonitorOutput {
    pub samples: Vec<Option<SutSample>>,
    pub stopped: Option<String>,
}

/// One process as read from `/proc/PID/stat` and `/proc/PID/status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ProcReading {
    pub ppid: u32,
    /// User + system clock ticks.
    pub ticks: u64,
    pub rss_bytes: u64,
}

/// The parent pid and CPU ticks of a process from the text of `/proc/PID/stat`.
pub(crate) fn parse_stat(text: &str) -> Option<(u32, u64)> {
    let rest = &text[text.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state (3), ppid (4), …, utime (14), stime (15).
    let ppid = f.get(1)?.parse().ok()?;
    let utime: u64 = f.get(11)?.parse().ok()?;
    let stime: u64 = f.get(12)?.parse().ok()?;
    Some((ppid, utime + stime))
}

/// `VmRSS` of the text of `/proc/PID/status`, in bytes (0 for a zombie, which has none).
pub(crate) fn parse_rss(status: &str) -> u64 {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn read_proc(root: &Path, pid: u32) -> Option<ProcReading> {
    let dir = root.join(pid.to_string());
    let (ppid, ticks) = parse_stat(&std::fs::read_to_string(dir.join("stat")).ok()?)?;
    let rss_bytes = parse_rss(&std::fs::read_to_string(dir.join("status")).unwrap_or_default());
    Some(ProcReading {
        ppid,
        ticks,
        rss_bytes,
    })
}

/// Every pid under `/proc`.
fn all_pids(root: &Path) -> Vec<u32> {
    std::fs::read_dir(root)
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The name of a process: its `comm`, and the file name of its command line's first word
/// (`comm` is cut at 15 bytes).
fn names_of(root: &Path, pid: u32) -> Vec<String> {
    let dir = root.join(pid.to_string());
    let mut out = Vec::new();
    if let Ok(c) = std::fs::read_to_string(dir.join("comm")) {
        out.push(c.trim().to_string());
    }
    if let Ok(c) = std::fs::read(dir.join("cmdline")) {
        let first = c.split(|b| *b == 0).next().unwrap_or_default();
        let first = String::from_utf8_lossy(first);
        if let Some(base) = Path::new(first.as_ref()).file_name() {
            out.push(base.to_string_lossy().into_owned());
        }
    }
    out
}

/// The root pids the targets name now; `Err` says why a target names none.
fn resolve(root: &Path, targets: &[MonitorTarget]) -> Result<Vec<u32>, String> {
    let mut pids = Vec::new();
    for t in targets {
        match t {
            MonitorTarget::Pid(p) => pids.push(*p),
            MonitorTarget::Own => pids.push(std::process::id()),
            MonitorTarget::PidFile(f) => {
                let text = std::fs::read_to_string(f)
                    .map_err(|e| format!("cannot read pid file {}: {e}", f.display()))?;
                let pid = text.trim().parse().map_err(|_| {
                    format!(
                        "pid file {} does not hold a process id (`{}`)",
                        f.display(),
                        text.trim()
                    )
                })?;
                pids.push(pid);
            }
            MonitorTarget::Process(name) => {
                let own = std::process::id();
                let found: Vec<u32> = all_pids(root)
                    .into_iter()
                    .filter(|p| *p != own && names_of(root, *p).iter().any(|n| n == name))
                    .collect();
                if found.is_empty() {
                    return Err(format!("no running process is named `{name}`"));
                }
                pids.extend(found);
            }
        }
    }
    for p in &pids {
        if !root.join(p.to_string()).join("stat").exists() {
            return Err(format!("process {p} is not running"));
        }
    }
    pids.sort_unstable();
    pids.dedup();
    Ok(pids)
}

/// The roots and every descendant of theirs, read now (processes gone meanwhile are left out).
fn read_tree(root: &Path, roots: &[u32]) -> BTreeMap<u32, ProcReading> {
    let mut all = BTreeMap::new();
    for pid in all_pids(root) {
        if let Some(r) = read_proc(root, pid) {
            all.insert(pid, r);
        }
    }
    tree_of(&all, roots)
}

/// The readings of `roots` and their descendants among `all`.
pub(crate) fn tree_of(
    all: &BTreeMap<u32, ProcReading>,
    roots: &[u32],
) -> BTreeMap<u32, ProcReading> {
    let mut out = BTreeMap::new();
    let mut todo: Vec<u32> = roots
        .iter()
        .copied()
        .filter(|p| all.contains_key(p))
        .collect();
    while let Some(p) = todo.pop() {
        if out.contains_key(&p) {
            continue;
        }
        if let Some(r) = all.get(&p) {
            out.insert(p, *r);
            todo.extend(all.iter().filter(|(_, c)| c.ppid == p).map(|(c, _)| *c));
        }
    }
    out
}

/// The tree's memory now and its CPU since `before`, over `total_ticks` of the machine (every
/// CPU). A process new since `before` counts all its ticks.
pub(crate) fn sample(
    before: &BTreeMap<u32, ProcReading>,
    now: &BTreeMap<u32, ProcReading>,
    total_ticks: u64,
) -> Option<SutSample> {
    if total_ticks == 0 {
        return None;
    }
    let used: u64 = now
        .iter()
        .map(|(p, r)| r.ticks.saturating_sub(before.get(p).map_or(0, |b| b.ticks)))
        .sum();
    Some(SutSample {
        rss_bytes: now.values().map(|r| r.rss_bytes).sum(),
        cpu_pct: (used as f64 * 100.0 / total_ticks as f64).clamp(0.0, 100.0),
    })
}

/// Watches the targets each second on a thread of its own until [`Monitor::finish`].
pub(crate) struct Monitor {
    stop: Sender<()>,
    thread: JoinHandle<MonitorOutput>,
}

impl Monitor {
    /// Starts watching now. Never fails: a target that cannot be watched gives an output
    /// with no samples and the reason in `stopped`.
    pub(crate) fn start(targets: Vec<MonitorTarget>) -> Monitor {
        Self::start_in(PathBuf::from("/proc"), targets)
    }

    fn start_in(root: PathBuf, targets: Vec<MonitorTarget>) -> Monitor {
        let (stop, rx) = mpsc::channel::<()>();
        let first = resolve(&root, &targets).and_then(|pids| {
            let cpu = read_cpu(&root)
                .ok_or_else(|| format!("{} cannot be read", root.join("stat").display()))?;
            Ok((pids.clone(), cpu, read_tree(&root, &pids)))
        });
        let watch = move || {
            let (roots, mut cpu, mut last) = match first {
                Ok(f) => f,
                Err(why) => {
                    return MonitorOutput {
                        samples: Vec::new(),
                        stopped: Some(why),
                    }
                }
            };
            let start = Instant::now();
            let mut out = MonitorOutput::default();
            for k in 1u32.. {
                let due = start + Duration::from_secs(u64::from(k));
                match rx.recv_timeout(due.saturating_duration_since(Instant::now())) {
                    Err(RecvTimeoutError::Timeout) => {}
                    _ => break,
                }
                let now_cpu = read_cpu(&root);
                let tree = read_tree(&root, &roots);
                if !roots.iter().any(|p| tree.contains_key(p)) {
                    let which = roots
                        .iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(", ");
                    out.stopped = Some(format!(
                        "process {which} exited after {} s",
                        out.samples.len()
                    ));
                    break;
                }
                let Some(now_cpu) = now_cpu else {
                    out.samples.push(None);
                    continue;
                };
                let total = now_cpu.total.saturating_sub(cpu.total);
                out.samples.push(sample(&last, &tree, total));
                cpu = now_cpu;
                last = tree;
            }
            out
        };
        let thread = std::thread::Builder::new()
            .name("perfgate-monitor".into())
            .spawn(watch);
        let thread = match thread {
            Ok(t) => t,
            // No thread: a joined thread that reports it.
            Err(e) => std::thread::spawn(move || MonitorOutput {
                samples: Vec::new(),
                stopped: Some(format!("cannot start the monitor thread: {e}")),
            }),
        };
        Monitor { stop, thread }
    }

    /// Waits (at most `max`) for the monitor to stop on its own, then returns what it saw.
    #[cfg(test)]
    fn finish_when_stopped(self, max: Duration) -> MonitorOutput {
        let until = Instant::now() + max;
        while !self.thread.is_finished() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
        }
        self.finish()
    }

    /// Stops the thread and returns what it saw.
    pub(crate) fn finish(self) -> MonitorOutput {
        let _ = self.stop.send(());
        self.thread.join().unwrap_or_else(|_| MonitorOutput {
            samples: Vec::new(),
            stopped: Some("the monitor thread panicked".into()),
        })
    }
}

fn read_cpu(root: &Path) -> Option<CpuTimes> {
    CpuTimes::parse(&std::fs::read_to_string(root.join("stat")).ok()?)
}

/// The warning of a monitor that stopped (or never started), naming what it watched.
pub(crate) fn stopped_warning(targets: &[MonitorTarget], why: &str, sampled: usize) -> String {
    let what = targets
        .iter()
        .map(MonitorTarget::label)
        .collect::<Vec<_>>()
        .join(", ");
    let tail = if sampled == 0 {
        "no sample of the system under test (sut_rss_bytes and sut_cpu_pct are null)".to_string()
    } else {
        format!("sut_rss_bytes and sut_cpu_pct are null after {sampled} s")
    };
    format!("monitor of {what} stopped: {why}; {tail}")
}

/// Puts sample `i` in window `i` (both count seconds from the run's start).
pub(crate) fn annotate(windows: &mut [Window], samples: &[Option<SutSample>]) {
    for (w, s) in windows.iter_mut().zip(samples) {
        if let Some(s) = s {
            w.sut_rss_bytes = Some(s.rss_bytes);
            w.sut_cpu_pct = Some((s.cpu_pct * 10.0).round() / 10.0);
        }
    }
}

/// Each stage's mean CPU and peak memory of the system under test, from its windows.
pub(crate) fn annotate_stages(stages: &mut [StageResult], windows: &[Window]) {
    for s in stages {
        let ws = || windows.iter().filter(|w| w.stage == Some(s.index));
        let cpu: Vec<f64> = ws().filter_map(|w| w.sut_cpu_pct).collect();
        if !cpu.is_empty() {
            let mean = cpu.iter().sum::<f64>() / cpu.len() as f64;
            s.sut_cpu_pct = Some((mean * 10.0).round() / 10.0);
        }
        s.sut_rss_bytes = ws().filter_map(|w| w.sut_rss_bytes).max();
    }
}

#[cfg(test)]
mod tests;
