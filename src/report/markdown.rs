//! `summary.md`: a short Markdown summary for pull requests and CI job pages, walked section by
//! section in the one section order (`sections.rs`): the first reason the run did not pass (its
//! first line), verdict, key totals (dropped arrivals and retries included), warnings, the baseline
//! comparison (unchanged metrics folded) and its warnings, the KPI table and thresholds, requests and stages
//! (folded), errors by class. Also appends it to GitHub's job summary when `GITHUB_STEP_SUMMARY` is
//! set. Cells are escaped with `super::escape::markdown_cell` (GitHub renders inline HTML).

use std::fmt::Write as _;
use std::io::Write as _;

use super::budgets::{self, Status};
use super::escape::markdown_cell as cell;
use super::escape::markdown_line as line;
use super::format as f;
use super::sections::{self, Section, SectionWriter};
use super::{ReportContext, ReportError, Reporter};
use crate::result::{ComparisonVerdict, MetricComparison, MetricVerdict, RunResult, Verdict};

/// Renders `summary.md`.
#[derive(Debug, Clone, Copy, Default)]
pub struct MarkdownReport;

impl Reporter for MarkdownReport {
    fn file_name(&self) -> &str {
        "summary.md"
    }

    fn render(&self, result: &RunResult, _ctx: &ReportContext<'_>) -> Result<Vec<u8>, ReportError> {
        Ok(render_markdown(result).into_bytes())
    }
}

fn row(s: &mut String, cells: &[String]) {
    s.push('|');
    for c in cells {
        let _ = write!(s, " {} |", cell(c));
    }
    s.push('\n');
}

fn head(s: &mut String, headers: &[&str], numeric: std::ops::Range<usize>) {
    row(
        s,
        &headers.iter().map(|h| h.to_string()).collect::<Vec<_>>(),
    );
    s.push('|');
    for i in 0..headers.len() {
        s.push_str(if numeric.contains(&i) {
            " ---: |"
        } else {
            " --- |"
        });
    }
    s.push('\n');
}

/// The Markdown document.
pub fn render_markdown(r: &RunResult) -> String {
    let mut w = Summary {
        r,
        out: String::new(),
    };
    // Writing into a String cannot fail, and no Markdown section returns an error.
    let _ = sections::walk(&mut w);
    w.out
}

/// The document being written.
struct Summary<'a> {
    r: &'a RunResult,
    out: String,
}

impl SectionWriter for Summary<'_> {
    fn section(&mut self, section: Section) -> Result<(), ReportError> {
        let (s, r) = (&mut self.out, self.r);
        match section {
            Section::Header => header(s, r),
            Section::Charts | Section::Closing => {}
            Section::Ab => ab(s, r),
            Section::Comparison => comparison(s, r),
            Section::Thresholds => thresholds(s, r),
            Section::Requests => requests(s, r),
            Section::Stages => stages(s, r),
            Section::Errors => errors(s, r),
            Section::Generators => generators(s, r),
        }
        Ok(())
    }
}

fn verdict_icon(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "✅",
        Verdict::Fail => "❌",
        Verdict::Aborted => "⚠️",
    }
}

/// The first reason (first line), the title, every reason, the totals, warnings, target.
fn header(s: &mut String, r: &RunResult) {
    let icon = verdict_icon(r.verdict);
    // The first line says why, when the run did not pass.
    if let Some(first) = r.reasons.first() {
        let _ = writeln!(
            s,
            "**{icon} {}: {}**\n",
            r.verdict.as_str().to_uppercase(),
            line(first)
        );
    }
    let _ = writeln!(
        s,
        "## {icon} perfgate: {} ({}) — {}\n",
        cell(&r.scenario.name),
        cell(r.scenario.kind.name()),
        r.verdict.as_str().to_uppercase()
    );
    if r.reasons.len() > 1 {
        for reason in &r.reasons {
            let _ = writeln!(s, "- {}", line(reason));
        }
        s.push('\n');
    }
    let t = &r.totals;
    let lat = |v: f64| {
        if t.ok == 0 {
            f::NA.to_string()
        } else {
            f::ms(v)
        }
    };
    let _ = write!(
        s,
        "**{}** requests in {} · **{}** · p50 **{}** · p95 **{}** · p99 **{}** · errors **{}** ({})",
        f::count(t.requests),
        f::duration(r.duration_s),
        f::rps(t.throughput_rps),
        lat(t.latency_ms.p50),
        lat(t.latency_ms.p95),
        lat(t.latency_ms.p99),
        f::count(t.errors),
        f::pct(t.error_rate)
    );
    if f::shows_dropped(r) {
        let _ = write!(s, " · dropped **{}**", f::dropped_cell(t));
    }
    if t.retries > 0 {
        let _ = write!(s, " · retries **{}**", f::count(t.retries));
    }
    s.push_str("\n\n");
    if let Some(m) = f::machine(r) {
        let _ = writeln!(s, "{}\n", cell(&m));
    }
    if let Some(m) = f::sut(r) {
        let _ = writeln!(s, "{}\n", cell(&m));
    }
    for w in &r.warnings {
        let _ = writeln!(s, "> ⚠️ {}\n", cell(w));
    }
    if !r.scenario.target.is_empty() {
        let _ = writeln!(
            s,
            "Target: {} · started {}\n",
            cell(&r.scenario.target),
            cell(&r.started_at)
        );
    }
}

