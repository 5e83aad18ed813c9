//! Shrink-on-load for decoders that deliver rows (PNG): each `k` × `k` block is averaged as
//! its rows arrive, so a large image never sits in memory at full size. This is libvips's
//! "shrink before reduce": the box average takes the image to within 1.5–3× of the output,
//! and the Lanczos3 pass does the rest, as for a JPEG decoded at a reduced DCT scale.
//!
//! Colour is averaged weighted by alpha (premultiplied), so transparent pixels lend no colour
//! to their neighbours. Blocks on the right and bottom edges may be partial: they average the
//! pixels they have, and the output is `ceil(w / k)` × `ceil(h / k)`, like a scaled JPEG.

use crate::pixels::Layout;

/// Accumulates rows of `layout` pixels and emits one output row per `k` input rows.
pub(crate) struct BoxShrink {
    k: usize,
    bpp: usize,
    alpha: bool,
    in_width: usize,
    out_width: usize,
    /// Per output pixel and channel: the sum over the block so far (colour × alpha for
    /// layouts with alpha). At most 8 × 8 × 255 × 255, well inside `u32`.
    sums: Vec<u32>,
    rows_in_band: usize,
    out: Vec<u8>,
}

impl BoxShrink {
    /// A shrinker by `k` (≥ 1) for an image `width` pixels wide and `height` rows high.
    pub(crate) fn new(width: u32, height: u32, k: u32, layout: Layout) -> BoxShrink {
        let k = k.max(1) as usize;
        let bpp = layout.bpp();
        let out_width = (width as usize).div_ceil(k);
        let out_height = (height as usize).div_ceil(k);
        BoxShrink {
            k,
            bpp,
            alpha: layout.has_alpha(),
            in_width: width as usize,
            out_width,
            sums: vec![0; out_width * bpp],
            rows_in_band: 0,
            out: Vec::with_capacity(out_width * out_height * bpp),
        }
    }

    /// Adds one row of `in_width` pixels (extra bytes are ignored).
    pub(crate) fn push_row(&mut self, row: &[u8]) {
        let row = &row[..(self.in_width * self.bpp).min(row.len())];
        match (self.bpp, self.alpha) {
            (1, _) => self.add::<1, false>(row),
            (2, _) => self.add::<2, true>(row),
            (3, _) => self.add::<3, false>(row),
            _ => self.add::<4, true>(row),
        }
        self.rows_in_band += 1;
        if self.rows_in_band == self.k {
            self.emit();
        }
    }

    fn add<const BPP: usize, const ALPHA: bool>(&mut self, row: &[u8]) {
        let block = self.k * BPP;
        for (sums, pixels) in self.sums.chunks_exact_mut(BPP).zip(row.chunks(block)) {
            for px in pixels.chunks_exact(BPP) {
                if ALPHA {
                    let a = u32::from(px[BPP - 1]);
                    for c in 0..BPP - 1 {
                        sums[c] += u32::from(px[c]) * a;
                    }
                    sums[BPP - 1] += a;
                } else {
                    for c in 0..BPP {
                        sums[c] += u32::from(px[c]);
                    }
                }
            }
        }
    }

    /// Writes the averages of the current band (possibly fewer than `k` rows) and clears it.
    fn emit(&mut self) {
        let rows = self.rows_in_band as u32;
        if rows == 0 {
            return;
        }
        let (k, bpp) = (self.k, self.bpp);
        for (j, sums) in self.sums.chunks_exact_mut(bpp).enumerate() {
            let cols = (self.in_width - j * k).min(k) as u32;
            let n = cols * rows;
            if self.alpha {
                let a_sum = sums[bpp - 1];
                for &s in &sums[..bpp - 1] {
                    let v = (s + a_sum / 2).checked_div(a_sum).unwrap_or(0);
                    self.out.push(v.min(255) as u8);
                }
                self.out.push(((a_sum + n / 2) / n).min(255) as u8);
            } else {
                for &s in sums.iter() {
                    self.out.push(((s + n / 2) / n).min(255) as u8);
                }
            }
            sums.fill(0);
        }
        self.rows_in_band = 0;
    }

    /// The shrunk image: width, height and pixels in the input's layout.
    pub(crate) fn finish(mut self) -> (u32, u32, Vec<u8>) {
        self.emit();
        let height = self.out.len() / (self.out_width * self.bpp).max(1);
        (self.out_width as u32, height as u32, self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn averages_blocks_including_partial_edges() {
        // 5 x 3 grey, k = 2: blocks of 2x2, 1x2 (right), 2x1 (bottom), 1x1 (corner).
        let rows: [[u8; 5]; 3] = [[0, 10, 20, 30, 100], [10, 20, 30, 40, 200], [1, 3, 5, 7, 9]];
        let mut s = BoxShrink::new(5, 3, 2, Layout::L8);
        for r in &rows {
            s.push_row(r);
        }
        let (w, h, px) = s.finish();
        assert_eq!((w, h), (3, 2));
        assert_eq!(px, vec![10, 30, 150, 2, 6, 9]);
    }

    #[test]
    fn transparent_pixels_lend_no_colour() {
        // Opaque red beside fully transparent green: the average is half-transparent red.
        let row = [255, 0, 0, 255, 0, 255, 0, 0];
        let mut s = BoxShrink::new(2, 2, 2, Layout::Rgba8);
        s.push_row(&row);
        s.push_row(&row);
        let (w, h, px) = s.finish();
        assert_eq!((w, h), (1, 1));
        assert_eq!(px, vec![255, 0, 0, 128]);
    }

    #[test]
    fn shrink_by_one_is_the_identity() {
        let rows = [[1u8, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12]];
        let mut s = BoxShrink::new(2, 2, 1, Layout::Rgb8);
        for r in &rows {
            s.push_row(r);
        }
        assert_eq!(s.finish(), (2, 2, rows.concat()));
    }
}
