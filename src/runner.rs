//! Running a plan end to end: the tokio runtime sized from the CPUs this process may use,
//! the embedded demo server when the scenario asks for it, preflight, the engine, and the
//! [`RunResult`] built from what it measured, with warnings about what the numbers alone do
//! not say (the target was unreachable, the file descriptor limit was hit). Signals are
//! watched on a thread of their own, so busy workers cannot starve them. Used by
//! `perfgate run`, `baseline refresh` and by tests, in-process.

use std::net::SocketAddr;
use std::sync::Arc;

use crate::client::demo::{DemoOptions, DemoServer};
use crate::client::{PlanTarget, Registry, TargetError};
use crate::engine::{self, StopSignal, WindowHook};
use crate::result::{HostInfo, RunResult, ScenarioInfo, ToolInfo, Verdict, RESULT_SCHEMA};
use crate::scenario::{BaseUrl, Model, Plan};

/// How to run a plan.
#[derive(Default)]
pub struct RunOptions {
    /// Runtime worker threads; default: every CPU this process may run on
    /// (`available_parallelism`, which respects the affinity mask).
    pub threads: Option<usize>,
    /// Overrides the scenario's `target.base_url`.
    pub base_url: Option<String>,
    /// Aborts the run early when triggered (signals, tests).
    pub stop: StopSignal,
    /// Installs Ctrl-C / SIGTERM handling: the first stops the run gracefully, the second
    /// exits at once with code 3. Also prints a line on stderr when the load starts
    /// (`perfgate: running <name> ...`), once the handlers are in place.
    pub handle_signals: bool,
    /// Called with each closed 1-second window.
    pub on_window: Option<WindowHook>,
}

/// Why a run could not complete (exit code 3).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error("cannot start the embedded demo server: {0}")]
    Demo(std::io::Error),
    #[error("cannot start the runtime: {0}")]
    Runtime(std::io::Error),
}

