//! Command-line definitions (clap derive) and dispatch. Arguments are mapped to the plain
//! option structs of [`crate::app`]; nothing past this file sees clap types.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::app::{self, AppError};
use crate::client::demo::{DemoOptions, DemoServer};
use crate::client::Registry;
use crate::exit::ExitCode as Exit;
use crate::scenario::units::{parse_duration, parse_tolerance_pair, TolMetric, TolValue};

const EXIT_CODES: &str = "Exit codes:
  0  the run completed and every gate passed
  1  the run completed and a gate failed: a threshold, or a regression against the baseline
  2  invalid input: command line, scenario file, baseline or result file
  3  the run could not complete: target unreachable, aborted by signal, internal error";

/// Load tests and benchmarks as a CI gate: YAML scenarios, HDR latency, thresholds, a
/// noise-aware baseline comparison, and reports.
#[derive(Debug, Parser)]
#[command(name = "perfgate", version, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario, check its thresholds and baseline, write reports.
    Run(RunCli),
    /// Check scenario files without running them.
    Validate {
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
        /// Print the resulting stages, requests and thresholds.
        #[arg(long)]
        explain: bool,
    },
    /// Compare a saved result.json with a baseline, without running.
    Compare {
        result: PathBuf,
        #[arg(long)]
        baseline: Option<PathBuf>,
        #[command(flatten)]
        gate: GateCli,
        /// Also write the report files into this folder.
        #[arg(long)]
        out: Option<PathBuf>,
        /// List every compared metric in the summary, the unchanged ones too.
        #[arg(long, short)]
        verbose: bool,
    },
    /// Manage baselines.
    Baseline {
        #[command(subcommand)]
        command: BaselineCommand,
    },
    /// Regenerate report.html, the PNG charts and the rest from a saved result.json.
    Report {
        result: PathBuf,
        #[arg(long)]
        baseline: Option<PathBuf>,
        /// Output folder (default: the result's folder).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Merge results of one scenario run at the same time from several load generators.
    Merge {
        #[arg(required = true, num_args = 2..)]
        results: Vec<PathBuf>,
        /// Output folder (default: reports/<scenario-name>-merged).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Skip report.html and the PNG charts.
        #[arg(long)]
        no_report: bool,
        /// Merge runs that did not overlap in time (refused by default).
        #[arg(long)]
        allow_disjoint: bool,
    },
    /// Run the built-in demo server (what `base_url: embedded` starts).
    DemoServer {
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
        /// Added to every answer, e.g. 2ms.
        #[arg(long, value_parser = duration, default_value = "0ms")]
        latency: Duration,
        /// Uniform ± around the latency, e.g. 1ms.
        #[arg(long, value_parser = duration, default_value = "0ms")]
        jitter: Duration,
        /// Fraction of answers replaced by a 500, e.g. 0.01.
        #[arg(long, default_value_t = 0.0)]
        error_rate: f64,
        #[arg(long, default_value_t = 0x5eed)]
        seed: u64,
    },
}

#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// Run the scenario (or take --from RESULT) and write its baseline atomically.
    Refresh {
        scenario: PathBuf,
        /// Use this result.json instead of running.
        #[arg(long)]
        from: Option<PathBuf>,
        /// Accept an aborted run or failed thresholds.
        #[arg(long)]
        force: bool,
        /// Write this file instead of the scenario's baseline.
        #[arg(long)]
        baseline: Option<PathBuf>,
        #[arg(long)]
        base_url: Option<String>,
        #[arg(long)]
        threads: Option<usize>,
        #[arg(long)]
        repeat: Option<u32>,
        #[arg(long, short)]
        quiet: bool,
    },
}

#[derive(Debug, Args)]
pub struct RunCli {
    scenario: PathBuf,
    /// Output folder (default: reports/<scenario-name>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Send HTTP requests here instead of the scenario's base_url.
    #[arg(long)]
    base_url: Option<String>,
    /// Runtime worker threads (default: the CPUs this process may use).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    threads: Option<u16>,
    /// No live progress.
    #[arg(long, short)]
    quiet: bool,
    /// List every compared metric in the summary, the unchanged ones too.
    #[arg(long, short)]
    verbose: bool,
    /// Skip report.html and the PNG charts.
    #[arg(long)]
    no_report: bool,
    /// Do not compare with a baseline.
    #[arg(long, conflicts_with = "baseline")]
    no_baseline: bool,
    /// Compare with this baseline file (it must exist).
    #[arg(long)]
    baseline: Option<PathBuf>,
    #[command(flatten)]
    gate: GateCli,
    /// When a regression is found, rerun once and fail only if the rerun agrees.
    #[arg(long)]
    confirm: bool,
    /// Run the measurement N times and compare medians.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=20))]
    repeat: Option<u32>,
}

