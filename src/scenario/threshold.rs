//! The threshold grammar. The short form: `[SCOPE.]METRIC OP VALUE`, e.g. `p95 < 250ms`,
//! `error_rate < 1%`, `throughput > 500/s`, `list-items.p99 <= 300ms`, `errors == 0`. The
//! budget form, a one-key map: `p95: { target: 150ms, warn: 200ms, fail: 250ms }` (fail is
//! the short form's limit; warn and target never fail a run), with `kpi: true` (a row of the
//! KPI table) and `abort: true` (optional `after: 10s`: judged on every closed window, and
//! the run stops at the first that breaks it).
//!
//! SCOPE is a request name (`list-items.p99`), or a stage: `stage[2].p99` (by index, from 0,
//! as `validate --explain` numbers them) or `stage:peak.p99` (by `name:`).

use std::collections::BTreeMap;
use std::time::Duration;

use super::plan::{Levels, Op, Threshold, ThresholdMetric};
use super::units::{did_you_mean, parse_bytes, parse_duration, parse_percent, parse_rate};

/// A threshold's problem: the message and a hint.
pub(super) type Problem = (String, Option<String>);

/// What a threshold may name: the scenario's requests and stages.
#[derive(Clone, Copy)]
pub(super) struct Names<'a> {
    pub requests: &'a [&'a str],
    /// By stage index: the stage's name, if it has one.
    pub stages: &'a [Option<String>],
}

/// Parses one short-form threshold. `request_names` are the scenario's request names, for
/// scoped ones (no stage may be named).
#[cfg(test)]
pub(super) fn parse(expr: &str, request_names: &[&str]) -> Result<Threshold, Problem> {
    parse_in(
        expr,
        Names {
            requests: request_names,
            stages: &[],
        },
    )
}

/// Parses one short-form threshold against the scenario's `names`.
pub(super) fn parse_in(expr: &str, names: Names) -> Result<Threshold, Problem> {
    let t = expr.trim();
    let ops = ["<=", ">=", "==", "<", ">"];
    let (lhs, op, rhs) = ops
        .iter()
        .find_map(|op| t.find(op).map(|i| (&t[..i], *op, &t[i + op.len()..])))
        .ok_or_else(|| {
            (
                format!("`{t}` has no comparison"),
                Some("write METRIC OP VALUE, e.g. `p95 < 250ms`, `error_rate < 1%`, `throughput > 500/s`".into()),
            )
        })?;
    let lhs = parse_lhs(lhs.trim(), t, names)?;
    let rhs = rhs.trim();
    let op = match op {
        "<" => Op::Lt,
        "<=" => Op::Le,
        ">" => Op::Gt,
        ">=" => Op::Ge,
        // `errors == 0` is the one equality users write; it means `<= 0`.
        _ => {
            if rhs.parse::<f64>() == Ok(0.0) || rhs == "0%" {
                Op::Le
            } else {
                return Err((
                    format!("`{t}`: `==` is only supported against zero"),
                    Some("use <, <=, > or >=".into()),
                ));
            }
        }
    };
    let limit = parse_value(lhs.metric, rhs).map_err(|e| (format!("in `{t}`: {e}"), None))?;
    let mut th = Threshold::new(t, lhs.scope, lhs.metric, op, limit);
    th.stage = lhs.stage;
    Ok(th)
}

/// The left-hand side of a threshold: what it judges.
struct Lhs {
    stage: Option<usize>,
    scope: Option<String>,
    metric: ThresholdMetric,
}

