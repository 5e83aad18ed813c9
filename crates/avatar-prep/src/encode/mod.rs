//! JPEG and PNG output from the finished RGBA square. No metadata is ever written.

use crate::error::PrepError;

mod libjpeg;

/// What the pixels of the square need, found in one pass: lets the encoders pick the
/// smallest colour type that holds them exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PixelTraits {
    /// Every pixel has r == g == b.
    pub grey: bool,
    /// Every pixel has alpha 255.
    pub opaque: bool,
}

pub(crate) fn pixel_traits(rgba: &[u8]) -> PixelTraits {
    let mut grey = true;
    let mut opaque = true;
    for px in rgba.chunks_exact(4) {
        grey &= px[0] == px[1] && px[1] == px[2];
        opaque &= px[3] == 255;
        if !grey && !opaque {
            break;
        }
    }
    PixelTraits { grey, opaque }
}

/// Keeps channels `keep` of every RGBA pixel (e.g. `[0, 1, 2]` for RGB, `[0]` for grey).
/// `N` and `keep` are constants at every call, so the inner loop unrolls.
fn select_channels<const N: usize>(rgba: &[u8], keep: [usize; N]) -> Vec<u8> {
    let mut out = vec![0u8; rgba.len() / 4 * N];
    for (o, px) in out.chunks_exact_mut(N).zip(rgba.chunks_exact(4)) {
        for (d, &c) in o.iter_mut().zip(keep.iter()) {
            *d = px[c];
        }
    }
    out
}

/// Encodes an opaque RGBA square as a baseline JPEG: see [`jpeg_rgb`].
pub(crate) fn jpeg(rgba: &[u8], side: u32, quality: u8) -> Result<Vec<u8>, PrepError> {
    jpeg_rgb(&select_channels(rgba, [0, 1, 2]), side, quality)
}

/// Encodes an RGB square as a baseline JPEG with libjpeg-turbo ([`libjpeg::compress`]):
/// 4:2:0 with chroma averaged over 2×2 pixels, grey images as one channel, optimised Huffman
/// tables, JFIF header only.
///
/// Measured (benches/README.md, issue 12; criterion `stage/encode_jpeg_1024_photo_q90` on a
/// corpus photo's output square): 8.3 ms where jpeg-encoder, the encoder before, took 15 ms,
/// with files 0.3–0.7 % smaller and 1.3–1.6 dB better in PSNR. Without optimised tables
/// libjpeg takes 3.4 ms, but its files are up to 0.7 % larger than the optimised ones.
pub(crate) fn jpeg_rgb(rgb: &[u8], side: u32, quality: u8) -> Result<Vec<u8>, PrepError> {
    let grey = rgb.chunks_exact(3).all(|p| p[0] == p[1] && p[1] == p[2]);
    let done = if grey {
        let luma: Vec<u8> = rgb.chunks_exact(3).map(|p| p[0]).collect();
        libjpeg::compress(&luma, side, side, 1, quality)
    } else {
        libjpeg::compress(rgb, side, side, 3, quality)
    };
    done.map_err(|e| PrepError::internal_by("JPEG encoder", e))
}

/// Encodes an RGBA square as an 8-bit PNG, using grey and/or dropping alpha when that
/// holds the pixels exactly.
pub(crate) fn png(rgba: &[u8], side: u32) -> Result<Vec<u8>, PrepError> {
    let traits = pixel_traits(rgba);
    let (data, color) = match (traits.grey, traits.opaque) {
        (true, true) => (select_channels(rgba, [0]), png::ColorType::Grayscale),
        (true, false) => (
            select_channels(rgba, [0, 3]),
            png::ColorType::GrayscaleAlpha,
        ),
        (false, true) => (select_channels(rgba, [0, 1, 2]), png::ColorType::Rgb),
        (false, false) => (rgba.to_vec(), png::ColorType::Rgba),
    };
    let err = |e: png::EncodingError| PrepError::internal_by("PNG encoder", e);
    let mut out = Vec::with_capacity(rgba.len() / 2);
    {
        let mut enc = png::Encoder::new(&mut out, side, side);
        enc.set_color(color);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Fast);
        let mut writer = enc.write_header().map_err(err)?;
        writer.write_image_data(&data).map_err(err)?;
        writer.finish().map_err(err)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traits_detect_grey_and_opacity() {
        assert_eq!(
            pixel_traits(&[5, 5, 5, 255, 9, 9, 9, 255]),
            PixelTraits {
                grey: true,
                opaque: true
            }
        );
        assert_eq!(
            pixel_traits(&[5, 6, 5, 255, 9, 9, 9, 0]),
            PixelTraits {
                grey: false,
                opaque: false
            }
        );
    }
}
