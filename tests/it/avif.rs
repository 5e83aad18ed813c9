//! AVIF input (cargo feature `avif`): the fixtures of `tests/fixtures/avif` through the
//! pipeline against libavif's renderings, the orientation markers after every `irot`/`imir`
//! and EXIF case, alpha, ICC, a grid and a sequence; libavif's own test images with their
//! reference renderings (`clap`, `irot`, `imir`, 8/10/12-bit) when that corpus is on the
//! machine; then hostile files built here, each a typed error before any pixel memory is taken.

use std::path::PathBuf;

use avatar_prep::{
    prepare, ErrorKind, FramePolicy, ImageFormat, Orientation, OutputFormat, PrepOptions,
};
use avatar_tests::{decode, gif_frames, premultiplied_mean_diff};

use crate::heif_fixtures::{prepared_png, refused, Fixtures, Row};
use avatar_tests::heif_build::{box_boundaries, grid_descriptor, grid_file, heif, Item};

const FIXTURES: Fixtures = Fixtures("avif");

/// The `ftyp` brand and tile type of the files built here.
const BRAND: (&[u8; 4], &[u8; 4]) = (b"avif", b"av01");

#[test]
fn every_avif_fixture_matches_its_libavif_rendering() {
    // Same decoder family as the reference (libavif); YUV -> RGB (float here, fixed point
    // there) and, for the ICC files, moxcms vs lcms differ a little.
    let report = FIXTURES.check_against_references(ImageFormat::Avif, 17);
    eprintln!("avif: {}", report.join(", "));
}

/// The 91×61 test picture has a red block top-left and a green block top-right; after the
/// letterbox (91×61 → 512×343 at y = 84) they must be where a viewer shows them, whether the
/// file turns it with `irot`/`imir` or, with neither, with EXIF.
#[test]
fn orientation_markers_land_in_the_right_corners() {
    let rows = FIXTURES.manifest();
    let turned: Vec<&Row> = rows
        .iter()
        .filter(|r| r.file.contains("irot") || r.file.contains("exif"))
        .collect();
    assert_eq!(turned.len(), 7);
    for row in turned {
        let (out, px) = FIXTURES.prepared_png(&row.file);
        assert_eq!(out.side(), 512, "{}", row.file);
        assert_ne!(
            out.orientation_applied(),
            Orientation::Normal,
            "{}",
            row.file
        );
        let top = (512 - 512 * 61 / 91) / 2;
        let red = px.at(30, top + 30);
        let green = px.at(512 - 15, top + 15);
        assert!(
            red[0] > 200 && red[1] < 60 && red[2] < 60,
            "{}: top-left is {red:?}",
            row.file
        );
        assert!(
            green[1] > 200 && green[0] < 60 && green[2] < 60,
            "{}: top-right is {green:?}",
            row.file
        );
    }
}

#[test]
fn alpha_is_kept_in_png_output_and_icc_is_converted() {
    let scale = 512.0 / 91.0;
    let top = (512 - 512 * 61 / 91) / 2;
    for name in [
        "avif-alpha.avif",
        "avif-10bit-420-alpha.avif",
        "avif-12bit-444-alpha.avif",
    ] {
        let (_, px) = FIXTURES.prepared_png(name);
        // The fully transparent hole (36..52, 40..56 of 91×61) and the opaque red block.
        let at = |x: f64, y: f64| px.at((x * scale) as u32, top + (y * scale) as u32);
        assert!(at(44.0, 48.0)[3] < 10, "{name} hole: {:?}", at(44.0, 48.0));
        assert_eq!(at(5.0, 5.0)[3], 255, "{name}");
        assert!(at(88.0, 40.0)[3] < 60, "{name} fade: {:?}", at(88.0, 40.0));
    }

    // A 2x2 grid of 256x160 tiles with an alpha grid: the hole (200..320, 100..220) spans all
    // four tiles; a fade from transparent (x = 400) to opaque (the right edge). 512x320
    // letterboxed to 512x512 at y = 96.
    let (out, px) = FIXTURES.prepared_png("avif-grid-2x2-alpha.avif");
    assert_eq!(out.side(), 512);
    for (x, y) in [(210, 110), (310, 110), (210, 210), (310, 210), (260, 160)] {
        assert!(
            px.at(x, 96 + y)[3] < 10,
            "hole at {x},{y}: {:?}",
            px.at(x, 96 + y)
        );
    }
    assert_eq!(px.at(50, 96 + 50)[3], 255);
    assert!(
        px.at(405, 96 + 160)[3] < 40,
        "fade: {:?}",
        px.at(405, 96 + 160)
    );
    assert!(
        px.at(508, 96 + 160)[3] > 220,
        "fade: {:?}",
        px.at(508, 96 + 160)
    );

    let (out, px) = FIXTURES.prepared_png("avif-icc-p3.avif");
    assert!(out.source().has_icc_profile && out.icc_converted());
    // P3 red (255, 0, 0) lies outside sRGB: it clips to full red, green and blue stay low.
    let red = px.at(30, top + 30);
    assert!(red[0] > 240 && red[1] < 60 && red[2] < 60, "{red:?}");
}

