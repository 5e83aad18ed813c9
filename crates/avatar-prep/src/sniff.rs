//! The format, recognised by content (magic bytes), never by a file name.

use crate::error::PrepError;
use crate::options::ImageFormat;

/// Recognises the format from the first bytes: a format this build decodes, or the name of
/// one it does not ([`PrepError::UnsupportedFormat`]), or [`PrepError::NotAnImage`].
pub(crate) fn sniff(bytes: &[u8]) -> Result<ImageFormat, PrepError> {
    if bytes.is_empty() {
        return Err(PrepError::Empty);
    }
    let starts = |sig: &[u8]| bytes.starts_with(sig);
    if starts(&[0xFF, 0xD8, 0xFF]) {
        return Ok(ImageFormat::Jpeg);
    }
    if starts(b"\x89PNG\r\n\x1a\n") {
        return Ok(ImageFormat::Png);
    }
    if starts(b"GIF87a") || starts(b"GIF89a") {
        return Ok(ImageFormat::Gif);
    }
    if starts(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        return Ok(ImageFormat::WebP);
    }
    if starts(b"BM") && bytes.len() >= 18 {
        let dib = u32::from_le_bytes([bytes[14], bytes[15], bytes[16], bytes[17]]);
        if matches!(dib, 12 | 16 | 40 | 52 | 56 | 64 | 108 | 124) {
            return Ok(ImageFormat::Bmp);
        }
    }
    if starts(b"II*\0") || starts(b"MM\0*") {
        return Ok(ImageFormat::Tiff);
    }
    match heif_brand(bytes) {
        Some(ImageFormat::Avif) if cfg!(feature = "avif") => return Ok(ImageFormat::Avif),
        Some(ImageFormat::Avif) => {
            return Err(PrepError::UnsupportedFormat {
                detected: "AVIF (this build has no avif feature)",
            })
        }
        Some(ImageFormat::Heic) if cfg!(feature = "heic") => return Ok(ImageFormat::Heic),
        Some(ImageFormat::Heic) => {
            return Err(PrepError::UnsupportedFormat {
                detected: "HEIC (this build has no heic feature)",
            })
        }
        _ => {}
    }
    Err(match detect_other(bytes) {
        Some(detected) => PrepError::UnsupportedFormat { detected },
        None => PrepError::NotAnImage,
    })
}

/// AVIF or HEIC from an ISO-BMFF `ftyp` box: its major brand, then its compatible brands
/// (a file may say `mif1` first and `heic` or `avif` after).
fn heif_brand(b: &[u8]) -> Option<ImageFormat> {
    if b.get(4..8) != Some(b"ftyp") {
        return None;
    }
    let size = u32::from_be_bytes(b.get(0..4)?.try_into().ok()?) as usize;
    let body = b.get(8..size.clamp(8, b.len()))?;
    // Major brand, minor version, compatible brands.
    let brands = body
        .chunks_exact(4)
        .enumerate()
        .filter(|&(i, _)| i != 1)
        .map(|(_, brand)| brand);
    let mut found = None;
    for brand in brands {
        match brand {
            b"avif" | b"avis" => return Some(ImageFormat::Avif),
            b"heic" | b"heix" | b"heim" | b"heis" | b"hevc" | b"hevx" => {
                found = Some(ImageFormat::Heic)
            }
            _ => {}
        }
    }
    found
}

