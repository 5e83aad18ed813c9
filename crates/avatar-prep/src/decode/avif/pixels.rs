//! AV1 items to pixels: one item or a grid of tiles, with alpha, converted to 8-bit.

use rayon::prelude::*;
use zenavif_parse::AvifParser;

use super::container::{av1_error, box_error, parse_error, Facts, Grid, FORMAT, MAX_TILES};
use crate::decode::av1::{Av1Error, Chroma, Decoder, Picture};
use crate::decode::heif_boxes::alpha::alpha_grid;
use crate::decode::yuv::{self, Alpha, Yuv};
use crate::error::PrepError;
use crate::limits::Limits;
use crate::pixels::Decoded;

/// Converts a colour picture (and an alpha picture) to 8-bit pixels.
pub(super) fn to_pixels(
    bytes: &[u8],
    color: &Picture<'_>,
    alpha: Option<(&Picture<'_>, bool)>,
    nclx: Option<(u16, bool)>,
) -> Result<Decoded, PrepError> {
    let err = |e| av1_error(bytes, e);
    let chroma = color.chroma().map_err(err)?;
    let uv = if chroma == Chroma::Mono {
        None
    } else {
        Some((color.plane(1).map_err(err)?, color.plane(2).map_err(err)?))
    };
    let seq = color.seq_color();
    let (matrix, full_range) =
        nclx.unwrap_or_else(|| seq.map_or((2, false), |s| (s.matrix, s.full_range)));
    let src = Yuv {
        y: color.plane(0).map_err(err)?,
        uv,
        chroma,
        depth: color.bit_depth(),
        matrix,
        full_range,
    };
    let alpha = match alpha {
        Some((a, premultiplied)) => {
            if (a.width(), a.height()) != (color.width(), color.height()) {
                return Err(PrepError::corrupt(FORMAT, "the alpha plane's size differs"));
            }
            Some(Alpha {
                plane: a.plane(0).map_err(err)?,
                depth: a.bit_depth(),
                full_range: a.seq_color().is_some_and(|s| s.full_range),
                premultiplied,
            })
        }
        None => None,
    };
    let (w, h) = (color.width() as usize, color.height() as usize);
    Ok(yuv::convert(&src, alpha.as_ref(), w, h))
}

/// Decodes one item (colour OBUs, optional alpha OBUs) to pixels.
pub(super) fn decode_item(
    bytes: &[u8],
    color: &[u8],
    alpha: Option<&[u8]>,
    premultiplied: bool,
    nclx: Option<(u16, bool)>,
    limits: &Limits,
) -> Result<Decoded, PrepError> {
    let err = |e| av1_error(bytes, e);
    let no_picture = || av1_error(bytes, Av1Error::NoPicture);
    let mut cd = Decoder::new(limits.max_pixels).map_err(err)?;
    let pic = cd.decode(color).map_err(err)?.ok_or_else(no_picture)?;
    let mut ad = match alpha {
        Some(_) => Some(Decoder::new(limits.max_pixels).map_err(err)?),
        None => None,
    };
    let apic = match (&mut ad, alpha) {
        (Some(d), Some(a)) => Some(d.decode(a).map_err(err)?.ok_or_else(no_picture)?),
        _ => None,
    };
    to_pixels(bytes, &pic, apic.as_ref().map(|a| (a, premultiplied)), nclx)
}

/// The grid's tiles, decoded in parallel one tile row at a time, pasted on the canvas.
pub(super) fn decode_grid(
    bytes: &[u8],
    p: &AvifParser<'_>,
    f: &Facts,
    g: Grid,
    limits: &Limits,
) -> Result<Decoded, PrepError> {
    let (w, h) = (f.width as usize, f.height as usize);
    // The alpha grid, when it is laid out like the colour grid (libavif writes it so): each
    // tile is decoded with its alpha tile. Laid out otherwise, or a single alpha item over a
    // grid (no encoder we know writes either), the image is shown opaque.
    let alpha = alpha_grid(bytes, MAX_TILES as usize)
        .map_err(box_error)?
        .filter(|a| {
            (a.rows, a.columns, a.width, a.height)
                == (g.rows as usize, g.cols as usize, f.width, f.height)
        });
    let premultiplied = p.premultiplied_alpha();
    let mut canvas: Option<Decoded> = None;
    for row in 0..g.rows {
        let tiles: Vec<Decoded> = (0..g.cols)
            .into_par_iter()
            .map(|col| {
                let i = (row * g.cols + col) as usize;
                let data = p.tile_data(i).map_err(|e| parse_error(bytes, e))?;
                let alpha_tile = alpha
                    .as_ref()
                    .and_then(|a| a.tiles.get(i))
                    .map(|t| t.as_ref());
                let tile = decode_item(bytes, &data, alpha_tile, premultiplied, f.nclx, limits)?;
                if (tile.width, tile.height) != (g.tile_w, g.tile_h) {
                    return Err(PrepError::corrupt(
                        FORMAT,
                        "the grid's tiles differ in size",
                    ));
                }
                Ok(tile)
            })
            .collect::<Result<_, _>>()?;
        for (col, tile) in tiles.into_iter().enumerate() {
            let c = canvas.get_or_insert_with(|| Decoded {
                width: f.width,
                height: f.height,
                layout: tile.layout,
                pixels: vec![0; w * h * tile.layout.bpp()],
                recovery: Vec::new(),
            });
            if c.layout != tile.layout {
                return Err(PrepError::corrupt(
                    FORMAT,
                    "the grid's tiles differ in format",
                ));
            }
            let bpp = tile.layout.bpp();
            let (x0, y0) = (col * g.tile_w as usize, row as usize * g.tile_h as usize);
            let cw = (g.tile_w as usize).min(w - x0);
            for (ty, src) in tile
                .pixels
                .chunks_exact(g.tile_w as usize * bpp)
                .enumerate()
            {
                let y = y0 + ty;
                if y >= h {
                    break;
                }
                let at = (y * w + x0) * bpp;
                c.pixels[at..at + cw * bpp].copy_from_slice(&src[..cw * bpp]);
            }
        }
    }
    canvas.ok_or_else(|| PrepError::corrupt(FORMAT, "a grid without tiles"))
}

/// Cuts `(x, y, w, h)` out of `d`.
pub(super) fn crop(d: Decoded, (x, y, w, h): (u32, u32, u32, u32)) -> Decoded {
    let bpp = d.layout.bpp();
    let (x, y, w, h) = (x as usize, y as usize, w as usize, h as usize);
    let stride = d.width as usize * bpp;
    let mut pixels = Vec::with_capacity(w * h * bpp);
    for row in d.pixels.chunks_exact(stride).skip(y).take(h) {
        pixels.extend_from_slice(&row[x * bpp..(x + w) * bpp]);
    }
    Decoded {
        width: w as u32,
        height: h as u32,
        layout: d.layout,
        pixels,
        recovery: d.recovery,
    }
}
