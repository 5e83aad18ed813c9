//! Animated GIF: scan the frame headers, apply the frame policy, composite every frame as a
//! browser shows it, resize and re-palettise frames in parallel, write frame differences with
//! LZW compression in parallel.
//!
//! Memory stays at a few frames whatever the length: frames go through in chunks of
//! `2 × threads` (at least 4), composited in order, processed in parallel, written in order.

use rayon::prelude::*;

use crate::color;
use crate::decode::{check_dimensions, gif_decoder, gif_error, Decoded, Layout};
use crate::error::PrepError;
use crate::geometry::{self, Plan, Rect};
use crate::options::{Fit, FramePolicy, ImageFormat, PrepOptions, Rgba};
use crate::resize::Resampler;

const FORMAT: ImageFormat = ImageFormat::Gif;

/// What a scan of the GIF's blocks tells.
#[derive(Debug)]
struct Scan {
    width: u32,
    height: u32,
    /// Each frame's delay, in 1/100 s.
    delays: Vec<u16>,
    repeat: gif::Repeat,
    /// The global palette, when no frame has a local one (RGB triples).
    only_palette: Option<Vec<u8>>,
    /// Every colour of every palette a frame uses, weighted by the frame's area / palette
    /// size: the basis of the output palette when the source palette cannot be reused.
    colors: Vec<([u8; 3], u64)>,
}

/// Reads every frame header (LZW data is skipped, not decompressed) and checks the frame
/// count and the animation budget. Stops early once the count passes any limit.
fn scan(bytes: &[u8], o: &PrepOptions) -> Result<Scan, PrepError> {
    let mut dec = gif_decoder(bytes, &o.limits, true)?;
    let (mut width, mut height) = (u32::from(dec.width()), u32::from(dec.height()));
    let global = dec.global_palette().map(<[u8]>::to_vec);
    let mut any_local = false;
    let mut delays = Vec::new();
    let mut colors: std::collections::HashMap<[u8; 3], u64> = std::collections::HashMap::new();
    // A frame beyond this is never needed: the policy either rejects, or decimates (which
    // composites every frame, so the budget below applies to all of them).
    let cap = |w: u32, h: u32| o.limits.max_animation_pixels / (u64::from(w) * u64::from(h)).max(1);
    let mut hard_cap = cap(width, height);
    while let Some(f) = dec.read_next_frame().map_err(gif_error)? {
        if delays.is_empty() && (width == 0 || height == 0) {
            // A screen of 0x0 (seen in the wild) takes the first frame's extent, as on the
            // still path and in browsers.
            width = u32::from(f.left) + u32::from(f.width);
            height = u32::from(f.top) + u32::from(f.height);
            crate::decode::check_dimensions(width, height, 4, &o.limits)?;
            hard_cap = cap(width, height);
        }
        any_local |= f.palette.is_some();
        if let Some(pal) = f.palette.as_deref().or(global.as_deref()) {
            let entries = (pal.len() / 3).max(1) as u64;
            let weight = (u64::from(f.width) * u64::from(f.height) / entries).max(1);
            for (i, c) in pal.chunks_exact(3).enumerate() {
                if f.transparent != Some(i as u8) {
                    *colors.entry([c[0], c[1], c[2]]).or_default() += weight;
                }
            }
        }
        delays.push(f.delay);
        let n = delays.len() as u64;
        if n > u64::from(o.max_frames) && o.frame_policy == FramePolicy::Reject {
            // Count the rest cheaply for the message, but stop at a sane bound.
            let mut total = n;
            while total < 1_000_000 && dec.read_next_frame().map_err(gif_error)?.is_some() {
                total += 1;
            }
            return Err(PrepError::TooManyFrames {
                frames: total,
                max: u64::from(o.max_frames),
            });
        }
        if n > hard_cap {
            return Err(PrepError::AnimationTooLarge {
                frames: n,
                width,
                height,
                limit: o.limits.max_animation_pixels,
            });
        }
    }
    Ok(Scan {
        width,
        height,
        delays,
        repeat: dec.repeat(),
        only_palette: if any_local { None } else { global },
        colors: {
            let mut v: Vec<([u8; 3], u64)> = colors.into_iter().collect();
            v.sort_unstable();
            v
        },
    })
}