#[derive(Debug, Args)]
pub struct GateCli {
    /// Override a tolerance, e.g. --tolerance p99=15% (p50 p90 p95 p99 mean throughput error_rate).
    #[arg(long = "tolerance", value_parser = tolerance)]
    tolerances: Vec<(TolMetric, TolValue)>,
    /// Inconclusive metrics (past tolerance, not significant) fail too.
    #[arg(long)]
    strict: bool,
    /// A machine different from the baseline's is an error (exit 2).
    #[arg(long)]
    strict_env: bool,
}

fn duration(s: &str) -> Result<Duration, String> {
    parse_duration(s)
}

fn tolerance(s: &str) -> Result<(TolMetric, TolValue), String> {
    parse_tolerance_pair(s)
}

/// The whole program: parses the command line and runs it. Call this from your own binary
/// with a [`Registry`] that holds your functions.
pub fn main(registry: Registry) -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                Exit::Input
            } else {
                Exit::Pass
            }
            .into();
        }
    };
    let code = match dispatch(cli, &registry) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("perfgate: {e}");
            e.exit_code()
        }
    };
    code.into()
}

/// Runs a parsed command; returns the exit code.
pub fn dispatch(cli: Cli, registry: &Registry) -> Result<Exit, AppError> {
    match cli.command {
        Command::Run(r) => app::run(
            &app::RunArgs {
                scenario: r.scenario,
                out: r.out,
                base_url: r.base_url,
                threads: r.threads.map(usize::from),
                quiet: r.quiet,
                verbose: r.verbose,
                no_report: r.no_report,
                no_baseline: r.no_baseline,
                baseline: r.baseline,
                tolerances: r.gate.tolerances,
                strict: r.gate.strict,
                strict_env: r.gate.strict_env,
                confirm: r.confirm,
                repeat: r.repeat,
                handle_signals: true,
            },
            registry,
        ),
        Command::Validate { scenarios, explain } => {
            Ok(app::validate(&scenarios, explain, registry))
        }
        Command::Compare {
            result,
            baseline,
            gate,
            out,
            verbose,
        } => app::compare(
            &app::CompareArgs {
                result,
                baseline,
                tolerances: gate.tolerances,
                strict: gate.strict,
                strict_env: gate.strict_env,
                out,
                verbose,
            },
            registry,
        ),
        Command::Baseline {
            command:
                BaselineCommand::Refresh {
                    scenario,
                    from,
                    force,
                    baseline,
                    base_url,
                    threads,
                    repeat,
                    quiet,
                },
        } => app::refresh(
            &app::RefreshArgs {
                scenario,
                from,
                force,
                baseline,
                base_url,
                threads,
                quiet,
                repeat,
                handle_signals: true,
            },
            registry,
        ),
        Command::Report {
            result,
            baseline,
            out,
        } => app::report(&app::ReportArgs {
            result,
            baseline,
            out,
        }),
        Command::Merge {
            results,
            out,
            no_report,
            allow_disjoint,
        } => app::merge(
            &app::MergeArgs {
                results,
                out,
                no_report,
                allow_disjoint,
            },
            registry,
        ),
        Command::DemoServer {
            addr,
            latency,
            jitter,
            error_rate,
            seed,
        } => {
            if !(0.0..=1.0).contains(&error_rate) {
                return Err(AppError::Input(
                    "--error-rate is a fraction from 0 to 1".into(),
                ));
            }
            let server = DemoServer::start(
                addr,
                DemoOptions {
                    latency,
                    jitter,
                    error_rate,
                    seed,
                },
            )
            .map_err(|e| AppError::Run(format!("cannot listen on {addr}: {e}")))?;
            println!("demo server listening on {}", server.base_url());
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| AppError::Run(e.to_string()))?;
            rt.block_on(async {
                let _ = tokio::signal::ctrl_c().await;
            });
            Ok(Exit::Pass)
        }
    }
}
