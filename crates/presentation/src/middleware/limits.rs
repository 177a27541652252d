//! A global cap on requests in progress (503 `overloaded` with `Retry-After` beyond it) and a
//! deadline for producing a response (503 `request_timeout`).

use std::sync::Arc;
use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;
use tokio::sync::Semaphore;

use crate::error::{ApiError, ErrorCode};

/// Probes stay answerable under load: an orchestrator must not restart a busy instance.
const EXEMPT: [&str; 2] = ["/health", "/ready"];

#[derive(Clone)]
pub struct ConcurrencyLimit(pub Arc<Semaphore>);

pub async fn concurrency_limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if EXEMPT.contains(&req.path()) {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    }
    let Some(limit) = req.app_data::<web::Data<ConcurrencyLimit>>().cloned() else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    let Ok(_permit) = limit.0.clone().try_acquire_owned() else {
        metrics::counter!("stockpilot_http_overloaded_total").increment(1);
        let err = ApiError::new(
            ErrorCode::Overloaded,
            "the server is at its concurrent request limit; retry shortly",
        )
        .with_retry_after(1);
        return Ok(req.error_response(err));
    };
    next.call(req)
        .await
        .map(ServiceResponse::map_into_boxed_body)
}

/// The deadline, read from app data so tests and configuration can set it.
#[derive(Clone, Copy)]
pub struct RequestTimeout(pub Duration);

pub async fn request_timeout(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(limit) = req.app_data::<web::Data<RequestTimeout>>().map(|d| d.0) else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    match tokio::time::timeout(limit, next.call(req)).await {
        Ok(res) => res.map(ServiceResponse::map_into_boxed_body),
        Err(_) => Err(ApiError::new(
            ErrorCode::RequestTimeout,
            format!("the request did not complete within {limit:?}"),
        )
        .with_retry_after(1)
        .into()),
    }
}
