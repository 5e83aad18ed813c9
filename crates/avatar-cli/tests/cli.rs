//! End-to-end tests of the `avatar` binary on temporary folders.

#![allow(clippy::unwrap_used)] // test helpers: a failure is the test failing.

use std::path::Path;

mod common;
use common::{avatar, files_under};

use avatar_tests::{color_distance, corner_markers, decode, jpeg, photo, png_rgba, JpegFixture};

#[test]
fn folder_with_good_and_bad_files() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    std::fs::create_dir_all(input.join("team/nested")).unwrap();
    let good_jpeg = jpeg(&photo(1600, 1200, 1), &JpegFixture::default());
    let good_png = png_rgba(&photo(300, 500, 2), None);
    std::fs::write(input.join("alice.jpg"), &good_jpeg).unwrap();
    std::fs::write(input.join("team/bob.png"), &good_png).unwrap();
    // Named .png but JPEG inside: the content decides.
    std::fs::write(input.join("team/nested/carol.png"), &good_jpeg).unwrap();
    std::fs::write(input.join("broken.jpg"), &good_jpeg[..good_jpeg.len() / 2]).unwrap();
    std::fs::write(input.join("notes.txt"), "not a picture").unwrap();
    std::fs::write(input.join("empty.gif"), "").unwrap();
    std::fs::write(input.join(".DS_Store"), "hidden").unwrap();
    let before: Vec<_> = files_under(&input)
        .iter()
        .map(|f| std::fs::read(input.join(f)).unwrap())
        .collect();

    let out = tmp.path().join("out");
    let (code, stderr) = avatar(&[
        "prep",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        files_under(&out),
        vec!["alice.jpg", "team/bob.png", "team/nested/carol.jpg"],
        "{stderr}"
    );
    for (name, side) in [
        ("alice.jpg", 1024),
        ("team/bob.png", 512),
        ("team/nested/carol.jpg", 1024),
    ] {
        let px = decode(&std::fs::read(out.join(name)).unwrap());
        assert_eq!((px.width, px.height), (side, side), "{name}");
    }
    for (file, kind) in [
        ("broken.jpg", "truncated"),
        ("notes.txt", "not_an_image"),
        ("empty.gif", "empty"),
    ] {
        let line = stderr
            .lines()
            .find(|l| l.contains(file))
            .unwrap_or_else(|| panic!("no line for {file}: {stderr}"));
        assert!(line.contains(&format!("{file}: {kind}: ")), "{line}");
    }
    assert!(!stderr.contains(".DS_Store"), "{stderr}");
    assert!(stderr.contains("3 ok, 3 failed"), "{stderr}");
    // Inputs untouched, nothing else written into the input folder.
    let after: Vec<_> = files_under(&input)
        .iter()
        .map(|f| std::fs::read(input.join(f)).unwrap())
        .collect();
    assert_eq!(before, after);
}

