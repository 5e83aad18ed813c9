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

/// Encodes an RGB square as a baseline JPEG: 4:2:0, grey images as one channel, optimised
/// Huffman tables, JFIF header only. With libjpeg-turbo ([`libjpeg::compress`]; chroma
/// averaged over 2×2 pixels) when its SIMD code runs here, else with jpeg-encoder
/// (nearest-sample chroma, its own AVX2 code).
///
/// Measured (benches/README.md, issue 12; the 1024² outputs of five corpus photos, q90):
/// libjpeg-turbo with nasm 8.3 ms where jpeg-encoder takes 15 ms, with files 0.3–0.7 % smaller
/// and 1.3–1.6 dB better in PSNR; libjpeg-turbo built without nasm 23 ms, hence the fallback.
/// Without optimised tables libjpeg takes 3.4 ms, but its files are up to 0.7 % larger than
/// jpeg-encoder's optimised ones.
pub(crate) fn jpeg_rgb(rgb: &[u8], side: u32, quality: u8) -> Result<Vec<u8>, PrepError> {
    jpeg_rgb_with(rgb, side, quality, libjpeg::has_simd())
}

/// [`jpeg_rgb`] with the encoder chosen: libjpeg-turbo when `simd`, else jpeg-encoder.
fn jpeg_rgb_with(rgb: &[u8], side: u32, quality: u8, simd: bool) -> Result<Vec<u8>, PrepError> {
    let grey = rgb.chunks_exact(3).all(|p| p[0] == p[1] && p[1] == p[2]);
    let luma: Vec<u8>;
    let (pixels, components) = if grey {
        luma = rgb.chunks_exact(3).map(|p| p[0]).collect();
        (&luma[..], 1)
    } else {
        (rgb, 3)
    };
    if simd {
        return libjpeg::compress(pixels, side, side, components, quality)
            .map_err(|e| PrepError::internal_by("JPEG encoder", e));
    }
    let side16 = u16::try_from(side)
        .map_err(|_| PrepError::internal(format!("JPEG side {side} above 65535")))?;
    let mut out = Vec::with_capacity(rgb.len() / 12);
    let mut enc = jpeg_encoder::Encoder::new(&mut out, quality.clamp(1, 100));
    enc.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
    enc.set_optimized_huffman_tables(true);
    // jpeg-encoder's `simd` feature: AVX2 colour conversion and DCT when the CPU has it.
    let color = if grey {
        jpeg_encoder::ColorType::Luma
    } else {
        jpeg_encoder::ColorType::Rgb
    };
    enc.encode(pixels, side16, side16, color)
        .map_err(|e| PrepError::internal_by("JPEG encoder", e))?;
    Ok(out)
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

    /// Both encoders give a JPEG of the square that decodes close to it, grey as one channel.
    #[test]
    fn both_jpeg_encoders_round_trip() {
        let side = 64u32;
        let rgb: Vec<u8> = (0..side * side)
            .flat_map(|i| [(i % 64 * 4) as u8, (i / 64 * 4) as u8, 128])
            .collect();
        let grey: Vec<u8> = rgb.chunks_exact(3).flat_map(|p| [p[0]; 3]).collect();
        for simd in [true, false] {
            let encode = |px: &[u8], side, q| jpeg_rgb_with(px, side, q, simd);
            for (px, format) in [
                (&rgb, jpeg_decoder::PixelFormat::RGB24),
                (&grey, jpeg_decoder::PixelFormat::L8),
            ] {
                let jpeg = encode(px, side, 90).unwrap();
                let mut d = jpeg_decoder::Decoder::new(&jpeg[..]);
                let out = d.decode().unwrap();
                let info = d.info().unwrap();
                assert_eq!(
                    (info.width, info.height, info.pixel_format),
                    (64, 64, format)
                );
                let step = if format == jpeg_decoder::PixelFormat::L8 {
                    3
                } else {
                    1
                };
                let src: Vec<u8> = px.iter().step_by(step).copied().collect();
                let err = src
                    .iter()
                    .zip(&out)
                    .map(|(&a, &b)| u64::from(a.abs_diff(b)))
                    .sum::<u64>();
                assert!(err as f64 / (src.len() as f64) < 3.0);
            }
        }
    }

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
