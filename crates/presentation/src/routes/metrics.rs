//! Prometheus text exposition of every metric the process records.

use actix_web::{HttpResponse, web};
use metrics_exporter_prometheus::PrometheusHandle;

pub async fn render(handle: web::Data<PrometheusHandle>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(handle.render())
}
