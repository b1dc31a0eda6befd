//! Charts over time: latency per 1 s window (p50/p90/p99 with the load level on a secondary
//! axis) and throughput with errors by class and dropped arrivals. Both shade the warm-up and mark stage starts.

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    caption, desc_font, headroom, label_font, legend, no_data, tick, Chart, CLASS_COLORS, LEVEL,
    P50, P90, P99, STAGE_LINE, WARMUP, X_LABELS, Y_LABELS,
};
use crate::report::format::LatencyAxis;
use crate::report::{ReportContext, ReportError};
use crate::result::{LevelUnit, RunResult, Window};

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
    if level_is_rate(result) {
        "arrival rate (req/s)"
    } else {
        "virtual users"
    }
}

type TimeChart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Warm-up shading and stage boundaries, shared by the two time charts.
fn time_decorations<DB>(
    chart: &mut TimeChart<'_, DB>,
    result: &RunResult,
    (x0, x1): (f64, f64),
    ymax: f64,
) -> Result<(), ReportError>
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

/// At most this many points per line. Longer runs merge consecutive windows, which keeps the
/// SVG small and avoids plotters' thick-line miters spiking out of dense zigzags on bitmaps.
const MAX_POINTS: usize = 500;

/// One plotted point: one window, or several consecutive windows merged.
#[derive(Debug, Clone, PartialEq)]
struct Point {
    /// Start and end of the time covered (s).
    t0: f64,
    t1: f64,
    /// Whether any request completed in the span (latency is meaningless otherwise).
    measured: bool,
    /// Mean of the windows' p50 and p90; worst p99, so a stall is never averaged away.
    p50: f64,
    p90: f64,
    p99: f64,
    /// Mean throughput, mean errors per second (by class, in `ErrorCounts::iter` order).
    rps: f64,
    errors: f64,
    classes: [f64; 10],
    /// Mean arrivals dropped per second (open model, at `max_in_flight`).
    dropped: f64,
    /// Highest level scheduled in the span.
    active: f64,
}

impl Point {
    fn mid(&self) -> f64 {
        (self.t0 + self.t1) / 2.0
    }
}

/// Windows as points, merged `k` at a time when there are more than [`MAX_POINTS`].
fn points(ts: &[Window]) -> (Vec<Point>, usize) {
    let k = ts.len().div_ceil(MAX_POINTS).max(1);
    let points = ts.chunks(k).map(merge).collect();
    (points, k)
}

fn merge(c: &[Window]) -> Point {
    let n = c.len().max(1) as f64;
    let measured: Vec<&Window> = c.iter().filter(|w| w.requests > 0).collect();
    let m = measured.len().max(1) as f64;
    let mean = |f: fn(&Window) -> f64| measured.iter().map(|w| f(w)).sum::<f64>() / m;
    let mut classes = [0.0; 10];
    for w in c {
        for (slot, (_, count)) in classes.iter_mut().zip(w.errors_by_class.iter()) {
            *slot += count as f64 / n;
        }
    }
    let t0 = c.first().map_or(0.0, |w| w.t_s);
    Point {
        t0,
        t1: c.last().map_or(t0, |w| w.t_s) + 1.0,
        measured: !measured.is_empty(),
        p50: mean(|w| w.p50_ms),
        p90: mean(|w| w.p90_ms),
        p99: measured.iter().map(|w| w.p99_ms).fold(0.0, f64::max),
        rps: c.iter().map(|w| w.throughput_rps).sum::<f64>() / n,
        errors: c.iter().map(|w| w.errors as f64).sum::<f64>() / n,
        classes,
        dropped: c.iter().map(|w| w.dropped as f64).sum::<f64>() / n,
        active: c.iter().map(|w| w.active).fold(f64::NEG_INFINITY, f64::max),
    }
}

/// Extra room above the data of the time charts, so the legend (top left) does not cover it.
const LEGEND_ROOM: f64 = 1.3;
/// The same for a legend of six or more entries (the latency chart with a baseline).
const LEGEND_ROOM_TALL: f64 = 1.75;

/// The windows a rate is drawn from: those of the measured time. Windows after it hold only
/// the tail (requests in flight at the end, recorded where they finished): they are in every
/// count and percentile, but a rate over a second that had no new requests would draw a
/// cliff that never happened.
fn measured_windows(timeseries: &[Window], end: f64) -> Vec<Window> {
    let kept: Vec<Window> = timeseries
        .iter()
        .filter(|w| w.t_s + 1e-9 < end)
        .cloned()
        .collect();
    if kept.is_empty() {
        timeseries.to_vec()
    } else {
        kept
    }
}