#[test]
fn all_good_exits_zero_and_output_folder_inside_input_is_not_reread() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path();
    std::fs::write(
        input.join("a.jpg"),
        jpeg(&photo(800, 600, 3), &JpegFixture::default()),
    )
    .unwrap();
    let out = input.join("avatars");
    for _ in 0..2 {
        let (code, stderr) = avatar(&[
            "prep",
            input.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{stderr}");
        assert!(stderr.contains("1 ok, 0 failed"), "{stderr}");
    }
    assert_eq!(files_under(&out), vec!["a.jpg"]);
}

#[test]
fn same_names_never_overwrite_each_other() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::write(
        input.join("a.jpg"),
        jpeg(&photo(600, 600, 1), &JpegFixture::default()),
    )
    .unwrap();
    std::fs::write(input.join("a.png"), png_rgba(&photo(600, 600, 2), None)).unwrap();
    let out = tmp.path().join("out");
    let (code, stderr) = avatar(&[
        "prep",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--format",
        "png",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(files_under(&out), vec!["a-2.png", "a.png"]);
    assert!(!files_under(&out).iter().any(|f| f.ends_with(".tmp")));
}

#[test]
fn crop_background_fit_and_format_flags() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("me.jpg");
    std::fs::write(
        &src,
        jpeg(&corner_markers(800, 600), &JpegFixture::default()),
    )
    .unwrap();
    let out = tmp.path().join("out");
    let o = out.to_str().unwrap();
    let s = src.to_str().unwrap();

    // The top-left 150 px block is red: crop it.
    let (code, stderr) = avatar(&[
        "prep", s, "--out", o, "--crop", "0,0,100", "--format", "png",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let px = decode(&std::fs::read(out.join("me.png")).unwrap());
    assert_eq!((px.width, px.height), (512, 512));
    assert!(
        color_distance(px.at(256, 256), [255, 0, 0, 255]) <= 8,
        "{:?}",
        px.at(256, 256)
    );

    // Letterbox on black, JPEG at --size 600.
    let (code, stderr) = avatar(&[
        "prep",
        s,
        "--out",
        o,
        "--background",
        "black",
        "--size",
        "600",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let px = decode(&std::fs::read(out.join("me.jpg")).unwrap());
    assert_eq!(px.width, 600);
    assert!(
        color_distance(px.at(300, 20), [0, 0, 0, 255]) <= 4,
        "{:?}",
        px.at(300, 20)
    );

    // Cover: no bars, the grey middle fills the centre.
    let (code, stderr) = avatar(&["prep", s, "--out", o, "--fit", "cover", "--quality", "80"]);
    assert_eq!(code, 0, "{stderr}");
    let px = decode(&std::fs::read(out.join("me.jpg")).unwrap());
    assert_eq!(px.width, 600, "a 600x600 centre square stays 600");
    assert!(color_distance(px.at(300, 300), [128, 128, 128, 255]) <= 6);
}

#[test]
fn usage_errors_exit_two() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a.jpg");
    let b = tmp.path().join("b.jpg");
    std::fs::write(&a, jpeg(&photo(600, 600, 1), &JpegFixture::default())).unwrap();
    std::fs::write(&b, jpeg(&photo(600, 600, 1), &JpegFixture::default())).unwrap();
    let o = tmp.path().join("out");
    let o = o.to_str().unwrap();
    let (code, stderr) = avatar(&[
        "prep",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--out",
        o,
        "--crop",
        "0,0,10",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("--crop needs exactly one input"),
        "{stderr}"
    );
    assert_eq!(avatar(&["prep", "--out", o]).0, 2);
    assert_eq!(
        avatar(&["prep", a.to_str().unwrap(), "--out", o, "--quality", "0"]).0,
        2
    );
    assert_eq!(
        avatar(&[
            "prep",
            a.to_str().unwrap(),
            "--out",
            o,
            "--background",
            "nope"
        ])
        .0,
        2
    );
    assert_eq!(avatar(&["prep", "/no/such/dir", "--out", o]).0, 2);
    assert_eq!(avatar(&["frobnicate"]).0, 2);
}

#[test]
fn animated_gif_stays_animated_and_frame_flags_apply() {
    let tmp = tempfile::tempdir().unwrap();
    let frames: Vec<_> = (0..6)
        .map(|i| {
            avatar_tests::Pixels::from_fn(120, 80, move |x, _| {
                if x / 20 == i {
                    [255, 0, 0, 255]
                } else {
                    [0, 0, 255, 255]
                }
            })
        })
        .collect();
    let src = tmp.path().join("wave.gif");
    std::fs::write(&src, avatar_tests::gif(&frames, 10)).unwrap();
    let out = tmp.path().join("out");
    let (s, o) = (src.to_str().unwrap(), out.to_str().unwrap());

    let (code, stderr) = avatar(&["prep", s, "--out", o]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("GIF 512x512"), "{stderr}");
    let bytes = std::fs::read(out.join("wave.gif")).unwrap();
    let dec = gif::DecodeOptions::new()
        .read_info(std::io::Cursor::new(&bytes[..]))
        .unwrap();
    assert_eq!((dec.width(), dec.height()), (512, 512));

    let (code, stderr) = avatar(&["prep", s, "--out", o, "--max-frames", "4"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("wave.gif: too_many_frames: 6 frames, the limit is 4"),
        "{stderr}"
    );

    let (code, stderr) = avatar(&[
        "prep",
        s,
        "--out",
        o,
        "--max-frames",
        "4",
        "--frames",
        "first",
    ]);
    assert_eq!(code, 0, "{stderr}");
    // The first frame alone: a one-frame GIF (over the six-frame one written above).
    assert!(!out.join("wave.png").exists(), "{stderr}");
    let bytes = std::fs::read(out.join("wave.gif")).unwrap();
    assert_eq!(avatar_tests::gif_frames(&bytes).len(), 1, "{stderr}");
    assert!(!avatar_tests::gif_loops(&bytes), "{stderr}");
}

#[test]
fn the_readme_main_job_prepares_every_sample() {
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let (code, stderr) = avatar(&[
        "prep",
        samples.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        files_under(&out),
        vec![
            "animated.gif",
            "landscape.jpg",
            "portrait-exif6.jpg",
            "transparent.png"
        ]
    );
    let portrait = decode(&std::fs::read(out.join("portrait-exif6.jpg")).unwrap());
    assert_eq!((portrait.width, portrait.height), (900, 900));
    // Upright: the red block is in the top-left of the (centred, 600 px wide) content.
    assert!(
        color_distance(portrait.at(150 + 40, 40), [255, 0, 0, 255]) <= 40,
        "{:?}",
        portrait.at(190, 40)
    );
}

#[test]
fn new_formats_and_recovered_files_are_named_in_lines_and_report() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/formats");
    std::fs::copy(fixtures.join("webp-lossy.webp"), input.join("phone.webp")).unwrap();
    std::fs::copy(fixtures.join("tiff-cmyk8.tif"), input.join("scan.tif")).unwrap();
    // A JPEG whose fourth restart marker carries the wrong number.
    let mut jpg = jpeg(
        &photo(256, 128, 4),
        &JpegFixture {
            restart_interval: Some(4),
            ..Default::default()
        },
    );
    let sos = jpg.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
    let rst: Vec<usize> = (sos..jpg.len() - 1)
        .filter(|&i| jpg[i] == 0xFF && (0xD0..=0xD7).contains(&jpg[i + 1]))
        .collect();
    jpg[rst[3] + 1] = 0xD6;
    std::fs::write(input.join("damaged.jpg"), &jpg).unwrap();
    let out = tmp.path().join("out");
    let report = tmp.path().join("report.json");
    let (code, err) = avatar(&[
        "prep",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let line = |name: &str| {
        err.lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("no line for {name}: {err}"))
            .to_owned()
    };
    assert!(line("phone.webp").contains("from 91x61 WebP"), "{err}");
    assert!(line("scan.tif").contains("from 91x61 TIFF"), "{err}");
    assert!(
        line("damaged.jpg")
            .contains("decoded with recovery: 1 JPEG restart marker(s) out of sequence"),
        "{err}"
    );
    let records: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let by = |name: &str| {
        records
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["input"].as_str().unwrap().ends_with(name))
            .unwrap()
            .clone()
    };
    assert_eq!(by("phone.webp")["source_format"], "WebP");
    assert_eq!(by("phone.webp")["recovery"], serde_json::json!([]));
    assert_eq!(by("damaged.jpg")["recovery"].as_array().unwrap().len(), 1);
    // Outputs are what Slack takes: an opaque WebP photo becomes a JPEG, a TIFF scan a PNG.
    assert_eq!(files_under(&out), ["damaged.jpg", "phone.jpg", "scan.png"]);
}
