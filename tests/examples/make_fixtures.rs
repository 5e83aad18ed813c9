//! Writes the regression fixtures in `tests/fixtures/regressions/` that are made here rather
//! than found by the fuzzer (run from the workspace root):
//! `cargo run -p avatar-tests --example make_fixtures`. Deterministic.
//!
//! Each file is named `<origin>-<what>.<expected>.<ext>`, where `<expected>` is `ok` (must
//! give a valid square) or the error kind it must give; `tests/it/regressions.rs` replays
//! them all, and the fuzz targets are seeded with them.

#![allow(clippy::unwrap_used)]

use avatar_tests::{gif, jpeg, photo, png_rgba, progressive_scan_bomb, JpegFixture};

fn main() -> std::io::Result<()> {
    let dir = std::path::Path::new("tests/fixtures/regressions");
    std::fs::create_dir_all(dir)?;
    let write = |name: &str, bytes: &[u8]| std::fs::write(dir.join(name), bytes);

    // #7: a progressive JPEG with 150 scans (every scan a pass over all blocks).
    write(
        "issue-7-progressive-150-scans.too_many_scans.jpg",
        &progressive_scan_bomb(256, 150),
    )?;
    // #7: the same with 20 scans is an ordinary progressive file.
    write(
        "issue-7-progressive-20-scans.ok.jpg",
        &progressive_scan_bomb(256, 20),
    )?;
    // #2: a JPEG cut inside its scan: jpeg-decoder pads it with zeros, we call it truncated.
    let whole = jpeg(&photo(64, 48, 7), &JpegFixture::default());
    write(
        "issue-2-jpeg-cut-in-scan.truncated.jpg",
        &whole[..whole.len() * 3 / 4],
    )?;
    // #2: a JPEG with bytes after EOI (some phones append data): fine.
    let mut trailing = whole.clone();
    trailing.extend_from_slice(b"\xFF\xD9 trailing bytes after the image");
    write("issue-2-jpeg-trailing-data.ok.jpg", &trailing)?;
    // #2: an EXIF orientation 6 PNG (eXIf chunk).
    write(
        "issue-2-png-exif-orientation-6.ok.png",
        &png_rgba(&photo(40, 30, 3), Some(6)),
    )?;
    // #3: a GIF whose logical screen is 0x0 (seen in the wild): the first frame's size is used.
    let mut zero_screen = gif(&[photo(32, 24, 4), photo(32, 24, 5)], 10);
    zero_screen[6..10].fill(0);
    write("issue-3-gif-zero-screen.ok.gif", &zero_screen)?;
    // #7: a PNG whose IDAT stream stops half-way.
    let png = png_rgba(&photo(64, 64, 6), None);
    write(
        "issue-7-png-cut-in-idat.truncated.png",
        &png[..png.len() / 2],
    )?;
    Ok(())
}
