//! Recording and aggregation. Each worker owns a [`Recorder`] (a small buffer of 24-byte
//! [`Event`]s, no lock, no shared atomic, no histogram of its own) and hands its data over at
//! the end of each 1-second window, or every few hundred requests, as a [`Batch`]. The
//! [`Aggregator`] folds batches into windows, stages and totals.
//! Memory is bounded by the number of windows and stages, never by the number of requests.
//! Beside them, `machine` samples the machine (CPU steal, the generator's own CPU) once a
//! second on a thread of its own.

mod aggregate;
mod event;
pub(crate) mod machine;
pub(crate) mod monitor;
mod recorder;
mod stats;

pub use aggregate::{ramp_level, Aggregator, MetricsOutput, Span};
pub use event::Event;
pub use recorder::{Batch, EventPool, Holds, Recorder, Sample};
pub use stats::{FirstAttempt, Outcome, ReqStats};

pub use crate::result::ErrorClass;
