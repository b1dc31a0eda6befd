//! Integration tests of the harness (issue 2): scenario diagnostics, both load models, both
//! target kinds, every error class, preflight, signals, secrets and the CLI's exit codes.
//! Everything runs against loopback servers on ephemeral ports, for about a second each.

mod harness {
    pub mod cli;
    pub mod client_truth;
    pub mod counted;
    pub mod counting;
    pub mod engine;
    pub mod faults;
    pub mod gate_cli;
    pub mod input_truth;
    pub mod scenario_errors;
    pub mod schema;
    pub mod stop;
    pub mod support;
    pub mod verdict_truth;
    pub mod windows;
}
