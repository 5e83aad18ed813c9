//! Formats read through the `image` crate's pure-Rust decoders (BMP, TIFF): one adapter from
//! its `ImageDecoder` to our header → limits → decode seam. The decoder is made twice (once
//! for the header, once for the pixels): both parse only the header up front, so a hostile
//! size is refused before either allocates pixels.

use image::{ColorType, ExtendedColorType, ImageDecoder, ImageError};

use super::seam::{check_dimensions, Header, Pending};
use crate::error::PrepError;
use crate::limits::Limits;
use crate::options::ImageFormat;
use crate::orient::Orientation;
use crate::pixels::{Decoded, Layout};

/// `image`'s error as ours, kept as the source: running out of data is `Truncated`, a
/// feature it does not have `UnsupportedFormat` (`UnsupportedVariant`), the rest `Corrupt`.
pub(super) fn error(format: ImageFormat, e: ImageError) -> PrepError {
    match e {
        ImageError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            PrepError::truncated_by(format, "the data ends early", io)
        }
        ImageError::Unsupported(u) => PrepError::UnsupportedVariant {
            format,
            detail: u.to_string(),
        },
        ImageError::Limits(l) => PrepError::corrupt_by(format, "a decoder limit was reached", l),
        other => PrepError::corrupt_by(format, "the decoder refused the data", other),
    }
}

/// Bytes per pixel of what `image` will hand over (16-bit samples included).
fn bytes_per_pixel(color: ColorType) -> u64 {
    u64::from(color.bytes_per_pixel())
}

/// The header through `image`: size checked against the limits, orientation (TIFF's tag or
/// EXIF), ICC profile, whether the source was CMYK.
pub(super) fn header<'a, D: ImageDecoder>(
    format: ImageFormat,
    bytes: &'a [u8],
    limits: &Limits,
    mut dec: D,
) -> Result<Pending<'a>, PrepError> {
    let (width, height) = dec.dimensions();
    if width == 0 || height == 0 {
        return Err(PrepError::corrupt(format, "zero width or height"));
    }
    check_dimensions(width, height, bytes_per_pixel(dec.color_type()), limits)?;
    // A damaged tag or profile is ignored, as viewers do.
    let orientation = dec.orientation().map_or(Orientation::Normal, |o| {
        Orientation::from_exif_value(u16::from(o.to_exif()))
    });
    let icc = dec.icc_profile().ok().flatten();
    let cmyk = matches!(
        dec.original_color_type(),
        ExtendedColorType::Cmyk8 | ExtendedColorType::Cmyk16
    );
    let recovery = Vec::new();
    let header = Header {
        format,
        width,
        height,
        orientation,
        icc,
        cmyk,
        recovery,
    };
    Ok(Pending::new(bytes, header, limits))
}

/// Decodes all pixels through `image`, then narrows 16-bit and float samples to 8 bits.
pub(super) fn decode<D: ImageDecoder>(p: &Pending<'_>, mut dec: D) -> Result<Decoded, PrepError> {
    let format = p.header.format;
    let (width, height) = dec.dimensions();
    if (width, height) != (p.header.width, p.header.height) {
        return Err(PrepError::corrupt(
            format,
            "the image size changed between reads",
        ));
    }
    let color = dec.color_type();
    check_dimensions(width, height, bytes_per_pixel(color), &p.limits)?;
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(p.limits.max_decode_bytes);
    dec.set_limits(limits).map_err(|e| error(format, e))?;
    let size = usize::try_from(dec.total_bytes())
        .map_err(|_| PrepError::internal("image buffer above usize"))?;
    let mut buf = vec![0u8; size];
    dec.read_image(&mut buf).map_err(|e| error(format, e))?;
    let (layout, channels) = match color {
        ColorType::L8 | ColorType::L16 => (Layout::L8, 1),
        ColorType::La8 | ColorType::La16 => (Layout::La8, 2),
        ColorType::Rgb8 | ColorType::Rgb16 | ColorType::Rgb32F => (Layout::Rgb8, 3),
        _ => (Layout::Rgba8, 4),
    };
    let samples = width as usize * height as usize * channels;
    let pixels = match color {
        ColorType::L8 | ColorType::La8 | ColorType::Rgb8 | ColorType::Rgba8 => buf,
        ColorType::L16 | ColorType::La16 | ColorType::Rgb16 | ColorType::Rgba16 => buf
            .chunks_exact(2)
            .map(|s| narrow16(u16::from_ne_bytes([s[0], s[1]])))
            .collect(),
        ColorType::Rgb32F | ColorType::Rgba32F => buf
            .chunks_exact(4)
            .map(|s| {
                (f32::from_ne_bytes([s[0], s[1], s[2], s[3]]).clamp(0.0, 1.0) * 255.0).round() as u8
            })
            .collect(),
        other => {
            return Err(PrepError::internal(format!(
                "{format} decoded to an unexpected colour type {other:?}"
            )))
        }
    };
    if pixels.len() != samples {
        return Err(PrepError::corrupt(
            format,
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

/// A 16-bit sample to 8 bits, rounded: `v × 255 / 65535`.
fn narrow16(v: u16) -> u8 {
    ((u32::from(v) * 255 + 32_767) / 65_535) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sixteen_bits_narrow_with_rounding() {
        assert_eq!(narrow16(0), 0);
        assert_eq!(narrow16(65_535), 255);
        assert_eq!(narrow16(257 * 128), 128);
        assert_eq!(narrow16(257 * 128 + 128), 128);
        assert_eq!(narrow16(257 * 128 + 129), 129);
    }
}
