//! HEIC / HEIF (HEVC in HEIF, what iPhones write) with
//! [heic-decoder](https://crates.io/crates/heic-decoder) 0.1.1: pure Rust, `forbid(unsafe)`,
//! MIT OR Apache-2.0. Behind the cargo feature `heic`, off by default.
//!
//! **Route.** Three were weighed (see the README): heic-decoder; heifer 0.3 (MIT/Apache, with
//! `max_pixels`/`max_threads` options, but a non-optional encoder crate and no header-only
//! probe of its own); libheif through `libheif-rs` (LGPL-3 C library, Debian's 1.15 is older
//! than the bindings that can reach it). heic-decoder was taken: it decodes grids, 8/10-bit,
//! 4:0:0 to 4:4:4, alpha, `irot`/`imir`/`clap`, and gives ICC, EXIF and nclx; its parser and
//! SPS reader (the `internals` feature, hence the exact version pin) let the header step
//! check every size before a sample is decoded; and against libheif (libde265) it is
//! identical on 4:4:4 and within rounding on photographs (a 12 MP iPhone-like grid: mean
//! difference 0.23, 99th percentile 2), differing only in how 4:2:0 chroma is upsampled at
//! hard colour edges (`tests/fixtures/heic/README.md`). heifer stays the fallback behind
//! this same file if heic-decoder disappoints.
//!
//! **Patents.** HEVC is covered by patent pools (Access Advance, Via LA) whatever the licence
//! of the code that decodes it; that is why this format is opt-in.
//!
//! **Orientation.** heic-decoder applies `clap`, `irot` and `imir` itself, so a file that has
//! `irot`/`imir` reports [`Orientation::Normal`]: per MIAF those are the orientation, and the
//! EXIF Orientation an iPhone also writes must not be applied on top. A file with neither
//! (a non-MIAF writer) reports its EXIF Orientation, which the pipeline applies as for JPEG
//! (libheif ignores it there). Depth maps, thumbnails and other auxiliary images are ignored;
//! an auxiliary alpha image is kept.
//!
//! **Limits.** heic-decoder's parser copies every tile's bytes before it checks sizes, and its
//! only ceiling is a fixed 2^28 samples per picture. So [`heif_boxes`](super::heif_boxes) walks the boxes first (the
//! declared size from `ispe` or the grid, the tile count, the coded bytes, every extent
//! inside the file), then the parameter sets of every tile are read for the sizes the
//! decoder will really allocate; all of this is checked against [`Limits`] before decoding.

use heic_decoder::isobmff::{self, HevcDecoderConfig, Transform};
use heic_decoder::HeifError;

use super::heif_boxes::{self as boxes, BoxError};
use crate::color::nclx_profile;
use crate::decode::seam::{check_dimensions, exif_orientation, Header, Pending};
use crate::error::PrepError;
use crate::limits::Limits;
use crate::options::ImageFormat;
use crate::orient::Orientation;
use crate::pixels::{Decoded, Layout};

const FORMAT: ImageFormat = ImageFormat::Heic;

/// Most tiles a grid may have. An iPhone's 12 MP photo has 48, its 48 MP one 192; a grid
/// may declare up to 256 × 256, and every tile is a separate HEVC decode.
pub(crate) const MAX_GRID_TILES: usize = 1024;

fn heif_error(e: HeifError) -> PrepError {
    match e {
        HeifError::Truncated { .. } => PrepError::truncated_by(FORMAT, "the data ends early", e),
        HeifError::Unsupported(what) => PrepError::UnsupportedVariant {
            format: FORMAT,
            detail: what.to_string(),
        },
        other => PrepError::corrupt_by(FORMAT, "heic-decoder refused the data", other),
    }
}

fn box_error(e: BoxError) -> PrepError {
    match e {
        BoxError::Truncated(what) => PrepError::truncated(FORMAT, what),
        BoxError::Corrupt(what) => PrepError::corrupt(FORMAT, what),
        BoxError::NoStill => PrepError::corrupt(FORMAT, "an image sequence without a still image"),
    }
}

