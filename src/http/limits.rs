//! Request limits applied around every handler (issue 17): header fields larger than
//! [`MAX_HEADER_BYTES`] in total are refused with 431 Request Header Fields Too Large
//! (RFC 6585 §5), so an oversized request costs nothing beyond reading it; and every
//! 503 tells the client when to retry (`Retry-After`, RFC 9110 §10.2.3).

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::middleware::Next;
use actix_web::HttpResponse;

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
