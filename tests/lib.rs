//! Fixture builders shared by the integration tests, the benches and the sample generator.
//!
//! Every test input that is large, hostile or needs exact known pixels is built here in
//! code, not committed. Images are RGB(A) byte vectors with their size.

#![allow(clippy::unwrap_used)] // test support: a failure here is a broken fixture.

use avatar_prep::Orientation;

pub mod heif_build;
pub mod slack;

/// The README's code blocks, run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

/// avatar-prep's crates.io README, compiled as a doctest (its `src` holds no copy).
#[doc = include_str!("../crates/avatar-prep/README.md")]
#[cfg(doctest)]
pub struct AvatarPrepReadmeDoctests;

/// An RGBA image in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pixels {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// RGBA, straight alpha, row by row.
    pub rgba: Vec<u8>,
}

impl Pixels {
    /// A `width` × `height` image where every pixel is `f(x, y)`.
    pub fn from_fn(width: u32, height: u32, f: impl Fn(u32, u32) -> [u8; 4]) -> Pixels {
        let mut rgba = Vec::with_capacity(width as usize * height as usize * 4);
        for y in 0..height {
            for x in 0..width {
                rgba.extend_from_slice(&f(x, y));
            }
        }
        Pixels {
            width,
            height,
            rgba,
        }
    }

    /// The pixel at `(x, y)`.
    pub fn at(&self, x: u32, y: u32) -> [u8; 4] {
        let i = (y as usize * self.width as usize + x as usize) * 4;
        [
            self.rgba[i],
            self.rgba[i + 1],
            self.rgba[i + 2],
            self.rgba[i + 3],
        ]
    }

    /// RGB bytes (alpha dropped).
    pub fn rgb(&self) -> Vec<u8> {
        self.rgba
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect()
    }

    /// The stored pixels that, turned by `o`, give this (upright) image. Written from the
    /// EXIF definitions, independently of the library: a stored pixel (x, y) of a `w` × `h`
    /// image is shown at the position below.
    pub fn stored_for(&self, o: Orientation) -> Pixels {
        let swaps = matches!(o.exif_value(), 5..=8);
        let (w, h) = if swaps {
            (self.height, self.width)
        } else {
            (self.width, self.height)
        };
        let shown_at = |x: u32, y: u32| shown_at(o, w, h, x, y);
        let mut rgba = Vec::with_capacity(self.rgba.len());
        for y in 0..h {
            for x in 0..w {
                let (ux, uy) = shown_at(x, y);
                rgba.extend_from_slice(&self.at(ux, uy));
            }
        }
        Pixels {
            width: w,
            height: h,
            rgba,
        }
    }
}

/// Where EXIF orientation `o` shows the stored pixel (x, y) of a `w` × `h` image, written
/// from the EXIF definitions, independently of the library.
fn shown_at(o: Orientation, w: u32, h: u32, x: u32, y: u32) -> (u32, u32) {
    match o.exif_value() {
        1 => (x, y),
        2 => (w - 1 - x, y),
        3 => (w - 1 - x, h - 1 - y),
        4 => (x, h - 1 - y),
        5 => (y, x),
        6 => (h - 1 - y, x),
        7 => (h - 1 - y, w - 1 - x),
        8 => (y, w - 1 - x),
        other => panic!("orientation {other}"),
    }
}

impl Pixels {
    /// These stored pixels turned upright for EXIF orientation `o` (the inverse of
    /// [`Pixels::stored_for`], from the same definitions).
    pub fn upright(&self, o: Orientation) -> Pixels {
        let (w, h) = (self.width, self.height);
        let swaps = matches!(o.exif_value(), 5..=8);
        let (uw, uh) = if swaps { (h, w) } else { (w, h) };
        let shown_at = |x: u32, y: u32| shown_at(o, w, h, x, y);
        let mut rgba = vec![0; self.rgba.len()];
        for y in 0..h {
            for x in 0..w {
                let (ux, uy) = shown_at(x, y);
                let at = (uy as usize * uw as usize + ux as usize) * 4;
                rgba[at..at + 4].copy_from_slice(&self.at(x, y));
            }
        }
        Pixels {
            width: uw,
            height: uh,
            rgba,
        }
    }
}

/// A deterministic hash of a lattice point, in 0..1.
fn hash01(x: u32, y: u32, seed: u32) -> f32 {
    let mut h = x.wrapping_mul(374_761_393)
        ^ y.wrapping_mul(668_265_263)
        ^ seed.wrapping_mul(2_246_822_519);
    h = (h ^ (h >> 13)).wrapping_mul(1_274_126_177);
    h ^= h >> 16;
    (h >> 8) as f32 / (1u32 << 24) as f32
}

