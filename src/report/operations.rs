//! The per-operation table of an in-process benchmark (every request a `call`): what a
//! benchmark harness prints per function — count, operations per second, mean, median, p95,
//! p99, max and the success rate — with latencies in the unit that fits (µs below 1 ms). The
//! terminal, HTML and Markdown reports show it in place of the requests table when the run's
//! target is in-process.

use super::format as f;
use crate::result::{Metrics, RunResult};

/// The table's columns; the first names the operation.
pub(crate) const HEADERS: [&str; 9] = [
    "operation",
    "n",
    "ops/s",
    "mean",
    "median",
    "p95",
    "p99",
    "max",
    "success",
];

/// True when every request of the run was an in-process call.
pub(crate) fn applies(r: &RunResult) -> bool {
    r.scenario.target == "in-process"
}

/// One row per operation, then all of them together when there are several.
pub(crate) fn rows(r: &RunResult) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = r.requests.iter().map(|(n, m)| row(n, m)).collect();
    if r.requests.len() > 1 {
        out.push(row("all operations", &r.totals));
    }
    out
}

/// The cells of one operation: latency of successful calls (`n/a` when none succeeded),
/// calls per second whatever their outcome, and the share that succeeded.
pub(crate) fn row(name: &str, m: &Metrics) -> Vec<String> {
    let l = &m.latency_ms;
    let lat = |v: f64| {
        if m.ok == 0 {
            f::NA.to_string()
        } else {
            f::ms(v)
        }
    };
    let success = if m.requests == 0 {
        f::NA.to_string()
    } else {
        f::pct(m.ok as f64 / m.requests as f64)
    };
    vec![
        name.to_string(),
        f::count(m.requests),
        f::rps(m.attempted_rps).trim_end_matches("/s").to_string(),
        lat(l.mean),
        lat(l.p50),
        lat(l.p95),
        lat(l.p99),
        lat(l.max),
        success,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::Latency;

    #[test]
    fn an_operation_reads_in_microseconds_with_its_success_rate() {
        let m = Metrics {
            requests: 40_000,
            ok: 39_990,
            errors: 10,
            attempted_rps: 26_666.7,
            latency_ms: Latency {
                mean: 0.0074,
                p50: 0.007,
                p95: 0.008,
                p99: 0.013,
                max: 52.2,
                ..Latency::default()
            },
            ..Metrics::default()
        };
        assert_eq!(
            row("hash", &m),
            [
                "hash", "40,000", "26,667", "7.40µs", "7.00µs", "8.00µs", "13.0µs", "52.2ms",
                "99.98%"
            ]
        );
        let none = Metrics {
            requests: 3,
            errors: 3,
            ..Metrics::default()
        };
        let cells = row("fail", &none);
        assert_eq!((cells[3].as_str(), cells[8].as_str()), ("n/a", "0%"));
    }
}
