//! The terminal summary printed after a run (`summary.txt` when written to a folder): a header
//! line, tables per request name and per stage (with dropped arrivals in the open model),
//! errors by class with their time to failure and a sample message, retries, the thresholds
//! and, when there is a baseline, the comparison per request name; then the warnings and, for
//! a run that did not pass, its reasons, the most important one on the last line. Built with
//! `tabled`, readable in 100 columns; plain text unless `color` is set.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use tabled::builder::Builder;
use tabled::settings::object::{Columns, Object, Rows};
use tabled::settings::{Alignment, Style, Width};

use super::format as f;
use super::{ReportContext, Reporter};
use crate::result::{MetricComparison, MetricVerdict, RunResult, Verdict};

/// Most secondary reasons listed above the last line; the rest are counted.
const MAX_ALSO: usize = 8;

/// Widest a name column may get before it is truncated.
const NAME_WIDTH: usize = 20;

/// Renders the terminal summary.
#[derive(Debug, Clone, Copy, Default)]
pub struct TerminalReport {
    /// ANSI colors for verdicts; off by default (and for files).
    pub color: bool,
}

impl Reporter for TerminalReport {
    fn file_name(&self) -> &str {
        "summary.txt"
    }

    fn render(&self, result: &RunResult, _ctx: &ReportContext<'_>) -> anyhow::Result<Vec<u8>> {
        Ok(render_terminal(result, self.color).into_bytes())
    }
}

