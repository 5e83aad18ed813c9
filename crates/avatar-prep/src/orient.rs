//! EXIF orientation: read it, map rectangles between stored and upright pixels, and
//! apply it to the (small) output square instead of the full-resolution source.

use crate::geometry::Rect;

/// How the stored pixels must be turned to look upright: the EXIF `Orientation` tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Orientation {
    /// 1: stored upright.
    #[default]
    Normal,
    /// 2: mirrored left–right.
    FlipHorizontal,
    /// 3: upside down.
    Rotate180,
    /// 4: mirrored top–bottom.
    FlipVertical,
    /// 5: mirrored along the main diagonal (transpose).
    Transpose,
    /// 6: must be turned 90° clockwise to look upright.
    Rotate90,
    /// 7: mirrored along the other diagonal (transverse).
    Transverse,
    /// 8: must be turned 90° counter-clockwise (270° clockwise) to look upright.
    Rotate270,
}

impl Orientation {
    /// The eight orientations, in EXIF order 1–8.
    pub const ALL: [Orientation; 8] = [
        Orientation::Normal,
        Orientation::FlipHorizontal,
        Orientation::Rotate180,
        Orientation::FlipVertical,
        Orientation::Transpose,
        Orientation::Rotate90,
        Orientation::Transverse,
        Orientation::Rotate270,
    ];

    /// From the EXIF value 1–8; any other value (0 is common) means [`Orientation::Normal`].
    pub fn from_exif_value(v: u16) -> Orientation {
        match v {
            2 => Orientation::FlipHorizontal,
            3 => Orientation::Rotate180,
            4 => Orientation::FlipVertical,
            5 => Orientation::Transpose,
            6 => Orientation::Rotate90,
            7 => Orientation::Transverse,
            8 => Orientation::Rotate270,
            _ => Orientation::Normal,
        }
    }

    /// The EXIF value, 1–8.
    pub fn exif_value(self) -> u16 {
        match self {
            Orientation::Normal => 1,
            Orientation::FlipHorizontal => 2,
            Orientation::Rotate180 => 3,
            Orientation::FlipVertical => 4,
            Orientation::Transpose => 5,
            Orientation::Rotate90 => 6,
            Orientation::Transverse => 7,
            Orientation::Rotate270 => 8,
        }
    }

    /// Reads the orientation from a raw EXIF (TIFF) block: the body of a JPEG APP1 `Exif`
    /// segment or of a PNG `eXIf` chunk. Missing, damaged or out-of-range → `Normal`.
    pub fn from_exif_block(exif: &[u8]) -> Orientation {
        // image's parser bounds-checks every offset; it gives None for damaged blocks
        // and for values outside 1..=8.
        let tiff = exif.strip_prefix(b"Exif\0\0").unwrap_or(exif);
        image::metadata::Orientation::from_exif_chunk(tiff).map_or(Orientation::Normal, |o| {
            Orientation::from_exif_value(u16::from(o.to_exif()))
        })
    }

    /// True for the four orientations that swap width and height.
    pub fn swaps_axes(self) -> bool {
        matches!(
            self,
            Orientation::Transpose
                | Orientation::Rotate90
                | Orientation::Transverse
                | Orientation::Rotate270
        )
    }

    /// Size of the upright image for stored pixels of `width` × `height`.
    pub fn upright_size(self, width: u32, height: u32) -> (u32, u32) {
        if self.swaps_axes() {
            (height, width)
        } else {
            (width, height)
        }
    }

    /// Maps a rectangle of the upright image to the stored pixels it comes from, for stored
    /// pixels of `width` × `height`. The rectangle must lie inside the upright image.
    pub(crate) fn upright_rect_to_stored(self, r: Rect, width: u32, height: u32) -> Rect {
        let (u0, v0, uw, vh) = (r.x, r.y, r.w, r.h);
        let (w, h) = (width, height);
        // Half-open ranges: the upright [u0, u0+uw) x [v0, v0+vh).
        let flip_x = |a: u32, len: u32| w - a - len; // stored x range mirrored
        let flip_y = |a: u32, len: u32| h - a - len; // stored y range mirrored
        match self {
            Orientation::Normal => r,
            Orientation::FlipHorizontal => Rect::new(flip_x(u0, uw), v0, uw, vh),
            Orientation::Rotate180 => Rect::new(flip_x(u0, uw), flip_y(v0, vh), uw, vh),
            Orientation::FlipVertical => Rect::new(u0, flip_y(v0, vh), uw, vh),
            Orientation::Transpose => Rect::new(v0, u0, vh, uw),
            Orientation::Rotate90 => Rect::new(v0, flip_y(u0, uw), vh, uw),
            Orientation::Transverse => Rect::new(flip_x(v0, vh), flip_y(u0, uw), vh, uw),
            Orientation::Rotate270 => Rect::new(flip_x(v0, vh), u0, vh, uw),
        }
    }

    /// Turns stored pixels (`width` × `height`, `bpp` bytes each, tightly packed) upright.
    /// Returns the upright pixels; their size is [`Orientation::upright_size`].
    pub(crate) fn apply(self, pixels: &[u8], width: u32, height: u32, bpp: usize) -> Vec<u8> {
        let mut out = Vec::new();
        self.apply_into(pixels, width, height, bpp, &mut out);
        out
    }

