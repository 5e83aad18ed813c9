//! The still-image pipeline, checked on decoded output pixels.

use avatar_prep::{
    prepare, CropBox, ErrorKind, Fit, ImageFormat, Orientation, OutputFormat, Placement,
    PrepOptions, Rgba, SmallInput,
};
use avatar_tests::{
    color_distance, corner_markers, decode, jpeg, photo, png_full, png_rgba, png_with, JpegFixture,
    Pixels, BLUE, GREEN, GREY, ORIENTATIONS, RED, YELLOW,
};

/// Checks the four corner markers of a letterboxed output: `content` is where the upright
/// image sits. Samples the middle of each marker block.
fn assert_corners(out: &Pixels, content: avatar_prep::Rect, tolerance: u8, what: &str) {
    let block = content.w.min(content.h) / 4;
    let inset = block / 2;
    let probes = [
        (content.x + inset, content.y + inset, RED, "top-left"),
        (
            content.x + content.w - 1 - inset,
            content.y + inset,
            GREEN,
            "top-right",
        ),
        (
            content.x + inset,
            content.y + content.h - 1 - inset,
            BLUE,
            "bottom-left",
        ),
        (
            content.x + content.w - 1 - inset,
            content.y + content.h - 1 - inset,
            YELLOW,
            "bottom-right",
        ),
    ];
    for (x, y, want, corner) in probes {
        let got = out.at(x, y);
        assert!(
            color_distance(got, want) <= tolerance,
            "{what}: {corner} at ({x},{y}) is {got:?}, want {want:?}"
        );
    }
}

fn letterbox_content(img: &avatar_prep::PreparedImage) -> avatar_prep::Rect {
    match img.placement() {
        Placement::Letterbox { content, .. } => content,
        other => panic!("expected a letterbox, got {other:?}"),
    }
}

#[test]
fn every_exif_orientation_comes_out_upright_png_and_jpeg() {
    for (shape, (w, h)) in [("landscape", (300u32, 200u32)), ("portrait", (200, 300))] {
        let upright = corner_markers(w, h);
        for o in ORIENTATIONS {
            let stored = upright.stored_for(o);
            let v = o.exif_value();
            for (fmt, bytes, tol) in [
                ("png", png_rgba(&stored, Some(v)), 0u8),
                (
                    "jpeg",
                    jpeg(
                        &stored,
                        &JpegFixture {
                            orientation: Some(v),
                            ..Default::default()
                        },
                    ),
                    48,
                ),
            ] {
                let what = format!("{shape} {fmt} orientation {v}");
                let img = prepare(&bytes, &PrepOptions::default())
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_eq!(img.orientation_applied(), o, "{what}");
                assert_eq!(img.side(), 512, "{what}");
                let out = decode(img.bytes());
                assert_eq!((out.width, out.height), (512, 512), "{what}");
                let content = letterbox_content(&img);
                // The upright aspect ratio survives: landscape stays wide, portrait tall.
                assert_eq!(content.w > content.h, w > h, "{what}: content {content:?}");
                assert_corners(&out, content, tol, &what);
            }
        }
    }
}

#[test]
fn orientation_can_be_turned_off() {
    let upright = corner_markers(300, 200);
    let stored = upright.stored_for(Orientation::Rotate90);
    let bytes = png_rgba(&stored, Some(6));
    let img = prepare(&bytes, &PrepOptions::default().apply_orientation(false)).unwrap();
    assert_eq!(img.orientation_applied(), Orientation::Normal);
    assert_eq!(img.source().orientation, Orientation::Rotate90);
    // Stored pixels as they are: portrait content, and red is no longer top-left.
    let content = letterbox_content(&img);
    assert!(content.h > content.w);
    let out = decode(img.bytes());
    let probe = out.at(content.x + 10, content.y + 10);
    assert!(color_distance(probe, RED) > 100, "{probe:?}");
}

