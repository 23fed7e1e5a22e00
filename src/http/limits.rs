//! Request limits applied around every handler (issue 17): header fields larger than
//! [`MAX_HEADER_BYTES`] in total are refused with 431 Request Header Fields Too Large
//! (RFC 6585 §5), so an oversized request costs nothing beyond reading it; a body that
//! has not fully arrived within [`RequestTimeout`] of the request's start is cut off
//! with 408 Request Timeout and the connection closed (RFC 9110 §15.5.9), so a client
//! trickling its body cannot hold a connection (actix's `client_request_timeout`, set
//! to the same value, does that for the head); and every 503 tells the client when to
//! retry (`Retry-After`, RFC 9110 §10.2.3).

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::{header, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{HttpMessage, HttpResponse};
use futures_util::Stream;

/// The largest total size of header names and values accepted (browsers send a few
/// KiB; 16 KiB leaves room for large cookies and tokens).
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// Middleware: 431 for oversized header fields.
pub async fn limit_headers(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let size: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if size > MAX_HEADER_BYTES {
        let response = HttpResponse::build(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
            .content_type("text/plain; charset=utf-8")
            .body("request header fields too large\n");
        return Ok(request.into_response(response).map_into_right_body());
    }
    Ok(next.call(request).await?.map_into_left_body())
}

/// Middleware: a 503 without `Retry-After` gets one (the database outage's retry
/// interval), whichever handler answered it.
pub async fn retry_after_unavailable(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut response = next.call(request).await?;
    if response.status() == StatusCode::SERVICE_UNAVAILABLE
        && !response.headers().contains_key(header::RETRY_AFTER)
    {
        response.headers_mut().insert(
            header::RETRY_AFTER,
            header::HeaderValue::from(crate::store::RETRY_AFTER_SECONDS),
        );
    }
    Ok(response)
}

/// How long a client may take to send a whole request (`request_timeout`), as app data.
#[derive(Debug, Clone, Copy)]
pub struct RequestTimeout(pub Duration);

/// Middleware: the body must arrive within [`RequestTimeout`] of the request's start;
/// later, the handler sees the body end in an error and the client gets 408 with
/// `Connection: close`, whatever the handler answered.
pub async fn body_deadline(
    mut request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let Some(RequestTimeout(timeout)) = request.app_data::<RequestTimeout>().copied() else {
        return Ok(next.call(request).await?.map_into_left_body());
    };
    let expired = Rc::new(Cell::new(false));
    let body = Deadline {
        body: request.take_payload(),
        timer: Box::pin(tokio::time::sleep(timeout)),
        expired: expired.clone(),
    };
    request.set_payload(Payload::Stream {
        payload: Box::pin(body),
    });
    let response = next.call(request).await?;
    if !expired.get() {
        return Ok(response.map_into_left_body());
    }
    let (request, _) = response.into_parts();
    let mut timeout = HttpResponse::build(StatusCode::REQUEST_TIMEOUT)
        .content_type("text/plain; charset=utf-8")
        .body("the request body did not arrive in time\n");
    timeout
        .head_mut()
        .set_connection_type(actix_web::http::ConnectionType::Close);
    Ok(ServiceResponse::new(request, timeout).map_into_right_body())
}

/// A request body that ends in an error once its deadline passes.
struct Deadline {
    body: Payload,
    timer: Pin<Box<tokio::time::Sleep>>,
    expired: Rc<Cell<bool>>,
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.expired.get() {
            return Poll::Ready(None);
        }
        if let Poll::Ready(chunk) = Pin::new(&mut this.body).poll_next(cx) {
            return Poll::Ready(chunk);
        }
        if this.timer.as_mut().poll(cx).is_ready() {
            this.expired.set(true);
            let late = std::io::Error::new(std::io::ErrorKind::TimedOut, "request body too slow");
            return Poll::Ready(Some(Err(PayloadError::Io(late))));
        }
        Poll::Pending
    }
}
