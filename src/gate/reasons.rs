//! One sentence per failed gate, most important first: what `result.json` holds under
//! `reasons`, the last line of the terminal summary, the line under the verdict badge of
//! `report.html`, the first line of `summary.md` and the JUnit failure message.
//!
//! The order, most important first (within a rank, the order of the scenario):
//! 1. the run was aborted by a signal, or stopped itself (`abort: true`,
//!    `abort_when_unreachable`: "aborted at 12 s: error_rate 100 % ≥ 50 % (abort: true)");
//! 2. no request succeeded (the no-success guard, whatever the scenario says);
//! 3. thresholds on dropped arrivals (the load was not applied as planned);
//! 4. thresholds on errors and the error rate;
//! 5. latency thresholds;
//! 6. throughput and request-count thresholds;
//! 7. baseline metrics that regressed or could not be judged (no data);
//! 8. with `--strict`, baseline metrics that were inconclusive (a regression on a noisy
//!    machine says so: "p99 +40.0 %, during 12 % CPU steal: inconclusive, rerun").
//!
//! The sentences are built from the result alone, so a saved `result.json` re-judged by
//! `perfgate compare` gets the same ones.

use crate::result::TOTAL_KEY;
use crate::result::{
    MetricComparison, MetricVerdict, Metrics, RunResult, ThresholdResult, Verdict,
};

use super::noise::{self, Noise};
use super::thresholds::{dropped_rate, no_success};

/// The reasons `result` failed (empty when its gates pass), most important first. Reads
/// what the gate already put in `result` (verdict, thresholds, comparison).
pub fn reasons(result: &RunResult, strict: bool) -> Vec<String> {
    let mut ranked: Vec<(u8, String)> = Vec::new();
    if result.verdict == Verdict::Aborted {
        ranked.push((
            0,
            format!(
                "aborted by signal after {:.1} s; the numbers are partial",
                result.duration_s.max(0.0)
            ),
        ));
    }
    if let Some(stop) = &result.stopped_early {
        ranked.push((0, stop.reason.clone()));
    }
    if no_success(&result.totals) {
        ranked.push((1, no_success_sentence(&result.totals)));
    }
    for t in result.thresholds.iter().filter(|t| !t.pass) {
        ranked.push((threshold_rank(t), threshold_sentence(t, result)));
    }
    if let Some(c) = result.comparison.as_ref().filter(|c| !c.informational) {
        if let Some(line) = c.underpowered.as_ref().filter(|_| strict) {
            ranked.push((8, format!("{line} (--strict)")));
        }
        for m in &c.metrics {
            match m.verdict {
                MetricVerdict::Regressed | MetricVerdict::NoData => {
                    ranked.push((7, comparison_sentence(m, result)))
                }
                MetricVerdict::Inconclusive if strict => {
                    ranked.push((8, comparison_sentence(m, result)))
                }
                _ => {}
            }
        }
    }
    // A stable sort keeps the scenario's order within a rank.
    ranked.sort_by_key(|(rank, _)| *rank);
    ranked.into_iter().map(|(_, s)| s).collect()
}

fn no_success_sentence(t: &Metrics) -> String {
    if t.requests == 0 {
        return if t.dropped > 0 {
            format!(
                "no request succeeded: none was sent ({} arrivals dropped)",
                grouped(t.dropped as f64)
            )
        } else {
            "no request succeeded: no request completed".to_string()
        };
    }
    let classes: Vec<String> = t
        .errors_by_class
        .iter()
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(c, n)| format!("{c} {}", grouped(n as f64)))
        .collect();
    let mut s = format!(
        "no request succeeded: {} of {} failed",
        grouped(t.errors as f64),
        grouped(t.requests as f64)
    );
    if !classes.is_empty() {
        s.push_str(&format!(" ({})", classes.join(", ")));
    }
    s
}

fn threshold_rank(t: &ThresholdResult) -> u8 {
    match t.metric.as_str() {
        "dropped" | "dropped_rate" => 3,
        "errors" | "error_rate" => 4,
        "throughput" | "requests" => 6,
        // Latency metrics, and results written before `metric` was recorded.
        _ => 5,
    }
}

