//! Limits fire from the header, before pixel memory is taken; bad input gives typed errors.

use avatar_prep::{prepare, prepare_file, ErrorKind, Limits, PrepError, PrepOptions};
use avatar_tests::{
    bmp_claiming, color_distance, gif, jpeg, jpeg_claiming, photo, png_header_only, png_rgba,
    tiff_claiming, vp8l_payload, vp8x_payload, webp_animation, webp_file, JpegFixture, Pixels,
    BLUE,
};

use crate::alloc::largest_allocation_during;

/// A GIF header whose logical screen claims `w` x `h`, followed by a tiny 1x1 frame.
fn gif_claiming(w: u16, h: u16) -> Vec<u8> {
    let mut bytes = gif(&[Pixels::from_fn(1, 1, |_, _| BLUE)], 0);
    bytes[6..8].copy_from_slice(&w.to_le_bytes());
    bytes[8..10].copy_from_slice(&h.to_le_bytes());
    bytes
}

#[test]
fn header_bombs_are_refused_without_allocating() {
    let opts = PrepOptions::default();
    let one = Pixels::from_fn(1, 1, |_, _| BLUE);
    let cases: Vec<(&str, Vec<u8>, ErrorKind)> = vec![
        (
            "png 100000x100000",
            png_header_only(100_000, 100_000),
            ErrorKind::DimensionsTooLarge,
        ),
        (
            "png 30000x30000",
            png_header_only(30_000, 30_000),
            ErrorKind::TooManyPixels,
        ),
        (
            "jpeg 30000x30000",
            jpeg_claiming(30_000, 30_000),
            ErrorKind::TooManyPixels,
        ),
        (
            "jpeg 65535x65535",
            jpeg_claiming(65_535, 65_535),
            ErrorKind::DimensionsTooLarge,
        ),
        (
            "gif 20000x20000",
            gif_claiming(20_000, 20_000),
            ErrorKind::TooManyPixels,
        ),
        (
            "webp vp8x 16777216x16777216",
            webp_file(&[
                (b"VP8X", vp8x_payload(0, 1 << 24, 1 << 24)),
                (b"VP8L", vp8l_payload(&one)),
            ]),
            ErrorKind::DimensionsTooLarge,
        ),
        (
            "webp vp8x 16000x16000",
            webp_file(&[
                (b"VP8X", vp8x_payload(0, 16_000, 16_000)),
                (b"VP8L", vp8l_payload(&one)),
            ]),
            ErrorKind::TooManyPixels,
        ),
        (
            "webp vp8l 16384x16384",
            {
                // The VP8L header's 14-bit width and height, both at their maximum.
                let mut p = vp8l_payload(&one);
                let bits = u32::from_le_bytes([p[1], p[2], p[3], p[4]]) | 0x0FFF_FFFF;
                p[1..5].copy_from_slice(&bits.to_le_bytes());
                webp_file(&[(b"VP8L", p)])
            },
            ErrorKind::TooManyPixels,
        ),
        (
            "webp animation 5000 frames",
            webp_animation(64, 64, 5000, 40, &one),
            ErrorKind::TooManyFrames,
        ),
        (
            "bmp 60000x60000",
            bmp_claiming(60_000, 60_000),
            ErrorKind::DimensionsTooLarge,
        ),
        (
            "bmp 20000x-20000 (top-down)",
            bmp_claiming(20_000, -20_000),
            ErrorKind::TooManyPixels,
        ),
        (
            "tiff 60000x60000",
            tiff_claiming(60_000, 60_000),
            ErrorKind::DimensionsTooLarge,
        ),
        (
            "tiff 30000x30000",
            tiff_claiming(30_000, 30_000),
            ErrorKind::TooManyPixels,
        ),
    ];
    for (what, bytes, kind) in cases {
        assert!(
            bytes.len() < 1200 || what.contains("frames"),
            "{what}: the bomb itself is small ({} bytes)",
            bytes.len()
        );
        let (result, largest) = largest_allocation_during(|| prepare(&bytes, &opts));
        let err = result.expect_err(what);
        assert_eq!(err.kind(), kind, "{what}: {err}");
        // Refused from the header: nothing remotely the size of the claimed pixels.
        assert!(
            largest < 1 << 20,
            "{what}: allocated {largest} bytes at once"
        );
    }
}

