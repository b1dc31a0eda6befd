//! The machine around a run, sampled once a second on a thread of its own (never on the hot
//! path): CPU steal and total CPU busy from `/proc/stat`, and this process's own CPU use from
//! `/proc/self/stat` as a share of the CPUs it may use (`available_parallelism`, which follows
//! the affinity mask and the cgroup quota). A generator at ≥ [`SATURATED_PCT`] of its CPUs is
//! *saturated*: it may be measuring itself rather than the target.
//!
//! Where `/proc` cannot be read (not Linux, a sandbox), nothing is sampled: the windows keep
//! `null` and the run says so once in its warnings, never silent zeros.

use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::result::Window;

/// The generator's CPU use (percent of the CPUs it may use) from which it is saturated.
pub(crate) const SATURATED_PCT: f64 = 90.0;

/// The warning of a run on a machine whose `/proc` could not be read.
pub(crate) const NO_PROC_WARNING: &str = "machine noise not sampled: /proc/stat or \
     /proc/self/stat cannot be read here (steal_pct, generator_cpu_pct and saturated are null)";

/// The machine-wide CPU counters of `/proc/stat` (its first, `cpu`, line), in clock ticks
/// summed over every CPU, and how many CPUs the machine has (`cpuN` lines).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CpuTimes {
    pub total: u64,
    /// Idle and waiting for I/O.
    pub idle: u64,
    pub steal: u64,
    pub cpus: u32,
}

impl CpuTimes {
    /// Parses the text of `/proc/stat`; `None` when it has no `cpu` line.
    pub(crate) fn parse(text: &str) -> Option<CpuTimes> {
        let mut lines = text.lines();
        let first = lines.find(|l| l.starts_with("cpu "))?;
        let f: Vec<u64> = first
            .split_whitespace()
            .skip(1)
            .map(str::parse)
            .collect::<Result<_, _>>()
            .ok()?;
        // user nice system idle iowait irq softirq steal guest guest_nice; guest time is
        // already counted in user and nice.
        let at = |i: usize| f.get(i).copied().unwrap_or(0);
        if f.len() < 4 {
            return None;
        }
        let total = (0..8).map(at).sum();
        let cpus = text
            .lines()
            .filter(|l| {
                l.strip_prefix("cpu")
                    .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
            })
            .count() as u32;
        Some(CpuTimes {
            total,
            idle: at(3) + at(4),
            steal: at(7),
            cpus: cpus.max(1),
        })
    }
}

/// This process's CPU time (user + system, clock ticks) from the text of `/proc/self/stat`.
pub(crate) fn parse_own_ticks(text: &str) -> Option<u64> {
    // The command name (field 2) is in parentheses and may hold spaces: count from after it.
    let rest = &text[text.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state (3), ppid, pgrp, session, tty_nr, tpgid, flags, minflt, cminflt,
    // majflt, cmajflt, utime (14), stime (15).
    let utime: u64 = f.get(11)?.parse().ok()?;
    let stime: u64 = f.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// The machine over one interval: between two readings of `/proc/stat` and `/proc/self/stat`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct MachineSample {
    /// Share of the machine's CPU time stolen by the hypervisor, percent.
    pub steal_pct: f64,
    /// Share of the machine's CPU time not idle, percent (steal included).
    pub cpu_busy_pct: f64,
    /// This process's CPU use as a share of the CPUs it may use, percent.
    pub generator_cpu_pct: f64,
    pub saturated: bool,
}

/// One reading of both files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Reading {
    pub cpu: CpuTimes,
    pub own: u64,
}

impl Reading {
    /// Reads `/proc/stat` and `/proc/self/stat`; `None` when either cannot be read.
    pub(crate) fn now() -> Option<Reading> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let own = std::fs::read_to_string("/proc/self/stat").ok()?;
        Some(Reading {
            cpu: CpuTimes::parse(&stat)?,
            own: parse_own_ticks(&own)?,
        })
    }
}

/// What changed from `a` to `b`, for a process that may use `allowed` CPUs; `None` when no
/// time passed. The clock tick rate cancels out: the machine's ticks per CPU over the
/// interval are its total ticks over its CPU count.
pub(crate) fn sample(a: &Reading, b: &Reading, allowed: usize) -> Option<MachineSample> {
    let total = b.cpu.total.checked_sub(a.cpu.total)?;
    if total == 0 {
        return None;
    }
    let total = total as f64;
    let steal = b.cpu.steal.saturating_sub(a.cpu.steal) as f64;
    let idle = b.cpu.idle.saturating_sub(a.cpu.idle) as f64;
    let own = b.own.saturating_sub(a.own) as f64;
    let per_cpu = total / f64::from(b.cpu.cpus);
    let allowed = allowed.clamp(1, b.cpu.cpus as usize) as f64;
    let generator = (own * 100.0 / (per_cpu * allowed)).clamp(0.0, 100.0);
    Some(MachineSample {
        steal_pct: (steal / total * 100.0).clamp(0.0, 100.0),
        cpu_busy_pct: ((total - idle) / total * 100.0).clamp(0.0, 100.0),
        generator_cpu_pct: generator,
        saturated: generator >= SATURATED_PCT,
    })
}

/// Samples the machine each second on a thread of its own until [`Sampler::finish`].
pub(crate) struct Sampler {
    stop: Sender<()>,
    thread: JoinHandle<Vec<Option<MachineSample>>>,
}

