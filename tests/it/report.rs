//! Integration tests of every report format against fixture results built in code
//! (`support/results.rs`): escaping of hostile strings, a self-contained HTML page with four
//! non-empty charts, decodable non-blank PNGs, well-formed JUnit, Markdown and terminal
//! tables, and degenerate results rendering without error.

use crate::support::results::{self, XSS_ATTR, XSS_SCRIPT};
use perfgate::report::charts::Chart;
use perfgate::report::html::HtmlReport;
use perfgate::report::junit::JunitReport;
use perfgate::report::markdown::{self, MarkdownReport};
use perfgate::report::png::PngChart;
use perfgate::report::terminal::{self, TerminalReport};
use perfgate::report::{self, ReportContext, ReportOptions, Reporter};
use perfgate::result::{MetricVerdict, RunResult};

const PLAIN: TerminalReport = TerminalReport {
    color: false,
    verbose: false,
};
const COLOR: TerminalReport = TerminalReport {
    color: true,
    verbose: false,
};

fn render_str(r: &dyn Reporter, result: &RunResult, ctx: &ReportContext<'_>) -> String {
    String::from_utf8(r.render(result, ctx).unwrap()).unwrap()
}

fn html_of(result: &RunResult) -> String {
    let base = results::baseline();
    render_str(
        &HtmlReport,
        result,
        &ReportContext {
            baseline: Some(&base),
        },
    )
}

/// The inline `<svg ...>...</svg>` elements of a page.
fn svgs(html: &str) -> Vec<&str> {
    html.match_indices("<svg")
        .map(|(at, _)| {
            let rest = &html[at..];
            let end = rest.find("</svg>").map_or(rest.len(), |e| e + 6);
            &rest[..end]
        })
        .collect()
}

#[test]
fn html_escapes_every_hostile_string() {
    let html = html_of(&results::hostile());
    assert!(!html.contains(XSS_SCRIPT));
    assert!(!html.contains(XSS_ATTR));
    assert!(!html.contains("<script"));
    assert!(!html.contains("<img"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
}

#[test]
fn html_is_self_contained() {
    let r = results::realistic();
    let html = html_of(&r);
    for needle in [
        "src=", "href=", "url(", "@import", "<script", "<link", "<iframe", "<object",
    ] {
        assert!(!html.contains(needle), "report.html contains {needle}");
    }
    // The only URL in the page is the target's, shown as text.
    let urls = html.matches("http://").count() + html.matches("https://").count();
    assert_eq!(urls, html.matches(&r.scenario.target).count());
    assert!(!html.contains("font-face"));
}

#[test]
fn html_has_six_non_empty_charts() {
    let html = html_of(&results::realistic());
    let svgs = svgs(&html);
    assert_eq!(svgs.len(), 6);
    for (svg, chart) in svgs.iter().zip(Chart::ALL) {
        assert!(
            svg.contains("<polyline") || svg.contains("<path") || svg.contains("<rect"),
            "{chart:?} chart is empty"
        );
        assert!(svg.contains("font-family=\"sans-serif\""));
        assert!(svg.contains("viewBox=\"0 0 1200 600\""));
        let open_tag = &svg[..svg.find('>').unwrap()];
        assert!(
            !open_tag.contains("width="),
            "chart must scale to the page: {open_tag}"
        );
    }
    let ids = [
        "chart-latency",
        "chart-throughput",
        "chart-distribution",
        "chart-stages",
        "chart-machine",
        "chart-sut",
    ];
    for id in ids {
        assert!(html.contains(id));
    }
}

#[test]
fn html_shows_tables_and_comparison_warnings() {
    let html = html_of(&results::realistic());
    for needle in [
        "list-items",
        "get-item",
        "error_rate &lt; 0.1%",
        "scenario file changed",
        "cpus: baseline 4, current 2",
        "regression confirmed by a rerun",
        "class=\"v-regressed\"",
        "class=\"v-improved\"",
        "class=\"v-unchanged\"",
        "class=\"v-inconclusive\"",
        "HTTP 503 Service Unavailable",
        "@media print",
        "badge fail",
    ] {
        assert!(html.contains(needle), "missing {needle}");
    }
}

fn assert_png(bytes: &[u8]) {
    let img = image::load_from_memory(bytes).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (1200, 600));
    let lumas: Vec<f64> = img
        .pixels()
        .map(|p| (p[0] as f64 + p[1] as f64 + p[2] as f64) / 3.0)
        .collect();
    let mean = lumas.iter().sum::<f64>() / lumas.len() as f64;
    let var = lumas.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / lumas.len() as f64;
    assert!(var > 0.0, "blank image");
    // The title is drawn centred at the top: text means dark pixels there.
    let dark = (300..900)
        .flat_map(|x| (0..40).map(move |y| (x, y)))
        .filter(|&(x, y)| {
            let p = img.get_pixel(x, y);
            (p[0] as u32 + p[1] as u32 + p[2] as u32) < 200
        })
        .count();
    assert!(dark > 50, "no title text rendered ({dark} dark pixels)");
}

#[test]
fn pngs_decode_and_show_text() {
    let r = results::realistic();
    let base = results::baseline();
    let ctx = ReportContext {
        baseline: Some(&base),
    };
    let names: Vec<String> = PngChart::all()
        .iter()
        .map(|p| p.file_name().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "latency.png",
            "throughput.png",
            "distribution.png",
            "stages.png",
            "machine.png",
            "sut.png"
        ]
    );
    for p in PngChart::all() {
        assert_png(&p.render(&r, &ctx).unwrap());
    }
    // The "no data" charts are drawn too, with their title.
    for p in PngChart::all() {
        assert_png(
            &p.render(&results::empty(), &ReportContext::default())
                .unwrap(),
        );
    }
}

