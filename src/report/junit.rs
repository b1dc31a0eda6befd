//! `junit.xml`: the gate as JUnit test results for CI test-report views (GitLab, GitHub
//! actions such as dorny/test-reporter or mikepenz/action-junit-report). One testsuite
//! `perfgate.<scenario>`: a testcase "verdict" (its failure message is the run's first
//! reason), "run completed" (with the totals, dropped arrivals and retries), one per threshold
//! and one per compared metric. Everything written is XML-escaped.

use std::fmt::Write as _;

use super::escape::xml;
use super::format as f;
use super::{ReportContext, ReportError, Reporter};
use crate::result::{MetricVerdict, RunResult, Verdict};

/// Renders `junit.xml`.
#[derive(Debug, Clone, Copy, Default)]
pub struct JunitReport;

impl Reporter for JunitReport {
    fn file_name(&self) -> &str {
        "junit.xml"
    }

    fn render(&self, result: &RunResult, _ctx: &ReportContext<'_>) -> Result<Vec<u8>, ReportError> {
        Ok(render_junit(result).into_bytes())
    }
}

enum Outcome {
    Pass,
    Failure {
        message: String,
    },
    /// Inconclusive comparisons are reported as `<skipped message=...>`: GitLab and the
    /// common GitHub reporters list skipped tests with their message next to the failures,
    /// so a reader sees "past tolerance but not significant" without the build failing;
    /// `system-out` alone is hidden behind a click in most of them.
    Skipped {
        message: String,
    },
}

struct Case {
    classname: String,
    name: String,
    outcome: Outcome,
    detail: String,
}

fn cases(r: &RunResult) -> Vec<Case> {
    let suite = format!("perfgate.{}", r.scenario.name);
    let mut out = Vec::new();
    // The verdict first: its failure message is the first reason, its output all of them.
    out.push(Case {
        classname: suite.clone(),
        name: "verdict".into(),
        outcome: match r.reasons.first() {
            Some(first) => Outcome::Failure {
                message: first.clone(),
            },
            None if r.verdict == Verdict::Pass => Outcome::Pass,
            None => Outcome::Failure {
                message: format!("the run's verdict is {}", r.verdict.as_str()),
            },
        },
        detail: if r.reasons.is_empty() {
            format!("{}: every gate passed", r.verdict.as_str())
        } else {
            r.reasons.join("\n")
        },
    });
    let completed = r.verdict != Verdict::Aborted;
    out.push(Case {
        classname: suite.clone(),
        name: "run completed".into(),
        outcome: if completed {
            Outcome::Pass
        } else {
            Outcome::Failure {
                message: format!(
                    "the run was aborted after {} (exit code {})",
                    f::duration(r.duration_s),
                    r.exit_code
                ),
            }
        },
        detail: {
            let t = &r.totals;
            let mut d = format!(
                "{} requests, {} ok, {} errors ({}), duration {}",
                f::count(t.requests),
                f::count(t.ok),
                f::count(t.errors),
                f::pct(t.error_rate),
                f::duration(r.duration_s)
            );
            if f::shows_dropped(r) {
                let _ = write!(d, ", dropped {}", f::dropped_cell(t));
            }
            if t.retries > 0 {
                let _ = write!(d, ", retries {}", f::count(t.retries));
            }
            if let Some(stop) = &r.stopped_early {
                let _ = write!(d, "\nstopped early: {}", stop.reason);
            }
            for w in &r.warnings {
                let _ = write!(d, "\nwarning: {w}");
            }
            d
        },
    });
    for t in &r.thresholds {
        let mut numbers = format!(
            "observed {} vs limit {}",
            f::threshold_observed(t),
            f::with_unit(t.limit, &t.unit)
        );
        // A warn level reached passes, with the warning in its output (CI shows it).
        if let (true, Some(warn)) = (t.warning, t.warn) {
            numbers = format!(
                "warning: reached the warn level {}; {numbers}",
                f::with_unit(warn, &t.unit)
            );
        }
        out.push(Case {
            classname: format!("{suite}.thresholds"),
            name: t.expr.clone(),
            outcome: if t.pass {
                Outcome::Pass
            } else {
                Outcome::Failure {
                    message: format!("threshold failed: {numbers}"),
                }
            },
            detail: numbers,
        });
    }
    if let Some(ab) = &r.ab {
        let context = format!(
            "A {} vs B {}; {}",
            ab.a.target,
            ab.b.target,
            f::ab_design(ab)
        );
        for m in &ab.metrics {
            let cells = f::ab_cells(m);
            let numbers = format!(
                "A {} → B {}, change {} {}, tolerance {}",
                cells[1], cells[2], cells[3], cells[4], cells[5]
            );
            let outcome = match m.verdict {
                MetricVerdict::Regressed => Outcome::Failure {
                    message: format!("regressed: {numbers}"),
                },
                MetricVerdict::NoData => Outcome::Failure {
                    message: format!("no data: {numbers}"),
                },
                MetricVerdict::Inconclusive if ab.strict => Outcome::Failure {
                    message: format!("inconclusive (--strict): {numbers}"),
                },
                MetricVerdict::Inconclusive => Outcome::Skipped {
                    message: format!(
                        "inconclusive (the interval straddles the tolerance): {numbers}"
                    ),
                },
                MetricVerdict::Improved | MetricVerdict::Unchanged => Outcome::Pass,
            };
            out.push(Case {
                classname: format!("{suite}.ab"),
                name: m.metric.clone(),
                outcome,
                detail: format!("{}: {numbers}; {context}", m.verdict.as_str()),
            });
        }
    }
    if let Some(c) = &r.comparison {
        let mut context = format!("baseline {} ({})", c.baseline_file, c.baseline_created_at);
        if c.scenario_changed {
            context.push_str("; the scenario file changed since the baseline");
        }
        for m in &c.env_mismatch {
            let _ = write!(context, "; environment differs: {m}");
        }
        for m in &c.metrics {
            let cells = f::comparison_cells(m);
            let numbers = format!(
                "baseline {} → current {}, change {}, tolerance {}, p-value {}",
                cells[1], cells[2], cells[3], cells[4], cells[5]
            );
            let outcome = match m.verdict {
                MetricVerdict::Regressed => Outcome::Failure {
                    message: format!("regressed: {numbers}"),
                },
                MetricVerdict::Inconclusive => Outcome::Skipped {
                    message: format!("inconclusive (not significant): {numbers}"),
                },
                MetricVerdict::NoData => Outcome::Failure {
                    message: format!("no data: {numbers}"),
                },
                MetricVerdict::Improved | MetricVerdict::Unchanged => Outcome::Pass,
            };
            out.push(Case {
                classname: format!("{suite}.baseline"),
                name: cells[0].clone(),
                outcome,
                detail: format!("{}: {numbers}; {context}", m.verdict.as_str()),
            });
        }
    }
    out
}

