//! The six charts as PNG files (`latency.png`, `throughput.png`, `distribution.png`,
//! `stages.png`, `machine.png`, `sut.png`): one [`Reporter`] per chart, drawn by [`super::charts`] on plotters' bitmap
//! backend into an in-memory RGB buffer with the embedded DejaVu font, then PNG-encoded.

use image::codecs::png::PngEncoder;
use image::{ColorType, ImageEncoder};
use plotters::prelude::*;

use super::charts::{self, Chart};
use super::glyphs::TextFix;
use super::{ReportContext, ReportError, Reporter};
use crate::result::RunResult;

/// Writes one chart as `<slug>.png`.
#[derive(Debug, Clone)]
pub struct PngChart {
    chart: Chart,
    file_name: String,
    size: (u32, u32),
}

impl PngChart {
    /// A reporter for `chart` at the default size ([`charts::WIDTH`] × [`charts::HEIGHT`]).
    pub(crate) fn new(chart: Chart) -> Self {
        PngChart {
            chart,
            file_name: format!("{}.png", chart.slug()),
            size: (charts::WIDTH, charts::HEIGHT),
        }
    }

    /// One reporter per chart, in [`Chart::ALL`] order.
    pub fn all() -> Vec<PngChart> {
        Chart::ALL.iter().map(|&c| PngChart::new(c)).collect()
    }
}

impl Reporter for PngChart {
    fn file_name(&self) -> &str {
        &self.file_name
    }

    fn render(&self, result: &RunResult, ctx: &ReportContext<'_>) -> Result<Vec<u8>, ReportError> {
        render_png(self.chart, result, ctx, self.size)
    }
}

/// Draws `chart` at `size` and returns the PNG bytes.
pub(crate) fn render_png(
    chart: Chart,
    result: &RunResult,
    ctx: &ReportContext<'_>,
    (w, h): (u32, u32),
) -> Result<Vec<u8>, ReportError> {
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    {
        let backend = BitMapBackend::with_buffer(&mut rgb, (w, h));
        let area = TextFix::new(backend, dejavu::sans::regular())
            .map_err(|_| ReportError::Font)?
            .into_drawing_area();
        chart.draw(&area, result, ctx)?;
        area.present()?;
    }
    let mut png = Vec::new();
    PngEncoder::new(&mut png)
        .write_image(&rgb, w, h, ColorType::Rgb8)
        .map_err(|source| ReportError::Encode {
            file: format!("{}.png", chart.slug()),
            source,
        })?;
    Ok(png)
}
