//! AVIF (cargo feature `avif`): the HEIF container with zenavif-parse, AV1 with rav1d
//! (through the safe wrapper in `av1.rs`), YUV → RGB in `yuv.rs`.
//!
//! - Still images: the primary item, or a grid of them (tiles decoded in parallel, one tile
//!   row at a time), with its alpha item (auxiliary `urn:mpeg:mpegB:cicp:systems:auxiliary:alpha`,
//!   premultiplied or not). A grid's alpha is a grid too (found by `heif_boxes::alpha`):
//!   each tile is decoded with its alpha tile. An alpha grid laid out unlike the colour grid,
//!   or a single alpha item over a grid, is not read (the image is shown opaque).
//! - Transforms: `clap` is applied here (it changes the size); `irot`/`imir` become the
//!   [`Orientation`] that the pipeline applies to the small output. The EXIF orientation is
//!   never used: per MIAF, `irot`/`imir` already say how to show the image.
//! - Colour: an ICC profile in `colr` is passed on; an `nclx` with primaries or transfer
//!   other than sRGB's becomes an ICC profile made by moxcms, so the pipeline converts it.
//! - Sequences (`.avifs`): an animated GIF through the animation path, frame durations from
//!   the track's timescale; the still path takes the primary item (or the first frame).
//!
//! Limits: the size comes from the grid box or the AV1 sequence header and goes through
//! `check_dimensions` before any pixel buffer exists; rav1d gets the pixel limit too.

use crate::decode::seam::{Header, Pending};
use crate::error::PrepError;
use crate::limits::Limits;
use crate::pixels::Decoded;

mod container;
mod pixels;
mod sequence;
#[cfg(test)]
mod tests;

use container::{facts, parse, parse_error, primary, walk, FORMAT};
use pixels::{crop, decode_grid, decode_item};
pub(super) use sequence::{scan, Frames};

pub(super) fn header<'a>(bytes: &'a [u8], limits: &Limits) -> Result<Pending<'a>, PrepError> {
    walk(bytes, limits)?;
    let p = parse(bytes, limits)?;
    let f = facts(bytes, &p, limits)?;
    let (width, height) = f.crop.map_or((f.width, f.height), |(_, _, w, h)| (w, h));
    let header = Header {
        format: FORMAT,
        width,
        height,
        orientation: f.orientation,
        icc: f.icc,
        cmyk: false,
        recovery: f.recovery,
    };
    Ok(Pending::new(bytes, header, limits))
}

pub(super) fn decode(pending: Pending<'_>) -> Result<Decoded, PrepError> {
    let bytes = pending.bytes;
    let limits = &pending.limits;
    let p = parse(bytes, limits)?;
    let f = facts(bytes, &p, limits)?;
    let img = match f.grid {
        Some(g) => decode_grid(bytes, &p, &f, g, limits)?,
        None => {
            let color = primary(bytes, &p)?;
            let alpha = match p.alpha_data() {
                Some(a) => Some(a.map_err(|e| parse_error(bytes, e))?),
                None => None,
            };
            let img = decode_item(
                bytes,
                &color,
                alpha.as_deref(),
                p.premultiplied_alpha(),
                f.nclx,
                limits,
            )?;
            if (img.width, img.height) != (f.width, f.height) {
                return Err(PrepError::corrupt(
                    FORMAT,
                    "the AV1 frame's size differs from its sequence header",
                ));
            }
            img
        }
    };
    Ok(match f.crop {
        Some(rect) => crop(img, rect),
        None => img,
    })
}