/// Smooth noise in -1..1: hashes on a `cell`-pixel lattice, interpolated bilinearly.
fn value_noise(x: u32, y: u32, cell: u32, seed: u32) -> f32 {
    let (cx, cy) = (x / cell, y / cell);
    let (fx, fy) = (
        (x % cell) as f32 / cell as f32,
        (y % cell) as f32 / cell as f32,
    );
    let v = |i: u32, j: u32| hash01(cx + i, cy + j, seed) * 2.0 - 1.0;
    let top = v(0, 0) * (1.0 - fx) + v(1, 0) * fx;
    let bottom = v(0, 1) * (1.0 - fx) + v(1, 1) * fx;
    top * (1.0 - fy) + bottom * fy
}

/// A phone-photo-like picture made the way `../shared/bench/make_corpus.py` makes the bench
/// corpus's photos: a scene (sky, ground, buildings with windows, trees, objects) drawn at
/// 1/4 resolution and enlarged smoothly, then full-resolution texture at 6 px and 2 px,
/// per-pixel grain (σ ≈ 2.6), thin dark wires and hard-edged sign lettering on top.
pub fn corpus_like_photo(width: u32, height: u32, seed: u32) -> Pixels {
    let r = |i: u32| hash01(i, 7, seed);
    let (lw, lh) = (width.div_ceil(4) + 1, height.div_ceil(4) + 1);
    let hz = (0.4 + 0.2 * r(0)) * lh as f32;
    let buildings: Vec<[f32; 5]> = (0..6u32)
        .map(|i| {
            let b = |k: u32| r(10 + i * 8 + k);
            let (x0, bw, bh) = (
                b(0) * lw as f32,
                (0.04 + 0.11 * b(1)) * lw as f32,
                (0.1 + 0.35 * b(2)) * lh as f32,
            );
            [x0, bw, bh, 60.0 + 160.0 * b(3), 20.0 + 235.0 * b(4)]
        })
        .collect();
    let blobs: Vec<[f32; 6]> = (0..12u32)
        .map(|i| {
            let b = |k: u32| r(100 + i * 8 + k);
            [
                b(0) * lw as f32,
                hz + (b(1) - 0.2) * (lh as f32 - hz),
                (0.02 + 0.08 * b(2)) * lw as f32,
                255.0 * b(3),
                255.0 * b(4),
                255.0 * b(5),
            ]
        })
        .collect();
    let step = 9.0 * lh as f32 / 756.0;
    let scene = |x: f32, y: f32| -> [f32; 3] {
        let mut c = if y < hz {
            let t = y / hz;
            [60.0 + 140.0 * t, 110.0 + 100.0 * t, 180.0 + 45.0 * t]
        } else {
            let t = (y - hz) / (lh as f32 - hz);
            [100.0 - 45.0 * t, 100.0 - 30.0 * t, 55.0 - 20.0 * t]
        };
        for &[x0, bw, bh, grey, win] in &buildings {
            if x >= x0 && x < x0 + bw && y >= hz - bh && y < hz + 0.05 * lh as f32 {
                let (u, v) = ((x - x0) % step / step, (y - hz + bh) % step / step);
                c = if u < 0.35 && v < 0.45 {
                    [win; 3]
                } else {
                    [grey; 3]
                };
            }
        }
        for &[cx, cy, rad, cr, cg, cb] in &blobs {
            if (x - cx).powi(2) + (y - cy).powi(2) < rad * rad {
                c = [cr, cg, cb];
            }
        }
        c
    };
    let low: Vec<[f32; 3]> = (0..lh)
        .flat_map(|y| (0..lw).map(move |x| (x, y)))
        .map(|(x, y)| scene(x as f32, y as f32))
        .collect();
    let wires: Vec<(f32, f32, f32)> = (0..3u32)
        .map(|i| {
            (
                r(200 + i) * 0.5 * height as f32,
                (r(210 + i) - 0.5) * 0.2,
                1.0 + 2.0 * r(220 + i) * height as f32 / 3024.0,
            )
        })
        .collect();
    let glyph = (0.03 * height as f32 / 7.0).max(1.0) as u32;
    let signs: Vec<(u32, u32)> = (0..3u32)
        .map(|i| {
            (
                (r(300 + i) * 0.6 * width as f32) as u32,
                ((0.3 + 0.6 * r(310 + i)) * height as f32) as u32,
            )
        })
        .collect();
    Pixels::from_fn(width, height, |x, y| {
        // The scene, enlarged bilinearly from 1/4 resolution.
        let (fx, fy) = (x as f32 / 4.0, y as f32 / 4.0);
        let (x0, y0) = (fx as u32, fy as u32);
        let (tx, ty) = (fx - x0 as f32, fy - y0 as f32);
        let at = |i: u32, j: u32| low[((y0 + j) * lw + x0 + i) as usize];
        let mut c = [0f32; 3];
        for (k, v) in c.iter_mut().enumerate() {
            let top = at(0, 0)[k] * (1.0 - tx) + at(1, 0)[k] * tx;
            let bottom = at(0, 1)[k] * (1.0 - tx) + at(1, 1)[k] * tx;
            *v = top * (1.0 - ty) + bottom * ty;
        }
        let ground = if fy >= hz { 1.0 } else { 0.0 };
        let lum = value_noise(x, y, 6, seed + 1) * (6.0 + 8.0 * ground)
            + value_noise(x, y, 2, seed + 2) * (2.0 + 9.0 * ground)
            + (hash01(x, y, seed + 3) - 0.5) * 9.0;
        for v in &mut c {
            *v += lum;
        }
        for &(y0, slope, thick) in &wires {
            if (y as f32 - (y0 + slope * x as f32)).abs() < thick {
                c = [30.0; 3];
            }
        }
        for &(sx, sy) in &signs {
            if x >= sx && y >= sy && x < sx + 72 * glyph && y < sy + 7 * glyph {
                let (gx, gy) = ((x - sx) / glyph, (y - sy) / glyph);
                if gx % 6 < 5 && hash01(gx, gy, seed + 4) < 0.45 {
                    c = [250.0, 250.0, 240.0];
                }
            }
        }
        if x < width / 8 && x > width / 32 && y < height / 8 && y > height / 32 {
            c = [220.0, 25.0, 25.0];
        }
        [
            c[0].clamp(0.0, 255.0) as u8,
            c[1].clamp(0.0, 255.0) as u8,
            c[2].clamp(0.0, 255.0) as u8,
            255,
        ]
    })
}

