//! perfgate's integration tests, one binary (one link) with a module per area:
//!
//! - `harness`: the binary and the in-process pipeline end to end against loopback servers
//!   (scenario diagnostics, load models, client truth, faults, signals, the gate's CLI).
//! - `gate`: thresholds, baseline files, comparison and verdicts on results built in code.
//! - `report`: every report format on fixture results (escaping, charts, snapshots).
//!
//! `support` is the one fixture tree they share: scenario files and the binary, in-process
//! runs, the raw and counting servers, and the result builders. Deterministic engine tests
//! under tokio's paused clock live beside the engine (`src/engine/sim_tests.rs`), where the
//! scripted fake target can reach the engine directly.

mod gate;
mod harness;
mod report;
mod support;