#[test]
fn a_sequence_becomes_an_animated_gif_or_its_first_frame() {
    let bytes = FIXTURES.read("star-8bpc-with-alpha.avifs");
    let out = prepare(&bytes, &PrepOptions::default()).unwrap();
    assert_eq!(out.format(), ImageFormat::Gif);
    assert!(out.frames() > 1, "{} frames", out.frames());
    let frames = gif_frames(out.bytes());
    assert_eq!(frames.len() as u32, out.frames());
    // A star on a transparent background: some pixels opaque, the corners transparent.
    let first = &frames[0].0;
    assert!(first.pixels().any(|p| p[3] == 255));
    assert_eq!(first.get_pixel(0, 0)[3], 0);
    // Consecutive frames differ (the star turns).
    assert_ne!(frames[0].0.as_raw(), frames[1].0.as_raw());

    let opts = PrepOptions::default()
        .frame_policy(FramePolicy::FirstFrame)
        .max_frames(1);
    let still = prepare(&bytes, &opts).unwrap();
    assert_ne!(still.format(), ImageFormat::Gif);
    assert_eq!(still.frames(), 1);
}

// ---------------------------------------------------------------------------------------------
// libavif's test images (BSD-2-Clause), when they are on the machine.

/// libavif's `tests/data`: `AVATAR_AVIF_CORPUS`, else `/work/shared/corpus/avif`.
fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("AVATAR_AVIF_CORPUS")
        .map_or_else(|| PathBuf::from("/work/shared/corpus/avif"), PathBuf::from);
    dir.join("kimono.avif").exists().then_some(dir)
}

#[test]
fn libavif_test_images_match_their_reference_renderings() {
    let Some(dir) = corpus() else {
        eprintln!("skipped: no libavif corpus (set AVATAR_AVIF_CORPUS to libavif's tests/data)");
        return;
    };
    let read = |n: &str| std::fs::read(dir.join(n)).unwrap_or_else(|e| panic!("{n}: {e}"));
    // (file, upright reference, stored size, orientation, tolerance). libavif's
    // `kimono.<transform>.png` are the *coded* pixels of each file (checked below with the
    // orientation off); shown upright, every one of them is `kimono.png`. fox and hato are
    // compared with the photo they were encoded from (lossy, hence the larger tolerance).
    type Case = (&'static str, &'static str, (u32, u32), u16, f64);
    let cases: &[Case] = &[
        ("kimono.avif", "kimono.png", (722, 1024), 1, 2.0),
        ("kimono.rotate90.avif", "kimono.png", (1024, 722), 6, 2.0),
        ("kimono.rotate270.avif", "kimono.png", (1024, 722), 8, 2.0),
        (
            "kimono.mirror-horizontal.avif",
            "kimono.png",
            (722, 1024),
            2,
            2.0,
        ),
        (
            "kimono.mirror-vertical.avif",
            "kimono.png",
            (722, 1024),
            4,
            2.0,
        ),
        (
            "kimono.mirror-vertical.rotate270.avif",
            "kimono.png",
            (1024, 722),
            5,
            2.0,
        ),
        ("kimono.crop.avif", "kimono.crop.png", (385, 330), 1, 2.0),
        (
            "fox.profile0.8bpc.yuv420.odd-width.odd-height.avif",
            "fox.png",
            (1203, 799),
            1,
            4.0,
        ),
        (
            "fox.profile1.10bpc.yuv444.avif",
            "fox.png",
            (1204, 800),
            1,
            4.0,
        ),
        (
            "hato.profile0.8bpc.yuv420.avif",
            "hato.jpg",
            (3082, 2048),
            1,
            5.0,
        ),
        (
            "hato.profile0.10bpc.yuv420.avif",
            "hato.jpg",
            (3078, 2048),
            1,
            5.0,
        ),
        (
            "hato.profile2.12bpc.yuv422.avif",
            "hato.jpg",
            (3078, 2048),
            1,
            5.0,
        ),
    ];
    let mut report = Vec::new();
    for &(file, reference, size, orientation, tolerance) in cases {
        let (out, got) = prepared_png(file, &read(file));
        let src = out.source();
        assert_eq!((src.width, src.height), size, "{file}");
        assert_eq!(src.orientation.exif_value(), orientation, "{file}");
        // hato's 10/12-bit files are 4 columns narrower than the JPEG (a 0.1 % scale
        // difference at 1024 px, inside the tolerance).
        let (_, want) = prepared_png(reference, &read(reference));
        let d = premultiplied_mean_diff(&got, &want);
        report.push(format!("{file}: {d:.2}"));
        assert!(
            d <= tolerance,
            "{file} differs from {reference} by {d:.2} (tolerance {tolerance})"
        );
        if orientation != 1 {
            let coded = file.replace(".avif", ".png");
            let o = PrepOptions::default()
                .format(OutputFormat::Png)
                .apply_orientation(false);
            let got = decode(prepare(&read(file), &o).unwrap().bytes());
            let want = decode(prepare(&read(&coded), &o).unwrap().bytes());
            let d = premultiplied_mean_diff(&got, &want);
            assert!(
                d <= tolerance,
                "{file} as coded differs from {coded} by {d:.2}"
            );
        }
    }
    // Monochrome: grey.
    let (_, grey) = prepared_png(
        "hato.profile2.8bpc.yuv422.monochrome.avif",
        &read("hato.profile2.8bpc.yuv422.monochrome.avif"),
    );
    assert!(grey
        .rgba
        .chunks_exact(4)
        .all(|p| p[0] == p[1] && p[1] == p[2]));
    eprintln!("libavif corpus: {}", report.join(", "));
}

