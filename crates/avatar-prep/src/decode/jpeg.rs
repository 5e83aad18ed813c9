//! JPEG with jpeg-decoder (and, with the `turbojpeg` feature, libjpeg-turbo first).
//!
//! jpeg-decoder rather than zune-jpeg: zune-jpeg 0.5.15 decodes 4:2:0 files with optimised
//! Huffman tables (what `cjpeg -optimize`, mozjpeg and our own encoder write) to wrong colours
//! without an error; jpeg-decoder is as fast here single-threaded, and it can decode at a
//! reduced DCT scale.

use super::{check_dimensions, exif_orientation, restart, CodecState, Header, Pending};
use crate::error::PrepError;
use crate::limits::Limits;
use crate::options::ImageFormat;
use crate::orient::Orientation;
use crate::pixels::{Decoded, Layout};

fn jpeg_error(e: jpeg_decoder::Error) -> PrepError {
    use jpeg_decoder::{Error, UnsupportedFeature as U};
    let f = ImageFormat::Jpeg;
    match e {
        Error::Unsupported(feature) => PrepError::UnsupportedFormat {
            detected: match feature {
                U::Hierarchical => "JPEG (hierarchical coding)",
                U::ArithmeticEntropyCoding => "JPEG (arithmetic coding)",
                U::SamplePrecision(_) => "JPEG (12- or 16-bit precision)",
                U::ComponentCount(_) => "JPEG (2 or more than 4 components)",
                U::DNL => "JPEG (height defined by DNL)",
                _ => "JPEG (unusual subsampling or colour transform)",
            },
        },
        Error::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            PrepError::truncated_by(f, "the data ends inside the header", io)
        }
        // jpeg-decoder describes format errors in words only: that text is the detail.
        Error::Format(m) => PrepError::corrupt(f, m),
        other => PrepError::corrupt_by(f, "jpeg-decoder refused the data", other),
    }
}

/// What a walk over a JPEG's markers finds after the first scan starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ScanMarkers {
    /// Start-of-scan markers, the first included (an upper bound: a comment between two
    /// scans could hold the bytes `FF DA` too). Counting stops one past the limit.
    scans: u32,
    /// An EOI marker follows the first scan: jpeg-decoder pads a scan that runs out of data
    /// with zeros instead of failing, so this is how a cut-off file is recognised.
    eoi: bool,
}

/// Finds the first scan and counts the scans from there, stopping once `max_scans` is
/// passed. Entropy-coded data can hold `FF DA` and `FF D9` only as real markers (every other
/// `FF` is followed by `00` or a restart marker); segments before the first SOS are skipped by
/// their lengths, so an EXIF thumbnail's own markers do not count. Junk bytes between
/// segments are skipped. One memchr pass over the data, no allocation.
fn jpeg_scan_markers(b: &[u8], max_scans: u32) -> ScanMarkers {
    let none = ScanMarkers {
        scans: 0,
        eoi: false,
    };
    let mut i = 2; // after SOI
    loop {
        // Markers may be preceded by fill bytes.
        while b.get(i) == Some(&0xFF) && b.get(i + 1) == Some(&0xFF) {
            i += 1;
        }
        match (b.get(i), b.get(i + 1)) {
            (Some(0xFF), Some(&m)) => {
                if m == 0xDA {
                    break;
                }
                if (0xD0..=0xD7).contains(&m) || m == 0x01 {
                    i += 2;
                    continue;
                }
                let Some(len) = b.get(i + 2..i + 4) else {
                    return none;
                };
                i += 2 + usize::from(u16::from_be_bytes([len[0], len[1]]));
            }
            // Junk between segments: skip to the next 0xFF, as libjpeg does.
            (Some(_), Some(_)) => i += 1,
            _ => return none,
        }
    }
    let mut found = ScanMarkers {
        scans: 1,
        eoi: false,
    };
    let mut rest = &b[i + 2..];
    while let Some(at) = memchr::memchr(0xFF, rest) {
        match rest.get(at + 1) {
            Some(0xD9) => {
                found.eoi = true;
                break;
            }
            Some(0xDA) => {
                found.scans += 1;
                if found.scans > max_scans {
                    break;
                }
            }
            None => break,
            _ => {}
        }
        rest = &rest[at + 1..];
    }
    found
}

fn jpeg_decoder_for<'a>(bytes: &'a [u8], limits: &Limits) -> jpeg_decoder::Decoder<&'a [u8]> {
    let mut dec = jpeg_decoder::Decoder::new(bytes);
    dec.set_max_decoding_buffer_size(
        usize::try_from(limits.max_decode_bytes).unwrap_or(usize::MAX),
    );
    dec
}

