//! The GIF writer's frame optimiser end to end, on the two paths every animation takes: an
//! animation already in range (decoded, composited and re-optimised with its exact colours)
//! and one that is resampled (resized and re-palettised, then optimised). Inputs are built
//! once, outside the timed loops, by `avatar_tests::sprite_gif` (like the peer corpus's GIFs:
//! every frame whole, with its own local palette).

#![allow(clippy::unwrap_used)]

use std::hint::black_box;

use avatar_prep::{prepare, PrepOptions};
use avatar_tests::sprite_gif;
use criterion::{criterion_group, criterion_main, Criterion};

fn optimise(c: &mut Criterion) {
    let opts = PrepOptions::default();
    let cases = [
        // 640x480 → 640x640 with transparent bars: nothing resampled.
        ("pass_through_640x480_40f", sprite_gif(640, 480, 40)),
        // 1200x900 → 1024x1024: every frame resized and re-palettised (30 frames: 40 of
        // uncompressible noise would be above the default 50 MB input limit).
        ("resampled_1200x900_30f", sprite_gif(1200, 900, 30)),
    ];
    let mut g = c.benchmark_group("gif_optimise");
    g.sample_size(10);
    for (name, input) in &cases {
        let out = prepare(input, &opts).unwrap();
        eprintln!(
            "{name}: input {} bytes, output {} bytes ({} frames, {}x{})",
            input.len(),
            out.bytes().len(),
            out.frames(),
            out.side(),
            out.side()
        );
        g.bench_function(*name, |b| {
            b.iter(|| prepare(black_box(input), &opts).map(|p| p.bytes().len()))
        });
    }
    g.finish();
}

criterion_group!(benches, optimise);
criterion_main!(benches);
