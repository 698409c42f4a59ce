//! `POST /api/public/ingestion` — Langfuse's batch ingestion, as `processEventBatch`
//! does it.
//!
//! 1. Basic auth with the project's keys (401 `{error: "UnauthorizedError", message}`).
//! 2. The body is `{batch: [event…], metadata?}`; each event is `{id, timestamp, type,
//!    body}`. Invalid events become per-event errors (status 400) in the answer.
//! 3. Events are grouped by entity (`trace`, `observation`, `score`) and body id, and
//!    each group is written to Blob as one JSON array at
//!    `<LANGFUSE_S3_EVENT_UPLOAD_PREFIX><project>/<entity>/<body id>/<first event id>.json`
//!    — with the pod's credential (`blob_access.rs`).
//! 4. If any write fails, Langfuse logs it and aborts: 500 `{message: "Invalid request
//!    data", errors: ["Failed to upload events to blob storage, aborting event
//!    processing"]}`, and the web pod's log shows the Azure SDK's error.
//! 5. Otherwise the groups are queued for the worker (`worker.rs`) and the answer is
//!    207 `{successes: [{id, status: 201}], errors: [{id, status, message, error}]}`.

use axum::body::Body;
use axum::http::{Response, StatusCode};
use serde_json::{json, Value as Json};

use super::api_auth::{self, Access};
use super::blob_access::{self, Bucket};
use super::deployed::WebPod;
use super::request::{self, PublicRequest};
use super::state::IngestionJob;
use crate::world::World;

/// The event types Langfuse's ingestion schema accepts.
const EVENT_TYPES: &[&str] = &[
    "trace-create",
    "score-create",
    "span-create",
    "span-update",
    "generation-create",
    "generation-update",
    "event-create",
    "observation-create",
    "observation-update",
    "sdk-log",
];

const UPLOAD_FAILED: &str = "Failed to upload events to blob storage, aborting event processing";

/// `trace`, `observation` or `score` (ClickHouse's table for the event type).
fn entity(event_type: &str) -> &'static str {
    match event_type {
        "trace-create" => "trace",
        "score-create" => "score",
        _ => "observation",
    }
}

/// Why an event does not match the ingestion schema, if it does not.
fn invalid(event: &Json) -> Option<String> {
    let kind = event["type"].as_str().unwrap_or_default();
    if !EVENT_TYPES.contains(&kind) {
        return Some(format!(
            "Invalid discriminator value at \"type\": got {}",
            event["type"]
        ));
    }
    if !event["id"].is_string() {
        return Some("Required at \"id\"".into());
    }
    if !event["timestamp"].is_string() {
        return Some("Required at \"timestamp\"".into());
    }
    if !event["body"].is_object() {
        return Some("Required at \"body\"".into());
    }
    if kind != "sdk-log" && !event["body"]["id"].is_string() {
        return Some("Expected string, received undefined at \"body.id\"".into());
    }
    None
}

pub fn handle(w: &mut World, pod: &WebPod, req: &PublicRequest) -> Response<Body> {
    let scope = match api_auth::verify(pod, req) {
        Ok(s) => s,
        Err(message) => {
            return request::json(
                StatusCode::UNAUTHORIZED,
                &json!({"error": "UnauthorizedError", "message": message}),
            )
        }
    };
    let batch = match req.json() {
        Some(Json::Object(b)) if b.get("batch").is_some_and(Json::is_array) => {
            b["batch"].as_array().cloned().unwrap_or_default()
        }
        _ => {
            return request::json(
                StatusCode::BAD_REQUEST,
                &json!({"message": "Invalid request data", "errors": ["Required"]}),
            )
        }
    };

    let mut errors = Vec::new();
    let mut accepted = Vec::new();
    for event in batch {
        let id = event["id"].as_str().unwrap_or("unknown").to_string();
        if let Some(why) = invalid(&event) {
            errors.push(
                json!({"id": id, "status": 400, "message": "Invalid request data", "error": why}),
            );
        } else if scope.access != Access::Project && event["type"] != "score-create" {
            errors.push(json!({"id": id, "status": 401, "message": "Authentication error", "error": "Access Scope Denied"}));
        } else {
            accepted.push(event);
        }
    }
    let successes: Vec<Json> = accepted
        .iter()
        .map(|e| json!({"id": e["id"], "status": 201}))
        .collect();
    let mut jobs = group(&scope.project_id, &accepted);

    if !jobs.is_empty() {
        if let Err(e) = upload(w, pod, &scope.project_id, &mut jobs) {
            for line in [
                format!("error: Failed to upload event to S3 {e}"),
                format!("error: error_handling_ingestion_event Error: {UPLOAD_FAILED}"),
            ] {
                w.logs
                    .append(&pod.namespace, &pod.name, &pod.container, line);
            }
            return request::json(
                StatusCode::INTERNAL_SERVER_ERROR,
                &json!({"message": "Invalid request data", "errors": [UPLOAD_FAILED]}),
            );
        }
    }
    w.langfuse.queue.extend(jobs);
    super::worker::drain(w);
    request::json(
        StatusCode::MULTI_STATUS,
        &json!({"successes": successes, "errors": errors}),
    )
}

/// One job per entity and body id, in batch order (`sdk-log` events are only logged).
fn group(project_id: &str, events: &[Json]) -> Vec<IngestionJob> {
    let mut jobs: Vec<IngestionJob> = Vec::new();
    for event in events {
        let kind = event["type"].as_str().unwrap_or_default();
        if kind == "sdk-log" {
            continue;
        }
        let entity = entity(kind);
        let body_id = event["body"]["id"].as_str().unwrap_or_default();
        match jobs
            .iter_mut()
            .find(|j| j.entity == entity && j.body_id == body_id)
        {
            Some(job) => job.events.push(event.clone()),
            None => jobs.push(IngestionJob {
                project_id: project_id.to_string(),
                entity: entity.to_string(),
                body_id: body_id.to_string(),
                file: String::new(),
                events: vec![event.clone()],
            }),
        }
    }
    jobs
}

/// Writes each job's events to Blob; fills in where (`job.file`).
fn upload(
    w: &mut World,
    pod: &WebPod,
    project_id: &str,
    jobs: &mut [IngestionJob],
) -> Result<(), String> {
    let target = blob_access::target(pod, Bucket::EventUpload)?;
    blob_access::access(w, pod, Bucket::EventUpload, &target).write?;
    for job in jobs {
        let key = job.events[0]["id"].as_str().unwrap_or_default();
        let path = format!(
            "{}{project_id}/{}/{}/{key}.json",
            target.prefix, job.entity, job.body_id
        );
        let content = serde_json::to_vec(&job.events).unwrap_or_default();
        blob_access::put(&mut w.azure, &target, &path, "application/json", &content)
            .map_err(|e| format!("{e} (uploading {path})"))?;
        job.file = format!("{}/{path}", target.container);
    }
    Ok(())
}