/// The eight EXIF orientations, in EXIF order 1–8.
pub const ORIENTATIONS: [Orientation; 8] = Orientation::ALL;

/// Red.
pub const RED: [u8; 4] = [255, 0, 0, 255];
/// Green.
pub const GREEN: [u8; 4] = [0, 200, 0, 255];
/// Blue.
pub const BLUE: [u8; 4] = [0, 0, 255, 255];
/// Yellow.
pub const YELLOW: [u8; 4] = [255, 220, 0, 255];
/// Mid grey.
pub const GREY: [u8; 4] = [128, 128, 128, 255];

/// An upright image with a coloured block in each corner (red top-left, green top-right,
/// blue bottom-left, yellow bottom-right) on grey. Each block is a quarter of the short side.
pub fn corner_markers(width: u32, height: u32) -> Pixels {
    let b = width.min(height) / 4;
    Pixels::from_fn(width, height, |x, y| {
        let left = x < b;
        let right = x >= width - b;
        let top = y < b;
        let bottom = y >= height - b;
        match (left, right, top, bottom) {
            (true, _, true, _) => RED,
            (_, true, true, _) => GREEN,
            (true, _, _, true) => BLUE,
            (_, true, _, true) => YELLOW,
            _ => GREY,
        }
    })
}

/// Photo-like content: smooth gradients, a few shapes, deterministic noise.
pub fn photo(width: u32, height: u32, seed: u32) -> Pixels {
    Pixels::from_fn(width, height, |x, y| {
        let fx = x as f32 / width.max(1) as f32;
        let fy = y as f32 / height.max(1) as f32;
        let mut h = x.wrapping_mul(374_761_393)
            ^ y.wrapping_mul(668_265_263)
            ^ seed.wrapping_mul(2_246_822_519);
        h = (h ^ (h >> 13)).wrapping_mul(1_274_126_177);
        let noise = (h >> 24) as f32 / 255.0 * 24.0 - 12.0;
        let dx = fx - 0.5;
        let dy = fy - 0.45;
        let disc = if dx * dx + dy * dy < 0.06 { 60.0 } else { 0.0 };
        let r = 40.0 + 180.0 * fx + disc + noise;
        let g = 70.0 + 120.0 * fy + noise;
        let b = 160.0 - 90.0 * fx * fy + disc * 0.5 + noise;
        [
            r.clamp(0.0, 255.0) as u8,
            g.clamp(0.0, 255.0) as u8,
            b.clamp(0.0, 255.0) as u8,
            255,
        ]
    })
}