#[test]
fn out_of_range_orientation_is_treated_as_normal() {
    let upright = corner_markers(300, 200);
    for v in [0u16, 9, 65535] {
        let bytes = jpeg(
            &upright,
            &JpegFixture {
                orientation: Some(v),
                ..Default::default()
            },
        );
        let img = prepare(&bytes, &PrepOptions::default()).unwrap();
        assert_eq!(img.orientation_applied(), Orientation::Normal, "value {v}");
        assert_corners(
            &decode(img.bytes()),
            letterbox_content(&img),
            48,
            "out of range",
        );
    }
}

#[test]
fn letterbox_bars_have_the_background_colour() {
    let img_px = Pixels::from_fn(800, 400, |_, _| GREEN);
    // PNG: transparent bars by default.
    let out = prepare(&png_rgba(&img_px, None), &PrepOptions::default()).unwrap();
    assert_eq!(out.format(), ImageFormat::Png);
    assert_eq!(out.side(), 800);
    let content = letterbox_content(&out);
    assert_eq!(content, avatar_prep::Rect::new(0, 200, 800, 400));
    let px = decode(out.bytes());
    assert_eq!(px.at(400, 10)[3], 0, "top bar transparent");
    assert_eq!(px.at(400, 790)[3], 0, "bottom bar transparent");
    assert_eq!(px.at(400, 400), GREEN);
    // JPEG: white bars by default.
    let out = prepare(
        &jpeg(&img_px, &JpegFixture::default()),
        &PrepOptions::default(),
    )
    .unwrap();
    assert_eq!(out.format(), ImageFormat::Jpeg);
    let px = decode(out.bytes());
    assert!(color_distance(px.at(400, 10), [255, 255, 255, 255]) <= 2);
    assert!(color_distance(px.at(400, 400), GREEN) <= 8);
    // Any chosen colour, in either format.
    let bg = Rgba::new(16, 32, 160, 255);
    for (bytes, tol) in [
        (png_rgba(&img_px, None), 0u8),
        (jpeg(&img_px, &JpegFixture::default()), 6),
    ] {
        let opts = PrepOptions::default().fit(Fit::Letterbox {
            background: Some(bg),
        });
        let out = prepare(&bytes, &opts).unwrap();
        let px = decode(out.bytes());
        for (x, y) in [(0, 0), (799, 150), (400, 650), (10, 799)] {
            let got = px.at(x, y);
            assert!(
                color_distance(got, bg.to_array()) <= tol,
                "({x},{y}) {got:?}"
            );
        }
    }
}

#[test]
fn centre_crop_takes_the_middle() {
    // Three vertical bands: red | green | blue, the green one exactly the centre square.
    let px = Pixels::from_fn(900, 300, |x, _| match x {
        0..=299 => RED,
        300..=599 => GREEN,
        _ => BLUE,
    });
    let out = prepare(
        &png_rgba(&px, None),
        &PrepOptions::default().fit(Fit::CenterCrop),
    )
    .unwrap();
    assert_eq!(
        out.placement(),
        Placement::Crop {
            region: avatar_prep::Rect::new(300, 0, 300, 300)
        }
    );
    let dec = decode(out.bytes());
    assert_eq!((dec.width, dec.height), (512, 512));
    // Nothing from outside the crop bleeds in, up to the very edges.
    for (x, y) in [(0, 0), (256, 256), (511, 511), (0, 511), (511, 0)] {
        assert!(
            color_distance(dec.at(x, y), GREEN) <= 1,
            "({x},{y}) {:?}",
            dec.at(x, y)
        );
    }
}

#[test]
fn crop_box_selects_exactly_the_region() {
    // A 4x4 grid of 150 px cells, each a different colour.
    let cell = |x: u32, y: u32| -> [u8; 4] {
        let (cx, cy) = ((x / 150) as u8, (y / 150) as u8);
        [cx * 80, cy * 80, 200 - cx * 20 - cy * 20, 255]
    };
    let px = Pixels::from_fn(600, 600, cell);
    let crop = CropBox::new(150, 300, 150); // cell (1, 2)
    let out = prepare(
        &png_rgba(&px, None),
        &PrepOptions::default().fit(Fit::Crop(crop)),
    )
    .unwrap();
    let dec = decode(out.bytes());
    assert_eq!(
        (dec.width, dec.height),
        (512, 512),
        "a 150 px box is enlarged to 512"
    );
    let want = cell(150, 300);
    for (x, y) in [(0, 0), (256, 256), (511, 511), (511, 0)] {
        assert!(
            color_distance(dec.at(x, y), want) <= 1,
            "({x},{y}) {:?} want {want:?}",
            dec.at(x, y)
        );
    }
}

