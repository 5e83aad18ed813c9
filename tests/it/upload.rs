//! avatar-upload against the Slack emulator on 127.0.0.1.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use avatar_tests::slack::{Reply, SlackEmulator};
use avatar_tests::{gif, jpeg, photo, png_rgba, JpegFixture, Pixels, BLUE};
use avatar_upload::{
    Crop, Mime, Photo, RetryPolicy, SlackClient, SlackErrorCode, TransportKind, UploadError,
};

const TOKEN: &str = "xoxp-1111-2222-secret-token";

fn avatar_jpeg(side: u32) -> Vec<u8> {
    jpeg(&photo(side, side, 7), &JpegFixture::default())
}

/// A builder for the emulator, without pacing.
fn builder(emu: &SlackEmulator) -> avatar_upload::SlackClientBuilder {
    SlackClient::builder(TOKEN)
        .base_url(emu.base_url())
        .requests_per_minute(None)
}

/// A client for the emulator with fast retries and no pacing.
fn client(emu: &SlackEmulator) -> SlackClient {
    builder(emu)
        .retry(
            RetryPolicy::default()
                .backoff(Duration::from_millis(20), Duration::from_millis(100))
                .default_retry_after(Duration::from_millis(200)),
        )
        .build()
        .unwrap()
}

fn assert_no_token(text: &str) {
    assert!(!text.contains("secret-token"), "token leaked: {text}");
}

