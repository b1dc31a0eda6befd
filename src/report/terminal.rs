//! The terminal summary printed after a run (`summary.txt` when written to a folder), walked
//! section by section in the one section order (`sections.rs`): a header line; the baseline
//! comparison per request name (changed and inconclusive metrics first, unchanged ones folded into
//! one line unless `verbose`); the KPI table (`kpi: true` budgets) and the thresholds (a warn level
//! reached reads WARN, yellow); tables per request name and per stage (with dropped
//! arrivals in the open model); errors by class with their time to failure and a sample message,
//! and retries; then the warnings and, for a run that did not pass, its reasons, the most important
//! one on the last line. Built with `tabled`, readable in 100 columns; plain text unless `color` is
//! set (widths ignore the ANSI escapes).

use std::fmt::Write as _;

use tabled::builder::Builder;
use tabled::settings::object::{Columns, Object, Rows};
use tabled::settings::{Alignment, Style, Width};

use super::budgets::{self, Status};
use super::format as f;
use super::generators;
use super::sections::{self, Section, SectionWriter};
use super::{ReportContext, ReportError, Reporter};
use crate::result::{ComparisonVerdict, MetricComparison, MetricVerdict, RunResult, Verdict};

/// Most secondary reasons listed above the last line; the rest are counted.
const MAX_ALSO: usize = 8;

/// Widest a name column may get before it is truncated.
const NAME_WIDTH: usize = 20;

/// Renders the terminal summary.
#[derive(Debug, Clone, Copy, Default)]
pub struct TerminalReport {
    /// ANSI colors for verdicts; off by default (and for files).
    pub color: bool,
    /// List every compared metric, the unchanged ones too (`--verbose`).
    pub verbose: bool,
}

impl Reporter for TerminalReport {
    fn file_name(&self) -> &str {
        "summary.txt"
    }

    fn render(&self, result: &RunResult, _ctx: &ReportContext<'_>) -> Result<Vec<u8>, ReportError> {
        Ok(render_terminal(result, *self).into_bytes())
    }
}

/// The summary text.
pub fn render_terminal(r: &RunResult, opts: TerminalReport) -> String {
    let mut w = Summary {
        r,
        opts,
        out: String::new(),
    };
    // Writing into a String cannot fail, and no text section returns an error.
    let _ = sections::walk(&mut w);
    w.out
}

/// The summary being written.
struct Summary<'a> {
    r: &'a RunResult,
    opts: TerminalReport,
    out: String,
}

impl SectionWriter for Summary<'_> {
    fn section(&mut self, section: Section) -> Result<(), ReportError> {
        match section {
            Section::Header => self.header(),
            Section::Charts => {}
            Section::Ab => self.ab(),
            Section::Comparison => self.comparison(),
            Section::Thresholds => self.thresholds(),
            Section::Requests => self.requests(),
            Section::Stages => self.stages(),
            Section::Errors => self.errors(),
            Section::Generators => self.generators(),
            Section::Closing => self.closing(),
        }
        Ok(())
    }
}

