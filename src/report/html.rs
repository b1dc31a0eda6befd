//! `report.html`: one self-contained page per run. Inline CSS, the six charts as inline SVG
//! (generic `sans-serif` text), no scripts and no network request of any kind. Every string
//! from the scenario, the environment or a server goes through [`super::escape::html`].

use std::fmt::Write as _;

use super::budgets::{self, Status};
use super::charts::{self, Chart};
use super::escape::html as esc;
use super::format as f;
use super::sections::{self, Section, SectionWriter};
use super::{ReportContext, ReportError, Reporter};
use crate::result::{Comparison, MetricComparison, Metrics, RunResult, Verdict};

/// Renders `report.html`.
#[derive(Debug, Clone, Copy, Default)]
pub struct HtmlReport;

impl Reporter for HtmlReport {
    fn file_name(&self) -> &str {
        "report.html"
    }

    fn render(&self, result: &RunResult, ctx: &ReportContext<'_>) -> Result<Vec<u8>, ReportError> {
        render_html(result, ctx).map(String::into_bytes)
    }
}

const CSS: &str = r#"
:root{--fg:#1d1f23;--muted:#5b6270;--line:#d9dce1;--bg:#fff;--pass:#1a7f37;--fail:#c0262d;
--aborted:#8a5a00;--improved:#1a7f37;--regressed:#c0262d;--unchanged:#5b6270;--inconclusive:#9a6700}
*{box-sizing:border-box}
body{margin:0 auto;max-width:1280px;padding:16px;font:15px/1.45 system-ui,-apple-system,"Segoe UI",
Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg)}
h1{font-size:1.6em;margin:.2em 0;word-break:break-word}
h2{font-size:1.25em;margin:1.6em 0 .5em;border-bottom:1px solid var(--line);padding-bottom:.2em}
.badge{display:inline-block;padding:.15em .6em;border-radius:4px;color:#fff;font-weight:600;
text-transform:uppercase;font-size:.8em;vertical-align:middle}
.badge.pass{background:var(--pass)}.badge.fail{background:var(--fail)}.badge.aborted{background:var(--aborted)}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.15em 1em;margin:.6em 0}
dl.meta dt{color:var(--muted)}dl.meta dd{margin:0;word-break:break-all}
figure{margin:0 0 1.2em}figure svg{width:100%;height:auto;display:block;border:1px solid var(--line)}
.charts{display:grid;grid-template-columns:1fr;gap:8px}
@media (min-width:1900px){body{max-width:2400px}.charts{grid-template-columns:1fr 1fr}}
.scroll{overflow-x:auto}
table{border-collapse:collapse;margin:.3em 0 1em;font-variant-numeric:tabular-nums}
th,td{border-bottom:1px solid var(--line);padding:.3em .7em;text-align:right;white-space:nowrap}
th{background:#f4f5f7}
td.name,th.name{text-align:left;white-space:normal;overflow-wrap:anywhere;min-width:10em;max-width:32em}
td.msg{text-align:left;white-space:pre-wrap;overflow-wrap:anywhere;min-width:14em;max-width:48em;font-family:ui-monospace,monospace;font-size:.9em}
.v-pass,.v-improved{color:var(--improved);font-weight:600}
.v-fail,.v-regressed{color:var(--regressed);font-weight:600}
.v-unchanged{color:var(--unchanged)}.v-inconclusive{color:var(--inconclusive);font-weight:600}
tr.regressed{background:#fdecec}tr.improved{background:#eaf6ec}tr.inconclusive{background:#fff6dd}
.warn{border-left:4px solid var(--inconclusive);background:#fff6dd;padding:.5em .8em;margin:.5em 0}
.warn.strong{border-color:var(--fail);background:#fdecec}
.muted{color:var(--muted)}
.reasons{margin:.4em 0;padding:.5em .8em;border-left:4px solid var(--fail);background:#fdecec;font-weight:600}
.reasons.aborted{border-color:var(--aborted);background:#fff6dd}
.reasons ul{margin:.3em 0 0;padding-left:1.2em;font-weight:400}
tr.no_data{background:#fdecec}.v-no_data{color:var(--regressed);font-weight:600}
footer{margin-top:2em;color:var(--muted);font-size:.85em}
details{margin:.3em 0 1em}summary{cursor:pointer;color:var(--muted)}
@media (max-width:900px){th,td{padding:.3em .45em}}
@media (max-width:700px){body{padding:8px;font-size:14px}th,td{padding:.25em .4em}}
@media print{body{max-width:none;padding:0;font-size:10pt}figure,table,.warn{break-inside:avoid}
h2{break-after:avoid}.badge{color:#000;border:1px solid #000;background:none!important}
.scroll{overflow:visible}tr.regressed,tr.improved,tr.inconclusive,th{background:none}}
"#;

/// The whole page as a string.
pub fn render_html(result: &RunResult, ctx: &ReportContext<'_>) -> Result<String, ReportError> {
    let mut out = String::with_capacity(256 * 1024);
    let name = esc(&result.scenario.name);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>perfgate · {name}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
    );
    sections::walk(&mut Page {
        r: result,
        ctx,
        out: &mut out,
    })?;
    out.push_str("</body>\n</html>\n");
    Ok(out)
}

/// The page being written.
struct Page<'a, 'b> {
    r: &'a RunResult,
    ctx: &'a ReportContext<'b>,
    out: &'a mut String,
}

impl SectionWriter for Page<'_, '_> {
    fn section(&mut self, section: Section) -> Result<(), ReportError> {
        let (out, r) = (&mut *self.out, self.r);
        match section {
            Section::Header => header(out, r),
            Section::Charts => charts(out, r, self.ctx)?,
            Section::Ab => ab_section(out, r),
            Section::Comparison => comparison_section(out, r.comparison.as_ref()),
            Section::Thresholds => thresholds(out, r),
            Section::Requests => requests(out, r),
            Section::Stages => stages(out, r),
            Section::Errors => errors(out, r),
            Section::Generators => generators(out, r),
            Section::Closing => {
                let _ = writeln!(
                    out,
                    "<footer>Generated by {} {} · schema {}</footer>",
                    esc(&r.tool.name),
                    esc(&r.tool.version),
                    esc(&r.schema)
                );
            }
        }
        Ok(())
    }
}

fn charts(out: &mut String, r: &RunResult, ctx: &ReportContext<'_>) -> Result<(), ReportError> {
    out.push_str("<h2>Charts</h2>\n<div class=\"charts\">\n");
    for chart in Chart::ALL {
        let svg = charts::svg(chart, r, ctx)?;
        let _ = writeln!(out, "<figure id=\"chart-{}\">", chart.slug());
        out.push_str(&inline_svg(&svg, chart.title()));
        out.push_str("</figure>\n");
    }
    out.push_str("</div>\n");
    Ok(())
}

/// Makes plotters' standalone SVG responsive and inline: drops the fixed size and the XML
/// namespace (implied inside HTML), adds an accessible name.
fn inline_svg(svg: &str, title: &str) -> String {
    let (w, h) = (charts::WIDTH, charts::HEIGHT);
    let open = format!(
        "<svg width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" xmlns=\"http://www.w3.org/2000/svg\">"
    );
    let replacement = format!(
        "<svg viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}\" preserveAspectRatio=\"xMidYMid meet\">",
        esc(title)
    );
    match svg.find(&open) {
        Some(at) => {
            let mut s = String::with_capacity(svg.len());
            s.push_str(&svg[..at]);
            s.push_str(&replacement);
            s.push_str(&svg[at + open.len()..]);
            s
        }
        None => svg.to_string(),
    }
}

fn verdict_class(v: Verdict) -> &'static str {
    v.as_str()
}

fn header(out: &mut String, r: &RunResult) {
    let s = &r.scenario;
    let _ = writeln!(
        out,
        "<header>\n<h1>{} <span class=\"badge {}\">{}</span></h1>",
        esc(&s.name),
        verdict_class(r.verdict),
        r.verdict.as_str()
    );
    // Why, right under the badge: visible without scrolling.
    if let Some((first, rest)) = r.reasons.split_first() {
        let _ = write!(
            out,
            "<div class=\"reasons {}\" id=\"reasons\">{}",
            verdict_class(r.verdict),
            esc(first)
        );
        if !rest.is_empty() {
            out.push_str("<ul>");
            for reason in rest {
                let _ = write!(out, "<li>{}</li>", esc(reason));
            }
            out.push_str("</ul>");
        }
        out.push_str("</div>\n");
    }
    for w in &r.warnings {
        let _ = writeln!(out, "<div class=\"warn\">{}</div>", esc(w));
    }
    if let Some(d) = s.description.as_deref().filter(|d| !d.is_empty()) {
        let _ = writeln!(out, "<p class=\"muted\">{}</p>", esc(d));
    }
    let h = &r.host;
    let machine = f::machine(r)
        .map(|m| m.trim_start_matches("machine: ").to_string())
        .unwrap_or_default();
    let sut = f::sut(r)
        .map(|m| m.trim_start_matches("system under test: ").to_string())
        .unwrap_or_default();
    let rows: [(&str, String); 11] = [
        ("kind", s.kind.to_string()),
        ("target", s.target.clone()),
        ("model", s.model.to_string()),
        ("started", r.started_at.clone()),
        ("duration", f::duration(r.duration_s)),
        ("scenario file", s.file.clone()),
        (
            "host",
            format!("{} / {} · {} cpus · {}", h.os, h.arch, h.cpus, h.cpu_model),
        ),
        ("machine", machine),
        ("system under test", sut),
        ("tool", format!("{} {}", r.tool.name, r.tool.version)),
        ("exit code", r.exit_code.to_string()),
    ];
    out.push_str("<dl class=\"meta\">\n");
    for (k, v) in rows.iter().filter(|(_, v)| !v.is_empty()) {
        let _ = writeln!(out, "<dt>{k}</dt><dd>{}</dd>", esc(v));
    }
    out.push_str("</dl>\n");
    let t = &r.totals;
    let lat = |v: f64| {
        if t.ok == 0 {
            f::NA.to_string()
        } else {
            f::ms(v)
        }
    };
    let _ = write!(
        out,
        "<p><strong>{}</strong> requests · <strong>{}</strong> · p50 <strong>{}</strong> · \
         p99 <strong>{}</strong> · errors <strong>{}</strong> ({})",
        f::count(t.requests),
        f::rps(t.throughput_rps),
        lat(t.latency_ms.p50),
        lat(t.latency_ms.p99),
        f::count(t.errors),
        f::pct(t.error_rate)
    );
    if f::shows_dropped(r) {
        let _ = write!(
            out,
            " · dropped <strong>{}</strong>",
            esc(&f::dropped_cell(t))
        );
    }
    if t.retries > 0 {
        let _ = write!(out, " · retries <strong>{}</strong>", f::count(t.retries));
    }
    out.push_str("</p>\n</header>\n");
}

fn metrics_head(out: &mut String, first: &str, dropped: bool) {
    let _ = write!(
        out,
        "<div class=\"scroll\"><table>\n<tr><th class=\"name\">{first}</th>"
    );
    for h in f::metric_headers(dropped) {
        let _ = write!(out, "<th>{h}</th>");
    }
    out.push_str("</tr>\n");
}

fn metrics_row(out: &mut String, name_html: &str, m: &Metrics, dropped: bool) {
    let _ = write!(out, "<tr><td class=\"name\">{name_html}</td>");
    for c in f::metric_row(m, dropped) {
        let _ = write!(out, "<td>{}</td>", esc(&c));
    }
    out.push_str("</tr>\n");
}

fn requests(out: &mut String, r: &RunResult) {
    if super::operations::applies(r) {
        out.push_str("<h2>Operations <span class=\"muted\">(in-process calls)</span></h2>\n");
        out.push_str("<div class=\"scroll\"><table>\n<tr>");
        for (i, h) in super::operations::HEADERS.iter().enumerate() {
            let class = if i == 0 { " class=\"name\"" } else { "" };
            let _ = write!(out, "<th{class}>{h}</th>");
        }
        out.push_str("</tr>\n");
        for cells in super::operations::rows(r) {
            let _ = write!(out, "<tr><td class=\"name\">{}</td>", esc(&cells[0]));
            for c in &cells[1..] {
                let _ = write!(out, "<td>{}</td>", esc(c));
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</table></div>\n");
        return;
    }
    out.push_str("<h2>Requests</h2>\n");
    let dropped = f::shows_dropped(r);
    metrics_head(out, "request", dropped);
    for (name, m) in &r.requests {
        metrics_row(out, &esc(name), m, dropped);
    }
    metrics_row(out, "<strong>all requests</strong>", &r.totals, dropped);
    if let Some(w) = &r.warmup {
        metrics_row(
            out,
            "<span class=\"muted\">warm-up (not gated)</span>",
            w,
            dropped,
        );
    }
    out.push_str("</table></div>\n");
}

fn stages(out: &mut String, r: &RunResult) {
    out.push_str("<h2>Stages</h2>\n");
    if r.stages.is_empty() {
        out.push_str("<p class=\"muted\">No stages recorded.</p>\n");
        return;
    }
    let dropped = f::shows_dropped(r);
    metrics_head(out, "stage", dropped);
    for s in &r.stages {
        let label = format!(
            "#{}{} · {} · {}–{}",
            s.index + 1,
            budgets::stage_name(s, " · "),
            f::level(s),
            f::duration(s.start_s),
            f::duration(s.end_s)
        );
        metrics_row(out, &esc(&label), &s.metrics, dropped);
    }
    out.push_str("</table></div>\n");
}

fn generators(out: &mut String, r: &RunResult) {
    use super::generators::{rows, saturation_note, FIRST_NUMERIC, HEADERS, TITLE};
    let rows = rows(r);
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(out, "<h2>{TITLE}</h2>");
    out.push_str("<div class=\"scroll\"><table>\n<tr>");
    for (i, h) in HEADERS.iter().enumerate() {
        let class = if i < FIRST_NUMERIC {
            " class=\"name\""
        } else {
            ""
        };
        let _ = write!(out, "<th{class}>{}</th>", esc(h));
    }
    out.push_str("</tr>\n");
    for cells in &rows {
        out.push_str("<tr>");
        for (i, c) in cells.iter().enumerate() {
            let class = if i < FIRST_NUMERIC {
                " class=\"name\""
            } else {
                ""
            };
            let _ = write!(out, "<td{class}>{}</td>", esc(c));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table></div>\n");
    if let Some(note) = saturation_note(r) {
        let _ = writeln!(out, "<p class=\"muted\">{}</p>", esc(&note));
    }
}

fn thresholds(out: &mut String, r: &RunResult) {
    out.push_str("<h2>Thresholds</h2>\n");
    if r.thresholds.is_empty() {
        out.push_str("<p class=\"muted\">No thresholds configured.</p>\n");
        return;
    }
    kpis(out, r);
    out.push_str(
        "<div class=\"scroll\"><table>\n<tr><th class=\"name\">threshold</th><th>observed</th>\
         <th>limit</th><th>result</th></tr>\n",
    );
    for t in &r.thresholds {
        let status = Status::of(t);
        let _ = writeln!(
            out,
            "<tr{}><td class=\"name\"><code>{}</code></td><td>{}</td><td>{}</td>{}</tr>",
            row_class(status),
            esc(&t.expr),
            esc(&f::threshold_observed(t)),
            esc(&f::with_unit(t.limit, &t.unit)),
            status_cell(status, status.word())
        );
    }
    out.push_str("</table></div>\n");
}

/// A warn row is amber (the report's colour for "look at this", like an inconclusive metric).
fn row_class(s: Status) -> &'static str {
    match s {
        Status::Warn => " class=\"inconclusive\"",
        _ => "",
    }
}

fn status_cell(s: Status, words: &str) -> String {
    let class = match s {
        Status::Pass => "v-pass",
        Status::Warn => "v-inconclusive",
        Status::Fail => "v-fail",
    };
    format!("<td class=\"{class}\">{}</td>", esc(words))
}

/// The KPI table: each `kpi: true` threshold's target, warn and fail levels and its value.
fn kpis(out: &mut String, r: &RunResult) {
    let rows = budgets::kpi_rows(r);
    if rows.is_empty() {
        return;
    }
    out.push_str("<h3>KPIs</h3>\n<div class=\"scroll\"><table>\n<tr>");
    for (i, h) in budgets::KPI_HEADERS.iter().enumerate() {
        let class = if i == 0 { " class=\"name\"" } else { "" };
        let _ = write!(out, "<th{class}>{h}</th>");
    }
    out.push_str("</tr>\n");
    for row in &rows {
        let _ = write!(
            out,
            "<tr{}><td class=\"name\"><code>{}</code></td>",
            row_class(row.status),
            esc(&row.cells[0])
        );
        for c in &row.cells[1..] {
            let _ = write!(out, "<td>{}</td>", esc(c));
        }
        let _ = writeln!(
            out,
            "{}</tr>",
            status_cell(row.status, &budgets::status_words(row))
        );
    }
    out.push_str("</table></div>\n");
}

/// The A/B comparison: B against A, one row per metric with the change's interval. The
/// charts overlay side A where a baseline would be.
fn ab_section(out: &mut String, r: &RunResult) {
    let Some(ab) = &r.ab else {
        return;
    };
    let verdict = match ab.verdict {
        crate::result::ComparisonVerdict::Pass => "<span class=\"v-pass\">pass</span>",
        crate::result::ComparisonVerdict::Fail => "<span class=\"v-fail\">FAIL</span>",
    };
    let _ = writeln!(
        out,
        "<h2>A/B comparison: {verdict}</h2>\n<p>A: <code>{}</code> · B: <code>{}</code>. {}. \
         Method: {}. The charts overlay A where they would show a baseline; the rest of this \
         report is B's.</p>",
        esc(&ab.a.target),
        esc(&ab.b.target),
        esc(&f::ab_design(ab)),
        esc(&ab.method)
    );
    if !ab.notes.is_empty() {
        out.push_str("<div class=\"warn\"><strong>Notes:</strong><ul>");
        for n in &ab.notes {
            let _ = write!(out, "<li>{}</li>", esc(n));
        }
        out.push_str("</ul></div>\n");
    }
    out.push_str("<div class=\"scroll\"><table>\n<tr>");
    for (i, h) in f::AB_HEADERS.iter().enumerate() {
        let class = if i == 0 { " class=\"name\"" } else { "" };
        let _ = write!(out, "<th{class}>{h}</th>");
    }
    out.push_str("</tr>\n");
    for m in &ab.metrics {
        let v = m.verdict.as_str();
        let cells = f::ab_cells(m);
        let _ = write!(
            out,
            "<tr class=\"{v}\"><td class=\"name\">{}</td>",
            esc(&cells[0])
        );
        for cell in &cells[1..6] {
            let _ = write!(out, "<td>{}</td>", esc(cell));
        }
        let _ = writeln!(out, "<td class=\"v-{v}\">{v}</td></tr>");
    }
    out.push_str("</table></div>\n");
}

fn comparison_section(out: &mut String, c: Option<&Comparison>) {
    let Some(c) = c else {
        return;
    };
    let verdict = match c.verdict {
        crate::result::ComparisonVerdict::Pass => "<span class=\"v-pass\">pass</span>",
        crate::result::ComparisonVerdict::Fail => "<span class=\"v-fail\">FAIL</span>",
    };
    let _ = writeln!(
        out,
        "<h2>Baseline comparison: {verdict}</h2>\n<p>Against <code>{}</code> taken {}. Method: {}.</p>",
        esc(&c.baseline_file),
        esc(&c.baseline_created_at),
        esc(&c.method)
    );
    if c.scenario_changed {
        out.push_str(
            "<div class=\"warn strong\"><strong>The scenario file changed since the baseline \
             was taken</strong>: differences may come from the scenario, not the code.</div>\n",
        );
    }
    if !c.env_mismatch.is_empty() {
        out.push_str(
            "<div class=\"warn\"><strong>Environment differs from the baseline's:</strong><ul>",
        );
        for m in &c.env_mismatch {
            let _ = write!(out, "<li>{}</li>", esc(m));
        }
        out.push_str("</ul></div>\n");
    }
    if !c.notes.is_empty() {
        out.push_str("<div class=\"warn\"><strong>Notes:</strong><ul>");
        for n in &c.notes {
            let _ = write!(out, "<li>{}</li>", esc(n));
        }
        out.push_str("</ul></div>\n");
    }
    let (changed, unchanged) = sections::changed_and_unchanged(c);
    if !changed.is_empty() {
        comparison_table(out, &changed);
    }
    if !unchanged.is_empty() {
        let n = unchanged.len();
        let _ = writeln!(
            out,
            "<details><summary>{} unchanged metric{}</summary>",
            f::count(n as u64),
            if n == 1 { "" } else { "s" }
        );
        comparison_table(out, &unchanged);
        out.push_str("</details>\n");
    }
}

/// The compared metrics in `rows`, one table row each.
fn comparison_table(out: &mut String, rows: &[&MetricComparison]) {
    out.push_str("<div class=\"scroll\"><table>\n<tr>");
    for (i, h) in f::COMPARISON_HEADERS.iter().enumerate() {
        let class = if i == 0 { " class=\"name\"" } else { "" };
        let _ = write!(out, "<th{class}>{h}</th>");
    }
    out.push_str("</tr>\n");
    for m in rows {
        let v = m.verdict.as_str();
        let cells = f::comparison_cells(m);
        let _ = write!(
            out,
            "<tr class=\"{v}\"><td class=\"name\">{}</td>",
            esc(&cells[0])
        );
        for cell in &cells[1..6] {
            let _ = write!(out, "<td>{}</td>", esc(cell));
        }
        let _ = writeln!(out, "<td class=\"v-{v}\">{v}</td></tr>");
    }
    out.push_str("</table></div>\n");
}

fn errors(out: &mut String, r: &RunResult) {
    out.push_str("<h2>Errors</h2>\n");
    let classes: Vec<(&str, u64)> = r
        .totals
        .errors_by_class
        .iter()
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .collect();
    let retries = if r.totals.retries > 0 {
        format!("<p>{}</p>\n", esc(&f::retries_sentence(&r.totals)))
    } else {
        String::new()
    };
    if classes.is_empty() && r.error_samples.is_empty() {
        out.push_str("<p class=\"muted\">No errors.</p>\n");
        out.push_str(&retries);
        return;
    }
    out.push_str(
        "<div class=\"scroll\"><table>\n<tr><th class=\"name\">class</th><th>count</th>\
         <th>share of requests</th><th>time to failure</th></tr>\n",
    );
    for (class, n) in &classes {
        let share = if r.totals.requests > 0 {
            *n as f64 / r.totals.requests as f64
        } else {
            0.0
        };
        let _ = writeln!(
            out,
            "<tr><td class=\"name\">{class}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            f::count(*n),
            f::pct(share),
            esc(&f::time_to_failure(&r.totals, class))
        );
    }
    out.push_str("</table></div>\n");
    out.push_str(&retries);
    if r.error_samples.is_empty() {
        return;
    }
    out.push_str(
        "<h3>Sample messages</h3>\n<div class=\"scroll\"><table>\n<tr><th class=\"name\">class</th>\
         <th class=\"name\">request</th><th>count</th><th class=\"name\">message</th></tr>\n",
    );
    for s in &r.error_samples {
        let _ = writeln!(
            out,
            "<tr><td class=\"name\">{}</td><td class=\"name\">{}</td><td>{}</td><td class=\"msg\">{}</td></tr>",
            esc(s.class.name()),
            esc(&s.request),
            f::count(s.count),
            esc(&s.message)
        );
    }
    out.push_str("</table></div>\n");
}
