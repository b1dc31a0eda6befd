//! The `perfgate` command line. [`main`] is the whole program (parse the process's
//! arguments, run the command, return its exit code); [`main_from`] does the same on any
//! arguments, for embedding binaries and tests. Both take the [`Registry`] of in-process
//! functions that scenarios may `call`; exit codes are [`crate::exit::ExitCode`]'s.
//!
//! Inside: the command-line definitions (clap derive) and their mapping onto `app`: one clap
//! struct per command, one `From` impl per command that turns it into the app's plain
//! options, and `dispatch`, which only calls the command. Nothing past this file sees clap
//! types, and no command runs here.
//!
//! A flag is defined once: in its command's struct, or in a group flattened into every
//! command that takes it (`GateCli`, `MeasureCli`). Adding one is a field there, the
//! field it fills in the app's options, and a line in the `From` impl; the impls
//! destructure exhaustively, so the compiler points at the line that is missing.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::app::{self, AppError};
use crate::client::demo::DemoOptions;
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
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run a scenario, check its thresholds and baseline, write reports.
    Run(RunCli),
    /// Check scenario files without running them.
    Validate(ValidateCli),
    /// Compare a saved result.json with a baseline, without running.
    Compare(CompareCli),
    /// Manage baselines.
    Baseline {
        #[command(subcommand)]
        command: BaselineCommand,
    },
    /// Regenerate report.html, the PNG charts and the rest from a saved result.json.
    Report(ReportCli),
    /// Merge results of one scenario run at the same time from several load generators.
    Merge(MergeCli),
    /// Run the built-in demo server (what `base_url: embedded` starts).
    DemoServer(DemoServerCli),
    /// Compare two versions (A the reference, B the change) with one scenario, in
    /// randomized interleaved slices; no stored baseline needed.
    Ab(AbCli),
}

#[derive(Debug, Subcommand)]
pub(crate) enum BaselineCommand {
    /// Run the scenario (or take --from RESULT) and write its baseline atomically.
    Refresh(RefreshCli),
}

/// How a scenario is measured: shared by `run` and `baseline refresh`.
#[derive(Debug, Args)]
pub(crate) struct MeasureCli {
    /// Send HTTP requests here instead of the scenario's base_url.
    #[arg(long)]
    base_url: Option<String>,
    /// Runtime worker threads (default: the CPUs this process may use).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    threads: Option<u16>,
    /// Run the measurement N times and use the medians.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=20))]
    repeat: Option<u32>,
    /// No live progress.
    #[arg(long, short)]
    quiet: bool,
}

