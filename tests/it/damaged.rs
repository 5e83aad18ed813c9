//! Damaged files that browsers still show are accepted, with what was recovered reported;
//! a truncated still image stays `truncated`.

use avatar_prep::{
    prepare, ErrorKind, ImageFormat, Orientation, OutputFormat, PrepOptions, Recovery,
};
use avatar_tests::{
    decode, gif, gif_frames, gif_without_palette, jpeg, photo, png_with, JpegFixture, Pixels,
};

/// A 256×128 photo-like JPEG with a restart marker every 4 MCUs (4:4:4, 8×8 MCUs: 32 × 16
/// MCUs, 128 intervals), and where its restart markers are.
fn restart_jpeg() -> (Vec<u8>, Vec<usize>) {
    let bytes = jpeg(
        &photo(256, 128, 7),
        &JpegFixture {
            restart_interval: Some(4),
            ..Default::default()
        },
    );
    let sos = bytes.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
    let markers: Vec<usize> = (sos..bytes.len() - 1)
        .filter(|&i| bytes[i] == 0xFF && (0xD0..=0xD7).contains(&bytes[i + 1]))
        .collect();
    assert_eq!(markers.len(), 127, "one marker between each two intervals");
    (bytes, markers)
}

/// The prepared PNG (no JPEG re-encoding noise) of `bytes`, and the image.
fn png_of(bytes: &[u8]) -> (avatar_prep::PreparedImage, Pixels) {
    let out = prepare(bytes, &PrepOptions::default().format(OutputFormat::Png)).unwrap();
    let px = decode(out.bytes());
    (out, px)
}

#[test]
fn restart_markers_out_of_sequence_are_renumbered_losslessly() {
    let (good, markers) = restart_jpeg();
    let mut bad = good.clone();
    // RST3 (the fourth marker) now says RST6: jpeg-decoder alone refuses this.
    bad[markers[3] + 1] = 0xD6;
    let (out, px) = png_of(&bad);
    assert_eq!(
        out.recovery(),
        [Recovery::RestartMarkersRenumbered { markers: 1 }]
    );
    let (clean, reference) = png_of(&good);
    assert!(clean.recovery().is_empty());
    assert_eq!(px.rgba, reference.rgba, "no pixel lost");
}

#[test]
fn missing_restart_markers_give_grey_intervals_and_keep_the_rest() {
    let (good, markers) = restart_jpeg();
    // Remove RST9 (the tenth marker): intervals 9 and 10 run together.
    let mut bad = good.clone();
    bad.drain(markers[9]..markers[9] + 2);
    let (out, px) = png_of(&bad);
    assert_eq!(
        out.recovery(),
        [Recovery::RestartIntervalsGrey {
            intervals: 2,
            of: 128
        }]
    );
    assert!(out.recovery()[0].to_string().contains("2 of 128"));
    let (_, reference) = png_of(&good);
    // Intervals 9 and 10 are MCUs 36..44: row 1 of MCUs, columns 4..12 (source pixels
    // 32..96 × 8..16). The output is 512 wide (scale 2), letterboxed at y = 128.
    assert_eq!(out.side(), 512);
    let at = |p: &Pixels, x: u32, y: u32| p.at(x * 2 + 1, 128 + y * 2 + 1);
    for x in [37, 50, 70, 90] {
        let g = at(&px, x, 12);
        assert!(
            g[..3].iter().all(|&c| c.abs_diff(128) <= 3),
            "({x}, 12) should be grey: {g:?}"
        );
    }
    // Far from the damage, the photo is as it was.
    for (x, y) in [(10, 60), (200, 100), (150, 3), (10, 12), (120, 12)] {
        let (a, b) = (at(&px, x, y), at(&reference, x, y));
        assert!(
            avatar_tests::color_distance(a, b) <= 2,
            "({x}, {y}): {a:?} vs {b:?}"
        );
    }
}

#[test]
fn damaged_scan_data_without_restart_damage_stays_an_error() {
    let (good, _) = restart_jpeg();
    // Cut inside the scan: truncated, not "recovered".
    let cut = &good[..good.len() * 2 / 3];
    let err = prepare(cut, &PrepOptions::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Truncated, "{err}");
}

#[test]
fn a_broken_exif_block_never_fails_a_decodable_image() {
    let p = photo(120, 80, 3);
    // JPEG: an APP1 "Exif" segment holding no TIFF structure.
    let mut jpg = jpeg(&p, &JpegFixture::default());
    let app1 = [&[0xFF, 0xE1, 0x00, 0x10][..], b"Exif\0\0", b"garbage!"].concat();
    jpg.splice(2..2, app1);
    // And one whose TIFF header is right but whose IFD points far outside the block.
    let mut jpg2 = jpeg(&p, &JpegFixture::default());
    let app1 = [
        &[0xFF, 0xE1, 0x00, 0x12][..],
        b"Exif\0\0",
        b"II*\0\xff\xff\xff\x7f\0\0",
    ]
    .concat();
    jpg2.splice(2..2, app1);
    for (what, bytes, unreadable) in [("garbage", &jpg, true), ("bad offset", &jpg2, false)] {
        let out = prepare(bytes, &PrepOptions::default()).unwrap();
        assert_eq!(out.source().orientation, Orientation::Normal, "{what}");
        assert_eq!(
            out.recovery().contains(&Recovery::UnreadableExif),
            unreadable,
            "{what}: {:?}",
            out.recovery()
        );
    }
    // PNG: an eXIf chunk of text.
    let png = png_with(
        120,
        80,
        png::ColorType::Rgba,
        png::BitDepth::Eight,
        &p.rgba,
        |w| w.write_chunk(png::chunk::eXIf, b"LoremIpsum").unwrap(),
    );
    let out = prepare(&png, &PrepOptions::default()).unwrap();
    assert_eq!(out.recovery(), [Recovery::UnreadableExif]);
}

