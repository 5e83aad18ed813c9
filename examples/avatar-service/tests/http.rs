//! The service binary against the in-repo Slack emulator: every route, every error status.

#![allow(clippy::unwrap_used)] // test code: a failure is the test failing.

mod common;

use std::time::{Duration, Instant};

use avatar_prep::{CropBox, Fit, PrepOptions};
use avatar_tests::slack::{Reply, SlackEmulator};
use avatar_tests::{color_distance, decode, jpeg, photo, JpegFixture, RED};
use common::*;

const TOKEN: &str = "xoxp-1-2-3-secret-token";

fn header(resp: &reqwest::Response, name: &str) -> String {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn prints_its_url_then_serves_healthz_and_the_page() {
    let emu = SlackEmulator::start().await;
    let svc = Service::start(&emu.base_url(), &[]).await;
    assert!(svc.base.starts_with("http://127.0.0.1:") && svc.base.ends_with('/'));
    let http = http();
    let r = http.get(svc.url("healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = http.get(svc.url("")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(header(&r, "content-type").starts_with("text/html"));
    assert!(header(&r, "content-security-policy").contains("connect-src 'self'"));
    let page = r.text().await.unwrap();
    for needle in [
        "<input type=\"file\" id=\"file\"",
        "fetch(path",
        "/preview",
        "/avatar",
        "name=\"fit\" value=\"cover\"",
        "type=\"password\" id=\"token\"",
    ] {
        assert!(page.contains(needle), "the page has {needle}");
    }
    assert!(
        !page.contains("localStorage") && !page.contains("sessionStorage"),
        "the token stays in memory"
    );
    assert!(svc.logs().contains("GET"), "requests are logged");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_format_previews_as_a_square_with_what_was_done() {
    let emu = SlackEmulator::start().await;
    let svc = Service::start(&emu.base_url(), &[]).await;
    let http = http();
    let src = markers(); // 900 x 600, red top-left corner block of 150 px
    for f in FORMATS {
        let file = (f.encode)(&src);
        // Default: letterbox, the whole picture.
        let r = post(
            &http,
            &svc.url("preview"),
            &[image(f.filename, &file)],
            None,
        )
        .await;
        assert_eq!(r.status(), 200, "{}", f.name);
        assert_eq!(header(&r, "content-type"), f.output_mime, "{}", f.name);
        // The square's side is the long side (900, within 512..=1024): no scaling.
        assert_eq!(header(&r, "x-avatar-side"), "900", "{}", f.name);
        assert_eq!(header(&r, "x-avatar-upright"), "900x600", "{}", f.name);
        assert_eq!(header(&r, "x-avatar-placement"), "letterbox", "{}", f.name);
        assert_eq!(header(&r, "x-avatar-region"), "0,150,900,600", "{}", f.name);
        let px = decode(&r.bytes().await.unwrap());
        assert_eq!((px.width, px.height), (900, 900), "{}", f.name);
        let red = px.at(40, 150 + 40);
        assert!(
            color_distance(red, RED) <= f.tolerance,
            "{}: {red:?}",
            f.name
        );
        // Above the picture: the bar (white for JPEG, transparent for PNG).
        let bar = px.at(450, 75);
        assert!(
            bar == [255, 255, 255, 255] || bar[3] == 0,
            "{}: bar {bar:?}",
            f.name
        );

        // Cover: the centred square, 600 x 600 from x = 150.
        let r = post(
            &http,
            &svc.url("preview"),
            &[image(f.filename, &file), text("fit", "cover")],
            None,
        )
        .await;
        assert_eq!(r.status(), 200, "{}", f.name);
        assert_eq!(header(&r, "x-avatar-placement"), "crop", "{}", f.name);
        assert_eq!(header(&r, "x-avatar-region"), "150,0,600,600", "{}", f.name);

        // A crop box, with Slack's field names: the red block fills the top-left quarter.
        let r = post(
            &http,
            &svc.url("preview"),
            &[
                text("crop_x", "0"),
                text("crop_y", "0"),
                text("crop_w", "300"),
                image(f.filename, &file),
            ],
            None,
        )
        .await;
        assert_eq!(r.status(), 200, "{}", f.name);
        assert_eq!(header(&r, "x-avatar-region"), "0,0,300,300", "{}", f.name);
        let px = decode(&r.bytes().await.unwrap());
        assert_eq!(
            (px.width, px.height),
            (512, 512),
            "{}: 300 px enlarged to 512",
            f.name
        );
        for (x, y) in [(40, 40), (200, 200), (40, 200)] {
            let p = px.at(x, y);
            assert!(
                color_distance(p, RED) <= f.tolerance,
                "{} ({x},{y}): {p:?}",
                f.name
            );
        }
        let grey = px.at(450, 450);
        assert!(
            color_distance(grey, RED) > 100,
            "{}: outside the block {grey:?}",
            f.name
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn avatar_sends_exactly_the_prepared_image_to_slack() {
    let emu = SlackEmulator::start().await;
    let svc = Service::start(&emu.base_url(), &[]).await;
    let http = http();
    let src = photo(1200, 800, 5);
    for (i, f) in FORMATS.iter().enumerate() {
        let token = format!("xoxp-{i}-format-secret");
        let file = (f.encode)(&src);
        let r = post(
            &http,
            &svc.url("avatar"),
            &[image(f.filename, &file), text("fit", "cover")],
            Some(&token),
        )
        .await;
        assert_eq!(r.status(), 200, "{}", f.name);
        let v = json_of(r).await;
        assert_eq!(v["ok"], true, "{v}");
        assert_eq!(v["side"], 800, "{v}: the 800 x 800 centre square");
        assert_eq!(v["attempts"], 1, "{v}");
        assert!(v["profile"]["avatar_hash"].as_str().is_some(), "{v}");
        let expected =
            avatar_prep::prepare(&file, &PrepOptions::default().fit(Fit::CenterCrop)).unwrap();
        assert_eq!(v["format"], expected.format().name().to_ascii_lowercase());
        let uploads = emu.uploads_for(&token);
        assert_eq!(uploads.len(), 1, "{}", f.name);
        assert!(
            uploads[0] == expected.bytes(),
            "{}: the bytes prepare() gives",
            f.name
        );
        let req = emu.requests().pop().unwrap();
        let part = req.part("image").unwrap();
        assert_eq!(
            part.content_type.as_deref(),
            Some(f.output_mime),
            "{}",
            f.name
        );
        let ext = expected.format().extension();
        assert_eq!(
            part.filename.as_deref(),
            Some(format!("photo.{ext}").as_str())
        );
        assert_eq!(
            req.header("authorization"),
            Some(format!("Bearer {token}").as_str())
        );
    }
    // A crop box reaches Slack as the prepared square, not as Slack's crop fields.
    let file = jpeg(&src, &JpegFixture::default());
    let r = post(
        &http,
        &svc.url("avatar"),
        &[
            image("me.jpg", &file),
            text("crop_x", "100"),
            text("crop_y", "50"),
            text("crop_w", "700"),
        ],
        Some(TOKEN),
    )
    .await;
    assert_eq!(r.status(), 200);
    let expected = avatar_prep::prepare(
        &file,
        &PrepOptions::default().fit(Fit::Crop(CropBox::new(100, 50, 700))),
    )
    .unwrap();
    assert!(emu.uploads_for(TOKEN)[0] == expected.bytes());
    assert!(emu.requests().pop().unwrap().part("crop_x").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_files_get_422_json_with_their_kind_and_never_reach_slack() {
    let emu = SlackEmulator::start().await;
    let svc = Service::start(&emu.base_url(), &[]).await;
    let http = http();
    let mut cases = hostile_files();
    let ok = jpeg(&photo(800, 600, 1), &JpegFixture::default());
    cases.push(("crop box outside the picture", ok, "invalid_crop"));
    for (what, bytes, kind) in &cases {
        let crop: Vec<Part<'_>> = if *kind == "invalid_crop" {
            vec![
                text("crop_x", "500"),
                text("crop_y", "0"),
                text("crop_w", "500"),
            ]
        } else {
            vec![]
        };
        for route in ["preview", "avatar"] {
            let mut parts = vec![image("upload.bin", bytes)];
            parts.extend(crop.iter().copied());
            let start = Instant::now();
            let r = post(&http, &svc.url(route), &parts, Some(TOKEN)).await;
            let (status, got) = error_of(r).await;
            assert_eq!((status, got.as_str()), (422, *kind), "{route}: {what}");
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "{route}: {what} took {:?}",
                start.elapsed()
            );
        }
    }
    assert!(emu.requests().is_empty(), "nothing reached Slack");
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_requests_are_400() {
    let emu = SlackEmulator::start().await;
    let svc = Service::start(&emu.base_url(), &[]).await;
    let http = http();
    let ok = jpeg(&photo(640, 640, 1), &JpegFixture::default());
    let cases: Vec<(Vec<Part<'_>>, &str)> = vec![
        (vec![text("fit", "cover")], "missing_image"),
        (
            vec![
                image("a.jpg", &ok),
                text("crop_x", "1"),
                text("crop_w", "9"),
            ],
            "invalid_crop_field",
        ),
        (
            vec![
                image("a.jpg", &ok),
                text("crop_x", "ten"),
                text("crop_y", "0"),
                text("crop_w", "9"),
            ],
            "invalid_crop_field",
        ),
        (
            vec![image("a.jpg", &ok), text("fit", "stretch")],
            "invalid_fit",
        ),
        (
            vec![image("a.jpg", &ok), image("b.jpg", &ok)],
            "duplicate_image",
        ),
    ];
    for (parts, kind) in &cases {
        let (status, got) = error_of(post(&http, &svc.url("preview"), parts, None).await).await;
        assert_eq!((status, got.as_str()), (400, *kind));
    }
    let r = http
        .post(svc.url("preview"))
        .header("content-type", "image/jpeg")
        .body(ok.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await, (400, "not_multipart".to_owned()));
    let r = http
        .post(svc.url("preview"))
        .header("content-type", "multipart/form-data; boundary=zzz")
        .body("--zzz\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\nabc")
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await, (400, "malformed_multipart".to_owned()));
    let r = http.get(svc.url("preview")).send().await.unwrap();
    assert_eq!(r.status(), 405);
}

#[tokio::test(flavor = "multi_thread")]
async fn bodies_over_the_limit_are_413_while_they_stream() {
    let emu = SlackEmulator::start().await;
    let svc = Service::start(&emu.base_url(), &[]).await;
    const MIB: usize = 1024 * 1024;
    let boundary = "b0undary";
    let part_head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"big.jpg\"\r\n\r\n"
    );
    let chunks = move |total: usize| {
        let head = part_head.clone();
        (0..total / MIB).map(move |i| {
            let mut c = vec![0xA5u8; MIB];
            if i == 0 {
                c[..head.len()].copy_from_slice(head.as_bytes());
            }
            c
        })
    };
    // 60 MiB announced by Content-Length: refused from the header, answered cleanly.
    let head = format!(
        "POST /preview HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\n\r\n",
        60 * MIB
    );
    let (answer, _) = raw_post(&svc.addr, &head, chunks(60 * MIB), false);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"error\":\"body_too_large\""), "{answer}");

    // 60 MiB chunked (no length known): counted as it arrives.
    let head = format!(
        "POST /avatar HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    let chunked = |it: Box<dyn Iterator<Item = Vec<u8>> + Send>| {
        it.map(|c| {
            let mut out = format!("{:x}\r\n", c.len()).into_bytes();
            out.extend_from_slice(&c);
            out.extend_from_slice(b"\r\n");
            out
        })
    };
    let body = chunked(Box::new(chunks(60 * MIB))).chain(std::iter::once(b"0\r\n\r\n".to_vec()));
    let (answer, _) = raw_post(&svc.addr, &head, body, false);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(emu.requests().is_empty());

    // With a 1 MiB limit, a 60 MiB chunked body never sits in memory: the peak RSS stays
    // far below 60 MiB, and the 413 comes while the client has not finished (it stalls).
    let small = Service::start(&emu.base_url(), &["--max-body-mib", "1"]).await;
    let before = small.peak_rss_kib();
    let head = format!(
        "POST /preview HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    let (answer, _) = raw_post(
        &small.addr,
        &head,
        chunked(Box::new(chunks(60 * MIB))).chain(std::iter::once(b"0\r\n\r\n".to_vec())),
        false,
    );
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    let start = Instant::now();
    let (answer, _) = raw_post(&small.addr, &head, chunked(Box::new(chunks(3 * MIB))), true);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        start.elapsed() < Duration::from_secs(15),
        "{:?}",
        start.elapsed()
    );
    let peak = small.peak_rss_kib();
    println!("1 MiB limit, 60 MiB body: peak RSS {before} KiB before, {peak} KiB after");
    assert!(peak < 40 * 1024, "peak RSS {peak} KiB");
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_are_checked_before_anything_reaches_slack() {
    let emu = SlackEmulator::start().await;
    let svc = Service::start(&emu.base_url(), &[]).await;
    let http = http();
    let ok = jpeg(&photo(640, 480, 1), &JpegFixture::default());
    let parts = [image("me.jpg", &ok)];
    for (token, status, kind) in [
        (Some("xoxb-1-2-secret"), 403, "not_allowed_token_type"),
        (Some("xapp-1-2-secret"), 403, "not_allowed_token_type"),
        (None, 401, "not_authed"),
        (Some("xoxp-1 2-secret"), 401, "invalid_auth"),
    ] {
        let r = post(&http, &svc.url("avatar"), &parts, token).await;
        assert_eq!(error_of(r).await, (status, kind.to_owned()), "{token:?}");
    }
    assert!(emu.requests().is_empty(), "no request reached Slack");

    // Slack's own auth and scope answers.
    let r = post(
        &http,
        &svc.url("avatar"),
        &parts,
        Some("xoxp-revoked-secret"),
    )
    .await;
    assert_eq!(error_of(r).await, (401, "token_revoked".to_owned()));
    emu.push(Reply::SlackError("missing_scope".into()));
    let r = post(&http, &svc.url("avatar"), &parts, Some(TOKEN)).await;
    assert_eq!(error_of(r).await, (403, "missing_scope".to_owned()));
    emu.push(Reply::SlackError("invalid_auth".into()));
    let r = post(&http, &svc.url("avatar"), &parts, Some(TOKEN)).await;
    let body = r.text().await.unwrap();
    assert!(
        body.contains("\"invalid_auth\"") && !body.contains(SECRET),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn slack_rate_limits_and_failures() {
    let emu = SlackEmulator::start().await;
    let svc = Service::start(&emu.base_url(), &["--slack-max-wait", "5"]).await;
    let http = http();
    let ok = jpeg(&photo(640, 480, 1), &JpegFixture::default());
    let parts = [image("me.jpg", &ok)];

    // A short Retry-After is waited for inside the request.
    emu.push(Reply::RateLimited(Some("1".into())));
    let start = Instant::now();
    let r = post(&http, &svc.url("avatar"), &parts, Some(TOKEN)).await;
    assert_eq!(r.status(), 200);
    assert!(start.elapsed() >= Duration::from_secs(1));
    let v = json_of(r).await;
    assert_eq!(v["attempts"], 2);
    assert_eq!(emu.uploads_for(TOKEN).len(), 1);

    // A long one is passed on: 429 with Slack's Retry-After, at once.
    emu.push(Reply::RateLimited(Some("120".into())));
    let start = Instant::now();
    let r = post(&http, &svc.url("avatar"), &parts, Some(TOKEN)).await;
    assert_eq!(header(&r, "retry-after"), "120");
    assert_eq!(error_of(r).await, (429, "ratelimited".to_owned()));
    assert!(start.elapsed() < Duration::from_secs(3));

    // A 5xx is retried; one that persists becomes 502.
    emu.push(Reply::Status(503, "<html>busy</html>".into()));
    let r = post(&http, &svc.url("avatar"), &parts, Some(TOKEN)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(emu.uploads_for(TOKEN).len(), 2);
    let before = emu.requests().len();
    for _ in 0..3 {
        emu.push(Reply::Status(500, "oops".into()));
    }
    let r = post(&http, &svc.url("avatar"), &parts, Some(TOKEN)).await;
    assert_eq!(error_of(r).await, (502, "slack_http_error".to_owned()));
    assert_eq!(
        emu.requests().len() - before,
        3,
        "the first try and 2 retries"
    );
    assert!(svc.logs().contains("retrying"), "retries are logged");

    // Slack down altogether.
    let gone = Service::start("http://127.0.0.1:9/api/", &[]).await;
    let r = post(&http, &gone.url("avatar"), &parts, Some(TOKEN)).await;
    assert_eq!(error_of(r).await, (502, "slack_unreachable".to_owned()));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_queue_is_503_with_retry_after() {
    let emu = SlackEmulator::start().await;
    let svc = Service::start(&emu.base_url(), &["--workers", "1", "--queue", "0"]).await;
    let http = http();
    // One client takes the only slot and sends its body slowly.
    let addr = svc.addr.clone();
    let slow = std::thread::spawn(move || {
        let head = "POST /preview HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000\r\n\r\n";
        let body = (0..3).map(|i| {
            std::thread::sleep(Duration::from_millis(if i == 0 { 0 } else { 1500 }));
            b"--b\r\n".to_vec()
        });
        raw_post(&addr, head, body, true)
    });
    // Until the slow client holds the slot, a request may still get through.
    let ok = jpeg(&photo(640, 480, 1), &JpegFixture::default());
    let deadline = Instant::now() + Duration::from_secs(10);
    let r = loop {
        let r = post(&http, &svc.url("preview"), &[image("a.jpg", &ok)], None).await;
        if r.status() != 200 || Instant::now() > deadline {
            break r;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(header(&r, "retry-after"), "1");
    assert_eq!(error_of(r).await, (503, "busy".to_owned()));
    drop(slow); // the slow client is left to time out; the service is dropped below
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_lets_requests_in_flight_finish() {
    let emu = SlackEmulator::start().await;
    let mut svc = Service::start(&emu.base_url(), &[]).await;
    emu.set_latency(Duration::from_millis(1500));
    let ok = jpeg(&photo(640, 480, 1), &JpegFixture::default());
    let url = svc.url("avatar");
    let request = tokio::spawn(async move {
        let http = http();
        let r = post(&http, &url, &[image("a.jpg", &ok)], Some(TOKEN)).await;
        (r.status().as_u16(), r.text().await.unwrap())
    });
    // Wait until the request is at Slack, then ask the service to stop.
    let deadline = Instant::now() + Duration::from_secs(20);
    while emu.requests().is_empty() {
        assert!(Instant::now() < deadline, "the request reached Slack");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    svc.terminate();
    let (status, body) = request.await.unwrap();
    assert_eq!(status, 200, "{body}");
    let exit = svc.wait(Duration::from_secs(10)).await;
    assert!(exit.success(), "{exit:?}");
    let logs = svc.logs();
    assert!(logs.contains("shutting down"), "{logs}");
    assert!(
        http().get(svc.url("healthz")).send().await.is_err(),
        "no longer listening"
    );
}
