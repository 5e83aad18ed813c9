//! A Slack Web API emulator for tests: a real HTTP/1.1 server on 127.0.0.1 that behaves like
//! `users.setPhoto` / `users.deletePhoto` and records what arrived.
//!
//! It parses the multipart body with `multer` (an independent parser), checks the bearer
//! token, decodes the image and checks its size. Replies can be scripted per request: 429
//! with or without `Retry-After`, any HTTP status, any `ok:false` code, slow answers and
//! dropped connections.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A scripted reply, used for the next request instead of the normal behaviour.
#[derive(Debug, Clone)]
pub enum Reply {
    /// HTTP 429 with this `Retry-After` header value (or none).
    RateLimited(Option<String>),
    /// This HTTP status with this body.
    Status(u16, String),
    /// HTTP 200 `{"ok":false,"error":code}`.
    SlackError(String),
    /// Behave normally, but only after this delay.
    Slow(Duration),
    /// Read the request, then close the connection without answering.
    Drop,
    /// Behave normally and add this warning.
    Warning(String),
}

/// One part of a multipart body.
#[derive(Debug, Clone)]
pub struct Part {
    /// The part's name.
    pub name: String,
    /// The part's file name, if any.
    pub filename: Option<String>,
    /// The part's Content-Type, if any.
    pub content_type: Option<String>,
    /// The part's bytes.
    pub data: Vec<u8>,
}

/// One request as it arrived.
#[derive(Debug, Clone)]
pub struct Request {
    /// Request method (`POST`).
    pub method: String,
    /// Path and query (`/api/users.setPhoto`).
    pub target: String,
    /// All headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The raw body.
    pub body: Vec<u8>,
    /// Multipart parts, when the body was multipart.
    pub parts: Vec<Part>,
    /// When it arrived.
    pub at: Instant,
}

impl Request {
    /// The first header with this (lower-case) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The part with this name.
    pub fn part(&self, name: &str) -> Option<&Part> {
        self.parts.iter().find(|p| p.name == name)
    }
}

#[derive(Default)]
struct State {
    script: VecDeque<Reply>,
    requests: Vec<Request>,
    /// Successful uploads per token: the bytes of each.
    uploads: HashMap<String, Vec<Vec<u8>>>,
    /// Delay before every answer.
    latency: Duration,
    /// Hold `users.setPhoto` requests once this many uploads were accepted.
    hold_after: Option<usize>,
    /// Requests waiting at the hold.
    held: usize,
}

/// The emulator. Dropping it stops the server.
pub struct SlackEmulator {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    gate: Arc<tokio::sync::watch::Sender<Gate>>,
    task: tokio::task::JoinHandle<()>,
}

/// What held requests do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gate {
    /// Wait.
    Closed,
    /// Drop the connection without processing the request (as if it never fully arrived).
    Discard,
}

