//! The measure step: one run of a plan, end to end, unjudged. The tokio runtime sized from
//! the CPUs this process may use, the embedded demo server when the scenario asks for it,
//! preflight, the engine, and the [`Measurement`] built from what it measured, with warnings
//! about what the numbers alone do not say (the target was unreachable, the file descriptor
//! limit was hit, `/proc` could not be read). The machine is sampled beside the load
//! (`metrics::machine`) and its steal and own CPU use put in the windows. Signals are watched on a thread of their own, so busy workers cannot
//! starve them. Used by `perfgate run`, `baseline refresh` and by tests, in-process; the
//! gate judges what it returns.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use super::distributed::{rfc3339, until_start, LateStart};
use super::{AppError, RunArgs};
use crate::client::demo::{DemoOptions, DemoServer};
use crate::client::{PlanTarget, Registry, TargetError};
use crate::engine::{self, EngineOutput, Segment, StopSignal, WindowHook};
use crate::exit::ExitCode;
use crate::gate::abort::AbortWatch;
use crate::metrics::machine::{annotate, Sampler, NO_PROC_WARNING};
use crate::metrics::monitor::{self, Monitor, MonitorOutput, MonitorTarget};
use crate::result::fold::median_measurement;
use crate::result::{
    new_run_id, EarlyStop, ErrorClass, ErrorSample, HostInfo, LoadModel, Measurement, ScenarioInfo,
    SegmentInfo, ToolInfo, Window,
};
use crate::scenario::{BaseUrl, Model, Plan};

/// How to measure a plan.
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
    /// exits at once with [`ExitCode::Run`] (3). Also prints a line on stderr when the load starts
    /// (`perfgate: running <name> ...`), once the handlers are in place.
    pub handle_signals: bool,
    /// Called with each closed 1-second window.
    pub on_window: Option<WindowHook>,
    /// Generator `I` of `N`: runs its share of the load (default: all of it).
    pub segment: Segment,
    /// Waits until this wall-clock instant before the load (after preflight); a run that
    /// gets there later does not start ([`RunError::Late`], exit 3).
    pub start_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The id the result records (default: a new one).
    pub run_id: Option<String>,
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
    /// `--start-at` had passed when this generator was ready.
    #[error(transparent)]
    Late(#[from] LateStart),
}

