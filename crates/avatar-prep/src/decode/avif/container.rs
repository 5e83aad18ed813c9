//! The AVIF container: limits checked from the boxes, zenavif-parse's view of the file,
//! and the facts (size, orientation, colour, grid) the header and decode steps share.

use std::borrow::Cow;

use zenavif_parse::{AV1Metadata, AvifParser, ColorInformation, DecodeConfig, Unstoppable};

use crate::color::nclx_profile;
use crate::decode::av1::Av1Error;
use crate::decode::heif_boxes::{self, BoxError};
use crate::decode::seam::{check_dimensions, exif_orientation};
use crate::error::PrepError;
use crate::limits::Limits;
use crate::options::ImageFormat;
use crate::orient::Orientation;
use crate::recovery::Recovery;

pub(super) const FORMAT: ImageFormat = ImageFormat::Avif;

/// Most tiles a grid may have (a 12 MP photo in 512² tiles has 48, a 48 MP one 192; HEIF
/// allows 65 536, each a separate AV1 decode). The same as HEIC's.
pub(super) const MAX_TILES: u32 = 1024;
/// Most samples a sequence may list; the frame policy and budget decide below this.
pub(super) const MAX_FRAMES: u32 = 100_000;

/// Whether a top-level box runs past the end of the data: then a failure is the cut's doing.
pub(super) fn is_cut(b: &[u8]) -> bool {
    let mut at = 0usize;
    while at < b.len() {
        let Some(head) = b.get(at..at + 8) else {
            return true;
        };
        let size = u64::from(u32::from_be_bytes([head[0], head[1], head[2], head[3]]));
        let size = match size {
            0 => return false,
            1 => match b.get(at + 8..at + 16) {
                Some(s) => u64::from_be_bytes(s.try_into().unwrap_or_default()),
                None => return true,
            },
            n => n,
        };
        if size < 8 {
            return false;
        }
        match usize::try_from(size).ok().and_then(|s| at.checked_add(s)) {
            Some(end) if end <= b.len() => at = end,
            _ => return true,
        }
    }
    false
}

pub(super) fn parse_error(bytes: &[u8], e: zenavif_parse::Error) -> PrepError {
    use zenavif_parse::Error as E;
    match e {
        E::UnexpectedEOF => PrepError::truncated_by(FORMAT, "the data ends early", e),
        E::Io(ref io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            PrepError::truncated_by(FORMAT, "the data ends early", e)
        }
        _ if is_cut(bytes) => PrepError::truncated_by(FORMAT, "the data ends early", e),
        E::Unsupported(what) => PrepError::UnsupportedVariant {
            format: FORMAT,
            detail: what.to_owned(),
        },
        E::ResourceLimitExceeded(what) => PrepError::UnsupportedVariant {
            format: FORMAT,
            detail: format!("more than the parser's limit ({what})"),
        },
        other => PrepError::corrupt_by(FORMAT, "zenavif-parse refused the container", other),
    }
}

pub(super) fn av1_error(bytes: &[u8], e: Av1Error) -> PrepError {
    match e {
        Av1Error::Unsupported(detail) => PrepError::UnsupportedVariant {
            format: FORMAT,
            detail,
        },
        e if is_cut(bytes) => PrepError::truncated_by(FORMAT, "the data ends early", e),
        e => PrepError::corrupt_by(FORMAT, "rav1d refused the AV1 data", e),
    }
}

pub(super) fn parse<'a>(bytes: &'a [u8], limits: &Limits) -> Result<AvifParser<'a>, PrepError> {
    let megapixels = limits.max_pixels.div_ceil(1_000_000).max(1);
    let config = DecodeConfig::default()
        .with_peak_memory_limit(limits.max_decode_bytes)
        .with_total_megapixels_limit(u32::try_from(megapixels).unwrap_or(u32::MAX))
        .with_max_grid_tiles(MAX_TILES)
        .with_max_animation_frames(MAX_FRAMES);
    AvifParser::from_bytes_with_config(bytes, &config, &Unstoppable)
        .map_err(|e| parse_error(bytes, e))
}

/// A grid: `rows` × `cols` tiles of `tile_w` × `tile_h`, cropped to the output size.
#[derive(Debug, Clone, Copy)]
pub(super) struct Grid {
    pub(super) rows: u32,
    pub(super) cols: u32,
    pub(super) tile_w: u32,
    pub(super) tile_h: u32,
}

/// What the container says about the still image, before any pixel is decoded.
#[derive(Debug, Clone)]
pub(super) struct Facts {
    /// The coded (grid output or frame) size, before `clap`.
    pub(super) width: u32,
    pub(super) height: u32,
    pub(super) grid: Option<Grid>,
    /// `clap` as (x, y, w, h) in the coded image; `None`: the whole image.
    pub(super) crop: Option<(u32, u32, u32, u32)>,
    pub(super) orientation: Orientation,
    pub(super) icc: Option<Vec<u8>>,
    /// What the header needed (an unreadable EXIF block).
    pub(super) recovery: Vec<Recovery>,
    /// From `nclx`: (matrix, full range), which take precedence over the AV1 header.
    pub(super) nclx: Option<(u16, bool)>,
}

