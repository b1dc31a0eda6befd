//! Chart 5: the machine over time, from the samples the measure step stored in each window
//! (`metrics::machine`): CPU steal and perfgate's own CPU use (percent of the CPUs it may
//! use), the machine's CPU busy share behind them, and the seconds perfgate was saturated
//! shaded. What the gate reads to call a regression inconclusive (`gate::noise`), shown.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{
    caption, desc_font, label_font, legend, no_data, tick, Chart, LEVEL, P50, P99, X_LABELS,
    Y_LABELS,
};
use crate::report::ReportError;
use crate::result::{RunResult, Window};

/// Shade of the seconds in which perfgate was saturated.
const SATURATED: RGBColor = RGBColor(230, 120, 0);

/// Draws the machine chart; "no data" when the machine was not sampled (no `/proc`, or a
/// result written before it was).
pub(crate) fn machine_over_time<DB>(
    area: &DrawingArea<DB, Shift>,
    result: &RunResult,
) -> Result<(), ReportError>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    let title = Chart::Machine.title();
    let ws: Vec<&Window> = result
        .timeseries
        .iter()
        .filter(|w| w.steal_pct.is_some() && w.t_s.is_finite())
        .collect();
    if ws.is_empty() {
        return no_data(area, title, "the machine was not sampled (no /proc)");
    }
    let x0 = ws.iter().map(|w| w.t_s).fold(f64::INFINITY, f64::min);
    let x1 = ws.iter().map(|w| w.t_s).fold(f64::NEG_INFINITY, f64::max) + 1.0;
    // Percentages, with room for the legend above 100.
    let ymax = 130.0;
    let mut chart = ChartBuilder::on(area)
        .caption(title, caption())
        .margin(14)
        .x_label_area_size(X_LABELS)
        .y_label_area_size(Y_LABELS)
        .build_cartesian_2d(x0..x1, 0.0..ymax)?;
    chart
        .configure_mesh()
        .x_desc("time since start (s)")
        .y_desc("% of CPU")
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .label_style(label_font())
        .axis_desc_style(desc_font())
        .light_line_style(RGBColor(240, 240, 240))
        .draw()?;
    let saturated: Vec<&&Window> = ws.iter().filter(|w| w.saturated == Some(true)).collect();
    if !saturated.is_empty() {
        let fill = SATURATED.mix(0.2).filled();
        chart
            .draw_series(
                saturated
                    .iter()
                    .map(|w| Rectangle::new([(w.t_s, 0.0), (w.t_s + 1.0, 100.0)], fill)),
            )?
            .label("perfgate saturated (≥ 90 % of its CPUs)")
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 18, y + 6)], fill));
    }
    let mid = |w: &Window| w.t_s + 0.5;
    let series = |f: fn(&Window) -> Option<f64>| -> Vec<(f64, f64)> {
        ws.iter()
            .filter_map(|w| f(w).map(|v| (mid(w), v)))
            .collect()
    };
    let width = if ws.len() > 150 { 1 } else { 2 };
    chart
        .draw_series(LineSeries::new(
            series(|w| w.cpu_busy_pct),
            LEVEL.mix(0.6).stroke_width(1),
        ))?
        .label("machine CPU busy")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], LEVEL.stroke_width(2)));
    chart
        .draw_series(LineSeries::new(
            series(|w| w.generator_cpu_pct),
            P50.stroke_width(width),
        ))?
        .label("perfgate CPU (of the CPUs it may use)")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], P50.stroke_width(3)));
    chart
        .draw_series(LineSeries::new(
            series(|w| w.steal_pct),
            P99.stroke_width(width),
        ))?
        .label("CPU steal")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], P99.stroke_width(3)));
    legend(&mut chart)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::charts::svg;
    use crate::report::ReportContext;

    fn result(sampled: bool) -> RunResult {
        let mut r: RunResult = crate::result::empty_result(4.0);
        r.timeseries = (0..4)
            .map(|i| Window {
                t_s: i as f64,
                stage: Some(0),
                steal_pct: sampled.then_some(3.0 * i as f64),
                cpu_busy_pct: sampled.then_some(60.0),
                generator_cpu_pct: sampled.then_some(if i == 2 { 95.0 } else { 40.0 }),
                saturated: sampled.then_some(i == 2),
                ..Window::default()
            })
            .collect();
        r
    }

    #[test]
    fn the_machine_chart_draws_steal_generator_cpu_and_saturation() {
        let s = svg(Chart::Machine, &result(true), &ReportContext::default()).unwrap();
        assert!(s.contains("CPU steal"), "{s}");
        assert!(s.contains("perfgate saturated"));
        assert!(s.contains("<polyline"));
        let none = svg(Chart::Machine, &result(false), &ReportContext::default()).unwrap();
        assert!(none.contains("not sampled"));
    }
}