#[test]
fn crop_box_is_in_upright_coordinates() {
    // Upright 300x200 with markers; stored sideways (orientation 6). A box on the upright
    // top-left corner must give the red block.
    let upright = corner_markers(300, 200);
    let bytes = png_rgba(&upright.stored_for(Orientation::Rotate90), Some(6));
    let opts = PrepOptions::default().fit(Fit::Crop(CropBox::new(0, 0, 40)));
    let dec = decode(prepare(&bytes, &opts).unwrap().bytes());
    assert!(
        color_distance(dec.at(256, 256), RED) <= 1,
        "{:?}",
        dec.at(256, 256)
    );
    // The same box on the upright bottom-right corner gives yellow.
    let opts = PrepOptions::default().fit(Fit::Crop(CropBox::new(260, 160, 40)));
    let dec = decode(prepare(&bytes, &opts).unwrap().bytes());
    assert!(
        color_distance(dec.at(256, 256), YELLOW) <= 1,
        "{:?}",
        dec.at(256, 256)
    );
    // A box that fits the stored size (200 wide) but not the upright one is refused.
    let opts = PrepOptions::default().fit(Fit::Crop(CropBox::new(0, 150, 100)));
    let err = prepare(&bytes, &opts).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidCrop);
    assert!(err.to_string().contains("300x200"), "{err}");
}

#[test]
fn invalid_crop_boxes_are_typed_errors() {
    let bytes = png_rgba(&photo(400, 300, 3), None);
    for crop in [
        CropBox::new(0, 0, 0),
        CropBox::new(300, 0, 200),
        CropBox::new(u32::MAX, 0, 10),
    ] {
        let err = prepare(&bytes, &PrepOptions::default().fit(Fit::Crop(crop))).unwrap_err();
        assert!(
            matches!(
                err,
                avatar_prep::PrepError::InvalidCrop {
                    width: 400,
                    height: 300,
                    ..
                }
            ),
            "{err:?}"
        );
    }
}

#[test]
fn sizes_are_clamped_to_the_slack_range() {
    let cases = [
        ((2400u32, 1800u32), 1024u32),
        ((700, 500), 700),
        ((300, 100), 512),
        ((1024, 1024), 1024),
    ];
    for ((w, h), side) in cases {
        let out = prepare(
            &jpeg(&photo(w, h, 1), &JpegFixture::default()),
            &PrepOptions::default(),
        )
        .unwrap();
        assert_eq!(out.side(), side, "{w}x{h}");
        let dec = decode(out.bytes());
        assert_eq!((dec.width, dec.height), (side, side));
    }
    // Configurable bounds.
    let opts = PrepOptions::default().max_side(640).min_side(128);
    let out = prepare(&png_rgba(&photo(2000, 1000, 1), None), &opts).unwrap();
    assert_eq!(out.side(), 640);
    let out = prepare(&png_rgba(&photo(200, 100, 1), None), &opts).unwrap();
    assert_eq!(out.side(), 200);
    // Rejecting small inputs.
    let err = prepare(
        &png_rgba(&photo(300, 100, 1), None),
        &PrepOptions::default().small_input(SmallInput::Reject),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            avatar_prep::PrepError::TooSmall {
                side: 300,
                min: 512
            }
        ),
        "{err:?}"
    );
    // Contradictory options.
    let err = prepare(
        &png_rgba(&photo(30, 30, 1), None),
        &PrepOptions::default().min_side(900).max_side(800),
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidOptions);
}