fn attr<'a>(node: roxmltree::Node<'a, '_>, name: &str) -> &'a str {
    node.attribute(name).unwrap()
}

#[test]
fn junit_counts_failures_and_is_well_formed() {
    let r = results::realistic();
    let xml = render_str(&JunitReport, &r, &ReportContext::default());
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .unwrap();
    assert_eq!(attr(suite, "name"), "perfgate.checkout-stress");
    let cases: Vec<_> = suite
        .children()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    let comparison = r.comparison.as_ref().unwrap();
    assert_eq!(
        cases.len(),
        2 + r.thresholds.len() + comparison.metrics.len(),
        "verdict, run completed, thresholds, compared metrics"
    );
    let failed_thresholds = r.thresholds.iter().filter(|t| !t.pass).count();
    let regressed = comparison
        .metrics
        .iter()
        .filter(|m| m.verdict == MetricVerdict::Regressed)
        .count();
    let failures: usize = attr(suite, "failures").parse().unwrap();
    assert_eq!(
        failures,
        1 + failed_thresholds + regressed,
        "the verdict fails too"
    );
    // The verdict's failure message is the run's first reason.
    let verdict = cases[0]
        .children()
        .find(|n| n.has_tag_name("failure"))
        .unwrap();
    assert_eq!(attr(cases[0], "name"), "verdict");
    assert_eq!(attr(verdict, "message"), r.reasons[0]);
    assert_eq!(
        cases
            .iter()
            .filter(|c| c.children().any(|n| n.has_tag_name("failure")))
            .count(),
        failures
    );
    assert_eq!(
        attr(suite, "skipped"),
        "1",
        "inconclusive is reported as skipped"
    );
    let p99 = cases
        .iter()
        .find(|c| attr(**c, "name") == "_total.p99")
        .unwrap();
    let failure = p99.children().find(|n| n.has_tag_name("failure")).unwrap();
    let msg = attr(failure, "message");
    assert!(
        msg.contains("30.0ms") && msg.contains("40.0ms") && msg.contains("+33.3%"),
        "{msg}"
    );
    assert!(
        msg.contains("10%") && msg.contains("p-value 0.001"),
        "{msg}"
    );
    let thr = cases
        .iter()
        .find(|c| attr(**c, "name") == "error_rate < 0.1%")
        .unwrap();
    let failure = thr.children().find(|n| n.has_tag_name("failure")).unwrap();
    assert!(attr(failure, "message").contains("observed 0.320% vs limit 0.100%"));
}