/// The A/B comparison: B against A, one row per metric with the change's interval.
fn ab(s: &mut String, r: &RunResult) {
    let Some(ab) = &r.ab else {
        return;
    };
    let v = match ab.verdict {
        ComparisonVerdict::Pass => "✅ pass",
        ComparisonVerdict::Fail => "❌ FAIL",
    };
    let _ = writeln!(
        s,
        "### A/B comparison: {v}\n\nA: {} · B: {}. {}. {}\n",
        cell(&ab.a.target),
        cell(&ab.b.target),
        cell(&f::ab_design(ab)),
        cell(&ab.method)
    );
    for n in &ab.notes {
        let _ = writeln!(s, "> ℹ️ {}\n", cell(n));
    }
    head(s, &f::AB_HEADERS, 1..6);
    for m in &ab.metrics {
        let mut cells = f::ab_cells(m).to_vec();
        if let Some(last) = cells.last_mut() {
            *last = format!("{}{last}", verdict_mark(m.verdict));
        }
        row(s, &cells);
    }
    s.push('\n');
}

/// The mark before a compared metric's verdict.
fn verdict_mark(v: MetricVerdict) -> &'static str {
    match v {
        MetricVerdict::Regressed | MetricVerdict::NoData => "🔴 ",
        MetricVerdict::Improved => "🟢 ",
        MetricVerdict::Unchanged => "",
        MetricVerdict::Inconclusive => "🟡 ",
    }
}

/// The comparison: changed and inconclusive metrics in a table, the unchanged ones folded
/// into a `<details>` block.
fn comparison(s: &mut String, r: &RunResult) {
    let Some(c) = &r.comparison else {
        return;
    };
    let v = match c.verdict {
        ComparisonVerdict::Pass => "✅ pass",
        ComparisonVerdict::Fail => "❌ FAIL",
    };
    let _ = writeln!(
        s,
        "### Baseline comparison: {v}\n\nAgainst {} ({}). {}\n",
        cell(&c.baseline_file),
        cell(&c.baseline_created_at),
        cell(&c.method)
    );
    if c.scenario_changed {
        s.push_str("> ⚠️ **The scenario file changed since the baseline was taken.**\n\n");
    }
    for m in &c.env_mismatch {
        let _ = writeln!(s, "> ⚠️ Environment differs: {}\n", cell(m));
    }
    for n in &c.notes {
        let _ = writeln!(s, "> ℹ️ {}\n", cell(n));
    }
    let (changed, unchanged) = sections::changed_and_unchanged(c);
    if !changed.is_empty() {
        comparison_table(s, &changed);
    }
    if !unchanged.is_empty() {
        let n = unchanged.len();
        let _ = writeln!(
            s,
            "<details><summary>{} unchanged metric{}</summary>\n",
            f::count(n as u64),
            if n == 1 { "" } else { "s" }
        );
        comparison_table(s, &unchanged);
        s.push_str("</details>\n\n");
    }
}

fn comparison_table(s: &mut String, metrics: &[&MetricComparison]) {
    head(s, &f::COMPARISON_HEADERS, 1..6);
    for m in metrics {
        let mut cells = f::comparison_cells(m).to_vec();
        let icon = verdict_mark(m.verdict);
        if let Some(last) = cells.last_mut() {
            *last = format!("{icon}{last}");
        }
        row(s, &cells);
    }
    s.push('\n');
}

