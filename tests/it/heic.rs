//! HEIC input (cargo feature `heic`): the fixtures of `tests/fixtures/heic` through the
//! pipeline against libheif's renderings, the orientation markers after every `irot`/`imir`
//! and EXIF case, alpha and ICC; then hostile files built here, each a typed error before
//! any pixel memory is taken.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use avatar_prep::{prepare, ErrorKind, ImageFormat, Orientation, OutputFormat, PrepOptions};
use avatar_tests::{decode, premultiplied_mean_diff, Pixels};

use crate::alloc::largest_allocation_during;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/heic")
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// One row of `manifest.tsv`: file, stored size, orientation, alpha, icc, reference, notes.
struct Row {
    file: String,
    width: u32,
    height: u32,
    orientation: u16,
    alpha: bool,
    icc: bool,
    reference: String,
}

fn manifest() -> Vec<Row> {
    let text = std::fs::read_to_string(dir().join("manifest.tsv")).unwrap();
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            Row {
                file: c[0].into(),
                width: c[1].parse().unwrap(),
                height: c[2].parse().unwrap(),
                orientation: c[3].parse().unwrap(),
                alpha: c[4] == "yes",
                icc: c[5] == "yes",
                reference: c[6].into(),
            }
        })
        .collect()
}

/// The prepared PNG of `bytes`, decoded.
fn prepared_png(name: &str, bytes: &[u8]) -> (avatar_prep::PreparedImage, Pixels) {
    let opts = PrepOptions::default().format(OutputFormat::Png);
    let out = prepare(bytes, &opts).unwrap_or_else(|e| panic!("{name}: {e}"));
    let px = decode(out.bytes());
    (out, px)
}

#[test]
fn every_heic_fixture_matches_its_libheif_rendering() {
    let rows = manifest();
    assert!(rows.len() >= 12, "{} rows", rows.len());
    let mut report = Vec::new();
    for row in &rows {
        let (out, got) = prepared_png(&row.file, &read(&row.file));
        let (_, want) = prepared_png(&row.reference, &read(&row.reference));
        let src = out.source();
        assert_eq!(src.format, ImageFormat::Heic, "{}", row.file);
        assert_eq!(
            (src.width, src.height),
            (row.width, row.height),
            "{}",
            row.file
        );
        assert_eq!(
            src.orientation.exif_value(),
            row.orientation,
            "{}",
            row.file
        );
        assert_eq!(src.has_icc_profile, row.icc, "{}", row.file);
        assert_eq!(out.icc_converted(), row.icc, "{}", row.file);
        if row.alpha {
            assert!(got.rgba.chunks_exact(4).any(|p| p[3] < 128), "{}", row.file);
        }
        let d = premultiplied_mean_diff(&got, &want);
        report.push(format!("{}: {d:.2}", row.file));
        // Both HEVC decoders are exact; YCbCr -> RGB (chroma upsampling at the test picture's
        // hard edges, integer vs float) and, for the ICC file, lcms vs moxcms differ a little.
        let tolerance = if row.icc { 2.5 } else { 2.0 };
        assert!(
            d <= tolerance,
            "{} differs from its reference by {d:.2} (tolerance {tolerance})",
            row.file
        );
    }
    eprintln!("heic: {}", report.join(", "));
}

/// The 91×61 test picture has a red block top-left and a green block top-right; after the
/// letterbox (91×61 → 512×343 at y = 84) they must be where a viewer shows them, whether
/// the file turns it with `irot`/`imir` (EXIF saying the same, not applied on top) or, with
/// neither, with EXIF alone.
#[test]
fn orientation_markers_land_in_the_right_corners() {
    for row in manifest()
        .iter()
        .filter(|r| r.file.contains("irot") || r.file.contains("exif"))
    {
        let (out, px) = prepared_png(&row.file, &read(&row.file));
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
    let (_, px) = prepared_png("heic-alpha.heic", &read("heic-alpha.heic"));
    // The fully transparent hole (36..52, 40..56 of 91×61) and the opaque red block.
    let scale = 512.0 / 91.0;
    let top = (512 - 512 * 61 / 91) / 2;
    let at = |x: f64, y: f64| px.at((x * scale) as u32, top + (y * scale) as u32);
    assert!(at(44.0, 48.0)[3] < 10, "hole: {:?}", at(44.0, 48.0));
    assert_eq!(at(5.0, 5.0)[3], 255);
    assert!(at(88.0, 40.0)[3] < 60, "fade: {:?}", at(88.0, 40.0));

    let (out, px) = prepared_png("heic-icc-p3.heic", &read("heic-icc-p3.heic"));
    assert!(out.source().has_icc_profile && out.icc_converted());
    // P3 red (255, 0, 0) lies outside sRGB: it clips to full red, green and blue stay low.
    let red = px.at(30, top + 30);
    assert!(red[0] > 240 && red[1] < 60 && red[2] < 60, "{red:?}");
}

// ---------------------------------------------------------------------------------------------
// Hostile files, built here.

fn full_box(kind: &[u8; 4], version: u8, flags: u32, body: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(body.len() + 12);
    b.extend_from_slice(&((body.len() + 12) as u32).to_be_bytes());
    b.extend_from_slice(kind);
    b.push(version);
    b.extend_from_slice(&flags.to_be_bytes()[1..]);
    b.extend_from_slice(body);
    b
}

fn plain_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(body.len() + 8);
    b.extend_from_slice(&((body.len() + 8) as u32).to_be_bytes());
    b.extend_from_slice(kind);
    b.extend_from_slice(body);
    b
}

