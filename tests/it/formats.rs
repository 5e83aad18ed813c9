//! Input formats beyond JPEG/PNG/GIF (WebP, BMP, TIFF): every fixture of
//! `tests/fixtures/formats` against its reference rendering, made by independent decoders
//! (libwebp, libtiff, Pillow; see that folder's README).

use std::path::PathBuf;

use avatar_prep::{prepare, ImageFormat, Orientation, OutputFormat, PrepOptions};
use avatar_tests::{decode, gif_frames, premultiplied_mean_diff, Pixels};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/formats")
}

/// One row of `manifest.tsv`.
struct Row {
    file: String,
    format: ImageFormat,
    width: u32,
    height: u32,
    orientation: u16,
    icc: bool,
    frames: u32,
    reference: String,
    notes: String,
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
                format: match c[1] {
                    "webp" => ImageFormat::WebP,
                    "bmp" => ImageFormat::Bmp,
                    "tiff" => ImageFormat::Tiff,
                    other => panic!("format {other}"),
                },
                width: c[2].parse().unwrap(),
                height: c[3].parse().unwrap(),
                orientation: c[4].parse().unwrap(),
                icc: c[6] == "yes",
                frames: c[7].parse().unwrap(),
                reference: c[8].into(),
                notes: c[9].into(),
            }
        })
        .collect()
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The prepared PNG of `bytes`, decoded.
fn prepared_png(name: &str, bytes: &[u8]) -> (avatar_prep::PreparedImage, Pixels) {
    let opts = PrepOptions::default().format(OutputFormat::Png);
    let out = prepare(bytes, &opts).unwrap_or_else(|e| panic!("{name}: {e}"));
    let px = decode(out.bytes());
    (out, px)
}

#[test]
fn every_format_fixture_matches_its_reference_rendering() {
    let rows = manifest();
    assert!(rows.len() >= 40, "{} rows", rows.len());
    let mut report = Vec::new();
    for row in &rows {
        let (out, got) = prepared_png(&row.file, &read(&row.file));
        let (_, want) = prepared_png(&row.reference, &read(&row.reference));
        let src = out.source();
        assert_eq!(src.format, row.format, "{}", row.file);
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
        let mut want = want;
        let mut got = got;
        if row.notes.contains("out-of-range palette indices") {
            // libwebp gives transparent black there, its reference shows opaque black:
            // compare both painted on black.
            for p in [&mut want, &mut got] {
                for px in p.rgba.chunks_exact_mut(4) {
                    let a = u32::from(px[3]);
                    for c in &mut px[..3] {
                        *c = (u32::from(*c) * a / 255) as u8;
                    }
                    px[3] = 255;
                }
            }
        }
        let d = premultiplied_mean_diff(&got, &want);
        let lossy = row.notes.contains("lossy") || row.notes.contains("VP8 ");
        let tolerance = if lossy {
            // Chroma upsampling differs between libwebp and image-webp.
            6.0
        } else if row.icc {
            // lcms and moxcms, rounding.
            2.0
        } else {
            1.0
        };
        report.push(format!("{}: {d:.2}", row.file));
        assert!(
            d <= tolerance,
            "{} differs from its reference by {d:.2} (tolerance {tolerance})",
            row.file
        );
    }
    eprintln!("formats: {}", report.join(", "));
}

