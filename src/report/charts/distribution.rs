//! The latency distribution chart: the HDR percentile spectrum of all requests on a "nines"
//! axis (x = -log10(1 - q)), with the baseline's spectrum overlaid when there is one.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{
    caption, desc_font, headroom, label_font, legend, no_data, Chart, BASELINE, P99, X_LABELS,
    Y_LABELS,
};
use crate::report::format::LatencyAxis;
use crate::report::{ReportContext, ReportError};
use crate::result::{RunResult, TOTAL_KEY};

pub(crate) use crate::result::histogram::decode_histogram;

/// x of a quantile on the "nines" axis: -log10(1 - q).
fn nines(q: f64) -> f64 {
    -(1.0 - q).max(1e-12).log10()
}

/// Points (nines, latency ms) of a result's total percentile spectrum: from its histogram when
/// there is one, else from the summary percentiles.
pub(crate) fn spectrum(result: &RunResult) -> Option<Vec<(f64, f64)>> {
    let hist = result
        .histograms
        .get(TOTAL_KEY)
        .and_then(|h| decode_histogram(h).ok())
        .filter(|h| !h.is_empty());
    if let Some(h) = hist {
        let xmax = (h.len() as f64).log10().clamp(1.0, 6.0);
        const STEPS: usize = 240;
        let mut points: Vec<(f64, f64)> = (0..=STEPS)
            .map(|i| {
                let x = xmax * i as f64 / STEPS as f64;
                let q = 1.0 - 10f64.powf(-x);
                (x, h.value_at_quantile(q) as f64 / 1000.0)
            })
            .collect();
        points.push((xmax, h.max() as f64 / 1000.0));
        return Some(points);
    }
    let l = &result.totals.latency_ms;
    if result.totals.requests == 0 {
        return None;
    }
    Some(vec![
        (0.0, l.min),
        (nines(0.5), l.p50),
        (nines(0.9), l.p90),
        (nines(0.95), l.p95),
        (nines(0.99), l.p99),
        (nines(0.999), l.p999),
        (nines(0.9999), l.max),
    ])
}

/// Label of a point on the nines axis: 0 → "0%", 1 → "90%", 2 → "99%", 3 → "99.9%".
fn nines_label(x: f64) -> String {
    let pct = (1.0 - 10f64.powf(-x)) * 100.0;
    let digits = (x.round() as i64 - 2).clamp(0, 6) as usize;
    format!("{pct:.digits$}%")
}

/// Chart 3: the HDR percentile spectrum of all requests, with the baseline's overlaid.
pub(crate) fn latency_distribution<DB>(
    area: &DrawingArea<DB, Shift>,
    result: &RunResult,
    ctx: &ReportContext<'_>,
) -> Result<(), ReportError>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    let title = Chart::Distribution.title();
    let Some(current) = spectrum(result) else {
        return no_data(area, title, "no latency recorded");
    };
    let baseline = ctx.baseline.and_then(spectrum);
    let all = || current.iter().chain(baseline.iter().flatten());
    let xmax = all()
        .map(|p| p.0)
        .filter(|x| x.is_finite())
        .fold(1.0_f64, f64::max);
    let ymax = headroom(all().map(|p| p.1));
    let axis = LatencyAxis::for_max(ymax);
    let y_tick = |v: &f64| axis.tick(*v);
    let mut chart = ChartBuilder::on(area)
        .caption(title, caption())
        .margin(14)
        .margin_right(40)
        .x_label_area_size(X_LABELS)
        .y_label_area_size(Y_LABELS)
        .build_cartesian_2d(0.0..xmax, 0.0..ymax)?;
    chart
        .configure_mesh()
        .x_desc("percentile (log scale of nines)")
        .y_desc(format!("latency ({})", axis.unit))
        .x_labels(xmax.floor() as usize + 1)
        .x_label_formatter(&|x| nines_label(*x))
        .y_label_formatter(&y_tick)
        .label_style(label_font())
        .axis_desc_style(desc_font())
        .light_line_style(RGBColor(240, 240, 240))
        .draw()?;
    if let Some(base) = &baseline {
        chart
            .draw_series(DashedLineSeries::new(
                base.iter().copied(),
                10,
                6,
                BASELINE.stroke_width(2),
            ))?
            .label(if result.ab.is_some() { "A" } else { "baseline" })
            .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], BASELINE.stroke_width(3)));
    }
    chart
        .draw_series(LineSeries::new(
            current.iter().copied(),
            P99.stroke_width(2),
        ))?
        .label(if result.ab.is_some() { "B" } else { "this run" })
        .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], P99.stroke_width(3)));
    if current.len() <= 8 {
        chart.draw_series(current.iter().map(|&p| Circle::new(p, 4, P99.filled())))?;
    }
    legend(&mut chart)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nines_labels_read_as_percentiles() {
        assert_eq!(nines_label(0.0), "0%");
        assert_eq!(nines_label(1.0), "90%");
        assert_eq!(nines_label(2.0), "99%");
        assert_eq!(nines_label(3.0), "99.9%");
        assert_eq!(nines_label(4.0), "99.99%");
    }
}
