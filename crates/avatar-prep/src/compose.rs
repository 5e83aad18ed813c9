//! Compositing: frames onto a canvas as a browser shows them (disposal, transparency,
//! clipping), shared by still first frames and animations of every format; and the finished
//! content onto the background of the output square.

use crate::geometry::Rect;
use crate::options::Rgba;

/// What happens to a frame's area before the next frame is drawn (GIF's disposal methods;
/// WebP's "dispose to background" is `Background`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dispose {
    /// Leave the frame in place.
    Keep,
    /// Clear the frame's rectangle to transparent (browsers ignore the background colour).
    Background,
    /// Restore the canvas as it was before the frame.
    Previous,
}

/// Composites frames in order, as a browser shows them.
pub(crate) struct Compositor {
    width: u32,
    height: u32,
    canvas: Vec<u8>,
    /// Saved canvas for "restore to previous".
    saved: Option<Vec<u8>>,
    /// Disposal of the last drawn frame, applied before the next one.
    pending: Option<(Dispose, Rect)>,
}

impl Compositor {
    pub(crate) fn new(width: u32, height: u32) -> Compositor {
        Compositor {
            width,
            height,
            canvas: vec![0; width as usize * height as usize * 4],
            saved: None,
            pending: None,
        }
    }

    /// Draws one decoded frame (`frame` RGBA, `rect` size) after disposing of the previous
    /// one. With `blend`, the frame goes *over* the canvas (GIF's transparency, WebP's alpha
    /// blending); without, it replaces the canvas in its rectangle, alpha included (WebP's
    /// "do not blend").
    pub(crate) fn draw(&mut self, rect: Rect, dispose: Dispose, blend: bool, frame: &[u8]) {
        let (w, h) = (self.width, self.height);
        match self.pending.take() {
            Some((Dispose::Background, r)) => {
                // Browsers clear to transparent, not to the background colour.
                let x_end = (r.x + r.w).min(w);
                let y_end = (r.y + r.h).min(h);
                for y in r.y.min(h)..y_end {
                    let start = (y * w + r.x.min(w)) as usize * 4;
                    let end = (y * w + x_end) as usize * 4;
                    self.canvas[start..end].fill(0);
                }
            }
            Some((Dispose::Previous, _)) => {
                if let Some(saved) = self.saved.take() {
                    self.canvas = saved;
                }
            }
            _ => {}
        }
        if dispose == Dispose::Previous {
            self.saved = Some(self.canvas.clone());
        }
        // Clip to the screen: never grow the canvas.
        let x_end = (rect.x + rect.w).min(w);
        let y_end = (rect.y + rect.h).min(h);
        if rect.x < x_end {
            for y in rect.y..y_end {
                let src = ((y - rect.y) * rect.w) as usize * 4;
                let dst = (y * w + rect.x) as usize * 4;
                let n = (x_end - rect.x) as usize * 4;
                let (to, from) = (&mut self.canvas[dst..dst + n], &frame[src..src + n]);
                if !blend {
                    to.copy_from_slice(from);
                    continue;
                }
                for (d, s) in to.chunks_exact_mut(4).zip(from.chunks_exact(4)) {
                    match s[3] {
                        0 => {}
                        255 => d.copy_from_slice(s),
                        _ => d.copy_from_slice(&over(
                            [s[0], s[1], s[2], s[3]],
                            [d[0], d[1], d[2], d[3]],
                        )),
                    }
                }
            }
        }
        self.pending = Some((dispose, rect));
    }

    /// The canvas as it is now (RGBA).
    pub(crate) fn pixels(&self) -> &[u8] {
        &self.canvas
    }

    /// The canvas as it is now (RGBA), by value.
    pub(crate) fn into_pixels(self) -> Vec<u8> {
        self.canvas
    }
}

/// `a * b / 255`, rounded.
fn mul255(a: u32, b: u32) -> u32 {
    let t = a * b + 128;
    (t + (t >> 8)) >> 8
}

/// Porter–Duff "source over" of one straight-alpha pixel onto another.
pub(crate) fn over(src: [u8; 4], dst: [u8; 4]) -> [u8; 4] {
    let sa = u32::from(src[3]);
    if sa == 255 {
        return src;
    }
    if sa == 0 {
        return dst;
    }
    let da = mul255(u32::from(dst[3]), 255 - sa);
    let oa = sa + da;
    let mut out = [0u8; 4];
    for c in 0..3 {
        let v = (u32::from(src[c]) * sa + u32::from(dst[c]) * da + oa / 2) / oa;
        out[c] = v.min(255) as u8;
    }
    out[3] = oa.min(255) as u8;
    out
}