/// One item of a built file: its ID, type, `ispe`, and where its data is in `mdat`.
struct Item {
    id: u16,
    kind: [u8; 4],
    ispe: Option<(u32, u32)>,
    data: std::ops::Range<u32>,
}

/// A HEIF file: `items`, primary item 1, `dimg` references from item 1 to `tiles`, and an
/// `mdat` of `mdat` bytes. Item data offsets are relative to the `mdat` body.
fn heif(items: &[Item], tiles: &[u16], mdat: &[u8]) -> Vec<u8> {
    let build = |mdat_at: u32| {
        let mut infe = Vec::new();
        for it in items {
            let mut body = it.id.to_be_bytes().to_vec();
            body.extend_from_slice(&[0, 0]);
            body.extend_from_slice(&it.kind);
            body.push(0);
            infe.extend(full_box(b"infe", 2, 0, &body));
        }
        let mut iinf = (items.len() as u16).to_be_bytes().to_vec();
        iinf.extend(infe);
        let mut ipco = Vec::new();
        let mut ipma = (items.len() as u32).to_be_bytes().to_vec();
        for it in items {
            ipma.extend_from_slice(&it.id.to_be_bytes());
            match it.ispe {
                Some((w, h)) => {
                    let mut body = w.to_be_bytes().to_vec();
                    body.extend_from_slice(&h.to_be_bytes());
                    ipco.extend(full_box(b"ispe", 0, 0, &body));
                    let index = ipco_count(&ipco) as u8;
                    ipma.extend_from_slice(&[1, 0x80 | index]);
                }
                None => ipma.push(0),
            }
        }
        let mut iloc = vec![0x44, 0x00];
        iloc.extend_from_slice(&(items.len() as u16).to_be_bytes());
        for it in items {
            iloc.extend_from_slice(&it.id.to_be_bytes());
            iloc.extend_from_slice(&[0, 0, 0, 1]);
            iloc.extend_from_slice(&(mdat_at + it.data.start).to_be_bytes());
            iloc.extend_from_slice(&(it.data.end - it.data.start).to_be_bytes());
        }
        let mut iref = Vec::new();
        if !tiles.is_empty() {
            let mut body = 1u16.to_be_bytes().to_vec();
            body.extend_from_slice(&(tiles.len() as u16).to_be_bytes());
            for t in tiles {
                body.extend_from_slice(&t.to_be_bytes());
            }
            iref = full_box(b"iref", 0, 0, &plain_box(b"dimg", &body));
        }
        let mut meta = full_box(b"hdlr", 0, 0, b"\0\0\0\0pict\0\0\0\0\0\0\0\0\0\0\0\0\0");
        meta.extend(full_box(b"pitm", 0, 0, &1u16.to_be_bytes()));
        meta.extend(full_box(b"iinf", 0, 0, &iinf));
        meta.extend(iref);
        let mut iprp = plain_box(b"ipco", &ipco);
        iprp.extend(full_box(b"ipma", 0, 0, &ipma));
        meta.extend(plain_box(b"iprp", &iprp));
        meta.extend(full_box(b"iloc", 0, 0, &iloc));
        let mut file = plain_box(b"ftyp", b"heic\0\0\0\0mif1heic");
        file.extend(full_box(b"meta", 0, 0, &meta));
        file
    };
    let head = build(0).len() as u32 + 8;
    let mut file = build(head);
    file.extend(plain_box(b"mdat", mdat));
    file
}

/// How many boxes `ipco`'s body holds so far (each `ispe` is 20 bytes).
fn ipco_count(ipco: &[u8]) -> usize {
    ipco.len() / 20
}

/// A grid descriptor: `rows` × `columns`, 32-bit output size.
fn grid_descriptor(rows: u16, columns: u16, width: u32, height: u32) -> Vec<u8> {
    let mut d = vec![0, 1, (rows - 1) as u8, (columns - 1) as u8];
    d.extend_from_slice(&width.to_be_bytes());
    d.extend_from_slice(&height.to_be_bytes());
    d
}

