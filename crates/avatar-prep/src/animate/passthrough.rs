//! The lossless path for GIFs that need no resampling (the side is already in range, a crop
//! takes pixels as they are, the bars are transparent or one opaque colour): the frames
//! re-optimised with their exact colours, or copied as they are, whichever is smaller. A
//! still (one frame kept) is written without a loop extension.

use super::optimise::{pack, unpack, Screen};
use super::palette;
use super::writer::{chunk_len, enc_err, Writer};
use crate::decode::{self, gif_decoder, gif_error, AnimScan};
use crate::error::PrepError;
use crate::geometry::{Plan, Rect};
use crate::options::{ImageFormat, PrepOptions, Rgba};

/// The GIF and its number of frames, or `None` when neither lossless way works (the caller
/// re-encodes through the palette). `frames` is how many of the scan's frames are kept (all,
/// or the first alone for a still); `background` is the bars' colour (alpha 0 or 255).
pub(super) fn pass_through(
    bytes: &[u8],
    o: &PrepOptions,
    plan: &Plan,
    background: Rgba,
    scan: &AnimScan,
    frames: usize,
) -> Result<Option<(Vec<u8>, u32)>, PrepError> {
    let whole = Rect::new(0, 0, scan.width, scan.height);
    // Copying moves frames, it cannot crop them or paint bars under them.
    let copied = if plan.src == whole && background.a == 0 {
        copy(bytes, o, plan, frames)?
    } else {
        None
    };
    // Re-optimising fails only where copying is the answer (a frame needing more than 256
    // colours once composited) or where the re-encode below reports the same error again.
    let optimised = reoptimise(bytes, o, plan, background, scan, frames).ok();
    Ok(match (optimised, copied) {
        (Some(opt), Some(copy)) if copy.0.len() <= opt.0.len() => Some(copy),
        (Some(opt), _) => Some(opt),
        (None, copy) => copy,
    })
}

/// Every frame composited as a browser shows it, placed on the square and written again by
/// the optimising [`Writer`] with its exact colours: the global palette is the source's most
/// used colours, frames with others get local palettes.
fn reoptimise(
    bytes: &[u8],
    o: &PrepOptions,
    plan: &Plan,
    background: Rgba,
    scan: &AnimScan,
    kept: usize,
) -> Result<(Vec<u8>, u32), PrepError> {
    let side = u16::try_from(plan.side).map_err(|_| PrepError::internal("GIF side above 65535"))?;
    let s = usize::from(side);
    let (w, src) = (scan.width as usize, plan.src);
    let (sx, sw) = (src.x as usize, src.w as usize);
    let (dx, dy) = (plan.dst.x as usize, plan.dst.y as usize);
    // The bars, and every transparent pixel over them, show the background.
    let bg = pack(&background.to_array());
    let mut global = palette::exact(&scan.palette);
    if bg != 0 {
        let c = unpack(bg);
        global.retain(|&g| g != c);
        global.insert(0, c);
    }
    let repeat = (kept > 1).then_some(scan.repeat);
    let mut writer = Writer::new(side, repeat, &global)?;
    let mut frames = decode::animation_frames(ImageFormat::Gif, bytes, &o.limits, scan)?;
    let chunk_len = chunk_len();
    let mut delays = scan.delays.iter().copied().take(kept);
    // One chunk is decoded (sequential) while the one before is planned and compressed.
    let mut read = |n: usize| -> Result<Vec<(Screen, u32)>, PrepError> {
        let mut chunk = Vec::with_capacity(n);
        for delay in delays.by_ref().take(n) {
            let Some(rgba) = frames.next_screen()? else {
                break;
            };
            let mut screen = vec![bg; s * s];
            let rows = rgba.chunks_exact(w * 4).skip(src.y as usize);
            for (out, row) in screen
                .chunks_exact_mut(s)
                .skip(dy)
                .zip(rows)
                .take(src.h as usize)
            {
                let row = &row[sx * 4..(sx + sw) * 4];
                for (d, p) in out[dx..dx + sw].iter_mut().zip(row.chunks_exact(4)) {
                    let c = pack(p);
                    *d = if c == 0 { bg } else { c };
                }
            }
            chunk.push((screen, delay));
        }
        Ok(chunk)
    };
    let mut chunk = read(chunk_len)?;
    while !chunk.is_empty() {
        // (The frame source is not `Send`: it stays on this thread, the writer moves.)
        let mut pushed = Ok(());
        let (w, p) = (&mut writer, &mut pushed);
        let next = rayon::in_place_scope(|sc| {
            sc.spawn(move |_| *p = w.push(chunk));
            read(chunk_len)
        });
        pushed?;
        chunk = next?;
    }
    writer.finish()
}

/// The first `frames` frames' compressed data copied as it is, each frame moved by the bars'
/// offset on a larger, square logical screen. Palettes, transparency, disposal, delays and
/// the loop count (none for one frame) are untouched; nothing is decoded or re-encoded.
/// `None` when a frame reaches beyond the old screen (it must be clipped, so decoded).
fn copy(
    bytes: &[u8],
    o: &PrepOptions,
    plan: &Plan,
    frames: usize,
) -> Result<Option<(Vec<u8>, u32)>, PrepError> {
    let side = u16::try_from(plan.side).map_err(|_| PrepError::internal("GIF side above 65535"))?;
    let (dx, dy) = (plan.dst.x, plan.dst.y);
    let mut dec = gif_decoder(bytes, &o.limits, true)?;
    let global = dec.global_palette().map(<[u8]>::to_vec).unwrap_or_default();
    let repeat = dec.repeat();
    let mut out = Vec::with_capacity(bytes.len() + 1024);
    let mut written = 0u32;
    {
        let mut enc = gif::Encoder::new(&mut out, side, side, &global).map_err(enc_err)?;
        if frames > 1 {
            enc.set_repeat(repeat).map_err(enc_err)?;
        }
        // The scan's frames: a file cut inside a later frame keeps those before it.
        for _ in 0..frames {
            let Some(frame) = dec.read_next_frame().map_err(gif_error)? else {
                break;
            };
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
            written += 1;
        }
    }
    Ok(Some((out, written)))
}
