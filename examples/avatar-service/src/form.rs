//! The request body: a byte limit counted while it streams in, the multipart fields, and
//! draining what a refused client is still sending.
//!
//! Why not `DefaultBodyLimit` alone: axum's limit is the same streaming check
//! (`http_body_util::Limited`), but once it fires the handler drops the body and hyper closes
//! the connection with the client's bytes still unread; the kernel then answers with a TCP
//! reset, which can destroy the 413 before the client reads it (RFC 9112 §9.6). So the
//! counting is done here, and a refused body is read on and thrown away — a bounded amount,
//! for a bounded time, never stored — so the client gets its answer.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderMap, StatusCode};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};

use crate::error::ApiError;

/// After refusing a body, read and discard at most this much more of it…
const DRAIN_MAX_BYTES: u64 = 64 * 1024 * 1024;
/// …for at most this long…
const DRAIN_MAX_TIME: Duration = Duration::from_secs(10);
/// …and stop as soon as the client pauses this long.
const DRAIN_IDLE: Duration = Duration::from_secs(1);

/// Longest text field (`crop_x`, `fit`…).
const MAX_TEXT_FIELD: usize = 64;

/// How a square is made when no crop box is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FitChoice {
    /// The whole image in the square, with bars (the default, as Slack does).
    Letterbox,
    /// The largest centred square.
    Cover,
}

/// The fields of `/preview` and `/avatar`.
#[derive(Debug)]
pub struct Form {
    /// The `image` part's bytes.
    pub image: Bytes,
    /// The part's file name, if the client sent one.
    pub filename: Option<String>,
    /// `crop_x`, `crop_y`, `crop_w` (all three or none).
    pub crop: Option<avatar_prep::CropBox>,
    /// `fit`; ignored when a crop box is given.
    pub fit: FitChoice,
}

impl Form {
    /// The library options for these fields (defaults otherwise).
    pub fn options(&self) -> avatar_prep::PrepOptions {
        let fit = match (self.crop, self.fit) {
            (Some(c), _) => avatar_prep::Fit::Crop(c),
            (None, FitChoice::Cover) => avatar_prep::Fit::CenterCrop,
            (None, FitChoice::Letterbox) => avatar_prep::Fit::default(),
        };
        avatar_prep::PrepOptions::default().fit(fit)
    }
}

/// The body was larger than the limit.
#[derive(Debug)]
struct TooLarge;

impl std::fmt::Display for TooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body is larger than the limit")
    }
}

impl std::error::Error for TooLarge {}

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type DataStream = Pin<Box<dyn Stream<Item = Result<Bytes, axum::Error>> + Send>>;

/// A body stream that counts bytes and fails with [`TooLarge`] once `limit` is passed —
/// after reading on (and discarding) up to [`DRAIN_MAX_BYTES`] more, so the client finishes
/// sending and reads the 413.
struct Limited {
    inner: DataStream,
    seen: u64,
    limit: u64,
    over: Arc<AtomicBool>,
    done: bool,
}

impl Stream for Limited {
    type Item = Result<Bytes, BoxError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        match self.inner.as_mut().poll_next(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(None) => {
                self.done = true;
                Poll::Ready(None)
            }
            Poll::Ready(Some(Err(e))) => {
                self.done = true;
                Poll::Ready(Some(Err(Box::new(e))))
            }
            Poll::Ready(Some(Ok(chunk))) => {
                self.seen += chunk.len() as u64;
                if self.seen > self.limit {
                    self.done = true;
                    self.over.store(true, Ordering::Relaxed);
                    return Poll::Ready(Some(Err(Box::new(TooLarge))));
                }
                Poll::Ready(Some(Ok(chunk)))
            }
        }
    }
}

