//! Every way several results become one, beside the model they fold: `perfgate merge` (runs
//! of several load generators at the same time: counts add up, latency from the summed
//! histograms) and `--repeat N` (several runs one after the other: per-metric medians). Both
//! take and give [`Measurement`]s: a fold is measured data, and the gate judges the folded
//! measurement afresh.

mod merge;
mod repeat;
mod sum;

pub use merge::{
    check_mergeable, merge, MergeChecks, MergeFindings, MergeRefusal, RUN_ID_SEPARATOR,
};
pub use repeat::{median_measurement, median_metrics};

use std::collections::BTreeMap;

use super::{ErrorClass, ErrorSample, Measurement};

/// The error samples of several runs, identical messages counted together.
pub fn merge_error_samples(runs: &[Measurement]) -> Vec<ErrorSample> {
    // Ordered by the class's name, then request and message.
    let mut samples: BTreeMap<_, (ErrorClass, u64)> = BTreeMap::new();
    for s in runs.iter().flat_map(|r| &r.error_samples) {
        samples
            .entry((s.class.name(), s.request.clone(), s.message.clone()))
            .or_insert((s.class, 0))
            .1 += s.count;
    }
    samples
        .into_iter()
        .map(|((_, request, message), (class, count))| ErrorSample {
            class,
            request,
            message,
            count,
        })
        .collect()
}

/// The warnings of several runs, each once, in the order first seen.
fn merge_warnings(runs: &[Measurement]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for w in runs.iter().flat_map(|r| &r.warnings) {
        // A segment's "judged on the merged result": this is the merged result.
        if w.ends_with(super::SEGMENT_NOTE) {
            continue;
        }
        if !out.contains(w) {
            out.push(w.clone());
        }
    }
    out
}
