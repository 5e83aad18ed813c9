//! YUV (8, 10 or 12 bits; 4:0:0, 4:2:0, 4:2:2, 4:4:4) to 8-bit RGB(A) or grey(+alpha),
//! as libavif does by default:
//!
//! - the matrix from the `nclx` box, else from the AV1 sequence header: BT.709, BT.601
//!   (also BT.470BG, and "unspecified" as libavif reads it), BT.2020 (the constant-luminance
//!   variant approximated by the non-constant one), SMPTE 240M, FCC, YCgCo and identity
//!   (GBR); any other code is read as BT.601;
//! - full or limited ("studio") range, for colour and alpha separately;
//! - chroma upsampled bilinearly with centred samples (weights 3/4 and 1/4 on each axis,
//!   libyuv's and libavif's default "bilinear"), edges clamped;
//! - premultiplied alpha divided out;
//! - rounded to 8 bits. Transfer function and primaries are left alone here: the pipeline
//!   converts them with an ICC profile (the file's, or one made from `nclx`).
//!
//! Rows are converted in parallel on the caller's rayon pool.

use rayon::prelude::*;

use super::av1::{Chroma, Plane};
use crate::pixels::{Decoded, Layout};

/// The colour planes of a picture, with how to read them.
pub(crate) struct Yuv<'a> {
    pub y: Plane<'a>,
    /// U and V (absent for 4:0:0).
    pub uv: Option<(Plane<'a>, Plane<'a>)>,
    pub chroma: Chroma,
    pub depth: u32,
    pub matrix: u16,
    pub full_range: bool,
}

/// An alpha plane (the luma of the alpha item).
pub(crate) struct Alpha<'a> {
    pub plane: Plane<'a>,
    pub depth: u32,
    pub full_range: bool,
    pub premultiplied: bool,
}

/// How one plane's samples map to 0.0..=1.0 (or -0.5..=0.5 for chroma).
#[derive(Clone, Copy)]
struct Scale {
    offset: f32,
    range: f32,
}

impl Scale {
    fn luma(depth: u32, full: bool) -> Scale {
        let s = (1u32 << (depth - 8)) as f32;
        if full {
            Scale {
                offset: 0.0,
                range: ((1u32 << depth) - 1) as f32,
            }
        } else {
            Scale {
                offset: 16.0 * s,
                range: 219.0 * s,
            }
        }
    }

    fn chroma(depth: u32, full: bool) -> Scale {
        let s = (1u32 << (depth - 8)) as f32;
        Scale {
            offset: 128.0 * s,
            range: if full {
                ((1u32 << depth) - 1) as f32
            } else {
                224.0 * s
            },
        }
    }

    fn apply(self, v: f32) -> f32 {
        (v - self.offset) / self.range
    }
}

/// Kr and Kb of the YCbCr matrix with this `nclx` code; `None` for identity and YCgCo.
fn coefficients(matrix: u16) -> Option<(f32, f32)> {
    Some(match matrix {
        0 | 8 => return None,
        1 => (0.2126, 0.0722),
        4 => (0.30, 0.11),
        7 => (0.212, 0.087),
        9 | 10 => (0.2627, 0.0593),
        _ => (0.299, 0.114),
    })
}

/// Reads row `y` of `p` as numbers.
fn load_row(p: &Plane<'_>, depth: u32, y: usize, out: &mut [f32]) {
    let start = y * p.stride;
    if depth > 8 {
        let row = &p.data[start..start + p.width * 2];
        for (o, s) in out.iter_mut().zip(row.chunks_exact(2)) {
            *o = f32::from(u16::from_ne_bytes([s[0], s[1]]));
        }
    } else {
        let row = &p.data[start..start + p.width];
        for (o, &s) in out.iter_mut().zip(row) {
            *o = f32::from(s);
        }
    }
}

/// Two-tap centred upsampling index pair for output position `i` of a 2× subsampled axis.
fn taps(i: usize, n: usize) -> (usize, usize) {
    let near = (i >> 1).min(n - 1);
    let far = if i & 1 == 0 {
        near.saturating_sub(1)
    } else {
        (near + 1).min(n - 1)
    };
    (near, far)
}

/// Row `y` of a chroma plane at full resolution (`out` has the picture's width).
fn chroma_row(
    p: &Plane<'_>,
    depth: u32,
    (sx, sy): (u32, u32),
    y: usize,
    tmp: &mut [f32],
    out: &mut [f32],
) {
    let cw = p.width;
    let tmp = &mut tmp[..cw];
    if sy == 1 {
        let (near, far) = taps(y, p.height);
        load_row(p, depth, near, tmp);
        let mut other = vec![0f32; cw];
        load_row(p, depth, far, &mut other);
        for (t, o) in tmp.iter_mut().zip(&other) {
            *t = 0.75 * *t + 0.25 * o;
        }
    } else {
        load_row(p, depth, y, tmp);
    }
    if sx == 1 {
        for (x, o) in out.iter_mut().enumerate() {
            let (near, far) = taps(x, cw);
            *o = 0.75 * tmp[near] + 0.25 * tmp[far];
        }
    } else {
        out.copy_from_slice(&tmp[..out.len()]);
    }
}

fn to_u8(v: f32) -> u8 {
    (v * 255.0 + 0.5).clamp(0.0, 255.0) as u8
}