pub(super) fn header<'a>(bytes: &'a [u8], limits: &Limits) -> Result<Pending<'a>, PrepError> {
    // Parses the segments up to the first scan; allocates nothing in proportion to the
    // pixels.
    let mut dec = jpeg_decoder_for(bytes, &Limits::none());
    dec.read_info().map_err(jpeg_error)?;
    let info = dec
        .info()
        .ok_or_else(|| PrepError::internal("JPEG header read without frame info"))?;
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    if width == 0 || height == 0 {
        return Err(PrepError::corrupt(
            ImageFormat::Jpeg,
            "zero width or height",
        ));
    }
    let (bpp, cmyk) = match info.pixel_format {
        jpeg_decoder::PixelFormat::L8 => (1, false),
        jpeg_decoder::PixelFormat::RGB24 => (3, false),
        jpeg_decoder::PixelFormat::CMYK32 => (4, true),
        _ => {
            return Err(PrepError::UnsupportedFormat {
                detected: "JPEG (lossless 16-bit)",
            })
        }
    };
    check_dimensions(width, height, bpp, limits)?;
    let markers = jpeg_scan_markers(bytes, limits.max_jpeg_scans);
    if markers.scans > limits.max_jpeg_scans {
        return Err(PrepError::TooManyScans {
            scans: markers.scans,
            limit: limits.max_jpeg_scans,
        });
    }
    let mut recovery = Vec::new();
    let orientation = dec
        .exif_data()
        .map_or(Orientation::Normal, |e| exif_orientation(e, &mut recovery));
    let icc = dec.icc_profile();
    let header = Header {
        format: ImageFormat::Jpeg,
        width,
        height,
        orientation,
        icc,
        cmyk,
        recovery,
    };
    Ok(Pending {
        state: CodecState::Jpeg { eoi: markers.eoi },
        ..Pending::new(bytes, header, limits)
    })
}

pub(super) fn decode(p: Pending<'_>, shrink: u32) -> Result<Decoded, PrepError> {
    // libjpeg-turbo first; anything it refuses (it is stricter: it stops at a warning such
    // as extraneous bytes or a short scan) is left to jpeg-decoder, which decides.
    #[cfg(feature = "turbojpeg")]
    if !p.header.cmyk {
        if let Some(decoded) = turbo::decode(&p, shrink) {
            return Ok(decoded);
        }
    }
    let (pixels, info, recovery) = match pure_decode(p.bytes, &p, shrink) {
        Ok((pixels, info)) => (pixels, info, Vec::new()),
        // A damaged restart marker stops jpeg-decoder where libjpeg (and so every browser)
        // resyncs: mend the markers and decode again.
        Err(e @ PrepError::Corrupt { .. }) => match restart::repair(p.bytes) {
            Some((fixed, note)) => {
                let (pixels, info) = pure_decode(&fixed, &p, shrink).map_err(|_| e)?;
                (pixels, info, vec![note])
            }
            None => return Err(e),
        },
        Err(e) => return Err(e),
    };
    if !eoi(&p) {
        return Err(PrepError::truncated(
            ImageFormat::Jpeg,
            "the data ends inside the scan (no end-of-image marker)",
        ));
    }
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    let (layout, pixels) = match info.pixel_format {
        jpeg_decoder::PixelFormat::L8 => (Layout::L8, pixels),
        jpeg_decoder::PixelFormat::RGB24 => (Layout::Rgb8, pixels),
        jpeg_decoder::PixelFormat::CMYK32 => (Layout::Rgb8, cmyk_to_rgb(pixels)),
        _ => {
            return Err(PrepError::UnsupportedFormat {
                detected: "JPEG (lossless 16-bit)",
            })
        }
    };
    if pixels.len() != width as usize * height as usize * layout.bpp() {
        return Err(PrepError::corrupt(
            ImageFormat::Jpeg,
            "decoded size does not match the header",
        ));
    }
    Ok(Decoded {
        width,
        height,
        layout,
        pixels,
        recovery,
    })
}

/// Decodes `bytes` (the file, or a repaired copy of it) with jpeg-decoder at 1/`shrink`.
fn pure_decode(
    bytes: &[u8],
    p: &Pending<'_>,
    shrink: u32,
) -> Result<(Vec<u8>, jpeg_decoder::ImageInfo), PrepError> {
    let mut dec = jpeg_decoder_for(bytes, &p.limits);
    if matches!(shrink, 2 | 4 | 8) {
        // jpeg-decoder picks the smallest IDCT scale whose output is at least this size.
        let req = |v: u32| u16::try_from(v.div_ceil(shrink)).unwrap_or(u16::MAX);
        dec.scale(req(p.header.width), req(p.header.height))
            .map_err(jpeg_error)?;
    }
    let pixels = dec.decode().map_err(jpeg_error)?;
    let info = dec
        .info()
        .ok_or_else(|| PrepError::internal("JPEG decoded without frame info"))?;
    Ok((pixels, info))
}

