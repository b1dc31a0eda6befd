//! perfgate: a load-testing and benchmark harness.
//!
//! The layout reads as the pipeline, one folder a stage:
//!
//! ```text
//! main → cli → app ─► scenario            YAML → validated Plan
//!                  ─► engine ─► client    schedule and drive the load (HTTP, in-process)
//!                       │
//!                       ▼
//!                    metrics ─► result ◄─ gate     Measurement → judged RunResult
//!                                      ◄─ report   terminal, JSON, HTML, PNG, JUnit, Markdown
//! ```
//!
//! - `cli` maps the command line onto `app`, the top layer: the commands and the measure step
//!   (`app::measure`), the only code that knows every stage.
//! - `scenario` turns a YAML file into a validated [`scenario::Plan`].
//! - `engine` turns the plan's load shape into a timeline and drives a `client` target (the
//!   lean HTTP/1.1 client on the hot path, in-process functions from a [`client::Registry`],
//!   the embedded demo server).
//! - `metrics` records per worker without locks and aggregates into windows, stages and
//!   totals, in the result's own types.
//! - `result` is the data between the stages: a [`result::Measurement`] (measured, unjudged),
//!   a [`result::RunResult`] (what `result.json` holds), the stored histogram and every fold
//!   of results (`merge`, `--repeat` medians).
//! - `gate` judges a measurement (thresholds, baseline comparison, verdict): `gate::judge` is
//!   how the library makes a `RunResult`. `report` renders one. Both read only `result`.
//! - [`exit::ExitCode`] is the exit-code contract (0 pass, 1 fail, 2 input, 3 run).
//!
//! For in-process benchmarks, build a [`client::Registry`], register your async functions and
//! hand it to [`cli::main`].

#[doc(hidden)]
pub mod app;
pub mod cli;
#[doc(hidden)]
pub mod client;
#[doc(hidden)]
pub mod engine;
pub mod exit;
#[doc(hidden)]
pub mod gate;
#[doc(hidden)]
pub mod metrics;
#[doc(hidden)]
pub mod report;
pub mod result;
#[doc(hidden)]
pub mod scenario;
#[doc(hidden)]
pub mod schema;

pub use client::{CallContext, FnResult, ParamError, Registry};
pub use scenario::{ParamKind, ParamSpec};
