//! JPEG with jpeg-decoder (and, with the `turbojpeg` feature, libjpeg-turbo first).
//!
//! jpeg-decoder rather than zune-jpeg: zune-jpeg 0.5.15 decodes 4:2:0 files with optimised
//! Huffman tables (what `cjpeg -optimize`, mozjpeg and our own encoder write) to wrong colours
//! without an error; jpeg-decoder is as fast here single-threaded, and it can decode at a
//! reduced DCT scale.

use super::seam::{check_dimensions, exif_orientation, CodecState, Header, Pending};
use super::{libjpeg, restart};
use crate::error::PrepError;
use crate::limits::Limits;
use crate::options::ImageFormat;
use crate::orient::Orientation;
use crate::pixels::{Decoded, Layout};
use crate::recovery::Recovery;

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
        state: CodecState::Jpeg {
            eoi: markers.eoi,
            lossless: info.coding_process == jpeg_decoder::CodingProcess::Lossless,
        },
        ..Pending::new(bytes, header, limits)
    })
}

/// Decodes at 1/`shrink` (1, 2, 4 or 8), into `buffer`'s allocation (see
/// [`Pending::decode_reusing`]).
pub(super) fn decode(p: Pending<'_>, shrink: u32, buffer: Vec<u8>) -> Result<Decoded, PrepError> {
    // A cut-off file is told by its markers, before any decoding: libjpeg would pad the
    // missing rows with grey, and a half-grey avatar is not what anyone wants.
    if !eoi(&p) {
        return Err(PrepError::truncated(
            ImageFormat::Jpeg,
            "the data ends inside the scan (no end-of-image marker)",
        ));
    }
    if lossless(&p) {
        // libjpeg-turbo's 8-bit build has no lossless (SOF3) decoder; jpeg-decoder has.
        return pure_decode_with_repair(&p, shrink);
    }
    let scale = if matches!(shrink, 2 | 4 | 8) {
        shrink
    } else {
        1
    };
    let max_memory = p.limits.max_decode_bytes;
    let first =
        libjpeg::decode(p.bytes, scale, max_memory, buffer).map_err(|e| libjpeg_error(e, &p))?;
    let (image, recovery) = if first.warnings.count == 0 {
        (first, Vec::new())
    } else {
        if first.warnings.premature_end {
            return Err(PrepError::truncated(
                ImageFormat::Jpeg,
                "the data ends inside a scan",
            ));
        }
        // Damaged restart markers: mended exactly (renumbered, or the lost intervals shown
        // grey) when the markers tell how; libjpeg's own resync guesses.
        let repaired = restart::repair(p.bytes).and_then(|(fixed, note)| {
            libjpeg::decode(&fixed, scale, max_memory, Vec::new())
                .ok()
                .filter(|again| again.warnings.count == 0)
                .map(|again| (again, vec![note]))
        });
        match repaired {
            Some(done) => done,
            None => {
                let note = Recovery::CorruptJpegData {
                    warnings: first.warnings.count,
                    first: first.warnings.first.clone().unwrap_or_default(),
                };
                (first, vec![note])
            }
        }
    };
    let (width, height) = (image.width, image.height);
    let (layout, pixels) = match image.color {
        libjpeg::Color::Grey => (Layout::L8, image.pixels),
        libjpeg::Color::Rgb => (Layout::Rgb8, image.pixels),
        // libjpeg gives CMYK as stored, i.e. inverted (Adobe): ink is 255 - value.
        libjpeg::Color::Cmyk => (Layout::Rgb8, cmyk_to_rgb(image.pixels, true)),
    };
    Ok(Decoded {
        width,
        height,
        layout,
        pixels,
        recovery,
    })
}