/// A `side` × `side` RGBA square filled with `background`, with `content`
/// (`dst.w` × `dst.h` RGBA) painted over it at `dst`.
pub(crate) fn compose(side: u32, background: Rgba, content: &[u8], dst: Rect) -> Vec<u8> {
    let bg = background.to_array();
    let s = side as usize;
    let mut canvas = bg.repeat(s * s);
    let row = dst.w as usize * 4;
    for (y, src_row) in content.chunks_exact(row).enumerate() {
        let start = ((dst.y as usize + y) * s + dst.x as usize) * 4;
        let dst_row = &mut canvas[start..start + row];
        // Over a transparent background, or where the row is opaque, the content is the
        // result.
        if bg[3] == 0 || src_row.chunks_exact(4).all(|p| p[3] == 255) {
            dst_row.copy_from_slice(src_row);
        } else {
            for (d, p) in dst_row.chunks_exact_mut(4).zip(src_row.chunks_exact(4)) {
                d.copy_from_slice(&over([p[0], p[1], p[2], p[3]], bg));
            }
        }
    }
    canvas
}

/// The opaque path's [`compose`]: a `side` × `side` RGB square, written into `out` (cleared
/// first), filled with `background`, with `content` (`dst.w` × `dst.h` RGB) copied in at
/// `dst`.
pub(crate) fn compose_rgb(
    side: u32,
    background: [u8; 3],
    content: &[u8],
    dst: Rect,
    out: &mut Vec<u8>,
) {
    let s = side as usize;
    out.clear();
    out.reserve(s * s * 3);
    for _ in 0..s {
        out.extend_from_slice(&background);
    }
    for _ in 1..s {
        out.extend_from_within(..s * 3);
    }
    let row = dst.w as usize * 3;
    if row == 0 {
        return;
    }
    for (y, src_row) in content.chunks_exact(row).take(dst.h as usize).enumerate() {
        let start = ((dst.y as usize + y) * s + dst.x as usize) * 3;
        out[start..start + row].copy_from_slice(src_row);
    }
}

/// Paints every pixel of `rgba` over opaque `matte` (for output without alpha).
pub(crate) fn flatten(rgba: &mut [u8], matte: Rgba) {
    let m = Rgba { a: 255, ..matte }.to_array();
    for p in rgba.chunks_exact_mut(4) {
        if p[3] != 255 {
            let o = over([p[0], p[1], p[2], p[3]], m);
            p.copy_from_slice(&o);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_is_porter_duff() {
        assert_eq!(over([10, 20, 30, 255], [0, 0, 0, 255]), [10, 20, 30, 255]);
        assert_eq!(over([10, 20, 30, 0], [1, 2, 3, 255]), [1, 2, 3, 255]);
        // Half-transparent red over opaque white: pink, opaque.
        let o = over([255, 0, 0, 128], [255, 255, 255, 255]);
        assert_eq!(o[3], 255);
        assert_eq!(o[0], 255);
        assert!((126..=128).contains(&o[1]), "{o:?}");
    }

    #[test]
    fn compose_places_content_on_background() {
        let content = [1, 2, 3, 255].repeat(2);
        let c = compose(4, Rgba::new(9, 9, 9, 255), &content, Rect::new(1, 2, 2, 1));
        let px = |x: usize, y: usize| &c[(y * 4 + x) * 4..(y * 4 + x) * 4 + 4];
        assert_eq!(px(0, 0), [9, 9, 9, 255]);
        assert_eq!(px(1, 2), [1, 2, 3, 255]);
        assert_eq!(px(2, 2), [1, 2, 3, 255]);
        assert_eq!(px(3, 2), [9, 9, 9, 255]);
    }

    #[test]
    fn compose_rgb_places_content_on_background() {
        let content = [1, 2, 3].repeat(2);
        let mut c = vec![7; 5];
        compose_rgb(4, [9, 8, 7], &content, Rect::new(1, 2, 2, 1), &mut c);
        assert_eq!(c.len(), 4 * 4 * 3);
        let px = |x: usize, y: usize| &c[(y * 4 + x) * 3..(y * 4 + x) * 3 + 3];
        assert_eq!(px(0, 0), [9, 8, 7]);
        assert_eq!(px(3, 3), [9, 8, 7]);
        assert_eq!(px(1, 2), [1, 2, 3]);
        assert_eq!(px(2, 2), [1, 2, 3]);
        assert_eq!(px(3, 2), [9, 8, 7]);
    }
}
