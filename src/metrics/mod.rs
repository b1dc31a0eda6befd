//! Recording and aggregation. Each worker owns a [`Recorder`] (one HDR histogram and counters
//! per request name, no lock, no shared atomic) and hands its data over once per 1-second
//! window as a [`Batch`]. The [`Aggregator`] merges batches into windows, stages and totals.
//! Memory is bounded by the number of windows and stages, never by the number of requests.
//! Beside them, `machine` samples the machine (CPU steal, the generator's own CPU) once a
//! second on a thread of its own.

mod aggregate;
pub(crate) mod machine;
pub(crate) mod monitor;
mod recorder;
mod stats;

pub use aggregate::{ramp_level, Aggregator, MetricsOutput, Span};
pub use recorder::{Batch, Holds, Recorder, Sample, StatsPool};
pub use stats::{FirstAttempt, Outcome, ReqStats};

pub use crate::result::ErrorClass;