impl Sampler {
    /// Starts sampling now; `None` when `/proc` cannot be read (or no thread can start).
    pub(crate) fn start() -> Option<Sampler> {
        let first = Reading::now()?;
        let allowed = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        let (stop, rx) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("perfgate-machine".into())
            .spawn(move || {
                let start = Instant::now();
                let mut last = first;
                let mut out = Vec::new();
                for k in 1u32.. {
                    let due = start + Duration::from_secs(u64::from(k));
                    match rx.recv_timeout(due.saturating_duration_since(Instant::now())) {
                        Err(RecvTimeoutError::Timeout) => {}
                        _ => break,
                    }
                    let Some(now) = Reading::now() else {
                        out.push(None);
                        continue;
                    };
                    out.push(sample(&last, &now, allowed));
                    last = now;
                }
                out
            })
            .ok()?;
        Some(Sampler { stop, thread })
    }

    /// Stops the thread and returns one sample per whole second since [`Sampler::start`].
    pub(crate) fn finish(self) -> Vec<Option<MachineSample>> {
        let _ = self.stop.send(());
        self.thread.join().unwrap_or_default()
    }
}

/// Puts sample `i` in window `i` (both count seconds from the run's start). Windows past the
/// last sample (the run's last partial second) keep `null`.
pub(crate) fn annotate(windows: &mut [Window], samples: &[Option<MachineSample>]) {
    for (w, s) in windows.iter_mut().zip(samples) {
        if let Some(s) = s {
            w.steal_pct = Some(round1(s.steal_pct));
            w.cpu_busy_pct = Some(round1(s.cpu_busy_pct));
            w.generator_cpu_pct = Some(round1(s.generator_cpu_pct));
            w.saturated = Some(s.saturated);
        }
    }
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAT_A: &str = "cpu  1000 0 500 8000 100 0 0 400 0 0\n\
        cpu0 500 0 250 4000 50 0 0 200 0 0\n\
        cpu1 500 0 250 4000 50 0 0 200 0 0\n\
        intr 12345\nctxt 999\n";
    // 200 ticks later on each of 2 CPUs (400 in all): 40 stolen, 200 idle, 10 iowait.
    const STAT_B: &str = "cpu  1100 0 550 8200 110 0 0 440 0 0\n\
        cpu0 550 0 275 4100 55 0 0 220 0 0\n\
        cpu1 550 0 275 4100 55 0 0 220 0 0\n";

    fn own(utime: u64, stime: u64) -> String {
        format!(
            "4242 (perf gate) S 1 4242 4242 0 -1 4194304 100 0 0 0 {utime} {stime} 0 0 20 0 9 0 \
             1000 123456 789 18446744073709551615\n"
        )
    }

    #[test]
    fn steal_and_busy_come_from_two_proc_stat_snapshots() {
        let a = CpuTimes::parse(STAT_A).unwrap();
        assert_eq!(
            a,
            CpuTimes {
                total: 10000,
                idle: 8100,
                steal: 400,
                cpus: 2
            }
        );
        let b = CpuTimes::parse(STAT_B).unwrap();
        let s = sample(&Reading { cpu: a, own: 0 }, &Reading { cpu: b, own: 0 }, 2).unwrap();
        assert_eq!(s.steal_pct, 10.0);
        assert_eq!(s.cpu_busy_pct, 100.0 - 210.0 / 400.0 * 100.0);
        assert!(CpuTimes::parse("intr 1\n").is_none());
        assert!(CpuTimes::parse("cpu  x y z\n").is_none());
    }

    #[test]
    fn own_cpu_comes_from_two_proc_self_stat_snapshots() {
        // The name holds a space and a parenthesis is searched from the right.
        assert_eq!(parse_own_ticks(&own(300, 60)), Some(360));
        assert_eq!(parse_own_ticks("42 (x) S 1"), None);
        let cpu_a = CpuTimes::parse(STAT_A).unwrap();
        let cpu_b = CpuTimes::parse(STAT_B).unwrap();
        let a = Reading {
            cpu: cpu_a,
            own: parse_own_ticks(&own(300, 60)).unwrap(),
        };
        // 100 ticks of this process over an interval of 200 ticks per CPU.
        let b = Reading {
            cpu: cpu_b,
            own: parse_own_ticks(&own(380, 80)).unwrap(),
        };
        let both = sample(&a, &b, 2).unwrap();
        assert_eq!(both.generator_cpu_pct, 25.0);
        assert!(!both.saturated);
        // Pinned to one CPU, the same use is half of what it may use.
        assert_eq!(sample(&a, &b, 1).unwrap().generator_cpu_pct, 50.0);
        // No time passed: nothing to say.
        assert!(sample(&a, &a, 2).is_none());
    }

    #[test]
    fn a_generator_at_ninety_percent_of_its_cpus_is_saturated() {
        let cpu = |total| CpuTimes {
            total,
            idle: 0,
            steal: 0,
            cpus: 4,
        };
        // 100 ticks per CPU; allowed 2 CPUs: 200 ticks is all it may use.
        let a = Reading {
            cpu: cpu(0),
            own: 0,
        };
        let at = |own| sample(&a, &Reading { cpu: cpu(400), own }, 2).unwrap();
        assert!(at(180).saturated);
        assert_eq!(at(180).generator_cpu_pct, 90.0);
        assert!(!at(179).saturated);
        assert_eq!(at(500).generator_cpu_pct, 100.0);
    }

    #[test]
    fn samples_go_to_their_windows_and_missing_ones_stay_null() {
        let s = MachineSample {
            steal_pct: 12.34,
            cpu_busy_pct: 50.0,
            generator_cpu_pct: 95.0,
            saturated: true,
        };
        let mut ws = vec![Window::default(); 3];
        annotate(&mut ws, &[Some(s), None]);
        assert_eq!(ws[0].steal_pct, Some(12.3));
        assert_eq!(ws[0].saturated, Some(true));
        assert_eq!(ws[1].steal_pct, None);
        assert_eq!(ws[2].generator_cpu_pct, None);
    }
}