/// The colour profile the pipeline converts from: the ICC profile in `colr`; else one made
/// from the `nclx` box, or else from the first picture's SPS VUI, when its primaries or
/// transfer are not sRGB's (an Android phone's Display P3 HEIC carries `nclx` 12/13 and no
/// ICC). heic-decoder outputs RGB in the source primaries and transfer (its `color` module:
/// "not an ICC transform"), so without this a P3 photo would be shown as if it were sRGB.
fn colour_profile(parsed: &isobmff::ParsedHeif) -> Result<Option<Vec<u8>>, PrepError> {
    if let Some(icc) = &parsed.metadata.icc_profile {
        return Ok(Some(icc.clone()));
    }
    let colour = match parsed.metadata.color_info {
        Some(c) => Some(c),
        None => match parsed.images.first() {
            Some(image) => sps(&image.hevc_config)?.color_info,
            None => None,
        },
    };
    Ok(colour.and_then(|c| nclx_profile(c.color_primaries, c.transfer_characteristics)))
}

/// The SPS of one HEVC item.
fn sps(config: &HevcDecoderConfig) -> Result<heic_decoder::hevc::params::Sps, PrepError> {
    use heic_decoder::bitreader::strip_emulation_prevention;
    use heic_decoder::hevc::{nal, params};
    let sps = config
        .nalus_of_type(nal::NAL_SPS)
        .next()
        .ok_or_else(|| PrepError::corrupt(FORMAT, "no SPS in hvcC"))?;
    let (_, payload) = nal::parse_nal_header(sps).map_err(heif_error)?;
    params::parse_sps(&strip_emulation_prevention(payload)).map_err(heif_error)
}

/// The coded picture size of one HEVC item, from its SPS.
fn coded_size(config: &HevcDecoderConfig) -> Result<(u32, u32), PrepError> {
    let sps = sps(config)?;
    Ok((
        sps.pic_width_in_luma_samples,
        sps.pic_height_in_luma_samples,
    ))
}

/// Bytes per pixel of heic-decoder's planes: `i32` samples, luma plus two chroma planes
/// (4:2:0 halves them both ways, 4:2:2 one way), or luma only.
fn plane_bytes(chroma_format_idc: u32) -> u64 {
    match chroma_format_idc {
        0 => 4,
        1 => 6,
        2 => 8,
        _ => 12,
    }
}

