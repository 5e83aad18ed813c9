//! Helpers shared by the service's test binaries: start the `avatar-service` binary, build
//! multipart bodies, hostile files, read the service's memory high-water mark.

#![allow(dead_code, clippy::unwrap_used)] // each binary uses a part; a failure is the test failing.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use avatar_tests::{
    corner_markers, gif, jpeg, jpeg_claiming, photo, png_header_only, png_rgba, JpegFixture, Pixels,
};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};

/// Every token in these tests contains this, so a leak into the logs is easy to find.
pub const SECRET: &str = "secret";

/// A running `avatar-service`.
pub struct Service {
    /// The base URL it printed (`http://127.0.0.1:PORT/`).
    pub base: String,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    child: Child,
    stderr: Arc<Mutex<String>>,
}

impl Service {
    /// Starts the binary against `slack` (the emulator's base URL) with extra flags, and
    /// reads the first line of its stdout.
    pub async fn start(slack: &str, args: &[&str]) -> Service {
        // No pacing unless the test asks for it.
        let pacing: &[&str] = if args.contains(&"--slack-rate") {
            &[]
        } else {
            &["--slack-rate", "0"]
        };
        let mut child = Command::new(env!("CARGO_BIN_EXE_avatar-service"))
            .args(["--listen", "127.0.0.1:0"])
            .args(pacing)
            .args(args)
            .env("SLACK_API_URL", slack)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start avatar-service");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .expect("the service prints its URL within 20 s")
            .unwrap();
        let Some(first) = first else {
            let mut err = String::new();
            let _ = child.stderr.take().unwrap().read_to_string(&mut err).await;
            panic!("the service printed no URL: {err}");
        };
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        let mut err = child.stderr.take().unwrap();
        tokio::spawn(async move {
            let mut buf = [0u8; 8192];
            while let Ok(n) = err.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let addr = first
            .strip_prefix("http://")
            .and_then(|s| s.strip_suffix('/'))
            .unwrap_or_else(|| panic!("first line is the base URL: {first:?}"))
            .to_owned();
        Service {
            base: first,
            addr,
            child,
            stderr,
        }
    }

    /// `base` + `path` (no leading slash).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id().expect("still running")
    }

    /// What it logged so far.
    pub fn logs(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Peak resident memory in KiB (`VmHWM` of `/proc/<pid>/status`).
    pub fn peak_rss_kib(&self) -> u64 {
        proc_status_kib(self.pid(), "VmHWM:")
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let ok = std::process::Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -TERM");
    }

    /// Waits for the process to exit.
    pub async fn wait(&mut self, limit: Duration) -> std::process::ExitStatus {
        tokio::time::timeout(limit, self.child.wait())
            .await
            .expect("the service exits in time")
            .unwrap()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let logs = self.logs();
            assert!(!logs.contains(SECRET), "a token reached the logs:\n{logs}");
        }
    }
}

/// A value from `/proc/<pid>/status`, in KiB.
pub fn proc_status_kib(pid: u32, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{key} in /proc/{pid}/status"))
}

/// One part of a multipart body.
#[derive(Debug, Clone, Copy)]
pub struct Part<'a> {
    /// The part's name.
    pub name: &'a str,
    /// A file name (makes it a file part).
    pub filename: Option<&'a str>,
    /// The bytes.
    pub data: &'a [u8],
}

/// A text field.
pub fn text<'a>(name: &'a str, value: &'a str) -> Part<'a> {
    Part {
        name,
        filename: None,
        data: value.as_bytes(),
    }
}

/// The `image` part.
pub fn image<'a>(filename: &'a str, data: &'a [u8]) -> Part<'a> {
    Part {
        name: "image",
        filename: Some(filename),
        data,
    }
}

/// A multipart/form-data body and its Content-Type.
pub fn multipart(parts: &[Part<'_>]) -> (String, Vec<u8>) {
    let boundary = "----avatar-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for p in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match p.filename {
            Some(f) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n",
                    p.name
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{}\"\r\n\r\n", p.name).as_bytes(),
            ),
        }
        body.extend_from_slice(p.data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// An HTTP client for the tests (no proxy, generous timeout).
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap()
}