// ---------------------------------------------------------------------------------------------
// Hostile files, built here.

#[test]
fn header_bombs_are_refused_before_allocating() {
    let single = |w: u32, h: u32| {
        let item = Item {
            id: 1,
            kind: *b"av01",
            ispe: Some((w, h)),
            data: 0..100,
        };
        heif(BRAND, &[item], &[], &[0u8; 100])
    };
    assert_eq!(
        refused("ispe 60000²", &single(60_000, 60_000)),
        ErrorKind::DimensionsTooLarge
    );
    assert_eq!(
        refused(
            "grid 60000²",
            &grid_file(BRAND, 1, 2, (60_000, 60_000), 512, false)
        ),
        ErrorKind::DimensionsTooLarge
    );
    // 64 × 64 = 4096 tiles: more than a grid may have.
    assert_eq!(
        refused(
            "4096 tiles",
            &grid_file(BRAND, 64, 64, (4096, 4096), 64, false)
        ),
        ErrorKind::UnsupportedFormat
    );
    // 32 × 32 tiles of 512² declared for a small output: 268 MP of tiles.
    assert_eq!(
        refused(
            "tiles 268 MP",
            &grid_file(BRAND, 32, 32, (4000, 3000), 512, false)
        ),
        ErrorKind::TooManyPixels
    );
    // The message names the area the tiles cover, not the (allowed) 4000x3000 output.
    let err = prepare(
        &grid_file(BRAND, 32, 32, (4000, 3000), 512, false),
        &PrepOptions::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("16384x16384"), "{err}");
    // 256 tiles that all point at the same bytes.
    assert_eq!(
        refused(
            "shared tiles",
            &grid_file(BRAND, 16, 16, (4000, 3000), 256, true)
        ),
        ErrorKind::Corrupt
    );
    // A real file whose ispe is rewritten to 60000².
    let mut bytes = FIXTURES.read("avif-420.avif");
    let at = bytes.windows(4).position(|w| w == b"ispe").unwrap() + 8;
    bytes[at..at + 4].copy_from_slice(&60_000u32.to_be_bytes());
    bytes[at + 4..at + 8].copy_from_slice(&60_000u32.to_be_bytes());
    assert_eq!(
        refused("real file, ispe 60000²", &bytes),
        ErrorKind::DimensionsTooLarge
    );
}

#[test]
fn a_grid_referencing_missing_tiles_is_corrupt() {
    let mut mdat = grid_descriptor(1, 2, 1024, 512);
    let desc = 0..mdat.len() as u32;
    mdat.extend([0u8; 64]);
    let items = [
        Item {
            id: 1,
            kind: *b"grid",
            ispe: Some((1024, 512)),
            data: desc,
        },
        Item {
            id: 2,
            kind: *b"av01",
            ispe: Some((512, 512)),
            data: 12..76,
        },
    ];
    // Tile 99 has no item; and a grid of 2 naming only one tile.
    assert_eq!(
        refused("missing tile", &heif(BRAND, &items, &[2, 99], &mdat)),
        ErrorKind::Corrupt
    );
    assert_eq!(
        refused("too few tiles", &heif(BRAND, &items, &[2], &mdat)),
        ErrorKind::Corrupt
    );
}