#[test]
fn upscaled_and_downscaled_content_keeps_its_colour() {
    // Downscale a 4000x3000 JPEG: the big red disc is still red in the middle.
    let px = Pixels::from_fn(2000, 1500, |x, y| {
        let (dx, dy) = (x as i64 - 1000, y as i64 - 750);
        if dx * dx + dy * dy < 500 * 500 {
            RED
        } else {
            GREY
        }
    });
    let out = prepare(&jpeg(&px, &JpegFixture::default()), &PrepOptions::default()).unwrap();
    assert!(out.scale() < 1.0);
    let dec = decode(out.bytes());
    assert!(
        color_distance(dec.at(512, 512), RED) <= 10,
        "{:?}",
        dec.at(512, 512)
    );
    assert!(
        color_distance(dec.at(100, 512), GREY) <= 6,
        "{:?}",
        dec.at(100, 512)
    );
}

#[test]
fn output_format_rules() {
    let p = photo(600, 600, 4);
    let as_jpeg = jpeg(&p, &JpegFixture::default());
    let as_png = png_rgba(&p, None);
    let as_gif = avatar_tests::gif(&[Pixels::from_fn(64, 64, |_, _| BLUE)], 0);
    let auto = PrepOptions::default();
    assert_eq!(
        prepare(&as_jpeg, &auto).unwrap().format(),
        ImageFormat::Jpeg
    );
    assert_eq!(prepare(&as_png, &auto).unwrap().format(), ImageFormat::Png);
    // A still GIF stays a GIF (one frame, upscaled 64 -> 512 and re-palettised).
    let gif_out = prepare(&as_gif, &auto).unwrap();
    assert_eq!((gif_out.format(), gif_out.frames()), (ImageFormat::Gif, 1));
    assert_eq!(gif_out.mime(), "image/gif");
    assert_eq!(decode(gif_out.bytes()).width, 512);
    assert!(color_distance(decode(gif_out.bytes()).at(256, 256), BLUE) <= 1);
    let forced = prepare(&as_gif, &auto.format(OutputFormat::Png)).unwrap();
    assert_eq!(forced.format(), ImageFormat::Png);
    assert!(color_distance(decode(forced.bytes()).at(256, 256), BLUE) <= 1);
    let forced = prepare(&as_png, &auto.format(OutputFormat::Jpeg)).unwrap();
    assert_eq!(forced.format(), ImageFormat::Jpeg);
    assert_eq!(forced.mime(), "image/jpeg");
    assert!(forced.bytes().starts_with(&[0xFF, 0xD8, 0xFF]));
    let forced = prepare(&as_jpeg, &auto.format(OutputFormat::Png)).unwrap();
    assert!(forced.bytes().starts_with(b"\x89PNG"));
    // JPEG quality changes the size (of a re-encoded JPEG: with `Auto` this square 600x600
    // JPEG would be passed through as it is).
    let jpeg_out = auto.format(OutputFormat::Jpeg);
    let q50 = prepare(&as_jpeg, &jpeg_out.jpeg_quality(50)).unwrap();
    let q95 = prepare(&as_jpeg, &jpeg_out.jpeg_quality(95)).unwrap();
    assert!(q50.bytes().len() < q95.bytes().len());
}

#[test]
fn alpha_is_flattened_onto_white_for_jpeg() {
    // Half-transparent red over nothing: as JPEG it must be pink on white, not dark red.
    let px = Pixels::from_fn(600, 600, |_, _| [255, 0, 0, 128]);
    let out = prepare(
        &png_rgba(&px, None),
        &PrepOptions::default().format(OutputFormat::Jpeg),
    )
    .unwrap();
    let got = decode(out.bytes()).at(300, 300);
    assert!(color_distance(got, [255, 127, 127, 255]) <= 6, "{got:?}");
}

