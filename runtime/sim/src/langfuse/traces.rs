//! `GET /api/public/traces/<id>` — a trace as ClickHouse has it.
//!
//! Langfuse reads traces from ClickHouse, so what this answers is what the worker
//! inserted (`worker.rs`): a trace still in the queue, or dropped because ClickHouse
//! was full, is `404 {"message": "Trace <id> not found within authorized project",
//! "error": "LangfuseNotFoundError"}` — the "Trace not found" of the guide's §10.

use axum::body::Body;
use axum::http::{Response, StatusCode};
use serde_json::{json, Value as Json};

use super::api_auth;
use super::deployed::WebPod;
use super::request::{self, PublicRequest};
use super::state::row_key;
use crate::world::World;

pub fn get(w: &World, pod: &WebPod, req: &PublicRequest, trace_id: &str) -> Response<Body> {
    let denied = "Access denied - need to use basic auth with secret key to GET traces";
    let scope = match api_auth::require_project(pod, req, denied) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let project = &scope.project_id;
    let Some(trace) = w.langfuse.traces.get(&row_key(project, trace_id)) else {
        return request::api_error(
            StatusCode::NOT_FOUND,
            "LangfuseNotFoundError",
            &format!("Trace {trace_id} not found within authorized project"),
        );
    };
    let in_project = |row: &&Json| row["projectId"] == project.as_str();
    let observations: Vec<Json> = w
        .langfuse
        .observations
        .values()
        .filter(in_project)
        .filter(|o| o["traceId"] == trace_id)
        .cloned()
        .collect();
    let scores: Vec<Json> = w
        .langfuse
        .scores
        .values()
        .filter(in_project)
        .filter(|s| s["traceId"] == trace_id)
        .cloned()
        .collect();
    let mut out = trace.clone();
    out["externalId"] = Json::Null;
    out["htmlPath"] = json!(format!("/project/{project}/traces/{trace_id}"));
    out["latency"] = json!(0);
    out["totalCost"] = json!(0);
    out["observations"] = json!(observations);
    out["scores"] = json!(scores);
    request::json(StatusCode::OK, &out)
}