/// Which frames are kept, and each kept frame's delay (the dropped frames' delays added to
/// the kept frame before them, so the total duration is unchanged).
fn keep_frames(delays: &[u16], max: usize) -> Vec<(usize, u32)> {
    let n = delays.len();
    let kept: Vec<usize> = if n <= max {
        (0..n).collect()
    } else {
        (0..max).map(|j| j * n / max).collect()
    };
    kept.iter()
        .enumerate()
        .map(|(j, &start)| {
            let end = kept.get(j + 1).copied().unwrap_or(n);
            let delay: u32 = delays[start..end].iter().map(|&d| u32::from(d)).sum();
            (start, delay)
        })
        .collect()
}

/// Prepares an animated GIF as an animated GIF. `Ok(None)` means "not an animation after
/// all" (one frame, or the first-frame policy): the caller takes the still path.
pub(crate) fn prepare_animation(
    bytes: &[u8],
    o: &PrepOptions,
) -> Result<Option<Animated>, PrepError> {
    let scan = scan(bytes, o)?;
    let n = scan.delays.len();
    if n <= 1 || (n > o.max_frames as usize && o.frame_policy == FramePolicy::FirstFrame) {
        return Ok(None);
    }
    if scan.width == 0 || scan.height == 0 {
        return Err(PrepError::corrupt(FORMAT, "zero logical screen size"));
    }
    check_dimensions(scan.width, scan.height, 4, &o.limits)?;
    let kept = keep_frames(&scan.delays, (o.max_frames as usize).max(1));
    let plan = geometry::plan(
        scan.width,
        scan.height,
        &o.fit,
        o.min_side,
        o.max_side,
        o.small_input,
    )?;
    let background = match o.fit {
        Fit::Letterbox {
            background: Some(c),
        } => c,
        _ => Rgba::TRANSPARENT,
    };
    let unchanged_pixels = kept.len() == n
        && plan.src == Rect::new(0, 0, scan.width, scan.height)
        && (plan.dst.w, plan.dst.h) == (scan.width, scan.height)
        && background.a == 0;
    let passed = if unchanged_pixels {
        pass_through(bytes, o, &plan)?
    } else {
        None
    };
    let out = match passed {
        Some(out) => out,
        None => encode_animation(bytes, o, &scan, &kept, &plan, background)?,
    };
    Ok(Some(Animated {
        bytes: out,
        plan,
        background,
        frames: kept.len() as u32,
        width: scan.width,
        height: scan.height,
    }))
}

/// When the GIF needs no resampling (its side is already in range) and only transparent
/// letterbox bars: every frame's compressed data is copied as it is, each frame moved by the
/// bars' offset on a larger, square logical screen. Palettes, transparency, disposal, delays
/// and the loop count are untouched; nothing is decoded or re-encoded. `None` when a frame
/// reaches beyond the old screen (it must be clipped, so decoded).
fn pass_through(bytes: &[u8], o: &PrepOptions, plan: &Plan) -> Result<Option<Vec<u8>>, PrepError> {
    let side = u16::try_from(plan.side).map_err(|_| PrepError::internal("GIF side above 65535"))?;
    let (dx, dy) = (plan.dst.x, plan.dst.y);
    let mut dec = gif_decoder(bytes, &o.limits, true)?;
    let global = dec.global_palette().map(<[u8]>::to_vec).unwrap_or_default();
    let repeat = dec.repeat();
    let mut out = Vec::with_capacity(bytes.len() + 1024);
    {
        let mut enc = gif::Encoder::new(&mut out, side, side, &global).map_err(enc_err)?;
        enc.set_repeat(repeat).map_err(enc_err)?;
        while let Some(frame) = dec.read_next_frame().map_err(gif_error)? {
            let mut f = frame.clone();
            let (left, top) = (u32::from(f.left), u32::from(f.top));
            if f.width == 0
                || f.height == 0
                || left + u32::from(f.width) > plan.dst.w
                || top + u32::from(f.height) > plan.dst.h
            {
                return Ok(None);
            }
            let (left, top) = (left + dx, top + dy);
            f.left = left as u16;
            f.top = top as u16;
            enc.write_lzw_pre_encoded_frame(&f).map_err(enc_err)?;
        }
    }
    Ok(Some(out))
}

