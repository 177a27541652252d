//! The HTTP server: actix-web's app served over HTTP/1.1 on each accepted connection, as
//! `actix_web::HttpServer` does, with one difference — every connection's stream is wrapped so
//! the few responses actix's HTTP/1 layer writes by itself, before any middleware has seen a
//! request, get the API's JSON error body instead of an empty one:
//!
//! | status | when | code |
//! |---|---|---|
//! | 400 | the request line or a header cannot be parsed (e.g. a byte not allowed in the path) | `bad_request` |
//! | 408 | the request head did not arrive within 5 s | `request_head_timeout` |
//! | 431 | the request head (request line and headers) is over actix's 32 KB | `headers_too_large` |

use std::io;
use std::net::TcpListener;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use actix_http::{HttpService, Protocol, Request, Response};
use actix_server::Server;
use actix_service::{
    IntoServiceFactory, ServiceFactory, ServiceFactoryExt, fn_service, map_config,
};
use actix_web::body::MessageBody;
use actix_web::dev::AppConfig;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::error::{ApiError, ErrorCode};

/// How long a client may take to send a request head (actix-web's default).
const REQUEST_HEAD_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a closing connection may take to shut down (actix-web's default).
const DISCONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// Serves `app` on `listener` with `workers` threads; a graceful stop waits up to `grace` for
/// requests in progress.
///
/// # Errors
/// The listener cannot be registered.
pub fn serve<F, I, S, B>(
    listener: TcpListener,
    workers: usize,
    grace: Duration,
    app: F,
) -> io::Result<Server>
where
    F: Fn() -> I + Send + Clone + 'static,
    I: IntoServiceFactory<S, Request>,
    S: ServiceFactory<Request, Config = AppConfig> + 'static,
    S::Error: Into<actix_web::Error> + 'static,
    S::InitError: std::fmt::Debug,
    S::Response: Into<Response<B>> + 'static,
    <S::Service as actix_service::Service<Request>>::Future: 'static,
    S::Service: 'static,
    B: MessageBody + 'static,
{
    let addr = listener.local_addr()?;
    let builder = Server::build();
    let shutdown = builder.graceful_shutdown_signal();
    builder
        .workers(workers)
        .shutdown_timeout(grace.as_secs())
        .disable_signals()
        .listen(format!("stockpilot-http-{addr}"), listener, move || {
            let shutdown = shutdown.clone();
            let http = HttpService::build()
                .graceful_shutdown_signal(move || {
                    let signal = shutdown.clone();
                    async move { signal.notified().await }
                })
                .client_request_timeout(REQUEST_HEAD_TIMEOUT)
                .client_disconnect_timeout(DISCONNECT_TIMEOUT)
                .local_addr(addr)
                .finish(map_config(
                    app()
                        .into_factory()
                        .map_err(|err| err.into().error_response()),
                    move |()| AppConfig::default(),
                ));
            fn_service(|io: TcpStream| async move {
                let peer = io.peer_addr().ok();
                let _ = io.set_nodelay(true);
                Ok((JsonRefusals::new(io), Protocol::Http1, peer))
            })
            .and_then(http)
        })
        .map(actix_server::ServerBuilder::run)
}

/// A connection's stream that rewrites the empty-bodied error responses actix writes by itself
/// (see the module documentation) into the API's JSON error body; every other byte passes
/// through unchanged. The application never writes an empty error body (the request-context
/// middleware gives every 4xx and 5xx the JSON body), so such a head can only be actix's own.
pub struct JsonRefusals<T> {
    inner: T,
    /// A rewritten response still to be written, and how much of it has been.
    pending: Vec<u8>,
    written: usize,
}

impl<T> JsonRefusals<T> {
    pub fn new(inner: T) -> Self {
        Self {
            inner,
            pending: Vec::new(),
            written: 0,
        }
    }
}

impl<T: AsyncWrite + Unpin> JsonRefusals<T> {
    /// Writes what is left of a rewritten response.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.pending.len() {
            let n =
                ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        self.pending.clear();
        self.written = 0;
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for JsonRefusals<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for JsonRefusals<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        ready!(this.poll_pending(cx))?;
        match rewrite(buf) {
            Some(rewritten) => {
                // The whole of `buf` is taken over; what the socket does not accept now is
                // written before any later byte, and on flush and shutdown.
                this.pending = rewritten;
                this.written = 0;
                if let Poll::Ready(Err(e)) = this.poll_pending(cx) {
                    return Poll::Ready(Err(e));
                }
                Poll::Ready(Ok(buf.len()))
            }
            None => Pin::new(&mut this.inner).poll_write(cx, buf),
        }
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

/// The status lines actix's HTTP/1 layer answers with by itself, and what they mean.
const REFUSALS: [(&[u8], ErrorCode, &str); 3] = [
    (
        b" 400 Bad Request\r\n",
        ErrorCode::BadRequest,
        "the request could not be parsed: its request line or a header is malformed or holds a byte HTTP does not allow (e.g. a raw non-ASCII byte in the path: percent-encode it)",
    ),
    (
        b" 408 Request Timeout\r\n",
        ErrorCode::RequestHeadTimeout,
        "the request head did not arrive within 5 s",
    ),
    (
        b" 431 Request Header Fields Too Large\r\n",
        ErrorCode::HeadersTooLarge,
        "the request line and headers together exceed 32 KB; send long inputs in a JSON body",
    ),
];

const EMPTY_BODY: &[u8] = b"content-length: 0\r\n";

/// How far from the end of a write an empty-bodied refusal can start (its head is about 150
/// bytes).
const REFUSAL_TAIL: usize = 512;

/// `buf` with an empty-bodied refusal of [`REFUSALS`] given the JSON error body, or `None` when
/// it holds none. Cheap on every other write: a refusal has no body, so it ends the buffer
/// with its blank line, and only the buffer's last bytes are searched.
fn rewrite(buf: &[u8]) -> Option<Vec<u8>> {
    if !buf.ends_with(b"\r\n\r\n") {
        return None;
    }
    let tail_start = buf.len().saturating_sub(REFUSAL_TAIL);
    for (status, code, message) in REFUSALS {
        let Some(at) = find(&buf[tail_start..], status).map(|i| i + tail_start) else {
            continue;
        };
        let line_start = at.checked_sub(b"HTTP/1.1".len())?;
        if !buf[line_start..].starts_with(b"HTTP/1.") {
            continue;
        }
        let head_end = at + find(&buf[at..], b"\r\n\r\n")? + 2;
        let head = &buf[line_start..head_end];
        let empty = find(head, EMPTY_BODY)?;
        let body = ApiError::new(code, message).body_json(None);
        let mut out = Vec::with_capacity(buf.len() + body.len() + 64);
        out.extend_from_slice(&buf[..line_start]);
        out.extend_from_slice(&head[..empty]);
        out.extend_from_slice(format!("content-length: {}\r\n", body.len()).as_bytes());
        out.extend_from_slice(b"content-type: application/json\r\n");
        out.extend_from_slice(&head[empty + EMPTY_BODY.len()..]);
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(body.as_bytes());
        out.extend_from_slice(&buf[head_end + 2..]);
        return Some(out);
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_bodied_refusal_gets_the_json_body() {
        let actix = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\ndate: Sun, 06 Dec 2026 22:00:00 GMT\r\n\r\n";
        let out = String::from_utf8(rewrite(actix).unwrap()).unwrap();
        let (head, body) = out.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{head}");
        assert!(
            head.contains(&format!("content-length: {}", body.len())),
            "{head}"
        );
        assert!(head.contains("content-type: application/json"), "{head}");
        assert!(head.contains("connection: close"), "{head}");
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["error"]["code"], "bad_request");
    }

    #[test]
    fn what_precedes_and_follows_the_refusal_is_kept() {
        let before = [
            &b"HTTP/1.1 200 OK\r\ncontent-length: 2000\r\n\r\n"[..],
            &[b'x'; 2000][..],
        ]
        .concat();
        let before = before.as_slice();
        let refusal = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\r\n";
        let buf = [before, &refusal[..]].concat();
        let out = rewrite(&buf).unwrap();
        assert!(out.starts_with(before));
        let rest = String::from_utf8(out[before.len()..].to_vec()).unwrap();
        assert!(rest.ends_with("}"), "{rest}");
        assert!(rest.contains("\"code\":\"headers_too_large\""), "{rest}");
    }

    #[test]
    fn responses_with_bodies_pass_unchanged() {
        let big = [
            &b"HTTP/1.1 200 OK\r\ncontent-length: 40000\r\n\r\n"[..],
            &[b'{'; 40_000][..],
        ]
        .concat();
        assert_eq!(rewrite(&big), None);
        let ours = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 85\r\ncontent-type: application/json\r\n\r\n{\"error\":{}}";
        assert_eq!(rewrite(ours), None);
        assert_eq!(
            rewrite(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"),
            None
        );
        assert_eq!(rewrite(b"partial 400 Bad Request\r\n"), None);
    }
}
