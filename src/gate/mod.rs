//! Thresholds, baselines, comparison with tolerance and the verdict.

pub mod baseline;
pub mod stats;
pub mod thresholds;
