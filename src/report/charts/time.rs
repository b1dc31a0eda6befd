//! Charts over time: latency per 1 s window (p50/p90/p99 with the load level on a secondary
//! axis) and throughput with errors by class. Both shade the warm-up and mark stage starts.

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{
    caption, desc_font, headroom, label_font, legend, no_data, Chart, CLASS_COLORS, LEVEL, P50,
    P90, P99, STAGE_LINE, WARMUP,
};
use crate::result::{RunResult, Window};

/// The time span covered by the windows: first start .. last start + 1 s.
fn time_span(ts: &[Window]) -> (f64, f64) {
    let first = ts
        .iter()
        .map(|w| w.t_s)
        .filter(|t| t.is_finite())
        .fold(f64::INFINITY, f64::min);
    let last = ts
        .iter()
        .map(|w| w.t_s)
        .filter(|t| t.is_finite())
        .fold(f64::NEG_INFINITY, f64::max);
    if first.is_finite() && last.is_finite() {
        (first, last + 1.0)
    } else {
        (0.0, 1.0)
    }
}

/// Contiguous warm-up spans (windows with no stage), merged.
fn warmup_spans(ts: &[Window]) -> Vec<(f64, f64)> {
    let mut spans: Vec<(f64, f64)> = Vec::new();
    for w in ts.iter().filter(|w| w.stage.is_none()) {
        match spans.last_mut() {
            Some(last) if (w.t_s - last.1).abs() < 1e-6 => last.1 = w.t_s + 1.0,
            _ => spans.push((w.t_s, w.t_s + 1.0)),
        }
    }
    spans
}

/// The unit of the load level, worded for an axis.
fn level_unit(result: &RunResult) -> &'static str {
    match result.stages.first().map(|s| s.unit.as_str()) {
        Some("rps") => "arrival rate (req/s)",
        _ => "virtual users",
    }
}

/// Reads one value of a window.
type WindowValue = fn(&Window) -> f64;

type TimeChart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Warm-up shading and stage boundaries, shared by the two time charts.
fn time_decorations<DB>(
    chart: &mut TimeChart<'_, DB>,
    result: &RunResult,
    (x0, x1): (f64, f64),
    ymax: f64,
) -> anyhow::Result<()>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    let spans = warmup_spans(&result.timeseries);
    if !spans.is_empty() {
        let fill = WARMUP.mix(0.25).filled();
        chart
            .draw_series(
                spans
                    .iter()
                    .map(|&(a, b)| Rectangle::new([(a, 0.0), (b, ymax)], fill)),
            )?
            .label("warm-up")
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 18, y + 6)], fill));
    }
    let mut labelled = false;
    for stage in &result.stages {
        let t = stage.start_s;
        if !(t.is_finite() && t > x0 && t < x1) {
            continue;
        }
        let style = ShapeStyle::from(&STAGE_LINE).stroke_width(1);
        let anno = chart.draw_series(DashedLineSeries::new([(t, 0.0), (t, ymax)], 6, 5, style))?;
        if !labelled {
            anno.label("stage start").legend(move |(x, y)| {
                PathElement::new([(x, y), (x + 18, y)], STAGE_LINE.stroke_width(2))
            });
            labelled = true;
        }
    }
    Ok(())
}

/// Chart 1: p50/p90/p99 per window, stage boundaries, warm-up shading, and the load level as a
/// step line on a secondary axis.
pub fn latency_over_time<DB>(
    area: &DrawingArea<DB, Shift>,
    result: &RunResult,
) -> anyhow::Result<()>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    let title = Chart::Latency.title();
    let ts = &result.timeseries;
    if ts.is_empty() {
        return no_data(area, title, "no time windows recorded");
    }
    let span = time_span(ts);
    let ymax = headroom(ts.iter().flat_map(|w| [w.p50_ms, w.p90_ms, w.p99_ms]));
    let amax = headroom(ts.iter().map(|w| w.active));
    let mut chart = ChartBuilder::on(area)
        .caption(title, caption())
        .margin(14)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .right_y_label_area_size(80)
        .build_cartesian_2d(span.0..span.1, 0.0..ymax)?
        .set_secondary_coord(span.0..span.1, 0.0..amax);
    chart
        .configure_mesh()
        .x_desc("time since start (s)")
        .y_desc("latency (ms)")
        .label_style(label_font())
        .axis_desc_style(desc_font())
        .light_line_style(RGBColor(240, 240, 240))
        .draw()?;
    chart
        .configure_secondary_axes()
        .y_desc(level_unit(result))
        .label_style(label_font())
        .axis_desc_style(desc_font())
        .draw()?;
    time_decorations(&mut chart, result, span, ymax)?;

    let measured = || ts.iter().filter(|w| w.requests > 0);
    let lines: [(&str, RGBColor, WindowValue); 3] = [
        ("p50", P50, |w| w.p50_ms),
        ("p90", P90, |w| w.p90_ms),
        ("p99", P99, |w| w.p99_ms),
    ];
    let few = measured().count() <= 3;
    for (name, color, value) in lines {
        chart
            .draw_series(LineSeries::new(
                measured().map(|w| (w.t_s + 0.5, value(w))),
                color.stroke_width(2),
            ))?
            .label(name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], color.stroke_width(3)));
        if few {
            chart.draw_series(
                measured().map(|w| Circle::new((w.t_s + 0.5, value(w)), 4, color.filled())),
            )?;
        }
    }
    let steps = ts
        .iter()
        .flat_map(|w| [(w.t_s, w.active), (w.t_s + 1.0, w.active)]);
    chart
        .draw_secondary_series(LineSeries::new(steps, LEVEL.stroke_width(2)))?
        .label(format!("level: {} (right axis)", level_unit(result)))
        .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], LEVEL.stroke_width(3)));
    legend(&mut chart)?;
    Ok(())
}