/// The upright test picture has a red block top-left and a green block top-right; after the
/// letterbox (91×61 → 512×343 at y = 84) they are where a viewer shows them.
#[test]
fn orientation_markers_land_in_the_right_corners() {
    for row in manifest().iter().filter(|r| r.orientation != 1) {
        let (out, px) = prepared_png(&row.file, &read(&row.file));
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
fn animated_webp_becomes_an_animated_gif_frame_for_frame() {
    let bytes = read("webp-anim.webp");
    let out = prepare(&bytes, &PrepOptions::default()).unwrap();
    assert_eq!(out.format(), ImageFormat::Gif);
    assert_eq!(out.source().format, ImageFormat::WebP);
    assert_eq!(out.frames(), 4);
    let frames = gif_frames(out.bytes());
    assert_eq!(frames.len(), 4);
    let delays: Vec<u32> = frames.iter().map(|f| f.1).collect();
    assert_eq!(delays, [100, 150, 200, 250], "frame durations kept");
    for (k, (frame, _)) in frames.iter().enumerate() {
        let reference = format!("webp-anim.frame-{}.ref.png", k + 1);
        let (_, want) = prepared_png(&reference, &read(&reference));
        let got = Pixels {
            width: frame.width(),
            height: frame.height(),
            rgba: frame.as_raw().clone(),
        };
        let d = premultiplied_mean_diff(&got, &want);
        // One 255-colour palette for every frame: a small quantisation error.
        assert!(d <= 4.0, "frame {} differs by {d:.2}", k + 1);
    }
}

#[test]
fn animated_webp_follows_the_frame_policy() {
    let bytes = read("webp-anim.webp");
    let reject = PrepOptions::default().max_frames(3);
    let err = prepare(&bytes, &reject).unwrap_err();
    assert_eq!(err.kind(), avatar_prep::ErrorKind::TooManyFrames, "{err}");
    assert!(err.to_string().contains("4 frames"), "{err}");
    let decimate = reject.frame_policy(avatar_prep::FramePolicy::Decimate);
    let out = prepare(&bytes, &decimate).unwrap();
    assert_eq!(out.frames(), 3);
    let total: u32 = gif_frames(out.bytes()).iter().map(|f| f.1).sum();
    assert_eq!(total, 700, "decimation keeps the total duration");
    let first = reject.frame_policy(avatar_prep::FramePolicy::FirstFrame);
    let out = prepare(&bytes, &first).unwrap();
    assert_eq!((out.format(), out.frames()), (ImageFormat::Png, 1));
    let (_, want) = prepared_png("frame-1", &read("webp-anim.frame-1.ref.png"));
    assert!(premultiplied_mean_diff(&decode(out.bytes()), &want) <= 6.0);
}

#[test]
fn tiff_takes_the_first_page_and_cmyk_is_reported() {
    let rows = manifest();
    let multipage = rows.iter().find(|r| r.frames == 3).unwrap();
    let (out, _) = prepared_png(&multipage.file, &read(&multipage.file));
    assert_eq!((out.source().width, out.source().height), (91, 61));
    let cmyk = rows.iter().find(|r| r.file.contains("cmyk")).unwrap();
    let (out, _) = prepared_png(&cmyk.file, &read(&cmyk.file));
    assert!(out.source().cmyk);
}

/// Every fixture cut short, at a spread of lengths, gives a typed error (`truncated` when
/// the cut is inside the image data) or, where only trailing padding or metadata is lost, a
/// valid avatar; never a panic or an internal error.
#[test]
fn truncated_format_fixtures_fail_cleanly() {
    for row in manifest() {
        let bytes = read(&row.file);
        for cut in [
            1,
            8,
            12,
            20,
            30,
            64,
            bytes.len() / 3,
            bytes.len() / 2,
            bytes.len() - 1,
        ] {
            let cut = cut.min(bytes.len() - 1);
            let r = prepare(&bytes[..cut], &PrepOptions::default());
            if (cut == bytes.len() / 3 || cut == bytes.len() / 2) && row.frames == 1 {
                // Cut inside the image data: a truncated still stays `truncated`. (The
                // multi-page TIFF's first page is whole at half its length.)
                let kind = r.as_ref().map(|_| ()).map_err(|e| e.kind());
                assert_eq!(
                    kind,
                    Err(avatar_prep::ErrorKind::Truncated),
                    "{} cut at {cut}",
                    row.file
                );
            }
            match r {
                Ok(img) => {
                    let px = decode(img.bytes());
                    assert!(
                        px.width == px.height && px.width >= 512,
                        "{} @ {cut}",
                        row.file
                    );
                }
                Err(e) => assert_ne!(
                    e.kind(),
                    avatar_prep::ErrorKind::Internal,
                    "{} cut at {cut}: {e}",
                    row.file
                ),
            }
        }
    }
}

#[test]
fn animated_webp_budget_is_judged_from_the_chunks() {
    let one = Pixels::from_fn(1, 1, |_, _| [200, 10, 10, 255]);
    // 4000² × 100 frames = 1.6 G pixels to composite, above the 1 G default.
    let bytes = avatar_tests::webp_animation(4000, 4000, 100, 40, &one);
    let opts = PrepOptions::default().frame_policy(avatar_prep::FramePolicy::Decimate);
    let (result, largest) = crate::alloc::largest_allocation_during(|| prepare(&bytes, &opts));
    let err = result.unwrap_err();
    assert_eq!(
        err.kind(),
        avatar_prep::ErrorKind::AnimationTooLarge,
        "{err}"
    );
    assert!(largest < 1 << 20, "allocated {largest} bytes at once");
    // A small one of the same build decodes, every frame showing the 1×1 frame top-left:
    // five identical frames, written as one that lasts as long as the five.
    let small = avatar_tests::webp_animation(8, 8, 5, 30, &one);
    let out = prepare(&small, &PrepOptions::default()).unwrap();
    assert_eq!(
        (out.format(), out.frames(), out.side()),
        (ImageFormat::Gif, 1, 512)
    );
    let frames = gif_frames(out.bytes());
    assert_eq!(frames.iter().map(|f| f.1).collect::<Vec<_>>(), [150]);
    let corner = frames[0].0.get_pixel(10, 10).0;
    assert!(corner[0] > 150 && corner[3] == 255, "{corner:?}");
    let other = frames[0].0.get_pixel(400, 400).0;
    assert_eq!(other[3], 0, "the rest of the canvas stays transparent");
}