/// Converts the planes to 8-bit pixels of `width` × `height` (the picture's size).
pub(crate) fn convert(
    src: &Yuv<'_>,
    alpha: Option<&Alpha<'_>>,
    width: usize,
    height: usize,
) -> Decoded {
    let mono = src.uv.is_none();
    let layout = match (mono, alpha.is_some()) {
        (true, false) => Layout::L8,
        (true, true) => Layout::La8,
        (false, false) => Layout::Rgb8,
        (false, true) => Layout::Rgba8,
    };
    let bpp = layout.bpp();
    let ys = Scale::luma(src.depth, src.full_range);
    let cs = Scale::chroma(src.depth, src.full_range);
    let shift = src.chroma.shift();
    let mut pixels = vec![0u8; width * height * bpp];
    pixels
        .par_chunks_mut(width * bpp)
        .enumerate()
        .for_each_init(
            || {
                (
                    vec![0f32; width],
                    vec![0f32; width],
                    vec![0f32; width],
                    vec![0f32; width],
                    vec![0f32; width],
                )
            },
            |(yr, ur, vr, ar, tmp), (y, out)| {
                load_row(&src.y, src.depth, y, yr);
                if let Some((u, v)) = &src.uv {
                    chroma_row(u, src.depth, shift, y, tmp, ur);
                    chroma_row(v, src.depth, shift, y, tmp, vr);
                }
                let alpha_scale = alpha.map(|a| {
                    load_row(&a.plane, a.depth, y, ar);
                    (Scale::luma(a.depth, a.full_range), a.premultiplied)
                });
                for x in 0..width {
                    let l = ys.apply(yr[x]);
                    let mut rgb = if mono {
                        [l, l, l]
                    } else {
                        let (cb, cr) = (cs.apply(ur[x]), cs.apply(vr[x]));
                        match coefficients(src.matrix) {
                            Some((kr, kb)) => {
                                let kg = 1.0 - kr - kb;
                                let r = l + 2.0 * (1.0 - kr) * cr;
                                let b = l + 2.0 * (1.0 - kb) * cb;
                                let g = l
                                    - (2.0 * kr * (1.0 - kr) / kg) * cr
                                    - (2.0 * kb * (1.0 - kb) / kg) * cb;
                                [r, g, b]
                            }
                            None if src.matrix == 8 => {
                                // YCgCo: U is Cg, V is Co.
                                let t = l - cb;
                                [t + cr, l + cb, t - cr]
                            }
                            // Identity: G in Y, B in U, R in V, all on the luma scale.
                            None => [ys.apply(vr[x]), l, ys.apply(ur[x])],
                        }
                    };
                    let px = &mut out[x * bpp..(x + 1) * bpp];
                    let a = alpha_scale.map(|(s, premultiplied)| {
                        let a = s.apply(ar[x]).clamp(0.0, 1.0);
                        if premultiplied {
                            for c in &mut rgb {
                                *c = if a > 0.0 { (*c / a).min(1.0) } else { 0.0 };
                            }
                        }
                        to_u8(a)
                    });
                    if mono {
                        px[0] = to_u8(rgb[0]);
                    } else {
                        px[0] = to_u8(rgb[0]);
                        px[1] = to_u8(rgb[1]);
                        px[2] = to_u8(rgb[2]);
                    }
                    if let Some(a) = a {
                        px[bpp - 1] = a;
                    }
                }
            },
        );
    Decoded {
        width: width as u32,
        height: height as u32,
        layout,
        pixels,
        recovery: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plane(data: &[u8], width: usize, height: usize) -> Plane<'_> {
        Plane {
            data,
            stride: width,
            width,
            height,
        }
    }

    #[test]
    fn limited_range_bt601_grey_and_red() {
        // Y=81, U=90, V=240 is pure red in limited-range BT.601; Y=235 with neutral chroma
        // is white.
        let (y, u, v) = ([81u8, 235], [90u8, 128], [240u8, 128]);
        let src = Yuv {
            y: plane(&y, 2, 1),
            uv: Some((plane(&u, 2, 1), plane(&v, 2, 1))),
            chroma: Chroma::Yuv444,
            depth: 8,
            matrix: 6,
            full_range: false,
        };
        let d = convert(&src, None, 2, 1);
        assert_eq!(d.layout, Layout::Rgb8);
        let red = &d.pixels[..3];
        assert!(red[0] >= 253 && red[1] <= 2 && red[2] <= 2, "{red:?}");
        assert_eq!(&d.pixels[3..], &[255, 255, 255]);
    }

    #[test]
    fn ten_bit_full_range_alpha_and_premultiplied() {
        let y: Vec<u8> = [512u16, 1023]
            .iter()
            .flat_map(|v| v.to_ne_bytes())
            .collect();
        let a: Vec<u8> = [511u16, 0].iter().flat_map(|v| v.to_ne_bytes()).collect();
        let src = Yuv {
            y: Plane {
                data: &y,
                stride: 4,
                width: 2,
                height: 1,
            },
            uv: None,
            chroma: Chroma::Mono,
            depth: 10,
            matrix: 2,
            full_range: true,
        };
        let alpha = Alpha {
            plane: Plane {
                data: &a,
                stride: 4,
                width: 2,
                height: 1,
            },
            depth: 10,
            full_range: true,
            premultiplied: true,
        };
        let d = convert(&src, Some(&alpha), 2, 1);
        assert_eq!(d.layout, Layout::La8);
        // 512/1023 ≈ 0.5 divided by alpha ≈ 0.5 → white; alpha 0 → black, transparent.
        assert_eq!(d.pixels, vec![255, 127, 0, 0]);
    }

    #[test]
    fn chroma_taps_are_centred_and_clamped() {
        assert_eq!(taps(0, 4), (0, 0));
        assert_eq!(taps(1, 4), (0, 1));
        assert_eq!(taps(2, 4), (1, 0));
        assert_eq!(taps(7, 4), (3, 3));
    }
}