/// The optional libjpeg-turbo route (cargo feature `turbojpeg`): a faster Huffman decoder,
/// SIMD IDCT and colour conversion. Header, limits, EXIF and ICC still come from jpeg-decoder's header
/// pass; CMYK/YCCK files keep the pure-Rust path.
#[cfg(feature = "turbojpeg")]
mod turbo {
    use super::{Decoded, Layout, Pending};

    /// The pixels at 1/`shrink` scale, or `None` for anything libjpeg-turbo does not decode
    /// cleanly (including a missing EOI), which the caller then gives to jpeg-decoder.
    pub(super) fn decode(p: &Pending<'_>, shrink: u32) -> Option<Decoded> {
        if !super::eoi(p) {
            return None;
        }
        let scale = match shrink {
            2 => turbojpeg::ScalingFactor::ONE_HALF,
            4 => turbojpeg::ScalingFactor::ONE_QUARTER,
            8 => turbojpeg::ScalingFactor::ONE_EIGHTH,
            _ => turbojpeg::ScalingFactor::ONE,
        };
        // A new handle per image: one that has failed on a file is not to be trusted.
        let mut dec = turbojpeg::Decompressor::new().ok()?;
        let header = dec.read_header(p.bytes).ok()?;
        let (layout, format) = match header.colorspace {
            turbojpeg::Colorspace::Gray => (Layout::L8, turbojpeg::PixelFormat::GRAY),
            _ => (Layout::Rgb8, turbojpeg::PixelFormat::RGB),
        };
        // No larger than the header's size, which has passed the limits.
        let size = header.scaled(scale);
        if size.width > p.header.width as usize || size.height > p.header.height as usize {
            return None;
        }
        let pitch = size.width * layout.bpp();
        let mut pixels = vec![0u8; pitch * size.height];
        dec.set_scaling_factor(scale).ok()?;
        let image = turbojpeg::Image {
            pixels: pixels.as_mut_slice(),
            width: size.width,
            pitch,
            height: size.height,
            format,
        };
        dec.decompress(p.bytes, image).ok()?;
        Some(Decoded {
            width: size.width as u32,
            height: size.height as u32,
            layout,
            pixels,
            recovery: Vec::new(),
        })
    }
}

/// CMYK (as jpeg-decoder gives it: ink amounts, Adobe inversion already undone) to RGB with
/// the naive formula every browser and Pillow use: `R = (255 - C)(255 - K) / 255`.
/// Converts in place: RGB is written over the first three quarters of the buffer.
fn cmyk_to_rgb(mut px: Vec<u8>) -> Vec<u8> {
    let n = px.len() / 4;
    for i in 0..n {
        let (c, m, y, k) = (px[4 * i], px[4 * i + 1], px[4 * i + 2], px[4 * i + 3]);
        let ink = |v: u8| {
            let t = u32::from(255 - v) * u32::from(255 - k) + 128;
            ((t + (t >> 8)) >> 8) as u8
        };
        let rgb = [ink(c), ink(m), ink(y)];
        px[3 * i..3 * i + 3].copy_from_slice(&rgb);
    }
    px.truncate(n * 3);
    px
}

/// Whether the header step found an end-of-image marker after the scans.
fn eoi(p: &Pending<'_>) -> bool {
    matches!(p.state, CodecState::Jpeg { eoi: true })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eoi_is_looked_for_after_the_first_scan_only() {
        // SOI, APP1 holding a thumbnail's SOS and EOI, junk, SOS, scan data.
        let mut b = vec![
            0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x08, 0xFF, 0xDA, 0xFF, 0xD9, 0x00, 0x00,
        ];
        b.extend_from_slice(b"junk");
        b.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x02, 0x12, 0xFF, 0x00, 0x34]);
        let eoi = |b: &[u8]| jpeg_scan_markers(b, u32::MAX).eoi;
        assert!(!eoi(&b), "cut before EOI");
        assert_eq!(jpeg_scan_markers(&b, u32::MAX).scans, 1);
        // A second scan after a table between scans; the thumbnail's SOS did not count.
        b.extend_from_slice(&[0xFF, 0xC4, 0x00, 0x03, 0x00]);
        b.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x02, 0x56]);
        assert_eq!(jpeg_scan_markers(&b, u32::MAX).scans, 2);
        assert_eq!(
            jpeg_scan_markers(&b, 1).scans,
            2,
            "stops one past the limit"
        );
        b.extend_from_slice(&[0xFF, 0xD9]);
        assert!(eoi(&b));
        b.extend_from_slice(b"trailing data some phones append");
        assert!(eoi(&b));
    }
}
