//! Load, bounded in count and time, on 127.0.0.1 only: 150 requests from 16 concurrent clients
//! for 40 users, hostile files mixed in. Every user's photo must arrive at the emulator as
//! `prepare` makes it, every hostile file must get a 4xx JSON answer with its kind, the only
//! 5xx allowed is 503 with `Retry-After` (the clients wait and retry), and the service's peak
//! RSS must stay at or under 512 MiB. Prints throughput and latency percentiles.

#![allow(clippy::unwrap_used)] // test code: a failure is the test failing.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use avatar_prep::{CropBox, Fit, PrepOptions};
use avatar_tests::slack::SlackEmulator;
use avatar_tests::{gif, jpeg, photo, png_rgba, JpegFixture, Pixels};
use common::*;

const USERS: usize = 40;
const CLIENTS: usize = 16;
const REQUESTS: usize = 150;
const HOSTILE: usize = 30;
/// The whole run must finish within this (it takes ~10–30 s on 2 cores).
const TIME_LIMIT: Duration = Duration::from_secs(240);
/// Attempts per request (the first + retries after 503).
const MAX_ATTEMPTS: u32 = 120;

enum Job {
    /// `/avatar` for user `user` with these fields.
    Avatar {
        user: usize,
        file: Arc<Vec<u8>>,
        fields: Vec<(&'static str, String)>,
    },
    /// `/preview` of a user's photo.
    Preview { file: Arc<Vec<u8>> },
    /// A hostile file, to `/preview` or `/avatar`, that must get 422 with `kind`.
    Hostile {
        route: &'static str,
        file: Arc<Vec<u8>>,
        kind: &'static str,
    },
}

fn token(user: usize) -> String {
    format!("xoxp-load-{user:02}-secret")
}

/// A different photo per user: camera-sized JPEGs, with and without EXIF orientation, RGBA
/// PNGs, still and animated GIFs, lossless WebPs.
fn user_photo(user: usize) -> Vec<u8> {
    let seed = user as u32 + 100;
    match user % 6 {
        5 => {
            let webp = FORMATS.iter().find(|f| f.name == "WebP").unwrap();
            (webp.encode)(&photo(800, 600, seed))
        }
        0 => jpeg(&photo(1600, 1200, seed), &JpegFixture::default()),
        1 => png_rgba(&photo(900, 700, seed), None),
        2 => jpeg(
            &photo(1200, 900, seed),
            &JpegFixture {
                orientation: Some(6),
                ..JpegFixture::default()
            },
        ),
        3 => gif(&[photo(500, 400, seed)], 0),
        _ => {
            let frames: Vec<Pixels> = (0..4).map(|i| photo(240, 160, seed + i)).collect();
            gif(&frames, 10)
        }
    }
}

fn options_for(fields: &[(&'static str, String)]) -> PrepOptions {
    let get = |n: &str| fields.iter().find(|(k, _)| *k == n).map(|(_, v)| v.clone());
    let fit = match (get("crop_x"), get("crop_y"), get("crop_w"), get("fit")) {
        (Some(x), Some(y), Some(w), _) => Fit::Crop(CropBox::new(
            x.parse().unwrap(),
            y.parse().unwrap(),
            w.parse().unwrap(),
        )),
        (_, _, _, Some(f)) if f == "cover" => Fit::CenterCrop,
        _ => Fit::default(),
    };
    PrepOptions::default().fit(fit)
}

#[derive(Default)]
struct Tally {
    /// First try to final answer, waits after 503 included.
    latencies: Vec<Duration>,
    /// The final (admitted) attempt alone: the service's own time.
    service: Vec<Duration>,
    busy: usize,
    statuses: HashMap<u16, usize>,
}

#[tokio::test(flavor = "multi_thread")]
async fn load_150_requests_16_clients_40_users_with_hostile_files() {
    let emu = SlackEmulator::start().await;
    // Default pool and queue (cores, 2 × cores); pacing high enough not to dominate.
    let svc = Service::start(&emu.base_url(), &["--slack-rate", "6000"]).await;

    // The jobs: per user two /avatar (different fields) and one /preview; then hostile files.
    let photos: Vec<Arc<Vec<u8>>> = (0..USERS).map(|u| Arc::new(user_photo(u))).collect();
    let mut jobs: Vec<Job> = Vec::new();
    for (u, file) in photos.iter().enumerate() {
        jobs.push(Job::Avatar {
            user: u,
            file: file.clone(),
            fields: vec![],
        });
        let second = if u % 2 == 0 {
            vec![("fit", "cover".to_owned())]
        } else {
            vec![
                ("crop_x", "10".to_owned()),
                ("crop_y", "5".to_owned()),
                ("crop_w", "150".to_owned()),
            ]
        };
        jobs.push(Job::Avatar {
            user: u,
            file: file.clone(),
            fields: second,
        });
        jobs.push(Job::Preview { file: file.clone() });
    }
    let hostile = hostile_files();
    for i in 0..HOSTILE {
        let (_, bytes, kind) = &hostile[i % hostile.len()];
        jobs.push(Job::Hostile {
            route: if i % 2 == 0 { "preview" } else { "avatar" },
            file: Arc::new(bytes.clone()),
            kind,
        });
    }
    assert_eq!(jobs.len(), REQUESTS);
    let mut rng = fastrand::Rng::with_seed(14);
    rng.shuffle(&mut jobs);

    // What must reach Slack, per user: the bytes prepare() gives for each /avatar job.
    let mut expected: HashMap<String, Vec<Vec<u8>>> = HashMap::new();
    for job in &jobs {
        if let Job::Avatar { user, file, fields } = job {
            let img = avatar_prep::prepare(file, &options_for(fields)).unwrap();
            expected
                .entry(token(*user))
                .or_default()
                .push(img.into_bytes());
        }
    }

    let jobs = Arc::new(jobs);
    let next = Arc::new(AtomicUsize::new(0));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let http = http();
    let started = Instant::now();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (jobs, next, tally, http) =
                (jobs.clone(), next.clone(), tally.clone(), http.clone());
            let base = svc.base.clone();
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(i) else { break };
                    run_job(&http, &base, job, &tally).await;
                }
            })
        })
        .collect();
    let all = futures_join(clients);
    tokio::time::timeout(TIME_LIMIT, all)
        .await
        .expect("the load run finishes in time");
    let wall = started.elapsed();

    // Every user's photos arrived, exactly as prepare() makes them, once per request.
    for (tok, mut want) in expected {
        let mut got = emu.uploads_for(&tok);
        assert_eq!(got.len(), want.len(), "{tok}: uploads");
        got.sort();
        want.sort();
        assert!(
            got == want,
            "{tok}: the uploaded bytes are the prepared ones"
        );
    }
    let hostile_reached = emu
        .requests()
        .iter()
        .filter(|r| r.header("authorization") == Some("Bearer xoxp-hostile-secret"))
        .count();
    assert_eq!(hostile_reached, 0, "no hostile file reached Slack");

    let peak_kib = svc.peak_rss_kib();
    let t = tally.lock().unwrap();
    let pct = |v: &[Duration], p: f64| {
        let mut v = v.to_vec();
        v.sort();
        v[((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1].as_millis()
    };
    let lat = &t.latencies;
    let mut statuses: Vec<_> = t.statuses.iter().collect();
    statuses.sort();
    println!(
        "load: {REQUESTS} requests, {CLIENTS} clients, {USERS} users, {HOSTILE} hostile: \
         {:.1} s, {:.1} requests/s; latency (first try to final answer, 503 waits included) \
         p50 {} ms, p95 {} ms, max {} ms; final attempt alone p50 {} ms, p95 {} ms; \
         {} answers 503 (retried); statuses {statuses:?}; service peak RSS (VmHWM) {:.1} MiB",
        wall.as_secs_f64(),
        REQUESTS as f64 / wall.as_secs_f64(),
        pct(lat, 0.50),
        pct(lat, 0.95),
        pct(lat, 1.0),
        pct(&t.service, 0.50),
        pct(&t.service, 0.95),
        t.busy,
        peak_kib as f64 / 1024.0,
    );
    assert_eq!(lat.len(), REQUESTS);
    assert!(peak_kib <= 512 * 1024, "peak RSS {peak_kib} KiB");
}

async fn futures_join(handles: Vec<tokio::task::JoinHandle<()>>) {
    for h in handles {
        h.await.unwrap();
    }
}

async fn run_job(http: &reqwest::Client, base: &str, job: &Job, tally: &Mutex<Tally>) {
    let (route, file, fields, token_value) = match job {
        Job::Avatar { user, file, fields } => ("avatar", file, fields.clone(), Some(token(*user))),
        Job::Preview { file } => ("preview", file, vec![], None),
        Job::Hostile { route, file, .. } => {
            (*route, file, vec![], Some("xoxp-hostile-secret".into()))
        }
    };
    let mut parts: Vec<Part<'_>> = fields.iter().map(|(k, v)| text(k, v)).collect();
    parts.push(image("upload.bin", file));
    let url = format!("{base}{route}");
    let start = Instant::now();
    let mut attempts = 0;
    let mut attempt_start;
    let resp = loop {
        attempts += 1;
        assert!(
            attempts <= MAX_ATTEMPTS,
            "{route}: still busy after {MAX_ATTEMPTS} tries"
        );
        attempt_start = Instant::now();
        let r = post(http, &url, &parts, token_value.as_deref()).await;
        let status = r.status().as_u16();
        *tally.lock().unwrap().statuses.entry(status).or_default() += 1;
        if status == 503 {
            let wait: u64 = r
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok())
                .expect("503 comes with Retry-After");
            assert_eq!(error_of(r).await.1, "busy");
            tally.lock().unwrap().busy += 1;
            tokio::time::sleep(Duration::from_secs(wait)).await;
            continue;
        }
        break r;
    };
    let status = resp.status().as_u16();
    match job {
        Job::Avatar { .. } => {
            let v = json_of(resp).await;
            assert_eq!(
                (status, &v["ok"]),
                (200, &serde_json::Value::Bool(true)),
                "{v}"
            );
        }
        Job::Preview { .. } => {
            assert_eq!(status, 200);
            let side: u32 = resp.headers()["x-avatar-side"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            let body = resp.bytes().await.unwrap();
            let (w, h) = avatar_tests::try_dimensions(&body).expect("a valid image");
            assert_eq!((w, h), (side, side));
        }
        Job::Hostile { kind, .. } => {
            let (status, got) = error_of(resp).await;
            assert!((400..500).contains(&status), "{status} {got}");
            assert_eq!(got, *kind);
        }
    }
    let mut t = tally.lock().unwrap();
    t.latencies.push(start.elapsed());
    t.service.push(attempt_start.elapsed());
}