/// A TIFF (EXIF) block holding only the Orientation tag, with the `Exif\0\0` prefix a JPEG
/// APP1 segment carries. `value` may be out of range on purpose.
pub fn exif_orientation(value: u16, with_prefix: bool) -> Vec<u8> {
    let mut v = Vec::new();
    if with_prefix {
        v.extend_from_slice(b"Exif\0\0");
    }
    v.extend_from_slice(b"MM\0*\0\0\0\x08"); // big-endian TIFF, IFD at 8
    v.extend_from_slice(&1u16.to_be_bytes()); // one entry
    v.extend_from_slice(&0x0112u16.to_be_bytes()); // Orientation
    v.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    v.extend_from_slice(&1u32.to_be_bytes()); // count
    v.extend_from_slice(&value.to_be_bytes());
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
    v
}

/// Options for [`jpeg`].
#[derive(Debug, Clone, Default)]
pub struct JpegFixture<'a> {
    /// EXIF orientation value to embed (APP1), if any.
    pub orientation: Option<u16>,
    /// ICC profile to embed (APP2), if any.
    pub icc: Option<&'a [u8]>,
    /// Encode as grey.
    pub grey: bool,
    /// Quality (default 92).
    pub quality: Option<u8>,
    /// Restart interval in MCUs (DRI), if any.
    pub restart_interval: Option<u16>,
}

/// Encodes stored pixels as a JPEG (4:4:4, so colours stay exact enough to check).
pub fn jpeg(p: &Pixels, opts: &JpegFixture<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = jpeg_encoder::Encoder::new(&mut out, opts.quality.unwrap_or(92));
    enc.set_sampling_factor(jpeg_encoder::SamplingFactor::F_1_1);
    if let Some(o) = opts.orientation {
        enc.add_app_segment(1, exif_orientation(o, true)).unwrap();
    }
    if let Some(icc) = opts.icc {
        enc.add_icc_profile(icc).unwrap();
    }
    if let Some(ri) = opts.restart_interval {
        enc.set_restart_interval(ri);
    }
    let (w, h) = (p.width as u16, p.height as u16);
    if opts.grey {
        let luma: Vec<u8> = p.rgba.chunks_exact(4).map(|c| c[0]).collect();
        enc.encode(&luma, w, h, jpeg_encoder::ColorType::Luma)
            .unwrap();
    } else {
        enc.encode(&p.rgb(), w, h, jpeg_encoder::ColorType::Rgb)
            .unwrap();
    }
    out
}

/// Encodes stored pixels as an 8-bit RGBA PNG, with an `eXIf` orientation if given.
pub fn png_rgba(p: &Pixels, orientation: Option<u16>) -> Vec<u8> {
    png_with(
        p.width,
        p.height,
        png::ColorType::Rgba,
        png::BitDepth::Eight,
        &p.rgba,
        |w| {
            if let Some(o) = orientation {
                w.write_chunk(png::chunk::eXIf, &exif_orientation(o, false))
                    .unwrap();
            }
        },
    )
}

/// Encodes raw PNG sample data of any colour type and depth; `extra` may write chunks
/// before the image data.
pub fn png_with(
    width: u32,
    height: u32,
    color: png::ColorType,
    depth: png::BitDepth,
    data: &[u8],
    extra: impl FnOnce(&mut png::Writer<&mut Vec<u8>>),
) -> Vec<u8> {
    png_full(width, height, color, depth, data, |_| {}, extra)
}

/// Like [`png_with`], with a hook on the encoder (palette, tRNS) before the header is written.
pub fn png_full(
    width: u32,
    height: u32,
    color: png::ColorType,
    depth: png::BitDepth,
    data: &[u8],
    setup: impl FnOnce(&mut png::Encoder<'_, &mut Vec<u8>>),
    extra: impl FnOnce(&mut png::Writer<&mut Vec<u8>>),
) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, width, height);
        enc.set_color(color);
        enc.set_depth(depth);
        setup(&mut enc);
        let mut w = enc.write_header().unwrap();
        extra(&mut w);
        w.write_image_data(data).unwrap();
        w.finish().unwrap();
    }
    out
}