pub fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Runs `plan` and returns its result. Thresholds and baselines are not applied here; see
/// `gate/`.
pub fn run_plan(plan: &Plan, registry: &Registry, opts: RunOptions) -> Result<RunResult, RunError> {
    let threads = opts.threads.unwrap_or_else(default_threads).max(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .thread_name("perfgate-worker")
        .build()
        .map_err(RunError::Runtime)?;

    let mut demo = None;
    let base_url = match (&opts.base_url, &plan.target.base_url) {
        (Some(u), _) => Some(u.trim_end_matches('/').to_string()),
        (None, Some(BaseUrl::Url(u))) => Some(u.clone()),
        (None, Some(BaseUrl::Embedded)) if plan.uses_http() => {
            let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
            let e = plan.target.embedded;
            let demo_opts = DemoOptions {
                latency: e.latency,
                jitter: e.jitter,
                error_rate: e.error_rate,
                ..DemoOptions::default()
            };
            let server = DemoServer::start(loopback, demo_opts).map_err(RunError::Demo)?;
            let url = server.base_url();
            demo = Some(server);
            Some(url)
        }
        _ => None,
    };
    let target_label = match (&plan.target.base_url, &opts.base_url) {
        (_, Some(u)) => plan.secrets.redact(u),
        (Some(BaseUrl::Embedded), None) => "embedded".to_string(),
        (Some(BaseUrl::Url(u)), None) => plan.secrets.redact(u),
        (None, None) => "in-process".to_string(),
    };

    let stop = opts.stop.clone();
    let handle_signals = opts.handle_signals;
    let on_window = opts.on_window;
    let _signals = handle_signals.then(|| SignalWatch::start(stop.clone()));
    let out = rt.block_on(async {
        let target = PlanTarget::prepare(plan, base_url.as_deref(), registry).await?;
        if handle_signals {
            eprintln!(
                "perfgate: running {} for {:?} against {target_label}",
                plan.name,
                plan.load.total_duration()
            );
        }
        let names = plan.requests.iter().map(|r| r.name.clone()).collect();
        let weights = plan.requests.iter().map(|r| r.weight).collect();
        Ok::<_, RunError>(
            engine::run(
                Arc::new(target),
                names,
                weights,
                &plan.load,
                stop.clone(),
                on_window,
            )
            .await,
        )
    })?;
    drop(demo);
    rt.shutdown_timeout(std::time::Duration::from_millis(100));

    let m = out.metrics;
    let warnings = warnings(&m.timeseries, &m.error_samples);
    let mut error_samples = m.error_samples;
    for s in &mut error_samples {
        s.message = plan.secrets.redact(&s.message);
    }
    let verdict = if out.aborted {
        Verdict::Aborted
    } else {
        Verdict::Pass
    };
    Ok(RunResult {
        schema: RESULT_SCHEMA.to_string(),
        tool: ToolInfo::default(),
        scenario: ScenarioInfo {
            name: plan.name.clone(),
            kind: plan.kind.name().to_string(),
            file: plan.file.display().to_string(),
            hash: plan.hash.clone(),
            description: plan.description.clone(),
            target: target_label,
            model: match plan.load.model {
                Model::Closed { .. } => "closed".into(),
                Model::Open { .. } => "open".into(),
            },
        },
        host: HostInfo::current(threads),
        started_at: out
            .started_at
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        duration_s: out.elapsed.as_secs_f64(),
        verdict,
        exit_code: if out.aborted { 3 } else { 0 },
        totals: m.totals,
        warmup: m.warmup,
        requests: m.requests,
        stages: m.stages,
        timeseries: m.timeseries,
        request_series: m.request_series,
        histograms: m.histograms,
        error_samples,
        reasons: Vec::new(),
        warnings,
        run_id: crate::metrics::new_run_id(out.started_at),
        thresholds: Vec::new(),
        comparison: None,
        repeat: None,
    })
}

/// What the numbers alone do not say: how long the target refused every connection, and
/// whether connects failed because this process ran out of file descriptors or local ports.
fn warnings(
    windows: &[crate::result::Window],
    samples: &[crate::result::ErrorSample],
) -> Vec<String> {
    let mut out = Vec::new();
    let connect = || samples.iter().filter(|s| s.class == "connect");
    // Out of file descriptors (EMFILE, ENFILE) or local ports (EADDRNOTAVAIL): this side's
    // limits, not the target's.
    const LOCAL: [&str; 3] = ["os error 24)", "os error 23)", "os error 99)"];
    let local = |m: &str| LOCAL.iter().any(|c| m.contains(c));
    let unreachable = windows
        .iter()
        .filter(|w| w.requests > 0 && w.errors_by_class.connect == w.requests)
        .count();
    if unreachable > 0 && connect().any(|s| !local(&s.message)) {
        let how = if connect().any(|s| s.message.contains("refused")) {
            "connections refused"
        } else {
            "every connect failed"
        };
        out.push(format!("target unreachable for {unreachable} s ({how})"));
    }
    let os_error = |codes: &[&str]| {
        connect()
            .find(|s| codes.iter().any(|c| s.message.contains(c)))
            .map(|s| s.message.clone())
    };
    if let Some(msg) = os_error(&["os error 24)", "os error 23)"]) {
        let limit = open_files_limit()
            .map(|n| format!("this process may open {n} files (ulimit -n)"))
            .unwrap_or_else(|| "the limit could not be read".into());
        out.push(format!(
            "the file descriptor limit was hit: {limit}; connects failed with \"{msg}\" \
             (raise the limit or lower the concurrency)"
        ));
    }
    if let Some(msg) = os_error(&["os error 99)"]) {
        out.push(format!(
            "ran out of local addresses or ports: connects failed with \"{msg}\" \
             (lower the concurrency or widen net.ipv4.ip_local_port_range)"
        ));
    }
    out
}

/// The soft limit on open files of this process, from `/proc/self/limits` (Linux).
fn open_files_limit() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Watches SIGINT and SIGTERM on a thread of its own (a small current-thread runtime), so
/// workers that keep the run's runtime busy cannot delay it. The first signal aborts the run
/// gracefully (the partial result is written, verdict `aborted`); the second exits at once
/// with code 3. The thread ends when this is dropped.
struct SignalWatch {
    done: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SignalWatch {
    /// Starts the thread and returns once the handlers are installed.
    fn start(stop: StopSignal) -> SignalWatch {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("perfgate-signals".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                match rt {
                    Ok(rt) => rt.block_on(watch_signals(stop, ready_tx, done_rx)),
                    Err(e) => {
                        eprintln!("perfgate: cannot watch for signals: {e}");
                        let _ = ready_tx.send(());
                    }
                }
            })
            .ok();
        if thread.is_some() {
            let _ = ready_rx.recv();
        }
        SignalWatch {
            done: Some(done_tx),
            thread,
        }
    }
}

impl Drop for SignalWatch {
    fn drop(&mut self) {
        drop(self.done.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn watch_signals(
    stop: StopSignal,
    ready: std::sync::mpsc::Sender<()>,
    mut done: tokio::sync::oneshot::Receiver<()>,
) {
    let mut signals = Signals::install();
    let _ = ready.send(());
    loop {
        tokio::select! {
            _ = &mut done => return,
            _ = signals.next() => {}
        }
        if stop.count_signal() >= 2 {
            eprintln!("perfgate: second interrupt, exiting now");
            std::process::exit(3);
        }
        eprintln!("perfgate: interrupted, stopping (press Ctrl-C again to exit at once)");
        stop.abort();
    }
}

#[cfg(unix)]
struct Signals {
    int: Option<tokio::signal::unix::Signal>,
    term: Option<tokio::signal::unix::Signal>,
}

#[cfg(unix)]
impl Signals {
    fn install() -> Self {
        use tokio::signal::unix::{signal, SignalKind};
        Signals {
            int: signal(SignalKind::interrupt()).ok(),
            term: signal(SignalKind::terminate()).ok(),
        }
    }

    async fn next(&mut self) {
        async fn one(s: &mut Option<tokio::signal::unix::Signal>) {
            match s {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending().await,
            }
        }
        tokio::select! {
            _ = one(&mut self.int) => {}
            _ = one(&mut self.term) => {}
        }
    }
}

#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn install() -> Self {
        Signals
    }

    async fn next(&mut self) {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::{ErrorCounts, ErrorSample, Window};

    fn window(requests: u64, connect: u64) -> Window {
        Window {
            requests,
            errors: connect,
            errors_by_class: ErrorCounts {
                connect,
                ..ErrorCounts::default()
            },
            ..Window::default()
        }
    }

    fn sample(message: &str) -> ErrorSample {
        ErrorSample {
            class: "connect".into(),
            request: "x".into(),
            message: message.into(),
            count: 1,
        }
    }

    #[test]
    fn warnings_say_how_long_the_target_was_unreachable() {
        let windows = [
            window(10, 0),
            window(500, 500),
            window(400, 400),
            window(0, 0),
        ];
        let w = warnings(
            &windows,
            &[sample(
                "connect 127.0.0.1:9: Connection refused (os error 111)",
            )],
        );
        assert_eq!(w, vec!["target unreachable for 2 s (connections refused)"]);
        assert!(warnings(&[window(10, 9)], &[]).is_empty());
    }

    #[test]
    fn warnings_name_the_file_descriptor_limit() {
        let w = warnings(
            &[window(10, 1)],
            &[sample(
                "connect 127.0.0.1:9: Too many open files (os error 24)",
            )],
        );
        assert_eq!(w.len(), 1);
        assert!(
            w[0].starts_with("the file descriptor limit was hit"),
            "{w:?}"
        );
        assert!(w[0].contains("Too many open files"));
        #[cfg(target_os = "linux")]
        assert!(w[0].contains("ulimit -n"), "{w:?}");
    }
}
