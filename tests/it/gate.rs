//! Integration tests of the gate: thresholds, baseline files, comparison and verdicts, driven
//! with results built in code (see `support/shapes.rs`).

mod baseline_files;
mod budgets_stages;
mod comparison;
mod runs_power_testbeds;
mod thresholds_verdict;
