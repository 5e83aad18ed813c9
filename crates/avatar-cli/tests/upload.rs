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

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_checks_every_row_and_sends_nothing() {
    let emu = SlackEmulator::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write_photo(dir, "good.jpg", 900, 700, 1);
    write_photo(dir, "env.jpg", 600, 600, 2);
    std::fs::write(dir.join("bad.jpg"), b"\xff\xd8\xff\xe0 not really").unwrap();
    let csv = "image,token\n\
               good.jpg,xoxp-good-secret-token\n\
               env.jpg,env:ROW_TOKEN\n\
               bad.jpg,xoxp-bad-secret-token\n\
               good.jpg,xoxb-bot-secret-token\n\
               good.jpg,env:NOT_SET_ANYWHERE\n\
               missing.jpg,xoxp-missing-secret-token\n";
    let manifest = dir.join("team.csv");
    std::fs::write(&manifest, csv).unwrap();
    let journal = dir.join("team.journal");

    let mut c = cmd(&emu, None);
    c.env("ROW_TOKEN", "xoxp-envuser-secret-token").args([
        "upload",
        "--manifest",
        manifest.to_str().unwrap(),
        "--journal",
        journal.to_str().unwrap(),
        "--dry-run",
    ]);
    let (code, out) = run(c).await;
    assert_eq!(code, 1, "some rows cannot be sent: {out}");
    let line = |n: usize| {
        out.lines()
            .find(|l| l.starts_with(&format!("line {n} ")))
            .unwrap_or_else(|| panic!("no line {n}: {out}"))
            .to_owned()
    };
    assert!(line(2).contains("good.jpg: ready: JPEG 900x900"), "{out}");
    assert!(line(3).contains("env.jpg: ready: JPEG 600x600"), "{out}");
    assert!(
        line(4).contains("bad.jpg: truncated") || line(4).contains("bad.jpg: corrupt"),
        "{out}"
    );
    assert!(
        line(5).contains("invalid_token: invalid token: a bot token"),
        "{out}"
    );
    assert!(
        line(6).contains("invalid_token: environment variable NOT_SET_ANYWHERE is not set"),
        "{out}"
    );
    assert!(line(7).contains("missing.jpg: io:"), "{out}");
    assert!(
        out.contains("dry run: 2 ready, 4 failed, 0 skipped (already done); nothing was sent"),
        "{out}"
    );
    assert!(emu.requests().is_empty(), "a dry run sends nothing");
    assert!(!journal.exists(), "a dry run writes no journal");

    // Without --journal, and all rows good: exit 0, still nothing sent.
    std::fs::write(&manifest, "good.jpg,xoxp-good-secret-token\n").unwrap();
    let mut c = cmd(&emu, None);
    c.args([
        "upload",
        "--manifest",
        manifest.to_str().unwrap(),
        "--dry-run",
    ]);
    let (code, out) = run(c).await;
    assert_eq!(code, 0, "{out}");
    assert!(emu.requests().is_empty());

    // Without --dry-run the journal is required (a usage error).
    let mut c = cmd(&emu, None);
    c.args(["upload", "--manifest", manifest.to_str().unwrap()]);
    let (code, out) = run(c).await;
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("--journal"), "{out}");
    assert!(emu.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_of_one_image_checks_size_crop_and_token() {
    let emu = SlackEmulator::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let big = write_photo(tmp.path(), "big.jpg", 1200, 800, 4);
    let small = write_photo(tmp.path(), "small.jpg", 800, 600, 5);
    let case = |args: &[&str], token: &str| {
        let mut c = cmd(&emu, Some(token));
        c.arg("upload").args(args).arg("--dry-run");
        c
    };
    // Prepared: ready, exit 0.
    let (code, out) = run(case(&[big.to_str().unwrap()], TOKEN)).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("big.jpg: ready: JPEG 1024x1024"), "{out}");
    assert!(out.contains("nothing sent (dry run)"), "{out}");
    // As it is: too large for Slack.
    let (code, out) = run(case(&[big.to_str().unwrap(), "--no-prepare"], TOKEN)).await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("big.jpg: too_large: 1200x800"), "{out}");
    // As it is, with a crop box outside the image.
    let (code, out) = run(case(
        &[
            small.to_str().unwrap(),
            "--no-prepare",
            "--crop",
            "300,0,600",
        ],
        TOKEN,
    ))
    .await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("small.jpg: invalid_crop:"), "{out}");
    // As it is, valid: ready.
    let (code, out) = run(case(
        &[
            small.to_str().unwrap(),
            "--no-prepare",
            "--crop",
            "100,0,600",
        ],
        TOKEN,
    ))
    .await;
    assert_eq!(code, 0, "{out}");
    // A bot token is refused by the dry run too.
    let (code, out) = run(case(&[small.to_str().unwrap()], "xoxb-9-bot-secret-token")).await;
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("bot token"), "{out}");
    assert!(emu.requests().is_empty(), "no dry run sends anything");
}

