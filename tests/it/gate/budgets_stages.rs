//! Budgets with levels and stage thresholds (issue 9), from the scenario's text through the
//! gate to every report: a warn level reached passes and says so everywhere (yellow in the
//! terminal, amber in HTML, a warning in summary.md, a passed JUnit test with the warning in
//! its output); `kpi: true` thresholds make a KPI table; a stage threshold judges its stage.

use std::path::Path;

use perfgate::gate::{judge, CompareOptions};
use perfgate::report::html::HtmlReport;
use perfgate::report::junit::JunitReport;
use perfgate::report::markdown::MarkdownReport;
use perfgate::report::terminal::TerminalReport;
use perfgate::report::{ReportContext, Reporter};
use perfgate::result::{RunResult, Verdict};
use perfgate::scenario;

use crate::support::results;

fn judged() -> RunResult {
    let mut m = results::realistic().measurement();
    m.stages[1].name = Some("peak".into());
    let p95 = m.totals.latency_ms.p95;
    let yaml = format!(
        "name: checkout\nkind: stress\nrequests:\n  - {{ name: list-items, call: builtin.noop }}\n  - {{ name: get-item, call: builtin.noop }}\nload:\n  stages:\n    - {{ concurrency: 10, duration: 10s }}\n    - {{ concurrency: 50, duration: 10s, name: peak }}\n    - {{ concurrency: 100, duration: 10s }}\nthresholds:\n  - p95: {{ target: {:.3}ms, warn: {:.3}ms, fail: {:.3}ms, kpi: true }}\n  - stage:peak.error_rate < 50%\n  - stage[2].p99: {{ fail: 1us, kpi: true }}\n",
        p95 * 0.5,
        p95 * 0.9,
        p95 * 2.0
    );
    let plan = scenario::parse(&yaml, Path::new("s.yaml"), &["builtin.noop"], |_| None)
        .unwrap_or_else(|e| panic!("{e}"));
    judge(m, &plan.thresholds, None, &CompareOptions::default())
}

fn render(r: &dyn Reporter, result: &RunResult) -> String {
    String::from_utf8(r.render(result, &ReportContext::default()).unwrap()).unwrap()
}

#[test]
fn a_warn_level_passes_and_a_stage_threshold_judges_its_stage() {
    let r = judged();
    let [budget, peak, last] = &r.thresholds[..] else {
        panic!("{:?}", r.thresholds)
    };
    assert!(budget.pass && budget.warning && budget.kpi, "{budget:?}");
    assert_eq!(budget.target_met, Some(false));
    assert_eq!(peak.stage, Some(1));
    assert_eq!(peak.observed, r.stages[1].metrics.error_rate);
    assert!(peak.pass);
    assert!(!last.pass && last.observed == r.stages[2].metrics.latency_ms.p99);
    // The failed stage threshold is the reason; the warning is not.
    assert_eq!(r.verdict, Verdict::Fail);
    assert!(
        r.reasons.iter().any(|s| s.starts_with("stage 2 p99 ")),
        "{:?}",
        r.reasons
    );
    assert!(r.reasons.iter().all(|s| !s.contains("warn")));
    assert!(r
        .warnings
        .iter()
        .any(|w| w.starts_with("warn level reached: p95 ")));
}

#[test]
fn every_report_shows_the_warning_and_the_kpi_table() {
    let r = judged();
    let plain = render(
        &TerminalReport {
            color: false,
            verbose: false,
        },
        &r,
    );
    assert!(plain.contains("\nKPIs\n"), "{plain}");
    assert!(plain.contains("WARN"), "{plain}");
    assert!(plain.contains("warn, target missed"), "{plain}");
    let color = render(
        &TerminalReport {
            color: true,
            verbose: false,
        },
        &r,
    );
    assert!(color.contains("\x1b[33mWARN\x1b[0m"));
    assert!(color.contains("\x1b[33mwarning: warn level reached: p95"));

    let html = render(&HtmlReport, &r);
    assert!(html.contains("<h3>KPIs</h3>"));
    assert!(html.contains("<td class=\"v-inconclusive\">warn</td>"));
    assert!(html.contains("<div class=\"warn\">warn level reached: p95"));

    let md = render(&MarkdownReport, &r);
    assert!(md.contains("### KPIs"));
    assert!(md.contains("⚠️ warn, target missed"));
    assert!(md.contains("> ⚠️ warn level reached: p95"));

    let xml = render(&JunitReport, &r);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let case = doc
        .descendants()
        .find(|n| n.has_tag_name("testcase") && n.attribute("name") == Some(&r.thresholds[0].expr))
        .expect("the budget's testcase");
    assert!(!case.children().any(|c| c.has_tag_name("failure")));
    let out = case
        .children()
        .find(|c| c.has_tag_name("system-out"))
        .and_then(|c| c.text())
        .unwrap();
    assert!(out.starts_with("warning: reached the warn level"), "{out}");
}
