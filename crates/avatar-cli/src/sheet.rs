//! `--contact-sheet FILE.png`: a grid of before → after thumbnails with file names, failures
//! marked, so a person can check crops and letterboxing at a glance.
//!
//! Thumbnails are made with avatar-prep itself (a 96 px letterboxed PNG of the source and of
//! the output), so the sheet shows the source upright, as the library sees it.

use std::path::Path;

use avatar_prep::{Fit, OutputFormat, PrepOptions, Rgba};
use font8x8::UnicodeFonts;

use crate::files::{write_atomic, Job};

/// Thumbnail side in pixels.
const THUMB: u32 = 96;
/// Most files on one sheet (the sheet stays under ~60 MB of pixels).
pub(crate) const MAX_FILES: usize = 600;
const COLS: u32 = 4;
const PAD: u32 = 8;
const TEXT_H: u32 = 12;
const CELL_W: u32 = THUMB * 2 + PAD * 4;
const CELL_H: u32 = THUMB + TEXT_H * 2 + PAD * 2;
const BG: [u8; 4] = [250, 250, 250, 255];
const INK: [u8; 4] = [30, 30, 30, 255];
const FAIL: [u8; 4] = [200, 30, 30, 255];

/// One cell of the sheet.
pub(crate) struct Cell {
    /// The file name shown under the thumbnails.
    label: String,
    /// The source thumbnail (RGBA, THUMB²), if it could be made.
    before: Option<Vec<u8>>,
    /// The output thumbnail, or the error kind for a failed file.
    after: Result<Vec<u8>, String>,
}

/// A THUMB × THUMB RGBA thumbnail of any image avatar-prep reads.
fn thumbnail(bytes: &[u8]) -> Option<Vec<u8>> {
    let opts = PrepOptions::default()
        .max_side(THUMB)
        .min_side(THUMB)
        .fit(Fit::Letterbox {
            background: Some(Rgba::new(220, 220, 220, 255)),
        })
        .format(OutputFormat::Png)
        .max_frames(u32::MAX);
    let png = avatar_prep::prepare(bytes, &opts).ok()?;
    let mut dec = png::Decoder::new(std::io::Cursor::new(png.bytes()));
    dec.set_transformations(png::Transformations::EXPAND | png::Transformations::ALPHA);
    let mut reader = dec.read_info().ok()?;
    let mut buf = vec![0; reader.output_buffer_size()?];
    let info = reader.next_frame(&mut buf).ok()?;
    let px: Vec<u8> = match info.color_type {
        png::ColorType::Rgba => buf,
        png::ColorType::GrayscaleAlpha => buf
            .chunks_exact(2)
            .flat_map(|p| [p[0], p[0], p[0], p[1]])
            .collect(),
        _ => return None,
    };
    (px.len() == (THUMB * THUMB * 4) as usize).then_some(px)
}

/// The cell of a file: thumbnails of its input and of its output (or the error kind).
pub(crate) fn cell(job: &Job, output: Result<&[u8], &str>) -> Cell {
    let before = std::fs::read(&job.input).ok().and_then(|b| thumbnail(&b));
    let after = match output {
        Ok(bytes) => thumbnail(bytes).ok_or_else(|| "unreadable output".to_owned()),
        Err(kind) => Err(kind.to_owned()),
    };
    Cell {
        label: job
            .input
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        before,
        after,
    }
}

struct Canvas {
    w: u32,
    h: u32,
    px: Vec<u8>,
}

impl Canvas {
    fn set(&mut self, x: u32, y: u32, c: [u8; 4]) {
        if x < self.w && y < self.h {
            let i = ((y * self.w + x) * 4) as usize;
            self.px[i..i + 4].copy_from_slice(&c);
        }
    }

    fn blit(&mut self, x0: u32, y0: u32, thumb: &[u8]) {
        for y in 0..THUMB {
            for x in 0..THUMB {
                let i = ((y * THUMB + x) * 4) as usize;
                let a = u32::from(thumb[i + 3]);
                let mix =
                    |c: u8, b: u8| ((u32::from(c) * a + u32::from(b) * (255 - a)) / 255) as u8;
                // Transparent areas show a light checkerboard.
                let check = if ((x / 8) + (y / 8)) % 2 == 0 {
                    255
                } else {
                    230
                };
                self.set(
                    x0 + x,
                    y0 + y,
                    [
                        mix(thumb[i], check),
                        mix(thumb[i + 1], check),
                        mix(thumb[i + 2], check),
                        255,
                    ],
                );
            }
        }
    }

    fn frame(&mut self, x0: u32, y0: u32, w: u32, h: u32, c: [u8; 4]) {
        for t in 0..2 {
            for x in x0..x0 + w {
                self.set(x, y0 + t, c);
                self.set(x, y0 + h - 1 - t, c);
            }
            for y in y0..y0 + h {
                self.set(x0 + t, y, c);
                self.set(x0 + w - 1 - t, y, c);
            }
        }
    }

    /// Draws `text` with the 8x8 bitmap font, cut to `max_w` pixels.
    fn text(&mut self, x0: u32, y0: u32, text: &str, max_w: u32, c: [u8; 4]) {
        for (k, ch) in text.chars().take((max_w / 8) as usize).enumerate() {
            let glyph = font8x8::BASIC_FONTS
                .get(ch)
                .or_else(|| font8x8::BASIC_FONTS.get('?'));
            if let Some(g) = glyph {
                for (row, bits) in g.iter().enumerate() {
                    for col in 0..8 {
                        if bits & (1 << col) != 0 {
                            self.set(x0 + k as u32 * 8 + col, y0 + row as u32, c);
                        }
                    }
                }
            }
        }
    }
}

/// Renders the sheet and writes it as a PNG (atomically).
pub(crate) fn write(path: &Path, cells: &[Cell]) -> anyhow::Result<()> {
    let n = cells.len().min(MAX_FILES) as u32;
    let rows = n.div_ceil(COLS).max(1);
    let mut c = Canvas {
        w: COLS * CELL_W,
        h: rows * CELL_H,
        px: BG.repeat((COLS * CELL_W * rows * CELL_H) as usize),
    };
    for (i, cell) in cells.iter().take(MAX_FILES).enumerate() {
        let (x0, y0) = (
            (i as u32 % COLS) * CELL_W + PAD,
            (i as u32 / COLS) * CELL_H + PAD,
        );
        match &cell.before {
            Some(t) => c.blit(x0, y0, t),
            None => c.frame(x0, y0, THUMB, THUMB, FAIL),
        }
        c.text(x0 + THUMB + 4, y0 + THUMB / 2 - 4, ">", 8, INK);
        let x1 = x0 + THUMB + PAD * 2;
        match &cell.after {
            Ok(t) => {
                c.blit(x1, y0, t);
                c.frame(x1, y0, THUMB, THUMB, [120, 120, 120, 255]);
            }
            Err(kind) => {
                c.frame(x1, y0, THUMB, THUMB, FAIL);
                for d in 0..THUMB {
                    c.set(x1 + d, y0 + d, FAIL);
                    c.set(x1 + THUMB - 1 - d, y0 + d, FAIL);
                }
                c.text(x0, y0 + THUMB + 4 + TEXT_H, kind, CELL_W - PAD * 2, FAIL);
            }
        }
        c.text(x0, y0 + THUMB + 4, &cell.label, CELL_W - PAD * 2, INK);
    }
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, c.w, c.h);
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Fast);
        let mut w = enc.write_header()?;
        w.write_image_data(&c.px)?;
        w.finish()?;
    }
    write_atomic(path, &out)?;
    Ok(())
}