#[test]
fn output_is_deterministic_and_carries_no_metadata() {
    // A phone photo with EXIF (orientation) and an ICC profile: neither may reach Slack.
    let p = photo(900, 700, 5);
    let bytes = jpeg(
        &p,
        &JpegFixture {
            orientation: Some(6),
            ..Default::default()
        },
    );
    assert!(bytes.windows(4).any(|w| w == b"Exif"));
    let a = prepare(&bytes, &PrepOptions::default()).unwrap();
    let b = prepare(&bytes, &PrepOptions::default()).unwrap();
    assert_eq!(a.bytes(), b.bytes(), "same input, same bytes");
    assert!(
        !a.bytes().windows(4).any(|w| w == b"Exif"),
        "EXIF leaked into the JPEG"
    );
    let png_in = png_rgba(&p, Some(3));
    let out = prepare(&png_in, &PrepOptions::default()).unwrap();
    assert!(!out
        .bytes()
        .windows(4)
        .any(|w| w == b"eXIf" || w == b"tEXt" || w == b"iCCP"));
}

#[test]
fn grey_palette_and_sixteen_bit_pngs_come_out_as_srgb() {
    use png::{BitDepth, ColorType};
    // 8-bit grey: value 77 everywhere.
    let grey = png_with(
        600,
        600,
        ColorType::Grayscale,
        BitDepth::Eight,
        &vec![77; 600 * 600],
        |_| {},
    );
    let px = decode(prepare(&grey, &PrepOptions::default()).unwrap().bytes());
    assert_eq!(px.at(300, 300), [77, 77, 77, 255]);
    // Grey + alpha, 16-bit: grey 0x8080, alpha 0xFFFF.
    let data: Vec<u8> = (0..600 * 600)
        .flat_map(|_| [0x80, 0x80, 0xFF, 0xFF])
        .collect();
    let ga16 = png_with(
        600,
        600,
        ColorType::GrayscaleAlpha,
        BitDepth::Sixteen,
        &data,
        |_| {},
    );
    let px = decode(prepare(&ga16, &PrepOptions::default()).unwrap().bytes());
    assert_eq!(px.at(300, 300), [128, 128, 128, 255]);
    // 16-bit RGB: (0xFFFF, 0x0000, 0x8000).
    let data: Vec<u8> = (0..600 * 600)
        .flat_map(|_| [0xFF, 0xFF, 0, 0, 0x80, 0])
        .collect();
    let rgb16 = png_with(600, 600, ColorType::Rgb, BitDepth::Sixteen, &data, |_| {});
    let px = decode(prepare(&rgb16, &PrepOptions::default()).unwrap().bytes());
    assert_eq!(px.at(300, 300), [255, 0, 128, 255]);
    // Palette with tRNS: index 0 = transparent red, index 1 = opaque blue; left half 0.
    let data: Vec<u8> = (0..600)
        .flat_map(|_| (0..600).map(|x| u8::from(x >= 300)))
        .collect();
    let pal = png_full(
        600,
        600,
        ColorType::Indexed,
        BitDepth::Eight,
        &data,
        |e| {
            e.set_palette(vec![255, 0, 0, 0, 0, 255]);
            e.set_trns(vec![0, 255]);
        },
        |_| {},
    );
    let out = prepare(&pal, &PrepOptions::default()).unwrap();
    let px = decode(out.bytes());
    assert_eq!(px.at(100, 300)[3], 0, "transparent half");
    assert_eq!(px.at(500, 300), [0, 0, 255, 255]);
}

#[test]
fn grey_jpeg_stays_grey() {
    let p = Pixels::from_fn(700, 700, |x, _| {
        let v = (x % 256) as u8;
        [v, v, v, 255]
    });
    let bytes = jpeg(
        &p,
        &JpegFixture {
            grey: true,
            ..Default::default()
        },
    );
    let out = prepare(&bytes, &PrepOptions::default()).unwrap();
    let mut dec = jpeg_decoder::Decoder::new(out.bytes());
    dec.read_info().unwrap();
    let info = dec.info().unwrap();
    assert_eq!(
        info.pixel_format,
        jpeg_decoder::PixelFormat::L8,
        "grey JPEG written as one channel"
    );
    assert_eq!(info.width, 700);
}