#[test]
fn an_alpha_grid_referencing_a_missing_tile_is_corrupt() {
    // avifenc's file: `dimg` 1 → 2..5 (colour), `dimg` 6 → 7..10 (alpha), `auxl` 6 → 1.
    let mut bytes = FIXTURES.read("avif-grid-2x2-alpha.avif");
    let second = bytes
        .windows(4)
        .enumerate()
        .filter(|(_, w)| w == b"dimg")
        .nth(1)
        .map(|(i, _)| i)
        .unwrap();
    // from_id (2), count (2), then four 16-bit targets: the last becomes item 255.
    let last = second + 4 + 2 + 2 + 6;
    assert_eq!(bytes[last..last + 2], [0, 10]);
    bytes[last..last + 2].copy_from_slice(&255u16.to_be_bytes());
    assert_eq!(refused("alpha tile 255", &bytes), ErrorKind::Corrupt);
}

#[test]
fn a_box_size_near_u64_max_is_refused() {
    // Found by the `avif` fuzz target: a 64-bit `largesize` close to u64::MAX wrapped the
    // box's end offset and sliced out of bounds.
    let huge = (u64::MAX - 7).to_be_bytes();
    let mut top = FIXTURES.read("avif-420.avif");
    top.extend_from_slice(&[0, 0, 0, 1]);
    top.extend_from_slice(b"free");
    top.extend_from_slice(&huge);
    assert_eq!(refused("top-level largesize", &top), ErrorKind::Truncated);
    // The same inside `meta`: `hdlr` rewritten in place (nothing after it moves).
    let mut inner = FIXTURES.read("avif-420.avif");
    let at = inner.windows(4).position(|w| w == b"hdlr").unwrap() - 4;
    inner[at..at + 4].copy_from_slice(&1u32.to_be_bytes());
    inner[at + 8..at + 16].copy_from_slice(&huge);
    assert_eq!(refused("largesize inside meta", &inner), ErrorKind::Corrupt);
}

#[test]
fn a_frame_that_fails_to_decode_is_corrupt() {
    // Found by the `avif` fuzz target: AV1 data whose frame fails inside rav1d. With one
    // frame context, rav1d 1.1 panics in its error handler, inside an `extern "C"`
    // function, and the process aborts (this test binary with it); decode/av1.rs opens
    // decoders with two frame contexts, where the error comes back as a value.
    let bytes = Fixtures("regressions").read("fuzz-avif-rav1d-frame-error.corrupt.avif");
    assert_eq!(refused("frame decode error", &bytes), ErrorKind::Corrupt);
}

/// A sequence whose sample-size table claims `count` samples of a constant size: a dozen
/// bytes that a parser turns into a table of `count` entries.
fn claimed_samples(count: u32) -> Vec<u8> {
    let mut bytes = FIXTURES.read("star-8bpc-with-alpha.avifs");
    let at = bytes.windows(4).position(|w| w == b"stsz").unwrap() + 4;
    bytes[at + 4..at + 8].copy_from_slice(&1000u32.to_be_bytes());
    bytes[at + 8..at + 12].copy_from_slice(&count.to_be_bytes());
    bytes
}

#[test]
fn a_huge_sequence_is_refused_before_allocating() {
    for count in [50_000_000, 1_000_000] {
        assert_eq!(
            refused(&format!("{count} samples"), &claimed_samples(count)),
            ErrorKind::TooManyFrames
        );
    }
}

#[test]
fn truncation_at_every_box_boundary_is_truncated() {
    for name in [
        "avif-grid-2x2.avif",
        "avif-grid-2x2-alpha.avif",
        "avif-alpha.avif",
        "star-8bpc-with-alpha.avifs",
    ] {
        let bytes = FIXTURES.read(name);
        let mut cuts = Vec::new();
        box_boundaries(&bytes, 0, bytes.len(), &mut cuts);
        // Cutting off a trailing `free` box loses nothing.
        let mut top = Vec::new();
        box_boundaries(&bytes, 0, bytes.len(), &mut top);
        let end = match top.iter().rev().nth(1) {
            Some(&last) if &bytes[last + 4..last + 8] == b"free" => last,
            _ => bytes.len(),
        };
        cuts.retain(|&c| c > 0 && c < end);
        assert!(cuts.len() > 10, "{name}: {} boundaries", cuts.len());
        for cut in cuts {
            let kind = refused(&format!("{name} cut at {cut}"), &bytes[..cut]);
            assert_eq!(kind, ErrorKind::Truncated, "{name} cut at {cut}");
        }
    }
}
