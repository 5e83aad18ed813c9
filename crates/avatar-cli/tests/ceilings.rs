//! Memory and time ceilings of the `avatar` binary on hostile inputs and on a 12 MP photo.
//! Peak RSS is read from the kernel (`getrusage(RUSAGE_CHILDREN)` after each child exits),
//! so this test binary runs its children one at a time (one test function).

#![allow(clippy::unwrap_used)] // test helpers: a failure is the test failing.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use avatar_tests::{
    bmp_claiming, flat_png_rgba, gif, jpeg, photo, png_with, progressive_scan_bomb, tiff_claiming,
    vp8l_payload, vp8x_payload, webp_animation, webp_file, JpegFixture, Pixels,
};

/// The largest peak RSS of any child waited for so far, in bytes.
fn children_max_rss() -> u64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `usage` is a valid, writable rusage; getrusage only writes into it.
    #[allow(unsafe_code)]
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr()) };
    assert_eq!(rc, 0);
    // SAFETY: getrusage succeeded, so it initialised the struct.
    #[allow(unsafe_code)]
    let usage = unsafe { usage.assume_init() };
    u64::try_from(usage.ru_maxrss).unwrap_or(0) * 1024 // kilobytes on Linux
}

fn run(file: &Path, out: &Path) -> (Duration, u64, String) {
    let start = Instant::now();
    let o = Command::new(env!("CARGO_BIN_EXE_avatar"))
        .args([
            "prep",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--jobs",
            "1",
            "-q",
        ])
        .output()
        .unwrap();
    (
        start.elapsed(),
        children_max_rss(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// A PNG whose IHDR claims `w` x `h`, with a tiny valid stream of zeros after it.
fn claimed_png(w: u32, h: u32) -> Vec<u8> {
    let mut bytes = png_with(
        64,
        64,
        png::ColorType::Grayscale,
        png::BitDepth::Eight,
        &[0; 64 * 64],
        |_| {},
    );
    bytes[16..20].copy_from_slice(&w.to_be_bytes());
    bytes[20..24].copy_from_slice(&h.to_be_bytes());
    bytes
}

/// Hostile HEIF files of one codec, named `names`: header bombs only the limit checks stop.
#[cfg(any(feature = "heic", feature = "avif"))]
fn heif_cases(
    names: [&'static str; 2],
    brand: (&[u8; 4], &[u8; 4]),
) -> [(&'static str, Vec<u8>); 2] {
    use avatar_tests::heif_build::grid_file;
    [
        (
            names[0],
            grid_file(brand, 1, 2, (60_000, 60_000), 512, false),
        ),
        (names[1], grid_file(brand, 32, 32, (4000, 3000), 512, false)),
    ]
}

#[test]
fn hostile_inputs_stay_under_the_ceilings() {
    const CEILING: u64 = 256 * 1024 * 1024;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let mut frames_bomb = Vec::new();
    for _ in 0..3000 {
        frames_bomb.push(Pixels::from_fn(2, 2, |_, _| [200, 0, 0, 255]));
    }
    let mut big_text = b"Comment\0".to_vec();
    big_text.resize(20 * 1024 * 1024, b'a');
    let text_png = png_with(
        64,
        64,
        png::ColorType::Rgb,
        png::BitDepth::Eight,
        &[7; 64 * 64 * 3],
        |w| {
            w.write_chunk(png::chunk::tEXt, &big_text).unwrap();
        },
    );
    let mut exif = b"Exif\0\0II*\0\x08\0\0\0".to_vec();
    exif.extend_from_slice(&[0xFF, 0xFF]); // 65535 IFD entries claimed, none there
    exif.resize(60_000, 0xAB);
    #[allow(unused_mut)] // extended below only with the optional codecs
    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        ("png_claims_30000x30000.png", claimed_png(30_000, 30_000)),
        (
            "png_claims_100000x100000.png",
            claimed_png(100_000, 100_000),
        ),
        ("png_20mb_text_chunk.png", text_png),
        ("gif_3000_frames.gif", gif(&frames_bomb, 1)),
        ("jpeg_60kb_broken_exif.jpg", {
            let mut j = jpeg(&photo(64, 64, 1), &JpegFixture::default());
            let mut seg = vec![0xFF, 0xE1];
            seg.extend_from_slice(&((exif.len() + 2) as u16).to_be_bytes());
            seg.extend_from_slice(&exif);
            j.splice(2..2, seg);
            j
        }),
        // Within every limit, 256 MB of pixels: read row by row into 4x4 block averages.
        (
            "png_8000x8000_rgba_one_colour.png",
            flat_png_rgba(8000, 8000, [200, 30, 30, 255]),
        ),
        ("jpeg_5000_scans.jpg", progressive_scan_bomb(2048, 5000)),
        ("jpeg_8mb_garbage_icc.jpg", {
            let icc: Vec<u8> = (0..8_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
            jpeg(
                &photo(64, 64, 2),
                &JpegFixture {
                    icc: Some(&icc),
                    ..Default::default()
                },
            )
        }),
        ("empty.jpg", Vec::new()),
        ("one_byte.png", vec![0x89]),
        // One hostile file per format added since: a huge WebP canvas, a WebP animation of
        // 5000 frames (frame policy decimate would composite each), BMP and TIFF headers
        // claiming 60000x60000.
        (
            "webp_claims_16000x16000.webp",
            webp_file(&[
                (b"VP8X", vp8x_payload(0, 16_000, 16_000)),
                (
                    b"VP8L",
                    vp8l_payload(&Pixels::from_fn(1, 1, |_, _| [9, 9, 9, 255])),
                ),
            ]),
        ),
        (
            "webp_5000_frames.webp",
            webp_animation(
                2000,
                2000,
                5000,
                20,
                &Pixels::from_fn(1, 1, |_, _| [200, 0, 0, 255]),
            ),
        ),
        ("bmp_claims_60000x60000.bmp", bmp_claiming(60_000, 60_000)),
        ("tiff_claims_60000x60000.tif", tiff_claiming(60_000, 60_000)),
    ];
    // With the optional HEIF codecs: a grid declaring 60000x60000, and 32 x 32 tiles of 512²
    // (268 MP of tiles) behind a 4000x3000 image.
    #[cfg(feature = "heic")]
    cases.extend(heif_cases(
        [
            "heic_grid_claims_60000x60000.heic",
            "heic_1024_tiles_of_512.heic",
        ],
        (b"heic", b"hvc1"),
    ));
    #[cfg(feature = "avif")]
    cases.extend(heif_cases(
        [
            "avif_grid_claims_60000x60000.avif",
            "avif_1024_tiles_of_512.avif",
        ],
        (b"avif", b"av01"),
    ));
    let mut worst = (Duration::ZERO, 0u64, "");
    for (name, bytes) in &cases {
        let path = tmp.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let (took, rss, stderr) = run(&path, &out);
        eprintln!(
            "{name}: {took:?}, peak RSS so far {} MiB: {}",
            rss >> 20,
            stderr.trim()
        );
        assert!(took < Duration::from_secs(10), "{name}: {took:?}");
        assert!(rss < CEILING, "{name}: peak RSS {} MiB", rss >> 20);
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
        if took > worst.0 {
            worst = (took, rss, name);
        }
    }
    eprintln!(
        "hostile inputs: slowest {} in {:?}, peak RSS so far {} MiB",
        worst.2,
        worst.0,
        worst.1 >> 20
    );

    // A 12 MP photo is the ordinary worst case.
    let photo_path = tmp.path().join("photo_12mp.jpg");
    std::fs::write(
        &photo_path,
        jpeg(&photo(4032, 3024, 5), &JpegFixture::default()),
    )
    .unwrap();
    let (took, rss, stderr) = run(&photo_path, &out);
    assert!(stderr.is_empty() || !stderr.contains("error"), "{stderr}");
    assert!(rss < CEILING, "12 MP photo: peak RSS {} MiB", rss >> 20);
    eprintln!(
        "12 MP photo: {took:?}, peak RSS (max of all children) {} MiB",
        rss >> 20
    );
}
