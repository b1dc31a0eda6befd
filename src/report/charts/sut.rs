//! Chart 6: the system under test over time, from the samples the monitor stored in each
//! window (`metrics::monitor`, `monitor:` in the scenario): its resident memory (left axis)
//! and its CPU use (right axis, percent of the machine), with the run's throughput behind
//! them (right axis, as a share of its own peak) so a memory climb or a CPU ceiling can be
//! read against the load that caused it.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{
    caption, desc_font, headroom, label_font, legend, no_data, tick, Chart, LEVEL, P50, P99,
    X_LABELS, Y_LABELS,
};
use crate::report::ReportError;
use crate::result::{RunResult, Window};

const MB: f64 = 1024.0 * 1024.0;

/// Draws the system-under-test chart; "no data" when it was not watched (no `monitor:`, an
/// HTTP target) or the monitor could not read it.
pub(crate) fn sut_over_time<DB>(
    area: &DrawingArea<DB, Shift>,
    result: &RunResult,
) -> Result<(), ReportError>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    let title = Chart::Sut.title();
    let ws: Vec<&Window> = result
        .timeseries
        .iter()
        .filter(|w| w.t_s.is_finite())
        .collect();
    if !ws.iter().any(|w| w.sut_rss_bytes.is_some()) {
        return no_data(
            area,
            title,
            "the system under test was not watched (add `monitor:` to the scenario)",
        );
    }
    let x0 = ws.iter().map(|w| w.t_s).fold(f64::INFINITY, f64::min);
    let x1 = ws.iter().map(|w| w.t_s).fold(f64::NEG_INFINITY, f64::max) + 1.0;
    // Room above the data for the legend.
    let ymax = headroom(
        ws.iter()
            .filter_map(|w| w.sut_rss_bytes)
            .map(|b| b as f64 / MB),
    ) * 1.4;
    let peak_rps = ws
        .iter()
        .map(|w| w.throughput_rps)
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let mut chart = ChartBuilder::on(area)
        .caption(title, caption())
        .margin(14)
        .x_label_area_size(X_LABELS)
        .y_label_area_size(Y_LABELS)
        .right_y_label_area_size(Y_LABELS)
        .build_cartesian_2d(x0..x1, 0.0..ymax)?
        .set_secondary_coord(x0..x1, 0.0..140.0);
    chart
        .configure_mesh()
        .x_desc("time since start (s)")
        .y_desc("resident memory (MB)")
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .label_style(label_font())
        .axis_desc_style(desc_font())
        .light_line_style(RGBColor(240, 240, 240))
        .draw()?;
    chart
        .configure_secondary_axes()
        .y_desc("% (CPU of the machine; throughput of its peak)")
        .y_label_formatter(&tick)
        .label_style(label_font())
        .axis_desc_style(desc_font())
        .draw()?;
    let mid = |w: &Window| w.t_s + 0.5;
    let width = if ws.len() > 150 { 1 } else { 2 };
    // A line needs two points: a short run's one or two samples are drawn as dots too.
    let dots = if ws.iter().filter(|w| w.sut_rss_bytes.is_some()).count() <= 3 {
        5
    } else {
        0
    };
    if peak_rps > 0.0 {
        let rps: Vec<(f64, f64)> = ws
            .iter()
            .map(|w| (mid(w), w.throughput_rps / peak_rps * 100.0))
            .collect();
        chart
            .draw_secondary_series(AreaSeries::new(rps, 0.0, LEVEL.mix(0.15)))?
            .label(format!(
                "throughput, % of its peak {} (right axis)",
                crate::report::format::with_unit(peak_rps, "rps")
            ))
            .legend(|(x, y)| {
                Rectangle::new([(x, y - 6), (x + 18, y + 6)], LEVEL.mix(0.3).filled())
            });
    }
    let rss: Vec<(f64, f64)> = ws
        .iter()
        .filter_map(|w| w.sut_rss_bytes.map(|b| (mid(w), b as f64 / MB)))
        .collect();
    chart
        .draw_series(LineSeries::new(rss, P50.filled().stroke_width(width)).point_size(dots))?
        .label("resident memory (left axis)")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], P50.stroke_width(3)));
    let cpu: Vec<(f64, f64)> = ws
        .iter()
        .filter_map(|w| w.sut_cpu_pct.map(|c| (mid(w), c)))
        .collect();
    chart
        .draw_secondary_series(
            LineSeries::new(cpu, P99.filled().stroke_width(width)).point_size(dots),
        )?
        .label("CPU, % of the machine (right axis)")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], P99.stroke_width(3)));
    legend(&mut chart)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::charts::svg;
    use crate::report::ReportContext;

    fn result(watched: bool) -> RunResult {
        let mut r: RunResult = crate::result::empty_result(4.0);
        r.timeseries = (0..4u64)
            .map(|i| Window {
                t_s: i as f64,
                stage: Some(0),
                throughput_rps: 100.0 * i as f64,
                sut_rss_bytes: watched.then_some((100 + 10 * i) << 20),
                sut_cpu_pct: watched.then_some(20.0 * i as f64),
                ..Window::default()
            })
            .collect();
        r
    }

    #[test]
    fn the_sut_chart_draws_memory_and_cpu_beside_throughput() {
        let s = svg(Chart::Sut, &result(true), &ReportContext::default()).unwrap();
        assert!(s.contains("resident memory"), "{s}");
        assert!(s.contains("CPU, % of the machine"));
        assert!(s.contains("its peak 300/s"));
        assert!(s.contains("<polyline"));
        let none = svg(Chart::Sut, &result(false), &ReportContext::default()).unwrap();
        assert!(none.contains("not watched"));
    }
}