#[test]
fn junit_escapes_hostile_strings_and_marks_aborted_runs() {
    let xml = render_str(&JunitReport, &results::hostile(), &ReportContext::default());
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let names: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .map(|n| attr(n, "name"))
        .collect();
    assert!(names.contains(&XSS_SCRIPT));
    assert!(names.contains(&XSS_ATTR));
    assert!(!xml.contains("<script"));

    let xml = render_str(&JunitReport, &results::empty(), &ReportContext::default());
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(attr(cases[0], "name"), "verdict");
    assert_eq!(attr(cases[1], "name"), "run completed");
    for case in &cases[..2] {
        assert!(case.children().any(|n| n.has_tag_name("failure")));
    }
}

#[test]
fn markdown_has_thresholds_comparison_and_warnings() {
    let md = render_str(
        &MarkdownReport,
        &results::realistic(),
        &ReportContext::default(),
    );
    assert!(
        md.contains("## ❌ perfgate: checkout-stress (stress) — FAIL"),
        "{md}"
    );
    assert!(
        md.contains("| list-items.p99 &lt; 300ms | 42.0ms | 300ms | ✅ pass |"),
        "{md}"
    );
    assert!(
        md.contains("| error_rate &lt; 0.1% | 0.320% | 0.100% | ❌ FAIL |"),
        "{md}"
    );
    assert!(
        md.contains("| _total.p99 | 30.0ms | 40.0ms | +33.3% | 10% | 0.001 | 🔴 regressed |"),
        "{md}"
    );
    assert!(
        md.contains(
            "| get-item.throughput | 200/s | 180/s | -10.0% | 10% | 0.200 | 🟡 inconclusive |"
        ),
        "{md}"
    );
    assert!(md.contains("scenario file changed"));
    assert!(md.contains("Environment differs: cpus: baseline 4, current 2"));

    let md = render_str(
        &MarkdownReport,
        &results::hostile(),
        &ReportContext::default(),
    );
    assert!(!md.contains("<script") && !md.contains("<img"));
}

#[test]
fn terminal_summary_has_tables_and_fits_100_columns() {
    let text = render_str(
        &TerminalReport::default(),
        &results::realistic(),
        &ReportContext::default(),
    );
    for needle in [
        "Requests",
        "Stages",
        "#1 10 VUs",
        "#3 100 VUs",
        "Thresholds",
        "PASS",
        "FAIL",
        "timeout",
        "request timed out after 5s",
        "regressed",
        "inconclusive",
        "p-value",
    ] {
        assert!(text.contains(needle), "missing {needle}:\n{text}");
    }
    let hostile = terminal::render_terminal(&results::hostile(), PLAIN);
    for line in text.lines().chain(hostile.lines()) {
        assert!(
            line.chars().count() <= 100,
            "line too wide ({}): {line}",
            line.chars().count()
        );
    }
    assert!(!text.contains('\x1b'), "no colors by default");
    assert!(terminal::render_terminal(&results::realistic(), COLOR).contains('\x1b'));
}

#[test]
fn degenerate_results_render_every_format() {
    let tmp = tempfile::tempdir().unwrap();
    for (i, r) in [results::empty(), results::single_window()]
        .iter()
        .enumerate()
    {
        let ctx = ReportContext { baseline: Some(r) };
        let reporters = report::standard_reporters(&ReportOptions::default());
        assert_eq!(reporters.len(), 10);
        let refs: Vec<&dyn Reporter> = reporters.iter().map(|r| r.as_ref()).collect();
        let dir = tmp.path().join(i.to_string());
        let written = report::write_all(&refs, r, &ctx, &dir).unwrap();
        assert_eq!(written.len(), 10);
        let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
        assert_eq!(svgs(&html).len(), 6);
        TerminalReport::default().render(r, &ctx).unwrap();
    }
    let html = std::fs::read_to_string(tmp.path().join("0/report.html")).unwrap();
    assert!(html.contains("no data"));
}

#[test]
fn no_report_skips_html_and_png() {
    let names: Vec<String> = report::standard_reporters(&ReportOptions {
        html_and_png: false,
    })
    .iter()
    .map(|r| r.file_name().to_string())
    .collect();
    assert_eq!(names, ["result.json", "junit.xml", "summary.md"]);
}

#[test]
fn json_round_trips() {
    let r = results::realistic();
    let bytes = perfgate::report::json::JsonReport
        .render(&r, &ReportContext::default())
        .unwrap();
    let back: RunResult = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(back.scenario, r.scenario);
    assert_eq!(back.comparison, r.comparison);
    assert!(String::from_utf8(bytes)
        .unwrap()
        .contains("\"schema\": \"perfgate/result/v1\""));
}

