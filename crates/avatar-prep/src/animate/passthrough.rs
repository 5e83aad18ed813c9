//! The lossless path for GIFs that need no resampling (the side is already in range, the
//! bars are transparent): the frames re-optimised with their exact colours, or copied as they
//! are, whichever is smaller.

use super::optimise::{pack, Screen};
use super::palette;
use super::writer::{enc_err, Writer};
use crate::decode::{self, gif_decoder, gif_error, AnimScan};
use crate::error::PrepError;
use crate::geometry::Plan;
use crate::options::{ImageFormat, PrepOptions};

/// The GIF and its number of frames, or `None` when neither lossless way works (the caller
/// re-encodes through the palette).
pub(super) fn pass_through(
    bytes: &[u8],
    o: &PrepOptions,
    plan: &Plan,
    scan: &AnimScan,
) -> Result<Option<(Vec<u8>, u32)>, PrepError> {
    let n = scan.delays.len();
    let copied = copy(bytes, o, plan, n)?;
    // Re-optimising fails only where copying is the answer (a frame needing more than 256
    // colours once composited) or where the re-encode below reports the same error again.
    let optimised = reoptimise(bytes, o, plan, scan).ok();
    Ok(match (optimised, copied) {
        (Some(opt), Some(copy)) if copy.len() <= opt.0.len() => Some((copy, n as u32)),
        (Some(opt), _) => Some(opt),
        (None, copy) => copy.map(|c| (c, n as u32)),
    })
}

/// Every frame composited as a browser shows it, placed on the square and written again by
/// the optimising [`Writer`] with its exact colours: the global palette is the source's most
/// used colours, frames with others get local palettes.
fn reoptimise(
    bytes: &[u8],
    o: &PrepOptions,
    plan: &Plan,
    scan: &AnimScan,
) -> Result<(Vec<u8>, u32), PrepError> {
    let side = u16::try_from(plan.side).map_err(|_| PrepError::internal("GIF side above 65535"))?;
    let s = usize::from(side);
    let (w, dx, dy) = (
        scan.width as usize,
        plan.dst.x as usize,
        plan.dst.y as usize,
    );
    let mut writer = Writer::new(side, scan.repeat, &palette::exact(&scan.palette))?;
    let mut frames = decode::animation_frames(ImageFormat::Gif, bytes, &o.limits, scan)?;
    let chunk_len = (rayon::current_num_threads() * 2).max(4);
    let mut delays = scan.delays.iter().copied();
    // One chunk is decoded (sequential) while the one before is planned and compressed.
    let mut read = |n: usize| -> Result<Vec<(Screen, u32)>, PrepError> {
        let mut chunk = Vec::with_capacity(n);
        for delay in delays.by_ref().take(n) {
            let Some(rgba) = frames.next_screen()? else {
                break;
            };
            let mut screen = vec![0u32; s * s];
            for (out, row) in screen
                .chunks_exact_mut(s)
                .skip(dy)
                .zip(rgba.chunks_exact(w * 4))
            {
                for (d, p) in out[dx..dx + w].iter_mut().zip(row.chunks_exact(4)) {
                    *d = pack(p);
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

/// Every frame's compressed data copied as it is, each frame moved by the bars' offset on a
/// larger, square logical screen. Palettes, transparency, disposal, delays and the loop count
/// are untouched; nothing is decoded or re-encoded. `None` when a frame reaches beyond the
/// old screen (it must be clipped, so decoded).
fn copy(
    bytes: &[u8],
    o: &PrepOptions,
    plan: &Plan,
    frames: usize,
) -> Result<Option<Vec<u8>>, PrepError> {
    let side = u16::try_from(plan.side).map_err(|_| PrepError::internal("GIF side above 65535"))?;
    let (dx, dy) = (plan.dst.x, plan.dst.y);
    let mut dec = gif_decoder(bytes, &o.limits, true)?;
    let global = dec.global_palette().map(<[u8]>::to_vec).unwrap_or_default();
    let repeat = dec.repeat();
    let mut out = Vec::with_capacity(bytes.len() + 1024);
    {
        let mut enc = gif::Encoder::new(&mut out, side, side, &global).map_err(enc_err)?;
        enc.set_repeat(repeat).map_err(enc_err)?;
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
        }
    }
    Ok(Some(out))
}
