//! The lossless fast path: an input that already is a valid avatar keeps its compressed
//! image data byte for byte, loses its metadata, and is never re-encoded.

use avatar_prep::{prepare, Fit, OutputFormat, PrepOptions};
use avatar_tests::{decode, jpeg, photo, png_rgba, JpegFixture};

/// The bytes from the first start-of-scan marker to the end-of-image marker.
fn scan_data(jpeg: &[u8]) -> &[u8] {
    let sos = jpeg.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
    let eoi = jpeg.windows(2).rposition(|w| w == [0xFF, 0xD9]).unwrap();
    &jpeg[sos..eoi + 2]
}

#[test]
fn a_square_jpeg_in_range_is_passed_through_without_its_metadata() {
    let p = photo(640, 640, 11);
    // EXIF orientation 1 (upright), a comment, and a trailer after EOI.
    let mut input = jpeg(
        &p,
        &JpegFixture {
            orientation: Some(1),
            quality: Some(70),
            ..Default::default()
        },
    );
    let com = [&[0xFF, 0xFE, 0x00, 0x0A][..], b"secret!!"].concat();
    input.splice(2..2, com);
    input.extend_from_slice(b"GPS 51.5N 0.1W");
    let out = prepare(&input, &PrepOptions::default()).unwrap();
    assert!(out.passed_through());
    assert_eq!((out.side(), out.mime()), (640, "image/jpeg"));
    let bytes = out.bytes();
    // The image data is untouched: the same scan bytes, and so the same pixels.
    assert_eq!(scan_data(bytes), scan_data(&input));
    assert_eq!(decode(bytes).rgba, decode(&input).rgba);
    // Metadata gone: no APP1 (EXIF), no comment, nothing after EOI.
    assert!(!bytes.windows(2).any(|w| w == [0xFF, 0xE1]), "EXIF kept");
    assert!(!bytes.windows(7).any(|w| w == b"secret!"), "comment kept");
    assert!(bytes.ends_with(&[0xFF, 0xD9]), "trailer kept");
    assert!(bytes.len() < input.len());
    // Quality 70 was kept, not raised to the default 90: never re-encoded.
    let reencoded = prepare(&input, &PrepOptions::default().format(OutputFormat::Jpeg)).unwrap();
    assert!(!reencoded.passed_through());
    assert!(bytes.len() < reencoded.bytes().len());
}

#[test]
fn a_square_png_in_range_is_passed_through_with_its_pixels() {
    let p = photo(512, 512, 4);
    let input = png_rgba(&p, Some(1));
    let out = prepare(&input, &PrepOptions::default()).unwrap();
    assert!(out.passed_through());
    assert_eq!((out.side(), out.mime()), (512, "image/png"));
    assert_eq!(decode(out.bytes()).rgba, p.rgba);
    assert!(
        !out.bytes().windows(4).any(|w| w == b"eXIf"),
        "EXIF chunk kept"
    );
}

#[test]
fn anything_that_needs_work_is_not_passed_through() {
    let square = |side| jpeg(&photo(side, side, 5), &JpegFixture::default());
    let cases: Vec<(&str, Vec<u8>, PrepOptions)> = vec![
        ("too large", square(1200), PrepOptions::default()),
        ("too small", square(400), PrepOptions::default()),
        (
            "not square",
            jpeg(&photo(700, 600, 5), &JpegFixture::default()),
            PrepOptions::default(),
        ),
        (
            "rotated",
            jpeg(
                &photo(600, 600, 5),
                &JpegFixture {
                    orientation: Some(6),
                    ..Default::default()
                },
            ),
            PrepOptions::default(),
        ),
        (
            "a crop box inside",
            square(600),
            PrepOptions::default().fit(Fit::Crop(avatar_prep::CropBox {
                x: 10,
                y: 10,
                side: 580,
            })),
        ),
        (
            "PNG asked for",
            square(600),
            PrepOptions::default().format(OutputFormat::Png),
        ),
        (
            "max side below it",
            square(600),
            PrepOptions::default().max_side(512),
        ),
    ];
    for (what, bytes, opts) in cases {
        let out = prepare(&bytes, &opts).unwrap();
        assert!(!out.passed_through(), "{what}");
    }
    // A non-sRGB profile (here: one that is not even readable as sRGB) is converted.
    let icc = b"not an sRGB profile at all";
    let with_icc = jpeg(
        &photo(600, 600, 5),
        &JpegFixture {
            icc: Some(icc),
            ..Default::default()
        },
    );
    assert!(!prepare(&with_icc, &PrepOptions::default())
        .unwrap()
        .passed_through());
}
