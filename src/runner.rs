//! Running a plan end to end: the tokio runtime sized from the CPUs this process may use,
//! the embedded demo server when the scenario asks for it, preflight, the engine, and the
//! [`RunResult`] built from what it measured. Used by `perfgate run`, `baseline refresh` and
//! by tests, in-process.

use std::net::SocketAddr;
use std::sync::Arc;

use crate::engine::{self, StopSignal, WindowHook};
use crate::result::{HostInfo, RunResult, ScenarioInfo, ToolInfo, Verdict, RESULT_SCHEMA};
use crate::scenario::{BaseUrl, Model, Plan};
use crate::target::demo::{DemoOptions, DemoServer};
use crate::target::{PlanTarget, Registry, TargetError};

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
    /// exits at once with code 3.
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
    let out = rt.block_on(async {
        let target = PlanTarget::prepare(plan, base_url.as_deref(), registry).await?;
        if handle_signals {
            tokio::spawn(watch_signals(stop.clone()));
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
        warnings: Vec::new(),
        run_id: crate::metrics::new_run_id(out.started_at),
        thresholds: Vec::new(),
        comparison: None,
        repeat: None,
    })
}

/// First Ctrl-C or SIGTERM: stop gracefully (the partial result is written, verdict
/// `aborted`). Second: exit at once.
async fn watch_signals(stop: StopSignal) {
    loop {
        wait_for_signal().await;
        if stop.count_signal() >= 2 {
            eprintln!("perfgate: second interrupt, exiting now");
            std::process::exit(3);
        }
        eprintln!("perfgate: interrupted, stopping (press Ctrl-C again to exit at once)");
        stop.abort();
    }
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
