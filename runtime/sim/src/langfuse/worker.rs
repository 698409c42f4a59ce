//! The Langfuse worker's ingestion: jobs from the queue into ClickHouse.
//!
//! The web pod only writes events to Blob and queues a job; the worker takes the job,
//! merges the events into rows and inserts them into ClickHouse. The rehearsal runs
//! the worker's part whenever the public host is asked something (before answering),
//! with two conditions from the cluster:
//!
//! - a Running and Ready worker pod must exist — otherwise jobs wait in the queue
//!   (Redis keeps them), and traces are not found yet;
//! - ClickHouse must have room: when a ClickHouse volume is full (the
//!   `clickhouse-disk-full` failure mode, `controllers::workload_logs`), the insert
//!   fails with `NOT_ENOUGH_SPACE`, the worker logs `dropped N traces/observations`
//!   and the events are gone for good — the trace stays "not found" even after the
//!   volume is resized, as on a real cluster.

use serde_json::{json, Map, Value as Json};

use super::deployed;
use super::state::{row_key, IngestionJob};
use crate::controllers::workload_logs::full_clickhouse_volumes;
use crate::world::World;

/// Processes the queued jobs, if a worker can.
pub fn drain(world: &mut World) {
    if world.langfuse.queue.is_empty() {
        return;
    }
    let ns = deployed::namespace(world);
    let Some((pod, container)) = deployed::ready_worker(world, &ns) else {
        return;
    };
    let jobs = std::mem::take(&mut world.langfuse.queue);
    if let Some((claim, _, _)) = full_clickhouse_volumes(world, &ns).first() {
        let dropped: usize = jobs.iter().map(|j| j.events.len()).sum();
        world.langfuse.dropped += dropped as u64;
        for line in [
            format!("error: Failed to insert into ClickHouse: Code: 243. DB::Exception: Cannot reserve 1.00 MiB, not enough space. (NOT_ENOUGH_SPACE) (volume {claim})"),
            format!("error: dropped {dropped} traces/observations: ClickHouse insert failed (Not enough space)"),
        ] {
            world.logs.append(&ns, &pod, &container, line);
        }
        return;
    }
    let events: usize = jobs.iter().map(|j| j.events.len()).sum();
    for job in &jobs {
        insert(world, job);
    }
    world.logs.append(
        &ns,
        &pod,
        &container,
        format!("info: Processed {events} events from ingestion queue"),
    );
}

/// Merges a job's events into the ClickHouse rows.
fn insert(world: &mut World, job: &IngestionJob) {
    for event in &job.events {
        let kind = event["type"].as_str().unwrap_or_default();
        let body = event["body"].as_object().cloned().unwrap_or_default();
        let id = body
            .get("id")
            .and_then(Json::as_str)
            .unwrap_or(&job.body_id)
            .to_string();
        let key = row_key(&job.project_id, &id);
        let timestamp = event["timestamp"].as_str().unwrap_or_default().to_string();
        let state = &mut world.langfuse;
        match job.entity.as_str() {
            "trace" => {
                let row = state.traces.entry(key).or_insert_with(|| {
                    json!({
                        "id": id, "projectId": job.project_id, "timestamp": timestamp,
                        "name": null, "input": null, "output": null, "sessionId": null,
                        "release": null, "version": null, "userId": null, "metadata": {},
                        "tags": [], "public": false, "environment": "default",
                        "createdAt": timestamp,
                    })
                });
                merge(row, &body);
                row["updatedAt"] = json!(timestamp);
            }
            "observation" => {
                let row = state.observations.entry(key).or_insert_with(|| {
                    json!({
                        "id": id, "projectId": job.project_id,
                        "type": observation_type(kind), "startTime": timestamp,
                        "endTime": null, "name": null, "parentObservationId": null,
                        "level": "DEFAULT", "metadata": {}, "environment": "default",
                    })
                });
                merge(row, &body);
            }
            "score" => {
                let row = state.scores.entry(key).or_insert_with(|| {
                    json!({"id": id, "projectId": job.project_id, "timestamp": timestamp, "source": "API"})
                });
                merge(row, &body);
            }
            _ => {}
        }
    }
}

fn observation_type(event_type: &str) -> &'static str {
    match event_type.split('-').next().unwrap_or_default() {
        "generation" => "GENERATION",
        "event" => "EVENT",
        _ => "SPAN",
    }
}

/// Later events update earlier ones field by field (nulls do not erase).
fn merge(row: &mut Json, body: &Map<String, Json>) {
    for (k, v) in body {
        if !v.is_null() {
            row[k] = v.clone();
        }
    }
}
