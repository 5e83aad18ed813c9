//! The routes: `/preview`, `/avatar`, `/healthz` and the page at `/`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use avatar_prep::{Placement, PreparedImage};
use avatar_upload::Photo;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use tracing::{info, warn};

use crate::error::{ApiError, LoggedKind};
use crate::form::{self, Form};
use crate::pool::{PrepFailure, PrepPool};
use crate::slack::{self, Slack, SlackConfig};

/// The page at `/`: plain HTML and JS, embedded in the binary.
const PAGE: &str = include_str!("page.html");

/// Seconds a client is asked to wait when the queue is full.
const BUSY_RETRY_AFTER: u64 = 1;

/// The service's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Largest request body in bytes.
    pub max_body: u64,
    /// Longest time to receive a body.
    pub body_timeout: Duration,
    /// Preparation threads.
    pub workers: usize,
    /// Requests that may wait for a thread.
    pub queue: usize,
    /// Slack.
    pub slack: SlackConfig,
}

/// The shared state.
#[derive(Debug)]
pub struct App {
    config: Config,
    pool: PrepPool,
    slack: Slack,
    request_ids: AtomicU64,
}

impl App {
    /// Builds the pool and the Slack client.
    pub fn new(config: Config) -> anyhow::Result<Arc<App>> {
        Ok(Arc::new(App {
            pool: PrepPool::new(config.workers, config.queue)?,
            slack: Slack::new(config.slack.clone())?,
            config,
            request_ids: AtomicU64::new(1),
        }))
    }
}

/// The router with every route and the access log.
pub fn router(app: Arc<App>) -> Router {
    let max_body = usize::try_from(app.config.max_body).unwrap_or(usize::MAX);
    Router::new()
        .route("/", get(page))
        .route("/healthz", get(healthz))
        .route("/preview", post(preview))
        .route("/avatar", post(avatar))
        // The handlers count the body themselves (see `form`); this keeps any extractor added
        // later under the same limit.
        .layer(DefaultBodyLimit::max(max_body))
        .layer(middleware::from_fn_with_state(app.clone(), access_log))
        .with_state(app)
}

/// One line per request on stderr: method, path, status, time and error kind. Headers are
/// never logged (the `Authorization` header holds the user's token).
async fn access_log(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let id = app.request_ids.fetch_add(1, Ordering::Relaxed);
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let start = Instant::now();
    let resp = next.run(req).await;
    let ms = start.elapsed().as_millis() as u64;
    let status = resp.status().as_u16();
    let kind = resp.extensions().get::<LoggedKind>().map(|k| k.0.clone());
    let queue = app.pool.in_use();
    if status >= 500 && status != 503 {
        warn!(id, %method, path, status, ms, queue, error = kind.as_deref(), "request");
    } else {
        info!(id, %method, path, status, ms, queue, error = kind.as_deref(), "request");
    }
    resp
}

async fn page() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
                 img-src blob: data:; connect-src 'self'; form-action 'none'; base-uri 'none'; \
                 frame-ancestors 'none'",
            ),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        Html(PAGE),
    )
}

async fn healthz() -> impl IntoResponse {
    Json(serde_json::json!({ "ok": true }))
}

/// Takes a slot, reads the form and prepares the image on the pool.
async fn prepare(
    app: &App,
    headers: &HeaderMap,
    body: Body,
) -> Result<(Form, PreparedImage), ApiError> {
    let Some(slot) = app.pool.try_admit() else {
        let err = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            "every preparation slot is taken: try again shortly",
        )
        .retry_after(BUSY_RETRY_AFTER);
        return Err(form::refuse(headers, body, err).await);
    };
    let mut form =
        form::read_form(headers, body, app.config.max_body, app.config.body_timeout).await?;
    let options = form.options();
    let bytes = std::mem::take(&mut form.image);
    match app.pool.prepare(slot, bytes, options).await {
        Ok(image) => Ok((form, image)),
        Err(PrepFailure::Prep(e)) => Err(ApiError::from_prep(&e)),
        Err(PrepFailure::Internal(what)) => Err(ApiError::internal(what)),
    }
}