/// `list-items p99 412 ms > limit 300 ms`, `dropped 75 % of arrivals (745 of 990) > limit
/// 1 %`, `p95 n/a: no request succeeded (limit < 50 ms)`.
fn threshold_sentence(t: &ThresholdResult, result: &RunResult) -> String {
    if t.metric.is_empty() {
        // A result written before thresholds recorded their metric.
        return format!(
            "threshold `{}` failed: observed {}, limit {}",
            t.expr,
            value(t.observed, &t.unit),
            value(t.limit, &t.unit)
        );
    }
    let scope = match t.stage {
        Some(i) => format!("{} ", stage_words(t, i, result)),
        None => t
            .scope
            .as_deref()
            .map(|s| format!("{s} "))
            .unwrap_or_default(),
    };
    let limit = value(t.limit, &t.unit);
    if t.no_data {
        let why = match t.expr.rsplit_once(" (") {
            Some((_, why)) => why.trim_end_matches(')'),
            None => "no data",
        };
        return format!("{scope}{} n/a: {why} (limit {} {limit})", t.metric, t.op);
    }
    let observed = value(t.observed, &t.unit);
    let relation = if t.observed > t.limit {
        format!("> limit {limit}")
    } else if t.observed < t.limit {
        format!("< limit {limit}")
    } else {
        format!("is not {} {limit}", t.op)
    };
    let metrics = match (&t.scope, t.stage) {
        (_, Some(i)) => result
            .stages
            .iter()
            .find(|s| s.index == i)
            .map(|s| &s.metrics),
        (None, None) => Some(&result.totals),
        (Some(name), None) => result.requests.get(name),
    };
    match (t.metric.as_str(), metrics) {
        ("dropped_rate", Some(m)) => format!(
            "{scope}dropped {} of arrivals ({} of {}) {relation}",
            value(dropped_rate(m), "ratio"),
            grouped(m.dropped as f64),
            grouped((m.requests + m.dropped) as f64)
        ),
        ("dropped", _) => format!("{scope}dropped {observed} arrivals {relation}"),
        (metric, _) => format!("{scope}{metric} {observed} {relation}"),
    }
}

/// `stage peak` (a named stage, named in the result or by the threshold) or `stage 2`.
pub(crate) fn stage_words(t: &ThresholdResult, i: usize, result: &RunResult) -> String {
    let by_threshold = t
        .expr
        .strip_prefix("stage:")
        .and_then(|rest| rest.split('.').next());
    match result
        .stages
        .iter()
        .find(|s| s.index == i)
        .and_then(|s| s.name.as_deref())
        .or(by_threshold)
    {
        Some(name) => format!("stage {name}"),
        None => format!("stage {i}"),
    }
}

/// The warning a budget gives when its warn level was reached and it still passed:
/// `warn level reached: p95 212 ms ≥ 200 ms (fails at 250 ms)`. Starts with
/// [`WARN_LEVEL_PREFIX`].
pub(crate) fn warn_sentence(t: &ThresholdResult, result: &RunResult) -> Option<String> {
    let warn = t.warn.filter(|_| t.warning)?;
    let scope = match t.stage {
        Some(i) => format!("{} ", stage_words(t, i, result)),
        None => t
            .scope
            .as_deref()
            .map(|s| format!("{s} "))
            .unwrap_or_default(),
    };
    let towards = if t.op.starts_with('>') { "≤" } else { "≥" };
    Some(format!(
        "{WARN_LEVEL_PREFIX}{scope}{} {} {towards} {} (fails at {})",
        t.metric,
        value(t.observed, &t.unit),
        value(warn, &t.unit),
        value(t.limit, &t.unit)
    ))
}

/// How a budget's warning starts, in `warnings`.
pub(crate) const WARN_LEVEL_PREFIX: &str = "warn level reached: ";

