//! Hooks for `benches/gif_palettes.rs` (issue 13's palette comparison): the resampled,
//! unquantised frames of a re-palettised animation, the frames as `prepare` maps them, and
//! the mapping the writer applies to any palette. Not part of the API.

use super::{chunk_len, setup, Encoder};
use crate::decode::{self, Header};
use crate::error::PrepError;
use crate::options::{ImageFormat, PrepOptions};
use crate::pixels::{Decoded, Layout};
use crate::resize::Resampler;

use super::optimise::unpack;
use super::palette::Palette;

/// The first frames of a resampled animation, before and after `prepare`'s palettes.
pub struct ResampledFrames {
    /// The output side.
    pub side: u32,
    /// Each frame resized (and painted on its bars), RGBA, before any palette.
    pub frames: Vec<Vec<u8>>,
    /// The same frames as `prepare` maps them to its palettes (RGBA; transparent pixels are
    /// `[0, 0, 0, 0]`).
    pub mapped: Vec<Vec<u8>>,
    /// How many palettes `prepare` used for them (1: the global one only).
    pub palettes: usize,
}

/// Up to `max_frames` frames of the animation `bytes` as [`ResampledFrames`]; `None` when
/// `prepare` would not resample it (a still image, or a GIF that passes through). Without
/// `reuse`, every frame is mapped to the first palette (as before palettes were switched).
pub(crate) fn resampled_frames(
    header: &Header,
    bytes: &[u8],
    o: &PrepOptions,
    max_frames: usize,
    reuse: bool,
) -> Result<Option<ResampledFrames>, PrepError> {
    let Some(s) = setup(header, bytes, o)? else {
        return Ok(None);
    };
    if s.unchanged_pixels && header.format == ImageFormat::Gif {
        return Ok(None);
    }
    let mut source = decode::animation_frames(header.format, bytes, &o.limits, &s.scan)?;
    let mut r = Resampler::default();
    let mut frames = Vec::new();
    let mut kept = s.kept.iter().peekable();
    let mut index = 0usize;
    while frames.len() < max_frames && kept.peek().is_some() {
        let Some(screen) = source.next_screen()? else {
            break;
        };
        if kept.next_if(|k| k.0 == index).is_some() {
            let d = Decoded {
                width: s.scan.width,
                height: s.scan.height,
                layout: Layout::Rgba8,
                pixels: screen.to_vec(),
                recovery: Vec::new(),
            };
            frames.push(s.look.render(&mut r, &d)?);
        }
        index += 1;
    }
    let mut enc = Encoder::new(&s.scan, &s.look, s.kept.len() == 1)?;
    if !reuse {
        enc.reuse_max_error = u64::MAX;
    }
    let mut mapped = Vec::with_capacity(frames.len());
    for chunk in frames.chunks(chunk_len()) {
        let chunk: Vec<(Vec<u8>, u32)> = chunk.iter().map(|f| (f.clone(), 0)).collect();
        for (screen, _) in enc.map_chunk(chunk) {
            mapped.push(screen.iter().flat_map(|&c| rgba(c)).collect());
        }
    }
    Ok(Some(ResampledFrames {
        side: s.look.plan.side,
        frames,
        mapped,
        palettes: enc.palettes_used,
    }))
}

/// `frame` (RGBA) mapped to `colors` as the writer maps a palette (nearest colour through a
/// 15-bit table; alpha below 128 is transparent, `[0, 0, 0, 0]`).
pub fn map_to_palette(colors: &[[u8; 3]], frame: &[u8]) -> Vec<u8> {
    let pal = Palette::new(colors.to_vec());
    frame
        .chunks_exact(4)
        .flat_map(|p| rgba(pal.packed(p)))
        .collect()
}

fn rgba(packed: u32) -> [u8; 4] {
    if packed == 0 {
        return [0; 4];
    }
    let [r, g, b] = unpack(packed);
    [r, g, b, 255]
}

/// Today's palette maker on pixels (RGBA; the opaque ones count): the 15-bit histogram and
/// median cut, as `prepare` makes a palette from a frame.
pub fn median_cut(rgba: &[u8]) -> Vec<[u8; 3]> {
    super::palette::median_cut(&super::palette::histogram(std::iter::once(rgba)))
}