/// The runtime's default worker threads: every CPU this process may run on.
pub(crate) fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Measures `plan` once: runs it and returns what it measured, unjudged (thresholds and
/// baselines are the gate's: `gate::judge`).
pub fn measure(
    plan: &Plan,
    registry: &Registry,
    opts: RunOptions,
) -> Result<Measurement, RunError> {
    let threads = opts.threads.unwrap_or_else(default_threads).max(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .thread_name("perfgate-worker")
        .build()
        .map_err(RunError::Runtime)?;
    let (base_url, demo) = resolve_base_url(plan, opts.base_url.as_deref())?;
    let target_label = target_label(plan, opts.base_url.as_deref());

    let stop = opts.stop.clone();
    let handle_signals = opts.handle_signals;
    let early = Arc::new(OnceLock::new());
    let on_window = watch_windows(plan, opts.on_window, &stop, &early);
    let (segment, start_at) = (opts.segment, opts.start_at);
    let _signals = handle_signals.then(|| SignalWatch::start(stop.clone()));
    let out = rt.block_on(async {
        let target = PlanTarget::prepare(plan, base_url.as_deref(), registry).await?;
        if let Some(at) = start_at {
            wait_for_start(at, segment, &stop).await?;
        }
        if handle_signals {
            // The readiness line: handlers are in place and the load starts now.
            eprintln!(
                "perfgate: running {} for {:?} against {target_label}",
                plan.name,
                plan.load.total_duration()
            );
        }
        let names = plan.requests.iter().map(|r| r.name.clone()).collect();
        let weights = plan.requests.iter().map(|r| r.weight).collect();
        // Started with the load, so sample `i` covers window `i`.
        let sampler = Sampler::start();
        let watched = monitor_targets(plan);
        let sut = (!watched.is_empty()).then(|| Monitor::start(watched.clone()));
        let out = engine::drive_segment(
            Arc::new(target),
            names,
            weights,
            &plan.load,
            segment,
            stop.clone(),
            on_window,
        )
        .await;
        let sut = sut.map(|m| (watched, m.finish()));
        Ok::<_, RunError>((out, sampler.map(Sampler::finish), sut))
    })?;
    let (mut out, machine, sut) = out;
    if let Some(samples) = &machine {
        annotate(&mut out.metrics.timeseries, samples);
    }
    let sut_warning = sut.and_then(|(targets, o)| watched_sut(&mut out, &targets, o));
    drop(demo);
    rt.shutdown_timeout(std::time::Duration::from_millis(100));
    let mut m = measurement(plan, out, target_label, threads);
    m.stopped_early = early.get().cloned();
    if let Some(id) = opts.run_id {
        m.run_id = id;
    }
    if !segment.is_whole() || start_at.is_some() {
        m.segment = Some(SegmentInfo {
            index: segment.index(),
            count: segment.count(),
            start_at: start_at.map(rfc3339),
        });
    }
    if machine.is_none() {
        m.warnings.push(NO_PROC_WARNING.to_string());
    }
    m.warnings.extend(sut_warning);
    Ok(m)
}

/// The window hook of a run: `progress` (live progress), then the plan's abort conditions
/// (`abort: true` thresholds, `abort_when_unreachable` for HTTP targets), judged on every
/// window closed while the run goes. The first broken one is kept in `early` and halts the
/// run. Windows closed after the run began to stop are not judged.
fn watch_windows(
    plan: &Plan,
    progress: Option<WindowHook>,
    stop: &StopSignal,
    early: &Arc<OnceLock<EarlyStop>>,
) -> Option<WindowHook> {
    let unreachable = plan.abort_when_unreachable.filter(|_| plan.uses_http());
    let Some(mut watch) = AbortWatch::new(&plan.thresholds, plan.load.warmup, unreachable) else {
        return progress;
    };
    let mut progress = progress;
    let stop = stop.clone();
    let early = Arc::clone(early);
    Some(Box::new(move |w: &Window| {
        if let Some(hook) = progress.as_mut() {
            hook(w);
        }
        if stop.is_stopping() {
            return;
        }
        if let Some(e) = watch.observe(w) {
            let _ = early.set(e);
            stop.halt();
        }
    }))
}

/// Waits until `at` (wall clock), saying so on stderr: the readiness line of a generator
/// that waits for the others. Past `at`, the run does not start. A stop while waiting ends
/// the wait (the run then stops at once).
async fn wait_for_start(
    at: chrono::DateTime<chrono::Utc>,
    segment: Segment,
    stop: &StopSignal,
) -> Result<(), LateStart> {
    let wait = until_start(at, chrono::Utc::now())?;
    let of = if segment.is_whole() {
        String::new()
    } else {
        format!(" (segment {segment})")
    };
    eprintln!(
        "perfgate: waiting {:.1} s for --start-at {}{of}",
        wait.as_secs_f64(),
        rfc3339(at)
    );
    // The timer may wake a little early; the wall clock decides.
    let deadline = tokio::time::Instant::now() + wait;
    tokio::select! {
        _ = tokio::time::sleep_until(deadline) => {}
        _ = stop.stopped() => return Ok(()),
    }
    if let Ok(rest) = (at - chrono::Utc::now()).to_std() {
        tokio::time::sleep(rest).await;
    }
    Ok(())
}

/// The processes to watch: the scenario's `monitor:`, or perfgate itself when every request
/// is an in-process call and the scenario names none.
fn monitor_targets(plan: &Plan) -> Vec<MonitorTarget> {
    if plan.monitor.is_empty() && !plan.uses_http() {
        vec![MonitorTarget::Own]
    } else {
        plan.monitor.clone()
    }
}

/// Puts what the monitor saw into the windows and stages; the warning of a monitor that
/// stopped early (or never started).
fn watched_sut(
    out: &mut EngineOutput,
    targets: &[MonitorTarget],
    seen: MonitorOutput,
) -> Option<String> {
    let m = &mut out.metrics;
    monitor::annotate(&mut m.timeseries, &seen.samples);
    monitor::annotate_stages(&mut m.stages, &m.timeseries);
    // A monitor that stopped within the run's last partial second missed nothing.
    let stopped_early =
        seen.samples.is_empty() || (seen.samples.len() as f64) < out.elapsed.as_secs_f64().floor();
    seen.stopped
        .filter(|_| stopped_early)
        .map(|why| monitor::stopped_warning(targets, &why, seen.samples.len()))
}

/// Where HTTP requests go: `--base-url`, the scenario's URL, or the embedded demo server
/// (started here, on an ephemeral loopback port, and kept alive by the returned handle).
fn resolve_base_url(
    plan: &Plan,
    cli: Option<&str>,
) -> Result<(Option<String>, Option<DemoServer>), RunError> {
    Ok(match (cli, &plan.target.base_url) {
        (Some(u), _) => (Some(u.trim_end_matches('/').to_string()), None),
        (None, Some(BaseUrl::Url(u))) => (Some(u.clone()), None),
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
            (Some(server.base_url()), Some(server))
        }
        _ => (None, None),
    })
}

/// What the result says the run was sent to: the URL (secrets redacted), `embedded` or
/// `in-process`.
fn target_label(plan: &Plan, cli: Option<&str>) -> String {
    match (&plan.target.base_url, cli) {
        (_, Some(u)) => plan.secrets.redact(u),
        (Some(BaseUrl::Embedded), None) => "embedded".to_string(),
        (Some(BaseUrl::Url(u)), None) => plan.secrets.redact(u),
        (None, None) => "in-process".to_string(),
    }
}

/// What the engine measured, described: the scenario, the host, the warnings, redacted
/// error messages.
fn measurement(plan: &Plan, out: EngineOutput, target: String, threads: usize) -> Measurement {
    let m = out.metrics;
    let mut warnings = warnings(&m.timeseries, &m.error_samples);
    if plan.target.retry_idempotent && plan.uses_http() {
        warnings.push(format!(
            "target.retry_idempotent is on: a GET, HEAD or OPTIONS whose kept-alive connection \
             closed before the answer was sent again ({} retries, each counted as a request)",
            m.totals.retries
        ));
    }
    let mut error_samples = m.error_samples;
    for s in &mut error_samples {
        s.message = plan.secrets.redact(&s.message);
    }
    Measurement {
        tool: ToolInfo::default(),
        scenario: ScenarioInfo {
            name: plan.name.clone(),
            kind: plan.kind,
            file: plan.file.display().to_string(),
            hash: plan.hash.clone(),
            description: plan.description.clone(),
            target,
            model: match plan.load.model {
                Model::Closed { .. } => LoadModel::Closed,
                Model::Open { .. } => LoadModel::Open,
            },
        },
        host: HostInfo::current(threads),
        started_at: out
            .started_at
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        duration_s: out.elapsed.as_secs_f64(),
        aborted: out.aborted,
        totals: m.totals,
        warmup: m.warmup,
        requests: m.requests,
        stages: m
            .stages
            .into_iter()
            .map(|mut s| {
                s.name = plan.stage_names.get(s.index).cloned().flatten();
                s
            })
            .collect(),
        timeseries: m.timeseries,
        request_series: m.request_series,
        histograms: m.histograms,
        error_samples,
        warnings,
        run_id: new_run_id(out.started_at),
        repeat: None,
        stopped_early: None,
        segment: None,
        generators: Vec::new(),
    }
}

/// Measures `plan` as `args` say: `--repeat N` (or the scenario's `baseline.repeat`) runs,
/// stopping early if one is aborted, folded into per-metric medians; with live progress
/// unless `--quiet`.
pub(crate) fn measure_as_asked(
    plan: &Plan,
    registry: &Registry,
    args: &RunArgs,
) -> Result<Measurement, AppError> {
    // Before the load: the soft open-files limit raised, and a load that cannot fit refused.
    super::fdlimit::ensure(plan, args.base_url.is_some())?;
    let repeat = args.repeat.unwrap_or(plan.baseline.repeat).max(1);
    let mut runs = Vec::new();
    for i in 0..repeat {
        if repeat > 1 && !args.quiet {
            eprintln!("perfgate: run {}/{repeat}", i + 1);
        }
        let (bar, hook) = crate::report::progress::progress(
            plan.load.total_duration(),
            plan.load.stages.len(),
            match plan.load.model {
                Model::Closed { .. } => "VUs",
                Model::Open { .. } => "arrivals/s",
            },
            !args.quiet,
        );
        let opts = RunOptions {
            threads: args.threads,
            base_url: args.base_url.clone(),
            handle_signals: args.handle_signals,
            on_window: Some(hook),
            segment: args.distribution.segment,
            start_at: args.distribution.start_at,
            run_id: args.distribution.run_id.clone(),
            ..RunOptions::default()
        };
        let m = measure(plan, registry, opts).map_err(|e| AppError::Run(e.to_string()));
        bar.finish_and_clear();
        let m = m?;
        // A run that stopped itself failed: the others would not change that.
        let ended = m.aborted || m.stopped_early.is_some();
        runs.push(m);
        if ended {
            break;
        }
    }
    if runs.len() == 1
        || runs
            .last()
            .is_some_and(|m| m.aborted || m.stopped_early.is_some())
    {
        return runs
            .pop()
            .ok_or_else(|| AppError::Run("no run completed".into()));
    }
    median_measurement(&runs).ok_or_else(|| AppError::Run("no run completed".into()))
}

/// What the numbers alone do not say: how long the target refused every connection, and
/// whether connects failed because this process ran out of file descriptors or local ports.
fn warnings(windows: &[Window], samples: &[ErrorSample]) -> Vec<String> {
    let mut out = Vec::new();
    let connect = || samples.iter().filter(|s| s.class == ErrorClass::Connect);
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
pub(crate) struct SignalWatch {
    done: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SignalWatch {
    /// Starts the thread and returns once the handlers are installed.
    pub(crate) fn start(stop: StopSignal) -> SignalWatch {
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
            ExitCode::Run.exit_now();
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
    use crate::result::ErrorCounts;

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
            class: ErrorClass::Connect,
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
