//! `avatar upload` / `avatar delete` against the Slack emulator on 127.0.0.1.

#![allow(clippy::unwrap_used)] // test helpers: a failure is the test failing.

use std::path::Path;
use std::time::Duration;

use avatar_tests::slack::{Reply, SlackEmulator};
use avatar_tests::{decode, jpeg, photo, JpegFixture};
use tokio::process::Command;

const TOKEN: &str = "xoxp-42-cli-secret-token";

fn cmd(emu: &SlackEmulator, token: Option<&str>) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_avatar"));
    c.env("SLACK_API_URL", emu.base_url())
        .env_remove("SLACK_TOKEN");
    if let Some(t) = token {
        c.env("SLACK_TOKEN", t);
    }
    c.kill_on_drop(true);
    c
}

async fn run(mut c: Command) -> (i32, String) {
    let out = c.output().await.unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!text.contains("secret-token"), "token printed: {text}");
    (out.status.code().unwrap_or(-1), text)
}

fn write_photo(dir: &Path, name: &str, w: u32, h: u32, seed: u32) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, jpeg(&photo(w, h, seed), &JpegFixture::default())).unwrap();
    p
}

#[tokio::test(flavor = "multi_thread")]
async fn upload_prepares_then_sets_the_photo() {
    let emu = SlackEmulator::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let img = write_photo(tmp.path(), "big photo.jpg", 2400, 1600, 1);
    let mut c = cmd(&emu, Some(TOKEN));
    c.args(["upload", img.to_str().unwrap()]);
    let (code, out) = run(c).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("photo set: avatar_hash "), "{out}");
    let uploads = emu.uploads_for(TOKEN);
    assert_eq!(uploads.len(), 1);
    let px = decode(&uploads[0]);
    assert_eq!(
        (px.width, px.height),
        (1024, 1024),
        "prepared before sending"
    );
    let req = &emu.requests()[0];
    assert_eq!(
        req.part("image").unwrap().filename.as_deref(),
        Some("big photo.jpg")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn no_prepare_sends_the_file_as_it_is_with_slack_crop() {
    let emu = SlackEmulator::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let img = write_photo(tmp.path(), "me.jpg", 800, 600, 2);
    let mut c = cmd(&emu, Some(TOKEN));
    c.args([
        "upload",
        img.to_str().unwrap(),
        "--no-prepare",
        "--crop",
        "10,20,500",
    ]);
    let (code, out) = run(c).await;
    assert_eq!(code, 0, "{out}");
    let req = &emu.requests()[0];
    assert_eq!(
        req.part("image").unwrap().data,
        std::fs::read(&img).unwrap()
    );
    assert_eq!(req.part("crop_w").unwrap().data, b"500");
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_come_with_hints_and_exit_one() {
    let emu = SlackEmulator::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let img = write_photo(tmp.path(), "me.jpg", 600, 600, 3);

    // A bot token is refused before any request.
    let mut c = cmd(&emu, Some("xoxb-1-bot-secret-token"));
    c.args(["upload", img.to_str().unwrap()]);
    let (code, out) = run(c).await;
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("xoxp"), "{out}");
    assert!(emu.requests().is_empty());

    // Slack's own refusal, with the hint.
    emu.push(Reply::SlackError("not_allowed_token_type".into()));
    let mut c = cmd(&emu, Some(TOKEN));
    c.args(["upload", img.to_str().unwrap()]);
    let (code, out) = run(c).await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(
            "not_allowed_token_type: use a user token (xoxp-) with the users.profile:write scope"
        ),
        "{out}"
    );

    // No token at all.
    let mut c = cmd(&emu, None);
    c.args(["upload", img.to_str().unwrap()]);
    let (code, out) = run(c).await;
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("SLACK_TOKEN"), "{out}");

    // A broken image never reaches Slack.
    let broken = tmp.path().join("broken.jpg");
    std::fs::write(&broken, &std::fs::read(&img).unwrap()[..300]).unwrap();
    let before = emu.requests().len();
    let mut c = cmd(&emu, Some(TOKEN));
    c.args(["upload", broken.to_str().unwrap()]);
    let (code, out) = run(c).await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("broken.jpg: truncated:"), "{out}");
    assert_eq!(emu.requests().len(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_calls_users_delete_photo() {
    let emu = SlackEmulator::start().await;
    let mut c = cmd(&emu, None);
    c.env("MY_TOKEN", TOKEN)
        .args(["delete", "--token-env", "MY_TOKEN"]);
    let (code, out) = run(c).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("photo deleted"));
    let req = &emu.requests()[0];
    assert_eq!(req.target, "/api/users.deletePhoto");
    assert_eq!(
        req.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
}

fn journal_ok_lines(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("\"status\":\"ok\""))
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn manifest_batch_survives_a_kill_and_uploads_each_row_once() {
    let emu = SlackEmulator::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut csv = String::from("image,token\n");
    for i in 0..6 {
        write_photo(dir, &format!("p{i}.jpg"), 700, 500, i);
        csv.push_str(&format!("p{i}.jpg,xoxp-user{i}-secret-token\n"));
    }
    // One row reads its token from the environment, one has a broken image.
    write_photo(dir, "env.jpg", 600, 600, 9);
    csv.push_str("env.jpg,env:ROW_TOKEN\n");
    std::fs::write(dir.join("bad.jpg"), b"\xff\xd8\xff\xe0 not really").unwrap();
    csv.push_str("bad.jpg,xoxp-bad-secret-token\n");
    let manifest = dir.join("team.csv");
    std::fs::write(&manifest, csv).unwrap();
    let journal = dir.join("team.journal");

    let batch = |emu: &SlackEmulator| {
        let mut c = cmd(emu, None);
        c.env("ROW_TOKEN", "xoxp-envuser-secret-token").args([
            "upload",
            "--manifest",
            manifest.to_str().unwrap(),
            "--journal",
            journal.to_str().unwrap(),
            "--rate",
            "6000",
        ]);
        c
    };

    // First run: Slack accepts two uploads and then holds the third request; the batch is
    // killed (SIGKILL) while that request is in flight, and Slack never processes it.
    emu.hold_uploads_after(2);
    let mut child = batch(&emu)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while emu.held() == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the batch made no progress"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill().await.unwrap();
    emu.discard_held();
    let after_kill = journal_ok_lines(&journal);
    assert_eq!(
        after_kill, 2,
        "both accepted uploads were journaled before the third was sent"
    );

    // Second run finishes the rest.
    let (code, out) = run(batch(&emu)).await;
    assert_eq!(code, 1, "the bad row fails: {out}");
    assert!(out.contains(&format!("{after_kill} skipped")), "{out}");
    assert!(
        out.contains("bad.jpg: not_an_image")
            || out.contains("bad.jpg: truncated")
            || out.contains("bad.jpg: corrupt"),
        "{out}"
    );

    // Every good row uploaded exactly once, for its own token.
    let counts = emu.upload_counts();
    let mut expected: Vec<String> = (0..6)
        .map(|i| format!("xoxp-user{i}-secret-token"))
        .collect();
    expected.push("xoxp-envuser-secret-token".into());
    for t in &expected {
        assert_eq!(counts.get(t), Some(&1), "{t}: {counts:?}");
    }
    assert_eq!(counts.len(), 7);
    assert_eq!(journal_ok_lines(&journal), 7);
    let journal_text = std::fs::read_to_string(&journal).unwrap();
    assert!(
        !journal_text.contains("secret-token"),
        "the journal holds no token"
    );

    // A third run has nothing left but the failed row.
    let (code, out) = run(batch(&emu)).await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("7 skipped"), "{out}");
    assert_eq!(emu.upload_counts().values().sum::<usize>(), 7);
}