#[test]
fn write_standard_appends_to_github_step_summary() {
    // The only test that touches GITHUB_STEP_SUMMARY (it restores the previous value).
    let tmp = tempfile::tempdir().unwrap();
    let summary = tmp.path().join("step_summary.md");
    let previous = std::env::var_os("GITHUB_STEP_SUMMARY");
    std::env::set_var("GITHUB_STEP_SUMMARY", &summary);
    let r = results::realistic();
    let out = tmp.path().join("out");
    let written = report::write_standard(
        &r,
        &ReportContext::default(),
        &out,
        &ReportOptions {
            html_and_png: false,
        },
    );
    markdown::append_github_step_summary(b"second").unwrap();
    match previous {
        Some(v) => std::env::set_var("GITHUB_STEP_SUMMARY", v),
        None => std::env::remove_var("GITHUB_STEP_SUMMARY"),
    }
    assert_eq!(written.unwrap().len(), 3);
    let text = std::fs::read_to_string(summary).unwrap();
    assert!(text.contains("checkout-stress") && text.ends_with("second\n"));
}

#[test]
fn soak_renders_quickly_enough_in_debug() {
    // The release benchmark holds the < 1 s goal; this only guards against pathologies.
    let html = html_of(&results::soak());
    assert_eq!(svgs(&html).len(), 6);
}

/// The realistic run at in-process speed: every latency a thousand times smaller (µs).
fn tiny() -> RunResult {
    let mut r = results::realistic();
    let scale = |m: &mut perfgate::result::Metrics| {
        let l = &mut m.latency_ms;
        for v in [
            &mut l.min,
            &mut l.p50,
            &mut l.p90,
            &mut l.p95,
            &mut l.p99,
            &mut l.p999,
            &mut l.max,
            &mut l.mean,
        ] {
            *v /= 1000.0;
        }
    };
    scale(&mut r.totals);
    r.requests.values_mut().for_each(scale);
    r.stages.iter_mut().for_each(|s| scale(&mut s.metrics));
    for w in &mut r.timeseries {
        w.p50_ms /= 1000.0;
        w.p90_ms /= 1000.0;
        w.p99_ms /= 1000.0;
    }
    r.histograms.clear();
    r
}

#[test]
fn tiny_latencies_chart_in_microseconds() {
    let r = tiny();
    let ctx = ReportContext::default();
    for chart in [Chart::Latency, Chart::Distribution, Chart::Stages] {
        let svg = perfgate::report::charts::svg(chart, &r, &ctx).unwrap();
        assert!(svg.contains("(µs)"), "{chart:?} axis in µs");
        assert!(!svg.contains(">0.0<"), "{chart:?} has a 0.0 label");
    }
}

#[test]
fn an_in_process_run_gets_a_per_operation_table_in_microseconds() {
    let mut r = tiny();
    r.scenario.target = "in-process".into();
    let term = terminal::render_terminal(&r, PLAIN);
    assert!(term.contains("Operations (in-process calls)"), "{term}");
    assert!(!term.contains("\nRequests\n"));
    let line = term.lines().find(|l| l.contains("│ list-items ")).unwrap();
    // n, ops/s, mean, median, p95, p99, max, success: sub-millisecond latencies in µs.
    assert!(
        line.contains("20,000") && line.contains("14.4µs") && line.contains("12.0µs"),
        "{line}"
    );
    assert!(line.contains("99.70%"), "{line}");
    assert!(term.lines().any(|l| l.contains("all operations")));
    let md = markdown::render_markdown(&r);
    assert!(md.contains("| operation | n | ops/s | mean | median | p95 | p99 | max | success |"));
    let html = html_of(&r);
    assert!(html.contains("<h2>Operations"));
    assert!(html.contains("<td>14.4µs</td>"));
    // An HTTP run keeps its requests table.
    let http = terminal::render_terminal(&tiny(), PLAIN);
    assert!(http.contains("\nRequests\n") && !http.contains("Operations"));
}

