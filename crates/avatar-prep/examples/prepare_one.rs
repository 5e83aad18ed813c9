//! Prepare one photo and say what was done.
//!
//! ```text
//! cargo run -p avatar-prep --example prepare_one -- samples/portrait-exif6.jpg out.jpg
//! cargo run -p avatar-prep --example prepare_one -- photo.png avatar.png --cover
//! ```
//!
//! With no arguments it prepares `samples/landscape.jpg` into the temporary folder.

use std::path::PathBuf;
use std::process::ExitCode;

use avatar_prep::{Fit, Placement, PrepOptions};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cover = args.iter().any(|a| a == "--cover");
    let mut paths = args
        .iter()
        .filter(|a| !a.starts_with("--"))
        .map(PathBuf::from);
    let input = paths.next().unwrap_or_else(|| {
        PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../samples/landscape.jpg"
        ))
    });
    let output = paths
        .next()
        .unwrap_or_else(|| std::env::temp_dir().join("avatar-prepare-one.out"));

    // Every option has a default that Slack accepts; change only what you need.
    let options = if cover {
        PrepOptions::default().fit(Fit::CenterCrop)
    } else {
        PrepOptions::default()
    };

    // `prepare_file` checks the size limit before reading, and its errors name the file.
    let avatar = match avatar_prep::prepare_file(&input, &options) {
        Ok(a) => a,
        Err(e) => {
            // The kind is stable (`truncated`, `too_many_pixels`, …): match on it, log it.
            eprintln!("{}: {}: {}", input.display(), e.kind(), e.innermost());
            return ExitCode::FAILURE;
        }
    };
    // Give the output the extension of its real format.
    let output = output.with_extension(avatar.format().extension());
    if let Err(e) = std::fs::write(&output, avatar.bytes()) {
        eprintln!("{}: {e}", output.display());
        return ExitCode::FAILURE;
    }

    let src = avatar.source();
    let how = match avatar.placement() {
        Placement::Letterbox { background, .. } => format!("letterbox {background}"),
        Placement::Crop { region } => format!(
            "crop {}x{} at {},{}",
            region.w, region.h, region.x, region.y
        ),
        _ => "other".to_owned(),
    };
    println!(
        "{} -> {}: {} {}x{} ({} bytes) from {}x{} {}, orientation {:?}, {how}, scale {:.3}",
        input.display(),
        output.display(),
        avatar.format(),
        avatar.side(),
        avatar.side(),
        avatar.bytes().len(),
        src.width,
        src.height,
        src.format,
        avatar.orientation_applied(),
        avatar.scale(),
    );
    ExitCode::SUCCESS
}