/// Chart 2: throughput per window, and errors per second split by class on a secondary axis.
pub fn throughput_over_time<DB>(
    area: &DrawingArea<DB, Shift>,
    result: &RunResult,
) -> anyhow::Result<()>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    let title = Chart::Throughput.title();
    let ts = &result.timeseries;
    if ts.is_empty() {
        return no_data(area, title, "no time windows recorded");
    }
    let span = time_span(ts);
    let ymax = headroom(ts.iter().map(|w| w.throughput_rps));
    let emax = headroom(ts.iter().flat_map(|w| {
        let per_class = w.errors_by_class.iter().map(|(_, n)| n as f64);
        per_class.into_iter().chain([w.errors as f64])
    }));
    let mut chart = ChartBuilder::on(area)
        .caption(title, caption())
        .margin(14)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .right_y_label_area_size(80)
        .build_cartesian_2d(span.0..span.1, 0.0..ymax)?
        .set_secondary_coord(span.0..span.1, 0.0..emax);
    chart
        .configure_mesh()
        .x_desc("time since start (s)")
        .y_desc("throughput (req/s)")
        .label_style(label_font())
        .axis_desc_style(desc_font())
        .light_line_style(RGBColor(240, 240, 240))
        .draw()?;
    chart
        .configure_secondary_axes()
        .y_desc("errors (per s)")
        .label_style(label_font())
        .axis_desc_style(desc_font())
        .draw()?;
    time_decorations(&mut chart, result, span, ymax)?;

    chart
        .draw_series(LineSeries::new(
            ts.iter().map(|w| (w.t_s + 0.5, w.throughput_rps)),
            P50.stroke_width(2),
        ))?
        .label("throughput (left axis)")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], P50.stroke_width(3)));
    if ts.len() <= 3 {
        chart.draw_series(
            ts.iter()
                .map(|w| Circle::new((w.t_s + 0.5, w.throughput_rps), 4, P50.filled())),
        )?;
    }

    let mut any_errors = false;
    for (class_index, color) in CLASS_COLORS.iter().enumerate() {
        let count = |w: &Window| {
            w.errors_by_class
                .iter()
                .get(class_index)
                .map_or(0, |(_, n)| *n)
        };
        if ts.iter().all(|w| count(w) == 0) {
            continue;
        }
        any_errors = true;
        let name = result
            .totals
            .errors_by_class
            .iter()
            .get(class_index)
            .map_or("error", |(name, _)| *name);
        let color = *color;
        chart
            .draw_secondary_series(LineSeries::new(
                ts.iter().map(|w| (w.t_s + 0.5, count(w) as f64)),
                color.stroke_width(2),
            ))?
            .label(format!("{name} errors (right axis)"))
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], color.stroke_width(3)));
    }
    if !any_errors && ts.iter().any(|w| w.errors > 0) {
        // Errors counted without a class breakdown: show the total.
        chart
            .draw_secondary_series(LineSeries::new(
                ts.iter().map(|w| (w.t_s + 0.5, w.errors as f64)),
                P99.stroke_width(2),
            ))?
            .label("errors (right axis)")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], P99.stroke_width(3)));
    } else if !any_errors {
        chart
            .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?
            .label("no errors")
            .legend(|(x, y)| Circle::new((x + 9, y), 4, CLASS_COLORS[8].filled()));
    }
    legend(&mut chart)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warmup_spans_merge_contiguous_windows() {
        let w = |t: f64, stage| Window {
            t_s: t,
            stage,
            ..Window::default()
        };
        let ts = [w(0.0, None), w(1.0, None), w(2.0, Some(0)), w(3.0, None)];
        assert_eq!(warmup_spans(&ts), vec![(0.0, 2.0), (3.0, 4.0)]);
    }
}