#[test]
#[ignore = "writes preview files to $PERFGATE_PREVIEW_DIR for a person to look at"]
fn preview() {
    let dir = std::path::PathBuf::from(std::env::var("PERFGATE_PREVIEW_DIR").unwrap());
    let base = results::baseline();
    for (name, r) in [
        ("realistic", results::realistic()),
        ("hostile", results::hostile()),
        ("soak", results::soak()),
        ("empty", results::empty()),
        ("single", results::single_window()),
        ("overloaded", results::overloaded()),
        ("tiny", tiny()),
    ] {
        let ctx = ReportContext {
            baseline: Some(&base),
        };
        let reporters = report::standard_reporters(&ReportOptions::default());
        let refs: Vec<&dyn Reporter> = reporters.iter().map(|r| r.as_ref()).collect();
        report::write_all(&refs, &r, &ctx, &dir.join(name)).unwrap();
        let text = terminal::render_terminal(&r, PLAIN);
        std::fs::write(dir.join(name).join("summary.txt"), text).unwrap();
    }
}

/// `text` as HTML carries it.
fn esc(text: &str) -> String {
    perfgate::report::escape::html(text)
}

#[test]
fn every_format_states_the_first_reason_where_a_reader_looks_first() {
    let r = results::realistic();
    let first = &r.reasons[0];
    assert!(first.starts_with("error_rate "), "{:?}", r.reasons);

    let text = terminal::render_terminal(&r, PLAIN);
    let last = text.lines().rev().find(|l| !l.is_empty()).unwrap();
    assert_eq!(last, format!("FAIL: {first}"));
    for other in &r.reasons[1..] {
        assert!(text.contains(&format!("also: {other}")), "{text}");
    }

    let md = markdown::render_markdown(&r);
    assert!(md.lines().next().unwrap().contains(first.as_str()), "{md}");

    let html = html_of(&r);
    let header = &html[..html.find("</header>").unwrap()];
    let badge = header.find("class=\"badge fail\"").unwrap();
    let reason = header
        .find(&esc(first))
        .expect("the reason is in the header");
    assert!(badge < reason, "under the badge");

    // Many reasons: the secondary ones are capped, the first is still the last line.
    let mut many = r.clone();
    many.reasons = (0..20).map(|i| format!("reason {i}")).collect();
    let text = terminal::render_terminal(&many, PLAIN);
    assert_eq!(text.lines().last().unwrap(), "FAIL: reason 0");
    assert!(text.contains("also: reason 8\n") && !text.contains("also: reason 9\n"));
    assert!(text.contains("also: 11 more"), "{text}");

    // A passing run says nothing of the kind.
    let mut pass = results::realistic();
    pass.reasons.clear();
    pass.verdict = perfgate::result::Verdict::Pass;
    assert!(!terminal::render_terminal(&pass, PLAIN).contains("FAIL:"));
    assert!(!html_of(&pass).contains("id=\"reasons\""));
}

#[test]
fn dropped_no_data_retries_and_time_to_failure_are_shown() {
    let r = results::overloaded();
    assert!(r.reasons[0].starts_with("dropped "), "{:?}", r.reasons);
    assert!(r
        .reasons
        .iter()
        .any(|s| s == "get-item p95 n/a: no request succeeded (limit < 50 ms)"));
    assert!(r
        .reasons
        .iter()
        .any(|s| s.starts_with("get-item p99 n/a vs baseline: no successful response")));

    let html = html_of(&r);
    assert!(html.contains("<th>dropped</th>"));
    assert!(html.contains("745 ("));
    assert!(
        html.contains("dropped arrivals (right axis)"),
        "the chart draws them"
    );
    assert!(html.contains("<th>time to failure</th>"));
    assert!(html.contains("5.00s mean, 5.01s max"));
    assert!(html.contains("<td class=\"name\">interrupted</td>"));
    assert!(html.contains("retries: 3"));
    assert!(html.contains("<td class=\"v-no_data\">no_data</td>"));
    let thr = html
        .lines()
        .find(|l| l.contains("get-item.p95 &lt; 50ms"))
        .unwrap();
    assert!(
        thr.contains("<td>n/a</td>") && thr.contains("FAIL"),
        "{thr}"
    );

    let text = terminal::render_terminal(&r, PLAIN);
    assert!(text.contains("dropped: 745 ("), "{text}");
    assert!(text.contains("│ dropped "), "{text}");
    assert!(
        text.contains("interrupted") && text.contains("retries: 3"),
        "{text}"
    );
    assert!(text.contains("5.00s mean, 5.01s max"), "{text}");
    for line in text.lines() {
        assert!(line.chars().count() <= 100, "too wide: {line}");
    }

    let md = markdown::render_markdown(&r);
    assert!(md.lines().next().unwrap().contains("dropped "), "{md}");
    assert!(md.contains("dropped **745 ("), "{md}");
    assert!(md.contains("| interrupted | 2 |"), "{md}");

    let xml = render_str(&JunitReport, &r, &ReportContext::default());
    roxmltree::Document::parse(&xml).unwrap();
    assert!(xml.contains("dropped 745 ("), "{xml}");
    assert!(xml.contains("message=\"no data: "), "{xml}");
    assert!(xml.contains("observed n/a vs limit 50.0ms"), "{xml}");
}

