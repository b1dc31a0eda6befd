//! The threshold grammar: `[REQUEST.]METRIC OP VALUE`, e.g. `p95 < 250ms`,
//! `error_rate < 1%`, `throughput > 500/s`, `list-items.p99 <= 300ms`, `errors == 0`.

use super::plan::{Op, Threshold, ThresholdMetric};
use super::units::{did_you_mean, parse_bytes, parse_duration, parse_percent, parse_rate};

/// Parses one threshold. `request_names` are the scenario's request names, for scoped ones.
pub(super) fn parse(
    expr: &str,
    request_names: &[&str],
) -> Result<Threshold, (String, Option<String>)> {
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
    let lhs = lhs.trim();
    let rhs = rhs.trim();
    let metric_names: Vec<&str> = ThresholdMetric::ALL.iter().map(|(n, _)| *n).collect();
    // A metric whose name holds a dot (`sut.rss`) is matched whole before any scope.
    let whole_name = metric_names.contains(&lhs);
    let (scope, metric_name) = match lhs.rsplit_once('.') {
        Some((scope, m)) if !whole_name => (Some(scope.to_string()), m),
        _ => (None, lhs),
    };
    let metric = ThresholdMetric::ALL
        .iter()
        .find(|(n, _)| *n == metric_name)
        .map(|(_, m)| *m)
        .ok_or_else(|| {
            (
                format!("unknown metric `{metric_name}` in `{t}`"),
                Some(match did_you_mean(metric_name, &metric_names) {
                    Some(s) => format!("did you mean `{s}`? metrics: {}", metric_names.join(", ")),
                    None => format!("metrics: {}", metric_names.join(", ")),
                }),
            )
        })?;
    if let Some(s) = &scope {
        if !request_names.contains(&s.as_str()) {
            return Err((
                format!("`{t}` is scoped to `{s}`, which is not a request name"),
                Some(match did_you_mean(s, request_names) {
                    Some(n) => {
                        format!("did you mean `{n}`? requests: {}", request_names.join(", "))
                    }
                    None => format!("requests: {}", request_names.join(", ")),
                }),
            ));
        }
    }
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
    let limit = match metric.unit() {
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
    .map_err(|e| (format!("in `{t}`: {e}"), None))?;
    Ok(Threshold {
        expr: t.to_string(),
        scope,
        metric,
        op,
        limit,
    })
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
