//! The "Generators" section of a merged result (`perfgate merge`): per load generator, its
//! segment, host, start, requests, errors, dropped arrivals and how busy its CPUs were, so a
//! saturated generator shows as one instead of passing for a slow service. Each reporter
//! lays out the same rows.

use super::format as f;
use crate::result::RunResult;

/// The section's title.
pub(crate) const TITLE: &str = "Generators";

/// Column headers; columns from [`FIRST_NUMERIC`] on are numbers.
pub(crate) const HEADERS: [&str; 8] = [
    "generator",
    "host",
    "started",
    "requests",
    "errors",
    "dropped",
    "peak CPU",
    "saturated",
];

/// The first numeric column of [`HEADERS`].
pub(crate) const FIRST_NUMERIC: usize = 3;

/// One row per generator (plain text: each reporter escapes it); empty for a single run.
pub(crate) fn rows(r: &RunResult) -> Vec<Vec<String>> {
    r.generators
        .iter()
        .map(|g| {
            vec![
                g.segment.clone(),
                g.host.clone(),
                g.started_at.clone(),
                f::count(g.requests),
                f::count(g.errors),
                f::count(g.dropped),
                g.peak_cpu_pct
                    .map_or_else(|| "n/a".to_string(), |p| format!("{p:.0} %")),
                if g.saturated_s == 0 {
                    "no".to_string()
                } else {
                    format!("{} s", g.saturated_s)
                },
            ]
        })
        .collect()
}

/// The line under the table when a generator was saturated: its numbers may be its own.
pub(crate) fn saturation_note(r: &RunResult) -> Option<String> {
    let busy: Vec<&str> = r
        .generators
        .iter()
        .filter(|g| g.saturated_s > 0)
        .map(|g| g.segment.as_str())
        .collect();
    (!busy.is_empty()).then(|| {
        format!(
            "generator {} used at least 90 % of its CPUs for a while: latency measured then may \
             be the generator's, not the service's; add generators or CPUs",
            busy.join(", ")
        )
    })
}