/// The AV1 sequence header of some OBUs.
pub(super) fn av1_meta(bytes: &[u8], obus: &[u8]) -> Result<AV1Metadata, PrepError> {
    AV1Metadata::parse_av1_bitstream(obus).map_err(|e| parse_error(bytes, e))
}

/// The primary item's data, or the first frame's for a sequence without one.
pub(super) fn primary<'p>(bytes: &[u8], p: &'p AvifParser<'_>) -> Result<Cow<'p, [u8]>, PrepError> {
    let data = p.primary_data().map_err(|e| parse_error(bytes, e))?;
    if !data.is_empty() || p.animation_info().is_none() {
        return Ok(data);
    }
    Ok(p.frame(0).map_err(|e| parse_error(bytes, e))?.data)
}

/// Decode-time bytes per pixel: the 8-bit output plus rav1d's planes (and alpha).
pub(super) fn bytes_per_pixel(m: &AV1Metadata, alpha: bool) -> u64 {
    let sample = if m.bit_depth > 8 { 2 } else { 1 };
    let chroma = match (
        m.monochrome,
        m.chroma_subsampling.horizontal,
        m.chroma_subsampling.vertical,
    ) {
        (true, ..) => 0.0,
        (false, true, true) => 0.5,
        (false, true, false) => 1.0,
        _ => 2.0,
    };
    let planes = (1.0 + chroma + if alpha { 1.0 } else { 0.0 }) * f64::from(sample);
    4 + planes.ceil() as u64
}

/// The `clap` rectangle in a `w` × `h` image, by ISO/IEC 23008-12's centred arithmetic;
/// `None` if there is none or it does not fit (then the whole image is shown, as browsers do).
pub(super) fn clean_aperture(
    c: &zenavif_parse::CleanAperture,
    w: u32,
    h: u32,
) -> Option<(u32, u32, u32, u32)> {
    let axis =
        |size_n: u32, size_d: u32, off_n: i32, off_d: u32, full: u32| -> Option<(u32, u32)> {
            if size_d == 0 || off_d == 0 || !size_n.is_multiple_of(size_d) {
                return None;
            }
            let size = i64::from(size_n / size_d);
            // Left edge = offset + (full - size) / 2, as one fraction over 2·off_d.
            let num = 2 * i64::from(off_n) + (i64::from(full) - size) * i64::from(off_d);
            let den = 2 * i64::from(off_d);
            // A half-pixel edge (an odd margin) rounds up, as libavif's rendering of
            // `kimono.crop.avif` (x = 271.5 → 272) does.
            let start = (2 * num + den).div_euclid(2 * den);
            (size >= 1 && start >= 0 && start + size <= i64::from(full))
                .then_some((start as u32, size as u32))
        };
    let (x, cw) = axis(c.width_n, c.width_d, c.horiz_off_n, c.horiz_off_d, w)?;
    let (y, ch) = axis(c.height_n, c.height_d, c.vert_off_n, c.vert_off_d, h)?;
    ((x, y, cw, ch) != (0, 0, w, h)).then_some((x, y, cw, ch))
}

/// `irot` (anticlockwise quarter turns) then `imir` as one EXIF orientation. `imir`'s field
/// is read as ISO/IEC 23008-12:2022 and libavif 1.x read it (`mode`): 0 mirrors top to
/// bottom, 1 left to right. (The 2017 text called it `axis` and was read the other way
/// round by some; the libavif renderings of `kimono.mirror-*.avif` settle it.)
pub(super) fn orientation(angle: u16, mirror: Option<u8>) -> Orientation {
    use Orientation as O;
    match (angle % 360, mirror.map(|mode| mode & 1 == 1)) {
        (90, None) => O::Rotate270,
        (180, None) => O::Rotate180,
        (270, None) => O::Rotate90,
        (0, Some(true)) | (180, Some(false)) => O::FlipHorizontal,
        (0, Some(false)) | (180, Some(true)) => O::FlipVertical,
        (90, Some(true)) | (270, Some(false)) => O::Transverse,
        (90, Some(false)) | (270, Some(true)) => O::Transpose,
        _ => O::Normal,
    }
}

