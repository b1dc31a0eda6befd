//! perfgate: a load-testing and benchmark harness.
//!
//! The pipeline, one folder a stage: `scenario` (YAML → validated [`scenario::Plan`]) →
//! `engine` (schedule and drive targets) → `client` (what a request is sent to: HTTP, in-process
//! functions, the demo server) → `metrics` (per-worker HDR histograms, windows) →
//! `gate` (thresholds, baseline comparison, verdict) → `report` (terminal, JSON, HTML, PNG,
//! JUnit, Markdown). `result` holds the run's result as plain data between them.
//!
//! For in-process benchmarks, build a [`client::Registry`], register your async functions and
//! hand it to [`cli::main`].

pub mod app;
pub mod cli;
pub mod client;
pub mod engine;
pub mod gate;
pub mod metrics;
pub mod report;
pub mod result;
pub mod runner;
pub mod scenario;
#[doc(hidden)]
pub mod schema;