#[tokio::test]
async fn set_photo_sends_exactly_what_slack_documents() {
    let emu = SlackEmulator::start().await;
    let bytes = avatar_jpeg(600);
    let photo = Photo::new(bytes.clone())
        .unwrap()
        .filename("/home/alice/photos/me.jpg")
        .crop(Crop::new(1, 2, 300).unwrap());
    let done = client(&emu).set_photo(&photo).await.unwrap();
    assert_eq!(done.attempts, 1);
    let profile = done.profile.expect("profile");
    assert!(profile.avatar_hash.is_some());
    assert!(profile.image_1024.unwrap().contains("_1024"));

    let reqs = emu.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.target, "/api/users.setPhoto");
    assert_eq!(
        r.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("multipart/form-data; boundary="));
    let image = r.part("image").expect("image part");
    assert_eq!(image.data, bytes, "the exact bytes arrive");
    assert_eq!(
        image.filename.as_deref(),
        Some("me.jpg"),
        "a plain file name, never a path"
    );
    assert_eq!(image.content_type.as_deref(), Some("image/jpeg"));
    for (name, value) in [("crop_x", "1"), ("crop_y", "2"), ("crop_w", "300")] {
        assert_eq!(
            r.part(name).map(|p| p.data.as_slice()),
            Some(value.as_bytes()),
            "{name}"
        );
    }
    assert_eq!(r.parts.len(), 4);
    // The token travels only in the Authorization header.
    assert!(!r.target.contains("xoxp"));
    assert!(find(&r.body, TOKEN.as_bytes()).is_none());
    assert_eq!(emu.uploads_for(TOKEN), vec![bytes]);
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[tokio::test]
async fn content_type_follows_the_bytes_and_crop_is_optional() {
    let emu = SlackEmulator::start().await;
    let c = client(&emu);
    let png = png_rgba(&photo(512, 512, 1), None);
    let gif_bytes = gif(&[Pixels::from_fn(512, 512, |_, _| BLUE)], 10);
    c.set_photo(&Photo::new(png).unwrap()).await.unwrap();
    c.set_photo(&Photo::new(gif_bytes).unwrap()).await.unwrap();
    let reqs = emu.requests();
    let kinds: Vec<_> = reqs
        .iter()
        .map(|r| {
            let p = r.part("image").unwrap();
            (
                p.content_type.clone().unwrap(),
                p.filename.clone().unwrap(),
                r.parts.len(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("image/png".to_owned(), "avatar.png".to_owned(), 1),
            ("image/gif".to_owned(), "avatar.gif".to_owned(), 1)
        ]
    );
    assert!(Photo::new(b"just text".to_vec()).is_err());
    assert_eq!(
        reqs.iter()
            .map(|r| Mime::sniff(&r.part("image").unwrap().data))
            .collect::<Vec<_>>(),
        vec![Some(Mime::Png), Some(Mime::Gif)]
    );
}

#[tokio::test]
async fn rate_limit_waits_retry_after_and_resends_identical_bytes() {
    let emu = SlackEmulator::start().await;
    emu.push(Reply::RateLimited(Some("1".into())));
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let c = builder(&emu)
        .on_retry(move |e| {
            seen.lock()
                .unwrap()
                .push((e.retry, e.wait, e.error.to_string()))
        })
        .build()
        .unwrap();
    let start = Instant::now();
    let done = c
        .set_photo(&Photo::new(avatar_jpeg(512)).unwrap())
        .await
        .unwrap();
    assert_eq!(done.attempts, 2);
    let reqs = emu.requests();
    assert_eq!(reqs.len(), 2);
    assert!(
        reqs[1].at.duration_since(reqs[0].at) >= Duration::from_secs(1),
        "waited Retry-After"
    );
    assert!(start.elapsed() >= Duration::from_secs(1));
    assert_eq!(reqs[0].body, reqs[1].body, "a retry sends identical bytes");
    let events = events.lock().unwrap().clone();
    assert_eq!(events.len(), 1);
    assert_eq!((events[0].0, events[0].1), (1, Duration::from_secs(1)));
    assert_no_token(&events[0].2);
}

#[tokio::test]
async fn missing_or_bad_retry_after_uses_the_default() {
    let emu = SlackEmulator::start().await;
    emu.push(Reply::RateLimited(None));
    emu.push(Reply::RateLimited(Some("soon".into())));
    let done = client(&emu)
        .set_photo(&Photo::new(avatar_jpeg(512)).unwrap())
        .await
        .unwrap();
    assert_eq!(done.attempts, 3);
    let reqs = emu.requests();
    for pair in reqs.windows(2) {
        let gap = pair[1].at.duration_since(pair[0].at);
        assert!(
            gap >= Duration::from_millis(200) && gap < Duration::from_secs(5),
            "{gap:?}"
        );
    }
}

#[tokio::test]
async fn retries_are_bounded_by_count_and_total_wait() {
    let emu = SlackEmulator::start().await;
    for _ in 0..5 {
        emu.push(Reply::RateLimited(Some("0".into())));
    }
    let c = builder(&emu)
        .retry(RetryPolicy::default().max_retries(2))
        .build()
        .unwrap();
    let err = c
        .set_photo(&Photo::new(avatar_jpeg(512)).unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, UploadError::RateLimited { .. }), "{err:?}");
    assert_eq!(emu.requests().len(), 3, "first try + 2 retries");

    // A Retry-After beyond the total wait budget is not waited for at all.
    let emu = SlackEmulator::start().await;
    emu.push(Reply::RateLimited(Some("100".into())));
    let c = builder(&emu)
        .retry(RetryPolicy::default().max_total_wait(Duration::from_secs(5)))
        .build()
        .unwrap();
    let start = Instant::now();
    let err = c
        .set_photo(&Photo::new(avatar_jpeg(512)).unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(err, UploadError::RateLimited { retry_after } if retry_after == Duration::from_secs(100))
    );
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_eq!(emu.requests().len(), 1);
    assert!(err.is_retryable());
}

#[tokio::test]
async fn transient_failures_are_retried_caller_errors_are_not() {
    let emu = SlackEmulator::start().await;
    emu.push(Reply::Status(
        503,
        "<html><body>Service Unavailable</body></html>".into(),
    ));
    emu.push(Reply::SlackError("internal_error".into()));
    emu.push(Reply::Drop);
    let done = client(&emu)
        .set_photo(&Photo::new(avatar_jpeg(512)).unwrap())
        .await
        .unwrap();
    assert_eq!(done.attempts, 4);

    for code in [
        "bad_image",
        "too_many_frames",
        "invalid_auth",
        "missing_scope",
        "not_allowed_token_type",
    ] {
        let emu = SlackEmulator::start().await;
        emu.push(Reply::SlackError(code.into()));
        let err = client(&emu)
            .set_photo(&Photo::new(avatar_jpeg(512)).unwrap())
            .await
            .unwrap_err();
        assert_eq!(err.slack_code().map(SlackErrorCode::as_str), Some(code));
        assert!(!err.is_retryable());
        assert_eq!(emu.requests().len(), 1, "{code} is not retried");
        assert_no_token(&format!("{err} {err:?}"));
    }
}

#[tokio::test]
async fn the_emulator_judges_the_image_like_slack() {
    let emu = SlackEmulator::start().await;
    let c = client(&emu);
    // Too large.
    let err = c
        .set_photo(&Photo::new(avatar_jpeg(1200)).unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.slack_code(), Some(&SlackErrorCode::TooLarge));
    assert_eq!(
        SlackErrorCode::TooLarge.hint().map(|h| h.contains("1024")),
        Some(true)
    );
    // Broken bytes with a JPEG signature.
    let mut broken = avatar_jpeg(600);
    broken.truncate(400);
    let err = c.set_photo(&Photo::new(broken).unwrap()).await.unwrap_err();
    assert_eq!(err.slack_code(), Some(&SlackErrorCode::BadImage));
    // Unknown tokens and revoked ones.
    for (token, code) in [
        ("xoxe-unknown", "invalid_auth"),
        ("xoxp-revoked-1", "token_revoked"),
    ] {
        let c = SlackClient::builder(token)
            .base_url(emu.base_url())
            .requests_per_minute(None)
            .build()
            .unwrap();
        let err = c
            .set_photo(&Photo::new(avatar_jpeg(600)).unwrap())
            .await
            .unwrap_err();
        assert_eq!(err.slack_code().map(SlackErrorCode::as_str), Some(code));
    }
    assert!(emu.uploads_for(TOKEN).is_empty());
}

#[tokio::test]
async fn bot_tokens_are_refused_before_any_request() {
    let emu = SlackEmulator::start().await;
    let err = SlackClient::builder("xoxb-1234-bot-secret-token")
        .base_url(emu.base_url())
        .build()
        .unwrap_err();
    assert!(matches!(err, UploadError::InvalidToken { .. }), "{err:?}");
    let shown = format!("{err} {err:?}");
    assert!(
        shown.contains("xoxp"),
        "the message says what to use: {shown}"
    );
    assert_no_token(&shown);
    assert!(emu.requests().is_empty());
}

#[tokio::test]
async fn timeouts_and_dropped_connections_are_transport_errors() {
    let emu = SlackEmulator::start().await;
    emu.push(Reply::Slow(Duration::from_secs(3)));
    let c = builder(&emu)
        .timeout(Duration::from_millis(300))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let err = c
        .set_photo(&Photo::new(avatar_jpeg(512)).unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            UploadError::Transport {
                kind: TransportKind::Timeout,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_retryable());
    let shown = format!("{err:?}");
    assert!(!shown.contains("127.0.0.1"), "no URL in errors: {shown}");

    let emu = SlackEmulator::start().await;
    emu.push(Reply::Drop);
    let c = builder(&emu).retry(RetryPolicy::none()).build().unwrap();
    let err = c
        .set_photo(&Photo::new(avatar_jpeg(512)).unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, UploadError::Transport { .. }), "{err:?}");

    // Nothing listening at all.
    let c = SlackClient::builder(TOKEN)
        .base_url("http://127.0.0.1:9/api/")
        .requests_per_minute(None)
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let err = c.delete_photo().await.unwrap_err();
    assert!(
        matches!(
            err,
            UploadError::Transport {
                kind: TransportKind::Connect,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn warnings_and_delete_photo() {
    let emu = SlackEmulator::start().await;
    emu.push(Reply::Warning("superfluous_charset".into()));
    let c = client(&emu);
    let done = c
        .set_photo(&Photo::new(avatar_jpeg(512)).unwrap())
        .await
        .unwrap();
    assert_eq!(done.warnings, vec!["superfluous_charset"]);
    let deleted = c.delete_photo().await.unwrap();
    assert!(deleted.warnings.is_empty());
    let reqs = emu.requests();
    let del = &reqs[1];
    assert_eq!(
        (del.method.as_str(), del.target.as_str()),
        ("POST", "/api/users.deletePhoto")
    );
    assert_eq!(
        del.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert!(del.body.is_empty());
}

#[tokio::test]
async fn pacing_spaces_requests_across_clones() {
    let emu = SlackEmulator::start().await;
    let c = SlackClient::builder(TOKEN)
        .base_url(emu.base_url())
        .requests_per_minute(Some(600)) // one every 100 ms
        .build()
        .unwrap();
    let photo = Photo::new(avatar_jpeg(512)).unwrap();
    let (a, b) = (c.clone(), c.clone());
    let (p1, p2) = (photo.clone(), photo.clone());
    let t1 = tokio::spawn(async move { a.set_photo(&p1).await.map(|_| ()) });
    let t2 = tokio::spawn(async move { b.set_photo(&p2).await.map(|_| ()) });
    c.set_photo(&photo).await.unwrap();
    t1.await.unwrap().unwrap();
    t2.await.unwrap().unwrap();
    let mut times: Vec<Instant> = emu.requests().iter().map(|r| r.at).collect();
    times.sort();
    assert_eq!(times.len(), 3);
    // Sends are 100 ms apart; arrivals may jitter a little on a loaded machine.
    for pair in times.windows(2) {
        let gap = pair[1].duration_since(pair[0]);
        assert!(gap >= Duration::from_millis(60), "{gap:?}");
    }
    assert!(times[2].duration_since(times[0]) >= Duration::from_millis(180));
}

/// Each error's message, then its sources' messages, outermost first (also used by
/// `error_chains.rs`).
pub(crate) fn chain(e: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut out = vec![e.to_string()];
    let mut next = e.source();
    while let Some(s) = next {
        out.push(s.to_string());
        next = s.source();
    }
    out
}

#[tokio::test]
async fn error_chains_keep_their_sources_and_never_repeat_them() {
    // A dropped connection: Transport, caused by reqwest's error, caused by hyper's.
    let emu = SlackEmulator::start().await;
    emu.push(Reply::Drop);
    let err = builder(&emu)
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
        .set_photo(&Photo::new(avatar_jpeg(512)).unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, UploadError::Transport { .. }), "{err:?}");
    let msgs = chain(&err);
    assert!(msgs.len() >= 3, "the whole cause is kept: {msgs:?}");
    let reqwest_err = std::error::Error::source(&err).unwrap();
    assert!(reqwest_err.downcast_ref::<reqwest::Error>().is_some());
    for pair in msgs.windows(2) {
        assert!(!pair[0].contains(&pair[1]), "{msgs:?}");
    }
    for m in &msgs {
        assert!(
            !m.contains("127.0.0.1"),
            "no URL anywhere in the chain: {msgs:?}"
        );
        assert_no_token(m);
    }

    // A 200 that is not Slack's JSON: InvalidResponse, caused by the JSON parser's error.
    let emu = SlackEmulator::start().await;
    emu.push(Reply::Status(200, "<html>maintenance</html>".into()));
    let err = client(&emu).delete_photo().await.unwrap_err();
    match &err {
        UploadError::InvalidResponse { body, .. } => assert_eq!(body, "<html>maintenance</html>"),
        other => panic!("{other:?}"),
    }
    let msgs = chain(&err);
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert!(msgs[1].contains("expected value"), "{msgs:?}");
    assert!(!msgs[0].contains(&msgs[1]), "{msgs:?}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn with_token_reuses_the_connection_for_another_user() {
    let emu = SlackEmulator::start().await;
    let first = client(&emu);
    let second = first.with_token("xoxp-2222-other-secret-token").unwrap();
    let photo = Photo::new(avatar_jpeg(512)).unwrap();
    first.set_photo(&photo).await.unwrap();
    second.set_photo(&photo).await.unwrap();
    first.delete_photo().await.unwrap();
    let reqs = emu.requests();
    let auth: Vec<_> = reqs
        .iter()
        .map(|r| r.header("authorization").unwrap())
        .collect();
    assert_eq!(
        auth,
        [
            format!("Bearer {TOKEN}"),
            "Bearer xoxp-2222-other-secret-token".to_owned(),
            format!("Bearer {TOKEN}"),
        ]
    );
    assert!(
        reqs.iter().all(|r| r.peer == reqs[0].peer),
        "one kept-alive connection for both users: {:?}",
        reqs.iter().map(|r| r.peer).collect::<Vec<_>>()
    );
    assert_eq!(emu.uploads_for("xoxp-2222-other-secret-token").len(), 1);

    // A client built on its own has its own pool: a new connection.
    let separate = builder(&emu).build().unwrap();
    separate.delete_photo().await.unwrap();
    assert_ne!(emu.requests()[3].peer, reqs[0].peer);
}

#[tokio::test]
async fn clients_built_on_one_reqwest_client_share_its_pool() {
    let emu = SlackEmulator::start().await;
    let http = reqwest::Client::new();
    let for_user = |token: &str| {
        SlackClient::builder(token)
            .base_url(emu.base_url())
            .requests_per_minute(None)
            .http_client(http.clone())
            .build()
            .unwrap()
    };
    for_user("xoxp-a-1").delete_photo().await.unwrap();
    for_user("xoxp-b-2").delete_photo().await.unwrap();
    let reqs = emu.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        reqs[0].peer, reqs[1].peer,
        "the second user reused the connection"
    );
    assert_eq!(reqs[1].header("authorization"), Some("Bearer xoxp-b-2"));
}
