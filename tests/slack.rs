//! A Slack Web API emulator for tests: a real HTTP/1.1 server on 127.0.0.1 that behaves like
//! `users.setPhoto` / `users.deletePhoto` and records what arrived.
//!
//! Built on axum (routing, request parts, responses) with hyper serving each connection, so a
//! scripted reply can drop its connection without answering. It parses the multipart body
//! with `multer` (an independent parser), checks the bearer token, decodes the image and
//! checks its size. Replies can be scripted per request: 429 with or without `Retry-After`,
//! any HTTP status, any `ok:false` code, slow answers and dropped connections.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Extension, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::any;
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};

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
    /// The client's address: requests with the same `peer` came over one connection.
    pub peer: SocketAddr,
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
struct Recorded {
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

/// What held requests do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gate {
    /// Wait.
    Closed,
    /// Drop the connection without processing the request (as if it never fully arrived).
    Discard,
}

/// What every handler shares: the recorded state and the hold gate.
#[derive(Clone)]
struct App {
    state: Arc<Mutex<Recorded>>,
    gate: Arc<watch::Sender<Gate>>,
}

impl App {
    fn lock(&self) -> std::sync::MutexGuard<'_, Recorded> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// One connection: who is on the other end, and the switch that drops it unanswered.
#[derive(Clone)]
struct Conn {
    peer: SocketAddr,
    kill: Arc<Notify>,
}

/// The emulator. Dropping it stops the server and closes its connections.
pub struct SlackEmulator {
    addr: SocketAddr,
    app: App,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SlackEmulator {
    fn drop(&mut self) {
        self.shutdown.send_replace(true);
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
        let app = App {
            state: Arc::new(Mutex::new(Recorded::default())),
            gate: Arc::new(watch::channel(Gate::Closed).0),
        };
        let router = Router::new()
            .route("/api/{method}", any(handle))
            .fallback(handle)
            .with_state(app.clone());
        let (shutdown, _) = watch::channel(false);
        let stop = shutdown.subscribe();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, peer)) = listener.accept().await else {
                    return;
                };
                let conn = Conn {
                    peer,
                    kill: Arc::new(Notify::new()),
                };
                let kill = conn.kill.clone();
                let service = hyper_util::service::TowerToHyperService::new(
                    router.clone().layer(Extension(conn)),
                );
                let mut stop = stop.clone();
                tokio::spawn(async move {
                    let serve = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
                    // Whichever comes first: the connection ends, a handler drops it, or the
                    // emulator stops. Dropping `serve` closes the socket.
                    tokio::select! {
                        _ = serve => {}
                        _ = kill.notified() => {}
                        _ = stop.wait_for(|s| *s) => {}
                    }
                });
            }
        });
        SlackEmulator {
            addr,
            app,
            shutdown,
            task,
        }
    }

    /// The base URL to give the client (`http://127.0.0.1:PORT/api/`).
    pub fn base_url(&self) -> String {
        format!("http://{}/api/", self.addr)
    }

    /// Scripts the reply to the next request not yet scripted.
    pub fn push(&self, reply: Reply) {
        self.app.lock().script.push_back(reply);
    }

    /// Delays every answer by `d` (a slow Slack).
    pub fn set_latency(&self, d: Duration) {
        self.app.lock().latency = d;
    }

    /// Holds every `users.setPhoto` request that arrives once `n` uploads were accepted: it
    /// waits, unprocessed, until [`SlackEmulator::discard_held`].
    pub fn hold_uploads_after(&self, n: usize) {
        self.app.gate.send_replace(Gate::Closed);
        self.app.lock().hold_after = Some(n);
    }

    /// Requests waiting at the hold.
    pub fn held(&self) -> usize {
        self.app.lock().held
    }

    /// Ends the hold: held requests are dropped unprocessed (the client sees a broken
    /// connection), later ones are served normally.
    pub fn discard_held(&self) {
        self.app.lock().hold_after = None;
        self.app.gate.send_replace(Gate::Discard);
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        self.app.lock().requests.clone()
    }

    /// The images accepted so far for `token`.
    pub fn uploads_for(&self, token: &str) -> Vec<Vec<u8>> {
        self.app
            .lock()
            .uploads
            .get(token)
            .cloned()
            .unwrap_or_default()
    }

    /// Number of accepted uploads per token.
    pub fn upload_counts(&self) -> HashMap<String, usize> {
        self.app
            .lock()
            .uploads
            .iter()
            .map(|(k, v)| (k.clone(), v.len()))
            .collect()
    }
}

/// Every request: record it, then answer as scripted or as Slack would.
async fn handle(
    State(app): State<App>,
    Extension(conn): Extension<Conn>,
    req: axum::extract::Request,
) -> Response {
    let (head, body) = req.into_parts();
    let Ok(body) = axum::body::to_bytes(body, usize::MAX).await else {
        return dropped(&conn).await; // the request never fully arrived
    };
    let content_type = header_text(&head.headers, header::CONTENT_TYPE.as_str());
    let req = Request {
        method: head.method.to_string(),
        target: head
            .uri
            .path_and_query()
            .map_or_else(|| head.uri.path().to_owned(), |p| p.as_str().to_owned()),
        headers: head
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        parts: parse_multipart(&content_type, &body).await,
        body: body.to_vec(),
        at: Instant::now(),
        peer: conn.peer,
    };
    let (scripted, latency) = {
        let mut st = app.lock();
        st.requests.push(req.clone());
        (st.script.pop_front(), st.latency)
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let hold = {
        let mut st = app.lock();
        let accepted: usize = st.uploads.values().map(Vec::len).sum();
        let hold =
            req.target.ends_with("users.setPhoto") && st.hold_after.is_some_and(|n| accepted >= n);
        if hold {
            st.held += 1;
        }
        hold
    };
    if hold {
        let _ = app.gate.subscribe().wait_for(|g| *g == Gate::Discard).await;
        app.lock().held -= 1;
        return dropped(&conn).await;
    }
    match scripted {
        Some(Reply::Drop) => dropped(&conn).await,
        Some(Reply::RateLimited(after)) => {
            let mut r = json(429, slack_error("ratelimited"));
            if let Some(a) = after.and_then(|a| a.parse().ok()) {
                r.headers_mut().insert(header::RETRY_AFTER, a);
            }
            r
        }
        Some(Reply::Status(code, text)) => json(code, text),
        Some(Reply::SlackError(code)) => json(200, slack_error(&code)),
        Some(Reply::Slow(d)) => {
            tokio::time::sleep(d).await;
            json(200, behave(&req, &app, None))
        }
        Some(Reply::Warning(w)) => json(200, behave(&req, &app, Some(&w))),
        None => json(200, behave(&req, &app, None)),
    }
}

/// Closes the connection without an answer; the response is never sent.
async fn dropped(conn: &Conn) -> Response {
    conn.kill.notify_one();
    std::future::pending().await
}

fn json(status: u16, body: String) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json; charset=utf-8"),
    );
    r
}

fn header_text(headers: &HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default()
}

async fn parse_multipart(content_type: &str, body: &Bytes) -> Vec<Part> {
    let Ok(boundary) = multer::parse_boundary(content_type) else {
        return Vec::new();
    };
    let data = body.clone();
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
fn behave(req: &Request, app: &App, warning: Option<&str>) -> String {
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
            app.lock()
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