/// True when the client waits for `100 Continue` before sending its body: refusing it then
/// needs no draining, since hyper only sends `100 Continue` once the body is read.
fn expects_continue(headers: &HeaderMap) -> bool {
    headers
        .get(header::EXPECT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
}

/// Reads and discards what is left of a body we are refusing (bounded in bytes and time,
/// stopping when the client pauses), so that the client reads our answer instead of a
/// connection reset. Nothing is kept.
pub async fn drain(headers: &HeaderMap, body: Body) {
    if expects_continue(headers) {
        return;
    }
    drain_stream(Box::pin(body.into_data_stream())).await;
}

async fn drain_stream(mut stream: DataStream) {
    let work = async {
        let mut left = DRAIN_MAX_BYTES;
        while let Ok(Some(Ok(chunk))) = tokio::time::timeout(DRAIN_IDLE, stream.next()).await {
            left = left.saturating_sub(chunk.len() as u64);
            if left == 0 {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_MAX_TIME, work).await;
}

/// An early refusal: drains the body (see [`drain`]), then gives `err` back.
pub async fn refuse(headers: &HeaderMap, body: Body, err: ApiError) -> ApiError {
    drain(headers, body).await;
    err
}

fn too_large(limit: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        format!("the request body is larger than {limit} bytes"),
    )
}

/// Reads the multipart form as it streams in: 413 as soon as `limit` bytes are passed (or
/// at once when `Content-Length` says so), 408 after `timeout`, 400 for a malformed form.
pub async fn read_form(
    headers: &HeaderMap,
    body: Body,
    limit: u64,
    timeout: Duration,
) -> Result<Form, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(refuse(headers, body, too_large(limit)).await);
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let boundary = match multer::parse_boundary(content_type) {
        Ok(b) => b,
        Err(_) => {
            let err = ApiError::bad_request(
                "not_multipart",
                "send multipart/form-data with an `image` part",
            );
            return Err(refuse(headers, body, err).await);
        }
    };

    let over = Arc::new(AtomicBool::new(false));
    let limited = Limited {
        inner: Box::pin(body.into_data_stream()),
        seen: 0,
        limit,
        over: over.clone(),
        done: false,
    };
    // The parser owns its stream and never hands it back, so keep a second handle on it:
    // after a 413 the rest of the body is drained through that handle.
    let (limited, rest) = split_for_drain(limited);
    let mut multipart = multer::Multipart::new(limited, boundary);
    let result = tokio::time::timeout(timeout, read_fields(&mut multipart)).await;
    drop(multipart);
    let Ok(result) = result else {
        return Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "body_timeout",
            format!("the request body took longer than {} s", timeout.as_secs()),
        ));
    };
    // Whatever the parser left unread (the rest of a refused body, or the bytes after the
    // closing boundary) is read past, so the client reads the answer and the connection can
    // be kept alive. (`100 Continue`, if asked for, went out when the parser first read.)
    drain_stream(rest.take()).await;
    if over.load(Ordering::Relaxed) {
        return Err(too_large(limit));
    }
    result
}

/// Shares the body stream between the multipart parser and the drain that follows a 413.
///
/// The parser owns its stream (`'static`), so the stream lives behind a mutex that the
/// parser's side locks per poll; once the parser is dropped, [`Rest::take`] gets it back.
fn split_for_drain(limited: Limited) -> (Shared, Rest) {
    let cell = Arc::new(std::sync::Mutex::new(Some(limited)));
    (Shared(cell.clone()), Rest(cell))
}

struct Shared(Arc<std::sync::Mutex<Option<Limited>>>);

impl Stream for Shared {
    type Item = Result<Bytes, BoxError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut guard = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match guard.as_mut() {
            Some(s) => Pin::new(s).poll_next(cx),
            None => Poll::Ready(None),
        }
    }
}

struct Rest(Arc<std::sync::Mutex<Option<Limited>>>);

impl Rest {
    /// The underlying body stream, past the point where the limit fired.
    fn take(self) -> DataStream {
        let limited = self.0.lock().unwrap_or_else(|p| p.into_inner()).take();
        match limited {
            Some(l) => l.inner,
            None => Box::pin(futures_util::stream::empty()),
        }
    }
}