/// POSTs a form to `url`, with a bearer token if given.
pub async fn post(
    client: &reqwest::Client,
    url: &str,
    parts: &[Part<'_>],
    token: Option<&str>,
) -> reqwest::Response {
    let (ct, body) = multipart(parts);
    let mut req = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, ct)
        .body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap()
}

/// Reads an error answer: asserts it is JSON `{"ok":false,"error":…,"message":…}` and gives
/// `(status, error kind)`.
pub async fn error_of(resp: reqwest::Response) -> (u16, String) {
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = resp.text().await.unwrap();
    assert!(ct.starts_with("application/json"), "{status}: {ct}: {text}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["ok"], false, "{text}");
    assert!(
        v["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{text}"
    );
    (status, v["error"].as_str().unwrap().to_owned())
}

/// An input format the library takes, and how the tests make a file of it.
pub struct Format {
    /// Name for messages.
    pub name: &'static str,
    /// File name to send.
    pub filename: &'static str,
    /// Encodes upright pixels.
    pub encode: fn(&Pixels) -> Vec<u8>,
    /// The MIME type the service answers with.
    pub output_mime: &'static str,
    /// Largest colour error expected at a marker (lossy formats, GIF palettes).
    pub tolerance: u8,
}

fn enc_jpeg(p: &Pixels) -> Vec<u8> {
    jpeg(p, &JpegFixture::default())
}
fn enc_png(p: &Pixels) -> Vec<u8> {
    png_rgba(p, None)
}
fn enc_gif(p: &Pixels) -> Vec<u8> {
    gif(std::slice::from_ref(p), 0)
}
fn enc_image(p: &Pixels, format: image::ImageFormat) -> Vec<u8> {
    let img = image::RgbaImage::from_raw(p.width, p.height, p.rgba.clone()).unwrap();
    let mut out = std::io::Cursor::new(Vec::new());
    let img = if format == image::ImageFormat::Bmp || format == image::ImageFormat::Tiff {
        image::DynamicImage::ImageRgb8(image::DynamicImage::ImageRgba8(img).to_rgb8())
    } else {
        image::DynamicImage::ImageRgba8(img)
    };
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}
fn enc_webp(p: &Pixels) -> Vec<u8> {
    enc_image(p, image::ImageFormat::WebP)
}
fn enc_bmp(p: &Pixels) -> Vec<u8> {
    enc_image(p, image::ImageFormat::Bmp)
}
fn enc_tiff(p: &Pixels) -> Vec<u8> {
    enc_image(p, image::ImageFormat::Tiff)
}

/// Every input format, with a good photo of each. Adding a format the library learns to
/// read (WebP, BMP, TIFF, AVIF…) is one line here with its encoder.
pub const FORMATS: &[Format] = &[
    Format {
        name: "JPEG",
        filename: "photo.jpg",
        encode: enc_jpeg,
        output_mime: "image/jpeg",
        tolerance: 40,
    },
    Format {
        name: "PNG",
        filename: "photo.png",
        encode: enc_png,
        output_mime: "image/png",
        tolerance: 24,
    },
    Format {
        name: "GIF",
        filename: "photo.gif",
        encode: enc_gif,
        output_mime: "image/gif",
        tolerance: 48,
    },
    Format {
        name: "WebP",
        filename: "photo.webp",
        encode: enc_webp,
        output_mime: "image/png",
        tolerance: 24,
    },
    Format {
        name: "BMP",
        filename: "photo.bmp",
        encode: enc_bmp,
        output_mime: "image/png",
        tolerance: 24,
    },
    Format {
        name: "TIFF",
        filename: "photo.tif",
        encode: enc_tiff,
        output_mime: "image/png",
        tolerance: 24,
    },
];

/// Hostile or broken files, each with the error kind the service must answer with (422).
pub fn hostile_files() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let jpg = jpeg(&photo(400, 300, 2), &JpegFixture::default());
    let png = png_rgba(&photo(400, 300, 2), None);
    vec![
        (
            "text",
            b"Dear user, this is not a photo.\n".to_vec(),
            "not_an_image",
        ),
        ("empty", Vec::new(), "empty"),
        (
            "png header bomb 100000x100000",
            png_header_only(100_000, 100_000),
            "dimensions_too_large",
        ),
        (
            "png header bomb 30000x30000",
            png_header_only(30_000, 30_000),
            "too_many_pixels",
        ),
        (
            "jpeg header bomb 30000x30000",
            jpeg_claiming(30_000, 30_000),
            "too_many_pixels",
        ),
        (
            "truncated jpeg",
            jpg[..jpg.len() * 6 / 10].to_vec(),
            "truncated",
        ),
        (
            "truncated png",
            png[..png.len() * 6 / 10].to_vec(),
            "truncated",
        ),
        (
            "progressive jpeg with 5000 scans",
            avatar_tests::progressive_scan_bomb(1024, 5000),
            "too_many_scans",
        ),
        (
            "animated webp with 5000 frames",
            avatar_tests::webp_animation(
                64,
                64,
                5000,
                40,
                &Pixels::from_fn(1, 1, |_, _| [0, 0, 255, 255]),
            ),
            "too_many_frames",
        ),
        (
            "bmp header bomb 60000x60000",
            avatar_tests::bmp_claiming(60_000, 60_000),
            "dimensions_too_large",
        ),
        (
            "tiff header bomb 30000x30000",
            avatar_tests::tiff_claiming(30_000, 30_000),
            "too_many_pixels",
        ),
    ]
}

/// A 900 × 600 image with a red block in its top-left corner (see `corner_markers`).
pub fn markers() -> Pixels {
    corner_markers(900, 600)
}

/// Writes an HTTP/1.1 request head and as much body as `body_chunks` yields, on a plain TCP
/// connection, while another thread reads the answer: what a real client does. Gives the
/// answer (head and body) and whether the body was fully sent.
pub fn raw_post(
    addr: &str,
    head: &str,
    body_chunks: impl Iterator<Item = Vec<u8>> + Send + 'static,
    stall_after: bool,
) -> (String, bool) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut reader = stream.try_clone().unwrap();
    let answer = std::thread::spawn(move || {
        // The head, then Content-Length bytes of body.
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let complete = got.windows(4).position(|w| w == b"\r\n\r\n").map(|end| {
                let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                got.len() >= end + 4 + len
            });
            if complete == Some(true) {
                break;
            }
            match reader.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
        String::from_utf8_lossy(&got).into_owned()
    });
    stream.write_all(head.as_bytes()).unwrap();
    let mut sent_all = true;
    for chunk in body_chunks {
        if stream.write_all(&chunk).is_err() {
            sent_all = false;
            break;
        }
    }
    if stall_after {
        // Keep the connection open without sending the rest: the answer must come anyway.
        let head = answer.join().unwrap();
        return (head, false);
    }
    let head = answer.join().unwrap();
    (head, sent_all)
}