/// `POST /preview`: the prepared image's bytes, with what was done in `X-Avatar-*` headers.
async fn preview(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let (_form, image) = prepare(&app, &headers, body).await?;
    let mut resp = Response::new(Body::empty());
    *resp.headers_mut() = describe(&image);
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(image.mime()));
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    *resp.body_mut() = Body::from(image.into_bytes());
    Ok(resp)
}

/// `POST /avatar`: prepares, then `users.setPhoto` with the caller's token.
async fn avatar(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let client = match slack::bearer(&headers) {
        None => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "not_authed",
            "send the user's token as Authorization: Bearer xoxp-…",
        )),
        Some(token) => app.slack.client_for(token),
    };
    let client = match client {
        Ok(c) => c,
        Err(e) => return Err(form::refuse(&headers, body, e).await),
    };
    let (form, image) = prepare(&app, &headers, body).await?;
    let (side, format, frames) = (image.side(), image.format(), image.frames());
    let mut photo =
        Photo::new(image.into_bytes()).map_err(|e| ApiError::internal(e.to_string()))?;
    if let Some(name) = &form.filename {
        photo = photo.filename(&replace_extension(name, format.extension()));
    }
    let done = client
        .set_photo(&photo)
        .await
        .map_err(|e| slack::slack_error(&e))?;
    info!(
        side,
        format = format.name(),
        attempts = done.attempts,
        "photo set"
    );
    let body = serde_json::json!({
        "ok": true,
        "side": side,
        "format": format.name().to_ascii_lowercase(),
        "frames": frames,
        "profile": done.profile.as_ref().map(slack::profile_json),
        "warnings": done.warnings,
        "attempts": done.attempts,
    });
    Ok(Json(body).into_response())
}

/// `me.heic` → `me.jpg`: the name Slack sees matches the bytes it gets.
fn replace_extension(name: &str, ext: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let stem = match base.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => base,
    };
    if stem.is_empty() {
        format!("avatar.{ext}")
    } else {
        format!("{stem}.{ext}")
    }
}

/// The `X-Avatar-*` headers: what the library did, for the page and for scripts.
fn describe(image: &PreparedImage) -> HeaderMap {
    let src = image.source();
    let orientation = image.orientation_applied();
    let (uw, uh) = orientation.upright_size(src.width, src.height);
    let mut h = HeaderMap::new();
    let mut put = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(HeaderName::from_static(name), v);
        }
    };
    put("x-avatar-side", image.side().to_string());
    put(
        "x-avatar-format",
        image.format().name().to_ascii_lowercase(),
    );
    put("x-avatar-frames", image.frames().to_string());
    put(
        "x-avatar-source",
        format!(
            "{} {}x{}",
            src.format.name().to_ascii_lowercase(),
            src.width,
            src.height
        ),
    );
    put("x-avatar-upright", format!("{uw}x{uh}"));
    put("x-avatar-orientation", orientation.exif_value().to_string());
    put("x-avatar-scale", format!("{:.4}", image.scale()));
    match image.placement() {
        Placement::Letterbox {
            content,
            background,
        } => {
            put("x-avatar-placement", "letterbox".into());
            put(
                "x-avatar-region",
                format!("{},{},{},{}", content.x, content.y, content.w, content.h),
            );
            put("x-avatar-background", background.to_string());
        }
        Placement::Crop { region } => {
            put("x-avatar-placement", "crop".into());
            put(
                "x-avatar-region",
                format!("{},{},{},{}", region.x, region.y, region.w, region.h),
            );
        }
        _ => {}
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_follow_the_bytes() {
        assert_eq!(replace_extension("me.heic", "jpg"), "me.jpg");
        assert_eq!(replace_extension("/tmp/a.b.png", "png"), "a.b.png");
        assert_eq!(replace_extension("noext", "gif"), "noext.gif");
        assert_eq!(replace_extension(".hidden", "png"), ".hidden.png");
        assert_eq!(replace_extension("", "png"), "avatar.png");
    }
}