/// The result of [`prepare_animation`].
pub(crate) struct Animated {
    pub bytes: Vec<u8>,
    pub plan: Plan,
    pub background: Rgba,
    pub frames: u32,
    pub width: u32,
    pub height: u32,
}

/// Composites frames in order, as a browser shows them.
pub(crate) struct Compositor {
    width: u32,
    height: u32,
    canvas: Vec<u8>,
    /// Saved canvas for "restore to previous".
    saved: Option<Vec<u8>>,
    /// Disposal of the last drawn frame, applied before the next one.
    pending: Option<(gif::DisposalMethod, Rect)>,
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

    /// Draws one decoded frame (`frame` RGBA, `rect` size; transparent pixels have alpha 0).
    pub(crate) fn draw(&mut self, rect: Rect, dispose: gif::DisposalMethod, frame: &[u8]) {
        let (w, h) = (self.width, self.height);
        match self.pending.take() {
            Some((gif::DisposalMethod::Background, r)) => {
                // Browsers clear to transparent, not to the background colour.
                let x_end = (r.x + r.w).min(w);
                let y_end = (r.y + r.h).min(h);
                for y in r.y.min(h)..y_end {
                    let start = (y * w + r.x.min(w)) as usize * 4;
                    let end = (y * w + x_end) as usize * 4;
                    self.canvas[start..end].fill(0);
                }
            }
            Some((gif::DisposalMethod::Previous, _)) => {
                if let Some(saved) = self.saved.take() {
                    self.canvas = saved;
                }
            }
            _ => {}
        }
        if dispose == gif::DisposalMethod::Previous {
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
                for (d, s) in self.canvas[dst..dst + n]
                    .chunks_exact_mut(4)
                    .zip(frame[src..src + n].chunks_exact(4))
                {
                    if s[3] != 0 {
                        d.copy_from_slice(s);
                    }
                }
            }
        }
        self.pending = Some((dispose, rect));
    }

    /// The canvas as it is now (RGBA).
    pub(crate) fn into_pixels(self) -> Vec<u8> {
        self.canvas
    }
}

/// A frame after resizing and palette mapping: palette indices of the whole square.
struct OutFrame {
    indices: Vec<u8>,
    delay: u32,
}

/// The output palette (≤ 255 colours) plus one transparent index, and a 15-bit lookup table
/// from colour to nearest palette entry.
struct Palette {
    rgb: Vec<u8>,
    transparent: u8,
    lut: Vec<u8>,
}