/// A libjpeg error as ours: its memory ceiling is the decoder-memory limit, anything else
/// is damaged data (libjpeg's message kept as the source).
fn libjpeg_error(e: libjpeg::LibjpegError, p: &Pending<'_>) -> PrepError {
    if e.is_out_of_memory() {
        // What a progressive or multi-scan file needs: its DCT coefficients, 2 bytes per
        // sample (an estimate: libjpeg does not say).
        let needed = u64::from(p.header.width) * u64::from(p.header.height) * 2 * 3;
        return PrepError::DecoderMemory {
            needed: needed.max(p.limits.max_decode_bytes.saturating_add(1)),
            limit: p.limits.max_decode_bytes,
        };
    }
    PrepError::corrupt_by(ImageFormat::Jpeg, "libjpeg refused the data", e)
}

/// The jpeg-decoder route (lossless JPEG only): decode, mending restart markers if needed.
fn pure_decode_with_repair(p: &Pending<'_>, shrink: u32) -> Result<Decoded, PrepError> {
    let (pixels, info, recovery) = match pure_decode(p.bytes, p, shrink) {
        Ok((pixels, info)) => (pixels, info, Vec::new()),
        Err(e @ PrepError::Corrupt { .. }) => match restart::repair(p.bytes) {
            Some((fixed, note)) => {
                let (pixels, info) = pure_decode(&fixed, p, shrink).map_err(|_| e)?;
                (pixels, info, vec![note])
            }
            None => return Err(e),
        },
        Err(e) => return Err(e),
    };
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    let (layout, pixels) = match info.pixel_format {
        jpeg_decoder::PixelFormat::L8 => (Layout::L8, pixels),
        jpeg_decoder::PixelFormat::RGB24 => (Layout::Rgb8, pixels),
        // jpeg-decoder has already undone the inversion: these are ink amounts.
        jpeg_decoder::PixelFormat::CMYK32 => (Layout::Rgb8, cmyk_to_rgb(pixels, false)),
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

/// CMYK to RGB with the naive formula every browser and Pillow use:
/// `R = (255 - C)(255 - K) / 255` for ink amounts C and K. `inverted`: the values are as
/// Adobe files store them (255 - ink), as libjpeg gives them; jpeg-decoder gives ink.
/// Converts in place: RGB is written over the first three quarters of the buffer.
fn cmyk_to_rgb(mut px: Vec<u8>, inverted: bool) -> Vec<u8> {
    let n = px.len() / 4;
    for i in 0..n {
        let mut v = [px[4 * i], px[4 * i + 1], px[4 * i + 2], px[4 * i + 3]];
        if !inverted {
            v = v.map(|x| 255 - x);
        }
        let k = u32::from(v[3]);
        let ink = |x: u8| {
            let t = u32::from(x) * k + 128;
            ((t + (t >> 8)) >> 8) as u8
        };
        let rgb = [ink(v[0]), ink(v[1]), ink(v[2])];
        px[3 * i..3 * i + 3].copy_from_slice(&rgb);
    }
    px.truncate(n * 3);
    px
}

/// Whether the header step found an end-of-image marker after the scans.
fn eoi(p: &Pending<'_>) -> bool {
    matches!(p.state, CodecState::Jpeg { eoi: true, .. })
}

/// Whether the header is a lossless (SOF3) frame.
fn lossless(p: &Pending<'_>) -> bool {
    matches!(p.state, CodecState::Jpeg { lossless: true, .. })
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

/// libjpeg (the decoder) against jpeg-decoder (the decoder before it) on every JPEG of the
/// conformance corpus, at each scale: the same outcome and close pixels.
#[cfg(test)]
mod against_jpeg_decoder {
    use super::*;

    fn corpus_jpegs() -> Vec<std::path::PathBuf> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
        let mut out = Vec::new();
        let mut stack = vec![dir.join("jpeg"), dir.join("exif-orientation")];
        while let Some(d) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if std::fs::read(&p).is_ok_and(|b| b.starts_with(&[0xFF, 0xD8])) {
                    out.push(p);
                }
            }
        }
        out.sort();
        out
    }

    fn psnr(a: &[u8], b: &[u8]) -> f64 {
        let se: f64 = a
            .iter()
            .zip(b)
            .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
            .sum();
        let mse = se / a.len().max(1) as f64;
        if mse == 0.0 {
            return 99.0;
        }
        10.0 * (255.0f64 * 255.0 / mse).log10()
    }

    #[test]
    fn libjpeg_matches_jpeg_decoder_on_the_corpus() {
        let files = corpus_jpegs();
        if files.is_empty() {
            eprintln!("skipped: ../shared/corpus is absent");
            return;
        }
        let limits = Limits::DEFAULT;
        let mut worst = f64::MAX;
        let mut compared = 0;
        let mut differ = Vec::new();
        for path in &files {
            let bytes = std::fs::read(path).unwrap();
            let name = path.display().to_string();
            let Ok(p) = header(&bytes, &limits) else {
                continue;
            };
            if lossless(&p) || !eoi(&p) {
                continue;
            }
            for shrink in [1, 2, 4, 8] {
                let ours = decode(header(&bytes, &limits).unwrap(), shrink, Vec::new());
                let theirs = pure_decode_with_repair(&header(&bytes, &limits).unwrap(), shrink);
                match (&ours, &theirs) {
                    (Ok(a), Ok(b)) => {
                        assert_eq!(a.layout, b.layout, "{name} 1/{shrink}");
                        // libjpeg gives ceil(size / scale) exactly; jpeg-decoder picks one
                        // scale for both axes (a 1000x1 image comes out 125x1 at "1/2").
                        assert_eq!(
                            (a.width, a.height),
                            (
                                p.header.width.div_ceil(shrink),
                                p.header.height.div_ceil(shrink)
                            ),
                            "{name} 1/{shrink}"
                        );
                        if (a.width, a.height) != (b.width, b.height) {
                            eprintln!(
                                "{name} 1/{shrink}: jpeg-decoder gave {}x{}",
                                b.width, b.height
                            );
                            continue;
                        }
                        // Full size: the two decoders agree. Reduced: each against the
                        // full-size decode box-averaged, libjpeg no worse than jpeg-decoder.
                        let (db, floor) = if shrink == 1 {
                            // A progressive file cut after its DC scan: libjpeg smooths the
                            // blocks (as browsers show it), jpeg-decoder leaves them flat.
                            let dc_only = name.ends_with("progressive.scan000.jpeg");
                            (
                                psnr(&a.pixels, &b.pixels),
                                if dc_only { 20.0 } else { 30.0 },
                            )
                        } else {
                            let full =
                                decode(header(&bytes, &limits).unwrap(), 1, Vec::new()).unwrap();
                            let mut boxed = crate::shrink::BoxShrink::new(
                                full.width,
                                full.height,
                                shrink,
                                full.layout,
                            );
                            let stride = full.width as usize * full.layout.bpp();
                            full.pixels
                                .chunks_exact(stride)
                                .for_each(|r| boxed.push_row(r));
                            let (_, _, reference) = boxed.finish();
                            let theirs = psnr(&b.pixels, &reference);
                            (psnr(&a.pixels, &reference), (theirs - 1.0).min(40.0))
                        };
                        eprintln!(
                            "{name} 1/{shrink}: {db:.1} dB (floor {floor:.1}) {:?}",
                            a.recovery
                        );
                        // Damaged files differ where each decoder fills in what is lost.
                        if a.recovery.is_empty() && b.recovery.is_empty() {
                            worst = worst.min(db);
                            compared += 1;
                            if db < floor {
                                differ.push(format!("{name} 1/{shrink}: {db:.1} dB < {floor:.1}"));
                            }
                        }
                    }
                    (Err(a), Err(b)) => eprintln!("{name} 1/{shrink}: both refuse: {a} / {b}"),
                    _ => {
                        let show = |r: &Result<Decoded, PrepError>| match r {
                            Ok(d) => format!("ok {:?}", d.recovery),
                            Err(e) => e.to_string(),
                        };
                        eprintln!(
                            "{name} 1/{shrink}: libjpeg {} / jpeg-decoder {}",
                            show(&ours),
                            show(&theirs)
                        );
                    }
                }
            }
        }
        eprintln!("{compared} decodes compared, worst {worst:.1} dB");
        assert!(compared > 100, "{compared}");
        assert!(differ.is_empty(), "{differ:#?}");
    }
}