async fn read_fields(mp: &mut multer::Multipart<'static>) -> Result<Form, ApiError> {
    let mut image: Option<(Bytes, Option<String>)> = None;
    let mut crop: [Option<u32>; 3] = [None; 3];
    let mut fit = FitChoice::Letterbox;
    while let Some(mut field) = mp.next_field().await.map_err(malformed)? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "image" => {
                if image.is_some() {
                    return Err(ApiError::bad_request(
                        "duplicate_image",
                        "send one `image` part",
                    ));
                }
                let filename = field.file_name().map(str::to_owned);
                let mut buf = bytes::BytesMut::new();
                while let Some(chunk) = field.chunk().await.map_err(malformed)? {
                    buf.extend_from_slice(&chunk);
                }
                image = Some((buf.freeze(), filename));
            }
            "crop_x" | "crop_y" | "crop_w" => {
                let text = text_field(&mut field, &name).await?;
                let v = text.trim().parse::<u32>().map_err(|_| {
                    ApiError::bad_request(
                        "invalid_crop_field",
                        format!("{name} must be a whole number of pixels, not {text:?}"),
                    )
                })?;
                let i = match name.as_str() {
                    "crop_x" => 0,
                    "crop_y" => 1,
                    _ => 2,
                };
                crop[i] = Some(v);
            }
            "fit" => {
                let text = text_field(&mut field, &name).await?;
                fit = match text.trim() {
                    "letterbox" | "" => FitChoice::Letterbox,
                    "cover" => FitChoice::Cover,
                    other => {
                        return Err(ApiError::bad_request(
                            "invalid_fit",
                            format!("fit must be letterbox or cover, not {other:?}"),
                        ))
                    }
                };
            }
            // Unknown parts are read past (the byte limit still counts them).
            _ => while field.chunk().await.map_err(malformed)?.is_some() {},
        }
    }
    let Some((image, filename)) = image else {
        return Err(ApiError::bad_request(
            "missing_image",
            "the form has no `image` part",
        ));
    };
    let crop = match crop {
        [None, None, None] => None,
        [Some(x), Some(y), Some(side)] if side > 0 => Some(avatar_prep::CropBox::new(x, y, side)),
        [Some(_), Some(_), Some(_)] => {
            return Err(ApiError::bad_request(
                "invalid_crop_field",
                "crop_w must be at least 1",
            ))
        }
        _ => {
            return Err(ApiError::bad_request(
                "invalid_crop_field",
                "send crop_x, crop_y and crop_w together, or none of them",
            ))
        }
    };
    Ok(Form {
        image,
        filename,
        crop,
        fit,
    })
}

async fn text_field(field: &mut multer::Field<'static>, name: &str) -> Result<String, ApiError> {
    let mut buf = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(malformed)? {
        buf.extend_from_slice(&chunk);
        if buf.len() > MAX_TEXT_FIELD {
            return Err(ApiError::bad_request(
                "invalid_field",
                format!("{name} is longer than {MAX_TEXT_FIELD} bytes"),
            ));
        }
    }
    String::from_utf8(buf)
        .map_err(|_| ApiError::bad_request("invalid_field", format!("{name} is not UTF-8")))
}