fn thresholds(s: &mut String, r: &RunResult) {
    if r.thresholds.is_empty() {
        return;
    }
    kpis(s, r);
    s.push_str("### Thresholds\n\n");
    head(s, &["threshold", "observed", "limit", "result"], 1..3);
    for th in &r.thresholds {
        row(
            s,
            &[
                th.expr.clone(),
                f::threshold_observed(th),
                f::with_unit(th.limit, &th.unit),
                status_icon(Status::of(th), Status::of(th).word()),
            ],
        );
    }
    s.push('\n');
}

/// `✅ pass`, `⚠️ warn`, `❌ FAIL`.
fn status_icon(status: Status, words: &str) -> String {
    let icon = match status {
        Status::Pass => "✅",
        Status::Warn => "⚠️",
        Status::Fail => "❌",
    };
    format!("{icon} {words}")
}

/// The KPI table: each `kpi: true` threshold's target, warn and fail levels and its value.
fn kpis(s: &mut String, r: &RunResult) {
    let rows = budgets::kpi_rows(r);
    if rows.is_empty() {
        return;
    }
    s.push_str("### KPIs\n\n");
    head(s, &budgets::KPI_HEADERS, 1..5);
    for k in &rows {
        let mut cells = k.cells.to_vec();
        cells.push(status_icon(k.status, &budgets::status_words(k)));
        row(s, &cells);
    }
    s.push('\n');
}

/// Per request name, folded, when there is more than one (one is the totals line).
fn requests(s: &mut String, r: &RunResult) {
    if super::operations::applies(r) {
        s.push_str("**Operations** (in-process calls)\n\n");
        let h = super::operations::HEADERS;
        head(s, &h, 1..h.len());
        for cells in super::operations::rows(r) {
            row(s, &cells);
        }
        s.push('\n');
        return;
    }
    if r.requests.len() < 2 {
        return;
    }
    let dropped = f::shows_dropped(r);
    s.push_str("<details><summary>Requests</summary>\n\n");
    let mut headers = vec!["request"];
    headers.extend(f::metric_headers(dropped));
    head(s, &headers, 1..headers.len());
    for (name, m) in &r.requests {
        let mut cells = vec![name.clone()];
        cells.extend(f::metric_row(m, dropped));
        row(s, &cells);
    }
    let mut cells = vec!["all requests".to_string()];
    cells.extend(f::metric_row(&r.totals, dropped));
    row(s, &cells);
    s.push_str("\n</details>\n\n");
}

fn stages(s: &mut String, r: &RunResult) {
    if r.stages.is_empty() {
        return;
    }
    let dropped = f::shows_dropped(r);
    s.push_str("<details><summary>Stages</summary>\n\n");
    let mut headers = vec!["stage"];
    headers.extend(f::metric_headers(dropped));
    head(s, &headers, 1..headers.len());
    for st in &r.stages {
        let mut cells = vec![format!(
            "#{}{} · {}",
            st.index + 1,
            budgets::stage_name(st, " · "),
            f::level(st)
        )];
        cells.extend(f::metric_row(&st.metrics, dropped));
        row(s, &cells);
    }
    s.push_str("\n</details>\n\n");
}

fn generators(s: &mut String, r: &RunResult) {
    let rows = super::generators::rows(r);
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(s, "### {}\n", super::generators::TITLE);
    let g = &super::generators::HEADERS;
    head(s, g, super::generators::FIRST_NUMERIC..g.len());
    for cells in &rows {
        row(s, cells);
    }
    s.push('\n');
    if let Some(note) = super::generators::saturation_note(r) {
        let _ = writeln!(s, "{}\n", cell(&note));
    }
}

fn errors(s: &mut String, r: &RunResult) {
    let t = &r.totals;
    let classes: Vec<(&str, u64)> = t
        .errors_by_class
        .iter()
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .collect();
    if !classes.is_empty() {
        s.push_str("### Errors\n\n");
        head(s, &["class", "count", "time to failure"], 1..2);
        for (class, n) in classes {
            row(
                s,
                &[class.to_string(), f::count(n), f::time_to_failure(t, class)],
            );
        }
        s.push('\n');
    }
    if t.retries > 0 {
        let _ = writeln!(s, "{}\n", cell(&f::retries_sentence(t)));
    }
}

/// Appends `md` to the file named by `GITHUB_STEP_SUMMARY`, when that variable is set (in a
/// GitHub Actions job); does nothing otherwise.
pub fn append_github_step_summary(md: &[u8]) -> Result<(), ReportError> {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    let path = std::path::PathBuf::from(path);
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| ReportError::io("opening", &path, e))?;
    file.write_all(md)
        .and_then(|()| file.write_all(b"\n"))
        .map_err(|e| ReportError::io("appending to", &path, e))?;
    Ok(())
}
