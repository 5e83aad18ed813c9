//! End-to-end `prepare` per input kind, and a 200-frame GIF on one and two threads.
//! Inputs are built once, outside the timed loops.

#![allow(clippy::unwrap_used)]

use std::hint::black_box;

use avatar_prep::{prepare, Fit, PrepOptions};
use avatar_tests::{jpeg, photo, png_rgba, JpegFixture, Pixels};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn end_to_end(c: &mut Criterion) {
    let photo_12mp = jpeg(
        &photo(4032, 3024, 1),
        &JpegFixture {
            orientation: Some(6),
            quality: Some(90),
            ..Default::default()
        },
    );
    let png_3mp = png_rgba(&photo(2000, 1500, 2), None);
    let small_jpeg = jpeg(&photo(400, 300, 3), &JpegFixture::default());

    let mut g = c.benchmark_group("prepare");
    g.sample_size(20);
    let opts = PrepOptions::default();
    g.throughput(Throughput::Elements(1));
    g.bench_function("jpeg_12mp_letterbox", |b| {
        b.iter(|| prepare(black_box(&photo_12mp), &opts).map(|p| p.bytes().len()))
    });
    let cover = PrepOptions::default().fit(Fit::CenterCrop);
    g.bench_function("jpeg_12mp_cover", |b| {
        b.iter(|| prepare(black_box(&photo_12mp), &cover).map(|p| p.bytes().len()))
    });
    g.bench_function("png_3mp_rgba", |b| {
        b.iter(|| prepare(black_box(&png_3mp), &opts).map(|p| p.bytes().len()))
    });
    // A corpus photo (not synthetic noise), end to end: compare with
    // `stage/photo_libjpeg_<scale>` at the scale `prepare` picks for it.
    if let Some(real) = avatar_benches::corpus_photo() {
        g.bench_function("photo_letterbox", |b| {
            b.iter(|| prepare(black_box(&real), &opts).map(|p| p.bytes().len()))
        });
        // As a batch worker runs it: one `Preparer` whose buffers are reused.
        let mut worker = avatar_prep::Preparer::new();
        g.bench_function("photo_letterbox_reused", |b| {
            b.iter(|| {
                worker
                    .prepare(black_box(&real), &opts)
                    .map(|p| p.bytes().len())
            })
        });
    }
    g.bench_function("jpeg_400x300_upscale", |b| {
        b.iter(|| prepare(black_box(&small_jpeg), &opts).map(|p| p.bytes().len()))
    });
    g.finish();
}

/// 200 frames of 600x600: a photo-like background with a moving sprite, each frame a full
/// frame with its own local palette (the common output of video-to-GIF converters).
fn gif_200() -> Vec<u8> {
    let bg = photo(600, 600, 11);
    let mut out = Vec::new();
    {
        let mut enc = gif::Encoder::new(&mut out, 600, 600, &[]).unwrap();
        enc.set_repeat(gif::Repeat::Infinite).unwrap();
        for i in 0..200u32 {
            let frame_px = Pixels::from_fn(600, 600, |x, y| {
                let (sx, sy) = (50 + (i * 2) % 480, 100 + (i * 3) % 380);
                if x >= sx && x < sx + 60 && y >= sy && y < sy + 60 {
                    [230, 40, 40, 255]
                } else {
                    bg.at(x, y)
                }
            });
            let mut rgba = frame_px.rgba;
            let mut frame = gif::Frame::from_rgba_speed(600, 600, &mut rgba, 30);
            frame.delay = 4;
            enc.write_frame(&frame).unwrap();
        }
    }
    out
}

fn animation(c: &mut Criterion) {
    let input = gif_200();
    let opts = PrepOptions::default().max_frames(200);
    let out = prepare(&input, &opts).unwrap();
    eprintln!(
        "gif_200_frames_600px: input {} bytes, output {} bytes ({} frames, {}x{})",
        input.len(),
        out.bytes().len(),
        out.frames(),
        out.side(),
        out.side()
    );
    let mut g = c.benchmark_group("gif_200_frames_600px");
    g.sample_size(10);
    for threads in [1usize, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        g.bench_function(format!("{threads}_threads"), |b| {
            b.iter(|| pool.install(|| prepare(black_box(&input), &opts).map(|p| p.bytes().len())))
        });
    }
    g.finish();
}

/// A folder of 16 photo-like 3 MP JPEGs through `prepare_files`, on one and two threads.
fn folder(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("avatar-bench-folder-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let paths: Vec<_> = (0..16u32)
        .map(|i| {
            let p = dir.join(format!("p{i:02}.jpg"));
            std::fs::write(&p, jpeg(&photo(2000, 1500, i), &JpegFixture::default())).unwrap();
            p
        })
        .collect();
    let opts = PrepOptions::default();
    let mut g = c.benchmark_group("folder_16_jpeg_3mp");
    g.sample_size(10);
    g.throughput(Throughput::Elements(paths.len() as u64));
    for threads in [1usize, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        g.bench_function(format!("{threads}_threads"), |b| {
            b.iter(|| pool.install(|| avatar_prep::prepare_files(black_box(&paths), &opts).len()))
        });
    }
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, end_to_end, animation, folder);
criterion_main!(benches);
