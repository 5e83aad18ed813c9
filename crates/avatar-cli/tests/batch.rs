//! `avatar prep` on folders: a mix of good, broken and hostile files, the JSON report,
//! resuming with --skip-existing, and a run killed half-way.

#![allow(clippy::unwrap_used)] // test helpers: a failure is the test failing.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{all_files, avatar};

use avatar_tests::{decode, gif, jpeg, photo, png_rgba, try_dimensions, JpegFixture, Pixels};

/// A PNG whose header claims 100000x100000 pixels.
fn header_bomb() -> Vec<u8> {
    let mut bytes = png_rgba(&photo(8, 8, 1), None);
    bytes[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    bytes[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    bytes
}

fn report(path: &Path) -> Vec<serde_json::Value> {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn mixed_folder_report_and_resume() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("export");
    std::fs::create_dir_all(input.join("team")).unwrap();
    let good = jpeg(
        &photo(1600, 1000, 1),
        &JpegFixture {
            orientation: Some(6),
            ..Default::default()
        },
    );
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("alice.jpg", good.clone()),
        ("team/bob.png", png_rgba(&photo(700, 500, 2), None)),
        (
            "team/wave.gif",
            gif(
                &[
                    Pixels::from_fn(60, 40, |_, _| [9, 9, 200, 255]),
                    Pixels::from_fn(60, 40, |_, _| [200, 9, 9, 255]),
                ],
                20,
            ),
        ),
        ("cut.jpg", good[..good.len() / 3].to_vec()),
        ("bomb.png", header_bomb()),
        ("empty.jpg", Vec::new()),
        ("notes.txt", b"hello".to_vec()),
        // WebP is read since the codec split; Photoshop files are recognised and refused.
        ("layers.psd", b"8BPS\0\x01\0\0\0\0\0\0".to_vec()),
    ];
    for (name, bytes) in &files {
        std::fs::write(input.join(name), bytes).unwrap();
    }
    let out = tmp.path().join("avatars");
    let rep = tmp.path().join("report.json");
    let sheet = tmp.path().join("sheet.png");
    let (code, stderr) = avatar(&[
        "prep",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--report",
        rep.to_str().unwrap(),
        "--contact-sheet",
        sheet.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{stderr}");
    // The contact sheet: 4 cells per row, 8 files; the second file (bomb.png) failed and its
    // "after" square is crossed out in red; the first (alice.jpg) shows its thumbnails.
    let sheet_px = decode(&std::fs::read(&sheet).unwrap());
    assert_eq!((sheet_px.width, sheet_px.height), (4 * 224, 2 * 136));
    assert_eq!(
        sheet_px.at(344 + 20, 8 + 20),
        [200, 30, 30, 255],
        "failure marked"
    );
    let thumb = sheet_px.at(8 + 96 + 16 + 48, 8 + 48);
    assert_ne!(
        thumb,
        [250, 250, 250, 255],
        "alice's output thumbnail is drawn"
    );
    let summary = stderr.lines().last().unwrap();
    assert!(
        summary.starts_with("avatar: 3 ok, 5 failed, 0 skipped, 8 files in "),
        "{summary}"
    );
    assert!(summary.ends_with("images/s)"), "{summary}");

    let records = report(&rep);
    assert_eq!(records.len(), 8);
    let by_name: HashMap<String, &serde_json::Value> = records
        .iter()
        .map(|r| {
            (
                Path::new(r["input"].as_str().unwrap())
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
                r,
            )
        })
        .collect();
    for (name, kind) in [
        ("cut.jpg", "truncated"),
        ("bomb.png", "dimensions_too_large"),
        ("empty.jpg", "empty"),
        ("notes.txt", "not_an_image"),
        ("layers.psd", "unsupported_format"),
    ] {
        let r = by_name[name];
        assert_eq!(r["status"], "error", "{name}");
        assert_eq!(r["error_kind"], kind, "{name}: {r}");
        assert!(r["message"].as_str().unwrap().len() > 5);
        assert!(r["output"].is_null());
    }
    let alice = by_name["alice.jpg"];
    assert_eq!(alice["status"], "ok");
    assert_eq!(
        (
            alice["source_format"].as_str(),
            alice["source_width"].as_u64(),
            alice["source_height"].as_u64()
        ),
        (Some("JPEG"), Some(1600), Some(1000))
    );
    assert_eq!(
        (
            alice["output_side"].as_u64(),
            alice["output_format"].as_str()
        ),
        (Some(1024), Some("JPEG"))
    );
    let alice_out = Path::new(alice["output"].as_str().unwrap());
    assert_eq!(
        alice["output_bytes"].as_u64(),
        Some(std::fs::metadata(alice_out).unwrap().len())
    );
    assert!(alice["time_ms"].as_f64().unwrap() > 0.0);
    assert_eq!(by_name["wave.gif"]["frames"].as_u64(), Some(2));
    assert_eq!(by_name["wave.gif"]["output_format"], "GIF");

    // Outputs: exactly the three good ones, each valid; nothing temporary left.
    let outputs = all_files(&out);
    assert_eq!(outputs.len(), 3, "{outputs:?}");
    for p in &outputs {
        let (w, h) = try_dimensions(&std::fs::read(p).unwrap())
            .unwrap_or_else(|| panic!("{} does not decode", p.display()));
        assert_eq!(w, h);
        assert!((512..=1024).contains(&w));
    }

    // Resume: the good ones are skipped, the bad ones tried again.
    let before: Vec<_> = outputs
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().modified().unwrap())
        .collect();
    let (code, stderr) = avatar(&[
        "prep",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--report",
        rep.to_str().unwrap(),
        "--skip-existing",
        "--quiet",
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("avatar: 0 ok, 5 failed, 3 skipped"),
        "{stderr}"
    );
    assert!(
        !stderr.contains(": ok:"),
        "--quiet hides successes: {stderr}"
    );
    let after: Vec<_> = outputs
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().modified().unwrap())
        .collect();
    assert_eq!(before, after, "skipped outputs are not rewritten");
    let skipped = report(&rep)
        .iter()
        .filter(|r| r["status"] == "skipped")
        .count();
    assert_eq!(skipped, 3);

    // A newer input is prepared again.
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(input.join("alice.jpg"), &good).unwrap();
    let (_, stderr) = avatar(&[
        "prep",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--skip-existing",
    ]);
    assert!(
        stderr.contains("avatar: 1 ok, 5 failed, 2 skipped"),
        "{stderr}"
    );
}

#[test]
fn a_killed_run_resumes_and_writes_every_output_once() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    let n = 24;
    for i in 0..n {
        std::fs::write(
            input.join(format!("p{i:02}.jpg")),
            jpeg(&photo(1800, 1200, i), &JpegFixture::default()),
        )
        .unwrap();
    }
    let out = tmp.path().join("out");
    let args = [
        "prep",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--jobs",
        "1",
        "--skip-existing",
    ];

    let mut child = Command::new(env!("CARGO_BIN_EXE_avatar"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let done = |out: &Path| {
        all_files(out)
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
            .count()
    };
    while done(&out) < 3 {
        assert!(Instant::now() < deadline, "no progress");
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let first = all_files(&out);
    let written: Vec<_> = first
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
        .cloned()
        .collect();
    assert!(written.len() < n as usize, "killed before the end");
    // Under its final name every output is whole: only complete files are renamed there.
    for p in &written {
        let px = decode(&std::fs::read(p).unwrap());
        assert_eq!((px.width, px.height), (1024, 1024), "{}", p.display());
    }
    // A temporary file a kill could leave is cleaned by the next run.
    std::fs::write(out.join(".avatar-tmp-p99.jpg.4242.tmp"), b"partial").unwrap();
    let times: Vec<_> = written
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().modified().unwrap())
        .collect();

    let rep = tmp.path().join("r.json");
    let (code, stderr) = avatar(&[&args[..], &["--report", rep.to_str().unwrap()]].concat());
    assert_eq!(code, 0, "{stderr}");
    let records = report(&rep);
    let skipped = records.iter().filter(|r| r["status"] == "skipped").count();
    let ok = records.iter().filter(|r| r["status"] == "ok").count();
    assert_eq!(skipped, written.len(), "the first run's outputs are kept");
    assert_eq!(
        ok + skipped,
        n as usize,
        "every other input is prepared now"
    );
    let final_files = all_files(&out);
    assert_eq!(
        final_files.len(),
        n as usize,
        "no temporary or extra file: {final_files:?}"
    );
    for p in &final_files {
        assert_eq!(p.extension().and_then(|e| e.to_str()), Some("jpg"));
    }
    let times_after: Vec<_> = written
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().modified().unwrap())
        .collect();
    assert_eq!(
        times, times_after,
        "outputs of the first run are written once"
    );
}