/// A real (fully decodable) `width` × `height` RGBA PNG of one colour, written row by row so
/// the pixels are never in memory: a pixel bomb of a few hundred kB for 8000 × 8000.
pub fn flat_png_rgba(width: u32, height: u32, colour: [u8; 4]) -> Vec<u8> {
    let row: Vec<u8> = colour.repeat(width as usize);
    let mut bytes = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut bytes, width, height);
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Fast);
        let mut writer = enc.write_header().unwrap();
        let mut stream = writer.stream_writer().unwrap();
        for _ in 0..height {
            std::io::Write::write_all(&mut stream, &row).unwrap();
        }
        stream.finish().unwrap();
    }
    bytes
}

/// A GIF of the given RGBA frames (all full-screen), `delay` in 1/100 s, looping forever.
pub fn gif(frames: &[Pixels], delay: u16) -> Vec<u8> {
    let (w, h) = (frames[0].width as u16, frames[0].height as u16);
    let mut out = Vec::new();
    {
        let mut enc = gif::Encoder::new(&mut out, w, h, &[]).unwrap();
        enc.set_repeat(gif::Repeat::Infinite).unwrap();
        for f in frames {
            let mut rgba = f.rgba.clone();
            let mut frame = gif::Frame::from_rgba_speed(w, h, &mut rgba, 10);
            frame.delay = delay;
            frame.dispose = gif::DisposalMethod::Background;
            enc.write_frame(&frame).unwrap();
        }
    }
    out
}

/// Decodes any output of the library: JPEG with jpeg-decoder, PNG and GIF with `image`.
pub fn decode(bytes: &[u8]) -> Pixels {
    if bytes.starts_with(&[0xFF, 0xD8]) {
        let mut dec = jpeg_decoder::Decoder::new(bytes);
        let px = dec.decode().unwrap();
        let info = dec.info().unwrap();
        let rgba = match info.pixel_format {
            jpeg_decoder::PixelFormat::L8 => px.iter().flat_map(|&g| [g, g, g, 255]).collect(),
            jpeg_decoder::PixelFormat::RGB24 => px
                .chunks_exact(3)
                .flat_map(|p| [p[0], p[1], p[2], 255])
                .collect(),
            other => panic!("unexpected JPEG output {other:?}"),
        };
        return Pixels {
            width: u32::from(info.width),
            height: u32::from(info.height),
            rgba,
        };
    }
    let img = image::load_from_memory(bytes).unwrap().to_rgba8();
    Pixels {
        width: img.width(),
        height: img.height(),
        rgba: img.into_raw(),
    }
}

/// Whether a GIF has a loop (NETSCAPE2.0) extension: an animation's, never a still's.
pub fn gif_loops(bytes: &[u8]) -> bool {
    bytes.windows(11).any(|w| w == b"NETSCAPE2.0")
}

/// The composited frames of a GIF, decoded by `image` (an independent implementation).
pub fn gif_frames(bytes: &[u8]) -> Vec<(image::RgbaImage, u32)> {
    use image::AnimationDecoder;
    let dec = image::codecs::gif::GifDecoder::new(std::io::Cursor::new(bytes)).unwrap();
    dec.into_frames()
        .collect_frames()
        .unwrap()
        .into_iter()
        .map(|f| {
            let (num, den) = f.delay().numer_denom_ms();
            (f.into_buffer(), num / den)
        })
        .collect()
}

/// Largest per-channel difference between two colours.
pub fn color_distance(a: [u8; 4], b: [u8; 4]) -> u8 {
    a.iter()
        .zip(b.iter())
        .map(|(x, y)| x.abs_diff(*y))
        .max()
        .unwrap_or(0)
}

/// The size of a JPEG, PNG or GIF that decodes completely, or `None`.
pub fn try_dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    if bytes.starts_with(&[0xFF, 0xD8]) {
        let mut dec = jpeg_decoder::Decoder::new(bytes);
        dec.decode().ok()?;
        let info = dec.info()?;
        return Some((u32::from(info.width), u32::from(info.height)));
    }
    let img = image::load_from_memory(bytes).ok()?;
    Some((img.width(), img.height()))
}

/// Writes bits MSB first with JPEG byte stuffing (`FF` → `FF 00`); pads with 1 bits.
struct JpegBits {
    out: Vec<u8>,
    acc: u32,
    n: u32,
}

impl JpegBits {
    fn put(&mut self, value: u32, bits: u32) {
        for i in (0..bits).rev() {
            self.acc = (self.acc << 1) | ((value >> i) & 1);
            self.n += 1;
            if self.n == 8 {
                self.out.push(self.acc as u8);
                if self.acc == 0xFF {
                    self.out.push(0);
                }
                (self.acc, self.n) = (0, 0);
            }
        }
    }