/// A grid of `rows` × `columns` tiles of `tile`² (items 2…), each `tile_bytes` of data; with
/// `shared`, every tile points at the same bytes.
fn grid_file(rows: u16, columns: u16, out: (u32, u32), tile: u32, shared: bool) -> Vec<u8> {
    let n = rows * columns;
    let tile_bytes = 256u32;
    let mut mdat = grid_descriptor(rows, columns, out.0, out.1);
    let mut items = vec![Item {
        id: 1,
        kind: *b"grid",
        ispe: Some(out),
        data: 0..mdat.len() as u32,
    }];
    for i in 0..n {
        let start = if shared && i > 0 {
            items[1].data.start
        } else {
            let at = mdat.len() as u32;
            mdat.extend(std::iter::repeat_n(0x55u8, tile_bytes as usize));
            at
        };
        items.push(Item {
            id: 2 + i,
            kind: *b"hvc1",
            ispe: Some((tile, tile)),
            data: start..start + tile_bytes,
        });
    }
    let tiles: Vec<u16> = (2..2 + n).collect();
    heif(&items, &tiles, &mdat)
}

/// Prepares `bytes` under the counting allocator: the error kind, the largest allocation,
/// the time taken.
fn refused(what: &str, bytes: &[u8]) -> ErrorKind {
    let t = Instant::now();
    let (result, largest) =
        largest_allocation_during(|| prepare(bytes, &PrepOptions::default()).map(|_| ()));
    let took = t.elapsed();
    let err = result.expect_err(what);
    assert!(
        largest < 4 << 20,
        "{what}: allocated {largest} bytes before refusing ({err})"
    );
    assert!(took < Duration::from_secs(1), "{what}: took {took:?}");
    assert_ne!(err.kind(), ErrorKind::Internal, "{what}: {err}");
    err.kind()
}

#[test]
fn header_bombs_are_refused_before_allocating() {
    let single = |w: u32, h: u32| {
        let item = Item {
            id: 1,
            kind: *b"hvc1",
            ispe: Some((w, h)),
            data: 0..100,
        };
        heif(&[item], &[], &[0u8; 100])
    };
    assert_eq!(
        refused("ispe 60000²", &single(60_000, 60_000)),
        ErrorKind::DimensionsTooLarge
    );
    assert_eq!(
        refused(
            "grid 60000²",
            &grid_file(1, 2, (60_000, 60_000), 512, false)
        ),
        ErrorKind::DimensionsTooLarge
    );
    // 64 × 64 = 4096 tiles: more than a grid may have.
    assert_eq!(
        refused("4096 tiles", &grid_file(64, 64, (4096, 4096), 64, false)),
        ErrorKind::UnsupportedFormat
    );
    // 32 × 32 tiles of 512² declared for a small output: 268 MP of tiles.
    assert_eq!(
        refused("tiles 268 MP", &grid_file(32, 32, (4000, 3000), 512, false)),
        ErrorKind::TooManyPixels
    );
    // 256 tiles that all point at the same bytes: the decoder would copy them 256 times.
    assert_eq!(
        refused("shared tiles", &grid_file(16, 16, (4000, 3000), 256, true)),
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
        refused("missing tile", &heif(&items, &[2, 99], &mdat)),
        ErrorKind::Corrupt
    );
    assert_eq!(
        refused("too few tiles", &heif(&items, &[2], &mdat)),
        ErrorKind::Corrupt
    );
}

/// Every box boundary of the file, nested ones included (for boxes that contain boxes).
fn box_boundaries(b: &[u8], start: usize, end: usize, out: &mut Vec<usize>) {
    let mut at = start;
    while at + 8 <= end {
        let size = u32::from_be_bytes(b[at..at + 4].try_into().unwrap()) as usize;
        let kind = &b[at + 4..at + 8];
        if size < 8 || at + size > end {
            return;
        }
        out.push(at);
        let body = match kind {
            b"meta" | b"iinf" | b"iref" => Some(at + 12),
            b"iprp" | b"ipco" | b"dinf" => Some(at + 8),
            _ => None,
        };
        if let Some(body) = body {
            // iinf has an entry count after its version and flags.
            let body = if kind == b"iinf" { body + 2 } else { body };
            box_boundaries(b, body, at + size, out);
        }
        at += size;
    }
    out.push(at);
}

#[test]
fn truncation_at_every_box_boundary_is_truncated() {
    for name in ["heic-grid-1030x580.heic", "heic-alpha.heic"] {
        let bytes = read(name);
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