/// `[stage[N]. | stage:NAME.][REQUEST.]METRIC`; `t` is the whole threshold, for messages.
fn parse_lhs(lhs: &str, t: &str, names: Names) -> Result<Lhs, Problem> {
    let (stage, rest) = parse_stage(lhs, t, names.stages)?;
    let metric_names: Vec<&str> = ThresholdMetric::ALL.iter().map(|(n, _)| *n).collect();
    let find = |name: &str| {
        ThresholdMetric::ALL
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, m)| *m)
    };
    // A metric whose name holds a `.` is found whole before `.` is read as a scope.
    let (scope, metric_name) = match (find(rest), rest.rsplit_once('.')) {
        (Some(_), _) | (None, None) => (None, rest),
        (None, Some((scope, m))) => (Some(scope.to_string()), m),
    };
    let metric = find(metric_name).ok_or_else(|| {
        (
            format!("unknown metric `{metric_name}` in `{t}`"),
            Some(match did_you_mean(metric_name, &metric_names) {
                Some(s) => format!("did you mean `{s}`? metrics: {}", metric_names.join(", ")),
                None => format!("metrics: {}", metric_names.join(", ")),
            }),
        )
    })?;
    if let Some(s) = &scope {
        if stage.is_some() {
            return Err((
                format!(
                    "`{t}` names a stage and a request: a stage threshold covers every request"
                ),
                Some(format!(
                    "judge the stage (`{}.{}`) or the request (`{s}.{}`)",
                    &lhs[..lhs.len() - rest.len() - 1],
                    metric.name(),
                    metric.name()
                )),
            ));
        }
        if !names.requests.contains(&s.as_str()) {
            let requests = names.requests;
            return Err((
                format!("`{t}` is scoped to `{s}`, which is not a request name"),
                Some(match did_you_mean(s, requests) {
                    Some(n) => {
                        format!("did you mean `{n}`? requests: {}", requests.join(", "))
                    }
                    None => format!(
                        "requests: {}; a stage is `stage[N].` or `stage:NAME.`",
                        requests.join(", ")
                    ),
                }),
            ));
        }
    }
    Ok(Lhs {
        stage,
        scope,
        metric,
    })
}

/// Takes a `stage[N].` or `stage:NAME.` prefix off `lhs`: the stage's index and the rest.
fn parse_stage<'a>(
    lhs: &'a str,
    t: &str,
    stages: &[Option<String>],
) -> Result<(Option<usize>, &'a str), Problem> {
    let listing = || {
        let named: Vec<String> = stages
            .iter()
            .enumerate()
            .map(|(i, n)| match n {
                Some(n) => format!("stage[{i}] (`stage:{n}`)"),
                None => format!("stage[{i}]"),
            })
            .collect();
        format!(
            "the stages: {} (`perfgate validate --explain` lists them)",
            named.join(", ")
        )
    };
    let (index, rest) = if let Some(after) = lhs.strip_prefix("stage[") {
        let (n, rest) = after.split_once(']').ok_or_else(|| {
            (
                format!("`{t}`: `stage[` has no closing `]`"),
                Some("e.g. `stage[2].p99 < 300ms`".into()),
            )
        })?;
        let i: usize = n.trim().parse().map_err(|_| {
            (
                format!("`{t}`: `{n}` is not a stage index"),
                Some(
                    "stages are numbered from 0, e.g. `stage[0].p99`; or by name: `stage:peak.p99`"
                        .into(),
                ),
            )
        })?;
        if i >= stages.len() {
            return Err((
                format!(
                    "`{t}`: there is no stage[{i}]; the load has {} stage{}",
                    stages.len(),
                    if stages.len() == 1 { "" } else { "s" }
                ),
                Some(format!("stages are numbered from 0; {}", listing())),
            ));
        }
        (i, rest.strip_prefix('.').unwrap_or(rest))
    } else if let Some(after) = lhs.strip_prefix("stage:") {
        let (name, rest) = after.split_once('.').unwrap_or((after, ""));
        let known: Vec<&str> = stages.iter().flatten().map(String::as_str).collect();
        let i = stages
            .iter()
            .position(|n| n.as_deref() == Some(name))
            .ok_or_else(|| {
                (
                    format!("`{t}`: no stage is named `{name}`"),
                    Some(match did_you_mean(name, &known) {
                        Some(n) => format!("did you mean `stage:{n}`? {}", listing()),
                        None => format!(
                            "give the stage a `name: {name}`, or use its index; {}",
                            listing()
                        ),
                    }),
                )
            })?;
        (i, rest)
    } else {
        return Ok((None, lhs));
    };
    if rest.is_empty() {
        return Err((
            format!("`{t}` names a stage but no metric"),
            Some("e.g. `stage[2].p99 < 300ms`, `stage:peak.error_rate < 1%`".into()),
        ));
    }
    Ok((Some(index), rest))
}

