//! The lossless path for GIFs that need no resampling.

use crate::decode::{gif_decoder, gif_error};
use crate::error::PrepError;
use crate::geometry::Plan;
use crate::options::PrepOptions;

use super::writer::enc_err;

/// When the GIF needs no resampling (its side is already in range) and only transparent
/// letterbox bars: every frame's compressed data is copied as it is, each frame moved by the
/// bars' offset on a larger, square logical screen. Palettes, transparency, disposal, delays
/// and the loop count are untouched; nothing is decoded or re-encoded. `None` when a frame
/// reaches beyond the old screen (it must be clipped, so decoded).
pub(super) fn pass_through(
    bytes: &[u8],
    o: &PrepOptions,
    plan: &Plan,
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
