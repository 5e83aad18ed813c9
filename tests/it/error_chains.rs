//! avatar-prep's errors keep their causes: a decoder's own error is reachable through
//! `source()`, each link says something its source does not repeat, and a file's path wraps
//! the whole chain.

use std::error::Error;

use avatar_prep::{prepare, prepare_file, ErrorKind, PrepOptions};
use avatar_tests::{png_header_only, png_with};

use crate::upload::chain;

/// No link's text contains its source's text (`Display` never repeats the cause).
fn assert_no_repeats(links: &[String]) {
    for pair in links.windows(2) {
        assert!(
            !pair[1].is_empty() && !pair[0].contains(&pair[1]),
            "{:?} repeats its source {:?}",
            pair[0],
            pair[1]
        );
    }
}

/// A 64x64 grey PNG whose compressed image data is damaged (same length, bytes flipped).
fn damaged_png() -> Vec<u8> {
    let mut bytes = png_with(
        64,
        64,
        png::ColorType::Grayscale,
        png::BitDepth::Eight,
        &(0..64 * 64)
            .map(|i| (i * 7 % 251) as u8)
            .collect::<Vec<_>>(),
        |_| {},
    );
    let idat = bytes.windows(4).position(|w| w == b"IDAT").unwrap();
    for b in &mut bytes[idat + 8..idat + 40] {
        *b ^= 0x5a;
    }
    bytes
}

#[test]
fn a_decoder_error_is_the_source_and_is_not_repeated() {
    let err = prepare(&damaged_png(), &PrepOptions::default()).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Corrupt | ErrorKind::Truncated),
        "{err}"
    );
    let links = chain(&err);
    assert!(links.len() >= 2, "no source: {links:?}");
    assert_no_repeats(&links);
    // The png crate's own error, as a value (not only as text).
    let mut at = err.source();
    let mut found = false;
    while let Some(s) = at {
        found |= s.downcast_ref::<png::DecodingError>().is_some();
        at = s.source();
    }
    assert!(found, "no png::DecodingError in {links:?}");
}

#[test]
fn a_file_path_wraps_the_whole_chain() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("damaged.png");
    std::fs::write(&path, damaged_png()).unwrap();
    let err = prepare_file(&path, &PrepOptions::default()).unwrap_err();
    let links = chain(&err);
    assert_eq!(links[0], path.display().to_string());
    assert!(links.len() >= 3, "{links:?}");
    assert_no_repeats(&links);
    // The kind is the inner error's.
    assert!(matches!(
        err.kind(),
        ErrorKind::Corrupt | ErrorKind::Truncated
    ));
}

#[test]
fn errors_without_a_decoder_cause_end_their_chain() {
    // A header bomb is refused by our own check: one link, nothing below it.
    let bytes = png_header_only(100_000, 100_000);
    let err = prepare(&bytes, &PrepOptions::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::DimensionsTooLarge, "{err}");
    assert_eq!(chain(&err).len(), 1, "{:?}", chain(&err));
}