/// A value in `metric`'s unit: a duration in ms, a percentage as a fraction, a rate per
/// second, or a count.
fn parse_value(metric: ThresholdMetric, rhs: &str) -> Result<f64, String> {
    match metric.unit() {
        "ms" => parse_duration(rhs).map(|d| d.as_secs_f64() * 1e3),
        "bytes" => parse_bytes(rhs),
        "ratio" => parse_percent(rhs),
        "rps" => parse_rate(rhs),
        _ => rhs
            .parse::<f64>()
            .ok()
            .filter(|v| *v >= 0.0)
            .ok_or_else(|| format!("`{rhs}` is not a count")),
    }
}

/// A budget's problem, with the field of the budget it is in (`warn`, `after`), if one.
#[derive(Debug)]
pub(super) struct BudgetProblem {
    pub field: Option<String>,
    pub message: String,
    pub hint: Option<String>,
}

/// The fields a budget may have.
const BUDGET_FIELDS: [&str; 6] = ["target", "warn", "fail", "kpi", "abort", "after"];

/// Parses the budget form: `key` is `[SCOPE.]METRIC`, `fields` its map
/// (`{ target: 150ms, warn: 200ms, fail: 250ms, kpi: true, abort: true, after: 10s }`).
pub(super) fn parse_budget(
    key: &str,
    fields: &BTreeMap<String, serde_yaml::Value>,
    names: Names,
) -> Result<Threshold, BudgetProblem> {
    let whole = |message: String, hint: Option<String>| BudgetProblem {
        field: None,
        message,
        hint,
    };
    let at = |f: &str, message: String, hint: Option<String>| BudgetProblem {
        field: Some(f.to_string()),
        message,
        hint,
    };
    let key = key.trim();
    let lhs = parse_lhs(key, key, names).map_err(|(m, h)| whole(m, h))?;
    for f in fields.keys() {
        if !BUDGET_FIELDS.contains(&f.as_str()) {
            let hint = match did_you_mean(f, &BUDGET_FIELDS) {
                Some(s) => format!(
                    "did you mean `{s}`? a budget has {}",
                    BUDGET_FIELDS.join(", ")
                ),
                None => format!("a budget has {}", BUDGET_FIELDS.join(", ")),
            };
            return Err(at(
                f,
                format!("unknown field `{f}` in the budget of `{key}`"),
                Some(hint),
            ));
        }
    }
    let text = |f: &str| -> Result<Option<String>, BudgetProblem> {
        match fields.get(f) {
            None | Some(serde_yaml::Value::Null) => Ok(None),
            Some(serde_yaml::Value::String(s)) => Ok(Some(s.trim().to_string())),
            Some(serde_yaml::Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(at(
                f,
                format!("`{f}` of `{key}` is not a value"),
                Some(value_hint(lhs.metric)),
            )),
        }
    };
    let flag = |f: &str| -> Result<bool, BudgetProblem> {
        match fields.get(f) {
            None | Some(serde_yaml::Value::Null) => Ok(false),
            Some(serde_yaml::Value::Bool(b)) => Ok(*b),
            Some(_) => Err(at(f, format!("`{f}` is `true` or `false`"), None)),
        }
    };
    let level = |f: &str| -> Result<Option<(f64, String)>, BudgetProblem> {
        let Some(v) = text(f)? else {
            return Ok(None);
        };
        let x = parse_value(lhs.metric, &v).map_err(|e| {
            at(
                f,
                format!("`{f}` of `{key}`: {e}"),
                Some(value_hint(lhs.metric)),
            )
        })?;
        Ok(Some((x, v)))
    };
    let target = level("target")?;
    let warn = level("warn")?;
    let Some((fail, fail_text)) = level("fail")? else {
        return Err(whole(
            format!("the budget of `{key}` has no `fail` level"),
            Some(format!(
                "a budget fails the run at `fail`, warns at `warn` and reports `target`, e.g. `{key}: {{ warn: …, fail: … }}`; `{key} {} VALUE` is the short form",
                if lhs.metric.higher_is_better() { ">" } else { "<" }
            )),
        ));
    };
    // Levels run toward the fail level: up for latency and errors, down for throughput.
    let higher = lhs.metric.higher_is_better();
    let in_order = |a: f64, b: f64| if higher { a >= b } else { a <= b };
    let word = if higher { "at least" } else { "at most" };
    if let Some((w, _)) = &warn {
        if !in_order(*w, fail) {
            return Err(at(
                "warn",
                format!("`warn` of `{key}` is past its `fail` level"),
                Some(format!("`warn` comes before `fail`: {word} the fail level")),
            ));
        }
    }
    if let Some((tg, _)) = &target {
        let next = warn.as_ref().map_or(fail, |(w, _)| *w);
        if !in_order(*tg, next) {
            return Err(at(
                "target",
                format!("`target` of `{key}` is past its `warn` or `fail` level"),
                Some(format!(
                    "`target` comes first: {word} the warn and fail levels"
                )),
            ));
        }
    }
    if !higher && fail == 0.0 {
        return Err(at(
            "fail",
            format!("`fail: 0` for `{key}` fails every run"),
            Some(format!(
                "to allow none at all, write the short form `{key} == 0`"
            )),
        ));
    }
    let abort = flag("abort")?;
    let after = match text("after")? {
        None => None,
        Some(a) => {
            if !abort {
                return Err(at(
                    "after",
                    "`after` is the grace of `abort: true`".into(),
                    Some("add `abort: true`, or remove `after`".into()),
                ));
            }
            Some(parse_duration(&a).map_err(|e| {
                at(
                    "after",
                    e,
                    Some("durations look like `500ms`, `10s`, `1m`".into()),
                )
            })?)
        }
    };
    if abort {
        check_abortable(&lhs, key).map_err(|(m, h)| at("abort", m, h))?;
    }
    let op = if higher { Op::Gt } else { Op::Lt };
    let mut th = Threshold::new(
        format!("{key} {} {fail_text}", op.symbol()),
        lhs.scope,
        lhs.metric,
        op,
        fail,
    );
    th.stage = lhs.stage;
    th.levels = Levels {
        target: target.map(|(v, _)| v),
        warn: warn.map(|(v, _)| v),
        kpi: flag("kpi")?,
    };
    th.abort = abort.then(|| after.unwrap_or(Duration::ZERO));
    Ok(th)
}

/// How a value of `metric` is written.
fn value_hint(metric: ThresholdMetric) -> String {
    match metric.unit() {
        "ms" => "a duration, e.g. `250ms`, `1.5s`".into(),
        "ratio" => "a percentage, e.g. `1%`".into(),
        "rps" => "a rate, e.g. `500/s`".into(),
        _ => "a whole number, e.g. `10`".into(),
    }
}

/// The metrics a 1-second window holds, so `abort: true` can judge them as the run goes.
pub(crate) fn window_metric(metric: ThresholdMetric) -> bool {
    use ThresholdMetric as T;
    matches!(
        metric,
        T::P50
            | T::P90
            | T::P99
            | T::Max
            | T::ErrorRate
            | T::Errors
            | T::Throughput
            | T::Dropped
            | T::DroppedRate
    )
}

/// `abort: true` needs a metric each closed window holds, on all requests.
fn check_abortable(lhs: &Lhs, key: &str) -> Result<(), Problem> {
    if lhs.scope.is_some() {
        return Err((
            format!("`{key}`: `abort: true` judges each 1-second window of all requests, not of one request"),
            Some("drop the request name, or drop `abort`".into()),
        ));
    }
    if !window_metric(lhs.metric) {
        return Err((
            format!("`{key}`: `abort: true` cannot judge `{}` as the run goes", lhs.metric.name()),
            Some("each 1-second window holds p50, p90, p99, max, error_rate, errors, throughput, dropped and dropped_rate".into()),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_forms() {
        let t = parse("p95 < 250ms", &[]).unwrap();
        assert_eq!(
            (t.metric, t.op, t.limit),
            (ThresholdMetric::P95, Op::Lt, 250.0)
        );
        let t = parse("error_rate < 1%", &[]).unwrap();
        assert_eq!((t.metric, t.limit), (ThresholdMetric::ErrorRate, 0.01));
        let t = parse("throughput > 500/s", &[]).unwrap();
        assert_eq!(
            (t.metric, t.op, t.limit),
            (ThresholdMetric::Throughput, Op::Gt, 500.0)
        );
        let t = parse("list-items.p99 <= 0.3s", &["list-items"]).unwrap();
        assert_eq!(t.scope.as_deref(), Some("list-items"));
        assert_eq!((t.op, t.limit), (Op::Le, 300.0));
        let t = parse("errors == 0", &[]).unwrap();
        assert_eq!(
            (t.metric, t.op, t.limit),
            (ThresholdMetric::Errors, Op::Le, 0.0)
        );
    }

    #[test]
    fn bad_thresholds_say_why() {
        assert!(parse("p95 250ms", &[])
            .unwrap_err()
            .0
            .contains("no comparison"));
        let (m, h) = parse("p96 < 1s", &[]).unwrap_err();
        assert!(m.contains("unknown metric"));
        assert!(h.unwrap().contains("metrics: min, mean, p50"));
        assert!(parse("p95 < 250", &[]).unwrap_err().0.contains("no unit"));
        assert!(parse("error_rate < 1", &[]).is_err());
        assert!(parse("nope.p99 < 1s", &["list"])
            .unwrap_err()
            .0
            .contains("not a request"));
        assert!(parse("p99 == 3ms", &[]).is_err());
    }

    fn stages() -> Vec<Option<String>> {
        vec![Some("warm".into()), None, Some("peak".into())]
    }

    fn names<'a>(requests: &'a [&'a str], stages: &'a [Option<String>]) -> Names<'a> {
        Names { requests, stages }
    }

    #[test]
    fn stage_scopes_by_index_and_by_name() {
        let st = stages();
        let t = parse_in("stage[1].p99 < 300ms", names(&["list"], &st)).unwrap();
        assert_eq!(
            (t.stage, t.scope.as_deref(), t.limit),
            (Some(1), None, 300.0)
        );
        let t = parse_in("stage:peak.error_rate < 1%", names(&["list"], &st)).unwrap();
        assert_eq!((t.stage, t.metric), (Some(2), ThresholdMetric::ErrorRate));
        assert_eq!(t.expr, "stage:peak.error_rate < 1%");
        // A request scope is unchanged.
        let t = parse_in("list.p99 < 1s", names(&["list"], &st)).unwrap();
        assert_eq!((t.stage, t.scope.as_deref()), (None, Some("list")));
    }

    #[test]
    fn a_stage_that_does_not_exist_says_which_do() {
        let st = stages();
        let (m, h) = parse_in("stage[3].p99 < 300ms", names(&[], &st)).unwrap_err();
        assert!(
            m.contains("there is no stage[3]; the load has 3 stages"),
            "{m}"
        );
        let h = h.unwrap();
        assert!(
            h.contains("stage[2] (`stage:peak`)") && h.contains("--explain"),
            "{h}"
        );
        let (m, h) = parse_in("stage:paek.p99 < 300ms", names(&[], &st)).unwrap_err();
        assert!(m.contains("no stage is named `paek`"), "{m}");
        assert!(h.unwrap().starts_with("did you mean `stage:peak`?"));
        let (m, _) = parse_in("stage[x].p99 < 1s", names(&[], &st)).unwrap_err();
        assert!(m.contains("not a stage index"), "{m}");
        let (m, _) = parse_in("stage:peak.list.p99 < 1s", names(&["list"], &st)).unwrap_err();
        assert!(m.contains("a stage threshold covers every request"), "{m}");
        let (m, _) = parse_in("stage:peak < 1s", names(&[], &st)).unwrap_err();
        assert!(
            m.contains("no metric") || m.contains("unknown metric"),
            "{m}"
        );
    }

    fn budget(key: &str, yaml: &str) -> Result<Threshold, BudgetProblem> {
        let st = stages();
        let fields: BTreeMap<String, serde_yaml::Value> = serde_yaml::from_str(yaml).unwrap();
        parse_budget(key, &fields, names(&["list"], &st))
    }

    #[test]
    fn budgets_have_levels_and_read_as_their_fail_level() {
        let t = budget(
            "p95",
            "{ target: 150ms, warn: 200ms, fail: 250ms, kpi: true }",
        )
        .unwrap();
        assert_eq!(
            (t.op, t.limit, t.expr.as_str()),
            (Op::Lt, 250.0, "p95 < 250ms")
        );
        assert_eq!(
            t.levels,
            Levels {
                target: Some(150.0),
                warn: Some(200.0),
                kpi: true
            }
        );
        assert_eq!(t.abort, None);
        // More is better for throughput: the levels fall and the fail level reads `>`.
        let t = budget(
            "stage:peak.throughput",
            "{ target: 900/s, warn: 600/s, fail: 500/s }",
        )
        .unwrap();
        assert_eq!((t.op, t.limit, t.stage), (Op::Gt, 500.0, Some(2)));
        assert_eq!(t.expr, "stage:peak.throughput > 500/s");
        // A count may be a YAML number.
        let t = budget("errors", "{ warn: 1, fail: 10, abort: true, after: 5s }").unwrap();
        assert_eq!((t.limit, t.levels.warn), (10.0, Some(1.0)));
        assert_eq!(t.abort, Some(Duration::from_secs(5)));
        let t = budget("error_rate", "{ fail: 50%, abort: true }").unwrap();
        assert_eq!(t.abort, Some(Duration::ZERO));
    }

    #[test]
    fn bad_budgets_name_the_field() {
        let e = budget("p95", "{ warn: 200ms }").unwrap_err();
        assert!(
            e.field.is_none() && e.message.contains("no `fail` level"),
            "{e:?}"
        );
        let e = budget("p95", "{ wran: 200ms, fail: 1s }").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("wran"));
        assert!(e.hint.unwrap().starts_with("did you mean `warn`?"));
        let e = budget("p95", "{ warn: 300ms, fail: 250ms }").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("warn"));
        let e = budget("throughput", "{ warn: 600/s, fail: 900/s }").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("warn"), "{e:?}");
        let e = budget("p95", "{ target: 220ms, warn: 200ms, fail: 250ms }").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("target"));
        let e = budget("p95", "{ fail: 250 }").unwrap_err();
        assert!(e.message.contains("no unit"), "{e:?}");
        let e = budget("errors", "{ fail: 0 }").unwrap_err();
        assert!(e.hint.unwrap().contains("errors == 0"));
        let e = budget("p95", "{ fail: 1s, after: 5s }").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("after"));
        let e = budget("p95", "{ fail: 1s, abort: true }").unwrap_err();
        assert!(
            e.hint.unwrap().contains("p50, p90, p99"),
            "abort needs a window metric"
        );
        let e = budget("list.p99", "{ fail: 1s, abort: true }").unwrap_err();
        assert!(e.message.contains("not of one request"));
        let e = budget("requests", "{ fail: 10, abort: true }").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("abort"));
        let e = budget("p95", "{ fail: 1s, kpi: yes please }").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("kpi"));
        let e = budget("stage[9].p95", "{ fail: 1s }").unwrap_err();
        assert!(e.message.contains("no stage[9]"));
    }

    #[test]
    fn sut_metrics_take_memory_and_percentages() {
        let t = parse("sut.rss < 500MB", &["sut"]).unwrap();
        assert_eq!(
            (t.scope, t.metric, t.limit),
            (None, ThresholdMetric::SutRss, 500.0 * 1024.0 * 1024.0)
        );
        let t = parse("sut.rss_growth < 5%", &[]).unwrap();
        assert_eq!((t.metric, t.limit), (ThresholdMetric::SutRssGrowth, 0.05));
        let t = parse("sut.cpu <= 80%", &[]).unwrap();
        assert_eq!(
            (t.metric, t.op, t.limit),
            (ThresholdMetric::SutCpu, Op::Le, 0.8)
        );
        assert!(parse("sut.rss < 500", &[])
            .unwrap_err()
            .0
            .contains("not an amount of memory"));
        let (m, h) = parse("sut.rsss < 1GB", &[]).unwrap_err();
        assert!(
            m.contains("unknown metric `rsss`") || m.contains("not a request"),
            "{m}"
        );
        let _ = h;
    }
}