fn frames_of_colour(n: usize) -> Vec<Pixels> {
    (0..n)
        .map(|k| {
            Pixels::from_fn(64, 48, move |x, _| {
                if x < 32 {
                    [40 * k as u8, 0, 200, 255]
                } else {
                    [0, 180, 30 * k as u8, 255]
                }
            })
        })
        .collect()
}

/// Where each image descriptor of a GIF starts, walking its block structure.
fn image_descriptors(b: &[u8]) -> Vec<usize> {
    let table = |packed: u8| {
        if packed & 0x80 != 0 {
            3 << ((packed & 7) + 1)
        } else {
            0
        }
    };
    let skip_sub_blocks = |mut i: usize| {
        while b[i] != 0 {
            i += usize::from(b[i]) + 1;
        }
        i + 1
    };
    let mut i = 13 + table(b[10]);
    let mut found = Vec::new();
    loop {
        match b[i] {
            0x21 => i = skip_sub_blocks(i + 2),
            0x2C => {
                found.push(i);
                i = skip_sub_blocks(i + 10 + table(b[i + 9]) + 1);
            }
            _ => return found,
        }
    }
}

#[test]
fn an_animation_cut_inside_a_later_frame_keeps_its_complete_frames() {
    let whole = gif(&frames_of_colour(5), 10);
    let starts = image_descriptors(&whole);
    assert_eq!(starts.len(), 5, "{starts:?}");
    // Cut inside the fourth frame's pixel data: three complete frames.
    let cut = &whole[..starts[3] + 40];
    let out = prepare(cut, &PrepOptions::default()).unwrap();
    assert_eq!((out.format(), out.frames()), (ImageFormat::Gif, 3));
    assert_eq!(
        out.recovery(),
        [Recovery::AnimationCutShort { frames_kept: 3 }]
    );
    let shown = gif_frames(out.bytes());
    assert_eq!(shown.len(), 3);
    let total: u32 = shown.iter().map(|f| f.1).sum();
    assert_eq!(total, 300);
    // The third frame is the third input frame (left half red 80).
    let px = shown[2].0.get_pixel(100, 256).0;
    assert!(px[0].abs_diff(80) <= 8 && px[2] > 150, "{px:?}");
    // Cut inside the FIRST frame: nothing complete, so the still rule: truncated.
    let err = prepare(&whole[..starts[0] + 40], &PrepOptions::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Truncated, "{err}");
}

#[test]
fn gif_frames_without_a_colour_table_use_a_grey_palette() {
    let (w, h) = (40u16, 30u16);
    let f1: Vec<u8> = (0..w as usize * h as usize)
        .map(|i| if i % 40 < 20 { 50 } else { 200 })
        .collect();
    let f2: Vec<u8> = vec![120; w as usize * h as usize];
    // A still.
    let still = gif_without_palette(w, h, std::slice::from_ref(&f1));
    let (out, px) = png_of(&still);
    assert_eq!(out.recovery(), [Recovery::DefaultPalette { frames: 1 }]);
    let (l, r) = (px.at(100, 256), px.at(400, 256));
    assert!(l[..3].iter().all(|&c| c.abs_diff(50) <= 2), "{l:?}");
    assert!(r[..3].iter().all(|&c| c.abs_diff(200) <= 2), "{r:?}");
    // An animation: both frames, grey.
    let anim = gif_without_palette(w, h, &[f1, f2]);
    let out = prepare(&anim, &PrepOptions::default()).unwrap();
    assert_eq!((out.format(), out.frames()), (ImageFormat::Gif, 2));
    assert_eq!(out.recovery(), [Recovery::DefaultPalette { frames: 2 }]);
    let shown = gif_frames(out.bytes());
    let px = shown[1].0.get_pixel(256, 256).0;
    assert!(px[..3].iter().all(|&c| c.abs_diff(120) <= 4), "{px:?}");
}

#[test]
fn sound_files_report_no_recovery() {
    for bytes in [
        jpeg(&photo(300, 200, 1), &JpegFixture::default()),
        gif(&frames_of_colour(3), 10),
    ] {
        let out = prepare(&bytes, &PrepOptions::default()).unwrap();
        assert!(out.recovery().is_empty(), "{:?}", out.recovery());
    }
}