#[test]
fn prepared_image_reports_what_was_done() {
    let bytes = jpeg(
        &photo(1200, 800, 9),
        &JpegFixture {
            orientation: Some(8),
            ..Default::default()
        },
    );
    let out = prepare(&bytes, &PrepOptions::default()).unwrap();
    let src = out.source();
    assert_eq!(
        (src.format, src.width, src.height),
        (ImageFormat::Jpeg, 1200, 800)
    );
    assert_eq!(src.orientation, Orientation::Rotate270);
    assert_eq!(out.orientation_applied(), Orientation::Rotate270);
    assert_eq!(out.frames(), 1);
    assert_eq!(out.side(), 1024);
    assert!((out.scale() - 1024.0 / 1200.0).abs() < 1e-9);
    // Upright it is 800x1200: the content is portrait, centred.
    assert_eq!(
        out.placement(),
        Placement::Letterbox {
            content: avatar_prep::Rect::new(170, 0, 683, 1024),
            background: Rgba::WHITE
        }
    );
}

#[test]
fn prepare_files_keeps_order_and_goes_on_after_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for i in 0..9u32 {
        let p = dir.path().join(format!("f{i}"));
        let bytes = if i % 3 == 1 {
            b"broken".to_vec()
        } else {
            png_rgba(&photo(100 + i * 10, 80, i), None)
        };
        std::fs::write(&p, bytes).unwrap();
        paths.push(p);
    }
    let outcomes = avatar_prep::prepare_files(&paths, &PrepOptions::default());
    assert_eq!(outcomes.len(), 9);
    for (i, o) in outcomes.iter().enumerate() {
        assert_eq!(o.path, paths[i], "order kept");
        match &o.result {
            Ok(img) => {
                assert_ne!(i % 3, 1);
                assert_eq!(img.source().width, 100 + i as u32 * 10);
            }
            Err(e) => {
                assert_eq!(i % 3, 1);
                assert_eq!(e.kind(), ErrorKind::NotAnImage);
                assert_eq!(e.path(), Some(paths[i].as_path()), "errors name their file");
            }
        }
    }
    // The streaming form reports each file once, and stops starting new ones on Break.
    let seen = std::sync::Mutex::new(Vec::new());
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    pool.install(|| {
        avatar_prep::prepare_files_with(&paths, &PrepOptions::default(), |i, o| {
            seen.lock().unwrap().push((i, o.result.is_ok()));
            if i == 3 {
                std::ops::ControlFlow::Break(())
            } else {
                std::ops::ControlFlow::Continue(())
            }
        });
    });
    let seen = seen.into_inner().unwrap();
    assert_eq!(
        seen.iter().map(|s| s.0).collect::<Vec<_>>(),
        vec![0, 1, 2, 3],
        "one thread: in order, then stop"
    );
}

/// Peak signal-to-noise ratio between two same-size images, RGB channels, in dB.
/// `bytes` prepared with `fit`, with and without shrink-on-load; the placement must agree.
fn with_and_without_shrink(
    bytes: &[u8],
    fit: Fit,
) -> (avatar_prep::PreparedImage, avatar_prep::PreparedImage) {
    let fast = prepare(bytes, &PrepOptions::default().fit(fit)).unwrap();
    let full = prepare(
        bytes,
        &PrepOptions::default().fit(fit).shrink_on_load(false),
    )
    .unwrap();
    assert_eq!(fast.placement(), full.placement(), "{fit:?}");
    (fast, full)
}

fn psnr(a: &Pixels, b: &Pixels) -> f64 {
    psnr_channels(a, b, false)
}

/// PSNR over RGB; `with_alpha`: over premultiplied RGB and alpha, so colour under
/// transparent pixels does not count.
fn psnr_channels(a: &Pixels, b: &Pixels, with_alpha: bool) -> f64 {
    assert_eq!((a.width, a.height), (b.width, b.height));
    let (mut se, mut n) = (0f64, 0f64);
    for (p, q) in a.rgba.chunks_exact(4).zip(b.rgba.chunks_exact(4)) {
        let (pa, qa) = if with_alpha {
            (f64::from(p[3]) / 255.0, f64::from(q[3]) / 255.0)
        } else {
            (1.0, 1.0)
        };
        for c in 0..3 {
            let d = f64::from(p[c]) * pa - f64::from(q[c]) * qa;
            se += d * d;
            n += 1.0;
        }
        if with_alpha {
            let d = f64::from(p[3]) - f64::from(q[3]);
            se += d * d;
            n += 1.0;
        }
    }
    10.0 * (255.0f64 * 255.0 / (se / n).max(1e-9)).log10()
}

