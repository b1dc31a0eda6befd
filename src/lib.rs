//! perfgate: a load-testing and benchmark harness. YAML scenarios drive HTTP targets or
//! in-process async functions; the run is measured (HDR latency, 1-second windows, stages),
//! gated (thresholds, a noise-aware baseline comparison) and reported (terminal, JSON, HTML,
//! PNG, JUnit, Markdown). Most users run the `perfgate` binary; this library is for programs
//! that embed it.
//!
//! # The library
//!
//! The public face is what an embedding program needs, and nothing else:
//!
//! - **In-process benchmarks**: a [`Registry`] of named async functions, each called with a
//!   [`CallContext`] (the request's `params`) and returning an [`FnResult`]; a function may
//!   declare its params ([`ParamSpec`], [`ParamKind`]) so that a scenario giving a wrong one
//!   is refused when it is validated. [`CallContext::u64_param`] fails with a [`ParamError`].
//! - **The command line**: [`cli::main`] is the whole `perfgate` program, with your registry;
//!   [`cli::main_from`] runs it on arguments of your choosing.
//! - **The result model**: [`result::RunResult`] and the types it holds, to read a
//!   `result.json` (`perfgate/result/v1`: keys are added, never renamed).
//! - **Exit codes**: [`exit::ExitCode`] (0 pass, 1 a gate failed, 2 invalid input, 3 the run
//!   could not complete).
//!
//! ```no_run
//! use perfgate::{CallContext, FnResult, Registry};
//!
//! async fn checkout(_ctx: CallContext) -> FnResult {
//!     // the code under test
//!     Ok(())
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     let mut registry = Registry::with_builtins();
//!     registry.register("shop.checkout", checkout);
//!     // `my-bench run scenario.yaml`: a scenario's `call: shop.checkout` runs it.
//!     perfgate::cli::main(registry)
//! }
//! ```
//!
//! Every other module (`app`, `scenario`, `engine`, `client`, `metrics`, `gate`, `report`,
//! `schema`, and the folds inside `result`) is internal: `#[doc(hidden)]`, public only so the
//! crate's own integration tests and benches can reach it, and free to change in any release.
//!
//! # Layout
//!
//! The source reads as the pipeline, one folder a stage:
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
//! - `scenario` turns a YAML file into a validated `Plan`.
//! - `engine` turns the plan's load shape into a timeline and drives a `client` target (the
//!   lean HTTP/1.1 client on the hot path, in-process functions from a [`Registry`], the
//!   embedded demo server).
//! - `metrics` records per worker without locks and aggregates into windows, stages and
//!   totals, in the result's own types.
//! - `result` is the data between the stages: a `Measurement` (measured, unjudged), a
//!   [`result::RunResult`] (what `result.json` holds), the stored histogram and every fold
//!   of results (`merge`, `--repeat` medians).
//! - `gate` judges a measurement (thresholds, baseline comparison, verdict): `gate::judge` is
//!   how the library makes a `RunResult`. `report` renders one. Both read only `result`.
//! - [`exit::ExitCode`] is the exit-code contract.

#![warn(missing_docs)]
#![warn(unreachable_pub)]

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