/// `p50 +18.2 % vs baseline (tolerance 10%, p = 0.002)`; on a noisy machine (`--strict`),
/// `p99 +40.0 %, during 12 % CPU steal: inconclusive, rerun`.
fn comparison_sentence(m: &MetricComparison, result: &RunResult) -> String {
    // The system under test's metrics name themselves (`sut.rss`).
    let who = if m.request == TOTAL_KEY || m.request == super::compare::SUT_KEY {
        String::new()
    } else {
        format!("{} ", m.request)
    };
    if m.verdict == MetricVerdict::NoData {
        let current = if m.request == TOTAL_KEY {
            Some(&result.totals)
        } else {
            result.requests.get(&m.request)
        };
        let side = if current.is_some_and(|c| c.ok > 0) {
            "the baseline has no successful response to compare with"
        } else {
            "no successful response in this run"
        };
        return format!(
            "{who}{} n/a vs baseline: {side} (baseline {})",
            m.metric,
            value(m.baseline, &m.unit)
        );
    }
    let change = if m.unit == "ratio" {
        format!("{:+.1} pp", m.change)
    } else if m.change.abs() >= 100.0 {
        let sign = if m.change < 0.0 { "-" } else { "+" };
        format!("{sign}{} %", grouped(m.change.abs()))
    } else {
        format!("{:+.1} %", m.change)
    };
    let p = match m.p_value {
        Some(p) if p < 0.001 => ", p < 0.001".to_string(),
        Some(p) => format!(", p = {p:.3}"),
        None => String::new(),
    };
    if noise::worse_inconclusive(m) {
        if let Some(n) = Noise::of_result(result).filter(Noise::is_noisy) {
            return noise::sentence(&who, m, &change, &n);
        }
    }
    let tail = if m.verdict == MetricVerdict::Inconclusive {
        " is inconclusive (--strict)"
    } else {
        ""
    };
    format!(
        "{who}{} {change} vs baseline{tail} (tolerance {}{p})",
        m.metric, m.tolerance
    )
}

/// A number in a threshold's unit, as a sentence reads it: `412 ms`, `4.1 %`, `120/s`, `745`.
pub(crate) fn value(v: f64, unit: &str) -> String {
    if !v.is_finite() {
        return "n/a".into();
    }
    match unit {
        "ms" if v >= 1000.0 => format!("{} s", trim(format!("{:.2}", v / 1000.0))),
        "ms" if v < 1.0 => format!("{} µs", trim(format!("{:.1}", v * 1000.0))),
        "ms" if v >= 100.0 => format!("{v:.0} ms"),
        "ms" if v >= 10.0 => format!("{} ms", trim(format!("{v:.1}"))),
        "ms" => format!("{} ms", trim(format!("{v:.2}"))),
        "ratio" => {
            let p = v * 100.0;
            let digits = if p == 0.0 || p >= 10.0 {
                format!("{p:.0}")
            } else if p >= 1.0 {
                format!("{p:.1}")
            } else if p >= 0.01 {
                format!("{p:.2}")
            } else {
                format!("{p:.4}")
            };
            format!("{} %", trim(digits))
        }
        "rps" if v >= 100.0 => format!("{}/s", grouped(v)),
        "rps" => format!("{v:.1}/s"),
        "count" => grouped(v),
        "bytes" => crate::result::bytes::bytes(v),
        "pct" => format!("{} %", trim(format!("{v:.1}"))),
        _ => format!("{v}"),
    }
}

