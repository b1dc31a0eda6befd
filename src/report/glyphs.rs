//! Text in the PNG charts, laid out with the font's own metrics.
//!
//! plotters 0.3.7 draws ab_glyph text by placing each glyph's coverage bitmap at the pen
//! position, dropping the glyph's left side bearing, so letters with different bearings end up
//! unevenly spaced ("tim e since start ( s)"). [`TextFix`] wraps a bitmap backend and draws
//! text itself: the pen moves by each glyph's advance plus kerning, and each outline is drawn
//! at the pen plus its own pixel bounds. Everything else is the wrapped backend's.

use ab_glyph::{Font, FontRef, PxScale, ScaleFont};
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind,
};

/// A backend that draws text with [`layout`]; all other drawing goes to `B`.
pub(super) struct TextFix<B> {
    inner: B,
    font: FontRef<'static>,
}

impl<B> TextFix<B> {
    /// Wraps `inner`; text is drawn with `font` (an OpenType font's bytes).
    pub(super) fn new(inner: B, font: &'static [u8]) -> Result<Self, ab_glyph::InvalidFont> {
        Ok(TextFix {
            inner,
            font: FontRef::try_from_slice(font)?,
        })
    }
}

/// One glyph's coverage, placed: (x, y, coverage 0..1) relative to the text's top-left.
type Pixel = (i32, i32, f32);

/// Lays out `text` at `size` px: returns the covered pixels relative to the top-left of the
/// line box and the box's (width, height). The line box is `size` tall with the baseline at
/// the font's ascent, so texts of one size line up whatever letters they contain.
pub(super) fn layout(font: &FontRef<'_>, size: f32, text: &str) -> (Vec<Pixel>, (i32, i32)) {
    // A PxScale of `size` fits ascent..descent into `size` px, as plotters' layout box assumes.
    let scale = PxScale::from(size);
    let scaled = font.as_scaled(scale);
    let baseline = scaled.ascent();
    let mut pen = 0f32;
    let mut prev = None;
    let mut pixels = Vec::new();
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = prev {
            pen += scaled.kern(p, id);
        }
        let glyph = id.with_scale_and_position(scale, ab_glyph::point(pen, baseline));
        if let Some(outline) = scaled.outline_glyph(glyph) {
            let b = outline.px_bounds();
            outline.draw(|x, y, cov| {
                if cov > 0.0 {
                    pixels.push((b.min.x as i32 + x as i32, b.min.y as i32 + y as i32, cov));
                }
            });
        }
        pen += scaled.h_advance(id);
        prev = Some(id);
    }
    (pixels, (pen.ceil() as i32, size.ceil() as i32))
}

impl<B: DrawingBackend> DrawingBackend for TextFix<B> {
    type ErrorType = B::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.present()
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.fill_polygon(vert, style)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        (iw, ih): (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.blit_bitmap(pos, (iw, ih), src)
    }

    fn estimate_text_size<S: BackendTextStyle>(
        &self,
        text: &str,
        style: &S,
    ) -> Result<(u32, u32), DrawingErrorKind<Self::ErrorType>> {
        let (_, (w, h)) = layout(&self.font, style.size() as f32, text);
        Ok((w.max(0) as u32, h.max(0) as u32))
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let (pixels, (width, height)) = layout(&self.font, style.size() as f32, text);
        let dx = match style.anchor().h_pos {
            HPos::Left => 0,
            HPos::Right => -width,
            HPos::Center => -width / 2,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0,
            VPos::Center => -height / 2,
            VPos::Bottom => -height,
        };
        let trans = style.transform();
        let (w, h) = self.get_size();
        for (x, y, cov) in pixels {
            let (x, y) = trans.transform(x + dx, y + dy);
            let (x, y) = (pos.0 + x, pos.1 + y);
            if x >= 0 && x < w as i32 && y >= 0 && y < h as i32 {
                let c = BackendColor {
                    alpha: color.alpha * f64::from(cov.min(1.0)),
                    rgb: color.rgb,
                };
                self.inner.draw_pixel((x, y), c)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn font() -> FontRef<'static> {
        FontRef::try_from_slice(dejavu::sans::regular()).unwrap()
    }

    #[test]
    fn each_letter_starts_at_the_pen_plus_its_own_side_bearing() {
        let f = font();
        let scaled = f.as_scaled(PxScale::from(15.0));
        for pair in ["me", "ti", "(s", "e)", "il"] {
            let mut chars = pair.chars();
            let (a, b) = (chars.next().unwrap(), chars.next().unwrap());
            let (ga, gb) = (scaled.glyph_id(a), scaled.glyph_id(b));
            let pen = scaled.h_advance(ga) + scaled.kern(ga, gb);
            let expected = pen + scaled.h_side_bearing(gb);
            // The second glyph's ink: columns past the first glyph's own ink.
            let (first, _) = layout(&f, 15.0, &a.to_string());
            let (both, (w, h)) = layout(&f, 15.0, pair);
            let (second, _) = layout(&f, 15.0, &format!(" {b}"));
            let space = scaled.h_advance(scaled.glyph_id(' '));
            let left_alone = second.iter().map(|p| p.0).min().unwrap() as f32 - space;
            assert!(
                (left_alone - scaled.h_side_bearing(gb)).abs() <= 1.0,
                "{b}: ink at {left_alone}, bearing {}",
                scaled.h_side_bearing(gb)
            );
            let ink_b = both.len() - first.len();
            assert!(ink_b > 0, "{pair}");
            let right_of_a = first.iter().map(|p| p.0).max().unwrap();
            let left_of_b = both.iter().skip(first.len()).map(|p| p.0).min().unwrap() as f32;
            assert!(
                (left_of_b - expected).abs() <= 1.0,
                "{pair}: second glyph at {left_of_b}, expected {expected} (first ends at {right_of_a})"
            );
            assert_eq!(h, 15);
            assert!(both.iter().all(|p| p.0 <= w + 1 && p.1 <= h + 1), "{pair}");
        }
    }

    #[test]
    fn a_space_is_an_advance_and_text_widths_add_up() {
        let f = font();
        let (_, (ab, _)) = layout(&f, 20.0, "time");
        let (_, (a, _)) = layout(&f, 20.0, "ti");
        let (_, (b, _)) = layout(&f, 20.0, "me");
        assert!((ab - (a + b)).abs() <= 2, "{ab} vs {a}+{b}");
        let (_, (spaced, _)) = layout(&f, 20.0, "a b");
        let (_, (tight, _)) = layout(&f, 20.0, "ab");
        assert!(spaced - tight >= 5, "a space is {} px", spaced - tight);
    }
}
