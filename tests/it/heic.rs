//! HEIC input (cargo feature `heic`): the fixtures of `tests/fixtures/heic` through the
//! pipeline against libheif's renderings, the orientation markers after every `irot`/`imir`
//! and EXIF case, alpha and ICC; then hostile files built here, each a typed error before
//! any pixel memory is taken.

use avatar_prep::{ErrorKind, ImageFormat, Orientation};

use crate::heif_fixtures::{refused, Fixtures};
use avatar_tests::heif_build::{box_boundaries, grid_descriptor, grid_file, heif, Item};

const FIXTURES: Fixtures = Fixtures("heic");

/// The `ftyp` brand and tile type of the files built here.
const BRAND: (&[u8; 4], &[u8; 4]) = (b"heic", b"hvc1");

#[test]
fn every_heic_fixture_matches_its_libheif_rendering() {
    // Same decoder family as the reference (libheif); YUV -> RGB (float here, fixed point
    // there) and, for the ICC files, moxcms vs lcms differ a little.
    let report = FIXTURES.check_against_references(ImageFormat::Heic, 12);
    eprintln!("heic: {}", report.join(", "));
}

/// The 91×61 test picture has a red block top-left and a green block top-right; after the
/// letterbox (91×61 → 512×343 at y = 84) they must be where a viewer shows them, whether
/// the file turns it with `irot`/`imir` (EXIF saying the same, not applied on top) or, with
/// neither, with EXIF alone.
#[test]
fn orientation_markers_land_in_the_right_corners() {
    for row in FIXTURES
        .manifest()
        .iter()
        .filter(|r| r.file.contains("irot") || r.file.contains("exif"))
    {
        let (out, px) = FIXTURES.prepared_png(&row.file);
        assert_eq!(out.side(), 512, "{}", row.file);
        let expected = if row.file.contains("irot") {
            Orientation::Normal // heic-decoder applied irot/imir
        } else {
            Orientation::Rotate90
        };
        assert_eq!(out.orientation_applied(), expected, "{}", row.file);
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
    let (_, px) = FIXTURES.prepared_png("heic-alpha.heic");
    // The fully transparent hole (36..52, 40..56 of 91×61) and the opaque red block.
    let scale = 512.0 / 91.0;
    let top = (512 - 512 * 61 / 91) / 2;
    let at = |x: f64, y: f64| px.at((x * scale) as u32, top + (y * scale) as u32);
    assert!(at(44.0, 48.0)[3] < 10, "hole: {:?}", at(44.0, 48.0));
    assert_eq!(at(5.0, 5.0)[3], 255);
    assert!(at(88.0, 40.0)[3] < 60, "fade: {:?}", at(88.0, 40.0));

    let (out, px) = FIXTURES.prepared_png("heic-icc-p3.heic");
    assert!(out.source().has_icc_profile && out.icc_converted());
    // P3 red (255, 0, 0) lies outside sRGB: it clips to full red, green and blue stay low.
    let red = px.at(30, top + 30);
    assert!(red[0] > 240 && red[1] < 60 && red[2] < 60, "{red:?}");

    // Display P3 said only by `nclx` (no ICC): converted the same way (pixels against the
    // reference in `every_heic_fixture_matches_its_libheif_rendering`).
    let (out, _) = FIXTURES.prepared_png("heic-nclx-p3.heic");
    assert!(out.source().has_icc_profile && out.icc_converted());
    // sRGB primaries (`nclx` 1/13 in the other fixtures) stay unconverted.
    let (out, _) = FIXTURES.prepared_png("heic-444.heic");
    assert!(!out.source().has_icc_profile && !out.icc_converted());
}

// ---------------------------------------------------------------------------------------------
// Hostile files, built here.

#[test]
fn header_bombs_are_refused_before_allocating() {
    let single = |w: u32, h: u32| {
        let item = Item {
            id: 1,
            kind: *b"hvc1",
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
    // 256 tiles that all point at the same bytes: the decoder would copy them 256 times.
    assert_eq!(
        refused(
            "shared tiles",
            &grid_file(BRAND, 16, 16, (4000, 3000), 256, true)
        ),
        ErrorKind::Corrupt
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
            kind: *b"hvc1",
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
fn truncation_at_every_box_boundary_is_truncated() {
    for name in ["heic-grid-1030x580.heic", "heic-alpha.heic"] {
        let bytes = FIXTURES.read(name);
        let mut cuts = Vec::new();
        box_boundaries(&bytes, 0, bytes.len(), &mut cuts);
        cuts.retain(|&c| c > 0 && c < bytes.len());
        assert!(cuts.len() > 20, "{name}: {} boundaries", cuts.len());
        for cut in cuts {
            let kind = refused(&format!("{name} cut at {cut}"), &bytes[..cut]);
            assert_eq!(kind, ErrorKind::Truncated, "{name} cut at {cut}");
        }
    }
}
