//! PNG with the png crate: 8-bit output (palette and low bit depths expanded, 16-bit
//! stripped), shrink-on-load by box averaging as rows arrive for non-interlaced files.

use std::io::Cursor;

use super::seam::{check_dimensions, exif_orientation, Header, Pending};
use crate::error::PrepError;
use crate::limits::Limits;
use crate::options::ImageFormat;
use crate::orient::Orientation;
use crate::pixels::{Decoded, Layout};
use crate::shrink::BoxShrink;

/// Whether the chunk structure runs past the end of the data before `IEND`: then a decoding
/// failure is the cut's doing (told from the structure, not from the decoder's message).
fn is_cut(b: &[u8]) -> bool {
    let mut at = 8usize;
    loop {
        let Some(head) = b.get(at..at + 8) else {
            return true;
        };
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        if &head[4..8] == b"IEND" {
            return false;
        }
        at = at.saturating_add(12).saturating_add(len);
    }
}

/// The png crate's error as ours, for the file `bytes`.
fn png_error(bytes: &[u8]) -> impl Fn(png::DecodingError) -> PrepError + '_ {
    move |e| {
        let f = ImageFormat::Png;
        match e {
            png::DecodingError::IoError(io)
                if io.kind() == std::io::ErrorKind::UnexpectedEof || is_cut(bytes) =>
            {
                PrepError::truncated_by(f, "the data ends before the image", io)
            }
            png::DecodingError::LimitsExceeded => {
                PrepError::corrupt(f, "metadata chunks exceed the decoder's memory limit")
            }
            other if is_cut(bytes) => {
                PrepError::truncated_by(f, "the data ends before the image", other)
            }
            other => PrepError::corrupt_by(f, "the png decoder refused the data", other),
        }
    }
}

fn png_reader<'a>(
    bytes: &'a [u8],
    limits: &Limits,
) -> Result<png::Reader<Cursor<&'a [u8]>>, PrepError> {
    // The pixel buffer is ours; png's own limit only bounds metadata (text, ICC, EXIF).
    let meta = limits.max_decode_bytes.min(64 * 1024 * 1024) as usize;
    let mut dec = png::Decoder::new_with_limits(Cursor::new(bytes), png::Limits { bytes: meta });
    dec.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    dec.read_info().map_err(png_error(bytes))
}

pub(super) fn header<'a>(bytes: &'a [u8], limits: &Limits) -> Result<Pending<'a>, PrepError> {
    // IHDR sits at a fixed place: check the size before the png crate reads anything else.
    if bytes.len() < 33 || &bytes[12..16] != b"IHDR" {
        return Err(if bytes.len() < 33 {
            PrepError::truncated(ImageFormat::Png, "the data ends inside the header")
        } else {
            PrepError::corrupt(ImageFormat::Png, "the first chunk is not IHDR")
        });
    }
    let be = |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    let (width, height) = (be(16), be(20));
    if width == 0 || height == 0 {
        return Err(PrepError::corrupt(ImageFormat::Png, "zero width or height"));
    }
    // RGBA is the largest output after EXPAND | STRIP_16.
    check_dimensions(width, height, 4, limits)?;
    let reader = png_reader(bytes, limits)?;
    let info = reader.info();
    let mut recovery = Vec::new();
    let orientation = info
        .exif_metadata
        .as_deref()
        .map_or(Orientation::Normal, |e| exif_orientation(e, &mut recovery));
    let icc = if info.srgb.is_some() {
        None
    } else {
        info.icc_profile.as_deref().map(<[u8]>::to_vec)
    };
    let header = Header {
        format: ImageFormat::Png,
        width,
        height,
        orientation,
        icc,
        cmyk: false,
        recovery,
    };
    Ok(Pending::new(bytes, header, limits))
}

pub(super) fn decode(p: Pending<'_>, shrink: u32) -> Result<Decoded, PrepError> {
    let mut reader = png_reader(p.bytes, &p.limits)?;
    let (color, depth) = reader.output_color_type();
    let layout = match color {
        png::ColorType::Grayscale => Layout::L8,
        png::ColorType::GrayscaleAlpha => Layout::La8,
        png::ColorType::Rgb => Layout::Rgb8,
        png::ColorType::Rgba => Layout::Rgba8,
        png::ColorType::Indexed => {
            return Err(PrepError::internal("palette PNG was not expanded"));
        }
    };
    if depth != png::BitDepth::Eight {
        return Err(PrepError::internal(format!(
            "PNG output depth {depth:?} after expansion"
        )));
    }
    let (width, height) = (p.header.width, p.header.height);
    if shrink > 1 && !reader.info().interlaced {
        // Row by row into a box average: memory is the shrunk image and one row.
        let mut boxes = BoxShrink::new(width, height, shrink, layout);
        let mut rows = 0u32;
        while let Some(row) = reader.next_row().map_err(png_error(p.bytes))? {
            boxes.push_row(row.data());
            rows += 1;
        }
        if rows != height {
            return Err(PrepError::truncated(
                ImageFormat::Png,
                format!("{rows} of {height} rows"),
            ));
        }
        let (width, height, pixels) = boxes.finish();
        return Ok(Decoded {
            width,
            height,
            layout,
            pixels,
            recovery: Vec::new(),
        });
    }
    let size = width as usize * height as usize * layout.bpp();
    match reader.output_buffer_size() {
        Some(n) if n == size => {}
        other => {
            return Err(PrepError::internal(format!(
                "PNG buffer size {other:?}, expected {size}"
            )))
        }
    }
    let mut pixels = vec![0u8; size];
    reader.next_frame(&mut pixels).map_err(png_error(p.bytes))?;
    Ok(Decoded {
        width,
        height,
        layout,
        pixels,
        recovery: Vec::new(),
    })
}
