//! The output palette of a re-encoded animation: ≤ 255 colours plus a transparent index, with a
//! 15-bit lookup table from colour to nearest entry; median cut when the source's palette
//! cannot be reused.

use rayon::prelude::*;

use crate::decode::PaletteHint;

/// The output palette (≤ 255 colours) plus one transparent index, and a 15-bit lookup table
/// from colour to nearest palette entry.
pub(crate) struct Palette {
    pub(crate) rgb: Vec<u8>,
    pub(crate) transparent: u8,
    /// The nearest entry of each 15-bit colour, already as a screen value (opaque RGBA,
    /// little-endian): mapping a pixel is one lookup.
    lut: Vec<u32>,
}

impl Palette {
    pub(crate) fn new(mut colors: Vec<[u8; 3]>) -> Palette {
        colors.truncate(255);
        if colors.is_empty() {
            colors.push([0, 0, 0]);
        }
        let transparent = colors.len() as u8;
        // The nearest colour as the minimum of `distance << 8 | index` (distance ≤ 3 × 255²
        // < 2^18): a plain minimum over the channels held apart, which the compiler turns
        // into vector code (a compare-and-remember loop does not vectorise).
        let channel = |j: usize| colors.iter().map(|p| i32::from(p[j])).collect::<Vec<i32>>();
        let (pr, pg, pb) = (channel(0), channel(1), channel(2));
        let index: Vec<u32> = (0..colors.len() as u32).collect();
        let lut: Vec<u32> = (0..32 * 32 * 32u32)
            .into_par_iter()
            .map(|i| {
                let [r, g, b] = [(i >> 10) & 31, (i >> 5) & 31, i & 31].map(|v| (v * 8 + 4) as i32);
                let key = pr
                    .iter()
                    .zip(&pg)
                    .zip(&pb)
                    .zip(&index)
                    .map(|(((&pr, &pg), &pb), &k)| {
                        let d = (r - pr) * (r - pr) + (g - pg) * (g - pg) + (b - pb) * (b - pb);
                        (d as u32) << 8 | k
                    })
                    .min()
                    .unwrap_or(0);
                let [r, g, b] = colors[(key & 0xFF) as usize];
                u32::from_le_bytes([r, g, b, 255])
            })
            .collect();
        let mut rgb: Vec<u8> = colors.iter().flatten().copied().collect();
        rgb.extend_from_slice(&[0, 0, 0]); // the transparent entry
        Palette {
            rgb,
            transparent,
            lut,
        }
    }

    /// The colours, without the transparent entry.
    pub(crate) fn colors(&self) -> Vec<[u8; 3]> {
        self.rgb[..usize::from(self.transparent) * 3]
            .chunks_exact(3)
            .map(|c| [c[0], c[1], c[2]])
            .collect()
    }

    /// The nearest palette colour of an RGBA pixel as a screen value (`0`: transparent).
    pub(crate) fn packed(&self, px: &[u8]) -> u32 {
        if px[3] < 128 {
            return 0;
        }
        self.lut[key15(px[0], px[1], px[2])]
    }

    /// A rendered frame (RGBA) as a screen of palette colours, and its mean squared RGB
    /// error per opaque pixel.
    pub(crate) fn map_frame(&self, px: &[u8]) -> (Vec<u32>, u64) {
        let (mut err, mut opaque) = (0u64, 0u64);
        let screen = px
            .chunks_exact(4)
            .map(|p| {
                let c = self.packed(p);
                if c != 0 {
                    let q = c.to_le_bytes();
                    opaque += 1;
                    err += (0..3)
                        .map(|j| (u64::from(p[j].abs_diff(q[j]))).pow(2))
                        .sum::<u64>();
                }
                c
            })
            .collect();
        (screen, err / opaque.max(1))
    }
}

/// The global palette of a lossless re-encode: the source's own colours, the most used
/// first (at most 255 are used; frames with others get local palettes).
pub(crate) fn exact(hint: &PaletteHint) -> Vec<[u8; 3]> {
    match hint {
        PaletteHint::Only(p) => p.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect(),
        PaletteHint::Weighted(samples) => {
            let mut v = samples.clone();
            v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            v.into_iter().map(|s| s.0).collect()
        }
        PaletteHint::FromPixels => Vec::new(),
    }
}

/// A histogram bin: weight, weighted channel sums, 5-bit coordinates.
type Bin = (u64, [u64; 3], [u8; 3]);

/// The 15-bit key of a colour (5 bits per channel).
fn key15(r: u8, g: u8, b: u8) -> usize {
    (usize::from(r >> 3) << 10) | (usize::from(g >> 3) << 5) | usize::from(b >> 3)
}