    fn finish(mut self) -> Vec<u8> {
        while self.n != 0 {
            self.put(1, 1);
        }
        self.out
    }
}

/// A valid grey progressive JPEG of `side` × `side` (flat mid-grey) whose DC scan is
/// followed by `ac_scans` scans of the AC band, each a few bytes long (one end-of-band run
/// covering every block) but each making a decoder walk every block of the image: the
/// "many scans" denial of service that libjpeg-turbo's scan limit guards against.
pub fn progressive_scan_bomb(side: u16, ac_scans: usize) -> Vec<u8> {
    let mut j = vec![0xFF, 0xD8];
    let mut segment = |marker: u8, body: &[u8]| {
        j.extend_from_slice(&[0xFF, marker]);
        j.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
        j.extend_from_slice(body);
    };
    let mut dqt = vec![0u8];
    dqt.extend_from_slice(&[1; 64]);
    segment(0xDB, &dqt);
    let [h1, h0] = side.to_be_bytes();
    segment(0xC2, &[8, h1, h0, h1, h0, 1, 1, 0x11, 0]);
    // One code of length 1 in each table: DC category 0, and AC "EOB run of 2^14 + 14 bits".
    let table = |class_id: u8, symbol: u8| {
        let mut t = vec![class_id, 1];
        t.extend_from_slice(&[0; 15]);
        t.push(symbol);
        t
    };
    segment(0xC4, &table(0x00, 0x00));
    segment(0xC4, &table(0x10, 0xE0));
    let blocks = usize::from(side.div_ceil(8)).pow(2);
    segment(0xDA, &[1, 1, 0x00, 0, 0, 0]);
    let mut dc = JpegBits {
        out: Vec::new(),
        acc: 0,
        n: 0,
    };
    for _ in 0..blocks {
        dc.put(0, 1);
    }
    let dc = dc.finish();
    j.extend_from_slice(&dc);
    let mut ac = JpegBits {
        out: Vec::new(),
        acc: 0,
        n: 0,
    };
    for _ in 0..blocks.div_ceil(32_767) {
        ac.put(0, 1);
        ac.put((1 << 14) - 1, 14);
    }
    let ac = ac.finish();
    for _ in 0..ac_scans {
        j.extend_from_slice(&[0xFF, 0xDA, 0, 8, 1, 1, 0x00, 1, 63, 0]);
        j.extend_from_slice(&ac);
    }
    j.extend_from_slice(&[0xFF, 0xD9]);
    j
}

/// A RIFF/WebP file of `chunks` (each `(fourcc, payload)`, padded to even sizes).
pub fn webp_file(chunks: &[(&[u8; 4], Vec<u8>)]) -> Vec<u8> {
    let mut body = b"WEBP".to_vec();
    for (fourcc, data) in chunks {
        body.extend_from_slice(*fourcc);
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(data);
        if data.len() % 2 == 1 {
            body.push(0);
        }
    }
    let mut file = b"RIFF".to_vec();
    file.extend_from_slice(&(body.len() as u32).to_le_bytes());
    file.extend_from_slice(&body);
    file
}

/// The VP8L chunk payload of a lossless WebP of `p` (encoded by `image`'s WebP encoder).
pub fn vp8l_payload(p: &Pixels) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::webp::WebPEncoder::new_lossless(&mut out)
        .encode(&p.rgba, p.width, p.height, image::ExtendedColorType::Rgba8)
        .unwrap();
    assert_eq!(&out[12..16], b"VP8L");
    let len = u32::from_le_bytes([out[16], out[17], out[18], out[19]]) as usize;
    out[20..20 + len].to_vec()
}

/// A VP8X chunk payload: `flags` (0x10 alpha, 0x02 animation, 0x08 EXIF, 0x20 ICC), canvas.
pub fn vp8x_payload(flags: u8, width: u32, height: u32) -> Vec<u8> {
    let mut v = vec![flags, 0, 0, 0];
    v.extend_from_slice(&(width - 1).to_le_bytes()[..3]);
    v.extend_from_slice(&(height - 1).to_le_bytes()[..3]);
    v
}