#[tokio::test(flavor = "multi_thread")]
async fn token_file_is_read_and_never_printed() {
    let emu = SlackEmulator::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let img = write_photo(tmp.path(), "me.jpg", 700, 700, 6);
    let token_file = tmp.path().join("slack-token");
    std::fs::write(&token_file, format!("  {TOKEN}\n")).unwrap();

    let mut c = cmd(&emu, None);
    c.args([
        "upload",
        img.to_str().unwrap(),
        "--token-file",
        token_file.to_str().unwrap(),
    ]);
    let (code, out) = run(c).await;
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        emu.requests()[0].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str()),
        "the file's token, whitespace trimmed"
    );

    // `delete` takes it too, and it wins over no environment at all.
    let mut c = cmd(&emu, None);
    c.args(["delete", "--token-file", token_file.to_str().unwrap()]);
    let (code, out) = run(c).await;
    assert_eq!(code, 0, "{out}");
    assert_eq!(emu.requests().len(), 2);

    // Empty, missing and bot-token files are usage errors naming the file, never the token.
    let empty = tmp.path().join("empty-token");
    std::fs::write(&empty, "\n").unwrap();
    let bot = tmp.path().join("bot-token");
    std::fs::write(&bot, "xoxb-7-bot-secret-token").unwrap();
    let missing = tmp.path().join("no-such-token");
    for (file, says) in [
        (&empty, "the file is empty"),
        (&missing, "cannot read it"),
        (&bot, "bot token"),
    ] {
        let mut c = cmd(&emu, Some(TOKEN));
        c.args([
            "upload",
            img.to_str().unwrap(),
            "--token-file",
            file.to_str().unwrap(),
        ]);
        let (code, out) = run(c).await;
        assert_eq!(code, 2, "{out}");
        assert!(out.contains(says), "{out}");
        if file != &bot {
            assert!(out.contains(file.to_str().unwrap()), "{out}");
        }
    }
    // --token-file and --token-env together are a usage error.
    let mut c = cmd(&emu, Some(TOKEN));
    c.args([
        "delete",
        "--token-env",
        "SLACK_TOKEN",
        "--token-file",
        token_file.to_str().unwrap(),
    ]);
    let (code, out) = run(c).await;
    assert_eq!(code, 2, "{out}");
    assert_eq!(emu.requests().len(), 2, "no request from the failed runs");
}

#[tokio::test(flavor = "multi_thread")]
async fn manifest_rows_share_one_client_and_connection() {
    let emu = SlackEmulator::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut csv = String::new();
    for i in 0..4 {
        write_photo(dir, &format!("u{i}.jpg"), 600, 600, 20 + i);
        csv.push_str(&format!("u{i}.jpg,xoxp-pool{i}-secret-token\n"));
    }
    let manifest = dir.join("team.csv");
    std::fs::write(&manifest, csv).unwrap();
    let journal = dir.join("team.journal");
    let mut c = cmd(&emu, None);
    c.args([
        "upload",
        "--manifest",
        manifest.to_str().unwrap(),
        "--journal",
        journal.to_str().unwrap(),
        "--rate",
        "6000",
    ]);
    let (code, out) = run(c).await;
    assert_eq!(code, 0, "{out}");
    let reqs = emu.requests();
    assert_eq!(reqs.len(), 4);
    let mut tokens: Vec<&str> = reqs
        .iter()
        .map(|r| r.header("authorization").unwrap())
        .collect();
    tokens.sort_unstable();
    assert_eq!(
        tokens,
        (0..4)
            .map(|i| format!("Bearer xoxp-pool{i}-secret-token"))
            .collect::<Vec<_>>()
    );
    assert!(
        reqs.iter().all(|r| r.peer == reqs[0].peer),
        "every row over one kept-alive connection: {:?}",
        reqs.iter().map(|r| r.peer).collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn no_prepare_refuses_what_slack_would_refuse_before_sending() {
    let emu = SlackEmulator::start().await;
    let tmp = tempfile::tempdir().unwrap();
    // A BMP: avatar-prep reads it, Slack does not take it as it is.
    let bmp = tmp.path().join("me.bmp");
    let mut file = b"BM".to_vec();
    file.extend_from_slice(&[0; 60]);
    std::fs::write(&bmp, &file).unwrap();
    for dry in [false, true] {
        let mut c = cmd(&emu, Some(TOKEN));
        c.args(["upload", bmp.to_str().unwrap(), "--no-prepare"]);
        if dry {
            c.arg("--dry-run");
        }
        let (code, out) = run(c).await;
        assert_eq!(code, 1, "{out}");
        assert!(
            out.contains("me.bmp: unsupported_format: Slack would refuse it as it is"),
            "{out}"
        );
    }
    assert!(emu.requests().is_empty());
}
