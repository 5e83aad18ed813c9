//! The page at `/` in a real headless Chromium, driven over WebDriver (chromedriver): choose
//! a file, wait for the preview, check the square; drag a crop box; set the photo.
//!
//! Skips (with a message) when no Chromium or chromedriver is installed; `.ci/run` installs
//! Debian's `chromium` and `chromium-driver`. `AVATAR_SCREENSHOT=path.png` saves a screenshot
//! of the page with a preview shown (how `examples/avatar-service/page.png` was made).

#![allow(clippy::unwrap_used)] // test code: a failure is the test failing.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use avatar_prep::{CropBox, Fit, PrepOptions};
use avatar_tests::slack::SlackEmulator;
use avatar_tests::{jpeg, JpegFixture};
use common::*;
use fantoccini::actions::{InputSource, MouseActions, PointerAction, MOUSE_BUTTON_LEFT};
use fantoccini::{ClientBuilder, Locator};
use serde_json::json;

const TOKEN: &str = "xoxp-77-browser-secret";

fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|n| {
        std::env::split_paths(&path)
            .map(|d| d.join(n))
            .find(|p| p.is_file())
    })
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_page_previews_crops_and_sets_a_photo_in_chromium() {
    let browser = std::env::var_os("AVATAR_CHROMIUM")
        .map(PathBuf::from)
        .or_else(|| find_program(&["chromium", "chromium-browser", "google-chrome"]));
    let driver = find_program(&["chromedriver"]);
    let (Some(browser), Some(driver)) = (browser, driver) else {
        println!(
            "SKIPPED the_page_previews_crops_and_sets_a_photo_in_chromium: no chromium and \
             chromedriver on PATH (Debian: apt-get install chromium chromium-driver)"
        );
        return;
    };

    let emu = SlackEmulator::start().await;
    let svc = Service::start(&emu.base_url(), &[]).await;
    let tmp = tempfile::tempdir().unwrap();
    let photo_path = tmp.path().join("holiday.jpg");
    let file = jpeg(&smooth_picture(1200, 800), &JpegFixture::default());
    std::fs::write(&photo_path, &file).unwrap();

    let port = free_port();
    let mut chromedriver = tokio::process::Command::new(&driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let webdriver = format!("http://127.0.0.1:{port}");
    let mut caps = serde_json::Map::new();
    let profile = tmp.path().join("profile");
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": browser,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update",
                "--no-first-run", "--disable-sync", "--window-size=1060,1090",
                "--hide-scrollbars",
                format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let c = loop {
        let connected =
            ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&webdriver)
                .await;
        match connected {
            Ok(c) => break c,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("cannot start a chromium session through chromedriver: {e}"),
        }
    };

    let result = drive(&c, &svc, &emu, &photo_path, &file).await;
    let _ = c.close().await;
    let _ = chromedriver.kill().await;
    result.unwrap();
}

async fn drive(
    c: &fantoccini::Client,
    svc: &Service,
    emu: &SlackEmulator,
    photo_path: &Path,
    file: &[u8],
) -> Result<(), fantoccini::error::CmdError> {
    c.goto(&svc.base).await?;
    assert_eq!(
        c.title().await?,
        "Avatar — a Slack profile photo from any picture"
    );

    // Choose the file; wait for the preview.
    c.find(Locator::Css("#file"))
        .await?
        .send_keys(&photo_path.display().to_string())
        .await?;
    let ready = Locator::Css("body[data-state=ready]");
    c.wait()
        .at_most(Duration::from_secs(30))
        .for_element(ready)
        .await?;
    let shown = c
        .execute(
            "const i = document.getElementById('result'); const r = i.getBoundingClientRect();
             return [i.naturalWidth, i.naturalHeight, r.width, r.height, i.dataset.side];",
            vec![],
        )
        .await?;
    // A 1200 x 800 photo letterboxed: a 1024 x 1024 square, shown square.
    assert_eq!(shown[0], 1024, "{shown}");
    assert_eq!(shown[1], 1024, "{shown}");
    let (w, h) = (shown[2].as_f64().unwrap(), shown[3].as_f64().unwrap());
    assert!(w > 100.0 && (w - h).abs() < 1.0, "shown {w} x {h}");
    let meta = c.find(Locator::Css("#result-meta")).await?.text().await?;
    assert!(
        meta.contains("1024×1024 JPEG") && meta.contains("1200x800"),
        "{meta}"
    );

    // Drag a square on the picture, around the sun (at 62 %, 42 % of the photo).
    let stage = c.find(Locator::Css("#stage")).await?;
    let side = c
        .execute(
            "return document.getElementById('stage').clientWidth;",
            vec![],
        )
        .await?
        .as_f64()
        .unwrap();
    let drag = MouseActions::new("mouse".into())
        .then(PointerAction::MoveToElement {
            element: stage,
            duration: None,
            x: -side * 0.08,
            y: -side * 0.25,
        })
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        })
        .then(PointerAction::MoveBy {
            duration: Some(Duration::from_millis(150)),
            x: side * 0.4,
            y: side * 0.4,
        })
        .then(PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        });
    c.perform_actions(drag).await?;
    let deadline = Instant::now() + Duration::from_secs(30);
    let crop = loop {
        let v = c
            .execute(
                "return document.body.dataset.state === 'ready' && state.crop
                   && document.getElementById('result-meta').textContent.includes('cropped')
                   ? state.crop : null;",
                vec![],
            )
            .await?;
        if !v.is_null() {
            break v;
        }
        assert!(Instant::now() < deadline, "the cropped preview shows");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let boxed = CropBox::new(
        crop["x"].as_u64().unwrap() as u32,
        crop["y"].as_u64().unwrap() as u32,
        crop["side"].as_u64().unwrap() as u32,
    );
    assert!(
        boxed.side > 150 && boxed.x + boxed.side <= 1200 && boxed.y + boxed.side <= 800,
        "{boxed:?}"
    );
    let natural = c
        .execute(
            "const i = document.getElementById('result'); return [i.naturalWidth, i.naturalHeight];",
            vec![],
        )
        .await?;
    let expected_side = boxed.side.clamp(512, 1024);
    assert_eq!(natural, json!([expected_side, expected_side]), "{boxed:?}");

    // Paste a token and set the photo: Slack gets exactly the cropped square.
    c.find(Locator::Css("#token"))
        .await?
        .send_keys(TOKEN)
        .await?;
    c.find(Locator::Css("#set")).await?.click().await?;
    let status = c
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css("#status.ok"))
        .await?
        .text()
        .await?;
    assert!(status.contains("your Slack photo is set"), "{status}");
    if let Some(path) = std::env::var_os("AVATAR_SCREENSHOT") {
        std::fs::write(&path, c.screenshot().await?).unwrap();
        println!("screenshot written to {}", PathBuf::from(path).display());
    }
    let expected =
        avatar_prep::prepare(file, &PrepOptions::default().fit(Fit::Crop(boxed))).unwrap();
    let uploads = emu.uploads_for(TOKEN);
    assert_eq!(uploads.len(), 1);
    assert!(
        uploads[0] == expected.bytes(),
        "Slack got the cropped square"
    );
    Ok(())
}