fn paint(text: &str, code: &str, color: bool) -> String {
    if color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// Strips control characters (ANSI escapes from a hostile server included) from names and
/// messages before they reach a terminal.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// A table with a left-aligned name column and numbers right-aligned in columns `numeric`.
fn table(headers: &[&str], rows: Vec<Vec<String>>, numeric: std::ops::Range<usize>) -> String {
    let mut b = Builder::default();
    b.push_record(headers.iter().map(|h| h.to_string()));
    for r in rows {
        b.push_record(r);
    }
    let mut t = b.build();
    t.with(Style::sharp());
    t.modify(Columns::new(numeric).not(Rows::first()), Alignment::right());
    t.modify(Columns::first(), Width::truncate(NAME_WIDTH).suffix("…"));
    t.to_string()
}

/// With a `dropped` column the `max` column goes (it is in the HTML and Markdown tables), so
/// the tables stay within 100 columns.
fn without_max<T>(mut cells: Vec<T>, dropped: bool) -> Vec<T> {
    if dropped {
        // dropped sits after requests: requests, dropped, rps, p50, p90, p95, p99, max, ...
        cells.remove(7);
    }
    cells
}

fn metric_rows<'a>(
    items: impl Iterator<Item = (String, &'a crate::result::Metrics)>,
    dropped: bool,
) -> Vec<Vec<String>> {
    items
        .map(|(name, m)| {
            let mut row = vec![clean(&name)];
            row.extend(without_max(f::metric_row(m, dropped), dropped));
            row
        })
        .collect()
}

/// The summary text.
pub fn render_terminal(r: &RunResult, color: bool) -> String {
    let mut s = String::new();
    let verdict = match r.verdict {
        Verdict::Pass => paint("PASS", "1;32", color),
        Verdict::Fail => paint("FAIL", "1;31", color),
        Verdict::Aborted => paint("ABORTED", "1;33", color),
    };
    let dropped = f::shows_dropped(r);
    let _ = writeln!(
        s,
        "perfgate · {} ({}) · {verdict} · {} · {} requests, {}, {} errors",
        clean(&r.scenario.name),
        clean(&r.scenario.kind),
        f::duration(r.duration_s),
        r.totals.requests,
        f::rps(r.totals.throughput_rps),
        f::pct(r.totals.error_rate)
    );
    if dropped {
        let _ = writeln!(
            s,
            "dropped: {} of {} arrivals (max_in_flight was reached)",
            f::dropped_cell(&r.totals),
            r.totals.requests + r.totals.dropped
        );
    }
    if !r.scenario.target.is_empty() {
        let _ = writeln!(s, "target: {}", clean(&r.scenario.target));
    }
    let mut headers = vec!["request"];
    headers.extend(without_max(f::metric_headers(dropped), dropped));
    let mut rows = metric_rows(r.requests.iter().map(|(n, m)| (n.clone(), m)), dropped);
    rows.extend(metric_rows(
        std::iter::once(("all requests".to_string(), &r.totals)),
        dropped,
    ));
    let _ = writeln!(s, "\nRequests\n{}", table(&headers, rows, 1..headers.len()));
    if !r.stages.is_empty() {
        headers[0] = "stage";
        let rows = metric_rows(
            r.stages
                .iter()
                .map(|st| (format!("#{} {}", st.index + 1, f::level(st)), &st.metrics)),
            dropped,
        );
        let _ = writeln!(s, "\nStages\n{}", table(&headers, rows, 1..headers.len()));
    }
    let classes: Vec<_> = r
        .totals
        .errors_by_class
        .iter()
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .collect();
    if !classes.is_empty() {
        let rows: Vec<Vec<String>> = classes
            .iter()
            .map(|(class, n)| {
                let sample = r
                    .error_samples
                    .iter()
                    .find(|e| e.class == *class)
                    .map(|e| format!("{}: {}", clean(&e.request), clean(&e.message)))
                    .unwrap_or_default();
                vec![
                    class.to_string(),
                    n.to_string(),
                    f::time_to_failure(&r.totals, class),
                    sample,
                ]
            })
            .collect();
        let mut t = Builder::default();
        t.push_record(["class", "count", "time to failure", "sample message"]);
        for row in rows {
            t.push_record(row);
        }
        let mut t = t.build();
        t.with(Style::sharp());
        t.modify(Columns::new(3..4), Width::truncate(56).suffix("…"));
        let _ = writeln!(s, "\nErrors\n{t}");
    }
    if r.totals.retries > 0 {
        let _ = writeln!(s, "{}", f::retries_sentence(&r.totals));
    }

    if !r.thresholds.is_empty() {
        let rows: Vec<Vec<String>> = r
            .thresholds
            .iter()
            .map(|t| {
                vec![
                    clean(&t.expr),
                    f::threshold_observed(t),
                    f::with_unit(t.limit, &t.unit),
                    if t.pass {
                        paint("PASS", "32", color)
                    } else {
                        paint("FAIL", "31", color)
                    },
                ]
            })
            .collect();
        let mut b = Builder::default();
        b.push_record(["threshold", "observed", "limit", "result"]);
        for row in rows {
            b.push_record(row);
        }
        let mut t = b.build();
        t.with(Style::sharp());
        t.modify(Columns::first(), Width::truncate(48).suffix("…"));
        let _ = writeln!(s, "\nThresholds\n{t}");
    }

    if let Some(c) = &r.comparison {
        let _ = writeln!(
            s,
            "\nBaseline comparison: {} (baseline {}, {})",
            match c.verdict {
                crate::result::ComparisonVerdict::Pass => paint("PASS", "1;32", color),
                crate::result::ComparisonVerdict::Fail => paint("FAIL", "1;31", color),
            },
            clean(&c.baseline_file),
            clean(&c.baseline_created_at)
        );
        if c.scenario_changed {
            s.push_str("warning: the scenario file changed since the baseline was taken\n");
        }
        for m in &c.env_mismatch {
            let _ = writeln!(s, "warning: environment differs: {}", clean(m));
        }
        for n in &c.notes {
            let _ = writeln!(s, "note: {}", clean(n));
        }
        let mut by_request: BTreeMap<&str, Vec<&MetricComparison>> = BTreeMap::new();
        for m in &c.metrics {
            by_request.entry(m.request.as_str()).or_default().push(m);
        }
        for (request, metrics) in by_request {
            let rows = metrics
                .iter()
                .map(|m| {
                    let mut cells = f::comparison_cells(m);
                    cells[0] = clean(&m.metric);
                    let code = match m.verdict {
                        MetricVerdict::Regressed => "31",
                        MetricVerdict::Improved => "32",
                        MetricVerdict::Unchanged => "0",
                        MetricVerdict::Inconclusive => "33",
                        MetricVerdict::NoData => "31",
                    };
                    cells[6] = paint(&cells[6], code, color);
                    cells.to_vec()
                })
                .collect();
            let _ = writeln!(
                s,
                "request: {}\n{}",
                clean(request),
                table(&f::COMPARISON_HEADERS, rows, 1..6)
            );
        }
    }
    if !r.warnings.is_empty() {
        s.push('\n');
        for w in &r.warnings {
            let _ = writeln!(s, "warning: {}", clean(w));
        }
    }
    // The first reason is the last line: what a reader of a CI log sees first.
    if let Some((first, rest)) = r.reasons.split_first() {
        s.push('\n');
        for reason in rest.iter().take(MAX_ALSO) {
            let _ = writeln!(s, "also: {}", clean(reason));
        }
        if rest.len() > MAX_ALSO {
            let _ = writeln!(
                s,
                "also: {} more (every reason is in result.json, report.html and summary.md)",
                rest.len() - MAX_ALSO
            );
        }
        let label = match r.verdict {
            Verdict::Aborted => paint("ABORTED", "1;33", color),
            _ => paint("FAIL", "1;31", color),
        };
        let _ = writeln!(s, "{label}: {}", clean(first));
    }
    s
}