/// Line width for a series of `n` points: thin when dense.
fn stroke(n: usize) -> u32 {
    if n > 150 {
        1
    } else {
        2
    }
}

/// The x-axis description, saying how many seconds a point covers when windows were merged.
fn time_desc(k: usize, latency: bool) -> String {
    match (k, latency) {
        (1, _) => "time since start (s)".to_string(),
        (k, true) => format!("time since start (s) · {k} s per point: mean p50/p90, worst p99"),
        (k, false) => format!("time since start (s) · {k} s per point, averaged"),
    }
}

/// The load level of `pts` as a step outline: each point's level held over its span.
fn level_steps(pts: &[Point]) -> Vec<(f64, f64)> {
    pts.iter()
        .flat_map(|p| [(p.t0, p.active), (p.t1, p.active)])
        .collect()
}

/// The load level as both time charts draw it: a muted step area behind the data.
fn level_area<DB: DrawingBackend>(steps: Vec<(f64, f64)>) -> AreaSeries<DB, f64, f64> {
    AreaSeries::new(steps, 0.0, LEVEL.mix(0.10)).border_style(LEVEL.mix(0.35))
}

/// The legend mark of [`level_area`].
fn level_mark((x, y): (i32, i32)) -> Rectangle<(i32, i32)> {
    Rectangle::new([(x, y - 6), (x + 18, y + 6)], LEVEL.mix(0.25).filled())
}

/// True when the run's level is an arrival rate (req/s, the open model), not virtual users.
fn level_is_rate(result: &RunResult) -> bool {
    result
        .stages
        .first()
        .is_some_and(|s| s.unit == LevelUnit::Rps)
}

/// Reads one value of a point.
type PointValue = fn(&Point) -> f64;

/// Chart 1: p50/p90/p99 per window, stage boundaries, warm-up shading, the load level as a
/// muted step area on its own (right) axis, and the baseline's p50/p99 as dashed references
/// when there is a baseline.
pub(crate) fn latency_over_time<DB>(
    area: &DrawingArea<DB, Shift>,
    result: &RunResult,
    ctx: &ReportContext<'_>,
) -> Result<(), ReportError>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    let title = Chart::Latency.title();
    let ts = &result.timeseries;
    if ts.is_empty() {
        return no_data(area, title, "no time windows recorded");
    }
    let (pts, k) = points(ts);
    let span = time_span(ts);
    let reference = ctx
        .baseline
        .map(|b| (b.totals.latency_ms.p50, b.totals.latency_ms.p99))
        .filter(|(p50, p99)| *p50 > 0.0 && *p99 > 0.0);
    // The legend grows with the baseline's two reference lines: leave it room above the data.
    let room = if reference.is_some() {
        LEGEND_ROOM_TALL
    } else {
        LEGEND_ROOM
    };
    let ymax = headroom(
        pts.iter()
            .flat_map(|p| [p.p50, p.p90, p.p99])
            .chain(reference.iter().flat_map(|(a, b)| [*a, *b])),
    ) * room;
    let amax = headroom(pts.iter().map(|p| p.active)) * room;
    let axis = LatencyAxis::for_max(ymax);
    let y_tick = |v: &f64| axis.tick(*v);
    let mut chart = ChartBuilder::on(area)
        .caption(title, caption())
        .margin(14)
        .x_label_area_size(X_LABELS)
        .y_label_area_size(Y_LABELS)
        .right_y_label_area_size(Y_LABELS)
        .build_cartesian_2d(span.0..span.1, 0.0..ymax)?
        .set_secondary_coord(span.0..span.1, 0.0..amax);
    chart
        .configure_mesh()
        .x_desc(time_desc(k, true))
        .y_desc(format!("latency ({})", axis.unit))
        .x_label_formatter(&tick)
        .y_label_formatter(&y_tick)
        .label_style(label_font())
        .axis_desc_style(desc_font())
        .light_line_style(RGBColor(240, 240, 240))
        .draw()?;
    chart
        .configure_secondary_axes()
        .y_desc(format!("{} (shaded)", level_unit(result)))
        .y_label_formatter(&tick)
        .label_style(label_font())
        .axis_desc_style(desc_font())
        .draw()?;
    // The level first, as a muted area behind everything: a load shape, not a data line.
    chart
        .draw_secondary_series(level_area(level_steps(&pts)))?
        .label(format!("{} (right axis)", level_unit(result)))
        .legend(level_mark);
    time_decorations(&mut chart, result, span, ymax)?;
    if let Some((p50, p99)) = reference {
        let refs = if result.ab.is_some() {
            [("A p50", p50, P50), ("A p99", p99, P99)]
        } else {
            [("baseline p50", p50, P50), ("baseline p99", p99, P99)]
        };
        for (name, value, color) in refs {
            let style = ShapeStyle::from(&color.mix(0.7)).stroke_width(2);
            chart
                .draw_series(DashedLineSeries::new(
                    [(span.0, value), (span.1, value)],
                    10,
                    6,
                    style,
                ))?
                .label(name)
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], style));
        }
    }

    let measured = || pts.iter().filter(|p| p.measured);
    let width = stroke(pts.len());
    let lines: [(&str, RGBColor, PointValue); 3] = [
        ("p50", P50, |p| p.p50),
        ("p90", P90, |p| p.p90),
        ("p99", P99, |p| p.p99),
    ];
    let few = measured().count() <= 3;
    for (name, color, value) in lines {
        chart
            .draw_series(LineSeries::new(
                measured().map(|p| (p.mid(), value(p))),
                color.stroke_width(width),
            ))?
            .label(name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], color.stroke_width(3)));
        if few {
            chart.draw_series(
                measured().map(|p| Circle::new((p.mid(), value(p)), 4, color.filled())),
            )?;
        }
    }
    if measured().next().is_none() {
        let style = desc_font().pos(Pos::new(HPos::Center, VPos::Center));
        let centre = ((span.0 + span.1) / 2.0, ymax / 2.0);
        chart.draw_series([Text::new("no request completed", centre, style)])?;
    }
    legend(&mut chart)?;
    Ok(())
}

