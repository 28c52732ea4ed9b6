//! The HTTP/1.1 accept loop of the public API: hyper connections with a header-read timeout (a
//! client trickling its request head is cut off), graceful shutdown, and the API's JSON error in
//! place of the bodiless 400, 414 and 431 answers hyper gives a request it cannot parse.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use yaoshi_model::{ApiError, ErrorCode};

use crate::https::Https;
use crate::limits::ApiLimits;

/// hyper's read buffer: a request head (request line and headers) must fit in it. Larger than
/// the limits `server.rs` checks, so that those answer first with their own codes.
const MAX_HEAD_BUFFER: usize = 1024 * 1024;

/// Serves `app` on `listener` until `shutdown` resolves, then lets open requests finish; over
/// HTTPS when `https` is set (the TLS handshake must finish within the header timeout).
///
/// # Errors
///
/// Never returns an error for a single connection (those are logged); only the listener's
/// failure ends the loop early.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: &ApiLimits,
    https: Option<Arc<Https>>,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(MAX_HEAD_BUFFER.max(limits.max_header_bytes + limits.max_uri_bytes + 8192))
        // One flat buffer per write, so a parse-error answer is recognizable (`JsonParseErrors`).
        .writev(false);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) if is_transient(&e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
                Err(e) => return Err(e),
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let Some(https) = &https else {
            spawn_connection(&builder, graceful.watcher(), stream, peer, &app);
            continue;
        };
        // The handshake runs in its own task, bounded like a request head, so a client that
        // stalls in it neither blocks the accept loop nor holds a connection forever.
        let (acceptor, builder, app) = (https.acceptor_now(), builder.clone(), app.clone());
        let (timeout, watcher) = (limits.header_timeout, graceful.watcher());
        tokio::spawn(async move {
            match tokio::time::timeout(timeout, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => spawn_connection(&builder, watcher, tls, peer, &app),
                Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!("TLS handshake timed out"),
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Serves one connection, watched for graceful shutdown; every request on it carries the peer's
/// address as a [`crate::context::ClientAddr`] extension.
fn spawn_connection<S>(
    builder: &hyper::server::conn::http1::Builder,
    graceful: Watcher,
    stream: S,
    peer: std::net::SocketAddr,
    app: &Router,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let io = TokioIo::new(JsonParseErrors::new(stream));
    let app = tower::ServiceExt::map_request(
        app.clone(),
        move |mut req: hyper::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(crate::context::ClientAddr(peer));
            req
        },
    );
    let conn = builder.serve_connection(io, TowerToHyperService::new(app));
    let conn = graceful.watch(conn);
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::debug!(error = %e, "connection closed with an error");
        }
    });
}

/// Accept errors that concern one connection or a momentary shortage (file descriptors), not
/// the listener.
fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
    ) || e.raw_os_error().is_some_and(|code| code == 23 || code == 24)
}

/// A connection whose outgoing bodiless parse-error answers from hyper (400, 414, 431) are
/// replaced by the API's JSON error with a `RequestId`; everything else passes through.
///
/// hyper writes such an answer as one buffer starting with its status line, then closes the
/// connection. Our own responses always have a body, so a 400 with `content-length: 0` is
/// hyper's.
struct JsonParseErrors<S> {
    inner: S,
    /// A replacement answer being written, and how much of it is written.
    pending: Option<(Vec<u8>, usize)>,
}

impl<S> JsonParseErrors<S> {
    fn new(inner: S) -> JsonParseErrors<S> {
        JsonParseErrors { inner, pending: None }
    }
}

/// The API error replacing hyper's automatic answer starting with `head`, if it is one.
fn replacement(head: &[u8]) -> Option<ApiError> {
    if head.starts_with(b"HTTP/1.1 414 ") {
        Some(ApiError::new(ErrorCode::UriTooLong))
    } else if head.starts_with(b"HTTP/1.1 431 ") {
        Some(ApiError::new(ErrorCode::HeadersTooLarge))
    } else if head.starts_with(b"HTTP/1.1 400 ")
        && head.windows(19).any(|w| w.eq_ignore_ascii_case(b"content-length: 0\r\n"))
    {
        Some(ApiError::new(ErrorCode::MalformedRequest))
    } else {
        None
    }
}

/// A complete HTTP/1.1 answer carrying `err` as the API's JSON error; the connection closes.
fn raw_error_response(err: &ApiError) -> Vec<u8> {
    let request_id = uuid::Uuid::new_v4().to_string();
    let body = crate::server::error_json(&request_id, "", err);
    let status = err.http_status();
    let reason = axum::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error");
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json;charset=utf-8\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(&body);
    out
}

impl<S: AsyncWrite + Unpin> JsonParseErrors<S> {
    /// Writes what is left of a replacement answer.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((bytes, written)) = &mut self.pending {
            if *written == bytes.len() {
                self.pending = None;
                break;
            }
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &bytes[*written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *written += n;
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for JsonParseErrors<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for JsonParseErrors<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_pending(cx))?;
        if let Some(err) = replacement(buf) {
            tracing::debug!(code = err.code.as_str(), "request could not be parsed");
            self.pending = Some((raw_error_response(&err), 0));
            // The whole automatic answer counts as written; ours goes out in its place.
            let _ = self.poll_pending(cx)?;
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hyper_parse_errors_are_replaced() {
        assert_eq!(
            replacement(
                b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\r\n"
            )
            .map(|e| e.code),
            Some(ErrorCode::HeadersTooLarge)
        );
        assert_eq!(
            replacement(b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\n\r\n").map(|e| e.code),
            Some(ErrorCode::UriTooLong)
        );
        assert_eq!(
            replacement(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\ndate: x\r\n\r\n")
                .map(|e| e.code),
            Some(ErrorCode::MalformedRequest)
        );
        // Our own 400s carry a body; other answers and body chunks pass through.
        assert!(replacement(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 120\r\n\r\n{").is_none());
        assert!(replacement(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").is_none());
        assert!(replacement(b"{\"RequestId\":\"x\"}").is_none());
    }

    #[test]
    fn the_replacement_is_a_complete_json_answer() {
        let raw = raw_error_response(&ApiError::new(ErrorCode::HeadersTooLarge));
        let text = String::from_utf8(raw).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"), "{head}");
        assert!(head.contains(&format!("content-length: {}", body.len())), "{head}");
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["Code"], "Rejected.HeadersTooLarge");
        assert_eq!(v["HttpStatus"], 431);
        assert_eq!(v["RequestId"].as_str().unwrap().len(), 36);
    }
}