/// The opaque colours of RGBA `frames`, binned to 15 bits: each bin's mean colour, weighted
/// by its pixel count (the input of [`median_cut`] for truecolour sources).
pub(crate) fn histogram<'a>(frames: impl Iterator<Item = &'a [u8]>) -> Vec<([u8; 3], u64)> {
    let mut bins = vec![(0u64, [0u64; 3]); 32 * 32 * 32];
    for px in frames.flat_map(|f| f.chunks_exact(4)) {
        if px[3] >= 128 {
            let e = &mut bins[key15(px[0], px[1], px[2])];
            e.0 += 1;
            for (sum, &v) in e.1.iter_mut().zip(px) {
                *sum += u64::from(v);
            }
        }
    }
    bins.into_iter()
        .filter(|e| e.0 > 0)
        .map(|(n, sums)| (sums.map(|s| (s / n) as u8), n))
        .collect()
}

/// Median cut over a 15-bit histogram of weighted colours: up to 255 colours.
pub(crate) fn median_cut(samples: &[([u8; 3], u64)]) -> Vec<[u8; 3]> {
    let mut hist = vec![(0u64, [0u64; 3]); 32 * 32 * 32];
    for &(px, weight) in samples {
        let key = key15(px[0], px[1], px[2]);
        let e = &mut hist[key];
        e.0 += weight;
        for (sum, &v) in e.1.iter_mut().zip(px.iter()) {
            *sum += u64::from(v) * weight;
        }
    }
    // Boxes of non-empty bins; split the box with the most pixels along its widest axis.
    let bins: Vec<Bin> = hist
        .iter()
        .enumerate()
        .filter(|(_, e)| e.0 > 0)
        .map(|(k, e)| {
            (
                e.0,
                e.1,
                [(k >> 10) as u8, ((k >> 5) & 31) as u8, (k & 31) as u8],
            )
        })
        .collect();
    let mut boxes: Vec<Vec<Bin>> = vec![bins];
    while boxes.len() < 255 {
        let Some((i, _)) = boxes
            .iter()
            .enumerate()
            .filter(|(_, b)| b.len() > 1)
            .max_by_key(|(_, b)| b.iter().map(|e| e.0).sum::<u64>())
        else {
            break;
        };
        let mut b = boxes.swap_remove(i);
        let range = |c: usize| {
            let (lo, hi) = b.iter().fold((u8::MAX, 0u8), |(lo, hi), e| {
                (lo.min(e.2[c]), hi.max(e.2[c]))
            });
            hi - lo
        };
        let axis = (0..3).max_by_key(|&c| range(c)).unwrap_or(0);
        b.sort_by_key(|e| e.2[axis]);
        let total: u64 = b.iter().map(|e| e.0).sum();
        let mut acc = 0;
        let mut cut = 1;
        for (j, e) in b.iter().enumerate() {
            acc += e.0;
            if acc * 2 >= total {
                cut = (j + 1).clamp(1, b.len() - 1);
                break;
            }
        }
        let rest = b.split_off(cut);
        boxes.push(b);
        boxes.push(rest);
    }
    boxes
        .iter()
        .filter(|b| !b.is_empty())
        .map(|b| {
            let n: u64 = b.iter().map(|e| e.0).sum::<u64>().max(1);
            let mut c = [0u8; 3];
            for (j, v) in c.iter_mut().enumerate() {
                *v = (b.iter().map(|e| e.1[j]).sum::<u64>() / n) as u8;
            }
            c
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_bins_opaque_colours() {
        let frame = [
            [250u8, 0, 0, 255],
            [252, 2, 4, 255],
            [0, 0, 255, 0],
            [9, 9, 9, 200],
        ]
        .concat();
        let mut h = histogram([&frame[..]].into_iter());
        h.sort();
        assert_eq!(h, vec![([9, 9, 9], 1), ([251, 1, 2], 2)]);
    }

    #[test]
    fn frames_map_to_the_nearest_colour_and_transparent_pixels_to_zero() {
        let pal = Palette::new(vec![[250, 0, 0], [0, 0, 0], [10, 200, 30]]);
        let frame = [
            [255u8, 8, 3, 255], // near red
            [4, 4, 4, 128],     // near black, opaque enough
            [12, 190, 40, 255], // near green
            [255, 255, 255, 127],
        ]
        .concat();
        let (screen, err) = pal.map_frame(&frame);
        let px = |c: [u8; 3]| u32::from_le_bytes([c[0], c[1], c[2], 255]);
        assert_eq!(
            screen,
            vec![px([250, 0, 0]), px([0, 0, 0]), px([10, 200, 30]), 0]
        );
        // (25 + 64 + 9) + (16 * 3) + (4 + 100 + 100), over three opaque pixels.
        assert_eq!(err, (98 + 48 + 204) / 3);
    }

    #[test]
    fn median_cut_keeps_few_colours_exact() {
        let samples = [([255u8, 0, 0], 100), ([0, 0, 248], 7), ([8, 200, 16], 1)];
        let mut colors = median_cut(&samples);
        colors.sort();
        assert_eq!(colors, vec![[0, 0, 248], [8, 200, 16], [255, 0, 0]]);
    }
}