/// How a result is judged against its baseline: shared by `run` and `compare`.
#[derive(Debug, Args)]
pub(crate) struct GateCli {
    /// Override a tolerance, e.g. --tolerance p99=15% (p50 p90 p95 p99 mean throughput error_rate).
    #[arg(long = "tolerance", value_parser = tolerance)]
    tolerances: Vec<(TolMetric, TolValue)>,
    /// Inconclusive metrics (past tolerance, not significant) fail too.
    #[arg(long)]
    strict: bool,
    /// A machine different from the baseline's, or a baseline of another testbed, is an
    /// error (exit 2) instead of an informational comparison.
    #[arg(long)]
    strict_env: bool,
    /// The testbed this run belongs to (default: $PERFGATE_TESTBED, else derived from the
    /// CPU model, CPU count and OS, e.g. intel-xeon-8272cl-2cpu-linux).
    #[arg(long, value_parser = testbed)]
    testbed: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct RunCli {
    scenario: PathBuf,
    /// Output folder (default: reports/<scenario-name>).
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    measure: MeasureCli,
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
    /// When a regression is found (or left inconclusive by a noisy machine: CPU steal, a
    /// saturated generator), rerun once and fail only if the rerun regresses.
    #[arg(long)]
    confirm: bool,
    #[command(flatten)]
    distributed: DistributedCli,
}

/// One load generator of several: shared by `run`.
#[derive(Debug, Args)]
pub(crate) struct DistributedCli {
    /// Run generator I's share of the load of N generators, e.g. 2/4 (default:
    /// $PERFGATE_SEGMENT, else all of it).
    #[arg(long, value_name = "I/N", conflicts_with = "segments")]
    segment: Option<String>,
    /// In a Kubernetes Indexed Job: run segment $JOB_COMPLETION_INDEX+1 of N.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    segments: Option<u32>,
    /// Wait until this instant before the warm-up: RFC 3339 (2026-11-23T09:00:00Z) or
    /// +DURATION (+10s). A generator that gets there later does not start (exit 3).
    #[arg(long, value_name = "TIME")]
    start_at: Option<String>,
    /// The run id the result records (default: from the scenario's hash and --start-at,
    /// so generators started together share it).
    #[arg(long, value_name = "ID")]
    run_id: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct ValidateCli {
    #[arg(required = true)]
    scenarios: Vec<PathBuf>,
    /// Print the resulting stages, requests and thresholds.
    #[arg(long)]
    explain: bool,
}

#[derive(Debug, Args)]
pub(crate) struct CompareCli {
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
}

#[derive(Debug, Args)]
pub(crate) struct RefreshCli {
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
    /// How many runs the baseline records (default 3): it learns its run-to-run spread.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=20))]
    runs: Option<u32>,
    /// The testbed the baseline is for (default: $PERFGATE_TESTBED, else derived from the
    /// machine); written to baselines/<scenario>/<testbed>.json.
    #[arg(long, value_parser = testbed)]
    testbed: Option<String>,
    #[command(flatten)]
    measure: MeasureCli,
}

#[derive(Debug, Args)]
pub(crate) struct ReportCli {
    result: PathBuf,
    #[arg(long)]
    baseline: Option<PathBuf>,
    /// Output folder (default: the result's folder).
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct MergeCli {
    /// Result files, or folders whose subfolders hold them (each generator's `result.json`).
    #[arg(required = true, num_args = 1..)]
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
    /// Merge the segments at hand when some are missing (refused by default); the result
    /// says which are missing.
    #[arg(long)]
    partial: bool,
    /// Judge with this scenario file (default: the file the results name); it must be the
    /// one the generators ran.
    #[arg(long)]
    scenario: Option<PathBuf>,
    /// Do not compare with a baseline.
    #[arg(long, conflicts_with = "baseline")]
    no_baseline: bool,
    /// Compare with this baseline file (it must exist).
    #[arg(long)]
    baseline: Option<PathBuf>,
    #[command(flatten)]
    gate: GateCli,
    /// List every compared metric in the summary, the unchanged ones too.
    #[arg(long, short)]
    verbose: bool,
}

#[derive(Debug, Args)]
pub(crate) struct DemoServerCli {
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
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("sides").required(true).multiple(true).args(["a", "a_call"]))]
pub(crate) struct AbCli {
    scenario: PathBuf,
    /// Side A's base URL (the reference, e.g. main).
    #[arg(long, requires = "b", value_name = "URL")]
    a: Option<String>,
    /// Side B's base URL (the change under test).
    #[arg(long, requires = "a", value_name = "URL")]
    b: Option<String>,
    /// Side A's registered function: every `call:` request of the scenario calls it.
    #[arg(long, requires = "b_call", value_name = "NAME")]
    a_call: Option<String>,
    /// Side B's registered function.
    #[arg(long, requires = "a_call", value_name = "NAME")]
    b_call: Option<String>,
    /// Measured length of each slice.
    #[arg(long, value_parser = duration, default_value = "1250ms")]
    slice: Duration,
    /// Warm-up before each slice, discarded.
    #[arg(long, value_parser = duration, default_value = "250ms")]
    slice_warmup: Duration,
    /// Pairs of slices (one of A and one of B each, in random order).
    #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u16).range(2..=1000))]
    pairs: u16,
    /// Seed of the order within each pair (default: from the clock; always printed).
    #[arg(long)]
    seed: Option<u64>,
    /// Output folder (default: reports/<scenario-name>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Runtime worker threads (default: the CPUs this process may use).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    threads: Option<u16>,
    /// No progress lines.
    #[arg(long, short)]
    quiet: bool,
    /// Skip report.html and the PNG charts.
    #[arg(long)]
    no_report: bool,
    /// Override a tolerance, e.g. --tolerance p99=15% (p50 p99 throughput error_rate).
    #[arg(long = "tolerance", value_parser = tolerance)]
    tolerances: Vec<(TolMetric, TolValue)>,
    /// Inconclusive metrics (the interval straddles the tolerance) fail too.
    #[arg(long)]
    strict: bool,
}

impl From<AbCli> for app::AbArgs {
    fn from(cli: AbCli) -> Self {
        let AbCli {
            scenario,
            a,
            b,
            a_call,
            b_call,
            slice,
            slice_warmup,
            pairs,
            seed,
            out,
            threads,
            quiet,
            no_report,
            tolerances,
            strict,
        } = cli;
        app::AbArgs {
            a,
            b,
            a_call,
            b_call,
            slice,
            warmup: slice_warmup,
            pairs: usize::from(pairs),
            seed,
            out,
            threads: threads.map(usize::from),
            quiet,
            no_report,
            tolerances,
            strict,
            // The command line is the process: Ctrl-C and SIGTERM end the comparison cleanly.
            handle_signals: true,
            ..app::AbArgs::new(scenario)
        }
    }
}

impl From<RunCli> for app::RunArgs {
    fn from(cli: RunCli) -> Self {
        let RunCli {
            scenario,
            out,
            measure:
                MeasureCli {
                    base_url,
                    threads,
                    repeat,
                    quiet,
                },
            verbose,
            no_report,
            no_baseline,
            baseline,
            gate:
                GateCli {
                    tolerances,
                    strict,
                    strict_env,
                    testbed,
                },
            confirm,
            distributed:
                DistributedCli {
                    segment,
                    segments,
                    start_at,
                    run_id,
                },
        } = cli;
        app::RunArgs {
            scenario,
            out,
            base_url,
            threads: threads.map(usize::from),
            quiet,
            verbose,
            no_report,
            no_baseline,
            baseline,
            tolerances,
            strict,
            strict_env,
            testbed,
            confirm,
            repeat,
            // The command line is the process: Ctrl-C and SIGTERM end the run cleanly.
            handle_signals: true,
            distributed: app::DistributedArgs {
                segment,
                segments,
                start_at,
                run_id,
            },
            distribution: Default::default(),
        }
    }
}

impl From<CompareCli> for app::CompareArgs {
    fn from(cli: CompareCli) -> Self {
        let CompareCli {
            result,
            baseline,
            gate:
                GateCli {
                    tolerances,
                    strict,
                    strict_env,
                    testbed,
                },
            out,
            verbose,
        } = cli;
        app::CompareArgs {
            result,
            baseline,
            tolerances,
            strict,
            strict_env,
            testbed,
            out,
            verbose,
        }
    }
}

impl From<RefreshCli> for app::RefreshArgs {
    fn from(cli: RefreshCli) -> Self {
        let RefreshCli {
            scenario,
            from,
            force,
            baseline,
            runs,
            testbed,
            measure:
                MeasureCli {
                    base_url,
                    threads,
                    repeat,
                    quiet,
                },
        } = cli;
        app::RefreshArgs {
            scenario,
            from,
            force,
            baseline,
            runs,
            testbed,
            base_url,
            threads: threads.map(usize::from),
            quiet,
            repeat,
            handle_signals: true,
        }
    }
}

impl From<ReportCli> for app::ReportArgs {
    fn from(cli: ReportCli) -> Self {
        let ReportCli {
            result,
            baseline,
            out,
        } = cli;
        app::ReportArgs {
            result,
            baseline,
            out,
        }
    }
}

impl From<MergeCli> for app::MergeArgs {
    fn from(cli: MergeCli) -> Self {
        let MergeCli {
            results,
            out,
            no_report,
            allow_disjoint,
            partial,
            scenario,
            no_baseline,
            baseline,
            gate:
                GateCli {
                    tolerances,
                    strict,
                    strict_env,
                    testbed,
                },
            verbose,
        } = cli;
        app::MergeArgs {
            results,
            out,
            no_report,
            allow_disjoint,
            partial,
            scenario,
            no_baseline,
            baseline,
            tolerances,
            strict,
            strict_env,
            testbed,
            verbose,
        }
    }
}

impl From<DemoServerCli> for app::DemoServerArgs {
    fn from(cli: DemoServerCli) -> Self {
        let DemoServerCli {
            addr,
            latency,
            jitter,
            error_rate,
            seed,
        } = cli;
        app::DemoServerArgs {
            addr,
            options: DemoOptions {
                latency,
                jitter,
                error_rate,
                seed,
            },
        }
    }
}

fn duration(s: &str) -> Result<Duration, String> {
    parse_duration(s)
}

fn tolerance(s: &str) -> Result<(TolMetric, TolValue), String> {
    parse_tolerance_pair(s)
}

fn testbed(s: &str) -> Result<String, String> {
    crate::gate::parse_testbed(s).map_err(|e| e.to_string())
}

/// The whole program: parses the process's command line and runs it. Call this from your
/// own binary with a [`Registry`] that holds your functions.
pub fn main(registry: Registry) -> ExitCode {
    main_from(std::env::args_os(), registry)
}

/// The whole program on `args` (the first is the program's name, as in
/// `std::env::args_os()`): what [`main`] does, for binaries that build their own command
/// line and for tests that drive the CLI in-process. Prints what the command prints and
/// returns its exit code; `run` and `baseline refresh` handle Ctrl-C as the binary does.
pub fn main_from<I, T>(args: I, registry: Registry) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                Exit::Input.into()
            } else {
                ExitCode::SUCCESS
            };
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
pub(crate) fn dispatch(cli: Cli, registry: &Registry) -> Result<Exit, AppError> {
    match cli.command {
        Command::Run(c) => app::run(&c.into(), registry),
        Command::Validate(ValidateCli { scenarios, explain }) => {
            Ok(app::validate(&scenarios, explain, registry))
        }
        Command::Compare(c) => app::compare(&c.into(), registry),
        Command::Baseline {
            command: BaselineCommand::Refresh(c),
        } => app::refresh(&c.into(), registry),
        Command::Report(c) => app::report(&c.into()),
        Command::Merge(c) => app::merge(&c.into(), registry),
        Command::DemoServer(c) => app::demo_server(&c.into()),
        Command::Ab(c) => app::ab(&c.into(), registry),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// The command `perfgate <args>` parses to (`args` split at spaces).
    fn parse(args: &str) -> Command {
        match Cli::try_parse_from(std::iter::once("perfgate").chain(args.split_whitespace())) {
            Ok(cli) => cli.command,
            Err(e) => panic!("{args}: {e}"),
        }
    }

    /// Whether clap refuses `perfgate <args>`.
    fn refused(args: &str) -> bool {
        Cli::try_parse_from(std::iter::once("perfgate").chain(args.split_whitespace())).is_err()
    }

    #[test]
    fn every_ab_flag_reaches_the_ab_args() {
        let Command::Ab(c) = parse(concat!(
            "ab s.yaml --a http://a:1 --b http://b:2 --a-call f --b-call g --slice 200ms",
            " --slice-warmup 100ms --pairs 3 --seed 9 --out o --threads 2 -q --no-report",
            " --tolerance p50=5% --strict",
        )) else {
            panic!("not ab");
        };
        let a = app::AbArgs::from(c);
        assert_eq!(a.scenario, Path::new("s.yaml"));
        assert_eq!(
            (a.a.as_deref(), a.b.as_deref()),
            (Some("http://a:1"), Some("http://b:2"))
        );
        assert_eq!(
            (a.a_call.as_deref(), a.b_call.as_deref()),
            (Some("f"), Some("g"))
        );
        assert_eq!(a.slice, Duration::from_millis(200));
        assert_eq!(a.warmup, Duration::from_millis(100));
        assert_eq!((a.pairs, a.seed, a.threads), (3, Some(9), Some(2)));
        assert_eq!(a.out.as_deref(), Some(Path::new("o")));
        assert!(a.quiet && a.no_report && a.strict);
        assert_eq!(a.tolerances, [(TolMetric::P50, TolValue::Percent(5.0))]);
        assert!(a.handle_signals, "the binary handles Ctrl-C");

        let Command::Ab(c) = parse("ab s.yaml --a-call f --b-call g") else {
            panic!("not ab");
        };
        let a = app::AbArgs::from(c);
        assert_eq!(
            (a.pairs, a.slice, a.warmup, a.seed),
            (
                12,
                Duration::from_millis(1250),
                Duration::from_millis(250),
                None
            )
        );
        assert!(refused("ab s.yaml"), "a side is required");
        assert!(refused("ab s.yaml --a http://a:1"), "--a needs --b");
        assert!(refused("ab s.yaml --b-call g"), "--b-call needs --a-call");
        assert!(refused("ab s.yaml --a-call f --b-call g --pairs 1"));
    }

    #[test]
    fn every_run_flag_reaches_the_run_args() {
        let run = parse(concat!(
            "run s.yaml --out o --base-url http://h:1 --threads 3 -q -v --no-report",
            " --baseline b.json --tolerance p99=15% --strict --strict-env --confirm --repeat 4",
            " --testbed ci-1",
        ));
        let Command::Run(c) = run else {
            panic!("not run");
        };
        let a = app::RunArgs::from(c);
        assert_eq!(a.scenario, Path::new("s.yaml"));
        assert_eq!(a.out.as_deref(), Some(Path::new("o")));
        assert_eq!(a.base_url.as_deref(), Some("http://h:1"));
        assert_eq!(a.threads, Some(3));
        assert!(a.quiet && a.verbose && a.no_report && !a.no_baseline);
        assert_eq!(a.baseline.as_deref(), Some(Path::new("b.json")));
        assert_eq!(a.tolerances, [(TolMetric::P99, TolValue::Percent(15.0))]);
        assert!(a.strict && a.strict_env && a.confirm);
        assert_eq!(a.repeat, Some(4));
        assert_eq!(a.testbed.as_deref(), Some("ci-1"));
        assert!(a.handle_signals, "the binary handles Ctrl-C");
        assert!(refused("run s.yaml --testbed ../up"));

        let Command::Run(c) = parse("run s.yaml --no-baseline") else {
            panic!("not run");
        };
        let a = app::RunArgs::from(c);
        assert!(a.no_baseline && !a.quiet && !a.verbose && !a.strict);
        assert_eq!((a.threads, a.repeat, a.baseline), (None, None, None));
        assert!(refused("run s.yaml --no-baseline --baseline b.json"));
    }

    #[test]
    fn every_compare_flag_reaches_the_compare_args() {
        let compare = parse(concat!(
            "compare r.json --baseline b.json --tolerance error_rate=0.5pp",
            " --strict --strict-env --out o --verbose --testbed amd-epyc-2",
        ));
        let Command::Compare(c) = compare else {
            panic!("not compare");
        };
        let a = app::CompareArgs::from(c);
        assert_eq!(a.result, Path::new("r.json"));
        assert_eq!(a.baseline.as_deref(), Some(Path::new("b.json")));
        assert_eq!(
            a.tolerances,
            [(TolMetric::ErrorRate, TolValue::Points(0.5))]
        );
        assert!(a.strict && a.strict_env && a.verbose);
        assert_eq!(a.out.as_deref(), Some(Path::new("o")));
        assert_eq!(a.testbed.as_deref(), Some("amd-epyc-2"));
    }

    #[test]
    fn every_refresh_flag_reaches_the_refresh_args() {
        let refresh = parse(concat!(
            "baseline refresh s.yaml --from r.json --force --baseline b.json",
            " --base-url http://h:1 --threads 2 --repeat 5 --quiet --runs 4 --testbed tb",
        ));
        let Command::Baseline {
            command: BaselineCommand::Refresh(c),
        } = refresh
        else {
            panic!("not refresh");
        };
        let a = app::RefreshArgs::from(c);
        assert_eq!(a.scenario, Path::new("s.yaml"));
        assert_eq!(a.from.as_deref(), Some(Path::new("r.json")));
        assert!(a.force && a.quiet && a.handle_signals);
        assert_eq!(a.baseline.as_deref(), Some(Path::new("b.json")));
        assert_eq!(a.base_url.as_deref(), Some("http://h:1"));
        assert_eq!((a.threads, a.repeat), (Some(2), Some(5)));
        assert_eq!((a.runs, a.testbed.as_deref()), (Some(4), Some("tb")));
        assert!(refused("baseline refresh s.yaml --runs 0"));
        // The measuring flags are the run's, limits included.
        assert!(refused("baseline refresh s.yaml --threads 0"));
        assert!(refused("baseline refresh s.yaml --repeat 21"));
    }

    #[test]
    fn every_report_merge_and_demo_server_flag_reaches_its_args() {
        let Command::Report(c) = parse("report r.json --baseline b.json --out o") else {
            panic!("not report");
        };
        let a = app::ReportArgs::from(c);
        assert_eq!(a.result, Path::new("r.json"));
        assert_eq!(a.baseline.as_deref(), Some(Path::new("b.json")));
        assert_eq!(a.out.as_deref(), Some(Path::new("o")));

        let Command::Merge(c) = parse("merge a.json b.json --out o --no-report --allow-disjoint")
        else {
            panic!("not merge");
        };
        let a = app::MergeArgs::from(c);
        assert_eq!(a.results, [Path::new("a.json"), Path::new("b.json")]);
        assert_eq!(a.out.as_deref(), Some(Path::new("o")));
        assert!(a.no_report && a.allow_disjoint);
        assert!(refused("merge"), "merging needs results");

        let Command::DemoServer(c) = parse(
            "demo-server --addr 127.0.0.1:0 --latency 2ms --jitter 1ms --error-rate 0.25 --seed 7",
        ) else {
            panic!("not demo-server");
        };
        let a = app::DemoServerArgs::from(c);
        assert_eq!(a.addr, "127.0.0.1:0".parse().unwrap());
        assert_eq!(a.options.latency, Duration::from_millis(2));
        assert_eq!(a.options.jitter, Duration::from_millis(1));
        assert_eq!((a.options.error_rate, a.options.seed), (0.25, 7));
        let Command::DemoServer(c) = parse("demo-server") else {
            panic!("not demo-server");
        };
        let a = app::DemoServerArgs::from(c);
        assert_eq!(a.addr, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(
            (a.options.latency, a.options.seed),
            (Duration::ZERO, 0x5eed)
        );
    }

    #[test]
    fn the_flags_of_several_generators_reach_run_and_merge() {
        let Command::Run(c) = parse("run s.yaml --segment 2/4 --start-at +10s --run-id r-1") else {
            panic!("not run");
        };
        let a = app::RunArgs::from(c);
        assert_eq!(
            a.distributed,
            app::DistributedArgs {
                segment: Some("2/4".into()),
                segments: None,
                start_at: Some("+10s".into()),
                run_id: Some("r-1".into()),
            }
        );
        let Command::Run(c) = parse("run s.yaml --segments 8") else {
            panic!("not run");
        };
        assert_eq!(app::RunArgs::from(c).distributed.segments, Some(8));
        assert!(refused("run s.yaml --segment 1/2 --segments 2"));
        assert!(refused("run s.yaml --segments 0"));

        let Command::Merge(c) = parse(concat!(
            "merge dir --partial --scenario s.yaml --baseline b.json --tolerance p99=5%",
            " --strict --strict-env --testbed k8s-4 -v",
        )) else {
            panic!("not merge");
        };
        let a = app::MergeArgs::from(c);
        assert_eq!(a.results, [Path::new("dir")], "a folder of results");
        assert!(a.partial && a.strict && a.strict_env && a.verbose && !a.no_baseline);
        assert_eq!(a.scenario.as_deref(), Some(Path::new("s.yaml")));
        assert_eq!(a.baseline.as_deref(), Some(Path::new("b.json")));
        assert_eq!(a.tolerances, [(TolMetric::P99, TolValue::Percent(5.0))]);
        assert_eq!(a.testbed.as_deref(), Some("k8s-4"));
        assert!(refused("merge a.json --no-baseline --baseline b.json"));
    }

    #[test]
    fn main_from_drives_the_command_line_in_process_with_its_registry() {
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/inprocess.yaml");
        let validate = |path: &Path, registry: Registry| {
            main_from(
                [OsString::from("perfgate"), "validate".into(), path.into()],
                registry,
            )
        };
        assert_eq!(
            validate(&shipped, Registry::with_builtins()),
            ExitCode::SUCCESS
        );
        // The registry passed in is the one the scenario is checked against.
        assert_eq!(validate(&shipped, Registry::new()), ExitCode::from(2));
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.yaml");
        std::fs::write(&bad, "name: [").unwrap();
        assert_eq!(validate(&bad, Registry::with_builtins()), ExitCode::from(2));
        assert_eq!(
            main_from(["perfgate", "run", "--no-such-flag"], Registry::new()),
            ExitCode::from(2)
        );
        // Checked in app::demo_server before it listens.
        assert_eq!(
            main_from(
                [
                    "perfgate",
                    "demo-server",
                    "--addr",
                    "127.0.0.1:0",
                    "--error-rate",
                    "2"
                ],
                Registry::new()
            ),
            ExitCode::from(2)
        );
    }
}
