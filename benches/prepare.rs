//! End-to-end `prepare` per input kind. Inputs are built once, outside the timed loop.

use std::hint::black_box;

use avatar_prep::{prepare, Fit, PrepOptions};
use avatar_tests::{jpeg, photo, png_rgba, JpegFixture};
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
    g.bench_function("jpeg_400x300_upscale", |b| {
        b.iter(|| prepare(black_box(&small_jpeg), &opts).map(|p| p.bytes().len()))
    });
    g.finish();
}

criterion_group!(benches, end_to_end);
criterion_main!(benches);