/// An ANMF chunk payload: the lossless frame `frame` at the origin, `delay` ms, blended,
/// kept.
fn anmf_payload(frame: &Pixels, delay: u32) -> Vec<u8> {
    let vp8l = vp8l_payload(frame);
    let mut anmf = Vec::new();
    for v in [0u32, 0, frame.width - 1, frame.height - 1, delay] {
        anmf.extend_from_slice(&v.to_le_bytes()[..3]);
    }
    anmf.push(0);
    anmf.extend_from_slice(b"VP8L");
    anmf.extend_from_slice(&(vp8l.len() as u32).to_le_bytes());
    anmf.extend_from_slice(&vp8l);
    if vp8l.len() % 2 == 1 {
        anmf.push(0);
    }
    anmf
}

/// An animated WebP on a `width` × `height` canvas with `n` frames: each the 1×1 lossless
/// frame `frame` at the origin, `delay` ms, blended, kept.
pub fn webp_animation(width: u32, height: u32, n: usize, delay: u32, frame: &Pixels) -> Vec<u8> {
    let anmf = anmf_payload(frame, delay);
    let mut chunks: Vec<(&[u8; 4], Vec<u8>)> = vec![
        (b"VP8X", vp8x_payload(0x12, width, height)),
        (b"ANIM", vec![0, 0, 0, 0, 0, 0]),
    ];
    chunks.extend((0..n).map(|_| (b"ANMF", anmf.clone())));
    webp_file(&chunks)
}

/// An animated WebP of whole-canvas lossless `frames` (the first one's size), `delay` ms
/// each.
pub fn webp_frames(frames: &[Pixels], delay: u32) -> Vec<u8> {
    let (width, height) = (frames[0].width, frames[0].height);
    let mut chunks: Vec<(&[u8; 4], Vec<u8>)> = vec![
        (b"VP8X", vp8x_payload(0x12, width, height)),
        (b"ANIM", vec![0, 0, 0, 0, 0, 0]),
    ];
    chunks.extend(frames.iter().map(|f| (b"ANMF", anmf_payload(f, delay))));
    webp_file(&chunks)
}

/// A BMP whose header claims `width` × `height` (24-bit), with a few bytes of pixels.
pub fn bmp_claiming(width: i32, height: i32) -> Vec<u8> {
    let mut b = b"BM".to_vec();
    b.extend_from_slice(&(54u32 + 16).to_le_bytes());
    b.extend_from_slice(&[0; 4]);
    b.extend_from_slice(&54u32.to_le_bytes());
    b.extend_from_slice(&40u32.to_le_bytes());
    b.extend_from_slice(&width.to_le_bytes());
    b.extend_from_slice(&height.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&24u16.to_le_bytes());
    b.extend_from_slice(&[0; 24]);
    b.extend_from_slice(&[0x40; 16]);
    b
}

/// A little-endian baseline RGB TIFF whose IFD claims `width` × `height`, one strip of a few
/// bytes.
pub fn tiff_claiming(width: u32, height: u32) -> Vec<u8> {
    let entries: [(u16, u16, u32, u32); 9] = [
        (256, 4, 1, width),  // ImageWidth
        (257, 4, 1, height), // ImageLength
        (258, 3, 1, 8),      // BitsPerSample
        (259, 3, 1, 1),      // Compression: none
        (262, 3, 1, 2),      // Photometric: RGB
        (273, 4, 1, 8),      // StripOffsets
        (277, 3, 1, 3),      // SamplesPerPixel
        (278, 4, 1, height), // RowsPerStrip
        (279, 4, 1, 16),     // StripByteCounts
    ];
    let mut b = b"II*\0".to_vec();
    b.extend_from_slice(&24u32.to_le_bytes());
    b.extend_from_slice(&[0x40; 16]);
    b.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for (tag, ty, count, value) in entries {
        b.extend_from_slice(&tag.to_le_bytes());
        b.extend_from_slice(&ty.to_le_bytes());
        b.extend_from_slice(&count.to_le_bytes());
        if ty == 3 {
            b.extend_from_slice(&(value as u16).to_le_bytes());
            b.extend_from_slice(&[0, 0]);
        } else {
            b.extend_from_slice(&value.to_le_bytes());
        }
    }
    b.extend_from_slice(&[0; 4]);
    b
}

