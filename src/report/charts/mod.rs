//! The six charts of a run, one function each, generic over a plotters [`DrawingBackend`] so
//! the same code draws the SVG inlined in `report.html` and the bitmaps of the PNG files:
//! latency over time, throughput and errors over time, the latency distribution (HDR
//! percentile spectrum, baseline overlaid), per-stage bars, the machine over time (CPU
//! steal, perfgate's own CPU) and the system under test over time (`monitor:`). Text is laid out with the
//! embedded DejaVu font (never fontconfig); empty or degenerate data draws a "no data" chart
//! instead of failing.
//!
//! This module holds what the charts share (fonts, colors, sizes, the "no data" frame);
//! each chart lives in its own file.
mod distribution;
mod machine;
mod stages;
mod sut;
mod time;

pub(crate) use distribution::latency_distribution;
pub(crate) use machine::machine_over_time;
pub(crate) use stages::stage_bars;
pub(crate) use sut::sut_over_time;
pub(crate) use time::{latency_over_time, throughput_over_time};

use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{ReportContext, ReportError};
use crate::result::RunResult;

/// Size every chart is drawn at (SVG scales it to the page width).
pub(crate) const WIDTH: u32 = 1200;
pub(crate) const HEIGHT: u32 = 600;

pub(super) const FONT: FontFamily<'static> = FontFamily::SansSerif;
pub(super) const P50: RGBColor = RGBColor(31, 119, 180);
pub(super) const P90: RGBColor = RGBColor(230, 120, 0);
pub(super) const P99: RGBColor = RGBColor(200, 30, 40);
pub(super) const LEVEL: RGBColor = RGBColor(110, 110, 110);
pub(super) const STAGE_LINE: RGBColor = RGBColor(150, 150, 150);
pub(super) const WARMUP: RGBColor = RGBColor(255, 200, 60);
pub(super) const BASELINE: RGBColor = RGBColor(120, 120, 120);
/// One color per error class, in [`crate::result::ErrorCounts::iter`] order.
pub(super) const CLASS_COLORS: [RGBColor; 10] = [
    RGBColor(148, 103, 189),
    RGBColor(214, 39, 40),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(255, 127, 14),
    RGBColor(23, 190, 207),
    RGBColor(44, 160, 44),
    RGBColor(80, 80, 160),
];

/// Which chart to draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chart {
    Latency,
    Throughput,
    Distribution,
    Stages,
    Machine,
    /// The system under test's memory and CPU (`monitor:`).
    Sut,
}

impl Chart {
    pub const ALL: [Chart; 6] = [
        Chart::Latency,
        Chart::Throughput,
        Chart::Distribution,
        Chart::Stages,
        Chart::Machine,
        Chart::Sut,
    ];

    /// Short name, used for PNG file names and HTML ids.
    pub(crate) fn slug(self) -> &'static str {
        match self {
            Chart::Latency => "latency",
            Chart::Throughput => "throughput",
            Chart::Distribution => "distribution",
            Chart::Stages => "stages",
            Chart::Machine => "machine",
            Chart::Sut => "sut",
        }
    }

    pub(crate) fn title(self) -> &'static str {
        match self {
            Chart::Latency => "Latency over time (per 1 s window)",
            Chart::Throughput => "Throughput and errors over time",
            Chart::Distribution => "Latency distribution (percentile spectrum)",
            Chart::Stages => "Per stage: throughput and p99 latency",
            Chart::Machine => "Machine: CPU steal and perfgate's own CPU",
            Chart::Sut => "System under test: memory and CPU beside throughput",
        }
    }

    /// Draws this chart on `area` (filled white first).
    pub(crate) fn draw<DB>(
        self,
        area: &DrawingArea<DB, Shift>,
        result: &RunResult,
        ctx: &ReportContext<'_>,
    ) -> Result<(), ReportError>
    where
        DB: DrawingBackend,
        DB::ErrorType: 'static,
    {
        ensure_font()?;
        area.fill(&WHITE)?;
        match self {
            Chart::Latency => latency_over_time(area, result, ctx),
            Chart::Throughput => throughput_over_time(area, result),
            Chart::Distribution => latency_distribution(area, result, ctx),
            Chart::Stages => stage_bars(area, result),
            Chart::Machine => machine_over_time(area, result),
            Chart::Sut => sut_over_time(area, result),
        }
        .map_err(|e| match e {
            ReportError::Plot(message) => ReportError::Chart {
                chart: self.slug(),
                message,
            },
            other => other,
        })
    }
}

