//! The lossless fast path for stills: an input that already is a valid avatar (a square
//! JPEG or PNG within the side bounds, sRGB, upright, nothing to crop or pad) keeps its
//! compressed image data byte for byte; only its metadata is removed. No generation loss,
//! no encode. The pipeline decodes the result once to prove it sound before using it.
//!
//! Written by hand: it only walks the segment (JPEG) or chunk (PNG) structure and copies
//! what it keeps; no crate offers a metadata strip that guarantees the image data untouched.

/// The JPEG without its metadata: APP1–APP13 and APP15 (EXIF, XMP, ICC, IPTC, MPF, …) and
/// comments, wherever they are, and anything after the end-of-image marker (phones append
/// second images and maker data). APP0 (JFIF) and APP14 (Adobe: says whether the three
/// components are YCbCr or RGB) stay. `None` when the file is not one to pass through: a
/// frame type browsers do not all show (arithmetic, lossless, hierarchical), a precision
/// other than 8 bits, CMYK, junk between segments, or a structure that does not end in EOI.
pub(crate) fn jpeg(b: &[u8]) -> Option<Vec<u8>> {
    if !b.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&[0xFF, 0xD8]);
    let mut i = 2;
    let mut frame = false;
    loop {
        // Fill bytes before a marker.
        while b.get(i) == Some(&0xFF) && b.get(i + 1) == Some(&0xFF) {
            i += 1;
        }
        if b.get(i) != Some(&0xFF) {
            return None;
        }
        let m = *b.get(i + 1)?;
        match m {
            0xD9 => {
                out.extend_from_slice(&[0xFF, 0xD9]);
                return frame.then_some(out);
            }
            0xD8 | 0x01 | 0xD0..=0xD7 | 0x00 => return None,
            _ => {}
        }
        let len = usize::from(u16::from_be_bytes([*b.get(i + 2)?, *b.get(i + 3)?]));
        if len < 2 {
            return None;
        }
        let segment = b.get(i..i + 2 + len)?;
        match m {
            // Baseline, extended sequential and progressive Huffman frames only.
            0xC0..=0xC2 => {
                let body = &segment[4..];
                let (precision, components) = (*body.first()?, *body.get(5)?);
                if frame || precision != 8 || !matches!(components, 1 | 3) {
                    return None;
                }
                frame = true;
            }
            0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => return None,
            _ => {}
        }
        let metadata = matches!(m, 0xE1..=0xED | 0xEF | 0xFE);
        if !metadata {
            out.extend_from_slice(segment);
        }
        i += 2 + len;
        if m == 0xDA {
            // Entropy-coded data runs to the next marker other than a restart marker (a
            // 0xFF in the data is followed by 0x00).
            let start = i;
            loop {
                let at = i + memchr::memchr(0xFF, b.get(i..)?)?;
                match *b.get(at + 1)? {
                    0x00 | 0xD0..=0xD7 => i = at + 2,
                    0xFF => i = at + 1,
                    _ => {
                        i = at;
                        break;
                    }
                }
            }
            out.extend_from_slice(&b[start..i]);
        }
    }
}

/// The PNG with only the chunks that make the image: IHDR, PLTE, tRNS, IDAT, IEND (sRGB
/// says what the pixels already are once the rest is gone). `None` when the file is not one
/// to pass through: more than 8 bits a sample, an animation (acTL), a gamma or chromaticity
/// that is not sRGB's (gAMA or cHRM without sRGB), an unknown critical chunk, or a structure
/// that does not end in IEND. An iCCP profile is judged by the caller (kept out either way).
pub(crate) fn png(b: &[u8]) -> Option<Vec<u8>> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    if !b.starts_with(SIGNATURE) {
        return None;
    }
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(SIGNATURE);
    let (mut i, mut srgb, mut gamma) = (SIGNATURE.len(), false, false);
    loop {
        let head = b.get(i..i + 8)?;
        let len = usize::try_from(u32::from_be_bytes([head[0], head[1], head[2], head[3]])).ok()?;
        let kind = &head[4..8];
        let chunk = b.get(i..i.checked_add(12)?.checked_add(len)?)?;
        match kind {
            b"IHDR" => {
                let depth = *chunk.get(16)?;
                if depth > 8 {
                    return None;
                }
                out.extend_from_slice(chunk);
            }
            b"PLTE" | b"tRNS" | b"IDAT" => out.extend_from_slice(chunk),
            b"IEND" => {
                out.extend_from_slice(chunk);
                return (srgb || !gamma).then_some(out);
            }
            b"acTL" => return None,
            b"sRGB" => srgb = true,
            b"gAMA" | b"cHRM" => gamma = true,
            // Ancillary chunks (lower-case first letter) are dropped; an unknown critical
            // one means the file is not what we think.
            _ if kind[0].is_ascii_uppercase() => return None,
            _ => {}
        }
        i += chunk.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jpeg_loses_metadata_and_trailer_but_keeps_every_other_byte() {
        let sof = [0xFF, 0xC0, 0x00, 0x0B, 8, 0, 16, 0, 16, 1, 1, 0x11, 0];
        let app0 = [0xFF, 0xE0, 0x00, 0x04, b'J', b'F'];
        let app1 = [0xFF, 0xE1, 0x00, 0x06, b'E', b'x', b'i', b'f'];
        let com = [0xFF, 0xFE, 0x00, 0x04, b'h', b'i'];
        let sos = [0xFF, 0xDA, 0x00, 0x08, 1, 1, 0, 0, 63, 0];
        let data = [0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56];
        let file = [
            &[0xFF, 0xD8][..],
            &app0,
            &app1,
            &sof,
            &com,
            &sos,
            &data,
            &[0xFF, 0xD9],
            b"trailer",
        ]
        .concat();
        let want = [&[0xFF, 0xD8][..], &app0, &sof, &sos, &data, &[0xFF, 0xD9]].concat();
        assert_eq!(jpeg(&file), Some(want));
        // Arithmetic coding (SOF9): not passed through.
        let mut arith = file.clone();
        let at = arith.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        arith[at + 1] = 0xC9;
        assert_eq!(jpeg(&arith), None);
        // Cut before EOI: not passed through.
        assert_eq!(jpeg(&file[..file.len() - 9]), None);
    }
}