#[test]
fn shrink_on_load_keeps_quality_and_the_crop_box() {
    // 4800x3600 photo-like JPEG: letterbox, centre crop and a crop box all decode at 1/2
    // scale (2400, 1800, 1600 px >= 1.5 x 1024), compared with the full decode.
    let px = photo(4800, 3600, 21);
    let bytes = jpeg(
        &px,
        &JpegFixture {
            orientation: Some(6),
            ..Default::default()
        },
    );
    for fit in [
        Fit::Letterbox { background: None },
        Fit::CenterCrop,
        Fit::Crop(CropBox::new(100, 200, 3200)),
    ] {
        let (fast, full) = with_and_without_shrink(&bytes, fit);
        assert_eq!(
            fast.source().width,
            4800,
            "the source size is the file's, not the decoded one"
        );
        let (a, b) = (decode(fast.bytes()), decode(full.bytes()));
        let q = psnr(&a, &b);
        assert!(q >= 40.0, "{fit:?}: PSNR {q:.1} dB");
    }
    // A small crop box from a big photo: 1/8 scale would leave too few pixels, so a milder
    // one (or none) is used, and the selected region is still exact.
    let marks = corner_markers(3200, 2400);
    let bytes = jpeg(&marks, &JpegFixture::default());
    let out = prepare(
        &bytes,
        &PrepOptions::default().fit(Fit::Crop(CropBox::new(0, 0, 400))),
    )
    .unwrap();
    let dec = decode(out.bytes());
    assert!(
        color_distance(dec.at(256, 256), RED) <= 8,
        "{:?}",
        dec.at(256, 256)
    );
}

#[test]
fn png_shrink_on_load_keeps_quality_alpha_and_the_crop_box() {
    // 4000x3000 RGBA with a feathered alpha edge and a fully transparent band (a cut-out):
    // the letterbox, centre crop and crop box all average 2x2 blocks as rows arrive
    // (2000/1500/1333 px >= 1.5 x 1024), compared with the full decode.
    let base = photo(4000, 3000, 33);
    let cutout = Pixels::from_fn(4000, 3000, |x, y| {
        let mut p = base.at(x, y);
        p[3] = match x {
            0..=799 => 0,
            800..=1311 => ((x - 800) / 2) as u8,
            _ => 255,
        };
        if y < 100 {
            p = [0, 255, 0, 0]; // transparent green must not bleed into the neighbours
        }
        p
    });
    let bytes = png_rgba(&cutout, Some(8));
    for fit in [
        Fit::Letterbox { background: None },
        Fit::CenterCrop,
        Fit::Crop(CropBox::new(50, 700, 2000)),
    ] {
        let (fast, full) = with_and_without_shrink(&bytes, fit);
        assert_eq!((fast.side(), fast.source().width), (1024, 4000));
        let (a, b) = (decode(fast.bytes()), decode(full.bytes()));
        let q = psnr_channels(&a, &b, true);
        assert!(q >= 40.0, "{fit:?}: PSNR {q:.1} dB");
        // No green fringe anywhere: the transparent band lent no colour.
        let greenest = |p: &Pixels| {
            p.rgba
                .chunks_exact(4)
                .filter(|p| p[3] > 32)
                .map(|p| i32::from(p[1]) - i32::from(p[0].max(p[2])))
                .max()
                .unwrap()
        };
        let (greenest, greenest_full) = (greenest(&a), greenest(&b));
        assert!(
            greenest <= greenest_full + 8,
            "{fit:?}: green fringe {greenest} vs {greenest_full}"
        );
    }
}
