//! Integration tests of the gate: thresholds, baseline files, comparison and verdicts, driven
//! with results built in code (see `gate/support.rs`).

#[path = "gate/support.rs"]
mod support;

#[path = "gate/baseline_files.rs"]
mod baseline_files;
#[path = "gate/comparison.rs"]
mod comparison;
#[path = "gate/thresholds_verdict.rs"]
mod thresholds_verdict;