/// A smooth photo-like picture for the page (compresses well in a screenshot).
pub fn smooth_picture(width: u32, height: u32) -> Pixels {
    let _ = photo; // keep the import used in every binary
    Pixels::from_fn(width, height, |x, y| {
        let fx = x as f32 / width as f32;
        let fy = y as f32 / height as f32;
        // A round sun of radius 0.1 × height, centred at (62 %, 42 %).
        let dx = (x as f32 - 0.62 * width as f32) / height as f32;
        let dy = fy - 0.42;
        let sun = if dx * dx + dy * dy < 0.01 { 1.0 } else { 0.0 };
        let hill = if fy > 0.62 + 0.08 * (fx * 6.0).sin() {
            1.0
        } else {
            0.0
        };
        let r = 70.0 + 120.0 * fy + 185.0 * sun - 60.0 * hill;
        let g = 120.0 + 60.0 * fy + 80.0 * sun + 20.0 * hill;
        let b = 200.0 - 60.0 * fy - 150.0 * sun - 140.0 * hill;
        [
            r.clamp(0.0, 255.0) as u8,
            g.clamp(0.0, 255.0) as u8,
            b.clamp(0.0, 255.0) as u8,
            255,
        ]
    })
}

/// The body as JSON.
pub async fn json_of(resp: reqwest::Response) -> serde_json::Value {
    let text = resp.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}