/// `text` without ANSI escape sequences.
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn colored_tables_line_up_like_plain_ones() {
    let r = results::realistic();
    let colored = terminal::render_terminal(&r, COLOR);
    assert!(colored.contains("\x1b[31mregressed\x1b[0m"), "{colored}");
    // The escapes take no room: once stripped, the borders are where the plain ones are.
    assert_eq!(strip_ansi(&colored), terminal::render_terminal(&r, PLAIN));
}

#[test]
fn a_single_request_gets_one_comparison_table() {
    let mut r = results::realistic();
    let c = r.comparison.as_mut().unwrap();
    let rows: Vec<_> = c
        .metrics
        .iter()
        .filter(|m| m.request == "_total")
        .cloned()
        .collect();
    c.metrics = rows.clone();
    c.metrics.extend(rows.into_iter().map(|mut m| {
        m.request = "checkout".into();
        m
    }));
    let text = terminal::render_terminal(&r, PLAIN);
    assert_eq!(text.matches("request: ").count(), 1, "{text}");
    assert!(text.contains("request: checkout"), "{text}");
    assert_eq!(text.matches("│ metric ").count(), 1, "{text}");
    // Two requests: both tables and the all-requests one.
    let c = r.comparison.as_mut().unwrap();
    c.metrics[0].current = 99.0;
    let text = terminal::render_terminal(&r, PLAIN);
    assert!(text.contains("request: all requests"), "{text}");
    let md = markdown::render_markdown(&r);
    assert!(md.contains("| _total.p99 |"), "{md}");
}

#[test]
fn unchanged_metrics_fold_into_one_line_unless_verbose() {
    let mut r = results::realistic();
    let c = r.comparison.as_mut().unwrap();
    // The gate's order puts an unchanged metric first; the table must not.
    let mut unchanged = c.metrics[2].clone();
    unchanged.request = "get-item".into();
    for metric in ["p50", "p90"] {
        let mut m = unchanged.clone();
        m.metric = metric.into();
        c.metrics.insert(0, m);
    }
    let text = terminal::render_terminal(&r, PLAIN);
    assert!(
        text.contains("request: get-item\n"),
        "get-item's table: {text}"
    );
    // list-items has only an unchanged metric: no table of its own.
    assert!(!text.contains("request: list-items"), "{text}");
    assert!(
        text.contains("+ 3 unchanged metrics (--verbose lists them)"),
        "{text}"
    );
    assert!(!text.contains("unchanged │"), "no unchanged row: {text}");
    let verbose = terminal::render_terminal(
        &r,
        TerminalReport {
            color: false,
            verbose: true,
        },
    );
    assert!(!verbose.contains("unchanged metric"), "{verbose}");
    let get_item = &verbose[verbose.find("request: get-item").unwrap()..];
    let inconclusive = get_item.find("inconclusive").unwrap();
    let unchanged = get_item.find("unchanged").unwrap();
    assert!(inconclusive < unchanged, "changed rows first: {get_item}");
    // Markdown: changed rows in the table, the unchanged ones folded under <details>.
    let md = markdown::render_markdown(&r);
    let details = md.find("<summary>3 unchanged metrics</summary>").unwrap();
    assert!(md.find("inconclusive").unwrap() < details, "{md}");
    // HTML: the same, in a collapsed block under the table.
    let html = html_of(&r);
    let details = html.find("<summary>3 unchanged metrics</summary>").unwrap();
    assert!(html.find("class=\"v-inconclusive\"").unwrap() < details);
    assert!(html.find("class=\"v-unchanged\"").unwrap() > details);
}