/// Names the image formats we recognise but do not take.
fn detect_other(b: &[u8]) -> Option<&'static str> {
    let at = |i: usize, sig: &[u8]| b.get(i..i + sig.len()) == Some(sig);
    if at(4, b"ftyp") {
        let brand = b.get(8..12).unwrap_or_default();
        return Some(match brand {
            b"mif1" | b"msf1" => "HEIF (neither AVIF nor HEVC)",
            b"jxl " => "JPEG XL",
            _ => "ISO media (MP4/MOV)",
        });
    }
    if at(0, &[0xFF, 0x0A]) || at(0, b"\0\0\0\x0cJXL \r\n\x87\n") {
        return Some("JPEG XL");
    }
    if at(0, b"\0\0\0\x0cjP  \r\n\x87\n") || at(0, &[0xFF, 0x4F, 0xFF, 0x51]) {
        return Some("JPEG 2000");
    }
    if at(0, &[0, 0, 1, 0]) && b.len() >= 6 && b[4] != 0 {
        return Some("ICO");
    }
    if at(0, b"8BPS") {
        return Some("PSD");
    }
    if at(0, b"qoif") {
        return Some("QOI");
    }
    if at(0, b"%PDF") {
        return Some("PDF");
    }
    if at(0, b"\x76\x2f\x31\x01") {
        return Some("OpenEXR");
    }
    // SVG is text: look for the root element near the start (after an XML prolog/comments).
    let head = &b[..b.len().min(4096)];
    let text = String::from_utf8_lossy(head);
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if (trimmed.starts_with("<?xml") || trimmed.starts_with("<svg") || trimmed.starts_with("<!--"))
        && text.contains("<svg")
    {
        return Some("SVG");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn sniffs_by_content() {
        assert_eq!(sniff(b"\xff\xd8\xff\xe0rest").unwrap(), ImageFormat::Jpeg);
        assert_eq!(sniff(b"GIF89a....").unwrap(), ImageFormat::Gif);
        let kind = |b: &[u8]| sniff(b).unwrap_err();
        assert_eq!(kind(b"").kind(), ErrorKind::Empty);
        assert_eq!(kind(b"hello, world").kind(), ErrorKind::NotAnImage);
        let named = |b: &[u8]| match sniff(b) {
            Err(PrepError::UnsupportedFormat { detected }) => detected,
            other => panic!("{other:?}"),
        };
        let format = |b: &[u8]| sniff(b).unwrap();
        assert_eq!(format(b"RIFF\x10\0\0\0WEBPVP8 "), ImageFormat::WebP);
        assert_eq!(format(b"II*\0\x08\0\0\0"), ImageFormat::Tiff);
        assert_eq!(format(b"MM\0*\0\0\0\x08"), ImageFormat::Tiff);
        let mut bmp = b"BM".to_vec();
        bmp.extend_from_slice(&[0; 12]);
        bmp.extend_from_slice(&40u32.to_le_bytes());
        assert_eq!(format(&bmp), ImageFormat::Bmp);
        // HEIF brands: the major brand, or a compatible one after `mif1`.
        let heif = |major: &[u8], compatible: &[u8]| {
            let mut b = ((16 + compatible.len()) as u32).to_be_bytes().to_vec();
            b.extend_from_slice(b"ftyp");
            b.extend_from_slice(major);
            b.extend_from_slice(&[0; 4]);
            b.extend_from_slice(compatible);
            b.extend_from_slice(b"\0\0\0\x08meta");
            b
        };
        assert_eq!(
            heif_brand(&heif(b"heic", b"mif1heic")),
            Some(ImageFormat::Heic)
        );
        assert_eq!(
            heif_brand(&heif(b"mif1", b"mif1MiHEmiafheic")),
            Some(ImageFormat::Heic)
        );
        assert_eq!(heif_brand(&heif(b"avif", b"")), Some(ImageFormat::Avif));
        assert_eq!(
            heif_brand(&heif(b"mif1", b"avifmiaf")),
            Some(ImageFormat::Avif)
        );
        assert_eq!(heif_brand(&heif(b"isom", b"mp41")), None);
        assert_eq!(named(&heif(b"isom", b"mp41")), "ISO media (MP4/MOV)");
        assert_eq!(named(b"<?xml version=\"1.0\"?>\n<svg xmlns=\"x\"/>"), "SVG");
        assert_eq!(named(b"8BPS\0\x01"), "PSD");
        // "BM" followed by text is not a bitmap.
        assert_eq!(
            kind(b"BMW is a car maker, not a bitmap").kind(),
            ErrorKind::NotAnImage
        );
    }
}