#[test]
fn each_limit_has_its_own_error() {
    let small_png = png_rgba(&photo(200, 10, 1), None);
    // Input bytes.
    let err = prepare(
        &small_png,
        &PrepOptions::default().limits(Limits::DEFAULT.max_input_bytes(100)),
    )
    .unwrap_err();
    assert!(
        matches!(err, PrepError::InputTooLarge { limit: 100, bytes } if bytes == small_png.len() as u64),
        "{err:?}"
    );
    // Width / height.
    let err = prepare(
        &small_png,
        &PrepOptions::default().limits(Limits::DEFAULT.max_dimensions(100, 100)),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            PrepError::DimensionsTooLarge {
                width: 200,
                height: 10,
                ..
            }
        ),
        "{err:?}"
    );
    // Pixel count.
    let err = prepare(
        &small_png,
        &PrepOptions::default().limits(Limits::DEFAULT.max_pixels(1999)),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            PrepError::TooManyPixels {
                width: 200,
                height: 10,
                limit: 1999
            }
        ),
        "{err:?}"
    );
    // Decoder memory: a 20x20 RGB JPEG needs 1200 bytes.
    let small_jpeg = jpeg(&photo(20, 20, 1), &JpegFixture::default());
    let opts = PrepOptions::default().limits(Limits::DEFAULT.max_decode_bytes(1000));
    let err = prepare(&small_jpeg, &opts).unwrap_err();
    assert!(
        matches!(
            err,
            PrepError::DecoderMemory {
                needed: 1200,
                limit: 1000
            }
        ),
        "{err:?}"
    );
    // Each of these passes just under its limit.
    let ok = Limits::DEFAULT
        .max_input_bytes(small_png.len() as u64)
        .max_dimensions(200, 10)
        .max_pixels(2000);
    prepare(&small_png, &PrepOptions::default().limits(ok)).unwrap();
    prepare(
        &small_jpeg,
        &PrepOptions::default().limits(Limits::DEFAULT.max_decode_bytes(1200)),
    )
    .unwrap();
}

#[test]
fn file_size_limit_is_checked_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.png");
    std::fs::write(&path, png_rgba(&photo(100, 100, 1), None)).unwrap();
    let opts = PrepOptions::default().limits(Limits::DEFAULT.max_input_bytes(64));
    let (result, largest) = largest_allocation_during(|| prepare_file(&path, &opts));
    let err = result.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InputTooLarge);
    assert_eq!(err.path(), Some(path.as_path()));
    assert!(largest < 4096, "read the file anyway: {largest} bytes");
}

#[test]
fn non_images_get_named_errors() {
    let opts = PrepOptions::default();
    let kind = |b: &[u8]| prepare(b, &opts).unwrap_err().kind();
    assert_eq!(kind(b""), ErrorKind::Empty);
    assert_eq!(kind(b"\xff"), ErrorKind::NotAnImage);
    assert_eq!(
        kind(b"Dear user, this is a text file.\n"),
        ErrorKind::NotAnImage
    );
    let random: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    assert_eq!(kind(&random), ErrorKind::NotAnImage);
    for (bytes, name) in [
        (
            &b"\0\0\0\x20ftypheic\0\0\0\0mif1heic"[..],
            "HEIC (this build has no heic feature)",
        ),
        (
            b"\0\0\0\x1cftypavif\0\0\0\0avifmif1",
            "AVIF (this build has no avif feature)",
        ),
        (
            b"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\"/>",
            "SVG",
        ),
        (b"8BPS\0\x01\0\0\0\0\0\0", "PSD"),
        (b"\xff\x0a\xfa\x7f", "JPEG XL"),
    ] {
        let taken = (cfg!(feature = "heic") && name.starts_with("HEIC"))
            || (cfg!(feature = "avif") && name.starts_with("AVIF"));
        if taken {
            // Taken with the feature: this cut-off ftyp box is then a truncated file.
            let err = prepare(bytes, &opts).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Truncated, "{err}");
            continue;
        }
        match prepare(bytes, &opts) {
            Err(PrepError::UnsupportedFormat { detected }) => assert_eq!(detected, name),
            other => panic!("{name}: {other:?}"),
        }
    }
    let err = prepare_file("/no/such/avatar.jpg", &opts).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io);
    assert_eq!(
        err.path(),
        Some(std::path::Path::new("/no/such/avatar.jpg"))
    );
}

#[test]
fn truncated_files_are_truncated_errors() {
    let opts = PrepOptions::default();
    let jpg = jpeg(&photo(400, 300, 2), &JpegFixture::default());
    let png = png_rgba(&photo(400, 300, 2), None);
    for (what, bytes) in [("jpeg", &jpg), ("png", &png)] {
        let cut = &bytes[..bytes.len() * 6 / 10];
        let err = prepare(cut, &opts).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Truncated, "{what}: {err}");
        assert!(
            err.to_string().contains(&what.to_uppercase()),
            "{what}: {err}"
        );
    }
}

#[test]
fn every_prefix_and_header_bit_flip_fails_cleanly() {
    // No prefix of a valid file may panic; each gives a typed error (or, rarely, an image).
    let opts = PrepOptions::default();
    let files = [
        (
            "jpeg",
            jpeg(
                &photo(24, 16, 3),
                &JpegFixture {
                    orientation: Some(6),
                    ..Default::default()
                },
            ),
        ),
        ("png", png_rgba(&photo(24, 16, 3), Some(6))),
        ("gif", gif(&[photo(24, 16, 3), photo(24, 16, 4)], 5)),
    ];
    let allowed = [
        ErrorKind::Truncated,
        ErrorKind::Corrupt,
        ErrorKind::Empty,
        ErrorKind::NotAnImage,
    ];
    for (what, bytes) in &files {
        for n in 0..bytes.len() {
            if let Err(e) = prepare(&bytes[..n], &opts) {
                assert!(allowed.contains(&e.kind()), "{what} cut at {n}: {e:?}");
            }
        }
        // Flip each bit of the first 64 bytes.
        for i in 0..bytes.len().min(64) {
            for bit in 0..8 {
                let mut b = bytes.clone();
                b[i] ^= 1 << bit;
                // Any outcome but a panic is fine; an Ok must be a valid square image.
                if let Ok(img) = prepare(&b, &opts) {
                    let dec = avatar_tests::decode(img.bytes());
                    assert_eq!(dec.width, dec.height, "{what} byte {i} bit {bit}");
                }
            }
        }
    }
}