impl Summary<'_> {
    fn paint(&self, text: &str, code: &str) -> String {
        if self.opts.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn verdict_word(&self, v: Verdict) -> String {
        match v {
            Verdict::Pass => self.paint("PASS", "1;32"),
            Verdict::Fail => self.paint("FAIL", "1;31"),
            Verdict::Aborted => self.paint("ABORTED", "1;33"),
        }
    }

    fn header(&mut self) {
        let r = self.r;
        let verdict = self.verdict_word(r.verdict);
        let t = &r.totals;
        let _ = writeln!(
            self.out,
            "perfgate · {} ({}) · {verdict} · {} · {} requests, {}, {} errors",
            clean(&r.scenario.name),
            clean(r.scenario.kind.name()),
            f::duration(r.duration_s),
            f::count(t.requests),
            f::rps(t.throughput_rps),
            f::pct(t.error_rate)
        );
        if f::shows_dropped(r) {
            let _ = writeln!(
                self.out,
                "dropped: {} of {} arrivals (max_in_flight was reached)",
                f::dropped_cell(t),
                f::count(t.requests + t.dropped)
            );
        }
        if !r.scenario.target.is_empty() {
            let _ = writeln!(self.out, "target: {}", clean(&r.scenario.target));
        }
        if let Some(m) = f::machine(r) {
            let _ = writeln!(self.out, "{m}");
        }
        if let Some(m) = f::sut(r) {
            let _ = writeln!(self.out, "{m}");
        }
    }

    /// B against A: one row per metric with both sides, the change and its interval.
    fn ab(&mut self) {
        let Some(ab) = &self.r.ab else {
            return;
        };
        let verdict = match ab.verdict {
            ComparisonVerdict::Pass => self.paint("PASS", "1;32"),
            ComparisonVerdict::Fail => self.paint("FAIL", "1;31"),
        };
        let _ = writeln!(
            self.out,
            "\nA/B comparison: {verdict} (A {}, B {})\n{}",
            clean(&ab.a.target),
            clean(&ab.b.target),
            f::ab_design(ab)
        );
        let rows = ab
            .metrics
            .iter()
            .map(|m| {
                let mut cells = f::ab_cells(m);
                cells[6] = self.paint(&cells[6], verdict_color(m.verdict));
                cells.to_vec()
            })
            .collect();
        let _ = writeln!(self.out, "{}", table(&f::AB_HEADERS, rows, 1..6));
        for n in &ab.notes {
            let _ = writeln!(self.out, "note: {}", clean(n));
        }
    }

    fn comparison(&mut self) {
        let Some(c) = &self.r.comparison else {
            return;
        };
        let verdict = match c.verdict {
            ComparisonVerdict::Pass => self.paint("PASS", "1;32"),
            ComparisonVerdict::Fail => self.paint("FAIL", "1;31"),
        };
        let _ = writeln!(
            self.out,
            "\nBaseline comparison: {verdict} (baseline {}, {})",
            clean(&c.baseline_file),
            clean(&c.baseline_created_at)
        );
        if c.scenario_changed {
            self.out
                .push_str("warning: the scenario file changed since the baseline was taken\n");
        }
        for m in &c.env_mismatch {
            let _ = writeln!(self.out, "warning: environment differs: {}", clean(m));
        }
        for n in &c.notes {
            let _ = writeln!(self.out, "note: {}", clean(n));
        }
        // Tables of what changed or could not be judged; the unchanged rows of every table
        // fold into one line at the end.
        let mut folded = 0_u64;
        for (request, metrics) in sections::comparison_groups(c) {
            let name = if request == crate::result::TOTAL_KEY {
                "all requests".to_string()
            } else {
                clean(request)
            };
            let shown: Vec<&MetricComparison> = if self.opts.verbose {
                metrics
            } else {
                let all = metrics.len();
                let shown: Vec<_> = metrics
                    .into_iter()
                    .filter(|m| m.verdict != MetricVerdict::Unchanged)
                    .collect();
                folded += (all - shown.len()) as u64;
                shown
            };
            if shown.is_empty() {
                continue;
            }
            let rows = shown.iter().map(|m| self.comparison_row(m)).collect();
            let _ = writeln!(
                self.out,
                "request: {name}\n{}",
                table(&f::COMPARISON_HEADERS, rows, 1..6)
            );
        }
        match folded {
            0 => {}
            1 => self
                .out
                .push_str("+ 1 unchanged metric (--verbose lists it)\n"),
            n => {
                let _ = writeln!(
                    self.out,
                    "+ {} unchanged metrics (--verbose lists them)",
                    f::count(n)
                );
            }
        }
    }

    fn comparison_row(&self, m: &MetricComparison) -> Vec<String> {
        let mut cells = f::comparison_cells(m);
        cells[0] = clean(&m.metric);
        cells[6] = self.paint(&cells[6], verdict_color(m.verdict));
        cells.to_vec()
    }

    fn thresholds(&mut self) {
        if self.r.thresholds.is_empty() {
            return;
        }
        self.kpis();
        let rows: Vec<Vec<String>> = self
            .r
            .thresholds
            .iter()
            .map(|t| {
                vec![
                    clean(&t.expr),
                    f::threshold_observed(t),
                    f::with_unit(t.limit, &t.unit),
                    self.status(Status::of(t)),
                ]
            })
            .collect();
        let mut t = build(&["threshold", "observed", "limit", "result"], rows);
        t.modify(Columns::new(1..3).not(Rows::first()), Alignment::right());
        t.modify(Columns::first(), Width::truncate(48).suffix("…"));
        let _ = writeln!(self.out, "\nThresholds\n{t}");
    }

    /// `PASS` green, `WARN` yellow, `FAIL` red.
    fn status(&self, s: Status) -> String {
        match s {
            Status::Pass => self.paint("PASS", "32"),
            Status::Warn => self.paint("WARN", "33"),
            Status::Fail => self.paint("FAIL", "31"),
        }
    }

    /// The KPI table (`kpi: true` thresholds): target, warn and fail beside the observed value.
    fn kpis(&mut self) {
        let rows: Vec<Vec<String>> = budgets::kpi_rows(self.r)
            .into_iter()
            .map(|row| {
                let words = budgets::status_words(&row);
                let mut cells: Vec<String> = row.cells.iter().map(|c| clean(c)).collect();
                cells.push(match row.status {
                    Status::Pass => self.paint(&words, "32"),
                    Status::Warn => self.paint(&words, "33"),
                    Status::Fail => self.paint(&words, "31"),
                });
                cells
            })
            .collect();
        if rows.is_empty() {
            return;
        }
        let _ = writeln!(
            self.out,
            "\nKPIs\n{}",
            table(&budgets::KPI_HEADERS, rows, 1..5)
        );
    }

    fn requests(&mut self) {
        let r = self.r;
        if super::operations::applies(r) {
            let rows: Vec<Vec<String>> = super::operations::rows(r)
                .into_iter()
                .map(|mut row| {
                    row[0] = clean(&row[0]);
                    row
                })
                .collect();
            let h = super::operations::HEADERS;
            let _ = writeln!(
                self.out,
                "\nOperations (in-process calls)\n{}",
                table(&h, rows, 1..h.len())
            );
            return;
        }
        let dropped = f::shows_dropped(r);
        let mut rows = metric_rows(r.requests.iter().map(|(n, m)| (n.clone(), m)), dropped);
        rows.extend(metric_rows(
            std::iter::once(("all requests".to_string(), &r.totals)),
            dropped,
        ));
        let headers = metric_headers("request", dropped);
        let _ = writeln!(
            self.out,
            "\nRequests\n{}",
            table(&headers, rows, 1..headers.len())
        );
    }

    fn stages(&mut self) {
        let r = self.r;
        if r.stages.is_empty() {
            return;
        }
        let dropped = f::shows_dropped(r);
        let rows = metric_rows(
            r.stages.iter().map(|st| {
                let name = budgets::stage_name(st, " ");
                (
                    format!("#{}{name} {}", st.index + 1, f::level(st)),
                    &st.metrics,
                )
            }),
            dropped,
        );
        let headers = metric_headers("stage", dropped);
        let _ = writeln!(
            self.out,
            "\nStages\n{}",
            table(&headers, rows, 1..headers.len())
        );
    }

    fn generators(&mut self) {
        let rows = generators::rows(self.r);
        if rows.is_empty() {
            return;
        }
        let rows = rows
            .into_iter()
            .map(|r| r.iter().map(|c| clean(c)).collect())
            .collect();
        let _ = writeln!(
            self.out,
            "\n{}\n{}",
            generators::TITLE,
            table(&generators::HEADERS, rows, generators::FIRST_NUMERIC..8)
        );
        if let Some(note) = generators::saturation_note(self.r) {
            let _ = writeln!(self.out, "{note}");
        }
    }

    fn errors(&mut self) {
        let r = self.r;
        let classes: Vec<(&str, u64)> = r
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
                        .find(|e| e.class.name() == *class)
                        .map(|e| format!("{}: {}", clean(&e.request), clean(&e.message)))
                        .unwrap_or_default();
                    vec![
                        class.to_string(),
                        f::count(*n),
                        f::time_to_failure(&r.totals, class),
                        sample,
                    ]
                })
                .collect();
            let mut t = build(
                &["class", "count", "time to failure", "sample message"],
                rows,
            );
            t.modify(Columns::new(1..2).not(Rows::first()), Alignment::right());
            t.modify(Columns::new(3..4), Width::truncate(56).suffix("…"));
            let _ = writeln!(self.out, "\nErrors\n{t}");
        }
        if r.totals.retries > 0 {
            let _ = writeln!(self.out, "{}", f::retries_sentence(&r.totals));
        }
    }

    /// Warnings, then the reasons: the first reason is the last line, what a reader of a CI
    /// log sees first.
    fn closing(&mut self) {
        let r = self.r;
        if !r.warnings.is_empty() {
            self.out.push('\n');
            for w in &r.warnings {
                let line = format!("warning: {}", clean(w));
                let _ = writeln!(self.out, "{}", self.paint(&line, "33"));
            }
        }
        let Some((first, rest)) = r.reasons.split_first() else {
            return;
        };
        self.out.push('\n');
        for reason in rest.iter().take(MAX_ALSO) {
            let _ = writeln!(self.out, "also: {}", clean(reason));
        }
        if rest.len() > MAX_ALSO {
            let _ = writeln!(
                self.out,
                "also: {} more (every reason is in result.json, report.html and summary.md)",
                rest.len() - MAX_ALSO
            );
        }
        let label = match r.verdict {
            Verdict::Aborted => self.verdict_word(Verdict::Aborted),
            _ => self.verdict_word(Verdict::Fail),
        };
        let _ = writeln!(self.out, "{label}: {}", clean(first));
    }
}

/// The ANSI color of a compared metric's verdict.
fn verdict_color(v: MetricVerdict) -> &'static str {
    match v {
        MetricVerdict::Regressed | MetricVerdict::NoData => "31",
        MetricVerdict::Improved => "32",
        MetricVerdict::Unchanged => "0",
        MetricVerdict::Inconclusive => "33",
    }
}

/// Strips control characters (ANSI escapes from a hostile server included) from names and
/// messages before they reach a terminal.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// A table with a header row, in the summary's style.
fn build(headers: &[&str], rows: Vec<Vec<String>>) -> tabled::Table {
    let mut b = Builder::default();
    b.push_record(headers.iter().map(|h| h.to_string()));
    for r in rows {
        b.push_record(r);
    }
    let mut t = b.build();
    t.with(Style::sharp());
    t
}

/// A table with a left-aligned name column and numbers right-aligned in columns `numeric`.
fn table(headers: &[&str], rows: Vec<Vec<String>>, numeric: std::ops::Range<usize>) -> String {
    let mut t = build(headers, rows);
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

fn metric_headers(first: &'static str, dropped: bool) -> Vec<&'static str> {
    let mut headers = vec![first];
    headers.extend(without_max(f::metric_headers(dropped), dropped));
    headers
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
