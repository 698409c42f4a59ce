//! `GET /api/public/health` — Langfuse's liveness answer.
//!
//! A ready web pod answers `200 {"status": "OK", "version": "<app version>"}` (it
//! checks its database connection, which readiness already implies). With no ready
//! web pod, the request never reaches Langfuse: the ingress answers 503 itself (see
//! `mod.rs`), which is what "pods running and ready" means from the outside.

use axum::body::Body;
use axum::http::{Response, StatusCode};
use serde_json::json;

use super::deployed::WebPod;
use super::request;

pub fn get(pod: &WebPod) -> Response<Body> {
    request::json(
        StatusCode::OK,
        &json!({"status": "OK", "version": pod.version.trim_start_matches('v')}),
    )
}
