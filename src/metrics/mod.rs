//! Recording and aggregation. Each worker owns a [`Recorder`] (one HDR histogram and counters
//! per request name, no lock, no shared atomic) and hands its data over once per 1-second
//! window as a [`Batch`]. The [`Aggregator`] merges batches into windows, stages and totals.
//! Memory is bounded by the number of windows and stages, never by the number of requests.

mod aggregate;
pub mod codec;
mod merge;
mod recorder;
mod stats;

pub use aggregate::{stage_key, Aggregator, MetricsOutput, Phase};
pub use merge::{check_mergeable, merge_error_samples, merge_results, new_run_id, MergeRefusal};
pub use recorder::{Batch, Holds, Recorder, Sample, StatsPool};
pub use stats::{ErrorClass, FirstAttempt, Outcome, ReqStats};
