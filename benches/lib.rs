//! Criterion benchmarks for the avatar workspace: `cargo bench -p avatar-benches`.
//!
//! The benches live in `prepare.rs`; inputs are generated in code once, outside the timed
//! loops (see `avatar-tests`).

/// A real-size photo for the benches: `AVATAR_BENCH_PHOTO`, else the first JPEG (by name) of
/// `/tmp/avatar-corpus/photos` (made by `../shared/bench/make_corpus.py`); `None`, with a
/// message, when neither is there.
pub fn corpus_photo() -> Option<Vec<u8>> {
    let path = match std::env::var_os("AVATAR_BENCH_PHOTO") {
        Some(p) => std::path::PathBuf::from(p),
        None => {
            let mut files: Vec<_> = std::fs::read_dir("/tmp/avatar-corpus/photos")
                .ok()?
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "jpg" || e == "jpeg"))
                .collect();
            files.sort();
            files.into_iter().next()?
        }
    };
    match std::fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(e) => {
            eprintln!(
                "no corpus photo ({}: {e}): its benches are skipped",
                path.display()
            );
            None
        }
    }
}
