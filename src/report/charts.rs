//! The four charts of a run, one function each, generic over a plotters [`DrawingBackend`] so
//! the same code draws the SVG inlined in `report.html` and the bitmaps of the PNG files:
//! latency over time, throughput and errors over time, the latency distribution (HDR
//! percentile spectrum, baseline overlaid) and per-stage bars. Text is laid out with the
//! embedded DejaVu font (never fontconfig); empty or degenerate data draws a "no data" chart
//! instead of failing.

use std::sync::OnceLock;

use anyhow::{bail, Context};
use base64::Engine as _;
use hdrhistogram::serialization::Deserializer;
use hdrhistogram::Histogram;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::ReportContext;
use crate::result::{RunResult, Window, TOTAL_KEY};

/// Size every chart is drawn at (SVG scales it to the page width).
pub const WIDTH: u32 = 1200;
pub const HEIGHT: u32 = 600;

const FONT: FontFamily<'static> = FontFamily::SansSerif;
const P50: RGBColor = RGBColor(31, 119, 180);
const P90: RGBColor = RGBColor(230, 120, 0);
const P99: RGBColor = RGBColor(200, 30, 40);
const LEVEL: RGBColor = RGBColor(110, 110, 110);
const STAGE_LINE: RGBColor = RGBColor(150, 150, 150);
const WARMUP: RGBColor = RGBColor(255, 200, 60);
const BASELINE: RGBColor = RGBColor(120, 120, 120);
/// One color per error class, in [`crate::result::ErrorCounts::iter`] order.
const CLASS_COLORS: [RGBColor; 9] = [
    RGBColor(148, 103, 189),
    RGBColor(214, 39, 40),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(255, 127, 14),
    RGBColor(23, 190, 207),
    RGBColor(44, 160, 44),
];

/// Which chart to draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chart {
    Latency,
    Throughput,
    Distribution,
    Stages,
}

impl Chart {
    pub const ALL: [Chart; 4] = [
        Chart::Latency,
        Chart::Throughput,
        Chart::Distribution,
        Chart::Stages,
    ];

    /// Short name, used for PNG file names and HTML ids.
    pub fn slug(self) -> &'static str {
        match self {
            Chart::Latency => "latency",
            Chart::Throughput => "throughput",
            Chart::Distribution => "distribution",
            Chart::Stages => "stages",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Chart::Latency => "Latency over time (per 1 s window)",
            Chart::Throughput => "Throughput and errors over time",
            Chart::Distribution => "Latency distribution (percentile spectrum)",
            Chart::Stages => "Per stage: throughput and p99 latency",
        }
    }

    /// Draws this chart on `area` (filled white first).
    pub fn draw<DB>(
        self,
        area: &DrawingArea<DB, Shift>,
        result: &RunResult,
        ctx: &ReportContext<'_>,
    ) -> anyhow::Result<()>
    where
        DB: DrawingBackend,
        DB::ErrorType: 'static,
    {
        ensure_font()?;
        area.fill(&WHITE)?;
        match self {
            Chart::Latency => latency_over_time(area, result),
            Chart::Throughput => throughput_over_time(area, result),
            Chart::Distribution => latency_distribution(area, result, ctx),
            Chart::Stages => stage_bars(area, result),
        }
    }
}

/// Registers the embedded DejaVu Sans as plotters' `sans-serif` (once per process). Text
/// layout needs it for SVG too, since plotters measures text with the same font code.
pub fn ensure_font() -> anyhow::Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular())
            .is_ok()
    });
    if !ok {
        bail!("the embedded DejaVu Sans font could not be loaded");
    }
    Ok(())
}

/// Renders `chart` as an SVG document whose text uses the generic `sans-serif` family.
pub fn svg(chart: Chart, result: &RunResult, ctx: &ReportContext<'_>) -> anyhow::Result<String> {
    let mut out = String::new();
    {
        let area = SVGBackend::with_string(&mut out, (WIDTH, HEIGHT)).into_drawing_area();
        chart.draw(&area, result, ctx)?;
        area.present()?;
    }
    Ok(out)
}

fn caption() -> TextStyle<'static> {
    (FONT, 26).into_font().color(&BLACK)
}

fn label_font() -> TextStyle<'static> {
    (FONT, 15).into_font().color(&RGBColor(40, 40, 40))
}

