//! The sections of a run's report, in the one order every document-like reporter (HTML,
//! terminal, Markdown) walks them: what the run was and its verdict, the charts, what judged
//! it (the baseline comparison, then the thresholds), the detail (requests, stages, errors)
//! and a closing part. Each reporter renders every section its own way (or as nothing, like
//! the charts in text), so a new section is one variant here and one match arm per reporter.

use super::ReportError;
use crate::result::{Comparison, MetricComparison, MetricVerdict, TOTAL_KEY};

/// One section of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    /// Name, verdict, the first reason, key totals, warnings.
    Header,
    /// The six charts (HTML only).
    Charts,
    /// The A/B comparison of `perfgate ab` (B against A), when there is one.
    Ab,
    /// The baseline comparison, when there is a baseline.
    Comparison,
    /// The thresholds and their results.
    Thresholds,
    /// Metrics per request name and for all requests.
    Requests,
    /// Metrics per stage.
    Stages,
    /// Errors by class, sample messages, retries.
    Errors,
    /// A merged result's load generators and their health.
    Generators,
    /// What ends the document: the terminal's warnings and reasons (the first on the last
    /// line), the HTML footer.
    Closing,
}

impl Section {
    /// Every section, in report order.
    pub(crate) const ORDER: [Section; 10] = [
        Section::Header,
        Section::Charts,
        Section::Ab,
        Section::Comparison,
        Section::Thresholds,
        Section::Requests,
        Section::Stages,
        Section::Errors,
        Section::Generators,
        Section::Closing,
    ];
}

/// A reporter that renders a report section by section.
pub(crate) trait SectionWriter {
    /// Renders one section (or nothing, where the format has no such section).
    fn section(&mut self, section: Section) -> Result<(), ReportError>;
}

/// Renders every section of [`Section::ORDER`] with `w`.
pub(crate) fn walk(w: &mut impl SectionWriter) -> Result<(), ReportError> {
    for s in Section::ORDER {
        w.section(s)?;
    }
    Ok(())
}

/// How a compared metric sorts in a table: what changed or could not be judged first
/// (regressed, no data, inconclusive, improved), unchanged last.
pub(crate) fn verdict_rank(v: MetricVerdict) -> u8 {
    match v {
        MetricVerdict::Regressed => 0,
        MetricVerdict::NoData => 1,
        MetricVerdict::Inconclusive => 2,
        MetricVerdict::Improved => 3,
        MetricVerdict::Unchanged => 4,
    }
}

/// Every compared metric of [`comparison_groups`], split into those that changed (or could
/// not be judged) and the unchanged ones the HTML and Markdown reports fold away.
pub(crate) fn changed_and_unchanged(
    c: &Comparison,
) -> (Vec<&MetricComparison>, Vec<&MetricComparison>) {
    comparison_groups(c)
        .into_iter()
        .flat_map(|(_, rows)| rows)
        .partition(|m| m.verdict != MetricVerdict::Unchanged)
}

/// The compared metrics grouped by request name, each group sorted by [`verdict_rank`]
/// (stable: the gate's order otherwise). The all-requests group ([`TOTAL_KEY`]) is left out
/// when it only repeats the single request's rows.
pub(crate) fn comparison_groups(c: &Comparison) -> Vec<(&str, Vec<&MetricComparison>)> {
    let mut groups: Vec<(&str, Vec<&MetricComparison>)> = Vec::new();
    for m in &c.metrics {
        match groups.iter_mut().find(|(r, _)| *r == m.request) {
            Some((_, rows)) => rows.push(m),
            None => groups.push((m.request.as_str(), vec![m])),
        }
    }
    let named: Vec<usize> = (0..groups.len())
        .filter(|&i| groups[i].0 != TOTAL_KEY)
        .collect();
    if let ([only], Some(total)) = (
        named.as_slice(),
        groups.iter().position(|(r, _)| *r == TOTAL_KEY),
    ) {
        if same_rows(&groups[*only].1, &groups[total].1) {
            groups.remove(total);
        }
    }
    for (_, rows) in &mut groups {
        rows.sort_by_key(|m| verdict_rank(m.verdict));
    }
    groups
}

/// True when two groups compare the same metrics with the same numbers and verdicts.
fn same_rows(a: &[&MetricComparison], b: &[&MetricComparison]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x.metric == y.metric
                && x.baseline == y.baseline
                && x.current == y.current
                && x.verdict == y.verdict
        })
}