/// Color of the dropped-arrivals line (dashed, so it reads apart from the error classes).
const DROPPED: RGBColor = RGBColor(20, 20, 20);

/// What the right axis of the throughput chart shows.
#[derive(Debug, Clone, Copy, PartialEq)]
enum RightAxis {
    /// Errors (by class) and dropped arrivals per second.
    Errors,
    /// The virtual users, as on the latency chart (a closed run without errors).
    Level,
}

/// Chart 2: throughput per window, and errors per second split by class and dropped arrivals
/// per second (open model) on a secondary axis. The load level is the same muted step area as
/// on the latency chart: on the left axis for an arrival rate (same unit as throughput, so the
/// gap between target and achieved shows), on the right axis for virtual users when there are
/// no errors to show there.
pub(crate) fn throughput_over_time<DB>(
    area: &DrawingArea<DB, Shift>,
    result: &RunResult,
) -> Result<(), ReportError>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    let title = Chart::Throughput.title();
    let ts = &measured_windows(&result.timeseries, result.duration_s);
    if ts.is_empty() {
        return no_data(area, title, "no time windows recorded");
    }
    let (pts, k) = points(ts);
    let span = time_span(ts);
    let rate = level_is_rate(result);
    let ymax = headroom(
        pts.iter()
            .flat_map(|p| [p.rps, if rate { p.active } else { 0.0 }]),
    ) * LEGEND_ROOM;
    let any_dropped = pts.iter().any(|p| p.dropped > 0.0);
    let any_failures = pts.iter().any(|p| p.errors > 0.0 || p.dropped > 0.0);
    let right = if any_failures || rate {
        RightAxis::Errors
    } else {
        RightAxis::Level
    };
    let emax = match right {
        RightAxis::Errors => headroom(
            pts.iter()
                .flat_map(|p| p.classes.iter().copied().chain([p.errors, p.dropped])),
        ),
        RightAxis::Level => headroom(pts.iter().map(|p| p.active)),
    } * LEGEND_ROOM;
    let mut chart = ChartBuilder::on(area)
        .caption(title, caption())
        .margin(14)
        .x_label_area_size(X_LABELS)
        .y_label_area_size(Y_LABELS)
        .right_y_label_area_size(Y_LABELS)
        .build_cartesian_2d(span.0..span.1, 0.0..ymax)?
        .set_secondary_coord(span.0..span.1, 0.0..emax);
    chart
        .configure_mesh()
        .x_desc(time_desc(k, false))
        .y_desc("throughput (req/s)")
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .label_style(label_font())
        .axis_desc_style(desc_font())
        .light_line_style(RGBColor(240, 240, 240))
        .draw()?;
    chart
        .configure_secondary_axes()
        .y_desc(match right {
            RightAxis::Level => format!("{} (shaded)", level_unit(result)),
            RightAxis::Errors if any_dropped => "errors and dropped arrivals (per s)".into(),
            RightAxis::Errors => "errors (per s)".into(),
        })
        .y_label_formatter(&tick)
        .label_style(label_font())
        .axis_desc_style(desc_font())
        .draw()?;
    // The level first, behind everything, as on the latency chart.
    if rate {
        chart
            .draw_series(level_area(level_steps(&pts)))?
            .label("target arrival rate (shaded)")
            .legend(level_mark);
    } else if right == RightAxis::Level {
        chart
            .draw_secondary_series(level_area(level_steps(&pts)))?
            .label(format!("{} (right axis)", level_unit(result)))
            .legend(level_mark);
    }
    time_decorations(&mut chart, result, span, ymax)?;

    let width = stroke(pts.len());
    chart
        .draw_series(LineSeries::new(
            pts.iter().map(|p| (p.mid(), p.rps)),
            P50.stroke_width(width),
        ))?
        .label("throughput (left axis)")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], P50.stroke_width(3)));
    if pts.len() <= 3 {
        chart.draw_series(
            pts.iter()
                .map(|p| Circle::new((p.mid(), p.rps), 4, P50.filled())),
        )?;
    }

    let names = result.totals.errors_by_class.iter();
    let mut any_errors = false;
    for (class_index, (color, (name, _))) in CLASS_COLORS.iter().zip(names).enumerate() {
        let value = |p: &Point| p.classes.get(class_index).copied().unwrap_or(0.0);
        if pts.iter().all(|p| value(p) <= 0.0) {
            continue;
        }
        any_errors = true;
        let color = *color;
        chart
            .draw_secondary_series(LineSeries::new(
                pts.iter().map(|p| (p.mid(), value(p))),
                color.stroke_width(width),
            ))?
            .label(format!("{name} errors (right axis)"))
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], color.stroke_width(3)));
    }
    if any_dropped {
        chart
            .draw_secondary_series(DashedLineSeries::new(
                pts.iter().map(|p| (p.mid(), p.dropped)),
                10,
                6,
                DROPPED.stroke_width(width + 1),
            ))?
            .label("dropped arrivals (right axis)")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], DROPPED.stroke_width(3)));
    }
    if !any_errors && pts.iter().any(|p| p.errors > 0.0) {
        // Errors counted without a class breakdown: show the total.
        chart
            .draw_secondary_series(LineSeries::new(
                pts.iter().map(|p| (p.mid(), p.errors)),
                P99.stroke_width(width),
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
    fn rates_are_drawn_from_the_measured_time_not_the_tail() {
        let w = |t: f64| Window {
            t_s: t,
            requests: 10,
            ..Window::default()
        };
        let ts = [w(0.0), w(1.0), w(2.0), w(3.0)];
        // A 3 s run whose last in-flight requests finished in second 3.
        let kept = measured_windows(&ts, 3.0);
        assert_eq!(
            kept.iter().map(|w| w.t_s).collect::<Vec<_>>(),
            [0.0, 1.0, 2.0]
        );
        // Nothing measured before the end (an immediate abort): draw what there is.
        assert_eq!(measured_windows(&ts[3..], 0.0).len(), 1);
    }

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

    #[test]
    fn long_runs_merge_windows_keeping_the_worst_p99() {
        let ts: Vec<Window> = (0..3600)
            .map(|t| Window {
                t_s: t as f64,
                requests: 10,
                p99_ms: if t == 1234 { 900.0 } else { 10.0 },
                active: 5.0,
                ..Window::default()
            })
            .collect();
        let (pts, k) = points(&ts);
        assert_eq!(k, 8);
        assert!(pts.len() <= MAX_POINTS);
        assert_eq!(pts.iter().map(|p| p.p99).fold(0.0, f64::max), 900.0);
        assert_eq!(pts[0].t0, 0.0);
        assert_eq!(pts[0].t1, 8.0);
        let (pts, k) = points(&ts[..10]);
        assert_eq!((pts.len(), k), (10, 1));
    }
}