/// A GIF of `frames` (each `width` × `height` palette indices) with NO colour table at all:
/// written with a global palette, which is then cut out of the header.
pub fn gif_without_palette(width: u16, height: u16, frames: &[Vec<u8>]) -> Vec<u8> {
    let palette: Vec<u8> = (0..=255u8).flat_map(|v| [v, 0, 0]).collect();
    let mut out = Vec::new();
    {
        let mut enc = gif::Encoder::new(&mut out, width, height, &palette).unwrap();
        enc.set_repeat(gif::Repeat::Infinite).unwrap();
        for f in frames {
            let mut frame = gif::Frame::from_indexed_pixels(width, height, f.clone(), None);
            frame.delay = 10;
            enc.write_frame(&frame).unwrap();
        }
    }
    // Logical screen descriptor: bytes 6..13; bit 7 of byte 10 says a global table follows.
    let size = 3 << ((out[10] & 7) + 1);
    assert!(out[10] & 0x80 != 0);
    out[10] &= 0x7F;
    out.drain(13..13 + size);
    out
}

/// A PNG that is only a header: IHDR claiming `w` x `h` RGBA, then IEND.
pub fn png_header_only(w: u32, h: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, ty: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend_from_slice(ty);
        out.extend_from_slice(data);
        let crc = crc32(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(
        &mut out,
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    );
    chunk(&mut out, b"IEND", &[]);
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A real small JPEG whose SOF0 is patched to claim `w` x `h`.
pub fn jpeg_claiming(w: u16, h: u16) -> Vec<u8> {
    let mut bytes = jpeg(&photo(16, 16, 1), &JpegFixture::default());
    let sof = bytes
        .windows(2)
        .position(|m| m == [0xFF, 0xC0])
        .expect("baseline SOF0");
    bytes[sof + 5..sof + 7].copy_from_slice(&h.to_be_bytes());
    bytes[sof + 7..sof + 9].copy_from_slice(&w.to_be_bytes());
    bytes
}

/// Mean absolute difference per channel of premultiplied RGBA, so that the colour under a
/// fully transparent pixel (which encoders may leave as anything) does not count.
pub fn premultiplied_mean_diff(a: &Pixels, b: &Pixels) -> f64 {
    assert_eq!((a.width, a.height), (b.width, b.height));
    let pre = |p: &[u8]| {
        let alpha = u64::from(p[3]);
        [
            u64::from(p[0]) * alpha / 255,
            u64::from(p[1]) * alpha / 255,
            u64::from(p[2]) * alpha / 255,
            alpha,
        ]
    };
    let sum: u64 = a
        .rgba
        .chunks_exact(4)
        .zip(b.rgba.chunks_exact(4))
        .map(|(x, y)| {
            let (x, y) = (pre(x), pre(y));
            (0..4).map(|c| x[c].abs_diff(y[c])).sum::<u64>()
        })
        .sum();
    sum as f64 / a.rgba.len() as f64
}

/// An animated GIF like the peer corpus's: a 240-colour index-noise background (a dithered
/// photo), three sprites moving across it in colours that change every frame (so every frame
/// has its own local palette), every frame written whole, as Pillow does without `optimize`.
/// The input of the GIF optimiser's benchmarks.
pub fn sprite_gif(width: u16, height: u16, frames: u32) -> Vec<u8> {
    let hash = |x: u32| {
        let h = x.wrapping_mul(0x9E37_79B9);
        let h = (h ^ (h >> 15)).wrapping_mul(0x85EB_CA6B);
        h ^ (h >> 13)
    };
    let rgb = |v: u32| [v as u8, (v >> 8) as u8, (v >> 16) as u8];
    let background: Vec<u8> = (0..u32::from(height))
        .flat_map(|y| (0..u32::from(width)).map(move |x| (hash(y * 4099 + x) % 240) as u8))
        .collect();
    let mut out = Vec::new();
    {
        let mut enc = gif::Encoder::new(&mut out, width, height, &[]).unwrap();
        enc.set_repeat(gif::Repeat::Infinite).unwrap();
        for t in 0..frames {
            let mut palette: Vec<u8> = (0..240).flat_map(|i| rgb(hash(i + 7))).collect();
            palette.extend((0..16).flat_map(|k| rgb(hash(1000 + t * 31 + k))));
            let mut px = background.clone();
            for s in 0..3u32 {
                let (sx, sy) = (20 + s * 90 + t * 9, 30 + s * 70 + t * 5);
                for y in sy..(sy + 40).min(u32::from(height)) {
                    for x in sx..(sx + 50).min(u32::from(width)) {
                        px[(y * u32::from(width) + x) as usize] = (240 + s * 4) as u8;
                    }
                }
            }
            let mut frame = gif::Frame::from_palette_pixels(width, height, px, palette, None);
            frame.delay = 5;
            enc.write_frame(&frame).unwrap();
        }
    }
    out
}
