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
use crate::result::{LevelUnit, RunResult};

/// How much each stage's x label says, from most to least: the most that fits its slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Labels {
    /// "#1 · 50 VUs"
    Full,
    /// "50 VUs"
    Level,
    /// "#1"
    Number,
    /// "#1" on every `k`-th stage.
    Every(usize),
}

impl Labels {
    fn text(self, index: usize, target: f64, unit: LevelUnit) -> String {
        match self {
            Labels::Full => format!("#{} · {}", index + 1, f::level_in(target, unit)),
            Labels::Level => f::level_in(target, unit),
            Labels::Number => format!("#{}", index + 1),
            Labels::Every(k) if index % k == 0 => format!("#{}", index + 1),
            Labels::Every(_) => String::new(),
        }
    }

    fn desc(self) -> &'static str {
        match self {
            Labels::Full => "stage · level",
            Labels::Level => "level of each stage",
            Labels::Number | Labels::Every(_) => "stage",
        }
    }
}

/// The most detailed [`Labels`] whose widest text (`width` px per text) fits `slot` px.
fn fit_labels(slot: f64, width: impl Fn(Labels) -> f64) -> Labels {
    for l in [Labels::Full, Labels::Level, Labels::Number] {
        if width(l) + 12.0 <= slot {
            return l;
        }
    }
    let k = ((width(Labels::Number) + 12.0) / slot.max(1.0))
        .ceil()
        .max(2.0) as usize;
    Labels::Every(k)
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
pub(crate) fn stage_bars<DB>(
    area: &DrawingArea<DB, Shift>,
    result: &RunResult,
) -> Result<(), ReportError>
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
    let n = stages.len();
    // The plot's width in a panel, less the y labels and margins; one slot per stage.
    let slot = (f64::from(w / 2) - f64::from(Y_LABELS) - 28.0) / n as f64;
    let font = label_font();
    let widest = |l: Labels| {
        stages
            .iter()
            .map(|s| {
                let text = l.text(s.index, s.target, s.unit);
                inner
                    .estimate_text_size(&text, &font)
                    .map_or(f64::INFINITY, |(w, _)| f64::from(w))
            })
            .fold(0.0, f64::max)
    };
    let fit = fit_labels(slot, widest);
    let labels: Vec<String> = stages
        .iter()
        .map(|s| fit.text(s.index, s.target, s.unit))
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
            .x_desc(fit.desc())
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
        // Value labels over the bars when they fit their slot.
        let texts: Vec<String> = values.iter().map(|&v| label(v)).collect();
        let fits = texts.iter().all(|t| {
            area.estimate_text_size(t, &font)
                .is_ok_and(|(w, _)| f64::from(w) + 4.0 <= slot)
        });
        if fits {
            let style = label_font().pos(Pos::new(HPos::Center, VPos::Bottom));
            chart.draw_series(values.iter().enumerate().map(|(i, &v)| {
                let v = if v.is_finite() { v.max(0.0) } else { 0.0 };
                Text::new(texts[i].clone(), (i as f64, v), style.clone())
            }))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_labels_shorten_until_they_fit() {
        // 10 px per character.
        let width = |l: Labels| l.text(9, 128.0, LevelUnit::Vus).chars().count() as f64 * 10.0;
        assert_eq!(fit_labels(200.0, width), Labels::Full);
        assert_eq!(fit_labels(100.0, width), Labels::Level);
        assert_eq!(fit_labels(50.0, width), Labels::Number);
        assert_eq!(fit_labels(16.0, width), Labels::Every(3));
        assert_eq!(Labels::Every(2).text(1, 8.0, LevelUnit::Vus), "");
        assert_eq!(Labels::Every(2).text(2, 8.0, LevelUnit::Vus), "#3");
    }
}