fn malformed(e: multer::Error) -> ApiError {
    // A limit or transport failure from below surfaces here as a stream error; the caller
    // checks the limit flag first, so this message is only seen for real form errors.
    let message = match &e {
        multer::Error::StreamReadFailed(_) => "the request body could not be read".to_owned(),
        other => format!("malformed multipart body: {other}"),
    };
    ApiError::bad_request("malformed_multipart", message)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// Parts of a test form: name, file name, bytes.
    type Parts<'a> = &'a [(&'a str, Option<&'a str>, &'a [u8])];

    fn form_body(parts: Parts<'_>) -> (HeaderMap, Body) {
        let mut body = Vec::new();
        for (name, filename, data) in parts {
            body.extend_from_slice(b"--XyZ\r\nContent-Disposition: form-data; name=\"");
            body.extend_from_slice(name.as_bytes());
            body.push(b'"');
            if let Some(f) = filename {
                body.extend_from_slice(format!("; filename=\"{f}\"").as_bytes());
            }
            body.extend_from_slice(b"\r\n\r\n");
            body.extend_from_slice(data);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(b"--XyZ--\r\n");
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            "multipart/form-data; boundary=XyZ".parse().unwrap(),
        );
        (h, Body::from(body))
    }

    async fn read(parts: Parts<'_>, limit: u64) -> Result<Form, ApiError> {
        let (h, b) = form_body(parts);
        read_form(&h, b, limit, Duration::from_secs(5)).await
    }

    #[tokio::test]
    async fn fields_are_read() {
        let f = read(
            &[
                ("crop_x", None, b"10"),
                ("crop_y", None, b" 20 "),
                ("crop_w", None, b"300"),
                ("note", None, b"ignored"),
                ("image", Some("me.jpg"), b"\xff\xd8\xffdata"),
            ],
            1 << 20,
        )
        .await
        .unwrap();
        assert_eq!(&f.image[..], b"\xff\xd8\xffdata");
        assert_eq!(f.filename.as_deref(), Some("me.jpg"));
        assert_eq!(f.crop, Some(avatar_prep::CropBox::new(10, 20, 300)));
        assert_eq!(
            f.options().fit,
            avatar_prep::Fit::Crop(avatar_prep::CropBox::new(10, 20, 300))
        );
        let f = read(&[("fit", None, b"cover"), ("image", None, b"x")], 1 << 20)
            .await
            .unwrap();
        assert_eq!(f.options().fit, avatar_prep::Fit::CenterCrop);
    }

    #[tokio::test]
    async fn bad_forms_are_400_with_a_kind() {
        let cases: [(Parts<'_>, &str); 6] = [
            (&[("crop_x", None, b"1")], "missing_image"),
            (
                &[("image", None, b"x"), ("crop_x", None, b"1")],
                "invalid_crop_field",
            ),
            (
                &[
                    ("image", None, b"x"),
                    ("crop_x", None, b"-1"),
                    ("crop_y", None, b"0"),
                    ("crop_w", None, b"9"),
                ],
                "invalid_crop_field",
            ),
            (
                &[
                    ("image", None, b"x"),
                    ("crop_x", None, b"0"),
                    ("crop_y", None, b"0"),
                    ("crop_w", None, b"0"),
                ],
                "invalid_crop_field",
            ),
            (
                &[("image", None, b"x"), ("fit", None, b"stretch")],
                "invalid_fit",
            ),
            (
                &[("image", None, b"x"), ("image", None, b"y")],
                "duplicate_image",
            ),
        ];
        for (parts, kind) in cases {
            let e = read(parts, 1 << 20).await.unwrap_err();
            assert_eq!((e.status, e.kind.as_ref()), (StatusCode::BAD_REQUEST, kind));
        }
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, "image/jpeg".parse().unwrap());
        let e = read_form(&h, Body::from("x"), 10, Duration::from_secs(1))
            .await
            .unwrap_err();
        assert_eq!(e.kind, "not_multipart");
    }

    #[tokio::test]
    async fn the_limit_counts_the_stream() {
        let big = vec![7u8; 4096];
        let e = read(&[("image", None, &big)], 4000).await.unwrap_err();
        assert_eq!(
            (e.status, e.kind.as_ref()),
            (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large")
        );
        assert!(read(&[("image", None, &big)], 8192).await.is_ok());
        let (mut h, b) = form_body(&[("image", None, b"x")]);
        h.insert(header::CONTENT_LENGTH, "999999".parse().unwrap());
        let e = read_form(&h, b, 1000, Duration::from_secs(1))
            .await
            .unwrap_err();
        assert_eq!(e.status, StatusCode::PAYLOAD_TOO_LARGE);
    }
}