fn desc_font() -> TextStyle<'static> {
    (FONT, 17).into_font().color(&BLACK)
}

/// A titled empty frame with a centred "no data" note.
fn no_data<DB>(area: &DrawingArea<DB, Shift>, title: &str, why: &str) -> anyhow::Result<()>
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
fn headroom(values: impl Iterator<Item = f64>) -> f64 {
    let max = values.filter(|v| v.is_finite()).fold(0.0_f64, f64::max);
    if max > 0.0 {
        max * 1.1
    } else {
        1.0
    }
}

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

fn legend<'a, DB, CT>(chart: &mut ChartContext<'a, DB, CT>) -> anyhow::Result<()>
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    CT: CoordTranslate,
{
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(180, 180, 180))
        .label_font(label_font())
        .draw()?;
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

/// Decodes a base64 HDR V2 histogram (µs values) as stored in `RunResult.histograms`.
pub fn decode_histogram(encoded: &str) -> anyhow::Result<Histogram<u64>> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .context("histogram is not valid base64")?;
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| anyhow::anyhow!("histogram is not a valid HDR V2 histogram: {e:?}"))
}

/// x of a quantile on the "nines" axis: -log10(1 - q).
fn nines(q: f64) -> f64 {
    -(1.0 - q).max(1e-12).log10()
}

/// Points (nines, latency ms) of a result's total percentile spectrum: from its histogram when
/// there is one, else from the summary percentiles.
pub fn spectrum(result: &RunResult) -> Option<Vec<(f64, f64)>> {
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
pub fn latency_distribution<DB>(
    area: &DrawingArea<DB, Shift>,
    result: &RunResult,
    ctx: &ReportContext<'_>,
) -> anyhow::Result<()>
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
    let mut chart = ChartBuilder::on(area)
        .caption(title, caption())
        .margin(14)
        .margin_right(40)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d(0.0..xmax, 0.0..ymax)?;
    chart
        .configure_mesh()
        .x_desc("percentile (log scale of nines)")
        .y_desc("latency (ms)")
        .x_labels(xmax.floor() as usize + 1)
        .x_label_formatter(&|x| nines_label(*x))
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
            .label("baseline")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], BASELINE.stroke_width(3)));
    }
    chart
        .draw_series(LineSeries::new(
            current.iter().copied(),
            P99.stroke_width(2),
        ))?
        .label("this run")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], P99.stroke_width(3)));
    if current.len() <= 8 {
        chart.draw_series(current.iter().map(|&p| Circle::new(p, 4, P99.filled())))?;
    }
    legend(&mut chart)?;
    Ok(())
}

/// Label of a stage for the bar charts: "#1 · 50 vus".
fn stage_label(index: usize, target: f64, unit: &str) -> String {
    let unit = if unit == "rps" { "rps" } else { "vus" };
    format!("#{} · {} {unit}", index + 1, trim_number(target))
}

fn trim_number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// Chart 4: throughput and p99 per stage, side by side, labelled with each stage's level: the
/// knee of a stress run is where throughput stops growing and p99 jumps.
pub fn stage_bars<DB>(area: &DrawingArea<DB, Shift>, result: &RunResult) -> anyhow::Result<()>
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
    type Panel<'p, DB> = (&'p DrawingArea<DB, Shift>, &'static str, RGBColor, Vec<f64>);
    let panels: [Panel<'_, DB>; 2] = [
        (
            &left,
            "throughput (req/s)",
            P50,
            stages.iter().map(|s| s.metrics.throughput_rps).collect(),
        ),
        (
            &right,
            "p99 latency (ms)",
            P99,
            stages.iter().map(|s| s.metrics.latency_ms.p99).collect(),
        ),
    ];
    let n = stages.len();
    for (panel, desc, color, values) in panels {
        let ymax = headroom(values.iter().copied());
        let mut chart = ChartBuilder::on(panel)
            .margin(14)
            .x_label_area_size(50)
            .y_label_area_size(80)
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
                Text::new(format!("{v:.1}"), (i as f64, v), style.clone())
            }))?;
        }
    }
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
    fn headroom_is_positive_for_empty_or_zero_data() {
        assert_eq!(headroom(std::iter::empty()), 1.0);
        assert_eq!(headroom([0.0, f64::NAN].into_iter()), 1.0);
        assert!((headroom([10.0].into_iter()) - 11.0).abs() < 1e-9);
    }
}
