//! What every report shows of budgets with levels: a threshold's status (pass, warn, fail)
//! and the KPI table, like an SLO sheet: per `kpi: true` threshold its target, warn and fail
//! levels beside the observed value; and a stage's name beside its number. Each reporter draws these cells its own way (yellow in
//! the terminal, amber in HTML, an icon in Markdown); the gate decided them.

use super::format as f;
use crate::result::{RunResult, ThresholdResult};

/// A judged threshold's status, as the reports show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// Held, and the warn level (if any) was not reached.
    Pass,
    /// Held, but reached its warn level: a warning, the exit code unchanged.
    Warn,
    /// Did not hold (or had no data): the run fails.
    Fail,
}

impl Status {
    pub(crate) fn of(t: &ThresholdResult) -> Status {
        match (t.pass, t.warning) {
            (false, _) => Status::Fail,
            (true, true) => Status::Warn,
            (true, false) => Status::Pass,
        }
    }

    /// `pass`, `warn`, `FAIL`.
    pub(crate) fn word(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "FAIL",
        }
    }
}

/// Headers of the KPI table.
pub(crate) const KPI_HEADERS: [&str; 6] = ["KPI", "target", "warn", "fail", "observed", "status"];

/// One row of the KPI table: the cells of [`KPI_HEADERS`] but the status, and the status.
pub(crate) struct KpiRow {
    pub cells: [String; 5],
    pub status: Status,
    /// `met` / `missed` for a budget with a target, empty without one.
    pub target: &'static str,
}

/// The KPI table's rows: every `kpi: true` threshold, in the scenario's order.
pub(crate) fn kpi_rows(r: &RunResult) -> Vec<KpiRow> {
    r.thresholds
        .iter()
        .filter(|t| t.kpi)
        .map(|t| {
            let level = |v: Option<f64>| v.map_or("–".to_string(), |v| f::with_unit(v, &t.unit));
            KpiRow {
                cells: [
                    kpi_name(t),
                    level(t.target),
                    level(t.warn),
                    format!("{} {}", t.op, f::with_unit(t.limit, &t.unit)),
                    f::threshold_observed(t),
                ],
                status: Status::of(t),
                target: match t.target_met {
                    Some(true) => "target met",
                    Some(false) => "target missed",
                    None => "",
                },
            }
        })
        .collect()
}

/// The status cell of a KPI row in words: `pass, target met`, `warn, target missed`, `FAIL`.
pub(crate) fn status_words(row: &KpiRow) -> String {
    if row.target.is_empty() || row.status == Status::Fail {
        row.status.word().to_string()
    } else {
        format!("{}, {}", row.status.word(), row.target)
    }
}

/// A named stage's name after `sep` (`#2 · peak · 10 VUs`), empty for an unnamed one.
pub(crate) fn stage_name(s: &crate::result::StageResult, sep: &str) -> String {
    s.name
        .as_deref()
        .map(|n| format!("{sep}{n}"))
        .unwrap_or_default()
}

/// The threshold's left-hand side: `p95`, `stage:peak.p99`, `list-items.p99`.
fn kpi_name(t: &ThresholdResult) -> String {
    let expr = t.expr.split(" (").next().unwrap_or(&t.expr);
    expr.split(['<', '>', '='])
        .next()
        .unwrap_or(expr)
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kpi_rows_show_every_level_and_the_status() {
        let mut r: RunResult = crate::result::empty_result(10.0);
        r.thresholds = vec![
            ThresholdResult {
                expr: "p95 < 250ms".into(),
                observed: 210.0,
                limit: 250.0,
                pass: true,
                unit: "ms".into(),
                metric: "p95".into(),
                op: "<".into(),
                warn: Some(200.0),
                target: Some(150.0),
                warning: true,
                target_met: Some(false),
                kpi: true,
                ..Default::default()
            },
            ThresholdResult {
                expr: "error_rate < 1%".into(),
                pass: true,
                unit: "ratio".into(),
                ..Default::default()
            },
        ];
        let rows = kpi_rows(&r);
        assert_eq!(rows.len(), 1, "only kpi: true thresholds");
        assert_eq!(rows[0].cells[0], "p95");
        assert_eq!(rows[0].cells[3], format!("< {}", f::with_unit(250.0, "ms")));
        assert_eq!(rows[0].status, Status::Warn);
        assert_eq!(status_words(&rows[0]), "warn, target missed");
    }
}