#[test]
fn progressive_jpeg_with_thousands_of_scans_is_refused_before_decoding() {
    use avatar_tests::progressive_scan_bomb;
    // A handful of scans is an ordinary progressive file: it decodes to flat grey.
    let few = progressive_scan_bomb(1024, 5);
    let img = prepare(&few, &PrepOptions::default()).unwrap();
    let dec = avatar_tests::decode(img.bytes());
    assert_eq!((dec.width, dec.height), (1024, 1024));
    assert!(
        color_distance(dec.at(512, 512), [128, 128, 128, 255]) <= 2,
        "{:?}",
        dec.at(512, 512)
    );
    // 5000 scans of a 2048x2048 image in about 100 kB: 5000 passes over 65 536 blocks
    // (without the limit: 0.47 s per 500 scans in a release build).
    let bomb = progressive_scan_bomb(2048, 5000);
    assert!(bomb.len() < 110_000, "{} bytes", bomb.len());
    let (result, largest) = largest_allocation_during(|| prepare(&bomb, &PrepOptions::default()));
    let err = result.unwrap_err();
    assert!(
        matches!(
            err,
            PrepError::TooManyScans {
                scans: 101,
                limit: 100
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.kind().as_str(), "too_many_scans");
    assert!(largest < 1 << 20, "allocated {largest} bytes at once");
    // Exactly at the limit it is decoded.
    let at_limit = progressive_scan_bomb(256, 99);
    let opts = PrepOptions::default().limits(Limits::DEFAULT.max_jpeg_scans(100));
    prepare(&at_limit, &opts).unwrap();
    let err = prepare(
        &at_limit,
        &PrepOptions::default().limits(Limits::DEFAULT.max_jpeg_scans(99)),
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooManyScans);
}

#[test]
fn a_real_png_pixel_bomb_within_the_limits_is_shrunk_as_it_is_read() {
    // 8000x8000 RGBA of one colour: 256 MB of pixels in a file of a few hundred kB, under
    // every default limit. Shrink-on-load averages 4x4 blocks as the rows arrive, so the
    // largest buffer is the 2000x2000 shrunk image (16 MB), never the full 256 MB.
    let bytes = avatar_tests::flat_png_rgba(8000, 8000, [30, 60, 90, 255]);
    assert!(bytes.len() < 2 << 20, "{} bytes", bytes.len());
    let (result, largest) = largest_allocation_during(|| prepare(&bytes, &PrepOptions::default()));
    let img = result.unwrap();
    assert_eq!(img.side(), 1024);
    let dec = avatar_tests::decode(img.bytes());
    assert!(color_distance(dec.at(512, 512), [30, 60, 90, 255]) <= 1);
    assert!(largest < 17_000_000, "largest allocation {largest} bytes");
}

#[test]
fn decoder_errors_are_kept_as_sources_and_not_repeated() {
    use std::error::Error;
    let p = photo(64, 48, 5);
    // A lossless WebP whose bitstream is garbage after its header.
    let mut vp8l = vp8l_payload(&p);
    for b in vp8l.iter_mut().skip(5) {
        *b = 0xFF;
    }
    let damaged = webp_file(&[(b"VP8L", vp8l)]);
    // A PNG cut inside its image data: truncated, told by the chunk structure.
    let png = png_rgba(&p, None);
    let cut = &png[..png.len() - 40];
    for (what, bytes, kind) in [
        ("webp", &damaged[..], ErrorKind::Corrupt),
        ("png", cut, ErrorKind::Truncated),
    ] {
        let err = prepare_file_like(bytes);
        assert_eq!(err.kind(), kind, "{what}: {err}");
        // prepare_file wraps it: File -> ours -> the decoder's own error.
        let ours = err.source().expect("the file error's source");
        let theirs = ours.source().expect("the decoder's error is kept");
        assert!(
            !ours.to_string().contains(&theirs.to_string()),
            "{what}: '{ours}' repeats '{theirs}'"
        );
    }
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<PrepError>();
}

/// The error of `prepare_file` on `bytes` written to a temporary file.
fn prepare_file_like(bytes: &[u8]) -> PrepError {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("input");
    std::fs::write(&path, bytes).unwrap();
    prepare_file(&path, &PrepOptions::default()).unwrap_err()
}