impl Drop for SlackEmulator {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SlackEmulator {
    /// Starts a server on 127.0.0.1 (a free port) in the current tokio runtime.
    pub async fn start() -> SlackEmulator {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(Mutex::new(State::default()));
        let gate = Arc::new(tokio::sync::watch::channel(Gate::Closed).0);
        let (st, gt) = (state.clone(), gate.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (st, gt) = (st.clone(), gt.subscribe());
                tokio::spawn(async move {
                    let _ = serve(stream, st, gt).await;
                });
            }
        });
        SlackEmulator {
            addr,
            state,
            gate,
            task,
        }
    }

    /// The base URL to give the client (`http://127.0.0.1:PORT/api/`).
    pub fn base_url(&self) -> String {
        format!("http://{}/api/", self.addr)
    }

    /// Scripts the reply to the next request not yet scripted.
    pub fn push(&self, reply: Reply) {
        self.lock().script.push_back(reply);
    }

    /// Delays every answer by `d` (a slow Slack).
    pub fn set_latency(&self, d: Duration) {
        self.lock().latency = d;
    }

    /// Holds every `users.setPhoto` request that arrives once `n` uploads were accepted: it
    /// waits, unprocessed, until [`SlackEmulator::discard_held`].
    pub fn hold_uploads_after(&self, n: usize) {
        self.gate.send_replace(Gate::Closed);
        self.lock().hold_after = Some(n);
    }

    /// Requests waiting at the hold.
    pub fn held(&self) -> usize {
        self.lock().held
    }

    /// Ends the hold: held requests are dropped unprocessed (the client sees a broken
    /// connection), later ones are served normally.
    pub fn discard_held(&self) {
        self.lock().hold_after = None;
        self.gate.send_replace(Gate::Discard);
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        self.lock().requests.clone()
    }

    /// The images accepted so far for `token`.
    pub fn uploads_for(&self, token: &str) -> Vec<Vec<u8>> {
        self.lock().uploads.get(token).cloned().unwrap_or_default()
    }

    /// Number of accepted uploads per token.
    pub fn upload_counts(&self) -> HashMap<String, usize> {
        self.lock()
            .uploads
            .iter()
            .map(|(k, v)| (k.clone(), v.len()))
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

async fn serve(
    mut stream: TcpStream,
    state: Arc<Mutex<State>>,
    mut gate: tokio::sync::watch::Receiver<Gate>,
) -> std::io::Result<()> {
    let mut buf: Vec<u8> = Vec::new();
    loop {
        // Read one request: headers, then Content-Length bytes of body.
        let head_end = loop {
            if let Some(i) = find(&buf, b"\r\n\r\n") {
                break i;
            }
            let mut chunk = [0u8; 16 * 1024];
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let mut lines = head.split("\r\n");
        let mut first = lines.next().unwrap_or_default().split(' ');
        let method = first.next().unwrap_or_default().to_owned();
        let target = first.next().unwrap_or_default().to_owned();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let len: usize = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        while buf.len() < head_end + 4 + len {
            let mut chunk = [0u8; 64 * 1024];
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        let body = buf[head_end + 4..head_end + 4 + len].to_vec();
        buf.drain(..head_end + 4 + len);

        let content_type = headers
            .iter()
            .find(|(n, _)| n == "content-type")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let parts = parse_multipart(&content_type, &body).await;
        let req = Request {
            method,
            target,
            headers,
            body,
            parts,
            at: Instant::now(),
        };
        let (scripted, latency) = {
            let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
            st.requests.push(req.clone());
            (st.script.pop_front(), st.latency)
        };
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        let hold = {
            let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
            let accepted: usize = st.uploads.values().map(Vec::len).sum();
            let hold = req.target.ends_with("users.setPhoto")
                && st.hold_after.is_some_and(|n| accepted >= n);
            if hold {
                st.held += 1;
            }
            hold
        };
        if hold {
            let _ = gate.wait_for(|g| *g == Gate::Discard).await;
            state.lock().unwrap_or_else(|p| p.into_inner()).held -= 1;
            return Ok(());
        }
        let (status, extra, body) = match scripted {
            Some(Reply::Drop) => return Ok(()),
            Some(Reply::RateLimited(after)) => (
                429,
                after
                    .map(|a| format!("Retry-After: {a}\r\n"))
                    .unwrap_or_default(),
                r#"{"ok":false,"error":"ratelimited"}"#.to_owned(),
            ),
            Some(Reply::Status(code, text)) => (code, String::new(), text),
            Some(Reply::SlackError(code)) => (
                200,
                String::new(),
                format!(r#"{{"ok":false,"error":"{code}"}}"#),
            ),
            Some(Reply::Slow(d)) => {
                tokio::time::sleep(d).await;
                (200, String::new(), behave(&req, &state, None))
            }
            Some(Reply::Warning(w)) => (200, String::new(), behave(&req, &state, Some(&w))),
            None => (200, String::new(), behave(&req, &state, None)),
        };
        let reason = match status {
            200 => "OK",
            429 => "Too Many Requests",
            _ => "Status",
        };
        let resp = format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\n{extra}\r\n{body}",
            body.len()
        );
        stream.write_all(resp.as_bytes()).await?;
    }
}

async fn parse_multipart(content_type: &str, body: &[u8]) -> Vec<Part> {
    let Ok(boundary) = multer::parse_boundary(content_type) else {
        return Vec::new();
    };
    let data = bytes::Bytes::copy_from_slice(body);
    let stream = futures_util::stream::once(async move { Ok::<_, std::convert::Infallible>(data) });
    let mut mp = multer::Multipart::new(stream, boundary);
    let mut parts = Vec::new();
    while let Ok(Some(field)) = mp.next_field().await {
        let name = field.name().unwrap_or_default().to_owned();
        let filename = field.file_name().map(str::to_owned);
        let content_type = field.content_type().map(|m| m.to_string());
        let Ok(data) = field.bytes().await else { break };
        parts.push(Part {
            name,
            filename,
            content_type,
            data: data.to_vec(),
        });
    }
    parts
}

fn slack_error(code: &str) -> String {
    format!(r#"{{"ok":false,"error":"{code}"}}"#)
}

/// What Slack would answer to this request.
fn behave(req: &Request, state: &Arc<Mutex<State>>, warning: Option<&str>) -> String {
    let method = req.target.trim_start_matches("/api/");
    if req.method != "POST" {
        return slack_error("invalid_post_type");
    }
    let Some(token) = req
        .header("authorization")
        .and_then(|a| a.strip_prefix("Bearer "))
    else {
        return slack_error("not_authed");
    };
    if token.starts_with("xoxb-") {
        return slack_error("not_allowed_token_type");
    }
    if token.starts_with("xoxp-revoked") {
        return slack_error("token_revoked");
    }
    if !token.starts_with("xoxp-") {
        return slack_error("invalid_auth");
    }
    let warning = warning
        .map(|w| format!(r#","warning":"{w}","response_metadata":{{"warnings":["{w}"]}}"#))
        .unwrap_or_default();
    match method {
        "users.deletePhoto" => {
            format!(r#"{{"ok":true{warning}}}"#)
        }
        "users.setPhoto" => {
            let ct = req.header("content-type").unwrap_or_default();
            if ct.is_empty() {
                return slack_error("missing_post_type");
            }
            if !ct.starts_with("multipart/form-data") {
                return slack_error("invalid_post_type");
            }
            let Some(image) = req.part("image") else {
                return slack_error("invalid_form_data");
            };
            let crops = ["crop_x", "crop_y", "crop_w"].map(|n| req.part(n).is_some());
            if crops.iter().any(|c| *c) && !crops.iter().all(|c| *c) {
                return slack_error("invalid_arguments");
            }
            let Some((w, h)) = crate::try_dimensions(&image.data) else {
                return slack_error("bad_image");
            };
            if w > 1024 || h > 1024 {
                return slack_error("too_large");
            }
            let hash = image.data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
            });
            state
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .uploads
                .entry(token.to_owned())
                .or_default()
                .push(image.data.clone());
            let url = |s: u32| format!("https://avatars.example/{hash:016x}_{s}.png");
            format!(
                r#"{{"ok":true{warning},"profile":{{"avatar_hash":"{hash:012x}","image_24":"{}","image_512":"{}","image_1024":"{}","image_original":"{}","is_custom_image":true}}}}"#,
                url(24),
                url(512),
                url(1024),
                url(0)
            )
        }
        _ => slack_error("unknown_method"),
    }
}
