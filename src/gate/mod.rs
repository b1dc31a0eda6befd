//! Thresholds, baselines, comparison with tolerance and the verdict.
