//! `perfgate demo-server`: the embedded demo server on a fixed address, in the foreground,
//! until Ctrl-C. The server runs on its own thread and runtime (`client::demo`); this
//! command only waits for the signal.

use std::net::SocketAddr;

use super::AppError;
use crate::client::demo::{DemoOptions, DemoServer};
use crate::exit::ExitCode;

/// What `perfgate demo-server` was asked to do.
#[derive(Debug, Clone)]
pub(crate) struct DemoServerArgs {
    /// Where to listen (port 0: any free port, printed at start).
    pub addr: SocketAddr,
    /// Latency, jitter, error rate and seed of the answers.
    pub options: DemoOptions,
}

/// Serves until Ctrl-C. `--error-rate` outside 0..=1 is invalid input (exit 2); an address
/// it cannot listen on is exit 3.
pub(crate) fn demo_server(args: &DemoServerArgs) -> Result<ExitCode, AppError> {
    if !(0.0..=1.0).contains(&args.options.error_rate) {
        return Err(AppError::Input(
            "--error-rate is a fraction from 0 to 1".into(),
        ));
    }
    // One descriptor per client connection: as many as the hard limit allows.
    let _ = super::fdlimit::raise();
    let server = DemoServer::start(args.addr, args.options.clone())
        .map_err(|e| AppError::Run(format!("cannot listen on {}: {e}", args.addr)))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| AppError::Run(e.to_string()))?;
    rt.block_on(async {
        // The handler is in place before the ready line, so a Ctrl-C right after it is a
        // clean stop (exit 0), never the default kill.
        let stop = interrupted();
        println!("demo server listening on {}", server.base_url());
        stop.await;
    });
    Ok(ExitCode::Pass)
}

/// Registers for Ctrl-C (and SIGTERM) now; resolves when one arrives.
fn interrupted() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let int = signal(SignalKind::interrupt());
        let term = signal(SignalKind::terminate());
        async move {
            match (int, term) {
                (Ok(mut int), Ok(mut term)) => {
                    tokio::select! {
                        _ = int.recv() => {}
                        _ = term.recv() => {}
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