    /// [`Orientation::apply`] into `out` (cleared first), so that a worker can reuse one
    /// buffer from image to image.
    pub(crate) fn apply_into(
        self,
        pixels: &[u8],
        width: u32,
        height: u32,
        bpp: usize,
        out: &mut Vec<u8>,
    ) {
        let (w, h) = (width as usize, height as usize);
        out.clear();
        if self == Orientation::Normal {
            out.extend_from_slice(pixels);
            return;
        }
        let (uw, _) = self.upright_size(width, height);
        let uw = uw as usize;
        out.resize(pixels.len(), 0);
        if w == 0 || h == 0 {
            return;
        }
        // `Layout::bpp` is 1–4.
        match bpp {
            1 => self.turn::<1>(pixels, w, h, uw, out),
            2 => self.turn::<2>(pixels, w, h, uw, out),
            3 => self.turn::<3>(pixels, w, h, uw, out),
            _ => self.turn::<4>(pixels, w, h, uw, out),
        }
    }

    /// Where the stored pixel (`x`, `y`) of a `w` × `h` image lands upright.
    fn upright_xy(self, x: isize, y: isize, w: isize, h: isize) -> (isize, isize) {
        match self {
            Orientation::Normal => (x, y),
            Orientation::FlipHorizontal => (w - 1 - x, y),
            Orientation::Rotate180 => (w - 1 - x, h - 1 - y),
            Orientation::FlipVertical => (x, h - 1 - y),
            Orientation::Transpose => (y, x),
            Orientation::Rotate90 => (h - 1 - y, x),
            Orientation::Transverse => (h - 1 - y, w - 1 - x),
            Orientation::Rotate270 => (y, w - 1 - x),
        }
    }

    /// The loop of [`Orientation::apply_into`] for `B` bytes per pixel (1–4; the caller
    /// checked `pixels.len()` against the size). Stored pixels are read in order; along a
    /// stored row the upright position moves by a constant step, so each row is one walk.
    fn turn<const B: usize>(self, pixels: &[u8], w: usize, h: usize, uw: usize, out: &mut [u8]) {
        let (wi, hi, uwi) = (w as isize, h as isize, uw as isize);
        let offset = |(u, v): (isize, isize)| (v * uwi + u) * B as isize;
        for (y, row) in pixels.chunks_exact(w * B).take(h).enumerate() {
            let y = y as isize;
            let first = offset(self.upright_xy(0, y, wi, hi));
            let step = offset(self.upright_xy(1, y, wi, hi)) - first;
            for (x, px) in row.chunks_exact(B).enumerate() {
                let at = (first + step * x as isize) as usize;
                out[at..at + B].copy_from_slice(px);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ALL: [Orientation; 8] = Orientation::ALL;

    fn crop(pixels: &[u8], width: u32, r: Rect) -> Vec<u8> {
        let mut out = Vec::new();
        for y in r.y..r.y + r.h {
            let start = (y * width + r.x) as usize;
            out.extend_from_slice(&pixels[start..start + r.w as usize]);
        }
        out
    }

    #[test]
    fn exif_values_round_trip() {
        for o in ALL {
            assert_eq!(Orientation::from_exif_value(o.exif_value()), o);
        }
        assert_eq!(Orientation::from_exif_value(0), Orientation::Normal);
        assert_eq!(Orientation::from_exif_value(9), Orientation::Normal);
    }

    #[test]
    fn rotate90_turns_clockwise() {
        // Stored 2x1: [a b]. Turned clockwise it is a column: a on top.
        let out = Orientation::Rotate90.apply(&[1, 2], 2, 1, 1);
        assert_eq!(out, vec![1, 2]);
        // Stored 2x2 [[a b] [c d]] -> clockwise [[c a] [d b]].
        let out = Orientation::Rotate90.apply(&[1, 2, 3, 4], 2, 2, 1);
        assert_eq!(out, vec![3, 1, 4, 2]);
        let out = Orientation::Rotate270.apply(&[1, 2, 3, 4], 2, 2, 1);
        assert_eq!(out, vec![2, 4, 1, 3]);
    }

    #[test]
    fn exif_block_is_parsed() {
        // Little-endian TIFF with one IFD entry: Orientation (0x0112), SHORT, 1, value 6.
        let mut tiff = b"II*\0\x08\0\0\0\x01\0\x12\x01\x03\0\x01\0\0\0\x06\0\0\0\0\0\0\0".to_vec();
        assert_eq!(Orientation::from_exif_block(&tiff), Orientation::Rotate90);
        let mut with_header = b"Exif\0\0".to_vec();
        with_header.extend_from_slice(&tiff);
        assert_eq!(
            Orientation::from_exif_block(&with_header),
            Orientation::Rotate90
        );
        tiff.truncate(12);
        assert_eq!(Orientation::from_exif_block(&tiff), Orientation::Normal);
        assert_eq!(
            Orientation::from_exif_block(b"LoremIpsum"),
            Orientation::Normal
        );
    }

    proptest! {
        /// Cropping the upright image equals orienting the crop of the stored image taken
        /// from the mapped rectangle: the identity the pipeline relies on.
        #[test]
        fn rect_mapping_agrees_with_pixels(
            w in 1u32..12, h in 1u32..12, oi in 0usize..8,
            a in 0u32..12, b in 0u32..12, c in 1u32..12, d in 1u32..12,
        ) {
            let o = ALL[oi];
            let stored: Vec<u8> = (0..w * h).map(|i| i as u8).collect();
            let (uw, uh) = o.upright_size(w, h);
            let upright = o.apply(&stored, w, h, 1);
            let r = Rect::new(a % uw, b % uh, 1 + (c - 1) % (uw - a % uw), 1 + (d - 1) % (uh - b % uh));
            prop_assert!(r.fits_in(uw, uh));
            let expected = crop(&upright, uw, r);
            let s = o.upright_rect_to_stored(r, w, h);
            prop_assert!(s.fits_in(w, h));
            let from_stored = o.apply(&crop(&stored, w, s), s.w, s.h, 1);
            prop_assert_eq!(expected, from_stored);
        }
    }
}
