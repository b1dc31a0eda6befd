//! Integration tests of the harness (issue 2): scenario diagnostics, both load models, both
//! target kinds, every error class, preflight, signals, secrets and the CLI's exit codes.
//! Everything runs against loopback servers on ephemeral ports, for about a second each.

mod ab;
mod abort;
mod cli;
mod client_truth;
mod counted;
mod deploy;
mod distributed;
mod engine;
mod faults;
mod fd_limit;
mod gate_cli;
mod input_truth;
mod monitor;
mod scenario_errors;
mod schema;
mod stop;
mod threshold_forms;
mod verdict_truth;
mod windows;
