//! The per-stage chart: throughput and p99 latency per stage, side by side, labelled with each
//! stage's level.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    caption, desc_font, headroom, label_font, no_data, Chart, P50, P99, X_LABELS, Y_LABELS,
};
use crate::report::format::{self as f, LatencyAxis};
use crate::report::ReportError;
use crate::result::RunResult;

/// Label of a stage for the bar charts: "#1 · 50 VUs".
fn stage_label(index: usize, target: f64, unit: &str) -> String {
    format!("#{} · {}", index + 1, f::level_of(target, unit))
}

/// What a panel shows: its axis description, color, values, and how an axis tick and a bar's
/// value label read.
struct Panel {
    desc: String,
    color: RGBColor,
    values: Vec<f64>,
    tick: Box<dyn Fn(f64) -> String>,
    label: fn(f64) -> String,
}

/// Chart 4: throughput and p99 per stage, side by side, labelled with each stage's level: the
/// knee of a stress run is where throughput stops growing and p99 jumps.
pub fn stage_bars<DB>(area: &DrawingArea<DB, Shift>, result: &RunResult) -> Result<(), ReportError>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    let title = Chart::Stages.title();
    let stages = &result.stages;
    if stages.is_empty() {
        return no_data(area, title, "the run has no stages");
    }
    let inner = area.titled(title, caption())?;
    let (w, _) = inner.dim_in_pixel();
    let (left, right) = inner.split_horizontally(w / 2);
    let labels: Vec<String> = stages
        .iter()
        .map(|s| stage_label(s.index, s.target, &s.unit))
        .collect();
    let rps: Vec<f64> = stages.iter().map(|s| s.metrics.throughput_rps).collect();
    let p99: Vec<f64> = stages.iter().map(|s| s.metrics.latency_ms.p99).collect();
    let axis = LatencyAxis::for_max(headroom(p99.iter().copied()));
    let panels = [
        Panel {
            desc: "throughput (req/s)".into(),
            color: P50,
            values: rps,
            tick: Box::new(f::number),
            label: f::number,
        },
        Panel {
            desc: format!("p99 latency ({})", axis.unit),
            color: P99,
            values: p99,
            tick: Box::new(move |v| axis.tick(v)),
            label: f::ms,
        },
    ];
    let n = stages.len();
    for (area, panel) in [&left, &right].into_iter().zip(panels) {
        let Panel {
            desc,
            color,
            values,
            tick,
            label,
        } = panel;
        let ymax = headroom(values.iter().copied());
        let mut chart = ChartBuilder::on(area)
            .margin(14)
            .x_label_area_size(X_LABELS)
            .y_label_area_size(Y_LABELS)
            .build_cartesian_2d(-0.5..n as f64 - 0.5, 0.0..ymax)?;
        let label_of = |x: &f64| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 {
                labels.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_desc("stage · level")
            .y_desc(desc)
            .x_labels(n)
            .x_label_formatter(&label_of)
            .y_label_formatter(&|v| tick(*v))
            .label_style(label_font())
            .axis_desc_style(desc_font())
            .light_line_style(RGBColor(240, 240, 240))
            .draw()?;
        let half = if n > 12 { 0.45 } else { 0.35 };
        chart.draw_series(values.iter().enumerate().map(|(i, &v)| {
            let v = if v.is_finite() { v.max(0.0) } else { 0.0 };
            let x = i as f64;
            Rectangle::new([(x - half, 0.0), (x + half, v)], color.mix(0.85).filled())
        }))?;
        if n <= 16 {
            let style = label_font().pos(Pos::new(HPos::Center, VPos::Bottom));
            chart.draw_series(values.iter().enumerate().map(|(i, &v)| {
                let v = if v.is_finite() { v.max(0.0) } else { 0.0 };
                Text::new(label(v), (i as f64, v), style.clone())
            }))?;
        }
    }
    Ok(())
}