/// Registers the embedded DejaVu Sans as plotters' `sans-serif` (once per process). Text
/// layout needs it for SVG too, since plotters measures text with the same font code.
pub(crate) fn ensure_font() -> Result<(), ReportError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular())
            .is_ok()
    });
    if !ok {
        return Err(ReportError::Font);
    }
    Ok(())
}

/// Renders `chart` as an SVG document whose text uses the generic `sans-serif` family.
pub fn svg(
    chart: Chart,
    result: &RunResult,
    ctx: &ReportContext<'_>,
) -> Result<String, ReportError> {
    let mut out = String::new();
    {
        let area = SVGBackend::with_string(&mut out, (WIDTH, HEIGHT)).into_drawing_area();
        chart.draw(&area, result, ctx)?;
        area.present().map_err(|e| ReportError::Chart {
            chart: chart.slug(),
            message: e.to_string(),
        })?;
    }
    Ok(out)
}

/// The smallest text of a chart, in plotters' font size. plotters writes an SVG `font-size`
/// of size / 1.24 (and the PNG's em is size / 1.16), so 22 is a 17.7 px font at the charts'
/// 1200 px width: still ≥ 11 px when the report shows a chart 750 px wide.
pub(crate) const MIN_FONT: f64 = 22.0;

pub(super) fn caption() -> TextStyle<'static> {
    (FONT, 28).into_font().color(&BLACK)
}

/// Tick, legend and bar labels.
pub(super) fn label_font() -> TextStyle<'static> {
    (FONT, MIN_FONT).into_font().color(&RGBColor(40, 40, 40))
}

/// Axis descriptions.
pub(super) fn desc_font() -> TextStyle<'static> {
    (FONT, MIN_FONT + 1.0).into_font().color(&BLACK)
}

/// Height of the x label area (ticks and the axis description) of every chart.
pub(super) const X_LABELS: u32 = 64;
/// Width of a y label area (ticks and the rotated axis description).
pub(super) const Y_LABELS: u32 = 100;

/// A tick label: [`crate::report::format::number`] (no trailing ".0", thousands separated).
pub(super) fn tick(v: &f64) -> String {
    crate::report::format::number(*v)
}

/// A titled empty frame with a centred "no data" note.
pub(super) fn no_data<DB>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    why: &str,
) -> Result<(), ReportError>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    let inner = area.titled(title, caption())?;
    let (w, h) = inner.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    inner.draw(&Rectangle::new(
        [(20, 10), (w - 20, h - 20)],
        ShapeStyle::from(&RGBColor(200, 200, 200)).stroke_width(1),
    ))?;
    let style = (FONT, 28)
        .into_font()
        .color(&RGBColor(90, 90, 90))
        .pos(Pos::new(HPos::Center, VPos::Center));
    inner.draw(&Text::new(format!("no data: {why}"), (w / 2, h / 2), style))?;
    Ok(())
}

/// Largest finite value of `values` with 10% headroom, or 1 when there is nothing positive.
pub(super) fn headroom(values: impl Iterator<Item = f64>) -> f64 {
    let max = values.filter(|v| v.is_finite()).fold(0.0_f64, f64::max);
    if max > 0.0 {
        // Capped so an absurd value cannot make plotters' axis arithmetic overflow.
        (max * 1.1).min(1e15)
    } else {
        1.0
    }
}

pub(super) fn legend<'a, DB, CT>(chart: &mut ChartContext<'a, DB, CT>) -> Result<(), ReportError>
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    CT: CoordTranslate,
{
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE)
        .border_style(RGBColor(180, 180, 180))
        .label_font(label_font())
        .draw()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headroom_is_positive_for_empty_or_zero_data() {
        assert_eq!(headroom(std::iter::empty()), 1.0);
        assert_eq!(headroom([0.0, f64::NAN].into_iter()), 1.0);
        assert!((headroom([10.0].into_iter()) - 11.0).abs() < 1e-9);
    }
}