/// The JUnit XML document.
pub fn render_junit(r: &RunResult) -> String {
    let cases = cases(r);
    let failures = cases
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Failure { .. }))
        .count();
    let skipped = cases
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Skipped { .. }))
        .count();
    let time = if r.duration_s.is_finite() {
        r.duration_s.max(0.0)
    } else {
        0.0
    };
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let suite = xml(&format!("perfgate.{}", r.scenario.name));
    let _ = writeln!(
        s,
        "<testsuites name=\"perfgate\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{time:.3}\">",
        cases.len()
    );
    let _ = writeln!(
        s,
        "  <testsuite name=\"{suite}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{time:.3}\" timestamp=\"{}\">",
        cases.len(),
        xml(&r.started_at)
    );
    for c in &cases {
        let _ = writeln!(
            s,
            "    <testcase classname=\"{}\" name=\"{}\" time=\"0\">",
            xml(&c.classname),
            xml(&c.name)
        );
        match &c.outcome {
            Outcome::Pass => {}
            Outcome::Failure { message } => {
                let _ = writeln!(
                    s,
                    "      <failure message=\"{}\" type=\"perfgate\">{}</failure>",
                    xml(message),
                    xml(&c.detail)
                );
            }
            Outcome::Skipped { message } => {
                let _ = writeln!(s, "      <skipped message=\"{}\"/>", xml(message));
            }
        }
        let _ = writeln!(s, "      <system-out>{}</system-out>", xml(&c.detail));
        s.push_str("    </testcase>\n");
    }
    s.push_str("  </testsuite>\n</testsuites>\n");
    s
}