#[test]
fn in_process_latencies_read_in_microseconds() {
    let mut r = results::realistic();
    for m in std::iter::once(&mut r.totals).chain(r.requests.values_mut()) {
        m.latency_ms.p50 = 0.0042;
        m.latency_ms.p99 = 0.037;
    }
    let text = terminal::render_terminal(&r, PLAIN);
    assert!(text.contains("4.20µs") && text.contains("37.0µs"), "{text}");
    assert!(!text.contains("0.00ms"), "{text}");
    let md = markdown::render_markdown(&r);
    assert!(md.contains("p50 **4.20µs**"), "{md}");
    assert!(md.contains("**26,000** requests"), "{md}");
}

/// The terminal summary, with escapes made visible (`␛`) so a snapshot shows them.
fn visible_escapes(text: &str) -> String {
    text.replace('\x1b', "␛")
}

#[test]
fn snapshot_terminal_summary() {
    let r = results::realistic();
    insta::assert_snapshot!("terminal_plain", terminal::render_terminal(&r, PLAIN));
    insta::assert_snapshot!(
        "terminal_color",
        visible_escapes(&terminal::render_terminal(&r, COLOR))
    );
    insta::assert_snapshot!(
        "terminal_overloaded",
        terminal::render_terminal(&results::overloaded(), PLAIN)
    );
}

#[test]
fn snapshot_summary_md() {
    insta::assert_snapshot!(
        "summary_md",
        markdown::render_markdown(&results::realistic())
    );
    insta::assert_snapshot!(
        "summary_md_overloaded",
        markdown::render_markdown(&results::overloaded())
    );
}

#[test]
fn snapshot_junit_xml() {
    let r = results::realistic();
    insta::assert_snapshot!("junit_xml", perfgate::report::junit::render_junit(&r));
}

#[test]
fn chart_text_stays_readable_at_800_px_wide() {
    // Charts are drawn 1200 px wide; shown 800 px wide every font shrinks by 2/3.
    let html = html_of(&results::realistic());
    let sizes: Vec<f64> = html
        .split("font-size=\"")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].parse().unwrap())
        .collect();
    assert!(sizes.len() > 20, "{} texts", sizes.len());
    let smallest = sizes.iter().copied().fold(f64::INFINITY, f64::min);
    assert!(
        smallest * 800.0 / 1200.0 >= 11.0,
        "smallest chart text {smallest:.1} px is {:.1} px at 800 px",
        smallest * 800.0 / 1200.0
    );
}

/// A merged result shows each generator's health in every document-like report, host names
/// escaped; a saturated generator is named under the table. A single run has no such table.
#[test]
fn a_merged_result_shows_its_generators_and_names_a_saturated_one() {
    use perfgate::result::GeneratorHealth;
    let mut r = results::realistic();
    let generator = |segment: &str, host: &str, saturated_s: u32| GeneratorHealth {
        segment: segment.into(),
        host: host.into(),
        started_at: "2026-11-22T10:00:00.000Z".into(),
        requests: 13_000,
        errors: 42,
        dropped: 0,
        peak_cpu_pct: Some(if saturated_s > 0 { 97.0 } else { 40.0 }),
        saturated_s,
    };
    assert!(!markdown::render_markdown(&r).contains("Generators"));
    r.generators = vec![
        generator("1/2", XSS_SCRIPT, 0),
        generator("2/2", "gen-b", 3),
    ];

    let md = markdown::render_markdown(&r);
    assert!(md.contains("### Generators"), "{md}");
    assert!(md.contains("| 2/2 | gen-b |"), "{md}");
    assert!(
        md.contains("generator 2/2 used at least 90 % of its CPUs"),
        "{md}"
    );
    let text = terminal::render_terminal(&r, PLAIN);
    assert!(text.contains("Generators"), "{text}");
    assert!(text.contains("97 %") && text.contains("3 s"), "{text}");
    let html = html_of(&r);
    assert!(html.contains("<h2>Generators</h2>"));
    assert!(!html.contains(XSS_SCRIPT), "a host name is escaped");
}