/// The header: the box walk's sizes checked, then every tile's coded size, then the size
/// after `clap`/`irot`, alpha, the ICC profile and the orientation.
pub(super) fn header<'a>(bytes: &'a [u8], limits: &Limits) -> Result<Pending<'a>, PrepError> {
    let walk = boxes::primary(bytes, MAX_GRID_TILES, b"hvc1").map_err(box_error)?;
    if !matches!(&walk.item_type, b"hvc1" | b"grid") {
        return Err(PrepError::UnsupportedVariant {
            format: FORMAT,
            detail: format!(
                "a primary image of type '{}' (HEVC or a grid of HEVC tiles is taken)",
                String::from_utf8_lossy(&walk.item_type)
            ),
        });
    }
    if let Some((w, h)) = walk.size {
        if w == 0 || h == 0 {
            return Err(PrepError::corrupt(FORMAT, "zero width or height"));
        }
        check_dimensions(w, h, 4, limits)?;
    }
    if walk.tiles > MAX_GRID_TILES {
        return Err(PrepError::UnsupportedVariant {
            format: FORMAT,
            detail: format!(
                "a grid of {} tiles (at most {MAX_GRID_TILES} are taken)",
                walk.tiles
            ),
        });
    }
    // The decoder copies every item's and every tile's bytes: more than the file holds
    // means extents or tiles that share their data, which no encoder writes.
    let room = 2 * bytes.len() as u64 + 4096;
    if walk.coded_bytes.max(walk.item_bytes) > room {
        return Err(PrepError::corrupt(
            FORMAT,
            format!(
                "the image items add up to {} bytes in a file of {}",
                walk.coded_bytes.max(walk.item_bytes),
                bytes.len()
            ),
        ));
    }
    if walk.tile_pixels > limits.max_pixels {
        // Named by the area the tiles cover, which is what is over the limit.
        let (width, height) = walk.tile_extent;
        return Err(PrepError::TooManyPixels {
            width,
            height,
            limit: limits.max_pixels,
        });
    }
    let parsed = isobmff::parse(bytes).map_err(heif_error)?;
    // What the decoder will allocate: every coded picture (tiles, alpha) at its SPS size,
    // the assembled canvas, one more plane while turning or converting it.
    let info = heic_decoder::probe(bytes).map_err(heif_error)?;
    let (width, height) = (
        u32::try_from(info.width).unwrap_or(u32::MAX),
        u32::try_from(info.height).unwrap_or(u32::MAX),
    );
    check_dimensions(width, height, 4, limits)?;
    let plane = plane_bytes(info.chroma_format_idc);
    let mut coded = Vec::with_capacity(parsed.images.len() + 1);
    for image in &parsed.images {
        coded.push((coded_size(&image.hevc_config)?, plane));
    }
    if let Some(alpha) = &parsed.alpha {
        for image in &alpha.image.images {
            coded.push((coded_size(&image.hevc_config)?, 4));
        }
    }
    let mut needed = 0u64;
    for ((w, h), plane) in coded {
        check_dimensions(w, h, plane, limits)?;
        needed = needed.saturating_add(u64::from(w) * u64::from(h) * plane);
    }
    let canvas = u64::from(info.coded_width as u32) * u64::from(info.coded_height as u32);
    needed = needed.saturating_add(canvas.saturating_mul(plane + 4));
    if needed > limits.max_decode_bytes {
        return Err(PrepError::DecoderMemory {
            needed,
            limit: limits.max_decode_bytes,
        });
    }
    // MIAF: irot/imir are the orientation (applied by heic-decoder); EXIF only without them.
    let transformed = parsed
        .transforms
        .iter()
        .any(|t| !matches!(t, Transform::CleanAperture(_)));
    let mut recovery = Vec::new();
    let orientation = match &parsed.metadata.exif {
        Some(exif) if !transformed => exif_orientation(exif, &mut recovery),
        _ => Orientation::Normal,
    };
    let header = Header {
        format: FORMAT,
        width,
        height,
        orientation,
        icc: colour_profile(&parsed)?,
        cmyk: false,
        recovery,
    };
    Ok(Pending::new(bytes, header, limits))
}

/// Decodes the primary image (grid assembled, `clap`/`irot`/`imir` applied) to 8-bit RGB, or
/// RGBA when there is an alpha image; 10- and 12-bit samples are narrowed with rounding.
pub(super) fn decode(p: Pending<'_>) -> Result<Decoded, PrepError> {
    let image = heic_decoder::decode(p.bytes).map_err(heif_error)?;
    let (width, height) = (image.width as u32, image.height as u32);
    if (width, height) != (p.header.width, p.header.height) {
        return Err(PrepError::corrupt(
            FORMAT,
            "the image size differs from the header",
        ));
    }
    let (layout, pixels) = if image.alpha.is_some() {
        let rgba = image.to_rgba8().map_err(heif_error)?;
        drop(image);
        let mut pixels = rgba.data;
        if rgba.premultiplied {
            unpremultiply(&mut pixels);
        }
        (Layout::Rgba8, pixels)
    } else {
        let rgb = image.to_rgb8().map_err(heif_error)?;
        (Layout::Rgb8, rgb.data)
    };
    if pixels.len() != width as usize * height as usize * layout.bpp() {
        return Err(PrepError::corrupt(
            FORMAT,
            "decoded size does not match the header",
        ));
    }
    Ok(Decoded {
        width,
        height,
        layout,
        pixels,
        recovery: Vec::new(),
    })
}

/// Premultiplied RGBA (a `prem` reference) to straight alpha, rounded.
fn unpremultiply(rgba: &mut [u8]) {
    for px in rgba.chunks_exact_mut(4) {
        let a = u32::from(px[3]);
        if a != 0 && a != 255 {
            for c in &mut px[..3] {
                *c = ((u32::from(*c) * 255 + a / 2) / a).min(255) as u8;
            }
        }
    }
}

#[cfg(test)]
mod tests;
