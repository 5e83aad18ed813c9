//! The format, recognised by content (magic bytes), never by a file name.

use crate::error::PrepError;
use crate::options::ImageFormat;

/// Recognises the format from the first bytes.
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
    Err(match detect_other(bytes) {
        Some(detected) => PrepError::UnsupportedFormat { detected },
        None => PrepError::NotAnImage,
    })
}

/// Names the image formats we recognise but do not take.
fn detect_other(b: &[u8]) -> Option<&'static str> {
    let at = |i: usize, sig: &[u8]| b.get(i..i + sig.len()) == Some(sig);
    if at(0, b"RIFF") && at(8, b"WEBP") {
        return Some("WebP");
    }
    if at(0, b"BM") && b.len() >= 18 {
        let dib = u32::from_le_bytes([b[14], b[15], b[16], b[17]]);
        if matches!(dib, 12 | 16 | 40 | 52 | 56 | 64 | 108 | 124) {
            return Some("BMP");
        }
    }
    if at(0, b"II*\0") || at(0, b"MM\0*") {
        return Some("TIFF");
    }
    if at(4, b"ftyp") {
        let brand = b.get(8..12).unwrap_or_default();
        return Some(match brand {
            b"avif" | b"avis" => "AVIF",
            b"heic" | b"heix" | b"hevc" | b"hevx" | b"heim" | b"heis" | b"mif1" | b"msf1" => "HEIC",
            b"jxl " => "JPEG XL",
            _ => "ISO media (MP4/MOV/HEIF)",
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
        assert_eq!(named(b"RIFF\x10\0\0\0WEBPVP8 "), "WebP");
        assert_eq!(named(b"II*\0\x08\0\0\0"), "TIFF");
        assert_eq!(named(b"\0\0\0\x18ftypheic\0\0\0\0"), "HEIC");
        assert_eq!(named(b"\0\0\0\x1cftypavif\0\0\0\0"), "AVIF");
        assert_eq!(named(b"<?xml version=\"1.0\"?>\n<svg xmlns=\"x\"/>"), "SVG");
        let mut bmp = b"BM".to_vec();
        bmp.extend_from_slice(&[0; 12]);
        bmp.extend_from_slice(&40u32.to_le_bytes());
        assert_eq!(named(&bmp), "BMP");
        // "BM" followed by text is not a bitmap.
        assert_eq!(
            kind(b"BMW is a car maker, not a bitmap").kind(),
            ErrorKind::NotAnImage
        );
    }
}