pub(super) fn facts(bytes: &[u8], p: &AvifParser<'_>, limits: &Limits) -> Result<Facts, PrepError> {
    let has_alpha = p.alpha_data().is_some();
    let (width, height, grid) = if let Some(g) = p.grid_config() {
        let (rows, cols) = (u32::from(g.rows), u32::from(g.columns));
        if rows == 0 || cols == 0 {
            return Err(PrepError::corrupt(FORMAT, "a grid without tiles"));
        }
        if p.grid_tile_count() != (rows * cols) as usize {
            return Err(PrepError::corrupt(
                FORMAT,
                format!("the {cols}×{rows} grid has {} tiles", p.grid_tile_count()),
            ));
        }
        // A declared output size is checked before any tile is looked at.
        if g.output_width > 0 && g.output_height > 0 {
            check_dimensions(g.output_width, g.output_height, 4, limits)?;
        }
        let tile = p.tile_data(0).map_err(|e| parse_error(bytes, e))?;
        let m = av1_meta(bytes, &tile)?;
        let (tile_w, tile_h) = (m.max_frame_width.get(), m.max_frame_height.get());
        let full = (
            u64::from(cols) * u64::from(tile_w),
            u64::from(rows) * u64::from(tile_h),
        );
        let (w, h) = if g.output_width > 0 && g.output_height > 0 {
            (g.output_width, g.output_height)
        } else {
            (
                u32::try_from(full.0).unwrap_or(u32::MAX),
                u32::try_from(full.1).unwrap_or(u32::MAX),
            )
        };
        // The tiles must cover the output, and every tile row and column must show.
        let covers = |n: u64, t: u64, out: u64| n * t >= out && (n - 1) * t < out;
        if !covers(u64::from(cols), u64::from(tile_w), u64::from(w))
            || !covers(u64::from(rows), u64::from(tile_h), u64::from(h))
        {
            return Err(PrepError::corrupt(
                FORMAT,
                format!("{cols}×{rows} tiles of {tile_w}×{tile_h} do not make {w}×{h}"),
            ));
        }
        check_dimensions(w, h, bytes_per_pixel(&m, false), limits)?;
        let grid = Grid {
            rows,
            cols,
            tile_w,
            tile_h,
        };
        (w, h, Some(grid))
    } else {
        let data = primary(bytes, p)?;
        let m = av1_meta(bytes, &data)?;
        let (w, h) = (m.max_frame_width.get(), m.max_frame_height.get());
        check_dimensions(w, h, bytes_per_pixel(&m, has_alpha), limits)?;
        (w, h, None)
    };
    let crop = p
        .clean_aperture()
        .and_then(|c| clean_aperture(c, width, height));
    // MIAF: irot/imir are the orientation; the EXIF orientation only without them (a
    // non-MIAF writer), as for HEIC. An EXIF item that cannot be read is normal.
    let mut recovery = Vec::new();
    let orientation = if p.rotation().is_some() || p.mirror().is_some() {
        orientation(
            p.rotation().map_or(0, |r| r.angle),
            p.mirror().map(|m| m.axis),
        )
    } else {
        match p.exif() {
            Some(Ok(exif)) => exif_orientation(&exif, &mut recovery),
            Some(Err(_)) => {
                recovery.push(Recovery::UnreadableExif);
                Orientation::Normal
            }
            None => Orientation::Normal,
        }
    };
    let (icc, nclx) = match p.color_info() {
        Some(ColorInformation::IccProfile(icc)) => (Some(icc.clone()), None),
        Some(ColorInformation::Nclx {
            color_primaries,
            transfer_characteristics,
            matrix_coefficients,
            full_range,
        }) => (
            nclx_profile(*color_primaries, *transfer_characteristics),
            Some((*matrix_coefficients, *full_range)),
        ),
        None => (None, None),
    };
    Ok(Facts {
        width,
        height,
        grid,
        crop,
        orientation,
        icc,
        recovery,
        nclx,
    })
}

pub(super) fn box_error(e: BoxError) -> PrepError {
    match e {
        BoxError::Truncated(what) => PrepError::truncated(FORMAT, what),
        BoxError::Corrupt(what) => PrepError::corrupt(FORMAT, what),
        BoxError::NoStill => PrepError::internal("a sequence reached the still-image walk"),
    }
}

/// The box walk's sizes (the `ispe` or grid output size, the tile count and area, the coded
/// bytes), checked before zenavif-parse reads anything: it does not expose `ispe`, and
/// checks its own memory budget only as it allocates. A sequence without a still image
/// (no `meta`) has no walk; zenavif-parse's frame limit and the frame budget bound it.
pub(super) fn walk(bytes: &[u8], limits: &Limits) -> Result<(), PrepError> {
    let samples = heif_boxes::sequence_samples(bytes).map_err(box_error)?;
    if samples > u64::from(MAX_FRAMES) {
        return Err(PrepError::TooManyFrames {
            frames: samples,
            max: u64::from(MAX_FRAMES),
        });
    }
    let walk = match heif_boxes::primary(bytes, MAX_TILES as usize, b"av01") {
        Ok(walk) => walk,
        Err(BoxError::NoStill) => return Ok(()),
        Err(e) => return Err(box_error(e)),
    };
    if !matches!(&walk.item_type, b"av01" | b"grid") {
        return Err(PrepError::UnsupportedVariant {
            format: FORMAT,
            detail: format!(
                "a primary image of type '{}' (AV1 or a grid of AV1 tiles is taken)",
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
    if walk.tiles > MAX_TILES as usize {
        return Err(PrepError::UnsupportedVariant {
            format: FORMAT,
            detail: format!(
                "a grid of {} tiles (at most {MAX_TILES} are taken)",
                walk.tiles
            ),
        });
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
    // zenavif-parse copies tiles that are split over several extents: more coded bytes than
    // the file holds means tiles that share their data, which no encoder writes.
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
    Ok(())
}