/// A whole number with thousands separators, as the reports print counts: `26747` → `26,747`.
fn grouped(v: f64) -> String {
    let digits = format!("{:.0}", v.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if v < 0.0 && digits != "0" {
        format!("-{out}")
    } else {
        out
    }
}

/// `1.0` → `1`, `2.50` → `2.5`; whole numbers stay as they are.
fn trim(digits: String) -> String {
    if digits.contains('.') {
        digits
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    } else {
        digits
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::thresholds::evaluate;
    use crate::result::{Comparison, ComparisonVerdict};
    use crate::scenario::{Op, Threshold, ThresholdMetric};

    /// `r` judged again over what it holds (thresholds, comparison).
    fn decided(r: RunResult, strict: bool) -> RunResult {
        let (m, j) = r.into_parts();
        crate::gate::decide(m, j.thresholds, j.comparison, strict)
    }

    fn result() -> RunResult {
        let mut r: RunResult = crate::result::empty_result(10.0);
        r.totals = Metrics {
            requests: 245,
            ok: 235,
            errors: 10,
            dropped: 745,
            error_rate: 10.0 / 245.0,
            throughput_rps: 23.5,
            ..Default::default()
        };
        r.totals.errors_by_class.http_5xx = 10;
        r.totals.latency_ms.p99 = 412.0;
        r.requests.insert("list-items".into(), r.totals.clone());
        r
    }

    fn th(
        expr: &str,
        scope: Option<&str>,
        metric: ThresholdMetric,
        op: Op,
        limit: f64,
    ) -> Threshold {
        Threshold::new(expr, scope.map(Into::into), metric, op, limit)
    }

    fn regressed_p50() -> Comparison {
        Comparison {
            baseline_file: "b.json".into(),
            baseline_created_at: "2026-01-01T00:00:00Z".into(),
            verdict: ComparisonVerdict::Fail,
            method: "m".into(),
            scenario_changed: false,
            env_mismatch: vec![],
            notes: vec![],
            metrics: vec![MetricComparison {
                request: TOTAL_KEY.into(),
                metric: "p50".into(),
                unit: "ms".into(),
                baseline: 10.0,
                current: 11.82,
                change: 18.2,
                tolerance: "10%".into(),
                p_value: Some(0.002),
                verdict: MetricVerdict::Regressed,
                detectable: Some(5.0),
            }],
            testbed: String::new(),
            baseline_testbed: String::new(),
            informational: false,
            baseline_runs: 1,
            underpowered: None,
        }
    }

    #[test]
    fn large_numbers_read_like_the_reports() {
        assert_eq!(grouped(26747.0), "26,747");
        assert_eq!(grouped(745.0), "745");
        assert_eq!(grouped(-1234567.0), "-1,234,567");
        assert_eq!(value(0.042, "ms"), "42 µs");
        assert_eq!(value(12000.0, "rps"), "12,000/s");
    }

    #[test]
    fn most_important_first_whatever_the_scenario_order() {
        let mut r = result();
        // Written in the "wrong" order on purpose: throughput, latency, errors, dropped.
        r.thresholds = evaluate(
            &[
                th(
                    "throughput > 500/s",
                    None,
                    ThresholdMetric::Throughput,
                    Op::Gt,
                    500.0,
                ),
                th(
                    "list-items.p99 < 300ms",
                    Some("list-items"),
                    ThresholdMetric::P99,
                    Op::Lt,
                    300.0,
                ),
                th(
                    "error_rate < 1%",
                    None,
                    ThresholdMetric::ErrorRate,
                    Op::Lt,
                    0.01,
                ),
                th(
                    "dropped_rate < 1%",
                    None,
                    ThresholdMetric::DroppedRate,
                    Op::Lt,
                    0.01,
                ),
            ],
            &r.measurement(),
        );
        r.comparison = Some(regressed_p50());
        r = decided(r, false);
        assert_eq!(r.verdict, Verdict::Fail);
        assert_eq!(
            r.reasons,
            [
                "dropped 75 % of arrivals (745 of 990) > limit 1 %",
                "error_rate 4.1 % > limit 1 %",
                "list-items p99 412 ms > limit 300 ms",
                "throughput 23.5/s < limit 500/s",
                "p50 +18.2 % vs baseline (tolerance 10%, p = 0.002)",
            ]
        );
    }

    #[test]
    fn no_success_comes_first_and_aborted_before_it() {
        let mut r = result();
        r.totals.ok = 0;
        r.totals.errors = 245;
        r.totals.errors_by_class.http_5xx = 0;
        r.totals.errors_by_class.reset = 245;
        r.thresholds = evaluate(
            &[th("p95 < 50ms", None, ThresholdMetric::P95, Op::Lt, 50.0)],
            &r.measurement(),
        );
        r = decided(r, false);
        assert_eq!(r.exit_code, 1);
        assert_eq!(
            r.reasons,
            [
                "no request succeeded: 245 of 245 failed (reset 245)",
                "p95 n/a: no request succeeded (limit < 50 ms)",
            ]
        );
        r.verdict = Verdict::Aborted;
        r = decided(r, false);
        assert_eq!(r.exit_code, 3);
        assert!(r.reasons[0].starts_with("aborted by signal after 10.0 s"));
        assert!(r.reasons[1].starts_with("no request succeeded"));
    }

    #[test]
    fn a_passing_run_has_no_reasons() {
        let mut r = result();
        r.reasons = vec!["stale".into()];
        r.thresholds = evaluate(
            &[th("p99 < 1s", None, ThresholdMetric::P99, Op::Lt, 1000.0)],
            &r.measurement(),
        );
        r = decided(r, false);
        assert_eq!(r.verdict, Verdict::Pass);
        assert!(r.reasons.is_empty());
    }

    #[test]
    fn inconclusive_is_a_reason_only_when_strict() {
        let mut r = result();
        let mut c = regressed_p50();
        c.verdict = ComparisonVerdict::Pass;
        c.metrics[0].verdict = MetricVerdict::Inconclusive;
        c.metrics[0].p_value = Some(0.3);
        r.comparison = Some(c);
        r = decided(r, false);
        assert!(r.reasons.is_empty());
        r = decided(r, true);
        assert_eq!(
            r.reasons,
            ["p50 +18.2 % vs baseline is inconclusive (--strict) (tolerance 10%, p = 0.300)"]
        );
    }

    #[test]
    fn a_regression_on_a_noisy_machine_is_inconclusive_and_says_why() {
        use crate::gate::noise::{downgrade, Noise};
        use crate::result::Window;
        let mut r = result();
        // 20 measured seconds, 3 of them with up to 12 % CPU steal.
        r.timeseries = (0..20)
            .map(|i| Window {
                t_s: i as f64,
                stage: Some(0),
                steal_pct: Some([12.0, 8.0, 6.0].get(i).copied().unwrap_or(0.4)),
                generator_cpu_pct: Some(40.0),
                saturated: Some(false),
                ..Window::default()
            })
            .collect();
        let mut c = regressed_p50();
        c.metrics[0].metric = "p99".into();
        c.metrics[0].change = 40.0;
        for strict in [false, true] {
            let mut c = c.clone();
            downgrade(Noise::of_result(&r), &mut c, strict);
            assert_eq!(c.metrics[0].verdict, MetricVerdict::Inconclusive);
            assert!(
                c.notes[0].starts_with("p99 +40.0 %, during 12 % CPU steal: inconclusive, rerun"),
                "{:?}",
                c.notes
            );
            let mut r = r.clone();
            r.comparison = Some(c);
            r = decided(r, strict);
            if strict {
                assert_eq!(r.verdict, Verdict::Fail);
                assert_eq!(
                    r.reasons,
                    ["p99 +40.0 %, during 12 % CPU steal: inconclusive, rerun"]
                );
            } else {
                assert_eq!(r.verdict, Verdict::Pass);
                assert!(r.reasons.is_empty());
            }
        }
        // The same regression on a quiet machine stays one.
        for w in &mut r.timeseries {
            w.steal_pct = Some(0.4);
        }
        let mut quiet = c.clone();
        downgrade(Noise::of_result(&r), &mut quiet, false);
        assert_eq!(quiet, c);
    }

    #[test]
    fn equality_at_the_limit_says_which_way_it_should_be() {
        let mut r = result();
        r.totals.error_rate = 0.01;
        r.thresholds = evaluate(
            &[th(
                "error_rate < 1%",
                None,
                ThresholdMetric::ErrorRate,
                Op::Lt,
                0.01,
            )],
            &r.measurement(),
        );
        r = decided(r, false);
        assert_eq!(r.reasons, ["error_rate 1 % is not < 1 %"]);
    }
}