impl Palette {
    fn new(mut colors: Vec<[u8; 3]>) -> Palette {
        colors.truncate(255);
        if colors.is_empty() {
            colors.push([0, 0, 0]);
        }
        let transparent = colors.len() as u8;
        let lut: Vec<u8> = (0..32 * 32 * 32u32)
            .into_par_iter()
            .map(|i| {
                let c = [(i >> 10) & 31, (i >> 5) & 31, i & 31].map(|v| (v * 8 + 4) as i32);
                let mut best = (i32::MAX, 0u8);
                for (k, p) in colors.iter().enumerate() {
                    let d: i32 = (0..3).map(|j| (c[j] - i32::from(p[j])).pow(2)).sum();
                    if d < best.0 {
                        best = (d, k as u8);
                    }
                }
                best.1
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

    fn index(&self, px: &[u8]) -> u8 {
        if px[3] < 128 {
            return self.transparent;
        }
        let key = key15(px[0], px[1], px[2]);
        self.lut[key]
    }

    /// Size of the colour table GIF needs (a power of two ≥ 2).
    fn table_len(&self) -> usize {
        (self.rgb.len() / 3).next_power_of_two().max(2)
    }
}

/// A histogram bin: weight, weighted channel sums, 5-bit coordinates.
type Bin = (u64, [u64; 3], [u8; 3]);

/// The 15-bit key of a colour (5 bits per channel).
fn key15(r: u8, g: u8, b: u8) -> usize {
    (usize::from(r >> 3) << 10) | (usize::from(g >> 3) << 5) | usize::from(b >> 3)
}

/// Median cut over a 15-bit histogram of weighted colours: up to 255 colours.
fn median_cut(samples: &[([u8; 3], u64)]) -> Vec<[u8; 3]> {
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

/// Resizes one composited screen to the output square (RGBA, background under the bars).
fn render(
    resampler: &mut Resampler,
    screen: Decoded,
    plan: &Plan,
    background: Rgba,
) -> Result<Vec<u8>, PrepError> {
    let content = resampler.resize(&screen, plan.src, plan.dst.w, plan.dst.h)?;
    Ok(color::compose(plan.side, background, &content, plan.dst))
}

fn encode_animation(
    bytes: &[u8],
    o: &PrepOptions,
    scan: &Scan,
    kept: &[(usize, u32)],
    plan: &Plan,
    background: Rgba,
) -> Result<Vec<u8>, PrepError> {
    let side = u16::try_from(plan.side).map_err(|_| PrepError::internal("GIF side above 65535"))?;
    let mut dec = gif_decoder(bytes, &o.limits, false)?;
    let mut comp = Compositor::new(scan.width, scan.height);
    let chunk_len = (rayon::current_num_threads() * 2).max(4);
    let mut out = Vec::new();
    let mut writer = Writer::new(&mut out, side, scan.repeat)?;
    let mut palette: Option<Palette> = None;
    let mut next_kept = 0usize;
    let mut frame_buf = Vec::new();
    let mut chunk: Vec<(Decoded, u32)> = Vec::with_capacity(chunk_len);

    let mut index = 0usize;
    while let Some(info) = dec.next_frame_info().map_err(gif_error)? {
        let rect = Rect::new(
            u32::from(info.left),
            u32::from(info.top),
            u32::from(info.width),
            u32::from(info.height),
        );
        let dispose = info.dispose;
        check_dimensions(rect.w, rect.h, 4, &o.limits)?;
        frame_buf.resize(dec.buffer_size(), 0);
        dec.read_into_buffer(&mut frame_buf).map_err(gif_error)?;
        comp.draw(rect, dispose, &frame_buf);
        if kept.get(next_kept).is_some_and(|k| k.0 == index) {
            let delay = kept[next_kept].1;
            next_kept += 1;
            chunk.push((
                Decoded {
                    width: scan.width,
                    height: scan.height,
                    layout: Layout::Rgba8,
                    pixels: comp.canvas.clone(),
                },
                delay,
            ));
            if chunk.len() == chunk_len {
                flush(
                    &mut chunk,
                    plan,
                    background,
                    scan,
                    &mut palette,
                    &mut writer,
                )?;
            }
        }
        index += 1;
    }
    flush(
        &mut chunk,
        plan,
        background,
        scan,
        &mut palette,
        &mut writer,
    )?;
    writer.finish()?;
    drop(writer);
    Ok(out)
}

/// Processes a chunk: resize and palette-map in parallel, then hand the frames to the writer.
fn flush(
    chunk: &mut Vec<(Decoded, u32)>,
    plan: &Plan,
    background: Rgba,
    scan: &Scan,
    palette: &mut Option<Palette>,
    writer: &mut Writer<'_>,
) -> Result<(), PrepError> {
    if chunk.is_empty() {
        return Ok(());
    }
    let frames: Vec<(Vec<u8>, u32)> = std::mem::take(chunk)
        .into_par_iter()
        .map_init(Resampler::default, |r, (screen, delay)| {
            render(r, screen, plan, background).map(|px| (px, delay))
        })
        .collect::<Result<_, _>>()?;
    let pal = palette.get_or_insert_with(|| {
        let bg = (background.a == 255).then_some([background.r, background.g, background.b]);
        match &scan.only_palette {
            // Reuse the source palette: every frame's colours come from it.
            Some(p) if p.len() / 3 < 255 => {
                let mut colors: Vec<[u8; 3]> =
                    p.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect();
                colors.extend(bg.filter(|b| !colors.contains(b)));
                Palette::new(colors)
            }
            // Otherwise a palette for the colours of every frame's palette (read by the
            // scan), plus an opaque letterbox colour.
            _ => {
                let mut samples = scan.colors.clone();
                if let Some(b) = bg {
                    samples.push((b, 1 << 40));
                }
                Palette::new(median_cut(&samples))
            }
        }
    });
    let out: Vec<OutFrame> = frames
        .into_par_iter()
        .map(|(px, delay)| OutFrame {
            indices: px.chunks_exact(4).map(|p| pal.index(p)).collect(),
            delay,
        })
        .collect();
    writer.push(out, pal)
}

/// Writes frames in order as differences from the previous frame, LZW-compressed in
/// parallel. Holds back the last frame: its disposal depends on the next one.
struct Writer<'a> {
    /// The output, until the encoder is made (it needs the palette).
    out: Option<&'a mut Vec<u8>>,
    enc: Option<gif::Encoder<&'a mut Vec<u8>>>,
    repeat: gif::Repeat,
    side: u16,
    /// The previous frame as shown, and whether it was disposed to background (the whole
    /// canvas is then clear for the next frame).
    prev: Option<(OutFrame, bool)>,
    pending: Option<OutFrame>,
    /// The global colour table (padded to a power of two) and the transparent index.
    table: Option<(Vec<u8>, u8)>,
    started: bool,
}

fn enc_err(e: gif::EncodingError) -> PrepError {
    PrepError::internal(format!("GIF encoder: {e}"))
}

impl<'a> Writer<'a> {
    fn new(out: &'a mut Vec<u8>, side: u16, repeat: gif::Repeat) -> Result<Writer<'a>, PrepError> {
        Ok(Writer {
            out: Some(out),
            enc: None,
            repeat,
            side,
            prev: None,
            pending: None,
            table: None,
            started: false,
        })
    }

    fn push(&mut self, frames: Vec<OutFrame>, pal: &Palette) -> Result<(), PrepError> {
        if self.table.is_none() {
            let mut table = pal.rgb.clone();
            table.resize(pal.table_len() * 3, 0);
            self.table = Some((table, pal.transparent));
        }
        let t = pal.transparent;
        let mut ready = Vec::new();
        for f in frames {
            if let Some(p) = self.pending.take() {
                // `f` turns an opaque pixel of `p` transparent: `p` must be disposed to
                // background, and so written over the whole canvas.
                let clear = p
                    .indices
                    .iter()
                    .zip(&f.indices)
                    .any(|(&a, &b)| a != t && b == t);
                ready.push(self.frame_for(p, clear, t));
            }
            self.pending = Some(f);
        }
        self.write(ready)
    }

    /// Makes the GIF frame for `f` and records it as the previous frame.
    fn frame_for(&mut self, f: OutFrame, clear_after: bool, t: u8) -> gif::Frame<'static> {
        let side = u32::from(self.side);
        let full = Rect::new(0, 0, side, side);
        let (rect, indices) = match &self.prev {
            // Over a kept previous frame, only what changed (unless this one must be whole).
            Some((p, false)) if !clear_after => diff(p, &f, self.side, t),
            _ => (full, f.indices.clone()),
        };
        let mut frame =
            gif::Frame::from_indexed_pixels(rect.w as u16, rect.h as u16, indices, Some(t));
        frame.left = rect.x as u16;
        frame.top = rect.y as u16;
        frame.delay = u16::try_from(f.delay).unwrap_or(u16::MAX);
        frame.dispose = if clear_after {
            gif::DisposalMethod::Background
        } else {
            gif::DisposalMethod::Keep
        };
        self.prev = Some((f, clear_after));
        frame
    }

    fn write(&mut self, frames: Vec<gif::Frame<'static>>) -> Result<(), PrepError> {
        let encoded: Vec<gif::Frame<'static>> = frames
            .into_par_iter()
            .map(|mut f| {
                f.make_lzw_pre_encoded();
                f
            })
            .collect();
        if encoded.is_empty() {
            return Ok(());
        }
        if !self.started {
            self.started = true;
            let out = self
                .out
                .take()
                .ok_or_else(|| PrepError::internal("GIF writer reused"))?;
            let table = self.table.as_ref().map_or(&[][..], |t| t.0.as_slice());
            let mut enc = gif::Encoder::new(out, self.side, self.side, table).map_err(enc_err)?;
            enc.set_repeat(self.repeat).map_err(enc_err)?;
            self.enc = Some(enc);
        }
        let enc = self
            .enc
            .as_mut()
            .ok_or_else(|| PrepError::internal("GIF writer finished"))?;
        for f in &encoded {
            enc.write_lzw_pre_encoded_frame(f).map_err(enc_err)?;
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), PrepError> {
        let t = self.table.as_ref().map_or(0, |p| p.1);
        if let Some(p) = self.pending.take() {
            let f = self.frame_for(p, false, t);
            self.write(vec![f])?;
        }
        if let Some(enc) = self.enc.take() {
            enc.into_inner().map_err(enc_err)?;
        }
        Ok(())
    }
}

/// The smallest rectangle holding every pixel that differs from `prev`, with unchanged
/// pixels inside it set to the transparent index (they show `prev` through).
fn diff(prev: &OutFrame, cur: &OutFrame, side: u16, t: u8) -> (Rect, Vec<u8>) {
    let s = usize::from(side);
    let (mut x0, mut y0, mut x1, mut y1) = (s, s, 0usize, 0usize);
    for y in 0..s {
        let row = y * s;
        for x in 0..s {
            if prev.indices[row + x] != cur.indices[row + x] {
                x0 = x0.min(x);
                x1 = x1.max(x + 1);
                y0 = y0.min(y);
                y1 = y1.max(y + 1);
            }
        }
    }
    if x1 == 0 {
        // Nothing changed: one transparent pixel keeps the frame (and its delay).
        return (Rect::new(0, 0, 1, 1), vec![t]);
    }
    let mut out = Vec::with_capacity((x1 - x0) * (y1 - y0));
    for y in y0..y1 {
        for x in x0..x1 {
            let (a, b) = (prev.indices[y * s + x], cur.indices[y * s + x]);
            out.push(if a == b { t } else { b });
        }
    }
    (
        Rect::new(x0 as u32, y0 as u32, (x1 - x0) as u32, (y1 - y0) as u32),
        out,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimation_keeps_the_total_duration() {
        let delays: Vec<u16> = (0..250).map(|i| (i % 7) as u16 + 1).collect();
        let total: u32 = delays.iter().map(|&d| u32::from(d)).sum();
        for max in [1usize, 2, 10, 100, 249, 250, 400] {
            let kept = keep_frames(&delays, max);
            assert_eq!(kept.len(), max.min(250));
            assert_eq!(kept.iter().map(|k| k.1).sum::<u32>(), total, "max {max}");
            assert_eq!(kept[0].0, 0);
            assert!(kept.windows(2).all(|w| w[0].0 < w[1].0));
        }
    }

    #[test]
    fn median_cut_keeps_few_colours_exact() {
        let samples = [([255u8, 0, 0], 100), ([0, 0, 248], 7), ([8, 200, 16], 1)];
        let mut colors = median_cut(&samples);
        colors.sort();
        assert_eq!(colors, vec![[0, 0, 248], [8, 200, 16], [255, 0, 0]]);
    }
}
