//! What a result says about a run spread over several load generators: which segment of the
//! load a generator ran ([`SegmentInfo`], `run --segment I/N`), and, in a merged result, how
//! each generator fared ([`GeneratorHealth`]), so a saturated generator is seen as such
//! rather than as a slow service.

use serde::{Deserialize, Serialize};

use super::Window;

/// The end of the warning a segment's result carries (`segment 2/4 ` comes first); `merge`
/// leaves it out of the merged result, which is judged.
pub(crate) const SEGMENT_NOTE: &str = "of the load: thresholds and the baseline are judged on \
                                       the merged result (`perfgate merge`)";

/// The share of the load one generator ran: segment `index` of `count`.
#[derive(schemars::JsonSchema, Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SegmentInfo {
    /// This generator, from 1.
    pub index: u32,
    /// How many generators shared the load.
    pub count: u32,
    /// The wall-clock instant (RFC 3339) the generators waited for before the load
    /// (`--start-at`); `null` when they did not wait.
    #[serde(default)]
    pub start_at: Option<String>,
}

/// One generator of a merged result: where it ran and what it measured.
#[derive(schemars::JsonSchema, Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct GeneratorHealth {
    /// Its segment (`I/N`), or its position among the merged results (`#2`) when it ran
    /// no segment.
    pub segment: String,
    /// The host name of its machine.
    #[serde(default)]
    pub host: String,
    /// When its load started (RFC 3339).
    pub started_at: String,
    /// Requests it completed, outside the warm-up.
    pub requests: u64,
    /// Its failed requests.
    pub errors: u64,
    /// Open model: arrivals it could not send (its `max_in_flight` was reached).
    pub dropped: u64,
    /// Its highest CPU use in any second, percent of the CPUs it could use; `null` where it
    /// could not read `/proc`.
    #[serde(default)]
    pub peak_cpu_pct: Option<f64>,
    /// Seconds in which it used at least 90 % of its CPUs: it may have measured itself.
    pub saturated_s: u32,
}

impl GeneratorHealth {
    /// The health of one generator from its windows and totals.
    pub(crate) fn of(
        segment: String,
        host: String,
        started_at: String,
        totals: &super::Metrics,
        windows: &[Window],
    ) -> Self {
        GeneratorHealth {
            segment,
            host,
            started_at,
            requests: totals.requests,
            errors: totals.errors,
            dropped: totals.dropped,
            peak_cpu_pct: windows
                .iter()
                .filter_map(|w| w.generator_cpu_pct)
                .reduce(f64::max),
            saturated_s: windows.iter().filter(|w| w.saturated == Some(true)).count() as u32,
        }
    }
}

/// The name of this machine: `/proc/sys/kernel/hostname`, else `$HOSTNAME`, else `unknown`.
pub(crate) fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "unknown".into())
}
